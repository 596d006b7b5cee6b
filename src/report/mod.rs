//! report: render an audit's result in the requested format and decide the
//! exit code.
//!
//! [`Report`] is the one display model every format is drawn from; values in
//! it are already redacted. Renderers write to `impl Write`.

pub mod diff;
pub mod html;
pub mod json;
pub mod markdown;
pub mod nightly;
pub mod prometheus;
pub mod table;

use std::collections::BTreeMap;
use std::io::Write;

use crate::evaluate::{PolicyUse, Summary, Suppressed, summarize};
use crate::model::{Finding, Inventory, Problem, Severity};

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// What every format shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub baseline: String,
    /// Environment names in the order they were given.
    pub envs: Vec<String>,
    pub environments: Vec<EnvironmentReport>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// What the policy hid from the findings or the gate (ignored keys,
    /// waived findings, …): every format says it.
    pub suppressed: Suppressed,
    /// Which policy files were applied.
    pub policy: PolicyUse,
}

#[derive(Debug, Clone)]
pub struct EnvironmentReport {
    pub name: String,
    pub source: String,
    pub complete: bool,
    pub workloads: usize,
    pub containers: usize,
    pub keys: usize,
    pub unresolved: usize,
    pub configmaps: usize,
    pub skipped_kinds: BTreeMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Names rewritten by `rename` rules: compared name → name in the cluster.
    pub renamed: BTreeMap<String, String>,
    /// The workloads seen, by the name they are compared under.
    pub workload_names: Vec<String>,
}

impl Report {
    pub fn new(baseline: &str, invs: &[Inventory], findings: Vec<Finding>) -> Self {
        let environments = invs
            .iter()
            .map(|i| EnvironmentReport {
                name: i.env.clone(),
                source: i.source.clone(),
                complete: i.complete(),
                workloads: i.workloads.len(),
                containers: i.workloads.values().map(|w| w.containers.len()).sum(),
                keys: i.entries.len(),
                unresolved: i.unresolved(),
                configmaps: i.configmaps.len(),
                skipped_kinds: i.skipped_kinds.clone(),
                problems: i.problems.clone(),
                renamed: i.renamed.clone(),
                workload_names: i.workloads.keys().cloned().collect(),
            })
            .collect();
        Report {
            baseline: baseline.to_string(),
            envs: invs.iter().map(|i| i.env.clone()).collect(),
            environments,
            summary: summarize(&findings),
            findings,
            suppressed: Suppressed::default(),
            policy: PolicyUse::default(),
        }
    }

    /// The report of an evaluation: its findings and what it suppressed.
    pub fn from_evaluation(
        baseline: &str,
        invs: &[Inventory],
        eval: crate::evaluate::Evaluation,
    ) -> Self {
        let mut report = Report::new(baseline, invs, eval.findings);
        report.suppressed = eval.suppressed;
        report.policy = eval.policy;
        report
    }

    pub fn complete(&self) -> bool {
        self.environments.iter().all(|e| e.complete)
    }

    /// The highest severity of a finding that is not waived.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.waiver.is_none())
            .map(|f| f.severity)
            .max()
    }
}

/// The gate threshold of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Critical => "critical",
            FailOn::Warning => "warning",
            FailOn::Info => "info",
            FailOn::Never => "never",
        }
    }
}

/// Exit codes of the contract (DESIGN.md).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INCOMPLETE: i32 = 3;
}

/// `3` when an environment is incomplete and partial views are not allowed,
/// else `1` when a finding reaches the threshold, else `0`.
pub fn exit_code(report: &Report, fail_on: FailOn, allow_partial: bool) -> i32 {
    if !report.complete() && !allow_partial {
        return exit::INCOMPLETE;
    }
    match (fail_on.threshold(), report.max_severity()) {
        (Some(t), Some(max)) if max >= t => exit::FINDINGS,
        _ => exit::OK,
    }
}

/// Options that change how a report looks, never what it says.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    /// Table width; `None` asks the terminal.
    pub width: Option<u16>,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: Some(100),
        }
    }
}

pub fn render(
    report: &Report,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Markdown => markdown::render(report, out),
    }
}

/// Where a finding is, for people: `checkout/server`, `configmap/shop-config`.
pub fn location(f: &Finding) -> String {
    match (&f.workload, &f.container, &f.configmap) {
        (Some(w), Some(c), _) => format!("{w}/{c}"),
        (Some(w), None, _) => w.clone(),
        (None, _, Some(cm)) => format!("configmap/{cm}"),
        _ => String::new(),
    }
}

/// The key with its kind, for people: `DB_POOL_SIZE`, `flag FEATURE_X`.
pub fn key_label(f: &Finding) -> String {
    use crate::model::ConfigKind;
    match (f.kind, &f.key) {
        (Some(ConfigKind::Env) | None, Some(k)) => k.clone(),
        (Some(ConfigKind::Flag), Some(k)) => format!("flag {k}"),
        (Some(ConfigKind::File), Some(k)) => format!("file {k}"),
        (Some(ConfigKind::ConfigMap), Some(k)) => k.clone(),
        (_, None) => f.code.clone(),
    }
}

/// Whether a finding is about values lined up across environments (shown
/// in the table) rather than about one environment or the policy itself.
pub fn is_cross_env(f: &Finding) -> bool {
    f.environment.is_none() && !is_policy_note(f)
}

/// A finding about the policy rather than the configuration (a stale rule,
/// an expired or unused waiver): no environment and no subject.
pub fn is_policy_note(f: &Finding) -> bool {
    f.environment.is_none() && f.workload.is_none() && f.configmap.is_none() && f.key.is_none()
}

/// `policies/default.yaml (14 rules, 1 waiver)`, or that none was applied.
pub fn policy_line(report: &Report) -> String {
    let p = &report.policy;
    if p.files.is_empty() {
        return "none (every difference is reported as `unmatched`)".to_string();
    }
    format!(
        "{} ({} rule(s), {} waiver(s))",
        p.files.join(", "),
        p.rules,
        p.waivers
    )
}

/// What was suppressed, in one line for people.
pub fn suppressed_line(report: &Report) -> String {
    let phrases = report.suppressed.phrases();
    if phrases.is_empty() {
        "nothing".to_string()
    } else {
        phrases.join("; ")
    }
}
