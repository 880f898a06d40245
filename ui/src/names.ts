// What each closed set of the IPC is called on screen. Each table is a Record over the generated
// union, so a value added on the Rust side does not compile here until it has a name.
import type { BandName, RecordingFormat, SessionKind, Severity } from "./ipc";

export const SESSION_KIND_NAMES: Record<SessionKind, string> = {
  rest: "Rest",
  morning: "Morning",
  exercise: "Exercise",
  breathing: "Breathing",
  other: "Other",
};

/** The kinds a person can record from Live (the morning reading has its own view). */
export const LIVE_KINDS: readonly SessionKind[] = ["rest", "exercise", "breathing", "other"];

export const BAND_NAMES: Record<BandName, string> = { vlf: "VLF", lf: "LF", hf: "HF" };

export const RECORDING_FORMAT_NAMES: Record<RecordingFormat, string> = {
  rr_ms: "RR intervals in ms",
  rr_seconds: "RR intervals in seconds (Kubios text)",
  csv: "CSV export",
  time_rr: "time and RR columns",
  hrmcap: "strap capture (.hrmcap)",
};

export const SEVERITY_NAMES: Record<Severity, string> = { info: "Info", warning: "Warning", critical: "Critical" };
