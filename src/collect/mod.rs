//! collect: read one environment's Kubernetes objects from its source.
//!
//! This is the only stage that does I/O. It never interprets configuration;
//! it records everything it could not read as a [`Problem`] of the
//! environment instead of skipping it in silence.

pub mod files;
pub mod kinds;
pub mod kube;
pub mod manifest;
pub(crate) mod object;
pub(crate) mod objstore;
pub(crate) mod origin;
pub(crate) mod render;
pub(crate) mod snapshot;
#[cfg(test)]
pub(crate) mod testing;

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Problem, Severity};
pub use kube::KubeTarget;

/// Where one environment's objects come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Manifest files, directories of them, kustomize directories, Helm
    /// charts, standard input (`-`), or confdrift snapshots.
    Files(FileSource),
    /// A live cluster.
    Kube(KubeTarget),
    /// A snapshot in object storage (`s3://bucket/prefix/`: the latest).
    Object(object::ObjectSource),
}

/// Paths as they sit in a repository, and how to read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSource {
    /// Files, directories, or `-` for standard input.
    pub paths: Vec<PathBuf>,
    /// The namespace of objects that name none, as `kubectl apply -n` gives
    /// it (and `helm template --namespace`).
    pub namespace: Option<String>,
    /// Values files for the Helm chart of this source, relative to the
    /// chart directory or absolute, in `--values` order.
    pub values: Vec<PathBuf>,
    /// The Helm release name (`helm template`'s default: `release-name`).
    pub release: Option<String>,
}

impl FileSource {
    pub fn new(paths: Vec<PathBuf>) -> FileSource {
        FileSource {
            paths,
            ..FileSource::default()
        }
    }

