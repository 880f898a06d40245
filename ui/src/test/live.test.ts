// The Live view's pure parts: what each number and chip reads, the notices, the source line (simulated
// data always named so), the DFA gauge, the frame pacing of its redraws, and the keyed beat-list rows.
import { describe, expect, it } from "vitest";
import { createComputed, createRoot } from "solid-js";
import type { LiveStarted, LiveUpdate, Monitor, Settings, SourceChoice } from "../ipc";
import { dfaNote, gaugeX, GAUGE_WIDTH, liveNotice, liveReadout, liveSourceLine } from "../live/readout";
import { FrameThrottle, type FrameClock } from "../live/throttle";
import { createFields, keyedRows } from "../live/fields";

const metrics = { rmssd_60s: null, rmssd_5m: null, sdnn_60s: null, sdnn_5m: null, mean_hr_60s: null, pnn50_60s: null, ln_rmssd: null, dfa_alpha1: null };

function update(p: Partial<LiveUpdate> = {}): LiveUpdate {
  return {
    session_id: null, at_ms: 0, heart_rate_bpm: null, contact: null, link: "connected", battery_percent: null,
    metrics, beats: [], confirmed_through: null, corrections: [], alerts: [], beats_total: 0, artifacts_total: 0,
    ended: false, ...p,
  };
}

const settings = { max_hr: 190, zones_pct: [60, 70, 80, 90] } as Settings;

describe("live readout", () => {
  it("reads dashes and idle before any update", () => {
    expect(liveReadout(null, false, settings)).toEqual({
      hr: "—", zone: "", zoneClass: "zone-pill", time: "0:00", beats: "0", link: "idle", linkClass: "chip link-none",
      contact: "contact —", contactClass: "chip", battery: "battery —", quality: "quality —", qualityClass: "chip q-none",
      rmssd60: "—", rmssd5m: "—", lnRmssd: "—", sdnn: "—", dfa: null,
    });
  });
  it("says connecting while a started session has sent nothing", () => {
    const r = liveReadout(null, true, settings);
    expect([r.link, r.linkClass]).toEqual(["connecting", "chip link-connecting"]);
  });
  it("reads a full update", () => {
    const r = liveReadout(update({
      at_ms: 125_000, heart_rate_bpm: 150.4, contact: true, link: "reconnecting", battery_percent: 14,
      beats_total: 200, artifacts_total: 3,
      metrics: { ...metrics, rmssd_60s: 41.26, rmssd_5m: 38.04, ln_rmssd: 3.7199, sdnn_60s: 52.95, dfa_alpha1: 0.81 },
    }), true, settings);
    expect(r).toEqual({
      hr: "150", zone: "Zone 3", zoneClass: "zone-pill z3", time: "2:05", beats: "200", link: "reconnecting",
      linkClass: "chip link-reconnecting", contact: "contact ✓", contactClass: "chip", battery: "battery 14 %",
      quality: "artifacts 1.5 %", qualityClass: "chip q-fair", rmssd60: "41.3", rmssd5m: "38.0", lnRmssd: "3.72",
      sdnn: "53.0", dfa: 0.81,
    });
  });
  it.each([
    { hr: 80, zone: "below zone 1", cls: "zone-pill z0" },
    { hr: 100, zone: "Zone 1", cls: "zone-pill z1" },
    { hr: 185, zone: "Zone 5", cls: "zone-pill z5" },
  ])("heart rate $hr is $zone", ({ hr, zone, cls }) => {
    const r = liveReadout(update({ heart_rate_bpm: hr }), false, settings);
    expect([r.zone, r.zoneClass]).toEqual([zone, cls]);
  });
  it("shows no zone before the settings are loaded", () => {
    const r = liveReadout(update({ heart_rate_bpm: 120 }), false, null);
    expect([r.hr, r.zone, r.zoneClass]).toEqual(["120", "", "zone-pill"]);
  });
  it.each([
    { contact: false, text: "no skin contact", cls: "chip chip-bad" },
    { contact: true, text: "contact ✓", cls: "chip" },
    { contact: null, text: "contact —", cls: "chip" },
  ])("contact $contact", ({ contact, text, cls }) => {
    const r = liveReadout(update({ contact }), false, settings);
    expect([r.contact, r.contactClass]).toEqual([text, cls]);
  });
  it("leaves every field but the changed ones equal between two beats", () => {
    const a = liveReadout(update({ at_ms: 60_000, heart_rate_bpm: 72.2, beats_total: 70 }), false, settings);
    const b = liveReadout(update({ at_ms: 60_400, heart_rate_bpm: 71.9, beats_total: 71 }), false, settings);
    const changed = (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]);
    expect(changed).toEqual(["beats"]);
  });
});

