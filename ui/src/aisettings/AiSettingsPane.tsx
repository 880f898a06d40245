// "AI providers" (Solid): the providers of gateway.toml with their key as set / not set (a password field
// cleared after saving; the key never comes back), add / edit / remove, a connection test, a detected
// local Ollama, the aliases with their routes moved up and down (the failover order), the default model
// and the budgets. Every change goes to Rust, which checks it with the gateway's parser before writing.
import { createResource, createSignal, For, Show, type JSX } from "solid-js";
import { render } from "solid-js/web";
import "./aisettings.css";
import { call } from "../ipc";
import type { AliasDto, ConnectionTestDto, OllamaDto, ProviderDto, ProviderKindDto } from "../bindings";
import {
  KIND_LABELS, keyInKeychain, keyLabel, moveRoute, ollamaEdits, OUTCOME_LABELS, parseBudget, parseRoute, providerEdit,
  type AiSettings, type Edit, type ProviderForm, type Route,
} from "./model";

/** What the pane needs from Rust; the real one goes through the generated commands. */
export interface AiSettingsBackend {
  load(): Promise<AiSettings>;
  edit(edit: Edit): Promise<AiSettings>;
  setKey(provider: string, key: string): Promise<AiSettings>;
  clearKey(provider: string): Promise<AiSettings>;
  test(provider: string, model: string | null): Promise<ConnectionTestDto>;
  detectOllama(url: string | null): Promise<OllamaDto>;
}

export const ipcAiSettingsBackend: AiSettingsBackend = {
  load: () => call("aiSettings"),
  edit: (edit) => call("editAiSettings", edit),
  setKey: (provider, key) => call("setProviderKey", provider, key),
  clearKey: (provider) => call("clearProviderKey", provider),
  test: (provider, model) => call("testProvider", provider, model),
  detectOllama: (url) => call("detectOllama", url),
};

/** Mounts the pane into `root` (a hand-written view); returns the disposer. */
export function mountAiSettings(root: HTMLElement, backend: AiSettingsBackend = ipcAiSettingsBackend): () => void {
  return render(() => <AiSettingsPane backend={backend} />, root);
}

const message = (e: unknown): string =>
  e instanceof Error ? e.message : String((e as { message?: string }).message ?? e);

interface Ctx {
  b: AiSettingsBackend;
  /** Runs a change that answers with the new settings; shows its error, if any. */
  save: (work: () => Promise<AiSettings>, done?: string) => Promise<boolean>;
}

export function AiSettingsPane(props: { backend: AiSettingsBackend }): JSX.Element {
  const b = props.backend;
  const [settings, { mutate }] = createResource(() => b.load());
  const [error, setError] = createSignal<string | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  const save = async (work: () => Promise<AiSettings>, done?: string): Promise<boolean> => {
    try {
      mutate(await work());
      setError(null);
      setNote(done ?? "✓ Saved to gateway.toml.");
      return true;
    } catch (e) {
      setError(message(e));
      setNote(null);
      return false;
    }
  };
  const ctx: Ctx = { b, save };
  const [adding, setAdding] = createSignal(false);

  return (
    <section class="card ai-settings" data-testid="ai-settings" id="ai-settings">
      <h2>AI providers</h2>
      <Show when={settings.error}><p class="note note-bad" data-testid="ai-error">{message(settings.error)}</p></Show>
      <Show when={settings()}>{(s) => (
        <>
          <p class="muted small">Saved in <code data-testid="ai-path">{s().path}</code>, the file the <code>auren</code> CLI reads too.
            {s().exists ? "" : " It does not exist yet: the first change creates it."}</p>
          <Show when={s().problem}>{(p) => <p class="note note-bad" data-testid="ai-problem">This file cannot be used as it is: {p()}</p>}</Show>
          <Show when={error()}>{(e) => <p class="note note-bad" data-testid="ai-error" aria-live="polite">{e()}</p>}</Show>
          <Show when={note()}>{(n) => <p class="note note-good" data-testid="ai-saved" aria-live="polite">{n()}</p>}</Show>

          <h3>Providers</h3>
          <For each={s().providers} fallback={<p class="muted" data-testid="ai-no-providers">No provider yet: the offline analyst answers.</p>}>
            {(p) => <ProviderRow provider={p} ctx={ctx} />}
          </For>
          <Show when={adding()} fallback={
            <button class="btn" data-testid="ai-add-provider" onClick={() => setAdding(true)}>Add a provider</button>}>
            <ProviderFormView ctx={ctx} onDone={() => setAdding(false)} />
          </Show>
          <OllamaDetect ctx={ctx} settings={s()} />

          <h3>Aliases (routes in failover order)</h3>
          <For each={s().aliases} fallback={<p class="muted small">No alias yet.</p>}>{(a) => <AliasRow alias={a} ctx={ctx} />}</For>
          <NewAlias ctx={ctx} />

          <h3>Default model and budgets</h3>
          <DefaultAndBudget settings={s()} ctx={ctx} />
        </>)}
      </Show>
    </section>
  );
}

