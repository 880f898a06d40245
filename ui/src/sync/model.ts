// The Sync pane's and the header chip's pure logic: the chip's class per state, the sign-in form's
// checks (the same ones Rust makes, so the button says why before a round trip), and the words for an
// error code. Every number and time shown comes from Rust in the status itself.
import type { ErrorCode } from "../bindings";
import type { DataOf } from "../ipc";

export type SyncStatus = DataOf<"syncStatus">;
export type SyncState = SyncStatus["state"];
export type SignInForm = Parameters<typeof import("../bindings").commands.syncSignIn>[0];
export type SignInMode = SignInForm["mode"];
export type DeviceCode = DataOf<"syncDeviceCodeStart">;
export type DeviceCodeState = DataOf<"syncDeviceCodePoll">;
export type Device = DataOf<"syncDevices">[number];
export type CoachAccess = DataOf<"syncCoachAccess">;
export type SyncReport = DataOf<"syncNow">;

/** The chip's CSS classes: green when synced, amber while rows wait or the server is away, red on an error. */
export function chipClass(state: SyncState): string {
  const tone: Record<SyncState, string> = {
    synced: "sync-ok",
    syncing: "sync-busy",
    pending: "chip-low",
    offline: "chip-low",
    error: "chip-bad",
    signed_out: "sync-off",
  };
  return `chip sync-chip ${tone[state]}`;
}

/** The chip's glyph, so the state reads without colour too. */
export function chipGlyph(state: SyncState): string {
  const glyph: Record<SyncState, string> = {
    synced: "✓", syncing: "⟳", pending: "↑", offline: "⌁", error: "!", signed_out: "○",
  };
  return glyph[state];
}

export interface FormProblem {
  field: "server" | "email" | "password";
  message: string;
}

/** Why `text` is not a server address, or null when it is one. */
export function serverProblem(text: string): string | null {
  const server = text.trim().replace(/\/+$/, "");
  const rest = server.replace(/^https?:\/\//, "");
  if (rest === server) return "The server address starts with http:// or https://.";
  if (rest === "" || /\s/.test(rest)) return "That is not a server address.";
  return null;
}

/** What keeps the sign-in form from being sent. */
export function signInProblems(form: Pick<SignInForm, "server" | "email" | "password">): FormProblem[] {
  const problems: FormProblem[] = [];
  const server = serverProblem(form.server);
  if (server !== null) problems.push({ field: "server", message: server });
  const email = form.email.trim();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) problems.push({ field: "email", message: "An email address is needed." });
  if (form.password === "") problems.push({ field: "password", message: "A password is needed." });
  return problems;
}

/** A hint beside the server's sentence for the codes a person can act on. */
export function errorHint(code: ErrorCode): string | null {
  switch (code) {
    case "sync_bad_credentials": return "Check the email and the password.";
    case "sync_email_taken": return "Choose “Sign in” instead of “Create account”.";
    case "sync_unreachable": return "Check the server address and the network; sync retries on its own once signed in.";
    case "sync_signed_out": return "Sign in again below.";
    default: return null;
  }
}

/** Whether the pane shows the signed-in parts (devices, coach access, Sync now). */
export function isSignedIn(status: SyncStatus): boolean {
  return status.account !== null && status.state !== "signed_out";
}

export type ParkedRow = SyncStatus["parked"][number];
export type ParkedResend = ParkedRow["resend"];

/** Whether "Retry parked rows" has anything to send: a row parked by an older version cannot go again. */
export function canRetryParked(rows: readonly ParkedRow[]): boolean {
  return rows.some((r) => r.resend.when !== "never");
}

/** What a retry does for one row, in words beside its reason. */
export function resendText(resend: ParkedResend): string {
  switch (resend.when) {
    case "on_retry": return "sent again when you retry";
    case "waits_for_type": return `goes by itself once the server accepts ${resend.change_type}`;
    case "never": return "parked by an older version: cannot be sent again (its data stays here)";
  }
}
