// The status line's chip of each provider: untested until probed, up with the probe's latency, down with
// the reason — never "up" for a provider nobody asked.
import { describe, expect, it } from "vitest";
import { providerChip } from "../chat/providerHealth";
import type { ProviderStatus } from "../chat/backend";

describe("provider chips", () => {
  it.each([
    [{ name: "spare", local: false, health: { state: "untested" } }, "untested", "? spare", "muted", "Not asked yet"],
    [{ name: "fake", local: true, health: { state: "up", latency_ms: 42 } }, "up", "● fake · local", "", "42 ms"],
    [{ name: "gone", local: false, health: { state: "down", reason: "nothing answered at the base URL" } }, "down", "○ gone", "chip-bad", "Down: nothing answered at the base URL"],
  ] as [ProviderStatus, string, string, string, string][])("%j", (p, state, label, tone, title) => {
    const chip = providerChip(p);
    expect(chip.state).toBe(state);
    expect(chip.label).toBe(label);
    expect(chip.tone).toBe(tone);
    expect(chip.title).toContain(title);
  });
});
