// The chat turn model: events fold into what the window shows, Stop freezes the text, the meter formats.
import { describe, expect, it } from "vitest";
import { applyEvent, cancelAnswered, endsTurn, formatCost, formatTokens, guardOfSteps, newFlow, newTurn, showEvent, shownChars, stepFlow, stopDrawn, stopTurn, type ChatEvent, type FlowInput, type Step, type TurnFlow } from "../chat/turn";
import type { ClaimMark } from "../chat/markdown";

const usage = { input_tokens: 1200, output_tokens: 80, cost_usd: 0.00042, estimated: false, model_calls: 2 };
const cancelledGuard: ChatEvent = { type: "guard", guard: "cancelled", message: "the turn was cancelled" };
const claim62 = { text: "62 ms", grounded: true, route: "history/day/2026-11-30", receipt: "r-1" };

describe("turn model", () => {
  it("folds a whole turn", () => {
    const events: ChatEvent[] = [
      { type: "routed", specialist: "analyst", by: "rules" },
      { type: "tool_call", call_id: "c1", name: "get_trend", arguments: { metric: "ln_rmssd", days: 7 } },
      { type: "tool_result", call_id: "c1", name: "get_trend", result: { points: [1, 2, 3] }, receipts: ["r-1"] },
      { type: "text", delta: "Your HRV " },
      { type: "text", delta: "is 62 ms." },
      { type: "claim", claim: claim62 },
      { type: "usage", usage },
      { type: "done", answer: "Your HRV is 62 ms.", specialist: "analyst", offline: false, claims: [claim62], usage },
    ];
    const t = events.reduce(applyEvent, newTurn());
    expect(t.specialist).toBe("analyst");
    expect(t.status).toBe("done");
    expect(t.text).toBe("Your HRV is 62 ms.");
    expect(t.steps).toHaveLength(1);
    const step = t.steps[0];
    expect(step.kind === "tool" && [step.result_bytes, step.receipts]).toEqual([JSON.stringify({ points: [1, 2, 3] }).length, ["r-1"]]);
    expect(t.claims.map((c) => c.receipt)).toEqual(["r-1"]);
  });
  it("keeps the claims of an answer that replaced the text folded so far (the model's words, then the offline answer)", () => {
    const t = ([
      { type: "text", delta: "Your readiness " },
      { type: "error", code: "model_unavailable", message: "the model fell over" },
      { type: "text", delta: "Offline answer: 62 ms." },
      { type: "claim", claim: claim62 },
      { type: "done", answer: "Offline answer: 62 ms.", specialist: "offline", offline: true, claims: [claim62], usage },
    ] satisfies ChatEvent[]).reduce(applyEvent, newTurn());
    expect([t.status, t.text, t.claims]).toEqual(["done", "Offline answer: 62 ms.", [claim62]]);
  });
  it("keeps a stopped turn stopped when the final event arrives", () => {
    let t = applyEvent(newTurn(), { type: "text", delta: "Half" });
    t = cancelAnswered(stopTurn(t), "stopped");
    t = showEvent(t, cancelledGuard);
    t = showEvent(t, { type: "done", answer: "Half", specialist: "coach", offline: false, claims: [], usage });
    expect([t.status, t.text]).toEqual(["stopped", "Half"]);
  });
  // The Stop accepted: "Stopping…" until the turn's cancel guard says it is stored as stopped.
  it.each<[string, ChatEvent, { status: string; text: string; error: string | null }]>([
    ["more text", { type: "text", delta: " and more" }, { status: "stopping", text: "Half", error: null }],
    ["the cancel guard", cancelledGuard, { status: "stopped", text: "Half", error: null }],
    ["another guard", { type: "guard", guard: "time_budget", message: "out of time" }, { status: "stopping", text: "Half", error: null }],
    ["the offline analyst's text", { type: "text", delta: "Offline answer" }, { status: "stopping", text: "Half", error: null }],
    ["a turn that could not be stored", { type: "error", code: "turn_failed", message: "the turn could not be run or stored: database is locked" },
      { status: "stopped", text: "Half", error: "turn_failed" }],
    ["a model error (the offline analyst answers next)", { type: "error", code: "model_unavailable", message: "no provider answered" },
      { status: "stopping", text: "Half", error: null }],
  ])("after Stop, %s leaves the text frozen", (_, ev, want) => {
    const t = showEvent(cancelAnswered(stopTurn(applyEvent(newTurn(), { type: "text", delta: "Half" })), "stopped"), ev);
    expect({ status: t.status, text: t.text, error: t.error?.code ?? null }).toEqual(want);
  });
  it.each<[ChatEvent, boolean]>([
    [{ type: "done", answer: "", specialist: "coach", offline: false, claims: [], usage }, true],
    [{ type: "error", code: "turn_failed", message: "x" }, true],
    [{ type: "error", code: "model_unavailable", message: "x" }, false],
    [{ type: "text", delta: "x" }, false],
  ])("%o ends the turn: %s", (ev, ends) => expect(endsTurn(ev)).toBe(ends));
  // What is stored is what is shown: after a Stop the turn answered `stopped`, its `done` carries the stored
  // answer. Each row is what the Rust turn sends after the Stop (auren-agents `Turn::fall_back` and
  // `stopped_late`; the desktop's chat_stop test checks the same cases there).
  const referral = "Call 112 now.\n\n";
  const offlineText = "Offline analyst — from your data, no model. Readiness today: 62 ms.";
  const offlineDone: ChatEvent = { type: "done", answer: offlineText, specialist: "offline", offline: true, claims: [claim62], usage };
  const coachDone = (answer: string, claims: ClaimMark[]): ChatEvent => ({ type: "done", answer, specialist: "coach", offline: false, claims, usage });
  // A claim sent for text the window never drew (the Rust turn grounds the whole streamed answer first).
  const undrawnClaim: ChatEvent = { type: "claim", claim: { text: "70 ms", grounded: false, route: null, receipt: null } };
  // The claims shown are the done's (the stored answer's), whatever was sent before: each row's `claims`.
  it.each<[string, string, ChatEvent[], { status: string; text: string; offline: boolean; specialist: string | null; guard: string | null; claims: string[] }]>([
    // Some model text drawn and cut: the stored answer is that text; it stays frozen and stopped, its
    // number marked though no claim came before the Stop.
    ["model text drawn and cut", "Half at 62 ms", [{ type: "text", delta: " and 70 ms" }, undrawnClaim, cancelledGuard, coachDone("Half at 62 ms", [claim62])],
      { status: "stopped", text: "Half at 62 ms", offline: false, specialist: "coach", guard: "cancelled", claims: ["62 ms"] }],
    // Nothing drawn: the cancellation guard's outcome is the offline analyst's answer, stored whole — drawn,
    // labelled (offline, its specialist, its claims) and stopped, not left as an empty frozen turn.
    ["nothing drawn", "", [{ type: "text", delta: "word0 " }, cancelledGuard, { type: "text", delta: offlineText }, offlineDone],
      { status: "stopped", text: offlineText, offline: true, specialist: "offline", guard: "cancelled", claims: ["62 ms"] }],
    ["only the red-flag referral drawn", referral, [cancelledGuard, { type: "text", delta: offlineText }, { ...offlineDone, answer: referral + offlineText }],
      { status: "stopped", text: referral + offlineText, offline: true, specialist: "offline", guard: "cancelled", claims: ["62 ms"] }],
    // The model had tripped a guard before the Stop (its note held with the rest); the offline answer, none
    // of it drawn, stands and is not stored as stopped: shown with the guard's note, not "Stopped.".
    ["nothing drawn after the model's time ran out", "", [{ type: "guard", guard: "time_budget", message: "out of time" }, { type: "text", delta: offlineText }, offlineDone],
      { status: "done", text: offlineText, offline: true, specialist: "offline", guard: "time_budget", claims: ["62 ms"] }],
    // Everything drawn (a first call's words, then the answer): nothing cut, the answer stored as a turn
    // nobody stopped — the last call's text, with its claims.
    ["all drawn, nothing cut", "Let me look. Half at 62 ms", [coachDone("Half at 62 ms", [claim62])],
      { status: "done", text: "Half at 62 ms", offline: false, specialist: "coach", guard: null, claims: ["62 ms"] }],
    // A guard after the cancel one does not hide the Stop (as `guardOfSteps` prefers it).
    ["the cancel guard, then another", "Half", [cancelledGuard, { type: "guard", guard: "budget", message: "refused" }, coachDone("Half", [])],
      { status: "stopped", text: "Half", offline: false, specialist: "coach", guard: "cancelled", claims: [] }],
  ])("after Stop with %s, the done shows what was stored", (_, drawn, events, want) => {
    const streaming = drawn ? applyEvent(newTurn(), { type: "text", delta: drawn }) : newTurn();
    const t = events.reduce(showEvent, cancelAnswered(stopTurn({ ...streaming, specialist: "coach" }), "stopped"));
    expect({ status: t.status, text: t.text, offline: t.offline, specialist: t.specialist, guard: t.guard?.guard ?? null, claims: t.claims.map((c) => c.text) })
      .toEqual(want);
  });
  it("marks offline answers", () => {
    const t = applyEvent(newTurn(), { type: "routed", specialist: "offline", by: "offline" });
    expect(t.offline).toBe(true);
  });
});

