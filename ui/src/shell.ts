// The frame around every view: left navigation, the header strip (source, link, battery) and a
// hash router ("#/history/12") so views can link to each other.
import { h, replace, setText } from "./dom";
import { liveState } from "./liveModel";
import { source, sourceLabel, isSimulatedSource, SIMULATED_LABEL } from "./state";
import { mountPair } from "./views/pair";
import { mountLive } from "./views/live";
import { mountMorning } from "./views/morning";
import { mountHistory } from "./views/history";
import { mountRules } from "./views/rules";
import { mountSettings } from "./views/settings";
import { mountImport } from "./views/importexport";
import { mountChat } from "./chat/ChatView";
import { ipcBackend } from "./chat/ipcBackend";
import { chatRoute } from "./chat/route";
import { mountSyncChip } from "./sync/chip";

export type Unmount = () => void;
export type ViewMount = (root: HTMLElement, params: string[]) => Unmount;

interface Route {
  id: string;
  label: string;
  icon: string;
  mount: ViewMount;
}

const ROUTES: Route[] = [
  { id: "pair", label: "Pair", icon: "⌁", mount: mountPair },
  { id: "live", label: "Live", icon: "♥", mount: mountLive },
  { id: "morning", label: "Morning", icon: "☀", mount: mountMorning },
  { id: "chat", label: "Coach", icon: "✦", mount: (root, params) => mountChat(root, ipcBackend, chatRoute(params)) },
  { id: "history", label: "History", icon: "☰", mount: mountHistory },
  { id: "rules", label: "Rules", icon: "⚑", mount: mountRules },
  { id: "settings", label: "Settings", icon: "⚙", mount: mountSettings },
  { id: "import", label: "Import/Export", icon: "⇅", mount: mountImport },
];

export function navigate(path: string): void {
  const target = `#/${path}`;
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = target;
}

export function simulatedBadge(): HTMLElement {
  return h("span", { class: "badge badge-sim", title: "Data from the built-in simulator, not a real heart" }, SIMULATED_LABEL);
}

export function mountShell(app: HTMLElement): void {
  const links = ROUTES.map((r) =>
    h("a", { class: "nav-link", href: `#/${r.id}`, testid: `nav-${r.id}`, data: { route: r.id } },
      h("span", { class: "nav-icon", attrs: { "aria-hidden": "true" } }, r.icon),
      h("span", { class: "nav-label" }, r.label)),
  );
  const nav = h("nav", { class: "nav", ariaLabel: "Main" },
    h("div", { class: "brand" }, h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, "◉"), "Auren"),
    links);

  const hdrSource = h("span", { class: "hdr-source" });
  const hdrLink = h("span", { class: "chip", title: "Strap link" });
  const hdrBattery = h("span", { class: "chip", title: "Strap battery" });
  const hdrSession = h("span", { class: "chip chip-rec", hidden: true });
  const header = h("header", { class: "header", role: "banner" },
    h("span", { class: "hdr-caption" }, "Source"), hdrSource, hdrLink, hdrBattery, hdrSession, mountSyncChip());

  const main = h("main", { class: "main", id: "main", tabIndex: -1 });
  replace(app, h("a", { class: "skip", href: "#main", on: { click: (e) => { e.preventDefault(); main.focus(); } } }, "Skip to content"),
    nav, h("div", { class: "content" }, header, main));

  let shownSource = "";
  const renderHeader = () => {
    const st = liveState.get();
    const chosen = source.get();
    const label = st.started ? st.started.source_label : sourceLabel(chosen);
    const simulated = st.started ? st.started.simulated || isSimulatedSource(label) : chosen?.kind === "simulator";
    // Rebuilt only when it changes: live updates call this many times a second.
    const sourceKey = `${simulated}|${label}`;
    if (sourceKey !== shownSource) {
      shownSource = sourceKey;
      replace(hdrSource, simulated ? simulatedBadge() : null, h("span", null, simulated ? label.replace(/^Simulated strap\s*·?\s*/, "") : label));
    }
    const link = st.last?.link ?? (st.started ? "connecting" : null);
    hdrLink.hidden = link === null;
    hdrLink.className = `chip link-${link ?? "none"}`;
    setText(hdrLink, link ? `● ${link}` : "");
    const bat = st.last?.battery_percent ?? null;
    hdrBattery.hidden = bat === null;
    setText(hdrBattery, bat === null ? "" : `▮ ${bat} %`);
    hdrBattery.classList.toggle("chip-low", bat !== null && bat <= 15);
    hdrSession.hidden = !st.started;
    setText(hdrSession, st.started ? `● Recording #${st.started.session_id}` : "");
  };
  liveState.subscribe(renderHeader);
  source.subscribe(renderHeader);
  renderHeader();

  let unmount: Unmount | null = null;
  const route = () => {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    const r = ROUTES.find((x) => x.id === parts[0]) ?? ROUTES[source.get() ? 1 : 0];
    if (unmount) unmount();
    for (const a of links) {
      const on = a.dataset.route === r.id;
      a.classList.toggle("active", on);
      if (on) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    replace(main);
    const view = h("div", { class: `view view-${r.id}` });
    main.appendChild(view);
    unmount = r.mount(view, parts.slice(1));
    document.title = `Auren — ${r.label}`;
  };
  window.addEventListener("hashchange", route);
  route();
}
