//! Workload identity: which workload a pod or template belongs to, so that
//! nothing Kubernetes generates (pod-name suffixes, ReplicaSet hashes, Job
//! timestamps, kustomize ConfigMap hashes) can look like drift.

use std::collections::HashMap;

use crate::model::{Meta, Object, PodSpec, WorkloadKind};

/// Labels that name an application, in the order confdrift trusts them.
const NAME_LABELS: &[&str] = &["app.kubernetes.io/name", "app"];

pub use crate::model::{KNATIVE_CONFIGURATION_LABEL, KNATIVE_SERVICE_LABEL, ROLLOUT_HASH_LABEL};

type Key<'a> = (&'a str, &'a str, &'a str);

/// Owners known from the input: `(namespace, kind, name)` → controller.
pub struct Owners<'a> {
    owners: HashMap<Key<'a>, (&'a str, &'a str)>,
    present: HashMap<Key<'a>, ()>,
    /// Workloads whose pod template another one runs (a Deployment named
    /// by a Rollout's `workloadRef`) → that one.
    referenced: HashMap<Key<'a>, (&'a str, &'a str)>,
    templates: HashMap<Key<'a>, &'a PodSpec>,
}

impl<'a> Owners<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut owners = HashMap::new();
        let mut present = HashMap::new();
        let mut referenced = HashMap::new();
        let mut templates = HashMap::new();
        for o in objects {
            if let Object::Workload {
                workload_kind,
                metadata,
                template,
                template_from,
            } = o
            {
                let ns = metadata.namespace.as_str();
                let k = (ns, workload_kind.as_str(), metadata.name.as_str());
                present.insert(k, ());
                if let Some(c) = metadata.controller() {
                    owners.insert(k, (c.kind.as_str(), c.name.as_str()));
                }
                match template_from {
                    Some(r) => {
                        referenced.insert(
                            (ns, r.kind.as_str(), r.name.as_str()),
                            (workload_kind.as_str(), metadata.name.as_str()),
                        );
                    }
                    None => {
                        templates.insert(k, &**template);
                    }
                }
            }
        }
        // A referenced workload's pods belong to the one that references
        // it (a Deployment scaled down progressively while the Rollout
        // takes over), unless a controller of its own owns it.
        for (k, by) in &referenced {
            owners.entry(*k).or_insert(*by);
        }
        Owners {
            owners,
            present,
            referenced,
            templates,
        }
    }

    fn is_present(&self, ns: &str, kind: &str, name: &str) -> bool {
        self.present.contains_key(&(ns, kind, name))
    }

    /// The pod template of a workload in the input (the target of a
    /// Rollout's `workloadRef`).
    pub fn template_of(&self, ns: &str, kind: &str, name: &str) -> Option<&'a PodSpec> {
        self.templates.get(&(ns, kind, name)).copied()
    }

    fn owner_of(&self, ns: &str, kind: &str, name: &str) -> Option<(&'a str, &'a str)> {
        self.owners.get(&(ns, kind, name)).copied()
    }
}

/// The workload a pod belongs to: `(kind, name)`.
pub fn pod_workload(meta: &Meta, owners: &Owners<'_>) -> (String, String) {
    let ns = meta.namespace.as_str();
    if let Some(k) = knative_workload(meta) {
        return k;
    }
    if let Some(owner) = meta.controller() {
        match owner.kind.as_str() {
            "ReplicaSet" => {
                if let Some((kind, name)) = owner_walk(ns, "ReplicaSet", &owner.name, owners) {
                    return (kind, name);
                }
                if let Some(base) = strip_hash(&owner.name, meta, ROLLOUT_HASH_LABEL) {
                    return ("Rollout".into(), base.to_string());
                }
                // The Deployment controller names ReplicaSets
                // `<deployment>-<pod-template-hash>` and labels their pods
                // with the hash.
                if let Some(base) = strip_hash(&owner.name, meta, "pod-template-hash") {
                    return ("Deployment".into(), base.to_string());
                }
                return ("ReplicaSet".into(), String::from(owner.name.clone()));
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
                return ("Job".into(), String::from(owner.name.clone()));
            }
            "Node" => {} // static (mirror) pods: fall through to labels
            kind => return (kind.to_string(), String::from(owner.name.clone())),
        }
    }
    for label in NAME_LABELS {
        if let Some(v) = meta.labels.get(label)
            && !v.is_empty()
        {
            return ("Pod".into(), String::from(v.clone()));
        }
    }
    ("Pod".into(), meta.name.clone())
}

