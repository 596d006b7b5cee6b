//! Parsing Kubernetes manifests (`kubectl get -o yaml|json`, rendered Helm
//! or kustomize output, `List`s, multi-document streams) into [`Object`]s.
//!
//! The fast path deserializes each document straight into lean typed structs
//! that ignore every field confdrift does not need (`managedFields` blobs,
//! `status` details, probes, …). Only when that fails does it fall back to a
//! generic parse, to tell an object of a kind we skip (any shape is fine)
//! from a broken object of a kind we read (an error with file and line).
//! Secret values are fingerprinted here and the plain bytes dropped.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use k8s_openapi::api::core::v1::{EnvFromSource, VolumeMount};

use super::kinds::{self, SecretName, TemplateAt};
use crate::error::{Error, Result};
use crate::fingerprint::{FingerprintKey, sha256_hex};
use crate::model::{
    Container, EnvVar, EnvVarSource, Meta, Object, OwnerRef, PodSpec, PodStatus, RejectedValue,
    Resources, TemplateRef, null_as_default, quantity_text,
};

/// The kind a confdrift snapshot file carries.
pub const SNAPSHOT_KIND: &str = "Snapshot";

/// The largest value read (a ConfigMap or Secret key, an env value): 1 MiB,
/// what Kubernetes allows a whole ConfigMap or Secret, so no real object
/// has a larger one; it also bounds the line diffs of config files.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The deepest nesting of YAML flow collections (`[…]`, `{…}`) read: 128,
/// the recursion limit serde_yaml and serde_json apply anyway. It is checked
/// before parsing because libyaml's scanner spends time proportional to this
/// depth on every token: 100,000 `[` would take minutes.
pub const MAX_NESTING: usize = 128;

/// The most nodes one YAML document may hold, aliases counted as what they
/// expand to: 10 million, about 100 MB of `kubectl get -o yaml`. serde_yaml
/// keeps all of a document's events in memory (up to some 250 bytes a
/// node), and replays an anchored node at every alias, so this bounds both
/// memory and "billion laughs" alias bombs. JSON is read item by item.
pub const MAX_YAML_NODES: usize = 10_000_000;

/// How many bytes of one document may be parsed again to find the lines of
/// values the API server would refuse: 16 MiB. Each one is found by
/// reading the document from its start, so a hostile document with a
/// hundred thousand of them would otherwise take hours; past the budget a
/// value is reported at the document's first line.
pub const LOCATE_BUDGET_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawObject {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<RawMeta>,
    #[serde(default)]
    spec: Option<RawSpec>,
    #[serde(default)]
    status: Option<RawStatus>,
    #[serde(default, deserialize_with = "unique_keys")]
    data: Option<StringMap>,
    #[serde(default, deserialize_with = "unique_keys")]
    string_data: Option<StringMap>,
    #[serde(default, deserialize_with = "unique_keys")]
    binary_data: Option<StringMap>,
    #[serde(default)]
    items: Option<Vec<RawObject>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    generate_name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    labels: Option<StringMap>,
    #[serde(default)]
    owner_references: Option<Vec<RawOwnerRef>>,
    #[serde(default)]
    managed_fields: Option<Vec<RawManagedField>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOwnerRef {
    #[serde(default, deserialize_with = "null_as_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default)]
    controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct RawManagedField {
    #[serde(default)]
    time: Option<String>,
    #[serde(default, rename = "fieldsV1")]
    fields: Option<TouchesData>,
}

/// Whether a managedFields entry owns `data`, `stringData` or `binaryData`
/// (only the top-level keys of `fieldsV1` are looked at).
#[derive(Debug, Default)]
struct TouchesData(bool);

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
struct RawSpec {
    #[serde(default)]
    containers: Option<Vec<RawContainer>>,
    #[serde(default)]
    init_containers: Option<Vec<RawContainer>>,
    #[serde(default)]
    volumes: Option<Vec<crate::model::Volume>>,
    /// Pod-level resources.
    #[serde(default)]
    resources: Option<RawResources>,
    #[serde(default)]
    template: Option<Box<RawTemplate>>,
    #[serde(default)]
    job_template: Option<Box<RawTemplate>>,
    /// Argo Rollouts: the workload whose pod template the Rollout runs.
    #[serde(default, deserialize_with = "lenient")]
    workload_ref: Option<RawWorkloadRef>,
    /// ExternalSecret: the Secret it makes.
    #[serde(default, deserialize_with = "lenient")]
    target: Option<RawTarget>,
    /// cert-manager Certificate: the Secret it makes.
    #[serde(default, deserialize_with = "lenient")]
    secret_name: Option<String>,
    /// ExternalSecret: the keys it fetches one by one.
    #[serde(default, deserialize_with = "lenient")]
    data: Option<Vec<RawSecretKey>>,
    /// ExternalSecret: whole remote secrets, whose keys only the
    /// controller knows.
    #[serde(default)]
    data_from: Option<IgnoredAny>,
    /// SealedSecret: the keys it will hold, encrypted.
    #[serde(default, deserialize_with = "lenient")]
    encrypted_data: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSecretKey {
    #[serde(default)]
    secret_key: Option<String>,
}

/// For fields that only some kinds give a meaning to (`spec.data` of an
/// ExternalSecret, `spec.target`, …): a value of another shape, a custom
/// resource's own field of that name, is taken as absent, so that such an
/// object does not send its whole document off the typed fast path.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

#[derive(Debug, Default, Deserialize)]
struct RawWorkloadRef {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTarget {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    creation_policy: Option<String>,
    /// Templated data: its keys are the template's to say.
    #[serde(default)]
    template: Option<IgnoredAny>,
}

/// A container as a manifest writes it; becomes a [`Container`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainer {
    /// Required, as Kubernetes requires it; `null` is read as empty and
    /// refused in [`container`].
    #[serde(deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    env: Vec<RawEnvVar>,
    #[serde(default, deserialize_with = "null_as_default")]
    env_from: Vec<EnvFromSource>,
    #[serde(default, deserialize_with = "null_as_default")]
    volume_mounts: Vec<VolumeMount>,
    #[serde(default)]
    resources: Option<RawResources>,
}

/// An `env` entry as written: its `value` may be a number or a boolean,
/// which the API server refuses. Like [`EnvVar`], a field given twice is
/// an error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvVar {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default)]
    value: Option<ApiString>,
    #[serde(default)]
    value_from: Option<Box<EnvVarSource>>,
}

/// `resources.limits` / `requests`: quantities, strings or numbers, of
/// the resources the downward API exposes.
#[derive(Debug, Default, Deserialize)]
struct RawResources {
    #[serde(default, deserialize_with = "quantities")]
    limits: Vec<(String, String)>,
    #[serde(default, deserialize_with = "quantities")]
    requests: Vec<(String, String)>,
}

impl RawResources {
    fn lean(this: Option<RawResources>) -> Option<Box<Resources>> {
        let r = this?;
        (!r.limits.is_empty() || !r.requests.is_empty()).then(|| {
            Box::new(Resources {
                limits: r.limits.into_iter().collect(),
                requests: r.requests.into_iter().collect(),
            })
        })
    }
}

fn quantities<'de, D: Deserializer<'de>>(
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
enum ApiString {
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
struct RawTemplate {
    #[serde(default)]
    spec: Option<RawSpec>,
    /// A SealedSecret's template: plain keys added to the Secret.
    #[serde(default, deserialize_with = "lenient")]
    data: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    container_statuses: Option<Vec<RawContainerStatus>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawContainerStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default)]
    state: Option<RawContainerState>,
}

#[derive(Debug, Default, Deserialize)]
struct RawContainerState {
    #[serde(default)]
    running: Option<RawRunning>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRunning {
    #[serde(default)]
    started_at: Option<String>,
}

/// What confdrift reads an object as, by its kind and `apiVersion`
/// (`collect::kinds`); `None`: it is counted as skipped.
#[derive(Debug, Clone, Copy)]
enum ReadAs {
    /// Pod, ConfigMap or Secret of the core group.
    Core,
    Template(&'static kinds::TemplateKind),
    Producer(&'static kinds::SecretProducer),
}

fn read_as(kind: &str, api_version: Option<&str>) -> Option<ReadAs> {
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
fn skipped_label(kind: &str, api_version: Option<&str>) -> String {
    if kinds::is_read_kind_name(kind) && kinds::group_of(api_version).is_some_and(|g| !g.is_empty())
    {
        foreign_kind(kind, api_version)
    } else {
        display_kind(kind)
    }
}

fn is_list_kind(kind: &str) -> bool {
    kind == "List" || kind.ends_with("List")
}

/// Reads a `map[string]string` whose keys must be unique. YAML forbids a key
/// twice in one mapping; serde would silently keep the last value, and
/// `kubectl apply` (strict field validation, its default since 1.27)
/// rejects it. The error sends the document to [`fallback`], which names
/// the key and its position.
type StringMap = BTreeMap<String, Option<ApiString>>;

fn unique_keys<'de, D: Deserializer<'de>>(
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
struct UniqueKeys(Option<StringMap>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        unique_keys(d).map(UniqueKeys)
    }
}

/// The format of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// One document of a file, with the line it starts on (1-based).
#[derive(Debug)]
pub struct Document<'a> {
    pub text: &'a str,
    pub line: usize,
    pub format: Format,
}

/// What parsing a file yields besides errors.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: Vec<Object>,
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Finished pods (`Succeeded`/`Failed`) left out.
    pub finished_pods: usize,
    /// Set when the file is a confdrift snapshot: the document to read as one.
    pub snapshot_doc: Option<(usize, Format)>,
    /// The spec of the last pod read, shared with the next if equal.
    pub last_spec: Option<std::sync::Arc<PodSpec>>,
}

/// Splits a file into documents. JSON streams are split per top-level value,
/// YAML streams at `---` / `...` markers (a marker at column 0 always ends a
/// document in YAML, even inside a block scalar).
pub fn split_documents<'a>(text: &'a str, path: &str) -> Result<Vec<Document<'a>>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return split_json(text, path);
    }
    let mut docs = Vec::new();
    let mut start = 0usize; // byte offset of the current document
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        let is_start = content.starts_with("---")
            && content[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t');
        let is_end =
            content == "..." || (content.starts_with("...") && content[3..].trim().is_empty());
        if is_start || is_end {
            push_yaml_doc(&mut docs, &text[start..offset], start_line);
            if is_start {
                // Content after `---` on the same line belongs to the new document.
                start = offset + 3;
                start_line = idx + 1;
            } else {
                start = offset + line.len();
                start_line = idx + 2;
            }
        }
        offset += line.len();
    }
    push_yaml_doc(&mut docs, &text[start..], start_line);
    Ok(docs)
}

fn push_yaml_doc<'a>(docs: &mut Vec<Document<'a>>, text: &'a str, line: usize) {
    let has_content = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    });
    if has_content {
        docs.push(Document {
            text,
            line,
            format: Format::Yaml,
        });
    }
}

fn split_json<'a>(text: &'a str, path: &str) -> Result<Vec<Document<'a>>> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
    let mut start = 0usize;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(_)) => {
                let end = stream.byte_offset();
                let lead = text[start..end].len() - text[start..end].trim_start().len();
                let begin = start + lead;
                docs.push(Document {
                    text: &text[begin..end],
                    line: line_of(text, begin),
                    format: Format::Json,
                });
                start = end;
            }
            Some(Err(e)) => {
                return Err(Error::input(
                    format!("{path}:{}:{}", e.line(), e.column()),
                    format!(
                        "invalid JSON: {}",
                        strip_location(&e.to_string(), e.line(), e.column())
                    ),
                ));
            }
        }
    }
    Ok(docs)
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Whether a document is well-formed YAML or JSON that does not claim to be
/// a Kubernetes object: no top-level `kind` (a Helm values file, a
/// `Chart.yaml`, a kustomization, any other configuration). A document that
/// does not parse, or is too deep or too aliased to parse safely, claims
/// nothing either way: `false`.
pub fn claims_no_kind(doc: &Document<'_>, path: &str) -> bool {
    let value: Option<serde_yaml::Value> = match doc.format {
        Format::Yaml => yaml_limits::check(doc, path)
            .ok()
            .and_then(|()| serde_yaml::from_str(doc.text).ok()),
        Format::Json => serde_json::from_str(doc.text).ok(),
    };
    value.is_some_and(|v| v.get("kind").is_none())
}

