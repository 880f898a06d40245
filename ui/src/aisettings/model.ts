// The AI settings pane's pure logic (no Solid, no Tauri): labels for key states and connection outcomes,
// checking a provider form before it is sent, moving a route up or down, reading a budget field, and the
// edits that add a detected Ollama. Rust re-checks everything; these only spare a round trip.
import type {
  AiEditDto, AiSettingsDto, ConnectionOutcomeDto, KeyDto, OllamaDto, ProviderEditDto, ProviderKindDto, RouteDto,
} from "../bindings";

export type AiSettings = AiSettingsDto;
export type Edit = AiEditDto;
export type Route = RouteDto;
export type OllamaFound = Extract<OllamaDto, { found: "found" }>;

export const KIND_LABELS: Record<ProviderKindDto, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  openai_compatible: "OpenAI-compatible (base URL)",
};

/** What the pane says about a provider's key — never the key, which the UI never has. */
export function keyLabel(key: KeyDto): string {
  switch (key.source) {
    case "keychain": return key.set ? "Key set (OS keychain)" : "No key set";
    case "environment": return `Key from $${key.variable}${key.set ? "" : " (not set in Auren's environment)"}`;
    case "not_used": return "No key sent";
    case "unavailable": return `Keychain unavailable: ${key.reason}`;
  }
}

/** Whether the pane offers the keychain's set/clear for this key. */
export function keyInKeychain(key: KeyDto): boolean {
  return key.source === "keychain" || key.source === "unavailable";
}

export const OUTCOME_LABELS: Record<ConnectionOutcomeDto, string> = {
  ok: "Connected",
  auth_failed: "Key refused",
  missing_key: "No key",
  unreachable: "Unreachable",
  timeout: "Timed out",
  not_found: "Not found",
  rate_limited: "Rate-limited",
  server_error: "Provider error",
  bad_response: "Unexpected answer",
  failed: "Failed",
};

export interface ProviderForm {
  name: string;
  kind: ProviderKindDto;
  baseUrl: string;
  keyEnv: string;
}

/** The edit for a provider form, or the sentence saying what to fix. */
export function providerEdit(form: ProviderForm): { edit: Edit } | { problem: string } {
  const name = form.name.trim();
  if (!name) return { problem: "Give the provider a name." };
  if (name.includes(":")) return { problem: "A provider's name cannot contain ':'." };
  const baseUrl = form.baseUrl.trim();
  if (form.kind === "openai_compatible" && !baseUrl) return { problem: "An OpenAI-compatible provider needs its base URL." };
  if (baseUrl && !/^https?:\/\//.test(baseUrl)) return { problem: "The base URL must start with http:// or https://." };
  const env = form.keyEnv.trim();
  if (env && !/^[A-Za-z0-9_]+$/.test(env)) return { problem: "An environment variable name has only letters, digits and _." };
  const provider: ProviderEditDto = { name, kind: form.kind, base_url: baseUrl || null, api_key_env: env || null };
  return { edit: { op: "put_provider", provider } };
}

/** `routes` with the one at `index` moved by `delta` (-1 up, +1 down); unchanged at either end. */
export function moveRoute(routes: readonly Route[], index: number, delta: -1 | 1): Route[] {
  const to = index + delta;
  const out = routes.slice();
  if (index < 0 || index >= out.length || to < 0 || to >= out.length) return out;
  const [moved] = out.splice(index, 1);
  out.splice(to, 0, moved);
  return out;
}

/** `provider:model` → a route, or null when either side is missing. */
export function parseRoute(text: string): Route | null {
  const at = text.indexOf(":");
  if (at <= 0) return null;
  const provider = text.slice(0, at).trim();
  const model = text.slice(at + 1).trim();
  return provider && model ? { provider, model } : null;
}

/** A budget field: empty is no limit (null), otherwise a non-negative number of dollars. */
export function parseBudget(text: string): number | null | "invalid" {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : "invalid";
}

/** The edits that add a detected Ollama as a provider and, when no alias "local" exists, route it to `model`. */
export function ollamaEdits(found: OllamaFound, model: string | null, settings: AiSettings): Edit[] {
  const name = found.configured_as ?? found.suggested_name;
  const edits: Edit[] = [];
  if (!found.configured_as) {
    edits.push({ op: "put_provider", provider: { name, kind: "openai_compatible", base_url: found.base_url, api_key_env: null } });
  }
  if (model && !settings.aliases.some((a) => a.name === "local")) {
    edits.push({ op: "put_alias", name: "local", routes: [{ provider: name, model }] });
  }
  return edits;
}
