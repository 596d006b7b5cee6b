//! Files, read and written safely: a whole file read under a size limit, a
//! file replaced atomically, and an exclusive lock on a file. A leaf: it
//! knows the standard library and nothing of confdrift, so its errors are
//! `std::io` errors (with the path where one alone would not say it), and
//! callers say what a failure means for the user. It must never decide
//! anything for a caller: no retries, no waiting, no fallback.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// reading under a size limit
// ---------------------------------------------------------------------------

/// Reads a whole file of at most `max` bytes: the size is checked before
/// reading, and again while reading for files whose size is not known up
/// front (pipes, `/dev/stdin`, devices). A larger file is an error of kind
/// [`std::io::ErrorKind::FileTooLarge`] saying how large it is (`is 300
/// MiB`, `is more than 1 MiB`); callers add what to do about it.
///
/// `collect::files::read_limited` for input manifests; confdrift.yaml and
/// policies have smaller limits.
pub fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let too_large = |size: String| std::io::Error::new(std::io::ErrorKind::FileTooLarge, size);
    let file = std::fs::File::open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max {
        return Err(too_large(format!("is {}", mebibytes(size))));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(format!("is more than {}", mebibytes(max))));
    }
    Ok(bytes)
}

/// `256 MiB`, `300.5 MiB`.
pub fn mebibytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib.fract() == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

// ---------------------------------------------------------------------------
// atomic writes
// ---------------------------------------------------------------------------

/// An I/O error and the path it is about: the file, or the directory a
/// temporary file was to be made in.
#[derive(Debug)]
pub struct PathError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, then a rename, so a reader never sees half a report.
///
/// A file that exists keeps its permissions; a new one gets those of
/// `File::create` (or the shell's `>`): 0666 less the umask, 0644 usually.
/// Not the temporary file's own 0600, which a CI step or web server
/// running as another user could not read.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), PathError> {
    write_atomic_with(path, |w| w.write_all(contents))
}

/// [`write_atomic`] with the contents written by `write`, through a buffer:
/// a large output (a snapshot) is streamed to the file, never whole in
/// memory.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), PathError> {
    let at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| PathError { path: p, source }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(at(dir))?;
    if let Some(permissions) = existing {
        tmp.as_file()
            .set_permissions(permissions)
            .map_err(at(path))?;
    }
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        write(&mut out).map_err(at(path))?;
        out.flush().map_err(at(path))?;
    }
    tmp.as_file().sync_all().map_err(at(path))?;
    tmp.persist(path).map_err(|e| at(path)(e.error))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// the lock file
// ---------------------------------------------------------------------------

/// An exclusive OS lock (`flock(2)` on Linux, `LockFileEx` on Windows) on a
/// file, held until dropped. It must never depend on a pid (PID 1 is every
/// run's pid in a container), take over or remove a lock, or make a caller
/// wait.
///
/// On a volume shared over NFS it holds across nodes too: since Linux
/// 2.6.12 NFS clients emulate `flock` as a byte-range lock on the whole
/// file, taken on the server (flock(2), "NFS details"; not with the
/// `local_lock` mount option).
///
/// The kernel releases it when the process ends, however it ends (SIGKILL,
/// OOM kill, node drain), so a killed holder never locks the next one out;
/// and nothing is ever taken over or removed, so two processes cannot both
/// believe they hold it. The file itself stays: removing it while another
/// process has it open would let a third lock a new file of the same name.
/// The file is opened close-on-exec, so `kubectl` or `helm` started by the
/// holder never inherit (and outlive) the lock.
///
/// A second taker is refused at once rather than made to wait (see
/// `history::History::lock` for why the nightly job wants that).
pub struct Lock {
    file: std::fs::File,
    path: PathBuf,
}

/// Why a [`Lock`] was not taken.
#[derive(Debug)]
pub enum LockError {
    /// The lock file cannot be opened or created.
    Open(std::io::Error),
    /// Another process holds it. `holder` is the first line of the lock
    /// file, at most 200 characters: untrusted text, to be escaped before
    /// it is shown.
    Held { holder: String },
    /// The filesystem cannot lock files.
    Lock(std::io::Error),
}

impl Lock {
    /// Takes the lock at `path`, or refuses at once if another process
    /// holds it.
    ///
    /// `holder` says who takes it; it is written into the lock file only
    /// so that a refused taker can name the holder. What decides is the OS
    /// lock, never that text: a file left by a process that was killed
    /// does not block anybody.
    pub fn take(path: &Path, holder: &str) -> Result<Lock, LockError> {
        let path = path.to_path_buf();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(LockError::Open)?;
        match file.try_lock() {
            Ok(()) => {
                // Informational only: a failure to write it changes nothing.
                let _ = file.set_len(0).and_then(|()| writeln!(file, "{holder}"));
                Ok(Lock { file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder's line, at most 512 bytes of whatever is there.
                let mut head = Vec::new();
                let _ = (&file).take(512).read_to_end(&mut head);
                let holder = String::from_utf8_lossy(&head);
                let holder = holder.lines().next().unwrap_or("").trim();
                Err(LockError::Held {
                    holder: holder.chars().take(200).collect(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(LockError::Lock(e)),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Closing the file would release it too; unlocking first says so.
        let _ = self.file.unlock();
        tracing::trace!(path = %self.path.display(), "lock released");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_another_taker_with_the_holder_line_until_dropped() {
        // flock(2) locks belong to an open file: a second open, even in the
        // same process, is another taker.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let held = Lock::take(&path, "pid 7, run of today\nsecond line").unwrap();
        let Err(LockError::Held { holder }) = Lock::take(&path, "another") else {
            panic!("a held lock was taken twice");
        };
        assert_eq!(holder, "pid 7, run of today");
        drop(held);
        Lock::take(&path, "another").expect("free once dropped");
        assert!(path.exists(), "the lock file is never removed");
    }

    #[test]
    fn a_write_into_a_missing_directory_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let e = write_atomic(&missing.join("report.html"), b"<html>").unwrap_err();
        assert_eq!(e.path, missing);
        assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);
    }
}
