// One chart inside an answer: a get_trend result drawn with uPlot (values as a line with points, the normal
// range as two dashed lines). Mounted once per result; the data never comes from the model's text. After each
// draw the figure's `data-drawn-points` says how many points uPlot drew (the values it holds in the range it
// rendered), so a test checks the chart itself rather than `points`, counted beside the series.
import { onCleanup, onMount, type JSX } from "solid-js";
import type uPlot from "uplot";
import { axis, lineSeries, mountChart, pal, type Chart } from "../charts";
import { metricLabel, type TrendChartData } from "./answerCharts";

export function AnswerChart(props: { data: TrendChartData }): JSX.Element {
  let el: HTMLDivElement | undefined;
  let figure: HTMLElement | undefined;
  let chart: Chart | undefined;
  onMount(() => {
    if (!el) return;
    const d = props.data;
    chart = mountChart(el, {
      scales: { x: { time: true } },
      axes: [axis(), axis({ size: 48 })],
      legend: { show: false },
      hooks: { draw: [(u) => figure?.setAttribute("data-drawn-points", String(drawnPoints(u, 1)))] },
      series: [
        {},
        lineSeries(metricLabel(d.metric), () => pal.accent2, { points: { show: true, size: 5 }, spanGaps: true }),
        lineSeries("normal range low", () => pal.good, { dash: [4, 4], width: 1 }),
        lineSeries("normal range high", () => pal.good, { dash: [4, 4], width: 1 }),
      ],
    }, [d.x, d.value, d.low, d.high], 160, "answer-chart");
  });
  onCleanup(() => chart?.destroy());
  return (
    <figure ref={figure} class="answer-chart" data-testid="answer-chart" data-metric={props.data.metric} data-points={props.data.points}>
      <figcaption class="muted small">{metricLabel(props.data.metric)}, {props.data.points} mornings — from the get_trend result, not the model's text</figcaption>
      <div ref={el} />
    </figure>
  );
}

/** The points uPlot drew for series `s`: its non-null values in the index range it rendered. */
function drawnPoints(u: uPlot, s: number): number {
  const [from, to] = u.series[s]?.idxs ?? [0, -1];
  const values = u.data[s] ?? [];
  let n = 0;
  for (let i = from; i <= to; i++) if (values[i] !== null && values[i] !== undefined) n += 1;
  return n;
}