describe("DFA gauge", () => {
  it.each([
    [0.1, 0], [0.25, 0], [1.0, GAUGE_WIDTH / 2], [1.75, GAUGE_WIDTH], [3, GAUGE_WIDTH],
  ])("α1 %s sits at x = %s", (v, x) => expect(gaugeX(v)).toBeCloseTo(x, 9));
  it.each([
    [null, "needs 2 minutes of clean beats"],
    [1.1, "below the aerobic threshold"],
    [0.75, "above the aerobic threshold"],
    [0.6, "above the aerobic threshold"],
    [0.5, "above the anaerobic threshold (α1 < 0.5)"],
  ] as const)("α1 %s: %s", (v, note) => expect(dfaNote(v)).toBe(note));
});

const simulator: SourceChoice = { kind: "simulator", scenario: "fatigued", speed: 30, seed: null } as SourceChoice;
const strap: SourceChoice = { kind: "strap", address: "AA:BB", name: "Polar H10 1234" } as SourceChoice;
const session = (p: Partial<LiveStarted> = {}): LiveStarted =>
  ({ session_id: 7, source_label: "Polar H10 1234", simulated: false, kind: "rest", started_at_unix_ms: 0, ...p });
const monitoring = {} as Monitor;

describe("live notice", () => {
  it.each([
    { name: "no source", started: null, mon: null, reattached: false, chosen: null, want: "choose-source" },
    { name: "monitoring", started: null, mon: monitoring, reattached: false, chosen: strap, want: "monitoring" },
    { name: "chosen, not yet streaming", started: null, mon: null, reattached: false, chosen: strap, want: "none" },
    { name: "recording", started: session(), mon: null, reattached: false, chosen: strap, want: "none" },
    { name: "recording after a reload", started: session(), mon: null, reattached: true, chosen: null, want: "reattached" },
  ])("$name", ({ started, mon, reattached, chosen, want }) =>
    expect(liveNotice({ started, monitoring: mon, reattached }, chosen)).toBe(want));
});

describe("live source line", () => {
  it.each([
    { name: "chosen simulator", started: null, chosen: simulator, want: { simulated: true, text: "Simulated strap · fatigued, 30×" } },
    { name: "chosen strap", started: null, chosen: strap, want: { simulated: false, text: "Polar H10 1234" } },
    { name: "nothing chosen", started: null, chosen: null, want: { simulated: false, text: "No source chosen" } },
    { name: "a simulated session whose label does not say so", started: session({ simulated: true, source_label: "simulator rest" }),
      chosen: null, want: { simulated: true, text: "Simulated strap · simulator rest" } },
    { name: "a simulated session labelled", started: session({ simulated: true, source_label: "Simulated strap · rest" }),
      chosen: strap, want: { simulated: true, text: "Simulated strap · rest" } },
    { name: "a strap session, whatever is chosen", started: session(), chosen: simulator, want: { simulated: false, text: "Polar H10 1234" } },
  ])("$name", ({ started, chosen, want }) => expect(liveSourceLine({ started }, chosen)).toEqual(want));
});

/** A clock the test moves: frames run when the test says a frame happens, timers when time reaches them. */
class FakeClock implements FrameClock {
  t = 0;
  private next = 1;
  frames = new Map<number, () => void>();
  timers = new Map<number, { at: number; run: () => void }>();
  now(): number { return this.t; }
  requestFrame(run: () => void): number { const id = this.next++; this.frames.set(id, run); return id; }
  cancelFrame(id: number): void { this.frames.delete(id); }
  setTimer(run: () => void, ms: number): number { const id = this.next++; this.timers.set(id, { at: this.t + ms, run }); return id; }
  clearTimer(id: number): void { this.timers.delete(id); }
  /** Moves time to `t`, firing due timers, then runs one animation frame. */
  frameAt(t: number): void {
    this.t = t;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= t) { this.timers.delete(id); timer.run(); }
    }
    const frames = [...this.frames.values()];
    this.frames.clear();
    frames.forEach((f) => f());
  }
}

type Step = { at: number; mark?: "mark" | "now" };

/** Marks at the given times, a frame every 16 ms up to the last step + 200 ms; returns when it drew. */
function drawTimes(interval: () => number, steps: Step[], dispose = Number.POSITIVE_INFINITY): number[] {
  const clock = new FakeClock();
  const drawn: number[] = [];
  const throttle = new FrameThrottle(clock, interval, () => drawn.push(clock.now()));
  const end = Math.max(...steps.map((s) => s.at)) + 200;
  for (let t = 0; t <= end; t += 16) {
    for (const s of steps) {
      if (s.at <= t && s.at > t - 16) {
        clock.t = s.at;
        if (s.mark === "now") throttle.markNow();
        else throttle.mark();
      }
    }
    if (t >= dispose) throttle.dispose();
    clock.frameAt(t);
  }
  return drawn;
}

