//! evaluate: turn drift and per-environment issues into [`Finding`]s with a
//! severity.
//!
//! Until a policy speaks to a delta, it is reported under the rule
//! `unmatched` with severity `info`; dangling references are `critical`
//! because the pod cannot start. Values leave this stage display-ready and
//! redacted, so no renderer can leak a Secret.

use std::collections::BTreeMap;

use crate::model::{
    Absent, Comparison, ConfigKind, Delta, Finding, Inventory, Issue, Severity, Value,
};
use crate::normalize::canonical::compare_key;
use crate::normalize::display_value;

/// The rule id of drift that no policy rule speaks to.
pub const UNMATCHED: &str = "unmatched";

/// Every finding code confdrift emits, with what it means.
pub const CODES: &[(&str, &str)] = &[
    (
        "value-differs",
        "a key has different values in different environments",
    ),
    (
        "key-missing",
        "a key is set in some environments and not in others",
    ),
    (
        "value-unresolved",
        "a value could not be resolved in some environment, so it cannot be compared",
    ),
    (
        "workload-missing",
        "a workload exists in some environments only",
    ),
    (
        "container-missing",
        "a container exists in some environments only",
    ),
    (
        "configmap-missing",
        "a ConfigMap exists in some environments only",
    ),
    (
        "dangling-reference",
        "a non-optional reference to a ConfigMap, Secret or key that does not exist: the pod cannot start",
    ),
    (
        "pod-skew",
        "pods of one workload in one environment run with different values",
    ),
    (
        "stale-pod",
        "pods started before a ConfigMap or Secret they read at start changed: they run old values",
    ),
];

/// Findings, most severe first, in a stable order.
pub fn evaluate(cmp: &Comparison, invs: &[Inventory]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for d in &cmp.deltas {
        findings.push(delta_finding(cmp, d));
    }
    for a in &cmp.absences {
        findings.push(absence_finding(a));
    }
    for inv in invs {
        for issue in &inv.issues {
            findings.push(issue_finding(&inv.env, issue));
        }
    }
    sort_findings(&mut findings);
    findings
}

pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.workload.is_none().cmp(&b.workload.is_none()))
            .then_with(|| a.workload.cmp(&b.workload))
            .then_with(|| a.configmap.cmp(&b.configmap))
            .then_with(|| a.container.cmp(&b.container))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.environment.cmp(&b.environment))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Display values per environment; Secrets become `<redacted A>`,
/// `<redacted B>`, … so a reader sees which environments share a value and
/// nothing else.
pub fn display_values(cmp: &Comparison, d: &Delta) -> BTreeMap<String, Option<String>> {
    let mut labels: Vec<crate::normalize::canonical::CompareKey> = Vec::new();
    let mut out = BTreeMap::new();
    for (env, v) in cmp.envs.iter().zip(&d.values) {
        let shown = v.as_ref().map(|e| match &e.value {
            Value::Secret(_) => {
                let k = compare_key(d.subject.kind, &e.value);
                let idx = match labels.iter().position(|l| *l == k) {
                    Some(i) => i,
                    None => {
                        labels.push(k);
                        labels.len() - 1
                    }
                };
                format!("<redacted {}>", label(idx))
            }
            other => display_value(other),
        });
        out.insert(env.clone(), shown);
    }
    out
}

fn label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < letters.len() {
        (letters[i] as char).to_string()
    } else {
        format!("#{}", i + 1)
    }
}

fn delta_finding(cmp: &Comparison, d: &Delta) -> Finding {
    let values = display_values(cmp, d);
    let mut sources = BTreeMap::new();
    for (env, v) in cmp.envs.iter().zip(&d.values) {
        if let Some(e) = v {
            sources.insert(env.clone(), e.provenance.to_string());
        }
    }
    let missing: Vec<&String> = cmp
        .envs
        .iter()
        .zip(d.values.iter().zip(&d.scope_absent))
        .filter(|(_, (v, absent))| v.is_none() && !**absent)
        .map(|(e, _)| e)
        .collect();
    let secret = d.values.iter().flatten().any(|e| e.value.is_secret());
    let what = subject_label(d);
    let unresolved: Vec<(&String, &str)> = cmp
        .envs
        .iter()
        .zip(&d.values)
        .filter_map(|(env, v)| match v.as_ref().map(|e| &e.value) {
            Some(Value::Unresolved(why)) => Some((env, why.as_str())),
            _ => None,
        })
        .collect();
    let (code, message) = if !unresolved.is_empty() {
        let parts: Vec<String> = unresolved
            .iter()
            .map(|(env, why)| format!("{env} ({why})"))
            .collect();
        (
            "value-unresolved",
            format!(
                "{what} cannot be compared: unresolved in {}",
                parts.join(", ")
            ),
        )
    } else if !missing.is_empty() {
        let present: Vec<&String> = cmp
            .envs
            .iter()
            .zip(&d.values)
            .filter(|(_, v)| v.is_some())
            .map(|(e, _)| e)
            .collect();
        (
            "key-missing",
            format!(
                "{what} is not set in {} (set in {})",
                join(&missing),
                join(&present)
            ),
        )
    } else if secret {
        (
            "value-differs",
            format!("{what} differs (secret values are compared by fingerprint only)"),
        )
    } else {
        let shown: Vec<String> = cmp
            .envs
            .iter()
            .zip(&d.values)
            .zip(&d.scope_absent)
            .filter(|(_, absent)| !**absent)
            .filter_map(|((env, v), _)| {
                v.as_ref()
                    .map(|e| format!("{env}={}", short(&display_value(&e.value))))
            })
            .collect();
        (
            "value-differs",
            format!(
                "{what} differs: {} (baseline {})",
                shown.join(", "),
                cmp.baseline
            ),
        )
    };
    Finding {
        rule: UNMATCHED.to_string(),
        environment: None,
        code: code.to_string(),
        severity: Severity::Info,
        workload: d.subject.scope.workload().map(str::to_string),
        container: d.subject.scope.container().map(str::to_string),
        configmap: d.subject.scope.configmap().map(str::to_string),
        kind: Some(d.subject.kind),
        key: Some(d.subject.key.clone()),
        values,
        sources,
        message,
        diff: d.line_diff.clone(),
        waiver: None,
    }
}

