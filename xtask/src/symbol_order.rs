//! `cargo xtask symbol-order`: writes `src-tauri/symbol-order.txt`, the order in which the linker lays out
//! the desktop app's functions (`src-tauri/build.rs` hands it to lld as `--symbol-ordering-file`).
//!
//! Why: the kernel maps a binary's code in windows around each page the program touches (fault-around, 64
//! KiB) and keeps it mapped, and fat LTO scatters the functions a session runs over the whole 12.7 MB of
//! text, so nearly all of it ended up resident — our code was ~13 MB of the app process' memory. Laid out
//! with the functions the app runs first and together, only that part is touched.
//!
//! How: the packaged build (profile `dist`) is linked once more with a link map, then driven by the desktop
//! bench's driver (a live hour, the 200-message conversation, 21 chat turns) under valgrind's callgrind,
//! which records every instruction the app process executes. Each executed address falls in one input
//! section of the map (`.text.<symbol>`, one per function), and the file lists those symbols in the order
//! they first ran. The symbols' names carry hashes that change with the toolchain and the locked crate
//! versions; lld skips the names it no longer finds, so an old file degrades to the unordered layout, never
//! to a failed link. Run this again after a toolchain or dependency update.

use crate::bench_desktop::{self, PACKAGE_PROFILE};
use crate::{cmd, root, system, target_dir, ui};
use anyhow::{Context, bail};
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where the order goes (read by src-tauri/build.rs).
const ORDER_FILE: &str = "src-tauri/symbol-order.txt";
/// What valgrind names the process of a program it runs under callgrind (the kernel keeps 15 characters):
/// the driver finds the app process by the name of the file it started, so the wrapper is named so too.
const CALLGRIND_PROCESS: &str = "callgrind-amd64";
/// The driven session under callgrind's ~50× slower app process.
const PROFILE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// callgrind writes its profile when the program exits, and the driver's end kills the app: dump on a
/// timer instead (each dump holds what ran since the last).
const DUMP_EVERY: Duration = Duration::from_secs(10);

pub fn run() -> anyhow::Result<()> {
    ui::prepare(&[
        system::BUILD_PACKAGES,
        system::APP_PACKAGES,
        system::HEADLESS_PACKAGES,
        &["valgrind"],
    ])?;
    system::ensure_tauri_driver()?;
    ui::build()?;
    let work = tempfile::Builder::new().prefix("auren-symbol-order-").tempdir()?;
    let map = work.path().join("auren-app.map");
    eprintln!("==> linking the app (profile {PACKAGE_PROFILE}) with a link map");
    cmd::run(cmd::cargo().current_dir(root()).args([
        "rustc",
        "--locked",
        "--profile",
        PACKAGE_PROFILE,
        "-p",
        "auren-app",
        "--bin",
        "auren-app",
        "--",
        "-C",
        &format!("link-arg=-Wl,-Map={}", map.display()),
    ]))?;
    let app = work.path().join("auren-app");
    std::fs::copy(target_dir().join(PACKAGE_PROFILE).join("auren-app"), &app)?;
    let profiles = work.path().join("callgrind");
    std::fs::create_dir(&profiles)?;
    let wrapper = work.path().join(CALLGRIND_PROCESS);
    std::fs::write(&wrapper, wrapper_script(&app, &profiles))?;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    eprintln!("==> driving the app under callgrind (minutes: its process runs ~50× slower)");
    profile_session(&wrapper)?;
    let sections = parse_map(&std::fs::read_to_string(&map).context("reading the link map")?);
    let executed = executed_addresses(&profiles)?;
    let order = symbols_in_order(&sections, &executed);
    let bytes: u64 = order.iter().map(|s| s.size).sum();
    let text: u64 = sections.iter().map(|s| s.size).sum();
    eprintln!(
        "==> {} of {} functions ran ({:.2} of {:.2} MB of code); writing {ORDER_FILE}",
        order.len(),
        sections.len(),
        bytes as f64 / 1e6,
        text as f64 / 1e6
    );
    std::fs::write(root().join(ORDER_FILE), render(&order))?;
    Ok(())
}

/// A shell script that runs `app` under callgrind with every executed instruction's address recorded.
fn wrapper_script(app: &Path, profiles: &Path) -> String {
    format!(
        "#!/bin/sh\nexec valgrind --tool=callgrind --dump-instr=yes --compress-strings=no --compress-pos=no \
         --callgrind-out-file={}/callgrind.out.%p {} \"$@\"\n",
        profiles.display(),
        app.display()
    )
}

/// The desktop bench's driven session with the app behind `wrapper`, dumping callgrind's counts meanwhile.
/// The driver's figures are valgrind's, not the app's, so only its success matters.
fn profile_session(wrapper: &Path) -> anyhow::Result<()> {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(DUMP_EVERY);
                // Fails harmlessly before the app has started.
                let _ = std::process::Command::new("callgrind_control")
                    .arg("--dump")
                    .output();
            }
        });
        let status = bench_desktop::drive(wrapper, "lean", PROFILE_TIMEOUT, |line| {
            eprintln!("    {line}");
        });
        done.store(true, Ordering::Relaxed);
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => bail!("the driven session failed under callgrind ({status})"),
            Err(e) => Err(e),
        }
    })
}

