// The one door to the Rust side: every command's Result becomes a value or an IpcFailure that
// views branch on by `code`. The DTO types are derived from the command signatures so this file
// (and the views) only depend on the command names of the generated bindings.
import { Channel } from "@tauri-apps/api/core";
import { commands, type ErrorCode } from "./bindings";

type Commands = typeof commands;
type CommandName = keyof Commands;
type OkOf<R> = R extends { status: "ok"; data: infer D } ? D : never;
export type DataOf<K extends CommandName> = OkOf<Awaited<ReturnType<Commands[K]>>>;
type ChannelItem<C> = C extends Channel<infer T> ? T : never;

export type AppInfo = DataOf<"appInfo">;
export type Bluetooth = DataOf<"bluetoothStatus">;
export type FoundStrap = DataOf<"scanStraps">[number];
export type RememberedStrap = DataOf<"rememberedStraps">[number];
export type SourceChoice = Parameters<Commands["startLive"]>[0];
export type SessionKind = Parameters<Commands["startLive"]>[1];
export type LiveUpdate = ChannelItem<Parameters<Commands["startLive"]>[2]>;
export type LiveStarted = DataOf<"startLive">;
export type Monitor = DataOf<"monitorLive">;
export type Beat = LiveUpdate["beats"][number];
export type ArtifactKind = NonNullable<Beat["artifact"]>;
export type LabelCorrection = LiveUpdate["corrections"][number];
export type Alert = LiveUpdate["alerts"][number];
export type Severity = Alert["severity"];
export type LinkState = LiveUpdate["link"];
export type SessionSummary = DataOf<"stopLive">;
export type SessionListItem = DataOf<"listSessions">[number];
export type SessionEnd = SessionListItem["end"];
export type SessionDetail = DataOf<"sessionDetail">;
export type SessionAnnotations = DataOf<"sessionAnnotations">;
export type Metric = SessionDetail["panel"][number];
export type Absent = NonNullable<Metric["absent"]>;
export type SessionCharts = DataOf<"sessionCharts">;
export type Spectrum = NonNullable<SessionCharts["spectrum"]>;
export type BandName = Spectrum["bands"][number]["name"];
export type Readiness = DataOf<"readinessToday">;
export type Verdict = NonNullable<Readiness["verdict"]>;
export type MorningResult = DataOf<"startMorning">;
export type Rules = DataOf<"getRules">;
export type RuleProblem = DataOf<"checkRules">[number];
export type RulesRunning = Rules["running"];
export type Settings = DataOf<"saveSettings">;
export type Imported = DataOf<"importRecording">;
export type RecordingFormat = Imported["format"];
export type Exported = DataOf<"exportSession">;
export type ExportFormat = Parameters<Commands["exportSession"]>[1];
export type Scenario = Extract<SourceChoice, { kind: "simulator" }>["scenario"];

/** A command that answered with an error; `code` is the contract's ErrorCode ("internal" when the
 * error did not come from a command, e.g. Tauri's own "command not found"). */
export class IpcFailure extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "IpcFailure";
    this.code = code;
  }
}

/** Normalises whatever the error side holds: our IpcError, or a bare string from Tauri itself
 * (e.g. "command not found" while the app and UI disagree). */
export function toFailure(error: unknown): IpcFailure {
  if (error instanceof IpcFailure) return error;
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; message?: unknown };
    // Our commands only ever send an ErrorCode here (the bindings type it so).
    const code = typeof e.code === "string" ? (e.code as ErrorCode) : "internal";
    const message = typeof e.message === "string" ? e.message : JSON.stringify(error);
    return new IpcFailure(code, message);
  }
  if (error instanceof Error) return new IpcFailure("internal", error.message);
  return new IpcFailure("internal", String(error));
}

/** Calls a command and returns its data, throwing IpcFailure on an error result. */
export async function call<K extends CommandName>(
  name: K,
  ...args: Parameters<Commands[K]>
): Promise<DataOf<K>> {
  const fn = commands[name] as (...a: unknown[]) => Promise<unknown>;
  let result: unknown;
  try {
    result = await fn(...args);
  } catch (thrown) {
    throw toFailure(thrown);
  }
  const r = result as { status: "ok"; data: DataOf<K> } | { status: "error"; error: unknown };
  if (r.status === "ok") return r.data;
  throw toFailure(r.error);
}

export function newChannel<T>(onMessage: (m: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onMessage;
  return ch;
}

export function errorText(e: unknown): string {
  return toFailure(e).message;
}