function ProviderRow(props: { provider: ProviderDto; ctx: Ctx }): JSX.Element {
  const p = props.provider;
  const [editing, setEditing] = createSignal(false);
  const [result, setResult] = createSignal<ConnectionTestDto | null>(null);
  const [testing, setTesting] = createSignal(false);
  let keyInput: HTMLInputElement | undefined;
  let modelInput: HTMLInputElement | undefined;
  const saveKey = async () => {
    const key = keyInput?.value ?? "";
    const ok = await props.ctx.save(() => props.ctx.b.setKey(p.name, key), `✓ Key for ${p.name} saved in the OS keychain.`);
    // The field never keeps the key, whether or not the keychain took it.
    if (keyInput) keyInput.value = "";
    if (ok) setResult(null);
  };
  const test = async () => {
    setTesting(true);
    try {
      setResult(await props.ctx.b.test(p.name, modelInput?.value.trim() || null));
    } catch (e) {
      setResult({ provider: p.name, model: "", outcome: "failed", latency_ms: 0, message: message(e) });
    } finally {
      setTesting(false);
    }
  };
  return (
    <div class="ai-provider" data-testid="ai-provider" data-name={p.name}>
      <div>
        <strong>{p.name}</strong> <span class="muted small">{KIND_LABELS[p.kind]}</span>
        {p.local ? <span class="chip"> local · $0</span> : null}
        <div class="muted small"><code>{p.base_url}</code>{p.base_url_is_default ? " (default)" : ""}</div>
        <div class="small" data-testid="ai-provider-key" data-key={p.key.source === "keychain" ? String(p.key.set) : p.key.source}>{keyLabel(p.key)}</div>
      </div>
      <Show when={keyInKeychain(p.key)}>
        <div class="toolbar">
          <input type="password" autocomplete="off" placeholder="Paste an API key" aria-label={`API key for ${p.name}`}
            data-testid="ai-provider-key-input" ref={keyInput} />
          <button class="btn" data-testid="ai-provider-key-save" onClick={() => void saveKey()}>Save key</button>
          <Show when={p.key.source === "keychain" && p.key.set}>
            <button class="btn" data-testid="ai-provider-key-clear"
              onClick={() => void props.ctx.save(() => props.ctx.b.clearKey(p.name), `✓ Key for ${p.name} removed from the keychain.`)}>Clear key</button>
          </Show>
        </div>
      </Show>
      <div class="toolbar">
        <input type="text" placeholder={p.models[0] ?? "model to test with"} aria-label={`Model to test ${p.name} with`}
          data-testid="ai-provider-test-model" ref={modelInput} />
        <button class="btn" data-testid="ai-provider-test" disabled={testing()} onClick={() => void test()}>
          {testing() ? "Testing…" : "Test connection"}</button>
        <button class="btn" data-testid="ai-provider-edit" onClick={() => setEditing((e) => !e)}>Edit</button>
        <button class="btn" data-testid="ai-provider-remove"
          onClick={() => void props.ctx.save(() => props.ctx.b.edit({ op: "remove_provider", name: p.name }))}>Remove</button>
      </div>
      <Show when={result()}>{(r) => (
        <p class={`note ${r().outcome === "ok" ? "note-good" : "note-bad"}`} data-testid="ai-provider-test-result" data-outcome={r().outcome}>
          {OUTCOME_LABELS[r().outcome]}{r().model ? ` · ${r().model}` : ""}: {r().message}</p>)}
      </Show>
      <Show when={editing()}>
        <ProviderFormView ctx={props.ctx} initial={p} onDone={() => setEditing(false)} />
      </Show>
    </div>
  );
}

