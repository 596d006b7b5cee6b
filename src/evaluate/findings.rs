//! The findings that no policy rule writes: drift no rule speaks to
//! (`unmatched`), a workload, container or ConfigMap missing somewhere,
//! each environment's own issues (dangling references, values the API
//! server rejects, pod skew, stale pods), notes about the policy itself;
//! their order and their counts by severity.

use std::collections::BTreeMap;

use super::{UNMATCHED, display_values};
use crate::display::{short, subject as subject_label, value as display_value};
use crate::model::{Absent, Comparison, ConfigKind, Delta, Finding, Issue, Severity, Value};

pub(super) fn delta_finding(cmp: &Comparison, d: &Delta) -> Finding {
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
    let what = subject_label(&d.subject);
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
            crate::codes::FindingCode::ValueUnresolved.as_str(),
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
            crate::codes::FindingCode::KeyMissing.as_str(),
            format!(
                "{what} is not set in {} (set in {})",
                join(&missing),
                join(&present)
            ),
        )
    } else if secret {
        (
            crate::codes::FindingCode::ValueDiffers.as_str(),
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
            crate::codes::FindingCode::ValueDiffers.as_str(),
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
        key: Some(d.subject.key.to_string()),
        values,
        sources,
        message,
        diff: d.line_diff.clone(),
        waiver: None,
        environments: cmp
            .envs
            .iter()
            .zip(&d.scope_absent)
            .filter(|(_, absent)| !**absent)
            .map(|(e, _)| e.clone())
            .collect(),
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

pub(super) fn absence_finding(a: &crate::model::Absence) -> Finding {
    let (code, workload, container, configmap, what) = match &a.what {
        Absent::Workload { name } => (
            crate::codes::FindingCode::WorkloadMissing.as_str(),
            Some(name.clone()),
            None,
            None,
            format!("workload {name}"),
        ),
        Absent::Container {
            workload,
            container,
        } => (
            crate::codes::FindingCode::ContainerMissing.as_str(),
            Some(workload.clone()),
            Some(container.clone()),
            None,
            format!("container {container} of {workload}"),
        ),
        Absent::ConfigMap { name } => (
            crate::codes::FindingCode::ConfigMapMissing.as_str(),
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
        environments: a.missing_in.clone(),
    }
}

pub(super) fn issue_finding(env: &str, issue: &Issue) -> Finding {
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
            // Always where it was looked for: objects without a namespace
            // (a Helm chart's, applied with `-n`) are one namespace together.
            let ns = if namespace.is_empty() {
                // Files whose objects name no namespace: where `kubectl
                // apply -n NS` would put them is the source's `namespace`.
                " among the objects that name no namespace (if they are applied with -n NS, \
                 give the source ?namespace=NS)"
                    .to_string()
            } else {
                format!(" in namespace {namespace}")
            };
            Finding {
                rule: "dangling-reference".into(),
                environment: Some(env.to_string()),
                code: crate::codes::FindingCode::DanglingReference.into(),
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
                environments: vec![env.to_string()],
            }
        }
        Issue::RejectedByApiServer {
            object,
            workload,
            container,
            configmap,
            kind,
            value,
        } => {
            let shown = value.text.clone().unwrap_or_else(|| "<redacted>".into());
            let fix = match &value.text {
                Some(t) => format!("quote it (\"{t}\")"),
                None => "quote it".to_string(),
            };
            Finding {
                rule: "rejected-by-api-server".into(),
                environment: Some(env.to_string()),
                code: crate::codes::FindingCode::RejectedByApiServer.into(),
                severity: Severity::Critical,
                workload: workload.clone(),
                container: container.clone(),
                configmap: configmap.clone(),
                kind: *kind,
                key: value.key.clone(),
                values: BTreeMap::from([(env.to_string(), Some(shown.clone()))]),
                sources: BTreeMap::from([(env.to_string(), value.location.clone())]),
                message: format!(
                    "{env}: {}: {object} {} is {} ({shown}), where Kubernetes takes only a \
                     string: the API server rejects it and `kubectl apply` fails; {fix}. It is \
                     compared as written.",
                    value.location, value.field, value.written_as
                ),
                diff: None,
                waiver: None,
                environments: vec![env.to_string()],
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
                code: crate::codes::FindingCode::PodSkew.into(),
                severity: Severity::Warning,
                workload: subject.scope.workload().map(str::to_string),
                container: subject.scope.container().map(str::to_string),
                configmap: None,
                kind: Some(subject.kind),
                key: Some(subject.key.to_string()),
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
                environments: vec![env.to_string()],
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
            code: crate::codes::FindingCode::StalePod.into(),
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
            environments: vec![env.to_string()],
        },
    }
}

pub(super) fn policy_note(rule: &str, code: &str, severity: Severity, message: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        environment: None,
        code: code.to_string(),
        severity,
        workload: None,
        container: None,
        configmap: None,
        kind: None,
        key: None,
        values: BTreeMap::new(),
        sources: BTreeMap::new(),
        message,
        diff: None,
        waiver: None,
        environments: Vec::new(),
    }
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
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.environment.cmp(&b.environment))
            .then_with(|| a.waiver.is_some().cmp(&b.waiver.is_some()))
            .then_with(|| a.message.cmp(&b.message))
    });
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
