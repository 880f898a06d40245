//! `cargo xtask image [--stand-in-bases]`: builds the sync server's image from `deploy/Dockerfile` with a
//! Docker engine, then runs the server's deployment tests (`deploy::` in auren-server's tests) on it: the
//! compose stack's server service as that image's container on the host's network, against this machine's
//! PostgreSQL, Redis and broker (`services up`) — ready on every component, a device's data kept, requests
//! run as `auren_app`, the image's HEALTHCHECK turning it healthy, its process not root, and every library
//! the binary links found in the image.
//!
//! `--stand-in-bases` is for a machine that cannot reach Docker Hub (the project's own: only Debian's
//! packages, crates.io, PyPI and npm answer there). It first makes the two base images the Dockerfile names
//! and builds the Dockerfile unchanged on them, through its `BUILD_IMAGE` and `RUNTIME_IMAGE` arguments:
//! - `auren-stand-in/debian:bookworm-slim`: Debian bookworm by `debootstrap --variant=minbase` (its
//!   essential and required packages, as the official slim image holds; kept in `~/.cache/auren/image`);
//! - `auren-stand-in/rust:1-bookworm`: that, with the compilers the official `rust` image has from
//!   buildpack-deps, this machine's Rust toolchain (`rustc --print sysroot`), and the certificate
//!   authorities this machine added to its own trust store (`/usr/local/share/ca-certificates`: an egress
//!   proxy's, through which cargo reaches crates.io).
//!
//! They are named apart from the official images, so nothing later mistakes them for those. What they
//! cannot show is that the official images hold what the stand-ins do.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::{cmd, root, services, system};

/// The tag the built image gets, and the variable naming it to the tests.
pub const IMAGE: &str = "auren-server:check";
const IMAGE_VAR: &str = "AUREN_TEST_IMAGE";

const STAND_IN_RUNTIME: &str = "auren-stand-in/debian:bookworm-slim";
const STAND_IN_BUILD: &str = "auren-stand-in/rust:1-bookworm";
const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";

