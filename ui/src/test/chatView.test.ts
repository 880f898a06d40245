// @vitest-environment happy-dom
// The chat view's Stop wiring, tested as a view: the real ChatView (mounted as the app mounts it) over a
// fake backend (the ChatBackend seam), with animation frames run by the test. What the pure `stepFlow`
// decides is tested in turn.test.ts; here, that the view feeds it — frames, the cancel call and its count,
// the held events, the turn's end and the reload — and draws what it returns.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountChat } from "../chat/ChatView";
import type { ChatBackend, ConversationSummary, SendRequest, StoredMessage, TurnStarted } from "../chat/backend";
import type { ClaimMark } from "../chat/markdown";
import type { Memory, MemoryBackend, MemoryPanelData } from "../chat/memory";
import type { ChatRoute } from "../chat/route";
import type { CancelOutcome, ChatEvent, Usage } from "../chat/turn";

const usage: Usage = { input_tokens: 12, output_tokens: 4, cost_usd: 0.0001, estimated: false, model_calls: 1 };
const QUESTION = "Write me a short note about recovery habits";
const cancelledGuard: ChatEvent = { type: "guard", guard: "cancelled", message: "the turn was cancelled" };
const claim62: ClaimMark = { text: "62 ms", grounded: true, route: "history/day/2026-11-30", receipt: "r-1" };

/** A promise the test settles. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** The backend the view talks to: the turn's events are sent by the test, each call is recorded, and
 * the cancel's answer and the reload after the turn's end wait for the test. */
class FakeBackend implements ChatBackend {
  onEvent: ((ev: ChatEvent) => void) | null = null;
  cancels: { turn: number; shown: number; answer: Deferred<CancelOutcome> }[] = [];
  /** What a reload reads: the stored conversation. */
  stored: StoredMessage[] = [];
  /** Reloads of the conversation wait here while set. */
  reloadGate: Deferred<void> | null = null;
  /** The local alias the AI settings name. */
  local: string | null = null;
  sent: SendRequest[] = [];
  /** What the list reads: the conversations with what each cost (Rust's sum). */
  listed: ConversationSummary[] = [];
  memory = new FakeMemory();

  send(req: SendRequest, onEvent: (ev: ChatEvent) => void): Promise<TurnStarted> {
    this.sent.push(req);
    this.onEvent = onEvent;
    return Promise.resolve({ turn: 1, conversation: 7 });
  }
  cancel(turn: number, shown: number): Promise<CancelOutcome> {
    const answer = deferred<CancelOutcome>();
    this.cancels.push({ turn, shown, answer });
    return answer.promise;
  }
  conversations = () => Promise.resolve(this.listed);
  async messages(): Promise<StoredMessage[]> {
    if (this.reloadGate) await this.reloadGate.promise;
    return this.stored;
  }
  rename = () => Promise.resolve();
  remove = () => Promise.resolve();
  exportConversation = () => Promise.resolve("");
  search = () => Promise.resolve([]);
  status = () => Promise.resolve({ providers: [], day_left_usd: null, month_left_usd: null, model: "smart", local_model: false, offline_reason: null });
  probe = () => this.status();
  watchProactive = () => () => undefined;
  localModel = () => Promise.resolve(this.local);

  emit(...events: ChatEvent[]): void {
    for (const ev of events) this.onEvent?.(ev);
  }
}

/** A memory as the panel lists it. */
function memory(id: number, text: string): Memory {
  return {
    id, kind: "fact", text, provenance: { kind: "person" }, importance: 0.5, importance_label: "medium", valid_from: "2026-11-20",
    valid_to: null, recorded: "2026-11-20", state: "active", superseded_by: null, supersede_reason: null, retracted: null, retract_reason: null,
  };
}

