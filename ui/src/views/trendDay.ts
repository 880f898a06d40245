// The day a link marks on History's trend chart ("#/history/day/2026-11-30": a grounded number of the
// chat that came from that morning), and how far back the trend must reach to show it. Pure: the view
// calls these, the tests check them without a window.
import { formatDay } from "../format";
import { dayOfParam, trendDaysReaching } from "../readiness";

/** The History trend's usual span, in days. */
export const TREND_DAYS = 60;
/** The farthest back a marked day widens the trend. */
const MAX_TREND_DAYS = 3650;

/** A marked day: its date as the route says it and its UTC day number (the trend chart's x). */
export type MarkedDay = { date: string; day: number };

/** The day the History route params (after `history`) mark: `["day", "YYYY-MM-DD"]`, a real date. */
export function markedDayOf(params: string[]): MarkedDay | null {
  if (params[0] !== "day" || params.length !== 2) return null;
  const day = dayOfParam(params[1]);
  return day === null ? null : { date: params[1], day };
}

/** The route marking `date` on the trend chart. */
export function dayRoute(date: string): string {
  return `history/day/${date}`;
}

/** How many days the trend asks for so that `marked` is on it: the usual span, or back to the marked
 * day when it is older; the usual span for a day in the future or beyond the farthest reach. */
export function trendSpan(marked: MarkedDay | null, today: number): number {
  const reach = marked ? trendDaysReaching(marked.day, today, MAX_TREND_DAYS) : null;
  return Math.max(TREND_DAYS, reach ?? 0);
}

/** The line over the trend chart naming the marked day and what its morning measured. */
export function markedDayText(marked: MarkedDay, reading: { today_ln_rmssd: number | null; resting_hr: number | null } | undefined): string {
  const label = `Marked: ${formatDay(marked.day)}`;
  if (!reading || reading.today_ln_rmssd === null) return `${label} — no morning reading that day.`;
  const hr = reading.resting_hr === null ? "" : ` · resting HR ${Math.round(reading.resting_hr)} bpm`;
  return `${label} — morning lnRMSSD ${reading.today_ln_rmssd.toFixed(2)}${hr}.`;
}
