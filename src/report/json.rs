//! The JSON report, schema `confdrift.report/v1`.
//!
//! These types are the wire format: fields may be added, none renamed or
//! removed. `values` maps every environment to a string, or `null` where the
//! key (or its workload) is absent; Secrets are `<redacted X>` where equal
//! letters mean equal values.
//!
//! The nightly job and its formats (HTML, Prometheus, Markdown) and the
//! history read reports through these same types, never by string keys: a
//! field renamed here fails to compile there, and a stored report that
//! lacks a field is an error that names it. A field added to v1 later is
//! `#[serde(default)]`, so the runs stored before it are still read.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use super::Report;
use crate::model::{ConfigKind, Finding, Problem, Severity};

pub const SCHEMA: &str = "confdrift.report/v1";

/// A whole report. Written by `audit --format json` in field order; the
/// nightly job adds `run` and `history` and writes it with its keys in
/// alphabetical order ([`to_sorted_string`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonReport {
    pub schema: String,
    pub baseline: String,
    pub environments: Vec<JsonEnvironment>,
    pub findings: Vec<JsonFinding>,
    pub summary: JsonSummary,
    /// The policy files applied, merged in this order.
    pub policy: JsonPolicy,
    /// What the policy kept out of the findings or the gate.
    pub suppressed: JsonSuppressed,
    /// `--candidate`: the deploy gate's view; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<JsonDeploy>,
    /// The nightly job (`report --history`): when this run was made.
    /// Every run stored in a history has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<JsonRun>,
    /// The nightly job: what changed since the previous run. Added to the
    /// report it prints, never to the run it stores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<JsonHistory>,
}

/// The deploy gate: `findings` are those of the environments after the
/// deploy, each with `deploy: new|existing`; these are the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonDeploy {
    /// The environment deployed to.
    pub target: String,
    /// Where the candidate was read from.
    pub candidate: String,
    /// Findings introduced by the deploy, and findings there already.
    pub new: usize,
    pub existing: usize,
    /// Whether findings there already fail the gate too.
    pub fail_on_existing: bool,
    /// Findings of today that the deploy makes go away.
    pub resolved: Vec<JsonFinding>,
    /// What the deploy changes in the target, key by key.
    pub changes: Vec<JsonChange>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonChange {
    pub workload: Option<String>,
    pub container: Option<String>,
    pub configmap: Option<String>,
    pub kind: Option<ConfigKind>,
    /// `null` for a workload, container or ConfigMap added or removed.
    pub key: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub from_source: Option<String>,
    pub to_source: Option<String>,
    pub diff: Option<String>,
    /// Rules with `changes: true` that watch this key.
    pub watched_by: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonPolicy {
    pub files: Vec<String>,
    pub rules: usize,
    pub waivers: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonSuppressed {
    /// Keys hidden by `ignore`, by the pattern that hid them; `drifting`
    /// counts those whose values differ.
    pub ignored: Vec<JsonIgnored>,
    /// Waived findings (still listed in `findings`), by rule.
    pub waived: BTreeMap<String, usize>,
    /// Keys whose values differ but that a rule's `allow_differ` lets differ, by rule.
    pub allowed: BTreeMap<String, usize>,
    /// Drift no rule speaks to, hidden by `unmatched: ignore`.
    pub unmatched: usize,
    /// Rules that matched nothing and say `stale: ignore`.
    pub stale_rules: Vec<String>,
    /// Findings left out because another finding shows the same cause: a
    /// consumed ConfigMap key at its consumers (whose `sources` name the
    /// key), a flagd document as its flags. Added to v1 after the first
    /// histories were stored: a run without it read as 0.
    #[serde(default)]
    pub same_cause: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonIgnored {
    pub pattern: String,
    pub keys: usize,
    pub drifting: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonEnvironment {
    pub name: String,
    pub source: String,
    pub complete: bool,
    pub coverage: JsonCoverage,
    pub problems: Vec<Problem>,
    /// Workloads and ConfigMaps compared under another name (`rename`):
    /// compared name → name in this environment.
    pub renamed: BTreeMap<String, String>,
    /// The workloads seen, by the name they are compared under.
    pub workloads: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonCoverage {
    pub workloads: usize,
    pub containers: usize,
    pub keys: usize,
    pub unresolved: usize,
    pub configmaps: usize,
    /// Objects of kinds confdrift does not read, by kind.
    pub skipped_kinds: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonFinding {
    pub rule: String,
    pub code: String,
    pub severity: Severity,
    pub environment: Option<String>,
    pub workload: Option<String>,
    pub container: Option<String>,
    pub configmap: Option<String>,
    pub kind: Option<ConfigKind>,
    pub key: Option<String>,
    /// Every environment's value, `null` where the key (or its workload)
    /// is absent.
    pub values: BTreeMap<String, Option<String>>,
    /// Where each environment's value comes from.
    pub sources: BTreeMap<String, String>,
    pub message: String,
    /// Unified line diff of a multi-line value against the baseline.
    pub diff: Option<String>,
    pub waiver: Option<String>,
    /// The environments the finding is about (where a rule's check failed;
    /// for `equal`, every environment compared).
    pub environments: Vec<String>,
    /// Deploy gate only: `new` (introduced by this deploy) or `existing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployStatus>,
    /// The nightly job only, from here on: the finding's identity across
    /// runs (`history::identity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `new` (not open after the previous run) or `persisting`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// The time of the first run it was seen in, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Whole days since `first_seen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
}

/// Of a finding of the deploy gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    /// Introduced by this deploy.
    New,
    /// There already.
    Existing,
}

/// Of a finding of the nightly job, against the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    New,
    Persisting,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonSummary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
}

/// The nightly job's run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonRun {
    /// RFC 3339.
    pub time: String,
}

/// The nightly job: this run against the previous one, and the runs so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonHistory {
    /// The time of the previous run; `null` on the first.
    pub previous_run: Option<String>,
    pub new: usize,
    pub persisting: usize,
    /// Findings open after the previous run and gone now.
    pub resolved: Vec<JsonResolved>,
    /// Environments or workloads present last time and gone now (or back).
    pub coverage: Vec<String>,
    /// Problems with the history itself (corrupt files skipped, …).
    pub problems: Vec<String>,
    /// Every run of the history, oldest first, this one last.
    pub trend: Vec<JsonTrendRun>,
}

/// A finding of the previous run that is gone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonResolved {
    pub id: String,
    /// A one-line description (the finding itself is gone).
    pub label: String,
    pub severity: String,
    pub first_seen: String,
}

/// One run of a history, as its index keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonTrendRun {
    /// RFC 3339 time of the run.
    pub time: String,
    /// The report file, relative to the history.
    pub file: String,
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
    pub complete: bool,
}

