import { describe, expect, it } from "vitest";
import { bpmAt, zoneOf, zonesFromMaxHr } from "../zones";
import { dayOfParam, morningsUntilBaseline, normalRange, trendDaysReaching, verdictSentence, verdictTone } from "../readiness";
import { countdown } from "../countdown";
import { lineCount, offsetOf, problemsByLine } from "../rulesmap";
import { checkSettings, isAbsolutePath, type SettingsLike } from "../settingsCheck";
import { measureFps } from "../fps";
import { arrangePanel, METRICS } from "../metrics";
import { resolveTheme } from "../theme";

describe("zones from max HR", () => {
  it.each([
    { max: 190, pct: [60, 70, 80, 90], want: [[95, 114], [114, 133], [133, 152], [152, 171], [171, 190]] },
    { max: 200, pct: [55, 72, 82, 92], want: [[100, 110], [110, 144], [144, 164], [164, 184], [184, 200]] },
    { max: 100, pct: [60, 70, 80, 90], want: [[50, 60], [60, 70], [70, 80], [80, 90], [90, 100]] },
  ])("max $max", ({ max, pct, want }) => {
    const z = zonesFromMaxHr(max, pct);
    expect(z.map((x) => [x.loBpm, x.hiBpm])).toEqual(want);
    expect(z.map((x) => x.zone)).toEqual([1, 2, 3, 4, 5]);
  });
  it.each([
    { hr: 80, want: 0 }, { hr: 95, want: 1 }, { hr: 114, want: 1 }, { hr: 115, want: 2 }, { hr: 150, want: 3 },
    { hr: 160, want: 4 }, { hr: 175, want: 5 }, { hr: 200, want: 5 },
  ])("hr $hr at max 190 is zone $want", ({ hr, want }) => expect(zoneOf(hr, 190, [60, 70, 80, 90])).toBe(want));
  it("rounds bpm", () => expect(bpmAt(187, 65)).toBe(122));
});

describe("verdict sentence", () => {
  it.each([
    ["below", 0, "Your HRV is below your normal range: your body has not fully recovered — keep today easy."],
    ["within", 0, "Your HRV is within your normal range: you are recovered — train as planned."],
    ["above", 0, "Your HRV is above your normal range: usually a sign of good recovery — but if you feel run down, treat it as fatigue and keep today easy."],
    [null, 5, "Not enough readings yet: 5 more mornings until a baseline."],
    [null, 1, "Not enough readings yet: 1 more morning until a baseline."],
    [null, 0, "No verdict today: your baseline could not be computed from the readings so far."],
  ] as const)("%s (%s needed)", (v, n, want) => expect(verdictSentence(v, n)).toBe(want));
  it.each([["below", "low"], ["within", "ok"], ["above", "high"], [null, "none"]] as const)("tone %s", (v, t) => expect(verdictTone(v)).toBe(t));

  const days = (list: number[], today = 100) => list.map((d) => ({ day: today - d, today_ln_rmssd: 3.5 }));
  it.each([
    { name: "nothing yet", days: [], want: 14 },
    { name: "three this week", days: days([0, 1, 2]), want: 11 },
    { name: "fourteen spread over 60 days, none this week", days: days([10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36]), want: 3 },
    { name: "enough", days: days([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]), want: 0 },
    { name: "older than 60 days do not count", days: days([0, 1, 2, 60, 61, 62]), want: 11 },
    { name: "days without a reading do not count", days: [{ day: 100, today_ln_rmssd: null }], want: 14 },
  ])("mornings until baseline: $name", ({ days: d, want }) => expect(morningsUntilBaseline(d, 100)).toBe(want));
});

describe("normal range", () => {
  it.each([
    { range: [3.1, 3.9] as [number | null, number | null], want: [3.1, 3.9] },
    { range: null, want: null },
    { range: [null, 3.9] as [number | null, number | null], want: null },
    { range: [3.1, null] as [number | null, number | null], want: null },
    { range: [NaN, 3.9] as [number | null, number | null], want: null },
  ])("$range → $want", ({ range, want }) => expect(normalRange({ normal_range: range })).toEqual(want));
});

describe("countdown", () => {
  it.each([
    { at: 0, label: "3:00", done: 0, rem: 180_000 },
    { at: 1, label: "3:00", done: 1 / 180_000, rem: 179_999 },
    { at: 1000, label: "2:59", done: 1000 / 180_000, rem: 179_000 },
    { at: 60_500, label: "2:00", done: 60_500 / 180_000, rem: 119_500 },
    { at: 179_001, label: "0:01", done: 179_001 / 180_000, rem: 999 },
    { at: 180_000, label: "0:00", done: 1, rem: 0 },
    { at: 250_000, label: "0:00", done: 1, rem: 0 },
    { at: -50, label: "3:00", done: 0, rem: 180_000 },
  ])("at $at ms", ({ at, label, done, rem }) => {
    const c = countdown(at);
    expect(c.label).toBe(label);
    expect(c.done).toBeCloseTo(done, 12);
    expect(c.remainingMs).toBe(rem);
  });
});

