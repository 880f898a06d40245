//! A Bluetooth LE heart-rate strap through btleplug: list adapters, scan for straps (service 0x180D),
//! connect to one by address, subscribe to Heart Rate Measurement (0x2A37), read battery and device
//! information, and after a link loss reconnect with backoff — recording the gap, never inventing beats.
//!
//! The link is one loop: a closed `LinkInput` enum through one `select!` (notification, adapter event,
//! battery refresh, shutdown). Timing uses tokio's clock; every wait on the strap is bounded by a timeout that names it.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::Duration;

use auren_hrm::gatt;
use btleplug::api::{
    BDAddr, Central, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter,
    ValueNotification,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::emitter::{Emitter, ReceiverGone};
use crate::error::SourceError;
use crate::source::{EndReason, HeartSource, SourceEvent, SourceRun};

const HEART_RATE_SERVICE: Uuid = Uuid::from_u128(gatt::HEART_RATE_SERVICE_UUID128);
const HEART_RATE_MEASUREMENT: Uuid = Uuid::from_u128(gatt::HEART_RATE_MEASUREMENT_UUID128);
const BATTERY_LEVEL: Uuid = Uuid::from_u128(gatt::BATTERY_LEVEL_UUID128);
const MANUFACTURER_NAME: Uuid = Uuid::from_u128(gatt::MANUFACTURER_NAME_STRING_UUID128);
const MODEL_NUMBER: Uuid = Uuid::from_u128(gatt::MODEL_NUMBER_STRING_UUID128);

/// Why talking to a strap failed.
#[derive(Debug, thiserror::Error)]
pub enum BleError {
    #[error("no Bluetooth adapter found (is the adapter plugged in and BlueZ running?)")]
    NoAdapter,

    #[error("Bluetooth adapter {index} does not exist ({count} found)")]
    NoSuchAdapter { index: usize, count: usize },

    #[error("{address:?} is not a Bluetooth address (expected six hex pairs like A0:9E:1A:12:34:56)")]
    BadAddress { address: String },

    #[error("strap {address} not found within {} s of scanning (is it worn and awake?)", waited.as_secs_f64())]
    NotFound { address: String, waited: Duration },

    #[error(
        "strap {address} did not answer within {} s while {step} (is it worn, charged, and not held by another app?)",
        waited.as_secs_f64()
    )]
    Timeout {
        address: String,
        step: &'static str,
        waited: Duration,
    },

    #[error("strap {address} has no Heart Rate Measurement characteristic (0x2A37): not a heart-rate strap")]
    NotAHeartRateStrap { address: String },

    #[error("strap {address} did not come back after {attempts} reconnection attempts")]
    GaveUp { address: String, attempts: u32 },

    #[error("BLE setting {setting}: {problem}")]
    BadConfig { setting: &'static str, problem: String },

    #[error("Bluetooth permission was refused while {step} (allow this app to use Bluetooth): {source}")]
    PermissionDenied {
        step: &'static str,
        source: btleplug::Error,
    },

    #[error("Bluetooth stack error while {step}: {source}")]
    Stack {
        step: &'static str,
        source: btleplug::Error,
    },
}

impl BleError {
    /// The error of a btleplug call made while `step`: [`BleError::PermissionDenied`] when the stack
    /// says permission was refused, else [`BleError::Stack`].
    pub fn from_stack(step: &'static str, source: btleplug::Error) -> Self {
        if is_permission_refusal(&source) {
            BleError::PermissionDenied { step, source }
        } else {
            BleError::Stack { step, source }
        }
    }

    /// Whether the system refused this app the use of Bluetooth (a policy, not a strap or adapter fault).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, BleError::PermissionDenied { .. })
    }
}

/// D-Bus error names that mean the caller may not use Bluetooth: BlueZ's own refusal and the bus
/// policy's (the user is not in the group the BlueZ policy admits).
pub const PERMISSION_DENIED_DBUS_NAMES: [&str; 2] = [
    "org.bluez.Error.NotPermitted",
    "org.freedesktop.DBus.Error.AccessDenied",
];

fn stack(step: &'static str) -> impl FnOnce(btleplug::Error) -> BleError {
    move |source| BleError::from_stack(step, source)
}

