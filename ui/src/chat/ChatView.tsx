// The chat window (Solid): the conversation list with search, the messages of the chosen branch, each
// answer with its specialist, steps, claims and cost, and the composer. Streaming text is applied once per
// animation frame, and only the markdown block being written is rebuilt.
import { batch, createEffect, createMemo, createResource, createSignal, For, on, onCleanup, onMount, Show, type JSX } from "solid-js";
import { render } from "solid-js/web";
import type { ChatBackend, ChatStatus, ConversationSummary, SearchHit, StoredMessage } from "./backend";
import { countOccurrences, splitBlocks, toDom, toSafeNodes, type ClaimMark } from "./markdown";
import { MemoryPanel } from "./MemoryPanel";
import { ProviderChips } from "./ProviderStatus";
import { ConversationActions } from "./ConversationActions";
import { AnswerChart } from "./AnswerChart";
import { answerCharts } from "./answerCharts";
import { isNew, markNew, markSeen } from "./proactive";
import { emptyUsage, formatContext, formatCost, formatTokens, guardOfSteps, latestContext, newFlow, newTurn, shownChars, SPECIALIST_NAMES, stepFlow, type ChatEvent, type FlowInput, type GuardKind, type Step, type TurnFlow, type TurnView, type Usage } from "./turn";
import { AI_SETTINGS_ROUTE } from "./waysOn";
import type { ChatRoute } from "./route";

/** The ways on a budget refusal offers a turn: ask again (the offline analyst answers), or ask the refused
 * question again on the local alias (when one is set up) — for that turn only: the saved default model stays,
 * and a later refusal offers the way again. */
interface WaysOn {
  local: string | null;
  retry: () => void;
  useLocal: (alias: string) => void;
}

/** The latest messages drawn when a conversation opens, and how many more each "Show earlier" adds: a
 * long conversation would otherwise keep every message's DOM and layout alive in the web process. */
export const MESSAGE_WINDOW = 40;

/** Mounts the chat into `root` on `route` (a conversation, the memory panel on a memory); returns the
 * unmount function the shell's router calls. */
export function mountChat(root: HTMLElement, backend: ChatBackend, route: ChatRoute): () => void {
  return render(() => <ChatView backend={backend} route={route} />, root);
}

