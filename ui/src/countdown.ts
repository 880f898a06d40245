// The morning reading's countdown, driven by session time from the updates (not the wall
// clock), so a simulator running faster than real time counts down at its own pace.

export const READING_MS = 180_000;

export interface Countdown {
  remainingMs: number;
  /** Share of the reading done, 0..1. */
  done: number;
  /** "2:41" — whole seconds rounded up, so "0:00" appears only at the end. */
  label: string;
}

export function countdown(atMs: number, totalMs: number = READING_MS): Countdown {
  const elapsed = Math.min(Math.max(0, Number.isFinite(atMs) ? atMs : 0), totalMs);
  const remainingMs = totalMs - elapsed;
  const secs = Math.ceil(remainingMs / 1000);
  const label = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
  return { remainingMs, done: totalMs > 0 ? elapsed / totalMs : 1, label };
}

/** The breathing cue: 4 s in, 6 s out. */
export const INHALE_S = 4;
export const EXHALE_S = 6;
