// One turn of a conversation as the chat window shows it, built by folding the turn's events (the Rust
// side's AgentEvent, batched) in order. Pure: the view renders what this returns.
import type { ClaimMark } from "./markdown";

export type Specialist = "supervisor" | "neuroscientist" | "analyst" | "coach" | "offline" | "safety";
export type RouteReason = "rules" | "model" | "red_flag" | "offline";
export type GuardKind = "model_calls" | "handoffs" | "repeated_tool_call" | "ping_pong" | "time_budget" | "cancelled" | "budget";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  estimated: boolean;
  model_calls: number;
  /** The model call a `usage` event counts, from 1 (0 or absent: a turn's total). */
  call?: number;
  /** The (last) call's input tokens: the context the conversation fills (0 or absent: not known). */
  context_tokens?: number;
  /** The model's context window in tokens; null when the gateway does not know it. */
  context_window?: number | null;
}

/** What the chat window receives: the agent's events, text already batched on the Rust side. */
export type ChatEvent =
  | { type: "routed"; specialist: Specialist; by: RouteReason }
  | { type: "handoff"; from: Specialist; to: Specialist; brief: string }
  | { type: "tool_call"; call_id: string; name: string; arguments: unknown }
  | { type: "tool_result"; call_id: string; name: string; result: unknown; receipts: string[] }
  | { type: "request"; model: string; body: string }
  | { type: "text"; delta: string }
  | { type: "claim"; claim: ClaimMark }
  | { type: "usage"; usage: Usage }
  | { type: "guard"; guard: GuardKind; message: string }
  | { type: "error"; code: string; message: string }
  | { type: "done"; answer: string; specialist: Specialist; offline: boolean; claims: ClaimMark[]; usage: Usage };

/** A step as stored (the generated StepDto's shape); a live tool call has no result yet (null). */
export type Step =
  | { kind: "handoff"; from: Specialist; to: Specialist; brief: string }
  | { kind: "tool"; call_id: string; name: string; args: unknown; result: unknown | null; result_bytes: number | null; receipts: string[] }
  | { kind: "request"; model: string; body: string }
  | { kind: "other"; name: string; payload: unknown };

/** `stopping`: Stop was pressed and the text froze; the turn has not said yet that it stopped (its answer
 * may say the Stop came too late, and one that accepted it may still cut nothing: the answer then ends as a
 * turn nobody stopped); `stopped`: its `cancelled` guard came — it is stored as stopped — or it failed
 * after the Stop. */
export type TurnStatus = "streaming" | "stopping" | "done" | "stopped" | "error";

export interface TurnView {
  specialist: Specialist | null;
  routedBy: RouteReason | null;
  steps: Step[];
  text: string;
  claims: ClaimMark[];
  /** The latest `usage` event of each model call, by call number: a running estimate, then the exact count
   * (or the estimate booked for a call cut short) replaces it. */
  calls: Record<number, Usage>;
  /** The calls added up while the turn streams; the turn's own total once it is `done`. */
  usage: Usage;
  offline: boolean;
  status: TurnStatus;
  guard: { guard: GuardKind; message: string } | null;
  error: { code: string; message: string } | null;
}

export const emptyUsage = (): Usage => ({ input_tokens: 0, output_tokens: 0, cost_usd: 0, estimated: true, model_calls: 0 });

export const newTurn = (): TurnView => ({
  specialist: null, routedBy: null, steps: [], text: "", claims: [], calls: {}, usage: emptyUsage(), offline: false,
  status: "streaming", guard: null, error: null,
});

/** The size of a tool result as shown in a step ("1.2 kB"): the length of its JSON. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? "").length;
}

/** The turn after one more event. Returns a new object; steps are copied only when they change. */
export function applyEvent(turn: TurnView, ev: ChatEvent): TurnView {
  switch (ev.type) {
    case "routed": return { ...turn, specialist: ev.specialist, routedBy: ev.by, offline: ev.by === "offline" || turn.offline };
    case "handoff": return { ...turn, specialist: ev.to, steps: [...turn.steps, { kind: "handoff", from: ev.from, to: ev.to, brief: ev.brief }] };
    case "tool_call":
      return { ...turn, steps: [...turn.steps, { kind: "tool", call_id: ev.call_id, name: ev.name, args: ev.arguments, result: null, result_bytes: null, receipts: [] }] };
    case "tool_result":
      return {
        ...turn,
        steps: turn.steps.map((s) => (s.kind === "tool" && s.call_id === ev.call_id
          ? { ...s, result: ev.result, result_bytes: jsonBytes(ev.result), receipts: ev.receipts }
          : s)),
      };
    case "request": return { ...turn, steps: [...turn.steps, { kind: "request", model: ev.model, body: ev.body }] };
    case "text": return { ...turn, text: turn.text + ev.delta };
    case "claim": return { ...turn, claims: [...turn.claims, ev.claim] };
    case "usage": {
      const calls = { ...turn.calls, [ev.usage.call ?? 0]: ev.usage };
      return { ...turn, calls, usage: addCalls(calls) };
    }
    case "guard": return { ...turn, guard: { guard: ev.guard, message: ev.message } };
    // Only a failure that ends the turn ends its streaming: after a model error the offline analyst's
    // answer streams, and Stop and the meter must still treat the turn as live.
    case "error": return { ...turn, status: endsTurn(ev) ? "error" : turn.status, error: { code: ev.code, message: ev.message } };
    case "done": return ended(turn, ev);
  }
}

