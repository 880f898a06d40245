// Settings → Sync (Solid): sign in to a sync server (or create an account, or add this device with a
// code approved on a signed-in one), where sync stands (last sync, rows waiting, Sync now, the rows the
// server refused — what each stands for, why, whether it can go again — and their retry), the account's
// devices and approving a new one, coach access (grant by email, revoke) and the athletes whose data this
// account may read, each linking to their History. Tokens never reach the window.
import { createResource, createSignal, For, onCleanup, Show, type JSX } from "solid-js";
import { render } from "solid-js/web";
import { call, toFailure } from "../ipc";
import { routeOf } from "../views/historyOwner";
import { syncStatus } from "./chip";
import {
  canRetryParked, chipClass, chipGlyph, errorHint, isSignedIn, resendText, serverProblem, signInProblems,
  type DeviceCode, type SignInMode, type SyncStatus,
} from "./model";

/** The link from an athlete's email to their History: the route History reads (the email escaped, as
 * History's own picker writes it). */
export function athleteHistoryHref(email: string): string {
  return `#/${routeOf({ kind: "athlete", email })}`;
}

export function mountSyncPane(root: HTMLElement): () => void {
  return render(() => <SyncPane />, root);
}

/** An error's sentence and, for the codes a person can act on, what to do. */
function describe(e: unknown): string {
  const f = toFailure(e);
  const hint = errorHint(f.code);
  return hint ? `${f.message}. ${hint}` : f.message;
}

function SyncPane(): JSX.Element {
  const [status, setStatus] = createSignal<SyncStatus | null>(syncStatus.get());
  onCleanup(syncStatus.subscribe((s) => setStatus(s)));
  // The pane reads a fresh status when it opens (the pending count moves between rounds).
  void call("syncStatus").then(setStatus).catch(() => undefined);
  const [error, setError] = createSignal<string | null>(null);
  const act = async (work: () => Promise<void>) => {
    try {
      await work();
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  };

  return (
    <section class="card sync-pane" data-testid="sync-pane">
      <h2 class="card-title">Sync</h2>
      <p class="muted small">Send your sessions to a sync server to see them on every device, and let a coach read them.</p>
      <Show when={error()}>{(why) => <div class="note note-bad" role="alert" data-testid="sync-error">{why()}</div>}</Show>
      <Show when={status()} fallback={<p class="muted">Loading…</p>}>{(s) => (
        <Show when={isSignedIn(s())} fallback={<SignIn status={s()} act={act} onSignedIn={setStatus} />}>
          <SignedIn status={s()} act={act} onStatus={setStatus} />
        </Show>
      )}</Show>
    </section>
  );
}

type Act = (work: () => Promise<void>) => Promise<void>;

function SignIn(props: { status: SyncStatus; act: Act; onSignedIn: (s: SyncStatus) => void }): JSX.Element {
  const [mode, setMode] = createSignal<SignInMode>("login");
  const [server, setServer] = createSignal(props.status.account?.server ?? "");
  const [email, setEmail] = createSignal(props.status.account?.email ?? "");
  const [password, setPassword] = createSignal("");
  const [device, setDevice] = createSignal(props.status.suggested_device_name);
  const [busy, setBusy] = createSignal(false);
  const problems = () => signInProblems({ server: server(), email: email(), password: password() });
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    void props.act(async () => {
      const s = await call("syncSignIn", { mode: mode(), server: server(), email: email(), password: password(), device_name: device() });
      setPassword("");
      props.onSignedIn(s);
    }).finally(() => setBusy(false));
  };
  return (
    <>
      <Show when={props.status.account}>
        <p class="note" data-testid="sync-signed-out-note">The server no longer accepts this device's sign-in: sign in again.</p>
      </Show>
      <form class="form-grid" data-testid="sync-sign-in" onSubmit={submit}>
        <span>Account</span>
        <div class="chips" role="radiogroup" aria-label="Account">
          <label><input type="radio" name="sync-mode" data-testid="sync-mode-login" checked={mode() === "login"} onChange={() => setMode("login")} /> Sign in</label>
          <label><input type="radio" name="sync-mode" data-testid="sync-mode-create" checked={mode() === "create_account"} onChange={() => setMode("create_account")} /> Create account</label>
        </div>
        <label for="sync-server">Server</label>
        <input id="sync-server" class="wide" type="url" placeholder="https://sync.example.org" data-testid="sync-server"
          value={server()} onInput={(e) => setServer(e.currentTarget.value)} />
        <label for="sync-email">Email</label>
        <input id="sync-email" type="email" autocomplete="username" data-testid="sync-email" value={email()} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="sync-password">Password</label>
        <input id="sync-password" type="password" autocomplete={mode() === "login" ? "current-password" : "new-password"} data-testid="sync-password"
          value={password()} onInput={(e) => setPassword(e.currentTarget.value)} />
        <label for="sync-device">This device's name</label>
        <input id="sync-device" data-testid="sync-device-name" value={device()} onInput={(e) => setDevice(e.currentTarget.value)} />
        <span />
        <div>
          <Show when={server() !== "" || email() !== ""}>
            <For each={problems()}>{(p) => <p class="muted small" data-testid="sync-form-problem">{p.message}</p>}</For>
          </Show>
          <button class="btn btn-primary" type="submit" data-testid="sync-sign-in-submit" disabled={busy() || problems().length > 0}>
            {mode() === "login" ? "Sign in" : "Create account"}
          </button>
        </div>
      </form>
      <DeviceCodeSignIn server={server()} device={device()} act={props.act} onSignedIn={props.onSignedIn} />
    </>
  );
}