function ProviderFormView(props: { ctx: Ctx; initial?: ProviderDto; onDone: () => void }): JSX.Element {
  const init = props.initial;
  const [form, setForm] = createSignal<ProviderForm>({
    name: init?.name ?? "",
    kind: init?.kind ?? "openai",
    baseUrl: init && !init.base_url_is_default ? init.base_url : "",
    keyEnv: init?.key.source === "environment" ? init.key.variable : "",
  });
  const [problem, setProblem] = createSignal<string | null>(null);
  const field = (key: keyof ProviderForm) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setForm((f) => ({ ...f, [key]: e.currentTarget.value }));
  const submit = async () => {
    const checked = providerEdit(form());
    if ("problem" in checked) {
      setProblem(checked.problem);
      return;
    }
    setProblem(null);
    if (await props.ctx.save(() => props.ctx.b.edit(checked.edit))) props.onDone();
  };
  return (
    <div class="form-grid ai-provider-form" data-testid="ai-provider-form">
      <label>Name</label>
      <input type="text" data-testid="ai-provider-form-name" value={form().name} disabled={!!init} onInput={field("name")} />
      <label>Kind</label>
      <select data-testid="ai-provider-form-kind" value={form().kind} onChange={field("kind")}>
        <For each={Object.keys(KIND_LABELS) as ProviderKindDto[]}>{(k) => <option value={k}>{KIND_LABELS[k]}</option>}</For>
      </select>
      <label>Base URL</label>
      <input type="text" data-testid="ai-provider-form-base-url" value={form().baseUrl} onInput={field("baseUrl")}
        placeholder={form().kind === "openai_compatible" ? "http://127.0.0.1:11434/v1" : "the provider's own (leave empty)"} />
      <label>Key from environment variable</label>
      <input type="text" data-testid="ai-provider-form-key-env" value={form().keyEnv} onInput={field("keyEnv")}
        placeholder="empty: the OS keychain" />
      <Show when={problem()}>{(p) => <p class="note note-bad" data-testid="ai-provider-form-problem">{p()}</p>}</Show>
      <div class="toolbar">
        <button class="btn btn-primary" data-testid="ai-provider-form-save" onClick={() => void submit()}>Save provider</button>
        <button class="btn" onClick={() => props.onDone()}>Cancel</button>
      </div>
    </div>
  );
}

function OllamaDetect(props: { ctx: Ctx; settings: AiSettings }): JSX.Element {
  const [found, setFound] = createSignal<OllamaDto | null>(null);
  const [model, setModel] = createSignal<string | null>(null);
  const detect = async () => {
    try {
      const r = await props.ctx.b.detectOllama(null);
      setFound(r);
      setModel(r.found === "found" ? r.models[0] ?? null : null);
    } catch (e) {
      setFound({ found: "missing", url: "", reason: message(e) });
    }
  };
  return (
    <div class="ai-ollama">
      <button class="btn" data-testid="ai-ollama-detect" onClick={() => void detect()}>Detect a local Ollama</button>
      <Show when={found()}>{(f) => {
        const r = f();
        return r.found === "found" ? (
          <div class="toolbar" data-testid="ai-ollama-result" data-found="true">
            <span>Ollama at <code>{r.url}</code>{r.configured_as ? ` (already provider ${r.configured_as})` : ""}</span>
            <select data-testid="ai-ollama-model" onChange={(e) => setModel(e.currentTarget.value)}>
              <For each={r.models}>{(m) => <option value={m}>{m}</option>}</For>
            </select>
            <button class="btn" data-testid="ai-ollama-add"
              onClick={() => void (async () => {
                for (const edit of ollamaEdits(r, model(), props.settings)) {
                  if (!(await props.ctx.save(() => props.ctx.b.edit(edit)))) return;
                }
              })()}>Use it</button>
          </div>
        ) : <p class="muted small" data-testid="ai-ollama-result" data-found="false">No Ollama answered: {r.reason}</p>;
      }}</Show>
    </div>
  );
}

