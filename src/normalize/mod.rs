//! normalize: turn one environment's objects into its effective
//! configuration, resolved the way Kubernetes resolves it.
//!
//! For every workload and container: `envFrom` in order (later wins, with
//! `prefix`), then `env` on top; `$(VAR)` expansion against earlier
//! variables; ConfigMap and Secret references in the pod's namespace, with
//! `optional`; files mounted from ConfigMaps and Secrets. Every value keeps
//! its provenance. Pure and synchronous: no I/O, no clock.

pub(crate) mod apply;
pub(crate) mod canonical;
mod configmaps;
pub mod expand;
pub(crate) mod lineup;
mod options;
mod resolve;
mod runtime;
mod variants;

#[cfg(test)]
mod replicas_tests;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::identity::{Owners, pod_workload, template_workload};
use crate::model::{
    Collected, ConfigKind, Entries, Entry, Fingerprint, Inventory, Issue, Meta, Name, Object,
    PodSpec, PodStatus, Provenance, RefKind, RejectedValue, RuntimeEnv, Subject, Value,
    WorkloadInfo, WorkloadKind,
};
use configmaps::add_configmaps;
pub(crate) use options::{DEFAULT_FLAG_PATTERNS, Options};
use resolve::Resolver;
pub(crate) use runtime::align_runtime;
use runtime::{add_runtime, stale_pods};
use variants::merge_variants;

pub(crate) use crate::model::FLAG_STORE_LABEL;

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

/// Normalizes one environment.
pub(crate) fn normalize(env: &str, collected: &Collected, opts: &Options) -> Inventory {
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
                    .entry((String::from(metadata.namespace.clone()), name))
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
                        .entry((String::from(metadata.namespace.clone()), name))
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
    // In the order of their ids, so that each workload's entries append to
    // the sorted entries (see [`crate::model::Entries`]).
    let mut ordered: Vec<(String, &str, &Group<'_>)> = groups
        .iter()
        .map(|((ns, name), group)| {
            let id = if qualified.contains(name) {
                format!("{ns}/{name}")
            } else {
                name.clone()
            };
            (id, ns.as_str(), group)
        })
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    // Each workload's entries are made apart and put together once, at
    // their exact size: one vector grown entry by entry holds the old and
    // the new room at once each time it grows, while every raw object is
    // still held too.
    let mut parts = Vec::with_capacity(ordered.len() + 1);
    for (id, ns, group) in ordered {
        resolve_group(&mut inv, &id, ns, group, &refs, opts);
        let mut part = std::mem::take(&mut inv.entries);
        part.shrink_to_fit();
        parts.push(part);
    }
    add_configmaps(&mut inv, collected, opts);
    parts.push(std::mem::take(&mut inv.entries));
    inv.entries = Entries::from_parts(parts);
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
type ConfigMapData<'a> = (&'a BTreeMap<Name, Name>, &'a BTreeMap<String, String>);

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
            return Some(Value::Unresolved(Name::from(made_at_runtime(by))));
        }
        self.collected.is_unreadable(ns, kind.as_str()).then(|| {
            Value::Unresolved(
                format!("{}s in namespace {ns} could not be read", kind.as_str()).into(),
            )
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
                .map(|k| {
                    (
                        k.clone(),
                        Value::Unresolved(Name::from(made_at_runtime(by))),
                    )
                })
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
            container: None,
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
pub(crate) fn fill_missing_mounts(invs: &mut [Inventory]) {
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
                for (s, e) in other.entries.range_from(&from) {
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
                invs[i].entries.insert_if_absent(s, e);
            }
        }
    }
}

fn is_missing_mount(key: &str) -> bool {
    key.rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with(MISSING_MOUNT))
}

pub(crate) use crate::display::value as display_value;
