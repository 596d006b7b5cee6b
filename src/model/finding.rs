//! What evaluate makes: findings, with their severity.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;

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
