import { describe, expect, it } from "vitest";
import { SampledSeries } from "../series";

type Sample = [number, (number | null)[]];

/** The from-scratch computation the incremental series must equal: keep a sample when it is at
 * least `step` after the last kept one, then take the last `capacity` kept samples. */
function fromScratch(samples: Sample[], capacity: number, step: number, columns: number): (number | null)[][] {
  const kept: Sample[] = [];
  for (const s of samples) if (!kept.length || s[0] - kept[kept.length - 1][0] >= step) kept.push(s);
  const last = kept.slice(Math.max(0, kept.length - capacity));
  return [
    last.map((s) => s[0] / 1000),
    ...Array.from({ length: columns }, (_, c) => last.map((s) => {
      const v = s[1][c];
      return v !== null && v !== undefined && Number.isFinite(v) ? v : null;
    })),
  ];
}

function samples(n: number, every: number, nullEvery: number): Sample[] {
  return Array.from({ length: n }, (_, i) => [i * every, [i % nullEvery === 0 ? null : 20 + (i % 7), i % 3 === 0 ? NaN : 40 - (i % 5)]]);
}

describe("SampledSeries (incremental) equals the from-scratch series", () => {
  it.each([
    { name: "empty", capacity: 8, step: 1000, input: [] as Sample[] },
    { name: "one sample per step", capacity: 100, step: 1000, input: samples(50, 1000, 4) },
    { name: "updates faster than the step are thinned", capacity: 100, step: 1000, input: samples(300, 130, 5) },
    { name: "past capacity, before a chunk is dropped", capacity: 16, step: 1000, input: samples(18, 1000, 3) },
    { name: "past capacity, after several chunks", capacity: 16, step: 1000, input: samples(200, 1000, 6) },
    { name: "capacity one", capacity: 1, step: 10, input: samples(9, 10, 2) },
  ])("$name", ({ capacity, step, input }) => {
    const s = new SampledSeries(capacity, 2, step);
    // Compare after every sample, as the chart reads it between updates.
    input.forEach((smp, i) => {
      s.offer(smp[0], smp[1]);
      expect(s.toData()).toEqual(fromScratch(input.slice(0, i + 1), capacity, step, 2));
    });
    expect(s.length).toBe(fromScratch(input, capacity, step, 2)[0].length);
  });

  it("clear starts over, including the step", () => {
    const s = new SampledSeries(4, 1, 1000);
    s.offer(5000, [1]);
    s.clear();
    expect(s.offer(0, [2])).toBe(true);
    expect(s.toData()).toEqual([[0], [2]]);
  });
});
