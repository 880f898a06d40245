// Light/dark: the OS preference unless Settings overrides it, applied as data-theme on <html>.
import { Store } from "./state";

export type ThemeChoice = "system" | "light" | "dark";

const media = typeof window !== "undefined" && window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
let choice: ThemeChoice = "system";

export const themeChanged = new Store<"light" | "dark">("light");

export function resolveTheme(c: ThemeChoice, osDark: boolean): "light" | "dark" {
  return c === "system" ? (osDark ? "dark" : "light") : c;
}

function apply(): void {
  const t = resolveTheme(choice, media?.matches ?? false);
  document.documentElement.dataset.theme = t;
  themeChanged.set(t);
}

export function setTheme(c: ThemeChoice): void {
  choice = c;
  try {
    localStorage.setItem("auren.theme", c);
  } catch {
    // Only a faster first paint is lost.
  }
  apply();
}

export function initTheme(): void {
  try {
    const saved = localStorage.getItem("auren.theme");
    if (saved === "light" || saved === "dark" || saved === "system") choice = saved;
  } catch {
    // Fall back to the OS.
  }
  media?.addEventListener("change", apply);
  apply();
}
