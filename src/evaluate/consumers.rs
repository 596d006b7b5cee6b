//! consumers: one cause, one finding. A ConfigMap key that drifts and is
//! read by a container drifts twice in the comparison, once as the
//! ConfigMap's key and once where it takes effect (an env var, an `envFrom`
//! variable, a mounted file). The finding stays where it takes effect, whose
//! sources name the ConfigMap key; the ConfigMap's own finding goes.
//!
//! A ConfigMap key finding stays when the key is consumed by nobody, or not
//! by the same containers in every environment that has the ConfigMap (the
//! containers' findings then do not show the same difference), or when a
//! consumer has no finding that counts at least as much (as severe, and not
//! waived unless it is waived too); in that last case the consumers' plain
//! `unmatched` drift of the key goes instead. The flags of a flagd document are their
//! own findings; the document's (its key and the files it is mounted as) go
//! when the document differs in nothing but flags that have findings.
//!
//! Never drops a finding whose difference is not shown by another one, and
//! never lowers what counts for the gate: it only removes duplicates.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    ConfigKind, Finding, Inventory, Name, Provenance, RefKind, Scope, Subject, Value,
};

/// Which containers' values come from each ConfigMap key, in one environment.
type Consumers = BTreeMap<(String, String), BTreeSet<Subject>>;

/// Removes the ConfigMap findings that other findings already show and
/// returns them.
pub(super) fn merge(findings: &mut Vec<Finding>, invs: &[Inventory]) -> Vec<Finding> {
    let flagd = flagd_docs(invs);
    let mut removed = drop_flagd_documents(findings, invs, &flagd);
    // Only the keys of ConfigMaps with a finding are looked up: every
    // container's every key is hundreds of thousands of them at 50,000
    // pods, and held together they were the largest part of a run.
    let wanted: BTreeSet<(&str, &str)> = findings
        .iter()
        .filter(|f| f.environment.is_none())
        .filter_map(|f| Some((f.configmap.as_deref()?, f.key.as_deref()?)))
        .collect();
    let consumers: Vec<Consumers> = invs.iter().map(|inv| consumers(inv, &wanted)).collect();
    removed.extend(drop_consumed_keys(findings, invs, &consumers));
    removed
}

/// The ConfigMap id (as subjects name it, after renames and hash
/// stripping) of each real object, by `(namespace, object name)`. Values
/// name the object they came from as Kubernetes does, so consumers are
/// matched through this map, never by comparing names.
fn configmap_ids(inv: &Inventory) -> BTreeMap<(&str, &str), &str> {
    let mut ids = BTreeMap::new();
    for (s, e) in &inv.entries {
        let Scope::ConfigMap { name: id } = &s.scope else {
            continue;
        };
        let object = match &e.provenance {
            Provenance::ConfigMapData { name, .. } => name,
            Provenance::Flagd { configmap, .. } => configmap,
            _ => continue,
        };
        ids.insert((e.namespace.as_str(), object.as_str()), id.as_str());
    }
    ids
}

/// The consumers of the ConfigMap keys in `wanted`, `(ConfigMap id, key)`.
fn consumers(inv: &Inventory, wanted: &BTreeSet<(&str, &str)>) -> Consumers {
    let mut out = Consumers::new();
    if wanted.is_empty() {
        return out;
    }
    let ids = configmap_ids(inv);
    for (s, e) in &inv.entries {
        if !matches!(s.scope, Scope::Container { .. }) {
            continue;
        }
        let (name, key) = match &e.provenance {
            Provenance::ConfigMapKey { name, key }
            | Provenance::EnvFrom {
                source: RefKind::ConfigMap,
                name,
                key,
                ..
            }
            | Provenance::Mounted {
                source: RefKind::ConfigMap,
                name,
                key,
            } => (name, key),
            _ => continue,
        };
        if let Some(&id) = ids.get(&(e.namespace.as_str(), name.as_str()))
            && wanted.contains(&(id, key.as_str()))
        {
            out.entry((id.to_string(), key.to_string()))
                .or_default()
                .insert(s.clone());
        }
    }
    out
}

