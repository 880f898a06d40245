//! `auren account create|login|approve`, `auren logout`, `auren devices`, `auren coach grant|revoke|list`: the
//! sync account of one device database (`--db`). Tokens go to the OS keychain, or where none answers to a
//! file next to the database that only the user can read, and the command says which.

use crate::places::{db_path, runtime};
use anyhow::Context as _;
use auren_store::Store;
use auren_sync::{CoachAccess, SignIn, SyncClient, SyncConfig, TokenPlace, TokenVault};
use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AccountCommand,
}

#[derive(clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account on a sync server and sign this database in as its first device.
    Create(SignInArgs),
    /// Sign this database in to an existing account as a new device.
    Login(SignInArgs),
    /// Approve the code another device shows (`auren account login --device-code` there).
    Approve {
        /// The code shown on the new device.
        code: String,
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct SignInArgs {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub server: String,
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from standard input (one line) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// Sign in by a code approved on a signed-in device instead of a password (login only).
    #[arg(long)]
    pub device_code: bool,
    /// How this device is named in `auren devices` (default: the host name).
    #[arg(long)]
    pub device_name: Option<String>,
    #[arg(long)]
    pub db: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct DbArgs {
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// `auren devices [remove ID]`.
#[derive(clap::Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    pub command: Option<DevicesCommand>,
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum DevicesCommand {
    /// List the account's signed-in devices (the default).
    List,
    /// Remove another device: its tokens stop working at once, the data it sent stays. This device
    /// signs out with `auren logout` instead.
    Remove {
        /// The device id, as `auren devices` lists it.
        id: String,
    },
}

#[derive(clap::Args)]
pub struct CoachArgs {
    #[command(subcommand)]
    pub command: CoachCommand,
}

#[derive(clap::Subcommand)]
pub enum CoachCommand {
    /// Let the coach with this email read your data.
    Grant {
        email: String,
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Take that access back.
    Revoke {
        email: String,
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Who may read your data, and whose data you may read.
    List {
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

/// The token vault of database `db`: the keychain entry named after its replica id, or `<db>.tokens`.
pub async fn vault_for(store: &Store, db: &Path) -> anyhow::Result<TokenVault> {
    let replica = store.replica_id().await?;
    let mut fallback = db.as_os_str().to_owned();
    fallback.push(".tokens");
    Ok(TokenVault::choose(&replica, Path::new(&fallback)).await)
}

/// A line saying where the tokens went, when it is a file.
pub fn say_where(vault: &TokenVault) {
    if let TokenPlace::File(path) = vault.place() {
        eprintln!(
            "No OS keychain answered: the tokens are in {} (readable only by you).",
            path.display()
        );
    }
}

/// The open store and its signed-in client.
pub async fn open_client(db: Option<PathBuf>) -> anyhow::Result<(Store, SyncClient)> {
    let path = db_path(db)?;
    let store = Store::open(&path).await?;
    let vault = vault_for(&store, &path).await?;
    let client = SyncClient::open(&store, vault, SyncConfig::default()).await?;
    Ok((store, client))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match args.command {
            AccountCommand::Create(a) => sign_in(a, SignIn::Create).await,
            AccountCommand::Login(a) if a.device_code => device_code_login(a).await,
            AccountCommand::Login(a) => sign_in(a, SignIn::Login).await,
            AccountCommand::Approve { code, db } => {
                let (_, client) = open_client(db).await?;
                client.approve_device_code(&code).await?;
                println!("Approved: the new device is signing in.");
                Ok(())
            }
        }
    })
}

fn device_name(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}

/// The password: typed at the terminal without being shown, or one line of standard input with
/// `--password-stdin` or when standard input is not a terminal.
fn password(from_stdin: bool) -> anyhow::Result<String> {
    let line = if !from_stdin && std::io::stdin().is_terminal() {
        typed::hidden_line("Password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        line
    };
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    Ok(password)
}

/// A line typed at the terminal on standard input, not shown.
#[cfg(unix)]
mod typed {
    use anyhow::Context as _;
    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};
    use std::io::{BufRead as _, Write as _};

    /// Puts the terminal's modes back when dropped, however the read ended.
    struct Restore(Termios);

    impl Drop for Restore {
        fn drop(&mut self) {
            if let Err(error) = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.0) {
                eprintln!(
                    "warning: the terminal's echo could not be turned back on ({error}): run `stty echo`"
                );
            }
        }
    }

    /// Shows `prompt` on stderr and reads one line with the terminal's echo off (the Enter still moves to
    /// the next line). The echo goes off before the prompt shows, so nothing typed after it is echoed.
    pub fn hidden_line(prompt: &str) -> anyhow::Result<String> {
        let stdin = std::io::stdin();
        let shown = tcgetattr(&stdin).context("cannot read the terminal's modes")?;
        let mut hidden = shown.clone();
        hidden.local_modes.remove(LocalModes::ECHO);
        hidden.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(&stdin, OptionalActions::Now, &hidden).context("cannot turn the terminal's echo off")?;
        let _restore = Restore(shown);
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        Ok(line)
    }
}

/// A line typed at the terminal on standard input: shown as typed where the terminal's echo cannot be
/// turned off from here (no termios).
#[cfg(not(unix))]
mod typed {
    use anyhow::Context as _;
    use std::io::{BufRead as _, Write as _};

    pub fn hidden_line(prompt: &str) -> anyhow::Result<String> {
        eprint!(
            "{} (shown as you type; use --password-stdin to pipe it): ",
            prompt.trim_end_matches([':', ' '])
        );
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        Ok(line)
    }
}

async fn sign_in(a: SignInArgs, how: SignIn<'_>) -> anyhow::Result<()> {
    let email = a.email.context("--email is required")?;
    let password = password(a.password_stdin)?;
    let path = db_path(a.db)?;
    let store = Store::open(&path).await?;
    let vault = vault_for(&store, &path).await?;
    say_where(&vault);
    let name = device_name(a.device_name);
    let client = SyncClient::sign_in(
        &store,
        vault,
        &a.server,
        (&email, &password, &name),
        how,
        SyncConfig::default(),
    )
    .await
    .with_context(|| format!("cannot sign in to {}", a.server))?;
    println!(
        "Signed in as {} on device {} ({name}). Run `auren sync` to send and fetch data.",
        client.account().email,
        client.account().device_id
    );
    Ok(())
}

async fn device_code_login(a: SignInArgs) -> anyhow::Result<()> {
    let name = device_name(a.device_name);
    let code = SyncClient::start_device_code(&a.server, &name).await?;
    println!(
        "On a signed-in device run:  auren account approve {}",
        code.user_code
    );
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(u64::from(
            code.interval_ms.max(500),
        )))
        .await;
        match SyncClient::poll_device_code(&a.server, &code).await? {
            auren_protocol::auth::DeviceCodeStatus::Pending => {}
            auren_protocol::auth::DeviceCodeStatus::Expired => anyhow::bail!("the code expired; start again"),
            auren_protocol::auth::DeviceCodeStatus::Approved(signed) => {
                let path = db_path(a.db)?;
                let store = Store::open(&path).await?;
                let vault = vault_for(&store, &path).await?;
                say_where(&vault);
                let client = SyncClient::sign_in(
                    &store,
                    vault,
                    &a.server,
                    (&signed.email, "", &name),
                    SignIn::Approved(&signed),
                    SyncConfig::default(),
                )
                .await?;
                println!(
                    "Signed in as {} on device {}.",
                    client.account().email,
                    client.account().device_id
                );
                return Ok(());
            }
        }
    }
}

/// `auren logout`.
pub fn logout(args: DbArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let (_, client) = open_client(args.db).await?;
        let email = client.account().email.clone();
        client.logout().await?;
        println!("Signed out {email}; the data stays in this database.");
        Ok(())
    })
}

