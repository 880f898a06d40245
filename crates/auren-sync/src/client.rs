//! [`SyncClient`]: signing in, one sync round (push, then pull), the retry loop and its observable status,
//! devices, coach grants and the server's trend.

use crate::SyncError;
use crate::api::Api;
use crate::incoming::{Scope, apply_page};
use crate::outgoing;
use crate::tokens::TokenVault;
use auren_protocol::auth::{
    Athletes, CoachGrantRequest, CoachGrants, CreateAccount, DeviceCode, DeviceCodeApprove, DeviceCodePoll,
    DeviceCodeStart, DeviceCodeStatus, Devices, Login, Logout, Refresh, SignedIn, TokenPair,
};
use auren_protocol::error::codes;
use auren_protocol::trend::{Trend, TrendQuery};
use auren_protocol::{
    AcceptedTypes, AthletesNews, DeviceId, MAX_WATCHED, Origin, PROTOCOL_VERSION, PullRequest, PullResponse,
    PulledChange, PushRequest, PushResponse, PushRow, WatchedAthlete, paths,
};
use auren_store::{OutboxRow, ParkReason, Requeued, Store, SyncAccount};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::sync::{Mutex, watch};
use tokio_util::sync::CancellationToken;

/// How the client paces itself.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Outbox rows per push at most (halved on a 413 until one row, which is then parked).
    pub push_batch: u32,
    /// Changes per pull page.
    pub pull_limit: u32,
    /// After a successful round, the next one starts this much later (a timer, whether or not anything was
    /// written locally), or as soon as a long poll finds something new on the server ([`SyncClient::news`]).
    pub interval: Duration,
    /// The first retry delay after a failure; doubled per failure up to `max_backoff`, with full jitter.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            push_batch: 256,
            pull_limit: 1000,
            interval: Duration::from_secs(30),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The longest a long poll asks the server to wait (the server's own cap; a proxy in front usually cuts idle
/// requests at 30–60 s).
const LONG_POLL: Duration = Duration::from_secs(25);
/// How long a long poll refused by the server's rate limit waits (times 1–2, at random) before it asks again.
const RATE_LIMITED_PAUSE: Duration = Duration::from_secs(1);

/// What the person sees (CLI line, desktop chip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// Not signed in.
    SignedOut,
    /// A round is running.
    Syncing,
    /// Everything was sent and pulled at `at_ms`.
    Synced { at_ms: i64 },
    /// Rows wait to be sent (the last round could not send them all); `held` of them are of a type the
    /// server does not accept yet, kept until it is upgraded (so a chip does not look stuck).
    Pending { rows: i64, held: u64 },
    /// The server cannot be reached; the next try is in `retry_in`.
    Offline { reason: String, retry_in: Duration },
    /// The server or the database refused; the next try is in `retry_in`.
    Error { reason: String, retry_in: Duration },
}

impl std::fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignedOut => f.write_str("signed out"),
            Self::Syncing => f.write_str("syncing"),
            Self::Synced { .. } => f.write_str("synced"),
            Self::Pending { rows, held: 0 } => write!(f, "pending {rows}"),
            Self::Pending { rows, held } => {
                write!(f, "pending {rows} ({held} held for a server upgrade)")
            }
            Self::Offline { reason, retry_in } => {
                write!(f, "offline ({reason}); retrying in {}s", retry_in.as_secs())
            }
            Self::Error { reason, retry_in } => {
                write!(f, "error: {reason}; retrying in {}s", retry_in.as_secs())
            }
        }
    }
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Outbox rows the server acknowledged.
    pub pushed: u64,
    /// Rows parked (refused by the server, or not sendable).
    pub parked: u64,
    /// Changes pulled and applied.
    pub pulled: u64,
    /// Rows still waiting (the held ones among them).
    pub pending: i64,
    /// Rows of a type the server does not accept yet, kept in the outbox for a round after it does.
    pub held: u64,
    /// Parked rows queued again this round because the server now lists the change type it had refused them
    /// for (sent in the same round; [`SyncReport::pushed`] counts them when they go).
    pub requeued: u64,
}

