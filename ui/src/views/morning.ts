// Morning readiness: a guided 3-minute reading (countdown ring, breathing cue, live HR), then
// today's lnRMSSD against the 7-day mean and the personal normal range, with the verdict in words.
import { h, replace, setText, svg } from "../dom";
import { call, newChannel, toFailure, type LiveUpdate, type MorningResult, type Readiness } from "../ipc";
import { source, sourceLabel, Store } from "../state";
import { simulatedBadge } from "../shell";
import { countdown, EXHALE_S, INHALE_S } from "../countdown";
import { dayOfParam, morningsUntilBaseline, normalRange, trendDaysReaching, VERDICT_WORDS, verdictSentence, verdictTone } from "../readiness";
import { DASH, formatHr, formatNumber } from "../format";
import { card, errorNote, pageHeader } from "./common";

type Phase =
  | { kind: "idle" }
  | { kind: "running"; last: LiveUpdate | null }
  | { kind: "done"; result: MorningResult; morningsNeeded: number }
  | { kind: "failed"; error: unknown };

// The reading outlives the view: going to another page and back shows it still running.
const phase = new Store<Phase>({ kind: "idle" });

async function runReading(): Promise<void> {
  const s = source.get();
  if (!s) return;
  phase.set({ kind: "running", last: null });
  const ch = newChannel<LiveUpdate>((u) => {
    const p = phase.get();
    if (p.kind === "running") phase.set({ kind: "running", last: u });
  });
  try {
    const result = await call("startMorning", s, ch);
    let needed = 0;
    if (result.readiness.verdict === null) {
      const trend = await call("dailyTrend", 60).catch(() => [] as Readiness[]);
      needed = morningsUntilBaseline(trend, result.day);
    }
    phase.set({ kind: "done", result, morningsNeeded: needed });
  } catch (e) {
    phase.set({ kind: "failed", error: e });
  }
}

/** A horizontal band chart: the normal range shaded, today's value and the 7-day mean marked. */
export function rangeChart(r: Readiness, today: number | null): SVGSVGElement | null {
  const range = normalRange(r);
  const vals = [today, r.rolling_mean_7d, ...(range ?? [])].filter((v): v is number => v !== null && Number.isFinite(v));
  if (vals.length === 0) return null;
  const min = Math.min(...vals) - 0.3;
  const max = Math.max(...vals) + 0.3;
  const W = 480, H = 86, pad = 16;
  const x = (v: number) => pad + ((v - min) / (max - min || 1)) * (W - 2 * pad);
  const parts: SVGElement[] = [svg("line", { x1: pad, x2: W - pad, y1: 40, y2: 40, class: "rc-axis" })];
  if (range) {
    const [lo, hi] = range;
    parts.push(svg("rect", { x: x(lo), y: 26, width: Math.max(2, x(hi) - x(lo)), height: 28, rx: 4, class: "rc-band" }));
    parts.push(svg("text", { x: x(lo), y: 72, "text-anchor": "middle", class: "rc-tick" }, lo.toFixed(2)));
    parts.push(svg("text", { x: x(hi), y: 72, "text-anchor": "middle", class: "rc-tick" }, hi.toFixed(2)));
    parts.push(svg("text", { x: (x(lo) + x(hi)) / 2, y: 20, "text-anchor": "middle", class: "rc-cap" }, "normal range"));
  }
  if (r.rolling_mean_7d !== null) {
    const m = x(r.rolling_mean_7d);
    parts.push(svg("path", { d: `M${m - 7},40 L${m},33 L${m + 7},40 L${m},47 Z`, class: "rc-mean" }));
    parts.push(svg("text", { x: m, y: 86, "text-anchor": "middle", class: "rc-tick rc-mean-t" }, `7-day ${r.rolling_mean_7d.toFixed(2)}`));
  }
  if (today !== null) {
    parts.push(svg("circle", { cx: x(today), cy: 40, r: 7, class: "rc-today" }));
    parts.push(svg("text", { x: x(today), y: 14, "text-anchor": "middle", class: "rc-cap rc-today-t", "data-testid": "morning-today" }, `today ${today.toFixed(2)}`));
  }
  return svg("svg", { viewBox: `0 0 ${W} ${H + 4}`, class: "range-chart", role: "img", "aria-label": "Today's lnRMSSD against the normal range" }, parts);
}

