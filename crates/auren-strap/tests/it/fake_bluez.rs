//! A fake BlueZ for the BLE tests: a private `dbus-daemon` and, on it, the `org.bluez` objects the real
//! btleplug code talks to (adapter, devices, GATT services and characteristics), written with zbus.
//!
//! The btleplug side must run in a process whose `DBUS_SYSTEM_BUS_ADDRESS` points at the private bus
//! before its first D-Bus call, and setting an environment variable in-process is `unsafe` (forbidden
//! here): so each BLE test re-runs itself as a child process with the variable set ([`run_as_child`]),
//! while the parent serves the fake and scripts the strap's behaviour from the calls it sees.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use zbus::object_server::{InterfaceRef, SignalEmitter};
use zbus::zvariant::{OwnedObjectPath, OwnedValue};
use zbus::{Connection, fdo, interface};

/// Set in the child process: it plays the btleplug client.
pub const ROLE_VAR: &str = "AUREN_STRAP_TEST_ROLE";
const ADAPTER_PATH: &str = "/org/bluez/hci0";
pub const HEART_RATE_SERVICE: &str = "0000180d-0000-1000-8000-00805f9b34fb";
const BATTERY_SERVICE: &str = "0000180f-0000-1000-8000-00805f9b34fb";
const DEVICE_INFO_SERVICE: &str = "0000180a-0000-1000-8000-00805f9b34fb";

pub fn is_client() -> bool {
    std::env::var(ROLE_VAR).is_ok_and(|v| v == "client")
}

/// How a fake device answers `Connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Connects at once (services resolved).
    Always,
    /// Refuses the given connection attempts (1-based) with `org.bluez.Error.Failed`, accepts the others.
    RefuseAttempts(&'static [u32]),
    /// Never replies: a strap out of range or asleep.
    Never,
    /// Refuses with `org.freedesktop.DBus.Error.AccessDenied`, as the bus does when its policy does not
    /// admit the user to BlueZ.
    Deny,
}

#[derive(Clone, Debug)]
pub struct DeviceSpec {
    pub address: &'static str,
    pub name: &'static str,
    pub rssi: i16,
    /// Advertised service UUIDs.
    pub uuids: &'static [&'static str],
    pub answer: Answer,
    pub battery: u8,
    pub manufacturer: &'static str,
    pub model: &'static str,
}

impl DeviceSpec {
    pub fn strap(address: &'static str, name: &'static str) -> Self {
        Self {
            address,
            name,
            rssi: -58,
            uuids: &[HEART_RATE_SERVICE, BATTERY_SERVICE, DEVICE_INFO_SERVICE],
            answer: Answer::Always,
            battery: 87,
            manufacturer: "Polar Electro Oy",
            model: "H10",
        }
    }

    fn path(&self) -> String {
        device_path(self.address)
    }
}

/// BlueZ's object path for the device with `address`: `/org/bluez/hci0/dev_A0_9E_…`.
fn device_path(address: &str) -> String {
    format!("{ADAPTER_PATH}/dev_{}", address.replace(':', "_"))
}

/// What the fake saw a client do, for the test script to react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeEvent {
    DiscoveryFilter {
        uuids: Vec<String>,
    },
    DiscoveryStarted,
    ConnectCalled {
        address: String,
        attempt: u32,
    },
    /// `ReadValue` on a characteristic (the n-th time), answered with the value it had before this event.
    ValueRead {
        uuid: String,
        times: u32,
    },
    /// `StartNotify` on a device's 0x2A37 (the n-th time for that device).
    Subscribed {
        address: String,
        times: u32,
    },
}

type Events = mpsc::UnboundedSender<FakeEvent>;

struct FakeAdapter {
    discovering: Mutex<bool>,
    events: Events,
}

#[interface(name = "org.bluez.Adapter1")]
impl FakeAdapter {
    async fn start_discovery(&self, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) -> fdo::Result<()> {
        *lock(&self.discovering) = true;
        self.discovering_changed(&emitter).await?;
        let _ = self.events.send(FakeEvent::DiscoveryStarted);
        Ok(())
    }

    async fn stop_discovery(&self, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) -> fdo::Result<()> {
        *lock(&self.discovering) = false;
        self.discovering_changed(&emitter).await?;
        Ok(())
    }

