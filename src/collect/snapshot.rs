//! confdrift snapshots: what was collected for one environment, saved so it
//! can be audited later as a source. Secrets are in it only as fingerprints.

use serde::{Deserialize, Serialize};

use crate::fingerprint::{FingerprintKey, KEY_ENV};
use crate::model::{Collected, Object, Problem, Severity};

pub const API_VERSION: &str = "confdrift.io/v1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    pub api_version: String,
    pub kind: String,
    pub environment: String,
    /// When, where and by which confdrift it was taken. Absent in snapshots
    /// written before fleets; those can never be checked for age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<Taken>,
    #[serde(flatten)]
    pub collected: Collected,
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
    /// from the other end of a pipe).
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
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
                code: "fingerprint-key-mismatch".into(),
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
        collected.objects.extend(self.collected.objects);
        collected.problems.extend(self.collected.problems);
        collected.runtime_env.extend(self.collected.runtime_env);
        for (k, n) in self.collected.skipped_kinds {
            *collected.skipped_kinds.entry(k).or_default() += n;
        }
    }
}
