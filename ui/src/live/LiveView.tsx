// Live (Solid): the running session or the monitored source — heart rate and zone, link/contact/battery/
// quality chips, RMSSD, DFA α1, the charts (LiveCharts), alerts and tags. The numbers are one signal per
// displayed quantity (createFields), set once per animation frame: a channel message rewrites only the
// text whose value changed, and the controls re-render only when the session's state does.
import { createEffect, createSignal, For, Match, on, onCleanup, Show, Switch, type Accessor, type JSX } from "solid-js";
import { render } from "solid-js/web";
import { errorText, type LiveStarted, type SessionKind, type SourceChoice } from "../ipc";
import { liveState, liveTick, monitor, startLive, stopLive, stopMonitor, tagLive } from "../liveModel";
import { rrUnit, settings, source } from "../state";
import { simulatedBadge } from "../shell";
import { formatDuration, formatNumber, formatSessionTime } from "../format";
import { LIVE_KINDS, SESSION_KIND_NAMES } from "../names";
import { spinner } from "../views/common";
import { record } from "../perf";
import { AlertList } from "./alerts";
import { LiveCharts } from "./LiveCharts";
import { createFields } from "./fields";
import { fromStore } from "./fromStore";
import { AEROBIC_THRESHOLD_DFA, dfaNote, gaugeX, GAUGE_WIDTH, liveNotice, liveReadout, liveSourceLine, type LiveReadout } from "./readout";
import { browserClock, FrameThrottle } from "./throttle";

const QUICK_TAGS = ["alcohol", "hard training", "sick", "caffeine", "poor sleep"];

/** Mounts the view into `root`; returns the unmount the shell's router calls on a route change. */
export function mountLive(root: HTMLElement): () => void {
  return render(() => <LiveView />, root);
}

/** The numbers, recomputed once per animation frame after any change and set field by field. */
function createReadout(): LiveReadout {
  const compute = () => {
    const st = liveState.get();
    return liveReadout(st.last, st.started !== null, settings.get());
  };
  const [readout, setReadout] = createFields<LiveReadout>(compute());
  const numbers = new FrameThrottle(browserClock, () => 0, () => {
    const t0 = performance.now();
    setReadout(compute());
    record("draw", performance.now() - t0);
  });
  const stale = () => numbers.mark();
  const unsubscribe = [liveTick.subscribe(stale), liveState.subscribe(stale), settings.subscribe(stale)];
  onCleanup(() => {
    unsubscribe.forEach((u) => u());
    numbers.dispose();
  });
  return readout;
}

/** Start, Stop and the monitoring of the chosen source before Start, with the last action's error. */
function createSessionControls(started: Accessor<LiveStarted | null>, chosen: Accessor<SourceChoice | null>) {
  const [kind, setKind] = createSignal<SessionKind>("rest");
  const [pending, setPending] = createSignal<"start" | "stop" | null>(null);
  const [error, setError] = createSignal<string | null>(null);

  // The chosen source streams to this view before Start (nothing is stored); leaving the view or
  // choosing no source ends that. A running session is left alone.
  let disposed = false;
  const watchSource = () => {
    const s = source.get();
    if (disposed || liveState.get().started) return;
    (s ? monitor(s) : stopMonitor()).catch((e: unknown) => {
      if (!disposed) setError(errorText(e));
    });
  };
  createEffect(on(chosen, watchSource));
  onCleanup(() => {
    disposed = true;
    if (!liveState.get().started) void stopMonitor().catch(() => undefined);
  });

  const act = async (which: "start" | "stop", work: () => Promise<unknown>) => {
    setPending(which);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setPending(null);
    }
  };
  return {
    kind, setKind, pending, error,
    running: () => started() !== null,
    start: () => {
      const s = chosen();
      if (s) void act("start", () => startLive(s, kind()));
    },
    stop: () => void act("stop", stopLive).then(watchSource),
  };
}

type SessionControls = ReturnType<typeof createSessionControls>;

