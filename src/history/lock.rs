//! The lock that lets one `confdrift report` at a time write a history
//! directory: an OS file lock on `DIR/.lock`, released by the kernel
//! however the run ends. It must never depend on a pid (PID 1 is every
//! run's pid in a container), take over or remove a lock, or make a run
//! wait.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock logs as part of the history (`RUST_LOG=confdrift::history=debug`),
/// as it did before it had a module of its own.
const LOG: &str = "confdrift::history";

/// Held while a run writes the history: an exclusive OS lock
/// (`flock(2)` on Linux, `LockFileEx` on Windows) on `DIR/.lock`.
///
/// On a volume shared over NFS it holds across nodes too: since Linux
/// 2.6.12 NFS clients emulate `flock` as a byte-range lock on the whole
/// file, taken on the server (flock(2), "NFS details"; not with the
/// `local_lock` mount option).
///
/// The kernel releases it when the process ends, however it ends (SIGKILL,
/// OOM kill, node drain), so a killed run never locks the next one out; and
/// nothing is ever taken over or removed, so two runs cannot both believe
/// they hold it. The file itself stays: removing it while another run has
/// it open would let a third run lock a new file of the same name. The file
/// is opened close-on-exec, so `kubectl` or `helm` started by the run never
/// inherit (and outlive) the lock.
///
/// A second run is refused at once rather than made to wait: the run's
/// time is taken when it starts, so a run that waited would be recorded
/// before the run it waited for, and an overlap means two schedulers write
/// one history (the shipped CronJob has `concurrencyPolicy: Forbid`), which
/// is worth an error rather than a silent queue.
pub struct Lock {
    file: std::fs::File,
    path: PathBuf,
}

impl Lock {
    /// Takes the lock at `path`, or refuses at once if another run holds it.
    ///
    /// `run` says who takes it (the run's time); it is written into the lock
    /// file with the pid and host only so that a refused run can name the
    /// holder. What decides is the OS lock, never that text: a file left
    /// with `1` in it by an older confdrift, or by a run that was killed,
    /// does not block anybody.
    pub(super) fn take(path: &Path, run: &str) -> Result<Lock> {
        let path = path.to_path_buf();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                use std::io::Write;
                let holder = holder_description(run);
                // Informational only: a failure to write it changes nothing.
                let _ = file.set_len(0).and_then(|()| writeln!(file, "{holder}"));
                tracing::debug!(target: LOG, path = %path.display(), holder, "history locked");
                Ok(Lock { file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder's line, at most 512 bytes of whatever is there.
                let mut head = Vec::new();
                let _ = (&file).take(512).read_to_end(&mut head);
                let holder = String::from_utf8_lossy(&head);
                let holder = holder.lines().next().unwrap_or("").trim();
                let holder: String = holder.chars().take(200).collect();
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
            Err(std::fs::TryLockError::Error(e)) => Err(Error::Usage(format!(
                "{}: cannot lock the history ({e}); keep the history on a filesystem \
                 with file locks (a local disk, a PersistentVolume, NFS with locking)",
                path.display()
            ))),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Closing the file would release it too; unlocking first says so.
        let _ = self.file.unlock();
        tracing::trace!(target: LOG, path = %self.path.display(), "history unlocked");
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
