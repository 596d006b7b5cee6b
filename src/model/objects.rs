//! What collect reads: one environment's objects, reduced to what confdrift
//! needs, before any Kubernetes semantics are applied.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, EnvFromSource, ObjectFieldSelector, SecretKeySelector, VolumeMount,
};
use serde::{Deserialize, Serialize};

use super::*;

/// Everything read for one environment, before any Kubernetes semantics are
/// applied. Secret values are already fingerprinted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Collected {
    /// Where the objects came from, as the user named it.
    pub source: String,
    /// The objects confdrift understands, sorted by kind, namespace, name.
    #[serde(deserialize_with = "shared_specs")]
    pub objects: Vec<Object>,
    /// Objects of kinds that carry no configuration confdrift compares,
    /// counted by kind so that nothing is dropped without a trace.
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Everything that could not be read or that looks wrong.
    pub problems: Vec<Problem>,
    /// How many files were read.
    pub files: usize,
    /// Identifies the key the Secret fingerprints were made with.
    pub fingerprint_key_id: String,
    /// Kinds that could not be listed (RBAC, errors), by namespace (`""`:
    /// all namespaces). A reference into them is unresolved, not dangling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    /// The process environments read from running containers
    /// (`--runtime-env`), every value fingerprinted when it was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_env: Vec<RuntimeEnv>,
}

/// Reads a snapshot's objects, sharing one [`PodSpec`] between pods and
/// templates whose specs are equal (see [`super::spec_table::Distinct`]):
/// a snapshot written before `podSpecs` stores every replica's spec in
/// full, and 50,000 separate copies would hold the whole snapshot in
/// memory again.
pub fn shared_specs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Object>, D::Error> {
    struct Objects;
    impl<'de> serde::de::Visitor<'de> for Objects {
        type Value = Vec<Object>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence of objects")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            let mut distinct = super::spec_table::Distinct::default();
            while let Some(mut object) = seq.next_element::<Object>()? {
                distinct.share_all(std::slice::from_mut(&mut object));
                super::grow_by_a_quarter(&mut out, 1024);
                out.push(object);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Objects)
}

/// What `env` printed in one container of one pod, values fingerprinted
/// the moment they were read (a webhook may inject credentials). Variables
/// the kubelet sets per pod or per cluster (`HOSTNAME`, Service links) are
/// already left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuntimeEnv {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub vars: BTreeMap<String, Fingerprint>,
}

/// A kind that could not be read in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unreadable {
    pub namespace: String,
    pub kind: String,
}

impl Collected {
    /// Whether objects of `kind` in `namespace` could not be read.
    pub fn is_unreadable(&self, namespace: &str, kind: &str) -> bool {
        self.unreadable
            .iter()
            .any(|u| u.kind == kind && (u.namespace.is_empty() || u.namespace == namespace))
    }
}

/// A Kubernetes object reduced to what confdrift needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind")]
pub enum Object {
    Pod {
        metadata: Meta,
        /// Shared between pods whose specs are equal (the replicas of one
        /// ReplicaSet), which is most of them. In a snapshot, an index into
        /// its `podSpecs` (see [`spec_table`]).
        #[serde(with = "spec_table")]
        spec: std::sync::Arc<PodSpec>,
        #[serde(default)]
        status: PodStatus,
    },
    /// A controller that carries a pod template (Deployment, StatefulSet, …).
    Workload {
        #[serde(rename = "workloadKind")]
        workload_kind: WorkloadKind,
        metadata: Meta,
        /// Shared with the pods that run it unchanged (see
        /// [`crate::model::spec_table`] for how a snapshot writes it).
        #[serde(with = "super::spec_table")]
        template: std::sync::Arc<PodSpec>,
        /// Set when the pod template is another object's (an Argo Rollout's
        /// `spec.workloadRef`); `template` is then empty.
        #[serde(
            default,
            rename = "templateFrom",
            skip_serializing_if = "Option::is_none"
        )]
        template_from: Option<TemplateRef>,
    },
    /// A Secret that a controller makes from an object in the same source
    /// (an ExternalSecret, a SealedSecret): it exists for references, and
    /// its values are known only once the controller has run.
    ProducedSecret {
        /// The Secret's name and namespace.
        metadata: Meta,
        /// What makes it, e.g. `ExternalSecret shop-db`.
        #[serde(rename = "madeBy")]
        made_by: String,
        /// The keys it will hold, when the producer names them all (a
        /// SealedSecret's `encryptedData`); `None` when only the controller
        /// knows (an ExternalSecret's `dataFrom`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keys: Option<Vec<String>>,
    },
    ConfigMap {
        metadata: Meta,
        /// Interned: keys recur in every ConfigMap of a kind, and values
        /// become entries' values.
        #[serde(default)]
        data: BTreeMap<Name, Name>,
        /// `binaryData`, by SHA-256 of the decoded bytes.
        #[serde(default, rename = "binaryData")]
        binary_data: BTreeMap<String, String>,
    },
    Secret {
        metadata: Meta,
        /// Every key of `data` and `stringData`, fingerprinted.
        #[serde(default)]
        fingerprints: BTreeMap<String, Fingerprint>,
    },
}

