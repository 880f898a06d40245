// What the chat's status line says of each provider: untested until a probe (the connection test's
// one-word request) asked it, up with the answer's latency, or down with the reason. Pure: the chip
// component draws these, the tests check them.
import type { ProviderStatus } from "./backend";

export type ProviderChip = {
  state: ProviderStatus["health"]["state"];
  /** "● openai", "○ ollama · local", "? spare". */
  label: string;
  /** The chip's tooltip: the latency, the reason it is down, or that it was not asked yet. */
  title: string;
  /** The chip's class beside `chip`. */
  tone: "" | "chip-bad" | "muted";
};

export function providerChip(p: ProviderStatus): ProviderChip {
  const name = `${p.name}${p.local ? " · local" : ""}`;
  const h = p.health;
  switch (h.state) {
    case "up":
      return { state: h.state, label: `● ${name}`, title: `Answered a test request in ${h.latency_ms} ms`, tone: "" };
    case "down":
      return { state: h.state, label: `○ ${name}`, title: `Down: ${h.reason}`, tone: "chip-bad" };
    case "untested":
      return { state: h.state, label: `? ${name}`, title: "Not asked yet: the status checks it in the background", tone: "muted" };
  }
}
