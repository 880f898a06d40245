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

/** Marks each claim's text inside text nodes (not inside code) as a claim node, first occurrence first. */
export function markClaims(nodes: SafeNode[], claims: readonly ClaimMark[]): SafeNode[] {
  if (claims.length === 0) return nodes;
  const pending = [...claims];
  const walk = (list: SafeNode[], inCode: boolean): SafeNode[] =>
    list.flatMap((n): SafeNode[] => {
      if (n.kind === "el") return [{ ...n, children: walk(n.children, inCode || n.tag === "code") }];
      if (n.kind === "link") return [{ ...n, children: walk(n.children, inCode) }];
      if (n.kind !== "text" || inCode) return [n];
      return splitText(n.text, pending);
    });
  return walk(nodes, false);
}

function splitText(s: string, pending: ClaimMark[]): SafeNode[] {
  const out: SafeNode[] = [];
  let rest = s;
  for (;;) {
    let best: { at: number; i: number } | null = null;
    pending.forEach((c, i) => {
      const at = c.text ? rest.indexOf(c.text) : -1;
      if (at >= 0 && (best === null || at < best.at)) best = { at, i };
    });
    if (best === null) break;
    const { at, i } = best as { at: number; i: number };
    const claim = pending[i];
    pending.splice(i, 1);
    if (at > 0) out.push(text(rest.slice(0, at)));
    out.push({ kind: "claim", claim });
    rest = rest.slice(at + claim.text.length);
  }
  if (rest) out.push(text(rest));
  return out;
}

/** The blocks of a markdown text, each with its source: while streaming only the last one changes. */
export function splitBlocks(markdown: string): string[] {
  return new Lexer({ gfm: true }).lex(markdown).filter((t) => t.type !== "space").map((t) => t.raw);
}

/** One markdown text as inert nodes, its claims marked. */
export function toSafeNodes(markdown: string, claims: readonly ClaimMark[] = []): SafeNode[] {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  return markClaims(tokens.flatMap(block), claims);
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
