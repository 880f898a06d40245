//! The desktop's side of sync: signing this database in to a sync server (an account created, a password,
//! or a device code approved on a signed-in device), the background loop, "Sync now", devices, coach
//! access, and the status the header chip shows. Mirrors `auren account|sync|devices|coach` of the CLI,
//! over the same `auren-sync` client and the same token places (the keychain entry named after the
//! database's replica id, or `auren.db.tokens` next to it), so the CLI and the app share one sign-in.
//!
//! The loop is this module's rather than `SyncClient::run`'s so that "Sync now" and the timer never run two
//! rounds at once: both take the round lock. Status reaches the window through a sink the shell wraps in a
//! Tauri `Channel` (as live updates and chat events do): a status changes seldom, and the chip must turn
//! "offline" the moment a round fails, without the window polling.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::chat::CoachParts;
use auren_agents::refresh::Arrival;
use auren_store::Store;
use auren_sync::{
    ApiError, CoachAccess, SignIn, SyncClient, SyncConfig, SyncError, SyncReport, SyncStatus, TokenPlace,
    TokenVault,
};
use tokio::sync::{Mutex, broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::places::DB_FILE;
use crate::proactive::ProactiveMessageDto;
use crate::settings_sync::SettingsCell;
use crate::sync_dto::*;
use crate::{Desktop, DesktopError, ErrorCode};

/// Where the window's status updates go (the shell wraps a Tauri Channel); `false` means the window is gone.
pub type SyncSink = Box<dyn FnMut(SyncStatusDto) -> bool + Send>;

/// Where a newly signed-in database keeps its tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenChoice {
    /// The OS keychain when one answers, else a file only the user can read (`AUREN_SYNC_TOKENS=file`
    /// forces the file).
    #[default]
    KeychainOrFile,
    /// Always the file (headless machines, tests).
    File,
}

/// The sync state the `Desktop` holds.
pub(crate) struct SyncSlot {
    /// The signed-in client and its loop; held across a sign-in so two never start.
    running: Mutex<Option<Running>>,
    /// What the last round said; the chip's source.
    phase: Arc<watch::Sender<Phase>>,
    /// A device code this device waits on.
    code: Mutex<Option<PendingCode>>,
    tokens: StdMutex<TokenChoice>,
    /// Where the running client keeps its tokens (shown in the pane).
    place: StdMutex<Option<TokenPlace>>,
    /// The app's settings: a round that pulled something adopts the person's settings it brought.
    settings: Arc<SettingsCell>,
}

impl SyncSlot {
    pub(crate) fn new(settings: Arc<SettingsCell>) -> Self {
        Self {
            running: Mutex::new(None),
            phase: Arc::new(watch::channel(Phase::default()).0),
            code: Mutex::new(None),
            tokens: StdMutex::new(TokenChoice::default()),
            place: StdMutex::new(None),
            settings,
        }
    }
}

/// The loop's status and when it last succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Phase {
    status: SyncStatus,
    last_synced_ms: Option<i64>,
    /// Raised each time pulled settings changed the person's settings here: the window reloads them.
    settings_revision: u32,
}

impl Default for Phase {
    fn default() -> Self {
        Self {
            status: SyncStatus::SignedOut,
            last_synced_ms: None,
            settings_revision: 0,
        }
    }
}

struct PendingCode {
    server: String,
    device_name: String,
    code: auren_protocol::auth::DeviceCode,
}

/// A signed-in client, the round lock, and the loop over it.
struct Running {
    syncer: Arc<Syncer>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// The data folder the client's store lives in: a moved database gets a new client.
    data_dir: PathBuf,
}

struct Syncer {
    client: SyncClient,
    config: SyncConfig,
    /// One round at a time: the timer's or "Sync now"'s.
    round: Mutex<()>,
    failures: AtomicU32,
    phase: Arc<watch::Sender<Phase>>,
    settings: Arc<SettingsCell>,
    /// Where the refresh after a pull announces the proactive messages it posted.
    proactive: broadcast::Sender<ProactiveMessageDto>,
    /// The desktop's coach parts: every round's refresh — the timer's and "Sync now"'s — writes with the
    /// desktop's gateway and the person's memory setting, so the specialist writes when a provider and
    /// budget allow.
    coach: CoachParts,
}

