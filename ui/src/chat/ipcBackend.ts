// The chat's backend over the generated commands: one typed Channel per turn, cancel as its own command.
// Floats arrive as `number | null` (a NaN would be serialised as null); costs default to 0 here.
import { Channel } from "@tauri-apps/api/core";
import { call, newChannel } from "../ipc";
import type { ChatEventDto, ChatStatusDto, MessageDto, ProactiveMessageDto, UsageDto } from "../bindings";
import type { ChatBackend, ChatStatus, StoredMessage } from "./backend";
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

const chatStatus = (s: ChatStatusDto): ChatStatus =>
  ({ ...s, day_left_usd: s.day_left_usd ?? null, month_left_usd: s.month_left_usd ?? null });
const message = (m: MessageDto): StoredMessage => ({ ...m, usage: m.usage ? usage(m.usage) : null });
const done = (): void => undefined;

/** The app's one proactive-message watch, started by the first chat view that listens. */
const proactive = new ProactiveFeed((deliver) =>
  call("watchProactive", newChannel<ProactiveMessageDto>(deliver)).then(done));

export const ipcBackend: ChatBackend = {
  async send(req, onEvent) {
    const channel = new Channel<ChatEventDto>();
    channel.onmessage = (ev) => onEvent(chatEvent(ev));
    return call("chatSend", { conversation: req.conversation, text: req.text, replaces: req.replaces }, channel);
  },
  cancel: (turn, shownChars) => call("chatCancel", turn, shownChars),
  conversations: async () =>
    (await call("listConversations")).map((c) => ({ ...c, updated_at_ms: c.updated_at_ms ?? 0, cost_usd: c.cost_usd ?? 0 })),
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
  useModel: (model) => call("editAiSettings", { op: "set_default_model", model }).then(done),
};