/// Recognised by kind, never by the text of a message (which is localised and changes between
/// versions): btleplug's own variant, an I/O error of kind `PermissionDenied` anywhere in the chain, or
/// on Linux the D-Bus error name BlueZ or the bus answered with.
fn is_permission_refusal(error: &btleplug::Error) -> bool {
    let inner = match error {
        btleplug::Error::PermissionDenied => return true,
        btleplug::Error::Other(inner) => inner,
        _ => return false,
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(e) = cause {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
            || dbus_error_name(e).is_some_and(|name| PERMISSION_DENIED_DBUS_NAMES.contains(&name))
        {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(target_os = "linux")]
fn dbus_error_name<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e str> {
    match error.downcast_ref::<bluez_async::BluetoothError>()? {
        bluez_async::BluetoothError::DbusError(dbus) => dbus.name(),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn dbus_error_name(_: &(dyn std::error::Error + 'static)) -> Option<&str> {
    None
}

/// Listens to `adapter`, then starts a scan for heart-rate straps: listening first, so that no
/// discovery made as the scan starts is missed.
async fn scan_for_straps(
    adapter: &Adapter,
) -> Result<Pin<Box<dyn Stream<Item = CentralEvent> + Send>>, BleError> {
    let events = adapter
        .events()
        .await
        .map_err(stack("listening to the adapter"))?;
    adapter
        .start_scan(ScanFilter {
            services: vec![HEART_RATE_SERVICE],
        })
        .await
        .map_err(stack("starting the scan"))?;
    Ok(events)
}

/// A Bluetooth adapter of this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    pub index: usize,
    /// The platform's description (on Linux: `hci0 (usb:v1D6Bp0246d0540)`).
    pub info: String,
}

/// A strap seen while scanning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundStrap {
    pub name: Option<String>,
    pub address: String,
    /// Signal strength in dBm, when the adapter reported one.
    pub rssi: Option<i16>,
}

async fn manager_adapters() -> Result<Vec<Adapter>, BleError> {
    let manager = Manager::new()
        .await
        .map_err(stack("opening the Bluetooth stack"))?;
    manager.adapters().await.map_err(stack("listing adapters"))
}

/// The Bluetooth adapters of this machine.
pub async fn adapters() -> Result<Vec<AdapterSummary>, BleError> {
    let mut out = Vec::new();
    for (index, adapter) in manager_adapters().await?.into_iter().enumerate() {
        let info = adapter
            .adapter_info()
            .await
            .map_err(stack("reading adapter information"))?;
        out.push(AdapterSummary { index, info });
    }
    Ok(out)
}

async fn adapter(index: usize) -> Result<Adapter, BleError> {
    let mut adapters = manager_adapters().await?;
    let count = adapters.len();
    if count == 0 {
        return Err(BleError::NoAdapter);
    }
    if index >= count {
        return Err(BleError::NoSuchAdapter { index, count });
    }
    Ok(adapters.swap_remove(index))
}

/// Whether adapter `adapter_index` is switched on (`Ok(false)`: present but powered off).
pub async fn adapter_powered(adapter_index: usize) -> Result<bool, BleError> {
    let adapter = adapter(adapter_index).await?;
    let state = adapter
        .adapter_state()
        .await
        .map_err(stack("reading the adapter state"))?;
    Ok(matches!(state, btleplug::api::CentralState::PoweredOn))
}

/// Scans for `duration` on adapter `adapter_index` and returns the heart-rate straps seen (service 0x180D),
/// sorted by address.
pub async fn scan(adapter_index: usize, duration: Duration) -> Result<Vec<FoundStrap>, BleError> {
    let adapter = adapter(adapter_index).await?;
    let mut events = scan_for_straps(&adapter).await?;
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + duration;
    loop {
        let event = tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            event = events.next() => event,
        };
        let Some(event) = event else { break };
        let id = match event {
            CentralEvent::DeviceDiscovered(id)
            | CentralEvent::DeviceUpdated(id)
            | CentralEvent::RssiUpdate { id, .. }
            | CentralEvent::ServicesAdvertisement { id, .. } => id,
            _ => continue,
        };
        let Ok(peripheral) = adapter.peripheral(&id).await else {
            continue;
        };
        if let Some(found) = describe_if_strap(&peripheral).await {
            seen.insert(found.address.clone(), found);
        }
    }
    // A scan that cannot be stopped has still produced its results; the next scan restarts discovery.
    if let Err(error) = adapter.stop_scan().await {
        tracing::warn!(%error, "stopping the scan failed");
    }
    Ok(seen.into_values().collect())
}

async fn describe_if_strap(peripheral: &Peripheral) -> Option<FoundStrap> {
    let props = peripheral.properties().await.ok()??;
    if !props.services.contains(&HEART_RATE_SERVICE) {
        return None;
    }
    Some(FoundStrap {
        name: props.local_name,
        address: props.address.to_string(),
        rssi: props.rssi,
    })
}

/// How to reach one strap and how patient to be with it; validated by [`BleStrap::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BleConfig {
    /// The strap's address, e.g. `A0:9E:1A:12:34:56` (the remembered, paired strap).
    pub address: String,
    pub adapter_index: usize,
    /// How long to scan for the strap when the adapter does not know it yet.
    pub scan_timeout: Duration,
    /// How long one connection attempt (connect, service discovery, subscription) may take.
    pub connect_timeout: Duration,
    /// First wait before reconnecting after a link loss; doubled per failed attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// `None`: keep trying until shutdown.
    pub max_reconnect_attempts: Option<u32>,
    /// How often the battery level is read again while connected.
    pub battery_refresh: Duration,
}

impl BleConfig {
    /// Defaults that reconnect well within 5 s of the strap coming back: 0.25 s backoff doubling to 2 s,
    /// 10 s per connection attempt, 15 s of scanning.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            adapter_index: 0,
            scan_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(2),
            max_reconnect_attempts: None,
            battery_refresh: Duration::from_secs(300),
        }
    }

    /// The wait before reconnection attempt `attempt` (1-based): `initial_backoff · 2^(attempt−1)`, capped
    /// at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    fn validate(&self) -> Result<(), BleError> {
        let bad = |setting, problem: &str| {
            Err(BleError::BadConfig {
                setting,
                problem: problem.to_owned(),
            })
        };
        if self.scan_timeout.is_zero() {
            return bad("scan_timeout", "must be above 0");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout", "must be above 0");
        }
        if self.battery_refresh.is_zero() {
            return bad("battery_refresh", "must be above 0");
        }
        if self.initial_backoff.is_zero() || self.initial_backoff > self.max_backoff {
            return bad("initial_backoff", "must be above 0 and at most max_backoff");
        }
        if self.max_backoff > MAX_BACKOFF_LIMIT {
            return bad(
                "max_backoff",
                "must be at most 4 s, so that a strap that comes back is reconnected within 5 s",
            );
        }
        Ok(())
    }
}

