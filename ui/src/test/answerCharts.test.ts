import { describe, expect, it } from "vitest";
import { answerCharts, metricLabel, trendChart } from "../chat/answerCharts";
import type { Step } from "../chat/turn";

const trendResult = {
  metric: "ln_rmssd",
  from: "2026-12-01",
  to: "2026-12-03",
  days: [
    { day: "2026-12-01", value: 4.1, normal_range: [3.9, 4.3] },
    { day: "2026-12-02", value: null, normal_range: null },
    { day: "2026-12-03", value: 3.8, normal_range: [3.9, 4.3] },
  ],
};

const tool = (name: string, result: unknown): Step => ({
  kind: "tool", call_id: `c-${name}`, name, args: {}, result, result_bytes: 1, receipts: [],
});

describe("trendChart", () => {
  it("takes every day, counts the days with a value as points, and keeps the band", () => {
    const c = trendChart(trendResult);
    expect(c).not.toBeNull();
    expect(c?.x).toEqual([Date.UTC(2026, 11, 1) / 1000, Date.UTC(2026, 11, 2) / 1000, Date.UTC(2026, 11, 3) / 1000]);
    expect(c?.value).toEqual([4.1, null, 3.8]);
    expect(c?.low).toEqual([3.9, null, 3.9]);
    expect(c?.high).toEqual([4.3, null, 4.3]);
    expect(c?.points).toBe(2);
    expect(c?.metric).toBe("ln_rmssd");
  });

  it.each([
    ["an error text", "error: no mornings"],
    ["null", null],
    ["no days", { metric: "ln_rmssd", days: [] }],
    ["a day that is not a date", { days: [{ day: "yesterday", value: 1 }] }],
    ["a day that is not an object", { days: [3] }],
  ])("draws nothing for %s", (_, result) => {
    expect(trendChart(result)).toBeNull();
  });

  it("treats a non-finite value as missing", () => {
    const c = trendChart({ days: [{ day: "2026-12-01", value: "4.1" }, { day: "2026-12-02", value: 4 }] });
    expect(c?.value).toEqual([null, 4]);
    expect(c?.points).toBe(1);
  });
});

describe("answerCharts", () => {
  it("charts only get_trend results, in step order", () => {
    const steps: Step[] = [
      tool("get_readiness", { day: "2026-12-03" }),
      tool("get_trend", trendResult),
      { kind: "request", model: "m", body: "{}" },
      tool("get_trend", { ...trendResult, metric: "sdnn_ms" }),
    ];
    expect(answerCharts(steps).map((c) => c.metric)).toEqual(["ln_rmssd", "sdnn_ms"]);
  });

  it("returns the same chart object for the same step, so a streaming turn keeps its charts", () => {
    const steps: Step[] = [tool("get_trend", trendResult)];
    const first = answerCharts(steps)[0];
    expect(answerCharts([...steps])[0]).toBe(first);
  });

  it("a tool call still waiting for its result draws nothing", () => {
    expect(answerCharts([tool("get_trend", null)])).toEqual([]);
  });
});

describe("metricLabel", () => {
  it.each([
    ["ln_rmssd", "Morning lnRMSSD"],
    ["resting_hr", "Resting HR (bpm)"],
    ["sdnn_ms", "sdnn ms"],
  ])("%s → %s", (metric, label) => {
    expect(metricLabel(metric)).toBe(label);
  });
});
