// Timings of the live view's work, read by the bench through window.__aurenLiveStats: each
// entry counts how often a step ran and how long it took (total and worst), so a slow frame can
// be traced to the step that caused it. Measuring costs two performance.now() calls per step.

export interface StepStats {
  count: number;
  total_ms: number;
  max_ms: number;
  mean_ms: number;
}

const steps = new Map<string, { count: number; total: number; max: number }>();

/** Adds one run of `name` that took `ms`. */
export function record(name: string, ms: number): void {
  let s = steps.get(name);
  if (!s) {
    s = { count: 0, total: 0, max: 0 };
    steps.set(name, s);
  }
  s.count++;
  s.total += ms;
  if (ms > s.max) s.max = ms;
}

/** Runs `f` and records how long it took. */
export function timed<T>(name: string, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    record(name, performance.now() - t0);
  }
}

export function snapshot(): Record<string, StepStats> {
  const out: Record<string, StepStats> = {};
  for (const [k, s] of steps) {
    out[k] = { count: s.count, total_ms: round(s.total), max_ms: round(s.max), mean_ms: round(s.count ? s.total / s.count : 0) };
  }
  return out;
}

export function resetStats(): void {
  steps.clear();
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