function LiveView(): JSX.Element {
  const started = fromStore(liveState, (s) => s.started);
  const monitoring = fromStore(liveState, (s) => s.monitoring);
  const reattached = fromStore(liveState, (s) => s.reattached);
  const saved = fromStore(liveState, (s) => s.saved);
  const alerts = fromStore(liveState, (s) => s.alerts);
  const tags = fromStore(liveState, (s) => s.tags);
  const chosen = fromStore(source, (s) => s);
  const readout = createReadout();
  const controls = createSessionControls(started, chosen);
  const showGauge = () => controls.kind() === "exercise" || started()?.kind === "exercise" || readout.dfa !== null;

  return (
    <div class="live">
      <div class="live-top">
        <SourceLine started={started} chosen={chosen} />
        <Chips readout={readout} />
        <Controls controls={controls} chosen={chosen} />
      </div>
      <div class="live-message">
        <Notice notice={() => liveNotice({ started: started(), monitoring: monitoring(), reattached: reattached() }, chosen())}
          session={() => started()?.session_id ?? null} />
        <Show when={controls.error()}>{(why) => <div class="note note-bad" role="alert">{why()}</div>}</Show>
      </div>
      <div>
        {/* Keyed: the note the person is reading (or a test holds) stays the same node until another session is saved. */}
        <Show when={saved()} keyed>{(s) => (
          <div class="note note-good" data-testid="session-saved" role="status">
            <strong>Session #{s.id} saved</strong>{` — ${s.beat_count} beats, ${formatDuration(s.duration_s)}. `}
            <a href={`#/history/${s.id}`}>Open in History →</a>
          </div>
        )}</Show>
      </div>
      <div class="live-grid">
        <Hero readout={readout} />
        <RmssdCard readout={readout} />
        <section class="card" hidden={!showGauge()}>
          <h2 class="card-title">DFA α1</h2>
          <DfaGauge alpha1={() => readout.dfa} />
        </section>
      </div>
      <LiveCharts unit={rrUnit()} />
      <div class="live-charts">
        <section class="card">
          <h2 class="card-title">Alerts</h2>
          <Show when={alerts().length === 0}><p class="muted">No alerts. Rules watch the session and report here.</p></Show>
          <AlertList alerts={alerts} />
        </section>
        <TagsCard running={controls.running} tags={tags} />
      </div>
    </div>
  );
}

function Chips(props: { readout: LiveReadout }): JSX.Element {
  const r = props.readout;
  return (
    <div class="chips">
      <span class={r.linkClass} data-testid="live-link">{r.link}</span>
      <span class={r.contactClass}>{r.contact}</span>
      <span class="chip">{r.battery}</span>
      <span class={r.qualityClass} title="Artifacts among all beats so far">{r.quality}</span>
    </div>
  );
}

function Controls(props: { controls: SessionControls; chosen: Accessor<SourceChoice | null> }): JSX.Element {
  const c = props.controls;
  return (
    <div class="live-controls">
      <label for="live-kind" class="sr-only">Kind</label>
      <select id="live-kind" aria-label="Session kind" disabled={c.running()}
        onChange={(e) => c.setKind(e.currentTarget.value as SessionKind)}>
        <For each={LIVE_KINDS}>{(k) => <option value={k} selected={k === c.kind()}>{SESSION_KIND_NAMES[k]}</option>}</For>
      </select>
      <button class="btn btn-primary btn-lg" data-testid="start-session" hidden={c.running()}
        disabled={!props.chosen() || c.pending() !== null} aria-busy={c.pending() === "start" ? "true" : undefined} onClick={c.start}>
        {c.pending() === "start" ? spinner("Starting") : null} ▶ Start session
      </button>
      <button class="btn btn-danger btn-lg" data-testid="stop-session" hidden={!c.running()}
        disabled={c.pending() !== null} aria-busy={c.pending() === "stop" ? "true" : undefined} onClick={c.stop}>
        {c.pending() === "stop" ? spinner("Saving") : null} ■ Stop &amp; save
      </button>
    </div>
  );
}

/** Names the source; simulated data always carries the "Simulated strap" badge. */
function SourceLine(props: { started: Accessor<LiveStarted | null>; chosen: Accessor<SourceChoice | null> }): JSX.Element {
  const line = () => liveSourceLine({ started: props.started() }, props.chosen());
  return (
    <div class="live-source" data-testid="live-source-label">
      <Show when={line().simulated}>{simulatedBadge()}</Show>
      <span class="live-source-text">{line().text}</span>
    </div>
  );
}

function Notice(props: { notice: Accessor<ReturnType<typeof liveNotice>>; session: Accessor<number | null> }): JSX.Element {
  return (
    <Switch>
      <Match when={props.notice() === "choose-source"}>
        <div class="note">Choose a strap or the simulator first. <a href="#/pair">Go to Pair →</a></div>
      </Match>
      <Match when={props.notice() === "monitoring"}>
        <div class="note" data-testid="live-monitoring" role="status">Showing the heart live — nothing is recorded until you press Start session.</div>
      </Match>
      <Match when={props.notice() === "reattached"}>
        <div class="note">Session #{props.session()} was already running when this window reloaded. Charts show the beats from the reload on; the saved session keeps every beat.</div>
      </Match>
    </Switch>
  );
}

