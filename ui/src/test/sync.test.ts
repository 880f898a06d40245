// The sync chip's classes and glyphs, the sign-in form's checks, and the hints per error code.
import { describe, expect, it } from "vitest";
import { chipClass, chipGlyph, errorHint, isSignedIn, serverProblem, signInProblems, type SyncState, type SyncStatus } from "../sync/model";

const status = (over: Partial<SyncStatus>): SyncStatus => ({
  state: "synced", label: "Synced", detail: "", reason: null, retry_in_s: null, last_synced: null,
  pending_rows: 0, held_rows: 0, parked: [], account: null, suggested_device_name: "vm", settings_revision: 0, refused_settings: [], ...over,
});
const account = { server: "http://127.0.0.1:8080", email: "a@b.org", device_id: "d", signed_in: "2026-12-04 03:00 UTC", tokens_in: null };

describe("sync chip", () => {
  it.each([
    ["synced", "chip sync-chip sync-ok", "✓"],
    ["syncing", "chip sync-chip sync-busy", "⟳"],
    ["pending", "chip sync-chip chip-low", "↑"],
    ["offline", "chip sync-chip chip-low", "⌁"],
    ["error", "chip sync-chip chip-bad", "!"],
    ["signed_out", "chip sync-chip sync-off", "○"],
  ] as [SyncState, string, string][])("%s", (state, cls, glyph) => {
    expect(chipClass(state)).toBe(cls);
    expect(chipGlyph(state)).toBe(glyph);
  });

  it.each([
    [status({ account }), true],
    [status({ account: null }), false],
    // The server refused the tokens: the account is kept to fill in the form, but it is signed out.
    [status({ account, state: "signed_out" }), false],
  ])("signed in %#", (s, expected) => expect(isSignedIn(s)).toBe(expected));
});

describe("sign-in form", () => {
  it.each([
    ["http://127.0.0.1:8080", null],
    [" https://sync.example.org/ ", null],
    ["sync.example.org", "The server address starts with http:// or https://."],
    ["http://", "The server address starts with http:// or https://."],
    ["http://sync", null],
    ["http://a b", "That is not a server address."],
    ["", "The server address starts with http:// or https://."],
  ])("server %j", (text, problem) => expect(serverProblem(text)).toBe(problem));

  it("names every missing field, and nothing when all is there", () => {
    expect(signInProblems({ server: "x", email: "nope", password: "" }).map((p) => p.field)).toEqual(["server", "email", "password"]);
    expect(signInProblems({ server: "http://h:1", email: " a@b.org ", password: "pw" })).toEqual([]);
  });

  it.each([
    ["sync_bad_credentials", "Check the email and the password."],
    ["sync_email_taken", "Choose “Sign in” instead of “Create account”."],
    ["storage", null],
  ] as const)("hint for %s", (code, hint) => expect(errorHint(code)).toBe(hint));
});
