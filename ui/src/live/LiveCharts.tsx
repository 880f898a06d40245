// The Live view's drawings: the RR tachogram with its window (5 min, 1 hour, all), the rolling RMSSD,
// the Poincaré plot and the latest beats. The rings in liveModel hold the data; channel messages only
// mark the drawings stale, and each redraws on an animation frame at its own pace (FrameThrottle).
import uPlot from "uplot";
import { batch, createEffect, createSignal, For, on, onCleanup, onMount, type Accessor, type JSX } from "solid-js";
import { beats, liveState, liveTick, rolling } from "../liveModel";
import { formatDuration, formatRr, formatSessionTime, type RrUnit } from "../format";
import { labelText, type LabelState } from "../labels";
import type { ArtifactKind } from "../ipc";
import type { RecentBeat } from "../series";
import { axis, hollowPointsSeries, lineSeries, mountChart, pal, pointsSeries, type Chart } from "../charts";
import { timed } from "../perf";
import { keyedRows, type KeyedRow } from "./fields";
import { browserClock, FrameThrottle } from "./throttle";

const WINDOWS: { id: string; label: string; ms: number | null }[] = [
  { id: "5m", label: "5 min", ms: 5 * 60_000 },
  { id: "1h", label: "1 hour", ms: 3_600_000 },
  { id: "all", label: "All", ms: null },
];
/** At 60× a simulated strap sends ~75 updates a second; redrawing the tachogram and rolling RMSSD for
 * each would rasterise two canvases every frame. Ten redraws a second look continuous; at 1× updates
 * come about once a second, so this never delays one. */
const SERIES_EVERY_MS = 100;
/** The Poincaré plot re-sorts every pair, so it redraws at most twice a second — except while it is
 * still empty, so the first beats show at once. */
const POINCARE_EVERY_MS = 500;
/** Beats in the live beat list: the newest, with their labels revised in place. */
const RECENT_BEATS = 12;

const timeAxisValues = (_u: uPlot, splits: number[]) => splits.map((s) => formatDuration(s));

interface LiveChartSet {
  tacho: Chart;
  rolling: Chart;
  poincare: Chart;
}

function mountLiveCharts(els: { tacho: HTMLElement; rolling: HTMLElement; poincare: HTMLElement }, unit: RrUnit): LiveChartSet {
  const tacho = mountChart(els.tacho, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ values: timeAxisValues }), axis({ size: 52 })],
    series: [{}, lineSeries("RR", () => pal.accent2), pointsSeries("Artifact", () => pal.bad, 7),
      hollowPointsSeries("Artifact (provisional)", () => pal.bad, 7)],
    cursor: { drag: { x: false, y: false } },
  }, [[], [], [], []], 220, "tacho");
  const rollingChart = mountChart(els.rolling, {
    scales: { x: { time: false } },
    axes: [axis({ values: timeAxisValues }), axis({ size: 44 })],
    series: [{}, lineSeries("60 s", () => pal.accent, { width: 2 }), lineSeries("5 min", () => pal.accent2, { width: 2 })],
    cursor: { drag: { x: false, y: false } },
  }, [[], [], []], 200, "rolling");
  const poincare = mountChart(els.poincare, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ label: `RRn (${unit})`, values: (_u, s) => s.map((v) => String(v)) }), axis({ label: `RRn+1 (${unit})`, size: 56 })],
    series: [{}, pointsSeries("RRn+1", () => pal.accent, 4)],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
  }, [[], []], () => Math.min(260, Math.max(180, els.poincare.clientWidth)), "poincare");
  return { tacho, rolling: rollingChart, poincare };
}

/** A row of the beat list: the beat's index, time and RR never change; its label may be revised. */
interface BeatListRow extends KeyedRow<RecentBeat> {
  readonly beat: RecentBeat;
  readonly state: Accessor<LabelState>;
  readonly artifact: Accessor<ArtifactKind | null>;
}

function beatListRow(beat: RecentBeat): BeatListRow {
  const [state, setState] = createSignal(beat.state);
  const [artifact, setArtifact] = createSignal(beat.artifact);
  return {
    key: beat.index, beat, state, artifact,
    update: (b) => batch(() => {
      setState(b.state);
      setArtifact(b.artifact);
    }),
  };
}

