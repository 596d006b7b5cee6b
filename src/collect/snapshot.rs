//! confdrift snapshots: what was collected for one environment, saved so it
//! can be audited later as a source. Secrets are in it only as fingerprints.

use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::fingerprint::{FingerprintKey, KEY_ENV};
use crate::model::{Collected, Object, PodSpec, Problem, Severity, spec_table};

pub const API_VERSION: &str = "confdrift.io/v1";

/// A snapshot as it is written: `apiVersion`, `kind`, `environment`,
/// `taken`, then `podSpecs` (each distinct pod spec once; pods name theirs
/// by index, see [`spec_table`]) and the [`Collected`] fields. Read by
/// hand ([`Snapshot`]'s `Deserialize`), field by field from a stream, so
/// that a large snapshot is never held whole: serde's `flatten` would
/// buffer all of it first.
#[derive(Debug)]
pub struct Snapshot {
    pub api_version: String,
    pub kind: String,
    pub environment: String,
    /// When, where and by which confdrift it was taken. Absent in snapshots
    /// written before fleets; those can never be checked for age.
    pub taken: Option<Taken>,
    pub collected: Collected,
}

/// The written form of a [`Snapshot`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    api_version: &'a str,
    kind: &'a str,
    environment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    taken: &'a Option<Taken>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pod_specs: &'a [Arc<PodSpec>],
    #[serde(flatten)]
    collected: &'a Collected,
}

/// Every field a snapshot may have; any other is an error, as a typo in a
/// hand-edited snapshot must not pass unnoticed.
const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "environment",
    "taken",
    "podSpecs",
    "source",
    "objects",
    "skippedKinds",
    "problems",
    "files",
    "fingerprintKeyId",
    "unreadable",
    "runtimeEnv",
];

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SnapshotVisitor)
    }
}

struct SnapshotVisitor;

/// A snapshot's `objects`, pods sharing equal specs.
struct Objects(Vec<Object>);

impl<'de> Deserialize<'de> for Objects {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::model::shared_specs(d).map(Objects)
    }
}

fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    field: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(field));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Visitor<'de> for SnapshotVisitor {
    type Value = Snapshot;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a confdrift snapshot")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
        let (mut api_version, mut kind, mut environment, mut taken) = (None, None, None, None);
        let mut pod_specs: Option<Vec<PodSpec>> = None;
        let mut objects: Option<Objects> = None;
        let mut c = Collected::default();
        let (mut source, mut skipped, mut problems, mut files, mut key_id) =
            (None, None, None, None, None);
        let (mut unreadable, mut runtime_env) = (None, None);
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "apiVersion" => once(&mut api_version, "apiVersion", &mut map)?,
                "kind" => once(&mut kind, "kind", &mut map)?,
                "environment" => once(&mut environment, "environment", &mut map)?,
                "taken" => once(&mut taken, "taken", &mut map)?,
                "podSpecs" => once(&mut pod_specs, "podSpecs", &mut map)?,
                "objects" => {
                    if objects.is_some() {
                        return Err(de::Error::duplicate_field("objects"));
                    }
                    // The writer puts `podSpecs` first; a spec index met
                    // before them is an error naming the index.
                    let specs = pod_specs
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|spec| Arc::new(spec.compact()))
                        .collect();
                    objects = Some(spec_table::reading(specs, || map.next_value())?);
                    pod_specs = Some(Vec::new());
                }
                "source" => once(&mut source, "source", &mut map)?,
                "skippedKinds" => once(&mut skipped, "skippedKinds", &mut map)?,
                "problems" => once(&mut problems, "problems", &mut map)?,
                "files" => once(&mut files, "files", &mut map)?,
                "fingerprintKeyId" => once(&mut key_id, "fingerprintKeyId", &mut map)?,
                "unreadable" => once(&mut unreadable, "unreadable", &mut map)?,
                "runtimeEnv" => once(&mut runtime_env, "runtimeEnv", &mut map)?,
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        let missing = |f: &'static str| de::Error::missing_field(f);
        c.source = source.ok_or_else(|| missing("source"))?;
        c.objects = objects.ok_or_else(|| missing("objects"))?.0;
        c.skipped_kinds = skipped.ok_or_else(|| missing("skippedKinds"))?;
        c.problems = problems.ok_or_else(|| missing("problems"))?;
        c.files = files.ok_or_else(|| missing("files"))?;
        c.fingerprint_key_id = key_id.ok_or_else(|| missing("fingerprintKeyId"))?;
        c.unreadable = unreadable.unwrap_or_default();
        c.runtime_env = runtime_env.unwrap_or_default();
        Ok(Snapshot {
            api_version: api_version.ok_or_else(|| missing("apiVersion"))?,
            kind: kind.ok_or_else(|| missing("kind"))?,
            environment: environment.ok_or_else(|| missing("environment"))?,
            taken: taken.unwrap_or_default(),
            collected: c,
        })
    }
}