impl Syncer {
    /// One round, its status published; returns it and when the loop should try again.
    async fn round(&self) -> (Result<SyncReport, SyncError>, std::time::Duration) {
        let _one = self.round.lock().await;
        self.phase.send_modify(|p| p.status = SyncStatus::Syncing);
        let outcome = self.client.sync_once().await;
        let mut settings_changed = false;
        let (status, delay) = match &outcome {
            Ok(report) => {
                self.failures.store(0, Ordering::Relaxed);
                if report.pulled > 0 {
                    // Sessions that arrived get their panels in the background, so readers only read.
                    let now = auren_clock::now_unix_ms();
                    auren_engine::panels::refresh_panels_in_background(self.client.store().clone(), now);
                    // Before the round is reported done, so "Sync now" returns with them in effect.
                    match self.settings.adopt_synced(self.client.store()).await {
                        // Refused values are logged there; the status reads them from the table.
                        Ok(adoption) => settings_changed = !adoption.adopted.is_empty(),
                        Err(error) => tracing::warn!(%error, "pulled settings not adopted"),
                    }
                    self.refresh_after_pull().await;
                }
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
                (status, self.config.interval)
            }
            Err(SyncError::SignedOut) => (SyncStatus::SignedOut, self.config.interval),
            Err(error) => {
                let failures = self.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
                let retry_in = auren_sync::backoff(&self.config, failures);
                let reason = error.to_string();
                tracing::warn!(%reason, retry_in_s = retry_in.as_secs_f64(), "sync round failed");
                let status = if error.is_offline() {
                    SyncStatus::Offline { reason, retry_in }
                } else {
                    SyncStatus::Error { reason, retry_in }
                };
                (status, retry_in)
            }
        };
        self.phase.send_modify(|p| {
            if outcome.is_ok() {
                p.last_synced_ms = Some(auren_clock::now_unix_ms());
            }
            if settings_changed {
                p.settings_revision = p.settings_revision.wrapping_add(1);
            }
            p.status = status;
        });
        (outcome, delay)
    }
}

impl Syncer {
    /// What arrived (sessions, alerts, mornings of the person's other devices and the server's alerts)
    /// re-tests the hypotheses and earns its proactive messages, before the round is reported done (a
    /// model-written message follows in the background).
    async fn refresh_after_pull(&self) {
        let coach = self.coach.coach(self.client.store().clone()).await;
        crate::proactive::refresh_after(coach, self.proactive.clone(), Arrival::Pulled).await;
    }
}

/// Rounds until `stop` or until the server refuses the tokens; a round in flight is dropped on `stop`
/// (a push is idempotent on the server, a pulled page is applied in one transaction with its cursor). After a
/// round that succeeded, the next starts on the timer or as soon as a long poll finds something new (another
/// device's session, the server's alert): seconds, not the timer's 30 s.
async fn run(syncer: Arc<Syncer>, stop: CancellationToken) {
    loop {
        let (delay, listen) = tokio::select! {
            () = stop.cancelled() => return,
            (outcome, delay) = syncer.round() => match outcome {
                Err(SyncError::SignedOut) => return,
                Ok(_) => (delay, true),
                Err(_) => (delay, false),
            },
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
            () = syncer.client.news(), if listen => {}
        }
    }
}

impl Desktop {
    /// Where sync stands: the chip and the pane.
    pub async fn sync_status(&self) -> Result<SyncStatusDto, DesktopError> {
        self.reattach_sync().await;
        status_dto(&self.sync, &self.store().await).await
    }

