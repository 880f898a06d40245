// Values of the person's settings another device set that this device did not use (they fail the edit's
// rules): which to show beside which Settings field, the sentence, and the window's dismissals. A dismissal
// is this device's only (kept in localStorage): the refusal stays in the log and on the chip's hover, and
// the value stays in the synced records until an edit replaces it. A dismissal is for one edit (its stamp),
// so a later bad value of the same setting is shown again.
import type { SyncStatus } from "./model";

export type RefusedSetting = SyncStatus["refused_settings"][number];
export type PersonSetting = RefusedSetting["setting"];

/** Where dismissals are kept between runs (localStorage in the window; a map in tests). */
export interface DismissalStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const DISMISSED_KEY = "auren.settings.dismissedRefusals";

/** How each setting is named inside the sentence. */
const NAMES: Record<PersonSetting, string> = {
  max_hr: "max HR",
  zones_pct: "the HR zones",
  rr_unit: "the RR unit",
  theme: "the theme",
  memory_apply: "how the coach's memories apply",
};

/** "Another device set max HR to 300 bpm — not applied: 300 bpm is outside 100–240 bpm." */
export function refusalSentence(r: RefusedSetting): string {
  const problem = r.problem.replace(/[.\s]+$/, "");
  return `Another device set ${NAMES[r.setting]} to ${r.value} — not applied: ${problem}.`;
}

/** What identifies a refusal for a dismissal: the setting and the edit that set the value. */
export function refusalKey(r: RefusedSetting): string {
  return `${r.setting}@${r.edit_id}`;
}

/** The refusals of `setting` the person has not dismissed here. */
export function shownRefusals(refused: readonly RefusedSetting[], setting: PersonSetting, dismissed: ReadonlySet<string>): RefusedSetting[] {
  return refused.filter((r) => r.setting === setting && !dismissed.has(refusalKey(r)));
}

/** The dismissals kept in `storage` (none when the entry is missing or not a list of strings). */
export function loadDismissed(storage: DismissalStorage | null): Set<string> {
  try {
    const raw = storage?.getItem(DISMISSED_KEY);
    const list: unknown = raw ? JSON.parse(raw) : [];
    return new Set(Array.isArray(list) ? list.filter((k): k is string => typeof k === "string") : []);
  } catch {
    // A corrupt entry only means the notes show again.
    return new Set();
  }
}

/**
 * The dismissals still worth keeping, given the refusals the status now reports: one whose edit was
 * replaced (by an edit on any device) can never show again, so it is dropped and the entry stays small.
 */
export function keptDismissals(dismissed: ReadonlySet<string>, refused: readonly RefusedSetting[]): Set<string> {
  const current = new Set(refused.map(refusalKey));
  return new Set([...dismissed].filter((k) => current.has(k)));
}

/** Keeps `dismissed` in `storage`; a full or unavailable storage only means the notes show again. */
export function saveDismissed(storage: DismissalStorage | null, dismissed: ReadonlySet<string>): void {
  try {
    storage?.setItem(DISMISSED_KEY, JSON.stringify([...dismissed].sort()));
  } catch {
    // See above.
  }
}
