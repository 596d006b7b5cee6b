//! The deploy gate's view: what a deploy changes in its target
//! environment, and a `changed-by-deploy` finding for each change a
//! `changes: true` rule watches.

use std::collections::BTreeMap;

use super::findings::{absence_finding, delta_finding};
use super::rules::change_watchers;
use super::sort_findings;
use crate::display::{short, subject as subject_label};
use crate::model::{Comparison, ConfigKind, Finding};
use crate::policy::model::PolicySet;

/// One key (or workload) that a deploy changes in its target environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub workload: Option<String>,
    pub container: Option<String>,
    pub configmap: Option<String>,
    pub kind: Option<ConfigKind>,
    /// `None` for a whole workload, container or ConfigMap added or removed.
    pub key: Option<String>,
    /// As the table shows values: Secrets `<redacted …>`; `None`: absent.
    pub from: Option<String>,
    pub to: Option<String>,
    pub from_source: Option<String>,
    pub to_source: Option<String>,
    pub diff: Option<String>,
    /// Rules with `changes: true` that watch this key.
    pub watched_by: Vec<String>,
}

impl Change {
    /// Where the change is, for people: `checkout/server`, `workload
    /// cart`, `configmap/shop-config`.
    pub fn place(&self) -> String {
        match (&self.workload, &self.container, &self.configmap) {
            (Some(w), Some(c), _) => format!("{w}/{c}"),
            (Some(w), None, _) => format!("workload {w}"),
            (None, _, Some(cm)) => format!("configmap/{cm}"),
            _ => String::new(),
        }
    }
}

/// The changes between `cmp.envs[0]` (the target today) and `cmp.envs[1]`
/// (the target after the deploy), and a `changed-by-deploy` finding for
/// each change a `changes: true` rule watches, with that rule's severity.
pub fn deploy_changes(cmp: &Comparison, policy: &PolicySet) -> (Vec<Change>, Vec<Finding>) {
    let (Some(target), Some(after)) = (cmp.envs.first(), cmp.envs.get(1)) else {
        return (Vec::new(), Vec::new());
    };
    let ignored = |key: &str| policy.ignore.iter().any(|p| p.matches(key));
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    for d in &cmp.deltas {
        if ignored(&d.subject.key) {
            continue;
        }
        let f = delta_finding(cmp, d);
        let namespace = d
            .values
            .iter()
            .flatten()
            .map(|e| e.namespace.as_str())
            .next()
            .unwrap_or("");
        let watchers = change_watchers(policy, &d.subject, target, namespace);
        let from = f.values.get(target).cloned().flatten();
        let to = f.values.get(after).cloned().flatten();
        for rule in &watchers {
            let what = subject_label(&d.subject);
            let shown = |v: &Option<String>| match v {
                Some(v) => short(v),
                None => "(not set)".to_string(),
            };
            findings.push(Finding {
                rule: rule.id.clone(),
                environment: Some(target.clone()),
                code: crate::codes::FindingCode::ChangedByDeploy.into(),
                severity: rule.severity_in(target),
                workload: f.workload.clone(),
                container: f.container.clone(),
                configmap: f.configmap.clone(),
                kind: f.kind,
                key: f.key.clone(),
                values: BTreeMap::from([(target.clone(), to.clone())]),
                sources: f
                    .sources
                    .get(after)
                    .map(|s| BTreeMap::from([(target.clone(), s.clone())]))
                    .unwrap_or_default(),
                message: format!(
                    "{what} changes in {target} with this deploy, from {} to {} (rule {} watches \
                     changes)",
                    shown(&from),
                    shown(&to),
                    rule.id
                ),
                diff: f.diff.clone(),
                waiver: None,
                environments: vec![target.clone()],
            });
        }
        changes.push(Change {
            workload: f.workload,
            container: f.container,
            configmap: f.configmap,
            kind: f.kind,
            key: f.key,
            from_source: f.sources.get(target).cloned(),
            to_source: f.sources.get(after).cloned(),
            from,
            to,
            diff: f.diff,
            watched_by: watchers.iter().map(|r| r.id.clone()).collect(),
        });
    }
    for a in &cmp.absences {
        let f = absence_finding(a);
        changes.push(Change {
            workload: f.workload,
            container: f.container,
            configmap: f.configmap,
            kind: None,
            key: None,
            from: f.values.get(target).cloned().flatten(),
            to: f.values.get(after).cloned().flatten(),
            from_source: None,
            to_source: None,
            diff: None,
            watched_by: Vec::new(),
        });
    }
    sort_findings(&mut findings);
    (changes, findings)
}
