// The History route that marks a day on the trend chart (where a chat number about a morning links), how
// far back the trend reaches to show it, and the line naming it.
import { describe, expect, it } from "vitest";
import { dayRoute, markedDayOf, markedDayText, trendSpan, TREND_DAYS } from "../views/trendDay";
import { dayOfParam } from "../readiness";

const nov30 = dayOfParam("2026-11-30") ?? -1;

describe("the marked day's route", () => {
  it.each([
    [["day", "2026-11-30"], { date: "2026-11-30", day: nov30 }],
    // Not a day: the plain History list.
    [[], null],
    [["12"], null],
    [["day"], null],
    [["day", "2026-02-31"], null],
    [["day", "30-11-2026"], null],
    [["day", "2026-11-30", "x"], null],
    [["athlete", "day", "2026-11-30"], null],
  ] as [string[], ReturnType<typeof markedDayOf>][])("%j", (params, want) => {
    expect(markedDayOf(params)).toEqual(want);
  });

  it("reads back what it makes", () => {
    expect(markedDayOf(dayRoute("2026-11-30").split("/").slice(1))).toEqual({ date: "2026-11-30", day: nov30 });
  });
});

describe("the trend's span", () => {
  const marked = { date: "2026-11-30", day: nov30 };
  it.each([
    ["no marked day", null, nov30, TREND_DAYS],
    ["marked today", marked, nov30, TREND_DAYS],
    ["within the usual span", marked, nov30 + 59, TREND_DAYS],
    ["just beyond it", marked, nov30 + 60, 61],
    ["a year back", marked, nov30 + 365, 366],
    ["in the future", marked, nov30 - 1, TREND_DAYS],
    ["beyond the farthest reach", marked, nov30 + 4000, TREND_DAYS],
  ] as [string, ReturnType<typeof markedDayOf>, number, number][])("%s", (_name, m, today, want) => {
    expect(trendSpan(m, today)).toBe(want);
  });
});

describe("the marked day's line", () => {
  const marked = { date: "2026-11-30", day: nov30 };
  it.each([
    ["a morning with both", { today_ln_rmssd: 3.849, resting_hr: 54.6 }, "Marked: 30 Nov — morning lnRMSSD 3.85 · resting HR 55 bpm."],
    ["no resting HR", { today_ln_rmssd: 3.9, resting_hr: null }, "Marked: 30 Nov — morning lnRMSSD 3.90."],
    ["a day without a reading", { today_ln_rmssd: null, resting_hr: 60 }, "Marked: 30 Nov — no morning reading that day."],
    ["a day the trend does not hold", undefined, "Marked: 30 Nov — no morning reading that day."],
  ] as const)("%s", (_name, reading, want) => {
    expect(markedDayText(marked, reading)).toBe(want);
  });
});