/// `web` of a ReplicaSet `web-7c9d5b8f4d` whose pods carry the hash in
/// `label`.
fn strip_hash<'n>(rs: &'n str, meta: &Meta, label: &str) -> Option<&'n str> {
    let hash = meta.labels.get(label)?;
    rs.strip_suffix(hash.as_str())
        .and_then(|b| b.strip_suffix('-'))
        .filter(|b| !b.is_empty())
}

/// A Knative Service's (else Configuration's) pods and the Deployments
/// made for its Revisions: Pod → ReplicaSet → Deployment
/// `<revision>-deployment` → Revision → Configuration (← Service). Revision
/// names change with every change, so the labels name the workload.
fn knative_workload(meta: &Meta) -> Option<(String, String)> {
    let named = |label: &str| meta.labels.get(label).filter(|v| !v.is_empty());
    if let Some(s) = named(KNATIVE_SERVICE_LABEL) {
        return Some((
            WorkloadKind::KnativeService.as_str().into(),
            String::from(s.clone()),
        ));
    }
    named(KNATIVE_CONFIGURATION_LABEL).map(|c| {
        (
            WorkloadKind::KnativeConfiguration.as_str().into(),
            c.to_string(),
        )
    })
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
    if owners
        .referenced
        .contains_key(&(ns, kind.as_str(), meta.name.as_str()))
    {
        // The Rollout that references it runs its template.
        return None;
    }
    if !matches!(
        kind,
        WorkloadKind::KnativeService | WorkloadKind::KnativeConfiguration
    ) && let Some((k, name)) = knative_workload(meta)
    {
        // A Deployment Knative made for a Revision: the Service's or
        // Configuration's template, without the queue-proxy sidecar, is the
        // one written by people.
        return (!owners.is_present(ns, &k, &name)).then_some((k, name));
    }
    if let Some(c) = meta.controller()
        && matches!(
            kind,
            WorkloadKind::ReplicaSet | WorkloadKind::Job | WorkloadKind::KnativeConfiguration
        )
    {
        if owners.is_present(ns, &c.kind, &c.name) {
            return None;
        }
        return Some((String::from(c.kind.clone()), String::from(c.name.clone())));
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
            origin: None,
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
            template_from: None,
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
            template_from: None,
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
    fn rollout_pods_belong_to_the_rollout_without_the_replicaset_object() {
        // Argo Rollouts names ReplicaSets `<rollout>-<hash>` and labels
        // them and their pods `rollouts-pod-template-hash`.
        let m = meta(
            "checkout-6b8f7c9d5-x2x9k",
            &[(ROLLOUT_HASH_LABEL, "6b8f7c9d5")],
            Some(("ReplicaSet", "checkout-6b8f7c9d5")),
        );
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("Rollout".into(), "checkout".into())
        );
    }

    #[test]
    fn rollout_pods_follow_the_owner_chain_through_the_replicaset() {
        let objects = vec![Object::Workload {
            workload_kind: WorkloadKind::ReplicaSet,
            metadata: meta(
                "checkout-6b8f7c9d5",
                &[(ROLLOUT_HASH_LABEL, "6b8f7c9d5")],
                Some(("Rollout", "checkout")),
            ),
            template: Default::default(),
            template_from: None,
        }];
        let owners = Owners::new(&objects);
        let m = meta(
            "checkout-6b8f7c9d5-x2x9k",
            &[],
            Some(("ReplicaSet", "checkout-6b8f7c9d5")),
        );
        assert_eq!(
            pod_workload(&m, &owners),
            ("Rollout".into(), "checkout".into())
        );
        // The ReplicaSet's template is not a workload of its own when the
        // Rollout is not in the input either: it is the Rollout's.
        assert_eq!(
            template_workload(
                WorkloadKind::ReplicaSet,
                objects[0].meta(),
                &Owners::new(&[])
            ),
            Some(("Rollout".into(), "checkout".into()))
        );
    }

    #[test]
    fn a_deployment_named_by_a_rollouts_workload_ref_belongs_to_the_rollout() {
        let objects = vec![
            Object::Workload {
                workload_kind: WorkloadKind::Rollout,
                metadata: meta("checkout", &[], None),
                template: Default::default(),
                template_from: Some(crate::model::TemplateRef {
                    kind: "Deployment".into(),
                    name: "checkout-v1".into(),
                }),
            },
            Object::Workload {
                workload_kind: WorkloadKind::Deployment,
                metadata: meta("checkout-v1", &[], None),
                template: Default::default(),
                template_from: None,
            },
        ];
        let owners = Owners::new(&objects);
        assert!(
            owners
                .template_of("shop", "Deployment", "checkout-v1")
                .is_some()
        );
        assert_eq!(
            template_workload(WorkloadKind::Deployment, objects[1].meta(), &owners),
            None
        );
        // Its pods, while it is scaled down progressively, are the Rollout's.
        let pod = meta(
            "checkout-v1-7c9d5b8f4d-abcde",
            &[("pod-template-hash", "7c9d5b8f4d")],
            Some(("ReplicaSet", "checkout-v1-7c9d5b8f4d")),
        );
        let with_rs = [
            objects[0].clone(),
            objects[1].clone(),
            Object::Workload {
                workload_kind: WorkloadKind::ReplicaSet,
                metadata: meta(
                    "checkout-v1-7c9d5b8f4d",
                    &[],
                    Some(("Deployment", "checkout-v1")),
                ),
                template: Default::default(),
                template_from: None,
            },
        ];
        assert_eq!(
            pod_workload(&pod, &Owners::new(&with_rs)),
            ("Rollout".into(), "checkout".into())
        );
    }

    #[test]
    fn cloneset_pods_are_owned_by_the_cloneset_directly() {
        let m = meta("web-x7k2p", &[], Some(("CloneSet", "web")));
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("CloneSet".into(), "web".into())
        );
    }

    #[test]
    fn knative_pods_are_grouped_under_their_service_by_label_not_revision() {
        // Pod → ReplicaSet → Deployment `hello-00003-deployment` → Revision
        // `hello-00003` → Configuration `hello` ← Service `hello`.
        let m = meta(
            "hello-00003-deployment-5d8b7c9f4-abcde",
            &[
                ("pod-template-hash", "5d8b7c9f4"),
                (KNATIVE_SERVICE_LABEL, "hello"),
                (KNATIVE_CONFIGURATION_LABEL, "hello"),
            ],
            Some(("ReplicaSet", "hello-00003-deployment-5d8b7c9f4")),
        );
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("Service".into(), "hello".into())
        );
        let m = meta(
            "batch-00001-deployment-5d8b7c9f4-abcde",
            &[(KNATIVE_CONFIGURATION_LABEL, "batch")],
            Some(("ReplicaSet", "batch-00001-deployment-5d8b7c9f4")),
        );
        assert_eq!(
            pod_workload(&m, &Owners::new(&[])),
            ("Configuration".into(), "batch".into())
        );
    }

    #[test]
    fn knative_made_deployments_and_configurations_yield_to_the_service() {
        let service = Object::Workload {
            workload_kind: WorkloadKind::KnativeService,
            metadata: meta("hello", &[], None),
            template: Default::default(),
            template_from: None,
        };
        let owners = Owners::new(std::slice::from_ref(&service));
        let deployment = meta(
            "hello-00003-deployment",
            &[(KNATIVE_SERVICE_LABEL, "hello")],
            Some(("Revision", "hello-00003")),
        );
        assert_eq!(
            template_workload(WorkloadKind::Deployment, &deployment, &owners),
            None
        );
        assert_eq!(
            template_workload(WorkloadKind::Deployment, &deployment, &Owners::new(&[])),
            Some(("Service".into(), "hello".into()))
        );
        let configuration = meta("hello", &[], Some(("Service", "hello")));
        assert_eq!(
            template_workload(WorkloadKind::KnativeConfiguration, &configuration, &owners),
            None
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
