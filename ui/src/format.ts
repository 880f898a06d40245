// Display formatting shared by every view: one place decides how a duration, an RR interval, a
// heart rate or a date reads, so the views cannot disagree.

export type RrUnit = "ms" | "s";

export const DASH = "—";

function finite(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 42 → "0:42", 725 → "12:05", 3723 → "1:02:03"; seconds are truncated, negatives clamp to 0. */
export function formatDuration(seconds: number | null | undefined): string {
  if (!finite(seconds)) return DASH;
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

/** An RR interval in the chosen unit, as a number (for axes). */
export function rrInUnit(ms: number, unit: RrUnit): number {
  return unit === "s" ? ms / 1000 : ms;
}

/** 812.4 ms → "812 ms" or "0.812 s". */
export function formatRr(ms: number | null | undefined, unit: RrUnit): string {
  if (!finite(ms)) return DASH;
  return unit === "s" ? `${(ms / 1000).toFixed(3)} s` : `${Math.round(ms)} ms`;
}

/** The number only (the unit is printed next to it): 71.6 → "72". */
export function formatHr(bpm: number | null | undefined): string {
  if (!finite(bpm) || bpm <= 0) return DASH;
  return String(Math.round(bpm));
}

export function formatNumber(v: number | null | undefined, decimals: number): string {
  if (!finite(v)) return DASH;
  return v.toFixed(decimals);
}

export function formatPercent(v: number | null | undefined, decimals = 1): string {
  if (!finite(v)) return DASH;
  return `${v.toFixed(decimals)} %`;
}

/** "07:03" local. */
export function formatTimeOfDay(unixMs: number): string {
  const d = new Date(unixMs);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The local midnight that starts `x`'s calendar day. */
function localDayStart(x: Date): number {
  return new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
}

/** Whether two moments fall on the same local calendar day. */
export function sameLocalDay(aMs: number, bMs: number): boolean {
  return localDayStart(new Date(aMs)) === localDayStart(new Date(bMs));
}

/** Local wall time: "Today 07:03", "Yesterday 21:40", else "Fri 5 Jan 2024 07:03". */
export function formatDateTime(unixMs: number, nowMs: number = Date.now()): string {
  const d = new Date(unixMs);
  const time = formatTimeOfDay(unixMs);
  const today = new Date(nowMs);
  const diffDays = Math.round((localDayStart(today) - localDayStart(d)) / 86_400_000);
  if (diffDays === 0) return `Today ${time}`;
  if (diffDays === 1) return `Yesterday ${time}`;
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${time}`;
}

/** "07:03:09" local. */
export function formatClock(unixMs: number): string {
  const d = new Date(unixMs);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A readiness day number (UTC calendar days since 1970-01-01, as the engine stores them) as
 * "5 Jan", read in UTC so the local time zone cannot shift it to the day before. */
export function formatDay(day: number | null): string {
  if (!finite(day)) return DASH;
  const d = new Date(day * 86_400_000);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** Session time in ms as "m:ss" (or "h:mm:ss"). */
export function formatSessionTime(atMs: number): string {
  return formatDuration(atMs / 1000);
}

/** A time into a session as a person types it — "m:ss", "h:mm:ss" or whole seconds — in milliseconds;
 *  `null` when it is none of these. */
export function parseSessionTime(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const m = /^(?:(\d+):)?(\d+):([0-5]\d)$/.exec(t);
  if (!m) return null;
  const [hours, minutes, seconds] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3])];
  if (m[1] !== undefined && minutes > 59) return null;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A label from a snake_case word: "long_short" → "Long short". */
export function humanize(word: string): string {
  const s = word.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** 0–4 bars from RSSI in dBm. */
export function signalBars(rssi: number | null): number {
  if (rssi === null) return 0;
  if (rssi >= -55) return 4;
  if (rssi >= -67) return 3;
  if (rssi >= -78) return 2;
  if (rssi >= -90) return 1;
  return 0;
}
