//! Which objects confdrift reads, as data: for every (API group, kind) that
//! carries a pod template, where the template sits and whether a cluster
//! serves it only when a controller is installed; for every kind whose
//! controller makes a Secret, which Secret. A new controller is one line
//! here. Everything not in these tables is counted as skipped, never read.
//!
//! This module only describes kinds; it must never parse or list anything.

use crate::model::WorkloadKind;

/// Where a kind keeps its pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateAt {
    /// `spec.template.spec` (Deployment, Rollout, Knative Service, …).
    SpecTemplate,
    /// `spec.jobTemplate.spec.template.spec` (CronJob).
    JobTemplate,
}

/// A kind whose objects carry a pod template.
#[derive(Debug, Clone, Copy)]
pub struct TemplateKind {
    /// API groups it is served from (`""` is the core group).
    pub groups: &'static [&'static str],
    pub kind: &'static str,
    pub workload: WorkloadKind,
    pub at: TemplateAt,
    /// Containers may leave `name` out; the controller names them (Knative,
    /// see [`default_container_names`]).
    pub unnamed_containers: bool,
    /// For kinds a cluster serves only with a controller installed: the
    /// resource (plural) to list, found through API discovery. `None` for
    /// the built-in kinds, which `collect::kube` always lists.
    pub optional_resource: Option<&'static str>,
}

const fn builtin(
    groups: &'static [&'static str],
    kind: &'static str,
    workload: WorkloadKind,
) -> TemplateKind {
    TemplateKind {
        groups,
        kind,
        workload,
        at: TemplateAt::SpecTemplate,
        unnamed_containers: false,
        optional_resource: None,
    }
}

const fn custom(
    group: &'static [&'static str],
    kind: &'static str,
    workload: WorkloadKind,
    plural: &'static str,
) -> TemplateKind {
    TemplateKind {
        groups: group,
        kind,
        workload,
        at: TemplateAt::SpecTemplate,
        unnamed_containers: false,
        optional_resource: Some(plural),
    }
}

/// The kinds whose pod template confdrift compares. Built-in kinds come
/// first: an object that names no `apiVersion` (an item of the API server's
/// typed list) is taken to be the built-in kind of its name.
pub const TEMPLATE_KINDS: &[TemplateKind] = &[
    builtin(
        &["apps", "extensions"],
        "Deployment",
        WorkloadKind::Deployment,
    ),
    builtin(&["apps"], "StatefulSet", WorkloadKind::StatefulSet),
    builtin(
        &["apps", "extensions"],
        "DaemonSet",
        WorkloadKind::DaemonSet,
    ),
    builtin(
        &["apps", "extensions"],
        "ReplicaSet",
        WorkloadKind::ReplicaSet,
    ),
    builtin(
        &[""],
        "ReplicationController",
        WorkloadKind::ReplicationController,
    ),
    builtin(&["batch"], "Job", WorkloadKind::Job),
    TemplateKind {
        at: TemplateAt::JobTemplate,
        ..builtin(&["batch"], "CronJob", WorkloadKind::CronJob)
    },
    // Argo Rollouts: a Deployment's spec with other strategies; the pod
    // template is `spec.template`, or another object's (`spec.workloadRef`).
    custom(
        &["argoproj.io"],
        "Rollout",
        WorkloadKind::Rollout,
        "rollouts",
    ),
    // OpenKruise: CloneSet manages pods directly; Advanced StatefulSet has
    // the built-in kind's name in its own group.
    custom(
        &["apps.kruise.io"],
        "CloneSet",
        WorkloadKind::CloneSet,
        "clonesets",
    ),
    custom(
        &["apps.kruise.io"],
        "StatefulSet",
        WorkloadKind::AdvancedStatefulSet,
        "statefulsets",
    ),
    // Knative Serving: `spec.template.spec` is a RevisionSpec, a pod spec
    // whose containers may be unnamed.
    TemplateKind {
        unnamed_containers: true,
        ..custom(
            &["serving.knative.dev"],
            "Service",
            WorkloadKind::KnativeService,
            "services",
        )
    },
    TemplateKind {
        unnamed_containers: true,
        ..custom(
            &["serving.knative.dev"],
            "Configuration",
            WorkloadKind::KnativeConfiguration,
            "configurations",
        )
    },
];

/// Where a producer's Secret gets its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    /// The producer's own name.
    Own,
    /// `spec.target.name`, else the producer's own name (ExternalSecret).
    TargetNameOrOwn,
    /// `spec.secretName` (cert-manager Certificate).
    SpecSecretName,
}

/// A kind whose controller makes a Secret in the producer's namespace.
#[derive(Debug, Clone, Copy)]
pub struct SecretProducer {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: SecretName,
}

/// Kinds whose controller makes a Secret that pods then refer to. The
/// Secret's values are known only once the controller has run; in a live
/// cluster the Secret itself is read.
pub const SECRET_PRODUCERS: &[SecretProducer] = &[
    // external-secrets.io: "spec.target.name … Defaults to the .metadata.name
    // of the ExternalSecret resource"; with `creationPolicy: Merge` or `None`
    // it makes no Secret (https://external-secrets.io/latest/guides/ownership-deletion-policy/).
    SecretProducer {
        group: "external-secrets.io",
        kind: "ExternalSecret",
        name: SecretName::TargetNameOrOwn,
    },
    // Sealed Secrets: "Once unsealed this will produce a secret equivalent
    // to this" with the SealedSecret's name and namespace
    // (https://github.com/bitnami-labs/sealed-secrets#overview).
    SecretProducer {
        group: "bitnami.com",
        kind: "SealedSecret",
        name: SecretName::Own,
    },
    // cert-manager: a Certificate's key pair is stored in `spec.secretName`.
    SecretProducer {
        group: "cert-manager.io",
        kind: "Certificate",
        name: SecretName::SpecSecretName,
    },
];

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → `""`); `None`
/// when the object names none.
pub fn group_of(api_version: Option<&str>) -> Option<&str> {
    let v = api_version.filter(|v| !v.is_empty())?;
    Some(v.rsplit_once('/').map_or("", |(g, _)| g))
}

