//! The plain data types that flow between the pipeline stages.
//!
//! collect → [`Collected`] → normalize → [`Inventory`] → compare →
//! [`Comparison`] → evaluate → [`Finding`]s → report. Nothing in here knows
//! about clap, kube or an output format, and no type here can hold a plain
//! Secret value: Secrets arrive as [`Fingerprint`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, EnvFromSource, ObjectFieldSelector, SecretKeySelector, VolumeMount,
};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// collect
// ---------------------------------------------------------------------------

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

/// Reads a snapshot's objects, sharing one [`PodSpec`] between pods whose
/// specs are equal, as reading a manifest does: a snapshot stores every
/// replica's spec in full, and 50,000 separate copies would hold the whole
/// snapshot in memory again. Objects are sorted by kind, namespace and
/// name, so the replicas of a workload come together; a few recent specs
/// are kept to compare with (a pod of another workload may fall between).
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
            const RECENT: usize = 8;
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            let mut recent: std::collections::VecDeque<std::sync::Arc<PodSpec>> =
                std::collections::VecDeque::with_capacity(RECENT);
            while let Some(mut object) = seq.next_element::<Object>()? {
                if let Object::Pod { spec, .. } = &mut object {
                    match recent.iter().find(|s| ***s == **spec) {
                        Some(same) => *spec = same.clone(),
                        None => {
                            recent.truncate(RECENT - 1);
                            recent.push_front(spec.clone());
                        }
                    }
                }
                out.push(object);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Objects)
}

/// How a snapshot stores pod specs: each distinct spec once, in the
/// snapshot's `podSpecs`, and each pod's `spec` as its index there. The
/// replicas of a workload share one spec, so a 50,000-pod snapshot holds a
/// few thousand specs instead of 50,000 copies, and reading it builds each
/// spec once. Outside [`spec_table::writing`] a spec is written inline, as
/// it always was, and an inline spec is always read: snapshots written
/// before the table still read.
pub mod spec_table {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Object, PodSpec};

    thread_local! {
        static WRITING: RefCell<Option<HashMap<*const PodSpec, usize>>> = const { RefCell::new(None) };
        static READING: RefCell<Option<Vec<Arc<PodSpec>>>> = const { RefCell::new(None) };
    }

    /// The distinct specs of the pods among `objects`, in the order first
    /// seen, and each pod spec's index among them.
    pub fn index(objects: &[Object]) -> (Vec<Arc<PodSpec>>, HashMap<*const PodSpec, usize>) {
        const RECENT: usize = 8;
        let mut specs: Vec<Arc<PodSpec>> = Vec::new();
        let mut at: HashMap<*const PodSpec, usize> = HashMap::new();
        for o in objects {
            let Object::Pod { spec, .. } = o else {
                continue;
            };
            if at.contains_key(&Arc::as_ptr(spec)) {
                continue;
            }
            // Equal specs that are not shared (read from separate
            // documents): replicas come together, so look a few back.
            let same = specs
                .iter()
                .enumerate()
                .rev()
                .take(RECENT)
                .find(|(_, s)| ***s == **spec)
                .map(|(i, _)| i);
            let i = same.unwrap_or_else(|| {
                specs.push(spec.clone());
                specs.len() - 1
            });
            at.insert(Arc::as_ptr(spec), i);
        }
        (specs, at)
    }

    /// Runs `f` (which serializes objects) writing each indexed pod spec as
    /// its index.
    pub fn writing<R>(at: HashMap<*const PodSpec, usize>, f: impl FnOnce() -> R) -> R {
        WRITING.with(|w| *w.borrow_mut() = Some(at));
        let _clear = Clear(&WRITING);
        f()
    }

    /// Runs `f` (which deserializes objects) resolving a spec given as an
    /// index against `specs`.
    pub fn reading<R>(specs: Vec<Arc<PodSpec>>, f: impl FnOnce() -> R) -> R {
        READING.with(|r| *r.borrow_mut() = Some(specs));
        let _clear = Clear(&READING);
        f()
    }

    /// Empties a table when its scope ends, also on an early return.
    struct Clear<T: 'static>(&'static std::thread::LocalKey<RefCell<Option<T>>>);

    impl<T: 'static> Drop for Clear<T> {
        fn drop(&mut self) {
            self.0.with(|t| t.borrow_mut().take());
        }
    }

    pub(super) fn serialize<S: Serializer>(spec: &Arc<PodSpec>, s: S) -> Result<S::Ok, S::Error> {
        let index = WRITING.with(|w| {
            w.borrow()
                .as_ref()
                .and_then(|at| at.get(&Arc::as_ptr(spec)).copied())
        });
        match index {
            Some(i) => s.serialize_u64(i as u64),
            None => spec.serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<PodSpec>, D::Error> {
        d.deserialize_any(SpecOrIndex)
    }

    struct SpecOrIndex;

    impl<'de> Visitor<'de> for SpecOrIndex {
        type Value = Arc<PodSpec>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a pod spec, or the index of one in the snapshot's podSpecs")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            PodSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(Arc::new)
        }

        fn visit_u64<E: de::Error>(self, i: u64) -> Result<Self::Value, E> {
            READING.with(|r| {
                let table = r.borrow();
                let specs = table.as_deref().unwrap_or(&[]);
                usize::try_from(i)
                    .ok()
                    .and_then(|i| specs.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        E::custom(format!(
                            "pod spec {i} is not in the snapshot's podSpecs (it has {}); the \
                             snapshot is damaged: take a new one",
                            specs.len()
                        ))
                    })
            })
        }

        fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
            match u64::try_from(i) {
                Ok(i) => self.visit_u64(i),
                Err(_) => Err(E::custom(format!("pod spec index {i} is negative"))),
            }
        }
    }
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
        template: PodSpec,
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
        #[serde(default)]
        data: BTreeMap<String, String>,
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
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Only the labels confdrift reads ([`READ_LABELS`]); a pod's other
    /// labels are dropped as it is parsed.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub labels: Pairs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
    pub kind: String,
    pub name: String,
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
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
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
    crate::normalize::ROLLOUT_HASH_LABEL,
    crate::normalize::KNATIVE_SERVICE_LABEL,
    crate::normalize::KNATIVE_CONFIGURATION_LABEL,
    crate::normalize::FLAG_STORE_LABEL,
];