function Hero(props: { readout: LiveReadout }): JSX.Element {
  const r = props.readout;
  return (
    <section class="card hero">
      <div class="hr">
        <span class="hr-heart" aria-hidden="true">♥</span>
        <span class="hr-value" data-testid="live-hr">{r.hr}</span>
        <span class="hr-unit">bpm</span>
      </div>
      <span class={r.zoneClass}>{r.zone}</span>
      <div class="hero-foot">
        <span>Time <span class="mono">{r.time}</span></span>
        <span>Beats <span class="mono" data-testid="live-beats-total">{r.beats}</span></span>
      </div>
    </section>
  );
}

function RmssdCard(props: { readout: LiveReadout }): JSX.Element {
  const r = props.readout;
  return (
    <section class="card">
      <h2 class="card-title">RMSSD</h2>
      <div class="pair-nums">
        <div><span class="big-num" data-testid="live-rmssd-60">{r.rmssd60}</span><span class="stat-unit">ms</span><div class="muted small">last 60 s</div></div>
        <div><span class="big-num" data-testid="live-rmssd-5m">{r.rmssd5m}</span><span class="stat-unit">ms</span><div class="muted small">last 5 min</div></div>
      </div>
      <div class="pair-nums small-row">
        <div><span class="muted small">ln RMSSD </span><span class="mid-num">{r.lnRmssd}</span></div>
        <div><span class="muted small">SDNN 60 s </span><span class="mid-num">{r.sdnn}</span></div>
      </div>
    </section>
  );
}

function DfaGauge(props: { alpha1: Accessor<number | null> }): JSX.Element {
  const at = (v: number) => gaugeX(v);
  return (
    <div class="gauge-wrap">
      <div class="gauge-top">
        <span class="gauge-value">{formatNumber(props.alpha1(), 2)}</span>
        <span class="muted small">{dfaNote(props.alpha1())}</span>
      </div>
      <svg viewBox={`0 -4 ${GAUGE_WIDTH} 44`} class="gauge" role="img" aria-label="DFA alpha 1 gauge">
        <rect x={0} y={8} width={at(0.5)} height={12} class="gz gz-high" rx={3} />
        <rect x={at(0.5)} y={8} width={at(0.75) - at(0.5)} height={12} class="gz gz-mid" />
        <rect x={at(0.75)} y={8} width={GAUGE_WIDTH - at(0.75)} height={12} class="gz gz-low" rx={3} />
        <line x1={at(AEROBIC_THRESHOLD_DFA)} x2={at(AEROBIC_THRESHOLD_DFA)} y1={2} y2={26} class="gauge-threshold" />
        <text x={at(AEROBIC_THRESHOLD_DFA)} y={38} text-anchor="middle" class="gauge-label">aerobic threshold 0.75</text>
        <text x={2} y={38} class="gauge-label">0.25</text>
        <text x={GAUGE_WIDTH - 2} y={38} text-anchor="end" class="gauge-label">1.75</text>
        <circle cx={gaugeX(props.alpha1() ?? 0)} cy={14} r={7} class="gauge-marker" display={props.alpha1() === null ? "none" : undefined} />
      </svg>
    </div>
  );
}

function TagsCard(props: { running: Accessor<boolean>; tags: Accessor<readonly { tag: string; atMs: number }[]> }): JSX.Element {
  const [text, setText] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const tag = async (raw: string) => {
    const t = raw.trim();
    if (!t) return;
    try {
      await tagLive(t);
      setText("");
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <section class="card">
      <h2 class="card-title">Tags</h2>
      <div class="form-row">
        <input type="text" data-testid="tag-input" placeholder="Add a tag…" id="tag-input" aria-label="Tag"
          disabled={!props.running()} value={text()} onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === "Enter") void tag(text()); }} />
        <button class="btn" data-testid="tag-button" disabled={!props.running()} onClick={() => void tag(text())}>Tag</button>
      </div>
      <div class="quick-tags">
        <For each={QUICK_TAGS}>{(t) => <button class="btn btn-chip" onClick={() => void tag(t)}>{t}</button>}</For>
      </div>
      <div class="small"><Show when={error()}>{(why) => <div class="note note-bad" role="alert">{why()}</div>}</Show></div>
      <div class="tags">
        <For each={props.tags()}>{(tg) => <span class="tag">{tg.tag}<span class="muted small">{` ${formatSessionTime(tg.atMs)}`}</span></span>}</For>
      </div>
    </section>
  );
}
