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
}

#[derive(Serialize)]
pub struct JsonEnvironment<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub complete: bool,
    pub coverage: JsonCoverage<'a>,
    pub problems: &'a [Problem],
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
            })
            .collect(),
        summary: JsonSummary {
            critical: report.summary.critical,
            warning: report.summary.warning,
            info: report.summary.info,
            waived: report.summary.waived,
        },
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_wire(report))?;
    writeln!(out)
}
