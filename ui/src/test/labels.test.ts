import { describe, expect, it } from "vitest";
import { advanceConfirmed, applyCorrections, ARTIFACT_KINDS, labelCode, labelKind, labelState, labelText } from "../labels";
import { BeatSeries, beatsToTachogram, type BeatLike } from "../series";
import { Ring } from "../ring";
import type { ArtifactKind, LabelCorrection } from "../ipc";

const beat = (index: number, artifact: ArtifactKind | null = null): BeatLike => ({ index, at_ms: 1000 + index * 800, rr_ms: 800, artifact });

/** Rings holding `indices` with all labels normal. */
function rings(indices: number[], capacity = 16): { index: Ring; label: Ring } {
  const index = new Ring(capacity);
  const label = new Ring(capacity);
  for (const i of indices) { index.push(i); label.push(0); }
  return { index, label };
}

const labels = (r: { label: Ring }) => Array.from({ length: r.label.length }, (_, i) => labelKind(r.label.get(i)));

describe("label codes", () => {
  it("round-trips every kind and the normal beat", () => {
    for (const k of [null, ...ARTIFACT_KINDS]) expect(labelKind(labelCode(k))).toBe(k);
  });
  it.each([[0, null], [-1, null], [ARTIFACT_KINDS.length + 1, null], [1, ARTIFACT_KINDS[0]]])("code %s is %s", (code, kind) =>
    expect(labelKind(code)).toBe(kind));
});

describe("applying corrections to the rings", () => {
  it.each<{ name: string; kept: number[]; corrections: LabelCorrection[]; want: (ArtifactKind | null)[]; changed: number }>([
    { name: "no corrections", kept: [0, 1, 2], corrections: [], want: [null, null, null], changed: 0 },
    { name: "one beat becomes ectopic", kept: [0, 1, 2], corrections: [{ index: 1, artifact: "ectopic" }], want: [null, "ectopic", null], changed: 1 },
    { name: "several in one update", kept: [4, 5, 6, 7], corrections: [{ index: 4, artifact: "missed" }, { index: 7, artifact: "long_short" }], want: ["missed", null, null, "long_short"], changed: 2 },
    { name: "a beat no longer kept is ignored", kept: [10, 11], corrections: [{ index: 3, artifact: "extra" }], want: [null, null], changed: 0 },
    { name: "a beat never kept (skipped, no RR) is ignored", kept: [0, 2], corrections: [{ index: 1, artifact: "extra" }], want: [null, null], changed: 0 },
    { name: "a beat beyond the newest is ignored", kept: [0, 1], corrections: [{ index: 9, artifact: "extra" }], want: [null, null], changed: 0 },
  ])("$name", ({ kept, corrections, want, changed }) => {
    const r = rings(kept);
    expect(applyCorrections(r, corrections)).toBe(changed);
    expect(labels(r)).toEqual(want);
  });

  it("clears a provisional artifact the final label calls normal", () => {
    const s = new BeatSeries(8);
    s.append([beat(0), beat(1, "extra"), beat(2)]);
    expect(s.revise([{ index: 1, artifact: null }], 1)).toBe(1);
    const t = s.tachogram(null, "ms");
    expect(t.artifacts).toEqual([null, null, null]);
    expect(t.provisional).toEqual([null, null, null]);
  });

  it("finds beats by index after the ring wrapped", () => {
    const s = new BeatSeries(3);
    s.append([beat(0), beat(1), beat(2), beat(3), beat(4)]);
    s.revise([{ index: 3, artifact: "ectopic" }, { index: 1, artifact: "missed" }], null);
    expect(s.recent(3).map((b) => [b.index, b.artifact])).toEqual([[4, null], [3, "ectopic"], [2, null]]);
  });
});

describe("provisional and confirmed", () => {
  it.each([
    { index: 0, through: null, want: "provisional" },
    { index: 5, through: 5, want: "confirmed" },
    { index: 6, through: 5, want: "provisional" },
    { index: 0, through: 5, want: "confirmed" },
  ] as const)("beat $index with final labels through $through is $want", ({ index, through, want }) =>
    expect(labelState(index, through)).toBe(want));

  it.each([
    { current: null, next: null, want: null },
    { current: null, next: 3, want: 3 },
    { current: 7, next: null, want: 7 },
    { current: 7, next: 4, want: 7 },
    { current: 7, next: 9, want: 9 },
  ])("confirmed mark $current then $next is $want", ({ current, next, want }) =>
    expect(advanceConfirmed(current, next)).toBe(want));

  it.each([
    { kind: null, state: "confirmed", text: "normal", className: "label-normal" },
    { kind: "ectopic", state: "confirmed", text: "Ectopic", className: "label-artifact" },
    { kind: null, state: "provisional", text: "normal?", className: "label-provisional" },
    { kind: "long_short", state: "provisional", text: "Long/short?", className: "label-provisional label-artifact" },
  ] as const)("$kind, $state", ({ kind, state, text, className }) =>
    expect(labelText(kind, state)).toEqual({ text, className }));

  it("splits the tachogram's artifact points into confirmed and provisional", () => {
    const s = new BeatSeries(8);
    s.append([beat(0, "ectopic"), beat(1), beat(2, "missed"), beat(3, "extra")]);
    s.revise([], 1);
    const t = s.tachogram(null, "ms");
    expect(t.artifacts).toEqual([800, null, null, null]);
    expect(t.provisional).toEqual([null, null, 800, 800]);
    expect(s.recent(4).map((b) => b.state)).toEqual(["provisional", "provisional", "confirmed", "confirmed"]);
  });

  it("a stored session's beats are all final", () => {
    const t = beatsToTachogram([beat(0, "ectopic"), beat(1)], "ms");
    expect(t.artifacts).toEqual([800, null]);
    expect(t.provisional).toEqual([null, null]);
  });
});

describe("a new stream", () => {
  it.each([
    { name: "indices rising", second: [3, 4], want: [0, 1, 2, 3, 4] },
    { name: "indices restarting (Start, or a new connection)", second: [0, 1], want: [0, 1] },
    { name: "a repeated index", second: [2, 3], want: [2, 3] },
  ])("$name", ({ second, want }) => {
    const s = new BeatSeries(16);
    s.append([beat(0), beat(1), beat(2)]);
    s.append(second.map((i) => beat(i)));
    expect(s.recent(16).map((b) => b.index).reverse()).toEqual(want);
  });
});