function ChatView(props: { backend: ChatBackend; route: ChatRoute }): JSX.Element {
  const b = props.backend;
  const [current, setCurrent] = createSignal<number | null>(props.route.conversation);
  const [leaf, setLeaf] = createSignal<number | null>(null);
  const [list, { refetch: refetchList, mutate: setList }] = createResource(() => b.conversations());
  const [status, { refetch: refetchStatus }] = createResource(() => b.status());
  // The local alias a budget refusal offers; a settings file that cannot be read offers none.
  const [localModel] = createResource(() => b.localModel().catch(() => null));
  const [messages, { mutate: setMessages }] = createResource(
    () => [current(), leaf()] as const,
    ([c, l]) => (c === null ? Promise.resolve([] as StoredMessage[]) : b.messages(c, l)),
  );
  // A conversation or branch opened anew shows its latest messages; earlier ones are drawn on request.
  const [windowSize, setWindowSize] = createSignal(MESSAGE_WINDOW);
  createEffect(on([current, leaf], () => setWindowSize(MESSAGE_WINDOW)));
  const shown = createMemo(() => {
    const all = messages() ?? [];
    return all.slice(Math.max(0, all.length - windowSize()));
  });
  const earlier = () => (messages()?.length ?? 0) - shown().length;
  // The live turn: `seq` tags its events (each `send` gets the next one), so a turn that is no longer the
  // live one — its events or its Stop's answer arriving late — changes nothing on screen. `end` is its
  // flow's: whether its last event is drawn (the status alone cannot say: a stopped turn awaits its done).
  const [live, setLive] = createSignal<{ question: string; turn: TurnView; end: TurnFlow["end"]; id: number | null; seq: number } | null>(null);
  let seq = 0;
  const [failed, setFailed] = createSignal<TurnView | null>(null);
  const open = (conversation: number | null, at: number | null) => {
    setFailed(null);
    setCurrent(conversation);
    setLeaf(at);
  };
  const [hits, setHits] = createSignal<SearchHit[] | null>(null);
  // Conversations a proactive message opened while this view was up, not opened since: marked new.
  const [fresh, setFresh] = createSignal<ReadonlySet<number>>(new Set());
  const unwatch = b.watchProactive((notice) => {
    setFresh((f) => markNew(f, notice));
    void refetchList();
  });
  onCleanup(unwatch);
  createEffect(on(current, (c) => { if (c !== null) setFresh((f) => markSeen(f, c)); }));
  // A memory link opens the panel on its memory.
  const [memoryOpen, setMemoryOpen] = createSignal(props.route.memory !== null);
  let searchInput: HTMLInputElement | undefined;

  // Events are queued and folded once per frame: a burst of deltas costs one render. What is queued, held
  // and drawn is decided by `stepFlow` (turn.ts); this schedules frames and calls.
  let flow = newFlow();
  let frame = 0;
  const step = (input: FlowInput) => {
    const was = flow.end;
    const before = flow.turn;
    flow = stepFlow(flow, input);
    // Only a new turn or end re-renders: an event that was only queued leaves it as it was.
    if (flow.turn !== before || flow.end !== was) setLive((l) => (l ? { ...l, turn: flow.turn, end: flow.end } : l));
    if (was === "running" && flow.end !== "running") void finishTurn(flow.end === "failed");
  };
  const flush = () => {
    frame = 0;
    step({ kind: "frame" });
  };
  const dropFrame = () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
  };
  const drawNow = () => {
    dropFrame();
    flush();
  };
  const onEvent = (tag: number, ev: ChatEvent) => {
    if (live()?.seq !== tag) return;
    const first = ev.type === "text" && flow.turn.text === "" && flow.held === null;
    step({ kind: "event", event: ev });
    if (flow.held) return;
    // The answer's first text goes into the DOM as it arrives instead of in the next frame's callback.
    // The same frame paints it either way; but a frame callback requested on seeing it (the desktop bench's
    // first-text watch) ran one frame after the painting one, overstating the time by a frame.
    if (first) drawNow();
    else if (!frame) frame = requestAnimationFrame(flush);
  };
  const finishTurn = async (failure = false) => {
    const ended = live()?.seq;
    // The list (with what the conversation cost) and the messages are read first and replace the live turn
    // together: no frame shows the turn twice (stored and live) or counts it in the meter twice.
    const c = current();
    const [conversations, stored] = await Promise.all([
      b.conversations(), c === null ? Promise.resolve([]) : b.messages(c, leaf()), refetchStatus(),
    ]);
    if (live()?.seq !== ended) return;
    batch(() => {
      setList(conversations);
      setMessages(stored);
      setFailed(failure ? (live()?.turn ?? null) : null);
      setLive(null);
    });
  };

  // The question of the latest send: a failed turn's ways on ask it again.
  let lastQuestion = "";
  const send = async (text: string, replaces: number | null, model: string | null = null) => {
    if (!text.trim() || live()) return;
    lastQuestion = text;
    setFailed(null);
    const tag = ++seq;
    dropFrame();
    flow = newFlow();
    setLive({ question: text, turn: flow.turn, end: flow.end, id: null, seq: tag });
    try {
      const started = await b.send({ conversation: current(), text, replaces, model }, (ev) => onEvent(tag, ev));
      if (live()?.seq === tag) {
        setLive((l) => (l ? { ...l, id: started.turn } : l));
        // Stop pressed before the turn had an id: cancel it now, with what was drawn (frozen since).
        if (flow.held) cancel(tag, started.turn, shownChars(flow.turn.text));
      }
      if (current() !== started.conversation) setCurrent(started.conversation);
      // The new branch becomes the one shown once it is stored.
      setLeaf(null);
    } catch (e) {
      if (live()?.seq === tag) step({ kind: "send_failed", message: String(e) });
    }
  };
  // The turn answered the Stop (or the call failed: the turn runs on, and its own end ends it).
  const cancel = (tag: number, turn: number, shown: number) => {
    const answered = (input: FlowInput) => {
      if (live()?.seq !== tag) return;
      dropFrame();
      step(input);
    };
    b.cancel(turn, shown).then(
      (outcome) => answered({ kind: "answer", outcome }),
      () => answered({ kind: "cancel_failed" }),
    );
  };
  const stop = () => {
    const l = live();
    // Already stopped: the first Stop's count stands, and its answer is awaited.
    if (!l || flow.held) return;
    // The text freezes as drawn. Text received but waiting for the next frame is not drawn: it is held
    // with the rest of the queue until the turn answers, and the turn is told how much was drawn: it
    // stores exactly that, not the text still in transit. The turn still ends with its `done` event (the
    // stored answer is the drawn text, or the whole answer when the Stop came too late): finishing here
    // would swap the frozen text for a list read before the answer is stored.
    step({ kind: "stop" });
    if (!flow.held) return;
    dropFrame();
    if (l.id !== null) cancel(l.seq, l.id, shownChars(flow.turn.text));
  };

  const keys = (e: KeyboardEvent) => {
    if (e.key === "Escape") stop();
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
      e.preventDefault();
      searchInput?.focus();
    }
  };
  onMount(() => document.addEventListener("keydown", keys));
  onCleanup(() => {
    document.removeEventListener("keydown", keys);
    dropFrame();
  });

  // The conversation's meter: what it cost, every branch included, as Rust sums it (the list shows the same
  // figure); the live turn's own figure beside it until the stored turn replaces it (a failed turn was not
  // stored, and is not shown as part of the conversation). The context is the latest shown turn's.
  const spent = () => list()?.find((c) => c.id === current())?.spent ?? ZERO_SPENT;
  const under = () => {
    const l = live();
    return l && l.end !== "failed" ? l.turn.usage : null;
  };
  const context = createMemo(() => {
    const usages: Usage[] = shown().flatMap((m) => (m.usage ? [m.usage] : []));
    const turn = under();
    if (turn) usages.push(turn);
    return latestContext(usages);
  });
  // The refused question again on the local alias: this turn only (Settings → AI's default is not touched).
  const useLocal = (alias: string, question: string, replaces: number | null) => void send(question, replaces, alias);
  const regenerate = (m: StoredMessage) => {
    const question = (messages() ?? []).find((x) => x.id === m.parent_id);
    if (question) void send(question.text, question.id);
  };
  const storedWays = (m: StoredMessage): WaysOn => ({
    local: localModel() ?? null,
    retry: () => regenerate(m),
    useLocal: (alias) => {
      const question = (messages() ?? []).find((x) => x.id === m.parent_id);
      if (question) void useLocal(alias, question.text, question.id);
    },
  });
  const failedWays = (): WaysOn => ({
    local: localModel() ?? null,
    retry: () => void send(lastQuestion, null),
    useLocal: (alias) => void useLocal(alias, lastQuestion, null),
  });

  return (
    <div class="chat" classList={{ "chat-with-memory": memoryOpen() }} data-testid="chat">
      <aside class="chat-list card">
        <button class="btn btn-primary" data-testid="chat-new" onClick={() => open(null, null)}>New conversation</button>
        <input ref={searchInput} class="wide" type="search" placeholder="Search messages (Ctrl+K)" data-testid="chat-search"
          onInput={async (e) => { const q = e.currentTarget.value.trim(); setHits(q ? await b.search(q) : null); }} />
        <Show when={hits()} fallback={
          <ul class="chat-conversations">
            <For each={list() ?? []}>{(c) => (
              <li classList={{ active: c.id === current(), "chat-new": isNew(fresh(), c.id, current()) }} data-testid="chat-conversation" data-id={c.id}
                data-new={String(isNew(fresh(), c.id, current()))}>
                <a href={`#/chat/${c.id}`} onClick={(e) => { e.preventDefault(); open(c.id, null); }}>{c.title}</a>
                <Show when={isNew(fresh(), c.id, current())}><span class="badge" data-testid="chat-new-badge">New</span></Show>
                <span class="muted small" data-testid="chat-conversation-cost" title={SPENT_TITLE}>{formatCost(c.spent, false, false)}</span>
                <ConversationActions backend={b} id={c.id} title={c.title} renamed={() => void refetchList()}
                  removed={() => { void refetchList(); setFresh((f) => markSeen(f, c.id)); if (current() === c.id) open(null, null); }} />
              </li>)}
            </For>
          </ul>}>
          {(found) => (
            <ul class="chat-hits" data-testid="chat-hits">
              <For each={found()}>{(hit) => (
                <li data-testid="chat-hit" data-conversation={hit.conversation} data-message={hit.message}><a href={`#/chat/${hit.conversation}`} onClick={(e) => { e.preventDefault(); open(hit.conversation, hit.message); setHits(null); }}>
                  <strong>{hit.title}</strong> <span class="muted small">{hit.snippet}</span></a></li>)}
              </For>
            </ul>)}
        </Show>
      </aside>
      <section class="chat-main">
        <StatusBar backend={b} status={status()} spent={spent()} under={under()} context={context()} onToggleMemory={() => setMemoryOpen((o) => !o)} />
        <div class="chat-messages" data-testid="chat-messages" data-messages={messages()?.length ?? 0}>
          <Show when={earlier() > 0}>
            <button class="btn btn-chip" style={{ "align-self": "center" }} data-testid="chat-earlier" onClick={() => setWindowSize((n) => n + MESSAGE_WINDOW)}>
              Show {Math.min(earlier(), MESSAGE_WINDOW)} earlier messages ({earlier()} not shown)</button>
          </Show>
          <For each={shown()}>{(m) => (
            <MessageView message={m} onBranch={(id) => open(current(), id)} onEdit={(text) => void send(text, m.id)}
              onRegenerate={() => regenerate(m)} ways={storedWays(m)} />)}
          </For>
          <Show when={live()}>{(l) => (
            <>
              <div class="msg msg-user">{l().question}</div>
              <TurnBlock turn={l().turn} local={status()?.local_model ?? false} />
            </>)}
          </Show>
          <Show when={failed()}>{(t) => (
            <div data-testid="turn-failed"><TurnBlock turn={t()} local={status()?.local_model ?? false} ways={failedWays()} /></div>)}
          </Show>
        </div>
        <Composer busy={live() !== null} onSend={(t) => void send(t, null)} onStop={stop} />
      </section>
      <Show when={memoryOpen()}><MemoryPanel backend={b.memory} focus={props.route.memory} /></Show>
    </div>
  );
}

