// App-wide state the views share: the chosen source, the settings, and a tiny observable.
import type { Settings, SourceChoice } from "./ipc";
import type { RrUnit } from "./format";

export class Store<T> {
  private listeners = new Set<(v: T) => void>();
  constructor(private value: T) {}
  get(): T {
    return this.value;
  }
  set(v: T): void {
    this.value = v;
    for (const l of [...this.listeners]) l(v);
  }
  subscribe(fn: (v: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

const SOURCE_KEY = "auren.source";

function loadSource(): SourceChoice | null {
  try {
    const raw = localStorage.getItem(SOURCE_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as SourceChoice;
    if (v && (v.kind === "strap" || v.kind === "simulator")) return v;
  } catch {
    // A corrupt entry just means no source is chosen yet.
  }
  return null;
}

export const source = new Store<SourceChoice | null>(loadSource());
source.subscribe((s) => {
  try {
    if (s) localStorage.setItem(SOURCE_KEY, JSON.stringify(s));
    else localStorage.removeItem(SOURCE_KEY);
  } catch {
    // Storage can be unavailable; the choice then lasts for this run only.
  }
});

export const settings = new Store<Settings | null>(null);

export function rrUnit(): RrUnit {
  return settings.get()?.rr_unit ?? "ms";
}

export const SIMULATED_LABEL = "Simulated strap";

export function isSimulatedSource(label: string): boolean {
  return label.toLowerCase().startsWith("simulator") || label.startsWith(SIMULATED_LABEL);
}

/** "Simulated strap" plus the scenario, or the strap's name. */
export function sourceLabel(s: SourceChoice | null): string {
  if (!s) return "No source chosen";
  if (s.kind === "simulator") return `${SIMULATED_LABEL} · ${s.scenario}${s.speed !== null ? `, ${s.speed}×` : ""}`;
  return s.name || s.address;
}