/// The longest allowed wait between reconnection attempts.
pub const MAX_BACKOFF_LIMIT: Duration = Duration::from_secs(4);

/// A BLE strap as a [`HeartSource`].
#[derive(Clone, Debug)]
pub struct BleStrap {
    config: BleConfig,
    address: BDAddr,
}

impl BleStrap {
    pub fn new(config: BleConfig) -> Result<Self, BleError> {
        config.validate()?;
        // Some tools print addresses with dashes; BlueZ and btleplug use colons.
        let address = BDAddr::from_str_delim(&config.address.trim().replace('-', ":")).map_err(|_| {
            BleError::BadAddress {
                address: config.address.clone(),
            }
        })?;
        Ok(Self { config, address })
    }
}

impl HeartSource for BleStrap {
    fn describe(&self) -> String {
        format!("strap {}", self.address)
    }

    fn run(self: Box<Self>, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) -> SourceRun {
        Box::pin(async move {
            let mut emitter = Emitter::new(events);
            let ended = match run_link(&self, &mut emitter, &shutdown).await {
                Ok(ended) => ended,
                Err(LinkEnd::ReceiverGone) => EndReason::ReceiverDropped,
                Err(LinkEnd::Failed(error)) => return Err(SourceError::Ble(error)),
            };
            Ok(emitter.summary(ended))
        })
    }
}

enum LinkEnd {
    ReceiverGone,
    Failed(BleError),
}

impl From<ReceiverGone> for LinkEnd {
    fn from(_: ReceiverGone) -> Self {
        LinkEnd::ReceiverGone
    }
}

impl From<BleError> for LinkEnd {
    fn from(error: BleError) -> Self {
        LinkEnd::Failed(error)
    }
}

/// What the link loop waits for.
enum LinkInput {
    Notification(Option<ValueNotification>),
    Adapter(Option<CentralEvent>),
    BatteryDue,
    Shutdown,
}

type Notifications = Pin<Box<dyn Stream<Item = ValueNotification> + Send>>;

/// A connected, subscribed strap.
struct Link {
    peripheral: Peripheral,
    notifications: Notifications,
}

struct Clock(Instant);