    /// The paths as given, then the options in query form:
    /// `chart?values=a.yaml,b.yaml&release=shop&namespace=shop`.
    pub fn describe(&self) -> String {
        let mut out = self
            .paths
            .iter()
            .map(|p| {
                if files::is_stdin(p) {
                    "- (standard input)".to_string()
                } else {
                    p.display().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        let mut options = Vec::new();
        if !self.values.is_empty() {
            let values: Vec<String> = self
                .values
                .iter()
                .map(|v| v.display().to_string())
                .collect();
            options.push(format!("values={}", values.join(",")));
        }
        if let Some(r) = &self.release {
            options.push(format!("release={r}"));
        }
        if let Some(ns) = &self.namespace {
            options.push(format!("namespace={ns}"));
        }
        if !options.is_empty() {
            out.push('?');
            out.push_str(&options.join("&"));
        }
        out
    }

    /// Reads the options after `?` in `--env NAME=PATH?OPTIONS`.
    fn parse_options(&mut self, query: &str) -> Result<()> {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() {
                return Err(Error::Usage(format!(
                    "source option {}: expected KEY=VALUE (namespace=NS, values=FILE[,FILE…], release=NAME)",
                    crate::display::visible(pair)
                )));
            }
            match key {
                "namespace" => self.namespace = Some(check_dns_label("namespace", value)?),
                "release" => self.release = Some(check_dns_label("release", value)?),
                "values" => self.values.extend(
                    value
                        .split(',')
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from),
                ),
                other => {
                    return Err(Error::Usage(format!(
                        "source option {}: unknown; valid options are namespace=NS (for objects that name none), values=FILE[,FILE…] and release=NAME (for a Helm chart)",
                        crate::display::visible(other)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A namespace or Helm release name: a DNS label (RFC 1123), as the API
/// server and Helm require.
pub(crate) fn check_dns_label(what: &str, value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(Error::Usage(format!(
            "{what} {}: must be a DNS label (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)",
            crate::display::visible(value)
        )))
    }
}

impl Source {
    /// Parses the SOURCE of `--env NAME=SOURCE`: a path (or several joined
    /// with `,`; `-` is standard input) with options after `?`
    /// (`rendered.yaml?namespace=shop`, `chart/?values=a.yaml,b.yaml&release=shop`),
    /// or `kube:CONTEXT/NAMESPACE[,NAMESPACE…]` (`kube:` alone is
    /// the current context and all namespaces; `kube:in-cluster/NS` is the
    /// pod's ServiceAccount).
    pub fn parse(spec: &str) -> Result<Source> {
        if crate::collect::objstore::is_url(spec) {
            return Ok(Source::Object(object::ObjectSource::parse(spec)?));
        }
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
        let (paths, query) = spec.split_once('?').unwrap_or((spec, ""));
        if paths.is_empty() {
            return Err(Error::Usage(format!(
                "source {}: no path before `?`",
                crate::display::visible(spec)
            )));
        }
        let mut source = FileSource::new(paths.split(',').map(PathBuf::from).collect());
        source.parse_options(query)?;
        Ok(Source::Files(source))
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Files(f) => f.describe(),
            Source::Kube(t) => t.describe(),
            Source::Object(o) => o.describe(),
        }
    }

    /// How many of its paths are standard input (`-`).
    pub fn stdin_paths(&self) -> usize {
        match self {
            Source::Files(f) => f.paths.iter().filter(|p| files::is_stdin(p)).count(),
            Source::Kube(_) | Source::Object(_) => 0,
        }
    }
}

/// How far the listing of a live environment has got. `collect` reports
/// through it and never draws anything: the CLI draws it as a progress bar.
pub trait Progress: Send + Sync {
    /// `lists` more lists are to be made (discovery adds the optional kinds'
    /// lists after the built-in ones).
    fn planned(&self, lists: u64);
    /// One list is done, read or not; when it was read, `objects` is the
    /// number of objects of this environment read so far.
    fn listed(&self, objects: Option<usize>);
    /// The collection is over: complete, failed or out of time.
    fn finished(&self);
}

/// Collects one environment. Files are read on a blocking thread; a
/// cluster is listed with the async client. A file that cannot be parsed
/// is an error (exit 2); a cluster that cannot be read is a problem of its
/// environment (exit 3), so the other environments are still reported.
pub async fn collect(
    source: &Source,
    key: Arc<FingerprintKey>,
    progress: Option<Arc<dyn Progress>>,
) -> Result<Collected> {
    let started = std::time::Instant::now();
    tracing::info!(source = %source.describe(), "collecting");
    let collected = match source {
        Source::Files(source) => {
            let source = source.clone();
            tokio::task::spawn_blocking(move || files::collect_source(&source, &key))
                .await
                .map_err(|e| Error::internal(format!("reading files failed: {e}")))?
        }
        Source::Kube(target) => Ok(kube::collect(target, key, progress).await),
        Source::Object(o) => Ok(object::collect(o, &key).await),
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
    sort_objects(&mut collected.objects);
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
            code: crate::codes::ProblemCode::DuplicateObject.into(),
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
    crate::model::spec_table::share(&mut collected.objects);
    crate::model::shrink_exact(&mut collected.objects);
}

/// Sorts objects by kind, namespace and name, those read first first among
/// equal ones (the first one read is the one used). A stable sort of the
/// objects themselves borrows room for half of them or more (8 MB at
/// 50,000 pods); sorting their indices and moving each object into place
/// once does not.
fn sort_objects(objects: &mut [crate::model::Object]) {
    fn key(o: &crate::model::Object) -> (&str, &str, &str) {
        (
            o.kind_name(),
            o.meta().namespace.as_str(),
            o.meta().name.as_str(),
        )
    }
    let mut order: Vec<usize> = (0..objects.len()).collect();
    order.sort_unstable_by(|&a, &b| key(&objects[a]).cmp(&key(&objects[b])).then(a.cmp(&b)));
    // Position `i` takes the object now at `order[i]`: follow each cycle
    // of the permutation, swapping, and mark positions done as `order[i] == i`.
    for start in 0..objects.len() {
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            objects.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(spec: &str) -> FileSource {
        match Source::parse(spec) {
            Ok(Source::Files(f)) => f,
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn options_after_a_question_mark_apply_to_the_whole_source() {
        let chart =
            files("chart/?values=values-prod.yaml,/etc/common.yaml&release=shop&namespace=shop");
        assert_eq!(chart.paths, vec![PathBuf::from("chart/")]);
        assert_eq!(
            chart.values,
            vec![
                PathBuf::from("values-prod.yaml"),
                PathBuf::from("/etc/common.yaml")
            ]
        );
        assert_eq!(chart.release.as_deref(), Some("shop"));
        assert_eq!(chart.namespace.as_deref(), Some("shop"));
        assert_eq!(
            chart.describe(),
            "chart/?values=values-prod.yaml,/etc/common.yaml&release=shop&namespace=shop"
        );
        // Paths still split at `,`, before the options.
        let two = files("a.yaml,b.yaml?namespace=shop");
        assert_eq!(
            two.paths,
            vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        assert_eq!(two.namespace.as_deref(), Some("shop"));
        assert_eq!(files("rendered.yaml").describe(), "rendered.yaml");
    }

    #[test]
    fn a_dash_is_standard_input() {
        let source = Source::parse("-?namespace=shop").unwrap();
        assert_eq!(source.stdin_paths(), 1);
        assert_eq!(source.describe(), "- (standard input)?namespace=shop");
        assert_eq!(Source::parse("./-").unwrap().stdin_paths(), 0);
        assert_eq!(Source::parse("kube:ctx/shop").unwrap().stdin_paths(), 0);
    }

    #[test]
    fn namespaces_and_releases_are_dns_labels() {
        assert!(check_dns_label("namespace", "shop-prod").is_ok());
        for bad in ["Shop", "-shop", "shop-", "sh op", "a.b", &"x".repeat(64)] {
            assert!(check_dns_label("namespace", bad).is_err(), "{bad}");
        }
    }
}
