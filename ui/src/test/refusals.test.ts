// Refused synced settings in the Settings pane: the sentence, which notes show beside which field, and the
// window's own dismissals (per edit, kept in a storage, dropped once the edit is replaced).
import { describe, expect, it } from "vitest";
import {
  DISMISSED_KEY, keptDismissals, loadDismissed, refusalKey, refusalSentence, saveDismissed, shownRefusals,
  type DismissalStorage, type RefusedSetting,
} from "../sync/refusals";

const maxHr300: RefusedSetting = { setting: "max_hr", value: "300 bpm", problem: "300 bpm is outside 100–240 bpm", edit_id: "1764800000000.0.phone" };
const neon: RefusedSetting = { setting: "theme", value: "neon", problem: "\"neon\" is not a value of it (unknown variant `neon`)", edit_id: "1764800000000.1.phone" };
const maxHr20: RefusedSetting = { ...maxHr300, value: "20 bpm", problem: "20 bpm is outside 100–240 bpm", edit_id: "1764800009000.0.phone" };

/** A storage over a map, as localStorage behaves; `broken` throws like a full or disabled one. */
function memoryStorage(initial: Record<string, string> = {}, broken = false): DismissalStorage & { items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (k) => { if (broken) throw new Error("denied"); return items.get(k) ?? null; },
    setItem: (k, v) => { if (broken) throw new Error("quota"); items.set(k, v); },
  };
}

describe("refusal sentence", () => {
  it.each([
    [maxHr300, "Another device set max HR to 300 bpm — not applied: 300 bpm is outside 100–240 bpm."],
    [neon, "Another device set the theme to neon — not applied: \"neon\" is not a value of it (unknown variant `neon`)."],
    [{ ...maxHr300, setting: "zones_pct", value: "50, 40, 70, 80 %", problem: "the bounds must rise from zone to zone, got [50, 40, 70, 80]." } as RefusedSetting,
      "Another device set the HR zones to 50, 40, 70, 80 % — not applied: the bounds must rise from zone to zone, got [50, 40, 70, 80]."],
    [{ ...neon, setting: "rr_unit", value: "minutes", problem: "\"minutes\" is not a value of it" } as RefusedSetting,
      "Another device set the RR unit to minutes — not applied: \"minutes\" is not a value of it."],
  ])("%#", (r, sentence) => expect(refusalSentence(r)).toBe(sentence));
});

describe("which notes show", () => {
  const all = [maxHr300, neon];
  it.each([
    ["max_hr", new Set<string>(), [maxHr300]],
    ["theme", new Set<string>(), [neon]],
    ["rr_unit", new Set<string>(), []],
    ["max_hr", new Set([refusalKey(maxHr300)]), []],
    // Dismissing the theme's note leaves max HR's.
    ["max_hr", new Set([refusalKey(neon)]), [maxHr300]],
  ] as const)("%s with %o dismissed", (setting, dismissed, expected) => {
    expect(shownRefusals(all, setting, dismissed)).toEqual(expected);
  });

  it("a later bad value of a dismissed setting shows again: a dismissal is for one edit", () => {
    const dismissed = new Set([refusalKey(maxHr300)]);
    expect(shownRefusals([maxHr20, neon], "max_hr", dismissed)).toEqual([maxHr20]);
  });
});

describe("dismissals kept here", () => {
  it("round-trip through the storage", () => {
    const storage = memoryStorage();
    saveDismissed(storage, new Set([refusalKey(neon), refusalKey(maxHr300)]));
    expect(storage.items.get(DISMISSED_KEY)).toBe(JSON.stringify([refusalKey(maxHr300), refusalKey(neon)]));
    expect(loadDismissed(storage)).toEqual(new Set([refusalKey(maxHr300), refusalKey(neon)]));
  });

  it.each([
    ["missing", {}],
    ["not JSON", { [DISMISSED_KEY]: "{oops" }],
    ["not a list", { [DISMISSED_KEY]: "{\"a\":1}" }],
  ])("%s entry: none dismissed", (_, initial) => {
    expect(loadDismissed(memoryStorage(initial))).toEqual(new Set());
  });

  it("keeps only the strings of a mixed list", () => {
    expect(loadDismissed(memoryStorage({ [DISMISSED_KEY]: JSON.stringify(["a@1", 2, null, "b@2"]) }))).toEqual(new Set(["a@1", "b@2"]));
  });

  it("an unavailable storage neither throws nor keeps anything", () => {
    const broken = memoryStorage({}, true);
    expect(() => saveDismissed(broken, new Set(["x"]))).not.toThrow();
    expect(loadDismissed(broken)).toEqual(new Set());
    expect(loadDismissed(null)).toEqual(new Set());
  });

  it("a dismissal of an edit that was replaced is dropped; the others stay", () => {
    const dismissed = new Set([refusalKey(maxHr300), refusalKey(neon)]);
    expect(keptDismissals(dismissed, [neon, maxHr20])).toEqual(new Set([refusalKey(neon)]));
    expect(keptDismissals(dismissed, [])).toEqual(new Set());
  });
});