/// Parses one document into `out`.
pub fn parse_document(
    doc: &Document<'_>,
    doc_index: usize,
    path: &str,
    key: &FingerprintKey,
    out: &mut Parsed,
) -> Result<()> {
    if doc.format == Format::Yaml {
        yaml_limits::check(doc, path)?;
    }
    let budget = std::cell::Cell::new(LOCATE_BUDGET_BYTES);
    let ctx = Ctx {
        path,
        line: doc.line,
        text: Some(doc.text),
        item: None,
        budget: &budget,
    };
    // Undo what a failed streaming parse already added before falling back.
    let mark = (
        out.objects.len(),
        out.skipped_kinds.clone(),
        out.finished_pods,
    );
    let mut converted: Result<()> = Ok(());
    let mut snapshot = false;
    let seed = DocSeed {
        ctx: &ctx,
        key,
        out: &mut *out,
        converted: &mut converted,
        snapshot: &mut snapshot,
    };
    let typed: std::result::Result<(), DocError> = match doc.format {
        Format::Yaml => seed
            .deserialize(serde_yaml::Deserializer::from_str(doc.text))
            .map_err(|e| DocError::yaml(&e)),
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            seed.deserialize(&mut de)
                .and_then(|()| de.end())
                .map_err(|e| DocError::json(&e))
        }
    };
    match typed {
        Ok(()) if snapshot => {
            out.snapshot_doc = Some((doc_index, doc.format));
            Ok(())
        }
        Ok(()) => converted,
        Err(first) => {
            out.objects.truncate(mark.0);
            out.skipped_kinds = mark.1;
            out.finished_pods = mark.2;
            out.last_spec = None;
            fallback(doc, path, key, out, first)
        }
    }
}

/// Parses a file that holds exactly one JSON object (what `kubectl get -o
/// json` writes) straight from `reader`, converting `List` items as they
/// arrive, so the file's text is never held in memory: three 35 MB pod
/// lists read at once no longer cost 105 MB of text. `line` is the line
/// the object starts on.
///
/// Returns `None` whenever the text path could say more: a syntax or
/// conversion error (the text path words it with the exact position), a
/// stream of several documents, invalid UTF-8, or a confdrift snapshot.
/// The caller then reads the file whole; on success both paths give the
/// same [`Parsed`].
pub fn parse_json_reader<R: std::io::Read>(
    reader: R,
    line: usize,
    path: &str,
    key: &FingerprintKey,
) -> Option<Parsed> {
    let ctx = Ctx {
        path,
        line,
        text: None,
        item: None,
        budget: &std::cell::Cell::new(0),
    };
    let mut out = Parsed::default();
    let mut converted: Result<()> = Ok(());
    let mut snapshot = false;
    let seed = DocSeed {
        ctx: &ctx,
        key,
        out: &mut out,
        converted: &mut converted,
        snapshot: &mut snapshot,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
    (parsed.is_ok() && converted.is_ok() && !snapshot).then_some(out)
}

/// Deserializes one document and converts it as it goes: the items of a
/// `List` are converted one by one, so a 100 MB `kubectl get pods -o json`
/// never exists in memory as a whole.
struct DocSeed<'a, 'c> {
    ctx: &'a Ctx<'c>,
    key: &'a FingerprintKey,
    out: &'a mut Parsed,
    /// The first conversion error (a broken object of a kind we read).
    converted: &'a mut Result<()>,
    snapshot: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut raw = RawObject::default();
        let mut streamed = false;
        // Items without a kind that came before the list's own `kind`.
        let mut pending = Vec::new();
        // A field given twice: serde would keep the last; YAML forbids it.
        const FIELDS: [&str; 9] = [
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "status",
            "data",
            "stringData",
            "binaryData",
            "items",
        ];
        let mut seen = [false; FIELDS.len()];
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if let Some(i) = FIELDS.iter().position(|f| *f == k.as_ref())
                && std::mem::replace(&mut seen[i], true)
            {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    FIELDS[i]
                )));
            }
            match k.as_ref() {
                "apiVersion" => raw.api_version = map.next_value()?,
                "kind" => raw.kind = map.next_value()?,
                "metadata" => raw.metadata = map.next_value()?,
                "spec" => raw.spec = map.next_value()?,
                "status" => raw.status = map.next_value()?,
                "data" => raw.data = map.next_value::<UniqueKeys>()?.0,
                "stringData" => raw.string_data = map.next_value::<UniqueKeys>()?.0,
                "binaryData" => raw.binary_data = map.next_value::<UniqueKeys>()?.0,
                "items" => {
                    // `items: null` is no `items`, as for any field.
                    streamed = map.next_value_seed(ItemsSeed {
                        list_kind: raw.kind.as_deref(),
                        list_version: raw.api_version.as_deref(),
                        ctx: self.ctx,
                        key: self.key,
                        out: &mut *self.out,
                        converted: &mut *self.converted,
                        pending: &mut pending,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if raw.kind.as_deref() == Some(SNAPSHOT_KIND) {
            *self.snapshot = true;
            return Ok(());
        }
        if streamed {
            let kind = raw.kind.clone().unwrap_or_default();
            if !(is_list_kind(&kind) || kind.is_empty()) {
                // `items` on an object that is not a List: read it as the
                // object it says it is.
                if self.converted.is_ok() {
                    *self.converted = convert(raw, self.ctx, self.key, self.out);
                }
                return Ok(());
            }
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            for (i, mut item) in pending {
                if item.kind.is_none() {
                    item.kind = item_kind.map(str::to_string);
                    inherit_api_version(&mut item, item_kind, raw.api_version.as_deref());
                }
                if self.converted.is_ok() {
                    let ctx = Ctx {
                        item: Some(i),
                        ..*self.ctx
                    };
                    *self.converted = convert(item, &ctx, self.key, self.out);
                }
            }
            return Ok(());
        }
        if self.converted.is_ok() {
            *self.converted = convert(raw, self.ctx, self.key, self.out);
        }
        Ok(())
    }
}

struct ItemsSeed<'a, 'c> {
    list_kind: Option<&'a str>,
    list_version: Option<&'a str>,
    ctx: &'a Ctx<'c>,
    key: &'a FingerprintKey,
    out: &'a mut Parsed,
    converted: &'a mut Result<()>,
    pending: &'a mut Vec<(usize, RawObject)>,
}

/// Converts the items of a List; `false` when `items` is null.
impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }
    fn visit_unit<E>(self) -> std::result::Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> std::result::Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<bool, A::Error> {
        let item_kind = self
            .list_kind
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty());
        let mut index = 0;
        while let Some(mut item) = seq.next_element::<RawObject>()? {
            let i = index;
            index += 1;
            if item.kind.is_none() {
                match item_kind {
                    Some(k) => {
                        item.kind = Some(k.to_string());
                        inherit_api_version(&mut item, item_kind, self.list_version);
                    }
                    None => {
                        self.pending.push((i, item));
                        continue;
                    }
                }
            }
            if self.converted.is_ok() {
                let ctx = Ctx {
                    item: Some(i),
                    ..*self.ctx
                };
                *self.converted = convert(item, &ctx, self.key, self.out);
            }
        }
        Ok(true)
    }
}

/// A parse error relative to one document.
#[derive(Debug)]
struct DocError {
    line: usize,
    column: usize,
    message: String,
}

impl DocError {
    fn yaml(e: &serde_yaml::Error) -> Self {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        DocError {
            line,
            column,
            message: sanitize(&strip_location(&e.to_string(), line, column)),
        }
    }
    fn json(e: &serde_json::Error) -> Self {
        DocError {
            line: e.line().max(1),
            column: e.column().max(1),
            message: sanitize(&strip_location(&e.to_string(), e.line(), e.column())),
        }
    }
    /// Adds what to do to messages that need it.
    fn explained(mut self) -> Self {
        if self.message.contains("recursion limit exceeded") {
            self.message.push_str(&format!(
                "; the document is nested deeper than {MAX_NESTING} levels, and no Kubernetes \
                 object is"
            ));
        }
        if self.message.contains("duplicate entry") || self.message.contains("duplicate field") {
            self.message.push_str(
                "; a key may appear only once in a mapping (`kubectl apply` rejects this too, \
                 and without validation the last value silently wins)",
            );
        }
        self
    }

    fn into_error(self, doc: &Document<'_>, path: &str, what: &str) -> Error {
        // Lines are counted from the document's first line; the user needs
        // them counted from the file's.
        let line = doc.line + self.line - 1;
        Error::input(
            format!("{path}:{line}:{}", self.column),
            format!("{what}{}", shift_lines(&self.message, doc.line - 1)),
        )
    }
}

/// serde's messages end in " at line X column Y" for the error position;
/// we print that ourselves, relative to the whole file. Other positions in
/// the message (where a quoted scalar started) are kept.
fn strip_location(msg: &str, line: usize, column: usize) -> String {
    let suffix = format!(" at line {line} column {column}");
    msg.strip_suffix(&suffix).unwrap_or(msg).to_string()
}

/// Rewrites "at line N" inside a message to count from the file's start.
fn shift_lines(msg: &str, offset: usize) -> String {
    if offset == 0 {
        return msg.to_string();
    }
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find("at line ") {
        let (head, tail) = rest.split_at(i + "at line ".len());
        out.push_str(head);
        let digits: String = tail.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
        rest = &tail[digits.len()..];
    }
    out.push_str(rest);
    out
}

/// Removes the offending value from serde's "invalid type/value" messages,
/// because the value may be a Secret's.
pub(crate) fn sanitize(msg: &str) -> String {
    // serde says `unit value` for YAML's and JSON's null, and names our
    // parsing structs (`RawEnvVar`): say what the user wrote and reads.
    let msg = &msg
        .replace("unit value", "null")
        .replace("expected struct Raw", "expected struct ");
    for marker in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(i) = msg.find(marker) {
            let rest = &msg[i + marker.len()..];
            let end = rest.find(", expected").unwrap_or(rest.len());
            let what = &rest[..end];
            let kept = what.split(['`', '"', '\'']).next().unwrap_or("").trim_end();
            return format!("{}{}{}{}", &msg[..i], marker, kept, &rest[end..]);
        }
    }
    msg.to_string()
}

