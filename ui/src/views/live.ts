// Live: the running session — heart rate, RR tachogram, rolling RMSSD, Poincaré, DFA α1, alerts,
// tags. Channel updates only mark the view dirty; drawing happens once per animation frame.
import uPlot from "uplot";
import { h, option, replace, setText, svg } from "../dom";
import type { Alert, SessionKind } from "../ipc";
import { beats, liveState, liveTick, monitor, rolling, startLive, stopLive, stopMonitor, tagLive } from "../liveModel";
import { settings, source, sourceLabel, rrUnit, SIMULATED_LABEL } from "../state";
import { simulatedBadge } from "../shell";
import { formatClock, formatDuration, formatHr, formatNumber, formatRr, formatSessionTime } from "../format";
import { signalQuality, type RecentBeat } from "../series";
import { labelText } from "../labels";
import { LIVE_KINDS, SESSION_KIND_NAMES } from "../names";
import { zoneOf } from "../zones";
import { axis, hollowPointsSeries, lineSeries, mountChart, pal, pointsSeries, type Chart } from "../charts";
import { busy, card, errorNote } from "./common";
import { record, timed } from "../perf";

const QUICK_TAGS = ["alcohol", "hard training", "sick", "caffeine", "poor sleep"];
const WINDOWS: { id: string; label: string; ms: number | null }[] = [
  { id: "5m", label: "5 min", ms: 5 * 60_000 },
  { id: "1h", label: "1 hour", ms: 3_600_000 },
  { id: "all", label: "All", ms: null },
];
export const AEROBIC_THRESHOLD_DFA = 0.75;
const POINCARE_EVERY_MS = 500;
// At 60× a simulated strap sends ~75 updates a second; redrawing the tachogram and rolling RMSSD
// for each would rasterise two canvases every frame. Ten redraws a second look continuous; at 1×
// updates come about once a second, so this never delays one.
const CHARTS_EVERY_MS = 100;

const timeAxisValues = (_u: uPlot, splits: number[]) => splits.map((s) => formatDuration(s));
/** Beats in the live beat list: the newest, with their labels revised in place. */
const RECENT_BEATS = 12;

function beatRow(b: RecentBeat, unit: "ms" | "s"): HTMLElement {
  const label = labelText(b.artifact, b.state);
  return h("li", { class: `beat ${label.className}`, testid: "live-beat", data: { index: String(b.index), state: b.state },
    title: b.state === "provisional" ? "Provisional label: final once the next 16 beats are in" : "Final label" },
  h("span", { class: "beat-index mono" }, `#${b.index}`),
  h("span", { class: "beat-time mono muted" }, formatSessionTime(b.atMs)),
  h("span", { class: "beat-rr mono" }, formatRr(b.rrMs, unit)),
  h("span", { class: "beat-label" }, label.text));
}

function alertItem(a: Alert): HTMLElement {
  const ev = a.evidence;
  const evidence = h("div", { class: "alert-evidence", testid: "alert-evidence" },
    h("table", { class: "kv" }, h("tbody", null,
      ev.values.map((v) => h("tr", null, h("th", null, v.name), h("td", { class: "num" }, formatNumber(v.value, v.value !== null && Math.abs(v.value) >= 100 ? 0 : 3)))),
      h("tr", null, h("th", null, "Window"), h("td", null, `${formatSessionTime(ev.window_from_ms)} – ${formatSessionTime(ev.window_to_ms)}`)),
      ev.held_since_ms !== null ? h("tr", null, h("th", null, "Held since"), h("td", null, formatSessionTime(ev.held_since_ms))) : null,
      ev.steps_at_ms.length ? h("tr", null, h("th", null, "Steps at"), h("td", null, ev.steps_at_ms.map(formatSessionTime).join(", "))) : null)));
  const item = h("li", {
    class: `alert sev-${a.severity}`, testid: "alert-item", data: { rule: a.rule }, tabIndex: 0, role: "button",
    attrs: { "aria-expanded": "false" },
  },
  h("div", { class: "alert-head" },
    h("span", { class: "sev-dot", attrs: { "aria-hidden": "true" } }),
    h("span", { class: "alert-msg" }, a.message),
    h("span", { class: "muted small" }, `${a.rule} · ${formatClock(a.at_unix_ms)} · ${formatSessionTime(a.at_ms)}`)));
  const toggle = () => {
    const open = item.classList.toggle("open");
    item.setAttribute("aria-expanded", String(open));
    if (open) item.append(evidence);
    else evidence.remove();
  };
  item.addEventListener("click", toggle);
  item.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
  });
  return item;
}

