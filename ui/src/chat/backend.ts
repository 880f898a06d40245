// What the chat window needs from the Rust side, as one interface: the real implementation goes through
// ipc.ts (one typed Channel per turn, cancel as its own command); the view never calls Tauri itself.
import type { ClaimMark } from "./markdown";
import type { MemoryBackend } from "./memory";
import type { ProactiveNotice } from "./proactive";
import type { CancelOutcome, ChatEvent, Specialist, Step, Usage } from "./turn";

export interface ConversationSummary {
  id: number;
  title: string;
  updated_at_ms: number;
  messages: number;
  /** What the conversation cost, every branch included (Rust's sum: the list and the meter show it). */
  spent: Usage;
}

export interface StoredMessage {
  id: number;
  parent_id: number | null;
  role: "user" | "assistant";
  text: string;
  specialist: Specialist | null;
  model: string | null;
  offline: boolean;
  usage: Usage | null;
  claims: ClaimMark[];
  steps: Step[];
  /** Ids of the messages sharing this one's parent (itself included), oldest first: the branches. */
  siblings: number[];
}

export interface SearchHit {
  conversation: number;
  message: number;
  title: string;
  /** The matching text with the hit between « and ». */
  snippet: string;
}

/** Whether a provider answers: untested until a probe asked it, up with the probe's latency, or down
 * with the reason (a failed probe, or real turns that failed until the gateway's breaker opened). */
export type ProviderHealth =
  | { state: "untested" }
  | { state: "up"; latency_ms: number }
  | { state: "down"; reason: string };

export interface ProviderStatus {
  name: string;
  health: ProviderHealth;
  local: boolean;
}

export interface ChatStatus {
  providers: ProviderStatus[];
  /** Dollars left today and this month; null when no budget is set. */
  day_left_usd: number | null;
  month_left_usd: number | null;
  model: string;
  local_model: boolean;
  /** Why no model answers (no provider set up, …), when none does. */
  offline_reason: string | null;
}

export interface SendRequest {
  conversation: number | null;
  text: string;
  /** Edit-and-resend or regenerate: the person's message this one replaces (a branch beside it). */
  replaces: number | null;
  /** The alias this turn asks instead of the default model (a budget refusal's local model): this turn
   * only, nothing is saved. Null: the default model. */
  model: string | null;
}

export interface TurnStarted {
  turn: number;
  conversation: number;
}

export interface ChatBackend {
  send(req: SendRequest, onEvent: (ev: ChatEvent) => void): Promise<TurnStarted>;
  /** Stops the turn; `shownChars` is how much of its text the window drew (Unicode code points, see
   * `shownChars` in turn.ts): the stored answer is cut there. `already_finished` when the Stop came too
   * late to change the answer: its `done` follows with the whole answer. */
  cancel(turn: number, shownChars: number): Promise<CancelOutcome>;
  conversations(): Promise<ConversationSummary[]>;
  /** The path from the root to `leaf` (the latest branch when null). */
  messages(conversation: number, leaf: number | null): Promise<StoredMessage[]>;
  rename(conversation: number, title: string): Promise<void>;
  remove(conversation: number): Promise<void>;
  exportConversation(conversation: number, format: "markdown" | "json"): Promise<string>;
  search(query: string): Promise<SearchHit[]>;
  status(): Promise<ChatStatus>;
  /** Probes the providers whose last probe is stale (cached ~30 s; a turn no model answered makes them all
   * stale), then the status with what they said. Slow when a provider is: call it in the background. */
  probe(): Promise<ChatStatus>;
  /** The local alias a budget refusal's "switch to a local model" picks (see `localAlias`), or null. */
  localModel(): Promise<string | null>;
  /** The memory panel's calls. */
  memory: MemoryBackend;
  /** Calls `onNotice` for each proactive message stored from now on; returns the unsubscribe function. */
  watchProactive(onNotice: (n: ProactiveNotice) => void): () => void;
}
