//! The `auren-server` binary as the container runs it: configured by a `--config` file (the keys `auren
//! serve` reads, the environment winning), stopped by SIGTERM (what `docker stop` sends) after the requests
//! in flight, and its `probe` mode — the image's health check — answering 0 while the server is up and 1
//! when nothing listens. Then the deployment files: `deploy/docker-compose.yml` as Compose resolves it, its
//! server service's environment run on this machine's services, and the Dockerfile's runtime stage holding
//! every library the binary links. None of this needs a Docker daemon (the project's machines run none).
//!
//! Given an image built from `deploy/Dockerfile` in `AUREN_TEST_IMAGE` (`cargo xtask image` builds one and
//! runs these tests on it), the stack's server runs as that image's container instead of the binary, on
//! the host's network: then its health check must turn the container healthy, its process must not be
//! root, and ldd must find every library in the image itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::redis::free_port;

fn auren_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auren-server"));
    // Only what each test gives: nothing from the machine's environment.
    for key in auren_server::startup::KEYS {
        command.env_remove(key);
    }
    command
}

fn probe(listen: &str) -> bool {
    auren_server()
        .args(["probe"])
        .env("AUREN_LISTEN", listen)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// A started server process, killed when dropped: a failed assertion must not leave it running. For a
/// container, the process is `docker run`, and the container (named) is removed as well.
struct Running {
    child: Option<std::process::Child>,
    container: Option<String>,
}

impl Running {
    fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    /// Waits (blocking) for it to exit after it was told to stop.
    fn wait(mut self) -> std::process::ExitStatus {
        self.child.take().unwrap().wait().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(name) = self.container.take() {
            let _ = Command::new("docker").args(["rm", "--force", &name]).output();
        }
    }
}

/// The image under test, built from `deploy/Dockerfile` (`cargo xtask image` sets it).
fn image_under_test() -> Option<String> {
    std::env::var("AUREN_TEST_IMAGE")
        .ok()
        .filter(|image| !image.is_empty())
}

/// `docker run` of `image` as the container `name` on the host's network (the machine's services are on its
/// loopback), with `environment` and nothing else.
fn container(image: &str, name: &str, environment: &std::collections::BTreeMap<String, String>) -> Command {
    let mut command = Command::new("docker");
    command.args(["run", "--rm", "--name", name, "--network", "host"]);
    for (key, value) in environment {
        command.arg("--env").arg(format!("{key}={value}"));
    }
    command.arg(image);
    command
}

/// What `docker` prints for `args`, trimmed; a failure names the command.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Starts the server `command` describes and returns it with the first line it prints, trimmed: its address,
/// printed once it has migrated and listens (at most a minute). `container` names the container a `docker
/// run` starts.
async fn started(mut command: Command, container: Option<String>) -> (Running, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Running {
        child: Some(child),
        container,
    };
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(60), line)
        .await
        .expect("the server starts within a minute")
        .unwrap();
    (child, line.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_its_config_file_answers_its_probe_and_stops_on_sigterm() {
    let database_url = crate::support::fresh_database().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    // The file names a listen address the environment then overrides: the environment wins.
    std::fs::write(
        &file,
        format!("AUREN_DATABASE_URL = \"{database_url}\"\nAUREN_LISTEN = \"127.0.0.1:1\"\n"),
    )
    .unwrap();
    assert!(!probe(&format!("127.0.0.1:{port}")), "nothing listens yet");

    let mut command = auren_server();
    command
        .args(["--config", file.to_str().unwrap()])
        .env("AUREN_LISTEN", format!("127.0.0.1:{port}"));
    let (child, line) = started(command, None).await;
    assert_eq!(
        line,
        format!("auren-server: listening on http://127.0.0.1:{port}")
    );
    // The probe asks the loopback when the server listens on every address.
    assert!(probe(&format!("127.0.0.1:{port}")));
    assert!(probe(&format!("0.0.0.0:{port}")));

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait());
    let status = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("SIGTERM stops it")
        .unwrap();
    assert!(status.success(), "a clean stop: {status}");
    assert!(!probe(&format!("127.0.0.1:{port}")));
}

#[test]
fn a_bad_config_file_gets_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "AUREN_DATABSE_URL = \"typo\"\n").unwrap();
    let out = auren_server()
        .args(["--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key \"AUREN_DATABSE_URL\""), "{err}");
    let out = auren_server().args(["--port", "9"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
    // Its help names every key it reads.
    let out = auren_server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for key in auren_server::startup::KEYS {
        assert!(help.contains(key), "--help does not name {key}: {help}");
    }
}

/// `deploy/docker-compose.yml` as Compose resolves it: `docker-compose config` validates it against the
/// Compose schema and fills in its `${NAME:-default}`s (none is set here, so the defaults a person gets) and
/// its relative paths; the YAML it prints is read as JSON by the yaml module of the Python Compose itself
/// runs on. `None` (and a note) without `AUREN_TEST_COMPOSE`, which `cargo xtask test` sets.
fn compose_config() -> Option<serde_json::Value> {
    let Some(compose) = std::env::var_os("AUREN_TEST_COMPOSE") else {
        eprintln!("SKIPPED: no AUREN_TEST_COMPOSE (run through `cargo xtask test`)");
        return None;
    };
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/docker-compose.yml");
    let mut command = Command::new(&compose);
    for key in ["AUREN_POSTGRES_PASSWORD", "AUREN_APP_PASSWORD"] {
        command.env_remove(key);
    }
    let out = command.arg("-f").arg(&file).arg("config").output().unwrap();
    assert!(
        out.status.success(),
        "docker-compose rejects {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let script = std::fs::read_to_string(&compose).unwrap();
    let interpreter = script
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .map(str::trim)
        .expect("docker-compose is a Python script");
    let mut python = Command::new(interpreter)
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut python.stdin.take().unwrap(), &out.stdout).unwrap();
    let json = python.wait_with_output().unwrap();
    assert!(json.status.success(), "the YAML Compose printed did not read");
    Some(serde_json::from_slice(&json.stdout).unwrap())
}

/// One service's environment, every value a string (as the server reads it).
fn environment(config: &serde_json::Value, service: &str) -> std::collections::BTreeMap<String, String> {
    let map = config["services"][service]["environment"]
        .as_object()
        .unwrap_or_else(|| panic!("the service {service} has no environment"));
    map.iter()
        .map(|(key, value)| {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            (key.clone(), text)
        })
        .collect()
}

fn url(text: &str) -> reqwest::Url {
    reqwest::Url::parse(text).unwrap_or_else(|e| panic!("{text:?} is not a URL: {e}"))
}

/// What must agree between the stack's services for it to start: the server's keys are all keys it reads;
/// its two database URLs name the database the postgres service creates, the owner with the password that
/// service sets, `auren_app` with the one `app-role` gives it; Redis and the broker are services of the stack,
/// the broker's advertised listener is the address the server is given; the published port is the one the
/// server listens on; the build context holds the Dockerfile and the `.dockerignore` that keeps `target/` out.
fn check_stack(config: &serde_json::Value) {
    let server = environment(config, "server");
    for key in server.keys() {
        assert!(
            auren_server::startup::KEYS.contains(&key.as_str()) || key == "RUST_LOG",
            "the server service sets {key}, which the server does not read"
        );
    }
    let postgres = environment(config, "postgres");
    let app_role = environment(config, "app-role");
    let (owner, app) = (
        url(&server["AUREN_DATABASE_URL"]),
        url(&server["AUREN_APP_DATABASE_URL"]),
    );
    assert_eq!(owner.username(), postgres["POSTGRES_USER"]);
    assert_eq!(owner.password(), Some(postgres["POSTGRES_PASSWORD"].as_str()));
    assert_eq!(app.username(), "auren_app");
    assert_eq!(app.password(), Some(app_role["AUREN_APP_PASSWORD"].as_str()));
    assert_eq!(app_role["PGPASSWORD"], postgres["POSTGRES_PASSWORD"]);
    for database in [&owner, &app] {
        assert_eq!(database.host_str(), Some("postgres"));
        assert_eq!(database.path(), format!("/{}", postgres["POSTGRES_DB"]));
    }
    assert_eq!(url(&server["AUREN_REDIS_URL"]).host_str(), Some("redis"));
    let kafka = environment(config, "kafka");
    assert!(
        kafka["KAFKA_ADVERTISED_LISTENERS"].contains(&format!("://{}", server["AUREN_KAFKA_BROKERS"])),
        "the broker advertises {}, the server is given {}",
        kafka["KAFKA_ADVERTISED_LISTENERS"],
        server["AUREN_KAFKA_BROKERS"]
    );
    for service in ["postgres", "redis", "kafka", "app-role"] {
        assert!(config["services"][service].is_object(), "no {service} service");
    }
    let listen_port = server["AUREN_LISTEN"].rsplit(':').next().unwrap().to_owned();
    let published = config["services"]["server"]["ports"][0].as_str().unwrap();
    let target = published.rsplit(':').next().unwrap().trim_end_matches("/tcp");
    assert_eq!(
        target, listen_port,
        "the port published is not the one the server listens on"
    );
    let build = &config["services"]["server"]["build"];
    let context = std::path::Path::new(build["context"].as_str().unwrap());
    assert!(context.join(build["dockerfile"].as_str().unwrap()).is_file());
    let ignored = std::fs::read_to_string(context.join(".dockerignore")).unwrap();
    assert!(
        ignored.lines().any(|line| line.trim_matches('/') == "target"),
        "{ignored}"
    );
}

/// `deploy/app-role.sh` run as the `app-role` service runs it, on this machine's PostgreSQL: its
/// environment but for the host, the database (`database`) and the owner (the cluster's superuser here,
/// the image's `POSTGRES_USER` there).
fn run_app_role(config: &serde_json::Value, database: &str) {
    let app_role = environment(config, "app-role");
    // Compose 1.29 prints a mount as `SOURCE:TARGET:MODE`, the source made absolute.
    let volume = config["services"]["app-role"]["volumes"][0].as_str().unwrap();
    let mount = volume.split(':').next().unwrap();
    let out = Command::new("sh")
        .arg(mount)
        .envs(&app_role)
        .env("PGHOST", "127.0.0.1")
        .env("PGUSER", "postgres")
        .env("PGDATABASE", database)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "app-role.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server's environment from the stack with each service's address replaced by this machine's (the
/// owner by the cluster's superuser, as for `app-role`); `AUREN_LISTEN` keeps its host (every address), on a
/// free port.
fn server_environment_here(
    config: &serde_json::Value,
    database: &str,
    broker: &str,
    port: u16,
) -> std::collections::BTreeMap<String, String> {
    let mut server = environment(config, "server");
    let mut owner = url(&server["AUREN_DATABASE_URL"]);
    let mut app = url(&server["AUREN_APP_DATABASE_URL"]);
    for postgres in [&mut owner, &mut app] {
        postgres.set_host(Some("127.0.0.1")).unwrap();
        postgres.set_path(&format!("/{database}"));
    }
    owner.set_username("postgres").unwrap();
    owner.set_password(None).unwrap();
    let mut redis =
        url(&std::env::var("AUREN_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()));
    redis.set_path("");
    let host = server["AUREN_LISTEN"].rsplit_once(':').unwrap().0.to_owned();
    server.insert("AUREN_DATABASE_URL".into(), owner.to_string());
    server.insert("AUREN_APP_DATABASE_URL".into(), app.to_string());
    server.insert("AUREN_REDIS_URL".into(), redis.to_string());
    server.insert("AUREN_KAFKA_BROKERS".into(), broker.to_owned());
    server.insert("AUREN_LISTEN".into(), format!("{host}:{port}"));
    server
}

/// The compose stack's server, as far as this machine can run it without Docker: the file is what Compose
/// accepts, its services agree with one another ([`check_stack`]), `app-role.sh` gives `auren_app` its login,
/// and the `auren-server` binary started with the server service's environment (each service's address
/// replaced by this machine's) is ready on PostgreSQL, Redis and the broker, keeps a device's data, answers
/// the image's health check, and runs requests as `auren_app`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_stacks_server_settings_start_a_ready_server_that_serves_as_the_app_role() {
    let Some(config) = compose_config() else {
        return;
    };
    check_stack(&config);
    let Some(binary) = crate::broker::broker_binary() else {
        return;
    };
    let broker = crate::broker::PrivateBroker::start(binary).await;
    let database_url = crate::support::fresh_database().await;
    let database = database_url.rsplit('/').next().unwrap().to_owned();
    // The role is the cluster's, and an earlier run may have left it a login: taken away first, the server's
    // connecting as it below shows that app-role.sh gave it one.
    let admin = sqlx::PgPool::connect(&crate::support::admin_url()).await.unwrap();
    sqlx::query(
        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'auren_app') THEN \
         ALTER ROLE auren_app NOLOGIN; END IF; END $$",
    )
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    run_app_role(&config, &database);
    let port = free_port();
    let environment = server_environment_here(&config, &database, &broker.address(), port);
    let image = image_under_test();
    let name = format!("auren-deploy-check-{port}");
    let (server, line) = match &image {
        Some(image) => started(container(image, &name, &environment), Some(name.clone())).await,
        None => {
            let mut command = auren_server();
            command.envs(&environment).env("AUREN_TEST_FAST_HASH", "1");
            started(command, None).await
        }
    };
    assert_eq!(line, format!("auren-server: listening on http://0.0.0.0:{port}"));
    let client = crate::support::TestClient::new(&format!("http://127.0.0.1:{port}"));
    ready_on_every_component(&client).await;

    let device = client.account("compose@example.com").await;
    client.push_recording(&device, 120).await;
    let (status, changes) = client.pull_all(&device, None).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{changes:?}");
    let types: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["change"]["type"].as_str())
        .collect();
    assert!(
        types.contains(&"session") && types.contains(&"beats"),
        "{types:?}"
    );
    match &image {
        Some(_) => the_container_is_healthy_and_not_root(&name).await,
        None => {
            let probe = auren_server().arg("probe").envs(&environment).status().unwrap();
            assert!(probe.success(), "the image's health check fails");
        }
    }

    let owner = sqlx::PgPool::connect(&database_url).await.unwrap();
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND usename IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&owner)
    .await
    .unwrap();
    assert!(roles.contains(&"auren_app".to_owned()), "{roles:?}");
    owner.close().await;
    drop(server);
}

