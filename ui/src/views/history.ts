// History: the daily morning trend, the sessions list, and one session's Kubios-style panel,
// artifacts, alerts, charts, exports, tags and note — the person's own, or, for a coach, an athlete's
// (picked at the top; read-only: only the person's own tags and notes are edited, and the store refuses
// edits of an athlete's).
import uPlot from "uplot";
import { h, replace } from "../dom";
import { call, type ExportFormat, type Readiness, type SessionAnnotations, type SessionCharts, type SessionDetail, type SessionEnd, type SessionListItem, type SessionSummary, type Spectrum } from "../ipc";
import { isSimulatedSource, rrUnit } from "../state";
import { navigate, simulatedBadge } from "../shell";
import { DASH, formatBytes, formatDateTime, formatDay, formatDuration, formatNumber, formatSessionTime, parseSessionTime } from "../format";
import { arrangePanel, GROUP_TITLES } from "../metrics";
import { ARTIFACT_KINDS, ARTIFACT_NAMES } from "../labels";
import { BAND_NAMES, SESSION_KIND_NAMES } from "../names";
import { artifactCounts, beatsToPoincare, beatsToTachogram, spectrumPoints } from "../series";
import { axis, lineSeries, mountChart, pal, pointsSeries, type Chart } from "../charts";
import { endCell, endLine, type EndText } from "../sessionEnd";
import { alertList } from "./live";
import { busy, card, errorNote, pageHeader, spinner } from "./common";
import { listHeading, ownerKey, ownerLabel, pickerEntries, pickerNeeded, placeOf, readOnlyNote, routeOf, sameOwner, type HistoryOwner } from "./historyOwner";
import { markedDayOf, markedDayText, trendSpan, type MarkedDay } from "./trendDay";

const PAGE = 25;

export function artifactPct(s: SessionSummary): number | null {
  return s.beat_count > 0 ? (100 * s.artifact_count) / s.beat_count : null;
}

/** A session's end, styled by its state (ended, recording, no end recorded). */
function endView(e: EndText, testid: string, end: SessionEnd): HTMLElement {
  const tone = e.tone === "ended" ? "" : e.tone === "recording" ? "badge" : "badge badge-warn";
  return h("span", { class: `session-end ${tone}`.trim(), testid, title: e.title, data: { state: end.state } }, e.text);
}

function sourceCell(label: string): HTMLElement {
  return h("span", { class: "session-source", testid: "session-source" }, isSimulatedSource(label) ? simulatedBadge() : null, " ", label);
}

// x is the readiness day number itself (UTC calendar days) on a plain numeric scale: a time scale
// would place its ticks at local midnights, which fall on the previous UTC day east of Greenwich.
// The marked day (a chat number's source) as a dashed line across the plot.
function markDayHook(day: number) {
  return (u: uPlot) => {
    const x = u.valToPos(day, "x", true);
    if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = pal.accent;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  };
}

function trendChart(el: HTMLElement, days: Readiness[], marked: MarkedDay | null): Chart {
  const x = days.map((d) => d.day);
  const lo = days.map((d) => d.normal_range?.[0] ?? null);
  const hi = days.map((d) => d.normal_range?.[1] ?? null);
  const mean = days.map((d) => d.rolling_mean_7d);
  const today = days.map((d) => d.today_ln_rmssd);
  const rhr = days.map((d) => d.resting_hr);
  return mountChart(el, {
    scales: { x: { time: false }, hr: { auto: true } },
    axes: [
      axis({ incrs: [1, 2, 7, 14, 28], values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? formatDay(s) : "")) }),
      axis({ label: "lnRMSSD", size: 50 }),
      axis({ scale: "hr", side: 1, label: "Resting HR (bpm)", size: 50, grid: { show: false } }),
    ],
    series: [
      { value: (_u, v) => (v == null ? DASH : formatDay(v)) },
      lineSeries("Normal low", () => pal.band, { width: 0 }),
      lineSeries("Normal high", () => pal.band, { width: 0 }),
      lineSeries("7-day mean", () => pal.accent2, { width: 2.5, spanGaps: false }),
      pointsSeries("Morning lnRMSSD", () => pal.accent, 7),
      lineSeries("Resting HR", () => pal.muted, { scale: "hr", width: 1, dash: [4, 4], spanGaps: true, points: { show: true, size: 4 } }),
    ],
    bands: [{ series: [2, 1], fill: () => pal.band }],
    hooks: marked ? { draw: [markDayHook(marked.day)] } : {},
  }, [x, lo, hi, mean, today, rhr] as uPlot.AlignedData, 230);
}

