// The chat's backend over the generated commands: one typed Channel per turn, cancel as its own command.
// Floats arrive as `number | null` (a NaN would be serialised as null); costs default to 0 here.
import { Channel } from "@tauri-apps/api/core";
import { call, newChannel } from "../ipc";
import type { ChatEventDto, ChatStatusDto, ConversationDto, MessageDto, ProactiveMessageDto, UsageDto } from "../bindings";
import type { ChatBackend, ChatStatus, ConversationSummary, StoredMessage } from "./backend";
import type { MemoryBackend, MemoryPanelData } from "./memory";
import { ProactiveFeed } from "./proactive";
import type { ChatEvent, Usage } from "./turn";
import { localAlias } from "./waysOn";

const usage = (u: UsageDto): Usage => ({ ...u, cost_usd: u.cost_usd ?? 0 });

/** The event as the turn model takes it: usage with a number for its cost. */
export function chatEvent(ev: ChatEventDto): ChatEvent {
  switch (ev.type) {
    case "usage": return { type: "usage", usage: usage(ev.usage) };
    case "done": return { ...ev, usage: usage(ev.usage) };
    default: return ev;
  }
}

const conversation = (c: ConversationDto): ConversationSummary =>
  ({ ...c, updated_at_ms: c.updated_at_ms ?? 0, spent: { ...c.spent, cost_usd: c.spent.cost_usd ?? 0 } });
const chatStatus = (s: ChatStatusDto): ChatStatus =>
  ({ ...s, day_left_usd: s.day_left_usd ?? null, month_left_usd: s.month_left_usd ?? null });
const message = (m: MessageDto): StoredMessage => ({ ...m, usage: m.usage ? usage(m.usage) : null });
const done = (): void => undefined;

/** The memory panel's backend over the generated commands. */
export const ipcMemoryBackend: MemoryBackend = {
  panel: async (asOf) => (await call("memoryPanel", asOf)) as MemoryPanelData,
  confirm: (proposal) => call("confirmMemoryProposal", proposal).then(done),
  reject: (proposal) => call("rejectMemoryProposal", proposal).then(done),
  edit: (id, text, reason) => call("editMemory", { id, text, reason }).then(done),
  retract: (id, reason) => call("retractMemory", id, reason).then(done),
  forget: (id) => call("forgetMemory", id).then(done),
};

/** The app's one proactive-message watch, started by the first chat view that listens. */
const proactive = new ProactiveFeed((deliver) =>
  call("watchProactive", newChannel<ProactiveMessageDto>(deliver)).then(done));

export const ipcBackend: ChatBackend = {
  async send(req, onEvent) {
    const channel = new Channel<ChatEventDto>();
    channel.onmessage = (ev) => onEvent(chatEvent(ev));
    return call("chatSend", { conversation: req.conversation, text: req.text, replaces: req.replaces, model: req.model }, channel);
  },
  cancel: (turn, shownChars) => call("chatCancel", turn, shownChars),
  conversations: async () => (await call("listConversations")).map(conversation),
  messages: async (conversation, leaf) => (await call("conversationMessages", conversation, leaf)).map(message),
  rename: (conversation, title) => call("renameConversation", conversation, title).then(done),
  remove: (conversation) => call("deleteConversation", conversation).then(done),
  exportConversation: (conversation, format) => call("exportConversation", conversation, format),
  search: (query) => call("searchMessages", query),
  status: async () => chatStatus(await call("chatStatus")),
  probe: async () => chatStatus(await call("probeProviders")),
  watchProactive: (onNotice) => proactive.subscribe(onNotice),
  localModel: async () => {
    const settings = await call("aiSettings");
    return localAlias(settings.providers, settings.aliases);
  },
  memory: ipcMemoryBackend,
};
