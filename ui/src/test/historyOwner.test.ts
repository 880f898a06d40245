// The History picker's logic: routes to and from whose data is shown, the picker's entries, and the read-only
// note of an athlete's session.
import { describe, expect, it } from "vitest";
import { listHeading, OWN, ownerLabel, pickerEntries, pickerNeeded, placeOf, readOnlyNote, routeOf, type HistoryOwner } from "../views/historyOwner";

const ann: HistoryOwner = { kind: "athlete", email: "ann+run@example.org" };
const bob: HistoryOwner = { kind: "athlete", email: "bob@example.org" };

describe("history routes", () => {
  it.each([
    [[], { owner: OWN, sessionId: null }],
    [["12"], { owner: OWN, sessionId: 12 }],
    [["x"], { owner: OWN, sessionId: null }],
    [["athlete", "ann%2Brun%40example.org"], { owner: ann, sessionId: null }],
    [["athlete", "ann%2Brun%40example.org", "7"], { owner: ann, sessionId: 7 }],
    [["athlete", "bob@example.org", "nope"], { owner: bob, sessionId: null }],
    // A broken escape is kept as typed (the app then says it is not an athlete of this account).
    [["athlete", "%E0%A4%A"], { owner: { kind: "athlete", email: "%E0%A4%A" }, sessionId: null }],
    // "athlete" with no email is not an athlete's route.
    [["athlete"], { owner: OWN, sessionId: null }],
  ] as [string[], ReturnType<typeof placeOf>][])("%j", (params, place) => {
    expect(placeOf(params)).toEqual(place);
  });

  it.each([
    [OWN, null, "history"],
    [OWN, 3, "history/3"],
    [ann, null, "history/athlete/ann%2Brun%40example.org"],
    [ann, 9, "history/athlete/ann%2Brun%40example.org/9"],
  ] as [HistoryOwner, number | null, string][])("route of %j #%s", (owner, id, route) => {
    expect(routeOf(owner, id)).toBe(route);
    // What the route names is what it was made from.
    expect(placeOf(route.split("/").slice(1))).toEqual({ owner, sessionId: id });
  });
});

describe("history picker", () => {
  it.each([
    ["only the own data: no picker", [OWN], OWN, [OWN], false],
    ["own and two athletes, in the app's order", [OWN, ann, bob], bob, [OWN, ann, bob], true],
    ["an athlete no longer granted stays shown", [OWN, bob], ann, [OWN, bob, ann], true],
    ["the list failed: own, and the athlete shown", [], ann, [OWN, ann], true],
    ["the list failed on the own data: no picker", [], OWN, [OWN], false],
  ] as [string, HistoryOwner[], HistoryOwner, HistoryOwner[], boolean][])("%s", (_name, owners, shown, entries, needed) => {
    const got = pickerEntries(owners, shown);
    expect(got).toEqual(entries);
    expect(pickerNeeded(got)).toBe(needed);
  });

  it("labels, headings and the read-only note", () => {
    expect(ownerLabel(OWN)).toBe("My data");
    expect(ownerLabel(bob)).toBe("bob@example.org");
    expect(listHeading(OWN)[0]).toBe("History");
    expect(listHeading(bob)[0]).toBe("History — bob@example.org");
    expect(listHeading(bob)[1]).toMatch(/Read-only/);
    expect(readOnlyNote(OWN)).toBeNull();
    expect(readOnlyNote(bob)).toBe("bob@example.org's session, shared with you as their coach. Read-only.");
  });
});
