//! The history's lock: `DIR/.lock`, an OS file lock ([`crate::fsio::Lock`])
//! that lets one `confdrift report` at a time write a history directory,
//! released by the kernel however the run ends. This file says who holds it
//! and what a refused run is told; it must never make a run wait.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsio::{Lock, LockError};

/// The lock logs as part of the history (`RUST_LOG=confdrift::history=debug`),
/// as it did before it had a module of its own.
const LOG: &str = "confdrift::history";

/// Takes the lock at `path` for the run of `run` (its time), or refuses at
/// once if another run holds it.
///
/// A second run is refused rather than made to wait: the run's time is
/// taken when it starts, so a run that waited would be recorded before the
/// run it waited for, and an overlap means two schedulers write one
/// history (the shipped CronJob has `concurrencyPolicy: Forbid`), which is
/// worth an error rather than a silent queue.
///
/// The pid, host and run time are written into the lock file only so that
/// a refused run can name the holder. What decides is the OS lock, never
/// that text: a file left with `1` in it by an older confdrift, or by a run
/// that was killed, does not block anybody.
pub(super) fn take(path: &Path, run: &str) -> Result<Lock> {
    let holder = holder_description(run);
    match Lock::take(path, &holder) {
        Ok(lock) => {
            tracing::debug!(target: LOG, path = %path.display(), holder, "history locked");
            Ok(lock)
        }
        Err(LockError::Open(e)) => Err(Error::io(path, e)),
        Err(LockError::Held { holder }) => {
            tracing::debug!(target: LOG, path = %path.display(), holder, "history lock is held");
            let by = if holder.is_empty() {
                String::new()
            } else {
                format!(" ({})", crate::report::visible(&holder))
            };
            Err(Error::Usage(format!(
                "{}: another confdrift report{by} is writing this history; this run is \
                 refused, not queued. Run it again when that one has finished: the lock \
                 is released when its process exits, even if it is killed",
                path.display()
            )))
        }
        Err(LockError::Lock(e)) => Err(Error::Usage(format!(
            "{}: cannot lock the history ({e}); keep the history on a filesystem \
             with file locks (a local disk, a PersistentVolume, NFS with locking)",
            path.display()
        ))),
    }
}

/// Who holds the lock, for the message of a refused run: pid, host (a
/// pod's name in Kubernetes) and the run's time.
fn holder_description(run: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .map(|h| format!(" on {h}"))
        .unwrap_or_default();
    format!("pid {}{host}, run of {run}", std::process::id())
}

#[cfg(test)]
mod tests {
    use crate::history::{History, LOCK};

    #[test]
    fn a_lock_file_left_with_pid_1_by_a_killed_run_does_not_block() {
        // In a container every run is PID 1, and /proc/1 is always alive.
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        std::fs::write(dir.path().join(LOCK), "1\n").unwrap();
        let lock = h
            .lock("2026-12-07T01:02:03Z")
            .expect("a stale file is no lock");
        let text = std::fs::read_to_string(dir.path().join(LOCK)).unwrap();
        assert!(
            text.starts_with(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(lock);
        assert!(
            dir.path().join(LOCK).exists(),
            "the lock file is never removed"
        );
        h.lock("2026-12-07T01:02:04Z")
            .expect("free again once released");
    }

    #[test]
    fn a_held_lock_refuses_another_run_and_names_its_holder() {
        // flock(2) locks belong to an open file: a second open, even in the
        // same process, is another run as far as the lock is concerned.
        let dir = tempfile::tempdir().unwrap();
        let first = History::open(dir.path()).unwrap();
        let second = History::open(dir.path()).unwrap();
        let held = first.lock("2026-12-07T01:02:03Z").unwrap();
        let err = second.lock("2026-12-07T01:02:03Z").err().expect("refused");
        let msg = err.to_string();
        assert!(msg.contains("another confdrift report"), "{msg}");
        assert!(msg.contains("run of 2026-12-07T01:02:03Z"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        // The text is only informational, and read as untrusted: its first
        // line, at most 200 characters, escapes written out.
        let junk = format!("\x1b[2Jpid 9\u{202e}{}\nsecond line", "x".repeat(100_000));
        std::fs::write(dir.path().join(LOCK), junk).unwrap();
        let msg = second.lock("t").err().expect("still refused").to_string();
        assert!(msg.contains("(\\x1b[2Jpid 9\\u{202e}xxx"), "{msg}");
        assert!(!msg.contains("second line") && msg.len() < 600, "{msg}");
        drop(held);
        second
            .lock("2026-12-07T01:02:04Z")
            .expect("taken once released");
    }
}
