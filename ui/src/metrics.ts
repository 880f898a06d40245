// How each key of the HRV panel (auren-hrv panel::KEYS and COSTLY_KEYS) is labelled, grouped and rounded in
// the Kubios-style table. Every value is computed by the engine; nothing is derived here.
import type { Absent } from "./ipc";

export type MetricGroup = "time" | "frequency" | "nonlinear";

export interface MetricInfo {
  key: string;
  label: string;
  unit: string;
  decimals: number;
  group: MetricGroup;
}

const m = (key: string, label: string, unit: string, decimals: number, group: MetricGroup): MetricInfo => ({
  key, label, unit, decimals, group,
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
  m("vlf_log", "VLF power (log)", "ln ms²", 2, "frequency"),
  m("lf_log", "LF power (log)", "ln ms²", 2, "frequency"),
  m("hf_log", "HF power (log)", "ln ms²", 2, "frequency"),
  m("vlf_rel", "VLF power", "%", 1, "frequency"),
  m("lf_rel", "LF power", "%", 1, "frequency"),
  m("hf_rel", "HF power", "%", 1, "frequency"),
  m("lf_nu", "LF power", "n.u.", 1, "frequency"),
  m("hf_nu", "HF power", "n.u.", 1, "frequency"),
  m("lf_hf", "LF/HF ratio", "", 2, "frequency"),
  m("lf_peak_hz", "LF peak", "Hz", 3, "frequency"),
  m("hf_peak_hz", "HF peak", "Hz", 3, "frequency"),
  m("total_power_ms2", "Total power", "ms²", 0, "frequency"),
  m("ar_vlf_ms2", "AR VLF power", "ms²", 0, "frequency"),
  m("ar_lf_ms2", "AR LF power", "ms²", 0, "frequency"),
  m("ar_hf_ms2", "AR HF power", "ms²", 0, "frequency"),
  m("ar_vlf_log", "AR VLF power (log)", "ln ms²", 2, "frequency"),
  m("ar_lf_log", "AR LF power (log)", "ln ms²", 2, "frequency"),
  m("ar_hf_log", "AR HF power (log)", "ln ms²", 2, "frequency"),
  m("ar_vlf_rel", "AR VLF power", "%", 1, "frequency"),
  m("ar_lf_rel", "AR LF power", "%", 1, "frequency"),
  m("ar_hf_rel", "AR HF power", "%", 1, "frequency"),
  m("ar_lf_nu", "AR LF power", "n.u.", 1, "frequency"),
  m("ar_hf_nu", "AR HF power", "n.u.", 1, "frequency"),
  m("ar_lf_hf", "AR LF/HF ratio", "", 2, "frequency"),
  m("ar_lf_peak_hz", "AR LF peak", "Hz", 3, "frequency"),
  m("ar_hf_peak_hz", "AR HF peak", "Hz", 3, "frequency"),
  m("ar_total_power_ms2", "AR total power", "ms²", 0, "frequency"),
  m("sd1_ms", "SD1", "ms", 1, "nonlinear"),
  m("sd2_ms", "SD2", "ms", 1, "nonlinear"),
  m("sd2_sd1", "SD2/SD1", "", 2, "nonlinear"),
  m("sampen", "Sample entropy", "", 3, "nonlinear"),
  m("apen", "Approximate entropy", "", 3, "nonlinear"),
  m("dfa_alpha1", "DFA α1", "", 3, "nonlinear"),
  m("dfa_alpha2", "DFA α2", "", 3, "nonlinear"),
  m("pns_index", "PNS index (equal weights)", "", 2, "nonlinear"),
  m("sns_index", "SNS index (equal weights)", "", 2, "nonlinear"),
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

/** Panel values arranged by group in display order; unknown keys go last in their
 * nearest group ("time") so a new engine metric still shows. */
export function arrangePanel(panel: readonly MetricValue[]): { group: MetricGroup; rows: { info: MetricInfo; metric: MetricValue }[] }[] {
  const byKey = new Map(panel.map((p) => [p.key, p]));
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
