// Model output made inert. Markdown is parsed to tokens (marked's lexer only — never its HTML renderer) and
// turned into a small tree of allowed elements and plain text; the DOM is then built with createElement and
// textContent. Raw HTML shows as text, images are never loaded (their alt text shows instead), and a link
// becomes an internal route ("#/history/12", "#/history/day/2026-11-30") or plain text — so no model text can
// run script, fetch a remote resource or navigate away.
import { Lexer, type Token, type Tokens } from "marked";

/** The only elements an answer can produce. */
export type SafeTag =
  | "p" | "h3" | "h4" | "strong" | "em" | "del" | "code" | "pre" | "ul" | "ol" | "li" | "blockquote"
  | "table" | "thead" | "tbody" | "tr" | "th" | "td" | "br" | "hr";

/** A number in the answer, grounded (with where it came from) or not. */
export interface ClaimMark {
  /** The text as written in the answer, e.g. "62 ms". */
  text: string;
  grounded: boolean;
  /** An internal route to the claim's source ("history/12", "history/day/2026-11-30": the day on the trend
   * chart), when grounded. */
  route: string | null;
  receipt: string | null;
  /** Which whole-number occurrence of `text` in the answer this claim is, from 0 (a bare "45" may stand
   * more than once; "45" inside "145", "6:45" or "3.45" does not count). Absent: the first. */
  occurrence?: number;
}

export type SafeNode =
  | { kind: "text"; text: string }
  | { kind: "el"; tag: SafeTag; children: SafeNode[] }
  | { kind: "link"; route: string; children: SafeNode[] }
  | { kind: "claim"; claim: ClaimMark };

/** Internal routes a link may point at; anything else is shown as its text. */
const INTERNAL_ROUTE = /^#\/(history\/(\d+|day\/\d{4}-\d{2}-\d{2})|morning(\/\d{4}-\d{2}-\d{2})?|live|rules|settings|chat(\/\d+)?)$/;

/** The route of an internal link, or null for everything else (http:, javascript:, data:, relative paths). */
export function internalRoute(href: string): string | null {
  const trimmed = href.trim();
  return INTERNAL_ROUTE.test(trimmed) ? trimmed.slice(2) : null;
}

const text = (t: string): SafeNode => ({ kind: "text", text: t });
const el = (tag: SafeTag, children: SafeNode[]): SafeNode => ({ kind: "el", tag, children });

function inline(tokens: readonly Token[] | undefined): SafeNode[] {
  const out: SafeNode[] = [];
  for (const t of tokens ?? []) out.push(...inlineToken(t));
  return out;
}

function inlineToken(t: Token): SafeNode[] {
  switch (t.type) {
    case "strong": return [el("strong", inline((t as Tokens.Strong).tokens))];
    case "em": return [el("em", inline((t as Tokens.Em).tokens))];
    case "del": return [el("del", inline((t as Tokens.Del).tokens))];
    case "codespan": return [el("code", [text((t as Tokens.Codespan).text)])];
    case "br": return [el("br", [])];
    case "escape": return [text((t as Tokens.Escape).text)];
    case "link": {
      const link = t as Tokens.Link;
      const route = internalRoute(link.href);
      const children = link.autolink ? [text(link.text)] : inline(link.tokens);
      return route ? [{ kind: "link", route, children }] : children;
    }
    // Never loaded: an image URL in model text is an exfiltration path.
    case "image": return [text(`[image: ${(t as Tokens.Image).text}]`)];
    case "html": return [text(t.raw)];
    case "text": {
      const tt = t as Tokens.Text;
      return tt.tokens ? inline(tt.tokens) : [text(tt.text)];
    }
    default: return [text(t.raw)];
  }
}

function block(t: Token): SafeNode[] {
  switch (t.type) {
    case "space": case "def": return [];
    case "paragraph": return [el("p", inline((t as Tokens.Paragraph).tokens))];
    case "heading": return [el((t as Tokens.Heading).depth <= 2 ? "h3" : "h4", inline((t as Tokens.Heading).tokens))];
    case "code": return [el("pre", [el("code", [text((t as Tokens.Code).text)])])];
    case "hr": return [el("hr", [])];
    case "blockquote": return [el("blockquote", (t as Tokens.Blockquote).tokens.flatMap(block))];
    case "list": {
      const list = t as Tokens.List;
      return [el(list.ordered ? "ol" : "ul", list.items.map((item) => el("li", item.tokens.flatMap(listItemPart))))];
    }
    case "table": {
      const table = t as Tokens.Table;
      return [el("table", [
        el("thead", [el("tr", table.header.map((c) => el("th", inline(c.tokens))))]),
        el("tbody", table.rows.map((row) => el("tr", row.map((c) => el("td", inline(c.tokens)))))),
      ])];
    }
    // Raw HTML blocks are shown as the text they are.
    case "html": return [el("p", [text(t.raw)])];
    case "text": {
      const tt = t as Tokens.Text;
      return [el("p", tt.tokens ? inline(tt.tokens) : [text(tt.text)])];
    }
    default: return [el("p", [text(t.raw)])];
  }
}

/** A list item's parts: tight items hold bare text tokens, which stay inline. */
function listItemPart(t: Token): SafeNode[] {
  if (t.type === "text") {
    const tt = t as Tokens.Text;
    return tt.tokens ? inline(tt.tokens) : [text(tt.text)];
  }
  if (t.type === "checkbox") return [text((t as Tokens.Checkbox).checked ? "☑ " : "☐ ")];
  return block(t);
}

/** Marks each claim's text inside text nodes (not inside code) as a claim node: the claim's own occurrence
 * of its text, counted as whole numbers over the answer as the grounding counts them — `before` holds the
 * occurrences in the answer's earlier blocks, so a claim is marked once, in its block, on its number. */
