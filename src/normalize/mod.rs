//! normalize: turn one environment's objects into its effective
//! configuration, resolved the way Kubernetes resolves it.
//!
//! For every workload and container: `envFrom` in order (later wins, with
//! `prefix`), then `env` on top; `$(VAR)` expansion against earlier
//! variables; ConfigMap and Secret references in the pod's namespace, with
//! `optional`; files mounted from ConfigMaps and Secrets. Every value keeps
//! its provenance. Pure and synchronous: no I/O, no clock.

pub mod apply;
pub mod canonical;
pub mod expand;
pub mod lineup;

#[cfg(test)]
mod replicas_tests;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use globset::{Glob, GlobSet, GlobSetBuilder};
use k8s_openapi::api::core::v1::VolumeMount;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::identity::{Owners, pod_workload, strip_generated_hash, template_workload};
use crate::model::{
    Collected, ConfigKind, Container, Entry, Fingerprint, Inventory, Issue, KeyToPath, Meta, Name,
    Object, PodSpec, PodStatus, Provenance, RefKind, RejectedValue, ResourceFieldSelector,
    Resources, RuntimeEnv, Scope, Subject, Value, Volume, WorkloadInfo, WorkloadKind,
};
pub use crate::model::{KNATIVE_CONFIGURATION_LABEL, KNATIVE_SERVICE_LABEL, ROLLOUT_HASH_LABEL};
use canonical::{CompareKey, compare_key};
use expand::Piece;

/// Env var names treated as feature flags unless configured otherwise.
pub const DEFAULT_FLAG_PATTERNS: &[&str] = &[
    "FEATURE_*",
    "FF_*",
    "ENABLE_*",
    "DISABLE_*",
    "*_ENABLED",
    "*_DISABLED",
];

pub use crate::model::FLAG_STORE_LABEL;

/// The CA bundles a controller writes into every namespace, with content
/// that differs per cluster (its CA): the root CA publisher of
/// kube-controller-manager (`kube-root-ca.crt`), OpenShift's service CA
/// operator (`openshift-service-ca.crt`) and istiod (`istio-ca-root-cert`).
/// Never compared, as objects or as mounted files, and never dangling: a
/// rendered manifest does not hold them, the cluster makes them. This is a
/// fact about Kubernetes, not a preference, so it is here and not in the
/// policy's `ignore` (which matches keys, and which a user's policy
/// replaces).
const GENERATED_CONFIGMAPS: &[&str] = &[
    "kube-root-ca.crt",
    "openshift-service-ca.crt",
    "istio-ca-root-cert",
];

/// The prefix of the projected volume the ServiceAccount admission plugin
/// adds to every pod (`kube-api-access-<random>`).
const GENERATED_VOLUME_PREFIX: &str = "kube-api-access-";

/// Where every pod gets its ServiceAccount token and cluster CA.
const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How to normalize; built from `confdrift.yaml`.
#[derive(Debug, Clone)]
pub struct Options {
    flag_env: GlobSet,
    flag_configmaps: GlobSet,
    /// The fingerprint key of this run; Secret fingerprints made with another
    /// key cannot be compared.
    pub key_id: String,
    /// Name rewrites of this environment (`checkout-stg` → `checkout`), so
    /// that workloads and ConfigMaps line up with other environments.
    renames: Vec<(regex::Regex, String)>,
}

impl Options {
    pub fn new(flag_patterns: &[String], flag_configmaps: &[String], key_id: &str) -> Result<Self> {
        Ok(Options {
            flag_env: globs(flag_patterns, "flags.env")?,
            flag_configmaps: globs(flag_configmaps, "flags.configmaps")?,
            key_id: key_id.to_string(),
            renames: Vec::new(),
        })
    }