/// The subject a finding is about, when it is about one key.
fn subject_of(f: &Finding) -> Option<Subject> {
    let scope = match (&f.workload, &f.container, &f.configmap) {
        (Some(w), Some(c), None) => Scope::Container {
            workload: Name::new(w),
            container: Name::new(c),
        },
        (None, None, Some(name)) => Scope::ConfigMap {
            name: Name::new(name),
        },
        _ => return None,
    };
    Some(Subject {
        scope,
        kind: f.kind?,
        key: Name::from(f.key.clone()?),
    })
}

/// Whether `by` counts for the gate at least as much as `f`, so that `f`
/// can go without the run's outcome changing.
fn counts_as_much(by: &Finding, f: &Finding) -> bool {
    by.environment.is_none()
        && by.severity >= f.severity
        && (by.waiver.is_none() || f.waiver.is_some())
}

/// Findings about the drift of one key across environments (not the
/// per-environment ones: skew, dangling references), by subject.
fn by_subject(findings: &[Finding]) -> BTreeMap<Subject, Vec<usize>> {
    let mut out: BTreeMap<Subject, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.environment.is_some() {
            continue;
        }
        if let Some(s) = subject_of(f) {
            out.entry(s).or_default().push(i);
        }
    }
    out
}

fn drop_consumed_keys(
    findings: &mut Vec<Finding>,
    invs: &[Inventory],
    consumers: &[Consumers],
) -> Vec<Finding> {
    let index = by_subject(findings);
    let mut gone = BTreeSet::new();
    for (subject, idx) in &index {
        let Scope::ConfigMap { name: cm } = &subject.scope else {
            continue;
        };
        // A flagd flag has no per-container subject: it stays.
        let from_data = invs.iter().all(|inv| {
            inv.entries
                .get(subject)
                .is_none_or(|e| matches!(e.provenance, Provenance::ConfigMapData { .. }))
        });
        if !from_data {
            continue;
        }
        let Some(readers) = same_consumers(invs, consumers, &subject.scope, cm, &subject.key)
        else {
            continue;
        };
        for &i in idx {
            let shown_there = readers.iter().all(|r| {
                index.get(r).is_some_and(|js| {
                    js.iter()
                        .any(|&j| !gone.contains(&j) && counts_as_much(&findings[j], &findings[i]))
                })
            });
            if shown_there {
                gone.insert(i);
                continue;
            }
            // The ConfigMap's finding counts for more (a rule for
            // `kind: configmap` only): the consumers' plain drift, which no
            // rule spoke to, is the same cause and goes instead.
            for r in readers {
                for &j in index.get(r).into_iter().flatten() {
                    let g = &findings[j];
                    if g.rule == super::UNMATCHED
                        && matches!(g.code.as_str(), "value-differs" | "key-missing")
                        && counts_as_much(&findings[i], g)
                    {
                        gone.insert(j);
                    }
                }
            }
        }
    }
    remove(findings, &gone)
}

/// The containers that consume `cm`'s `key`, when they are the same (and
/// some) in every environment that has the ConfigMap.
fn same_consumers<'c>(
    invs: &[Inventory],
    consumers: &'c [Consumers],
    scope: &Scope,
    cm: &str,
    key: &str,
) -> Option<&'c BTreeSet<Subject>> {
    let lookup = (cm.to_string(), key.to_string());
    let mut seen: Option<&BTreeSet<Subject>> = None;
    for (inv, c) in invs.iter().zip(consumers) {
        if !inv.has_scope(scope) {
            continue;
        }
        let here = c.get(&lookup)?;
        match seen {
            Some(s) if s != here => return None,
            _ => seen = Some(here),
        }
    }
    seen
}

/// The flagd documents of each environment: `(ConfigMap id, data key)`.
fn flagd_docs(invs: &[Inventory]) -> BTreeSet<(Name, Name)> {
    let mut out = BTreeSet::new();
    for inv in invs {
        for (s, e) in &inv.entries {
            if let (Scope::ConfigMap { name }, Provenance::Flagd { key, .. }) =
                (&s.scope, &e.provenance)
            {
                out.insert((name.clone(), key.clone()));
            }
        }
    }
    out
}