describe("what Stop tells the turn it drew", () => {
  // The turn (Rust) keeps the first `shownChars` chars of what it streamed: the count must be Rust's `char`s,
  // whatever the text's UTF-16 length (JavaScript's) or UTF-8 length (the wire's).
  it.each<[string, string, number, number, number]>([
    ["nothing", "", 0, 0, 0],
    ["ASCII", "word0 word1 ", 12, 12, 12],
    ["a precomposed accent", "r\u00e9cup\u00e9ration", 12, 12, 14],
    ["a combining accent (a char of its own in Rust too)", "re\u0301cupe\u0301ration", 14, 14, 16],
    ["an emoji outside the BMP (a surrogate pair)", "heart \u{1FAC0} rate", 12, 13, 15],
    ["a ZWJ sequence (six code points, one glyph)", "\u{1F469}\u200D\u2764\uFE0F\u200D\u{1F468}", 6, 8, 20],
    ["CJK", "\u5FC3\u62CD", 2, 2, 6],
  ])("%s", (_, text, chars, utf16, utf8) => {
    expect([shownChars(text), text.length, new TextEncoder().encode(text).length]).toEqual([chars, utf16, utf8]);
  });
  it("a count of code points never ends inside a surrogate pair", () => {
    const text = "a\u{1FAC0}b\u{1F469}\u200D\u{1F468}c";
    for (let n = 0; n <= shownChars(text); n++) {
      const kept = Array.from(text).slice(0, n).join("");
      expect(text.startsWith(kept) && shownChars(kept) === n && !/[\uD800-\uDBFF]$/.test(kept)).toBe(true);
    }
  });

  const streaming = (drawn: string) => applyEvent(newTurn(), { type: "text", delta: drawn });
  const done: ChatEvent = { type: "done", answer: "Half and more", specialist: "coach", offline: false, claims: [], usage };
  it.each<[string, string, ChatEvent[], { text: string; shown: number } | null]>([
    ["nothing waiting", "Half", [], { text: "Half", shown: 4 }],
    // What is still waiting for the next frame was never seen: neither frozen in nor counted.
    ["text waiting for the next frame", "Half", [{ type: "text", delta: " and more" }, { type: "usage", usage }],
      { text: "Half", shown: 4 }],
    ["drawn text with an emoji", "Heart \u{1FAC0}", [{ type: "text", delta: " beats" }], { text: "Heart \u{1FAC0}", shown: 7 }],
    // The turn has ended; the next frame draws its end as usual.
    ["the turn's end waiting for the next frame", "Half", [{ type: "text", delta: " and more" }, done], null],
    ["a failure that ends the turn waiting", "Half", [{ type: "error", code: "turn_failed", message: "x" }], null],
    ["a model error waiting (the turn goes on)", "Half", [{ type: "error", code: "model_unavailable", message: "x" }],
      { text: "Half", shown: 4 }],
  ])("Stop with %s", (_, drawn, pending, want) => {
    const stopped = stopDrawn(streaming(drawn), pending);
    expect(stopped && { text: stopped.turn.text, shown: stopped.shown }).toEqual(want);
    // Frozen, but not "Stopped." until the turn says so.
    if (stopped) expect(stopped.turn.status).toBe("stopping");
  });
  it.each<[string, ChatEvent, string, boolean]>([
    // The offline analyst's answer streams after a model error: the turn is live, and Stop works.
    ["a model error", { type: "error", code: "model_unavailable", message: "no provider answered" }, "streaming", true],
    ["a failure that ends the turn", { type: "error", code: "turn_failed", message: "database is locked" }, "error", false],
  ])("after %s, the turn's status and whether Stop stops it", (_, error, status, stops) => {
    const t = applyEvent(applyEvent(streaming("Your readiness "), error), { type: "text", delta: "Offline answer: 62 ms." });
    expect([t.status, t.error?.code, stopDrawn(t, []) !== null]).toEqual([status, error.type === "error" && error.code, stops]);
  });
  it("nothing to stop once the turn is no longer streaming", () => {
    expect(stopDrawn(stopTurn(streaming("Half")), [])).toBeNull();
    expect(stopDrawn(applyEvent(streaming("Half"), done), [])).toBeNull();
  });

  // Stop pressed with " and more" waiting for the frame; the view holds it and what comes next until the
  // turn answers the Stop, then folds them onto the turn as `cancelAnswered` leaves it.
  it.each<[string, "stopped" | "already_finished", ChatEvent[], { status: string; text: string }]>([
    ["the turn stopped", "stopped", [{ type: "text", delta: " and more" }, { type: "usage", usage }, cancelledGuard, { ...done, answer: "Half" }],
      { status: "stopped", text: "Half" }],
    // Too late (the answer was being stored, or its done was on its way): drawn to its end, not "Stopped.".
    ["the Stop came too late", "already_finished", [{ type: "text", delta: " and more" }, { type: "usage", usage }, done],
      { status: "done", text: "Half and more" }],
  ])("%s: the held events are folded onto the answered turn", (_, outcome, held, want) => {
    const stopped = stopDrawn(streaming("Half"), held.slice(0, 1));
    expect(stopped).not.toBeNull();
    if (!stopped) return;
    const t = held.reduce(showEvent, cancelAnswered(stopped.turn, outcome));
    expect({ status: t.status, text: t.text }).toEqual(want);
    expect(endsTurn(held[held.length - 1])).toBe(true);
  });
  it("a turn no longer stopped is left as it is by a late answer", () => {
    const ended = applyEvent(streaming("Half"), done);
    expect(cancelAnswered(ended, "already_finished")).toBe(ended);
  });
});

