import { describe, expect, it } from "vitest";
import type { SessionEnd } from "../ipc";
import { endCell, endLine, endTime } from "../sessionEnd";

// Local wall times, so the table reads the same in every time zone.
const started = new Date(2026, 11, 3, 13, 54).getTime();
const now = new Date(2026, 11, 4, 12, 0).getTime();
const at = (day: number, hh: number, mm: number) => new Date(2026, 11, day, hh, mm).getTime();

const ended: SessionEnd = { state: "ended", at_unix_ms: at(3, 14, 32) };
const recording: SessionEnd = { state: "recording" };
const killed: SessionEnd = { state: "no_end_recorded", last_beat_at_unix_ms: at(3, 14, 32) };
const killedOverMidnight: SessionEnd = { state: "no_end_recorded", last_beat_at_unix_ms: at(4, 0, 10) };
const killedWithoutBeats: SessionEnd = { state: "no_end_recorded", last_beat_at_unix_ms: null };

describe("endTime", () => {
  it.each([
    [at(3, 14, 32), "14:32"],
    [at(3, 23, 59), "23:59"],
    [at(4, 0, 10), "Today 00:10"],
  ])("%s → %s", (ms, want) => expect(endTime(ms, started, now)).toBe(want));
});

describe("the History list's end cell", () => {
  it.each([
    ["ended", ended, "14:32", "ended"],
    ["recording", recording, "Recording", "recording"],
    ["killed", killed, "No end recorded · last beat 14:32", "unended"],
    ["killed after midnight", killedOverMidnight, "No end recorded · last beat Today 00:10", "unended"],
    ["killed before a beat", killedWithoutBeats, "No end recorded · no beats", "unended"],
  ] as const)("%s", (_what, end, text, tone) => {
    const cell = endCell(end, started, now);
    expect(cell.text).toBe(text);
    expect(cell.tone).toBe(tone);
  });

  it("never shows a session without an end as ended, blank or running", () => {
    for (const end of [killed, killedOverMidnight, killedWithoutBeats]) {
      const cell = endCell(end, started, now);
      expect(cell.tone).toBe("unended");
      expect(cell.text).toMatch(/^No end recorded/);
      expect(cell.title).toMatch(/^No end recorded and nothing stored for 10 minutes: most likely/);
      expect(cell.title).toMatch(/may still arrive by sync/);
    }
  });
});

describe("the session view's end line", () => {
  it.each([
    ["ended", ended, 2292, "Ended 14:32 · 38:12"],
    ["recording", recording, 2292, "Recording · 38:12 so far"],
    ["killed", killed, 2292, "No end recorded · last beat 14:32 · 38:12"],
    ["killed before a beat", killedWithoutBeats, null, "No end recorded · no beats"],
    ["ended, no beats", ended, null, "Ended 14:32"],
    ["recording, no beats yet", recording, null, "Recording"],
  ] as const)("%s", (_what, end, duration, text) => expect(endLine(end, started, duration, now).text).toBe(text));
});
