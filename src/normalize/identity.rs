//! Workload identity: which workload a pod or template belongs to, so that
//! nothing Kubernetes generates (pod-name suffixes, ReplicaSet hashes, Job
//! timestamps, kustomize ConfigMap hashes) can look like drift.

use std::collections::HashMap;

use crate::model::{Meta, Object, WorkloadKind};

/// Labels that name an application, in the order confdrift trusts them.
const NAME_LABELS: &[&str] = &["app.kubernetes.io/name", "app"];

/// Owners known from the input: `(namespace, kind, name)` → controller.
pub struct Owners<'a> {
    owners: HashMap<(&'a str, &'a str, &'a str), (&'a str, &'a str)>,
    present: HashMap<(&'a str, &'a str, &'a str), ()>,
}

impl<'a> Owners<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut owners = HashMap::new();
        let mut present = HashMap::new();
        for o in objects {
            if let Object::Workload {
                workload_kind,
                metadata,
                ..
            } = o
            {
                let k = (
                    metadata.namespace.as_str(),
                    workload_kind.as_str(),
                    metadata.name.as_str(),
                );
                present.insert(k, ());
                if let Some(c) = metadata.controller() {
                    owners.insert(k, (c.kind.as_str(), c.name.as_str()));
                }
            }
        }
        Owners { owners, present }
    }

    fn is_present(&self, ns: &str, kind: &str, name: &str) -> bool {
        self.present.contains_key(&(ns, kind, name))
    }

    fn owner_of(&self, ns: &str, kind: &str, name: &str) -> Option<(&'a str, &'a str)> {
        self.owners.get(&(ns, kind, name)).copied()
    }
}

/// The workload a pod belongs to: `(kind, name)`.
pub fn pod_workload(meta: &Meta, owners: &Owners<'_>) -> (String, String) {
    let ns = meta.namespace.as_str();
    if let Some(owner) = meta.controller() {
        match owner.kind.as_str() {
            "ReplicaSet" => {
                if let Some((kind, name)) = owner_walk(ns, "ReplicaSet", &owner.name, owners) {
                    return (kind, name);
                }
                // The Deployment controller names ReplicaSets
                // `<deployment>-<pod-template-hash>` and labels their pods
                // with the hash.
                if let Some(hash) = meta.labels.get("pod-template-hash")
                    && let Some(base) = owner.name.strip_suffix(&format!("-{hash}"))
                    && !base.is_empty()
                {
                    return ("Deployment".into(), base.to_string());
                }
                return ("ReplicaSet".into(), owner.name.clone());
            }
            "Job" => {
                if let Some((kind, name)) = owner_walk(ns, "Job", &owner.name, owners) {
                    return (kind, name);
                }
                // Guess the CronJob from the Job's name only when the Job
                // itself was not collected: a Job in the input without an
                // owner is a workload of its own (a Helm hook `migrate-20250502`).
                if !owners.is_present(ns, "Job", &owner.name)
                    && let Some(base) = cronjob_base(&owner.name)
                {
                    return ("CronJob".into(), base.to_string());
                }
                return ("Job".into(), owner.name.clone());
            }
            "Node" => {} // static (mirror) pods: fall through to labels
            kind => return (kind.to_string(), owner.name.clone()),
        }
    }
    for label in NAME_LABELS {
        if let Some(v) = meta.labels.get(label)
            && !v.is_empty()
        {
            return ("Pod".into(), v.clone());
        }
    }
    ("Pod".into(), meta.name.clone())
}

/// Follows an owner chain upward (ReplicaSet → Deployment, Job → CronJob)
/// through objects present in the input.
fn owner_walk(ns: &str, kind: &str, name: &str, owners: &Owners<'_>) -> Option<(String, String)> {
    let (okind, oname) = owners.owner_of(ns, kind, name)?;
    Some(
        owner_walk(ns, okind, oname, owners)
            .unwrap_or_else(|| (okind.to_string(), oname.to_string())),
    )
}

/// The workload a controller's template belongs to, or `None` when the
/// template is owned by another controller present in the input (a
/// Deployment's ReplicaSets, a CronJob's Jobs): then the owner's template is
/// the authoritative one.
pub fn template_workload(
    kind: WorkloadKind,
    meta: &Meta,
    owners: &Owners<'_>,
) -> Option<(String, String)> {
    let ns = meta.namespace.as_str();
    if let Some(c) = meta.controller()
        && matches!(kind, WorkloadKind::ReplicaSet | WorkloadKind::Job)
    {
        if owners.is_present(ns, &c.kind, &c.name) {
            return None;
        }
        return Some((c.kind.clone(), c.name.clone()));
    }
    Some((kind.as_str().to_string(), meta.name.clone()))
}

