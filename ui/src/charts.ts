// uPlot glue: colours read from the theme's CSS variables (so charts follow light/dark), sizing
// that follows the container, and redraws coalesced to one per animation frame.
import uPlot from "uplot";
import { themeChanged } from "./theme";
import { record } from "./perf";

export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  accent: string;
  accent2: string;
  warn: string;
  bad: string;
  good: string;
  band: string;
  vlf: string;
  lf: string;
  hf: string;
}

export const pal: Palette = {
  fg: "#222", muted: "#777", grid: "rgba(0,0,0,.08)", accent: "#d6336c", accent2: "#1c7ed6",
  warn: "#f08c00", bad: "#e03131", good: "#2f9e44", band: "rgba(47,158,68,.15)",
  vlf: "rgba(134,142,150,.18)", lf: "rgba(28,126,214,.16)", hf: "rgba(47,158,68,.16)",
};

function readPalette(): void {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  pal.fg = v("--fg", pal.fg);
  pal.muted = v("--muted", pal.muted);
  pal.grid = v("--chart-grid", pal.grid);
  pal.accent = v("--accent", pal.accent);
  pal.accent2 = v("--accent-2", pal.accent2);
  pal.warn = v("--warn", pal.warn);
  pal.bad = v("--bad", pal.bad);
  pal.good = v("--good", pal.good);
  pal.band = v("--band", pal.band);
  pal.vlf = v("--band-vlf", pal.vlf);
  pal.lf = v("--band-lf", pal.lf);
  pal.hf = v("--band-hf", pal.hf);
}

const live = new Set<uPlot>();

themeChanged.subscribe(() => {
  readPalette();
  for (const u of live) u.redraw(false, true);
});

/** An axis whose colours follow the theme. */
export function axis(extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: () => pal.muted,
    grid: { stroke: () => pal.grid, width: 1 },
    ticks: { stroke: () => pal.grid, width: 1 },
    font: "11px system-ui, sans-serif",
    labelFont: "12px system-ui, sans-serif",
    ...extra,
  };
}

export interface Chart {
  u: uPlot;
  /** Queues data for the next animation frame; several calls in one frame draw once. */
  setData(data: uPlot.AlignedData): void;
  destroy(): void;
}

export function mountChart(
  el: HTMLElement,
  opts: Omit<uPlot.Options, "width" | "height">,
  data: uPlot.AlignedData,
  height: number | (() => number),
  name = "chart",
): Chart {
  readPalette();
  const heightOf = () => (typeof height === "number" ? height : height());
  const width = () => Math.max(200, Math.floor(el.clientWidth));
  let paintStart = 0;
  const hooks: uPlot.Hooks.Arrays = { ...opts.hooks };
  hooks.drawClear = [...(hooks.drawClear ?? []), () => { paintStart = performance.now(); }];
  hooks.draw = [...(hooks.draw ?? []), () => record(`${name}.paint`, performance.now() - paintStart)];
  const u = new uPlot({ ...opts, hooks, width: width(), height: heightOf() } as uPlot.Options, data, el);
  live.add(u);
  let pending: uPlot.AlignedData | null = null;
  let frame = 0;
  const flush = () => {
    frame = 0;
    if (pending) {
      const t0 = performance.now();
      u.setData(pending);
      record(`${name}.setData`, performance.now() - t0);
      pending = null;
    }
  };
  const ro = new ResizeObserver(() => {
    const w = width();
    const hh = heightOf();
    if (w !== u.width || hh !== u.height) u.setSize({ width: w, height: hh });
  });
  ro.observe(el);
  return {
    u,
    setData(d) {
      pending = d;
      if (!frame) frame = requestAnimationFrame(flush);
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      ro.disconnect();
      live.delete(u);
      u.destroy();
    },
  };
}

/** Scatter series: points only, no line between them. */
export function pointsSeries(label: string, color: () => string, size = 4): uPlot.Series {
  return {
    label,
    stroke: color,
    fill: color,
    paths: () => null,
    points: { show: true, size, stroke: color, fill: color, width: 0 },
  };
}

/** Points drawn as rings: a value not yet final (a provisional artifact label). */
export function hollowPointsSeries(label: string, color: () => string, size = 4): uPlot.Series {
  return {
    label,
    stroke: color,
    paths: () => null,
    points: { show: true, size, stroke: color, fill: "transparent", width: 1.5 },
  };
}

export function lineSeries(label: string, color: () => string, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return { label, stroke: color, width: 1.5, points: { show: false }, ...extra };
}