/** A turn's calls added up: tokens and money summed, estimated if any call is, and the context of the
 * latest call (the highest number: the one whose prompt holds the most). */
export function addCalls(calls: Record<number, Usage>): Usage {
  const numbers = Object.keys(calls).map(Number).sort((a, b) => a - b);
  const total = emptyUsage();
  total.estimated = false;
  for (const n of numbers) {
    const u = calls[n];
    total.input_tokens += u.input_tokens;
    total.output_tokens += u.output_tokens;
    total.cost_usd += u.cost_usd;
    total.estimated ||= u.estimated;
    total.model_calls += Math.max(1, u.model_calls);
    total.context_tokens = u.context_tokens ?? 0;
    total.context_window = u.context_window ?? null;
  }
  return total;
}

/** The context the conversation fills: that of the latest of `usages` (the turns shown, oldest first) that
 * knew it — picked, not added up; null when none did. What a conversation cost is Rust's sum
 * (`ConversationSummary.spent`), never added up here. */
export function latestContext(usages: readonly Usage[]): Usage | null {
  for (let i = usages.length - 1; i >= 0; i--) if ((usages[i].context_tokens ?? 0) > 0) return usages[i];
  return null;
}

/** Whether the text is frozen by a Stop: pressed (`stopping`) or answered (`stopped`). */
export function frozen(turn: TurnView): boolean {
  return turn.status === "stopping" || turn.status === "stopped";
}

/** The turn's `done`: its answer and claims are the stored ones, and the window shows them — also after a
 * Stop. A Stop that cut the model's text stored exactly the text drawn, so the frozen text stays as it is;
 * one that came before any of the answer was drawn stored the offline analyst's answer (the cancellation
 * guard's outcome), which is drawn now with its label instead of leaving an empty frozen turn whose stored
 * answer the person never saw; and one that cut nothing stored the answer as a turn nobody stopped. The
 * claims are the `done`'s, not those folded so far: after a Stop the claims sent were ignored (they may mark
 * text never drawn), and the stored answer's numbers are marked as a reload marks them. Stopped it stays
 * only when the turn says it was stored as stopped (the `cancelled` guard), as a stored turn shows after a
 * reload. */
function ended(turn: TurnView, ev: Extract<ChatEvent, { type: "done" }>): TurnView {
  const stopped = frozen(turn) && turn.guard?.guard === "cancelled";
  return {
    ...turn, text: ev.answer, specialist: ev.specialist, offline: ev.offline, usage: ev.usage, claims: ev.claims,
    status: stopped ? "stopped" : "done",
  };
}

/** The guard that ended a stored turn, read back from its steps ("guard" steps carry {guard, message}):
 * a stored answer shows a budget refusal or a Stop as the live one did. The first guard, except that a
 * Stop wins: a turn whose model tripped a guard (the offline analyst answering next) and which a Stop then
 * cut back to the model's text is stored as stopped, and shows so after a reload as it did live. */
export function guardOfSteps(steps: Step[]): { guard: GuardKind; message: string } | null {
  let first: { guard: GuardKind; message: string } | null = null;
  for (const s of steps) {
    if (s.kind !== "other" || s.name !== "guard") continue;
    const p = s.payload as { guard?: unknown; message?: unknown } | null;
    if (p && typeof p.guard === "string" && Object.prototype.hasOwnProperty.call(GUARD_KINDS, p.guard)) {
      const guard = { guard: p.guard as GuardKind, message: typeof p.message === "string" ? p.message : "" };
      if (guard.guard === "cancelled") return guard;
      first ??= guard;
    }
  }
  return first;
}

const GUARD_KINDS: Record<GuardKind, true> = {
  model_calls: true, handoffs: true, repeated_tool_call: true, ping_pong: true, time_budget: true, cancelled: true, budget: true,
};

/** Error codes after which no `done` follows: the turn could not be run or stored. */
const TERMINAL_ERRORS: ReadonlySet<string> = new Set(["turn_failed"]);

