// Proactive messages the coach writes on its own (after a CNS-fatigue alert or a morning below the normal
// range) reach the chat while it is open: the Rust side announces each one as it is stored (one app-wide
// Channel, started once, fanned out here to whichever chat views listen), the list reloads, and the
// conversation is marked new until the person opens it.
import type { Specialist } from "./turn";

export type ProactiveTrigger = "cns_fatigue" | "morning_below_range";

/** A proactive message just stored, in a conversation of its own. */
export interface ProactiveNotice {
  conversation: number;
  message: number;
  specialist: Specialist;
  trigger: ProactiveTrigger;
}

/** Conversations with a proactive message the person has not opened yet, after `notice` arrived. */
export function markNew(fresh: ReadonlySet<number>, notice: ProactiveNotice): ReadonlySet<number> {
  if (fresh.has(notice.conversation)) return fresh;
  return new Set([...fresh, notice.conversation]);
}

/** …after the person opened conversation `id` (or deleted it). */
export function markSeen(fresh: ReadonlySet<number>, id: number): ReadonlySet<number> {
  if (!fresh.has(id)) return fresh;
  const next = new Set(fresh);
  next.delete(id);
  return next;
}

/** What the list shows of a conversation: new (unopened proactive message) or not. */
export function isNew(fresh: ReadonlySet<number>, id: number, open: number | null): boolean {
  return id !== open && fresh.has(id);
}

/** Notices kept while no chat view listens (the person is on another view), for the next one to mark. */
export const MAX_WAITING = 100;

/**
 * One watch on the Rust side for every listener: `start` (the `watchProactive` command with its Channel) runs
 * on the first subscription only — a watch per chat visit would leave one forwarding task per visit running
 * until the app quits. A start that fails is tried again by the next subscription. Notices that arrive while
 * no view listens (a session stopped on the Live view) wait for the next subscriber, so the chat opened
 * afterwards still marks them new.
 */
export class ProactiveFeed {
  private readonly listeners = new Set<(n: ProactiveNotice) => void>();
  private waiting: ProactiveNotice[] = [];
  private started: Promise<void> | null = null;

  constructor(private readonly start: (deliver: (n: ProactiveNotice) => void) => Promise<void>) {}

  /** Calls `listener` with the notices waiting, then each one from now on; returns the unsubscribe function. */
  subscribe(listener: (n: ProactiveNotice) => void): () => void {
    this.listeners.add(listener);
    const waiting = this.waiting;
    this.waiting = [];
    for (const notice of waiting) listener(notice);
    this.started ??= this.start((n) => this.deliver(n)).catch((e: unknown) => {
      this.started = null;
      console.warn("the proactive-message watch did not start", e);
    });
    return () => void this.listeners.delete(listener);
  }

  private deliver(notice: ProactiveNotice): void {
    if (this.listeners.size === 0) {
      this.waiting = [...this.waiting, notice].slice(-MAX_WAITING);
      return;
    }
    for (const listener of [...this.listeners]) listener(notice);
  }
}