export function markClaims(
  nodes: SafeNode[],
  claims: readonly ClaimMark[],
  before: ReadonlyMap<string, number> = new Map(),
): SafeNode[] {
  if (claims.length === 0) return nodes;
  const pending = [...claims];
  const seen = new Map(before);
  const texts = [...new Set(claims.map((c) => c.text).filter((t) => t))];
  const walk = (list: SafeNode[], inCode: boolean): SafeNode[] =>
    list.flatMap((n): SafeNode[] => {
      if (n.kind === "el") return [{ ...n, children: walk(n.children, inCode || n.tag === "code") }];
      if (n.kind === "link") return [{ ...n, children: walk(n.children, inCode) }];
      if (n.kind !== "text") return [n];
      // Code is counted (the grounding reads it) but never marked.
      const spans = claimSpans(n.text, texts, pending, seen);
      return inCode ? [n] : splitAt(n.text, spans);
    });
  return walk(nodes, false);
}

/** Whether `s[start..end]` is a whole number, not part of "145", "6:45", "3.45" or "45.2" (the grounding's
 * rule). */
function wholeNumberAt(s: string, start: number, end: number): boolean {
  const digit = (i: number) => i >= 0 && i < s.length && s[i] >= "0" && s[i] <= "9";
  const joiner = (i: number) => s[i] === "." || s[i] === ":";
  return !(digit(start - 1) || digit(end) || (joiner(start - 1) && digit(start - 2)) || (joiner(end) && digit(end + 1)));
}

/** Where `t` stands in `s` as a whole number. */
function wholeMatches(s: string, t: string): number[] {
  const out: number[] = [];
  for (let at = s.indexOf(t); at >= 0; at = s.indexOf(t, at + t.length)) {
    if (wholeNumberAt(s, at, at + t.length)) out.push(at);
  }
  return out;
}

/** The whole-number occurrences of each text in `s` (an earlier block's source). */
export function countOccurrences(s: string, texts: readonly string[]): Map<string, number> {
  return new Map(texts.map((t) => [t, t ? wholeMatches(s, t).length : 0]));
}

/** The spans of `s` that are pending claims' own occurrences (taken from `pending`); counts `s`'s
 * occurrences of every text into `seen`. */
function claimSpans(s: string, texts: readonly string[], pending: ClaimMark[], seen: Map<string, number>) {
  const spans: { at: number; claim: ClaimMark }[] = [];
  for (const t of texts) {
    const matches = wholeMatches(s, t);
    const base = seen.get(t) ?? 0;
    seen.set(t, base + matches.length);
    for (let i = pending.length - 1; i >= 0; i--) {
      const c = pending[i];
      const k = (c.occurrence ?? 0) - base;
      if (c.text !== t || k < 0 || k >= matches.length) continue;
      spans.push({ at: matches[k], claim: c });
      pending.splice(i, 1);
    }
  }
  return spans.sort((a, b) => a.at - b.at);
}

/** `s` with the claim spans as claim nodes (a span overlapping an earlier one stays text). */
function splitAt(s: string, spans: readonly { at: number; claim: ClaimMark }[]): SafeNode[] {
  const out: SafeNode[] = [];
  let from = 0;
  for (const { at, claim } of spans) {
    if (at < from) continue;
    if (at > from) out.push(text(s.slice(from, at)));
    out.push({ kind: "claim", claim });
    from = at + claim.text.length;
  }
  if (from < s.length) out.push(text(s.slice(from)));
  return out;
}

/** The blocks of a markdown text, each with its source: while streaming only the last one changes. */
export function splitBlocks(markdown: string): string[] {
  return new Lexer({ gfm: true }).lex(markdown).filter((t) => t.type !== "space").map((t) => t.raw);
}

/** One markdown text as inert nodes, its claims marked (`before`: their texts' occurrences in the
 * answer's earlier blocks, when this is one block of it). */
export function toSafeNodes(
  markdown: string,
  claims: readonly ClaimMark[] = [],
  before: ReadonlyMap<string, number> = new Map(),
): SafeNode[] {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  return markClaims(tokens.flatMap(block), claims, before);
}

/** Builds DOM from inert nodes: createElement and textContent only, never innerHTML. */
export function toDom(nodes: readonly SafeNode[], doc: Document = document): Node[] {
  return nodes.map((n) => {
    switch (n.kind) {
      case "text": return doc.createTextNode(n.text);
      case "el": {
        const e = doc.createElement(n.tag);
        for (const c of toDom(n.children, doc)) e.appendChild(c);
        return e;
      }
      case "link": {
        const a = doc.createElement("a");
        a.setAttribute("href", `#/${n.route}`);
        for (const c of toDom(n.children, doc)) a.appendChild(c);
        return a;
      }
      case "claim": return claimNode(n.claim, doc);
    }
  });
}

function claimNode(claim: ClaimMark, doc: Document): Node {
  if (claim.grounded && claim.route) {
    const a = doc.createElement("a");
    a.className = "claim claim-grounded";
    a.setAttribute("href", `#/${claim.route}`);
    a.setAttribute("data-testid", "claim");
    a.setAttribute("data-grounded", "true");
    if (claim.receipt) a.setAttribute("data-receipt", claim.receipt);
    a.title = "Computed from your data — open the source";
    a.textContent = claim.text;
    return a;
  }
  const span = doc.createElement("span");
  span.className = claim.grounded ? "claim claim-grounded" : "claim claim-unverified";
  span.setAttribute("data-testid", "claim");
  span.setAttribute("data-grounded", String(claim.grounded));
  span.title = claim.grounded ? "Computed from your data" : "Unverified: no computation of yours gives this number";
  span.textContent = claim.grounded ? claim.text : `${claim.text} ⚠`;
  return span;
}