/** A conversation with nothing spent yet (a new one, before its first answer is stored). */
const ZERO_SPENT: Usage = { ...emptyUsage(), estimated: false };

/** What the conversation's figure counts, said where it is shown. */
const SPENT_TITLE = "Everything this conversation cost: every answer of every branch, abandoned ones included";

function StatusBar(props: {
  backend: ChatBackend; status: ChatStatus | undefined; spent: Usage; under: Usage | null; context: Usage | null; onToggleMemory: () => void;
}): JSX.Element {
  const money = (v: number | null | undefined) => (v === null || v === undefined ? "no budget" : `$${v.toFixed(2)} left`);
  return (
    <div class="chat-status muted small" data-testid="chat-status">
      <Show when={props.status?.offline_reason}>{(why) => <span class="chip chip-low" data-testid="offline-status">Offline analyst: {why()}</span>}</Show>
      <ProviderChips backend={props.backend} status={props.status} />
      <span data-testid="budget-day">Today: {money(props.status?.day_left_usd)}</span>
      <span data-testid="budget-month">Month: {money(props.status?.month_left_usd)}</span>
      <button class="btn btn-chip" data-testid="memory-toggle" onClick={() => props.onToggleMemory()}>What Auren knows</button>
      <a class="btn btn-chip" href="#/settings/ai" data-testid="ai-settings-link">AI settings</a>
      <span data-testid="conversation-cost" title={SPENT_TITLE}>Conversation, all branches: {formatTokens(props.spent)} · {formatCost(props.spent, false, false)}</span>
      <Show when={props.under}>{(turn) => (
        <span data-testid="conversation-live">+ this turn {formatCost(turn(), props.status?.local_model ?? false, true)}</span>)}
      </Show>
      <Show when={props.context && formatContext(props.context)}>{(ctx) => <span data-testid="conversation-context">{ctx()}</span>}</Show>
    </div>
  );
}

