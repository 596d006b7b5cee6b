//! What normalize makes: an environment's effective configuration, every
//! value with its provenance, ready to compare.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;

/// What a value is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    Env,
    #[serde(rename = "configmap")]
    ConfigMap,
    Flag,
    File,
}

impl ConfigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Env => "env",
            ConfigKind::ConfigMap => "configmap",
            ConfigKind::Flag => "flag",
            ConfigKind::File => "file",
        }
    }
}

/// Whom a value belongs to: a container of a workload, or a ConfigMap object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Container { workload: Name, container: Name },
    ConfigMap { name: Name },
}

impl Scope {
    pub fn workload(&self) -> Option<&str> {
        match self {
            Scope::Container { workload, .. } => Some(workload),
            Scope::ConfigMap { .. } => None,
        }
    }
    pub fn container(&self) -> Option<&str> {
        match self {
            Scope::Container { container, .. } => Some(container),
            Scope::ConfigMap { .. } => None,
        }
    }
    pub fn configmap(&self) -> Option<&str> {
        match self {
            Scope::ConfigMap { name } => Some(name),
            Scope::Container { .. } => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Container {
                workload,
                container,
            } => write!(f, "{workload}/{container}"),
            Scope::ConfigMap { name } => write!(f, "configmap/{name}"),
        }
    }
}

/// The identity under which values are lined up across environments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    pub scope: Scope,
    pub kind: ConfigKind,
    pub key: Name,
}

/// A configuration value as a container (or ConfigMap) really gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A plain value; compared by its canonical form.
    Text(Name),
    /// A Secret value (or a value built from one): only its fingerprint.
    Secret(Box<Fingerprint>),
    /// Set per pod by the kubelet (`fieldRef`); compared by the field path.
    FieldRef(Name),
    /// `binaryData`, by SHA-256.
    Binary(Name),
    /// Could not be resolved; never equal to anything.
    Unresolved(Name),
}

impl Value {
    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }
}

/// Where a value comes from, as a person debugging at 2 AM needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    Literal,
    /// A literal with `$(VAR)` references expanded.
    Expanded {
        template: String,
    },
    ConfigMapKey {
        name: Name,
        key: Name,
    },
    SecretKey {
        name: Name,
        key: Name,
    },
    EnvFrom {
        source: RefKind,
        name: Name,
        key: Name,
        prefix: Option<Name>,
    },
    FieldRef {
        path: String,
    },
    /// The downward API's `resourceFieldRef`, resolved from the container's
    /// resources (of `container`, when it names another one).
    ResourceFieldRef {
        resource: Name,
        container: Option<Name>,
        divisor: Option<Name>,
    },
    /// A data key of a ConfigMap object itself.
    ConfigMapData {
        name: Name,
        key: Name,
    },
    /// A file mounted from a ConfigMap or Secret key.
    Mounted {
        source: RefKind,
        name: Name,
        key: Name,
    },
    /// A flag in a flagd definition document.
    Flagd {
        configmap: Name,
        key: Name,
    },
    /// Read from the running container's process environment
    /// (`--runtime-env`) and declared nowhere in the pod spec: baked into
    /// the image or injected by a webhook. Compared by fingerprint only.
    Runtime {
        pod: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    ConfigMap,
    Secret,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Literal => write!(f, "literal"),
            Provenance::Expanded { template } => write!(f, "literal {template}"),
            Provenance::ConfigMapKey { name, key } => write!(f, "ConfigMap {name}/{key}"),
            Provenance::SecretKey { name, key } => write!(f, "Secret {name}/{key}"),
            Provenance::EnvFrom {
                source,
                name,
                key,
                prefix,
            } => match prefix {
                Some(p) => write!(f, "envFrom {} {name}/{key} (prefix {p})", source.as_str()),
                None => write!(f, "envFrom {} {name}/{key}", source.as_str()),
            },
            Provenance::FieldRef { path } => write!(f, "fieldRef {path}"),
            Provenance::ResourceFieldRef {
                resource,
                container,
                divisor,
            } => {
                write!(f, "resourceFieldRef {resource}")?;
                if let Some(c) = container {
                    write!(f, " of {c}")?;
                }
                match divisor {
                    Some(d) => write!(f, " / {d}"),
                    None => Ok(()),
                }
            }
            Provenance::ConfigMapData { name, key } => write!(f, "ConfigMap {name}/{key}"),
            Provenance::Mounted { source, name, key } => {
                write!(f, "mounted {} {name}/{key}", source.as_str())
            }
            Provenance::Flagd { configmap, key } => write!(f, "flagd ConfigMap {configmap}/{key}"),
            Provenance::Runtime { pod } => write!(f, "runtime (env in pod {pod})"),
        }
    }
}

/// One resolved value with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Value,
    pub provenance: Provenance,
    /// The namespace of the object the value belongs to.
    pub namespace: Name,
}

