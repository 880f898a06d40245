// One Solid signal per field of a plain record: `update` writes every field, and a field whose value is
// unchanged (===) notifies nobody, so only the text bound to a changed quantity is rewritten. Smaller
// than solid-js/store, which this view would otherwise pull into the bundle for a flat record.
import { batch, createSignal, type Setter } from "solid-js";

export function createFields<T extends object>(initial: T): [Readonly<T>, (next: T) => void] {
  const view = {} as T;
  const setters: [keyof T, Setter<unknown>][] = [];
  for (const key of Object.keys(initial) as (keyof T)[]) {
    const [get, set] = createSignal<unknown>(initial[key]);
    setters.push([key, set]);
    Object.defineProperty(view, key, { get, enumerable: true });
  }
  const update = (next: T) =>
    batch(() => {
      // The updater form, so a function-valued field would be stored, not called.
      for (const [key, set] of setters) set(() => next[key]);
    });
  return [view, update];
}

/** A row of a keyed list whose content may change in place (a beat whose label is revised). */
export interface KeyedRow<T> {
  readonly key: number;
  update(value: T): void;
}

/** The rows for `next`: a value whose key had a row keeps that row (updated), others get a new one, so a
 * keyed `<For>` moves, adds and removes DOM nodes only where the list really changed. */
export function keyedRows<T, R extends KeyedRow<T>>(
  previous: readonly R[],
  next: readonly T[],
  keyOf: (value: T) => number,
  create: (value: T) => R,
): R[] {
  const byKey = new Map(previous.map((r) => [r.key, r]));
  return next.map((v) => {
    const row = byKey.get(keyOf(v));
    if (!row) return create(v);
    row.update(v);
    return row;
  });
}
