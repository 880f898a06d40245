// @vitest-environment happy-dom
// The Sync pane mounted over a fake command layer: signed in as a coach, each athlete's email links to their
// History at the route History reads (the email escaped as History's own picker writes it); with rows the
// server refused, each shows what it stands for, why and whether it can go again, and "Retry parked rows"
// sends them (disabled while none can go again).
import { afterEach, describe, expect, it, vi } from "vitest";
import { placeOf } from "../views/historyOwner";

const answers: Record<string, unknown> = {};
/** The commands the pane called, in order. */
const calls: string[] = [];

vi.mock("../ipc", () => ({
  call: (name: string) => {
    calls.push(name);
    return name in answers ? Promise.resolve(answers[name]) : Promise.reject(new Error(`unexpected ${name}`));
  },
  toFailure: (e: unknown) => ({ code: "internal", message: String(e) }),
  errorText: (e: unknown) => String(e),
  newChannel: () => ({}),
}));

const { athleteHistoryHref, mountSyncPane } = await import("../sync/SyncPane");

const signedIn = {
  state: "synced", label: "Synced", detail: "", reason: null, retry_in_s: null, last_synced: null,
  pending_rows: 0, parked: [], suggested_device_name: "desk", settings_revision: 0, refused_settings: [],
  account: { server: "http://127.0.0.1:1", email: "coach@example.org", device_id: "d1", signed_in: "today", tokens_in: null },
};

/** Lets every resolved promise's continuation (and Solid's resource updates) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
  calls.length = 0;
  for (const k of Object.keys(answers)) delete answers[k];
});

describe("athleteHistoryHref", () => {
  it.each([
    ["ann@example.org", "#/history/athlete/ann%40example.org"],
    ["a+b@example.org", "#/history/athlete/a%2Bb%40example.org"],
    ["x/y#z@example.org", "#/history/athlete/x%2Fy%23z%40example.org"],
  ])("%s → %s, which History reads back as that athlete", (email, href) => {
    expect(athleteHistoryHref(email)).toBe(href);
    const params = href.replace(/^#\/history\//, "").split("/");
    expect(placeOf(params)).toEqual({ owner: { kind: "athlete", email }, sessionId: null });
  });
});

describe("Sync pane as a coach", () => {
  it("links each athlete's email to their History", async () => {
    Object.assign(answers, {
      syncStatus: signedIn,
      syncDevices: [],
      syncCoachAccess: {
        coaches: [],
        athletes: [
          { email: "ann@example.org", granted: "2026-11-01" },
          { email: "a+b@example.org", granted: "2026-11-02" },
        ],
      },
    });
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    unmount = mountSyncPane(root);
    await settle();
    await settle();

    const links = [...root.querySelectorAll<HTMLAnchorElement>("[data-testid=sync-athlete] a[data-testid=sync-athlete-history]")];
    expect(links.map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["ann@example.org", "#/history/athlete/ann%40example.org"],
      ["a+b@example.org", "#/history/athlete/a%2Bb%40example.org"],
    ]);
  });
});

describe("Sync pane with refused rows", () => {
  const parked = (outbox_id: number, over: Record<string, unknown>) => ({
    outbox_id, kind: "beats", code: "unknown_session", message: "the session was refused", parked: "2026-12-05 02:00 UTC",
    points_at: "beats 0:00–1:30 of the session of 2026-12-03 07:12 UTC", session_id: 7, resend: { when: "on_retry" }, ...over,
  });
  const session = parked(4, {
    kind: "session", code: "invalid_row", message: "started_at is before 2000", points_at: "the session of 1990-01-01 00:00 UTC",
  });
  const waiting = parked(6, {
    kind: "signals", code: "unsupported_row", message: "unknown change type", points_at: "contact and link changes 0:00–0:41 of a session",
    session_id: null, resend: { when: "waits_for_type", change_type: "signals" },
  });
  const old = parked(1, {
    kind: "tag", code: "invalid_row", message: "refused long ago", points_at: "a tag in a session", session_id: null, resend: { when: "never" },
  });

  async function mount(status: unknown): Promise<HTMLElement> {
    Object.assign(answers, { syncStatus: status, syncDevices: [], syncCoachAccess: { coaches: [], athletes: [] } });
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    unmount = mountSyncPane(root);
    await settle();
    await settle();
    return root;
  }
  const rows = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>("[data-testid=sync-parked-row]")];
  const text = (row: HTMLElement, id: string) => row.querySelector(`[data-testid=${id}]`)?.textContent;
  const retryButton = (root: HTMLElement) => root.querySelector<HTMLButtonElement>("[data-testid=sync-retry-parked]");

  it("shows what each row stands for, why, and whether it can go again; Retry sends them and shows the new status", async () => {
    const root = await mount({ ...signedIn, parked: [old, session, waiting] });
    expect(rows(root).map((r) => [r.dataset.resend, text(r, "sync-parked-what"), text(r, "sync-parked-why")])).toEqual([
      ["never", "a tag in a session", "invalid_row: refused long ago"],
      ["on_retry", "the session of 1990-01-01 00:00 UTC", "invalid_row: started_at is before 2000"],
      ["waits_for_type", "contact and link changes 0:00–0:41 of a session", "unsupported_row: unknown change type"],
    ]);
    expect(rows(root).map((r) => text(r, "sync-parked-resend"))).toEqual([
      "(parked by an older version: cannot be sent again (its data stays here); parked 2026-12-05 02:00 UTC)",
      "(sent again when you retry; parked 2026-12-05 02:00 UTC)",
      "(goes by itself once the server accepts signals; parked 2026-12-05 02:00 UTC)",
    ]);
    // A row of a session still here links to it in History; the others are plain text.
    expect(rows(root).map((r) => r.querySelector("a")?.getAttribute("href") ?? null)).toEqual([null, "#/history/7", null]);

    answers.syncRetryParked = { ...signedIn, label: "Synced", parked: [old] };
    const button = retryButton(root);
    expect(button?.disabled).toBe(false);
    button?.click();
    await settle();
    await settle();
    expect(calls.filter((c) => c === "syncRetryParked")).toHaveLength(1);
    expect(rows(root).map((r) => text(r, "sync-parked-what"))).toEqual(["a tag in a session"]);
    expect(retryButton(root)?.disabled).toBe(true);
    expect(root.querySelector("[data-testid=sync-error]")).toBeNull();
  });

  it("keeps Retry disabled while no row can go again, and shows a failed retry's sentence", async () => {
    const root = await mount({ ...signedIn, parked: [old] });
    expect(retryButton(root)?.disabled).toBe(true);
    unmount?.();

    const again = await mount({ ...signedIn, parked: [session] });
    // No syncRetryParked answer: the fake command layer refuses it, as a failed command would.
    retryButton(again)?.click();
    await settle();
    await settle();
    expect(again.querySelector("[data-testid=sync-error]")?.textContent).toContain("unexpected syncRetryParked");
    expect(rows(again)).toHaveLength(1);
    expect(retryButton(again)?.disabled).toBe(false);
  });

  it("shows no refused rows and no Retry when there are none", async () => {
    const root = await mount(signedIn);
    expect(root.querySelector("[data-testid=sync-parked]")).toBeNull();
    expect(retryButton(root)).toBeNull();
  });
});