/// The sync client of one local database.
pub struct SyncClient {
    api: Api,
    store: Store,
    vault: TokenVault,
    account: SyncAccount,
    config: SyncConfig,
    tokens: Mutex<Option<TokenPair>>,
    status: watch::Sender<SyncStatus>,
    /// What the server accepted at its last answer, kept across rounds so a round asks only while it is
    /// unknown (every push answer refreshes it).
    accepted: std::sync::Mutex<Option<AcceptedTypes>>,
}

/// Account creation and login.
#[derive(Clone, Copy, Debug)]
pub enum SignIn<'a> {
    Create,
    Login,
    /// An approved device code (the new device polled [`SyncClient::poll_device_code`]).
    Approved(&'a SignedIn),
}

impl SyncClient {
    /// Creates an account (or logs in) at `server` and signs this database in as a new device of it.
    pub async fn sign_in(
        store: &Store,
        vault: TokenVault,
        server: &str,
        (email, password, device_name): (&str, &str, &str),
        how: SignIn<'_>,
        config: SyncConfig,
    ) -> Result<Self, SyncError> {
        let api = Api::new(server, config.timeout)?;
        let signed: SignedIn = match how {
            SignIn::Create => {
                let body = CreateAccount {
                    email: email.to_owned(),
                    password: password.to_owned(),
                    device_name: device_name.to_owned(),
                };
                api.call(Method::POST, paths::ACCOUNTS, None, Some(&body)).await?
            }
            SignIn::Login => {
                let body = Login {
                    email: email.to_owned(),
                    password: password.to_owned(),
                    device_name: device_name.to_owned(),
                };
                api.call(Method::POST, paths::LOGIN, None, Some(&body)).await?
            }
            SignIn::Approved(signed) => signed.clone(),
        };
        vault.save(&signed.tokens).await?;
        let account = SyncAccount {
            server_url: api.base().to_owned(),
            user_id: signed.user_id.0.clone(),
            email: signed.email.clone(),
            device_id: signed.device_id.0.clone(),
            signed_in_at: auren_clock::now_unix_ms(),
        };
        store.set_sync_account(&account).await?;
        Ok(Self::with(
            api,
            store.clone(),
            vault,
            account,
            Some(signed.tokens),
            config,
        ))
    }

    /// Starts the device-code flow at `server` for a new device: show the returned `user_code` to the person.
    pub async fn start_device_code(server: &str, device_name: &str) -> Result<DeviceCode, SyncError> {
        let api = Api::new(server, Duration::from_secs(30))?;
        let body = DeviceCodeStart {
            device_name: device_name.to_owned(),
        };
        Ok(api
            .call(Method::POST, paths::DEVICE_CODE, None, Some(&body))
            .await?)
    }

    /// Asks once whether the device code was approved.
    pub async fn poll_device_code(server: &str, code: &DeviceCode) -> Result<DeviceCodeStatus, SyncError> {
        let api = Api::new(server, Duration::from_secs(30))?;
        let body = DeviceCodePoll {
            device_code: code.device_code.clone(),
        };
        Ok(api
            .call(Method::POST, paths::DEVICE_CODE_POLL, None, Some(&body))
            .await?)
    }

    /// The client of a database already signed in ([`SyncError::SignedOut`] otherwise).
    pub async fn open(store: &Store, vault: TokenVault, config: SyncConfig) -> Result<Self, SyncError> {
        let account = store.sync_account().await?.ok_or(SyncError::SignedOut)?;
        let tokens = vault.load().await?.ok_or(SyncError::SignedOut)?;
        let api = Api::new(&account.server_url, config.timeout)?;
        Ok(Self::with(
            api,
            store.clone(),
            vault,
            account,
            Some(tokens),
            config,
        ))
    }

