// What the chat's route opens: `#/chat`, `#/chat/<conversation>`, and `#/chat/<conversation>/memory/<id>`
// (the memory panel open on that memory, now) or `.../memory/<id>/<YYYY-MM-DD>` (as of that day: a memory
// retracted or replaced since). A number an answer took from a memory links here; Rust builds the link
// (auren-desktop `chat.rs`, `memory_route`). Pure: the shell passes the route's parts.

/** The memory the panel opens on, and the day it is shown as of (null: now). */
export interface MemoryFocus {
  id: number;
  asOf: string | null;
}

export interface ChatRoute {
  conversation: number | null;
  memory: MemoryFocus | null;
}

const ID = /^[1-9]\d*$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The route's parts after `chat` ("12", "memory", "5", "2026-11-30"); anything else opens no conversation
 * or no memory, never a guessed one. */
export function chatRoute(params: readonly string[]): ChatRoute {
  const [conversation, section, memory, asOf] = params;
  const id = (text: string | undefined) => (text !== undefined && ID.test(text) ? Number(text) : null);
  const focused = section === "memory" ? id(memory) : null;
  return {
    conversation: id(conversation),
    memory: focused === null ? null : { id: focused, asOf: asOf !== undefined && DAY.test(asOf) ? asOf : null },
  };
}