/** "Add this device with a code": the code is shown here and typed on a signed-in device. */
function DeviceCodeSignIn(props: { server: string; device: string; act: Act; onSignedIn: (s: SyncStatus) => void }): JSX.Element {
  const [code, setCode] = createSignal<DeviceCode | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const poll = (every: number) => {
    timer = setTimeout(() => void props.act(async () => {
      const state = await call("syncDeviceCodePoll");
      if (state === "waiting") poll(every);
      else if (state === "expired") { setCode(null); setNote("The code expired: get a new one."); }
      else { setCode(null); props.onSignedIn(await call("syncStatus")); }
    }).then(() => undefined), every);
  };
  const start = () => void props.act(async () => {
    clearTimeout(timer);
    const c = await call("syncDeviceCodeStart", props.server, props.device);
    setNote(null);
    setCode(c);
    poll(c.poll_every_ms);
  });
  return (
    <div class="sync-code">
      <h3>Add this device with a code</h3>
      <p class="muted small">No password here: get a code, then enter it under Settings → Sync on a device that is signed in.</p>
      <button class="btn" data-testid="sync-code-start" disabled={serverProblem(props.server) !== null} onClick={start}>Get a code</button>
      <Show when={code()}>{(c) => (
        <p data-testid="sync-code"><strong class="sync-user-code">{c().user_code}</strong> <span class="muted small">waiting for approval · valid until {c().expires}</span></p>
      )}</Show>
      <Show when={note()}>{(n) => <p class="muted small">{n()}</p>}</Show>
    </div>
  );
}

/** The rows the server refused: what each stands for, why, whether it can go again, and the retry. */
function ParkedRows(props: { status: SyncStatus; act: Act; onStatus: (s: SyncStatus) => void }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const retry = () => {
    setBusy(true);
    void props.act(async () => {
      props.onStatus(await call("syncRetryParked"));
    }).finally(() => setBusy(false));
  };
  return (
    <details data-testid="sync-parked" open><summary>{props.status.parked.length} row(s) the server refused</summary>
      <ul>
        <For each={props.status.parked}>{(p) => (
          <li class="small" data-testid="sync-parked-row" data-resend={p.resend.when}>
            <Show when={p.session_id} fallback={<strong data-testid="sync-parked-what">{p.points_at}</strong>}>{(id) => (
              <a href={`#/${routeOf({ kind: "own" }, id())}`} data-testid="sync-parked-what">{p.points_at}</a>
            )}</Show>
            {" "}<span data-testid="sync-parked-why">{p.code}: {p.message}</span>
            {" "}<span class="muted" data-testid="sync-parked-resend">({resendText(p.resend)}; parked {p.parked})</span>
          </li>
        )}</For>
      </ul>
      <button class="btn" data-testid="sync-retry-parked" disabled={busy() || !canRetryParked(props.status.parked)}
        title="Queue these rows again and sync: for once the cause is fixed (the data, or the server upgraded)" onClick={retry}>
        Retry parked rows
      </button>
    </details>
  );
}