/** Whether `ev` is the turn's last event: its `done`, or a failure no `done` follows. A model error is not
 * (the offline analyst answers next). */
export function endsTurn(ev: ChatEvent): boolean {
  return ev.type === "done" || (ev.type === "error" && TERMINAL_ERRORS.has(ev.code));
}

/** The turn as the window shows it after one more event. After Stop the streamed text, claims and steps
 * no longer change it: the text stays frozen until the turn's `done` says what was stored (see `ended`:
 * the frozen text itself when the Stop cut the model's text, the offline analyst's answer when none of it
 * was drawn). A guard is noted (the `cancelled` one kept over any other, as `guardOfSteps` does for a stored
 * turn): the `cancelled` one says the turn is stored as stopped, and only then is it "Stopped.". A failure
 * that ends the turn is shown, as stopped: a stopped turn that could not be stored must say so, or the
 * person is left with a question and no answer. A model error is not one (the offline analyst's answer
 * follows). */
export function showEvent(turn: TurnView, ev: ChatEvent): TurnView {
  if (!frozen(turn)) return applyEvent(turn, ev);
  switch (ev.type) {
    case "guard":
      if (turn.guard?.guard === "cancelled") return turn;
      return { ...turn, guard: { guard: ev.guard, message: ev.message }, status: ev.guard === "cancelled" ? "stopped" : turn.status };
    case "error": return endsTurn(ev) ? { ...turn, status: "stopped", error: { code: ev.code, message: ev.message } } : turn;
    case "done": return ended(turn, ev);
    default: return turn;
  }
}

/** Stop pressed: the text freezes as it is (`stopping`: not "Stopped." before the turn says so). */
export function stopTurn(turn: TurnView): TurnView {
  return turn.status === "streaming" ? { ...turn, status: "stopping" } : turn;
}

/** How much of an answer's text the window drew, in Unicode code points — what Rust counts as `char`s, so
 * the turn cuts its streamed text exactly there. Not `text.length` (UTF-16 units: an emoji counts 2, and
 * a cut between them would split a surrogate pair) nor bytes (a cut inside a UTF-8 sequence). */
export function shownChars(text: string): number {
  return Array.from(text).length;
}

/** Stop pressed while `pending` events (received, waiting for the next frame) are not drawn yet. The text
 * freezes as drawn and the pending text is not drawn: the person never saw it, and the turn is told to keep
 * exactly the `shown` code points drawn. (The view holds the pending events until the turn answers the
 * Stop: see `cancelAnswered`.) `null` when there is nothing to stop: the turn is no longer streaming, or its
 * last event is among the pending ones (the next frame draws it to its end as usual). */
export function stopDrawn(turn: TurnView, pending: readonly ChatEvent[]): { turn: TurnView; shown: number } | null {
  if (turn.status !== "streaming" || pending.some(endsTurn)) return null;
  return { turn: stopTurn(turn), shown: shownChars(turn.text) };
}

/** What the turn answered a Stop (the generated `ChatCancelDto`). */
export type CancelOutcome = "stopped" | "already_finished";

/** The frozen turn once its Stop is answered. `stopped`: the Stop is accepted and the turn stays frozen,
 * still "Stopping…" (the events held since Stop are then folded in by `showEvent`, which ignores their
 * text): "Stopped." waits for the `cancelled` guard, since a Stop after the model's last word that cut
 * nothing stores the answer as a turn nobody stopped, and its `done` comes without that guard.
 * `already_finished`: the Stop came too late to change the answer (the turn was storing it, or its `done`
 * was on its way), so the turn streams on — the held events are drawn, its `done` included — and
 * "Stopped." was never shown over a text the stored answer does not match. */
export function cancelAnswered(turn: TurnView, outcome: CancelOutcome): TurnView {
  if (turn.status !== "stopping" || outcome === "stopped") return turn;
  return { ...turn, status: "streaming" };
}

/** A live turn as the view holds it: the turn drawn, the events received and not drawn yet, and those held
 * from Stop until the turn answers it. Pure: the view schedules frames and calls, this decides. */
export interface TurnFlow {
  turn: TurnView;
  /** Received, waiting for the next frame. */
  queue: ChatEvent[];
  /** From Stop until the turn answers it: the events not drawn when Stop was pressed and those since. */
  held: ChatEvent[] | null;
  /** `running` until the turn's last event is drawn: then the view reloads the stored messages (`failed`:
   * no `done` follows and the turn's note stays). Events after the end are dropped. */
  end: "running" | "ended" | "failed";
}

/** What happens to a live turn: an event on its channel, the next frame, Stop, the turn's answer to the Stop
 * (`cancel_failed`: the cancel call itself failed), or the send failing outright. */
