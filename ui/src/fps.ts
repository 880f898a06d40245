// Frame-rate meter behind window.__aurenFps: counts animation frames over a span and the worst
// gap between two of them.

export interface FpsResult {
  fps: number;
  frames: number;
  worst_frame_ms: number;
}

export type Raf = (cb: (t: number) => void) => unknown;

export function measureFps(ms: number, raf: Raf, now: () => number): Promise<FpsResult> {
  return new Promise((resolve) => {
    let frames = 0;
    let worst = 0;
    let start: number | null = null;
    let prev = 0;
    const tick = () => {
      const t = now();
      if (start === null) {
        start = t;
        prev = t;
      } else {
        frames++;
        worst = Math.max(worst, t - prev);
        prev = t;
      }
      if (t - start >= ms) {
        const elapsed = t - start;
        resolve({ fps: elapsed > 0 ? (frames * 1000) / elapsed : 0, frames, worst_frame_ms: worst });
      } else {
        raf(tick);
      }
    };
    raf(tick);
  });
}
