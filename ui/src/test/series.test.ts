import { describe, expect, it } from "vitest";
import { artifactCounts, BeatSeries, beatsToPoincare, beatsToTachogram, SampledSeries, signalQuality, spectrumPoints, type BeatLike } from "../series";
import type { ArtifactKind } from "../ipc";

let nextIndex = 0;
/** Beats numbered in the order the test makes them, as the engine numbers a session's beats. */
const beat = (at_ms: number | null, rr_ms: number | null, artifact: ArtifactKind | null = null): BeatLike => ({ index: nextIndex++, at_ms, rr_ms, artifact });
const BATCH = [beat(800, 800), beat(1610, 810), beat(2000, 390, "extra"), beat(2800, 800), beat(3620, 820)];

describe("tachogram from beat batches", () => {
  it.each([
    { unit: "ms" as const, x: [0.8, 1.61, 2, 2.8, 3.62], rr: [800, 810, 390, 800, 820], art: [null, null, 390, null, null] },
    { unit: "s" as const, x: [0.8, 1.61, 2, 2.8, 3.62], rr: [0.8, 0.81, 0.39, 0.8, 0.82], art: [null, null, 0.39, null, null] },
  ])("in $unit", ({ unit, x, rr, art }) => {
    const t = beatsToTachogram(BATCH, unit);
    expect(t.count).toBe(5);
    Array.from(t.x).forEach((v, i) => expect(v).toBeCloseTo(x[i], 9));
    Array.from(t.rr).forEach((v, i) => expect(v).toBeCloseTo(rr[i], 9));
    t.artifacts.forEach((v, i) => (art[i] === null ? expect(v).toBeNull() : expect(v).toBeCloseTo(art[i] as number, 9)));
  });

  it.each([
    { windowMs: null, want: 5 }, { windowMs: 1000, want: 2 }, { windowMs: 1620, want: 3 }, { windowMs: 0, want: 1 }, { windowMs: 10_000, want: 5 },
  ])("window $windowMs keeps $want beats", ({ windowMs, want }) => {
    const s = new BeatSeries(100);
    s.append(BATCH.slice(0, 2));
    s.append(BATCH.slice(2));
    expect(s.tachogram(windowMs, "ms").count).toBe(want);
  });

  it("keeps only the newest beats once the ring is full, across batches", () => {
    const s = new BeatSeries(3);
    s.append(BATCH.slice(0, 2));
    s.append(BATCH.slice(2));
    const t = s.tachogram(null, "ms");
    expect(Array.from(t.rr)).toEqual([390, 800, 820]);
    // Nothing is confirmed yet: the artifact is drawn as provisional.
    expect(t.artifacts).toEqual([null, null, null]);
    expect(t.provisional).toEqual([390, null, null]);
  });

  it.each([
    { name: "non-finite", beats: [beat(NaN, 800), beat(1000, Infinity), beat(1800, 800)] },
    { name: "null (a non-finite f64 over IPC)", beats: [beat(null, 800), beat(1000, null), beat(1800, 800)] },
  ])("skips $name beats", ({ beats }) => {
    const s = new BeatSeries(10);
    s.append(beats);
    expect(s.length).toBe(1);
    expect(Array.from(s.tachogram(null, "ms").rr)).toEqual([800]);
  });
});

describe("Poincaré pairs", () => {
  it.each([
    { name: "clean", beats: [beat(0, 800), beat(0, 900), beat(0, 700)], x: [800, 900], y: [900, 700] },
    { name: "artifact drops both pairs it touches", beats: BATCH, x: [800, 800], y: [810, 820] },
    { name: "sorted by RRn", beats: [beat(0, 1000), beat(0, 600), beat(0, 800)], x: [600, 1000], y: [800, 600] },
    { name: "one beat has no pair", beats: [beat(0, 800)], x: [], y: [] },
    { name: "a beat without RR breaks the succession", beats: [beat(0, 800), beat(0, 900), beat(0, null), beat(0, 700), beat(0, 750)], x: [700, 800], y: [750, 900] },
  ])("$name", ({ beats, x, y }) => {
    const p = beatsToPoincare(beats, "ms");
    expect(p.x).toEqual(x);
    expect(p.y).toEqual(y);
  });

  it("live series gives the same pairs as a stored batch", () => {
    const s = new BeatSeries(10);
    s.append(BATCH);
    expect(s.poincare(null, "s")).toEqual(beatsToPoincare(BATCH, "s"));
  });
});

describe("signalQuality", () => {
  it.each([
    { art: 0, beats: 0, pct: null, level: "none" },
    { art: 0, beats: 100, pct: 0, level: "good" },
    { art: 1, beats: 200, pct: 0.5, level: "good" },
    { art: 1, beats: 100, pct: 1, level: "fair" },
    { art: 4, beats: 100, pct: 4, level: "fair" },
    { art: 5, beats: 100, pct: 5, level: "poor" },
    { art: 30, beats: 100, pct: 30, level: "poor" },
  ])("$art of $beats", ({ art, beats, pct, level }) => {
    const q = signalQuality(art, beats);
    expect(q.level).toBe(level);
    if (pct === null) expect(q.artifactPct).toBeNull();
    else expect(q.artifactPct).toBeCloseTo(pct, 12);
  });
});

describe("artifactCounts", () => {
  it.each([
    { beats: [], want: { ectopic: 0, missed: 0, extra: 0, long_short: 0, total: 0 } },
    { beats: BATCH, want: { ectopic: 0, missed: 0, extra: 1, long_short: 0, total: 1 } },
    {
      beats: [beat(0, 1, "ectopic"), beat(0, 1, "ectopic"), beat(0, 1, "missed"), beat(0, 1, "long_short"), beat(0, 1)],
      want: { ectopic: 2, missed: 1, extra: 0, long_short: 1, total: 4 },
    },
  ])("%#", ({ beats, want }) => expect(artifactCounts(beats)).toEqual(want));
});

describe("SampledSeries", () => {
  it("keeps one sample per step and turns missing values into gaps", () => {
    const s = new SampledSeries(10, 2, 1000);
    const kept = [[0, 1, null], [500, 2, 2], [1000, null, 3], [2500, 4, 4]].map(([t, a, b]) => s.offer(t as number, [a, b]));
    expect(kept).toEqual([true, false, true, true]);
    expect(s.toData()).toEqual([[0, 1, 2.5], [1, null, 4], [null, 3, 4]]);
  });
});

describe("spectrum points", () => {
  it.each([
    { name: "cut at the max frequency", f: [0, 0.1, 0.5, 0.6], p: [1, 2, 3, 4], x: [0, 0.1, 0.5], y: [1, 2, 3] },
    { name: "null frequency dropped", f: [0, null, 0.2], p: [1, 2, 3], x: [0, 0.2], y: [1, 3] },
    { name: "null power kept as a gap", f: [0, 0.1, 0.2], p: [1, null, 3], x: [0, 0.1, 0.2], y: [1, null, 3] },
    { name: "shorter power array gives gaps", f: [0, 0.1], p: [1], x: [0, 0.1], y: [1, null] },
  ])("$name", ({ f, p, x, y }) => expect(spectrumPoints(f, p, 0.5)).toEqual({ x, y }));
});
