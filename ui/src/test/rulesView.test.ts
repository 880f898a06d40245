// @vitest-environment happy-dom
// The Rules editor over a fake command layer: stored rules this build cannot compile (from a newer build or
// another device) are shown with their problems and the word that the defaults run instead; rules that run
// show no such word.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Rules } from "../ipc";

let stored: Rules;

vi.mock("../ipc", () => ({
  call: (name: string, ..._args: unknown[]) =>
    name === "getRules" ? Promise.resolve(stored) : Promise.reject(new Error(`unexpected ${name}`)),
  toFailure: (e: unknown) => ({ code: "internal", message: String(e) }),
  errorText: (e: unknown) => String(e),
}));

const { mountRules, rulesBadge } = await import("../views/rules");

/** Waits until `check` holds (each resolved call's continuation runs in between). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await Promise.resolve();
  expect(check()).toBe(true);
}

let root: HTMLElement;
const editor = () => root.querySelector<HTMLTextAreaElement>("[data-testid=rules-editor]")!;
const warning = () => root.querySelector("[data-testid=rules-defaults-instead]");
const problems = () => [...root.querySelectorAll<HTMLElement>("[data-testid=rules-problem]")].map((b) => b.dataset.line);

beforeEach(() => {
  root = document.createElement("div");
  document.body.replaceChildren(root);
});

describe("the Rules editor", () => {
  it("says the defaults run instead of rules this build cannot compile, with their problems at their lines", async () => {
    stored = {
      text: "[[rule]]\nname = 3\n",
      running: "defaults_instead",
      problems: [{ line: 2, column: 8, rule: null, message: "invalid type: integer `3`, expected a string" }],
    };
    mountRules(root);
    await until(() => editor().value === stored.text);
    expect(warning()?.textContent).toContain("sessions run the default rules");
    expect(problems()).toEqual(["2"]);
    expect(root.querySelector(".badge")?.textContent).toBe(rulesBadge("defaults_instead"));
  });

  it.each([
    ["defaults", "defaults"],
    ["edited", "saved"],
  ] as const)("rules that run (%s) show no warning", async (running, badge) => {
    stored = { text: "[[rule]]\n", running, problems: [] };
    mountRules(root);
    await until(() => editor().value === stored.text);
    expect(warning()).toBeNull();
    expect(problems()).toEqual([]);
    expect(root.querySelector(".badge")?.textContent).toBe(badge);
  });
});