    fn set_discovery_filter(&self, filter: HashMap<String, OwnedValue>) -> fdo::Result<()> {
        let uuids = filter
            .get("UUIDs")
            .and_then(|v| Vec::<String>::try_from(v.try_clone().ok()?).ok())
            .unwrap_or_default();
        let _ = self.events.send(FakeEvent::DiscoveryFilter { uuids });
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        "00:1A:7D:DA:71:13".into()
    }
    #[zbus(property)]
    fn address_type(&self) -> String {
        "public".into()
    }
    #[zbus(property)]
    fn name(&self) -> String {
        "fake-bluez".into()
    }
    #[zbus(property)]
    fn alias(&self) -> String {
        "fake-bluez".into()
    }
    #[zbus(property)]
    fn modalias(&self) -> String {
        "usb:v1D6Bp0246d0540".into()
    }
    #[zbus(property)]
    fn powered(&self) -> bool {
        true
    }
    /// BlueZ clients power the adapter on before scanning; this one is always on.
    #[zbus(property)]
    fn set_powered(&mut self, _on: bool) {}
    #[zbus(property)]
    fn discovering(&self) -> bool {
        *lock(&self.discovering)
    }
}

struct DeviceState {
    connected: bool,
    attempts: u32,
}

struct FakeDevice {
    spec: DeviceSpec,
    state: Mutex<DeviceState>,
    events: Events,
}

#[interface(name = "org.bluez.Device1")]
impl FakeDevice {
    async fn connect(&self, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) -> fdo::Result<()> {
        let attempt = {
            let mut state = lock(&self.state);
            state.attempts += 1;
            state.attempts
        };
        let _ = self.events.send(FakeEvent::ConnectCalled {
            address: self.spec.address.into(),
            attempt,
        });
        match self.spec.answer {
            Answer::Never => std::future::pending::<()>().await,
            Answer::RefuseAttempts(refused) if refused.contains(&attempt) => {
                return Err(fdo::Error::Failed("le-connection-abort-by-local".into()));
            }
            Answer::Deny => {
                return Err(fdo::Error::AccessDenied("Rejected send message".into()));
            }
            _ => {}
        }
        lock(&self.state).connected = true;
        self.connected_changed(&emitter).await?;
        self.services_resolved_changed(&emitter).await?;
        Ok(())
    }

