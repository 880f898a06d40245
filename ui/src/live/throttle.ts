// Redraws paced to the screen: data marks a drawing stale, and the drawing runs on the next animation
// frame, at most once per interval. The Live view has three — the numbers (every frame), the tachogram
// with the rolling RMSSD and the beat list (ten a second), the Poincaré plot (twice a second) — instead
// of the flags and timers it used to juggle by hand. The clock is injected so tests drive time.

/** The timing primitives a throttle needs; `browserClock` is the real one. */
export interface FrameClock {
  now(): number;
  requestFrame(run: () => void): number;
  cancelFrame(id: number): void;
  setTimer(run: () => void, ms: number): number;
  clearTimer(id: number): void;
}

export const browserClock: FrameClock = {
  now: () => performance.now(),
  requestFrame: (run) => requestAnimationFrame(run),
  cancelFrame: (id) => cancelAnimationFrame(id),
  setTimer: (run, ms) => window.setTimeout(run, ms),
  clearTimer: (id) => window.clearTimeout(id),
};

export class FrameThrottle {
  private frame = 0;
  private timer = 0;
  /** The earliest time the next drawing may run. */
  private due = 0;
  private stale = false;
  private disposed = false;

  /** `interval` is asked after each drawing, so it may depend on what was drawn (the Poincaré plot
   * redraws at once while it is still empty). */
  constructor(
    private readonly clock: FrameClock,
    private readonly interval: () => number,
    private readonly draw: () => void,
  ) {}

  /** The data changed: draw on the first frame the interval allows. */
  mark(): void {
    this.stale = true;
    this.schedule();
  }

  /** What the drawing shows changed (another window): draw on the next frame, whatever the interval. */
  markNow(): void {
    this.due = 0;
    if (this.timer) {
      this.clock.clearTimer(this.timer);
      this.timer = 0;
    }
    this.mark();
  }

  /** Cancels whatever is pending; later marks do nothing. */
  dispose(): void {
    this.disposed = true;
    if (this.frame) this.clock.cancelFrame(this.frame);
    if (this.timer) this.clock.clearTimer(this.timer);
    this.frame = 0;
    this.timer = 0;
  }

  private schedule(): void {
    if (this.disposed || this.frame || this.timer) return;
    const wait = this.due - this.clock.now();
    if (wait > 0) {
      this.timer = this.clock.setTimer(() => {
        this.timer = 0;
        this.schedule();
      }, wait);
    } else {
      this.frame = this.clock.requestFrame(this.run);
    }
  }

  private readonly run = (): void => {
    this.frame = 0;
    if (!this.stale) return;
    this.stale = false;
    const started = this.clock.now();
    this.draw();
    this.due = started + this.interval();
  };
}