/// One function's input section in the link map: where it was placed, its size and its symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Section {
    start: u64,
    size: u64,
    symbol: String,
}

/// The `.text.<symbol>` input sections of an lld link map (`-Map`), by address. lld writes
/// `VMA LMA Size Align` and then the output section (one space), the input section (9) or a symbol (17);
/// with `-ffunction-sections` (rustc's default) each function has an input section of its own.
fn parse_map(map: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut in_text = false;
    for line in map.lines() {
        let mut fields = line.split_whitespace();
        let (Some(vma), Some(_lma), Some(size)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let (Ok(start), Ok(size), Some(rest)) = (
            u64::from_str_radix(vma, 16),
            u64::from_str_radix(size, 16),
            after_fields(line, 4),
        ) else {
            continue;
        };
        let name = rest.trim_start();
        match rest.len() - name.len() {
            0 => {}
            1 => in_text = name == ".text",
            2..=9 if in_text => {
                if let Some(symbol) = function_symbol(name) {
                    sections.push(Section {
                        start,
                        size,
                        symbol: symbol.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    sections.sort_by_key(|s| s.start);
    sections
}

/// What follows the first `n` whitespace-separated fields of `line`, from the whitespace after them.
fn after_fields(line: &str, n: usize) -> Option<&str> {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace)?..];
    }
    Some(rest)
}

/// The symbol of a function's input section, `<object>:(.text.<symbol>)`. Compilers may put a hot, cold
/// (`unlikely`), start-up or exit prefix before the name, and GCC names some sections by that alone
/// (`.text.startup` holds a C library's initialisers): those name no function.
fn function_symbol(input: &str) -> Option<&str> {
    const KINDS: [&str; 4] = ["unlikely", "hot", "startup", "exit"];
    let section = input.strip_suffix(')')?.rsplit_once(":(")?.1;
    let mut symbol = section.strip_prefix(".text.")?;
    for kind in KINDS {
        if let Some(rest) = symbol.strip_prefix(kind).and_then(|r| r.strip_prefix('.')) {
            symbol = rest;
        }
    }
    (!symbol.is_empty() && !KINDS.contains(&symbol)).then_some(symbol)
}

/// Every instruction address of the app binary in callgrind's profiles (`--dump-instr=yes
/// --compress-strings=no --compress-pos=no`), in the order they first appear; the dumps are read in the
/// order callgrind wrote them.
fn executed_addresses(profiles: &Path) -> anyhow::Result<Vec<u64>> {
    let mut files: Vec<_> = std::fs::read_dir(profiles)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort_by_key(|path| dump_order(&path.file_name().unwrap_or_default().to_string_lossy()));
    let mut seen = HashSet::new();
    let mut addresses = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        for address in app_addresses(&text) {
            if seen.insert(address) {
                addresses.push(address);
            }
        }
    }
    if addresses.is_empty() {
        bail!("callgrind recorded nothing of the app in {}", profiles.display());
    }
    Ok(addresses)
}

/// Where a profile file comes in the order callgrind wrote them: `callgrind.out.<pid>.<n>` by process, then
/// by dump number (numerically), then the dump at exit, `callgrind.out.<pid>`, last.
fn dump_order(name: &str) -> (u64, bool, u64) {
    let numbers = name.strip_prefix("callgrind.out.").unwrap_or(name);
    let (pid, dump) = match numbers.split_once('.') {
        Some((pid, dump)) => (pid, dump.parse().ok()),
        None => (numbers, None),
    };
    (pid.parse().unwrap_or(0), dump.is_none(), dump.unwrap_or(0))
}

/// The instruction addresses one profile gives for the object named `…/auren-app`. A cost line starts with
/// its address (`0x…`); `ob=` names the object of the lines that follow.
fn app_addresses(profile: &str) -> impl Iterator<Item = u64> + '_ {
    let mut in_app = false;
    profile.lines().filter_map(move |line| {
        if let Some(object) = line.strip_prefix("ob=") {
            in_app = object.trim_end().ends_with("/auren-app");
            return None;
        }
        let hex = line.split_whitespace().next()?.strip_prefix("0x")?;
        in_app.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
    })
}

/// The sections `executed` falls in, each once, in the order of its first executed address.
fn symbols_in_order<'a>(sections: &'a [Section], executed: &[u64]) -> Vec<&'a Section> {
    let mut taken = HashSet::new();
    let mut order = Vec::new();
    for &address in executed {
        let after = sections.partition_point(|s| s.start <= address);
        let Some(section) = after.checked_sub(1).map(|i| &sections[i]) else {
            continue;
        };
        if address < section.start + section.size.max(1) && taken.insert(section.start) {
            order.push(section);
        }
    }
    order
}

