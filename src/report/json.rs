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
use crate::model::Problem;

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
            .map(|f| JsonFinding {
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
        },
    }
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
