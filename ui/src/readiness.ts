// The morning verdict in words, and how many more mornings a baseline needs. The thresholds
// mirror auren-hrv's readiness module (MIN_ROLLING_READINGS, MIN_BASELINE_READINGS).
import type { Verdict } from "./ipc";

export const MIN_ROLLING_READINGS = 3;
export const MIN_BASELINE_READINGS = 14;
export const BASELINE_DAYS = 60;
export const ROLLING_DAYS = 7;

export interface DayLike {
  day: number;
  today_ln_rmssd: number | null;
}

/** Mornings still needed before both the 7-day mean and the 60-day baseline exist. */
export function morningsUntilBaseline(days: readonly DayLike[], today: number): number {
  const inWindow = (d: DayLike, span: number) =>
    d.today_ln_rmssd !== null && d.day <= today && d.day > today - span;
  const distinct = (span: number) => new Set(days.filter((d) => inWindow(d, span)).map((d) => d.day)).size;
  const need60 = MIN_BASELINE_READINGS - distinct(BASELINE_DAYS);
  const need7 = MIN_ROLLING_READINGS - distinct(ROLLING_DAYS);
  return Math.max(0, need60, need7);
}

export function verdictSentence(verdict: Verdict | null, morningsNeeded: number): string {
  switch (verdict) {
    case "below":
      return "Your HRV is below your normal range: your body has not fully recovered — keep today easy.";
    case "within":
      return "Your HRV is within your normal range: you are recovered — train as planned.";
    case "above":
      return "Your HRV is above your normal range: usually a sign of good recovery — but if you feel run down, treat it as fatigue and keep today easy.";
    case null: {
      if (morningsNeeded <= 0) return "No verdict today: your baseline could not be computed from the readings so far.";
      const m = morningsNeeded === 1 ? "1 more morning" : `${morningsNeeded} more mornings`;
      return `Not enough readings yet: ${m} until a baseline.`;
    }
  }
}

export type VerdictTone = "low" | "ok" | "high" | "none";

const TONES: Record<Verdict, VerdictTone> = { below: "low", within: "ok", above: "high" };

export function verdictTone(verdict: Verdict | null): VerdictTone {
  return verdict === null ? "none" : TONES[verdict];
}

/** "Below normal", "Within normal", "Above normal". */
export const VERDICT_WORDS: Record<Verdict, string> = { below: "Below normal", within: "Within normal", above: "Above normal" };

/** The normal range when both of its ends are known; half a range is not drawn as if whole. */
export function normalRange(r: { normal_range: [number | null, number | null] | null }): [number, number] | null {
  const [lo, hi] = r.normal_range ?? [null, null];
  return lo !== null && hi !== null && Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

/** The day number (days since the Unix epoch) of a `YYYY-MM-DD` route parameter, or null. */
export function dayOfParam(param: string | undefined): number | null {
  const m = param ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(param) : null;
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms);
  // Refuses 2026-02-31 and the like instead of rolling over into the next month.
  if (back.getUTCFullYear() !== Number(m[1]) || back.getUTCMonth() !== Number(m[2]) - 1 || back.getUTCDate() !== Number(m[3])) return null;
  return Math.floor(ms / 86_400_000);
}

/** How many days back `dailyTrend` must reach to include `day`, or null when it is in the future or too far. */
export function trendDaysReaching(day: number, today: number, maxDays: number): number | null {
  const days = today - day + 1;
  return days >= 1 && days <= maxDays ? days : null;
}
