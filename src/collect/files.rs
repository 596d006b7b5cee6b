//! The file source: manifests, `kubectl get` dumps and confdrift snapshots,
//! given as files or directories.

use std::path::{Path, PathBuf};

use crate::collect::manifest::{self, Format, Parsed};
use crate::collect::snapshot::Snapshot;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Object, Problem, Severity};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The largest file confdrift reads: 256 MiB. A `kubectl get -o json` dump
/// of some 50,000 pods fits; anything larger is refused before it is read,
/// so a wrong path (a disk image, `/dev/zero`) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a whole input file of at most [`MAX_FILE_BYTES`] ([`read_at_most`]).
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    read_at_most(path, MAX_FILE_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            Error::input(
                path.display().to_string(),
                format!(
                    "{e}, larger than the {} confdrift reads from one file; split it (one \
                     namespace or kind per file) or read the cluster live \
                     (kube:CONTEXT/NAMESPACE)",
                    mebibytes(MAX_FILE_BYTES)
                ),
            )
        } else {
            Error::io(path, e)
        }
    })
}

/// Reads a whole file of at most `max` bytes: the size is checked before
/// reading, and again while reading for files whose size is not known up
/// front (pipes, `/dev/stdin`, devices). A larger file is an error of kind
/// [`std::io::ErrorKind::FileTooLarge`] saying how large it is (`is 300
/// MiB`, `is more than 1 MiB`); callers add what to do about it.
///
/// [`read_limited`] for input manifests; confdrift.yaml and policies have
/// smaller limits.
pub(crate) fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
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
pub(crate) fn mebibytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib.fract() == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

/// Reads every file below `paths` into one environment's [`Collected`].
pub fn collect_files(paths: &[PathBuf], key: &FingerprintKey) -> Result<Collected> {
    let mut collected = Collected {
        source: paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
        fingerprint_key_id: key.id().to_string(),
        ..Collected::default()
    };
    let mut files = Vec::new();
    // Files named on their own are expected to hold something; files found
    // in a directory may hold only Services and the like.
    let mut explicit = Vec::new();
    let mut ignored = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::input(
                path.display().to_string(),
                format!("cannot read: {e} (give a manifest file or a directory of them)"),
            )
        })?;
        if meta.is_dir() {
            let before = files.len();
            walk(path, &mut files, &mut ignored)?;
            explicit.extend(std::iter::repeat_n(false, files.len() - before));
        } else {
            files.push(path.clone());
            explicit.push(true);
        }
    }
    if !ignored.is_empty() {
        ignored.sort();
        collected.problems.push(Problem {
            code: "ignored-files".into(),
            severity: Severity::Info,
            incomplete: false,
            location: collected.source.clone(),
            message: format!(
                "{} file(s) without a .yaml, .yml or .json extension were not read: {}",
                ignored.len(),
                ignored
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    tracing::debug!(
        source = %collected.source,
        files = files.len(),
        ignored = ignored.len(),
        "files found"
    );
    if files.is_empty() {
        return Err(Error::input(
            collected.source.clone(),
            "no manifest files found (expected .yaml, .yml or .json files)",
        ));
    }
    let mut finished_pods = 0;
    for (file, explicit) in files.iter().zip(explicit) {
        read_file(file, explicit, key, &mut collected, &mut finished_pods)?;
    }
    let has_workloads = collected
        .objects
        .iter()
        .any(|o| matches!(o, Object::Pod { .. } | Object::Workload { .. }));
    if !has_workloads {
        collected.problems.push(Problem {
            code: "no-workloads".into(),
            severity: Severity::Warning,
            incomplete: false,
            location: collected.source.clone(),
            message: "no Pods or workloads found in this environment; is this the right source?"
                .into(),
        });
    }
    collected.files = files.len();
    if finished_pods > 0 {
        collected.problems.push(Problem {
            code: "finished-pods".into(),
            severity: Severity::Info,
            incomplete: false,
            location: collected.source.clone(),
            message: format!(
                "{finished_pods} finished pod(s) (phase Succeeded or Failed) were left out; \
                 their workloads' templates still count"
            ),
        });
    }
    super::finish(&mut collected);
    Ok(collected)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, ignored: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, files, ignored)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        } else {
            tracing::trace!(file = %path.display(), "not read: no .yaml, .yml or .json extension");
            ignored.push(path);
        }
    }
    Ok(())
}