/// The container's own health check (the Dockerfile's HEALTHCHECK, every 10 s) turns it healthy within a
/// minute, and its server runs as the image's user: uid 10001, not root.
async fn the_container_is_healthy_and_not_root(name: &str) {
    // Until it leaves "starting": an "unhealthy" fails at once.
    let mut health = String::new();
    crate::broker::eventually(Duration::from_secs(60), async || {
        health = docker(&["inspect", "--format", "{{.State.Health.Status}}", name]);
        health != "starting"
    })
    .await;
    assert_eq!(health, "healthy", "the container's health check says {health:?}");
    let uid = docker(&["exec", name, "id", "-u"]);
    assert_eq!(
        uid, "10001",
        "the container's server runs as uid {uid}, not the image's user"
    );
    assert_eq!(
        docker(&["inspect", "--format", "{{.Config.User}}", name]),
        "auren"
    );
}

/// Waits (at most a minute) until `/readyz` says ready with every component up: PostgreSQL, Redis's limiter
/// and wake-ups, and the broker's relay and consumer, which connect after the server starts listening.
async fn ready_on_every_component(client: &crate::support::TestClient) {
    let every = [
        "postgres",
        "redis_limiter",
        "redis_wake",
        "kafka_relay",
        "kafka_alert_consumer",
    ];
    let mut answer = serde_json::Value::Null;
    let ready = crate::broker::eventually(Duration::from_secs(60), async || {
        let status;
        (status, answer) = client.get("/readyz", None).await;
        let up = |name: &str| answer["components"][name]["state"] == "up";
        status == reqwest::StatusCode::OK && every.into_iter().all(up)
    })
    .await;
    assert!(ready, "not ready on every component: {answer}");
}

