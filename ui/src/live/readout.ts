// What the Live view's numbers and chips read, as plain values: the view keeps them in one Solid store
// and merges each new readout into it, so a channel message changes only the text nodes whose value
// differs (a beat that leaves the heart rate at 72 touches neither the heart rate nor its zone).
import type { LiveState } from "../liveModel";
import type { LiveUpdate, Settings, SourceChoice } from "../ipc";
import { formatHr, formatNumber, formatSessionTime } from "../format";
import { signalQuality } from "../series";
import { zoneOf } from "../zones";
import { SIMULATED_LABEL, sourceLabel } from "../state";

/** One field per displayed quantity: a text and, for the coloured ones, the class that colours it. */
export interface LiveReadout {
  hr: string;
  zone: string;
  zoneClass: string;
  time: string;
  beats: string;
  link: string;
  linkClass: string;
  contact: string;
  contactClass: string;
  battery: string;
  quality: string;
  qualityClass: string;
  rmssd60: string;
  rmssd5m: string;
  lnRmssd: string;
  sdnn: string;
  /** DFA α1 for the gauge; null until two minutes of clean beats are in. */
  dfa: number | null;
}

/** The readout of the newest update (`last`), with `recording` telling a session that has not sent
 * its first update yet ("connecting") from an idle view. */
export function liveReadout(last: LiveUpdate | null, recording: boolean, settings: Settings | null): LiveReadout {
  const hr = last?.heart_rate_bpm ?? null;
  const zone = settings && hr ? zoneOf(hr, settings.max_hr, settings.zones_pct) : null;
  const quality = signalQuality(last?.artifacts_total ?? 0, last?.beats_total ?? 0);
  const contact = last?.contact ?? null;
  const m = last?.metrics;
  return {
    hr: formatHr(hr),
    zone: zone === null ? "" : zone === 0 ? "below zone 1" : `Zone ${zone}`,
    zoneClass: zone === null ? "zone-pill" : `zone-pill z${zone}`,
    time: formatSessionTime(last?.at_ms ?? 0),
    beats: String(last?.beats_total ?? 0),
    link: last?.link ?? (recording ? "connecting" : "idle"),
    linkClass: `chip link-${last?.link ?? (recording ? "connecting" : "none")}`,
    contact: contact === null ? "contact —" : contact ? "contact ✓" : "no skin contact",
    contactClass: contact === false ? "chip chip-bad" : "chip",
    battery: last?.battery_percent != null ? `battery ${last.battery_percent} %` : "battery —",
    quality: quality.artifactPct === null ? "quality —" : `artifacts ${quality.artifactPct.toFixed(1)} %`,
    qualityClass: `chip q-${quality.level}`,
    rmssd60: formatNumber(m?.rmssd_60s ?? null, 1),
    rmssd5m: formatNumber(m?.rmssd_5m ?? null, 1),
    lnRmssd: formatNumber(m?.ln_rmssd ?? null, 2),
    sdnn: formatNumber(m?.sdnn_60s ?? null, 1),
    dfa: m?.dfa_alpha1 ?? null,
  };
}

/** DFA α1 above this is below the aerobic threshold (Rogers et al. 2021). */
export const AEROBIC_THRESHOLD_DFA = 0.75;
/** Below this the anaerobic threshold is passed. */
export const ANAEROBIC_THRESHOLD_DFA = 0.5;

/** The gauge's scale: α1 from 0.25 to 1.75 over `GAUGE_WIDTH` SVG units, clamped at both ends. */
export const GAUGE_WIDTH = 300;
const GAUGE_LO = 0.25;
const GAUGE_HI = 1.75;

export function gaugeX(alpha1: number): number {
  const v = Math.min(GAUGE_HI, Math.max(GAUGE_LO, alpha1));
  return ((v - GAUGE_LO) / (GAUGE_HI - GAUGE_LO)) * GAUGE_WIDTH;
}

/** The words beside the gauge's value. */
export function dfaNote(alpha1: number | null): string {
  if (alpha1 === null) return "needs 2 minutes of clean beats";
  if (alpha1 > AEROBIC_THRESHOLD_DFA) return "below the aerobic threshold";
  if (alpha1 > ANAEROBIC_THRESHOLD_DFA) return "above the aerobic threshold";
  return "above the anaerobic threshold (α1 < 0.5)";
}

/** The standing note under the controls; an error from the last action is shown beside it. */
export type LiveNotice = "choose-source" | "monitoring" | "reattached" | "none";

export function liveNotice(st: Pick<LiveState, "started" | "monitoring" | "reattached">, chosen: SourceChoice | null): LiveNotice {
  const running = st.started !== null;
  if (!chosen && !running) return "choose-source";
  if (!running && st.monitoring) return "monitoring";
  if (st.reattached && running) return "reattached";
  return "none";
}

/** The source line: the running session's source, else the chosen one; the simulator is always named
 * as simulated data, whatever its label says. */
export function liveSourceLine(st: Pick<LiveState, "started">, chosen: SourceChoice | null): { simulated: boolean; text: string } {
  const label = st.started?.source_label ?? sourceLabel(chosen);
  const simulated = st.started?.simulated ?? chosen?.kind === "simulator";
  return { simulated, text: simulated && !label.includes(SIMULATED_LABEL) ? `${SIMULATED_LABEL} · ${label}` : label };
}
