// The header's sync chip: one `watchSync` channel for the window's life feeds `syncStatus`, which the
// chip and the Sync pane both read. Synced / Pending N / Offline / Sync error; the reason on hover.
import { h, setText } from "../dom";
import { call, newChannel } from "../ipc";
import { Store } from "../state";
import { chipClass, chipGlyph, type SyncStatus } from "./model";

/** The latest status Rust sent (null until the first arrives). */
export const syncStatus = new Store<SyncStatus | null>(null);

/** The chip element; it subscribes once and links to Settings → Sync. */
export function mountSyncChip(): HTMLElement {
  const chip = h("a", { class: "chip sync-chip sync-off", href: "#/settings/sync", testid: "sync-chip", hidden: true });
  const render = (s: SyncStatus | null) => {
    chip.hidden = s === null;
    if (s === null) return;
    chip.className = chipClass(s.state);
    chip.dataset.state = s.state;
    chip.title = s.detail;
    chip.setAttribute("aria-label", `Sync: ${s.label}. ${s.detail}`);
    setText(chip, `${chipGlyph(s.state)} ${s.label}`);
  };
  syncStatus.subscribe(render);
  call("watchSync", newChannel<SyncStatus>((s) => syncStatus.set(s)))
    // The channel may already have sent a newer one.
    .then((s) => { if (syncStatus.get() === null) syncStatus.set(s); })
    .catch((e: unknown) => console.warn("sync status unavailable", e));
  return chip;
}
