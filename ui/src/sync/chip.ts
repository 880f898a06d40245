// The header's sync chip: one `watchSync` channel for the window's life feeds `syncStatus`, which the
// chip and the Sync pane both read. Synced / Pending N / Offline / Sync error; the reason on hover. Rows
// held for an older server are named ("Pending 5 (3 held for a server upgrade)"), so a chip that stays
// pending does not look stuck. A raised settings revision (settings pulled from another device) reloads
// the settings.
import { h, setText } from "../dom";
import { call, errorText, newChannel } from "../ipc";
import { settings, Store } from "../state";
import { setTheme } from "../theme";
import { chipClass, chipGlyph, type SyncStatus } from "./model";

/** The latest status Rust sent (null until the first arrives). */
export const syncStatus = new Store<SyncStatus | null>(null);

/** The chip's text: Rust's label, and how many of the pending rows wait for a server upgrade. */
export function chipText(s: SyncStatus): string {
  if (s.state !== "pending" || s.held_rows === 0) return s.label;
  return `${s.label} (${s.held_rows} held for a server upgrade)`;
}

/** The chip element; it subscribes once and links to Settings → Sync. */
export function mountSyncChip(): HTMLElement {
  const chip = h("a", { class: "chip sync-chip sync-off", href: "#/settings/sync", testid: "sync-chip", hidden: true });
  const render = (s: SyncStatus | null) => {
    chip.hidden = s === null;
    if (s === null) return;
    chip.className = chipClass(s.state);
    chip.dataset.state = s.state;
    chip.title = s.detail;
    const text = chipText(s);
    chip.setAttribute("aria-label", `Sync: ${text}. ${s.detail}`);
    setText(chip, `${chipGlyph(s.state)} ${text}`);
  };
  syncStatus.subscribe(render);
  // A round that brought the person's settings from another device raises the revision: reload them.
  let revision: number | null = null;
  syncStatus.subscribe((s) => {
    if (s === null) return;
    const changed = revision !== null && s.settings_revision !== revision;
    revision = s.settings_revision;
    if (!changed) return;
    call("getSettings")
      .then((next) => {
        settings.set(next);
        setTheme(next.theme);
      })
      .catch((e: unknown) => console.warn("getSettings:", errorText(e)));
  });
  call("watchSync", newChannel<SyncStatus>((s) => syncStatus.set(s)))
    // The channel may already have sent a newer one.
    .then((s) => { if (syncStatus.get() === null) syncStatus.set(s); })
    .catch((e: unknown) => console.warn("sync status unavailable", e));
  return chip;
}