describe("a live turn from Stop to its end (stepFlow)", () => {
  const ev = (event: ChatEvent): FlowInput => ({ kind: "event", event });
  const frame: FlowInput = { kind: "frame" };
  const stop: FlowInput = { kind: "stop" };
  const more: ChatEvent = { type: "text", delta: " and more" };
  const cancelled = cancelledGuard;
  // The stored answer as the turn sends it: unlike the text folded so far, so a row where the held delta
  // was lost (or drawn onto a stopped turn) cannot pass on the `done` alone.
  const done = (answer: string): ChatEvent => ({ type: "done", answer, specialist: "coach", offline: false, claims: [], usage });
  const run = (inputs: FlowInput[]): TurnFlow => inputs.reduce(stepFlow, newFlow());
  const seen = (f: TurnFlow) => ({ text: f.turn.text, status: f.turn.status, end: f.end, error: f.turn.error?.code ?? null });
  // "Half" drawn, " and more" waiting for the frame when Stop is pressed.
  const stopped = [ev({ type: "text", delta: "Half" }), frame, ev(more), stop];

  it.each<[string, FlowInput[], ReturnType<typeof seen>]>([
    // Not "Stopped." before the turn says so: the Stop may come too late.
    ["Stop pressed, not answered yet: frozen, stopping", stopped,
      { text: "Half", status: "stopping", end: "running", error: null }],
    // Accepted: still "Stopping…" until the cancel guard says the turn is stored as stopped.
    ["stopped, answered before the done: frozen, still stopping", [...stopped, { kind: "answer", outcome: "stopped" }],
      { text: "Half", status: "stopping", end: "running", error: null }],
    ["stopped, answered, then its cancel guard", [...stopped, { kind: "answer", outcome: "stopped" }, ev(cancelled), frame],
      { text: "Half", status: "stopped", end: "running", error: null }],
    // Accepted after the model's last word with everything drawn: nothing was cut, and the done comes
    // without the cancel guard — the turn ends as one nobody stopped, never having said "Stopped.".
    ["stopped with all drawn, answered: still stopping",
      [ev({ type: "text", delta: "Half" }), frame, stop, { kind: "answer", outcome: "stopped" }],
      { text: "Half", status: "stopping", end: "running", error: null }],
    ["stopped with all drawn, its done without the guard", [ev({ type: "text", delta: "Half" }), frame, stop, { kind: "answer", outcome: "stopped" }, ev(done("Half")), frame],
      { text: "Half", status: "done", end: "ended", error: null }],
    ["stopped, then its done", [...stopped, { kind: "answer", outcome: "stopped" }, ev(cancelled), ev(done("Half")), frame],
      { text: "Half", status: "stopped", end: "ended", error: null }],
    ["stopped, answered after the done", [...stopped, ev(cancelled), ev(done("Half")), { kind: "answer", outcome: "stopped" }],
      { text: "Half", status: "stopped", end: "ended", error: null }],
    // Stop with none of the answer drawn ("word0" waiting for the frame): the offline analyst's answer
    // that follows the Stop is the stored one, and is drawn.
    ["stopped with nothing drawn, then the offline analyst's answer",
      [ev({ type: "text", delta: "word0" }), stop, { kind: "answer", outcome: "stopped" }, ev(cancelled), ev({ type: "text", delta: "Offline answer." }),
        ev({ type: "done", answer: "Offline answer.", specialist: "offline", offline: true, claims: [], usage }), frame],
      { text: "Offline answer.", status: "stopped", end: "ended", error: null }],
    // Too late, answered before the done: the held delta is drawn at once and the turn streams on.
    ["too late, answered before the done", [...stopped, { kind: "answer", outcome: "already_finished" }],
      { text: "Half and more", status: "streaming", end: "running", error: null }],
    ["too late, then more text", [...stopped, { kind: "answer", outcome: "already_finished" }, ev({ type: "text", delta: "." }), frame],
      { text: "Half and more.", status: "streaming", end: "running", error: null }],
    ["too late, answered after the done", [...stopped, ev(done("Half and more, stored.")), { kind: "answer", outcome: "already_finished" }],
      { text: "Half and more, stored.", status: "done", end: "ended", error: null }],
    // The cancel call failed: nothing says the turn stopped, so it runs on until its own done — the view
    // neither says "Stopped." nor ends the turn (a new question would meet the old turn's text and done).
    ["the cancel call failed", [...stopped, { kind: "cancel_failed" }],
      { text: "Half and more", status: "streaming", end: "running", error: null }],
    ["the cancel call failed, then the done", [...stopped, { kind: "cancel_failed" }, ev(done("Half and more, stored.")), frame],
      { text: "Half and more, stored.", status: "done", end: "ended", error: null }],
    // Stop before the turn had an id, then the send itself failed: no turn runs; the frozen text and the
    // failure stay.
    ["Stop before the id, then send rejected", [...stopped, { kind: "send_failed", message: "no store" }],
      { text: "Half", status: "stopped", end: "failed", error: "turn_failed" }],
    ["send rejected without a Stop", [ev({ type: "text", delta: "Half" }), frame, { kind: "send_failed", message: "no store" }],
      { text: "Half", status: "error", end: "failed", error: "turn_failed" }],
  ])("%s", (_, inputs, want) => expect(seen(run(inputs))).toEqual(want));

  it("a second Stop changes nothing: the first one's held events stand", () => {
    const once = run(stopped);
    expect(once.held).toEqual([more]);
    expect(stepFlow(once, stop)).toEqual(once);
  });
  it("nothing is held when the turn's end is waiting for the frame (it is drawn to its end)", () => {
    const f = run([ev({ type: "text", delta: "Half" }), frame, ev(done("Half and more")), stop]);
    expect(f.held).toBeNull();
    expect(seen(stepFlow(f, frame))).toEqual({ text: "Half and more", status: "done", end: "ended", error: null });
  });
  it("events after the turn's end are dropped", () => {
    const ended = run([ev({ type: "text", delta: "Half" }), ev(done("Half")), ev({ type: "text", delta: "late" }), frame]);
    expect(seen(ended)).toEqual({ text: "Half", status: "done", end: "ended", error: null });
    const after = [ev({ type: "text", delta: " late" }), ev(done("other")), frame].reduce(stepFlow, ended);
    expect(seen(after)).toEqual(seen(ended));
  });
});