    async fn disconnect(&self, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) -> fdo::Result<()> {
        lock(&self.state).connected = false;
        self.connected_changed(&emitter).await?;
        self.services_resolved_changed(&emitter).await?;
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        self.spec.address.into()
    }
    #[zbus(property)]
    fn address_type(&self) -> String {
        "random".into()
    }
    #[zbus(property)]
    fn name(&self) -> String {
        self.spec.name.into()
    }
    #[zbus(property)]
    fn alias(&self) -> String {
        self.spec.name.into()
    }
    #[zbus(property)]
    fn adapter(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(ADAPTER_PATH).expect("valid path")
    }
    #[zbus(property)]
    fn paired(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn trusted(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn blocked(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn legacy_pairing(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn connected(&self) -> bool {
        lock(&self.state).connected
    }
    #[zbus(property)]
    fn services_resolved(&self) -> bool {
        lock(&self.state).connected
    }
    #[zbus(property, name = "RSSI")]
    fn rssi(&self) -> i16 {
        self.spec.rssi
    }
    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        self.spec.uuids.iter().map(|u| (*u).to_owned()).collect()
    }
}

struct FakeService {
    uuid: String,
    device: String,
}

#[interface(name = "org.bluez.GattService1")]
impl FakeService {
    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        self.uuid.clone()
    }
    #[zbus(property)]
    fn primary(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn device(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(self.device.as_str()).expect("valid path")
    }
}

struct FakeCharacteristic {
    uuid: String,
    service: String,
    flags: Vec<String>,
    value: Mutex<Vec<u8>>,
    reads: Mutex<u32>,
    /// For 0x2A37: the device address to report subscriptions for, and how many so far.
    subscriptions: Option<(String, Mutex<u32>)>,
    events: Events,
}

#[interface(name = "org.bluez.GattCharacteristic1")]
impl FakeCharacteristic {
    fn read_value(&self, _options: HashMap<String, OwnedValue>) -> fdo::Result<Vec<u8>> {
        if self.flags.iter().any(|f| f == "read") {
            let value = lock(&self.value).clone();
            let times = {
                let mut reads = lock(&self.reads);
                *reads += 1;
                *reads
            };
            let _ = self.events.send(FakeEvent::ValueRead {
                uuid: self.uuid.clone(),
                times,
            });
            Ok(value)
        } else {
            Err(fdo::Error::NotSupported("read not permitted".into()))
        }
    }

    fn start_notify(&self) -> fdo::Result<()> {
        if let Some((address, times)) = &self.subscriptions {
            let times = {
                let mut t = lock(times);
                *t += 1;
                *t
            };
            let _ = self.events.send(FakeEvent::Subscribed {
                address: address.clone(),
                times,
            });
        }
        Ok(())
    }

    fn stop_notify(&self) -> fdo::Result<()> {
        Ok(())
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        self.uuid.clone()
    }
    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(self.service.as_str()).expect("valid path")
    }
    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        self.flags.clone()
    }
    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        lock(&self.value).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One characteristic of a fake strap's GATT tree and the service (node name, UUID) it belongs to.
struct GattEntry {
    service: (&'static str, &'static str),
    node: &'static str,
    uuid: String,
    flag: &'static str,
    value: Vec<u8>,
}

impl GattEntry {
    fn new(
        service: (&'static str, &'static str),
        node: &'static str,
        short_uuid: &str,
        flag: &'static str,
        value: Vec<u8>,
    ) -> Self {
        Self {
            service,
            node,
            uuid: format!("0000{short_uuid}-0000-1000-8000-00805f9b34fb"),
            flag,
            value,
        }
    }
}

/// A running private bus with the fake BlueZ on it.
pub struct FakeBluez {
    pub bus_address: String,
    pub events: mpsc::UnboundedReceiver<FakeEvent>,
    connection: Connection,
    devices: Vec<DeviceSpec>,
    event_tx: Events,
    _daemon: Child,
    _dir: tempfile::TempDir,
}

impl FakeBluez {
    /// Starts `dbus-daemon` on a socket in a fresh directory and serves the adapter; `devices` appear when a
    /// client starts discovery (as a real scan finds them).
    pub async fn start(devices: Vec<DeviceSpec>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("system_bus_socket");
        let mut daemon = Command::new("dbus-daemon")
            .arg("--session")
            .arg("--nofork")
            .arg("--nopidfile")
            .arg(format!("--address=unix:path={}", socket.display()))
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            // It warns that an unprivileged user cannot raise its fd limit: noise, not a failure.
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("dbus-daemon runs (Debian package `dbus`)");
        // The daemon prints its address once it listens: reading it is the readiness signal.
        let stdout = daemon.stdout.take().expect("piped stdout");
        let mut bus_address = String::new();
        BufReader::new(stdout)
            .read_line(&mut bus_address)
            .await
            .expect("daemon prints its address");
        let bus_address = bus_address.trim().to_owned();
        assert!(
            bus_address.starts_with("unix:"),
            "dbus-daemon printed {bus_address:?}"
        );

        let (event_tx, events) = mpsc::unbounded_channel();
        let connection = zbus::connection::Builder::address(bus_address.as_str())
            .expect("address parses")
            .name("org.bluez")
            .expect("valid name")
            .serve_at("/", fdo::ObjectManager)
            .expect("object manager")
            .serve_at(
                ADAPTER_PATH,
                FakeAdapter {
                    discovering: Mutex::new(false),
                    events: event_tx.clone(),
                },
            )
            .expect("adapter")
            .build()
            .await
            .expect("fake BlueZ connects to the private bus");
        Self {
            bus_address,
            events,
            connection,
            devices,
            event_tx,
            _daemon: daemon,
            _dir: dir,
        }
    }

    /// Puts every device (with its GATT tree) on the bus, as a scan finding them.
    pub async fn advertise_devices(&self) {
        let server = self.connection.object_server();
        for spec in &self.devices {
            let device_path = spec.path();
            if server
                .interface::<_, FakeDevice>(device_path.as_str())
                .await
                .is_ok()
            {
                continue;
            }
            // GATT objects first: a client that sees the device may introspect it at once.
            if spec.uuids.contains(&HEART_RATE_SERVICE) {
                let gatt = [
                    GattEntry::new(
                        ("service0010", HEART_RATE_SERVICE),
                        "char0011",
                        "2a37",
                        "notify",
                        vec![],
                    ),
                    GattEntry::new(
                        ("service0020", BATTERY_SERVICE),
                        "char0021",
                        "2a19",
                        "read",
                        vec![spec.battery],
                    ),
                    GattEntry::new(
                        ("service0030", DEVICE_INFO_SERVICE),
                        "char0031",
                        "2a29",
                        "read",
                        spec.manufacturer.as_bytes().to_vec(),
                    ),
                    GattEntry::new(
                        ("service0030", DEVICE_INFO_SERVICE),
                        "char0032",
                        "2a24",
                        "read",
                        spec.model.as_bytes().to_vec(),
                    ),
                ];
                let mut services = Vec::new();
                for entry in gatt {
                    let (service_node, service_uuid) = entry.service;
                    let service_path = format!("{device_path}/{service_node}");
                    let characteristic = FakeCharacteristic {
                        uuid: entry.uuid.clone(),
                        service: service_path.clone(),
                        flags: vec![entry.flag.to_owned()],
                        value: Mutex::new(entry.value),
                        reads: Mutex::new(0),
                        subscriptions: entry
                            .uuid
                            .starts_with("00002a37")
                            .then(|| (spec.address.to_owned(), Mutex::new(0))),
                        events: self.event_tx.clone(),
                    };
                    server
                        .at(format!("{service_path}/{}", entry.node), characteristic)
                        .await
                        .expect("characteristic served");
                    if !services.contains(&service_path) {
                        services.push(service_path.clone());
                        let service = FakeService {
                            uuid: service_uuid.into(),
                            device: device_path.clone(),
                        };
                        server
                            .at(service_path.as_str(), service)
                            .await
                            .expect("service served");
                    }
                }
            }
            server
                .at(
                    device_path.as_str(),
                    FakeDevice {
                        spec: spec.clone(),
                        state: Mutex::new(DeviceState {
                            connected: false,
                            attempts: 0,
                        }),
                        events: self.event_tx.clone(),
                    },
                )
                .await
                .expect("device served");
        }
    }

    pub fn handle(&self) -> FakeBluezHandle {
        FakeBluezHandle {
            connection: self.connection.clone(),
        }
    }
}

/// What the child process printed and how it ended.
pub struct ChildOutcome {
    pub success: bool,
    pub output: String,
}

/// Re-runs the test `test_path` (e.g. `ble::decodes_rr`) of this binary as the btleplug client on `bus`.
pub fn spawn_client(test_path: &str, bus: &str) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    Command::new(exe)
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
        .env(ROLE_VAR, "client")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the test binary re-runs itself")
}

/// Serves `fake` to a client child running `test_path`, calling `script` for each thing the client does,
/// until the child exits; fails the test with the child's output if it failed.
pub async fn run_as_child<F, Fut>(test_path: &str, mut fake: FakeBluez, mut script: F) -> Vec<FakeEvent>
where
    F: FnMut(FakeEvent, FakeBluezHandle) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let child = spawn_client(test_path, &fake.bus_address);
    let output = child.wait_with_output();
    tokio::pin!(output);
    let mut seen = Vec::new();
    let handle = fake.handle();
    // A child that hangs is a failure, not a stuck test run.
    let deadline = tokio::time::sleep(Duration::from_secs(120));
    tokio::pin!(deadline);
    let outcome = loop {
        tokio::select! {
            out = &mut output => {
                let out = out.expect("child ran");
                break ChildOutcome {
                    success: out.status.success(),
                    output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
                };
            }
            Some(event) = fake.events.recv() => {
                if event == FakeEvent::DiscoveryStarted {
                    fake.advertise_devices().await;
                }
                seen.push(event.clone());
                script(event, handle.clone()).await;
            }
            () = &mut deadline => panic!("the BLE client child did not finish within 120 s"),
        }
    };
    // The fake records a call before it answers it, so everything the child caused is queued by now; `select!`
    // may have taken the child's exit first (seen once under load: a Connect missing from `seen`).
    while let Ok(event) = fake.events.try_recv() {
        seen.push(event);
    }
    assert!(outcome.success, "client child failed:\n{}", outcome.output);
    assert!(
        outcome.output.contains("1 passed"),
        "the child ran no test:\n{}",
        outcome.output
    );
    seen
}

