import { describe, expect, it } from "vitest";
import { Ring } from "../ring";

function contents(r: Ring): number[] {
  return Array.from({ length: r.length }, (_, i) => r.get(i));
}

describe("Ring", () => {
  it.each([
    { cap: 3, pushes: [], want: [] },
    { cap: 3, pushes: [1, 2], want: [1, 2] },
    { cap: 3, pushes: [1, 2, 3], want: [1, 2, 3] },
    { cap: 3, pushes: [1, 2, 3, 4], want: [2, 3, 4] },
    { cap: 3, pushes: [1, 2, 3, 4, 5, 6, 7], want: [5, 6, 7] },
    { cap: 1, pushes: [9, 8], want: [8] },
  ])("capacity $cap after $pushes", ({ cap, pushes, want }) => {
    const r = new Ring(cap);
    pushes.forEach((v) => r.push(v));
    expect(contents(r)).toEqual(want);
    expect(r.last()).toBe(want[want.length - 1]);
  });

  it.each([
    { pushes: [1, 2, 3, 4, 5, 6], from: 0, to: 4, want: [3, 4, 5, 6] },
    { pushes: [1, 2, 3, 4, 5, 6], from: 1, to: 3, want: [4, 5] },
    { pushes: [1, 2, 3], from: 0, to: 3, want: [1, 2, 3] },
    { pushes: [1, 2, 3, 4, 5], from: 2, to: 99, want: [4, 5] },
  ])("copyTo [$from,$to) across the wrap", ({ pushes, from, to, want }) => {
    const r = new Ring(4);
    pushes.forEach((v) => r.push(v));
    const out = new Float64Array(8);
    const n = r.copyTo(out, from, to);
    expect(Array.from(out.subarray(0, n))).toEqual(want);
  });

  it.each([
    { v: 0, want: 0 }, { v: 3, want: 0 }, { v: 3.5, want: 1 }, { v: 6, want: 3 }, { v: 7, want: 4 },
  ])("lowerBound($v) over [3,4,5,6] after wrap", ({ v, want }) => {
    const r = new Ring(4);
    [1, 2, 3, 4, 5, 6].forEach((x) => r.push(x));
    expect(r.lowerBound(v)).toBe(want);
  });

  it("rejects a bad capacity and a bad index", () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    const r = new Ring(2);
    r.push(1);
    expect(() => r.get(1)).toThrow(RangeError);
  });

  it("clear empties it", () => {
    const r = new Ring(2);
    r.push(1);
    r.clear();
    expect(r.length).toBe(0);
    expect(r.last()).toBeUndefined();
  });

  it.each([
    { name: "before wrapping", pushed: [1, 2, 3], at: 1, want: [1, 9, 3] },
    { name: "after wrapping", pushed: [1, 2, 3, 4, 5, 6], at: 0, want: [9, 5, 6] },
    { name: "the newest after wrapping", pushed: [1, 2, 3, 4], at: 2, want: [2, 3, 9] },
  ])("set replaces a kept value in place, $name", ({ pushed, at, want }) => {
    const r = new Ring(3);
    pushed.forEach((x) => r.push(x));
    r.set(at, 9);
    expect(Array.from({ length: r.length }, (_, i) => r.get(i))).toEqual(want);
    expect(() => r.set(r.length, 9)).toThrow(RangeError);
  });
});
