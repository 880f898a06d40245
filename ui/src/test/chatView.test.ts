// @vitest-environment happy-dom
// The chat view's Stop wiring, tested as a view: the real ChatView (mounted as the app mounts it) over a
// fake backend (the ChatBackend seam), with animation frames run by the test. What the pure `stepFlow`
// decides is tested in turn.test.ts; here, that the view feeds it — frames, the cancel call and its count,
// the held events, the turn's end and the reload — and draws what it returns.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountChat } from "../chat/ChatView";
import type { ChatBackend, SendRequest, StoredMessage, TurnStarted } from "../chat/backend";
import type { ClaimMark } from "../chat/markdown";
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
  /** The local alias the AI settings name, and the models the chat was switched to. */
  local: string | null = null;
  switched: string[] = [];
  sent: SendRequest[] = [];

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
  conversations = () => Promise.resolve([]);
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
  useModel(model: string): Promise<void> {
    this.switched.push(model);
    return Promise.resolve();
  }

  emit(...events: ChatEvent[]): void {
    for (const ev of events) this.onEvent?.(ev);
  }
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
  unmount = mountChat(root, backend, null);
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
async function reopen(local: string | null, stored: StoredMessage[]): Promise<void> {
  unmount();
  backend = new FakeBackend();
  backend.local = local;
  backend.stored = stored;
  unmount = mountChat(root, backend, 7);
  await drained();
}

const button = (testid: string) => root.querySelector<HTMLElement>(`[data-testid=msg-assistant] [data-testid=${testid}]`);

describe("a budget refusal's ways on", () => {
  it("are three buttons: keep the offline answer, switch to the local alias and ask again, raise the budget in Settings → AI", async () => {
    await reopen("local", refusedTurn());
    expect(button("way-budget")?.getAttribute("href")).toBe("#/settings/ai");
    expect(button("way-local")?.dataset.alias).toBe("local");
    button("way-local")?.click();
    await drained();
    // The chat asks the local alias from now on, and the refused question goes again beside the first.
    expect(backend.switched).toEqual(["local"]);
    expect(backend.sent).toEqual([{ conversation: 7, text: QUESTION, replaces: 1 }]);
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
    expect($("conversation-cost")?.textContent).toBe("Conversation: 4,120 in · 29 out · $0.0085");
  });

  it("keeps a turn live after a model error that does not end it: Esc stops the offline answer, the meter counts it", async () => {
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "usage", usage: { ...usage, call: 1 } },
      { type: "text", delta: "Your readiness " }, { type: "error", code: "model_unavailable", message: "the model fell over" });
    backend.emit({ type: "text", delta: "Offline answer: 62 ms." });
    runFrames();
    expect([live()?.dataset.status, liveHas("turn-error"), $("conversation-cost")?.textContent])
      .toEqual(["streaming", true, "Conversation: 12 in · 4 out · $0.0001"]);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(backend.cancels.map(({ turn, shown }) => [turn, shown])).toEqual([[1, Array.from("Your readiness Offline answer: 62 ms.").length]]);
    expect([live()?.dataset.status, liveHas("turn-stopping")]).toEqual(["stopping", true]);
  });

  it("counts a stopped turn in the conversation until the reload brings it back stored", async () => {
    const conversation = () => $("conversation-cost")?.textContent;
    const counted = "Conversation: 12 in · 4 out · $0.0001";
    await ask();
    backend.emit({ type: "routed", specialist: "coach", by: "rules" }, { type: "usage", usage: { ...usage, call: 1 } },
      { type: "text", delta: "Your week " });
    runFrames();
    expect(conversation()).toBe(counted);
    pressStop();
    backend.cancels[0].answer.resolve("stopped");
    await drained();
    // Stopped, its done still to come (a memory extraction may come first): the turn still counts.
    backend.emit(cancelledGuard);
    runFrames();
    expect([live()?.dataset.status, conversation()]).toEqual(["stopped", counted]);
    backend.reloadGate = deferred();
    backend.emit({ type: "done", answer: "Your week ", specialist: "coach", offline: false, claims: [], usage });
    runFrames();
    expect(conversation()).toBe(counted);
    // The reload: counted once, as the stored turn.
    backend.stored = storedTurn("Your week ", false, "cancelled");
    backend.reloadGate.resolve();
    await drained();
    expect([$("chat-stop"), root.querySelectorAll("[data-testid=msg-assistant]").length, conversation()]).toEqual([null, 1, counted]);
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