/// The build-stage stand-in: buildpack-deps' compilers and tools the build uses, then the toolchain.
const STAND_IN_BUILD_DOCKERFILE: &str = "\
# A stand-in for rust:1-bookworm, made by `cargo xtask image --stand-in-bases` (see xtask/src/image.rs).
ARG BASE
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl git gcc g++ libc6-dev \\
    make pkg-config && rm -rf /var/lib/apt/lists/*
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
COPY rust /usr/local/rust
ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:$PATH CARGO_HOME=/usr/local/cargo
";

/// Which base images the Dockerfile is built on.
#[derive(Debug, PartialEq, Eq)]
enum Bases {
    /// Its defaults, from the registry.
    Official,
    /// The stand-ins above, made here first.
    StandIn,
}

pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let bases = match args {
        [] => Bases::Official,
        ["--stand-in-bases"] => Bases::StandIn,
        _ => bail!("usage: cargo xtask image [--stand-in-bases]"),
    };
    let mut packages = system::DEPLOY_CHECK_PACKAGES.to_vec();
    if bases == Bases::StandIn {
        packages.push("debootstrap");
    }
    system::ensure_packages(&packages)?;
    engine_answers()?;
    let mut build = Command::new("docker");
    // The host's network for the build's apt-get and cargo: an engine started without a bridge has no other.
    build.args([
        "build",
        "--network",
        "host",
        "-f",
        "deploy/Dockerfile",
        "-t",
        IMAGE,
    ]);
    if bases == Bases::StandIn {
        make_stand_in_bases()?;
        build.args(["--build-arg", &format!("BUILD_IMAGE={STAND_IN_BUILD}")]);
        build.args(["--build-arg", &format!("RUNTIME_IMAGE={STAND_IN_RUNTIME}")]);
    }
    let started = std::time::Instant::now();
    cmd::run(build.arg(".").current_dir(root()))?;
    let built = started.elapsed();
    let size =
        cmd::output(Command::new("docker").args(["image", "inspect", "--format", "{{.Size}}", IMAGE]))?;
    let services = services::up()?;
    cmd::run(
        cmd::cargo()
            .current_dir(root())
            .envs(services)
            .env(system::COMPOSE_VAR, system::COMPOSE_PROGRAM)
            .env(IMAGE_VAR, IMAGE)
            .args([
                "test",
                "--locked",
                "-p",
                "auren-server",
                "--test",
                "it",
                "--",
                "deploy::",
            ]),
    )?;
    let megabytes = size.trim().parse::<f64>().unwrap_or(f64::NAN) / 1e6;
    let on = match bases {
        Bases::Official => "its own bases",
        Bases::StandIn => "stand-in bases made of Debian's packages and this machine's toolchain",
    };
    eprintln!(
        "xtask image: {IMAGE} ({megabytes:.0} MB) built from deploy/Dockerfile on {on} in {built:.0?}; \
         the deployment tests passed on it"
    );
    Ok(())
}

/// Fails with what to do when no Docker engine answers the client.
fn engine_answers() -> anyhow::Result<()> {
    if !cmd::exists("docker") {
        bail!("no `docker` client: install Debian's docker.io (client and engine)");
    }
    let info = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stderr(Stdio::null())
        .output()
        .context("running `docker info`")?;
    if !info.status.success() {
        bail!(
            "no Docker engine answers `docker info`: start one (`sudo systemctl start docker`; without \
             systemd, as root: `dockerd --iptables=false --bridge=none &`, enough here since every \
             container of this check runs on the host's network)"
        );
    }
    eprintln!(
        "==> Docker engine {}",
        String::from_utf8_lossy(&info.stdout).trim()
    );
    Ok(())
}

/// `~/.cache/auren/image`: the minbase root file system and the build stand-in's context.
fn cache() -> PathBuf {
    services::cache_home().join("image")
}

fn make_stand_in_bases() -> anyhow::Result<()> {
    if !system::is_root() {
        bail!("--stand-in-bases needs root: debootstrap makes a root file system");
    }
    let rootfs = cache().join("bookworm-minbase");
    make_minbase_rootfs(&rootfs)?;
    eprintln!("==> importing {} as {STAND_IN_RUNTIME}", rootfs.display());
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--exclude=./.auren-complete", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting tar")?;
    let archive = tar.stdout.take().context("tar's output")?;
    let import = Command::new("docker")
        .args(["import", "--change", "CMD [\"bash\"]", "-", STAND_IN_RUNTIME])
        .stdin(Stdio::from(archive))
        .stdout(Stdio::null())
        .status()
        .context("running docker import")?;
    let tarred = tar.wait().context("waiting for tar")?;
    if !tarred.success() || !import.success() {
        bail!(
            "importing {} failed (tar {tarred}, docker import {import})",
            rootfs.display()
        );
    }
    let context = cache().join("rust-stand-in");
    write_build_stand_in_context(&context)?;
    cmd::run(
        Command::new("docker")
            .args(["build", "--network", "host", "-t", STAND_IN_BUILD])
            .args(["--build-arg", &format!("BASE={STAND_IN_RUNTIME}")])
            .arg(&context),
    )
}

/// What a finished root file system's stamp holds: one made by an earlier recipe is made again.
const ROOTFS_RECIPE: &str = "bookworm minbase, slimmed as the official image (2)";

/// Debian bookworm's minbase in `dir`, made once (a stamp marks a finished one), with the sources the
/// official image lists (the release, its updates, security) and no package lists.
fn make_minbase_rootfs(dir: &Path) -> anyhow::Result<()> {
    let stamp = dir.join(".auren-complete");
    if std::fs::read_to_string(&stamp).is_ok_and(|made| made == ROOTFS_RECIPE) {
        eprintln!("==> {} (made earlier)", dir.display());
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing the unfinished {}", dir.display()))?;
    }
    cmd::run(
        Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(dir)
            .arg(DEBIAN_MIRROR),
    )?;
    let sources = format!(
        "deb {DEBIAN_MIRROR} bookworm main\ndeb {DEBIAN_MIRROR} bookworm-updates main\n\
         deb http://deb.debian.org/debian-security bookworm-security main\n"
    );
    std::fs::write(dir.join("etc/apt/sources.list"), sources).context("writing sources.list")?;
    for (file, text) in SLIM_CONFIG {
        std::fs::write(dir.join(file), text).with_context(|| format!("writing {file}"))?;
    }
    // What those excludes keep out of later installs, taken out of the packages installed already (the
    // copyright files and locale.alias stay), and the package lists: an image's `apt-get update` starts
    // from none.
    for folder in [
        "usr/share/man",
        "usr/share/info",
        "usr/share/groff",
        "usr/share/lintian",
        "var/lib/apt/lists",
    ] {
        remove_files_under(&dir.join(folder), &|_| false)?;
    }
    remove_files_under(&dir.join("usr/share/doc"), &|path| {
        path.file_name().is_some_and(|name| name == "copyright")
    })?;
    remove_files_under(&dir.join("usr/share/locale"), &|path| {
        path.file_name().is_some_and(|name| name == "locale.alias")
    })?;
    // debootstrap's downloaded packages.
    remove_files_under(&dir.join("var/cache/apt"), &|path| {
        path.extension().is_none_or(|e| e != "deb")
    })?;
    std::fs::write(&stamp, ROOTFS_RECIPE).context("writing the stamp")
}

/// The configuration the official Debian images carry (debuerreotype's minimizing and slim settings): apt
/// keeps no package cache and no translations, and dpkg leaves out documentation, manuals and locales.
/// Without it every `apt-get install` layer also held apt's ~90 MB of caches.
const SLIM_CONFIG: [(&str, &str); 4] = [
    (
        "etc/apt/apt.conf.d/docker-clean",
        "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb \
         /var/cache/apt/*.bin || true\"; };\nAPT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb \
         /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };\n\
         Dir::Cache::pkgcache \"\";\nDir::Cache::srcpkgcache \"\";\n",
    ),
    (
        "etc/apt/apt.conf.d/docker-no-languages",
        "Acquire::Languages \"none\";\n",
    ),
    (
        "etc/apt/apt.conf.d/docker-autoremove-suggests",
        "Apt::AutoRemove::SuggestsImportant \"false\";\n",
    ),
    (
        "etc/dpkg/dpkg.cfg.d/docker",
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n\
         path-exclude /usr/share/groff/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/lintian/*\n\
         path-exclude /usr/share/linda/*\npath-exclude /usr/share/locale/*\n\
         path-include /usr/share/locale/locale.alias\n",
    ),
];

/// Removes every file (and link) under `folder` that `keep` does not keep; the folders stay (apt needs
/// `archives/partial`). A missing folder has nothing to remove.
fn remove_files_under(folder: &Path, keep: &dyn Fn(&Path) -> bool) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let kind = std::fs::symlink_metadata(&path)?.file_type();
        if kind.is_dir() {
            remove_files_under(&path, keep)?;
        } else if !keep(&path) {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// The build stand-in's context in `dir`: its Dockerfile, this machine's added authorities and its
/// toolchain (copied again only when `rustc -vV` changes).
fn write_build_stand_in_context(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("Dockerfile"), STAND_IN_BUILD_DOCKERFILE).context("writing the Dockerfile")?;
    let certs = dir.join("certs");
    if certs.exists() {
        std::fs::remove_dir_all(&certs).with_context(|| format!("removing {}", certs.display()))?;
    }
    std::fs::create_dir_all(&certs)?;
    // Never empty (an empty COPY source is an error to some builders); update-ca-certificates reads *.crt.
    std::fs::write(
        certs.join("README"),
        "authorities this machine added to its trust store\n",
    )?;
    if let Ok(entries) = std::fs::read_dir("/usr/local/share/ca-certificates") {
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "crt")
                && let Some(name) = path.file_name()
            {
                std::fs::copy(&path, certs.join(name))
                    .with_context(|| format!("copying {}", path.display()))?;
            }
        }
    }
    let version = cmd::output(Command::new("rustc").arg("-vV"))?;
    let stamp = dir.join("rust.version");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(version.as_str()) {
        let sysroot = cmd::output(Command::new("rustc").args(["--print", "sysroot"]))?;
        let sysroot = Path::new(sysroot.trim());
        let rust = dir.join("rust");
        if rust.exists() {
            std::fs::remove_dir_all(&rust).with_context(|| format!("removing {}", rust.display()))?;
        }
        std::fs::create_dir_all(&rust)?;
        // bin (rustc, cargo), lib (the compiler and the standard library), libexec; not the docs in share.
        for part in ["bin", "lib", "libexec"] {
            if sysroot.join(part).exists() {
                cmd::run(Command::new("cp").arg("-a").arg(sysroot.join(part)).arg(&rust))?;
            }
        }
        std::fs::write(&stamp, version).context("writing the toolchain's stamp")?;
    }
    Ok(())
}