fn subject_label(d: &Delta) -> String {
    match d.subject.kind {
        ConfigKind::File => format!("file {}", d.subject.key),
        ConfigKind::ConfigMap => format!(
            "ConfigMap {} key {}",
            d.subject.scope.configmap().unwrap_or(""),
            d.subject.key
        ),
        ConfigKind::Flag => format!("flag {}", d.subject.key),
        ConfigKind::Env => d.subject.key.clone(),
    }
}

/// Long values are cut in messages; the full value is in `values`.
fn short(s: &str) -> String {
    let one_line = s.lines().next().unwrap_or("");
    let multi = s.trim_end().contains('\n');
    let mut out: String = one_line.chars().take(40).collect();
    if out.len() < one_line.len() || multi {
        out.push('…');
    }
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn absence_finding(a: &crate::model::Absence) -> Finding {
    let (code, workload, container, configmap, what) = match &a.what {
        Absent::Workload { name } => (
            "workload-missing",
            Some(name.clone()),
            None,
            None,
            format!("workload {name}"),
        ),
        Absent::Container {
            workload,
            container,
        } => (
            "container-missing",
            Some(workload.clone()),
            Some(container.clone()),
            None,
            format!("container {container} of {workload}"),
        ),
        Absent::ConfigMap { name } => (
            "configmap-missing",
            None,
            None,
            Some(name.clone()),
            format!("ConfigMap {name}"),
        ),
    };
    let mut values = BTreeMap::new();
    for e in &a.present_in {
        values.insert(e.clone(), Some("present".to_string()));
    }
    for e in &a.missing_in {
        values.insert(e.clone(), None);
    }
    Finding {
        rule: UNMATCHED.to_string(),
        environment: None,
        code: code.to_string(),
        severity: Severity::Info,
        workload,
        container,
        configmap,
        kind: None,
        key: None,
        values,
        sources: BTreeMap::new(),
        message: format!(
            "{what} is missing in {} (present in {})",
            a.missing_in.join(", "),
            a.present_in.join(", ")
        ),
        diff: None,
        waiver: None,
    }
}

fn issue_finding(env: &str, issue: &Issue) -> Finding {
    match issue {
        Issue::DanglingReference {
            workload,
            container,
            namespace,
            source,
            referrer,
            key,
        } => {
            let target = match key {
                Some(k) => format!("key {k} of {source}"),
                None => source.clone(),
            };
            let ns = if namespace.is_empty() {
                String::new()
            } else {
                format!(" in namespace {namespace}")
            };
            Finding {
                rule: "dangling-reference".into(),
                environment: Some(env.to_string()),
                code: "dangling-reference".into(),
                severity: Severity::Critical,
                workload: Some(workload.clone()),
                container: Some(container.clone()),
                configmap: None,
                kind: referrer.strip_prefix("env ").map(|_| ConfigKind::Env),
                key: referrer.strip_prefix("env ").map(str::to_string),
                values: BTreeMap::new(),
                sources: BTreeMap::new(),
                message: format!(
                    "{env}: {workload}/{container} refers to {target} ({referrer}), which does not \
                     exist{ns}; the pod cannot start until it does (or the reference is made optional)"
                ),
                diff: None,
                waiver: None,
            }
        }
        Issue::Skew { subject, variants } => {
            let parts: Vec<String> = variants
                .iter()
                .map(|(v, n)| format!("{} pod(s): {}", n, short(v)))
                .collect();
            Finding {
                rule: "pod-skew".into(),
                environment: Some(env.to_string()),
                code: "pod-skew".into(),
                severity: Severity::Warning,
                workload: subject.scope.workload().map(str::to_string),
                container: subject.scope.container().map(str::to_string),
                configmap: None,
                kind: Some(subject.kind),
                key: Some(subject.key.clone()),
                values: BTreeMap::new(),
                sources: BTreeMap::new(),
                message: format!(
                    "{env}: pods of {} disagree on {}: {} (a rollout in progress or stuck?)",
                    subject.scope,
                    subject.key,
                    parts.join("; ")
                ),
                diff: None,
                waiver: None,
            }
        }
        Issue::StalePods {
            workload,
            container,
            source,
            changed,
            started,
            stale,
            pods,
        } => Finding {
            rule: "stale-pod".into(),
            environment: Some(env.to_string()),
            code: "stale-pod".into(),
            severity: Severity::Warning,
            workload: Some(workload.clone()),
            container: Some(container.clone()),
            configmap: None,
            kind: None,
            key: None,
            values: BTreeMap::new(),
            sources: BTreeMap::new(),
            message: format!(
                "{env}: {stale} of {pods} pod(s) of {workload}/{container} started (earliest {started}) \
                 before {source} changed ({changed}); they still run with the old values, \
                 and a restart will change behaviour"
            ),
            diff: None,
            waiver: None,
        },
    }
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
}

pub fn summarize(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        if f.waiver.is_some() {
            s.waived += 1;
            continue;
        }
        match f.severity {
            Severity::Critical => s.critical += 1,
            Severity::Warning => s.warning += 1,
            Severity::Info => s.info += 1,
        }
    }
    s
}
