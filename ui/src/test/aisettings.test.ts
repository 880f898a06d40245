import { describe, expect, it } from "vitest";
import { keyLabel, moveRoute, ollamaEdits, parseBudget, parseRoute, providerEdit, type AiSettings, type OllamaFound } from "../aisettings/model";

const r = (provider: string, model: string) => ({ provider, model });

describe("moveRoute", () => {
  const routes = [r("a", "1"), r("b", "2"), r("c", "3")];
  it.each([
    [1, -1, ["b", "a", "c"]],
    [1, 1, ["a", "c", "b"]],
    [0, -1, ["a", "b", "c"]],
    [2, 1, ["a", "b", "c"]],
    [5, -1, ["a", "b", "c"]],
  ] as const)("moves index %i by %i", (index, delta, expected) => {
    expect(moveRoute(routes, index, delta).map((x) => x.provider)).toEqual(expected);
  });
  it("leaves its input alone", () => {
    moveRoute(routes, 1, -1);
    expect(routes.map((x) => x.provider)).toEqual(["a", "b", "c"]);
  });
});

describe("providerEdit", () => {
  it.each([
    [{ name: " ", kind: "openai", baseUrl: "", keyEnv: "" }, "Give the provider a name."],
    [{ name: "a:b", kind: "openai", baseUrl: "", keyEnv: "" }, "A provider's name cannot contain ':'."],
    [{ name: "lan", kind: "openai_compatible", baseUrl: "", keyEnv: "" }, "An OpenAI-compatible provider needs its base URL."],
    [{ name: "lan", kind: "openai_compatible", baseUrl: "ftp://x", keyEnv: "" }, "The base URL must start with http:// or https://."],
    [{ name: "o", kind: "openai", baseUrl: "", keyEnv: "MY KEY" }, "An environment variable name has only letters, digits and _."],
  ] as const)("refuses %j", (form, problem) => {
    expect(providerEdit(form)).toEqual({ problem });
  });
  it("sends empty fields as null and trims", () => {
    expect(providerEdit({ name: " openai ", kind: "openai", baseUrl: "", keyEnv: " " })).toEqual({
      edit: { op: "put_provider", provider: { name: "openai", kind: "openai", base_url: null, api_key_env: null } },
    });
  });
});

describe("parsers", () => {
  it.each([["", null], ["2", 2], [" 1.5 ", 1.5], ["-1", "invalid"], ["abc", "invalid"], ["0", 0]] as const)("budget %j", (text, expected) => {
    expect(parseBudget(text)).toEqual(expected);
  });
  it.each([["local:llama3.1:8b", r("local", "llama3.1:8b")], ["openai:", null], [":gpt", null], ["gpt", null]] as const)("route %j", (text, expected) => {
    expect(parseRoute(text)).toEqual(expected);
  });
});

describe("keyLabel", () => {
  it.each([
    [{ source: "keychain", set: true }, "Key set (OS keychain)"],
    [{ source: "keychain", set: false }, "No key set"],
    [{ source: "environment", variable: "OPENAI_API_KEY", set: false }, "Key from $OPENAI_API_KEY (not set in Auren's environment)"],
    [{ source: "not_used" }, "No key sent"],
  ] as const)("%j", (key, label) => {
    expect(keyLabel(key)).toBe(label);
  });
});

describe("ollamaEdits", () => {
  const found: OllamaFound = { found: "found", url: "http://127.0.0.1:11434", base_url: "http://127.0.0.1:11434/v1", models: ["llama3.1:8b"], suggested_name: "ollama", configured_as: null };
  const settings = (aliases: string[]): AiSettings => ({ path: "", exists: true, problem: null, providers: [], aliases: aliases.map((name) => ({ name, routes: [] })), default_model: null, budget: { daily_usd: null, monthly_usd: null } });
  it("adds the provider and a local alias", () => {
    expect(ollamaEdits(found, "llama3.1:8b", settings([]))).toEqual([
      { op: "put_provider", provider: { name: "ollama", kind: "openai_compatible", base_url: "http://127.0.0.1:11434/v1", api_key_env: null } },
      { op: "put_alias", name: "local", routes: [{ provider: "ollama", model: "llama3.1:8b" }] },
    ]);
  });
  it("reuses a configured provider and an existing alias", () => {
    expect(ollamaEdits({ ...found, configured_as: "mine" }, "llama3.1:8b", settings(["local"]))).toEqual([]);
  });
});