function bandsHook(spec: Spectrum) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    for (const b of spec.bands) {
      // A band edge the app could not state is not guessed: that band is left unshaded.
      if (b.lo_hz === null || b.hi_hz === null) continue;
      const x0 = u.valToPos(b.lo_hz, "x", true);
      const x1 = u.valToPos(Math.min(b.hi_hz, u.scales.x.max ?? b.hi_hz), "x", true);
      ctx.fillStyle = pal[b.name];
      ctx.fillRect(x0, top, Math.max(0, x1 - x0), height);
      ctx.fillStyle = pal.muted;
      ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
      ctx.fillText(BAND_NAMES[b.name], x0 + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
    }
  };
}

function detailCharts(charts: SessionCharts, holder: HTMLElement, mounted: Chart[]): void {
  const unit = rrUnit();
  const tEl = h("div", { class: "chart" });
  const pEl = h("div", { class: "chart" });
  const qEl = h("div", { class: "chart chart-square" });
  replace(holder,
    card(`RR tachogram (${unit})`, tEl),
    h("div", { class: "live-charts" },
      card("Power spectrum (ms²/Hz)", charts.spectrum ? pEl : h("p", { class: "muted" }, charts.spectrum_absent?.message ?? "No spectrum for this session.")),
      card("Poincaré", qEl)));
  const t = beatsToTachogram(charts.beats, unit);
  mounted.push(mountChart(tEl, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ values: (_u, s) => s.map((v) => formatDuration(v)) }), axis({ size: 52 })],
    series: [{}, lineSeries("RR", () => pal.accent2), pointsSeries("Artifact", () => pal.bad, 7)],
  }, [t.x, t.rr, t.artifacts] as unknown as uPlot.AlignedData, 220));
  const spec = charts.spectrum;
  if (spec) {
    const maxF = 0.5;
    const { x: xs, y: ys } = spectrumPoints(spec.freq_hz, spec.power_ms2_hz, maxF);
    mounted.push(mountChart(pEl, {
      legend: { show: false },
      scales: { x: { time: false, range: [0, maxF] } },
      axes: [axis({ label: "Hz" }), axis({ size: 60 })],
      series: [{}, lineSeries("PSD", () => pal.accent, { width: 2 })],
      hooks: { drawAxes: [bandsHook(spec)] },
    }, [xs, ys], 240));
  }
  const p = beatsToPoincare(charts.beats, unit);
  mounted.push(mountChart(qEl, {
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis({ label: `RRn (${unit})` }), axis({ label: `RRn+1 (${unit})`, size: 56 })],
    series: [{}, pointsSeries("RRn+1", () => pal.accent, 3)],
    cursor: { points: { show: false } },
  }, [p.x, p.y], () => Math.min(280, Math.max(200, qEl.clientWidth))));
}

function panelView(d: SessionDetail): HTMLElement {
  return h("div", { class: "panel-groups" }, arrangePanel(d.panel).map(({ group, rows }) =>
    h("section", { class: "card panel-group" }, h("h2", { class: "card-title" }, GROUP_TITLES[group]),
      h("table", { class: "metrics" }, h("tbody", null, rows.map(({ info, metric }) => {
        const absent = metric.value === null;
        return h("tr", { testid: "session-metric", data: { key: info.key }, class: absent ? "absent" : "", title: absent ? metric.absent?.message ?? "not available" : "" },
          h("th", null, info.label),
          h("td", { class: "num" }, absent ? DASH : formatNumber(metric.value, info.decimals)),
          h("td", { class: "unit muted" }, info.unit));
      }))))));
}

