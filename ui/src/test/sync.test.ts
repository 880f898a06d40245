// The sync chip's classes and glyphs, the sign-in form's checks, the hints per error code, and the words and
// the retry for the rows the server refused.
import { describe, expect, it } from "vitest";
import {
  canRetryParked, chipClass, chipGlyph, errorHint, isSignedIn, resendText, serverProblem, signInProblems,
  type ParkedResend, type ParkedRow, type SyncState, type SyncStatus,
} from "../sync/model";

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

describe("parked rows", () => {
  const row = (resend: ParkedResend): ParkedRow => ({
    outbox_id: 1, kind: "beats", code: "unknown_session", message: "m", parked: "p", points_at: "beats of a session", session_id: null, resend,
  });
  const never = row({ when: "never" });
  const onRetry = row({ when: "on_retry" });
  const waiting = row({ when: "waits_for_type", change_type: "signals" });

  it.each([
    [[], false],
    [[never], false],
    [[never, never], false],
    [[never, onRetry], true],
    [[waiting], true],
  ] as [ParkedRow[], boolean][])("retry enabled %#", (rows, enabled) => expect(canRetryParked(rows)).toBe(enabled));

  it.each([
    [onRetry.resend, "sent again when you retry"],
    [waiting.resend, "goes by itself once the server accepts signals"],
    [never.resend, "parked by an older version: cannot be sent again (its data stays here)"],
  ] as [ParkedResend, string][])("%j", (resend, words) => expect(resendText(resend)).toBe(words));
});