/// A small string map kept as a sorted `Vec`: a `BTreeMap` allocates a
/// node of eleven slots for the first entry, and pods carry tens of
/// thousands of one- or two-entry maps (container start times, labels).
/// (De)serialized as a map, like the `BTreeMap` it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// Sorted by key; of a key given twice, the last value is kept, as in a
/// `BTreeMap` built the same way.
impl FromIterator<(String, String)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut v: Vec<(String, String)> = iter.into_iter().collect();
        v.reverse();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|later, earlier| later.0 == earlier.0);
        v.shrink_to_fit();
        Pairs(v)
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

// ---------------------------------------------------------------------------
// normalize
// ---------------------------------------------------------------------------

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
    Container { workload: String, container: String },
    ConfigMap { name: String },
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
    pub key: String,
}

/// A configuration value as a container (or ConfigMap) really gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A plain value; compared by its canonical form.
    Text(String),
    /// A Secret value (or a value built from one): only its fingerprint.
    Secret(Fingerprint),
    /// Set per pod by the kubelet (`fieldRef`); compared by the field path.
    FieldRef(String),
    /// `binaryData`, by SHA-256.
    Binary(String),
    /// Could not be resolved; never equal to anything.
    Unresolved(String),
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
        name: String,
        key: String,
    },
    SecretKey {
        name: String,
        key: String,
    },
    EnvFrom {
        source: RefKind,
        name: String,
        key: String,
        prefix: Option<String>,
    },
    FieldRef {
        path: String,
    },
    /// The downward API's `resourceFieldRef`, resolved from the container's
    /// resources (of `container`, when it names another one).
    ResourceFieldRef {
        resource: String,
        container: Option<String>,
        divisor: Option<String>,
    },
    /// A data key of a ConfigMap object itself.
    ConfigMapData {
        name: String,
        key: String,
    },
    /// A file mounted from a ConfigMap or Secret key.
    Mounted {
        source: RefKind,
        name: String,
        key: String,
    },
    /// A flag in a flagd definition document.
    Flagd {
        configmap: String,
        key: String,
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
    pub namespace: String,
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
    pub entries: BTreeMap<Subject, Entry>,
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
                .get(workload)
                .is_some_and(|w| w.containers.contains(container)),
            Scope::ConfigMap { name } => self.configmaps.contains(name),
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
    iters: Vec<std::iter::Peekable<std::collections::btree_map::Iter<'a, Subject, Entry>>>,
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

// ---------------------------------------------------------------------------
// compare
// ---------------------------------------------------------------------------

/// The environments lined up.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub envs: Vec<String>,
    pub baseline: String,
    pub deltas: Vec<Delta>,
    /// Workloads or containers absent from some environments.
    pub absences: Vec<Absence>,
}