/// What was seen of one workload in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadInfo {
    /// The controller kind, e.g. `Deployment`.
    pub kind: String,
    pub namespace: String,
    /// Pods seen; 0 when the configuration came from the template alone.
    pub pods: usize,
    pub containers: BTreeSet<String>,
    /// Where its controller (else its first pod) was read from, for files.
    pub origin: Option<Origin>,
}

/// An environment's effective configuration, ready to compare.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub env: String,
    pub source: String,
    pub entries: Entries,
    pub workloads: BTreeMap<String, WorkloadInfo>,
    pub configmaps: BTreeSet<String>,
    /// Where each ConfigMap was read from, for files.
    pub configmap_origins: BTreeMap<String, Origin>,
    /// Per-environment findings made while resolving (dangling references,
    /// skew between pods of one workload).
    pub issues: Vec<Issue>,
    pub problems: Vec<Problem>,
    pub skipped_kinds: BTreeMap<String, usize>,
    pub files: usize,
    /// Names rewritten by the environment's `rename` rules: new → original.
    pub renamed: BTreeMap<String, String>,
    /// `(workload, container)` whose process environment was read
    /// (`--runtime-env`); runtime variables are compared only between
    /// environments that read them.
    pub runtime_read: BTreeSet<(String, String)>,
}

impl Inventory {
    pub fn complete(&self) -> bool {
        !self.problems.iter().any(|p| p.incomplete)
    }

    /// Whether the workload's container, or the ConfigMap, exists here.
    pub fn has_scope(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Container {
                workload,
                container,
            } => self
                .workloads
                .get(workload.as_str())
                .is_some_and(|w| w.containers.contains(container.as_str())),
            Scope::ConfigMap { name } => self.configmaps.contains(name.as_str()),
        }
    }

    pub fn unresolved(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.value, Value::Unresolved(_)))
            .count()
    }
}

/// Walks the entries of several environments side by side, in subject
/// order: every subject once, with its entry in each environment (`None`
/// where it has none). The entries are sorted maps, so this is a merge, a
/// few comparisons a subject, where looking each subject up in every
/// environment costs a tree search each.
pub fn aligned(invs: &[Inventory]) -> Aligned<'_> {
    Aligned {
        iters: invs.iter().map(|i| i.entries.iter().peekable()).collect(),
    }
}

/// See [`aligned`].
pub struct Aligned<'a> {
    iters: Vec<std::iter::Peekable<super::entries::Iter<'a>>>,
}

impl<'a> Iterator for Aligned<'a> {
    type Item = (&'a Subject, Vec<Option<&'a Entry>>);

    fn next(&mut self) -> Option<Self::Item> {
        let first = self
            .iters
            .iter_mut()
            .filter_map(|it| it.peek().map(|(s, _)| *s))
            .min()?;
        let row = self
            .iters
            .iter_mut()
            .map(|it| it.next_if(|(s, _)| *s == first).map(|(_, e)| e))
            .collect();
        Some((first, row))
    }
}

/// Whether each environment has a scope, remembered for the last scope
/// asked: subjects come in scope order, so consecutive ones mostly share it.
#[derive(Default)]
pub struct ScopePresence {
    last: Option<(Scope, Vec<bool>)>,
}

impl ScopePresence {
    /// One flag per environment: whether it has `scope`.
    pub fn of(&mut self, invs: &[Inventory], scope: &Scope) -> &[bool] {
        if self.last.as_ref().is_none_or(|(s, _)| s != scope) {
            self.last = Some((
                scope.clone(),
                invs.iter().map(|i| i.has_scope(scope)).collect(),
            ));
        }
        self.last.as_ref().map_or(&[], |(_, v)| v.as_slice())
    }
}

/// A finding that belongs to one environment alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Issue {
    /// A reference to a ConfigMap, Secret or key that does not exist and is
    /// not optional: the pod cannot start (or will not restart).
    DanglingReference {
        workload: String,
        container: String,
        namespace: String,
        source: String,
        /// What refers to it, e.g. `env DB_HOST` or `volume config`.
        referrer: String,
        key: Option<String>,
    },
    /// Pods whose containers started before a ConfigMap or Secret they read
    /// into env vars (or a subPath file) last changed: they still run the
    /// old value, and a restart will change behaviour.
    StalePods {
        workload: String,
        container: String,
        /// e.g. `ConfigMap shop-config`.
        source: String,
        /// When the source's data last changed.
        changed: String,
        /// The earliest start among the stale pods.
        started: String,
        stale: usize,
        pods: usize,
    },
    /// A value written in a manifest that the API server refuses (a number
    /// or boolean where Kubernetes takes a string): `kubectl apply` fails.
    RejectedByApiServer {
        /// `Deployment web`, `ConfigMap shop-config`.
        object: String,
        /// The subject the value is compared under, where it has one.
        workload: Option<String>,
        container: Option<String>,
        configmap: Option<String>,
        kind: Option<ConfigKind>,
        value: RejectedValue,
    },
    /// Pods of one workload that disagree on a value.
    Skew {
        subject: Subject,
        /// Display value → number of pods that have it.
        variants: Vec<(String, usize)>,
    },
}
