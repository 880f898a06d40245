// A tiny typed element builder. Text always goes through text nodes (never innerHTML), so
// strings from the strap, files or the database cannot inject markup.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler<K extends keyof HTMLElementEventMap> = (ev: HTMLElementEventMap[K]) => void;

export interface Props {
  class?: string;
  testid?: string;
  title?: string;
  id?: string;
  role?: string;
  data?: Record<string, string | number>;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  style?: Partial<Record<string, string>>;
  on?: { [K in keyof HTMLElementEventMap]?: Handler<K> };
  // Form-control properties that must be set as properties, not attributes.
  value?: string;
  checked?: boolean;
  disabled?: boolean;
  type?: string;
  placeholder?: string;
  href?: string;
  for?: string;
  tabIndex?: number;
  ariaLabel?: string;
  hidden?: boolean;
}

export function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (typeof child === "string" || typeof child === "number") {
    parent.appendChild(document.createTextNode(String(child)));
  } else {
    parent.appendChild(child);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el: HTMLElement, p: Props): void {
  if (p.class) el.className = p.class;
  if (p.testid) el.dataset.testid = p.testid;
  if (p.title) el.title = p.title;
  if (p.id) el.id = p.id;
  if (p.role) el.setAttribute("role", p.role);
  if (p.ariaLabel) el.setAttribute("aria-label", p.ariaLabel);
  if (p.hidden) el.hidden = true;
  if (p.tabIndex !== undefined) el.tabIndex = p.tabIndex;
  if (p.data) for (const [k, v] of Object.entries(p.data)) el.dataset[k] = String(v);
  if (p.attrs) {
    for (const [k, v] of Object.entries(p.attrs)) {
      if (v === null || v === undefined || v === false) continue;
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  if (p.style) for (const [k, v] of Object.entries(p.style)) if (v !== undefined) el.style.setProperty(k, v);
  if (p.type !== undefined) el.setAttribute("type", p.type);
  if (p.placeholder !== undefined) el.setAttribute("placeholder", p.placeholder);
  if (p.href !== undefined) el.setAttribute("href", p.href);
  if (p.for !== undefined) el.setAttribute("for", p.for);
  if (p.value !== undefined) (el as HTMLInputElement).value = p.value;
  if (p.checked !== undefined) (el as HTMLInputElement).checked = p.checked;
  if (p.disabled !== undefined) (el as HTMLButtonElement).disabled = p.disabled;
  if (p.on) {
    for (const [ev, fn] of Object.entries(p.on)) {
      if (fn) el.addEventListener(ev, fn as EventListener);
    }
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}

export function option(value: string, label: string, selected = false): HTMLOptionElement {
  const o = h("option", { value }, label);
  o.selected = selected;
  return o;
}
