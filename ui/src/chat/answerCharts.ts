// Charts inside an answer come from the turn's tool results, never from the model's text: each get_trend
// result becomes one series of its days (value and normal-range band) for uPlot. Pure and cached by step
// object, so a streaming turn (whose unchanged steps keep their identity) never rebuilds a chart.
import type { Step } from "./turn";

export interface TrendChartData {
  /** The metric get_trend followed ("ln_rmssd", "sdnn_ms", …). */
  metric: string;
  /** Unix seconds of each day's midnight (UTC), oldest first. */
  x: number[];
  value: (number | null)[];
  low: (number | null)[];
  high: (number | null)[];
  /** Days with a value: what the chart draws as points. */
  points: number;
}

const cache = new WeakMap<Step, TrendChartData | null>();

/** The charts a turn's steps call for, in step order. */
export function answerCharts(steps: readonly Step[]): TrendChartData[] {
  const out: TrendChartData[] = [];
  for (const step of steps) {
    let chart = cache.get(step);
    if (chart === undefined) {
      chart = step.kind === "tool" && step.name === "get_trend" ? trendChart(step.result) : null;
      cache.set(step, chart);
    }
    if (chart) out.push(chart);
  }
  return out;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** One get_trend result as a chart, or null when it is not one (an error text, no days). */
export function trendChart(result: unknown): TrendChartData | null {
  if (typeof result !== "object" || result === null) return null;
  const r = result as { metric?: unknown; days?: unknown };
  if (!Array.isArray(r.days) || r.days.length === 0) return null;
  const chart: TrendChartData = {
    metric: typeof r.metric === "string" ? r.metric : "ln_rmssd", x: [], value: [], low: [], high: [], points: 0,
  };
  for (const d of r.days as unknown[]) {
    if (typeof d !== "object" || d === null) return null;
    const day = d as { day?: unknown; value?: unknown; normal_range?: unknown };
    const m = typeof day.day === "string" ? DAY.exec(day.day) : null;
    if (!m) return null;
    chart.x.push(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000);
    const value = finite(day.value);
    chart.value.push(value);
    if (value !== null) chart.points += 1;
    const band = Array.isArray(day.normal_range) && day.normal_range.length === 2 ? day.normal_range : [null, null];
    chart.low.push(finite(band[0]));
    chart.high.push(finite(band[1]));
  }
  return chart;
}

/** The metric's name as a person reads it. */
export function metricLabel(metric: string): string {
  const names: Record<string, string> = {
    ln_rmssd: "Morning lnRMSSD", rmssd_ms: "Morning RMSSD (ms)", resting_hr: "Resting HR (bpm)",
  };
  return names[metric] ?? metric.replace(/_/g, " ");
}