/// A subject whose value is not the same everywhere it could be.
#[derive(Debug, Clone)]
pub struct Delta {
    pub subject: Subject,
    /// One slot per environment, in `Comparison::envs` order; `None` where
    /// the key is absent.
    pub values: Vec<Option<Entry>>,
    /// Environments where the whole workload/container is absent (the
    /// absence is reported once, not per key).
    pub scope_absent: Vec<bool>,
    /// A unified line diff against the baseline for multi-line values.
    pub line_diff: Option<String>,
}

/// A workload, container or ConfigMap that exists in some environments only.
/// Reported once instead of once per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    pub what: Absent,
    pub missing_in: Vec<String>,
    pub present_in: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Absent {
    Workload { name: String },
    Container { workload: String, container: String },
    ConfigMap { name: String },
}

// ---------------------------------------------------------------------------
// evaluate
// ---------------------------------------------------------------------------

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reported problem with configuration, in display-ready form: values are
/// already redacted, so a renderer cannot leak a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    /// Set for findings about one environment alone (dangling reference, skew).
    pub environment: Option<String>,
    /// Stable kebab-case code of what was found (`value-differs`, …).
    pub code: String,
    pub severity: Severity,
    pub workload: Option<String>,
    pub container: Option<String>,
    pub configmap: Option<String>,
    pub kind: Option<ConfigKind>,
    pub key: Option<String>,
    /// Environment → display value (`None`: absent). Secrets are
    /// `<redacted …>`.
    pub values: BTreeMap<String, Option<String>>,
    /// Environment → where the value comes from.
    pub sources: BTreeMap<String, String>,
    pub message: String,
    pub diff: Option<String>,
    /// Why the finding is accepted (a policy waiver), if it is; a waived
    /// finding is reported but does not count for the exit code.
    pub waiver: Option<String>,
    /// The environments the finding is about: where a rule's check failed
    /// (for `equal`, every environment compared), or where drift was seen.
    pub environments: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_look_up_by_key_and_keep_the_last_value_of_a_key_given_twice() {
        let p: Pairs = [("b", "2"), ("a", "1"), ("b", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(p.get("a").unwrap(), "1");
        assert_eq!(p.get("b").unwrap(), "3");
        assert_eq!(p.get("c"), None);
        assert_eq!(
            p.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn pairs_are_written_and_read_as_a_map_like_the_btreemap_before_them() {
        let p: Pairs = [("app".to_string(), "web".to_string())]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"app":"web"}"#);
        assert_eq!(serde_json::from_str::<Pairs>(&json).unwrap(), p);
    }

    fn inventory(env: &str, subjects: &[(u8, u8, u8)]) -> Inventory {
        let mut inv = Inventory {
            env: env.to_string(),
            ..Inventory::default()
        };
        for &(w, k, v) in subjects {
            inv.entries.insert(
                Subject {
                    scope: Scope::Container {
                        workload: format!("w{w}"),
                        container: "c".into(),
                    },
                    kind: ConfigKind::Env,
                    key: format!("K{k}"),
                },
                Entry {
                    value: Value::Text(format!("{env}-{v}")),
                    provenance: Provenance::Literal,
                    namespace: "ns".into(),
                },
            );
        }
        inv
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The merge gives what looking every subject up in every
        /// environment gives: the union in order, each subject once.
        #[test]
        fn aligned_is_the_sorted_union_with_each_environments_entry(
            envs in proptest::collection::vec(
                proptest::collection::vec((0u8..6, 0u8..6, 0u8..3), 0..20),
                0..4,
            )
        ) {
            let invs: Vec<Inventory> = envs
                .iter()
                .enumerate()
                .map(|(i, s)| inventory(&format!("e{i}"), s))
                .collect();
            let union: BTreeSet<&Subject> = invs.iter().flat_map(|i| i.entries.keys()).collect();
            let rows: Vec<_> = aligned(&invs).collect();
            proptest::prop_assert_eq!(
                rows.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                union.into_iter().collect::<Vec<_>>()
            );
            for (s, row) in rows {
                let looked_up: Vec<Option<&Entry>> = invs.iter().map(|i| i.entries.get(s)).collect();
                proptest::prop_assert_eq!(row, looked_up);
            }
        }
    }

    #[test]
    fn the_identity_labels_are_among_the_labels_kept() {
        for label in ["app.kubernetes.io/name", "app", "pod-template-hash"] {
            assert!(READ_LABELS.contains(&label), "{label}");
        }
    }
}