function MessageView(props: { message: StoredMessage; onBranch: (id: number) => void; onEdit: (text: string) => void; onRegenerate: () => void; ways: WaysOn }): JSX.Element {
  const m = props.message;
  const [editing, setEditing] = createSignal(false);
  const index = m.siblings.indexOf(m.id);
  const branches = (
    <Show when={m.siblings.length > 1}>
      <span class="chat-branches" data-testid="branch-switch">
        <button class="btn btn-chip" disabled={index <= 0} onClick={() => props.onBranch(m.siblings[index - 1])}>‹</button>
        {index + 1}/{m.siblings.length}
        <button class="btn btn-chip" disabled={index >= m.siblings.length - 1} onClick={() => props.onBranch(m.siblings[index + 1])}>›</button>
      </span>
    </Show>
  );
  if (m.role === "user") {
    return (
      <div class="msg msg-user" data-testid="msg-user" data-id={m.id}>
        <Show when={editing()} fallback={<>{m.text} <button class="btn btn-chip" data-testid="msg-edit" onClick={() => setEditing(true)}>Edit</button>{branches}</>}>
          <Composer busy={false} initial={m.text} onSend={(t) => { setEditing(false); props.onEdit(t); }} onStop={() => setEditing(false)} />
        </Show>
      </div>
    );
  }
  const turn: TurnView = {
    ...newTurn(), specialist: m.specialist, steps: m.steps, text: m.text, claims: m.claims, offline: m.offline,
    usage: m.usage ?? newTurn().usage, status: "done", guard: guardOfSteps(m.steps),
  };
  return (
    <div data-testid="msg-assistant" data-id={m.id}>
      <TurnBlock turn={turn} local={m.model === null} model={m.model} ways={props.ways} />
      <span class="msg-tools">
        {/* A message the coach wrote on its own (no question before it) has nothing to regenerate from. */}
        <Show when={m.parent_id !== null}>
          <button class="btn btn-chip" data-testid="msg-regenerate" onClick={() => props.onRegenerate()}>Regenerate</button>
        </Show>{branches}
      </span>
    </div>
  );
}

