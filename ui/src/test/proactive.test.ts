// Proactive messages reaching an open chat: a notice marks its conversation new until it is opened, and one
// watch on the Rust side serves every listening view.
import { describe, expect, it, vi } from "vitest";
import { isNew, MAX_WAITING, markNew, markSeen, ProactiveFeed, type ProactiveNotice } from "../chat/proactive";

const notice = (conversation: number): ProactiveNotice => ({
  conversation, message: conversation * 10, specialist: "neuroscientist", trigger: "cns_fatigue",
});

describe("conversations marked new", () => {
  it("a notice marks its conversation new, opening it clears the mark, others stay", () => {
    let fresh: ReadonlySet<number> = new Set();
    fresh = markNew(fresh, notice(4));
    fresh = markNew(fresh, notice(7));
    expect([isNew(fresh, 4, null), isNew(fresh, 7, null), isNew(fresh, 1, null)]).toEqual([true, true, false]);
    // The open conversation is never shown as new, even before the mark is cleared.
    expect(isNew(fresh, 4, 4)).toBe(false);
    fresh = markSeen(fresh, 4);
    expect([...fresh]).toEqual([7]);
  });

  it.each([
    ["a second notice for a marked conversation", (f: ReadonlySet<number>) => markNew(f, notice(4))],
    ["opening a conversation that is not marked", (f: ReadonlySet<number>) => markSeen(f, 9)],
  ])("%s changes nothing (the same set, so no redraw)", (_, change) => {
    const fresh = markNew(new Set(), notice(4));
    expect(change(fresh)).toBe(fresh);
  });
});

describe("one watch for every chat view", () => {
  /** A feed whose start records its calls and hands back the delivery function, as the command would. */
  const rig = (fail = false) => {
    const starts: ((n: ProactiveNotice) => void)[] = [];
    const feed = new ProactiveFeed(async (deliver) => {
      starts.push(deliver);
      if (fail) throw new Error("command not found");
    });
    return { feed, starts };
  };

  it("starts the watch once, delivers each notice to every listener, none after unsubscribing", () => {
    const { feed, starts } = rig();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = feed.subscribe((n) => a.push(n.conversation));
    feed.subscribe((n) => b.push(n.conversation));
    expect(starts).toHaveLength(1);
    starts[0](notice(1));
    stopA();
    starts[0](notice(2));
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
    // A view mounted again later (the chat left and reopened) reuses the running watch.
    feed.subscribe(() => undefined);
    expect(starts).toHaveLength(1);
  });

  it("notices that arrive while no view listens are handed to the next one, the latest MAX_WAITING of them", () => {
    const { feed, starts } = rig();
    feed.subscribe(() => undefined)();
    for (let c = 1; c <= MAX_WAITING + 2; c++) starts[0](notice(c));
    const seen: number[] = [];
    feed.subscribe((n) => seen.push(n.conversation));
    expect(seen).toHaveLength(MAX_WAITING);
    expect([seen[0], seen[seen.length - 1]]).toEqual([3, MAX_WAITING + 2]);
    // Handed over once: a second view gets only what comes next.
    const later: number[] = [];
    feed.subscribe((n) => later.push(n.conversation));
    starts[0](notice(500));
    expect(later).toEqual([500]);
  });

  it("a watch that failed to start is started again by the next subscription", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { feed, starts } = rig(true);
    feed.subscribe(() => undefined);
    // The failure is reported once it settles; until then a second view shares the pending start.
    feed.subscribe(() => undefined);
    expect(starts).toHaveLength(1);
    await vi.waitFor(() => expect(warn).toHaveBeenCalledOnce());
    feed.subscribe(() => undefined);
    expect(starts).toHaveLength(2);
    warn.mockRestore();
  });
});