impl Clock {
    fn ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

async fn run_link(
    strap: &BleStrap,
    emitter: &mut Emitter,
    shutdown: &CancellationToken,
) -> Result<EndReason, LinkEnd> {
    let clock = Clock(Instant::now());
    let config = &strap.config;
    let address = strap.address.to_string();
    let adapter = adapter(config.adapter_index).await?;
    let mut adapter_events = adapter
        .events()
        .await
        .map_err(stack("listening to the adapter"))
        .map_err(LinkEnd::Failed)?;

    let peripheral = tokio::select! {
        () = shutdown.cancelled() => return Ok(EndReason::Shutdown),
        found = find(&adapter, strap.address, config.scan_timeout) => found?,
    };
    let mut link = tokio::select! {
        () = shutdown.cancelled() => return Ok(EndReason::Shutdown),
        link = connect(&peripheral, &address, config.connect_timeout) => link?,
    };
    let mut battery = announce(&link.peripheral, &address, emitter, &clock).await?;
    let mut battery_due =
        tokio::time::interval_at(Instant::now() + config.battery_refresh, config.battery_refresh);
    battery_due.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        let input = tokio::select! {
            biased;
            () = shutdown.cancelled() => LinkInput::Shutdown,
            n = link.notifications.next() => LinkInput::Notification(n),
            e = adapter_events.next() => LinkInput::Adapter(e),
            _ = battery_due.tick() => LinkInput::BatteryDue,
        };
        let lost = match input {
            LinkInput::Shutdown => {
                // Best effort: the strap frees its link for other apps; failing here loses nothing.
                if let Err(error) = link.peripheral.disconnect().await {
                    tracing::debug!(%error, "disconnecting on shutdown failed");
                }
                emitter
                    .send(SourceEvent::Disconnected {
                        at_ms: clock.ms(),
                        reason: "shutdown".into(),
                    })
                    .await?;
                return Ok(EndReason::Shutdown);
            }
            LinkInput::Notification(Some(n)) if n.uuid == HEART_RATE_MEASUREMENT => {
                emitter.notification(clock.ms(), n.value).await?;
                None
            }
            LinkInput::BatteryDue => {
                let percent = read_battery(&link.peripheral).await;
                if let Some(now) = percent
                    && percent != battery
                {
                    battery = percent;
                    emitter
                        .send(SourceEvent::Battery {
                            at_ms: clock.ms(),
                            percent: now,
                        })
                        .await?;
                }
                None
            }
            LinkInput::Notification(Some(_)) => None,
            LinkInput::Notification(None) => Some("the notification stream ended".to_owned()),
            LinkInput::Adapter(Some(CentralEvent::DeviceDisconnected(id))) if id == link.peripheral.id() => {
                Some("the strap dropped the link".to_owned())
            }
            LinkInput::Adapter(Some(_)) => None,
            LinkInput::Adapter(None) => Some("the adapter stopped reporting events".to_owned()),
        };
        if let Some(reason) = lost {
            tracing::info!(%address, %reason, "link lost");
            emitter.link_lost();
            emitter
                .send(SourceEvent::Disconnected {
                    at_ms: clock.ms(),
                    reason,
                })
                .await?;
            match reconnect(&peripheral, &address, config, emitter, &clock, shutdown).await? {
                Some(new_link) => link = new_link,
                None => return Ok(EndReason::Shutdown),
            }
            battery = announce(&link.peripheral, &address, emitter, &clock).await?;
        }
    }
}

/// The peripheral with `address`: known to the adapter already (paired, cached) or found by scanning.
async fn find(adapter: &Adapter, address: BDAddr, scan_timeout: Duration) -> Result<Peripheral, BleError> {
    let known = adapter
        .peripherals()
        .await
        .map_err(stack("listing known devices"))?;
    if let Some(p) = known.into_iter().find(|p| p.address() == address) {
        return Ok(p);
    }
    let mut events = scan_for_straps(adapter).await?;
    let search = async {
        while let Some(event) = events.next().await {
            if let CentralEvent::DeviceDiscovered(id) | CentralEvent::DeviceUpdated(id) = event
                && let Ok(p) = adapter.peripheral(&id).await
                && p.address() == address
            {
                return Some(p);
            }
        }
        None
    };
    let found = tokio::time::timeout(scan_timeout, search).await.ok().flatten();
    if let Err(error) = adapter.stop_scan().await {
        tracing::debug!(%error, "stopping the scan failed");
    }
    found.ok_or(BleError::NotFound {
        address: address.to_string(),
        waited: scan_timeout,
    })
}

