// @vitest-environment happy-dom
// History opened on a marked day ("#/history/day/DATE", where a chat number about a morning links), mounted
// as the app mounts it over a fake command layer: the trend reaches back to the day, the chart gets the
// marker, and the line over it names the day's lnRMSSD with a link on to that morning.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const calls: [string, unknown[]][] = [];
const answers: Record<string, unknown> = {};
const charts: { hooks?: { draw?: unknown[] } }[] = [];

vi.mock("../ipc", () => ({
  call: (name: string, ...args: unknown[]) => {
    calls.push([name, args]);
    return name in answers ? Promise.resolve(answers[name]) : Promise.reject(new Error(`unexpected ${name}`));
  },
}));
vi.mock("../shell", () => ({ navigate: () => undefined, simulatedBadge: () => document.createElement("span") }));
// Charts draw on a canvas happy-dom does not have: the options the view passes are what is checked.
vi.mock("../charts", () => ({
  mountChart: (_el: HTMLElement, opts: { hooks?: { draw?: unknown[] } }) => { charts.push(opts); return { destroy: () => undefined }; },
  axis: () => ({}), lineSeries: () => ({}), pointsSeries: () => ({}),
  pal: new Proxy({}, { get: () => "#000" }),
}));
vi.mock("../views/live", () => ({ alertList: () => document.createElement("ul") }));

const { mountHistory } = await import("../views/history");

const TODAY = Date.UTC(2026, 11, 4, 12); // 4 Dec 2026, noon UTC
const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const settle = () => new Promise((r) => setTimeout(r, 0));
const morning = (iso: string, ln: number | null) => ({
  day: dayNumber(iso), today_ln_rmssd: ln, rolling_mean_7d: null, baseline_mean_60d: null, baseline_sd_60d: null,
  normal_range: null, cv_7d_pct: null, trend: null, verdict: null, resting_hr: 54.6,
});

let root: HTMLElement;
let unmount: (() => void) | null = null;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(TODAY);
  calls.length = 0;
  charts.length = 0;
  for (const k of Object.keys(answers)) delete answers[k];
  root = document.createElement("div");
  document.body.replaceChildren(root);
});
afterEach(() => { unmount?.(); vi.useRealTimers(); });

describe("History on a marked day", () => {
  it.each([
    ["a day within the usual 60", "2026-11-30", 60],
    ["a day 100 days back widens the trend to it", "2026-08-27", 100],
  ])("%s", async (_name, date, span) => {
    Object.assign(answers, { historyOwners: [{ kind: "own" }], listSessions: [], dailyTrend: [morning(date, 3.849), morning("2026-12-03", 4.1)] });
    unmount = mountHistory(root, ["day", date]);
    await settle();

    expect(calls.find(([n]) => n === "dailyTrend")?.[1]).toEqual([span]);
    const line = root.querySelector<HTMLElement>("[data-testid=trend-day]");
    expect(line?.hidden).toBe(false);
    expect(line?.dataset.day).toBe(date);
    expect(line?.textContent).toContain("morning lnRMSSD 3.85 · resting HR 55 bpm");
    expect(line?.querySelector("a")?.getAttribute("href")).toBe(`#/morning/${date}`);
    expect(charts[charts.length - 1]?.hooks?.draw?.length).toBe(1);
  });

  it("the plain list marks nothing", async () => {
    Object.assign(answers, { historyOwners: [{ kind: "own" }], listSessions: [], dailyTrend: [morning("2026-11-30", 3.849)] });
    unmount = mountHistory(root, []);
    await settle();
    expect(calls.find(([n]) => n === "dailyTrend")?.[1]).toEqual([60]);
    expect(root.querySelector<HTMLElement>("[data-testid=trend-day]")?.hidden).toBe(true);
    expect(charts[charts.length - 1]?.hooks?.draw).toBeUndefined();
  });
});