fn read_file(
    path: &Path,
    explicit: bool,
    key: &FingerprintKey,
    collected: &mut Collected,
    finished_pods: &mut usize,
) -> Result<()> {
    let shown = path.display().to_string();
    let started = std::time::Instant::now();
    let (parsed, had_snapshot, empty, how) = match read_json_streaming(path, &shown, key)? {
        Some(parsed) => (parsed, false, false, "JSON from a reader"),
        None => {
            let (parsed, had_snapshot, empty) = parse_text(path, &shown, key, collected)?;
            (parsed, had_snapshot, empty, "text")
        }
    };
    // Names and counts only: never a value.
    tracing::debug!(
        file = %shown,
        how,
        objects = parsed.objects.len(),
        skipped = parsed.skipped_kinds.values().sum::<usize>(),
        finished_pods = parsed.finished_pods,
        snapshot = had_snapshot,
        elapsed = ?started.elapsed(),
        "file read"
    );
    if explicit && parsed.objects.is_empty() && !had_snapshot && !empty {
        let found = if parsed.skipped_kinds.is_empty() {
            "no objects".to_string()
        } else {
            parsed
                .skipped_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        collected.problems.push(Problem {
            code: "no-workloads".into(),
            severity: Severity::Warning,
            incomplete: false,
            location: shown.clone(),
            message: format!(
                "holds no Pods, workloads, ConfigMaps or Secrets (found: {found}); \
                 is this the right file?"
            ),
        });
    }
    if empty {
        collected.problems.push(Problem {
            code: "no-workloads".into(),
            severity: Severity::Warning,
            incomplete: false,
            location: shown.clone(),
            message: "is empty (no YAML or JSON documents); is this the right file?".into(),
        });
    }
    *finished_pods += parsed.finished_pods;
    for (k, n) in parsed.skipped_kinds {
        *collected.skipped_kinds.entry(k).or_default() += n;
    }
    collected.objects.extend(parsed.objects);
    Ok(())
}

/// Reads a regular file that starts with `{` (after whitespace) as one JSON
/// document from a buffered reader, without holding its text (see
/// [`manifest::parse_json_reader`]). `None`: read it whole instead.
fn read_json_streaming(path: &Path, shown: &str, key: &FingerprintKey) -> Result<Option<Parsed>> {
    use std::io::{BufRead as _, Read as _};
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    match file.metadata() {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE_BYTES => {}
        _ => return Ok(None),
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file.take(MAX_FILE_BYTES));
    // Skip leading whitespace, counting lines, up to the first `{`.
    let mut line = 1;
    loop {
        let buf = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let blank = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        line += buf[..blank].iter().filter(|b| **b == b'\n').count();
        if blank == 0 {
            if first != b'{' {
                return Ok(None);
            }
            break;
        }
        reader.consume(blank);
    }
    Ok(manifest::parse_json_reader(reader, line, shown, key))
}

/// Reads a file whole and parses every document in it: YAML, JSON streams,
/// and every file [`read_json_streaming`] turned down. Returns what was
/// parsed, whether the file was a snapshot, and whether it was empty.
fn parse_text(
    path: &Path,
    shown: &str,
    key: &FingerprintKey,
    collected: &mut Collected,
) -> Result<(Parsed, bool, bool)> {
    let bytes = read_limited(path)?;
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(Error::input(
            format!("{shown}:1"),
            "is UTF-16 text (it starts with a UTF-16 byte order mark, as PowerShell's `>` \
             writes); confdrift reads UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8`, \
             or write it with `| Out-File -Encoding utf8`",
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Error::input(
            format!(
                "{shown}:{}",
                1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
            ),
            format!(
                "not valid UTF-8 (byte {}); Kubernetes manifests are UTF-8 text",
                e.valid_up_to()
            ),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = manifest::split_documents(text, shown)?;
    let mut parsed = Parsed::default();
    let mut had_snapshot = false;
    for (i, doc) in docs.iter().enumerate() {
        manifest::parse_document(doc, i, shown, key, &mut parsed)?;
        tracing::trace!(
            file = %shown,
            document = i + 1,
            line = doc.line,
            format = ?doc.format,
            objects_so_far = parsed.objects.len(),
            "document read"
        );
        if let Some((index, format)) = parsed.snapshot_doc.take() {
            let doc = &docs[index];
            let snapshot = Snapshot::parse(doc.text, format == Format::Json).map_err(|e| {
                // Never quote a value: a file that claims to be a
                // snapshot may hold anything.
                Error::input(format!("{shown}:{}", doc.line), manifest::sanitize(&e))
            })?;
            snapshot.merge_into(collected, key, shown);
            had_snapshot = true;
        }
    }
    Ok((parsed, had_snapshot, docs.is_empty()))
}