describe("rule problems to lines", () => {
  const text = "rule a\n  when x > 1\n\nrule b";
  it("counts lines", () => expect([lineCount(""), lineCount("a"), lineCount(text), lineCount("a\n")]).toEqual([1, 1, 4, 2]));
  it.each([
    { line: 1, col: 1, want: 0 }, { line: 1, col: 6, want: 5 }, { line: 1, col: 99, want: 6 },
    { line: 2, col: 3, want: 9 }, { line: 3, col: 1, want: 20 }, { line: 4, col: 6, want: 26 }, { line: 9, col: 1, want: text.length },
  ])("offset of $line:$col", ({ line, col, want }) => expect(offsetOf(text, line, col)).toBe(want));
  it("groups problems by line and clamps lines outside the text", () => {
    const ps = [
      { line: 2, column: 8, message: "unknown x" }, { line: 2, column: 3, message: "two" },
      { line: 40, column: 1, message: "past end" }, { line: 0, column: 1, message: "before start" },
    ];
    const m = problemsByLine(text, ps);
    expect([...m.keys()].sort()).toEqual([1, 2, 4]);
    expect(m.get(2)?.map((p) => p.message)).toEqual(["unknown x", "two"]);
    expect(m.get(4)?.[0].message).toBe("past end");
    expect(m.get(1)?.[0].message).toBe("before start");
  });
});

describe("settings validation mirror", () => {
  const ok: SettingsLike = { theme: "system", rr_unit: "ms", max_hr: 190, zones_pct: [60, 70, 80, 90], data_dir: "/d", export_dir: "/e" };
  it.each([
    { name: "valid", patch: {}, fields: [] },
    { name: "max hr low", patch: { max_hr: 99 }, fields: ["max_hr"] },
    { name: "max hr high", patch: { max_hr: 241 }, fields: ["max_hr"] },
    { name: "max hr lower edge", patch: { max_hr: 100 }, fields: [] },
    { name: "max hr upper edge", patch: { max_hr: 240 }, fields: [] },
    { name: "max hr fractional", patch: { max_hr: 180.5 }, fields: ["max_hr"] },
    { name: "zones not ascending", patch: { zones_pct: [60, 60, 80, 90] }, fields: ["zones_pct"] },
    { name: "zones falling", patch: { zones_pct: [60, 70, 65, 90] }, fields: ["zones_pct"] },
    { name: "three zones", patch: { zones_pct: [60, 70, 80] }, fields: ["zones_pct"] },
    { name: "five zones", patch: { zones_pct: [50, 60, 70, 80, 90] }, fields: ["zones_pct"] },
    { name: "zone edges 30 and 99", patch: { zones_pct: [30, 31, 98, 99] }, fields: [] },
    { name: "zone below 30", patch: { zones_pct: [29, 70, 80, 90] }, fields: ["zones_pct"] },
    { name: "zone at 100", patch: { zones_pct: [60, 70, 80, 100] }, fields: ["zones_pct"] },
    { name: "zone fractional", patch: { zones_pct: [60, 70.5, 80, 90] }, fields: ["zones_pct"] },
    { name: "empty folders", patch: { data_dir: " ", export_dir: "" }, fields: ["data_dir", "export_dir"] },
    { name: "relative folders", patch: { data_dir: "auren/data", export_dir: "~/Auren" }, fields: ["data_dir", "export_dir"] },
    { name: "absolute after trimming", patch: { data_dir: "  /home/a  " }, fields: [] },
    { name: "bad theme and unit", patch: { theme: "blue", rr_unit: "min" }, fields: ["theme", "rr_unit"] },
  ])("$name", ({ patch, fields }) => expect(checkSettings({ ...ok, ...patch }, false).map((p) => p.field)).toEqual(fields));

  it.each([
    { path: "/home/a", windows: false, want: true },
    { path: "home/a", windows: false, want: false },
    { path: "C:\\Users\\a", windows: false, want: false },
    { path: "C:\\Users\\a", windows: true, want: true },
    { path: "c:/Users/a", windows: true, want: true },
    { path: "C:Users", windows: true, want: false },
    { path: "\\\\server\\share", windows: true, want: true },
    { path: "\\Users", windows: true, want: false },
    { path: "/home/a", windows: true, want: false },
  ])("absolute path $path (windows $windows) → $want", ({ path, windows, want }) => expect(isAbsolutePath(path, windows)).toBe(want));
});

