// Chart data preparation from beat batches: the rings that hold a live session's beats and the
// arrays uPlot draws (tachogram, Poincaré), plus signal quality and artifact counts.
import { Ring } from "./ring";
import { rrInUnit, type RrUnit } from "./format";
import type { ArtifactKind, LabelCorrection } from "./ipc";
import { advanceConfirmed, applyCorrections, ARTIFACT_KINDS, labelCode, labelKind, labelState, type LabelState } from "./labels";

/** A beat as the app sends it: the numbers are nullable in the IPC types (a non-finite f64 would
 * arrive as null), so a beat without them is skipped rather than drawn. `index` is its place in the
 * session's raw beat series, which label corrections refer to. */
export interface BeatLike {
  index: number;
  at_ms: number | null;
  rr_ms: number | null;
  artifact: ArtifactKind | null;
}

function finite(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

export { ARTIFACT_KINDS };

/** Six hours of beats at 200 bpm. */
export const LIVE_BEAT_CAPACITY = 6 * 3600 * 200 / 60;

export interface Tachogram {
  /** Session time, s. */
  x: Float64Array;
  /** RR in the display unit. */
  rr: Float64Array;
  /** RR where the beat's final label is an artifact, null elsewhere (drawn as distinct points). */
  artifacts: (number | null)[];
  /** RR where the beat's provisional label is an artifact, null elsewhere (drawn as hollow points
   * until the final label confirms or clears it). */
  provisional: (number | null)[];
  count: number;
}

/** One beat of the live beat list. */
export interface RecentBeat {
  index: number;
  atMs: number;
  rrMs: number;
  artifact: ArtifactKind | null;
  state: LabelState;
}

export interface Poincare {
  /** RRn, ascending (uPlot's x must be sorted). */
  x: number[];
  /** RRn+1. */
  y: number[];
}

export class BeatSeries {
  readonly at: Ring;
  readonly rr: Ring;
  /** Each beat's index in the session, ascending. */
  readonly index: Ring;
  /** Each beat's label code (labels.ts): 0 for a normal beat. */
  readonly label: Ring;
  /** Beats up to this index have their final label; null while none has. */
  confirmedThrough: number | null = null;
  private scratch: Float64Array;

  constructor(capacity: number = LIVE_BEAT_CAPACITY) {
    this.at = new Ring(capacity);
    this.rr = new Ring(capacity);
    this.index = new Ring(capacity);
    this.label = new Ring(capacity);
    this.scratch = new Float64Array(0);
  }

  get length(): number {
    return this.at.length;
  }

  clear(): void {
    this.at.clear();
    this.rr.clear();
    this.index.clear();
    this.label.clear();
    this.confirmedThrough = null;
  }

  append(beats: readonly BeatLike[]): void {
    for (const b of beats) {
      if (!finite(b.at_ms) || !finite(b.rr_ms)) continue;
      // Indices only rise within a stream: a lower one is a new stream (a new connection or session),
      // and mixing the two would break the lookup corrections rely on.
      const last = this.index.last();
      if (last !== undefined && b.index <= last) this.clear();
      this.at.push(b.at_ms);
      this.rr.push(b.rr_ms);
      this.index.push(b.index);
      this.label.push(labelCode(b.artifact));
    }
  }

  /** Applies one update's final labels: corrections rewrite kept beats in place, and the confirmed
   * mark moves forward. Returns how many kept labels changed. */
  revise(corrections: readonly LabelCorrection[], confirmedThrough: number | null): number {
    this.confirmedThrough = advanceConfirmed(this.confirmedThrough, confirmedThrough);
    return applyCorrections(this, corrections);
  }

  /** The newest `n` beats, newest first, with their label and whether it is final. */
  recent(n: number): RecentBeat[] {
    const out: RecentBeat[] = [];
    for (let i = this.length - 1; i >= 0 && out.length < n; i--) {
      const index = this.index.get(i);
      out.push({
        index, atMs: this.at.get(i), rrMs: this.rr.get(i),
        artifact: labelKind(this.label.get(i)), state: labelState(index, this.confirmedThrough),
      });
    }
    return out;
  }

  /** Index of the first beat inside the last `windowMs` (all beats when null). */
  windowStart(windowMs: number | null): number {
    if (windowMs === null || this.length === 0) return 0;
    const end = this.at.last() ?? 0;
    return this.at.lowerBound(end - windowMs);
  }

  tachogram(windowMs: number | null, unit: RrUnit): Tachogram {
    const from = this.windowStart(windowMs);
    const n = this.length - from;
    const x = new Float64Array(n);
    const rr = new Float64Array(n);
    this.at.copyTo(x, from);
    this.rr.copyTo(rr, from);
    const codes = this.labelsFrom(from, n);
    const artifacts: (number | null)[] = new Array(n);
    const provisional: (number | null)[] = new Array(n);
    // Indices ascend, so the confirmed beats are a prefix of the window.
    const confirmed = this.confirmedThrough === null ? from : this.index.lowerBound(this.confirmedThrough + 1);
    for (let i = 0; i < n; i++) {
      x[i] = x[i] / 1000;
      rr[i] = rrInUnit(rr[i], unit);
      const artifact = codes[i] !== 0 ? rr[i] : null;
      const final = from + i < confirmed;
      artifacts[i] = final ? artifact : null;
      provisional[i] = final ? null : artifact;
    }
    return { x, rr, artifacts, provisional, count: n };
  }

  poincare(windowMs: number | null, unit: RrUnit, grid?: PixelGrid): Poincare {
    const from = this.windowStart(windowMs);
    const n = this.length - from;
    const rr = new Float64Array(n);
    this.rr.copyTo(rr, from);
    const flags = this.labelsFrom(from, n).slice();
    return poincarePairs(rr, flags, unit, grid);
  }

  private labelsFrom(from: number, n: number): Float64Array {
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, this.scratch.length * 2));
    const view = this.scratch.subarray(0, n);
    this.label.copyTo(view, from);
    return view;
  }
}

