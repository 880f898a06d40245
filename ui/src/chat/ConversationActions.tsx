// A conversation's actions in the list: rename in place (Enter saves, Esc keeps the title; leaving the
// field keeps it open rather than saving half a title), export, and delete after a second click in the
// same spot. No window.prompt()/confirm(): those modal dialogs block the page, look like the OS rather than
// the app, and WebKitGTK under WebDriver cannot always answer them.
import { createSignal, Show, type JSX } from "solid-js";
import type { ChatBackend } from "./backend";

/** What the list does after an action: a rename only re-reads the list; a removal also leaves the conversation. */
export interface ConversationChanges {
  renamed: () => void;
  removed: () => void;
}

type Mode = "idle" | "renaming" | "confirmingDelete";

export function ConversationActions(props: { backend: ChatBackend; id: number; title: string } & ConversationChanges): JSX.Element {
  const [mode, setMode] = createSignal<Mode>("idle");
  // Said in the page, not in a modal alert: it stays readable, and a failed action says why.
  const [said, setSaid] = createSignal<{ ok: boolean; text: string } | null>(null);
  const failed = (what: string, e: unknown) =>
    setSaid({ ok: false, text: `${what} failed: ${e instanceof Error ? e.message : String((e as { message?: string }).message ?? e)}` });
  const save = async (format: "markdown" | "json") => {
    try {
      setSaid({ ok: true, text: `Exported to ${await props.backend.exportConversation(props.id, format)}` });
    } catch (e) {
      failed("Export", e);
    }
  };
  const rename = async (title: string) => {
    const t = title.trim();
    setMode("idle");
    if (!t || t === props.title) return;
    try {
      await props.backend.rename(props.id, t);
      props.renamed();
    } catch (e) {
      failed("Rename", e);
    }
  };
  const remove = async () => {
    setMode("idle");
    try {
      await props.backend.remove(props.id);
      props.removed();
    } catch (e) {
      failed("Delete", e);
    }
  };
  return (
    <>
      <Show when={said()}>{(s) => (
        <span class={`small ${s().ok ? "muted" : "chip chip-bad"}`} data-testid="chat-export-result" data-ok={String(s().ok)} aria-live="polite">{s().text}</span>)}
      </Show>
      <Show when={mode() === "renaming"}>
        <input class="wide" data-testid="chat-rename-input" aria-label="New title" value={props.title}
          ref={(el) => queueMicrotask(() => { el.focus(); el.select(); })}
          onKeyDown={(e) => {
            if (e.key === "Enter") { e.preventDefault(); void rename(e.currentTarget.value); }
            if (e.key === "Escape") { e.preventDefault(); setMode("idle"); }
          }} />
      </Show>
      <Show when={mode() === "confirmingDelete"} fallback={
        <span class="chat-actions">
          <button class="btn btn-chip" title="Rename" data-testid="chat-rename" onClick={() => setMode("renaming")}>✎</button>
          <button class="btn btn-chip" title="Export Markdown" data-testid="chat-export-md" onClick={() => void save("markdown")}>MD</button>
          <button class="btn btn-chip" title="Export JSON" data-testid="chat-export-json" onClick={() => void save("json")}>JSON</button>
          <button class="btn btn-chip" title="Delete" data-testid="chat-delete" onClick={() => setMode("confirmingDelete")}>🗑</button>
        </span>}>
        <span class="chat-actions chat-actions-open" role="group" aria-label="Delete this conversation?">
          <span class="small">Delete?</span>
          <button class="btn btn-chip chip-bad" data-testid="chat-delete-yes" onClick={() => void remove()}>Delete</button>
          <button class="btn btn-chip" data-testid="chat-delete-no" onClick={() => setMode("idle")}>Keep</button>
        </span>
      </Show>
    </>
  );
}
