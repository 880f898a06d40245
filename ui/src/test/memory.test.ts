// The memory panel's logic: grouping order, importance order, and the words for provenance, validity,
// proposals and hypotheses.
import { describe, expect, it } from "vitest";
import { groupMemories, hypothesisEffect, proposalLabel, provenanceLabel, validityLabel, type Memory } from "../chat/memory";

const memory = (over: Partial<Memory>): Memory => ({
  id: 1, kind: "fact", text: "t", provenance: { kind: "person" }, importance: 0.5, importance_label: "0.50",
  valid_from: "2026-11-01", valid_to: null, recorded: "2026-11-01", state: "active", superseded_by: null,
  supersede_reason: null, retracted: null, retract_reason: null, ...over,
});

describe("memory panel", () => {
  it("groups by kind in a fixed order, most important first, empty kinds left out", () => {
    const sections = groupMemories([
      memory({ id: 1, kind: "goal", importance: 0.2 }),
      memory({ id: 2, kind: "fact", importance: 0.1 }),
      memory({ id: 3, kind: "goal", importance: 0.9 }),
      memory({ id: 4, kind: "insight", importance: null }),
    ]);
    expect(sections.map((s) => [s.label, s.items.map((m) => m.id)])).toEqual([
      ["Facts", [2]], ["Goals", [3, 1]], ["Insights", [4]],
    ]);
  });

  it.each([
    [{ kind: "person" } as const, "told directly"],
    [{ kind: "message", message: 12 } as const, "said in message 12"],
    [{ kind: "other_device", device: "a1b2", message: 12 } as const, "said in a conversation on another device"],
    [{ kind: "receipt", receipt: "r-1" } as const, "computed (receipt r-1)"],
  ])("names provenance %j", (p, label) => expect(provenanceLabel(p)).toBe(label));

  it.each([
    [memory({}), "since 2026-11-01"],
    [memory({ valid_to: "2026-12-01", state: "superseded", superseded_by: 7, supersede_reason: "moved" }),
      "2026-11-01 – 2026-12-01 · replaced by memory 7: moved"],
    [memory({ state: "superseded", valid_to: "2026-12-01", supersede_reason: "x" }),
      "2026-11-01 – 2026-12-01 · replaced by a forgotten memory: x"],
    [memory({ state: "retracted", retracted: "2026-11-05", retract_reason: "wrong" }),
      "since 2026-11-01 · retracted 2026-11-05: wrong"],
  ])("labels validity %#", (m, label) => expect(validityLabel(m)).toBe(label));

  it("says what a proposal would change", () => {
    const base = { id: 1, target: null, kind: null, text: null, reason: null, proposed: "2026-12-01" };
    expect(proposalLabel({ ...base, op: "add", kind: "preference", text: "short answers" })).toBe("Remember (preference): short answers");
    expect(proposalLabel({ ...base, op: "retract", target: 4, reason: "wrong" })).toBe("Withdraw memory 4 — wrong");
    expect(proposalLabel({ ...base, op: "supersede", target: 4, kind: "goal", text: "10k", reason: "new plan" }))
      .toBe("Replace memory 4 with (goal): 10k — new plan");
  });

  it("describes a hypothesis's expected effect", () => {
    const h = { id: 1, statement: "s", metric: "ln_rmssd", exposure_tag: "alcohol", lag_days: 1, direction: "lower" as const,
      status: "open" as const, evidence: [], last_tested: null, memory: null };
    expect(hypothesisEffect(h)).toBe("ln_rmssd lower next morning after alcohol");
    expect(hypothesisEffect({ ...h, lag_days: 3, direction: "either" })).toBe("ln_rmssd changes 3 days later after alcohol");
  });
});
