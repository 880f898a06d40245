// The live source and session, kept outside any view so leaving Live does not lose beats: the
// Channel feeds rings (up to six hours of beats) and views subscribe to redraw. Before a session
// starts the chosen source is monitored (heart rate and beats stream, nothing is stored); Start
// records on the same connection, and Stop goes back to monitoring.
import { call, newChannel, toFailure, type Alert, type LiveStarted, type LiveUpdate, type Monitor, type SessionKind, type SessionSummary, type SourceChoice } from "./ipc";
import { BeatSeries, SampledSeries } from "./series";
import { Store } from "./state";
import { record } from "./perf";

export interface LiveState {
  started: LiveStarted | null;
  /** The source streaming while no session records. */
  monitoring: Monitor | null;
  /** True when the session was found running after a reload and this window re-attached to it:
   * updates flow again, but the beats from before the reload are not replayed (the stored session
   * keeps them all). */
  reattached: boolean;
  last: LiveUpdate | null;
  alerts: Alert[];
  tags: { tag: string; atMs: number }[];
  saved: SessionSummary | null;
  error: string | null;
}

export const beats = new BeatSeries();
/** Rolling RMSSD 60 s, 5 min and DFA α1, one sample per second of session time for six hours. */
export const rolling = new SampledSeries(6 * 3600, 3, 1000);

export const liveState = new Store<LiveState>({
  started: null, monitoring: null, reattached: false, last: null, alerts: [], tags: [], saved: null, error: null,
});

/** The session whose beats the rings hold (null: a monitored source's). Session time and beat indices
 * start again at Start and after Stop, so a change of stream empties the rings. */
let stream: number | null = null;
/** Between pressing Start and the recording's first update, monitoring updates still in flight are
 * dropped: they belong to the stream that is ending. */
let starting = false;

function clearRings(next: number | null): void {
  beats.clear();
  rolling.clear();
  stream = next;
}

/** Fired on every channel message (views coalesce their redraws to animation frames). */
export const liveTick = new Store<number>(0);

function patch(p: Partial<LiveState>): void {
  liveState.set({ ...liveState.get(), ...p });
}

export function onUpdate(u: LiveUpdate): void {
  const t0 = performance.now();
  onUpdateUntimed(u);
  record("update", performance.now() - t0);
}

function onUpdateUntimed(u: LiveUpdate): void {
  const st = liveState.get();
  if (st.started && u.session_id !== null && u.session_id !== st.started.session_id) return;
  if (starting && u.session_id === null) return;
  if (u.session_id !== null) starting = false;
  if (u.session_id !== stream) clearRings(u.session_id);
  beats.append(u.beats);
  beats.revise(u.corrections, u.confirmed_through);
  rolling.offer(u.at_ms, [u.metrics.rmssd_60s, u.metrics.rmssd_5m, u.metrics.dfa_alpha1]);
  const alerts = u.alerts.length ? [...u.alerts.slice().reverse(), ...st.alerts] : st.alerts;
  patch({ last: u, alerts });
  liveTick.set(liveTick.get() + 1);
}

export async function startLive(source: SourceChoice, kind: SessionKind): Promise<void> {
  clearRings(null);
  starting = true;
  patch({ started: null, reattached: false, last: null, alerts: [], tags: [], saved: null, error: null });
  const ch = newChannel<LiveUpdate>(onUpdate);
  try {
    const started = await call("startLive", source, kind, ch);
    patch({ started, monitoring: null });
  } finally {
    starting = false;
  }
}

/** Stops and saves the session; the app goes back to monitoring its source, which `monitor`
 * re-attaches to. */
export async function stopLive(): Promise<SessionSummary> {
  const saved = await call("stopLive");
  patch({ started: null, reattached: false, saved });
  return saved;
}

/** Streams `source` to this window while no session records (re-attaching when it already streams). */
export async function monitor(source: SourceChoice): Promise<void> {
  if (liveState.get().started) return;
  clearRings(null);
  const ch = newChannel<LiveUpdate>(onUpdate);
  const monitoring = await call("monitorLive", source, ch);
  patch({ monitoring });
}

/** Ends monitoring (the window leaves Live, or no source is chosen); a recording keeps running. */
export async function stopMonitor(): Promise<void> {
  if (liveState.get().started) return;
  await call("stopMonitor");
  patch({ monitoring: null, last: null });
  clearRings(null);
}

export async function tagLive(tag: string): Promise<void> {
  await call("tagLive", tag);
  const st = liveState.get();
  patch({ tags: [...st.tags, { tag, atMs: st.last?.at_ms ?? 0 }] });
}

/** Picks up a session that was running before the window reloaded and re-attaches this window
 * to its updates. The session may end between the two calls: then there is nothing to show. */
export async function adoptRunning(): Promise<void> {
  const running = await call("liveStatus");
  if (!running || liveState.get().started) return;
  const ch = newChannel<LiveUpdate>(onUpdate);
  try {
    const started = await call("watchLive", ch);
    if (!liveState.get().started) patch({ started, reattached: true });
  } catch (e) {
    if (toFailure(e).code !== "no_live_session") throw e;
  }
}

export function isRunning(): boolean {
  return liveState.get().started !== null;
}