    /// Adds name rewrites: `(regex, replacement)` with `$1`-style groups;
    /// the first rule that matches a name rewrites it.
    pub fn with_renames(mut self, renames: &[(String, String)]) -> Result<Self> {
        self.renames = renames
            .iter()
            .map(|(pattern, replace)| {
                regex::Regex::new(pattern)
                    .map(|r| (r, replace.clone()))
                    .map_err(|e| Error::Usage(format!("rename: invalid pattern {pattern:?}: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(self)
    }

    /// A workload's or ConfigMap's name after this environment's rewrites.
    fn rename(&self, name: &str) -> String {
        for (re, replace) in &self.renames {
            if re.is_match(name) {
                return re.replace(name, replace.as_str()).into_owned();
            }
        }
        name.to_string()
    }

    pub fn with_defaults(key_id: &str) -> Self {
        let patterns: Vec<String> = DEFAULT_FLAG_PATTERNS
            .iter()
            .map(|s| s.to_string())
            .collect();
        Options::new(&patterns, &[], key_id).expect("default flag patterns are valid globs")
    }

    fn is_flag(&self, name: &str) -> bool {
        self.flag_env.is_match(name)
    }
}

fn globs(patterns: &[String], field: &str) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g =
            Glob::new(p).map_err(|e| Error::Usage(format!("{field}: invalid glob {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map_err(|e| Error::Usage(format!("{field}: {e}")))
}

/// Normalizes one environment.
pub fn normalize(env: &str, collected: &Collected, opts: &Options) -> Inventory {
    let mut inv = Inventory {
        env: env.to_string(),
        source: collected.source.clone(),
        problems: collected.problems.clone(),
        skipped_kinds: collected.skipped_kinds.clone(),
        files: collected.files,
        ..Inventory::default()
    };
    let refs = Refs::new(collected, &opts.key_id);
    let owners = Owners::new(&collected.objects);

    // Group pods and templates by workload.
    let mut groups: BTreeMap<(String, String), Group<'_>> = BTreeMap::new();
    for o in &collected.objects {
        match o {
            Object::Pod {
                metadata,
                spec,
                status,
            } => {
                let (kind, name) = pod_workload(metadata, &owners);
                let name = renamed(&mut inv, opts, name);
                let g = groups
                    .entry((metadata.namespace.clone(), name))
                    .or_default();
                g.set_kind(kind);
                g.pods.push((metadata, spec.as_ref()));
                g.statuses.push(status);
            }
            Object::Workload {
                workload_kind,
                metadata,
                template,
                template_from,
            } => {
                if let Some((kind, name)) = template_workload(*workload_kind, metadata, &owners) {
                    let template = match template_from {
                        None => Some(&**template),
                        Some(r) => owners.template_of(&metadata.namespace, &r.kind, &r.name),
                    };
                    if let (None, Some(r)) = (template, template_from) {
                        inv.problems
                            .push(template_not_found(collected, &kind, metadata, r));
                    }
                    let name = renamed(&mut inv, opts, name);
                    let g = groups
                        .entry((metadata.namespace.clone(), name))
                        .or_default();
                    g.set_kind(kind);
                    if let Some(template) = template {
                        g.templates.push((metadata, template));
                        g.template_first |= matches!(
                            workload_kind,
                            WorkloadKind::KnativeService | WorkloadKind::KnativeConfiguration
                        );
                    }
                }
            }
            _ => {}
        }
    }
    let qualified = needs_namespace(groups.keys());
    for ((ns, name), group) in &groups {
        let id = if qualified.contains(name) {
            format!("{ns}/{name}")
        } else {
            name.clone()
        };
        resolve_group(&mut inv, &id, ns, group, &refs, opts);
    }

    // ConfigMaps as objects, and flag stores.
    let cm_names: Vec<(String, String)> = collected
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::ConfigMap { metadata, .. }
                if !GENERATED_CONFIGMAPS.contains(&metadata.name.as_str()) =>
            {
                Some((
                    metadata.namespace.clone(),
                    opts.rename(strip_generated_hash(&metadata.name)),
                ))
            }
            _ => None,
        })
        .collect();
    let qualified_cms = needs_namespace(cm_names.iter());
    for o in &collected.objects {
        if let Object::ConfigMap {
            metadata,
            data,
            binary_data,
        } = o
        {
            if GENERATED_CONFIGMAPS.contains(&metadata.name.as_str()) {
                continue;
            }
            let base = renamed(
                &mut inv,
                opts,
                strip_generated_hash(&metadata.name).to_string(),
            );
            let base = base.as_str();
            let id = if qualified_cms.contains(base) {
                format!("{}/{base}", metadata.namespace)
            } else {
                base.to_string()
            };
            for r in &metadata.rejected {
                inv.issues.push(Issue::RejectedByApiServer {
                    object: format!("ConfigMap {}", metadata.name),
                    workload: None,
                    container: None,
                    configmap: Some(id.clone()),
                    kind: r.key.as_ref().map(|_| ConfigKind::ConfigMap),
                    value: r.clone(),
                });
            }
            add_configmap(&mut inv, &id, metadata, data, binary_data, opts);
            if let Some(origin) = &metadata.origin {
                inv.configmap_origins
                    .entry(id.clone())
                    .or_insert_with(|| origin.clone());
            }
            inv.configmaps.insert(id);
        }
    }
    // A Secret's values are not compared as an object's; a refused one is
    // still reported (its value never is).
    for o in &collected.objects {
        if let Object::Secret { metadata, .. } = o {
            for r in &metadata.rejected {
                inv.issues.push(Issue::RejectedByApiServer {
                    object: format!("Secret {}", metadata.name),
                    workload: None,
                    container: None,
                    configmap: None,
                    kind: None,
                    value: RejectedValue {
                        text: None,
                        ..r.clone()
                    },
                });
            }
        }
    }
    inv.issues.sort();
    inv.issues.dedup();
    // Entries were inserted workload by workload, in key order: a B-tree
    // filled that way keeps its nodes about half empty. Rebuilt from the
    // sorted entries, every node is full (`BTreeMap::from_iter` builds
    // bottom-up): a third less memory for the largest part of a run.
    inv.entries = std::mem::take(&mut inv.entries).into_iter().collect();
    inv
}

/// A workload that runs another's pod template (`spec.workloadRef`) whose
/// template is not in the input: its configuration is not seen.
fn template_not_found(
    collected: &Collected,
    kind: &str,
    meta: &Meta,
    r: &crate::model::TemplateRef,
) -> crate::model::Problem {
    crate::model::Problem {
        code: crate::codes::ProblemCode::TemplateNotFound.into(),
        severity: crate::model::Severity::Warning,
        incomplete: true,
        location: collected.source.clone(),
        message: format!(
            "{kind} {}/{} runs the pod template of {} {}, which is not in this source; its \
             configuration is not compared (add the {} to the source)",
            meta.namespace, meta.name, r.kind, r.name, r.kind
        ),
    }
}

/// Applies the environment's rewrites and remembers the original name.
fn renamed(inv: &mut Inventory, opts: &Options, name: String) -> String {
    let new = opts.rename(&name);
    if new != name {
        inv.renamed.insert(new.clone(), name);
    }
    new
}

/// Names that occur in more than one namespace must carry the namespace.
fn needs_namespace<'a>(keys: impl Iterator<Item = &'a (String, String)>) -> BTreeSet<String> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut out = BTreeSet::new();
    for (ns, name) in keys {
        if let Some(prev) = seen.insert(name, ns)
            && prev != ns
        {
            out.insert(name.clone());
        }
    }
    out
}

#[derive(Default)]
struct Group<'a> {
    kind: String,
    pods: Vec<(&'a Meta, &'a PodSpec)>,
    /// The status of each pod, in the order of `pods`.
    statuses: Vec<&'a PodStatus>,
    templates: Vec<(&'a Meta, &'a PodSpec)>,
    /// Compare the template even when there are pods: Knative's pods run
    /// with a `queue-proxy` sidecar and `K_REVISION`, `K_SERVICE`, `PORT`
    /// that Knative adds (its runtime contract), none of them written by
    /// people nor in a rendered source; the Service's template is.
    template_first: bool,
}

impl Group<'_> {
    fn set_kind(&mut self, kind: String) {
        // A controller kind beats "Pod" (bare pods found by label).
        if self.kind.is_empty() || self.kind == "Pod" {
            self.kind = kind;
        }
    }
}

/// A ConfigMap's `data` and `binaryData` (by SHA-256).
type ConfigMapData<'a> = (&'a BTreeMap<String, String>, &'a BTreeMap<String, String>);

/// What makes a Secret (`ExternalSecret shop-db`) and the keys it will
/// hold, when known.
type Produced<'a> = (&'a str, Option<&'a [String]>);

/// The ConfigMaps and Secrets pods can refer to, by namespace and name.
struct Refs<'a> {
    configmaps: HashMap<(&'a str, &'a str), ConfigMapData<'a>>,
    secrets: HashMap<(&'a str, &'a str), &'a BTreeMap<String, Fingerprint>>,
    key_id: &'a str,
    collected: &'a Collected,
    /// When each ConfigMap's / Secret's data last changed.
    updated: HashMap<(RefKind, &'a str, &'a str), &'a str>,
    /// Process environments read with `--runtime-env`, by namespace and pod.
    runtime: HashMap<(&'a str, &'a str), Vec<&'a RuntimeEnv>>,
    /// Secrets a controller makes from an object in the input, by
    /// namespace and name → what makes them (`ExternalSecret shop-db`) and
    /// the keys they will hold, when known. A Secret in the input wins.
    produced: HashMap<(&'a str, &'a str), Produced<'a>>,
}