/// A Job created by a CronJob is named `<cronjob>-<scheduled time in
/// minutes since the epoch>` (kubernetes/pkg/controller/cronjob
/// `getJobName`).
fn cronjob_base(job: &str) -> Option<&str> {
    let (base, suffix) = job.rsplit_once('-')?;
    (suffix.len() >= 8 && suffix.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty())
        .then_some(base)
}

/// Strips the content hash that kustomize's `configMapGenerator` and
/// `secretGenerator` append (`-` and 10 characters of its vowel-free
/// alphabet, see kustomize api/hasher `encode`), so `app-config-7h2g9k5c4m`
/// in staging and `app-config-b8t6f2dkm4` in prod are the same ConfigMap.
pub fn strip_generated_hash(name: &str) -> &str {
    if let Some((base, suffix)) = name.rsplit_once('-')
        && suffix.len() == 10
        && !base.is_empty()
        && suffix.bytes().all(|b| b"bcdfghkmt2456789".contains(&b))
        && suffix.bytes().any(|b| b.is_ascii_digit())
    {
        return base;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OwnerRef;

    fn meta(name: &str, labels: &[(&str, &str)], owner: Option<(&str, &str)>) -> Meta {
        Meta {
            name: name.into(),
            namespace: "shop".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            owner_references: owner
                .map(|(k, n)| {
                    vec![OwnerRef {
                        kind: k.into(),
                        name: n.into(),
                        controller: true,
                    }]
                })
                .unwrap_or_default(),
            last_update: None,
            rejected: Vec::new(),
        }
    }

    #[test]
    fn deployment_pod_is_named_by_stripping_pod_template_hash() {
        let owners = Owners::new(&[]);
        let m = meta(
            "checkout-7c9d5b8f4d-x2x9k",
            &[("pod-template-hash", "7c9d5b8f4d")],
            Some(("ReplicaSet", "checkout-7c9d5b8f4d")),
        );
        assert_eq!(
            pod_workload(&m, &owners),
            ("Deployment".into(), "checkout".into())
        );
    }

    #[test]
    fn replicaset_owner_chain_is_followed_when_present() {
        let objects = vec![Object::Workload {
            workload_kind: WorkloadKind::ReplicaSet,
            metadata: meta("web-abc", &[], Some(("Deployment", "web-v2"))),
            template: Default::default(),
        }];
        let owners = Owners::new(&objects);
        let m = meta("web-abc-zzz", &[], Some(("ReplicaSet", "web-abc")));
        assert_eq!(
            pod_workload(&m, &owners),
            ("Deployment".into(), "web-v2".into())
        );
    }

    #[test]
    fn statefulset_pods_belong_to_the_statefulset() {
        let m = meta("cart-1", &[], Some(("StatefulSet", "cart")));
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("StatefulSet".into(), "cart".into())
        );
    }

    #[test]
    fn cronjob_pods_are_grouped_under_the_cronjob_without_the_job_object() {
        let m = meta(
            "backup-28912345-abcde",
            &[],
            Some(("Job", "backup-28912345")),
        );
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("CronJob".into(), "backup".into())
        );
    }

    #[test]
    fn bare_pods_use_the_name_label_then_app_then_their_name() {
        let o = Owners::new(&[]);
        let m = meta(
            "x-1",
            &[("app", "a"), ("app.kubernetes.io/name", "b")],
            None,
        );
        assert_eq!(pod_workload(&m, &o).1, "b");
        let m = meta("x-1", &[("app", "a")], None);
        assert_eq!(pod_workload(&m, &o).1, "a");
        let m = meta("x-1", &[], None);
        assert_eq!(pod_workload(&m, &o).1, "x-1");
    }

    #[test]
    fn replicasets_of_a_present_deployment_do_not_count_as_workloads() {
        let objects = vec![Object::Workload {
            workload_kind: WorkloadKind::Deployment,
            metadata: meta("web", &[], None),
            template: Default::default(),
        }];
        let owners = Owners::new(&objects);
        let rs = meta("web-abc", &[], Some(("Deployment", "web")));
        assert_eq!(
            template_workload(WorkloadKind::ReplicaSet, &rs, &owners),
            None
        );
        let orphan_owner = Owners::new(&[]);
        assert_eq!(
            template_workload(WorkloadKind::ReplicaSet, &rs, &orphan_owner),
            Some(("Deployment".into(), "web".into()))
        );
    }

    #[test]
    fn kustomize_hash_suffix_is_stripped_but_ordinary_names_are_kept() {
        assert_eq!(strip_generated_hash("app-config-7h2g9k5c4m"), "app-config");
        assert_eq!(strip_generated_hash("app-config"), "app-config");
        assert_eq!(strip_generated_hash("feature-flags"), "feature-flags");
        assert_eq!(strip_generated_hash("my-configmapx"), "my-configmapx");
    }
}