describe("frame throttle", () => {
  it.each([
    { name: "draws on the next frame", interval: 0, steps: [{ at: 5 }], want: [16] },
    { name: "draws once for many marks in one frame", interval: 0, steps: [{ at: 1 }, { at: 5 }, { at: 9 }], want: [16] },
    { name: "draws every frame that had a mark", interval: 0, steps: [{ at: 1 }, { at: 20 }, { at: 40 }], want: [16, 32, 48] },
    { name: "holds later marks to the interval", interval: 100, steps: [{ at: 1 }, { at: 20 }, { at: 40 }, { at: 60 }], want: [16, 128] },
    { name: "does not draw without a mark", interval: 100, steps: [{ at: 1 }], want: [16] },
    { name: "a mark after the interval draws at once", interval: 100, steps: [{ at: 1 }, { at: 150 }], want: [16, 160] },
    { name: "markNow skips the wait", interval: 100, steps: [{ at: 1 }, { at: 20, mark: "now" }], want: [16, 32] },
  ] as { name: string; interval: number; steps: Step[]; want: number[] }[])("$name", ({ interval, steps, want }) =>
    expect(drawTimes(() => interval, steps)).toEqual(want));
  it("asks the interval after each drawing (an empty plot redraws at once)", () => {
    let draws = 0;
    const interval = () => (draws < 2 ? 0 : 500);
    const clock = new FakeClock();
    const throttle = new FrameThrottle(clock, interval, () => { draws++; });
    const times: number[] = [];
    for (let t = 0; t <= 1000; t += 16) {
      throttle.mark();
      const before = draws;
      clock.frameAt(t);
      if (draws > before) times.push(t);
    }
    expect(times).toEqual([0, 16, 528]);
  });
  it("leaves nothing pending once disposed", () => {
    expect(drawTimes(() => 100, [{ at: 1 }, { at: 20 }], 32)).toEqual([16]);
    const clock = new FakeClock();
    const throttle = new FrameThrottle(clock, () => 100, () => undefined);
    throttle.mark();
    clock.frameAt(16);
    throttle.mark();
    expect(clock.timers.size).toBe(1);
    throttle.dispose();
    throttle.mark();
    expect([clock.timers.size, clock.frames.size]).toEqual([0, 0]);
  });
});

describe("fields", () => {
  it("notifies only the fields whose value changed", () => {
    const seen: string[] = [];
    const { view, update, dispose } = createRoot((dispose) => {
      const [view, update] = createFields({ hr: "72", zone: "Zone 1", beats: "70" });
      for (const key of ["hr", "zone", "beats"] as const) createComputed(() => seen.push(`${key}=${view[key]}`));
      return { view, update, dispose };
    });
    expect(seen).toEqual(["hr=72", "zone=Zone 1", "beats=70"]);
    seen.length = 0;
    update({ hr: "72", zone: "Zone 1", beats: "71" });
    update({ hr: "73", zone: "Zone 1", beats: "71" });
    expect([view.hr, view.zone, view.beats]).toEqual(["73", "Zone 1", "71"]);
    dispose();
    update({ hr: "74", zone: "Zone 2", beats: "72" });
    expect(seen).toEqual(["beats=71", "hr=73"]);
  });
});

describe("keyed rows", () => {
  interface Row { key: number; value: string; updates: number; update(v: { i: number; s: string }): void }
  const make = (v: { i: number; s: string }): Row => {
    const row: Row = { key: v.i, value: v.s, updates: 0, update: (n) => { row.value = n.s; row.updates++; } };
    return row;
  };
  it("keeps the rows of beats still listed, updates them, adds and drops the rest", () => {
    const first = keyedRows<{ i: number; s: string }, Row>([], [{ i: 1, s: "a" }, { i: 2, s: "b" }, { i: 3, s: "c" }], (v) => v.i, make);
    const second = keyedRows(first, [{ i: 2, s: "b" }, { i: 3, s: "C" }, { i: 4, s: "d" }], (v) => v.i, make);
    expect(second.map((r) => [r.key, r.value])).toEqual([[2, "b"], [3, "C"], [4, "d"]]);
    expect([second[0] === first[1], second[1] === first[2], first.includes(second[2])]).toEqual([true, true, false]);
    expect(second.map((r) => r.updates)).toEqual([1, 1, 0]);
  });
});