/// The typed parse failed: find out whether it failed on an object we read.
fn fallback(
    doc: &Document<'_>,
    path: &str,
    key: &FingerprintKey,
    out: &mut Parsed,
    first: DocError,
) -> Result<()> {
    if doc.format == Format::Json && yaml_limits::json_values_exceed(doc.text, MAX_YAML_NODES) {
        // Too large to hold as a generic tree just to word the error.
        return Err(first.into_error(
            doc,
            path,
            "cannot read this JSON document (and it holds too many values to look \
             closer at which object is broken): ",
        ));
    }
    let generic: serde_yaml::Value = match doc.format {
        Format::Yaml => serde_yaml::from_str(doc.text).map_err(|e| {
            DocError::yaml(&e)
                .explained()
                .into_error(doc, path, "invalid YAML: ")
        })?,
        Format::Json => serde_json::from_str(doc.text).map_err(|e| {
            DocError::json(&e)
                .explained()
                .into_error(doc, path, "invalid JSON: ")
        })?,
    };
    let kind = generic
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string);
    let budget = std::cell::Cell::new(LOCATE_BUDGET_BYTES);
    let ctx = Ctx {
        path,
        line: doc.line,
        text: Some(doc.text),
        item: None,
        budget: &budget,
    };
    match kind.as_deref() {
        Some(k) if is_list_kind(k) && generic.get("items").is_some_and(|i| !i.is_null()) => {
            let Some(items) = generic.get("items").and_then(|i| i.as_sequence()) else {
                return Err(first.into_error(doc, path, "`items` must be a list: "));
            };
            for (i, item) in items.iter().enumerate() {
                let item_kind = item.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                let item_version = item.get("apiVersion").and_then(|v| v.as_str());
                let Some(read) = read_as(item_kind, item_version) else {
                    *out.skipped_kinds
                        .entry(skipped_label(item_kind, item_version))
                        .or_default() += 1;
                    continue;
                };
                match from_generic(item.clone(), read) {
                    Ok(raw) => convert(
                        raw,
                        &Ctx {
                            item: Some(i),
                            ..ctx
                        },
                        key,
                        out,
                    )?,
                    Err(e) => {
                        // Parse the text again, typed for this item only, to
                        // get the exact line of the error.
                        let probe = probe_item(doc, i);
                        let name = item
                            .get("metadata")
                            .and_then(|m| m.get("name"))
                            .and_then(|n| n.as_str())
                            .unwrap_or("?");
                        let field = e.path().to_string();
                        let at = match &probe {
                            Some(p) if p.message.contains(&field) => String::new(),
                            _ => field_prefix(&field),
                        };
                        let what = format!("{item_kind} {name} (items[{i}]): {at}");
                        return Err(match probe {
                            Some(e) => e.into_error(doc, path, &what),
                            None => first.into_error(doc, path, &what),
                        });
                    }
                }
            }
            Ok(())
        }
        Some(k) => {
            let version = generic.get("apiVersion").and_then(|v| v.as_str());
            let Some(read) = read_as(k, version) else {
                *out.skipped_kinds
                    .entry(skipped_label(k, version))
                    .or_default() += 1;
                return Ok(());
            };
            if let ReadAs::Template(t) = read
                && t.unnamed_containers
                && let Ok(raw) = from_generic(generic.clone(), read)
            {
                return convert(raw, &ctx, key, out);
            }
            let name = generic
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or("?");
            // serde_yaml's messages start with the path already.
            let at = error_path(doc)
                .filter(|p| !first.message.starts_with(p.as_str()))
                .map(|p| field_prefix(&p))
                .unwrap_or_default();
            Err(first.into_error(doc, path, &format!("{k} {name}: {at}")))
        }
        None => {
            if generic.is_mapping() {
                Err(Error::input(
                    format!("{path}:{}", doc.line),
                    "document has no `kind`; every Kubernetes object needs `apiVersion` and `kind`",
                ))
            } else {
                Err(Error::input(
                    format!("{path}:{}", doc.line),
                    "document is not a Kubernetes object (expected a mapping with `kind`)",
                ))
            }
        }
    }
}

/// Reads an object from its generic tree, first naming the containers its
/// controller would name (Knative's unnamed containers).
fn from_generic(
    mut value: serde_yaml::Value,
    read: ReadAs,
) -> std::result::Result<RawObject, serde_path_to_error::Error<serde_yaml::Error>> {
    if let ReadAs::Template(t) = read
        && t.unnamed_containers
        && let Some(spec) = value
            .get_mut("spec")
            .and_then(|s| s.get_mut("template"))
            .and_then(|t| t.get_mut("spec"))
    {
        name_containers(spec);
    }
    serde_path_to_error::deserialize(value)
}

