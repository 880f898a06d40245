// @vitest-environment happy-dom
// The History view per athlete, mounted as the app mounts it over a fake command layer: an athlete's route
// lists their sessions and trend through the athlete commands (never the person's own), the picker shows
// and switches whose data, and an athlete's session opens with the read-only note and a way back to their list;
// a session's tags and note are edited on the person's own session and only shown on an athlete's.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const calls: [string, unknown[]][] = [];
const answers: Record<string, unknown> = {};
const navigate = vi.fn();

vi.mock("../ipc", () => ({
  call: (name: string, ...args: unknown[]) => {
    calls.push([name, args]);
    return name in answers ? Promise.resolve(answers[name]) : Promise.reject(new Error(`unexpected ${name}`));
  },
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));
vi.mock("../shell", () => ({ navigate: (path: string) => navigate(path), simulatedBadge: () => document.createElement("span") }));
// Charts draw on a canvas happy-dom does not have; the view's data flow is what is tested here.
vi.mock("../charts", () => ({
  mountChart: () => ({ destroy: () => undefined }),
  axis: () => ({}), lineSeries: () => ({}), pointsSeries: () => ({}),
  pal: new Proxy({}, { get: () => "#000" }),
}));
vi.mock("../views/live", () => ({ alertList: () => document.createElement("ul") }));

const { mountHistory } = await import("../views/history");

const EMAIL = "ann@example.org";
const summary = {
  id: 7, started_at_unix_ms: 1_763_800_000_000, ended_at_unix_ms: 1_763_800_180_000, kind: "morning",
  source: "ble:AA:BB", strap_address: null, beat_count: 180, artifact_count: 2, duration_s: 180,
};
const ended = { state: "ended", at_unix_ms: 1_763_800_180_000 };

/** Lets every resolved promise's continuation run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

let root: HTMLElement;
let unmount: (() => void) | null = null;

beforeEach(() => {
  calls.length = 0;
  for (const k of Object.keys(answers)) delete answers[k];
  navigate.mockReset();
  root = document.createElement("div");
  document.body.replaceChildren(root);
});
afterEach(() => unmount?.());

describe("History per athlete", () => {
  it("an athlete's route lists their sessions and trend, and the picker switches back to my data", async () => {
    Object.assign(answers, {
      historyOwners: [{ kind: "own" }, { kind: "athlete", email: EMAIL }],
      athleteSessions: [{ ...summary, end: ended }],
      athleteDailyTrend: [],
    });
    unmount = mountHistory(root, ["athlete", encodeURIComponent(EMAIL)]);
    await settle();

    expect(calls.map(([n]) => n).sort()).toEqual(["athleteDailyTrend", "athleteSessions", "historyOwners"]);
    expect(calls.find(([n]) => n === "athleteSessions")?.[1]).toEqual([EMAIL, 25, 0]);
    expect(root.querySelector("h1")?.textContent).toBe(`History — ${EMAIL}`);
    const rows = root.querySelectorAll("[data-testid=session-row]");
    expect(rows.length).toBe(1);
    expect(rows[0].textContent).toContain("ble:AA:BB");
    expect(root.textContent).toContain("No morning readings of theirs yet");

    const picker = root.querySelector<HTMLSelectElement>("[data-testid=history-owner]");
    expect(picker?.closest("label")?.hidden).toBe(false);
    expect([...(picker?.options ?? [])].map((o) => [o.textContent, o.selected])).toEqual([["My data", false], [EMAIL, true]]);

    (rows[0] as HTMLElement).click();
    expect(navigate).toHaveBeenLastCalledWith("history/athlete/ann%40example.org/7");
    if (picker) {
      picker.value = "own";
      picker.dispatchEvent(new Event("change"));
    }
    expect(navigate).toHaveBeenLastCalledWith("history");
  });

  it("my own History with no athlete calls only my commands and shows no picker", async () => {
    Object.assign(answers, { historyOwners: [{ kind: "own" }], listSessions: [], dailyTrend: [] });
    unmount = mountHistory(root, []);
    await settle();
    expect(calls.map(([n]) => n).sort()).toEqual(["dailyTrend", "historyOwners", "listSessions"]);
    expect(root.querySelector("[data-testid=history-owner]")?.closest("label")?.hidden).toBe(true);
  });

  it.each([
    ["their route", ["athlete", encodeURIComponent(EMAIL), "7"]],
    ["the plain session route #/history/7", ["7"]],
  ])("an athlete's session opened by %s links back to their list", async (_, route) => {
    Object.assign(answers, {
      sessionDetail: {
        summary, end: ended, owner: { kind: "athlete", email: EMAIL },
        n_beats_corrected: 178, panel: [], gaps: [], alerts: [], tags: [], note: null,
      },
      sessionCharts: { beats: [], spectrum: null, spectrum_absent: { reason: "too_short", message: "too short" } },
    });
    unmount = mountHistory(root, route);
    await settle();
    const back = root.querySelector<HTMLAnchorElement>("a.back");
    expect([back?.getAttribute("href"), back?.textContent]).toEqual(["#/history/athlete/ann%40example.org", `← ${EMAIL}'s sessions`]);
  });

  it("an athlete's session opens read-only with a way back to their list", async () => {
    Object.assign(answers, {
      sessionDetail: {
        summary, end: ended, owner: { kind: "athlete", email: EMAIL },
        n_beats_corrected: 178, panel: [], gaps: [], alerts: [], tags: [], note: null,
      },
      sessionCharts: { beats: [], spectrum: null, spectrum_absent: { reason: "too_short", message: "too short" } },
    });
    unmount = mountHistory(root, ["athlete", encodeURIComponent(EMAIL), "7"]);
    await settle();
    expect(root.querySelector("[data-testid=read-only-note]")?.textContent).toBe(
      `${EMAIL}'s session, shared with you as their coach. Read-only.`);
    const back = root.querySelector<HTMLAnchorElement>("a.back");
    expect([back?.getAttribute("href"), back?.textContent]).toEqual(["#/history/athlete/ann%40example.org", `← ${EMAIL}'s sessions`]);
  });
});

describe("Tags and note", () => {
  const charts = { beats: [], spectrum: null, spectrum_absent: { reason: "too_short", message: "too short" } };
  const detail = (over: Record<string, unknown> = {}) => ({
    summary, end: ended, owner: { kind: "own" }, n_beats_corrected: 178, panel: [], gaps: [], alerts: [],
    tags: [{ id: 3, at_ms: 20_000, name: "coffee" }], note: null, ...over,
  });
  const q = <T extends Element>(testid: string) => root.querySelector<T>(`[data-testid=${testid}]`);
  const sent = (name: string) => calls.filter(([n]) => n === name).map(([, args]) => args);

  it("my session's tag is renamed and moved and its note saved, each sent once, then shown as stored", async () => {
    Object.assign(answers, { sessionDetail: detail(), sessionCharts: charts, editTag: null, setSessionNote: null });
    unmount = mountHistory(root, ["7"]);
    await settle();
    const [name, at] = [q<HTMLInputElement>("tag-name"), q<HTMLInputElement>("tag-at")];
    expect([name?.value, at?.value, q<HTMLTextAreaElement>("session-note")?.value]).toEqual(["coffee", "0:20", ""]);

    if (name && at) [name.value, at.value] = ["double espresso", "1:05"];
    answers.sessionAnnotations = { tags: [{ id: 3, at_ms: 65_000, name: "double espresso" }], note: null };
    q<HTMLButtonElement>("tag-save")?.click();
    await settle();
    expect(sent("editTag")).toEqual([[3, { kind: "rename", name: "double espresso" }], [3, { kind: "move", at_ms: 65_000 }]]);
    expect([q<HTMLInputElement>("tag-name")?.value, q<HTMLInputElement>("tag-at")?.value]).toEqual(["double espresso", "1:05"]);
    expect(q("annotations-status")?.textContent).toContain("Saved");

    const note = q<HTMLTextAreaElement>("session-note");
    if (note) note.value = "felt flat";
    answers.sessionAnnotations = { tags: [{ id: 3, at_ms: 65_000, name: "double espresso" }], note: "felt flat" };
    q<HTMLButtonElement>("note-save")?.click();
    await settle();
    expect(sent("setSessionNote")).toEqual([[7, "felt flat"]]);
    expect(sent("editTag").length).toBe(2);
    expect(q<HTMLTextAreaElement>("session-note")?.value).toBe("felt flat");
  });

  it("a time that is not one is refused before anything is sent", async () => {
    Object.assign(answers, { sessionDetail: detail(), sessionCharts: charts, editTag: null });
    unmount = mountHistory(root, ["7"]);
    await settle();
    const at = q<HTMLInputElement>("tag-at");
    if (at) at.value = "soon";
    q<HTMLButtonElement>("tag-save")?.click();
    await settle();
    expect(sent("editTag")).toEqual([]);
    expect(q("annotations-status")?.textContent).toContain("“soon” is not a time into the session");
  });

  it("an athlete's tags and note are shown, with nothing to edit", async () => {
    Object.assign(answers, {
      sessionDetail: detail({ owner: { kind: "athlete", email: EMAIL }, note: "felt flat" }), sessionCharts: charts,
    });
    unmount = mountHistory(root, ["athlete", encodeURIComponent(EMAIL), "7"]);
    await settle();
    expect(q("session-note-text")?.textContent).toBe("felt flat");
    expect(q("session-tag-text")?.textContent).toBe("coffee 0:20");
    expect(root.querySelectorAll("[data-testid=session-annotations] input, [data-testid=session-annotations] textarea, [data-testid=session-annotations] button").length).toBe(0);
  });
});
