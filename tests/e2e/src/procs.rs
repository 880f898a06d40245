//! Process trees on Linux through `/proc`: the descendants of a process, their memory, killing them.
//!
//! tauri-driver starts WebKitWebDriver, which starts the app, which starts WebKit's web and network
//! processes. A test that fails or times out must not leave any of them running, and the memory benchmark
//! must count all of them, so both walk the tree rather than trusting one pid.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub parent: u32,
    /// The command name (at most 15 bytes, as the kernel keeps it).
    pub name: String,
}

/// Parses `/proc/<pid>/stat`: `pid (name) state ppid …`; the name may itself hold spaces and parentheses,
/// so the fields after it are found from the last `)`.
pub fn parse_stat(stat: &str) -> Option<ProcessInfo> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let pid = stat.get(..open)?.trim().parse().ok()?;
    let name = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let parent = rest.next()?.parse().ok()?;
    Some(ProcessInfo { pid, parent, name })
}

/// Every process now running, by pid (processes that end while being read are left out).
pub fn all_processes() -> BTreeMap<u32, ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| parse_stat(&s))
        .map(|p| (p.pid, p))
        .collect()
}

/// The descendants of `root` in `processes` (children, their children, …), parents before children.
pub fn descendants_in(processes: &BTreeMap<u32, ProcessInfo>, root: u32) -> Vec<ProcessInfo> {
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for p in processes.values().filter(|p| p.parent == parent) {
            frontier.push(p.pid);
            found.push(p.clone());
        }
    }
    found
}

/// The descendants of `root` now running.
pub fn descendants(root: u32) -> Vec<ProcessInfo> {
    descendants_in(&all_processes(), root)
}

/// Sends SIGKILL to `root`, its process group (`root` leads one when it was spawned with
/// `process_group(0)`) and every descendant found before the signal, which catches the ones that
/// started a session or group of their own.
pub fn kill_tree(root: u32) {
    let mut targets: Vec<String> = vec![format!("-{root}"), root.to_string()];
    targets.extend(descendants(root).iter().map(|p| p.pid.to_string()));
    // kill(1) rather than kill(2): the workspace forbids unsafe code. It reports the processes that
    // were already gone, which is expected here, so its output is dropped.
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .args(&targets)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Resident and proportional set size of one process, and its private anonymous memory (heap, stacks,
/// canvases: what it allocated itself, as opposed to shared library code mapped in every process), and its
/// private memory (clean and dirty pages no other process maps: what ending it would give back), in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub anon_kib: u64,
    pub private_kib: u64,
}

impl std::ops::Add for Memory {
    type Output = Memory;
    fn add(self, other: Memory) -> Memory {
        Memory {
            rss_kib: self.rss_kib + other.rss_kib,
            pss_kib: self.pss_kib + other.pss_kib,
            anon_kib: self.anon_kib + other.anon_kib,
            private_kib: self.private_kib + other.private_kib,
        }
    }
}

/// Reads `Rss:`, `Pss:`, `Anonymous:` and `Private_Clean:` + `Private_Dirty:` from the text of
/// `/proc/<pid>/smaps_rollup`.
pub fn parse_smaps_rollup(text: &str) -> Option<Memory> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    Some(Memory {
        rss_kib: field("Rss:")?,
        pss_kib: field("Pss:")?,
        anon_kib: field("Anonymous:")?,
        private_kib: field("Private_Clean:")? + field("Private_Dirty:")?,
    })
}

/// The memory of one process, `None` when it is gone or unreadable.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("smaps_rollup")).ok()?;
    parse_smaps_rollup(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_odd_names() {
        let cases = [
            (
                "1234 (auren-app) S 1200 1234 17 0 -1",
                Some((1234, 1200, "auren-app")),
            ),
            (
                "77 (Web Content (x)) R 76 77 0",
                Some((77, 76, "Web Content (x)")),
            ),
            ("garbage", None),
            ("12 (x) S notanumber", None),
        ];
        for (line, want) in cases {
            let got = parse_stat(line).map(|p| (p.pid, p.parent, p.name));
            assert_eq!(
                got,
                want.map(|(a, b, c): (u32, u32, &str)| (a, b, c.to_string())),
                "{line}"
            );
        }
    }

    #[test]
    fn descendants_follow_every_generation_and_nothing_else() {
        let tree: BTreeMap<u32, ProcessInfo> = [(10, 1), (11, 10), (12, 11), (13, 11), (20, 1), (21, 20)]
            .into_iter()
            .map(|(pid, parent)| {
                (
                    pid,
                    ProcessInfo {
                        pid,
                        parent,
                        name: format!("p{pid}"),
                    },
                )
            })
            .collect();
        let mut got: Vec<u32> = descendants_in(&tree, 10).iter().map(|p| p.pid).collect();
        got.sort_unstable();
        assert_eq!(got, vec![11, 12, 13]);
        assert!(descendants_in(&tree, 12).is_empty());
    }

    #[test]
    fn smaps_rollup_gives_rss_and_pss() {
        let text = "00400000-7ffd r--p 00000000 00:00 0 [rollup]\nRss:              183424 kB\nPss:              120017 kB\nPss_Anon: 1 kB\nPrivate_Clean:      2048 kB\nPrivate_Dirty:     40000 kB\nAnonymous:         36008 kB\n";
        assert_eq!(
            parse_smaps_rollup(text),
            Some(Memory {
                rss_kib: 183_424,
                pss_kib: 120_017,
                anon_kib: 36_008,
                private_kib: 42_048,
            })
        );
        assert_eq!(parse_smaps_rollup("Rss: 1 kB\n"), None);
    }

    #[test]
    fn this_process_has_memory_and_a_child_is_found_then_killed() {
        let me = std::process::id();
        assert!(memory_of(me).is_some_and(|m| m.rss_kib > 0));
        let mut child = Command::new("sleep").arg("600").spawn().unwrap();
        assert!(descendants(me).iter().any(|p| p.pid == child.id()));
        kill_tree(child.id());
        let status = child.wait().unwrap();
        assert!(!status.success());
    }
}
