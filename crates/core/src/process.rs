//! Who holds a lease: this process named so that another process on the same machine can
//! tell, after a `kill -9`, that the holder is gone and need not wait for the lease to run
//! out. The name is `HOST/PID/START@NONCE`, where START is the process's start time in clock
//! ticks since boot (Linux `/proc`), so a reused PID is not mistaken for the holder.

use std::fs;

/// A fresh holder name for this process.
pub(crate) fn holder_name() -> String {
    let start = start_time(std::process::id()).unwrap_or_default();
    format!("{}/{}/{start}@{}", host(), std::process::id(), uuid::Uuid::now_v7())
}

/// Whether the holder `name` may still be running: false only when it ran on this machine
/// and its process is gone (or its PID now belongs to a younger process). Anything that
/// cannot be told — another machine, no `/proc` — counts as alive.
pub(crate) fn holder_alive(name: &str) -> bool {
    let Some((identity, _nonce)) = name.split_once('@') else { return true };
    let mut parts = identity.splitn(3, '/');
    let (Some(host_name), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return true;
    };
    let Ok(pid) = pid.parse::<u32>() else { return true };
    if host_name != host() || start.is_empty() || start_time(std::process::id()).is_none() {
        return true;
    }
    start_time(pid).is_some_and(|now| now == start)
}

fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Field 22 of `/proc/PID/stat` (after the command name, which may hold spaces).
fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        let me = holder_name();
        assert!(holder_alive(&me), "{me}");
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        let name = format!("{}/{pid}/{}@x", host(), start_time(pid).unwrap_or_else(|| "1".into()));
        child.wait().expect("wait");
        assert!(!holder_alive(&name), "{name} has exited");
        // A PID reused by another process: its start time differs.
        let reused = format!("{}/{}/1@x", host(), std::process::id());
        assert!(!holder_alive(&reused));
        assert!(holder_alive("elsewhere/1/1@x"), "another machine cannot be told");
        assert!(holder_alive("garbage"));
    }
}
