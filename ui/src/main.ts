// Boots the app: shell, router, theme, settings, the bench hook, and the first-paint signal.
import "./locale";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { call, errorText } from "./ipc";
import { measureFps, type FpsResult } from "./fps";
import { resetStats, snapshot, type StepStats } from "./perf";
import { initTheme, setTheme } from "./theme";
import { settings } from "./state";
import { adoptRunning } from "./liveModel";
import { mountShell } from "./shell";

declare global {
  interface Window {
    __aurenFps: (ms: number) => Promise<FpsResult>;
    /** Timings of the live view's steps since the last reset (a diagnostic for the bench). */
    __aurenLiveStats: (reset?: boolean) => Record<string, StepStats>;
  }
}

window.__aurenFps = (ms: number) =>
  measureFps(ms, (cb) => requestAnimationFrame(cb), () => performance.now());

window.__aurenLiveStats = (reset = false) => {
  const s = snapshot();
  if (reset) resetStats();
  return s;
};

initTheme();
const app = document.getElementById("app");
if (app) {
  mountShell(app);
  // Two frames: the first runs before the shell is painted, the second after.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      call("markPainted").catch((e: unknown) => console.warn("markPainted:", errorText(e)));
    }),
  );
}

call("getSettings")
  .then((s) => {
    settings.set(s);
    setTheme(s.theme);
  })
  .catch((e: unknown) => console.warn("getSettings:", errorText(e)));

adoptRunning().catch((e: unknown) => console.warn("re-attaching the running session:", errorText(e)));
