//! What only running pods show: the process environment read with
//! `--runtime-env` (added where the spec does not declare a variable, and
//! compared only between environments that read it), and pods that started
//! before the ConfigMap or Secret they read at start last changed.

use std::collections::{BTreeMap, BTreeSet};

use super::{Group, Options, Refs};
use crate::model::{
    ConfigKind, Container, Entry, Inventory, Issue, Name, PodSpec, Provenance, RefKind, Scope,
    Subject,
};

/// Adds the variables of the process environment (`--runtime-env`) that the
/// pod spec does not declare: those baked into the image or injected by a
/// webhook. Declared ones are already compared from the spec, with their
/// real provenance. Values are fingerprints only.
pub(super) fn add_runtime(
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

/// Runtime variables are compared only between environments that read
/// them: a container whose environment could not be read (no `env` in the
/// image, RBAC, a file source) would otherwise make every variable of the
/// others look missing. Those gaps are reported as problems instead.
pub(crate) fn align_runtime(invs: &mut [Inventory]) {
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
pub(super) fn read_at_start<'s>(
    c: &'s Container,
    spec: &'s PodSpec,
) -> BTreeSet<(RefKind, &'s str)> {
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
pub(super) fn stale_pods(
    inv: &mut Inventory,
    id: &str,
    ns: &str,
    group: &Group<'_>,
    refs: &Refs<'_>,
) {
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