function AliasRow(props: { alias: AliasDto; ctx: Ctx }): JSX.Element {
  const [routes, setRoutes] = createSignal<Route[]>(props.alias.routes);
  const [problem, setProblem] = createSignal<string | null>(null);
  let addInput: HTMLInputElement | undefined;
  const add = () => {
    const route = parseRoute(addInput?.value ?? "");
    if (!route) {
      setProblem("Write the route as provider:model.");
      return;
    }
    setProblem(null);
    setRoutes((r) => [...r, route]);
    if (addInput) addInput.value = "";
  };
  return (
    <div class="ai-alias" data-testid="ai-alias" data-name={props.alias.name}>
      <strong>{props.alias.name}</strong>
      <ol>
        <For each={routes()}>{(route, i) => (
          <li data-testid="ai-route">
            <code>{route.provider}:{route.model}</code>{" "}
            <button class="btn btn-chip" data-testid="ai-route-up" disabled={i() === 0} aria-label="Move up"
              onClick={() => setRoutes((r) => moveRoute(r, i(), -1))}>↑</button>
            <button class="btn btn-chip" data-testid="ai-route-down" disabled={i() === routes().length - 1} aria-label="Move down"
              onClick={() => setRoutes((r) => moveRoute(r, i(), 1))}>↓</button>
            <button class="btn btn-chip" data-testid="ai-route-remove" aria-label="Remove route"
              onClick={() => setRoutes((r) => r.filter((_, k) => k !== i()))}>✕</button>
          </li>)}
        </For>
      </ol>
      <div class="toolbar">
        <input type="text" placeholder="provider:model" data-testid="ai-alias-route-input" ref={addInput} />
        <button class="btn" data-testid="ai-alias-route-add" onClick={add}>Add route</button>
        <button class="btn btn-primary" data-testid="ai-alias-save"
          onClick={() => void props.ctx.save(() => props.ctx.b.edit({ op: "put_alias", name: props.alias.name, routes: routes() }))}>Save order</button>
        <button class="btn" data-testid="ai-alias-remove"
          onClick={() => void props.ctx.save(() => props.ctx.b.edit({ op: "remove_alias", name: props.alias.name }))}>Remove alias</button>
      </div>
      <Show when={problem()}>{(p) => <p class="note note-bad">{p()}</p>}</Show>
    </div>
  );
}

function NewAlias(props: { ctx: Ctx }): JSX.Element {
  let name: HTMLInputElement | undefined;
  let route: HTMLInputElement | undefined;
  const [problem, setProblem] = createSignal<string | null>(null);
  const add = async () => {
    const r = parseRoute(route?.value ?? "");
    if (!name?.value.trim() || !r) {
      setProblem("Name the alias and give its first route as provider:model.");
      return;
    }
    setProblem(null);
    if (await props.ctx.save(() => props.ctx.b.edit({ op: "put_alias", name: name?.value.trim() ?? "", routes: [r] }))) {
      if (name) name.value = "";
      if (route) route.value = "";
    }
  };
  return (
    <div class="toolbar">
      <input type="text" placeholder="alias (e.g. smart)" data-testid="ai-new-alias-name" ref={name} />
      <input type="text" placeholder="provider:model" data-testid="ai-new-alias-route" ref={route} />
      <button class="btn" data-testid="ai-new-alias-save" onClick={() => void add()}>Add alias</button>
      <Show when={problem()}>{(p) => <p class="note note-bad">{p()}</p>}</Show>
    </div>
  );
}

function DefaultAndBudget(props: { settings: AiSettings; ctx: Ctx }): JSX.Element {
  let model: HTMLSelectElement | undefined;
  let daily: HTMLInputElement | undefined;
  let monthly: HTMLInputElement | undefined;
  const [problem, setProblem] = createSignal<string | null>(null);
  const budget = () => {
    const d = parseBudget(daily?.value ?? "");
    const m = parseBudget(monthly?.value ?? "");
    if (d === "invalid" || m === "invalid") {
      setProblem("A budget is a number of dollars, 0 or more (empty: no limit).");
      return;
    }
    setProblem(null);
    void props.ctx.save(() => props.ctx.b.edit({ op: "set_budget", budget: { daily_usd: d, monthly_usd: m } }));
  };
  const s = props.settings;
  return (
    <div class="form-grid">
      <label>Default model</label>
      <div class="toolbar">
        <select data-testid="ai-default-model" ref={model}>
          <option value="" selected={!s.default_model}>(none)</option>
          <For each={s.aliases}>{(a) => <option value={a.name} selected={s.default_model === a.name}>{a.name}</option>}</For>
        </select>
        <button class="btn" data-testid="ai-default-save"
          onClick={() => void props.ctx.save(() => props.ctx.b.edit({ op: "set_default_model", model: model?.value || null }))}>Use</button>
      </div>
      <label>Budget per day (USD)</label>
      <input type="number" min="0" step="0.01" data-testid="ai-budget-daily" ref={daily} value={s.budget.daily_usd ?? ""} />
      <label>Budget per month (USD)</label>
      <input type="number" min="0" step="0.01" data-testid="ai-budget-monthly" ref={monthly} value={s.budget.monthly_usd ?? ""} />
      <div class="toolbar"><button class="btn btn-primary" data-testid="ai-budget-save" onClick={budget}>Save budgets</button></div>
      <Show when={problem()}>{(p) => <p class="note note-bad">{p()}</p>}</Show>
    </div>
  );
}