impl Object {
    pub fn meta(&self) -> &Meta {
        match self {
            Object::Pod { metadata, .. }
            | Object::Workload { metadata, .. }
            | Object::ConfigMap { metadata, .. }
            | Object::Secret { metadata, .. }
            | Object::ProducedSecret { metadata, .. } => metadata,
        }
    }

    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Object::Pod { metadata, .. }
            | Object::Workload { metadata, .. }
            | Object::ConfigMap { metadata, .. }
            | Object::Secret { metadata, .. }
            | Object::ProducedSecret { metadata, .. } => metadata,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Object::Pod { .. } => "Pod",
            Object::Workload { workload_kind, .. } => workload_kind.as_str(),
            Object::ConfigMap { .. } => "ConfigMap",
            Object::Secret { .. } => "Secret",
            Object::ProducedSecret { .. } => "ProducedSecret",
        }
    }
}

/// Another workload whose pod template a workload runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateRef {
    pub kind: String,
    pub name: String,
}

/// The controllers whose pod template confdrift reads (which API group
/// and where in the object: `collect::kinds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
    /// A bare Pod with no controller.
    Pod,
    /// Argo Rollouts (`argoproj.io`).
    Rollout,
    /// OpenKruise (`apps.kruise.io`).
    CloneSet,
    /// OpenKruise's Advanced StatefulSet (`apps.kruise.io`): its pods name
    /// their owner `StatefulSet`, so it is one to identity.
    AdvancedStatefulSet,
    /// Knative Serving `Service` (`serving.knative.dev`).
    KnativeService,
    /// Knative Serving `Configuration` (`serving.knative.dev`).
    KnativeConfiguration,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Rollout => "Rollout",
            WorkloadKind::CloneSet => "CloneSet",
            WorkloadKind::AdvancedStatefulSet => "StatefulSet",
            WorkloadKind::KnativeService => "Service",
            WorkloadKind::KnativeConfiguration => "Configuration",
        }
    }
}

/// The parts of `metadata` that identity and resolution need.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub name: String,
    /// Interned: thousands of objects name the same few namespaces.
    #[serde(default, skip_serializing_if = "Name::is_empty")]
    pub namespace: Name,
    /// Only the labels confdrift reads ([`READ_LABELS`]); a pod's other
    /// labels are dropped as it is parsed.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub labels: Pairs,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "exact_vec"
    )]
    pub owner_references: Vec<OwnerRef>,
    /// The newest `managedFields[].time` of a manager that owns `data`,
    /// `stringData` or `binaryData`: when the content was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update: Option<String>,
    /// Values of this object that the API server would refuse (a number
    /// where Kubernetes takes only a string): read as written, and reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedValue>,
    /// The manifest file and line the object was read from (files only);
    /// not part of a snapshot.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// A list read at its exact size: serde grows a list of unknown length to
/// room for four, and every pod of a snapshot has a list of one owner.
fn exact_vec<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Box::<[T]>::deserialize(d)?.into_vec())
}

