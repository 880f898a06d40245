// The status line's provider chips (Solid): what the status knows at once (the last probes, an open
// breaker), then what a probe in the background finds. Each new status — the chat opening, a turn ending —
// asks the backend to probe the providers whose last probe is stale; a probe answered after a newer one
// started is dropped.
import { createEffect, createSignal, For, on, type JSX } from "solid-js";
import type { ChatBackend, ChatStatus, ProviderStatus } from "./backend";
import { providerChip } from "./providerHealth";

export function ProviderChips(props: { backend: ChatBackend; status: ChatStatus | undefined }): JSX.Element {
  const [probed, setProbed] = createSignal<ProviderStatus[] | null>(null);
  let asked = 0;
  createEffect(on(() => props.status, (status) => {
    setProbed(null);
    if (!status || status.offline_reason) return;
    const mine = ++asked;
    props.backend.probe()
      .then((s) => { if (mine === asked) setProbed(s.providers); })
      // A failed probe call leaves the status's own knowledge on show.
      .catch(() => undefined);
  }));
  const providers = () => probed() ?? props.status?.providers ?? [];
  return (
    <For each={providers()}>{(p) => {
      const chip = providerChip(p);
      return <span class={`chip ${chip.tone}`.trim()} data-testid="provider-status" data-provider={p.name} data-state={chip.state} title={chip.title}>{chip.label}</span>;
    }}</For>
  );
}