/// The circumstances of a snapshot (the fingerprint key id is the
/// collection's own `fingerprintKeyId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Taken {
    /// RFC 3339, UTC, from the one clock ([`crate::clock::now`]).
    pub time: String,
    pub confdrift_version: String,
    /// The kubeconfig context (`in-cluster` inside a pod), for live sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The namespaces read (empty: all, or a file source).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

impl Snapshot {
    pub fn new(environment: &str, collected: Collected) -> Self {
        Snapshot {
            api_version: API_VERSION.to_string(),
            kind: super::manifest::SNAPSHOT_KIND.to_string(),
            environment: environment.to_string(),
            taken: None,
            collected,
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Serializing plain data structures into memory cannot fail.
        self.write_json(&mut out).expect("snapshot serializes");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Writes the snapshot as pretty JSON, streaming (an upload reads it
    /// from the other end of a pipe), each distinct pod spec once.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let (pod_specs, at) = spec_table::index(&self.collected.objects);
        let wire = Wire {
            api_version: &self.api_version,
            kind: &self.kind,
            environment: &self.environment,
            taken: &self.taken,
            pod_specs: &pod_specs,
            collected: &self.collected,
        };
        spec_table::writing(at, || serde_json::to_writer_pretty(&mut *out, &wire))
            .map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }

    pub fn parse(text: &str, json: bool) -> Result<Snapshot, String> {
        let snapshot: Snapshot = if json {
            serde_json::from_str(text).map_err(|e| format!("invalid confdrift snapshot: {e}"))?
        } else {
            serde_yaml::from_str(text).map_err(|e| format!("invalid confdrift snapshot: {e}"))?
        };
        if snapshot.api_version != API_VERSION {
            return Err(format!(
                "snapshot apiVersion {} is not supported (this confdrift reads {API_VERSION})",
                snapshot.api_version
            ));
        }
        Ok(snapshot)
    }

    /// Adds the snapshot's objects to an environment being collected.
    pub fn merge_into(self, collected: &mut Collected, key: &FingerprintKey, path: &str) {
        let has_secrets = self
            .collected
            .objects
            .iter()
            .any(|o| matches!(o, Object::Secret { .. }))
            || !self.collected.runtime_env.is_empty();
        if has_secrets && self.collected.fingerprint_key_id != key.id() {
            collected.problems.push(Problem {
                code: crate::codes::ProblemCode::FingerprintKeyMismatch.into(),
                severity: Severity::Warning,
                incomplete: true,
                location: path.to_string(),
                message: format!(
                    "the snapshot's Secret fingerprints were made with key id {}, this run uses \
                     key id {}: its Secret values cannot be compared. Set {KEY_ENV} to the key \
                     used when the snapshot was taken.",
                    self.collected.fingerprint_key_id,
                    key.id()
                ),
            });
        }
        if collected.objects.is_empty() {
            // The usual case, one snapshot: keep its vector, not a copy.
            collected.objects = self.collected.objects;
        } else {
            collected.objects.extend(self.collected.objects);
        }
        collected.problems.extend(self.collected.problems);
        collected.runtime_env.extend(self.collected.runtime_env);
        for (k, n) in self.collected.skipped_kinds {
            *collected.skipped_kinds.entry(k).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, EnvVar, Meta};

    fn pod(name: &str, spec: &Arc<PodSpec>) -> Object {
        Object::Pod {
            metadata: Meta {
                name: name.into(),
                namespace: "shop".into(),
                ..Meta::default()
            },
            spec: spec.clone(),
            status: Default::default(),
        }
    }

    fn spec(value: &str) -> Arc<PodSpec> {
        Arc::new(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                env: vec![EnvVar {
                    name: "DB_POOL_SIZE".into(),
                    value: Some(value.into()),
                    ..EnvVar::default()
                }],
                ..Container::default()
            }],
            ..PodSpec::default()
        })
    }