export type FlowInput =
  | { kind: "event"; event: ChatEvent }
  | { kind: "frame" }
  | { kind: "stop" }
  | { kind: "answer"; outcome: CancelOutcome }
  | { kind: "cancel_failed" }
  | { kind: "send_failed"; message: string };

export const newFlow = (): TurnFlow => ({ turn: newTurn(), queue: [], held: null, end: "running" });

/** The live turn after one more input. A Stop that takes effect sets `held` (the view then tells the turn
 * `shownChars(turn.text)`); its answer draws the held events at once. A cancel call that failed leaves the
 * turn running as if the Stop came too late: the turn was not stopped and will store its whole answer, and
 * only its own `done` or failure ends it — ending it here would let a new question start while the old
 * turn's text and `done` are still on their way. */
export function stepFlow(flow: TurnFlow, input: FlowInput): TurnFlow {
  switch (input.kind) {
    case "event":
      if (flow.end !== "running") return flow;
      return flow.held
        ? { ...flow, held: [...flow.held, input.event] }
        : { ...flow, queue: [...flow.queue, input.event] };
    case "frame": return drawQueue(flow);
    case "stop": {
      const stopped = flow.end === "running" && flow.held === null ? stopDrawn(flow.turn, flow.queue) : null;
      return stopped ? { ...flow, turn: stopped.turn, queue: [], held: flow.queue } : flow;
    }
    case "answer": return answerHeld(flow, input.outcome);
    case "cancel_failed": return answerHeld(flow, "already_finished");
    case "send_failed": {
      const answered = answerHeld(flow, "stopped");
      return stepFlow(stepFlow(answered, { kind: "event", event: { type: "error", code: "turn_failed", message: input.message } }), { kind: "frame" });
    }
  }
}

/** The turn answered the Stop: the held events are drawn onto the turn as `cancelAnswered` leaves it. */
function answerHeld(flow: TurnFlow, outcome: CancelOutcome): TurnFlow {
  if (flow.held === null) return flow;
  return drawQueue({ ...flow, turn: cancelAnswered(flow.turn, outcome), queue: [...flow.queue, ...flow.held], held: null });
}

/** Draws the queued events up to the turn's last one; what comes after that is dropped. */
function drawQueue(flow: TurnFlow): TurnFlow {
  if (flow.end !== "running" || flow.queue.length === 0) return { ...flow, queue: [] };
  const last = flow.queue.findIndex(endsTurn);
  const events = last < 0 ? flow.queue : flow.queue.slice(0, last + 1);
  const ending = last < 0 ? null : flow.queue[last];
  const end = ending === null ? "running" : ending.type === "error" ? "failed" : "ended";
  return { ...flow, turn: events.reduce(showEvent, flow.turn), queue: [], end };
}

/** The money part of the cost meter: "local · $0" for a local model, "≈ $0.0012" while streaming or when
 * the counts were estimated, the exact figure after. */
export function formatCost(usage: Usage, local: boolean, streaming: boolean): string {
  if (local) return "local · $0";
  const approx = streaming || usage.estimated;
  const digits = usage.cost_usd < 0.01 ? 4 : 2;
  return `${approx ? "≈ " : ""}$${usage.cost_usd.toFixed(digits)}`;
}

/** Context used as the meter shows it ("ctx 3.1k / 128k", "ctx 812 / unknown"); empty when the turn's
 * context is not known (a turn stored before it was counted, an offline answer). */
export function formatContext(usage: Usage): string {
  const used = usage.context_tokens ?? 0;
  if (used <= 0) return "";
  const window = usage.context_window ?? null;
  return `ctx ${compactTokens(used)} / ${window === null ? "unknown" : compactTokens(window)}`;
}

/** 812, 3.1k, 128k, 1M: one decimal below ten of a unit, none above. */
export function compactTokens(n: number): string {
  const unit = (value: number, suffix: string) => {
    const text = value < 10 ? value.toFixed(1) : Math.round(value).toString();
    return `${text.replace(/\.0$/, "")}${suffix}`;
  };
  if (n < 1000) return String(n);
  if (n < 999_500) return unit(n / 1000, "k");
  return unit(n / 1_000_000, "M");
}

/** Tokens in/out as the meter shows them ("1,234 in · 56 out"). */
export function formatTokens(usage: Usage): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `${n(usage.input_tokens)} in · ${n(usage.output_tokens)} out`;
}

export const SPECIALIST_NAMES: Record<Specialist, string> = {
  supervisor: "Supervisor",
  neuroscientist: "Neuroscientist",
  analyst: "Analyst",
  coach: "Coach",
  offline: "Offline analyst",
  safety: "Safety",
};