    /// Sends the status to `sink` now and on every change until the window goes or the app quits.
    pub async fn watch_sync(&self, mut sink: SyncSink) -> Result<SyncStatusDto, DesktopError> {
        // Subscribed before the first read, so a change in between is sent too.
        let mut changes = self.sync.phase.subscribe();
        let now = self.sync_status().await?;
        if !sink(now.clone()) {
            return Ok(now);
        }
        let slot = Arc::clone(&self.sync);
        let store = self.store().await;
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    changed = changes.changed() => if changed.is_err() { return },
                }
                match status_dto(&slot, &store).await {
                    Ok(status) => {
                        if !sink(status) {
                            return;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "the sync status could not be read"),
                }
            }
        });
        Ok(now)
    }

    /// Creates an account or signs in with a password, then starts the loop.
    pub async fn sync_sign_in(&self, form: SignInDto) -> Result<SyncStatusDto, DesktopError> {
        let server = server_url(&form.server)?;
        let email = required(&form.email, "an email")?;
        if form.password.is_empty() {
            return Err(DesktopError::InvalidInput("a password is needed".into()));
        }
        let name = device_name_or_host(&form.device_name);
        let how = match form.mode {
            SignInModeDto::CreateAccount => SignIn::Create,
            SignInModeDto::Login => SignIn::Login,
        };
        self.sign_in_with(&server, (email, &form.password, &name), how)
            .await?;
        self.sync_status().await
    }

    /// Starts "add this device with a code": show the returned code on a signed-in device's Sync pane.
    pub async fn sync_device_code_start(
        &self,
        server: String,
        device_name: String,
    ) -> Result<DeviceCodeDto, DesktopError> {
        let server = server_url(&server)?;
        let device_name = device_name_or_host(&device_name);
        let code = SyncClient::start_device_code(&server, &device_name)
            .await
            .map_err(DesktopError::Sync)?;
        let shown = DeviceCodeDto {
            user_code: code.user_code.clone(),
            expires: when(code.expires_at_ms),
            poll_every_ms: code.interval_ms.max(500),
        };
        *self.sync.code.lock().await = Some(PendingCode {
            server,
            device_name,
            code,
        });
        Ok(shown)
    }

    /// Asks once whether the code was approved; signs in and starts the loop when it was.
    pub async fn sync_device_code_poll(&self) -> Result<DeviceCodeStateDto, DesktopError> {
        use auren_protocol::auth::DeviceCodeStatus as S;
        let mut slot = self.sync.code.lock().await;
        let pending = slot
            .as_ref()
            .ok_or_else(|| DesktopError::InvalidInput("no device code was started on this device".into()))?;
        match SyncClient::poll_device_code(&pending.server, &pending.code)
            .await
            .map_err(DesktopError::Sync)?
        {
            S::Pending => Ok(DeviceCodeStateDto::Waiting),
            S::Expired => {
                *slot = None;
                Ok(DeviceCodeStateDto::Expired)
            }
            S::Approved(signed) => {
                let name = pending.device_name.clone();
                let server = pending.server.clone();
                self.sign_in_with(&server, (&signed.email, "", &name), SignIn::Approved(&signed))
                    .await?;
                *slot = None;
                Ok(DeviceCodeStateDto::SignedIn)
            }
        }
    }

    /// Approves the code a new device shows.
    pub async fn sync_approve_device(&self, user_code: String) -> Result<(), DesktopError> {
        let code = required(&user_code, "the code the new device shows")?;
        let syncer = self.syncer().await?;
        syncer
            .client
            .approve_device_code(code)
            .await
            .map_err(DesktopError::Sync)
    }

    /// One round now (waiting for the loop's round if one is running).
    pub async fn sync_now(&self) -> Result<SyncReportDto, DesktopError> {
        let syncer = self.syncer().await?;
        let (outcome, _) = syncer.round().await;
        let report = outcome.map_err(DesktopError::Sync)?;
        let store = self.store().await;
        Ok(SyncReportDto {
            pushed: report.pushed,
            parked: report.parked,
            pulled: report.pulled,
            summary: summary(&report),
            status: status_dto(&self.sync, &store).await?,
        })
    }

    /// Queues every parked row again (`auren_sync::retry_parked`, as `auren sync --retry-parked`) and, when
    /// signed in, runs a round so they go at once; returns the status after it. A row refused again is parked
    /// again with the new reason, and a failed round shows in the status as any round's does.
    pub async fn sync_retry_parked(&self) -> Result<SyncStatusDto, DesktopError> {
        let store = self.store().await;
        let done = auren_sync::retry_parked(&store)
            .await
            .map_err(DesktopError::Sync)?;
        tracing::info!(
            requeued = done.requeued,
            kept = done.kept,
            "parked rows queued again"
        );
        match self.syncer().await {
            Ok(syncer) => {
                let (outcome, _) = syncer.round().await;
                if let Err(error) = outcome {
                    // The status carries it (offline, error); the rows wait in the outbox for the next round.
                    tracing::warn!(%error, "the round after the retry failed");
                }
            }
            // Not signed in: the rows wait in the outbox and go with the first round after signing in.
            Err(DesktopError::Sync(SyncError::SignedOut)) => {}
            Err(error) => return Err(error),
        }
        status_dto(&self.sync, &self.store().await).await
    }

    /// The account's devices.
    pub async fn sync_devices(&self) -> Result<Vec<DeviceDto>, DesktopError> {
        let syncer = self.syncer().await?;
        let devices = syncer.client.devices().await.map_err(DesktopError::Sync)?;
        Ok(devices.devices.into_iter().map(DeviceDto::from).collect())
    }

    /// Removes another device of the account (its tokens stop working at once, the data it sent stays) and
    /// returns the devices left. This device is refused: Sign out ends its sign-in and forgets its tokens.
    pub async fn sync_remove_device(&self, device_id: String) -> Result<Vec<DeviceDto>, DesktopError> {
        let id = required(&device_id, "the id of the device to remove")?;
        let syncer = self.syncer().await?;
        if id == syncer.client.account().device_id {
            return Err(DesktopError::InvalidInput(
                "that is this device: use Sign out to end its sign-in".to_owned(),
            ));
        }
        syncer
            .client
            .remove_device(id)
            .await
            .map_err(DesktopError::Sync)?;
        let devices = syncer.client.devices().await.map_err(DesktopError::Sync)?;
        Ok(devices.devices.into_iter().map(DeviceDto::from).collect())
    }

    /// Who may read this account's data, and whose data it may read.
    pub async fn sync_coach_access(&self) -> Result<CoachAccessDto, DesktopError> {
        let syncer = self.syncer().await?;
        let grants = syncer.client.coach_grants().await.map_err(DesktopError::Sync)?;
        let athletes = syncer.client.athletes().await.map_err(DesktopError::Sync)?;
        Ok(CoachAccessDto {
            coaches: grants
                .grants
                .into_iter()
                .map(|g| CoachDto {
                    email: g.coach_email,
                    granted: when(g.granted_at_ms),
                })
                .collect(),
            athletes: athletes
                .athletes
                .into_iter()
                .map(|a| AthleteDto {
                    email: a.email,
                    granted: when(a.granted_at_ms),
                })
                .collect(),
        })
    }

    /// Lets the coach with `email` read this account's data.
    pub async fn sync_grant_coach(&self, email: String) -> Result<CoachAccessDto, DesktopError> {
        self.coach_access(&email, CoachAccess::Grant).await
    }

    /// Takes that access back.
    pub async fn sync_revoke_coach(&self, email: String) -> Result<CoachAccessDto, DesktopError> {
        self.coach_access(&email, CoachAccess::Revoke).await
    }

    /// Stops the loop, tells the server (when it answers) and forgets the tokens; the data stays.
    pub async fn sync_sign_out(&self) -> Result<SyncStatusDto, DesktopError> {
        let mut running = self.sync.running.lock().await;
        if let Some(old) = running.take() {
            stop(old).await;
        }
        let store = self.store().await;
        let vault = self.vault(&store).await?;
        match SyncClient::open(&store, vault.clone(), SyncConfig::default()).await {
            Ok(client) => client.logout().await.map_err(DesktopError::Sync)?,
            // No tokens (the server refused them earlier): forget the account all the same.
            Err(SyncError::SignedOut) => {
                vault.clear().await.map_err(|e| DesktopError::Sync(e.into()))?;
                store.clear_sync_account().await?;
            }
            Err(error) => return Err(DesktopError::Sync(error)),
        }
        drop(running);
        set(&self.sync.place, None);
        self.sync.phase.send_replace(Phase::default());
        status_dto(&self.sync, &store).await
    }

    /// Where newly signed-in databases keep their tokens (the default asks the keychain first).
    pub fn keep_sync_tokens(&self, choice: TokenChoice) {
        set(&self.sync.tokens, choice);
    }

    /// Starts the loop when this database was signed in before (at app start); does nothing otherwise.
    pub(crate) fn resume_sync_in_background(&self, store: Store) {
        let slot = Arc::clone(&self.sync);
        let data_dir = self.data_dir();
        let shutdown = self.shutdown.clone();
        let proactive = self.proactive.sender();
        let coach = self.coach_parts();
        tokio::spawn(async move {
            if let Err(error) = resume(&slot, store, data_dir, &shutdown, (proactive, coach)).await {
                tracing::warn!(%error, "sync not resumed");
            }
        });
    }

    async fn coach_access(&self, email: &str, access: CoachAccess) -> Result<CoachAccessDto, DesktopError> {
        let email = required(email, "the coach's email")?;
        let syncer = self.syncer().await?;
        syncer
            .client
            .coach_access(email, access)
            .await
            .map_err(DesktopError::Sync)?;
        self.sync_coach_access().await
    }

    async fn sign_in_with(
        &self,
        server: &str,
        credentials: (&str, &str, &str),
        how: SignIn<'_>,
    ) -> Result<(), DesktopError> {
        let mut running = self.sync.running.lock().await;
        if let Some(old) = running.take() {
            stop(old).await;
        }
        let store = self.store().await;
        let vault = self.vault(&store).await?;
        let client = SyncClient::sign_in(&store, vault, server, credentials, how, SyncConfig::default())
            .await
            .map_err(DesktopError::Sync)?;
        tracing::info!(server, email = %client.account().email, "signed in to sync");
        *running = Some(start(
            &self.sync,
            client,
            self.data_dir(),
            &self.shutdown,
            (self.proactive.sender(), self.coach_parts()),
        ));
        Ok(())
    }

    /// The running client; a database whose folder moved gets a new one over the moved file.
    async fn syncer(&self) -> Result<Arc<Syncer>, DesktopError> {
        self.reattach_sync().await;
        let running = self.sync.running.lock().await;
        match running.as_ref() {
            Some(r) => Ok(Arc::clone(&r.syncer)),
            None => Err(DesktopError::Sync(SyncError::SignedOut)),
        }
    }

    /// Restarts the loop over the current database when the data folder moved, or starts it when none runs
    /// and the database is signed in.
    async fn reattach_sync(&self) {
        let data_dir = self.data_dir();
        {
            let mut running = self.sync.running.lock().await;
            match running.as_ref() {
                Some(r) if r.data_dir == data_dir => return,
                Some(_) => {
                    if let Some(old) = running.take() {
                        stop(old).await;
                    }
                }
                None => {}
            }
        }
        let store = self.store().await;
        let writes = (self.proactive.sender(), self.coach_parts());
        if let Err(error) = resume(&self.sync, store, data_dir, &self.shutdown, writes).await {
            tracing::warn!(%error, "sync not resumed");
        }
    }

    async fn vault(&self, store: &Store) -> Result<TokenVault, DesktopError> {
        let choice = get(&self.sync.tokens);
        vault_for(store, &self.data_dir(), choice).await
    }
}

