// Fixed-capacity ring of numbers: appending never allocates, and the oldest values fall off once
// the capacity (hours of beats) is reached, so a long session cannot grow memory without bound.

export class Ring {
  private readonly buf: Float64Array;
  private start = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError("ring capacity must be a positive integer");
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  push(v: number): void {
    if (this.len < this.capacity) {
      this.buf[(this.start + this.len) % this.capacity] = v;
      this.len++;
    } else {
      this.buf[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** i = 0 is the oldest value kept. */
  get(i: number): number {
    if (i < 0 || i >= this.len) throw new RangeError(`index ${i} outside 0..${this.len}`);
    return this.buf[(this.start + i) % this.capacity];
  }

  /** Replaces the value at i (0 = the oldest kept): a beat's label revised in place. */
  set(i: number, v: number): void {
    if (i < 0 || i >= this.len) throw new RangeError(`index ${i} outside 0..${this.len}`);
    this.buf[(this.start + i) % this.capacity] = v;
  }

  last(): number | undefined {
    return this.len === 0 ? undefined : this.get(this.len - 1);
  }

  clear(): void {
    this.start = 0;
    this.len = 0;
  }

  /** Copies values [from, to) into `out` from index 0 and returns how many were copied. */
  copyTo(out: Float64Array, from = 0, to = this.len): number {
    const a = Math.max(0, from);
    const b = Math.min(this.len, to, a + out.length);
    const n = Math.max(0, b - a);
    const first = (this.start + a) % this.capacity;
    const run = Math.min(n, this.capacity - first);
    out.set(this.buf.subarray(first, first + run), 0);
    if (run < n) out.set(this.buf.subarray(0, n - run), run);
    return n;
  }

  /** First index whose value is ≥ v, for values pushed in ascending order (session times). */
  lowerBound(v: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.get(mid) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