    fn written(objects: Vec<Object>) -> String {
        let collected = Collected {
            objects,
            ..Collected::default()
        };
        Snapshot::new("prod", collected).to_json()
    }

    #[test]
    fn replicas_are_written_with_one_spec_and_read_back_sharing_it() {
        let (a, b) = (spec("5"), spec("20"));
        // Equal but not shared (read from separate files): still one spec.
        let a_copy = Arc::new((*a).clone());
        let objects = vec![
            pod("web-1", &a),
            pod("web-2", &a),
            pod("web-3", &a_copy),
            pod("web-4", &b),
        ];
        let json = written(objects.clone());
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["podSpecs"].as_array().unwrap().len(), 2, "{json}");
        let specs: Vec<_> = value["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["spec"].as_u64().unwrap())
            .collect();
        assert_eq!(specs, [0, 0, 0, 1]);

        let read = Snapshot::parse(&json, true).unwrap();
        assert_eq!(read.collected.objects, objects);
        let Object::Pod { spec: first, .. } = &read.collected.objects[0] else {
            panic!("a pod")
        };
        let Object::Pod { spec: third, .. } = &read.collected.objects[2] else {
            panic!("a pod")
        };
        assert!(
            Arc::ptr_eq(first, third),
            "replicas share one spec in memory"
        );
    }

    #[test]
    fn snapshots_with_inline_specs_still_read_and_share_them() {
        // The form written before `podSpecs`: every pod carries its spec.
        let json = r#"{"apiVersion": "confdrift.io/v1", "kind": "Snapshot", "environment": "prod",
          "source": "x", "objects": [
            {"kind": "Pod", "metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "app"}]}},
            {"kind": "Pod", "metadata": {"name": "web-2"}, "spec": {"containers": [{"name": "app"}]}}],
          "skippedKinds": {}, "problems": [], "files": 1, "fingerprintKeyId": "k"}"#;
        let read = Snapshot::parse(json, true).unwrap();
        let specs: Vec<&Arc<PodSpec>> = read
            .collected
            .objects
            .iter()
            .filter_map(|o| match o {
                Object::Pod { spec, .. } => Some(spec),
                _ => None,
            })
            .collect();
        assert_eq!(specs.len(), 2);
        assert!(Arc::ptr_eq(specs[0], specs[1]));
        assert_eq!(specs[0].containers[0].name, "app");
    }

    #[test]
    fn a_spec_index_outside_the_table_is_an_error_naming_it() {
        let json = r#"{"apiVersion": "confdrift.io/v1", "kind": "Snapshot", "environment": "prod",
          "source": "x", "podSpecs": [{"containers": []}], "objects": [
            {"kind": "Pod", "metadata": {"name": "web-1"}, "spec": 3}],
          "skippedKinds": {}, "problems": [], "files": 1, "fingerprintKeyId": "k"}"#;
        let err = Snapshot::parse(json, true).unwrap_err();
        assert!(
            err.contains("pod spec 3 is not in the snapshot's podSpecs (it has 1)"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_or_repeated_field_is_an_error() {
        let base = r#""apiVersion": "confdrift.io/v1", "kind": "Snapshot", "environment": "p",
          "source": "x", "objects": [], "skippedKinds": {}, "problems": [], "files": 1,
          "fingerprintKeyId": "k""#;
        let err = Snapshot::parse(&format!("{{{base}, \"objets\": []}}"), true).unwrap_err();
        assert!(err.contains("unknown field `objets`"), "{err}");
        let err = Snapshot::parse(&format!("{{{base}, \"files\": 2}}"), true).unwrap_err();
        assert!(err.contains("duplicate field `files`"), "{err}");
    }
}