/// Connects, discovers services and subscribes to 0x2A37, all within `timeout`.
async fn connect(peripheral: &Peripheral, address: &str, timeout: Duration) -> Result<Link, BleError> {
    let attempt = async {
        peripheral.connect().await.map_err(stack("connecting"))?;
        peripheral
            .discover_services()
            .await
            .map_err(stack("discovering services"))?;
        let measurement = characteristic(peripheral, HEART_RATE_MEASUREMENT).ok_or_else(|| {
            BleError::NotAHeartRateStrap {
                address: address.to_owned(),
            }
        })?;
        // Take the stream before subscribing so that the first notification cannot slip past.
        let notifications = peripheral
            .notifications()
            .await
            .map_err(stack("listening for notifications"))?;
        peripheral
            .subscribe(&measurement)
            .await
            .map_err(stack("subscribing to heart rate"))?;
        Ok(Link {
            peripheral: peripheral.clone(),
            notifications,
        })
    };
    tokio::time::timeout(timeout, attempt).await.unwrap_or_else(|_| {
        Err(BleError::Timeout {
            address: address.to_owned(),
            step: "connecting",
            waited: timeout,
        })
    })
}

fn characteristic(peripheral: &Peripheral, uuid: Uuid) -> Option<Characteristic> {
    peripheral.characteristics().into_iter().find(|c| c.uuid == uuid)
}

/// Reports the link as up, with what the strap says about itself; returns the battery level read.
/// Optional characteristics that are missing or unreadable are left out rather than failing the link.
async fn announce(
    peripheral: &Peripheral,
    address: &str,
    emitter: &mut Emitter,
    clock: &Clock,
) -> Result<Option<u8>, ReceiverGone> {
    let name = match peripheral.properties().await {
        Ok(Some(props)) => props.local_name.unwrap_or_else(|| address.to_owned()),
        _ => address.to_owned(),
    };
    emitter
        .send(SourceEvent::Connected {
            at_ms: clock.ms(),
            name,
            address: address.to_owned(),
        })
        .await?;
    let manufacturer = read_string(peripheral, MANUFACTURER_NAME).await;
    let model = read_string(peripheral, MODEL_NUMBER).await;
    if manufacturer.is_some() || model.is_some() {
        emitter
            .send(SourceEvent::DeviceInfo {
                at_ms: clock.ms(),
                manufacturer,
                model,
            })
            .await?;
    }
    let battery = read_battery(peripheral).await;
    if let Some(percent) = battery {
        emitter
            .send(SourceEvent::Battery {
                at_ms: clock.ms(),
                percent,
            })
            .await?;
    }
    Ok(battery)
}

async fn read_battery(peripheral: &Peripheral) -> Option<u8> {
    let c = characteristic(peripheral, BATTERY_LEVEL)?;
    let bytes = peripheral.read(&c).await.ok()?;
    match auren_hrm::decode_battery_level(&bytes) {
        Ok(percent) => Some(percent),
        Err(error) => {
            tracing::debug!(%error, "unreadable battery level");
            None
        }
    }
}

async fn read_string(peripheral: &Peripheral, uuid: Uuid) -> Option<String> {
    let c = characteristic(peripheral, uuid)?;
    let bytes = peripheral.read(&c).await.ok()?;
    let text = String::from_utf8_lossy(&bytes)
        .trim_end_matches('\0')
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

/// Tries to get the link back with exponential backoff; `None` when shutdown came first.
async fn reconnect(
    peripheral: &Peripheral,
    address: &str,
    config: &BleConfig,
    emitter: &mut Emitter,
    clock: &Clock,
    shutdown: &CancellationToken,
) -> Result<Option<Link>, LinkEnd> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        if config.max_reconnect_attempts.is_some_and(|max| attempt > max) {
            return Err(BleError::GaveUp {
                address: address.to_owned(),
                attempts: attempt - 1,
            }
            .into());
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            () = tokio::time::sleep(config.backoff(attempt)) => {}
        }
        emitter
            .send(SourceEvent::Reconnecting {
                at_ms: clock.ms(),
                attempt,
            })
            .await?;
        let result = tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            result = connect(peripheral, address, config.connect_timeout) => result,
        };
        match result {
            Ok(link) => return Ok(Some(link)),
            // Trying again cannot help until the person grants the permission.
            Err(error) if error.is_permission_denied() => return Err(error.into()),
            Err(error) => tracing::info!(%address, attempt, %error, "reconnection attempt failed"),
        }
    }
}