/// Gives unnamed containers of a pod spec the names the controller gives
/// them ([`kinds::default_container_names`]).
fn name_containers(spec: &mut serde_yaml::Value) {
    let names = |spec: &serde_yaml::Value, field: &str| -> Vec<String> {
        spec.get(field)
            .and_then(|c| c.as_sequence())
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        c.get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut containers = names(spec, "containers");
    let mut init = names(spec, "initContainers");
    kinds::default_container_names(&mut containers, &mut init);
    for (field, named) in [("containers", containers), ("initContainers", init)] {
        let Some(list) = spec.get_mut(field).and_then(|c| c.as_sequence_mut()) else {
            continue;
        };
        for (c, name) in list.iter_mut().zip(named) {
            if let Some(m) = c.as_mapping_mut() {
                m.insert("name".into(), name.into());
            }
        }
    }
}

/// `Deployment (apps.kruise.io/v1alpha1)`: a kind we read, of another group.
fn foreign_kind(kind: &str, api_version: Option<&str>) -> String {
    format!("{kind} ({})", api_version.unwrap_or(""))
}

fn display_kind(kind: &str) -> String {
    if kind.is_empty() {
        "(no kind)".to_string()
    } else {
        kind.to_string()
    }
}

/// The field path where the typed parse of a document fails
/// (`spec.template.spec.containers[0].env[2].valueFrom`), from parsing it
/// again with the path tracked: only on the error path, so the fast path
/// pays nothing for it.
fn error_path(doc: &Document<'_>) -> Option<String> {
    let err = match doc.format {
        Format::Yaml => {
            let de = serde_yaml::Deserializer::from_str(doc.text);
            serde_path_to_error::deserialize::<_, RawObject>(de)
                .err()?
                .path()
                .to_string()
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            serde_path_to_error::deserialize::<_, RawObject>(&mut de)
                .err()?
                .path()
                .to_string()
        }
    };
    Some(err)
}

/// `path: ` to put before an error message, or nothing at the root.
fn field_prefix(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Deserializes the document again, typed only for `items[index]`, and
/// returns the error with its position in the document.
fn probe_item(doc: &Document<'_>, index: usize) -> Option<DocError> {
    let seed = ProbeDoc { index };
    match doc.format {
        Format::Yaml => {
            let de = serde_yaml::Deserializer::from_str(doc.text);
            seed.deserialize(de).err().map(|e| DocError::yaml(&e))
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            seed.deserialize(&mut de).err().map(|e| DocError::json(&e))
        }
    }
}

struct ProbeDoc {
    index: usize,
}

impl<'de> DeserializeSeed<'de> for ProbeDoc {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProbeDoc {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "items" {
                map.next_value_seed(ProbeItems { index: self.index })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct ProbeItems {
    index: usize,
}

impl<'de> DeserializeSeed<'de> for ProbeItems {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ProbeItems {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        loop {
            if i == self.index {
                if seq.next_element::<RawObject>()?.is_none() {
                    return Ok(());
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    path: &'a str,
    line: usize,
    /// The document's text, to find a value's line in; `None` when it is
    /// streamed.
    text: Option<&'a str>,
    /// The index in `items` of the List item being converted.
    item: Option<usize>,
    /// What is left of [`LOCATE_BUDGET_BYTES`] for this document.
    budget: &'a std::cell::Cell<usize>,
}

impl Ctx<'_> {
    fn error(&self, what: &str, message: impl Into<String>) -> Error {
        Error::input(
            format!("{}:{}", self.path, self.line),
            format!("{what}: {}", message.into()),
        )
    }
}

/// Turns a typed raw object into [`Object`]s (a List into several).
fn convert(raw: RawObject, ctx: &Ctx<'_>, key: &FingerprintKey, out: &mut Parsed) -> Result<()> {
    let kind = raw.kind.clone().unwrap_or_default();
    if let Some(items) = raw.items
        && (is_list_kind(&kind) || kind.is_empty())
    {
        // The API server's typed lists (`PodList`) leave out each item's
        // kind; `kubectl get -o json` fills it in.
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        for (i, mut item) in items.into_iter().enumerate() {
            if item.kind.is_none() {
                item.kind = item_kind.map(str::to_string);
            }
            inherit_api_version(&mut item, item_kind, raw.api_version.as_deref());
            let ctx = Ctx {
                item: Some(i),
                ..*ctx
            };
            convert(item, &ctx, key, out)?;
        }
        return Ok(());
    }
    if kind.is_empty() {
        return Err(Error::input(
            format!("{}:{}", ctx.path, ctx.line),
            "document has no `kind`; every Kubernetes object needs `apiVersion` and `kind`",
        ));
    }
    let Some(read) = read_as(&kind, raw.api_version.as_deref()) else {
        *out.skipped_kinds
            .entry(skipped_label(&kind, raw.api_version.as_deref()))
            .or_default() += 1;
        return Ok(());
    };
    let raw_meta = raw.metadata.unwrap_or_default();
    let name = raw_meta
        .name
        .clone()
        .or_else(|| raw_meta.generate_name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ctx.error(
                &kind,
                "has no metadata.name; Kubernetes requires a name (or generateName)",
            )
        })?;
    let mut rejected = Rejections {
        ctx: *ctx,
        found: Vec::new(),
    };
    let meta = convert_meta(raw_meta, name, &mut rejected)?;
    let what = format!("{kind} {}", meta.name);
    let mut object = match (read, kind.as_str()) {
        (ReadAs::Producer(p), _) => {
            if let Some(secret) = produced_secret(p, &meta, raw.spec.as_ref()) {
                out.objects.push(secret);
            }
            return Ok(());
        }
        (ReadAs::Template(t), _) => {
            let spec = raw.spec.ok_or_else(|| ctx.error(&what, "has no spec"))?;
            workload(t, meta, spec, ctx, &what, &mut rejected)?
        }
        (ReadAs::Core, "Pod") => {
            let status = raw.status.unwrap_or_default();
            let phase = status.phase;
            let container_starts = status
                .container_statuses
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| {
                    let started = c.state?.running?.started_at?;
                    Some((c.name, started))
                })
                .collect();
            if matches!(phase.as_deref(), Some("Succeeded" | "Failed")) {
                out.finished_pods += 1;
                return Ok(());
            }
            let spec = raw.spec.ok_or_else(|| ctx.error(&what, "has no spec"))?;
            let spec = pod_spec(spec, ctx, &what, &["spec"], &mut rejected)?;
            // Replicas come one after the other in a list: share their spec.
            let spec = match &out.last_spec {
                Some(prev) if **prev == spec => prev.clone(),
                _ => {
                    let spec = std::sync::Arc::new(compact(spec));
                    out.last_spec = Some(spec.clone());
                    spec
                }
            };
            Object::Pod {
                metadata: meta,
                spec,
                status: PodStatus {
                    phase,
                    container_starts,
                },
            }
        }
        (ReadAs::Core, "ConfigMap") => {
            let mut data = BTreeMap::new();
            for (k, v) in raw.data.unwrap_or_default() {
                let v = rejected
                    .read(v, || keys(&["data", &k]), None, Some(&k), false)?
                    .unwrap_or_default();
                check_size(ctx, &what, || format!("data key {k}"), v.len())?;
                data.insert(k, v);
            }
            let mut binary_data = BTreeMap::new();
            for (k, v) in raw.binary_data.unwrap_or_default() {
                let v = rejected.read(v, || keys(&["binaryData", &k]), None, Some(&k), false)?;
                let bytes = decode_base64(v.as_deref().unwrap_or("")).map_err(|_| {
                    ctx.error(&what, format!("binaryData key {k} is not valid base64"))
                })?;
                check_size(ctx, &what, || format!("binaryData key {k}"), bytes.len())?;
                binary_data.insert(k, sha256_hex(&bytes));
            }
            Object::ConfigMap {
                metadata: meta,
                data,
                binary_data,
            }
        }
        (ReadAs::Core, "Secret") => {
            let mut fingerprints = BTreeMap::new();
            for (k, v) in raw.data.unwrap_or_default() {
                let v = rejected.read(v, || keys(&["data", &k]), None, Some(&k), true)?;
                let bytes = decode_base64(v.as_deref().unwrap_or("")).map_err(|_| {
                    ctx.error(
                        &what,
                        format!(
                            "data key {k} is not valid base64 (Secret `data` is base64-encoded; \
                             put plain text under `stringData`)"
                        ),
                    )
                })?;
                check_size(ctx, &what, || format!("data key {k}"), bytes.len())?;
                fingerprints.insert(k, key.fingerprint(&bytes));
            }
            // The API server merges stringData over data on write.
            for (k, v) in raw.string_data.unwrap_or_default() {
                let v = rejected
                    .read(v, || keys(&["stringData", &k]), None, Some(&k), true)?
                    .unwrap_or_default();
                check_size(ctx, &what, || format!("stringData key {k}"), v.len())?;
                fingerprints.insert(k, key.fingerprint(v.as_bytes()));
            }
            Object::Secret {
                metadata: meta,
                fingerprints,
            }
        }
        // `read_as` gives `Core` only to the three kinds above.
        (ReadAs::Core, _) => return Err(ctx.error(&what, "is not a kind confdrift reads")),
    };
    rejected.found.sort();
    object.meta_mut().rejected = rejected.found;
    out.objects.push(object);
    Ok(())
}

/// A step of a path into a document.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn keys(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// `spec.containers[0].env[2].value`.
fn field_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The values of one object that the API server would refuse, each with
/// the line it is written on.
struct Rejections<'c> {
    ctx: Ctx<'c>,
    found: Vec<RejectedValue>,
}

impl Rejections<'_> {
    /// A string field's value as written; one that is not a string to YAML
    /// or JSON is recorded. `at` gives the field's path in the object.
    fn read(
        &mut self,
        value: Option<ApiString>,
        at: impl FnOnce() -> Vec<Seg>,
        container: Option<&str>,
        key: Option<&str>,
        secret: bool,
    ) -> Result<Option<String>> {
        let (written_as, parsed) = match value {
            None => return Ok(None),
            Some(ApiString::Str(s)) => return Ok(Some(s)),
            Some(ApiString::Other(what, text)) => (what, text),
        };
        let Some(doc) = self.ctx.text else {
            // Streamed: the text path reads the document and finds the line.
            return Err(self
                .ctx
                .error("document", "holds a value to locate in its text"));
        };
        let local = at();
        let mut path = Vec::new();
        if let Some(i) = self.ctx.item {
            path.push(Seg::Key("items".into()));
            path.push(Seg::Index(i));
        }
        path.extend(local.iter().cloned());
        let affordable = self.ctx.budget.get() >= doc.len();
        if affordable {
            self.ctx.budget.set(self.ctx.budget.get() - doc.len());
        }
        let (line, text) = match affordable.then(|| locate(doc, &path)).flatten() {
            Some((line, text)) => (self.ctx.line + line.max(1) - 1, text),
            None => (self.ctx.line, parsed),
        };
        self.found.push(RejectedValue {
            location: format!("{}:{line}", self.ctx.path),
            field: field_path(&local),
            written_as: written_as.to_string(),
            text: (!secret).then(|| text.clone()),
            container: container.map(str::to_string),
            key: key.map(str::to_string),
        });
        Ok(Some(text))
    }
}

/// The line in the file of the node at `path` in the object being
/// converted, when the document's text is at hand.
fn entry_line(ctx: &Ctx<'_>, path: &[Seg]) -> Option<usize> {
    let mut full = Vec::new();
    if let Some(i) = ctx.item {
        full.extend([Seg::Key("items".into()), Seg::Index(i)]);
    }
    full.extend(path.iter().cloned());
    // Once, for an error that stops the run: no budget needed.
    let (line, _) = locate_node(ctx.text?, &full)?;
    Some(ctx.line + line.max(1) - 1)
}

/// Finds the scalar at `path` in a YAML (or JSON) document: the line it is
/// on (counted in the document, from 1) and its text exactly as written
/// (`1.50`, `True`). Run only for a value the API server would refuse.
fn locate(text: &str, path: &[Seg]) -> Option<(usize, String)> {
    match locate_node(text, path)? {
        (line, Some(value)) => Some((line, value)),
        (_, None) => None,
    }
}

/// The line where the node at `path` starts (counted in the document,
/// from 1), and its text when it is a scalar.
fn locate_node(text: &str, path: &[Seg]) -> Option<(usize, Option<String>)> {
    use yaml_rust2::parser::{Event, Parser};
    let mut p = Parser::new_from_str(text);
    let mut next = || p.next_token().ok();
    let first = loop {
        match next()? {
            (Event::StreamStart | Event::DocumentStart, _) => continue,
            other => break other,
        }
    };
    // Consumes the rest of a node whose first event is `ev`.
    fn skip(
        next: &mut dyn FnMut() -> Option<(Event, yaml_rust2::scanner::Marker)>,
        ev: &Event,
    ) -> Option<()> {
        let mut depth = match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => 1,
            _ => return Some(()),
        };
        while depth > 0 {
            match next()?.0 {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                Event::StreamEnd => return None,
                _ => {}
            }
        }
        Some(())
    }
    let (mut ev, mut mark) = first;
    for seg in path {
        match (seg, &ev) {
            (Seg::Key(k), Event::MappingStart(..)) => loop {
                let (key, _) = next()?;
                match key {
                    Event::MappingEnd => return None,
                    Event::Scalar(ref name, ..) if name == k => {
                        (ev, mark) = next()?;
                        break;
                    }
                    other => {
                        skip(&mut next, &other)?;
                        let (value, _) = next()?;
                        skip(&mut next, &value)?;
                    }
                }
            },
            (Seg::Index(i), Event::SequenceStart(..)) => {
                for _ in 0..*i {
                    let (item, _) = next()?;
                    if item == Event::SequenceEnd {
                        return None;
                    }
                    skip(&mut next, &item)?;
                }
                (ev, mark) = next()?;
            }
            _ => return None,
        }
    }
    match ev {
        Event::Scalar(value, ..) => Some((mark.line(), Some(value))),
        Event::MappingStart(..) | Event::SequenceStart(..) => Some((mark.line(), None)),
        _ => None,
    }
}

/// A controller with a pod template, as a [`Object::Workload`].
fn workload(
    t: &kinds::TemplateKind,
    meta: Meta,
    spec: RawSpec,
    ctx: &Ctx<'_>,
    what: &str,
    rejected: &mut Rejections<'_>,
) -> Result<Object> {
    let at: &[&str] = match t.at {
        TemplateAt::JobTemplate => &["spec", "jobTemplate", "spec", "template", "spec"],
        TemplateAt::SpecTemplate => &["spec", "template", "spec"],
    };
    let template = match t.at {
        TemplateAt::JobTemplate => spec
            .job_template
            .and_then(|jt| jt.spec)
            .and_then(|js| js.template)
            .and_then(|t| t.spec)
            .ok_or_else(|| ctx.error(what, "has no spec.jobTemplate.spec.template.spec"))?,
        TemplateAt::SpecTemplate => match (spec.template.and_then(|t| t.spec), spec.workload_ref) {
            (Some(template), _) => template,
            // Argo Rollouts: "Instead of removing Deployment you can scale it
            // down to zero and reference it from the Rollout resource"; the
            // Rollout then has no template of its own
            // (https://argo-rollouts.readthedocs.io/en/stable/migrating/).
            (None, Some(r)) => {
                let (Some(kind), Some(name)) = (
                    r.kind.filter(|k| !k.is_empty()),
                    r.name.filter(|n| !n.is_empty()),
                ) else {
                    return Err(ctx.error(what, "spec.workloadRef has no kind or name"));
                };
                return Ok(Object::Workload {
                    workload_kind: t.workload,
                    metadata: meta,
                    template: PodSpec::default(),
                    template_from: Some(TemplateRef { kind, name }),
                });
            }
            (None, None) => {
                let also = if t.workload == crate::model::WorkloadKind::Rollout {
                    " (or spec.workloadRef)"
                } else {
                    ""
                };
                return Err(ctx.error(what, format!("has no spec.template.spec{also}")));
            }
        },
    };
    Ok(Object::Workload {
        workload_kind: t.workload,
        metadata: meta,
        template: compact(pod_spec(template, ctx, what, at, rejected)?),
        template_from: None,
    })
}

/// The Secret a producer's controller makes, if it makes one.
fn produced_secret(
    p: &kinds::SecretProducer,
    meta: &Meta,
    spec: Option<&RawSpec>,
) -> Option<Object> {
    let target = spec.and_then(|s| s.target.as_ref());
    let name = match p.name {
        SecretName::Own => meta.name.clone(),
        SecretName::TargetNameOrOwn => {
            // `Merge` fills a Secret that must exist already; `None` makes none.
            if target
                .and_then(|t| t.creation_policy.as_deref())
                .is_some_and(|c| matches!(c, "Merge" | "None"))
            {
                return None;
            }
            target
                .and_then(|t| t.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| meta.name.clone())
        }
        SecretName::SpecSecretName => spec
            .and_then(|s| s.secret_name.clone())
            .filter(|n| !n.is_empty())?,
    };
    Some(Object::ProducedSecret {
        metadata: Meta {
            name,
            namespace: meta.namespace.clone(),
            ..Meta::default()
        },
        made_by: format!("{} {}", p.kind, meta.name),
        keys: spec.and_then(|s| produced_keys(p, s)),
    })
}

/// The keys a producer's Secret will hold, when the producer names them
/// all: an ExternalSecret's `data[].secretKey` (without `dataFrom` or a
/// target template, which add keys only the controller knows), a
/// SealedSecret's `encryptedData` plus its template's plain `data`.
fn produced_keys(p: &kinds::SecretProducer, spec: &RawSpec) -> Option<Vec<String>> {
    let mut keys: Vec<String> = match p.name {
        SecretName::TargetNameOrOwn => {
            if spec.data_from.is_some()
                || spec.target.as_ref().is_some_and(|t| t.template.is_some())
            {
                return None;
            }
            spec.data
                .iter()
                .flatten()
                .filter_map(|d| d.secret_key.clone())
                .collect()
        }
        SecretName::Own => {
            let sealed = spec.encrypted_data.iter().flat_map(|m| m.keys().cloned());
            let plain = spec
                .template
                .iter()
                .flat_map(|t| t.data.iter().flat_map(|m| m.keys().cloned()));
            sealed.chain(plain).collect()
        }
        SecretName::SpecSecretName => return None,
    };
    keys.sort();
    keys.dedup();
    Some(keys)
}

/// Items of a typed list (`StatefulSetList`) that name no `apiVersion`
/// have the list's: an Advanced StatefulSet listed from `apps.kruise.io`
/// is not a built-in one.
fn inherit_api_version(item: &mut RawObject, item_kind: Option<&str>, list_version: Option<&str>) {
    if item.api_version.is_none() && item_kind.is_some() {
        item.api_version = list_version.map(str::to_string);
    }
}

fn decode_base64(s: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    // kubectl prints data on one line, but hand-written manifests may wrap it.
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
}

/// Refuses a value larger than [`MAX_VALUE_BYTES`]; never quotes it.
fn check_size(ctx: &Ctx<'_>, what: &str, field: impl Fn() -> String, len: usize) -> Result<()> {
    if len <= MAX_VALUE_BYTES {
        return Ok(());
    }
    Err(ctx.error(
        what,
        format!(
            "{} is {} bytes, more than {} ({} bytes), the most Kubernetes allows a whole \
             ConfigMap or Secret (confdrift reads values up to that size)",
            field(),
            yaml_limits::thousands(len),
            crate::fsio::mebibytes(MAX_VALUE_BYTES as u64),
            yaml_limits::thousands(MAX_VALUE_BYTES),
        ),
    ))
}

/// What the API server checks of an env entry and confdrift relies on: a
/// name of printable ASCII other than `=` (KEP-4369, the rule since
/// Kubernetes 1.34; older versions allow fewer), references that name their
/// object and key, a value of at most [`MAX_VALUE_BYTES`].
fn check_env(
    ctx: &Ctx<'_>,
    what: &str,
    container: &str,
    index: usize,
    e: &crate::model::EnvVar,
) -> Result<()> {
    let entry = || format!("container {container} env[{index}]");
    if e.name.is_empty() {
        return Err(ctx.error(what, format!("{} has no name", entry())));
    }
    if let Some(c) = e
        .name
        .chars()
        .find(|c| !(' '..='~').contains(c) || *c == '=')
    {
        return Err(ctx.error(
            what,
            format!(
                "{} name {:?} holds {c:?}; Kubernetes allows printable ASCII characters \
                 other than `=` in environment variable names",
                entry(),
                e.name
            ),
        ));
    }
    if let Some(from) = &e.value_from {
        let refs = [
            (
                "configMapKeyRef",
                from.config_map_key_ref.as_ref().map(|r| (&r.name, &r.key)),
            ),
            (
                "secretKeyRef",
                from.secret_key_ref.as_ref().map(|r| (&r.name, &r.key)),
            ),
        ];
        for (field, (name, key)) in refs.into_iter().filter_map(|(f, r)| Some((f, r?))) {
            let missing = if name.is_empty() { "name" } else { "key" };
            if name.is_empty() || key.is_empty() {
                return Err(ctx.error(
                    what,
                    format!(
                        "{} ({}) valueFrom.{field} has no {missing}",
                        entry(),
                        e.name
                    ),
                ));
            }
        }
    }
    let len = e.value.as_ref().map_or(0, String::len);
    check_size(ctx, what, || format!("{} ({}) value", entry(), e.name), len)
}

/// Converts a pod spec at `at` (`spec`, `spec.template.spec`, …) in its
/// object, checking its env entries as the API server does.
fn pod_spec(
    spec: RawSpec,
    ctx: &Ctx<'_>,
    what: &str,
    at: &[&str],
    rejected: &mut Rejections<'_>,
) -> Result<PodSpec> {
    let raw = spec.containers.unwrap_or_default();
    if raw.is_empty() {
        return Err(ctx.error(what, "pod spec has no containers"));
    }
    let mut read = |list: Vec<RawContainer>, field: &str| -> Result<Vec<Container>> {
        list.into_iter()
            .enumerate()
            .map(|(i, c)| {
                if c.name.is_empty() {
                    let at = at.join(".");
                    return Err(ctx.error(
                        what,
                        format!("{at}.{field}[{i}] has no name; Kubernetes requires one"),
                    ));
                }
                container(c, at, field, i, rejected)
            })
            .collect()
    };
    let containers = read(raw, "containers")?;
    let init_containers = read(spec.init_containers.unwrap_or_default(), "initContainers")?;
    let lists = [
        ("containers", &containers),
        ("initContainers", &init_containers),
    ];
    for (field, list) in lists {
        for (ci, c) in list.iter().enumerate() {
            for (i, e) in c.env.iter().enumerate() {
                if check_env(ctx, what, &c.name, i, e).is_ok() {
                    continue;
                }
                // Worded again with the line of the entry, which is only
                // looked for when there is an error.
                let mut path = keys(at);
                path.extend([Seg::Key(field.into()), Seg::Index(ci)]);
                path.extend([Seg::Key("env".into()), Seg::Index(i)]);
                let here = Ctx {
                    line: entry_line(ctx, &path).unwrap_or(ctx.line),
                    ..*ctx
                };
                check_env(&here, what, &c.name, i, e)?;
            }
        }
    }
    Ok(PodSpec {
        containers,
        init_containers,
        volumes: spec.volumes.unwrap_or_default(),
        resources: RawResources::lean(spec.resources),
    })
}

/// One container, `at.field[index]` in its object.
fn container(
    c: RawContainer,
    at: &[&str],
    field: &str,
    index: usize,
    rejected: &mut Rejections<'_>,
) -> Result<Container> {
    let env = c
        .env
        .into_iter()
        .enumerate()
        .map(|(j, e)| {
            let path = || {
                let mut p = keys(at);
                p.extend([Seg::Key(field.into()), Seg::Index(index)]);
                p.extend([
                    Seg::Key("env".into()),
                    Seg::Index(j),
                    Seg::Key("value".into()),
                ]);
                p
            };
            let value = rejected.read(e.value, path, Some(&c.name), Some(&e.name), false)?;
            Ok(EnvVar {
                name: e.name,
                value,
                value_from: e.value_from,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Container {
        name: c.name,
        env,
        env_from: c.env_from,
        volume_mounts: c.volume_mounts,
        resources: RawResources::lean(c.resources),
    })
}

/// Gives a spec that is kept back the room its lists grew into while
/// parsing (a list of 40 env entries has room for 64): a fleet keeps
/// thousands of specs until it is normalized.
fn compact(mut spec: PodSpec) -> PodSpec {
    for c in spec.containers.iter_mut().chain(&mut spec.init_containers) {
        c.env.shrink_to_fit();
        c.env_from.shrink_to_fit();
        c.volume_mounts.shrink_to_fit();
    }
    spec.containers.shrink_to_fit();
    spec.init_containers.shrink_to_fit();
    spec.volumes.shrink_to_fit();
    spec
}

fn convert_meta(raw: RawMeta, name: String, rejected: &mut Rejections<'_>) -> Result<Meta> {
    let mut labels = Vec::new();
    for (k, v) in raw.labels.unwrap_or_default() {
        let v = rejected.read(v, || keys(&["metadata", "labels", &k]), None, None, false)?;
        if crate::model::READ_LABELS.contains(&k.as_str()) {
            labels.push((k, v.unwrap_or_default()));
        }
    }
    let last_update = raw
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.fields.as_ref().is_some_and(|f| f.0))
        .filter_map(|m| m.time)
        .max_by_key(|t| crate::normalize::timestamp(t));
    Ok(Meta {
        name,
        namespace: raw.namespace.unwrap_or_default(),
        labels: labels.into_iter().collect(),
        owner_references: raw
            .owner_references
            .unwrap_or_default()
            .into_iter()
            .map(|o| OwnerRef {
                kind: o.kind,
                name: o.name,
                controller: o.controller.unwrap_or(false),
            })
            .collect(),
        last_update,
        rejected: Vec::new(),
        origin: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed> {
        let key = FingerprintKey::new(b"test", true);
        let mut out = Parsed::default();
        for (i, doc) in split_documents(text, "f.yaml")?.iter().enumerate() {
            parse_document(doc, i, "f.yaml", &key, &mut out)?;
        }
        Ok(out)
    }

    fn parse_streamed(text: &str) -> Option<Parsed> {
        let key = FingerprintKey::new(b"test", true);
        parse_json_reader(text.as_bytes(), 1, "f.json", &key)
    }

    const POD_LIST: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-7c9d5b8f4d-x1", "namespace": "shop",
         "labels": {"app.kubernetes.io/name": "web", "pod-template-hash": "7c9d5b8f4d",
                    "helm.sh/chart": "web-1.2.3", "app.kubernetes.io/managed-by": "Helm"},
         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7c9d5b8f4d", "controller": true}]},
       "spec": {"containers": [{"name": "app", "env": [
         {"name": "A", "value": "1"},
         {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "b"}}},
         {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]},
       "status": {"phase": "Running", "containerStatuses": [
         {"name": "app", "state": {"running": {"startedAt": "2026-11-01T10:00:00Z"}}}]}},
      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
       "data": {"b": "two"}},
      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
    ]}"#;

    #[test]
    fn streamed_json_gives_what_the_text_path_gives() {
        let streamed = parse_streamed(POD_LIST).expect("one JSON object streams");
        let text = parse(POD_LIST).unwrap();
        assert_eq!(streamed.objects, text.objects);
        assert_eq!(streamed.skipped_kinds, text.skipped_kinds);
        assert_eq!(streamed.objects.len(), 2);
    }

    #[test]
    fn streamed_json_leaves_to_the_text_path_what_it_cannot_word() {
        // Two documents, a syntax error, a broken object, a snapshot:
        // the text path reads these and words the error with its position.
        assert!(parse_streamed(&format!("{POD_LIST}\n{POD_LIST}")).is_none());
        assert!(parse_streamed(&POD_LIST[..POD_LIST.len() - 3]).is_none());
        assert!(
            parse_streamed(r#"{"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}"#).is_none()
        );
        let snapshot = format!(r#"{{"kind": "{SNAPSHOT_KIND}", "environment": "x"}}"#);
        assert!(parse_streamed(&snapshot).is_none());
    }

    #[test]
    fn only_the_labels_confdrift_reads_are_kept() {
        let parsed = parse(POD_LIST).unwrap();
        let meta = parsed.objects[0].meta();
        assert_eq!(meta.labels.get("app.kubernetes.io/name").unwrap(), "web");
        assert_eq!(meta.labels.get("pod-template-hash").unwrap(), "7c9d5b8f4d");
        assert_eq!(meta.labels.get("helm.sh/chart"), None);
        assert_eq!(meta.labels.iter().count(), 2);
    }

    #[test]
    fn an_env_field_given_twice_is_an_error_as_in_strict_decoding() {
        // `kubectl apply` (strict field validation) rejects it; reading it
        // would silently take one of the two values.
        let err = parse(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    env:\n    \
             - name: A\n      value: '1'\n      value: '2'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("f.yaml:"), "{err}");
        assert!(err.contains("duplicate") && err.contains("value"), "{err}");
    }

    #[test]
    fn splits_yaml_streams_at_markers_and_skips_empty_helm_documents() {
        let text = "---\n# Source: chart/templates/empty.yaml\n---\nkind: ConfigMap\nmetadata: {name: a}\n...\n---\nkind: ConfigMap\nmetadata: {name: b}\n";
        let docs = split_documents(text, "f").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[1].line, 7);
    }

    #[test]
    fn error_line_is_relative_to_the_file_not_the_document() {
        let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    env:\n    - name: A\n      value: [1]\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.starts_with("f.yaml:12:"), "{err}");
        assert!(err.contains("Pod p"), "{err}");
    }

    #[test]
    fn an_env_entry_the_api_server_refuses_is_named_at_its_own_line() {
        let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Deployment\nmetadata: {name: web}\n\
                    spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env:\n        \
                    - {name: A, value: '1'}\n        - name: B=C\n          value: x\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.starts_with("f.yaml:13:"), "{err}");
        assert!(err.contains("env[1] name \"B=C\""), "{err}");
        let json = "{\"kind\": \"List\", \"items\": [\n {\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n  \
                    \"spec\": {\"containers\": [{\"name\": \"c\", \"env\": [\n   {\"value\": \"orphan\"}]}]}}]}";
        let err = parse(json).unwrap_err().to_string();
        assert!(err.starts_with("f.yaml:4:"), "{err}");
        assert!(err.contains("env[0] has no name"), "{err}");
    }

    #[test]
    fn unknown_kinds_of_any_shape_are_counted_not_errors() {
        let text = "kind: List\nitems:\n- kind: Widget\n  spec:\n    containers: 7\n- kind: Service\n  metadata: {name: s}\n- kind: ConfigMap\n  metadata: {name: c}\n  data: {A: '1'}\n";
        let out = parse(text).unwrap();
        assert_eq!(out.skipped_kinds.get("Widget"), Some(&1));
        assert_eq!(out.skipped_kinds.get("Service"), Some(&1));
        assert_eq!(out.objects.len(), 1);
    }

    #[test]
    fn broken_known_item_in_a_list_reports_its_exact_line() {
        let text = "kind: List\nitems:\n- kind: Widget\n  spec:\n    containers: 7\n- kind: ConfigMap\n  metadata: {name: c}\n  data:\n    A: [1, 2]\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.starts_with("f.yaml:9:"), "{err}");
        assert!(err.contains("ConfigMap c (items[1])"), "{err}");
    }

    #[test]
    fn secret_values_are_fingerprinted_and_string_data_wins() {
        // "aHVudGVyMg==" is base64 of "hunter2".
        let text = "kind: Secret\nmetadata: {name: s}\ndata: {A: aHVudGVyMg==, B: aHVudGVyMg==}\nstringData: {B: other}\n";
        let out = parse(text).unwrap();
        let Object::Secret { fingerprints, .. } = &out.objects[0] else {
            panic!("not a secret")
        };
        let key = FingerprintKey::new(b"test", true);
        assert_eq!(fingerprints["A"], key.fingerprint(b"hunter2"));
        assert_eq!(fingerprints["B"], key.fingerprint(b"other"));
    }

    #[test]
    fn secret_type_errors_do_not_echo_the_value() {
        let text = "kind: Secret\nmetadata: {name: s}\ndata:\n  A: {nested: canary-value-123}\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(!err.contains("canary-value-123"), "{err}");
        let text = "kind: Secret\nmetadata: {name: s}\ndata:\n  A: not*base64*canary\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(!err.contains("canary"), "{err}");
        assert!(err.contains("not valid base64"), "{err}");
    }

    #[test]
    fn sanitize_removes_values_but_keeps_the_shape() {
        assert_eq!(
            sanitize("data.A: invalid type: string \"hunter2\", expected a map"),
            "data.A: invalid type: string, expected a map"
        );
        assert_eq!(
            sanitize("invalid type: integer `5`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(sanitize("missing field `name`"), "missing field `name`");
        assert_eq!(
            sanitize("env[0]: invalid type: unit value, expected struct RawEnvVar"),
            "env[0]: invalid type: null, expected struct EnvVar"
        );
    }

    #[test]
    fn cronjob_template_is_read_from_the_job_template() {
        let text = "kind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: '0 1 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            env: [{name: A, value: '1'}]\n";
        let out = parse(text).unwrap();
        let Object::Workload {
            workload_kind,
            template,
            ..
        } = &out.objects[0]
        else {
            panic!("not a workload")
        };
        assert_eq!(*workload_kind, crate::model::WorkloadKind::CronJob);
        assert_eq!(template.containers[0].env[0].name, "A");
    }

    fn workload_of(
        out: &Parsed,
        i: usize,
    ) -> (crate::model::WorkloadKind, &PodSpec, Option<&TemplateRef>) {
        let Object::Workload {
            workload_kind,
            template,
            template_from,
            ..
        } = &out.objects[i]
        else {
            panic!("not a workload: {:?}", out.objects[i])
        };
        (*workload_kind, template, template_from.as_ref())
    }

    #[test]
    fn pod_template_kinds_of_controllers_are_read_by_api_group() {
        use crate::model::WorkloadKind as W;
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: c, env: [{name: A, value: '1'}]}]\n---\napiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata: {name: b}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: apps.kruise.io/v1beta1\nkind: StatefulSet\nmetadata: {name: c}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {ports: [{port: 80}]}\n";
        let out = parse(text).unwrap();
        let kinds: Vec<W> = (0..out.objects.len())
            .map(|i| workload_of(&out, i).0)
            .collect();
        assert_eq!(
            kinds,
            [
                W::Rollout,
                W::CloneSet,
                W::AdvancedStatefulSet,
                W::StatefulSet
            ]
        );
        assert_eq!(out.skipped_kinds.get("Service"), Some(&1));
    }

    #[test]
    fn typed_list_items_take_the_lists_api_group() {
        // What the API server answers for /apis/apps.kruise.io/v1beta1/statefulsets
        // when its items name no apiVersion: not the built-in StatefulSet.
        let text = r#"{"kind":"StatefulSetList","apiVersion":"apps.kruise.io/v1beta1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}}]}"#;
        let out = parse(text).unwrap();
        assert_eq!(
            workload_of(&out, 0).0,
            crate::model::WorkloadKind::AdvancedStatefulSet
        );
        let streamed = parse_streamed(text).unwrap();
        assert_eq!(streamed.objects, out.objects);
    }

    #[test]
    fn knative_unnamed_containers_get_the_names_knative_gives_them() {
        let text = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: hello}\nspec:\n  template:\n    spec:\n      containers:\n      - image: gcr.io/knative-samples/helloworld-go\n        env: [{name: TARGET, value: World}]\n";
        let out = parse(text).unwrap();
        let (kind, template, _) = workload_of(&out, 0);
        assert_eq!(kind, crate::model::WorkloadKind::KnativeService);
        assert_eq!(template.containers[0].name, "user-container");
        // In a List too.
        let list = format!("kind: List\nitems:\n- {}", text.replace('\n', "\n  "));
        let out = parse(&list).unwrap();
        assert_eq!(workload_of(&out, 0).1.containers[0].name, "user-container");
        // A Deployment's container still needs its name.
        let err = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{image: nginx}]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `name`"), "{err}");
    }

    #[test]
    fn a_rollout_with_a_workload_ref_takes_the_template_of_the_named_deployment() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: checkout}\nspec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}\n";
        let out = parse(text).unwrap();
        let (_, template, from) = workload_of(&out, 0);
        assert!(template.containers.is_empty());
        assert_eq!(from.unwrap().name, "checkout");
        let err = parse("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec: {replicas: 1}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has no spec.template.spec (or spec.workloadRef)"),
            "{err}"
        );
    }

    #[test]
    fn secret_producers_yield_the_secret_their_controller_makes() {
        let text = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: shop-db, namespace: shop}\nspec:\n  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  target: {name: shop-db-credentials}\n  data: [{secretKey: password, remoteRef: {key: shop/db, property: password}}]\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: api-key, namespace: shop}\nspec: {data: []}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: merged, namespace: shop}\nspec: {target: {name: existing, creationPolicy: Merge}}\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: sealed, namespace: shop}\nspec:\n  encryptedData: {password: AgBy3i4OJSWK}\n  template: {metadata: {labels: {a: b}}}\n";
        let out = parse(text).unwrap();
        let made: Vec<(&str, &str)> = out
            .objects
            .iter()
            .map(|o| match o {
                Object::ProducedSecret {
                    metadata, made_by, ..
                } => (metadata.name.as_str(), made_by.as_str()),
                o => panic!("{o:?}"),
            })
            .collect();
        assert_eq!(
            made,
            [
                ("shop-db-credentials", "ExternalSecret shop-db"),
                ("api-key", "ExternalSecret api-key"),
                ("sealed", "SealedSecret sealed"),
            ]
        );
        assert!(out.skipped_kinds.is_empty(), "{:?}", out.skipped_kinds);
    }

    #[test]
    fn a_custom_resources_own_spec_data_or_target_does_not_stop_the_typed_parse() {
        // Fields that mean something for ExternalSecret are another shape
        // in other kinds: those are skipped, not errors, and stay on the
        // typed path (a failed typed parse would re-read the whole document).
        let text = "kind: List\nitems:\n- apiVersion: example.com/v1\n  kind: Widget\n  metadata: {name: w}\n  spec:\n    data: {a: 1}\n    target: 7\n    secretName: [x]\n    encryptedData: nope\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data: {A: '1'}\n";
        let streamed = parse_streamed(
            &serde_json::to_string(&serde_yaml::from_str::<serde_json::Value>(text).unwrap())
                .unwrap(),
        );
        let out = streamed.expect("typed path");
        assert_eq!(out.skipped_kinds.get("Widget"), Some(&1));
        assert_eq!(out.objects.len(), 1);
    }

    #[test]
    fn yaml_1_1_octal_file_modes_from_helm_charts_do_not_break_parsing() {
        let text = "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n      volumes:\n      - name: cfg\n        configMap:\n          name: web\n          defaultMode: 0644\n          items: [{key: a, path: a, mode: 0400}]\n";
        let out = parse(text).unwrap();
        assert_eq!(out.objects.len(), 1);
    }

    #[test]
    fn api_server_list_items_without_kind_take_it_from_the_list() {
        let text = r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"a","namespace":"x"},"data":{"K":"v"}}]}"#;
        let out = parse(text).unwrap();
        assert_eq!(out.objects.len(), 1);
        assert_eq!(out.objects[0].kind_name(), "ConfigMap");
    }

    #[test]
    fn finished_pods_are_left_out_and_counted() {
        let text = "kind: Pod\nmetadata: {name: job-abc}\nspec:\n  containers: [{name: c}]\nstatus: {phase: Succeeded}\n";
        let out = parse(text).unwrap();
        assert!(out.objects.is_empty());
        assert_eq!(out.finished_pods, 1);
    }

    #[test]
    fn json_streams_and_lists_parse_with_lines() {
        let text = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n{\"kind\":\"List\",\"items\":[\n{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\"},\"data\":{\"x\":[5]}}]}\n";
        let key = FingerprintKey::new(b"test", true);
        let docs = split_documents(text, "f.json").unwrap();
        assert_eq!(docs.len(), 2);
        let mut out = Parsed::default();
        parse_document(&docs[0], 0, "f.json", &key, &mut out).unwrap();
        let err = parse_document(&docs[1], 1, "f.json", &key, &mut out)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.json:3:"), "{err}");
    }

    #[test]
    fn positions_inside_messages_count_from_the_file_start() {
        let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  K: \"open\n  L: x\n";
        let err = parse(text).unwrap_err().to_string();
        // The quoted scalar opened on line 7 runs to the end of the file.
        assert!(err.starts_with("f.yaml:9:"), "{err}");
        assert!(err.contains("end of stream at line 9"), "{err}");
    }

    /// A manifest with every field confdrift reads, as a Helm chart or
    /// kustomize renders it.
    const EVERY_FIELD: &str = r#"
kind: List
apiVersion: v1
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
    labels: {app.kubernetes.io/name: web, app: web}
    ownerReferences: [{kind: Thing, name: t, controller: true}]
    managedFields: [{manager: m, time: "2026-01-01T00:00:00Z", fieldsV1: {"f:data": {}}}]
  spec:
    template:
      spec:
        resources: {limits: {cpu: "2", memory: 1Gi}, requests: {memory: 1Gi}}
        containers:
        - name: app
          env:
          - {name: A, value: "1"}
          - name: B
            valueFrom:
              configMapKeyRef: {name: cfg, key: b, optional: true}
          - name: C
            valueFrom:
              secretKeyRef: {name: sec, key: c, optional: true}
          - name: D
            valueFrom:
              fieldRef: {fieldPath: metadata.name, apiVersion: v1}
          - name: E
            valueFrom:
              resourceFieldRef: {resource: limits.memory, divisor: 1Mi, containerName: app}
          envFrom:
          - configMapRef: {name: cfg, optional: true}
            prefix: P_
          - secretRef: {name: sec, optional: true}
          volumeMounts:
          - {name: files, mountPath: /etc/app, subPath: app.conf, readOnly: true}
          resources:
            limits: {cpu: 500m, memory: 128Mi}
            requests: {cpu: 100m, memory: 64Mi}
        initContainers:
        - name: init
          env: [{name: I, value: "1"}]
        volumes:
        - name: files
          configMap:
            name: cfg
            optional: true
            items: [{key: b, path: app.conf}]
        - name: creds
          secret: {secretName: sec, optional: true, items: [{key: c, path: c}]}
        - name: both
          projected:
            sources:
            - configMap: {name: cfg, optional: true, items: [{key: b, path: b}]}
            - secret: {name: sec, optional: true}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: nightly, namespace: shop}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers: [{name: job, env: [{name: J, value: "1"}]}]
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop}
  spec:
    containers: [{name: app, env: [{name: A, value: "1"}]}]
  status:
    phase: Running
    containerStatuses: [{name: app, state: {running: {startedAt: "2026-01-01T00:00:00Z"}}}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cfg, namespace: shop}
  data: {b: two}
  binaryData: {bin: aGk=}
