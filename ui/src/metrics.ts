// How each key of the HRV panel (auren-hrv panel::KEYS) is labelled, grouped and rounded in the
// Kubios-style table, plus the band shares Kubios shows that are derived from the panel values.
import type { Absent, BandName } from "./ipc";
import { BAND_NAMES } from "./names";

export type MetricGroup = "time" | "frequency" | "nonlinear";

export interface MetricInfo {
  key: string;
  label: string;
  unit: string;
  decimals: number;
  group: MetricGroup;
  /** Computed here from other panel values, not by the engine. */
  derived?: boolean;
}

const m = (key: string, label: string, unit: string, decimals: number, group: MetricGroup, derived = false): MetricInfo => ({
  key, label, unit, decimals, group, derived,
});

export const METRICS: MetricInfo[] = [
  m("duration_s", "Duration", "s", 0, "time"),
  m("mean_nn_ms", "Mean RR", "ms", 1, "time"),
  m("sdnn_ms", "SDNN", "ms", 1, "time"),
  m("cvnn", "CVNN", "", 4, "time"),
  m("mean_hr_bpm", "Mean HR", "bpm", 1, "time"),
  m("sd_hr_bpm", "SD HR", "bpm", 2, "time"),
  m("min_hr_bpm", "Min HR", "bpm", 1, "time"),
  m("max_hr_bpm", "Max HR", "bpm", 1, "time"),
  m("rmssd_ms", "RMSSD", "ms", 1, "time"),
  m("ln_rmssd", "ln RMSSD", "", 2, "time"),
  m("sdsd_ms", "SDSD", "ms", 1, "time"),
  m("pnn50_pct", "pNN50", "%", 1, "time"),
  m("pnn20_pct", "pNN20", "%", 1, "time"),
  m("tri_index", "HRV triangular index", "", 2, "time"),
  m("tinn_ms", "TINN", "ms", 0, "time"),
  m("stress_index", "Stress index", "", 1, "time"),
  m("vlf_ms2", "VLF power", "ms²", 0, "frequency"),
  m("lf_ms2", "LF power", "ms²", 0, "frequency"),
  m("hf_ms2", "HF power", "ms²", 0, "frequency"),
  m("ln_vlf", "VLF power (log)", "ln ms²", 2, "frequency", true),
  m("ln_lf", "LF power (log)", "ln ms²", 2, "frequency", true),
  m("ln_hf", "HF power (log)", "ln ms²", 2, "frequency", true),
  m("vlf_pct", "VLF power", "%", 1, "frequency", true),
  m("lf_pct", "LF power", "%", 1, "frequency", true),
  m("hf_pct", "HF power", "%", 1, "frequency", true),
  m("lf_nu", "LF power", "n.u.", 1, "frequency"),
  m("hf_nu", "HF power", "n.u.", 1, "frequency"),
  m("lf_hf", "LF/HF ratio", "", 2, "frequency"),
  m("lf_peak_hz", "LF peak", "Hz", 3, "frequency"),
  m("hf_peak_hz", "HF peak", "Hz", 3, "frequency"),
  m("total_power_ms2", "Total power", "ms²", 0, "frequency"),
  m("sd1_ms", "SD1", "ms", 1, "nonlinear"),
  m("sd2_ms", "SD2", "ms", 1, "nonlinear"),
  m("sd2_sd1", "SD2/SD1", "", 2, "nonlinear"),
  m("sampen", "Sample entropy", "", 3, "nonlinear"),
  m("dfa_alpha1", "DFA α1", "", 3, "nonlinear"),
  m("dfa_alpha2", "DFA α2", "", 3, "nonlinear"),
];

export const GROUP_TITLES: Record<MetricGroup, string> = {
  time: "Time domain",
  frequency: "Frequency domain",
  nonlinear: "Nonlinear",
};

export interface MetricValue {
  key: string;
  value: number | null;
  absent: Absent | null;
}

/** Why a derived value is missing when its inputs are present (a zero power has no logarithm). */
const undefinedBecause = (message: string): Absent => ({ reason: "undefined", message });

/** Band powers as ln and as % of total power, absent when their inputs are. */
export function derivedFrequency(panel: readonly MetricValue[]): MetricValue[] {
  const get = (k: string) => panel.find((p) => p.key === k);
  const out: MetricValue[] = [];
  const total = get("total_power_ms2")?.value ?? null;
  for (const band of Object.keys(BAND_NAMES) as BandName[]) {
    const src = get(`${band}_ms2`);
    const v = src?.value ?? null;
    const why = src?.absent ?? (src ? null : undefinedBecause(`no ${band}_ms2 in the panel`));
    out.push(
      v !== null && v > 0
        ? { key: `ln_${band}`, value: Math.log(v), absent: null }
        : { key: `ln_${band}`, value: null, absent: why ?? undefinedBecause("band power is zero") },
    );
    out.push(
      v !== null && total !== null && total > 0
        ? { key: `${band}_pct`, value: (100 * v) / total, absent: null }
        : { key: `${band}_pct`, value: null, absent: why ?? undefinedBecause("total power is zero or absent") },
    );
  }
  return out;
}

/** Panel values plus derived ones, arranged by group in display order; unknown keys go last in their
 * nearest group ("time") so a new engine metric still shows. */
export function arrangePanel(panel: readonly MetricValue[]): { group: MetricGroup; rows: { info: MetricInfo; metric: MetricValue }[] }[] {
  const all = [...panel, ...derivedFrequency(panel)];
  const byKey = new Map(all.map((p) => [p.key, p]));
  const known = new Set(METRICS.map((i) => i.key));
  const groups: MetricGroup[] = ["time", "frequency", "nonlinear"];
  return groups.map((group) => {
    const rows = METRICS.filter((i) => i.group === group && byKey.has(i.key)).map((info) => ({
      info,
      metric: byKey.get(info.key) as MetricValue,
    }));
    if (group === "time") {
      for (const p of panel) if (!known.has(p.key)) rows.push({ info: m(p.key, p.key, "", 3, "time"), metric: p });
    }
    return { group, rows };
  });
}