describe("cost meter", () => {
  it.each([
    [usage, false, false, "$0.0004"],
    [usage, false, true, "≈ $0.0004"],
    [{ ...usage, estimated: true }, false, false, "≈ $0.0004"],
    [{ ...usage, cost_usd: 1.5 }, false, false, "$1.50"],
    [usage, true, true, "local · $0"],
  ])("%o local=%s streaming=%s → %s", (u, local, streaming, want) => expect(formatCost(u, local, streaming)).toBe(want));
  it("formats tokens", () => expect(formatTokens(usage)).toBe("1,200 in · 80 out"));
});

describe("guard of a stored turn", () => {
  const other = (name: string, payload: unknown): Step => ({ kind: "other", name, payload });
  const request: Step = { kind: "request", model: "openai:gpt-4.1", body: "{}" };
  it.each<[string, Step[], ReturnType<typeof guardOfSteps>]>([
    ["no steps", [], null],
    ["a budget refusal", [other("routed", {}), other("guard", { guard: "budget", message: "refused" })], { guard: "budget", message: "refused" }],
    ["a Stop after a request", [request, other("guard", { guard: "cancelled", message: "the turn was cancelled" })], { guard: "cancelled", message: "the turn was cancelled" }],
    // A guard tripped (the offline analyst answered), then a Stop cut back to the model's text: stopped.
    ["a Stop after another guard", [other("guard", { guard: "time_budget", message: "out of time" }), other("guard", { guard: "cancelled", message: "the turn was cancelled" })],
      { guard: "cancelled", message: "the turn was cancelled" }],
    ["two guards without a Stop: the first", [other("guard", { guard: "model_calls", message: "a" }), other("guard", { guard: "budget", message: "b" })],
      { guard: "model_calls", message: "a" }],
    ["a guard without a message", [other("guard", { guard: "time_budget" })], { guard: "time_budget", message: "" }],
    ["an unknown guard name", [other("guard", { guard: "rm -rf", message: "x" })], null],
    ["a name inherited by every object", [other("guard", { guard: "constructor", message: "x" })], null],
    ["an error step is not a guard", [other("error", { code: "model_unavailable", message: "down" })], null],
    ["a payload that is not an object", [other("guard", "budget")], null],
  ])("%s", (_, steps, want) => expect(guardOfSteps(steps)).toEqual(want));
});