/// A value as written in a manifest that the API server would refuse:
/// `kubectl apply` fails on it. Only files can hold one.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedValue {
    /// `file:line` of the value itself.
    pub location: String,
    /// The field path in the object, e.g. `data.PORT` or
    /// `spec.template.spec.containers[0].env[2].value`.
    pub field: String,
    /// What the YAML or JSON parser reads it as: `an integer`, `a boolean`, …
    pub written_as: String,
    /// The value as written; `None` for a Secret's (never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The container, for a container's env value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The env variable or data key the value belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A file and the line an object starts on, as the user named the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub file: std::sync::Arc<str>,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OwnerRef {
    /// Interned: the replicas of a ReplicaSet name the same owner.
    pub kind: Name,
    pub name: Name,
    #[serde(default)]
    pub controller: bool,
}

impl Meta {
    /// The controlling owner, as Kubernetes marks it (`controller: true`);
    /// falls back to the first owner when none is marked.
    pub fn controller(&self) -> Option<&OwnerRef> {
        self.owner_references
            .iter()
            .find(|o| o.controller)
            .or_else(|| self.owner_references.first())
    }
}

/// The configuration-bearing part of a pod spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Pod-level `resources` (the PodLevelResources feature): a container
    /// without a limit of its own gets the pod's in the downward API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Box<Resources>>,
}

impl PodSpec {
    /// Gives a spec that is kept back the room its lists grew into while
    /// it was read (a list of 40 env entries has room for 64): a fleet
    /// keeps thousands of specs until it is normalized.
    pub fn compact(mut self) -> PodSpec {
        for c in self.containers.iter_mut().chain(&mut self.init_containers) {
            c.env.shrink_to_fit();
            c.env_from.shrink_to_fit();
            c.volume_mounts.shrink_to_fit();
        }
        self.containers.shrink_to_fit();
        self.init_containers.shrink_to_fit();
        self.volumes.shrink_to_fit();
        self
    }
}

/// The volume sources that put configuration into files. Other sources
/// (emptyDir, PVCs, …) and fields like `defaultMode` are ignored on purpose:
/// Helm charts often write `defaultMode: 0644`, a YAML 1.1 octal that a
/// YAML 1.2 parser cannot read as a number, and it is not configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected: Option<ProjectedVolume>,
}

/// A `configMap` volume, or the `configMap` source of a projected volume.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapVolume {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<KeyToPath>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<KeyToPath>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectedVolume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<VolumeProjection>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeProjection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    /// Same shape as a configMap source: `name`, `items`, `optional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ConfigMapVolume>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyToPath {
    #[serde(default, deserialize_with = "null_as_default")]
    pub key: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// The limits and requests a `resourceFieldRef` can read; `None` when
    /// the container sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Box<Resources>>,
}

/// A container's (or pod's) `resources`, reduced to what the downward API
/// exposes (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`), each
/// quantity as written. Other resources (GPUs, claims) are dropped.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub limits: Pairs,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub requests: Pairs,
}

impl Resources {
    /// Whether the downward API can expose resource `name`
    /// (k8s.io/kubernetes pkg/api/v1/resource `IsStandardContainerResourceName`).
    pub fn exposed(name: &str) -> bool {
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
    }
}

/// One `env` entry of a container: k8s-openapi's `EnvVar` with `valueFrom`
/// boxed. The inline `EnvVarSource` is some 300 bytes, and most entries
/// have a plain `value`: boxing it makes the env lists of a fleet smaller
/// in memory (measured: benches/README.md). Unlike
/// k8s-openapi's hand-written decoder, the derived one rejects a field given
/// twice (`value:` twice in one entry), as `kubectl apply`'s strict field
/// validation does; unknown fields are ignored, for manifests of newer
/// Kubernetes versions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Missing is empty, which the parser reports as "has no name".
    /// Interned, as the value: the same names and values recur in every
    /// workload's template, and become entries' names and values later.
    #[serde(default)]
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<Box<EnvVarSource>>,
}

/// k8s-openapi's `EnvVarSource` with each selector boxed: one is set, and
/// four inline selectors take some 240 bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<Box<ConfigMapKeySelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<Box<SecretKeySelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<Box<ObjectFieldSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_field_ref: Option<Box<ResourceFieldSelector>>,
}