/** The memory panel's backend: the days it was asked for, and what it answers. */
class FakeMemory implements MemoryBackend {
  asked: (string | null)[] = [];
  memories: Memory[] = [memory(4, "works night shifts"), memory(5, "max HR 188 bpm in the spring test")];
  panel(asOf: string | null): Promise<MemoryPanelData> {
    this.asked.push(asOf);
    return Promise.resolve({ as_of: asOf ?? "2026-12-05", memories: this.memories, proposals: [], hypotheses: [] });
  }
  confirm = () => Promise.resolve();
  reject = () => Promise.resolve();
  edit = () => Promise.resolve();
  retract = () => Promise.resolve();
  forget = () => Promise.resolve();
}

/** The stored exchange a reload reads back. */
function storedTurn(answer: string, offline: boolean, guard: "cancelled" | null, claims: ClaimMark[] = []): StoredMessage[] {
  const base = { claims: [], siblings: [], model: offline ? null : "fake:m1", usage };
  return [
    { ...base, id: 1, parent_id: null, role: "user", text: QUESTION, specialist: null, offline: false, steps: [], siblings: [1], usage: null },
    {
      ...base, id: 2, parent_id: 1, role: "assistant", text: answer, specialist: offline ? "offline" : "coach", offline, siblings: [2], claims,
      steps: guard ? [{ kind: "other", name: "guard", payload: { guard, message: "the turn was cancelled" } }] : [],
    },
  ];
}

let frames: FrameRequestCallback[] = [];
let root: HTMLElement;
let unmount: () => void = () => undefined;
let backend: FakeBackend;

/** Runs the animation frames requested so far (the view draws queued events in them). */
function runFrames(): void {
  const due = frames;
  frames = [];
  for (const callback of due) callback(0);
}

/** Lets every pending promise callback run (the backend's answers, Solid's resources): a macrotask runs
 * only once the microtask queue is empty. Nothing here waits on time. */
const drained = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const $ = (testid: string) => root.querySelector<HTMLElement>(`[data-testid=${testid}]`);
/** The live turn's block (the last assistant block that is not a stored message). */
const live = () => {
  const blocks = Array.from(root.querySelectorAll<HTMLElement>(".chat-messages > .msg-assistant"));
  return blocks[blocks.length - 1] ?? null;
};
/** Text without its white space: markdown blocks are drawn as elements, so the line breaks between them
 * are not in the page's text. */
const flat = (text: string) => text.replace(/\s+/g, "");
/** An answer's text as drawn, flattened. */
const textOf = (el: Element | null | undefined) => {
  const text = el?.querySelector("[data-testid=answer]")?.textContent;
  return text === undefined || text === null ? null : flat(text);
};
const liveText = () => textOf(live());
/** An answer's claim marks as drawn: their text and where they link (null: not a link). */
const marksOf = (el: Element | null | undefined) =>
  Array.from(el?.querySelectorAll("[data-testid=answer] [data-testid=claim]") ?? []).map((m) => [m.textContent, m.getAttribute("href")]);
const liveHas = (testid: string) => live()?.querySelector(`[data-testid=${testid}]`) != null;

async function ask(): Promise<void> {
  const input = $("chat-input") as HTMLTextAreaElement;
  input.value = QUESTION;
  input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  await drained();
}

function pressStop(): void {
  const stop = $("chat-stop");
  if (!stop) throw new Error("no Stop button: no turn is live");
  stop.click();
}

beforeEach(async () => {
  frames = [];
  globalThis.requestAnimationFrame = (callback: FrameRequestCallback) => frames.push(callback);
  globalThis.cancelAnimationFrame = (id: number) => {
    if (id > 0 && id <= frames.length) frames[id - 1] = () => undefined;
  };
  root = document.createElement("div");
  document.body.appendChild(root);
  backend = new FakeBackend();
  unmount = mountChat(root, backend, { conversation: null, memory: null });
  await drained();
});

afterEach(() => {
  unmount();
  root.remove();
});

