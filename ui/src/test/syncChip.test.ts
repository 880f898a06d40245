// The sync chip's text: a pending chip names the rows held for an older server, so it does not look stuck.
import { describe, expect, it } from "vitest";
import { chipText } from "../sync/chip";
import type { SyncStatus } from "../sync/model";

const status = (over: Partial<SyncStatus>): SyncStatus => ({
  state: "synced", label: "Synced", detail: "", reason: null, retry_in_s: null, last_synced: null,
  pending_rows: 0, held_rows: 0, parked: [], account: null, suggested_device_name: "vm", settings_revision: 0,
  refused_settings: [], ...over,
});

describe("sync chip text", () => {
  it.each([
    [status({}), "Synced"],
    [status({ state: "pending", label: "Pending 5", pending_rows: 5 }), "Pending 5"],
    [status({ state: "pending", label: "Pending 5", pending_rows: 5, held_rows: 3 }), "Pending 5 (3 held for a server upgrade)"],
    [status({ state: "offline", label: "Offline", pending_rows: 5, held_rows: 3 }), "Offline"],
  ])("%# → %s", (s, text) => {
    expect(chipText(s)).toBe(text);
  });
});
