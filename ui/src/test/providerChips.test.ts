// @vitest-environment happy-dom
// The status line's provider chips as a view: they show what the status knows at once, ask for a probe in
// the background with every new status (the chat opening, a turn ending), show what it found, and drop a
// probe's answer that comes after a newer one was asked for.
import { describe, expect, it } from "vitest";
import { createSignal } from "solid-js";
import { render } from "solid-js/web";
import { ProviderChips } from "../chat/ProviderStatus";
import type { ChatBackend, ChatStatus, ProviderStatus } from "../chat/backend";

const statusWith = (providers: ProviderStatus[]): ChatStatus =>
  ({ providers, day_left_usd: null, month_left_usd: null, model: "smart", local_model: false, offline_reason: null });
const fake = (state: "untested" | "up" | "down"): ProviderStatus => ({
  name: "fake",
  local: true,
  health: state === "up" ? { state, latency_ms: 12 } : state === "down" ? { state, reason: "nothing answered at the base URL" } : { state },
});

/** A backend whose probes the test answers, in any order. */
function probing() {
  const asked: ((s: ChatStatus) => void)[] = [];
  const backend = {
    probe: () => new Promise<ChatStatus>((resolve) => { asked.push(resolve); }),
  } as unknown as ChatBackend;
  return { backend, asked };
}

const chip = (root: HTMLElement) => root.querySelector<HTMLElement>("[data-testid=provider-status]");
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("provider chips", () => {
  it("show the status at once, then what the probe found; a late answer to an older probe is dropped", async () => {
    const root = document.createElement("div");
    const { backend, asked } = probing();
    const [status, setStatus] = createSignal<ChatStatus | undefined>(statusWith([fake("untested")]));
    const dispose = render(() => ProviderChips({ backend, get status() { return status(); } }), root);

    expect(chip(root)?.dataset.state).toBe("untested");
    expect(asked.length).toBe(1);
    asked[0](statusWith([fake("up")]));
    await settle();
    expect(chip(root)?.dataset.state).toBe("up");
    expect(chip(root)?.textContent).toBe("● fake · local");

    // A turn ended: a new status, a new probe — and another before it answered.
    setStatus(statusWith([fake("down")]));
    expect(asked.length).toBe(2);
    expect(chip(root)?.dataset.state).toBe("down");
    setStatus(statusWith([fake("untested")]));
    expect(asked.length).toBe(3);
    // The older probe answering late changes nothing; the newest one does.
    asked[1](statusWith([fake("up")]));
    await settle();
    expect(chip(root)?.dataset.state).toBe("untested");
    asked[2](statusWith([fake("down")]));
    await settle();
    expect(chip(root)?.dataset.state).toBe("down");
    expect(chip(root)?.title).toBe("Down: nothing answered at the base URL");
    dispose();
  });

  it("probe nothing when no model is set up", () => {
    const root = document.createElement("div");
    const { backend, asked } = probing();
    const offline = { ...statusWith([]), offline_reason: "no AI provider is set up" };
    const dispose = render(() => ProviderChips({ backend, status: offline }), root);
    expect(asked.length).toBe(0);
    expect(chip(root)).toBeNull();
    dispose();
  });
});
