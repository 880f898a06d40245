// Alerts as the Live view and History list them: the message, rule and times, and on click (or Enter)
// the evidence the rule read — the values, the window, since when the condition held, its steps.
import { createRoot, createSignal, For, Show, type Accessor, type JSX } from "solid-js";
import type { Alert } from "../ipc";
import { formatClock, formatNumber, formatSessionTime } from "../format";

function Evidence(props: { alert: Alert }): JSX.Element {
  const ev = () => props.alert.evidence;
  return (
    <div class="alert-evidence" data-testid="alert-evidence">
      <table class="kv"><tbody>
        <For each={ev().values}>{(v) => (
          <tr><th>{v.name}</th><td class="num">{formatNumber(v.value, v.value !== null && Math.abs(v.value) >= 100 ? 0 : 3)}</td></tr>
        )}</For>
        <tr><th>Window</th><td>{`${formatSessionTime(ev().window_from_ms)} – ${formatSessionTime(ev().window_to_ms)}`}</td></tr>
        <Show when={ev().held_since_ms !== null}>
          <tr><th>Held since</th><td>{formatSessionTime(ev().held_since_ms ?? 0)}</td></tr>
        </Show>
        <Show when={ev().steps_at_ms.length > 0}>
          <tr><th>Steps at</th><td>{ev().steps_at_ms.map(formatSessionTime).join(", ")}</td></tr>
        </Show>
      </tbody></table>
    </div>
  );
}

export function AlertItem(props: { alert: Alert }): JSX.Element {
  const [open, setOpen] = createSignal(false);
  const a = props.alert;
  return (
    <li class={`alert sev-${a.severity}`} classList={{ open: open() }} data-testid="alert-item" data-rule={a.rule}
      tabIndex={0} role="button" aria-expanded={open() ? "true" : "false"}
      onClick={() => setOpen((o) => !o)}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          setOpen((o) => !o);
        }
      }}>
      <div class="alert-head">
        <span class="sev-dot" aria-hidden="true" />
        <span class="alert-msg">{a.message}</span>
        <span class="muted small">{`${a.rule} · ${formatClock(a.at_unix_ms)} · ${formatSessionTime(a.at_ms)}`}</span>
      </div>
      <Show when={open()}><Evidence alert={a} /></Show>
    </li>
  );
}

/** Newest first; an alert keeps its row (and whether it is open) as newer ones arrive above it. */
export function AlertList(props: { alerts: Accessor<readonly Alert[]> }): JSX.Element {
  return <ul class="alerts"><For each={props.alerts()}>{(a) => <AlertItem alert={a} />}</For></ul>;
}

/** The list as a detached element, for views not written in Solid (History). Its root is never
 * disposed: nothing outside the list observes its signals, so it is collected with the element. */
export function alertList(alerts: readonly Alert[]): HTMLElement {
  return createRoot(() => <AlertList alerts={() => alerts} />) as HTMLElement;
}
