//! collect: read one environment's Kubernetes objects from its source.
//!
//! This is the only stage that does I/O. It never interprets configuration;
//! it records everything it could not read as a [`Problem`] of the
//! environment instead of skipping it in silence.

pub mod files;
pub mod kube;
pub mod manifest;
pub mod runtime;
pub mod snapshot;

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Problem, Severity};
pub use kube::KubeTarget;

/// Where one environment's objects come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Manifest files, directories of them, or confdrift snapshots.
    Files(Vec<PathBuf>),
    /// A live cluster.
    Kube(KubeTarget),
}

impl Source {
    /// Parses the SOURCE of `--env NAME=SOURCE`: a path (or several joined
    /// with `,`), or `kube:CONTEXT/NAMESPACE[,NAMESPACE…]` (`kube:` alone is
    /// the current context and all namespaces; `kube:in-cluster/NS` is the
    /// pod's ServiceAccount).
    pub fn parse(spec: &str) -> Result<Source> {
        if let Some(rest) = spec.strip_prefix("kube:") {
            let (context, namespaces) = match rest.split_once('/') {
                Some((c, ns)) => (c, ns),
                None => (rest, ""),
            };
            return Ok(Source::Kube(KubeTarget {
                context: (!context.is_empty()).then(|| context.to_string()),
                namespaces: namespaces
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect(),
                ..KubeTarget::default()
            }));
        }
        if spec.is_empty() {
            return Err(Error::Usage(
                "empty source: give a file, a directory or kube:CONTEXT/NAMESPACE".into(),
            ));
        }
        Ok(Source::Files(spec.split(',').map(PathBuf::from).collect()))
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Files(paths) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
            Source::Kube(t) => t.describe(),
        }
    }
}

/// Collects one environment. Files are read on a blocking thread; a
/// cluster is listed with the async client. A file that cannot be parsed
/// is an error (exit 2); a cluster that cannot be read is a problem of its
/// environment (exit 3), so the other environments are still reported.
pub async fn collect(
    source: &Source,
    key: Arc<FingerprintKey>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<Collected> {
    let started = std::time::Instant::now();
    tracing::info!(source = %source.describe(), "collecting");
    let collected = match source {
        Source::Files(paths) => {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || files::collect_files(&paths, &key))
                .await
                .map_err(|e| Error::Usage(format!("reading files failed: {e}")))?
        }
        Source::Kube(target) => Ok(kube::collect(target, key, progress).await),
    };
    match &collected {
        Ok(c) => tracing::info!(
            objects = c.objects.len(),
            files = c.files,
            runtime_envs = c.runtime_env.len(),
            problems = c.problems.len(),
            incomplete = c.problems.iter().any(|p| p.incomplete),
            unreadable = c.unreadable.len(),
            elapsed = ?started.elapsed(),
            "collected"
        ),
        // The error itself is the command's error message.
        Err(_) => tracing::info!(elapsed = ?started.elapsed(), "collection failed"),
    }
    collected
}

/// Puts a collection in its canonical order and reports duplicate objects.
pub(crate) fn finish(collected: &mut Collected) {
    collected.objects.sort_by(|a, b| {
        (a.kind_name(), &a.meta().namespace, &a.meta().name).cmp(&(
            b.kind_name(),
            &b.meta().namespace,
            &b.meta().name,
        ))
    });
    let mut duplicates = Vec::new();
    collected.objects.dedup_by(|later, earlier| {
        let same = later.kind_name() == earlier.kind_name()
            && later.meta().namespace == earlier.meta().namespace
            && later.meta().name == earlier.meta().name;
        if same && later != earlier {
            duplicates.push(format!(
                "{} {}/{}",
                later.kind_name(),
                later.meta().namespace,
                later.meta().name
            ));
        }
        same
    });
    for d in duplicates {
        collected.problems.push(Problem {
            code: "duplicate-object".into(),
            severity: Severity::Warning,
            incomplete: false,
            location: collected.source.clone(),
            message: format!(
                "{d} appears more than once with different content; the first one read was used"
            ),
        });
    }
    collected.problems.sort();
    collected.problems.dedup();
}