/// `auren devices [list | remove ID]`.
pub fn devices(args: DevicesArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let (_, client) = open_client(args.db).await?;
        match args.command {
            None | Some(DevicesCommand::List) => list_devices(&client).await,
            Some(DevicesCommand::Remove { id }) => remove_device(&client, &id).await,
        }
    })
}

async fn remove_device(client: &SyncClient, id: &str) -> anyhow::Result<()> {
    let id = id.trim();
    anyhow::ensure!(
        id != client.account().device_id,
        "{id} is this device; to end its sign-in run `auren logout` (the data stays in this database)"
    );
    let devices = client.devices().await?.devices;
    let name = devices
        .iter()
        .find(|d| d.device_id.0 == id)
        .map(|d| d.name.clone())
        .with_context(|| {
            format!("no signed-in device of this account has the id {id:?}; `auren devices` lists them")
        })?;
    client
        .remove_device(id)
        .await
        .with_context(|| format!("cannot remove device {id} ({name})"))?;
    println!("Removed {name} ({id}): it can no longer sync; the data it sent stays in the account.");
    Ok(())
}

async fn list_devices(client: &SyncClient) -> anyhow::Result<()> {
    let devices = client.devices().await?.devices;
    println!("{:<38}  {:<24}  {:<17}", "device", "name", "last seen (UTC)");
    for d in devices {
        let seen = d
            .last_seen_at_ms
            .map_or("–".to_owned(), |ms| auren_clock::UnixMillis(ms).civil_minute());
        let here = if d.current { "this device" } else { "" };
        println!("{:<38}  {:<24}  {:<17}  {here}", d.device_id, d.name, seen);
    }
    Ok(())
}

/// `auren coach grant|revoke|list`.
pub fn coach(args: CoachArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match args.command {
            CoachCommand::Grant { email, db } => {
                let (_, client) = open_client(db).await?;
                client.coach_access(&email, CoachAccess::Grant).await?;
                println!("{email} may now read your data.");
            }
            CoachCommand::Revoke { email, db } => {
                let (_, client) = open_client(db).await?;
                client.coach_access(&email, CoachAccess::Revoke).await?;
                println!("{email} can no longer read your data.");
            }
            CoachCommand::List { db } => {
                let (_, client) = open_client(db).await?;
                let grants = client.coach_grants().await?.grants;
                let athletes = client.athletes().await?.athletes;
                println!(
                    "Coaches who may read your data: {}",
                    list(grants.iter().map(|g| g.coach_email.as_str()))
                );
                println!(
                    "Athletes whose data you may read: {}",
                    list(athletes.iter().map(|a| a.email.as_str()))
                );
            }
        }
        Ok(())
    })
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = items.collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}
