//! The file source: manifests, `kubectl get` dumps and confdrift snapshots,
//! given as files or directories.

use std::path::{Path, PathBuf};

use crate::collect::manifest::{self, Format, Parsed};
use crate::collect::snapshot::Snapshot;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Object, Problem, Severity};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
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
    let docs = manifest::split_documents(text, &shown)?;
    let mut parsed = Parsed::default();
    let mut had_snapshot = false;
    for (i, doc) in docs.iter().enumerate() {
        manifest::parse_document(doc, i, &shown, key, &mut parsed)?;
        if let Some((index, format)) = parsed.snapshot_doc.take() {
            let doc = &docs[index];
            let snapshot = Snapshot::parse(doc.text, format == Format::Json)
                .map_err(|e| Error::input(format!("{shown}:{}", doc.line), e))?;
            snapshot.merge_into(collected, key, &shown);
            had_snapshot = true;
        }
    }
    if explicit && parsed.objects.is_empty() && !had_snapshot && !docs.is_empty() {
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
    if docs.is_empty() {
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
