// The chat turn model: events fold into what the window shows, Stop freezes the text, the meter formats.
import { describe, expect, it } from "vitest";
import { applyEvent, endsTurn, formatCost, formatTokens, guardOfSteps, newTurn, showEvent, stopTurn, type ChatEvent, type Step } from "../chat/turn";

const usage = { input_tokens: 1200, output_tokens: 80, cost_usd: 0.00042, estimated: false, model_calls: 2 };

describe("turn model", () => {
  it("folds a whole turn", () => {
    const events: ChatEvent[] = [
      { type: "routed", specialist: "analyst", by: "rules" },
      { type: "tool_call", call_id: "c1", name: "get_trend", arguments: { metric: "ln_rmssd", days: 7 } },
      { type: "tool_result", call_id: "c1", name: "get_trend", result: { points: [1, 2, 3] }, receipts: ["r-1"] },
      { type: "text", delta: "Your HRV " },
      { type: "text", delta: "is 62 ms." },
      { type: "claim", claim: { text: "62 ms", grounded: true, route: "morning/2026-11-30", receipt: "r-1" } },
      { type: "usage", usage },
      { type: "done", answer: "Your HRV is 62 ms.", specialist: "analyst", offline: false, usage },
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
  it("keeps a stopped turn stopped when the final event arrives", () => {
    let t = applyEvent(newTurn(), { type: "text", delta: "Half" });
    t = stopTurn(t);
    t = applyEvent(t, { type: "done", answer: "Half", specialist: "coach", offline: false, usage });
    expect([t.status, t.text]).toEqual(["stopped", "Half"]);
  });
  it.each<[string, ChatEvent, { status: string; text: string; error: string | null }]>([
    ["more text", { type: "text", delta: " and more" }, { status: "stopped", text: "Half", error: null }],
    ["the stored answer", { type: "done", answer: "Half", specialist: "coach", offline: false, usage }, { status: "stopped", text: "Half", error: null }],
    ["the offline analyst's text", { type: "text", delta: "Offline answer" }, { status: "stopped", text: "Half", error: null }],
    ["a turn that could not be stored", { type: "error", code: "turn_failed", message: "the turn could not be run or stored: database is locked" },
      { status: "stopped", text: "Half", error: "turn_failed" }],
    ["a model error (the offline analyst answers next)", { type: "error", code: "model_unavailable", message: "no provider answered" },
      { status: "stopped", text: "Half", error: null }],
  ])("after Stop, %s leaves the text frozen", (_, ev, want) => {
    const t = showEvent(stopTurn(applyEvent(newTurn(), { type: "text", delta: "Half" })), ev);
    expect({ status: t.status, text: t.text, error: t.error?.code ?? null }).toEqual(want);
  });
  it.each<[ChatEvent, boolean]>([
    [{ type: "done", answer: "", specialist: "coach", offline: false, usage }, true],
    [{ type: "error", code: "turn_failed", message: "x" }, true],
    [{ type: "error", code: "model_unavailable", message: "x" }, false],
    [{ type: "text", delta: "x" }, false],
  ])("%o ends the turn: %s", (ev, ends) => expect(endsTurn(ev)).toBe(ends));
  it("marks offline answers", () => {
    const t = applyEvent(newTurn(), { type: "routed", specialist: "offline", by: "offline" });
    expect(t.offline).toBe(true);
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
    ["a guard without a message", [other("guard", { guard: "time_budget" })], { guard: "time_budget", message: "" }],
    ["an unknown guard name", [other("guard", { guard: "rm -rf", message: "x" })], null],
    ["a name inherited by every object", [other("guard", { guard: "constructor", message: "x" })], null],
    ["an error step is not a guard", [other("error", { code: "model_unavailable", message: "down" })], null],
    ["a payload that is not an object", [other("guard", "budget")], null],
  ])("%s", (_, steps, want) => expect(guardOfSteps(steps)).toEqual(want));
});
