import { describe, expect, it } from "vitest";
import { formatDateTime, formatDay, formatDuration, formatHr, formatRr, rrInUnit, signalBars, humanize, formatBytes, parseSessionTime } from "../format";

describe("formatDuration", () => {
  it.each([
    [0, "0:00"], [42, "0:42"], [59.99, "0:59"], [60, "1:00"], [725, "12:05"], [3599, "59:59"],
    [3600, "1:00:00"], [3723, "1:02:03"], [-5, "0:00"], [null, "—"], [NaN, "—"], [Infinity, "—"],
  ] as const)("%s s → %s", (s, want) => expect(formatDuration(s)).toBe(want));
});

describe("parseSessionTime", () => {
  it.each([
    ["0:20", 20_000], ["1:05", 65_000], [" 12:30 ", 750_000], ["75:00", 4_500_000], ["1:02:03", 3_723_000],
    ["90", 90_000], ["0", 0], ["1:60", null], ["1:2", null], ["1:60:00", null], ["soon", null], ["", null],
    ["-1:00", null], ["1.5", null],
  ] as const)("%j → %s ms", (text, want) => expect(parseSessionTime(text)).toBe(want));
});

describe("RR unit", () => {
  it.each([
    [812.4, "ms", "812 ms", 812.4], [812.4, "s", "0.812 s", 0.8124], [1000, "s", "1.000 s", 1],
    [999.6, "ms", "1000 ms", 999.6], [350, "s", "0.350 s", 0.35],
  ] as const)("%s ms in %s", (ms, unit, text, num) => {
    expect(formatRr(ms, unit)).toBe(text);
    expect(rrInUnit(ms, unit)).toBeCloseTo(num, 12);
  });
  it("dashes a missing RR", () => expect(formatRr(null, "ms")).toBe("—"));
});

describe("formatHr", () => {
  it.each([[71.6, "72"], [71.4, "71"], [180, "180"], [0, "—"], [null, "—"], [NaN, "—"]] as const)("%s → %s", (v, want) =>
    expect(formatHr(v)).toBe(want));
});

describe("formatDateTime (local time)", () => {
  const now = new Date(2024, 0, 10, 12, 0).getTime();
  it.each([
    [new Date(2024, 0, 10, 7, 3).getTime(), "Today 07:03"],
    [new Date(2024, 0, 9, 21, 40).getTime(), "Yesterday 21:40"],
    [new Date(2024, 0, 5, 7, 3).getTime(), "Fri 5 Jan 2024 07:03"],
    [new Date(2023, 11, 31, 23, 59).getTime(), "Sun 31 Dec 2023 23:59"],
  ])("%s → %s", (ms, want) => expect(formatDateTime(ms, now)).toBe(want));
});

describe("formatDay", () => {
  it.each([[0, "1 Jan"], [19_727, "5 Jan"], [19_782, "29 Feb"], [null, "—"]])("day %s → %s", (d, want) => expect(formatDay(d)).toBe(want));
});

describe("signalBars", () => {
  it.each([[-40, 4], [-55, 4], [-56, 3], [-67, 3], [-70, 2], [-85, 1], [-95, 0], [null, 0]] as const)("%s dBm → %s", (rssi, n) =>
    expect(signalBars(rssi)).toBe(n));
});

describe("small formatters", () => {
  it.each([["long_short", "Long short"], ["rest", "Rest"]])("humanize %s", (w, want) => expect(humanize(w)).toBe(want));
  it.each([[500, "500 B"], [2048, "2.0 KB"], [3 * 1024 * 1024, "3.0 MB"]])("bytes %s", (b, want) => expect(formatBytes(b)).toBe(want));
});