/// The loop over a database signed in before, unless one runs already.
async fn resume(
    slot: &Arc<SyncSlot>,
    store: Store,
    data_dir: PathBuf,
    shutdown: &CancellationToken,
    writes: (broadcast::Sender<ProactiveMessageDto>, CoachParts),
) -> Result<(), DesktopError> {
    let mut running = slot.running.lock().await;
    if running.is_some() || store.sync_account().await?.is_none() {
        return Ok(());
    }
    let choice = get(&slot.tokens);
    let vault = vault_for(&store, &data_dir, choice).await?;
    match SyncClient::open(&store, vault, SyncConfig::default()).await {
        Ok(client) => {
            *running = Some(start(slot, client, data_dir, shutdown, writes));
            Ok(())
        }
        Err(SyncError::SignedOut) => Ok(()),
        Err(error) => Err(DesktopError::Sync(error)),
    }
}

fn start(
    slot: &SyncSlot,
    client: SyncClient,
    data_dir: PathBuf,
    shutdown: &CancellationToken,
    (proactive, coach): (broadcast::Sender<ProactiveMessageDto>, CoachParts),
) -> Running {
    set(&slot.place, Some(client.vault().place().clone()));
    // The loop's first round starts at once.
    slot.phase.send_modify(|p| p.status = SyncStatus::Syncing);
    let syncer = Arc::new(Syncer {
        client,
        config: SyncConfig::default(),
        round: Mutex::new(()),
        failures: AtomicU32::new(0),
        phase: Arc::clone(&slot.phase),
        settings: Arc::clone(&slot.settings),
        proactive,
        coach,
    });
    let stop = shutdown.child_token();
    let task = tokio::spawn(run(Arc::clone(&syncer), stop.clone()));
    Running {
        syncer,
        stop,
        task,
        data_dir,
    }
}