function BeatRow(props: { row: BeatListRow; unit: RrUnit }): JSX.Element {
  const { beat, state, artifact } = props.row;
  const label = () => labelText(artifact(), state());
  return (
    <li class={`beat ${label().className}`} data-testid="live-beat" data-index={beat.index} data-state={state()}
      title={state() === "provisional" ? "Provisional label: final once the next 16 beats are in" : "Final label"}>
      <span class="beat-index mono">#{beat.index}</span>
      <span class="beat-time mono muted">{formatSessionTime(beat.atMs)}</span>
      <span class="beat-rr mono">{formatRr(beat.rrMs, props.unit)}</span>
      <span class="beat-label">{label().text}</span>
    </li>
  );
}

export function LiveCharts(props: { unit: RrUnit }): JSX.Element {
  const unit = props.unit;
  const [windowMs, setWindowMs] = createSignal<number | null>(3_600_000);
  // Kept by beat index: a new beat adds one row, a revised label rewrites that row's label only.
  const [rows, setRows] = createSignal<BeatListRow[]>([]);
  let tachoEl!: HTMLDivElement;
  let rollingEl!: HTMLDivElement;
  let poincareEl!: HTMLDivElement;

  onMount(() => {
    const charts = mountLiveCharts({ tacho: tachoEl, rolling: rollingEl, poincare: poincareEl }, unit);
    const series = new FrameThrottle(browserClock, () => SERIES_EVERY_MS, () => {
      const t = timed("tacho.build", () => beats.tachogram(windowMs(), unit));
      charts.tacho.setData([t.x, t.rr, t.artifacts, t.provisional] as unknown as uPlot.AlignedData);
      setRows((prev) => keyedRows(prev, beats.recent(RECENT_BEATS), (b) => b.index, beatListRow));
      charts.rolling.setData(timed("rolling.build", () => rolling.toData().slice(0, 3) as uPlot.AlignedData));
    });
    let pairs = 0;
    const poincare = new FrameThrottle(browserClock, () => (pairs === 0 ? 0 : POINCARE_EVERY_MS), () => {
      const u = charts.poincare.u;
      const grid = { cols: u.bbox.width / uPlot.pxRatio, rows: u.bbox.height / uPlot.pxRatio };
      const p = timed("poincare.build", () => beats.poincare(windowMs(), unit, grid));
      pairs = p.x.length;
      charts.poincare.setData([p.x, p.y]);
    });
    const stale = () => {
      series.mark();
      poincare.mark();
    };
    const unsubscribe = [liveTick.subscribe(stale), liveState.subscribe(stale)];
    // Another window shows other beats: redraw on the next frame rather than when the pace allows.
    createEffect(on(windowMs, () => {
      series.markNow();
      poincare.markNow();
    }));
    onCleanup(() => {
      unsubscribe.forEach((u) => u());
      series.dispose();
      poincare.dispose();
      charts.tacho.destroy();
      charts.rolling.destroy();
      charts.poincare.destroy();
    });
  });

  return (
    <>
      <section class="card">
        <div class="card-title-row">
          <h2 class="card-title">RR tachogram ({unit})</h2>
          <div class="seg" role="group" aria-label="Tachogram window">
            <For each={WINDOWS}>{(w) => (
              <button class="seg-btn" classList={{ on: windowMs() === w.ms }} data-w={w.id}
                aria-pressed={windowMs() === w.ms ? "true" : "false"} onClick={() => setWindowMs(w.ms)}>{w.label}</button>
            )}</For>
          </div>
        </div>
        <div class="chart" ref={tachoEl} />
      </section>
      <div class="live-charts">
        <section class="card"><h2 class="card-title">Rolling RMSSD (ms)</h2><div class="chart" ref={rollingEl} /></section>
        <section class="card"><h2 class="card-title">Poincaré</h2><div class="chart chart-square" ref={poincareEl} /></section>
      </div>
      <section class="card">
        <h2 class="card-title">Latest beats</h2>
        <p class="muted small">Labels ending in “?” are provisional: each is final once 16 more beats have followed it, and is revised here and in the tachogram (hollow points) if it changes.</p>
        <ol class="beat-list" data-testid="live-beat-list">
          <For each={rows()}>{(row) => <BeatRow row={row} unit={unit} />}</For>
        </ol>
      </section>
    </>
  );
}