function SignedIn(props: { status: SyncStatus; act: Act; onStatus: (s: SyncStatus) => void }): JSX.Element {
  const [report, setReport] = createSignal<string | null>(null);
  const [devices, { mutate: setDevices, refetch: refetchDevices }] = createResource(() => call("syncDevices"));
  // The device whose removal waits for a second click (removing is not undone: that device must sign in again).
  const [removing, setRemoving] = createSignal<string | null>(null);
  const [access, { mutate: setAccess, refetch: refetchAccess }] = createResource(() => call("syncCoachAccess"));
  const [approveCode, setApproveCode] = createSignal("");
  const [coachEmail, setCoachEmail] = createSignal("");
  const account = () => props.status.account;
  return (
    <>
      <div class="sync-state" data-testid="sync-state" data-state={props.status.state}>
        <span class={chipClass(props.status.state)}>{chipGlyph(props.status.state)} {props.status.label}</span>
        <span class="muted small"> {props.status.detail}</span>
      </div>
      <table class="kv"><tbody>
        <tr><th>Server</th><td><code data-testid="sync-account-server">{account()?.server}</code></td></tr>
        <tr><th>Account</th><td data-testid="sync-account-email">{account()?.email}</td></tr>
        <tr><th>Signed in</th><td>{account()?.signed_in}</td></tr>
        <tr><th>Last sync</th><td data-testid="sync-last">{props.status.last_synced ?? "not yet"}</td></tr>
        <tr><th>Waiting to be sent</th><td data-testid="sync-pending">{props.status.pending_rows}</td></tr>
        <Show when={account()?.tokens_in}>{(t) => <tr><th>Sign-in kept in</th><td class="small">{t()}</td></tr>}</Show>
      </tbody></table>
      <Show when={props.status.parked.length > 0}>
        <ParkedRows status={props.status} act={props.act} onStatus={props.onStatus} />
      </Show>
      <div class="toolbar">
        <button class="btn btn-primary" data-testid="sync-now" onClick={() => void props.act(async () => {
          const r = await call("syncNow");
          setReport(r.summary);
          props.onStatus(r.status);
          void refetchDevices();
        })}>Sync now</button>
        <button class="btn" data-testid="sync-sign-out" onClick={() => void props.act(async () => {
          props.onStatus(await call("syncSignOut"));
        })}>Sign out</button>
      </div>
      <Show when={report()}>{(r) => <p class="note note-good" data-testid="sync-report">{r()}</p>}</Show>

      <h3>Devices</h3>
      <Show when={devices()} fallback={<p class="muted small">{devices.error ? describe(devices.error) : "Loading…"}</p>}>{(list) => (
        <table class="table" data-testid="sync-devices"><thead><tr><th>Name</th><th>Added</th><th>Last seen</th><th /></tr></thead><tbody>
          <For each={list()}>{(d) => (
            <tr data-testid="sync-device" data-device-id={d.device_id}>
              <td>{d.name}{d.current ? " (this device)" : ""}</td><td>{d.added}</td><td>{d.last_seen ?? "–"}</td>
              <td>
                <Show when={!d.current} fallback={<span class="muted small">Sign out above</span>}>
                  <Show when={removing() === d.device_id} fallback={
                    <button class="btn btn-chip" data-testid="sync-device-remove" onClick={() => setRemoving(d.device_id)}>Remove</button>
                  }>
                    <span class="small">Stop {d.name} syncing? Its data stays. </span>
                    <button class="btn btn-chip" data-testid="sync-device-remove-confirm" onClick={() => void props.act(async () => {
                      setDevices(await call("syncRemoveDevice", d.device_id));
                      setRemoving(null);
                    })}>Remove</button>{" "}
                    <button class="btn btn-chip" data-testid="sync-device-remove-cancel" onClick={() => setRemoving(null)}>Cancel</button>
                  </Show>
                </Show>
              </td>
            </tr>
          )}</For>
        </tbody></table>
      )}</Show>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); void props.act(async () => {
        await call("syncApproveDevice", approveCode());
        setApproveCode("");
        void refetchDevices();
      }); }}>
        <label for="sync-approve">Code shown on the new device</label>
        <input id="sync-approve" data-testid="sync-approve-code" value={approveCode()} onInput={(e) => setApproveCode(e.currentTarget.value)} />
        <button class="btn" type="submit" data-testid="sync-approve" disabled={approveCode().trim() === ""}>Approve</button>
      </form>

      <h3>Coach access</h3>
      <Show when={access()} fallback={<p class="muted small">{access.error ? describe(access.error) : "Loading…"}</p>}>{(a) => (
        <>
          <p class="small">Coaches who may read your data:</p>
          <ul data-testid="sync-coaches">
            <For each={a().coaches} fallback={<li class="muted small">none</li>}>{(c) => (
              <li data-testid="sync-coach">{c.email} <span class="muted small">since {c.granted}</span>{" "}
                <button class="btn btn-chip" data-testid="sync-coach-revoke" onClick={() => void props.act(async () => {
                  setAccess(await call("syncRevokeCoach", c.email));
                })}>Revoke</button>
              </li>
            )}</For>
          </ul>
          <p class="small">Athletes whose data you may read (their sessions appear in History):</p>
          <ul data-testid="sync-athletes">
            <For each={a().athletes} fallback={<li class="muted small">none</li>}>{(x) => (
              <li data-testid="sync-athlete">
                <a href={athleteHistoryHref(x.email)} data-testid="sync-athlete-history" title={`${x.email}'s sessions and mornings in History`}>{x.email}</a>{" "}
                <span class="muted small">since {x.granted}</span>
              </li>
            )}</For>
          </ul>
        </>
      )}</Show>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); void props.act(async () => {
        setAccess(await call("syncGrantCoach", coachEmail()));
        setCoachEmail("");
      }).then(() => { if (access.error) void refetchAccess(); }); }}>
        <label for="sync-coach-email">Let a coach read my data</label>
        <input id="sync-coach-email" type="email" placeholder="coach@example.org" data-testid="sync-coach-email" value={coachEmail()} onInput={(e) => setCoachEmail(e.currentTarget.value)} />
        <button class="btn" type="submit" data-testid="sync-coach-grant" disabled={coachEmail().trim() === ""}>Grant</button>
      </form>
    </>
  );
}