describe("fps meter with a fake rAF", () => {
  function fakeRaf(frameTimes: number[]) {
    let t = 0;
    let i = 0;
    const raf = (cb: (t: number) => void) => {
      queueMicrotask(() => {
        t += frameTimes[Math.min(i++, frameTimes.length - 1)];
        cb(t);
      });
    };
    return { raf, now: () => t };
  }
  it.each([
    { name: "steady 60 fps", frames: [16.667], ms: 1000, fps: 60, worst: 16.667 },
    { name: "steady 30 fps", frames: [33.333], ms: 1000, fps: 30, worst: 33.333 },
    { name: "one long frame", frames: [16.667, 16.667, 100, 16.667], ms: 500, worst: 100 },
  ])("$name", async ({ frames, ms, fps, worst }) => {
    const { raf, now } = fakeRaf(frames);
    const r = await measureFps(ms, raf, now);
    if (fps !== undefined) expect(r.fps).toBeCloseTo(fps, 0);
    expect(r.worst_frame_ms).toBeCloseTo(worst, 3);
    expect(r.frames).toBeGreaterThan(0);
  });
});

describe("panel arrangement", () => {
  it("groups every known key, unknown ones last in the time group", () => {
    const panel = [
      { key: "rmssd_ms", value: 40, absent: null }, { key: "lf_rel", value: 30, absent: null },
      { key: "sampen", value: null, absent: { reason: "too_few_beats" as const, message: "needs 200 beats" } },
      { key: "brand_new", value: 1, absent: null },
    ];
    const groups = arrangePanel(panel);
    expect(groups.map((g) => g.group)).toEqual(["time", "frequency", "nonlinear"]);
    expect(groups[0].rows.map((r) => r.info.key)).toEqual(["rmssd_ms", "brand_new"]);
    expect(groups[1].rows.map((r) => [r.info.key, r.info.unit])).toEqual([["lf_rel", "%"]]);
    expect(groups[2].rows[0].metric.absent?.message).toBe("needs 200 beats");
  });
  it("knows all 39 engine keys and the 16 costly ones (auren-hrv panel::KEYS, COSTLY_KEYS)", () => {
    const keys = ["duration_s", "mean_nn_ms", "sdnn_ms", "cvnn", "rmssd_ms", "ln_rmssd", "sdsd_ms", "pnn50_pct", "pnn20_pct", "mean_hr_bpm", "sd_hr_bpm", "min_hr_bpm", "max_hr_bpm", "vlf_ms2", "lf_ms2", "hf_ms2", "total_power_ms2", "lf_hf", "lf_nu", "hf_nu", "lf_peak_hz", "hf_peak_hz", "vlf_rel", "lf_rel", "hf_rel", "vlf_log", "lf_log", "hf_log", "sd1_ms", "sd2_ms", "sd2_sd1", "sampen", "dfa_alpha1", "dfa_alpha2", "tri_index", "tinn_ms", "stress_index", "pns_index", "sns_index",
      "apen", "ar_vlf_ms2", "ar_lf_ms2", "ar_hf_ms2", "ar_total_power_ms2", "ar_lf_hf", "ar_lf_nu", "ar_hf_nu", "ar_lf_peak_hz", "ar_hf_peak_hz", "ar_vlf_rel", "ar_lf_rel", "ar_hf_rel", "ar_vlf_log", "ar_lf_log", "ar_hf_log"];
    const known = new Set(METRICS.map((m) => m.key));
    expect(keys.filter((k) => !known.has(k))).toEqual([]);
    expect(known.size).toBe(keys.length);
  });
});

describe("theme", () => {
  it.each([["system", true, "dark"], ["system", false, "light"], ["light", true, "light"], ["dark", false, "dark"]] as const)(
    "%s with OS dark=%s → %s", (c, os, want) => expect(resolveTheme(c, os)).toBe(want));
});

describe("a morning route's day", () => {
  it.each([
    ["2026-12-04", Date.UTC(2026, 11, 4) / 86_400_000],
    ["1970-01-01", 0],
    ["2024-02-29", Date.UTC(2024, 1, 29) / 86_400_000],
    ["2026-02-29", null],
    ["2026-13-01", null],
    ["2026-1-01", null],
    ["today", null],
    [undefined, null],
  ])("%s → %s", (param, day) => {
    expect(dayOfParam(param)).toBe(day);
  });

  it.each([
    [100, 100, 1],
    [91, 100, 10],
    [101, 100, null],
    [100 - 3650, 100, null],
    [100 - 3649, 100, 3650],
  ])("day %i seen on day %i needs %s days of trend", (day, today, days) => {
    expect(trendDaysReaching(day, today, 3650)).toBe(days);
  });
});
