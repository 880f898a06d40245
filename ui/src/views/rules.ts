// Rules: the CEP rules text with a line-number gutter; problems from checkRules are marked at
// their line and clicking one puts the caret there.
import { h, replace, setText } from "../dom";
import { call, toFailure, type RuleProblem, type RulesRunning } from "../ipc";
import { lineCount, offsetOf, problemsByLine } from "../rulesmap";
import { busy, card, errorNote, pageHeader } from "./common";

export function mountRules(root: HTMLElement): () => void {
  const editor = h("textarea", {
    class: "code", testid: "rules-editor", id: "rules-editor", ariaLabel: "Rules",
    attrs: { spellcheck: "false", autocapitalize: "off", autocomplete: "off", wrap: "off" },
  });
  const gutter = h("div", { class: "gutter", attrs: { "aria-hidden": "true" } });
  const problemsEl = h("ul", { class: "problems" });
  const status = h("div", { class: "rules-status", attrs: { "aria-live": "polite" } });
  const badge = h("span", { class: "badge" });
  let problems: RuleProblem[] = [];
  let savedText = "";
  let renderedLines = 0;

  const renderGutter = () => {
    const n = lineCount(editor.value);
    const byLine = problemsByLine(editor.value, problems);
    if (n !== renderedLines || byLine.size > 0 || gutter.querySelector(".has-problem")) {
      replace(gutter, Array.from({ length: n }, (_, i) => {
        const line = i + 1;
        const ps = byLine.get(line);
        return h("div", { class: `ln${ps ? " has-problem" : ""}`, title: ps ? ps.map((p) => p.message).join("\n") : "" }, String(line));
      }));
      renderedLines = n;
    }
    gutter.scrollTop = editor.scrollTop;
  };
  const renderDirty = () => {
    setText(badge, editor.value === savedText ? "saved" : "unsaved changes");
    badge.className = `badge${editor.value === savedText ? "" : " badge-warn"}`;
  };

  const goTo = (p: RuleProblem) => {
    const off = offsetOf(editor.value, p.line, p.column);
    editor.focus();
    editor.setSelectionRange(off, off);
    const lh = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (p.line - 3) * lh);
    renderGutter();
  };

  const showProblems = (list: RuleProblem[]) => {
    problems = list;
    replace(problemsEl, list.map((p) =>
      h("li", null, h("button", {
        class: "problem", testid: "rules-problem", data: { line: p.line, column: p.column },
        on: { click: () => goTo(p) },
      }, h("span", { class: "mono" }, `${p.line}:${p.column}`), p.rule ? h("span", { class: "muted" }, ` ${p.rule} — `) : " ", p.message))));
    renderGutter();
  };

  const checkBtn = h("button", { class: "btn", testid: "rules-check" }, "Check");
  const saveBtn = h("button", { class: "btn btn-primary", testid: "rules-save" }, "Save");
  const resetBtn = h("button", { class: "btn btn-quiet", testid: "rules-reset" }, "Reset to defaults");

  const check = () => busy(checkBtn, async () => {
    try {
      const list = await call("checkRules", editor.value);
      showProblems(list);
      replace(status, list.length ? h("span", { class: "bad" }, `${list.length} problem${list.length === 1 ? "" : "s"}`) : h("span", { class: "good" }, "✓ The rules are valid."));
    } catch (e) {
      replace(status, errorNote(e));
    }
  });
  checkBtn.addEventListener("click", () => void check());
  saveBtn.addEventListener("click", () => void busy(saveBtn, async () => {
    try {
      const r = await call("saveRules", editor.value);
      savedText = r.text;
      showProblems([]);
      replace(status, h("span", { class: "good" }, "✓ Saved. New sessions use these rules."));
      renderDirty();
    } catch (e) {
      if (toFailure(e).code === "invalid_rules") {
        const list = await call("checkRules", editor.value).catch(() => [] as RuleProblem[]);
        showProblems(list);
      }
      replace(status, errorNote(e));
    }
  }));
  resetBtn.addEventListener("click", () => {
    if (!window.confirm("Replace your rules with the shipped defaults?")) return;
    void busy(resetBtn, async () => {
      try {
        const r = await call("resetRules");
        editor.value = savedText = r.text;
        showProblems([]);
        replace(status, "Rules reset to the defaults.");
        renderDirty();
      } catch (e) {
        replace(status, errorNote(e));
      }
    });
  });
  editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; });
  editor.addEventListener("input", () => { renderGutter(); renderDirty(); });
  editor.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); saveBtn.click(); }
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); checkBtn.click(); }
  });

  replace(root,
    pageHeader("Rules", "Alerts come from these rules, checked against every live session. Ctrl+Enter checks, Ctrl+S saves."),
    card(null, h("div", { class: "toolbar" }, checkBtn, saveBtn, resetBtn, badge, status),
      h("div", { class: "editor" }, gutter, editor),
      problemsEl));

  call("getRules").then((r) => {
    editor.value = savedText = r.text;
    setText(badge, rulesBadge(r.running));
    if (r.running === "defaults_instead") {
      // Rules from a newer build or another device that this one cannot read: said, not hidden.
      badge.className = "badge badge-warn";
      showProblems(r.problems);
      replace(status, h("span", { class: "bad", testid: "rules-defaults-instead" },
        "These rules don't work in this version of Auren, so sessions run the default rules until they are fixed."));
    }
    renderGutter();
  }).catch((e: unknown) => replace(status, errorNote(e)));
  return () => undefined;
}

/** The badge beside the editor for what the sessions run. */
export function rulesBadge(running: RulesRunning): string {
  switch (running) {
    case "defaults": return "defaults";
    case "edited": return "saved";
    case "defaults_instead": return "not running — defaults run";
  }
}