- apiVersion: v1
  kind: Secret
  metadata: {name: sec, namespace: shop}
  data: {c: aGk=}
  stringData: {d: plain}
"#;

    /// A step into a generic YAML value.
    #[derive(Clone)]
    enum Step {
        Key(serde_yaml::Value),
        Index(usize),
    }

    /// Every mapping entry in `v`: its path, and `v` with that entry set to
    /// null and with it removed.
    fn variants(v: &serde_yaml::Value) -> Vec<(String, serde_yaml::Value, serde_yaml::Value)> {
        fn paths(v: &serde_yaml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
            match v {
                serde_yaml::Value::Mapping(m) => {
                    for (k, child) in m {
                        at.push(Step::Key(k.clone()));
                        out.push(at.clone());
                        paths(child, at, out);
                        at.pop();
                    }
                }
                serde_yaml::Value::Sequence(items) => {
                    for (i, child) in items.iter().enumerate() {
                        at.push(Step::Index(i));
                        paths(child, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        fn parent<'v>(v: &'v mut serde_yaml::Value, path: &[Step]) -> &'v mut serde_yaml::Value {
            path.iter().fold(v, |v, step| match step {
                Step::Key(k) => &mut v[k],
                Step::Index(i) => &mut v[*i],
            })
        }
        let mut all = Vec::new();
        paths(v, &mut Vec::new(), &mut all);
        all.into_iter()
            .map(|path| {
                let (last, head) = path.split_last().expect("a path to an entry");
                let Step::Key(key) = last else {
                    unreachable!("entries end in a key")
                };
                let name = path
                    .iter()
                    .map(|s| match s {
                        Step::Key(k) => format!(".{}", k.as_str().unwrap_or("?")),
                        Step::Index(i) => format!("[{i}]"),
                    })
                    .collect::<String>();
                let mut nulled = v.clone();
                parent(&mut nulled, head)[key] = serde_yaml::Value::Null;
                let mut removed = v.clone();
                if let Some(m) = parent(&mut removed, head).as_mapping_mut() {
                    m.remove(key);
                }
                (name.trim_start_matches('.').to_string(), nulled, removed)
            })
            .collect()
    }

    #[test]
    fn null_on_any_field_is_read_as_its_absence_in_yaml_and_json() {
        // The API server decodes `null` as the field's absence; kustomize
        // and Helm write `env: null`, `volumeMounts: null` and the like.
        let full: serde_yaml::Value = serde_yaml::from_str(EVERY_FIELD).unwrap();
        let all = variants(&full);
        assert!(all.len() > 100, "{}", all.len());
        for (at, nulled, removed) in all {
            // In a map of strings, `KEY: null` is the key with an empty
            // value (Go's JSON decoding), not an absent key.
            let parent = at.rsplit_once('.').map_or("", |(p, _)| p);
            if ["labels", "data", "stringData", "binaryData"]
                .iter()
                .any(|m| parent.ends_with(m) || parent.contains(&format!("{m}.")))
            {
                continue;
            }
            let yaml = |v: &serde_yaml::Value| serde_yaml::to_string(v).unwrap();
            let json = |v: &serde_yaml::Value| serde_json::to_string_pretty(v).unwrap();
            for (null_text, absent_text) in [
                (yaml(&nulled), yaml(&removed)),
                (json(&nulled), json(&removed)),
            ] {
                let with_null = parse(&null_text);
                let without = parse(&absent_text);
                match (&with_null, &without) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.objects, b.objects, "{at}: null is not absence");
                        assert_eq!(a.skipped_kinds, b.skipped_kinds, "{at}");
                    }
                    (Err(a), Err(_)) => {
                        assert!(!a.to_string().contains("unit value"), "{at}: {a}");
                    }
                    _ => panic!(
                        "{at}: null gives {:?}, absence {:?}",
                        with_null.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                        without.as_ref().map(|_| ()).map_err(|e| e.to_string())
                    ),
                }
            }
        }
    }

    #[test]
    fn every_yaml_spelling_of_null_is_absence() {
        for null in ["null", "~", "", "Null", "NULL"] {
            let text = format!(
                "kind: Deployment\nmetadata:\n  name: web\n  labels: {null}\nspec:\n  template:\n    \
                 spec:\n      volumes: {null}\n      initContainers: {null}\n      containers:\n      \
                 - name: app\n        env: {null}\n        envFrom: {null}\n        volumeMounts: \
                 {null}\n        resources: {null}\n---\nkind: ConfigMap\nmetadata: {{name: c}}\n\
                 data: {null}\n"
            );
            let out = parse(&text).unwrap_or_else(|e| panic!("{null:?}: {e}"));
            assert_eq!(out.objects.len(), 2, "{null:?}");
        }
    }

    #[test]
    fn errors_that_remain_name_the_field_path_in_yaml_and_json() {
        let yaml = "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      \
                    containers:\n      - name: app\n        env:\n        - {name: A, value: '1'}\n        \
                    - {name: B, value: '2'}\n        - name: C\n          valueFrom: [oops]\n";
        let err = parse(yaml).unwrap_err().to_string();
        assert!(
            err.contains("spec.template.spec.containers[0].env[2].valueFrom"),
            "{err}"
        );
        assert!(
            err.starts_with("f.yaml:12:"),
            "the line of the fault: {err}"
        );
        let json = r#"{"kind": "Deployment", "metadata": {"name": "web"},
 "spec": {"template": {"spec": {"containers": [{"name": "app",
   "env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": 7}]}]}}}}"#;
        let err = parse(json).unwrap_err().to_string();
        assert!(
            err.contains("spec.template.spec.containers[0].env[1].valueFrom"),
            "{err}"
        );
        assert!(err.starts_with("f.yaml:3:"), "{err}");
        // In a List, the item is named and the path is the item's.
        let list =
            "kind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: c}\n  data:\n    A: [1]\n";
        let err = parse(list).unwrap_err().to_string();
        assert!(
            err.contains("ConfigMap c (items[0]): items[0].data.A:"),
            "{err}"
        );
    }

    fn rejected(out: &Parsed) -> Vec<RejectedValue> {
        out.objects
            .iter()
            .flat_map(|o| o.meta().rejected.clone())
            .collect()
    }

    #[test]
    fn values_the_api_server_rejects_are_read_as_written_and_located() {
        let text = "kind: ConfigMap\nmetadata: {name: a}\ndata: {OK: '1'}\n---\nkind: ConfigMap\n\
                    metadata:\n  name: cfg\n  labels: {version: 1.0}\ndata:\n  HOST: db\n  PORT: 8080\n  \
                    RATIO: 1.50\n---\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    \
                    spec:\n      containers:\n      - name: app\n        env:\n        - name: A\n          \
                    value: x\n        - name: DEBUG\n          value: true\n";
        let out = parse(text).unwrap();
        let got = rejected(&out);
        let brief: Vec<(&str, &str, &str, Option<&str>)> = got
            .iter()
            .map(|r| {
                (
                    r.location.as_str(),
                    r.field.as_str(),
                    r.written_as.as_str(),
                    r.text.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                ("f.yaml:11", "data.PORT", "an integer", Some("8080")),
                ("f.yaml:12", "data.RATIO", "a number", Some("1.50")),
                (
                    "f.yaml:8",
                    "metadata.labels.version",
                    "a number",
                    Some("1.0")
                ),
                (
                    "f.yaml:25",
                    "spec.template.spec.containers[0].env[1].value",
                    "a boolean",
                    Some("true")
                ),
            ]
        );
        // Compared as written.
        let Object::ConfigMap { data, .. } = &out.objects[1] else {
            panic!()
        };
        assert_eq!(data["RATIO"], "1.50");
        let Object::Workload { template, .. } = &out.objects[2] else {
            panic!()
        };
        assert_eq!(template.containers[0].env[1].value.as_deref(), Some("true"));
        assert_eq!(got[3].container.as_deref(), Some("app"));
        assert_eq!(got[3].key.as_deref(), Some("DEBUG"));
    }

    #[test]
    fn finding_the_lines_of_rejected_values_is_bounded() {
        // Each line is found by reading the document again: past a budget
        // of bytes, values are reported at the document's first line, so a
        // hostile document cannot make confdrift hang.
        let n = LOCATE_BUDGET_BYTES / 200_000 + 50;
        let mut text = String::from("---\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n");
        for i in 0..n {
            text.push_str(&format!("  K{i}: {i}\n"));
        }
        text.push_str(&format!("  PAD: '{}'\n", "x".repeat(200_000)));
        let out = parse(&text).unwrap();
        let got = rejected(&out);
        assert_eq!(got.len(), n);
        let at = |key: &str| {
            got.iter()
                .find(|r| r.key.as_deref() == Some(key))
                .unwrap()
                .location
                .clone()
        };
        assert_eq!(at("K0"), "f.yaml:5");
        let at_start = got.iter().filter(|r| r.location == "f.yaml:1").count();
        let doc_len = text.len() - 4;
        assert_eq!(n - at_start, LOCATE_BUDGET_BYTES / doc_len, "located ones");
    }

    #[test]
    fn json_numbers_where_strings_belong_are_rejected_not_an_error() {
        let text = r#"{"kind": "List", "items": [
  {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"A": "1"}},
  {"kind": "ConfigMap", "metadata": {"name": "cfg"},
   "data": {"PORT": 8080}},
  {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"PIN": 1234}}
]}"#;
        let out = parse(text).unwrap();
        let got = rejected(&out);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].location, "f.yaml:4");
        assert_eq!(got[0].text.as_deref(), Some("8080"));
        // A Secret's value is never kept to be shown.
        assert_eq!(got[1].location, "f.yaml:5");
        assert_eq!(got[1].text, None);
        assert_eq!(got[1].field, "stringData.PIN");
        // The streamed reader leaves such a file to the text path, which
        // can find the lines.
        assert!(parse_streamed(text).is_none());
    }

    #[test]
    fn resources_keep_only_what_the_downward_api_exposes() {
        let text = r#"{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c",
  "resources": {"limits": {"cpu": 1, "memory": "128Mi", "nvidia.com/gpu": 1, "hugepages-2Mi": "4Mi"},
                "claims": [{"name": "x"}]}}]}}"#;
        let out = parse(text).unwrap();
        let Object::Pod { spec, .. } = &out.objects[0] else {
            panic!()
        };
        let r = spec.containers[0].resources.as_deref().unwrap();
        let limits: Vec<(&String, &String)> = r.limits.iter().collect();
        assert_eq!(
            limits,
            [
                (&"cpu".to_string(), &"1".to_string()),
                (&"hugepages-2Mi".to_string(), &"4Mi".to_string()),
                (&"memory".to_string(), &"128Mi".to_string())
            ]
        );
        assert!(r.requests.is_empty());
    }

    #[test]
    fn invalid_yaml_names_file_and_line() {
        let err = parse("kind: ConfigMap\nmetadata:\n  name: [unclosed\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.yaml:"), "{err}");
        assert!(err.contains("invalid YAML"), "{err}");
    }
}