/** Above this many pairs the live Poincaré plot keeps one point per pixel of the plot. */
export const POINCARE_DECIMATE_ABOVE = 3000;

/** The plot area in CSS pixels, for thinning a scatter to what can be seen. */
export interface PixelGrid {
  cols: number;
  rows: number;
}

/** Successive pairs (RRn, RRn+1), skipping any pair that touches an artifact, sorted by RRn.
 * With a `grid` and more than POINCARE_DECIMATE_ABOVE pairs, only the first pair that falls in
 * each pixel cell of the data's bounding box is kept: the plot's range is at least that box, so a
 * cell is at most one pixel and every dropped point lies under a kept point of the same colour.
 * Thousands of overlapping dots cost far more to rasterise than they add to the picture. */
export function poincarePairs(rr: ArrayLike<number>, flags: ArrayLike<number>, unit: RrUnit, grid?: PixelGrid): Poincare {
  const n = Math.max(0, rr.length - 1);
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  let count = 0;
  for (let i = 0; i + 1 < rr.length; i++) {
    if (flags[i] || flags[i + 1]) continue;
    px[count] = rrInUnit(rr[i], unit);
    py[count] = rrInUnit(rr[i + 1], unit);
    count++;
  }
  let keep: number[] = [];
  if (grid && count > POINCARE_DECIMATE_ABOVE && grid.cols > 0 && grid.rows > 0) {
    keep = cellFirsts(px, py, count, grid);
  } else {
    for (let i = 0; i < count; i++) keep.push(i);
  }
  keep.sort((a, b) => px[a] - px[b] || a - b);
  return { x: keep.map((i) => px[i]), y: keep.map((i) => py[i]) };
}

function cellFirsts(px: Float64Array, py: Float64Array, count: number, grid: PixelGrid): number[] {
  // The pairs at the four extremes are always kept so the auto-ranged axes stay the same.
  let ix0 = 0, ix1 = 0, iy0 = 0, iy1 = 0;
  for (let i = 1; i < count; i++) {
    if (px[i] < px[ix0]) ix0 = i;
    if (px[i] > px[ix1]) ix1 = i;
    if (py[i] < py[iy0]) iy0 = i;
    if (py[i] > py[iy1]) iy1 = i;
  }
  const x0 = px[ix0], y0 = py[iy0];
  const cols = Math.ceil(grid.cols);
  const rows = Math.ceil(grid.rows);
  const sx = px[ix1] > x0 ? cols / (px[ix1] - x0) : 0;
  const sy = py[iy1] > y0 ? rows / (py[iy1] - y0) : 0;
  const seen = new Uint8Array((cols + 1) * (rows + 1));
  const cellOf = (i: number) => Math.floor((px[i] - x0) * sx) * (rows + 1) + Math.floor((py[i] - y0) * sy);
  const keep = [...new Set([ix0, ix1, iy0, iy1])];
  for (const i of keep) seen[cellOf(i)] = 1;
  for (let i = 0; i < count; i++) {
    const cell = cellOf(i);
    if (seen[cell]) continue;
    seen[cell] = 1;
    keep.push(i);
  }
  return keep;
}