/// What a test script may do to the fake while the client runs.
#[derive(Clone)]
pub struct FakeBluezHandle {
    connection: Connection,
}

impl FakeBluezHandle {
    /// The characteristic at `relative` (`serviceNNNN/charNNNN`) below the device with `address`.
    async fn characteristic(&self, address: &str, relative: &str) -> InterfaceRef<FakeCharacteristic> {
        let path = format!("{}/{relative}", device_path(address));
        self.connection
            .object_server()
            .interface::<_, FakeCharacteristic>(path.as_str())
            .await
            .unwrap_or_else(|e| panic!("no characteristic at {path}: {e}"))
    }

    /// Sends one 0x2A37 notification from the device with `address`.
    pub async fn notify(&self, address: &str, payload: &[u8]) {
        let iface = self.characteristic(address, "service0010/char0011").await;
        *lock(&iface.get().await.value) = payload.to_vec();
        iface
            .get()
            .await
            .value_changed(iface.signal_emitter())
            .await
            .expect("signal sent");
    }

    /// The strap's battery level changes (it is read, not notified).
    pub async fn set_battery(&self, address: &str, percent: u8) {
        let iface = self.characteristic(address, "service0020/char0021").await;
        *lock(&iface.get().await.value) = vec![percent];
    }

    /// The strap drops the link (out of range, taken off).
    pub async fn drop_link(&self, address: &str) {
        let path = device_path(address);
        let iface = self
            .connection
            .object_server()
            .interface::<_, FakeDevice>(path.as_str())
            .await
            .expect("the device exists");
        lock(&iface.get().await.state).connected = false;
        iface
            .get()
            .await
            .connected_changed(iface.signal_emitter())
            .await
            .expect("signal sent");
    }
}