/// Cheap checks of a YAML document before libyaml sees it, so that a small
/// hostile file can neither hang confdrift nor exhaust its memory:
/// libyaml's scanner spends time proportional to the flow nesting depth on
/// every token, and serde_yaml holds every event of a document and replays
/// an anchored node at each alias. One pass over the bytes, knowing just
/// enough YAML (quotes, comments, block scalars, flow brackets), measures
/// the nesting and counts nodes; a document with aliases is then counted
/// exactly, with what each alias expands to, from yaml-rust2's events.
mod yaml_limits {
    use std::collections::HashMap;

    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    use yaml_rust2::scanner::Marker;

    use super::{Document, MAX_NESTING, MAX_YAML_NODES};
    use crate::error::{Error, Result};

    pub(super) fn check(doc: &Document<'_>, path: &str) -> Result<()> {
        let scan = scan(doc.text, MAX_NESTING, MAX_YAML_NODES);
        let at = |line: usize| format!("{path}:{}", doc.line + line - 1);
        if let Some(line) = scan.too_deep_at {
            return Err(Error::input(
                at(line),
                format!(
                    "YAML nested deeper than {MAX_NESTING} levels of `[` and `{{`; \
                     no Kubernetes object is, and parsing it would take minutes"
                ),
            ));
        }
        if let Some(line) = scan.too_many_at {
            return Err(Error::input(
                at(line),
                format!(
                    "this YAML document holds more than {} nodes, the most confdrift reads \
                     in one document (about 100 MB of `kubectl get -o yaml`); split the file, \
                     or dump it with `-o json`, which is read item by item",
                    thousands(MAX_YAML_NODES)
                ),
            ));
        }
        if scan.aliases {
            check_aliases(doc, &at)?;
        }
        Ok(())
    }

