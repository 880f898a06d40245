import { describe, expect, it } from "vitest";
import { POINCARE_DECIMATE_ABOVE, poincarePairs } from "../series";

/** Deterministic pseudo-random RR series around `mean` ms (a linear congruential generator). */
function rrSeries(n: number, mean: number, spread: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return mean + ((s / 2147483648) - 0.5) * spread;
  });
}

describe("Poincaré thinned to one point per pixel", () => {
  it.each([
    { name: "below the threshold every pair is kept", n: POINCARE_DECIMATE_ABOVE, cols: 200, rows: 200, thinned: false },
    { name: "exercise: narrow spread, small plot", n: 10_000, cols: 200, rows: 180, thinned: true },
    { name: "rest: wide spread, large plot", n: 6_000, cols: 480, rows: 260, thinned: true },
    { name: "one pixel plot", n: 4_000, cols: 1, rows: 1, thinned: true },
  ])("$name", ({ n, cols, rows, thinned }) => {
    const rr = rrSeries(n + 1, 800, 300, n);
    const flags = rr.map((_, i) => (i % 97 === 0 ? 1 : 0));
    const all = poincarePairs(rr, flags, "ms");
    const few = poincarePairs(rr, flags, "ms", { cols, rows });
    if (!thinned) {
      expect(few).toEqual(all);
      return;
    }
    expect(few.x.length).toBeLessThan(all.x.length);
    expect(few.x.length).toBeLessThanOrEqual((cols + 1) * (rows + 1) + 4);
    // Sorted by RRn, as uPlot needs.
    for (let i = 1; i < few.x.length; i++) expect(few.x[i]).toBeGreaterThanOrEqual(few.x[i - 1]);
    // Every kept point is a real pair.
    const real = new Set(all.x.map((x, i) => `${x},${all.y[i]}`));
    few.x.forEach((x, i) => expect(real.has(`${x},${few.y[i]}`)).toBe(true));
    // Every dropped pair lies within one pixel of a kept one, so the picture is unchanged; the
    // extremes are kept, so the axes are too.
    const x0 = Math.min(...all.x), y0 = Math.min(...all.y);
    const sx = (Math.max(...all.x) - x0) / cols;
    const sy = (Math.max(...all.y) - y0) / rows;
    const kept = new Set(few.x.map((x, i) => `${Math.floor((x - x0) / sx)},${Math.floor((few.y[i] - y0) / sy)}`));
    all.x.forEach((x, i) => expect(kept.has(`${Math.floor((x - x0) / sx)},${Math.floor((all.y[i] - y0) / sy)}`)).toBe(true));
    for (const f of [Math.min, Math.max]) {
      expect(f(...few.x)).toBe(f(...all.x));
      expect(f(...few.y)).toBe(f(...all.y));
    }
  });
});