    fn with(
        api: Api,
        store: Store,
        vault: TokenVault,
        account: SyncAccount,
        tokens: Option<TokenPair>,
        config: SyncConfig,
    ) -> Self {
        Self {
            api,
            store,
            vault,
            account,
            config,
            tokens: Mutex::new(tokens),
            status: watch::channel(SyncStatus::Pending { rows: 0, held: 0 }).0,
            accepted: std::sync::Mutex::new(None),
        }
    }

    pub fn account(&self) -> &SyncAccount {
        &self.account
    }

    pub fn vault(&self) -> &TokenVault {
        &self.vault
    }

    /// The local database it syncs.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The status, updated by [`SyncClient::run`].
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Signs this device out: the server revokes its tokens (if reachable), the local tokens and account go.
    pub async fn logout(self) -> Result<(), SyncError> {
        let tokens = self.tokens.lock().await.clone();
        if let Some(tokens) = tokens {
            let body = Logout {
                refresh_token: tokens.refresh_token,
            };
            let answer: Result<serde_json::Value, _> = self
                .api
                .call(Method::POST, paths::LOGOUT, None, Some(&body))
                .await;
            if let Err(error) = answer {
                tracing::warn!(%error, "the server did not confirm the logout; the local tokens are forgotten anyway");
            }
        }
        self.vault.clear().await?;
        self.store.clear_sync_account().await?;
        Ok(())
    }

    /// A valid access token: refreshed first when it expires within a minute, or when it is still `rejected`
    /// (the token a server answer called expired). Calls running at once (a coach's long polls) that were
    /// all refused the same token refresh it once: the first replaces it, the others find the new one.
    async fn access_token(&self, rejected: Option<&str>) -> Result<String, SyncError> {
        let mut guard = self.tokens.lock().await;
        let current = guard.clone().ok_or(SyncError::SignedOut)?;
        let now = auren_clock::now_unix_ms();
        let refused = rejected == Some(current.access_token.as_str());
        if !refused && current.access_expires_at_ms > now.saturating_add(60_000) {
            return Ok(current.access_token);
        }
        let body = Refresh {
            refresh_token: current.refresh_token.clone(),
        };
        let fresh: TokenPair = match self
            .api
            .call(Method::POST, paths::REFRESH, None, Some(&body))
            .await
        {
            Ok(fresh) => fresh,
            Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
                tracing::warn!(error = %e, "the refresh token was refused; signing out");
                *guard = None;
                self.vault.clear().await?;
                return Err(SyncError::SignedOut);
            }
            Err(e) => return Err(e.into()),
        };
        self.vault.save(&fresh).await?;
        let token = fresh.access_token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    /// An authenticated call; a `token_expired` answer refreshes and retries once; a `token_revoked` one
    /// (this device was removed or signed out elsewhere) signs out here too.
    async fn authed<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, SyncError> {
        let token = self.access_token(None).await?;
        let answer = match self.api.call(method.clone(), path, Some(&token), body).await {
            Err(e) if e.code() == Some(codes::TOKEN_EXPIRED) => {
                let token = self.access_token(Some(&token)).await?;
                self.api.call(method, path, Some(&token), body).await
            }
            other => other,
        };
        match answer {
            Err(e) if e.code() == Some(codes::TOKEN_REVOKED) => {
                tracing::warn!(error = %e, "the server ended this device's sign-in; signing out");
                *self.tokens.lock().await = None;
                self.vault.clear().await?;
                Err(SyncError::SignedOut)
            }
            other => Ok(other?),
        }
    }

    pub async fn devices(&self) -> Result<Devices, SyncError> {
        self.authed::<(), _>(Method::GET, paths::DEVICES, None).await
    }

