// @vitest-environment happy-dom
// Settings → Coach memory over a fake command layer: a failed save puts the select back to the value stored
// (not the one first shown), and a sync round that adopted another device's settings re-reads it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Handler = (...args: unknown[]) => Promise<unknown>;
const handlers: Record<string, Handler> = {};

vi.mock("../ipc", () => ({
  call: (name: string, ...args: unknown[]) =>
    name in handlers ? handlers[name](...args) : Promise.reject(new Error(`unexpected ${name}`)),
  errorText: (e: unknown) => String(e),
  newChannel: () => ({}),
}));
vi.mock("../aisettings/AiSettingsPane", () => ({ mountAiSettings: () => () => undefined }));
vi.mock("../sync/SyncPane", () => ({ mountSyncPane: () => () => undefined }));

const { mountSettings } = await import("../views/settings");
const { syncStatus } = await import("../sync/chip");

/** Waits until `check` holds (each resolved call's continuation runs in between). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await Promise.resolve();
  expect(check()).toBe(true);
}

let root: HTMLElement;
let unmount: (() => void) | null = null;
const select = () => root.querySelector<HTMLSelectElement>("[data-testid=settings-memory-apply]");

beforeEach(() => {
  for (const k of Object.keys(handlers)) delete handlers[k];
  syncStatus.set(null);
  root = document.createElement("div");
  document.body.replaceChildren(root);
});
afterEach(() => unmount?.());

function choose(value: string) {
  const s = select()!;
  s.value = value;
  s.dispatchEvent(new Event("change"));
}

describe("the Coach memory card", () => {
  it("a failed save puts back the value stored, not the one first shown", async () => {
    let stored = "ask_first";
    handlers.getMemoryApply = () => Promise.resolve(stored);
    unmount = mountSettings(root);
    await until(() => select() !== null);

    handlers.setMemoryApply = (choice) => Promise.resolve((stored = choice as string));
    choose("immediate");
    await until(() => !select()!.disabled);
    handlers.setMemoryApply = () => Promise.reject(new Error("disk full"));
    choose("ask_first");
    await until(() => !select()!.disabled);

    expect([select()!.value, stored]).toEqual(["immediate", "immediate"]);
  });

  it("re-reads the value when a sync round adopted another device's settings", async () => {
    let stored = "ask_first";
    handlers.getMemoryApply = () => Promise.resolve(stored);
    unmount = mountSettings(root);
    await until(() => select() !== null);
    const status = { state: "synced", settings_revision: 1, refused_settings: [] };
    syncStatus.set(status as never);

    stored = "immediate";
    syncStatus.set({ ...status, settings_revision: 2 } as never);
    await until(() => select()!.value === "immediate");
  });
});