/// The flagd document (ConfigMap id, data key) a finding is about: the
/// ConfigMap's key itself, or a file mounted from it.
fn document_of(
    subject: &Subject,
    invs: &[Inventory],
    ids: &[BTreeMap<(&str, &str), &str>],
    docs: &BTreeSet<(Name, Name)>,
) -> Option<(Name, Name)> {
    let doc = match (&subject.scope, subject.kind) {
        (Scope::ConfigMap { name }, ConfigKind::ConfigMap) => (name.clone(), subject.key.clone()),
        (Scope::Container { .. }, ConfigKind::File) => {
            // Mounted from the same document in every environment.
            let mut found: Option<(Name, Name)> = None;
            for (inv, ids) in invs.iter().zip(ids) {
                let Some(e) = inv.entries.get(subject) else {
                    continue;
                };
                let Provenance::Mounted {
                    source: RefKind::ConfigMap,
                    name,
                    key,
                } = &e.provenance
                else {
                    return None;
                };
                let id = Name::new(ids.get(&(e.namespace.as_str(), name.as_str()))?);
                let doc = (id, key.clone());
                if found.as_ref().is_some_and(|d| *d != doc) {
                    return None;
                }
                found = Some(doc);
            }
            found?
        }
        _ => return None,
    };
    docs.contains(&doc).then_some(doc)
}

fn drop_flagd_documents(
    findings: &mut Vec<Finding>,
    invs: &[Inventory],
    docs: &BTreeSet<(Name, Name)>,
) -> Vec<Finding> {
    if docs.is_empty() {
        return Vec::new();
    }
    let index = by_subject(findings);
    let ids: Vec<_> = invs.iter().map(configmap_ids).collect();
    let mut gone = BTreeSet::new();
    for (subject, idx) in &index {
        let Some((cm, _)) = document_of(subject, invs, &ids, docs) else {
            continue;
        };
        for &i in idx {
            // The flags of this ConfigMap whose findings count as much.
            let flagged: BTreeSet<&str> = index
                .iter()
                .filter(|(s, _)| {
                    s.kind == ConfigKind::Flag && s.scope.configmap() == Some(cm.as_str())
                })
                .filter(|(_, js)| {
                    js.iter()
                        .any(|&j| counts_as_much(&findings[j], &findings[i]))
                })
                .map(|(s, _)| s.key.as_str())
                .collect();
            if !flagged.is_empty() && differs_only_in(invs, subject, &flagged) {
                gone.insert(i);
            }
        }
    }
    remove(findings, &gone)
}

/// Whether the document `subject` holds is the same in every environment
/// once the `flags` named are taken out: then those flags' findings show
/// all of its difference. A document that is missing somewhere, or is not
/// JSON, differs in more.
fn differs_only_in(invs: &[Inventory], subject: &Subject, flags: &BTreeSet<&str>) -> bool {
    let mut docs = Vec::new();
    for inv in invs {
        let scope_here = inv.has_scope(&subject.scope);
        match inv.entries.get(subject).map(|e| &e.value) {
            None if !scope_here => continue,
            Some(Value::Text(t)) => {
                let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(t) else {
                    return false;
                };
                if let Some(all) = doc.get_mut("flags").and_then(|f| f.as_object_mut()) {
                    all.retain(|name, _| !flags.contains(name.as_str()));
                }
                docs.push(doc);
            }
            _ => return false,
        }
    }
    docs.windows(2).all(|w| w[0] == w[1])
}

fn remove(findings: &mut Vec<Finding>, gone: &BTreeSet<usize>) -> Vec<Finding> {
    let (removed, kept) = std::mem::take(findings)
        .into_iter()
        .enumerate()
        .partition::<Vec<_>, _>(|(i, _)| gone.contains(i));
    *findings = kept.into_iter().map(|(_, f)| f).collect();
    removed.into_iter().map(|(_, f)| f).collect()
}
