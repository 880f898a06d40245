// The app-wide stores (state.ts, liveModel.ts) are plain observables shared with the non-Solid views and
// the header strip; a Solid view reads one slice of them through a signal that notifies only when that
// slice changes (by identity), and stops listening when the view is disposed.
import { createSignal, onCleanup, type Accessor } from "solid-js";
import type { Store } from "../state";

export function fromStore<T, S>(store: Store<T>, select: (value: T) => S): Accessor<S> {
  const [slice, setSlice] = createSignal<S>(select(store.get()));
  // A function slice would be called by the setter as an updater; none of the stores holds one.
  const unsubscribe = store.subscribe((v) => setSlice(() => select(v)));
  onCleanup(unsubscribe);
  return slice;
}
