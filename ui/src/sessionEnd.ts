// How History words a session's end. Rust decides where a recording stands (ended, still recording, or
// no end recorded and nothing stored for 10 minutes — most likely stopped) and sends the times;
// this only words them, so a session without an end never reads as ended, blank, or running for ever.
import type { SessionEnd } from "./ipc";
import { formatDateTime, formatDuration, formatTimeOfDay, sameLocalDay } from "./format";

/** How the end cell is styled. */
export type EndTone = "ended" | "recording" | "unended";

export interface EndText {
  text: string;
  tone: EndTone;
  /** A sentence for the tooltip: what the state means. */
  title: string;
}

/** An end or a last beat: "14:32" (local) on the day the session started, else the full date and time. */
export function endTime(atMs: number, startedMs: number, nowMs: number = Date.now()): string {
  return sameLocalDay(atMs, startedMs) ? formatTimeOfDay(atMs) : formatDateTime(atMs, nowMs);
}

const NO_END_TITLE =
  "No end recorded and nothing stored for 10 minutes: most likely the recording stopped (the app was closed " +
  "or crashed, or the device stopped), though an end may still arrive by sync. Its length runs to its last beat.";

/** The History list's "Ended" cell. */
export function endCell(end: SessionEnd, startedMs: number, nowMs: number = Date.now()): EndText {
  switch (end.state) {
    case "ended":
      return { text: endTime(end.at_unix_ms, startedMs, nowMs), tone: "ended", title: "Ended" };
    case "recording":
      return { text: "Recording", tone: "recording", title: "Still being recorded" };
    case "no_end_recorded": {
      const last = end.last_beat_at_unix_ms;
      const where = last === null ? "no beats" : `last beat ${endTime(last, startedMs, nowMs)}`;
      return { text: `No end recorded · ${where}`, tone: "unended", title: NO_END_TITLE };
    }
  }
}

/** The session view's line: the end and the length (start to last beat, computed in Rust). */
export function endLine(end: SessionEnd, startedMs: number, durationS: number | null, nowMs: number = Date.now()): EndText {
  const cell = endCell(end, startedMs, nowMs);
  const length = durationS === null ? null : formatDuration(durationS);
  switch (end.state) {
    case "ended":
      return { ...cell, text: length === null ? `Ended ${cell.text}` : `Ended ${cell.text} · ${length}` };
    case "recording":
      return { ...cell, text: length === null ? "Recording" : `Recording · ${length} so far` };
    case "no_end_recorded":
      return { ...cell, text: length === null ? cell.text : `${cell.text} · ${length}` };
  }
}