    /// Removes another device of the account: its tokens stop working on its next request, the data it sent
    /// stays. The server refuses this device's own id (sign out instead).
    pub async fn remove_device(&self, device_id: &str) -> Result<(), SyncError> {
        // Whatever was typed reaches the server as one path segment, which answers 404 for a non-id.
        let id: String = device_id
            .trim()
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let path = paths::DEVICE.replace("{device_id}", &id);
        self.authed::<(), serde_json::Value>(Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Approves a new device's code (shown on the new device).
    pub async fn approve_device_code(&self, user_code: &str) -> Result<(), SyncError> {
        let body = DeviceCodeApprove {
            user_code: user_code.to_owned(),
        };
        self.authed::<_, serde_json::Value>(Method::POST, paths::DEVICE_CODE_APPROVE, Some(&body))
            .await?;
        Ok(())
    }

    /// Grants (`true`) or revokes the read access of the coach with `coach_email`.
    pub async fn coach_access(&self, coach_email: &str, access: CoachAccess) -> Result<(), SyncError> {
        let body = CoachGrantRequest {
            coach_email: coach_email.to_owned(),
        };
        let method = match access {
            CoachAccess::Grant => Method::POST,
            CoachAccess::Revoke => Method::DELETE,
        };
        self.authed::<_, serde_json::Value>(method, paths::COACH_GRANTS, Some(&body))
            .await?;
        Ok(())
    }

    pub async fn coach_grants(&self) -> Result<CoachGrants, SyncError> {
        self.authed::<(), _>(Method::GET, paths::COACH_GRANTS, None).await
    }

    pub async fn athletes(&self) -> Result<Athletes, SyncError> {
        self.authed::<(), _>(Method::GET, paths::ATHLETES, None).await
    }

    /// One round: push the whole outbox, then pull the account's data and each granting athlete's.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.push_all(&mut report).await?;
        report.pulled += self.pull_all(None).await?;
        let athletes = self.athletes().await?.athletes;
        let kept: Vec<(String, String)> = athletes
            .iter()
            .map(|a| (a.user_id.0.clone(), a.email.clone()))
            .collect();
        self.store.forget_athletes_except(&kept).await?;
        for (user_id, email) in &kept {
            report.pulled += self.pull_all(Some((user_id, email))).await?;
        }
        report.pending = self.store.outbox_len().await?;
        Ok(report)
    }

    /// Pushes the outbox in order. A row of a type the server does not accept yet is held back: left in the
    /// outbox, neither sent nor parked, and not in the way of the rows after it; a later round sends it once
    /// the server lists its type. What the server accepts is remembered from its last answer (every push
    /// answer refreshes it). While it is unknown the base set needs no answer, and before a row of another
    /// type goes an empty push asks — so a server that takes the type gets the row in its place, not late.
    /// When only held rows are left and no answer came this round, one empty push asks again (the server
    /// may have been upgraded since); against a current server no round pays for an extra request.
    /// A row a server refused for a type it did not list (parked, [`auren_store::ParkedRow::waits_for_type`])
    /// is queued again, at the end of the outbox, as soon as the accepted types hold its type; while one
    /// waits, a round asks once as it does for held rows.
    async fn push_all(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let mut batch = self.config.push_batch.max(1);
        let mut accepted = self.remembered_accepted();
        let mut answered_this_round = false;
        let mut held: u32 = 0;
        // The accepted types the parked rows waiting for a type were last checked against, and how many of
        // them still wait.
        let mut checked: Option<AcceptedTypes> = None;
        let mut parked_waiting: u64 = 0;
        loop {
            // The held rows come first among the oldest, and the next batch after them.
            let limit = held.saturating_add(batch);
            let window = self.store.outbox_pending(limit).await?;
            let types = match &accepted {
                Some(types) => types.clone(),
                None if window.iter().all(|r| base_type(r.kind)) => AcceptedTypes::base(),
                None => {
                    accepted = Some(self.ask_accepted().await?);
                    answered_this_round = true;
                    continue;
                }
            };
            if checked.as_ref() != Some(&types) {
                let (requeued, waiting) = self.requeue_listed(&types).await?;
                checked = Some(types.clone());
                parked_waiting = waiting;
                if requeued > 0 {
                    report.requeued += requeued;
                    // They went to the end of the outbox: read it again.
                    continue;
                }
            }
            let (waiting, pending): (Vec<&OutboxRow>, Vec<&OutboxRow>) = window
                .iter()
                .partition(|r| !types.accepts(outgoing::change_type(r.kind)));
            held = u32::try_from(waiting.len()).unwrap_or(u32::MAX);
            let Some(last) = pending.last().map(|r| r.id) else {
                if u32::try_from(window.len()).is_ok_and(|n| n >= limit) {
                    // Only held rows so far: read further.
                    continue;
                }
                if (held > 0 || parked_waiting > 0) && !answered_this_round {
                    accepted = Some(self.ask_accepted().await?);
                    answered_this_round = true;
                    continue;
                }
                report.held = u64::from(held);
                return Ok(());
            };
            let (rows, nothing_to_send) = self.build_rows(&pending, report).await?;
            if rows.is_empty() {
                report.pushed += self.store.outbox_ack(&nothing_to_send).await?;
                continue;
            }
            let Some(answer) = self.send_batch(rows, &pending, &mut batch, report).await? else {
                continue;
            };
            let answered = self.remember_accepted(answer.accepts.as_deref());
            self.park_rejected(&pending, &answer, &answered, report).await?;
            accepted = Some(answered);
            answered_this_round = true;
            let done: Vec<i64> = pending
                .iter()
                .map(|r| r.id)
                .filter(|&id| id <= answer.last_applied)
                .collect();
            report.pushed += self.store.outbox_ack(&done).await?;
            if answer.last_applied < last {
                return Err(SyncError::Inconsistent(format!(
                    "the push of rows up to {last} was answered with last applied {}",
                    answer.last_applied
                )));
            }
        }
    }

    /// Pushes `rows` (built from `pending`). A 413 halves `batch` and answers `None`; at a batch of one the
    /// row alone is too large and is parked, so the rows after it still go.
    async fn send_batch(
        &self,
        rows: Vec<PushRow>,
        pending: &[&OutboxRow],
        batch: &mut u32,
        report: &mut SyncReport,
    ) -> Result<Option<PushResponse>, SyncError> {
        let request = PushRequest {
            protocol_version: PROTOCOL_VERSION,
            device_id: DeviceId(self.account.device_id.clone()),
            rows,
        };
        match self.authed(Method::POST, paths::PUSH, Some(&request)).await {
            Err(SyncError::Api(e)) if e.status() == Some(StatusCode::PAYLOAD_TOO_LARGE) => {
                if *batch > 1 {
                    *batch /= 2;
                } else if let Some(row) = pending.first() {
                    let message = e.to_string();
                    self.park(row, &refusal(codes::TOO_LARGE, &message)).await?;
                    report.parked += 1;
                }
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Parks the rows of `pending` the server's `answer` rejected, each with its reason; a row refused for a
    /// type the answer (`answered`) does not list waits for that type.
    async fn park_rejected(
        &self,
        pending: &[&OutboxRow],
        answer: &PushResponse,
        answered: &AcceptedTypes,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        for rejection in &answer.rejected {
            let Some(row) = pending.iter().find(|r| r.id == rejection.outbox_id) else {
                // Not a row of this push: nothing here to park.
                tracing::warn!(outbox_id = rejection.outbox_id, "a rejection of a row not sent");
                continue;
            };
            let mut why = refusal(&rejection.code, &rejection.message);
            let change_type = outgoing::change_type(row.kind);
            if rejection.code == codes::row::UNSUPPORTED && !answered.accepts(change_type) {
                // Refused for its type by a server that does not list it (an older one than the answer this
                // client remembered): it goes again once an answer lists the type.
                why.waits_for_type = Some(change_type);
            }
            self.park(row, &why).await?;
            report.parked += 1;
        }
        Ok(())
    }

    /// The changes of `pending` rows, and the ids of rows with nothing to send (their data is gone); a row
    /// that cannot be built is parked.
    async fn build_rows(
        &self,
        pending: &[&OutboxRow],
        report: &mut SyncReport,
    ) -> Result<(Vec<PushRow>, Vec<i64>), SyncError> {
        let mut rows = Vec::with_capacity(pending.len());
        let mut nothing_to_send = Vec::new();
        for row in pending {
            match outgoing::build(&self.store, row).await? {
                Ok(Some(change)) => rows.push(PushRow {
                    outbox_id: row.id,
                    change,
                }),
                Ok(None) => nothing_to_send.push(row.id),
                Err(outgoing::Unbuildable(why)) => {
                    self.park(row, &refusal("unbuildable", &why)).await?;
                    report.parked += 1;
                }
            }
        }
        Ok((rows, nothing_to_send))
    }

    /// What the server accepts, asked with an empty push (which changes nothing).
    async fn ask_accepted(&self) -> Result<AcceptedTypes, SyncError> {
        let request = PushRequest {
            protocol_version: PROTOCOL_VERSION,
            device_id: DeviceId(self.account.device_id.clone()),
            rows: Vec::new(),
        };
        let answer: PushResponse = self.authed(Method::POST, paths::PUSH, Some(&request)).await?;
        Ok(self.remember_accepted(answer.accepts.as_deref()))
    }

    /// What the server accepted at its last answer, if one came since this client was opened.
    fn remembered_accepted(&self) -> Option<AcceptedTypes> {
        // The value is replaced whole: a panic elsewhere cannot leave it half-written.
        self.accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Keeps what a push answer's `accepts` says for the next rounds, and returns it.
    fn remember_accepted(&self, accepts: Option<&[String]>) -> AcceptedTypes {
        let types = AcceptedTypes::from_answer(accepts);
        *self
            .accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(types.clone());
        types
    }

    /// The daily trend of a morning value as the server computes it from the synced readings (the account's
    /// own, or with `query.athlete` those of an athlete who granted access).
    pub async fn trend(&self, query: &TrendQuery) -> Result<Trend, SyncError> {
        let path = format!("{}?{}", paths::TREND, query.to_query_string());
        self.authed::<(), _>(Method::GET, &path, None).await
    }

    async fn park(&self, row: &OutboxRow, why: &ParkReason<'_>) -> Result<(), SyncError> {
        let kind = row.kind.as_str();
        tracing::warn!(
            outbox_id = row.id,
            kind,
            code = why.code,
            message = why.message,
            "outbox row parked"
        );
        self.store
            .park_outbox_row(row.id, kind, why, auren_clock::now_unix_ms())
            .await?;
        Ok(())
    }

    /// Queues again the parked rows refused for a change type `types` now holds; returns how many went back
    /// and how many still wait for a type.
    async fn requeue_listed(&self, types: &AcceptedTypes) -> Result<(u64, u64), SyncError> {
        let (listed, waiting): (Vec<_>, Vec<_>) = self
            .store
            .parked_rows()
            .await?
            .into_iter()
            .filter_map(|p| p.waits_for_type.clone().map(|t| (p, t)))
            .partition(|(_, change_type)| types.accepts(change_type));
        let ids: Vec<i64> = listed.iter().map(|(p, _)| p.outbox_id).collect();
        let done = self.store.requeue_parked(&ids).await?;
        if done.requeued > 0 {
            tracing::info!(
                rows = done.requeued,
                "parked rows of a type the server now lists are queued again"
            );
        }
        Ok((done.requeued, waiting.len() as u64))
    }

    /// Pulls pages until the server says there is no more; returns how many changes were applied.
    async fn pull_all(&self, athlete: Option<(&str, &str)>) -> Result<u64, SyncError> {
        let mut applied = 0u64;
        loop {
            let cursor = self.store.sync_cursor(athlete.map(|a| a.0)).await?;
            let request = PullRequest {
                protocol_version: PROTOCOL_VERSION,
                cursor,
                athlete: athlete.map(|a| auren_protocol::UserId(a.0.to_owned())),
                limit: Some(self.config.pull_limit),
                wait_ms: None,
                watch: None,
            };
            let page: PullResponse = self.authed(Method::POST, paths::PULL, Some(&request)).await?;
            if page.cursor < cursor {
                return Err(SyncError::Inconsistent(format!(
                    "the pull cursor went back from {cursor} to {}",
                    page.cursor
                )));
            }
            let n = apply_page(&self.store, Scope { athlete }, &page.changes, page.cursor).await?;
            applied += n as u64;
            if !page.more || page.cursor == cursor {
                return Ok(applied);
            }
        }
    }

    /// Resolves once the server holds something newer than this device's cursors from elsewhere: for its own
    /// account, another device's push or an alert the server raised; for the athletes who granted this
    /// account access, anything their devices or the server added, or a grant given or taken back. It asks by
    /// one long poll after another, each parked at the server until a push of the account or of an athlete it
    /// watches (on any server process), a server alert or a grant wakes it: the poll names the athletes the
    /// last round's list holds, with this device's cursor of each ([`PullRequest::watch`]), so a coach's
    /// device holds one request however many athletes it follows. Versions holding only this device's own
    /// rows (a "Sync now" pushing while the loop waits) or rows this reader cannot see are stepped over, not
    /// news. It only detects: the round that follows pulls and applies, so whatever arrives is handled in one
    /// place (panels, settings, the coach's refresh). When a poll fails, or the server answers without
    /// waiting, it is left to the caller's timer, which it races this with (and which backs off). A server
    /// older than the watch answers for the account alone, and its athletes come by the timer.
    pub async fn news(&self) {
        // A poll's request must fit in the client's own timeout.
        let wait = LONG_POLL.min(self.config.timeout / 2);
        let mut past = 0;
        loop {
            let asked = tokio::time::Instant::now();
            match self.long_poll(past, wait).await {
                Ok(Heard::News) => return,
                Ok(Heard::OwnOnly { cursor }) => past = cursor,
                Ok(Heard::Nothing) if asked.elapsed() >= wait / 2 => {}
                Ok(Heard::Nothing) => {
                    tracing::debug!("the server answered a long poll without waiting; the timer decides");
                    break;
                }
                // The rate limit is a moment's: asking again soon, spread out, keeps the account polled.
                Err(error) if api_code(&error) == Some(codes::RATE_LIMITED) => {
                    tokio::time::sleep(RATE_LIMITED_PAUSE.mul_f64(1.0 + jitter())).await;
                }
                Err(error) => {
                    tracing::debug!(%error, "a long poll failed; the timer decides");
                    break;
                }
            }
        }
        std::future::pending::<()>().await;
    }

    /// One long poll of the account's own data, from the stored cursor or `past` if that is later, watching
    /// the athletes of the last round's list.
    async fn long_poll(&self, past: i64, wait: Duration) -> Result<Heard, SyncError> {
        let cursor = self.store.sync_cursor(None).await?.max(past);
        let request = PullRequest {
            protocol_version: PROTOCOL_VERSION,
            cursor,
            athlete: None,
            // One version is enough to know; the round reads them all.
            limit: Some(1),
            wait_ms: Some(u32::try_from(wait.as_millis()).unwrap_or(u32::MAX)),
            watch: self.watch_list().await?,
        };
        let page: PullResponse = self.authed(Method::POST, paths::PULL, Some(&request)).await?;
        let own = |change: &PulledChange| match &change.origin {
            Origin::Device { device_id } => device_id.0 == self.account.device_id,
            Origin::Server => false,
        };
        Ok(if page.athletes.as_ref().is_some_and(AthletesNews::any) {
            Heard::News
        } else if page.cursor <= cursor {
            Heard::Nothing
        } else if page.changes.iter().all(own) {
            Heard::OwnOnly { cursor: page.cursor }
        } else {
            Heard::News
        })
    }

    /// The athletes of the last round's grant list with this device's cursor of each. `None` past
    /// [`MAX_WATCHED`]: a list the server cannot take whole would differ from its grants at every poll, so
    /// such a coach's athletes come by the timer.
    async fn watch_list(&self) -> Result<Option<Vec<WatchedAthlete>>, SyncError> {
        let athletes = self.store.granting_athletes().await?;
        if athletes.len() > MAX_WATCHED {
            return Ok(None);
        }
        Ok(Some(
            athletes
                .into_iter()
                .map(|(user_id, cursor)| WatchedAthlete {
                    athlete: auren_protocol::UserId(user_id),
                    cursor,
                })
                .collect(),
        ))
    }

    /// Runs rounds until `shutdown`: after a success the next round starts `interval` later, or as soon as
    /// [`SyncClient::news`] finds something new; after a failure, after an exponential backoff with full
    /// jitter. Signed out ends the loop.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            self.status.send_replace(SyncStatus::Syncing);
            let (delay, listen) = match self.sync_once().await {
                Ok(report) => {
                    failures = 0;
                    let status = if report.pending > 0 {
                        SyncStatus::Pending {
                            rows: report.pending,
                            held: report.held,
                        }
                    } else {
                        SyncStatus::Synced {
                            at_ms: auren_clock::now_unix_ms(),
                        }
                    };
                    tracing::info!(?report, "sync round done");
                    self.status.send_replace(status);
                    (self.config.interval, true)
                }
                Err(SyncError::SignedOut) => {
                    self.status.send_replace(SyncStatus::SignedOut);
                    return;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let retry_in = backoff(&self.config, failures);
                    let reason = error.to_string();
                    tracing::warn!(%reason, retry_in_s = retry_in.as_secs_f64(), "sync round failed");
                    self.status.send_replace(if error.is_offline() {
                        SyncStatus::Offline { reason, retry_in }
                    } else {
                        SyncStatus::Error { reason, retry_in }
                    });
                    (retry_in, false)
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
                () = self.news(), if listen => {}
            }
        }
    }

    /// Rows waiting to be sent.
    pub async fn pending(&self) -> Result<i64, SyncError> {
        Ok(self.store.outbox_len().await?)
    }
}

/// Queues every parked row again, at the end of the outbox, so the next round sends it (the person's "retry"
/// after the cause was fixed: a server upgraded or repaired). A row the server refuses again is parked again,
/// with the new reason; rows parked before parked rows kept what they point at stay parked
/// ([`Requeued::kept`]).
pub async fn retry_parked(store: &Store) -> Result<Requeued, SyncError> {
    let ids: Vec<i64> = store.parked_rows().await?.iter().map(|p| p.outbox_id).collect();
    Ok(store.requeue_parked(&ids).await?)
}

/// The reason of a row parked with `code` and `message`, waiting for nothing.
fn refusal<'a>(code: &'a str, message: &'a str) -> ParkReason<'a> {
    ParkReason {
        code,
        message,
        waits_for_type: None,
    }
}

/// Whether rows of `kind` are of a type every server of this protocol version accepts.
fn base_type(kind: auren_store::OutboxKind) -> bool {
    auren_protocol::Change::is_base_type(outgoing::change_type(kind))
}

/// What one long poll heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Heard {
    /// Nothing past the cursor (the wait ran out).
    Nothing,
    /// The version moved to `cursor`, but only by this device's own rows (or rows this reader cannot see).
    OwnOnly { cursor: i64 },
    /// Something from another device or the server.
    News,
}

/// Granting or revoking a coach's access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoachAccess {
    Grant,
    Revoke,
}

/// The delay before retry number `failures` (1-based): uniformly random in `[0, min(max, base · 2^(n-1))]`
/// ("full jitter"), so devices that failed together do not come back together.
pub fn backoff(config: &SyncConfig, failures: u32) -> Duration {
    let cap = config
        .backoff
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)))
        .min(config.max_backoff);
    cap.mul_f64(jitter())
}

/// A uniform number in [0, 1) from the standard library's per-process random hasher keys.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Makes [`ApiError`] reachable for callers matching on codes.
pub fn api_code(error: &SyncError) -> Option<&str> {
    match error {
        SyncError::Api(e) => e.code(),
        _ => None,
    }
}
