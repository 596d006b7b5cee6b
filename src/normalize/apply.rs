//! What an environment will hold after a candidate is deployed to it: the
//! deploy gate judges that, not the candidate on its own.
//!
//! `kubectl apply` (and Helm, and Argo CD without pruning) replaces the
//! objects the candidate names and leaves every other object as it is. So
//! the environment after the deploy is the candidate's objects plus the
//! current ones it does not replace. A workload the candidate brings
//! replaces the current one's template *and* its running pods (pods take
//! precedence over templates in normalization, and the old pods will be
//! rolled). A generated ConfigMap or Secret (`shop-config-7h2g9k5c4m`)
//! replaces the one with the same base name. Pure: objects in, objects out.

use std::collections::BTreeSet;

use crate::model::{Collected, Object, Problem, Severity};

use crate::model::identity::{Owners, pod_workload, strip_generated_hash, template_workload};

/// `current` with `candidate` applied on top. Candidate objects that name
/// no namespace are put in the one namespace the current objects use (as
/// `kubectl apply -n NS` would); when the current objects use several,
/// they stay as they are and a problem says so.
pub(crate) fn apply(current: &Collected, candidate: &Collected) -> Collected {
    let mut problems = current.problems.clone();
    problems.extend(candidate.problems.iter().cloned());
    let mut incoming = candidate.objects.clone();
    let namespaces: BTreeSet<&str> = current
        .objects
        .iter()
        .map(|o| o.meta().namespace.as_str())
        .filter(|ns| !ns.is_empty())
        .collect();
    if incoming.iter().any(|o| o.meta().namespace.is_empty()) {
        match namespaces.iter().collect::<Vec<_>>().as_slice() {
            [only] => {
                let only = only.to_string();
                for o in &mut incoming {
                    let meta = o.meta_mut();
                    if meta.namespace.is_empty() {
                        meta.namespace = crate::model::Name::new(&only);
                    }
                }
                problems.push(Problem {
                    code: crate::codes::ProblemCode::CandidateNamespace.into(),
                    severity: Severity::Info,
                    incomplete: false,
                    location: candidate.source.clone(),
                    message: format!(
                        "the candidate's objects that name no namespace are deployed to \
                         namespace {only}, the one the current environment uses"
                    ),
                });
            }
            [] => {}
            several => problems.push(Problem {
                code: crate::codes::ProblemCode::CandidateNamespace.into(),
                severity: Severity::Warning,
                incomplete: false,
                location: candidate.source.clone(),
                message: format!(
                    "the candidate's objects name no namespace and the current environment \
                     uses several ({}); they are compared as they are. Give the candidate's \
                     namespace in its source (`?namespace=NS`)",
                    several
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    // What the candidate replaces: objects by kind and name, generated
    // ConfigMaps and Secrets by base name, workloads with their pods.
    let candidate_owners = Owners::new(&incoming);
    let mut objects: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    let mut workloads: BTreeSet<(String, String)> = BTreeSet::new();
    for o in &incoming {
        let meta = o.meta();
        match o {
            // A Secret an ExternalSecret will make is replaced like a
            // Secret; a real one in the environment still wins when resolving.
            Object::ConfigMap { .. } | Object::Secret { .. } | Object::ProducedSecret { .. } => {
                objects.insert((
                    o.kind_name(),
                    meta.namespace.as_str(),
                    strip_generated_hash(&meta.name),
                ));
            }
            Object::Workload { workload_kind, .. } => {
                objects.insert((o.kind_name(), meta.namespace.as_str(), meta.name.as_str()));
                if let Some((_, name)) = template_workload(*workload_kind, meta, &candidate_owners)
                {
                    workloads.insert((String::from(meta.namespace.clone()), name));
                }
            }
            Object::Pod { .. } => {
                objects.insert((o.kind_name(), meta.namespace.as_str(), meta.name.as_str()));
                let (_, name) = pod_workload(meta, &candidate_owners);
                workloads.insert((String::from(meta.namespace.clone()), name));
            }
        }
    }
    let owners = Owners::new(&current.objects);
    let replaced = |o: &Object| -> bool {
        let meta = o.meta();
        let ns = meta.namespace.as_str();
        match o {
            Object::ConfigMap { .. } | Object::Secret { .. } | Object::ProducedSecret { .. } => {
                objects.contains(&(o.kind_name(), ns, strip_generated_hash(&meta.name)))
            }
            Object::Workload { workload_kind, .. } => {
                objects.contains(&(o.kind_name(), ns, meta.name.as_str()))
                    // A ReplicaSet or Job of a replaced controller.
                    || meta.controller().is_some_and(|c| {
                        objects.contains(&(c.kind.as_str(), ns, c.name.as_str()))
                    })
                    || template_workload(*workload_kind, meta, &owners)
                        .is_some_and(|(_, name)| workloads.contains(&(ns.to_string(), name)))
            }
            Object::Pod { .. } => {
                let (_, name) = pod_workload(meta, &owners);
                objects.contains(&(o.kind_name(), ns, meta.name.as_str()))
                    || workloads.contains(&(ns.to_string(), name))
            }
        }
    };
    let kept: Vec<Object> = current
        .objects
        .iter()
        .filter(|o| !replaced(o))
        .cloned()
        .collect();
    let kept_pods: BTreeSet<(&str, &str)> = kept
        .iter()
        .filter_map(|o| match o {
            Object::Pod { metadata, .. } => {
                Some((metadata.namespace.as_str(), metadata.name.as_str()))
            }
            _ => None,
        })
        .collect();
    let runtime_env = current
        .runtime_env
        .iter()
        .filter(|r| kept_pods.contains(&(r.namespace.as_str(), r.pod.as_str())))
        .cloned()
        .collect();
    incoming.extend(kept);
    let mut skipped_kinds = current.skipped_kinds.clone();
    for (kind, n) in &candidate.skipped_kinds {
        *skipped_kinds.entry(kind.clone()).or_default() += n;
    }
    let mut after = Collected {
        source: format!("{} applied to {}", candidate.source, current.source),
        objects: incoming,
        skipped_kinds,
        problems,
        files: current.files + candidate.files,
        fingerprint_key_id: current.fingerprint_key_id.clone(),
        unreadable: current.unreadable.clone(),
        runtime_env,
    };
    crate::collect::finish(&mut after);
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tests::collect_yaml;

    fn collected(source: &str, yaml: &str) -> Collected {
        Collected {
            source: source.into(),
            ..collect_yaml(yaml)
        }
    }

    fn names(c: &Collected) -> Vec<String> {
        c.objects
            .iter()
            .map(|o| format!("{} {}/{}", o.kind_name(), o.meta().namespace, o.meta().name))
            .collect()
    }

    const CURRENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: server, env: [{name: POOL, value: "5"}]}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: checkout-7d9f
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: checkout, controller: true, uid: a}]
spec:
  template:
    spec:
      containers: [{name: server, env: [{name: POOL, value: "5"}]}]
---
apiVersion: v1
kind: Pod
metadata:
  name: checkout-7d9f-abcde
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: checkout-7d9f, controller: true, uid: b}]
spec:
  containers: [{name: server, env: [{name: POOL, value: "5"}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: cart}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config-7h2g9k5c4m, namespace: shop}
data: {A: "1"}
"#;

    const CANDIDATE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout}
spec:
  template:
    spec:
      containers: [{name: server, env: [{name: POOL, value: "10"}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config-b8t6f2dkm4}
data: {A: "2"}
"#;

    #[test]
    fn a_candidate_workload_replaces_the_template_replica_sets_and_pods_and_keeps_the_rest() {
        let after = apply(
            &collected("prod", CURRENT),
            &collected("rendered.yaml", CANDIDATE),
        );
        assert_eq!(
            names(&after),
            [
                "ConfigMap shop/shop-config-b8t6f2dkm4",
                "Deployment shop/cart",
                "Deployment shop/checkout",
            ]
        );
        assert_eq!(after.source, "rendered.yaml applied to prod");
        let note = after
            .problems
            .iter()
            .find(|p| p.code == "candidate-namespace")
            .unwrap();
        assert!(note.message.contains("namespace shop"), "{}", note.message);
    }

    #[test]
    fn a_candidate_without_namespaces_against_several_is_left_as_it_is_and_said() {
        let current = CURRENT.replacen(
            "name: cart, namespace: shop",
            "name: cart, namespace: web",
            1,
        );
        let after = apply(
            &collected("prod", &current),
            &collected("rendered.yaml", CANDIDATE),
        );
        assert!(names(&after).contains(&"Deployment /checkout".to_string()));
        let note = after
            .problems
            .iter()
            .find(|p| p.code == "candidate-namespace")
            .unwrap();
        assert_eq!(note.severity, Severity::Warning);
        assert!(note.message.contains("(shop, web)"), "{}", note.message);
    }

    #[test]
    fn applying_an_environment_to_itself_changes_nothing() {
        let current = collected("prod", CURRENT);
        let after = apply(&current, &current);
        assert_eq!(after.objects, current.objects);
    }
}