function TurnBlock(props: { turn: TurnView; local: boolean; model?: string | null; ways?: WaysOn }): JSX.Element {
  const t = () => props.turn;
  // Live: the turn's cancel guard came; stored: the turn ended on it. Not while the Stop awaits that guard:
  // it may come too late, or cut nothing, and the answer is then drawn to its end.
  const stopped = () => t().status === "stopped" || (t().status !== "stopping" && t().guard?.guard === "cancelled");
  return (
    <div class="msg msg-assistant" data-status={t().status}>
      <div class="msg-head">
        <Show when={t().specialist}>{(s) => <span class="badge" data-testid="specialist-badge" data-specialist={s()}>{SPECIALIST_NAMES[s()]}</span>}</Show>
        <Show when={t().offline}><span class="badge badge-warn" data-testid="offline-badge">Offline · from your data, no model</span></Show>
        <span class="muted small" data-testid="turn-cost">{formatTokens(t().usage)} · {formatCost(t().usage, props.local, t().status === "streaming" || t().status === "stopping")}</span>
        <Show when={formatContext(t().usage)}>{(ctx) => <span class="muted small" data-testid="turn-context">{ctx()}</span>}</Show>
      </div>
      <Show when={t().steps.length > 0}>
        <details class="msg-steps" data-testid="turn-steps"><summary>{t().steps.length} steps</summary>
          <For each={t().steps}>{(s) => <StepView step={s} />}</For>
        </details>
      </Show>
      <Answer text={t().text} claims={t().claims} />
      <For each={answerCharts(t().steps)}>{(c) => <AnswerChart data={c} />}</For>
      <Show when={t().guard?.guard !== "cancelled" && t().guard}>{(g) => <GuardNote guard={g().guard} message={g().message} ways={props.ways} />}</Show>
      <Show when={t().error}>{(e) => <BudgetOrError code={e().code} message={e().message} ways={props.ways} />}</Show>
      <Show when={t().status === "stopping"}><div class="muted small" data-testid="turn-stopping">Stopping…</div></Show>
      {/* Stopped before any answer was shown: the offline analyst's answer is the turn's. Not "the model's":
          a turn offline from the start (no provider) had none. */}
      <Show when={stopped()}><div class="muted small" data-testid="turn-stopped">
        {t().offline ? STOPPED_OFFLINE : "Stopped."}</div></Show>
    </div>
  );
}

/** A stopped turn whose stored answer is the offline analyst's: whether a model was asked or not. */
const STOPPED_OFFLINE = "Stopped before any answer was shown; the offline analyst answered from your data.";

/** Why the model stopped; a budget refusal also says that nothing was sent and offers the ways on. */
function GuardNote(props: { guard: GuardKind; message: string; ways?: WaysOn }): JSX.Element {
  return (
    <div class="note" data-testid="turn-guard" data-guard={props.guard}>
      {props.message}
      <Show when={props.guard === "budget"}>
        <div class="small">Nothing was sent to the model; the offline analyst answered from your data.</div>
        <WaysOnButtons ways={props.ways} answered />
      </Show>
    </div>
  );
}

function BudgetOrError(props: { code: string; message: string; ways?: WaysOn }): JSX.Element {
  return (
    <div class="note note-bad" data-testid="turn-error" data-code={props.code}>
      {props.message}
      <Show when={props.code === "budget_exceeded"}>
        <div class="small">Nothing was sent.</div>
        <WaysOnButtons ways={props.ways} answered={false} />
      </Show>
    </div>
  );
}