function rangeText(r: Readiness): string {
  const range = normalRange(r);
  return range ? `${range[0].toFixed(2)}–${range[1].toFixed(2)}` : DASH;
}

function resultView(res: MorningResult, needed: number): HTMLElement {
  const r = res.readiness;
  const tone = verdictTone(r.verdict);
  return h("div", { class: "morning-result" },
    h("div", { class: `verdict verdict-${tone}`, testid: "morning-verdict" },
      h("div", { class: "verdict-word" }, r.verdict ? VERDICT_WORDS[r.verdict] : "Building your baseline"),
      h("p", { class: "verdict-sentence" }, verdictSentence(r.verdict, needed))),
    h("div", { class: "stats-row" },
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Today lnRMSSD"), h("div", { class: "stat-value" }, formatNumber(res.ln_rmssd, 2))),
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "RMSSD"), h("div", { class: "stat-value" }, formatNumber(res.rmssd_ms, 1), h("span", { class: "stat-unit" }, "ms"))),
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "7-day mean"), h("div", { class: "stat-value" }, formatNumber(r.rolling_mean_7d, 2))),
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Normal range"), h("div", { class: "stat-value" }, rangeText(r))),
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Resting HR"), h("div", { class: "stat-value" }, formatHr(res.resting_hr), h("span", { class: "stat-unit" }, "bpm")))),
    rangeChart(r, res.ln_rmssd),
    h("p", { class: "muted small" }, `${res.beats} beats, ${res.artifacts} corrected artifacts. `, h("a", { href: `#/history/${res.session_id}` }, "Open this reading in History →")));
}