    /// `10,000,000`.
    pub(super) fn thousands(n: usize) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    #[derive(Debug, Default, PartialEq)]
    pub(super) struct Scan {
        /// Line (in the document) where the nesting passed the limit.
        pub too_deep_at: Option<usize>,
        /// Line where the node count passed the limit.
        pub too_many_at: Option<usize>,
        /// Whether the document uses `*alias`.
        pub aliases: bool,
    }

    /// Measures flow nesting and counts nodes (scalars, collections,
    /// indicators: about one per libyaml event). Errs on the side of
    /// counting less: a `[` inside a multi-line plain scalar is the only
    /// thing it may take for structure.
    pub(super) fn scan(text: &str, max_depth: usize, max_nodes: usize) -> Scan {
        let mut out = Scan::default();
        let mut depth = 0usize;
        let mut nodes = 0usize;
        // Inside a quoted scalar, which may span lines: its quote.
        let mut quote: Option<u8> = None;
        // Inside a block scalar: lines indented beyond this are its text.
        let mut block: Option<isize> = None;
        // Whether the next character may start a node.
        let mut start = true;
        for (idx, line) in text.split('\n').enumerate() {
            let l = line.as_bytes();
            let indent = l.iter().take_while(|&&c| c == b' ').count();
            if let Some(parent) = block {
                let blank = l[indent..]
                    .iter()
                    .all(|c| matches!(c, b' ' | b'\t' | b'\r'));
                if blank || indent as isize > parent {
                    continue;
                }
                block = None;
            }
            if quote.is_none() && depth == 0 {
                start = true;
            }
            // The column a block scalar's text must be indented beyond: the
            // key or `-` entry it belongs to.
            let mut parent = indent as isize - 1;
            let mut token_col = indent;
            let mut after_space = true;
            // Just after a quoted scalar or a flow collection, where a `:`
            // in flow context is an indicator even without a space.
            let mut json_like = false;
            let mut j = 0;
            while j < l.len() {
                // Fast paths over the bulk of the text, plain words and quoted
                // strings, where only a few bytes can change anything.
                if let Some(q) = quote {
                    let run = l[j..].iter().position(|&b| b == q || b == b'\\');
                    j += run.unwrap_or(l.len() - j);
                    if j == l.len() {
                        break;
                    }
                } else if !start && depth == 0 {
                    let run = l[j..]
                        .iter()
                        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'#' | b':'));
                    let run = run.unwrap_or(l.len() - j);
                    if run > 0 {
                        j += run;
                        after_space = false;
                        json_like = false;
                        continue;
                    }
                }
                let c = l[j];
                if let Some(q) = quote {
                    if q == b'"' && c == b'\\' {
                        j += 2;
                        continue;
                    }
                    if c == q {
                        if q == b'\'' && l.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        quote = None;
                        json_like = true;
                        after_space = false;
                    }
                    j += 1;
                    continue;
                }
                let next = l.get(j + 1).copied();
                let next_blank = next.is_none_or(|n| matches!(n, b' ' | b'\t' | b'\r'));
                match c {
                    b' ' | b'\t' | b'\r' => {
                        after_space = true;
                        j += 1;
                        continue;
                    }
                    b'#' if after_space => break,
                    b'[' | b'{' if depth > 0 || start => {
                        depth += 1;
                        nodes += 2;
                        start = true;
                        json_like = false;
                        if depth > max_depth {
                            out.too_deep_at = Some(idx + 1);
                            return out;
                        }
                    }
                    b']' | b'}' if depth > 0 => {
                        depth -= 1;
                        start = false;
                        json_like = true;
                    }
                    b',' if depth > 0 => {
                        start = true;
                        json_like = false;
                    }
                    b'"' | b'\'' if start => {
                        quote = Some(c);
                        nodes += 1;
                        token_col = j;
                        start = false;
                    }
                    b':' if next_blank
                        || (depth > 0
                            && (json_like || next.is_some_and(|n| b",[]{}".contains(&n)))) =>
                    {
                        nodes += 1;
                        start = true;
                        json_like = false;
                        if depth == 0 {
                            parent = token_col as isize;
                        }
                    }
                    b'-' | b'?' if start && next_blank && depth == 0 => {
                        nodes += 1;
                        parent = j as isize;
                    }
                    b'|' | b'>' if start && depth == 0 => {
                        block = Some(parent);
                        break;
                    }
                    b'&' | b'!' if start => {
                        // An anchor or tag: the node follows it.
                        while j < l.len()
                            && !matches!(l[j], b' ' | b'\t' | b'\r')
                            && !(depth > 0 && b",[]{}".contains(&l[j]))
                        {
                            j += 1;
                        }
                        after_space = false;
                        continue;
                    }
                    b'*' if start => {
                        out.aliases = true;
                        nodes += 1;
                        token_col = j;
                        start = false;
                    }
                    _ => {
                        if start {
                            nodes += 1;
                            token_col = j;
                        }
                        start = false;
                        json_like = false;
                    }
                }
                after_space = false;
                j += 1;
                if nodes > max_nodes {
                    out.too_many_at = Some(idx + 1);
                    return out;
                }
            }
        }
        out
    }

    /// Counts the nodes of a document with every alias expanded.
    struct Expansion {
        nodes: usize,
        /// Open collections: their anchor and the count when they opened.
        open: Vec<(usize, usize)>,
        /// The size of each anchored node.
        sizes: HashMap<usize, usize>,
        over_at: Option<usize>,
    }

    impl MarkedEventReceiver for Expansion {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            if self.over_at.is_some() {
                return;
            }
            match ev {
                Event::Scalar(_, _, anchor, _) => {
                    self.nodes += 1;
                    if anchor > 0 {
                        self.sizes.insert(anchor, 1);
                    }
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    self.open.push((anchor, self.nodes));
                    self.nodes += 1;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((anchor, opened)) = self.open.pop()
                        && anchor > 0
                    {
                        self.sizes.insert(anchor, self.nodes - opened);
                    }
                }
                Event::Alias(id) => {
                    let size = self.sizes.get(&id).copied().unwrap_or(1);
                    self.nodes = self.nodes.saturating_add(size);
                }
                _ => {}
            }
            if self.nodes > MAX_YAML_NODES {
                self.over_at = Some(mark.line().max(1));
            }
        }
    }

    fn check_aliases(doc: &Document<'_>, at: &dyn Fn(usize) -> String) -> Result<()> {
        let mut count = Expansion {
            nodes: 0,
            open: Vec::new(),
            sizes: HashMap::new(),
            over_at: None,
        };
        // Event by event: `Parser::load` recurses once per nesting level.
        let mut parser = Parser::new_from_str(doc.text);
        let parsed = loop {
            match parser.next_token() {
                Ok((ev, mark)) => {
                    let end = ev == Event::StreamEnd;
                    count.on_event(ev, mark);
                    if end || count.over_at.is_some() {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if let Some(line) = count.over_at {
            return Err(Error::input(
                at(line),
                format!(
                    "the aliases (*name) of this YAML document expand it to more than {} \
                     nodes, the most confdrift reads in one document: an alias bomb \
                     (\"billion laughs\")? Kubernetes manifests rarely need aliases",
                    thousands(MAX_YAML_NODES)
                ),
            ));
        }
        if let Err(e) = parsed {
            // serde_yaml would replay the aliases unchecked: refuse instead.
            return Err(Error::input(
                at(e.marker().line().max(1)),
                format!(
                    "invalid YAML: {} (read while checking what the document's aliases \
                     expand to)",
                    e.info()
                ),
            ));
        }
        Ok(())
    }

    /// Whether a JSON document holds more than `limit` values (counted by
    /// their separators, outside strings).
    pub(super) fn json_values_exceed(text: &str, limit: usize) -> bool {
        let mut n = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for &c in text.as_bytes() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                b'"' => in_string = true,
                b',' | b'[' | b'{' | b':' => {
                    n += 1;
                    if n > limit {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn depth_of(text: &str) -> Option<usize> {
            (0..200).find(|d| scan(text, *d, usize::MAX).too_deep_at.is_none())
        }

        #[test]
        fn flow_nesting_is_measured() {
            assert_eq!(depth_of("a: [[1, {b: [2]}]]\n"), Some(4));
            assert_eq!(depth_of("a:\n  - [\n    [1],\n    [2]\n  ]\n"), Some(2));
            assert_eq!(depth_of("{\"a\":[\"b\"]}"), Some(2));
        }

        #[test]
        fn brackets_in_scalars_comments_and_block_text_are_not_nesting() {
            let text = "a: \"[[[[\"\nb: '{{{{ it''s [ '\nc: x[[[[ y\n# [[[[\nd: |\n  [[[[\n  {{{{\n\n  [[\ne: >-\n   [[[\nf: [x] # [[[\ng: \"multi\n  line [[[[ \\\" [[\"\n";
            assert_eq!(depth_of(text), Some(1));
            let text = "- key: |\n    [[[[\n  other: [1]\n- |\n  [[[[\n";
            assert_eq!(depth_of(text), Some(1));
        }

        #[test]
        fn a_block_scalar_ends_where_its_key_does() {
            // `other` is not part of the text: its brackets count.
            let text = "- key: |\n    text\n  other: [[[1]]]\n";
            assert_eq!(depth_of(text), Some(3));
        }

        #[test]
        fn nodes_are_counted_and_aliases_noticed() {
            let s = scan("a: 1\nb: [x, y]\nc: *a\n", 128, usize::MAX);
            assert!(s.aliases);
            let s = scan("a: '*not an alias'\nb: x*y\n", 128, usize::MAX);
            assert!(!s.aliases);
            let s = scan(&"- a\n".repeat(100), 128, 150);
            assert!(s.too_many_at.is_some());
        }

        #[test]
        fn json_values_are_counted_outside_strings() {
            assert!(!json_values_exceed(r#"{"a": "[,,,,]", "b": [1, 2]}"#, 6));
            assert!(json_values_exceed(r#"{"a": "[,,,,]", "b": [1, 2, 3]}"#, 6));
        }
    }
}