function exportBar(id: number): HTMLElement {
  const result = h("div", { class: "export-result", testid: "export-result", attrs: { "aria-live": "polite" } });
  const mk = (fmt: ExportFormat, label: string, testid: string) => {
    const b = h("button", { class: "btn", testid }, label);
    b.addEventListener("click", () => void busy(b, async () => {
      try {
        const out = await call("exportSession", id, fmt);
        replace(result, h("span", { class: "note note-good" }, `Saved ${formatBytes(out.bytes)} to `, h("code", null, out.path)));
      } catch (e) {
        replace(result, errorNote(e));
      }
    }));
    return b;
  };
  const open = h("button", { class: "btn btn-quiet", testid: "open-export-folder", on: { click: () => void call("openExportFolder").catch((e: unknown) => replace(result, errorNote(e))) } }, "Open folder");
  return h("div", null, h("div", { class: "toolbar" },
    mk("csv", "CSV", "export-csv"), mk("kubios_rr", "Kubios RR", "export-kubios"),
    mk("report_png", "Report PNG", "export-png"), mk("report_svg", "Report SVG", "export-svg"), open), result);
}

/** The gaps' summed length, or a note when some gap's bounds are unknown (not counted as zero). */
function gapTotal(gaps: SessionDetail["gaps"]): string {
  let ms = 0;
  let unknown = 0;
  for (const g of gaps) {
    if (g.from_ms === null || g.to_ms === null) unknown++;
    else ms += g.to_ms - g.from_ms;
  }
  const total = `${formatDuration(ms / 1000)} in total`;
  return unknown ? `${total} (${unknown} of unknown length)` : total;
}

/** The sessions of `owner`, a page at a time. */
function sessionsOf(owner: HistoryOwner, offset: number): Promise<SessionListItem[]> {
  return owner.kind === "own" ? call("listSessions", PAGE, offset) : call("athleteSessions", owner.email, PAGE, offset);
}

/** The last `days` days of `owner`'s morning trend. */
function trendOf(owner: HistoryOwner, days: number): Promise<Readiness[]> {
  return owner.kind === "own" ? call("dailyTrend", days) : call("athleteDailyTrend", owner.email, days);
}

/** The picker of whose History is shown; hidden until there is someone besides the person to choose. */
function ownerPicker(shown: HistoryOwner): HTMLElement {
  const select = h("select", { testid: "history-owner", id: "history-owner" }) as HTMLSelectElement;
  const wrap = h("label", { class: "history-owner", for: "history-owner", hidden: true }, h("span", { class: "muted" }, "Showing "), select);
  const fill = (owners: HistoryOwner[]) => {
    const entries = pickerEntries(owners, shown);
    replace(select, ...entries.map((o) => {
      const opt = h("option", { value: ownerKey(o) }, ownerLabel(o)) as HTMLOptionElement;
      opt.selected = sameOwner(o, shown);
      return opt;
    }));
    select.onchange = () => {
      const picked = entries.find((o) => ownerKey(o) === select.value);
      if (picked && !sameOwner(picked, shown)) navigate(routeOf(picked));
    };
    wrap.hidden = !pickerNeeded(entries);
  };
  // Without the list (a database error) the picker still shows an athlete being viewed, to go back.
  call("historyOwners").then(fill).catch(() => fill([]));
  return wrap;
}