/// The ordering file: lld ignores lines starting with `#`.
fn render(order: &[&Section]) -> String {
    let mut out = String::from(
        "# The desktop app's functions in the order a driven session first ran them: lld places them first and\n\
         # together (src-tauri/build.rs). Written by `cargo xtask symbol-order`; run it again after a toolchain\n\
         # or dependency update (names lld no longer finds are skipped).\n",
    );
    for section in order {
        out.push_str(&section.symbol);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "\
             VMA              LMA     Size Align Out     In      Symbol
             2e0              2e0       1c     1 .interp
             2e0              2e0       1c     1         <internal>:(.interp)
          a05ec0           a05ec0       40    64 .text
          a05ec0           a05ec0       22    16         /usr/lib/x86_64-linux-gnu/Scrt1.o:(.text)
          a05ec0           a05ec0       22     1                 _start
          a05ee2           a05ee2        5     1         /t/app.rcgu.o:(.text._ZN3app4main17h01E)
          a05ee2           a05ee2        5     1                 app::main::h01
          a05ef0           a05ef0       10    16         /t/app.rcgu.o:(.text.unlikely._ZN3app4cold17h02E)
          a05f00           a05f00        8    16         /t/libsqlite3.a(sqlite3.o):(.text.sqlite3_open)
          a05f10           a05f10       30    16         /t/libring.a(cpu.o):(.text.startup)
          b00000           b00000       20     8 .rodata
          b00000           b00000       20     8         /t/app.rcgu.o:(.text.not_code)
";

    #[test]
    fn the_map_gives_each_function_section_of_the_text_with_its_symbol() {
        let sections = parse_map(MAP);
        let found: Vec<(u64, u64, &str)> = sections
            .iter()
            .map(|s| (s.start, s.size, s.symbol.as_str()))
            .collect();
        // The start-up object's plain .text and GCC's .text.startup name no function; .rodata is not code.
        assert_eq!(
            found,
            [
                (0xa05ee2, 5, "_ZN3app4main17h01E"),
                (0xa05ef0, 0x10, "_ZN3app4cold17h02E"),
                (0xa05f00, 8, "sqlite3_open"),
            ]
        );
    }

    #[test]
    fn only_the_app_objects_instructions_are_taken() {
        let profile = "\
version: 1
ob=/usr/lib/x86_64-linux-gnu/libc.so.6
fn=0x0000000000012340
0x12340 3
ob=/tmp/auren-symbol-order-x/auren-app
fn=0x0000000000a05ee2
0xa05ee2 1
0xa05ef4 2
cob=/usr/lib/x86_64-linux-gnu/libc.so.6
cfn=0x0000000000012340
calls=1 0x12340
0xa05ee4 7
totals: 13
";
        let addresses: Vec<u64> = app_addresses(profile).collect();
        assert_eq!(addresses, [0xa05ee2, 0xa05ef4, 0xa05ee4]);
    }

    #[test]
    fn profiles_are_read_in_the_order_callgrind_wrote_them() {
        let mut names = [
            "callgrind.out.7",
            "callgrind.out.7.10",
            "callgrind.out.7.2",
            "callgrind.out.12.1",
            "callgrind.out.7.1",
        ];
        names.sort_by_key(|name| dump_order(name));
        assert_eq!(
            names,
            [
                "callgrind.out.7.1",
                "callgrind.out.7.2",
                "callgrind.out.7.10",
                // The dump at exit comes after the numbered ones, whatever the numbers.
                "callgrind.out.7",
                "callgrind.out.12.1",
            ]
        );
    }

    #[test]
    fn sections_come_once_in_the_order_they_first_ran() {
        let sections = parse_map(MAP);
        let cases: [(&[u64], &[&str]); 4] = [
            (&[], &[]),
            // cold runs before main; main's second address adds nothing.
            (
                &[0xa05ef4, 0xa05ee2, 0xa05ee4],
                &["_ZN3app4cold17h02E", "_ZN3app4main17h01E"],
            ),
            // Before the first function, in a gap, and past the last: no section.
            (&[0xa05ec0, 0xa05ee7, 0xa05f08, 0xa05f03], &["sqlite3_open"]),
            (&[0xa05f00, 0xa05ee2], &["sqlite3_open", "_ZN3app4main17h01E"]),
        ];
        for (executed, want) in cases {
            let got: Vec<&str> = symbols_in_order(&sections, executed)
                .iter()
                .map(|s| s.symbol.as_str())
                .collect();
            assert_eq!(got, want, "executed {executed:x?}");
        }
    }

    #[test]
    fn the_file_explains_itself_in_comment_lines_lld_skips() {
        let sections = parse_map(MAP);
        let text = render(&symbols_in_order(&sections, &[0xa05f00]));
        let symbols: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(symbols, ["sqlite3_open"]);
        assert!(text.lines().next().is_some_and(|l| l.starts_with("# ")));
    }
}