/// What `debian:bookworm-slim` holds of the libraries a Rust binary may link: glibc, libgcc's unwinder and
/// zlib, which its essential packages depend on (dpkg needs zlib1g).
const SLIM_IMAGE_LIBRARIES: [&str; 3] = ["libc6", "libgcc-s1", "zlib1g"];

/// The packages the Dockerfile's last stage installs (its `apt-get install` words that are not options).
fn runtime_stage_packages(dockerfile: &str) -> Vec<String> {
    // The base is an argument (for `cargo xtask image --stand-in-bases`) whose default is the slim image.
    assert!(
        dockerfile.contains("\nARG RUNTIME_IMAGE=debian:bookworm-slim\n"),
        "the runtime stage's base is not debian:bookworm-slim"
    );
    let last = dockerfile.rsplit("\nFROM ").next().unwrap();
    assert!(
        last.starts_with("${RUNTIME_IMAGE}\n"),
        "the runtime stage is {last:.40}"
    );
    let joined = last.replace("\\\n", " ");
    let install = joined
        .split("apt-get install")
        .nth(1)
        .expect("the runtime stage installs packages");
    let words = install.split("&&").next().unwrap();
    words
        .split_whitespace()
        .filter(|word| !word.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

/// The image's runtime stage has every library the server binary links: the Debian package of each (ldd,
/// then `dpkg -S`) is in the slim image or installed by the Dockerfile's last stage. A dependency that starts
/// linking a new system library (OpenSSL, curl) fails here, not in a container that cannot start.
#[test]
fn the_images_runtime_stage_has_every_library_the_binary_links() {
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/Dockerfile"),
    )
    .unwrap();
    let installed = runtime_stage_packages(&dockerfile);
    assert!(installed.contains(&"ca-certificates".to_owned()), "{installed:?}");
    let ldd = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_auren-server"))
        .output()
        .unwrap();
    assert!(ldd.status.success());
    let libraries: Vec<String> = String::from_utf8_lossy(&ldd.stdout)
        .lines()
        .filter_map(|line| line.split("=> ").nth(1)?.split(' ').next().map(str::to_owned))
        .collect();
    assert!(!libraries.is_empty(), "ldd listed no library");
    for library in libraries {
        let owner = Command::new("dpkg").args(["-S", &library]).output().unwrap();
        let owner = String::from_utf8_lossy(&owner.stdout);
        let package = owner.split([':', ',']).next().unwrap_or_default().trim();
        assert!(
            SLIM_IMAGE_LIBRARIES.contains(&package) || installed.iter().any(|p| p == package),
            "the binary links {library} (package {package:?}), which the image's runtime stage lacks: \
             add it to deploy/Dockerfile's last apt-get install"
        );
    }
    // The image itself, when there is one: its binary finds every library in it.
    if let Some(image) = image_under_test() {
        let ldd = docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "ldd",
            &image,
            "/usr/local/bin/auren-server",
        ]);
        assert!(ldd.contains("libc.so.6"), "{ldd}");
        assert!(!ldd.contains("not found"), "in the image: {ldd}");
    }
}
