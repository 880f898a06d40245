// Small pieces several views use: cards, error notes, busy buttons.
import { h, type Child } from "../dom";
import { errorText } from "../ipc";

export function card(title: string | null, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, title ? h("h2", { class: "card-title" }, title) : null, children);
}

export function pageHeader(title: string, subtitle?: string, ...actions: Child[]): HTMLElement {
  return h("div", { class: "page-head" },
    h("div", null, h("h1", null, title), subtitle ? h("p", { class: "muted" }, subtitle) : null),
    h("div", { class: "page-actions" }, actions));
}

export function errorNote(e: unknown): HTMLElement {
  return h("div", { class: "note note-bad", role: "alert" }, errorText(e));
}

export function spinner(label = "Working…"): HTMLElement {
  return h("span", { class: "spinner-wrap" }, h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), h("span", { class: "sr-only" }, label));
}

/** Runs `work` with the button disabled and a spinner in it. */
export async function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  const label = button.textContent ?? "";
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "";
  button.append(spinner(label), document.createTextNode(` ${label}`));
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

export function stat(label: string, value: HTMLElement | string, unit = ""): HTMLElement {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label),
    h("div", { class: "stat-value" }, value, unit ? h("span", { class: "stat-unit" }, unit) : null));
}