impl<'a> Refs<'a> {
    fn new(collected: &'a Collected, key_id: &'a str) -> Self {
        let objects = &collected.objects;
        let mut configmaps = HashMap::new();
        let mut secrets = HashMap::new();
        let mut updated = HashMap::new();
        let mut produced = HashMap::new();
        for o in objects {
            let kind = match o {
                Object::ConfigMap { .. } => Some(RefKind::ConfigMap),
                Object::Secret { .. } => Some(RefKind::Secret),
                _ => None,
            };
            if let (Some(kind), Some(t)) = (kind, o.meta().last_update.as_deref()) {
                updated.insert(
                    (kind, o.meta().namespace.as_str(), o.meta().name.as_str()),
                    t,
                );
            }
            match o {
                Object::ConfigMap {
                    metadata,
                    data,
                    binary_data,
                } => {
                    configmaps.insert(
                        (metadata.namespace.as_str(), metadata.name.as_str()),
                        (data, binary_data),
                    );
                }
                Object::Secret {
                    metadata,
                    fingerprints,
                } => {
                    secrets.insert(
                        (metadata.namespace.as_str(), metadata.name.as_str()),
                        fingerprints,
                    );
                }
                Object::ProducedSecret {
                    metadata,
                    made_by,
                    keys,
                } => {
                    produced.insert(
                        (metadata.namespace.as_str(), metadata.name.as_str()),
                        (made_by.as_str(), keys.as_deref()),
                    );
                }
                _ => {}
            }
        }
        let mut runtime: HashMap<(&str, &str), Vec<&RuntimeEnv>> = HashMap::new();
        for r in &collected.runtime_env {
            runtime
                .entry((r.namespace.as_str(), r.pod.as_str()))
                .or_default()
                .push(r);
        }
        Refs {
            configmaps,
            secrets,
            key_id,
            collected,
            updated,
            runtime,
            produced,
        }
    }

    /// Why a missing object of `kind` cannot be called dangling: its kind
    /// could not be read in the namespace (RBAC, errors), so it may exist;
    /// or a controller makes it from an object in the input (an
    /// ExternalSecret's Secret), so it will exist, with values known only
    /// then.
    fn unreadable(&self, ns: &str, kind: RefKind, name: &str) -> Option<Value> {
        if kind == RefKind::Secret
            && let Some((by, _)) = self.produced.get(&(ns, name))
        {
            return Some(Value::Unresolved(made_at_runtime(by)));
        }
        self.collected.is_unreadable(ns, kind.as_str()).then(|| {
            Value::Unresolved(format!(
                "{}s in namespace {ns} could not be read",
                kind.as_str()
            ))
        })
    }

    /// The values of a Secret a controller makes, when its keys are known:
    /// every one unresolved until the controller has run.
    fn produced_values(&self, ns: &str, name: &str) -> Option<BTreeMap<String, Value>> {
        if self.secrets.contains_key(&(ns, name)) {
            return None;
        }
        let (by, keys) = self.produced.get(&(ns, name))?;
        Some(
            keys.as_ref()?
                .iter()
                .map(|k| (k.clone(), Value::Unresolved(made_at_runtime(by))))
                .collect(),
        )
    }

    fn secret_value(&self, f: &Fingerprint) -> Value {
        if f.key_id == self.key_id {
            Value::Secret(Box::new(f.clone()))
        } else {
            Value::Unresolved("Secret fingerprint made with another key".into())
        }
    }
}

/// Why a value of a Secret made by a controller is not known yet.
fn made_at_runtime(by: &str) -> String {
    format!("made by {by} at runtime")
}

/// Resolves every pod (or, without pods, every template) of one workload and
/// merges them, reporting skew between pods.
fn resolve_group(
    inv: &mut Inventory,
    id: &str,
    ns: &str,
    group: &Group<'_>,
    refs: &Refs<'_>,
    opts: &Options,
) {
    let variants = if group.pods.is_empty() || group.template_first {
        &group.templates
    } else {
        &group.pods
    };
    let mut info = WorkloadInfo {
        kind: group.kind.clone(),
        namespace: ns.to_string(),
        pods: group.pods.len(),
        containers: BTreeSet::new(),
        // The controller at the top (a Deployment, not its ReplicaSets),
        // else a pod: where a reader finds the workload in the manifests.
        origin: group
            .templates
            .iter()
            .find(|(m, _)| m.owner_references.is_empty())
            .or(group.templates.first())
            .or(group.pods.first())
            .and_then(|(m, _)| m.origin.clone()),
    };
    // Pods of one workload almost always share one spec: resolve each
    // distinct spec once and count how many pods have it.
    let mut distinct: Vec<(&PodSpec, usize)> = Vec::new();
    for (_, spec) in variants {
        match distinct
            .iter_mut()
            .find(|(s, _)| std::ptr::eq(*s, *spec) || *s == *spec)
        {
            Some(slot) => slot.1 += 1,
            None => distinct.push((spec, 1)),
        }
    }
    let mut resolved: Vec<(BTreeMap<Subject, Entry>, usize)> = Vec::new();
    for (spec, pods) in distinct {
        let mut r = Resolver {
            refs,
            opts,
            ns,
            workload: id,
            names: (Name::new(id), Name::new(ns)),
            entries: BTreeMap::new(),
            issues: Vec::new(),
        };
        for c in spec.init_containers.iter().chain(&spec.containers) {
            info.containers.insert(c.name.clone());
            r.container(c, spec);
        }
        inv.issues.append(&mut r.issues);
        resolved.push((r.entries, pods));
    }
    for (meta, _) in group.pods.iter().chain(&group.templates) {
        let kind = if group.pods.iter().any(|(m, _)| std::ptr::eq(*m, *meta)) {
            "Pod"
        } else {
            group.kind.as_str()
        };
        for r in &meta.rejected {
            let key_kind = r.key.as_deref().filter(|_| r.container.is_some()).map(|k| {
                if opts.is_flag(k) {
                    ConfigKind::Flag
                } else {
                    ConfigKind::Env
                }
            });
            inv.issues.push(Issue::RejectedByApiServer {
                object: format!("{kind} {}", meta.name),
                workload: Some(id.to_string()),
                container: r.container.clone(),
                configmap: None,
                kind: key_kind,
                value: r.clone(),
            });
        }
    }
    if !group.pods.is_empty() {
        stale_pods(inv, id, ns, group, refs);
    }
    inv.workloads.insert(id.to_string(), info);
    merge_variants(inv, resolved);
    add_runtime(inv, id, ns, group, refs, opts);
}

