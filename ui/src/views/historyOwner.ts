// Whose History is shown — the person's own, or (for a coach) an athlete's — as routes, picker entries and
// labels. Pure: the view calls these, and the tests check them without a window.
import type { HistoryOwnerDto } from "../bindings";

export type HistoryOwner = HistoryOwnerDto;

export const OWN: HistoryOwner = { kind: "own" };

/** What the History route names: whose data, and a session of theirs when one is open. */
export type HistoryPlace = { owner: HistoryOwner; sessionId: number | null };

/** The hash route params after `history`: `[]`, `[id]`, `["athlete", email]`, `["athlete", email, id]`. */
export function placeOf(params: string[]): HistoryPlace {
  const id = (p: string | undefined) => (p !== undefined && /^\d+$/.test(p) ? Number(p) : null);
  if (params[0] === "athlete" && params[1] !== undefined) {
    let email: string;
    try {
      email = decodeURIComponent(params[1]);
    } catch {
      // A hand-typed route with a broken escape: the raw text, which the app then reports as unknown.
      email = params[1];
    }
    return { owner: { kind: "athlete", email }, sessionId: id(params[2]) };
  }
  return { owner: OWN, sessionId: id(params[0]) };
}

/** The route of an owner's session list, or of one of their sessions. */
export function routeOf(owner: HistoryOwner, sessionId: number | null = null): string {
  const base = owner.kind === "own" ? "history" : `history/athlete/${encodeURIComponent(owner.email)}`;
  return sessionId === null ? base : `${base}/${sessionId}`;
}

/** A stable key for the picker's options. */
export function ownerKey(owner: HistoryOwner): string {
  return owner.kind === "own" ? "own" : `athlete:${owner.email}`;
}

export function sameOwner(a: HistoryOwner, b: HistoryOwner): boolean {
  return ownerKey(a) === ownerKey(b);
}

/** The picker's label of an owner. */
export function ownerLabel(owner: HistoryOwner): string {
  return owner.kind === "own" ? "My data" : owner.email;
}

/** The picker's entries: the app's list, and the shown owner too when the list no longer has it (a grant
 * withdrawn since, or a hand-typed route), so the picker never claims to show someone else. */
export function pickerEntries(owners: HistoryOwner[], shown: HistoryOwner): HistoryOwner[] {
  const entries = owners.some((o) => o.kind === "own") ? [...owners] : [OWN, ...owners];
  return entries.some((o) => sameOwner(o, shown)) ? entries : [...entries, shown];
}

/** Whether the picker is worth showing: someone besides the person's own data to choose. */
export function pickerNeeded(entries: HistoryOwner[]): boolean {
  return entries.some((o) => o.kind === "athlete");
}

/** The list page's title and subtitle for an owner. */
export function listHeading(owner: HistoryOwner): [string, string] {
  return owner.kind === "own"
    ? ["History", "Every session, and how your mornings are trending."]
    : [`History — ${owner.email}`, "Their sessions and mornings as the last sync fetched them. Read-only: only their own devices change them."];
}

/** The note over an athlete's session, or null for the person's own. */
export function readOnlyNote(owner: HistoryOwner): string | null {
  return owner.kind === "athlete" ? `${owner.email}'s session, shared with you as their coach. Read-only.` : null;
}
