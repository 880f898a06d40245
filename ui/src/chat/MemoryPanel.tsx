// "What Auren knows about me" (Solid): the memories by kind as of a chosen date, pending proposals to
// confirm or reject, hypotheses with status and evidence, and per memory edit (a supersession with a
// reason), retract (with a reason) and forget (after a confirm). Every date and number shown comes from Rust.
// Opened by a memory link (`focus`), it shows that memory — as of the link's day when it no longer stands —
// marked and scrolled into view.
import { createEffect, createResource, createSignal, For, Show, type JSX } from "solid-js";
import {
  groupMemories, hypothesisEffect, KIND_LABELS, proposalLabel, provenanceLabel, STATUS_LABELS, validityLabel,
  type Memory, type MemoryBackend,
} from "./memory";
import type { MemoryFocus } from "./route";

export function MemoryPanel(props: { backend: MemoryBackend; focus?: MemoryFocus | null }): JSX.Element {
  const b = props.backend;
  const focus = props.focus ?? null;
  const [asOf, setAsOf] = createSignal<string | null>(focus?.asOf ?? null);
  const [error, setError] = createSignal<string | null>(null);
  // The source is an object so "now" (null) still fetches: createResource skips a falsy source.
  const [data, { refetch }] = createResource(() => ({ at: asOf() }), (k) => b.panel(k.at));
  const act = async (work: Promise<void>) => {
    try {
      await work;
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String((e as { message?: string }).message ?? e));
    }
    await refetch();
  };
  const past = () => asOf() !== null;
  // The linked memory, once drawn: scrolled to (the panel may list many).
  let panel: HTMLElement | undefined;
  createEffect(() => {
    if (focus === null || !data()) return;
    panel?.querySelector<HTMLElement>(`[data-testid=memory-item][data-id="${focus.id}"]`)?.scrollIntoView?.({ block: "center" });
  });
  const focusMissing = () => focus !== null && data() !== undefined && !(data()?.memories ?? []).some((m) => m.id === focus.id);

  return (
    <aside ref={panel} class="memory-panel card" data-testid="memory-panel">
      <h2>What Auren knows about me</h2>
      <label class="small">As of{" "}
        <input type="date" data-testid="memory-as-of" value={asOf() ?? ""}
          onChange={(e) => setAsOf(e.currentTarget.value || null)} />
      </label>
      <Show when={past()}>
        <button class="btn btn-chip" data-testid="memory-as-of-now" onClick={() => setAsOf(null)}>Now</button>
      </Show>
      <Show when={error()}>{(why) => <p class="chip chip-bad" data-testid="memory-error">{why()}</p>}</Show>
      <Show when={focusMissing()}>
        <p class="muted small" data-testid="memory-focus-missing">The memory the answer used is not in this view.</p>
      </Show>
      <Show when={data()}>{(d) => (
        <>
          <p class="muted small" data-testid="memory-shown-date">Showing what was known on {d().as_of}</p>
          <Show when={!past() && d().proposals.length > 0}>
            <section data-testid="memory-proposals">
              <h3>Proposed — confirm or reject</h3>
              <For each={d().proposals}>{(p) => (
                <div class="memory-item" data-testid="memory-proposal" data-id={p.id}>
                  <span>{proposalLabel(p)}</span> <span class="muted small">{p.proposed}</span>
                  <button class="btn btn-chip" data-testid="proposal-confirm" onClick={() => void act(b.confirm(p.id))}>Confirm</button>
                  <button class="btn btn-chip" data-testid="proposal-reject" onClick={() => void act(b.reject(p.id))}>Reject</button>
                </div>)}
              </For>
            </section>
          </Show>
          <For each={groupMemories(d().memories)} fallback={<p class="muted" data-testid="memory-empty">Nothing remembered yet.</p>}>
            {(section) => (
              <section data-testid={`memory-section-${section.kind}`}>
                <h3>{section.label}</h3>
                <For each={section.items}>{(m) => <MemoryItem memory={m} readOnly={past()} backend={b} act={act} focused={m.id === focus?.id} />}</For>
              </section>)}
          </For>
          <section data-testid="memory-hypotheses">
            <h3>{KIND_LABELS.hypothesis} under test</h3>
            <For each={d().hypotheses} fallback={<p class="muted small">No hypotheses yet.</p>}>{(h) => (
              <div class="memory-item" data-testid="memory-hypothesis" data-id={h.id} data-status={h.status}>
                <div>{h.statement}</div>
                <div class="muted small">{hypothesisEffect(h)}</div>
                <span class={`chip chip-${h.status}`} data-testid="hypothesis-status">{STATUS_LABELS[h.status]}</span>
                <Show when={h.last_tested}>{(t) => <span class="muted small"> tested {t()}</span>}</Show>
                <Show when={h.evidence.length > 0}>
                  <ul class="memory-evidence small" data-testid="hypothesis-evidence">
                    <For each={h.evidence}>{(line) => <li>{line}</li>}</For>
                  </ul>
                </Show>
              </div>)}
            </For>
          </section>
        </>)}
      </Show>
    </aside>
  );
}