/// Adds the variables of the process environment (`--runtime-env`) that the
/// pod spec does not declare: those baked into the image or injected by a
/// webhook. Declared ones are already compared from the spec, with their
/// real provenance. Values are fingerprints only.
fn add_runtime(
    inv: &mut Inventory,
    id: &str,
    ns: &str,
    group: &Group<'_>,
    refs: &Refs<'_>,
    opts: &Options,
) {
    for (meta, _) in &group.pods {
        let Some(envs) = refs.runtime.get(&(ns, meta.name.as_str())) else {
            continue;
        };
        for r in envs {
            if !inv
                .runtime_read
                .insert((id.to_string(), r.container.clone()))
            {
                continue; // One pod per container is enough.
            }
            let scope = Scope::Container {
                workload: Name::new(id),
                container: Name::new(&r.container),
            };
            for (name, f) in &r.vars {
                let kind = if opts.is_flag(name) {
                    ConfigKind::Flag
                } else {
                    ConfigKind::Env
                };
                let subject = Subject {
                    scope: scope.clone(),
                    kind,
                    key: Name::new(name),
                };
                // Spec-derived entries use the same kind for the same name.
                if inv.entries.contains_key(&subject) {
                    continue;
                }
                inv.entries.insert(
                    subject,
                    Entry {
                        value: refs.secret_value(f),
                        provenance: Provenance::Runtime {
                            pod: meta.name.clone(),
                        },
                        namespace: Name::new(ns),
                    },
                );
            }
        }
    }
}

/// The file name of the stand-in for the files of a missing ConfigMap or
/// Secret volume mounted without `items`, until [`fill_missing_mounts`]
/// learns their names from the other environments.
const MISSING_MOUNT: &str = "<missing ";

/// The files of a ConfigMap or Secret volume that is missing in one
/// environment (a dangling reference) are `<unresolved>` there, not absent:
/// the pod would not start, and "not set" would add a presence finding per
/// file. Without `items` their names are not known in that environment, so
/// they are the files the other environments mount at the same path from
/// the same kind of object. The stand-in entry is removed either way.
pub fn fill_missing_mounts(invs: &mut [Inventory]) {
    for i in 0..invs.len() {
        let stand_ins: Vec<(Subject, Entry)> = invs[i]
            .entries
            .iter()
            .filter(|(s, _)| s.kind == ConfigKind::File && is_missing_mount(&s.key))
            .map(|(s, e)| (s.clone(), e.clone()))
            .collect();
        for (stand_in, entry) in stand_ins {
            invs[i].entries.remove(&stand_in);
            let (Some(base), Provenance::Mounted { source, name, .. }) = (
                stand_in.key.rsplit_once('/').map(|(b, _)| b),
                &entry.provenance,
            ) else {
                continue;
            };
            let mut found: BTreeMap<Subject, Entry> = BTreeMap::new();
            for (j, other) in invs.iter().enumerate() {
                if j == i {
                    continue;
                }
                let from = Subject {
                    key: Name::new(base),
                    ..stand_in.clone()
                };
                for (s, e) in other.entries.range(from..) {
                    if s.scope != stand_in.scope || s.kind != ConfigKind::File {
                        break;
                    }
                    if !s.key.starts_with(&format!("{base}/")) {
                        continue;
                    }
                    if let Provenance::Mounted {
                        source: theirs,
                        key,
                        ..
                    } = &e.provenance
                        && theirs == source
                        && !is_missing_mount(&s.key)
                    {
                        found.entry(s.clone()).or_insert_with(|| Entry {
                            value: entry.value.clone(),
                            provenance: Provenance::Mounted {
                                source: *source,
                                name: name.clone(),
                                key: key.clone(),
                            },
                            namespace: entry.namespace.clone(),
                        });
                    }
                }
            }
            for (s, e) in found {
                invs[i].entries.entry(s).or_insert(e);
            }
        }
    }
}

fn is_missing_mount(key: &str) -> bool {
    key.rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with(MISSING_MOUNT))
}

/// Runtime variables are compared only between environments that read
/// them: a container whose environment could not be read (no `env` in the
/// image, RBAC, a file source) would otherwise make every variable of the
/// others look missing. Those gaps are reported as problems instead.
pub fn align_runtime(invs: &mut [Inventory]) {
    let mut drop: BTreeSet<Subject> = BTreeSet::new();
    for inv in invs.iter() {
        for (subject, entry) in &inv.entries {
            if !matches!(entry.provenance, Provenance::Runtime { .. }) {
                continue;
            }
            let Scope::Container {
                workload,
                container,
            } = &subject.scope
            else {
                continue;
            };
            let pair = (workload.to_string(), container.to_string());
            let unread_somewhere = invs.iter().any(|other| {
                other
                    .workloads
                    .get(workload.as_str())
                    .is_some_and(|w| w.containers.contains(container.as_str()))
                    && !other.runtime_read.contains(&pair)
            });
            if unread_somewhere {
                drop.insert(subject.clone());
            }
        }
    }
    if drop.is_empty() {
        return;
    }
    for inv in invs.iter_mut() {
        inv.entries.retain(|s, e| {
            !(matches!(e.provenance, Provenance::Runtime { .. }) && drop.contains(s))
        });
    }
}

/// The ConfigMaps and Secrets a container reads once, at start: env
/// references, `envFrom`, and `subPath` mounts (which, unlike whole-volume
/// mounts, the kubelet never refreshes).
fn read_at_start<'s>(c: &'s Container, spec: &'s PodSpec) -> BTreeSet<(RefKind, &'s str)> {
    let mut out = BTreeSet::new();
    for from in &c.env_from {
        if let Some(cm) = &from.config_map_ref {
            out.insert((RefKind::ConfigMap, cm.name.as_str()));
        }
        if let Some(s) = &from.secret_ref {
            out.insert((RefKind::Secret, s.name.as_str()));
        }
    }
    for ev in &c.env {
        if let Some(src) = &ev.value_from {
            if let Some(k) = &src.config_map_key_ref {
                out.insert((RefKind::ConfigMap, k.name.as_str()));
            }
            if let Some(k) = &src.secret_key_ref {
                out.insert((RefKind::Secret, k.name.as_str()));
            }
        }
    }
    for m in &c.volume_mounts {
        if m.sub_path.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        let Some(v) = spec.volumes.iter().find(|v| v.name == m.name) else {
            continue;
        };
        if let Some(cm) = &v.config_map {
            out.insert((RefKind::ConfigMap, cm.name.as_str()));
        }
        if let Some(s) = v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) {
            out.insert((RefKind::Secret, s));
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &src.config_map {
                out.insert((RefKind::ConfigMap, cm.name.as_str()));
            }
            if let Some(s) = &src.secret {
                out.insert((RefKind::Secret, s.name.as_str()));
            }
        }
    }
    out
}