export function alertList(alerts: readonly Alert[]): HTMLElement {
  return h("ul", { class: "alerts" }, alerts.map(alertItem));
}

function dfaGauge(): { el: HTMLElement; set: (v: number | null) => void } {
  const lo = 0.25, hi = 1.75, w = 300;
  const x = (v: number) => ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * w;
  const marker = svg("circle", { cx: 0, cy: 14, r: 7, class: "gauge-marker" });
  const g = svg("svg", { viewBox: `0 -4 ${w} 44`, class: "gauge", role: "img", "aria-label": "DFA alpha 1 gauge" },
    svg("rect", { x: 0, y: 8, width: x(0.5), height: 12, class: "gz gz-high", rx: 3 }),
    svg("rect", { x: x(0.5), y: 8, width: x(0.75) - x(0.5), height: 12, class: "gz gz-mid" }),
    svg("rect", { x: x(0.75), y: 8, width: w - x(0.75), height: 12, class: "gz gz-low", rx: 3 }),
    svg("line", { x1: x(AEROBIC_THRESHOLD_DFA), x2: x(AEROBIC_THRESHOLD_DFA), y1: 2, y2: 26, class: "gauge-threshold" }),
    svg("text", { x: x(AEROBIC_THRESHOLD_DFA), y: 38, "text-anchor": "middle", class: "gauge-label" }, "aerobic threshold 0.75"),
    svg("text", { x: 2, y: 38, class: "gauge-label" }, "0.25"),
    svg("text", { x: w - 2, y: 38, "text-anchor": "end", class: "gauge-label" }, "1.75"),
    marker);
  const value = h("span", { class: "gauge-value" }, "—");
  const note = h("span", { class: "muted small" }, "");
  const el = h("div", { class: "gauge-wrap" }, h("div", { class: "gauge-top" }, value, note), g);
  return {
    el,
    set(v) {
      marker.style.display = v === null ? "none" : "";
      if (v !== null) marker.setAttribute("cx", String(x(v)));
      setText(value, formatNumber(v, 2));
      setText(note, v === null ? "needs 2 minutes of clean beats" : v > AEROBIC_THRESHOLD_DFA ? "below the aerobic threshold" : v > 0.5 ? "above the aerobic threshold" : "above the anaerobic threshold (α1 < 0.5)");
    },
  };
}

