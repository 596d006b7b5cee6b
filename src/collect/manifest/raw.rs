//! The lean typed structs a document is deserialized into: only the fields
//! confdrift reads, every other field ignored while parsing. They hold
//! what was written; turning them into [`Object`]s is `convert`'s job.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use k8s_openapi::api::core::v1::{EnvFromSource, VolumeMount};

use super::super::kinds::{self};
use super::*;
use crate::model::{EnvVarSource, Resources, null_as_default, quantity_text};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawObject {
    #[serde(default)]
    pub(super) api_version: Option<String>,
    #[serde(default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) metadata: Option<RawMeta>,
    #[serde(default)]
    pub(super) spec: Option<RawSpec>,
    #[serde(default)]
    pub(super) status: Option<RawStatus>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub(super) data: Option<StringMap>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub(super) string_data: Option<StringMap>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub(super) binary_data: Option<StringMap>,
    #[serde(default)]
    pub(super) items: Option<Vec<RawObject>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawMeta {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) generate_name: Option<String>,
    #[serde(default)]
    pub(super) namespace: Option<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub(super) labels: Option<StringMap>,
    #[serde(default)]
    pub(super) owner_references: Option<Vec<RawOwnerRef>>,
    #[serde(default)]
    pub(super) managed_fields: Option<Vec<RawManagedField>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawOwnerRef {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) name: String,
    #[serde(default)]
    pub(super) controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawManagedField {
    #[serde(default)]
    pub(super) time: Option<String>,
    #[serde(default, rename = "fieldsV1")]
    pub(super) fields: Option<TouchesData>,
}

/// Whether a managedFields entry owns `data`, `stringData` or `binaryData`
/// (only the top-level keys of `fieldsV1` are looked at).
#[derive(Debug, Default)]
pub(super) struct TouchesData(pub(super) bool);

impl<'de> Deserialize<'de> for TouchesData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TouchesData;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fieldsV1 map")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<TouchesData, A::Error> {
                let mut data = false;
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    data |= matches!(k.as_ref(), "f:data" | "f:stringData" | "f:binaryData");
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(TouchesData(data))
            }
        }
        d.deserialize_any(V)
    }
}

/// The union of the spec shapes of Pod, the pod-template controllers,
/// CronJob (`spec.jobTemplate.spec.template`) and the Secret producers
/// (`collect::kinds`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawSpec {
    #[serde(default)]
    pub(super) containers: Option<Vec<RawContainer>>,
    #[serde(default)]
    pub(super) init_containers: Option<Vec<RawContainer>>,
    #[serde(default)]
    pub(super) volumes: Option<Vec<crate::model::Volume>>,
    /// Pod-level resources.
    #[serde(default)]
    pub(super) resources: Option<RawResources>,
    #[serde(default)]
    pub(super) template: Option<Box<RawTemplate>>,
    #[serde(default)]
    pub(super) job_template: Option<Box<RawTemplate>>,
    /// Argo Rollouts: the workload whose pod template the Rollout runs.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) workload_ref: Option<RawWorkloadRef>,
    /// ExternalSecret: the Secret it makes.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) target: Option<RawTarget>,
    /// cert-manager Certificate: the Secret it makes.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) secret_name: Option<String>,
    /// ExternalSecret: the keys it fetches one by one.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) data: Option<Vec<RawSecretKey>>,
    /// ExternalSecret: whole remote secrets, whose keys only the
    /// controller knows.
    #[serde(default)]
    pub(super) data_from: Option<IgnoredAny>,
    /// SealedSecret: the keys it will hold, encrypted.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) encrypted_data: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawSecretKey {
    #[serde(default)]
    pub(super) secret_key: Option<String>,
}

/// For fields that only some kinds give a meaning to (`spec.data` of an
/// ExternalSecret, `spec.target`, …): a value of another shape, a custom
/// resource's own field of that name, is taken as absent, so that such an
/// object does not send its whole document off the typed fast path.
pub(super) fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawWorkloadRef {
    #[serde(default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawTarget {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) creation_policy: Option<String>,
    /// Templated data: its keys are the template's to say.
    #[serde(default)]
    pub(super) template: Option<IgnoredAny>,
}

/// A container as a manifest writes it; becomes a [`Container`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawContainer {
    /// Required, as Kubernetes requires it; `null` is read as empty and
    /// refused in [`container`].
    #[serde(deserialize_with = "null_as_default")]
    pub(super) name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) env: Vec<RawEnvVar>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) env_from: Vec<EnvFromSource>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) volume_mounts: Vec<VolumeMount>,
    #[serde(default)]
    pub(super) resources: Option<RawResources>,
}

/// An `env` entry as written: its `value` may be a number or a boolean,
/// which the API server refuses. Like [`EnvVar`], a field given twice is
/// an error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawEnvVar {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) name: String,
    #[serde(default)]
    pub(super) value: Option<ApiString>,
    #[serde(default)]
    pub(super) value_from: Option<Box<EnvVarSource>>,
}