async fn stop(running: Running) {
    running.stop.cancel();
    if let Err(error) = running.task.await {
        tracing::warn!(%error, "the sync loop ended abnormally");
    }
}

/// The token vault of the database in `data_dir`: a token file already there is kept using; otherwise the
/// keychain entry named after the replica id, or `auren.db.tokens` — the places the CLI uses.
async fn vault_for(store: &Store, data_dir: &Path, choice: TokenChoice) -> Result<TokenVault, DesktopError> {
    let file = data_dir.join(format!("{DB_FILE}.tokens"));
    if choice == TokenChoice::File || file.exists() {
        return Ok(TokenVault::new(TokenPlace::File(file)));
    }
    let replica = store.replica_id().await?;
    Ok(TokenVault::choose(&replica, &file).await)
}

async fn status_dto(slot: &SyncSlot, store: &Store) -> Result<SyncStatusDto, DesktopError> {
    let phase = slot.phase.borrow().clone();
    let account = store.sync_account().await?;
    let pending_rows = store.outbox_len().await?;
    let parked = parked_rows(store).await?;
    let place = get(&slot.place);
    let last_synced = phase.last_synced_ms.map(when);
    let signed_in = account.is_some() && phase.status != SyncStatus::SignedOut;
    let shown = Shown::of(&phase.status, signed_in, pending_rows);
    let mut detail = detail(&shown, last_synced.as_deref(), parked.len());
    // Read from the table rather than kept from the last round: they show after a restart too, and go
    // as soon as an edit here replaces them.
    let refused = slot.settings.refusals(store).await?;
    for r in &refused {
        detail.push_str(&format!(" Not used from another device: {}.", r.reason));
    }
    Ok(SyncStatusDto {
        state: shown.state,
        label: shown.label,
        detail,
        reason: shown.reason,
        retry_in_s: shown.retry_in_s,
        last_synced,
        pending_rows,
        held_rows: match phase.status {
            SyncStatus::Pending { held, .. } if pending_rows > 0 => u32::try_from(held).unwrap_or(u32::MAX),
            _ => 0,
        },
        parked,
        account: account.map(|a| SyncAccountDto {
            server: a.server_url,
            email: a.email,
            device_id: a.device_id,
            signed_in: when(a.signed_in_at),
            tokens_in: place.filter(|_| signed_in).map(|p| match p {
                TokenPlace::Keychain { .. } => "the system keychain".to_owned(),
                TokenPlace::File(path) => {
                    format!("{} (a file readable only by you)", path.display())
                }
            }),
        }),
        suggested_device_name: device_name_or_host(""),
        settings_revision: phase.settings_revision,
        refused_settings: refused.iter().map(RefusedSettingDto::from).collect(),
    })
}