describe("the chat view's Stop", () => {
  it("freezes the drawn text, holds what was not drawn, and tells the turn the code points it drew", async () => {
    await ask();
    // The first text goes into the DOM on arrival; the next waits for the frame.
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "text", delta: "Heart 🫀 " });
    backend.emit({ type: "text", delta: "beats and more" });
    expect(liveText()).toBe(flat("Heart 🫀"));
    pressStop();
    // Counted as the turn counts: 8 code points, though 9 UTF-16 units.
    expect(backend.cancels.map(({ turn, shown }) => [turn, shown])).toEqual([[1, 8]]);
    runFrames();
    expect(liveText()).toBe(flat("Heart 🫀"));
    // Not "Stopped." before the turn says so.
    expect([live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual(["stopping", false, true]);
    backend.emit({ type: "text", delta: " after the Stop" });
    runFrames();
    backend.cancels[0].answer.resolve("stopped");
    await drained();
    // Accepted, but "Stopped." waits for the turn's cancel guard (a Stop that cut nothing stops nothing).
    expect(liveText()).toBe(flat("Heart 🫀"));
    expect([live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual(["stopping", false, true]);
    backend.emit(cancelledGuard);
    runFrames();
    expect([liveText(), live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual([flat("Heart 🫀"), "stopped", true, false]);
    // The turn's end: what it stored is what was drawn, and the reload shows the same.
    backend.reloadGate = deferred();
    backend.emit({ type: "done", answer: "Heart 🫀 ", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    expect([liveText(), live()?.dataset.status]).toEqual([flat("Heart 🫀"), "stopped"]);
    backend.stored = storedTurn("Heart 🫀 ", false, "cancelled");
    backend.reloadGate.resolve();
    await drained();
    expect($("chat-stop")).toBeNull();
    const answers = root.querySelectorAll("[data-testid=msg-assistant]");
    expect(answers).toHaveLength(1);
    expect(textOf(answers[0])).toBe(flat("Heart 🫀"));
    expect(answers[0].querySelector("[data-testid=turn-stopped]")).not.toBeNull();
  });

  it("never says Stopped. when the accepted Stop cut nothing (the done comes without the cancel guard)", async () => {
    await ask();
    // Everything drawn, the model's last word behind the turn (it extracts memories): the Stop is accepted,
    // but with nothing left to cut the answer is stored as a turn nobody stopped.
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "text", delta: "Let me look. " });
    backend.emit({ type: "text", delta: "Your week looks steady." });
    runFrames();
    pressStop();
    expect(backend.cancels.map(({ shown }) => shown)).toEqual([Array.from("Let me look. Your week looks steady.").length]);
    backend.cancels[0].answer.resolve("stopped");
    await drained();
    expect([live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual(["stopping", false, true]);
    backend.reloadGate = deferred();
    backend.emit({ type: "usage", usage }, { type: "done", answer: "Your week looks steady.", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    expect([liveText(), live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")])
      .toEqual([flat("Your week looks steady."), "done", false, false]);
    backend.stored = storedTurn("Your week looks steady.", false, null);
    backend.reloadGate.resolve();
    await drained();
    const stored = root.querySelector("[data-testid=msg-assistant]");
    expect([textOf(stored), stored?.querySelector("[data-testid=turn-stopped]") ?? null]).toEqual([flat("Your week looks steady."), null]);
  });

  it("draws the held events at once when the Stop came too late, and streams on to the done", async () => {
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "text", delta: "Alpha " });
    backend.emit({ type: "text", delta: "bravo " });
    pressStop();
    backend.emit({ type: "text", delta: "charlie." });
    runFrames();
    expect([liveText(), liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual([flat("Alpha"), false, true]);
    backend.cancels[0].answer.resolve("already_finished");
    await drained();
    // The held text is drawn without waiting for the done, and the turn is not said to be stopped.
    expect([liveText(), live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")])
      .toEqual([flat("Alpha bravo charlie."), "streaming", false, false]);
    backend.reloadGate = deferred();
    backend.emit({ type: "usage", usage }, { type: "done", answer: "Alpha bravo charlie.", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    expect([liveText(), live()?.dataset.status, liveHas("turn-stopped")]).toEqual([flat("Alpha bravo charlie."), "done", false]);
    backend.stored = storedTurn("Alpha bravo charlie.", false, null);
    backend.reloadGate.resolve();
    await drained();
    expect($("chat-stop")).toBeNull();
    expect(textOf(root.querySelector("[data-testid=msg-assistant]"))).toBe(flat("Alpha bravo charlie."));
  });

  it("draws the held events and the done when the too-late answer comes after the done", async () => {
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "text", delta: "Alpha " });
    backend.emit({ type: "text", delta: "bravo " });
    pressStop();
    backend.emit({ type: "text", delta: "charlie." }, { type: "usage", usage });
    backend.reloadGate = deferred();
    backend.emit({ type: "done", answer: "Alpha bravo charlie.", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    expect([liveText(), liveHas("turn-stopped"), liveHas("turn-stopping")]).toEqual([flat("Alpha"), false, true]);
    backend.cancels[0].answer.resolve("already_finished");
    await drained();
    // The whole answer, drawn as the turn stored it, and never said to be stopped.
    expect([liveText(), live()?.dataset.status, liveHas("turn-stopped"), liveHas("turn-stopping")])
      .toEqual([flat("Alpha bravo charlie."), "done", false, false]);
    backend.stored = storedTurn("Alpha bravo charlie.", false, null);
    backend.reloadGate.resolve();
    await drained();
    expect($("chat-stop")).toBeNull();
    expect(textOf(root.querySelector("[data-testid=msg-assistant]"))).toBe(flat("Alpha bravo charlie."));
  });

  it.each<[string, ChatEvent[], string]>([
    ["nothing drawn", [], ""],
    ["only the red-flag referral drawn", [{ type: "routed", specialist: "safety", by: "red_flag" }, { type: "text", delta: "Call 112 now.\n\n" }],
      "Call 112 now.\n\n"],
  ])("with %s, draws the offline analyst's answer that follows, labelled", async (_, drawn, lead) => {
    await ask();
    backend.emit(...drawn, { type: "routed", specialist: "coach", by: "rules" });
    runFrames();
    // The model's first words reach the window after the referral (waiting for the frame when Stop is
    // pressed), or after the Stop when none came before.
    if (lead) backend.emit({ type: "text", delta: "word0 " });
    pressStop();
    backend.emit({ type: "text", delta: "word1 " });
    expect(backend.cancels.map(({ shown }) => shown)).toEqual([Array.from(lead).length]);
    backend.cancels[0].answer.resolve("stopped");
    await drained();
    const offline = "Offline analyst — from your data, no model. Readiness today: 62 ms.";
    backend.reloadGate = deferred();
    backend.emit(cancelledGuard, { type: "text", delta: offline },
      { type: "done", answer: lead + offline, specialist: "offline", offline: true, claims: [claim62], usage });
    runFrames();
    // Drawn in the live turn before any reload, with the offline label and its specialist, as stopped.
    expect(liveText()).toBe(flat(lead + offline));
    expect(liveText()).not.toMatch(/word/);
    expect([liveHas("offline-badge"), live()?.querySelector("[data-testid=specialist-badge]")?.getAttribute("data-specialist")])
      .toEqual([true, "offline"]);
    const stoppedNote = "Stopped before any answer was shown; the offline analyst answered from your data.";
    expect(live()?.querySelector("[data-testid=turn-stopped]")?.textContent).toBe(stoppedNote);
    // Its number is marked as the stored answer's claim (from the done: the claims sent after the Stop
    // were ignored), linking where a reload's mark links.
    const shown = liveText();
    const liveMarks = marksOf(live());
    expect(liveMarks).toEqual([["62 ms", "#/history/day/2026-11-30"]]);
    backend.stored = storedTurn(lead + offline, true, "cancelled", [claim62]);
    backend.reloadGate.resolve();
    await drained();
    // What the reload shows is what was drawn.
    const stored = root.querySelector("[data-testid=msg-assistant]");
    expect(textOf(stored)).toBe(shown);
    expect(marksOf(stored)).toEqual(liveMarks);
    // Stored offline with no model named (as a turn offline from the start is): the same note, no "model's".
    expect(stored?.querySelector("[data-testid=turn-stopped]")?.textContent).toBe(stoppedNote);
    expect(stored?.querySelector("[data-testid=offline-badge]")).not.toBeNull();
  });
});

/** A stored exchange the budget refused: the offline analyst answered, the guard step says why. */
function refusedTurn(): StoredMessage[] {
  const [question, answer] = storedTurn("Offline answer from your data.", true, null);
  return [question, { ...answer, steps: [{ kind: "other", name: "guard", payload: { guard: "budget", message: "today's budget is spent" } }] }];
}

/** Mounts the view anew on conversation 7 as the backend stores it. */
async function reopen(local: string | null, stored: StoredMessage[], route: ChatRoute = { conversation: 7, memory: null },
  listed: ConversationSummary[] = []): Promise<void> {
  unmount();
  backend = new FakeBackend();
  backend.local = local;
  backend.stored = stored;
  backend.listed = listed;
  unmount = mountChat(root, backend, route);
  await drained();
}

const button = (testid: string) => root.querySelector<HTMLElement>(`[data-testid=msg-assistant] [data-testid=${testid}]`);

describe("a budget refusal's ways on", () => {
  it("are three buttons: keep the offline answer, ask the local alias for this turn, raise the budget in Settings → AI", async () => {
    await reopen("local", refusedTurn());
    expect(button("way-budget")?.getAttribute("href")).toBe("#/settings/ai");
    expect(button("way-local")?.dataset.alias).toBe("local");
    button("way-local")?.click();
    await drained();
    // The refused question goes again beside the first, on the local alias for that turn (the backend has
    // no call that saves a model: the default stays).
    expect(backend.sent).toEqual([{ conversation: 7, text: QUESTION, replaces: 1, model: "local" }]);
    // The next question asks the default model again.
    backend.emit({ type: "done", answer: "Local answer.", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    await drained();
    await ask();
    expect(backend.sent.map((r) => r.model)).toEqual(["local", null]);
  });

  it("keep the offline answer when asked to, and offer no local model when none is set up", async () => {
    await reopen(null, refusedTurn());
    expect([button("way-offline"), button("way-budget")].every((b) => b !== null)).toBe(true);
    expect([button("way-local"), button("way-no-local") !== null]).toEqual([null, true]);
    // The words the WebDriver journey looks for (a_budget_refusal_sends_nothing_and_shows_the_ways_on).
    const ways = button("budget-ways")?.textContent ?? "";
    expect(["offline", "local model", "raise the budget"].filter((w) => !ways.includes(w))).toEqual([]);
    button("way-offline")?.click();
    await drained();
    expect([button("way-kept") !== null, button("way-offline"), backend.sent]).toEqual([true, null, []]);
  });
});

describe("the live cost meter", () => {
  const call = (n: number, input: number, output: number, estimated: boolean): ChatEvent => ({
    type: "usage",
    usage: { input_tokens: input, output_tokens: output, cost_usd: (input * 2 + output * 8) / 1e6, estimated, model_calls: 1, call: n, context_tokens: input, context_window: 128_000 },
  });
  const meter = () => live()?.querySelector("[data-testid=turn-cost]")?.textContent;

  it("adds the calls up, an estimate replaced by its call's exact count, and shows the context used", async () => {
    await ask();
    backend.emit({ type: "routed", specialist: "analyst", by: "rules" }, call(1, 1000, 20, false));
    backend.emit({ type: "text", delta: "Your week " }, call(2, 3100, 5, true));
    runFrames();
    expect(meter()).toBe("4,100 in · 25 out · ≈ $0.0084");
    backend.emit({ type: "text", delta: "looks steady." }, call(2, 3120, 9, false));
    runFrames();
    expect(meter()).toBe("4,120 in · 29 out · ≈ $0.0085");
    expect(live()?.querySelector("[data-testid=turn-context]")?.textContent).toBe("ctx 3.1k / 128k");
    // The conversation's figure is Rust's (nothing stored yet); the turn under way is shown beside it.
    expect([$("conversation-cost")?.textContent, $("conversation-live")?.textContent])
      .toEqual(["Conversation, all branches: 0 in · 0 out · $0.0000", "+ this turn ≈ $0.0085"]);
  });

  it("keeps a turn live after a model error that does not end it: Esc stops the offline answer, the meter counts it", async () => {
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "usage", usage: { ...usage, call: 1 } },
      { type: "text", delta: "Your readiness " }, { type: "error", code: "model_unavailable", message: "the model fell over" });
    backend.emit({ type: "text", delta: "Offline answer: 62 ms." });
    runFrames();
    expect([live()?.dataset.status, liveHas("turn-error"), $("conversation-live")?.textContent])
      .toEqual(["streaming", true, "+ this turn ≈ $0.0001"]);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(backend.cancels.map(({ turn, shown }) => [turn, shown])).toEqual([[1, Array.from("Your readiness Offline answer: 62 ms.").length]]);
    expect([live()?.dataset.status, liveHas("turn-stopping")]).toEqual(["stopping", true]);
  });

  it("shows a stopped turn beside the conversation's figure until the reload brings both back from Rust at once", async () => {
    const shown = () => [$("conversation-cost")?.textContent, $("conversation-live")?.textContent ?? null];
    const before = "Conversation, all branches: 0 in · 0 out · $0.0000";
    const turn = "+ this turn ≈ $0.0001";
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "usage", usage: { ...usage, call: 1 } },
      { type: "text", delta: "Your week " });
    runFrames();
    expect(shown()).toEqual([before, turn]);
    pressStop();
    backend.cancels[0].answer.resolve("stopped");
    await drained();
    // Stopped, its done still to come (a memory extraction may come first): the turn is still shown.
    backend.emit(cancelledGuard);
    runFrames();
    expect([live()?.dataset.status, ...shown()]).toEqual(["stopped", before, turn]);
    // Stored: the list now counts it (what a read after the turn's end finds).
    backend.listed = [{ id: 7, title: QUESTION, updated_at_ms: 0, messages: 2, spent: usage }];
    backend.reloadGate = deferred();
    backend.emit({ type: "done", answer: "Your week ", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    await drained();
    // The list was read, the messages not yet: the turn is neither counted twice nor dropped.
    expect(shown()).toEqual([before, turn]);
    backend.stored = storedTurn("Your week ", false, "cancelled");
    backend.reloadGate.resolve();
    await drained();
    expect([$("chat-stop"), root.querySelectorAll("[data-testid=msg-assistant]").length, ...shown()])
      .toEqual([null, 1, "Conversation, all branches: 12 in · 4 out · $0.0001", null]);
  });

  it("is Rust's figure for every branch, not the branch shown, in the status bar and the list alike", async () => {
    // The shown branch's answer cost $0.0001; an abandoned branch cost more, and Rust counts both.
    const spent = { input_tokens: 3_012, output_tokens: 204, cost_usd: 0.0213, estimated: true, model_calls: 3 };
    await reopen(null, storedTurn("Your week looks steady.", false, null), { conversation: 7, memory: null },
      [{ id: 7, title: QUESTION, updated_at_ms: 0, messages: 4, spent }]);
    expect($("conversation-cost")?.textContent).toBe("Conversation, all branches: 3,012 in · 204 out · ≈ $0.02");
    expect($("conversation-cost")?.title).toMatch(/every branch/);
    expect($("chat-conversation-cost")?.textContent).toBe("≈ $0.02");
    expect($("conversation-live")).toBeNull();
  });

  it("shows a stored turn's context after a reload as it did live", async () => {
    const [question, answer] = storedTurn("Your week looks steady.", false, null);
    const withContext = { ...answer, usage: { ...usage, context_tokens: 3_100, context_window: 128_000 } };
    await reopen(null, [question, withContext]);
    const stored = root.querySelector("[data-testid=msg-assistant]");
    expect([stored?.querySelector("[data-testid=turn-context]")?.textContent, $("conversation-context")?.textContent])
      .toEqual(["ctx 3.1k / 128k", "ctx 3.1k / 128k"]);
  });
});

describe("claim marks", () => {
  it("mark a claim once, on its own occurrence, though its text stands in several blocks", async () => {
    await ask();
    const answer = "You slept 45 minutes less.\n\nYour RMSSD was 45, on day 145.\n\nTry 45 minutes of walking.";
    const claim = { text: "45", grounded: true, route: "history/day/2026-11-30", receipt: "r-1", occurrence: 1 };
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "text", delta: answer });
    runFrames();
    backend.emit({ type: "claim", claim }, { type: "usage", usage },
      { type: "done", answer, specialist: "coach", offline: false, claims: [claim], usage });
    runFrames();
    const marks = Array.from(live()?.querySelectorAll("[data-testid=answer] .md-block") ?? [])
      .map((b) => Array.from(b.querySelectorAll("[data-testid=claim]")).map((m) => m.textContent));
    expect(marks).toEqual([[], ["45"], []]);
    expect(live()?.querySelector("[data-testid=claim]")?.previousSibling?.textContent).toBe("Your RMSSD was ");
  });
});

describe("a memory link", () => {
  const focused = () => Array.from(root.querySelectorAll<HTMLElement>("[data-testid=memory-item]"))
    .map((m) => [m.dataset.id, m.dataset.focused]);

  it("opens the conversation with the memory panel on that memory, as of the link's day", async () => {
    await reopen(null, storedTurn("Your max HR is 188 bpm.", false, null), { conversation: 7, memory: { id: 5, asOf: "2026-11-30" } });
    expect($("memory-panel")).not.toBeNull();
    expect(backend.memory.asked).toEqual(["2026-11-30"]);
    expect(($("memory-as-of") as HTMLInputElement | null)?.value).toBe("2026-11-30");
    expect(focused()).toEqual([["4", "false"], ["5", "true"]]);
    expect($("memory-focus-missing")).toBeNull();
    // The conversation the claim stands in is open too.
    expect(textOf(root.querySelector("[data-testid=msg-assistant]"))).toBe(flat("Your max HR is 188 bpm."));
  });

  it("opens the panel now when the memory still stands, and says so when the view does not hold it", async () => {
    await reopen(null, [], { conversation: 7, memory: { id: 9, asOf: null } });
    expect([backend.memory.asked, $("memory-focus-missing") !== null]).toEqual([[null], true]);
    expect(focused()).toEqual([["4", "false"], ["5", "false"]]);
  });

  it("is where a claim from a memory links", async () => {
    const claim: ClaimMark = { text: "188 bpm", grounded: true, route: "chat/7/memory/5/2026-11-30", receipt: "r-recall" };
    await reopen(null, storedTurn("Your max HR is 188 bpm.", false, null, [claim]));
    expect($("memory-panel")).toBeNull();
    expect(marksOf(root.querySelector("[data-testid=msg-assistant]"))).toEqual([["188 bpm", "#/chat/7/memory/5/2026-11-30"]]);
  });
});