function MemoryItem(props: { memory: Memory; readOnly: boolean; backend: MemoryBackend; act: (w: Promise<void>) => Promise<void>; focused: boolean }): JSX.Element {
  const m = props.memory;
  const [mode, setMode] = createSignal<"view" | "edit" | "retract" | "forget">("view");
  let text: HTMLInputElement | undefined;
  let reason: HTMLInputElement | undefined;
  const submit = () => {
    const why = reason?.value.trim() ?? "";
    const work = mode() === "edit"
      ? props.backend.edit(m.id, text?.value.trim() ?? "", why)
      : props.backend.retract(m.id, why);
    setMode("view");
    void props.act(work);
  };
  return (
    <div class="memory-item" classList={{ "memory-focused": props.focused }} data-testid="memory-item" data-id={m.id} data-state={m.state}
      data-focused={String(props.focused)} aria-current={props.focused ? "true" : undefined}
      style={props.focused ? { outline: "2px solid var(--accent-2)", "border-radius": "6px" } : undefined}>
      <div data-testid="memory-text">{m.text}</div>
      <div class="muted small">
        <span data-testid="memory-validity">{validityLabel(m)}</span> · {provenanceLabel(m.provenance)} · importance{" "}
        {m.importance_label} · recorded {m.recorded}
      </div>
      <Show when={!props.readOnly && m.state === "active"}>
        <Show when={mode() !== "view"} fallback={
          <span class="chat-actions-inline">
            <button class="btn btn-chip" data-testid="memory-edit" onClick={() => setMode("edit")}>Edit</button>
            <button class="btn btn-chip" data-testid="memory-retract" onClick={() => setMode("retract")}>Retract</button>
            <button class="btn btn-chip" data-testid="memory-forget" onClick={() => setMode("forget")}>Forget</button>
          </span>}>
          {/* Asked in the panel, not in a modal confirm(): the question sits next to what it is about. */}
          <Show when={mode() === "forget"} fallback={<form class="memory-form" onSubmit={(e) => { e.preventDefault(); submit(); }}>
            <Show when={mode() === "edit"}>
              <input ref={text} class="wide" data-testid="memory-edit-text" value={m.text} aria-label="New text" />
            </Show>
            <input ref={reason} class="wide" data-testid="memory-reason" placeholder="Reason" aria-label="Reason" required />
            <button class="btn btn-chip btn-primary" type="submit" data-testid="memory-save">{mode() === "edit" ? "Save" : "Retract"}</button>
            <button class="btn btn-chip" type="button" data-testid="memory-cancel" onClick={() => setMode("view")}>Cancel</button>
          </form>}>
            <div class="memory-form" data-testid="memory-forget-ask">
              <span class="small">Forget this and every earlier version, everywhere it was quoted? This cannot be undone.</span>
              <button class="btn btn-chip btn-primary" data-testid="memory-forget-confirm"
                onClick={() => { setMode("view"); void props.act(props.backend.forget(m.id)); }}>Forget</button>
              <button class="btn btn-chip" data-testid="memory-cancel" onClick={() => setMode("view")}>Cancel</button>
            </div>
          </Show>
        </Show>
      </Show>
    </div>
  );
}