/// The parked rows, oldest first, each with what it points at and when its session started.
/// A refused session parks every chunk of its beats, so each session is looked up once, not once per row
/// (the status is read on every chip refresh).
async fn parked_rows(store: &Store) -> Result<Vec<ParkedRowDto>, DesktopError> {
    let mut starts = SessionStarts::new();
    let mut shown = Vec::new();
    for mut row in store.parked_rows().await? {
        let pointer = match row.points_at.take() {
            Some(kept) => {
                let started_at = match kept.session_id {
                    Some(id) => session_started_at(store, &mut starts, id).await?,
                    None => None,
                };
                Some(pointer_of(kept, started_at))
            }
            None => None,
        };
        shown.push(ParkedRowDto::of(row, pointer.as_ref()));
    }
    Ok(shown)
}

/// The sessions already looked up by one status read: when each started (`None`: not on this device).
type SessionStarts = std::collections::HashMap<auren_store::SessionId, Option<i64>>;

/// When session `id` started, from `seen` or else from the store (once per status read).
async fn session_started_at(
    store: &Store,
    seen: &mut SessionStarts,
    id: auren_store::SessionId,
) -> Result<Option<i64>, DesktopError> {
    if let Some(known) = seen.get(&id) {
        return Ok(*known);
    }
    let started = store.session(id).await?.map(|s| s.started_at);
    seen.insert(id, started);
    Ok(started)
}

/// The store's pointer with the start of the session it names (`started_at`, while that session is here).
fn pointer_of(kept: auren_store::ParkedPointer, started_at: Option<i64>) -> ParkedPointer {
    ParkedPointer {
        session_id: started_at.and(kept.session_id.map(|id| id.0)),
        session_started_at: started_at,
        entity_id: kept.entity_id,
        from_ms: kept.from_ms,
        to_ms: kept.to_ms,
        entity_key: kept.entity_key,
        collection: kept.collection,
        name: None,
    }
}

