//! The JSON report, schema `confdrift.report/v1`.
//!
//! These types are the wire format: fields may be added, none renamed or
//! removed. `values` maps every environment to a string, or `null` where the
//! key (or its workload) is absent; Secrets are `<redacted X>` where equal
//! letters mean equal values.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::Report;
use crate::model::{Finding, Problem};

pub const SCHEMA: &str = "confdrift.report/v1";

#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub schema: &'static str,
    pub baseline: &'a str,
    pub environments: Vec<JsonEnvironment<'a>>,
    pub findings: Vec<JsonFinding<'a>>,
    pub summary: JsonSummary,
    /// The policy files applied, merged in this order.
    pub policy: JsonPolicy<'a>,
    /// What the policy kept out of the findings or the gate.
    pub suppressed: JsonSuppressed<'a>,
    /// `--candidate`: the deploy gate's view; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<JsonDeploy<'a>>,
}

/// The deploy gate: `findings` are those of the environments after the
/// deploy, each with `deploy: new|existing`; these are the rest.
#[derive(Serialize)]
pub struct JsonDeploy<'a> {
    /// The environment deployed to.
    pub target: &'a str,
    /// Where the candidate was read from.
    pub candidate: &'a str,
    /// Findings introduced by the deploy, and findings there already.
    pub new: usize,
    pub existing: usize,
    /// Whether findings there already fail the gate too.
    pub fail_on_existing: bool,
    /// Findings of today that the deploy makes go away.
    pub resolved: Vec<JsonFinding<'a>>,
    /// What the deploy changes in the target, key by key.
    pub changes: Vec<JsonChange<'a>>,
}

#[derive(Serialize)]
pub struct JsonChange<'a> {
    pub workload: Option<&'a str>,
    pub container: Option<&'a str>,
    pub configmap: Option<&'a str>,
    pub kind: Option<&'static str>,
    /// `null` for a workload, container or ConfigMap added or removed.
    pub key: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub from_source: Option<&'a str>,
    pub to_source: Option<&'a str>,
    pub diff: Option<&'a str>,
    /// Rules with `changes: true` that watch this key.
    pub watched_by: &'a [String],
}

#[derive(Serialize)]
pub struct JsonPolicy<'a> {
    pub files: &'a [String],
    pub rules: usize,
    pub waivers: usize,
}

#[derive(Serialize)]
pub struct JsonSuppressed<'a> {
    /// Keys hidden by `ignore`, by the pattern that hid them; `drifting`
    /// counts those whose values differ.
    pub ignored: Vec<JsonIgnored<'a>>,
    /// Waived findings (still listed in `findings`), by rule.
    pub waived: &'a BTreeMap<String, usize>,
    /// Keys whose values differ but that a rule's `allow_differ` lets differ, by rule.
    pub allowed: &'a BTreeMap<String, usize>,
    /// Drift no rule speaks to, hidden by `unmatched: ignore`.
    pub unmatched: usize,
    /// Rules that matched nothing and say `stale: ignore`.
    pub stale_rules: &'a [String],
    /// Findings left out because another finding shows the same cause: a
    /// consumed ConfigMap key at its consumers (whose `sources` name the
    /// key), a flagd document as its flags.
    pub same_cause: usize,
}

#[derive(Serialize)]
pub struct JsonIgnored<'a> {
    pub pattern: &'a str,
    pub keys: usize,
    pub drifting: usize,
}

#[derive(Serialize)]
pub struct JsonEnvironment<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub complete: bool,
    pub coverage: JsonCoverage<'a>,
    pub problems: &'a [Problem],
    /// Workloads and ConfigMaps compared under another name (`rename`):
    /// compared name → name in this environment.
    pub renamed: &'a BTreeMap<String, String>,
    /// The workloads seen, by the name they are compared under.
    pub workloads: &'a [String],
}