/// Reports pods that run with a value older than its ConfigMap or Secret:
/// env vars are read when a container starts and never again.
fn stale_pods(inv: &mut Inventory, id: &str, ns: &str, group: &Group<'_>, refs: &Refs<'_>) {
    // (container, kind, source) → (stale pods, earliest start, changed)
    let mut stale: BTreeMap<(String, RefKind, String), (usize, jiff::Timestamp, String)> =
        BTreeMap::new();
    let mut pods_with: BTreeMap<String, usize> = BTreeMap::new();
    for ((_, spec), status) in group.pods.iter().zip(&group.statuses) {
        for c in &spec.containers {
            let Some(started) = status
                .container_starts
                .get(&c.name)
                .and_then(|t| crate::clock::timestamp(t))
            else {
                continue;
            };
            *pods_with.entry(c.name.clone()).or_default() += 1;
            for (kind, name) in read_at_start(c, spec) {
                let Some(changed) = refs.updated.get(&(kind, ns, name)) else {
                    continue;
                };
                if crate::clock::timestamp(changed).is_some_and(|t| t > started) {
                    let e = stale
                        .entry((c.name.clone(), kind, name.to_string()))
                        .or_insert((0, started, changed.to_string()));
                    e.0 += 1;
                    e.1 = e.1.min(started);
                }
            }
        }
    }
    for ((container, kind, name), (count, started, changed)) in stale {
        inv.issues.push(Issue::StalePods {
            workload: id.to_string(),
            pods: pods_with.get(&container).copied().unwrap_or(count),
            container,
            source: format!("{} {name}", kind.as_str()),
            changed,
            started: started.to_string(),
            stale: count,
        });
    }
}

/// Merges the resolved pods of one workload: a value all pods agree on is
/// the workload's; disagreement is skew, and the most common value stands
/// for the workload.
fn merge_variants(inv: &mut Inventory, mut resolved: Vec<(BTreeMap<Subject, Entry>, usize)>) {
    if resolved.len() == 1 {
        // `extend`, not `append`: BTreeMap::append rebuilds the whole map
        // (O(n + m)), which made normalizing quadratic in the workloads.
        inv.entries.extend(std::mem::take(&mut resolved[0].0));
        return;
    }
    let subjects: BTreeSet<Subject> = resolved
        .iter()
        .flat_map(|(r, _)| r.keys().cloned())
        .collect();
    for subject in subjects {
        let mut counts: Vec<(Option<CompareKey>, usize, Option<&Entry>)> = Vec::new();
        for (r, pods) in &resolved {
            let e = r.get(&subject);
            let k = e.map(|e| compare_key(subject.kind, &e.value));
            match counts.iter_mut().find(|(ck, _, _)| *ck == k) {
                Some(slot) => slot.1 += pods,
                None => counts.push((k, *pods, e)),
            }
        }
        let unresolved_only = counts.len() == 1 && counts[0].0 == Some(CompareKey::Unresolved);
        if counts.len() > 1 && !unresolved_only {
            let variants = skew_variants(&counts);
            inv.issues.push(Issue::Skew {
                subject: subject.clone(),
                variants,
            });
        }
        // Most common first; ties keep the order of the pods.
        let best = counts
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.1.cmp(&b.1).then(ib.cmp(ia)))
            .map(|(_, c)| c.2);
        if let Some(Some(e)) = best {
            inv.entries.insert(subject, e.clone());
        }
    }
}

fn skew_variants(counts: &[(Option<CompareKey>, usize, Option<&Entry>)]) -> Vec<(String, usize)> {
    let mut secrets = 0;
    counts
        .iter()
        .map(|(_, n, e)| {
            let shown = match e.map(|e| &e.value) {
                None => "(absent)".to_string(),
                Some(Value::Secret(_)) => {
                    secrets += 1;
                    format!("<redacted #{secrets}>")
                }
                Some(v) => display_value(v),
            };
            (shown, *n)
        })
        .collect()
}

pub use crate::display::value as display_value;

struct Resolver<'a, 'r> {
    refs: &'r Refs<'a>,
    opts: &'r Options,
    ns: &'r str,
    workload: &'r str,
    /// `workload` and `ns` as the names every entry shares.
    names: (Name, Name),
    entries: BTreeMap<Subject, Entry>,
    issues: Vec<Issue>,
}

impl Resolver<'_, '_> {
    fn dangling(&mut self, container: &str, source: String, referrer: String, key: Option<String>) {
        self.issues.push(Issue::DanglingReference {
            workload: self.workload.to_string(),
            container: container.to_string(),
            namespace: self.ns.to_string(),
            source,
            referrer,
            key,
        });
    }

    /// The environment of one container, as the kubelet builds it
    /// (pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`).
    fn container(&mut self, c: &Container, spec: &PodSpec) {
        // Variables in definition order; a later definition replaces an
        // earlier one, and expansion sees only what is defined before.
        let mut vars: HashMap<String, (Value, Provenance)> = HashMap::new();
        for from in &c.env_from {
            let prefix = from.prefix.clone().filter(|p| !p.is_empty());
            if let Some(cm) = &from.config_map_ref {
                match self.refs.configmaps.get(&(self.ns, cm.name.as_str())) {
                    Some((data, _)) => {
                        for (k, v) in *data {
                            let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                            let prov = Provenance::EnvFrom {
                                source: RefKind::ConfigMap,
                                name: Name::new(&cm.name),
                                key: Name::new(k),
                                prefix: prefix.as_deref().map(Name::new),
                            };
                            vars.insert(name, (Value::Text(Name::new(v)), prov));
                        }
                    }
                    None if self
                        .refs
                        .unreadable(self.ns, RefKind::ConfigMap, &cm.name)
                        .is_some() =>
                    {
                        let v = self.refs.unreadable(self.ns, RefKind::ConfigMap, &cm.name);
                        vars.insert(
                            format!("<envFrom ConfigMap {}>", cm.name),
                            (
                                v.unwrap_or(Value::Unresolved(String::new())),
                                Provenance::EnvFrom {
                                    source: RefKind::ConfigMap,
                                    name: Name::new(&cm.name),
                                    key: "*".into(),
                                    prefix: prefix.as_deref().map(Name::new),
                                },
                            ),
                        );
                    }
                    None if cm.optional == Some(true) => {}
                    None => self.dangling(
                        &c.name,
                        format!("ConfigMap {}", cm.name),
                        "envFrom".into(),
                        None,
                    ),
                }
            }
            if let Some(sr) = &from.secret_ref {
                match self.refs.secrets.get(&(self.ns, sr.name.as_str())) {
                    Some(fps) => {
                        for (k, f) in *fps {
                            let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                            let prov = Provenance::EnvFrom {
                                source: RefKind::Secret,
                                name: Name::new(&sr.name),
                                key: Name::new(k),
                                prefix: prefix.as_deref().map(Name::new),
                            };
                            vars.insert(name, (self.refs.secret_value(f), prov));
                        }
                    }
                    None if let Some(values) =
                        self.refs.produced_values(self.ns, sr.name.as_str()) =>
                    {
                        for (k, v) in values {
                            let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                            let prov = Provenance::EnvFrom {
                                source: RefKind::Secret,
                                name: Name::new(&sr.name),
                                key: Name::from(k),
                                prefix: prefix.as_deref().map(Name::new),
                            };
                            vars.insert(name, (v, prov));
                        }
                    }
                    None if self
                        .refs
                        .unreadable(self.ns, RefKind::Secret, &sr.name)
                        .is_some() =>
                    {
                        let v = self.refs.unreadable(self.ns, RefKind::Secret, &sr.name);
                        vars.insert(
                            format!("<envFrom Secret {}>", sr.name),
                            (
                                v.unwrap_or(Value::Unresolved(String::new())),
                                Provenance::EnvFrom {
                                    source: RefKind::Secret,
                                    name: Name::new(&sr.name),
                                    key: "*".into(),
                                    prefix: prefix.as_deref().map(Name::new),
                                },
                            ),
                        );
                    }
                    None if sr.optional == Some(true) => {}
                    None => self.dangling(
                        &c.name,
                        format!("Secret {}", sr.name),
                        "envFrom".into(),
                        None,
                    ),
                }
            }
        }
        for ev in &c.env {
            let resolved = match &ev.value_from {
                None => {
                    let raw = ev.value.clone().unwrap_or_default();
                    Some(expand_value(&raw, &vars))
                }
                Some(src) => {
                    if let Some(f) = &src.field_ref {
                        Some((
                            Value::FieldRef(f.field_path.clone()),
                            Provenance::FieldRef {
                                path: f.field_path.clone(),
                            },
                        ))
                    } else if let Some(r) = &src.resource_field_ref {
                        Some((
                            resource_field_value(r, c, spec),
                            Provenance::ResourceFieldRef {
                                resource: Name::new(&r.resource),
                                container: r
                                    .container_name
                                    .clone()
                                    .filter(|n| !n.is_empty())
                                    .map(Name::from),
                                divisor: r.divisor.as_deref().map(Name::new),
                            },
                        ))
                    } else if let Some(k) = &src.config_map_key_ref {
                        let reference = (RefKind::ConfigMap, k.name.as_str(), k.key.as_str());
                        self.key_ref(&c.name, &ev.name, reference, k.optional)
                    } else if let Some(k) = &src.secret_key_ref {
                        let reference = (RefKind::Secret, k.name.as_str(), k.key.as_str());
                        self.key_ref(&c.name, &ev.name, reference, k.optional)
                    } else {
                        Some((
                            Value::Unresolved("valueFrom with no source confdrift reads".into()),
                            Provenance::Literal,
                        ))
                    }
                }
            };
            if let Some(v) = resolved {
                vars.insert(ev.name.clone(), v);
            }
        }
        for (name, (value, provenance)) in vars {
            let kind = if self.opts.is_flag(&name) {
                ConfigKind::Flag
            } else {
                ConfigKind::Env
            };
            self.insert(&c.name, kind, name, value, provenance);
        }
        for m in &c.volume_mounts {
            self.mount(&c.name, m, &spec.volumes);
        }
    }

