//! What compare makes: the differences between environments.

use super::*;

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