/// The chip's state and words.
struct Shown {
    state: SyncStateDto,
    label: String,
    reason: Option<String>,
    retry_in_s: Option<u32>,
}

impl Shown {
    fn of(status: &SyncStatus, signed_in: bool, pending_rows: i64) -> Self {
        let plain = |state, label: String| Self {
            state,
            label,
            reason: None,
            retry_in_s: None,
        };
        let retry = |reason: &str, retry_in: &std::time::Duration| {
            (
                Some(reason.to_owned()),
                Some(u32::try_from(retry_in.as_secs().max(1)).unwrap_or(u32::MAX)),
            )
        };
        match status {
            _ if !signed_in => plain(SyncStateDto::SignedOut, "Not syncing".into()),
            SyncStatus::SignedOut => plain(SyncStateDto::SignedOut, "Not syncing".into()),
            SyncStatus::Syncing => plain(SyncStateDto::Syncing, "Syncing…".into()),
            // Rows written since the last round are pending whatever that round said.
            SyncStatus::Synced { .. } | SyncStatus::Pending { .. } if pending_rows > 0 => {
                plain(SyncStateDto::Pending, format!("Pending {pending_rows}"))
            }
            SyncStatus::Synced { .. } | SyncStatus::Pending { .. } => {
                plain(SyncStateDto::Synced, "Synced".into())
            }
            SyncStatus::Offline { reason, retry_in } => {
                let (reason, retry_in_s) = retry(reason, retry_in);
                Self {
                    state: SyncStateDto::Offline,
                    label: "Offline".into(),
                    reason,
                    retry_in_s,
                }
            }
            SyncStatus::Error { reason, retry_in } => {
                let (reason, retry_in_s) = retry(reason, retry_in);
                Self {
                    state: SyncStateDto::Error,
                    label: "Sync error".into(),
                    reason,
                    retry_in_s,
                }
            }
        }
    }
}

/// The chip's hover text.
fn detail(shown: &Shown, last_synced: Option<&str>, parked: usize) -> String {
    let mut parts = Vec::new();
    match shown.state {
        SyncStateDto::SignedOut => parts.push("Not signed in to a sync server (Settings → Sync).".to_owned()),
        SyncStateDto::Syncing => parts.push("Sending and fetching changes.".to_owned()),
        SyncStateDto::Synced => parts.push("Everything is sent and fetched.".to_owned()),
        SyncStateDto::Pending => parts.push(format!("{} waiting to be sent.", shown.label)),
        SyncStateDto::Offline | SyncStateDto::Error => {
            if let Some(reason) = &shown.reason {
                parts.push(format!("{}.", reason.trim_end_matches('.')));
            }
            if let Some(s) = shown.retry_in_s {
                parts.push(format!("Trying again in {s} s."));
            }
        }
    }
    if let Some(at) = last_synced {
        parts.push(format!("Last synced {at}."));
    }
    if parked > 0 {
        parts.push(format!(
            "{parked} row(s) refused by the server (see Settings → Sync)."
        ));
    }
    parts.join(" ")
}

fn summary(report: &SyncReport) -> String {
    let parked = if report.parked > 0 {
        format!(", {} refused", report.parked)
    } else {
        String::new()
    };
    let state = if report.pending == 0 {
        "synced".to_owned()
    } else {
        format!("pending {}", report.pending)
    };
    format!(
        "Sent {} rows, fetched {} changes{parked}; {state}.",
        report.pushed, report.pulled
    )
}

/// A server URL as typed: trimmed, `http://` or `https://`, no trailing slash.
fn server_url(text: &str) -> Result<String, DesktopError> {
    let url = text.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            DesktopError::InvalidInput(format!(
                "the server address {url:?} must start with http:// or https://"
            ))
        })?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(DesktopError::InvalidInput(format!(
            "{url:?} is not a server address"
        )));
    }
    Ok(url.to_owned())
}

fn required<'a>(text: &'a str, what: &str) -> Result<&'a str, DesktopError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DesktopError::InvalidInput(format!("{what} is needed")));
    }
    Ok(text)
}

/// The name typed, or the host name, or "this computer".
fn device_name_or_host(given: &str) -> String {
    let given = given.trim();
    if !given.is_empty() {
        return given.to_owned();
    }
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}