pub fn to_wire(report: &Report) -> JsonReport {
    JsonReport {
        schema: SCHEMA.to_string(),
        baseline: report.baseline.clone(),
        environments: report
            .environments
            .iter()
            .map(|e| JsonEnvironment {
                name: e.name.clone(),
                source: e.source.clone(),
                complete: e.complete,
                coverage: JsonCoverage {
                    workloads: e.workloads,
                    containers: e.containers,
                    keys: e.keys,
                    unresolved: e.unresolved,
                    configmaps: e.configmaps,
                    skipped_kinds: e.skipped_kinds.clone(),
                },
                problems: e.problems.clone(),
                renamed: e.renamed.clone(),
                workloads: e.workload_names.clone(),
            })
            .collect(),
        findings: report
            .findings
            .iter()
            .map(|f| {
                let mut wire = finding(f);
                wire.deploy = report.deploy.as_ref().map(|d| {
                    if d.is_existing(f) {
                        DeployStatus::Existing
                    } else {
                        DeployStatus::New
                    }
                });
                wire
            })
            .collect(),
        summary: JsonSummary {
            critical: report.summary.critical,
            warning: report.summary.warning,
            info: report.summary.info,
            waived: report.summary.waived,
        },
        policy: JsonPolicy {
            files: report.policy.files.clone(),
            rules: report.policy.rules,
            waivers: report.policy.waivers,
        },
        suppressed: JsonSuppressed {
            ignored: report
                .suppressed
                .ignored
                .iter()
                .map(|i| JsonIgnored {
                    pattern: i.pattern.clone(),
                    keys: i.keys,
                    drifting: i.drifting,
                })
                .collect(),
            waived: report.suppressed.waived.clone(),
            allowed: report.suppressed.allowed.clone(),
            unmatched: report.suppressed.unmatched,
            stale_rules: report.suppressed.stale_ignored.clone(),
            same_cause: report.suppressed.same_cause,
        },
        deploy: deploy(report),
        run: None,
        history: None,
    }
}

fn finding(f: &Finding) -> JsonFinding {
    JsonFinding {
        rule: f.rule.clone(),
        code: f.code.clone(),
        severity: f.severity,
        environment: f.environment.clone(),
        workload: f.workload.clone(),
        container: f.container.clone(),
        configmap: f.configmap.clone(),
        kind: f.kind,
        key: f.key.clone(),
        values: f.values.clone(),
        sources: f.sources.clone(),
        message: f.message.clone(),
        diff: f.diff.clone(),
        waiver: f.waiver.clone(),
        environments: f.environments.clone(),
        deploy: None,
        id: None,
        status: None,
        first_seen: None,
        age_days: None,
    }
}

fn deploy(report: &Report) -> Option<JsonDeploy> {
    let d = report.deploy.as_ref()?;
    let (new, existing) = d.new_and_existing(&report.findings);
    Some(JsonDeploy {
        target: d.target.clone(),
        candidate: d.candidate.clone(),
        new,
        existing,
        fail_on_existing: d.fail_on_existing,
        resolved: d.resolved.iter().map(finding).collect(),
        changes: d
            .changes
            .iter()
            .map(|c| JsonChange {
                workload: c.workload.clone(),
                container: c.container.clone(),
                configmap: c.configmap.clone(),
                kind: c.kind,
                key: c.key.clone(),
                from: c.from.clone(),
                to: c.to.clone(),
                from_source: c.from_source.clone(),
                to_source: c.to_source.clone(),
                diff: c.diff.clone(),
                watched_by: c.watched_by.clone(),
            })
            .collect(),
    })
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_wire(report))?;
    writeln!(out)
}

/// The report as the nightly job writes it, to its history and its
/// output: pretty, keys in alphabetical order (it went through
/// `serde_json::Value` from the start), with a final newline.
pub fn to_sorted_string(report: &JsonReport) -> serde_json::Result<String> {
    let value = serde_json::to_value(report)?;
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

impl JsonFinding {
    /// Where the finding is, for people: `checkout/server`,
    /// `configmap/shop-config`, or `""` for findings about the policy
    /// itself.
    pub fn place(&self) -> String {
        match (&self.workload, &self.container, &self.configmap) {
            (Some(w), Some(c), _) => format!("{w}/{c}"),
            (Some(w), None, _) => w.clone(),
            (None, _, Some(cm)) => format!("configmap/{cm}"),
            _ => String::new(),
        }
    }
}

impl JsonReport {
    /// Whether every environment was read completely.
    pub fn complete(&self) -> bool {
        self.environments.iter().all(|e| e.complete)
    }
}