export function mountMorning(root: HTMLElement, params: string[] = []): () => void {
  const body = h("div");
  const ringR = 88;
  const circ = 2 * Math.PI * ringR;
  const ringFg = svg("circle", { cx: 100, cy: 100, r: ringR, class: "ring-fg", "stroke-dasharray": circ.toFixed(1), "stroke-dashoffset": circ.toFixed(1), transform: "rotate(-90 100 100)" });
  const ringLabel = svg("text", { x: 100, y: 108, "text-anchor": "middle", class: "ring-label" }, "3:00");
  const ring = svg("svg", { viewBox: "0 0 200 200", class: "countdown-ring", role: "timer", "aria-label": "Time left" },
    svg("circle", { cx: 100, cy: 100, r: ringR, class: "ring-bg" }), ringFg, ringLabel);
  const hrEl = h("span", { class: "mono", testid: "morning-hr" }, "—");
  const breathing = h("div", { class: "breath", style: { "--inhale": `${INHALE_S}s`, "--cycle": `${INHALE_S + EXHALE_S}s` } },
    h("div", { class: "breath-circle", attrs: { "aria-hidden": "true" } }),
    h("div", { class: "breath-text" }, h("span", { class: "breath-in" }, "Breathe in"), h("span", { class: "breath-out" }, "Breathe out")));
  const cancelBtn = h("button", { class: "btn", on: { click: () => void call("stopLive").catch(() => undefined) } }, "Cancel reading");
  const startBtn = h("button", { class: "btn btn-primary btn-lg", testid: "morning-start", on: { click: () => void runReading() } }, "Start 3-minute reading");
  const todayEl = h("div");

  const render = (p: Phase) => {
    const s = source.get();
    if (p.kind === "running") {
      const c = countdown(p.last?.at_ms ?? 0);
      ringFg.setAttribute("stroke-dashoffset", (circ * (1 - c.done)).toFixed(1));
      setText(ringLabel, c.label);
      setText(hrEl, formatHr(p.last?.heart_rate_bpm ?? null));
      if (!body.contains(ring)) {
        replace(body, card(null, h("div", { class: "morning-run" },
          h("div", { class: "morning-ring" }, ring, h("div", { class: "muted" }, "Heart rate ", hrEl, " bpm")),
          breathing),
        h("p", { class: "muted center" }, "Sit or lie still, relax your face and shoulders, and follow the circle: in for 4 seconds, out for 6."),
        h("div", { class: "center" }, cancelBtn)));
      }
      return;
    }
    const sourceLine = h("p", { class: "muted" }, "Source: ", s?.kind === "simulator" ? simulatedBadge() : null, " ", s ? sourceLabel(s) : "none — ", s ? null : h("a", { href: "#/pair" }, "choose one in Pair"));
    const intro = card("How it works",
      h("ol", { class: "steps" },
        h("li", null, "Right after waking, before coffee, put on the strap (wet the electrodes)."),
        h("li", null, "Lie or sit still and breathe calmly with the cue for 3 minutes."),
        h("li", null, "Auren compares your lnRMSSD with the mean of your last 7 mornings and your normal range from 60 days.")),
      sourceLine,
      h("div", null, startBtn));
    startBtn.disabled = !s;
    if (p.kind === "done") {
      replace(body, card("This morning", resultView(p.result, p.morningsNeeded)), intro);
      setText(startBtn, "Take the reading again");
    } else if (p.kind === "failed") {
      const f = toFailure(p.error);
      const msg = f.code === "reading_incomplete" ? h("div", { class: "note note-warn" }, "The reading was stopped before 3 minutes; nothing was judged. ", f.message) : errorNote(p.error);
      replace(body, msg, intro);
    } else {
      replace(body, todayEl, intro);
    }
  };

  replace(root, pageHeader("Morning readiness", "A 3-minute reading each morning tells you how recovered you are."), body);
  const unsub = phase.subscribe(render);
  const unsubSrc = source.subscribe(() => render(phase.get()));
  render(phase.get());

  const askedDay = dayOfParam(params[0]);
  const reach = askedDay === null ? null : trendDaysReaching(askedDay, Math.floor(Date.now() / 86_400_000), 3650);
  if (phase.get().kind === "idle" && askedDay !== null) {
    // A link to a day (a grounded number in the chat, a proactive message): that morning, not today's.
    const title = `Morning of ${params[0]}`;
    const shown = reach === null
      ? Promise.resolve(undefined)
      : call("dailyTrend", reach).then((trend) => trend.find((r) => r.day === askedDay));
    shown.then((r) => {
      if (phase.get().kind !== "idle") return;
      if (!r || r.today_ln_rmssd === null) {
        replace(todayEl, card(title, h("p", { testid: "morning-day", data: { day: params[0] } }, `There is no morning reading on ${params[0]}.`)));
        return;
      }
      replace(todayEl, card(title, h("div", { class: `verdict verdict-${verdictTone(r.verdict)}`, testid: "morning-day", data: { day: params[0] } },
        h("p", { class: "verdict-sentence" }, `lnRMSSD ${formatNumber(r.today_ln_rmssd, 2)}. ${verdictSentence(r.verdict, 0)}`)), rangeChart(r, r.today_ln_rmssd)));
    }).catch(() => undefined);
  } else if (phase.get().kind === "idle") {
    call("readinessToday").then(async (r) => {
      if (r.today_ln_rmssd === null) return;
      const needed = r.verdict === null ? morningsUntilBaseline(await call("dailyTrend", 60), r.day) : 0;
      if (phase.get().kind !== "idle") return;
      replace(todayEl, card("Today", h("div", { class: `verdict verdict-${verdictTone(r.verdict)}` },
        h("p", { class: "verdict-sentence" }, verdictSentence(r.verdict, needed))), rangeChart(r, r.today_ln_rmssd)));
    }).catch(() => undefined);
  }
  return () => { unsub(); unsubSrc(); };
}