fn get<T: Clone>(cell: &StdMutex<T>) -> T {
    // A poisoned lock only means a panic elsewhere mid-assignment of a plain value.
    match cell.lock() {
        Ok(v) => v.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn set<T>(cell: &StdMutex<T>, value: T) {
    match cell.lock() {
        Ok(mut v) => *v = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

/// The sentence a sync failure shows: the server's own words for a refusal, and what to do about it.
pub(crate) fn describe(error: &SyncError) -> String {
    use auren_protocol::error::codes;
    match error {
        SyncError::Api(ApiError::Refused { body, .. }) => match body.code.as_str() {
            codes::BAD_CREDENTIALS => "the email or password is wrong".to_owned(),
            codes::EMAIL_TAKEN => {
                "an account with this email already exists on that server: sign in instead".to_owned()
            }
            codes::RATE_LIMITED => "the sync server asks to slow down: try again in a minute".to_owned(),
            _ => format!("the sync server refused: {}", body.message),
        },
        SyncError::Api(ApiError::Unreachable { url, source }) => {
            let why = auren_sync::causes(source);
            format!("cannot reach the sync server ({url}): {why}; check the address and the network")
        }
        SyncError::SignedOut => "this app is not signed in to a sync server (Settings → Sync)".to_owned(),
        other => other.to_string(),
    }
}

/// The code a sync failure gives the window.
pub(crate) fn error_code(error: &SyncError) -> ErrorCode {
    use auren_protocol::error::codes;
    match error {
        SyncError::Api(ApiError::Refused { body, .. }) if body.code == codes::BAD_CREDENTIALS => {
            ErrorCode::SyncBadCredentials
        }
        SyncError::Api(ApiError::Refused { body, .. }) if body.code == codes::EMAIL_TAKEN => {
            ErrorCode::SyncEmailTaken
        }
        SyncError::Api(ApiError::Unreachable { .. }) => ErrorCode::SyncUnreachable,
        SyncError::Api(_) | SyncError::Inconsistent(_) => ErrorCode::SyncRefused,
        SyncError::SignedOut => ErrorCode::SyncSignedOut,
        SyncError::Store(_) | SyncError::Tokens(_) => ErrorCode::Storage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked() {
        let cases = [
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("  https://sync.example.org/ ", Some("https://sync.example.org")),
            ("sync.example.org", None),
            ("http://", None),
            ("http://a b", None),
            ("", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(server_url(typed).ok().as_deref(), expected, "{typed:?}");
        }
    }

    #[test]
    fn the_chip_says_what_the_loop_said() {
        let offline = SyncStatus::Offline {
            reason: "cannot reach".into(),
            retry_in: std::time::Duration::from_millis(1500),
        };
        let cases = [
            (
                SyncStatus::SignedOut,
                true,
                0,
                SyncStateDto::SignedOut,
                "Not syncing",
            ),
            (
                SyncStatus::Synced { at_ms: 1 },
                false,
                0,
                SyncStateDto::SignedOut,
                "Not syncing",
            ),
            (SyncStatus::Syncing, true, 4, SyncStateDto::Syncing, "Syncing…"),
            (
                SyncStatus::Synced { at_ms: 1 },
                true,
                0,
                SyncStateDto::Synced,
                "Synced",
            ),
            (
                SyncStatus::Synced { at_ms: 1 },
                true,
                3,
                SyncStateDto::Pending,
                "Pending 3",
            ),
            (
                SyncStatus::Pending { rows: 9, held: 0 },
                true,
                0,
                SyncStateDto::Synced,
                "Synced",
            ),
            (offline, true, 2, SyncStateDto::Offline, "Offline"),
        ];
        for (status, signed_in, pending, state, label) in cases {
            let shown = Shown::of(&status, signed_in, pending);
            assert_eq!((shown.state, shown.label.as_str()), (state, label), "{status:?}");
        }
    }

    #[test]
    fn offline_shows_the_reason_and_the_next_try() {
        let status = SyncStatus::Offline {
            reason: "cannot reach the sync server".into(),
            retry_in: std::time::Duration::from_millis(200),
        };
        let shown = Shown::of(&status, true, 0);
        assert_eq!(
            shown.retry_in_s,
            Some(1),
            "rounded up to a second a person can read"
        );
        assert_eq!(
            detail(&shown, Some("2026-12-04 03:00 UTC"), 1),
            "cannot reach the sync server. Trying again in 1 s. Last synced 2026-12-04 03:00 UTC. \
             1 row(s) refused by the server (see Settings → Sync)."
        );
    }
}