    /// `valueFrom.configMapKeyRef` / `secretKeyRef`, resolved in the pod's
    /// namespace: a missing object or key gives no variable when optional,
    /// else a dangling reference and an unresolved value; an object whose
    /// kind could not be read is unresolved, never dangling.
    fn key_ref(
        &mut self,
        container: &str,
        env: &str,
        (kind, name, key): (RefKind, &str, &str),
        optional: Option<bool>,
    ) -> Option<(Value, Provenance)> {
        let prov = match kind {
            RefKind::ConfigMap => Provenance::ConfigMapKey {
                name: Name::new(name),
                key: Name::new(key),
            },
            RefKind::Secret => Provenance::SecretKey {
                name: Name::new(name),
                key: Name::new(key),
            },
        };
        let found: Option<Option<Value>> = match kind {
            RefKind::ConfigMap => self
                .refs
                .configmaps
                .get(&(self.ns, name))
                .map(|(data, _)| data.get(key).map(|v| Value::Text(Name::new(v)))),
            RefKind::Secret => self
                .refs
                .secrets
                .get(&(self.ns, name))
                .map(|fps| fps.get(key).map(|f| self.refs.secret_value(f)))
                .or_else(|| {
                    self.refs
                        .produced_values(self.ns, name)
                        .map(|values| values.get(key).cloned())
                }),
        };
        let missing = match found {
            Some(Some(v)) => return Some((v, prov)),
            Some(None) => format!("key {key} missing in {} {name}", kind.as_str()),
            None => {
                if let Some(v) = self.refs.unreadable(self.ns, kind, name) {
                    return Some((v, prov));
                }
                format!("{} {name} not found", kind.as_str())
            }
        };
        if optional == Some(true) {
            return None;
        }
        self.dangling(
            container,
            format!("{} {name}", kind.as_str()),
            format!("env {env}"),
            Some(key.to_string()),
        );
        Some((Value::Unresolved(missing), prov))
    }

    fn insert(
        &mut self,
        container: &str,
        kind: ConfigKind,
        key: String,
        value: Value,
        provenance: Provenance,
    ) {
        self.entries.insert(
            Subject {
                scope: Scope::Container {
                    workload: self.names.0.clone(),
                    container: Name::new(container),
                },
                kind,
                key: Name::from(key),
            },
            Entry {
                value,
                provenance,
                namespace: self.names.1.clone(),
            },
        );
    }