export function mountLive(root: HTMLElement): () => void {
  const unit = rrUnit();
  const charts: Chart[] = [];
  const unsubs: (() => void)[] = [];

  // Header and controls.
  const sourceEl = h("div", { class: "live-source", testid: "live-source-label" });
  const linkChip = h("span", { class: "chip", testid: "live-link" }, "idle");
  const contactChip = h("span", { class: "chip" }, "contact —");
  const batteryChip = h("span", { class: "chip" }, "battery —");
  const qualityChip = h("span", { class: "chip", title: "Artifacts among all beats so far" }, "quality —");
  const kindSel = h("select", { id: "live-kind", ariaLabel: "Session kind" }, LIVE_KINDS.map((k) => option(k, SESSION_KIND_NAMES[k], k === "rest")));
  const startBtn = h("button", { class: "btn btn-primary btn-lg", testid: "start-session" }, "▶ Start session");
  const stopBtn = h("button", { class: "btn btn-danger btn-lg", testid: "stop-session" }, "■ Stop & save");
  const message = h("div", { class: "live-message" });

  // Hero numbers.
  const hrEl = h("span", { class: "hr-value", testid: "live-hr" }, "—");
  const zoneEl = h("span", { class: "zone-pill" });
  const timeEl = h("span", { class: "mono" }, "0:00");
  const beatsEl = h("span", { class: "mono", testid: "live-beats-total" }, "0");
  const rmssd60 = h("span", { class: "big-num", testid: "live-rmssd-60" }, "—");
  const rmssd5m = h("span", { class: "big-num", testid: "live-rmssd-5m" }, "—");
  const lnRmssd = h("span", { class: "mid-num" }, "—");
  const sdnn = h("span", { class: "mid-num" }, "—");
  const gauge = dfaGauge();
  const gaugeCard = card("DFA α1", gauge.el);

  // Charts.
  const tachoEl = h("div", { class: "chart" });
  const rmssdEl = h("div", { class: "chart" });
  const poinEl = h("div", { class: "chart chart-square" });
  let windowMs: number | null = 3_600_000;
  const windowSel = h("div", { class: "seg", role: "group", ariaLabel: "Tachogram window" },
    WINDOWS.map((w) => h("button", {
      class: `seg-btn${w.ms === windowMs ? " on" : ""}`, data: { w: w.id }, attrs: { "aria-pressed": String(w.ms === windowMs) },
      on: {
        click: (e) => {
          windowMs = w.ms;
          for (const b of windowSel.querySelectorAll("button")) {
            const on = b === e.currentTarget;
            b.classList.toggle("on", on);
            b.setAttribute("aria-pressed", String(on));
          }
          dirty = true; chartsStale = true; chartsDue = 0; poincarePairs = 0; schedule();
        },
      },
    }, w.label)));

  const beatListEl = h("ol", { class: "beat-list", testid: "live-beat-list" });
  const alertsEl = h("ul", { class: "alerts" });
  const alertsEmpty = h("p", { class: "muted" }, "No alerts. Rules watch the session and report here.");
  const tagInput = h("input", { type: "text", testid: "tag-input", placeholder: "Add a tag…", id: "tag-input", ariaLabel: "Tag" });
  const tagBtn = h("button", { class: "btn", testid: "tag-button" }, "Tag");
  const tagsEl = h("div", { class: "tags" });
  const tagNote = h("div", { class: "small" });
  const savedEl = h("div");

  const doTag = async (tag: string) => {
    const t = tag.trim();
    if (!t) return;
    try {
      await tagLive(t);
      tagInput.value = "";
      replace(tagNote);
    } catch (e) {
      replace(tagNote, errorNote(e));
    }
  };
  tagBtn.addEventListener("click", () => void doTag(tagInput.value));
  tagInput.addEventListener("keydown", (e) => { if (e.key === "Enter") void doTag(tagInput.value); });

  startBtn.addEventListener("click", () => {
    const s = source.get();
    if (!s) return;
    void busy(startBtn, async () => {
      replace(message);
      replace(savedEl);
      try {
        await startLive(s, kindSel.value as SessionKind);
        dirty = true; chartsStale = true; schedule();
      } catch (e) {
        replace(message, errorNote(e));
      }
    }).then(renderControls);
  });
  stopBtn.addEventListener("click", () => {
    void busy(stopBtn, async () => {
      try {
        await stopLive();
        replace(message);
      } catch (e) {
        replace(message, errorNote(e));
      }
    }).then(() => { renderControls(); watchSource(); });
  });

  // The chosen source streams to this view before Start (nothing is stored); leaving the view or
  // choosing no source ends that. A running session is left alone.
  let mounted = true;
  const watchSource = () => {
    const s = source.get();
    if (!mounted || liveState.get().started) return;
    const attempt = s ? monitor(s) : stopMonitor();
    attempt.catch((e: unknown) => { if (mounted) replace(message, errorNote(e)); });
  };

  const layout = h("div", { class: "live" },
    h("div", { class: "live-top" }, sourceEl, h("div", { class: "chips" }, linkChip, contactChip, batteryChip, qualityChip),
      h("div", { class: "live-controls" }, h("label", { for: "live-kind", class: "sr-only" }, "Kind"), kindSel, startBtn, stopBtn)),
    message, savedEl,
    h("div", { class: "live-grid" },
      h("section", { class: "card hero" },
        h("div", { class: "hr" }, h("span", { class: "hr-heart", attrs: { "aria-hidden": "true" } }, "♥"), hrEl, h("span", { class: "hr-unit" }, "bpm")),
        zoneEl,
        h("div", { class: "hero-foot" }, h("span", null, "Time ", timeEl), h("span", null, "Beats ", beatsEl))),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, "RMSSD"),
        h("div", { class: "pair-nums" },
          h("div", null, rmssd60, h("span", { class: "stat-unit" }, "ms"), h("div", { class: "muted small" }, "last 60 s")),
          h("div", null, rmssd5m, h("span", { class: "stat-unit" }, "ms"), h("div", { class: "muted small" }, "last 5 min"))),
        h("div", { class: "pair-nums small-row" },
          h("div", null, h("span", { class: "muted small" }, "ln RMSSD "), lnRmssd),
          h("div", null, h("span", { class: "muted small" }, "SDNN 60 s "), sdnn))),
      gaugeCard),
    h("section", { class: "card" }, h("div", { class: "card-title-row" }, h("h2", { class: "card-title" }, `RR tachogram (${unit})`), windowSel), tachoEl),
    h("div", { class: "live-charts" },
      h("section", { class: "card" }, h("h2", { class: "card-title" }, "Rolling RMSSD (ms)"), rmssdEl),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, "Poincaré"), poinEl)),
    card("Latest beats", h("p", { class: "muted small" }, "Labels ending in “?” are provisional: each is final once 16 more beats have followed it, and is revised here and in the tachogram (hollow points) if it changes."), beatListEl),
    h("div", { class: "live-charts" },
      card("Alerts", alertsEmpty, alertsEl),
      card("Tags", h("div", { class: "form-row" }, tagInput, tagBtn),
        h("div", { class: "quick-tags" }, QUICK_TAGS.map((t) => h("button", { class: "btn btn-chip", on: { click: () => void doTag(t) } }, t))),
        tagNote, tagsEl)));
  replace(root, layout);

  const tacho = mountChart(tachoEl, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ values: timeAxisValues }), axis({ size: 52 })],
    series: [{}, lineSeries("RR", () => pal.accent2), pointsSeries("Artifact", () => pal.bad, 7),
      hollowPointsSeries("Artifact (provisional)", () => pal.bad, 7)],
    cursor: { drag: { x: false, y: false } },
  }, [[], [], [], []], 220, "tacho");
  const rmssdChart = mountChart(rmssdEl, {
    scales: { x: { time: false } },
    axes: [axis({ values: timeAxisValues }), axis({ size: 44 })],
    series: [{}, lineSeries("60 s", () => pal.accent, { width: 2 }), lineSeries("5 min", () => pal.accent2, { width: 2 })],
    cursor: { drag: { x: false, y: false } },
  }, [[], [], []], 200, "rolling");
  const poincare = mountChart(poinEl, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ label: `RRn (${unit})`, values: (_u, s) => s.map((v) => String(v)) }), axis({ label: `RRn+1 (${unit})`, size: 56 })],
    series: [{}, pointsSeries("RRn+1", () => pal.accent, 4)],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
  }, [[], []], () => Math.min(260, Math.max(180, poinEl.clientWidth)), "poincare");
  charts.push(tacho, rmssdChart, poincare);

  let renderedAlerts = 0;
  let renderedTags = 0;
  let dirty = true;
  let frame = 0;
  let poincareDue = 0;
  let poincarePairs = 0;
  let poincareTimer = 0;
  let chartsStale = true;
  let chartsDue = 0;
  let chartsTimer = 0;
  const drawPoincare = () => {
    poincareTimer = 0;
    poincareDue = performance.now() + POINCARE_EVERY_MS;
    const grid = { cols: poincare.u.bbox.width / uPlot.pxRatio, rows: poincare.u.bbox.height / uPlot.pxRatio };
    const p = timed("poincare.build", () => beats.poincare(windowMs, unit, grid));
    poincarePairs = p.x.length;
    poincare.setData([p.x, p.y]);
  };

  // Live updates arrive many times a second but change none of what this renders: only rebuild the
  // controls when what they show changed, so updates do not invalidate layout.
  let controlsShown: unknown[] = [];
  const controlsInputs = () => {
    const st = liveState.get();
    return [st.started, st.monitoring, st.saved, st.reattached, source.get(), st.last?.metrics.dfa_alpha1 != null];
  };
  const renderControlsIfChanged = () => {
    const shown = controlsInputs();
    if (shown.length !== controlsShown.length || shown.some((v, i) => v !== controlsShown[i])) renderControls();
  };
  let savedShown: unknown = null;
  const renderControls = () => {
    controlsShown = controlsInputs();
    const st = liveState.get();
    const chosen = source.get();
    const running = st.started !== null;
    startBtn.hidden = running;
    stopBtn.hidden = !running;
    startBtn.disabled = !chosen;
    kindSel.disabled = running;
    tagBtn.disabled = !running;
    tagInput.disabled = !running;
    const label = st.started?.source_label ?? sourceLabel(chosen);
    const simulated = st.started?.simulated ?? chosen?.kind === "simulator";
    replace(sourceEl, simulated ? simulatedBadge() : null,
      h("span", { class: "live-source-text" }, simulated && !label.includes(SIMULATED_LABEL) ? `${SIMULATED_LABEL} · ${label}` : label));
    if (!chosen && !running) {
      replace(message, h("div", { class: "note" }, "Choose a strap or the simulator first. ", h("a", { href: "#/pair" }, "Go to Pair →")));
    } else if (!running && st.monitoring) {
      replace(message, h("div", { class: "note", testid: "live-monitoring", role: "status" },
        "Showing the heart live — nothing is recorded until you press Start session."));
    } else if (st.reattached && st.started) {
      replace(message, h("div", { class: "note" }, `Session #${st.started.session_id} was already running when this window reloaded. Charts show the beats from the reload on; the saved session keeps every beat.`));
    }
    // Rendered once per saved session: controls re-render as monitoring resumes, and the note the
    // person is reading (or a test holds) must stay the same node.
    if (st.saved && st.saved !== savedShown) {
      const s = st.saved;
      savedShown = s;
      replace(savedEl, h("div", { class: "note note-good", testid: "session-saved", role: "status" },
        h("strong", null, `Session #${s.id} saved`), ` — ${s.beat_count} beats, ${formatDuration(s.duration_s)}. `,
        h("a", { href: `#/history/${s.id}` }, "Open in History →")));
    }
    gaugeCard.hidden = !(kindSel.value === "exercise" || st.started?.kind === "exercise" || st.last?.metrics.dfa_alpha1 != null);
  };
  kindSel.addEventListener("change", renderControls);

  const draw = (now: number) => {
    const t0 = performance.now();
    drawUntimed(now);
    record("draw", performance.now() - t0);
  };
  const drawCharts = (now: number) => {
    chartsStale = false;
    chartsDue = now + CHARTS_EVERY_MS;
    const t = timed("tacho.build", () => beats.tachogram(windowMs, unit));
    tacho.setData([t.x, t.rr, t.artifacts, t.provisional] as unknown as uPlot.AlignedData);
    replace(beatListEl, beats.recent(RECENT_BEATS).map((b) => beatRow(b, unit)));
    const r = timed("rolling.build", () => rolling.toData().slice(0, 3) as uPlot.AlignedData);
    rmssdChart.setData(r);
  };
  const drawUntimed = (now: number) => {
    frame = 0;
    if (!dirty) return;
    dirty = false;
    const st = liveState.get();
    const u = st.last;
    setText(hrEl, formatHr(u?.heart_rate_bpm ?? null));
    const s = settings.get();
    if (s && u?.heart_rate_bpm) {
      const z = zoneOf(u.heart_rate_bpm, s.max_hr, s.zones_pct);
      zoneEl.className = `zone-pill z${z}`;
      setText(zoneEl, z === 0 ? "below zone 1" : `Zone ${z}`);
    } else {
      setText(zoneEl, "");
      zoneEl.className = "zone-pill";
    }
    setText(timeEl, formatSessionTime(u?.at_ms ?? 0));
    setText(beatsEl, String(u?.beats_total ?? 0));
    setText(linkChip, u?.link ?? (st.started ? "connecting" : "idle"));
    linkChip.className = `chip link-${u?.link ?? (st.started ? "connecting" : "none")}`;
    setText(contactChip, u?.contact === null || u?.contact === undefined ? "contact —" : u.contact ? "contact ✓" : "no skin contact");
    contactChip.className = `chip${u?.contact === false ? " chip-bad" : ""}`;
    setText(batteryChip, u?.battery_percent != null ? `battery ${u.battery_percent} %` : "battery —");
    const q = signalQuality(u?.artifacts_total ?? 0, u?.beats_total ?? 0);
    setText(qualityChip, q.artifactPct === null ? "quality —" : `artifacts ${q.artifactPct.toFixed(1)} %`);
    qualityChip.className = `chip q-${q.level}`;
    const m = u?.metrics;
    setText(rmssd60, formatNumber(m?.rmssd_60s ?? null, 1));
    setText(rmssd5m, formatNumber(m?.rmssd_5m ?? null, 1));
    setText(lnRmssd, formatNumber(m?.ln_rmssd ?? null, 2));
    setText(sdnn, formatNumber(m?.sdnn_60s ?? null, 1));
    gauge.set(m?.dfa_alpha1 ?? null);

    if (chartsStale) {
      if (now >= chartsDue) drawCharts(now);
      else if (!chartsTimer) chartsTimer = window.setTimeout(() => { chartsTimer = 0; dirty = true; schedule(); }, chartsDue - now);
    }
    // The Poincaré plot re-sorts every pair, so it redraws at most twice a second — except while
    // it is still empty, so the first beats show at once.
    if (poincarePairs === 0 || now >= poincareDue) drawPoincare();
    else if (!poincareTimer) poincareTimer = window.setTimeout(drawPoincare, poincareDue - now);

    if (st.alerts.length !== renderedAlerts) {
      const fresh = st.alerts.slice(0, st.alerts.length - renderedAlerts);
      alertsEl.prepend(...fresh.map(alertItem));
      renderedAlerts = st.alerts.length;
      if (st.alerts.length === 0) replace(alertsEl);
    }
    alertsEmpty.hidden = st.alerts.length > 0;
    if (st.tags.length !== renderedTags) {
      replace(tagsEl, st.tags.map((tg) => h("span", { class: "tag" }, tg.tag, h("span", { class: "muted small" }, ` ${formatSessionTime(tg.atMs)}`))));
      renderedTags = st.tags.length;
    }
  };
  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  unsubs.push(liveTick.subscribe(() => { dirty = true; chartsStale = true; schedule(); }));
  unsubs.push(liveState.subscribe(() => {
    renderControlsIfChanged();
    if (liveState.get().alerts.length < renderedAlerts) { renderedAlerts = 0; replace(alertsEl); }
    if (liveState.get().tags.length < renderedTags) renderedTags = -1;
    dirty = true; chartsStale = true; schedule();
  }));
  unsubs.push(source.subscribe(() => { renderControls(); watchSource(); }));
  renderControls();
  watchSource();
  schedule();

  return () => {
    mounted = false;
    if (!liveState.get().started) void stopMonitor().catch(() => undefined);
    if (frame) cancelAnimationFrame(frame);
    if (poincareTimer) clearTimeout(poincareTimer);
    if (chartsTimer) clearTimeout(chartsTimer);
    unsubs.forEach((u) => u());
    charts.forEach((c) => c.destroy());
  };
}

