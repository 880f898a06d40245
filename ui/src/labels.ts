// Artifact labels of live beats. A beat arrives at once with a provisional label (judged on the beats
// so far); its final label is known once the engine's centred window has passed it. Updates say how far
// the final labels reach (`confirmed_through`) and list the final labels that differ (`corrections`),
// so the rings keep each beat's index and label code, and a correction rewrites the code in place.
import type { ArtifactKind, LabelCorrection } from "./ipc";
import type { Ring } from "./ring";

/** Every artifact kind and its name on screen. A Record, so a kind added on the Rust side (the
 * generated union) does not compile here until it has a name. */
export const ARTIFACT_NAMES: Record<ArtifactKind, string> = {
  ectopic: "Ectopic",
  missed: "Missed",
  extra: "Extra",
  long_short: "Long/short",
};

export const ARTIFACT_KINDS: readonly ArtifactKind[] = Object.keys(ARTIFACT_NAMES) as ArtifactKind[];

/** A label as the rings hold it: 0 for a normal beat, 1 + the kind's place in ARTIFACT_KINDS otherwise. */
export function labelCode(kind: ArtifactKind | null): number {
  return kind === null ? 0 : ARTIFACT_KINDS.indexOf(kind) + 1;
}

export function labelKind(code: number): ArtifactKind | null {
  return code >= 1 && code <= ARTIFACT_KINDS.length ? ARTIFACT_KINDS[code - 1] : null;
}

export type LabelState = "confirmed" | "provisional";

/** Whether the beat at `index` has its final label. */
export function labelState(index: number, confirmedThrough: number | null): LabelState {
  return confirmedThrough !== null && index <= confirmedThrough ? "confirmed" : "provisional";
}

/** The rings a correction rewrites: beat indices in ascending order, and the label code beside each. */
export interface LabelRings {
  readonly index: Ring;
  readonly label: Ring;
}

/** Rewrites the labels of the corrected beats that are still kept and returns how many it changed; a
 * correction for a beat that fell off the ring (or was never kept) changes nothing. */
export function applyCorrections(rings: LabelRings, corrections: readonly LabelCorrection[]): number {
  let changed = 0;
  for (const c of corrections) {
    const at = rings.index.lowerBound(c.index);
    if (at >= rings.index.length || rings.index.get(at) !== c.index) continue;
    const code = labelCode(c.artifact);
    if (rings.label.get(at) !== code) {
      rings.label.set(at, code);
      changed++;
    }
  }
  return changed;
}

/** How far final labels reach: never backwards (an update without the field keeps what was known). */
export function advanceConfirmed(current: number | null, next: number | null): number | null {
  if (next === null) return current;
  return current === null ? next : Math.max(current, next);
}

/** The words and style of a beat's label in the beat list. */
export function labelText(kind: ArtifactKind | null, state: LabelState): { text: string; className: string } {
  const name = kind === null ? "normal" : ARTIFACT_NAMES[kind];
  return state === "confirmed"
    ? { text: name, className: kind === null ? "label-normal" : "label-artifact" }
    : { text: `${name}?`, className: `label-provisional${kind === null ? "" : " label-artifact"}` };
}