/// The template kind of an object, by kind and `apiVersion`. An object
/// without an `apiVersion` is taken to be the built-in kind of its name.
pub fn template_kind(kind: &str, api_version: Option<&str>) -> Option<&'static TemplateKind> {
    let group = group_of(api_version);
    TEMPLATE_KINDS.iter().find(|t| {
        t.kind == kind
            && match group {
                Some(g) => t.groups.contains(&g),
                None => t.optional_resource.is_none(),
            }
    })
}

/// The Secret producer an object is, by kind and `apiVersion` (one that
/// names no `apiVersion` is taken by its kind).
pub fn secret_producer(kind: &str, api_version: Option<&str>) -> Option<&'static SecretProducer> {
    let group = group_of(api_version);
    SECRET_PRODUCERS
        .iter()
        .find(|p| p.kind == kind && group.is_none_or(|g| g == p.group))
}

/// Whether `kind` is a name confdrift reads in some API group: an object
/// of that name in another group is skipped as `Kind (apiVersion)`, so it
/// is not taken for the kind it is not.
pub fn is_read_kind_name(kind: &str) -> bool {
    matches!(kind, "Pod" | "ConfigMap" | "Secret")
        || TEMPLATE_KINDS.iter().any(|t| t.kind == kind)
        || SECRET_PRODUCERS.iter().any(|p| p.kind == kind)
}

/// The optional kinds live collection looks for through discovery:
/// `(group, kind, plural)`.
pub fn optional_kinds() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    TEMPLATE_KINDS.iter().filter_map(|t| {
        t.optional_resource
            .map(|plural| (t.groups[0], t.kind, plural))
    })
}

/// Names the containers that Knative would name: an unnamed container gets
/// `user-container`, or `user-container-N` when there are several or the
/// name is taken (N counts from 0, skipping names in use); unnamed init
/// containers likewise get `init-container…`. This is knative/serving
/// `pkg/apis/serving/v1/revision_defaults.go` `applyDefaultContainerNames`
/// with the default `container-name-template` and
/// `init-container-name-template`.
pub fn default_container_names(containers: &mut [String], init_containers: &mut [String]) {
    let taken: std::collections::BTreeSet<String> = containers
        .iter()
        .chain(init_containers.iter())
        .filter(|n| !n.is_empty())
        .cloned()
        .collect();
    apply_default_names(containers, &taken, "user-container");
    apply_default_names(init_containers, &taken, "init-container");
}

fn apply_default_names(
    names: &mut [String],
    taken: &std::collections::BTreeSet<String>,
    default: &str,
) {
    let several = names.len() > 1;
    let mut next = 0usize;
    for name in names.iter_mut().filter(|n| n.is_empty()) {
        let mut candidate = default.to_string();
        if several || taken.contains(&candidate) {
            loop {
                candidate = format!("{default}-{next}");
                next += 1;
                if !taken.contains(&candidate) {
                    break;
                }
            }
        }
        *name = candidate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_apart_by_api_group() {
        let builtin = template_kind("StatefulSet", Some("apps/v1")).unwrap();
        assert_eq!(builtin.workload, WorkloadKind::StatefulSet);
        let kruise = template_kind("StatefulSet", Some("apps.kruise.io/v1beta1")).unwrap();
        assert_eq!(kruise.workload, WorkloadKind::AdvancedStatefulSet);
        // A typed-list item without apiVersion is the built-in kind.
        assert_eq!(
            template_kind("StatefulSet", None).unwrap().workload,
            WorkloadKind::StatefulSet
        );
        // A core Service is not a Knative Service.
        assert!(template_kind("Service", Some("v1")).is_none());
        assert!(template_kind("Service", None).is_none());
        assert_eq!(
            template_kind("Service", Some("serving.knative.dev/v1"))
                .unwrap()
                .workload,
            WorkloadKind::KnativeService
        );
        assert!(template_kind("Deployment", Some("example.com/v1")).is_none());
        assert!(template_kind("Rollout", Some("argoproj.io/v1alpha1")).is_some());
    }

    #[test]
    fn every_optional_kind_is_in_one_group_with_a_resource() {
        for t in TEMPLATE_KINDS {
            if t.optional_resource.is_some() {
                assert_eq!(t.groups.len(), 1, "{}", t.kind);
            }
        }
        assert_eq!(optional_kinds().count(), 5);
    }

    #[test]
    fn knative_names_unnamed_containers_as_its_defaulting_webhook_does() {
        let mut one = vec![String::new()];
        default_container_names(&mut one, &mut []);
        assert_eq!(one, ["user-container"]);
        let mut two = vec![String::new(), "sidecar".to_string(), String::new()];
        default_container_names(&mut two, &mut []);
        assert_eq!(two, ["user-container-0", "sidecar", "user-container-1"]);
        // A user-supplied name is never taken twice.
        let mut clash = vec!["user-container-0".to_string(), String::new()];
        default_container_names(&mut clash, &mut []);
        assert_eq!(clash, ["user-container-0", "user-container-1"]);
        let mut init = vec![String::new()];
        let mut c = vec!["app".to_string()];
        default_container_names(&mut c, &mut init);
        assert_eq!(init, ["init-container"]);
    }
}
