// Import/Export: bring RR files and .hrmcap captures in as sessions; exports live on each session.
import { h, replace } from "../dom";
import { call } from "../ipc";
import { RECORDING_FORMAT_NAMES } from "../names";
import { busy, card, errorNote, pageHeader } from "./common";

export function mountImport(root: HTMLElement): () => void {
  const path = h("input", { type: "text", testid: "import-path", id: "import-path", class: "wide", placeholder: "/home/you/recording.txt" });
  const choose = h("button", { class: "btn", testid: "import-choose" }, "Choose file…");
  const importBtn = h("button", { class: "btn btn-primary", testid: "import-button" }, "Import");
  const result = h("div", { testid: "import-result", attrs: { "aria-live": "polite" } });

  choose.addEventListener("click", () => void busy(choose, async () => {
    try {
      const p = await call("chooseImportFile");
      if (p) { path.value = p; importBtn.focus(); }
    } catch (e) {
      replace(result, errorNote(e));
    }
  }));
  const doImport = () => {
    if (!path.value.trim()) { replace(result, h("div", { class: "note note-warn" }, "Enter a file path or choose a file first.")); return; }
    void busy(importBtn, async () => {
      try {
        const r = await call("importRecording", path.value.trim());
        replace(result, h("div", { class: "note note-good" },
          h("strong", null, `Imported session #${r.session_id}`), ` — ${RECORDING_FORMAT_NAMES[r.format]}, ${r.beats} beats, ${r.artifacts} artifacts. `,
          h("a", { href: `#/history/${r.session_id}` }, "Open it →"),
          r.warnings.length ? h("details", null, h("summary", null, `${r.warnings.length} warning${r.warnings.length === 1 ? "" : "s"}`), h("ul", null, r.warnings.map((w) => h("li", null, w)))) : null));
      } catch (e) {
        replace(result, errorNote(e));
      }
    });
  };
  importBtn.addEventListener("click", doImport);
  path.addEventListener("keydown", (e) => { if (e.key === "Enter") doImport(); });

  replace(root,
    pageHeader("Import / Export"),
    card("Import a recording",
      h("p", { class: "muted" }, "RR interval files (one interval per line, ms or s — Kubios, Elite HRV, HRV Logger, Polar exports) and Auren's own .hrmcap captures become sessions with the full analysis."),
      h("div", { class: "form-row" }, h("label", { for: "import-path", class: "sr-only" }, "File path"), path, choose, importBtn),
      result),
    card("Export",
      h("p", { class: "muted" }, "Open a session in ", h("a", { href: "#/history" }, "History"), " to export it as CSV, Kubios RR text, or a PNG/SVG report."),
      h("button", { class: "btn", on: { click: () => void call("openExportFolder").catch((e: unknown) => replace(result, errorNote(e))) } }, "Open export folder")));
  return () => undefined;
}