/// `valueFrom.resourceFieldRef`. Unlike k8s-openapi's, the divisor is
/// read as written whether a string or a number (`divisor: 1` in JSON is a
/// valid quantity).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFieldSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub resource: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "quantity_text"
    )]
    pub divisor: Option<String>,
}

/// Reads `null` (YAML `null`, `~` or nothing; JSON `null`) as the field's
/// default, as the API server does: `env: null` is no env. Applied to every
/// field confdrift reads from a manifest that is not already an `Option`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A quantity as written: a string, or a number as JSON and YAML write it.
pub fn quantity_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Q;
    impl<'de> serde::de::Visitor<'de> for Q {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a quantity such as 500m or 128Mi")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }
    d.deserialize_option(Q)
}

/// The labels confdrift reads: workload identity (`app.kubernetes.io/name`,
/// `app`, `pod-template-hash`, Argo's `rollouts-pod-template-hash`,
/// Knative's service and configuration) and the flag-store marker. Keeping only
/// these makes a parsed pod some 600 bytes smaller (Helm charts set five
/// to ten labels a pod). A new reader of labels adds its label here.
pub const READ_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app",
    "pod-template-hash",
    ROLLOUT_HASH_LABEL,
    KNATIVE_SERVICE_LABEL,
    KNATIVE_CONFIGURATION_LABEL,
    FLAG_STORE_LABEL,
];

/// The label Argo Rollouts puts on a Rollout's ReplicaSets and their pods;
/// it names ReplicaSets `<rollout>-<hash>`, as the Deployment controller
/// does with `pod-template-hash`.
pub const ROLLOUT_HASH_LABEL: &str = "rollouts-pod-template-hash";
/// Knative Serving labels every Revision, and the Deployment and pods made
/// for it, with the Service and Configuration it comes from
/// (https://knative.dev/docs/serving/reference/serving-api/ "serving.knative.dev/service").
pub const KNATIVE_SERVICE_LABEL: &str = "serving.knative.dev/service";
pub const KNATIVE_CONFIGURATION_LABEL: &str = "serving.knative.dev/configuration";
/// The label that marks a ConfigMap as a flag store.
pub const FLAG_STORE_LABEL: &str = "confdrift.io/flags";

/// A small string map kept as a sorted boxed slice of interned names: a
/// `BTreeMap` allocates a node of eleven slots for the first entry, and
/// pods carry tens of thousands of one- or two-entry maps (container start
/// times, labels) whose keys, and mostly values, are the same in every
/// replica. (De)serialized as a map, like the `BTreeMap` it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(Box<[(Name, Name)]>);

impl Pairs {
    pub fn get(&self, key: &str) -> Option<&Name> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Name)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// Sorted by key; of a key given twice, the last value is kept, as in a
/// `BTreeMap` built the same way.
impl FromIterator<(String, String)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut v: Vec<(Name, Name)> = iter
            .into_iter()
            .map(|(k, v)| (Name::from(k), Name::from(v)))
            .collect();
        v.reverse();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|later, earlier| later.0 == earlier.0);
        Pairs(v.into_boxed_slice())
    }
}

impl Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(|m| m.into_iter().collect())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// When each running container started (`state.running.startedAt`): its
    /// environment was read then and never again.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub container_starts: Pairs,
}

/// A keyed fingerprint (HMAC-SHA-256) of a Secret value. Two fingerprints
/// can only be compared when they were made with the same key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Identifies the key (not the key itself).
    pub key_id: String,
    /// Hex HMAC of the value.
    pub mac: String,
}

/// Something that went wrong while reading or resolving an environment.
/// Problems are data, never `Err`: the run goes on and the report says them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// Stable kebab-case code, e.g. `no-workloads`.
    pub code: String,
    pub severity: Severity,
    /// Makes the environment incomplete: values may be missing or unresolved.
    pub incomplete: bool,
    /// Where: a file path, possibly with `:line`, or an object.
    #[serde(rename = "where")]
    pub location: String,
    pub message: String,
}