/** The three ways on after a budget refusal, as buttons: keep the offline analyst's answer (or, when none
 * was given, ask again for it), switch to the local alias (only when one is set up), raise the budget in
 * Settings → AI. */
function WaysOnButtons(props: { ways: WaysOn | undefined; answered: boolean }): JSX.Element {
  const [kept, setKept] = createSignal(false);
  const offline = () => {
    if (props.answered) setKept(true);
    else props.ways?.retry();
  };
  return (
    <div class="small chat-ways" data-testid="budget-ways">
      <Show when={!kept()} fallback={<span data-testid="way-kept">Kept the offline analyst's answer.</span>}>
        <button class="btn btn-chip" data-testid="way-offline" onClick={offline}>
          {props.answered ? "Keep the offline answer" : "Answer offline"}</button>
        <Show when={props.ways?.local} fallback={<span class="muted" data-testid="way-no-local">No local model is set up</span>}>{(alias) => (
          <button class="btn btn-chip" data-testid="way-local" data-alias={alias()} onClick={() => props.ways?.useLocal(alias())}>
            Switch to the local model ({alias()})</button>)}
        </Show>
        <a class="btn btn-chip" data-testid="way-budget" href={AI_SETTINGS_ROUTE}>Settings → AI: raise the budget</a>
      </Show>
    </div>
  );
}

function StepView(props: { step: Step }): JSX.Element {
  const s = props.step;
  switch (s.kind) {
    case "handoff": return <div class="step" data-testid="step-handoff">→ {SPECIALIST_NAMES[s.to]}: {s.brief}</div>;
    case "tool": return (
      <div class="step" data-testid="step-tool" data-name={s.name}>
        <code>{s.name}({JSON.stringify(s.args)})</code>
        <span class="muted small"> {s.result_bytes === null ? "running…" : `${s.result_bytes} bytes`}</span>
      </div>);
    case "request": return (
      <details class="step" data-testid="step-request"><summary>Sent to {s.model}</summary><pre data-testid="step-request-body">{s.body}</pre></details>);
    case "other": return <div class="step muted small">{s.name}</div>;
  }
}

/** The answer, one DOM subtree per markdown block: while streaming only the last block's text changes, and
 * Solid's keyed <For> keeps every earlier block's nodes untouched (a block's text is its key). */
function Answer(props: { text: string; claims: ClaimMark[] }): JSX.Element {
  const blocks = createMemo(() => splitBlocks(props.text));
  // A claim is one occurrence of its text in the whole answer: each block marks only the claims whose
  // occurrence falls in it, counting on from the occurrences in the blocks before it.
  const before = createMemo(() => {
    const texts = [...new Set(props.claims.map((c) => c.text))];
    const running = new Map<string, number>(texts.map((t) => [t, 0]));
    return blocks().map((b) => {
      const snapshot = new Map(running);
      for (const [t, n] of countOccurrences(b, texts)) running.set(t, (running.get(t) ?? 0) + n);
      return snapshot;
    });
  });
  return (
    <div class="msg-text" data-testid="answer">
      <For each={blocks()}>{(block, i) => {
        const el = document.createElement("div");
        el.className = "md-block";
        // Re-run only when the claims arrive (after the text): the block's text never changes.
        createEffect(() => el.replaceChildren(...toDom(toSafeNodes(block, props.claims, props.claims.length ? before()[i()] : undefined))));
        return el;
      }}</For>
    </div>
  );
}

function Composer(props: { busy: boolean; initial?: string; onSend: (text: string) => void; onStop: () => void }): JSX.Element {
  let area: HTMLTextAreaElement | undefined;
  const submit = () => {
    if (!area || props.busy) return;
    const text = area.value;
    if (!text.trim()) return;
    area.value = "";
    props.onSend(text);
  };
  return (
    <div class="chat-composer">
      <textarea ref={area} rows={3} class="wide" data-testid="chat-input" placeholder="Ask about your heart… (Enter sends, Shift+Enter breaks the line)"
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); } }}>{props.initial ?? ""}</textarea>
      <Show when={props.busy} fallback={<button class="btn btn-primary" data-testid="chat-send" onClick={submit}>Send</button>}>
        <button class="btn" data-testid="chat-stop" onClick={() => props.onStop()}>Stop (Esc)</button>
      </Show>
    </div>
  );
}