    /// Files a volume mount puts into the container, keyed by their path.
    fn mount(&mut self, container: &str, m: &VolumeMount, volumes: &[Volume]) {
        // The ServiceAccount token mount: `kube-api-access-*` since 1.24,
        // a `default-token-*` Secret volume before; per-cluster either way.
        if m.name.starts_with(GENERATED_VOLUME_PREFIX)
            || m.mount_path.starts_with(SERVICE_ACCOUNT_MOUNT)
        {
            return;
        }
        let Some(vol) = volumes.iter().find(|v| v.name == m.name) else {
            return;
        };
        let mut files: Vec<(String, Value, Provenance)> = Vec::new();
        if let Some(cm) = &vol.config_map {
            self.project_configmap(
                container,
                &m.name,
                &cm.name,
                cm.items.as_deref(),
                cm.optional,
                &mut files,
            );
        }
        if let Some(s) = &vol.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            self.project_secret(
                container,
                &m.name,
                &name,
                s.items.as_deref(),
                s.optional,
                &mut files,
            );
        }
        if let Some(p) = &vol.projected {
            for src in p.sources.iter().flatten() {
                if let Some(cm) = &src.config_map {
                    self.project_configmap(
                        container,
                        &m.name,
                        &cm.name,
                        cm.items.as_deref(),
                        cm.optional,
                        &mut files,
                    );
                }
                if let Some(s) = &src.secret {
                    self.project_secret(
                        container,
                        &m.name,
                        &s.name,
                        s.items.as_deref(),
                        s.optional,
                        &mut files,
                    );
                }
            }
        }
        let base = m.mount_path.trim_end_matches('/');
        for (path, value, prov) in files {
            let key = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                // With subPath the mount is that one file (or directory).
                Some(sub) if path == sub => base.to_string(),
                Some(sub) => match path.strip_prefix(&format!("{}/", sub.trim_end_matches('/'))) {
                    Some(rest) => format!("{base}/{rest}"),
                    None => continue,
                },
                None => format!("{base}/{path}"),
            };
            self.insert(container, ConfigKind::File, key, value, prov);
        }
    }

    fn project_configmap(
        &mut self,
        container: &str,
        volume: &str,
        name: &str,
        items: Option<&[KeyToPath]>,
        optional: Option<bool>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        if GENERATED_CONFIGMAPS.contains(&name) {
            return;
        }
        let values = self
            .refs
            .configmaps
            .get(&(self.ns, name))
            .map(|(data, binary)| {
                data.iter()
                    .map(|(k, v)| (k.clone(), Value::Text(Name::new(v))))
                    .chain(
                        binary
                            .iter()
                            .map(|(k, h)| (k.clone(), Value::Binary(h.clone()))),
                    )
                    .collect()
            });
        let source = (RefKind::ConfigMap, name, items, optional);
        self.project(container, volume, source, values, files);
    }

    fn project_secret(
        &mut self,
        container: &str,
        volume: &str,
        name: &str,
        items: Option<&[KeyToPath]>,
        optional: Option<bool>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        let values = self
            .refs
            .secrets
            .get(&(self.ns, name))
            .map(|fps| {
                fps.iter()
                    .map(|(k, f)| (k.clone(), self.refs.secret_value(f)))
                    .collect()
            })
            .or_else(|| self.refs.produced_values(self.ns, name));
        let source = (RefKind::Secret, name, items, optional);
        self.project(container, volume, source, values, files);
    }

    /// The files a ConfigMap or Secret volume source puts at its paths, as
    /// the kubelet projects them: every key, or only `items` (a missing item
    /// key fails the mount unless the source is optional).
    fn project(
        &mut self,
        container: &str,
        volume: &str,
        (kind, name, items, optional): (RefKind, &str, Option<&[KeyToPath]>, Option<bool>),
        values: Option<BTreeMap<String, Value>>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        let prov = |k: &str| Provenance::Mounted {
            source: kind,
            name: Name::new(name),
            key: Name::new(k),
        };
        let Some(values) = values else {
            if let Some(v) = self.refs.unreadable(self.ns, kind, name) {
                files.push((format!("<{} {name}>", kind.as_str()), v, prov("*")));
            } else if optional != Some(true) {
                self.dangling(
                    container,
                    format!("{} {name}", kind.as_str()),
                    format!("volume {volume}"),
                    None,
                );
                // Its files are unresolved, like env vars from the same
                // missing object: with `items` their paths are known here;
                // without, other environments name them ([`fill_missing_mounts`]).
                let why = Value::Unresolved(format!("{} {name} not found", kind.as_str()));
                match items {
                    Some(items) => files.extend(
                        items
                            .iter()
                            .map(|it| (it.path.clone(), why.clone(), prov(&it.key))),
                    ),
                    None => files.push((
                        format!("{MISSING_MOUNT}{} {name}>", kind.as_str()),
                        why,
                        prov("*"),
                    )),
                }
            }
            return;
        };
        match items {
            Some(items) => {
                for it in items {
                    match values.get(&it.key) {
                        Some(v) => files.push((it.path.clone(), v.clone(), prov(&it.key))),
                        None if optional == Some(true) => {}
                        None => self.dangling(
                            container,
                            format!("{} {name}", kind.as_str()),
                            format!("volume {volume}"),
                            Some(it.key.clone()),
                        ),
                    }
                }
            }
            None => {
                for (k, v) in values {
                    files.push((k.clone(), v, prov(&k)));
                }
            }
        }
    }
}

/// The value the kubelet gives a `resourceFieldRef`: the kubelet's
/// `containerResourceRuntimeValue` (pkg/kubelet/kubelet_pods.go) calls
/// k8s.io/kubernetes pkg/api/v1/resource `ExtractContainerResourceValue`,
/// which divides the container's limit or request by `divisor` (1 when
/// unset or zero) and rounds up: cpu in millicores
/// (`convertResourceCPUToString`: ceil(MilliValue / divisor.MilliValue), so
/// 500m / 1 is 1), everything else in units
/// (`convertResourceMemoryToString`: ceil(Value / divisor.Value), so 128Mi /
/// 1Mi is 128). A container without a limit gets the pod-level limit, else
/// the node's allocatable (`defaultPodLimitsForDownwardAPI`), which no
/// manifest tells: unresolved. A missing request defaults to the limit, as
/// the API server's defaulting does (`SetDefaults_Pod`); without either it is
/// 0 or a LimitRange's default: unresolved too.
fn resource_field_value(r: &ResourceFieldSelector, c: &Container, spec: &PodSpec) -> Value {
    use crate::quantity::Quantity;
    let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        None => Some(c),
        Some(name) => spec
            .containers
            .iter()
            .chain(&spec.init_containers)
            .find(|x| x.name == name),
    };
    let Some(target) = target else {
        return Value::Unresolved(format!(
            "resourceFieldRef names container {}, which the pod does not have",
            r.container_name.as_deref().unwrap_or_default()
        ));
    };
    let Some((side, resource)) = r
        .resource
        .split_once('.')
        .filter(|(side, res)| matches!(*side, "limits" | "requests") && Resources::exposed(res))
    else {
        return Value::Unresolved(format!(
            "resourceFieldRef {:?} is not a resource the downward API exposes (limits.cpu, \
             requests.memory, limits.ephemeral-storage, limits.hugepages-2Mi, …)",
            r.resource
        ));
    };
    let divisor = match r.divisor.as_deref().map(Quantity::parse) {
        None => Quantity::parse("1"),
        Some(Some(d)) if d.is_zero() => Quantity::parse("1"),
        Some(d) => d,
    };
    let Some(divisor) = divisor else {
        return Value::Unresolved(format!(
            "resourceFieldRef divisor {:?} is not a quantity",
            r.divisor.as_deref().unwrap_or_default()
        ));
    };
    // A zero limit counts as none (`MergeContainerResourceLimits`).
    fn set<'p>(pairs: Option<&'p crate::model::Pairs>, resource: &str) -> Option<&'p String> {
        pairs
            .and_then(|p| p.get(resource))
            .filter(|v| Quantity::parse(v).is_none_or(|q| !q.is_zero()))
    }
    let own = target.resources.as_deref();
    let limit = set(own.map(|r| &r.limits), resource).or_else(|| {
        matches!(resource, "cpu" | "memory")
            .then(|| set(spec.resources.as_deref().map(|r| &r.limits), resource))
            .flatten()
    });
    let written = match side {
        "limits" => limit.ok_or_else(|| format!("{} not set: node allocatable", r.resource)),
        _ => own
            .and_then(|r| r.requests.get(resource))
            .or(set(own.map(|r| &r.limits), resource))
            .ok_or_else(|| {
                format!(
                    "{} not set (and no limit to default from): 0, or a LimitRange default",
                    r.resource
                )
            }),
    };
    let written = match written {
        Ok(w) => w,
        Err(why) => return Value::Unresolved(why),
    };
    let Some(amount) = Quantity::parse(written) else {
        return Value::Unresolved(format!("{side}.{resource} {written:?} is not a quantity"));
    };
    let scale = if resource == "cpu" { 3 } else { 0 };
    match (amount.ceil_scaled(scale), divisor.ceil_scaled(scale)) {
        (Some(a), Some(d)) if d > 0 => Value::Text(Name::from(a.div_ceil(d).to_string())),
        _ => Value::Unresolved(format!(
            "{} {written} / {} is out of range",
            r.resource,
            r.divisor.as_deref().unwrap_or("1")
        )),
    }
}