export function beatsToTachogram(beats: readonly BeatLike[], unit: RrUnit): Tachogram {
  const s = new BeatSeries(Math.max(1, beats.length));
  s.append(beats);
  // Stored beats carry their final labels.
  s.revise([], Number.POSITIVE_INFINITY);
  return s.tachogram(null, unit);
}

/** A beat without an RR value breaks the succession like an artifact: no pair spans it. */
export function beatsToPoincare(beats: readonly BeatLike[], unit: RrUnit): Poincare {
  const rr = beats.map((b) => (finite(b.rr_ms) ? b.rr_ms : NaN));
  const flags = beats.map((b, i) => (b.artifact || Number.isNaN(rr[i]) ? 1 : 0));
  return poincarePairs(rr, flags, unit);
}

export type QualityLevel = "good" | "fair" | "poor" | "none";

export interface SignalQuality {
  /** Artifacts as a percentage of beats; null before the first beat. */
  artifactPct: number | null;
  level: QualityLevel;
}

/** Below 1 % artifacts the HRV values are trustworthy, up to 5 % usable after correction. */
export function signalQuality(artifactsTotal: number, beatsTotal: number): SignalQuality {
  if (!(beatsTotal > 0)) return { artifactPct: null, level: "none" };
  const pct = (100 * Math.max(0, artifactsTotal)) / beatsTotal;
  const level: QualityLevel = pct < 1 ? "good" : pct < 5 ? "fair" : "poor";
  return { artifactPct: pct, level };
}

export type ArtifactCounts = Record<ArtifactKind, number> & { total: number };

export function artifactCounts(beats: readonly BeatLike[]): ArtifactCounts {
  const c = { total: 0 } as ArtifactCounts;
  for (const k of ARTIFACT_KINDS) c[k] = 0;
  for (const b of beats) {
    if (b.artifact === null) continue;
    c.total++;
    c[b.artifact]++;
  }
  return c;
}

/** A time series sampled at most once per `stepMs` (rolling RMSSD over a session). The chart
 * columns are appended as samples arrive, so drawing hands uPlot the same arrays instead of
 * rebuilding them; past `capacity` the oldest samples are dropped in chunks of an eighth, which
 * keeps the cost per sample constant. */
export class SampledSeries {
  private x: number[] = [];
  private cols: (number | null)[][];
  private lastAt: number | null = null;
  constructor(readonly capacity: number, readonly columns: number, readonly stepMs: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError("capacity must be a positive integer");
    this.cols = Array.from({ length: columns }, () => []);
  }

  get length(): number {
    return Math.min(this.x.length, this.capacity);
  }

  /** Returns whether the sample was kept. Missing values are stored as null and drawn as gaps. */
  offer(atMs: number, vals: (number | null)[]): boolean {
    if (this.lastAt !== null && atMs - this.lastAt < this.stepMs) return false;
    this.lastAt = atMs;
    this.x.push(atMs / 1000);
    this.cols.forEach((c, i) => {
      const v = vals[i] ?? null;
      c.push(v !== null && Number.isFinite(v) ? v : null);
    });
    if (this.x.length > this.capacity + Math.ceil(this.capacity / 8)) {
      const drop = this.x.length - this.capacity;
      this.x.splice(0, drop);
      this.cols.forEach((c) => c.splice(0, drop));
    }
    return true;
  }

  clear(): void {
    this.x = [];
    this.cols = this.cols.map(() => []);
    this.lastAt = null;
  }

  /** [x in s, ...columns with null for gaps] for uPlot: the kept samples, at most `capacity`. */
  toData(): [number[], ...(number | null)[][]] {
    const over = this.x.length - this.capacity;
    if (over > 0) return [this.x.slice(over), ...this.cols.map((c) => c.slice(over))];
    return [this.x, ...this.cols];
  }
}

/** The spectrum up to `maxHz` for uPlot: a frequency without a value has no place on the axis and
 * is dropped; a missing power stays as a gap. */
export function spectrumPoints(
  freqHz: readonly (number | null)[],
  power: readonly (number | null)[],
  maxHz: number,
): { x: number[]; y: (number | null)[] } {
  const x: number[] = [];
  const y: (number | null)[] = [];
  freqHz.forEach((f, i) => {
    if (!finite(f) || f > maxHz) return;
    const p = power[i] ?? null;
    x.push(f);
    y.push(p !== null && Number.isFinite(p) ? p : null);
  });
  return { x, y };
}