function mountDetail(root: HTMLElement, id: number, owner: HistoryOwner): () => void {
  const mounted: Chart[] = [];
  let alive = true;
  // Before the session loads, the route's owner; after, the session's own (`#/history/<id>` of an
  // athlete's session goes back to their list, not the coach's own).
  const back = (whose: HistoryOwner = owner) =>
    h("a", { href: `#/${routeOf(whose)}`, class: "back" }, whose.kind === "own" ? "← All sessions" : `← ${whose.email}'s sessions`);
  replace(root, back(), h("div", { class: "center pad" }, spinner("Loading session")));
  Promise.all([call("sessionDetail", id), call("sessionCharts", id)]).then(([d, charts]) => {
    if (!alive) return;
    const s = d.summary;
    const counts = artifactCounts(charts.beats);
    const chartsHolder = h("div");
    // Whose it is comes from the session itself, whatever the route said.
    const note = readOnlyNote(d.owner);
    replace(root,
      back(d.owner),
      pageHeader(`${SESSION_KIND_NAMES[s.kind]} session #${s.id}`, formatDateTime(s.started_at_unix_ms)),
      note ? h("p", { class: "note", testid: "read-only-note" }, note) : null,
      h("p", null, endView(endLine(d.end, s.started_at_unix_ms, s.duration_s), "session-end", d.end)),
      h("div", { class: "stats-row" },
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Source"), h("div", { class: "stat-value small-val" }, sourceCell(s.source))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Duration"), h("div", { class: "stat-value" }, formatDuration(s.duration_s))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Beats"), h("div", { class: "stat-value" }, String(s.beat_count))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Analysed after correction"), h("div", { class: "stat-value" }, String(d.n_beats_corrected))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Artifacts"), h("div", { class: "stat-value" }, formatNumber(artifactPct(s), 1), h("span", { class: "stat-unit" }, "%")))),
      card("Export", exportBar(s.id)),
      annotationsCard(d, s.id),
      panelView(d),
      h("p", { class: "muted small" }, "Hover a “—” to see why a value is missing. PNS and SNS indices weight their three z-scores equally (Kubios does not publish its weights)."),
      h("div", { class: "live-charts" },
        card("Artifacts by kind", h("table", { class: "metrics" }, h("tbody", null,
          ARTIFACT_KINDS.map((k) => h("tr", { testid: "artifact-count", data: { kind: k } }, h("th", null, ARTIFACT_NAMES[k]), h("td", { class: "num" }, String(counts[k])))),
          h("tr", { class: "total" }, h("th", null, "Total"), h("td", { class: "num" }, String(counts.total)))))),
        card("Alerts", d.alerts.length ? alertList(d.alerts) : h("p", { class: "muted" }, "No alerts in this session.")),
        d.gaps.length ? card("Gaps", h("p", { class: "muted" }, `${d.gaps.length} interval${d.gaps.length === 1 ? "" : "s"} without beats, ${gapTotal(d.gaps)}.`)) : null),
      chartsHolder);
    detailCharts(charts, chartsHolder, mounted);
  }).catch((e: unknown) => alive && replace(root, back(), errorNote(e)));
  return () => { alive = false; mounted.forEach((c) => c.destroy()); };
}

/** The session's tags and note: edited on the person's own session (each save is stamped and goes to
 *  their other devices with the next sync; the card then reads them again, without the panel), shown on an
 *  athlete's. */
function annotationsCard(d: SessionDetail, sessionId: number): HTMLElement {
  const body = h("div", { testid: "session-annotations" });
  const status = h("div", { class: "muted small", testid: "annotations-status", attrs: { "aria-live": "polite" } });
  const save = (button: HTMLButtonElement, work: () => Promise<unknown>) => busy(button, async () => {
    try {
      await work();
      render(await call("sessionAnnotations", sessionId));
      replace(status, "Saved. It goes to your other devices with the next sync.");
    } catch (e) {
      replace(status, errorNote(e));
    }
  });
  const tagRow = (t: SessionAnnotations["tags"][number]) => {
    const name = h("input", { type: "text", testid: "tag-name", value: t.name, ariaLabel: "Tag name", attrs: { maxlength: 64 } });
    const at = h("input", { type: "text", testid: "tag-at", value: formatSessionTime(t.at_ms), ariaLabel: "Time into the session (m:ss)", attrs: { size: 8 } });
    const saveTag = h("button", { class: "btn", testid: "tag-save" }, "Save");
    const remove = h("button", { class: "btn", testid: "tag-delete" }, "Delete");
    saveTag.addEventListener("click", () => void save(saveTag, async () => {
      const atMs = parseSessionTime(at.value);
      if (atMs === null) throw new Error(`“${at.value}” is not a time into the session: write m:ss, e.g. 12:30`);
      if (name.value.trim() !== t.name) await call("editTag", t.id, { kind: "rename", name: name.value });
      if (formatSessionTime(atMs) !== formatSessionTime(t.at_ms)) await call("editTag", t.id, { kind: "move", at_ms: atMs });
    }));
    remove.addEventListener("click", () => void save(remove, () => call("deleteTag", t.id)));
    return h("div", { class: "tag-row", testid: "session-tag", data: { tagId: t.id } }, name, at, saveTag, remove);
  };
  const render = (view: SessionAnnotations) => {
    if (d.owner.kind !== "own") {
      replace(body,
        h("p", { testid: "session-note-text" }, view.note ?? "No note."),
        view.tags.length
          ? h("div", { class: "tags" }, view.tags.map((t) => h("span", { class: "tag", testid: "session-tag-text" }, t.name, h("span", { class: "muted small" }, ` ${formatSessionTime(t.at_ms)}`))))
          : h("p", { class: "muted" }, "No tags."));
      return;
    }
    const note = h("textarea", { testid: "session-note", value: view.note ?? "", ariaLabel: "Note", attrs: { rows: 2, maxlength: 2000 } });
    const saveNote = h("button", { class: "btn", testid: "note-save" }, "Save note");
    saveNote.addEventListener("click", () => void save(saveNote, () => call("setSessionNote", sessionId, note.value)));
    replace(body,
      h("div", { class: "note-edit" }, note, saveNote),
      view.tags.length ? h("div", { class: "tag-rows" }, view.tags.map(tagRow)) : h("p", { class: "muted" }, "No tags. Tag moments while recording, in Live."));
  };
  render(d);
  return card("Tags and note", body, status);
}