/// Expands a literal env value against the variables defined before it.
/// A reference to a Secret makes the result a Secret (fingerprinted); a
/// reference to a per-pod field stays symbolic, so pods do not differ.
fn expand_value(raw: &str, vars: &HashMap<String, (Value, Provenance)>) -> (Value, Provenance) {
    if !raw.contains('$') {
        return (Value::Text(Name::new(raw)), Provenance::Literal);
    }
    let pieces = expand::expand(raw, |n| vars.contains_key(n));
    let mut text = String::new();
    let mut secret = false;
    let mut unresolved = None;
    let mut any_var = false;
    // What the secret-tainted result is fingerprinted over: the text the
    // container gets, with the referenced secrets' fingerprints in their
    // places. Each run of text between secrets is hashed whole and
    // length-prefixed, so that how the template spelled the text (a literal
    // `app:` or `$(USER):`) makes no difference.
    let mut hasher = Sha256::new();
    let mut run_start = 0;
    let hash_run = |hasher: &mut Sha256, run: &str| {
        hasher.update((run.len() as u64).to_le_bytes());
        hasher.update(run.as_bytes());
    };
    let mut key_id = String::new();
    for p in &pieces {
        match p {
            Piece::Text(t) => text.push_str(t),
            Piece::Var(name) => {
                any_var = true;
                let (v, _) = &vars[*name];
                match v {
                    Value::Text(t) => text.push_str(t),
                    Value::Secret(f) => {
                        secret = true;
                        key_id = f.key_id.clone();
                        hash_run(&mut hasher, &text[run_start..]);
                        run_start = text.len();
                        hasher.update(f.mac.as_bytes());
                    }
                    Value::FieldRef(path) => text.push_str(&format!("<fieldRef {path}>")),
                    Value::Binary(_) | Value::Unresolved(_) => {
                        unresolved = Some(format!("refers to $({name}), which is unresolved"));
                    }
                }
            }
        }
        // Each reference may double the text (B=$(A)$(A), C=$(B)$(B), ...):
        // 40 short variables would expand to a terabyte.
        if text.len() > crate::limits::MAX_VALUE_BYTES {
            let why = format!(
                "expands to more than {} MiB; the container could not start with it",
                crate::limits::MAX_VALUE_BYTES >> 20
            );
            let provenance = Provenance::Expanded {
                template: raw.to_string(),
            };
            return (Value::Unresolved(why), provenance);
        }
    }
    hash_run(&mut hasher, &text[run_start..]);
    let provenance = if any_var {
        Provenance::Expanded {
            template: raw.to_string(),
        }
    } else {
        Provenance::Literal
    };
    let value = if let Some(why) = unresolved {
        Value::Unresolved(why)
    } else if secret {
        Value::Secret(Box::new(Fingerprint {
            key_id,
            mac: hex::encode(hasher.finalize()),
        }))
    } else {
        Value::Text(Name::from(text))
    };
    (value, provenance)
}

/// Adds a ConfigMap's data keys (and flags, for flag stores and flagd
/// documents) to the inventory.
fn add_configmap(
    inv: &mut Inventory,
    id: &str,
    meta: &Meta,
    data: &BTreeMap<String, String>,
    binary: &BTreeMap<String, String>,
    opts: &Options,
) {
    let flag_store = meta.labels.get(FLAG_STORE_LABEL).map(String::as_str) == Some("true")
        || opts.flag_configmaps.is_match(&meta.name)
        || opts
            .flag_configmaps
            .is_match(strip_generated_hash(&meta.name));
    let scope = Scope::ConfigMap {
        name: Name::new(id),
    };
    let entry = |value: Value, provenance: Provenance| Entry {
        value,
        provenance,
        namespace: Name::new(&meta.namespace),
    };
    for (k, v) in data {
        let prov = Provenance::ConfigMapData {
            name: Name::new(&meta.name),
            key: Name::new(k),
        };
        let kind = if flag_store {
            ConfigKind::Flag
        } else {
            ConfigKind::ConfigMap
        };
        inv.entries.insert(
            Subject {
                scope: scope.clone(),
                kind,
                key: Name::new(k),
            },
            entry(Value::Text(Name::new(v)), prov),
        );
        if let Some(flags) = flagd_flags(v) {
            for (flag, value) in flags {
                inv.entries.insert(
                    Subject {
                        scope: scope.clone(),
                        kind: ConfigKind::Flag,
                        key: Name::from(flag),
                    },
                    entry(
                        value,
                        Provenance::Flagd {
                            configmap: Name::new(&meta.name),
                            key: Name::new(k),
                        },
                    ),
                );
            }
        }
    }
    for (k, h) in binary {
        inv.entries.insert(
            Subject {
                scope: scope.clone(),
                kind: ConfigKind::ConfigMap,
                key: Name::new(k),
            },
            entry(
                Value::Binary(h.clone()),
                Provenance::ConfigMapData {
                    name: Name::new(&meta.name),
                    key: Name::new(k),
                },
            ),
        );
    }
}

/// Reads a flagd flag-definition document (`{"flags": {NAME: {"state",
/// "variants", "defaultVariant"}}}`): each flag's value is its state and
/// the value of its default variant.
fn flagd_flags(text: &str) -> Option<Vec<(String, Value)>> {
    let t = text.trim_start();
    if !t.starts_with('{') || !t.contains("\"flags\"") {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_str(t).ok()?;
    let flags = doc.get("flags")?.as_object()?;
    let mut out = Vec::new();
    for (name, def) in flags {
        let state = def
            .get("state")
            .and_then(|s| s.as_str())
            .unwrap_or("ENABLED");
        let value = match def.get("defaultVariant").and_then(|d| d.as_str()) {
            Some(variant) => match def.get("variants").and_then(|v| v.get(variant)) {
                Some(v) => Value::Text(format!("{state} default={v}").into()),
                None => Value::Unresolved(format!(
                    "defaultVariant {variant} is not one of the flag's variants"
                )),
            },
            // flagd: no default variant means the flag resolves to the
            // caller's code default.
            None => Value::Text(format!("{state} default=(code default)").into()),
        };
        out.push((name.clone(), value));
    }
    Some(out)
}