/// `resources.limits` / `requests`: quantities, strings or numbers, of
/// the resources the downward API exposes.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawResources {
    #[serde(default, deserialize_with = "quantities")]
    pub(super) limits: Vec<(String, String)>,
    #[serde(default, deserialize_with = "quantities")]
    pub(super) requests: Vec<(String, String)>,
}

impl RawResources {
    pub(super) fn lean(this: Option<RawResources>) -> Option<Box<Resources>> {
        let r = this?;
        (!r.limits.is_empty() || !r.requests.is_empty()).then(|| {
            Box::new(Resources {
                limits: r.limits.into_iter().collect(),
                requests: r.requests.into_iter().collect(),
            })
        })
    }
}

pub(super) fn quantities<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<(String, String)>, D::Error> {
    struct Q(Option<String>);
    impl<'de> Deserialize<'de> for Q {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            quantity_text(d).map(Q)
        }
    }
    let map: Option<BTreeMap<String, Q>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| Resources::exposed(k))
        .filter_map(|(k, q)| Some((k, q.0?)))
        .collect())
}

/// A field Kubernetes types as a string, as written. An unquoted `8080`
/// or `true` is a number or a boolean to YAML and JSON, and the API server
/// refuses it (`kubectl apply` fails): it is kept as text, to compare, and
/// reported as rejected.
#[derive(Debug)]
pub(super) enum ApiString {
    Str(String),
    /// What the parser read instead (`an integer`), and its text.
    Other(&'static str, String),
}

impl<'de> Deserialize<'de> for ApiString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ApiString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Str(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Other("an integer", v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Other("an integer", v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Other("a number", v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<ApiString, E> {
                Ok(ApiString::Other("a boolean", v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawTemplate {
    #[serde(default)]
    pub(super) spec: Option<RawSpec>,
    /// A SealedSecret's template: plain keys added to the Secret.
    #[serde(default, deserialize_with = "lenient")]
    pub(super) data: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawStatus {
    #[serde(default)]
    pub(super) phase: Option<String>,
    #[serde(default)]
    pub(super) container_statuses: Option<Vec<RawContainerStatus>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawContainerStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) name: String,
    #[serde(default)]
    pub(super) state: Option<RawContainerState>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawContainerState {
    #[serde(default)]
    pub(super) running: Option<RawRunning>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawRunning {
    #[serde(default)]
    pub(super) started_at: Option<String>,
}

/// What confdrift reads an object as, by its kind and `apiVersion`
/// (`collect::kinds`); `None`: it is counted as skipped.
#[derive(Debug, Clone, Copy)]
pub(super) enum ReadAs {
    /// Pod, ConfigMap or Secret of the core group.
    Core,
    Template(&'static kinds::TemplateKind),
    Producer(&'static kinds::SecretProducer),
}

pub(super) fn read_as(kind: &str, api_version: Option<&str>) -> Option<ReadAs> {
    if matches!(kind, "Pod" | "ConfigMap" | "Secret") {
        return kinds::group_of(api_version)
            .is_none_or(str::is_empty)
            .then_some(ReadAs::Core);
    }
    if let Some(t) = kinds::template_kind(kind, api_version) {
        return Some(ReadAs::Template(t));
    }
    kinds::secret_producer(kind, api_version).map(ReadAs::Producer)
}

/// How a skipped object is counted: `Deployment (example.com/v1)` for a
/// name confdrift reads in another group, else its kind (a core `Service`
/// is just `Service`, though Knative's is read).
pub(super) fn skipped_label(kind: &str, api_version: Option<&str>) -> String {
    if kinds::is_read_kind_name(kind) && kinds::group_of(api_version).is_some_and(|g| !g.is_empty())
    {
        foreign_kind(kind, api_version)
    } else {
        display_kind(kind)
    }
}

pub(super) fn is_list_kind(kind: &str) -> bool {
    kind == "List" || kind.ends_with("List")
}

/// Reads a `map[string]string` whose keys must be unique. YAML forbids a key
/// twice in one mapping; serde would silently keep the last value, and
/// `kubectl apply` (strict field validation, its default since 1.27)
/// rejects it. The error sends the document to [`fallback`], which names
/// the key and its position.
pub(super) type StringMap = BTreeMap<String, Option<ApiString>>;

pub(super) fn unique_keys<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<StringMap>, D::Error> {
    struct Unique;
    impl<'de> Visitor<'de> for Unique {
        type Value = Option<StringMap>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(k) = map.next_key::<String>()? {
                let v = map.next_value::<Option<ApiString>>()?;
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate key `{k}`"
                    )));
                }
                out.insert(k, v);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(Unique)
}

/// [`unique_keys`] as a type, for visitors that read fields by hand.
pub(super) struct UniqueKeys(pub(super) Option<StringMap>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        unique_keys(d).map(UniqueKeys)
    }
}
