//! collect: read one environment's Kubernetes objects from its source.
//!
//! This is the only stage that does I/O. It never interprets configuration;
//! it records everything it could not read as a [`Problem`] of the
//! environment instead of skipping it in silence.

pub mod files;
pub mod manifest;
pub mod snapshot;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Problem, Severity};

/// Where one environment's objects come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Manifest files, directories of them, or confdrift snapshots.
    Files(Vec<PathBuf>),
    /// A live cluster: `kube:CONTEXT/NAMESPACE[,NAMESPACE…]`.
    Kube {
        context: Option<String>,
        namespaces: Vec<String>,
        selector: Option<String>,
    },
}

impl Source {
    /// Parses the SOURCE of `--env NAME=SOURCE`.
    pub fn parse(spec: &str) -> Result<Source> {
        if let Some(rest) = spec.strip_prefix("kube:") {
            let (context, namespaces) = match rest.split_once('/') {
                Some((c, ns)) => (c, ns),
                None => (rest, ""),
            };
            return Ok(Source::Kube {
                context: (!context.is_empty()).then(|| context.to_string()),
                namespaces: namespaces
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect(),
                selector: None,
            });
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
            Source::Kube {
                context,
                namespaces,
                ..
            } => format!(
                "kube:{}/{}",
                context.as_deref().unwrap_or(""),
                namespaces.join(",")
            ),
        }
    }
}

/// Collects one environment.
pub fn collect(source: &Source, key: &FingerprintKey) -> Result<Collected> {
    match source {
        Source::Files(paths) => files::collect_files(paths, key),
        Source::Kube { .. } => Err(Error::Usage(format!(
            "{}: live cluster sources are not available in this version of confdrift; \
             dump the namespace with `kubectl get pods,deployments,statefulsets,daemonsets,\
             cronjobs,configmaps,secrets -o yaml > env.yaml` and pass the file",
            source.describe()
        ))),
    }
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
