// Settings: theme, RR unit, max HR and zones, folders, how the coach's memories apply, and where Auren
// keeps things.
import { h, option, replace } from "../dom";
import { call, type AppInfo, type DataOf, type Settings } from "../ipc";
import { settings } from "../state";
import { setTheme, type ThemeChoice } from "../theme";
import { checkSettings, MAX_HR_MAX, MAX_HR_MIN, ZONE_PCT_MAX, ZONE_PCT_MIN } from "../settingsCheck";
import { zonesFromMaxHr } from "../zones";
import { busy, card, errorNote, pageHeader } from "./common";
import { mountAiSettings } from "../aisettings/AiSettingsPane";
import { mountSyncPane } from "../sync/SyncPane";
import { syncStatus } from "../sync/chip";
import { withPulled } from "../sync/pulledSettings";
import { keptDismissals, loadDismissed, refusalKey, refusalSentence, saveDismissed, shownRefusals, type PersonSetting } from "../sync/refusals";

type MemoryApply = DataOf<"getMemoryApply">;

export function mountSettings(root: HTMLElement, params: string[] = []): () => void {
  let alive = true;
  const body = h("div", null, h("p", { class: "muted" }, "Loading settings…"));
  const infoEl = h("div");
  // The AI providers pane (Solid); "#/settings/ai" (the chat's status line) scrolls to it.
  const aiEl = h("div");
  const memoryEl = h("div");
  const syncEl = h("div");
  replace(root, pageHeader("Settings"), body, memoryEl, aiEl, syncEl, infoEl);
  const disposeAi = mountAiSettings(aiEl);
  const disposeSync = mountSyncPane(syncEl);
  if (params[0] === "ai") aiEl.scrollIntoView();
  if (params[0] === "sync") syncEl.scrollIntoView();

  // What the form was filled from, and how to read it: settings pulled from another device refill a form
  // the person has not touched, so a later save does not send the old values back as edits.
  let shown: Settings | null = null;
  let readForm: (() => Settings) | null = null;
  const same = (a: Settings, b: Settings) => JSON.stringify(a) === JSON.stringify(b);
  const unsubscribe = settings.subscribe((next) => {
    if (!alive || next === null || shown === null || readForm === null) return;
    const form = readForm();
    if (same(form, next)) shown = next;
    else if (same(form, shown)) render(next);
  });

  // Values another device set that were not used here, each shown beside its field until dismissed (here
  // only; see sync/refusals.ts). The slots are refilled from the sync status, whose channel sends them.
  const storage = (() => { try { return localStorage; } catch { return null; } })();
  let dismissed = loadDismissed(storage);
  let refusalSlots: [PersonSetting, HTMLElement][] = [];
  const showRefusals = () => {
    const status = syncStatus.get();
    const refused = status?.refused_settings ?? [];
    if (status !== null) {
      const kept = keptDismissals(dismissed, refused);
      if (kept.size !== dismissed.size) saveDismissed(storage, (dismissed = kept));
    }
    for (const [setting, slot] of refusalSlots) {
      const notes = shownRefusals(refused, setting, dismissed);
      // Not `hidden`: the form grid's `> div { display: flex }` would override it.
      slot.style.display = notes.length === 0 ? "none" : "";
      replace(slot, notes.map((r) => h("div", { class: "note note-warn", testid: "settings-refusal", data: { setting } },
        h("span", { testid: "settings-refusal-text" }, refusalSentence(r)), " ",
        h("button", { class: "btn btn-quiet", testid: "settings-refusal-dismiss", on: { click: () => {
          dismissed.add(refusalKey(r));
          saveDismissed(storage, dismissed);
          showRefusals();
        } } }, "Dismiss"))));
    }
  };
  // A round that adopted the person's settings from another device raises the revision: the memory card
  // re-reads its value (the form follows the `settings` store instead).
  let revision: number | null = null;
  let showMemoryApply: ((m: MemoryApply) => void) | null = null;
  const unsubscribeSync = syncStatus.subscribe((s) => {
    if (!alive) return;
    showRefusals();
    if (s === null) return;
    const changed = revision !== null && s.settings_revision !== revision;
    revision = s.settings_revision;
    if (changed) {
      call("getMemoryApply").then((m) => { if (alive) showMemoryApply?.(m); })
        .catch((e: unknown) => console.warn("getMemoryApply:", e));
    }
  });
  const refusalSlot = (setting: PersonSetting): HTMLElement => {
    const slot = h("div", { testid: `settings-refusals-${setting}`, style: { "grid-column": "1 / -1", display: "none" } });
    refusalSlots.push([setting, slot]);
    return slot;
  };

  const render = (s: Settings) => {
    shown = s;
    // The memory card's slot stays: it is not part of this form.
    refusalSlots = refusalSlots.filter(([setting]) => setting === "memory_apply");
    const theme = h("select", { testid: "settings-theme", id: "s-theme" },
      option("system", "Follow the system", s.theme === "system"), option("light", "Light", s.theme === "light"), option("dark", "Dark", s.theme === "dark"));
    const unit = h("select", { testid: "settings-rr-unit", id: "s-unit" }, option("ms", "milliseconds (812 ms)", s.rr_unit === "ms"), option("s", "seconds (0.812 s)", s.rr_unit === "s"));
    const maxHr = h("input", { type: "number", testid: "settings-max-hr", id: "s-maxhr", value: String(s.max_hr), attrs: { min: MAX_HR_MIN, max: MAX_HR_MAX, step: 1 } });
    const zones = s.zones_pct.map((z, i) => h("input", { type: "number", class: "zone-input", testid: `settings-zone-${i + 1}`, ariaLabel: `Zone ${i + 1} upper bound, % of max HR`, value: String(z), attrs: { min: ZONE_PCT_MIN, max: ZONE_PCT_MAX, step: 1 } }));
    const zoneBar = h("div", { class: "zone-bar" });
    const dataDir = h("input", { type: "text", testid: "settings-data-dir", id: "s-data", value: s.data_dir, class: "wide" });
    const exportDir = h("input", { type: "text", testid: "settings-export-dir", id: "s-export", value: s.export_dir, class: "wide" });
    const problemsEl = h("div");
    const saveBtn = h("button", { class: "btn btn-primary", testid: "settings-save" }, "Save settings");

    const read = (): Settings => ({
      ...s,
      theme: theme.value as Settings["theme"],
      rr_unit: unit.value as Settings["rr_unit"],
      max_hr: Number(maxHr.value),
      zones_pct: zones.map((z) => Number(z.value)),
      data_dir: dataDir.value,
      export_dir: exportDir.value,
    });
    readForm = read;
    const renderZones = () => {
      const cur = read();
      const problems = checkSettings(cur);
      for (const el of [maxHr, ...zones, dataDir, exportDir]) el.removeAttribute("aria-invalid");
      const fieldEls: Partial<Record<string, HTMLElement[]>> = { max_hr: [maxHr], zones_pct: zones, data_dir: [dataDir], export_dir: [exportDir] };
      for (const p of problems) for (const el of fieldEls[p.field] ?? []) el.setAttribute("aria-invalid", "true");
      replace(problemsEl, problems.map((p) => h("div", { class: "note note-bad" }, p.message)));
      saveBtn.disabled = problems.length > 0;
      if (problems.some((p) => p.field === "max_hr" || p.field === "zones_pct")) return;
      replace(zoneBar, zonesFromMaxHr(cur.max_hr, cur.zones_pct).map((z) =>
        h("div", { class: `zone-seg z${z.zone}`, style: { flex: String(Math.max(1, z.hiPct - z.loPct)) }, title: `Zone ${z.zone}: ${z.loPct}–${z.hiPct} % of max HR` },
          h("strong", null, `Z${z.zone}`), h("span", null, `${z.loBpm}–${z.hiBpm}`))));
    };
    for (const el of [maxHr, ...zones, dataDir, exportDir]) el.addEventListener("input", renderZones);
    theme.addEventListener("change", () => setTheme(theme.value as ThemeChoice));

    const result = h("div", { attrs: { "aria-live": "polite" } });
    saveBtn.addEventListener("click", () => void busy(saveBtn, async () => {
      try {
        const saved = await call("saveSettings", withPulled(read(), shown, settings.get()));
        settings.set(saved);
        setTheme(saved.theme);
        replace(result, h("div", { class: "note note-good" }, "✓ Settings saved."));
        void loadInfo();
        // An edit replaces a refused value: the status (its notes, the chip's hover) says so at once.
        call("syncStatus").then((st) => syncStatus.set(st)).catch(() => undefined);
      } catch (e) {
        replace(result, errorNote(e));
      }
    }));

    replace(body,
      card("Appearance and units",
        h("div", { class: "form-grid" },
          h("label", { for: "s-theme" }, "Theme"), theme, refusalSlot("theme"),
          h("label", { for: "s-unit" }, "RR intervals in"), unit, refusalSlot("rr_unit"))),
      card("Heart-rate zones",
        h("div", { class: "form-grid" },
          h("label", { for: "s-maxhr" }, "Max HR (bpm)"), maxHr, refusalSlot("max_hr"),
          h("span", null, "Zone upper bounds (% of max HR)"), h("div", { class: "zone-inputs" }, zones.map((z, i) => h("label", { class: "zone-label" }, `Z${i + 1}`, z))),
          refusalSlot("zones_pct")),
        zoneBar),
      card("Folders",
        h("div", { class: "form-grid" },
          h("label", { for: "s-data" }, "Data folder"), h("div", null, dataDir, h("p", { class: "muted small" }, "When you save, the database is copied to this folder and used from then on (a folder that already holds an Auren database is used as it is).")),
          h("label", { for: "s-export" }, "Export folder"), exportDir)),
      problemsEl, h("div", { class: "toolbar" }, saveBtn), result);
    renderZones();
    showRefusals();
  };

  const loadInfo = async () => {
    try {
      const info: AppInfo = await call("appInfo");
      if (!alive) return;
      const row = (k: string, v: string) => h("tr", null, h("th", null, k), h("td", null, h("code", null, v)));
      const logNote = h("div");
      replace(infoEl, card("About Auren",
        h("table", { class: "kv" }, h("tbody", null,
          row("Version", info.version), row("Data folder", info.data_dir), row("Database", info.db_path),
          row("Logs", info.log_dir), row("Exports", info.export_dir))),
        h("div", { class: "toolbar" },
          h("button", { class: "btn", testid: "open-log-folder", on: { click: () => void call("openLogFolder").catch((e: unknown) => replace(logNote, errorNote(e))) } }, "Open log folder"),
          h("button", { class: "btn", on: { click: () => void call("openExportFolder").catch((e: unknown) => replace(logNote, errorNote(e))) } }, "Open export folder")),
        logNote));
    } catch (e) {
      replace(infoEl, errorNote(e));
    }
  };

  // How the coach's memory operations apply: saved on change, a person's setting (it syncs).
  const renderMemoryApply = (current: MemoryApply) => {
    refusalSlots = refusalSlots.filter(([setting]) => setting !== "memory_apply");
    const choice = h("select", { testid: "settings-memory-apply", id: "s-memory-apply" },
      option("ask_first", "Ask me first (proposals wait in the memory panel)", current === "ask_first"),
      option("immediate", "Apply at once (retract or forget them later)", current === "immediate"));
    const note = h("div", { attrs: { "aria-live": "polite" } });
    // What is stored: a failed save puts the select back to it, not to the value first shown.
    let saved = current;
    showMemoryApply = (m) => {
      saved = m;
      // A save in flight answers with the stored value itself.
      if (!choice.disabled) choice.value = m;
    };
    choice.addEventListener("change", () => {
      choice.disabled = true;
      call("setMemoryApply", choice.value as MemoryApply)
        .then((stored) => { saved = stored; choice.value = stored; replace(note, h("div", { class: "note note-good" }, "✓ Saved.")); })
        .catch((e: unknown) => { choice.value = saved; replace(note, errorNote(e)); })
        .finally(() => { choice.disabled = false; });
    });
    replace(memoryEl, card("Coach memory",
      h("div", { class: "form-grid" },
        h("label", { for: "s-memory-apply" }, "What the coach proposes to remember"), choice, refusalSlot("memory_apply")),
      h("p", { class: "muted small" }, "After each answer the coach may propose to remember, change or retract something about you. Asking first leaves each proposal for your yes in the chat's memory panel."),
      note));
    showRefusals();
  };
  call("getMemoryApply").then((m) => { if (alive) renderMemoryApply(m); })
    .catch((e: unknown) => alive && replace(memoryEl, errorNote(e)));

  call("getSettings").then((s) => { if (alive) { settings.set(s); render(s); } })
    .catch((e: unknown) => alive && replace(body, errorNote(e)));
  void loadInfo();
  return () => { alive = false; unsubscribe(); unsubscribeSync(); disposeAi(); disposeSync(); };
}
