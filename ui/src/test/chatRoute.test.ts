// The chat's route: a conversation, and the memory panel on a memory (as of a day) that a memory link opens.
import { describe, expect, it } from "vitest";
import { chatRoute, type ChatRoute } from "../chat/route";

describe("the chat's route", () => {
  it.each<[string, string[], ChatRoute]>([
    ["nothing", [], { conversation: null, memory: null }],
    ["a conversation", ["12"], { conversation: 12, memory: null }],
    ["a memory now", ["12", "memory", "5"], { conversation: 12, memory: { id: 5, asOf: null } }],
    ["a memory as of a day", ["12", "memory", "5", "2026-11-30"], { conversation: 12, memory: { id: 5, asOf: "2026-11-30" } }],
    ["a malformed day: now", ["12", "memory", "5", "yesterday"], { conversation: 12, memory: { id: 5, asOf: null } }],
    ["a malformed memory id: no memory", ["12", "memory", "5x"], { conversation: 12, memory: null }],
    ["a malformed conversation: none", ["x12"], { conversation: null, memory: null }],
    ["another section: no memory", ["12", "notes", "5"], { conversation: 12, memory: null }],
    ["id zero: none", ["0", "memory", "0"], { conversation: null, memory: null }],
  ])("reads %s", (_what, params, route) => {
    expect(chatRoute(params)).toEqual(route);
  });
});
