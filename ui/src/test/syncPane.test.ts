// @vitest-environment happy-dom
// The Sync pane signed in as a coach, mounted over a fake command layer: each athlete's email links to their
// History at the route History reads (the email escaped as History's own picker writes it).
import { afterEach, describe, expect, it, vi } from "vitest";
import { placeOf } from "../views/historyOwner";

const answers: Record<string, unknown> = {};

vi.mock("../ipc", () => ({
  call: (name: string) =>
    name in answers ? Promise.resolve(answers[name]) : Promise.reject(new Error(`unexpected ${name}`)),
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