#[derive(Serialize)]
pub struct JsonCoverage<'a> {
    pub workloads: usize,
    pub containers: usize,
    pub keys: usize,
    pub unresolved: usize,
    pub configmaps: usize,
    /// Objects of kinds confdrift does not read, by kind.
    pub skipped_kinds: &'a BTreeMap<String, usize>,
}

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'a str,
    pub code: &'a str,
    pub severity: &'static str,
    pub environment: Option<&'a str>,
    pub workload: Option<&'a str>,
    pub container: Option<&'a str>,
    pub configmap: Option<&'a str>,
    pub kind: Option<&'static str>,
    pub key: Option<&'a str>,
    pub values: &'a BTreeMap<String, Option<String>>,
    /// Where each environment's value comes from.
    pub sources: &'a BTreeMap<String, String>,
    pub message: &'a str,
    /// Unified line diff of a multi-line value against the baseline.
    pub diff: Option<&'a str>,
    pub waiver: Option<&'a str>,
    /// The environments the finding is about (where a rule's check failed;
    /// for `equal`, every environment compared).
    pub environments: &'a [String],
    /// Deploy gate only: `new` (introduced by this deploy) or `existing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<&'static str>,
}

#[derive(Serialize)]
pub struct JsonSummary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
}

pub fn to_wire(report: &Report) -> JsonReport<'_> {
    JsonReport {
        schema: SCHEMA,
        baseline: &report.baseline,
        environments: report
            .environments
            .iter()
            .map(|e| JsonEnvironment {
                name: &e.name,
                source: &e.source,
                complete: e.complete,
                coverage: JsonCoverage {
                    workloads: e.workloads,
                    containers: e.containers,
                    keys: e.keys,
                    unresolved: e.unresolved,
                    configmaps: e.configmaps,
                    skipped_kinds: &e.skipped_kinds,
                },
                problems: &e.problems,
                renamed: &e.renamed,
                workloads: &e.workload_names,
            })
            .collect(),
        findings: report
            .findings
            .iter()
            .map(|f| {
                let mut wire = finding(f);
                wire.deploy = report
                    .deploy
                    .as_ref()
                    .map(|d| if d.is_existing(f) { "existing" } else { "new" });
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
            files: &report.policy.files,
            rules: report.policy.rules,
            waivers: report.policy.waivers,
        },
        suppressed: JsonSuppressed {
            ignored: report
                .suppressed
                .ignored
                .iter()
                .map(|i| JsonIgnored {
                    pattern: &i.pattern,
                    keys: i.keys,
                    drifting: i.drifting,
                })
                .collect(),
            waived: &report.suppressed.waived,
            allowed: &report.suppressed.allowed,
            unmatched: report.suppressed.unmatched,
            stale_rules: &report.suppressed.stale_ignored,
            same_cause: report.suppressed.same_cause,
        },
        deploy: deploy(report),
    }
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule: &f.rule,
        code: &f.code,
        severity: f.severity.as_str(),
        environment: f.environment.as_deref(),
        workload: f.workload.as_deref(),
        container: f.container.as_deref(),
        configmap: f.configmap.as_deref(),
        kind: f.kind.map(|k| k.as_str()),
        key: f.key.as_deref(),
        values: &f.values,
        sources: &f.sources,
        message: &f.message,
        diff: f.diff.as_deref(),
        waiver: f.waiver.as_deref(),
        environments: &f.environments,
        deploy: None,
    }
}

fn deploy(report: &Report) -> Option<JsonDeploy<'_>> {
    let d = report.deploy.as_ref()?;
    let (new, existing) = d.new_and_existing(&report.findings);
    Some(JsonDeploy {
        target: &d.target,
        candidate: &d.candidate,
        new,
        existing,
        fail_on_existing: d.fail_on_existing,
        resolved: d.resolved.iter().map(finding).collect(),
        changes: d
            .changes
            .iter()
            .map(|c| JsonChange {
                workload: c.workload.as_deref(),
                container: c.container.as_deref(),
                configmap: c.configmap.as_deref(),
                kind: c.kind.map(|k| k.as_str()),
                key: c.key.as_deref(),
                from: c.from.as_deref(),
                to: c.to.as_deref(),
                from_source: c.from_source.as_deref(),
                to_source: c.to_source.as_deref(),
                diff: c.diff.as_deref(),
                watched_by: &c.watched_by,
            })
            .collect(),
    })
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_wire(report))?;
    writeln!(out)
}

/// Where a finding of a JSON report is, for people: `checkout/server`,
/// `configmap/shop-config`, or `""` for findings about the policy itself.
pub fn place(f: &serde_json::Value) -> String {
    match (
        f["workload"].as_str(),
        f["container"].as_str(),
        f["configmap"].as_str(),
    ) {
        (Some(w), Some(c), _) => format!("{w}/{c}"),
        (Some(w), None, _) => w.to_string(),
        (None, _, Some(cm)) => format!("configmap/{cm}"),
        _ => String::new(),
    }
}
