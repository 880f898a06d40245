// The chat turn model: events fold into what the window shows, Stop freezes the text, the meter formats.
import { describe, expect, it } from "vitest";
import { applyEvent, formatCost, formatTokens, newTurn, stopTurn, type ChatEvent } from "../chat/turn";

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