function mountList(root: HTMLElement, owner: HistoryOwner, marked: MarkedDay | null): () => void {
  const mounted: Chart[] = [];
  let alive = true;
  const trendEl = h("div", { class: "chart" });
  const trendNote = h("div");
  const dayNote = h("p", { testid: "trend-day", hidden: marked === null, data: { day: marked?.date ?? "" } });
  // A marked day older than the usual span widens the trend back to it.
  const span = trendSpan(marked, Math.floor(Date.now() / 86_400_000));
  const tbody = h("tbody");
  const more = h("button", { class: "btn", testid: "load-more" }, "Load more");
  const listNote = h("div");
  let offset = 0;

  const row = (s: SessionListItem) => {
    const tr = h("tr", { class: "session-row", testid: "session-row", data: { sessionId: s.id }, tabIndex: 0, role: "link" },
      h("td", null, formatDateTime(s.started_at_unix_ms)),
      h("td", null, endView(endCell(s.end, s.started_at_unix_ms), "session-end", s.end)),
      h("td", null, SESSION_KIND_NAMES[s.kind]),
      h("td", null, sourceCell(s.source)),
      h("td", { class: "num" }, formatDuration(s.duration_s)),
      h("td", { class: "num" }, String(s.beat_count)),
      h("td", { class: "num" }, formatNumber(artifactPct(s), 1)));
    const open = () => navigate(routeOf(owner, s.id));
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    return tr;
  };
  const load = () => busy(more, async () => {
    try {
      const page = await sessionsOf(owner, offset);
      if (!alive) return;
      offset += page.length;
      tbody.append(...page.map(row));
      more.hidden = page.length < PAGE;
      if (offset === 0) replace(listNote, h("p", { class: "muted" }, owner.kind === "own"
        ? "No sessions yet. Record one in Live, take a morning reading, or import a file."
        : "No sessions of theirs yet: they arrive with a sync after they record."));
    } catch (e) {
      replace(listNote, errorNote(e));
    }
  });
  more.addEventListener("click", () => void load());

  const [title, subtitle] = listHeading(owner);
  replace(root,
    pageHeader(title, subtitle, ownerPicker(owner)),
    card(`Morning lnRMSSD — last ${span} days`, trendNote, dayNote, trendEl),
    card("Sessions",
      h("div", { class: "table-wrap" }, h("table", { class: "sessions" },
        h("thead", null, h("tr", null, ["Started", "Ended", "Kind", "Source", "Duration", "Beats", "Artifacts %"].map((c) => h("th", { attrs: { scope: "col" } }, c)))),
        tbody)),
      listNote, more));

  trendOf(owner, span).then((days) => {
    if (!alive) return;
    if (marked) {
      replace(dayNote, markedDayText(marked, days.find((d) => d.day === marked.day)), " ",
        h("a", { href: `#/morning/${marked.date}` }, "Open that morning →"));
    }
    if (!days.some((d) => d.today_ln_rmssd !== null)) {
      trendEl.hidden = true;
      replace(trendNote, h("p", { class: "muted" }, owner.kind === "own"
        ? "No morning readings yet. Take one in Morning and the trend starts here."
        : "No morning readings of theirs yet: they arrive with a sync after they take one."));
      return;
    }
    mounted.push(trendChart(trendEl, days, marked));
  }).catch((e: unknown) => alive && replace(trendNote, errorNote(e)));
  void load();
  return () => { alive = false; mounted.forEach((c) => c.destroy()); };
}

export function mountHistory(root: HTMLElement, params: string[]): () => void {
  const { owner, sessionId } = placeOf(params);
  return sessionId !== null ? mountDetail(root, sessionId, owner) : mountList(root, owner, markedDayOf(params));
}
