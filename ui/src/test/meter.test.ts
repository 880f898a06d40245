// The cost meter's pure parts: a turn's calls added up (an estimate replaced by its call's later count),
// the context shown, and the local alias a budget refusal offers.
import { describe, expect, it } from "vitest";
import { addCalls, applyEvent, compactTokens, formatContext, latestContext, newTurn, type Usage } from "../chat/turn";
import { localAlias } from "../chat/waysOn";

const u = (call: number, input: number, output: number, estimated: boolean, window: number | null = 128_000): Usage => ({
  input_tokens: input, output_tokens: output, cost_usd: input / 1e6, estimated, model_calls: 1, call, context_tokens: input, context_window: window,
});

describe("the meter", () => {
  it("keeps the latest usage of each call and adds the calls up", () => {
    const turn = [u(1, 100, 5, true), u(1, 120, 7, false), u(2, 300, 1, true), u(2, 310, 4, true)]
      .reduce((t, usage) => applyEvent(t, { type: "usage", usage }), newTurn());
    expect([turn.usage.input_tokens, turn.usage.output_tokens, turn.usage.model_calls, turn.usage.estimated, turn.usage.context_tokens])
      .toEqual([430, 11, 2, true, 310]);
    expect(addCalls({ 1: u(1, 120, 7, false) }).estimated).toBe(false);
  });

  it.each<[string, Usage[], number | null]>([
    ["the last turn that knew it", [u(0, 100, 1, false), u(0, 900, 2, false), { ...u(0, 0, 0, false), context_tokens: 0 }], 900],
    ["the newest when all knew it", [u(0, 100, 1, false), u(0, 900, 2, false)], 900],
    ["none when no turn knew it (offline answers, turns stored before it was kept)", [{ ...u(0, 5, 1, false), context_tokens: undefined }], null],
    ["none for no turns", [], null],
  ])("shows the conversation's context as %s", (_what, usages, tokens) => {
    expect(latestContext(usages)?.context_tokens ?? null).toBe(tokens);
  });

  it.each([
    [812, "812"], [3100, "3.1k"], [3149, "3.1k"], [12_400, "12k"], [128_000, "128k"], [1_047_576, "1M"], [2_500_000, "2.5M"],
  ])("writes %i tokens as %s", (n, text) => {
    expect(compactTokens(n)).toBe(text);
  });

  it.each([
    [u(0, 3100, 1, false), "ctx 3.1k / 128k"],
    [u(0, 812, 1, false, null), "ctx 812 / unknown"],
    [{ ...u(0, 0, 0, false), context_tokens: undefined }, ""],
  ])("shows the context used of %o as %s", (usage, text) => {
    expect(formatContext(usage)).toBe(text);
  });
});

describe("the local alias", () => {
  const providers = [{ name: "openai", local: false }, { name: "ollama", local: true }, { name: "lms", local: true }];
  it.each([
    ["the first all-local alias", [{ name: "smart", routes: [{ provider: "openai" }] }, { name: "here", routes: [{ provider: "ollama" }, { provider: "lms" }] }], "here"],
    ["none with a hosted fallback", [{ name: "mixed", routes: [{ provider: "ollama" }, { provider: "openai" }] }], null],
    ["none without routes", [{ name: "empty", routes: [] }], null],
  ])("%s", (_what, aliases, expected) => {
    expect(localAlias(providers, aliases)).toBe(expected);
  });
});
