//! Waivers applied to findings: a rule's violation becomes one finding, or
//! one per waiver that accepts part of it, and every waived finding is
//! counted in [`Suppressed`].

use std::collections::BTreeMap;

use super::rules::{EnvMention, RunEnvs, Violation};
use super::{Suppressed, display_entries};
use crate::model::{Delta, Entry, Finding, Subject};
use crate::policy::model::Waiver;
use crate::policy::waivers::{Match, WaiverBook, WaiverSubject};

fn target(f: &Finding) -> WaiverSubject<'_> {
    WaiverSubject {
        rule: &f.rule,
        key: f.key.as_deref(),
        kind: f.kind,
        workload: f.workload.as_deref(),
        container: f.container.as_deref(),
        configmap: f.configmap.as_deref(),
    }
}

pub(super) fn waive(book: &mut WaiverBook, f: &mut Finding, suppressed: &mut Suppressed) {
    let envs: Vec<&str> = f.environments.iter().map(String::as_str).collect();
    let m = book.lookup(&target(f), &envs);
    let found = book.record(&m).map(Waiver::describe);
    if let Some(w) = found {
        *suppressed.waived.entry(f.rule.clone()).or_default() += 1;
        f.waiver = Some(w);
    }
}

/// A rule's violation as findings: one, or one per waiver that accepts part
/// of it (a waiver for dev does not hide the same problem in prod).
pub(super) fn violation_findings(
    run: &RunEnvs,
    deltas: &BTreeMap<&Subject, &Delta>,
    v: &Violation,
    book: &mut WaiverBook,
    suppressed: &mut Suppressed,
) -> Vec<Finding> {
    let rule = &run.policy.rules[v.rule];
    let subject = &v.subject;
    let entries: Vec<Option<&Entry>> = run.invs.iter().map(|i| i.entries.get(subject)).collect();
    let template = Finding {
        rule: rule.id.clone(),
        environment: None,
        code: v.code.to_string(),
        severity: rule.severity,
        workload: subject.scope.workload().map(str::to_string),
        container: subject.scope.container().map(str::to_string),
        configmap: subject.scope.configmap().map(str::to_string),
        kind: Some(subject.kind),
        key: Some(subject.key.to_string()),
        values: display_entries(run.envs, subject.kind, &entries),
        sources: run
            .envs
            .iter()
            .zip(&entries)
            .filter_map(|(env, e)| e.map(|e| (env.clone(), e.provenance.to_string())))
            .collect(),
        message: String::new(),
        diff: deltas.get(subject).and_then(|d| d.line_diff.clone()),
        waiver: None,
        environments: Vec::new(),
    };
    let env = |h: &EnvMention| run.envs[h.env].as_str();
    // Hits grouped by the waiver that accepts them.
    let mut groups: Vec<(Match, Vec<&EnvMention>)> = Vec::new();
    if v.atomic {
        let envs: Vec<&str> = v.hits.iter().map(env).collect();
        groups.push((
            book.lookup(&target(&template), &envs),
            v.hits.iter().collect(),
        ));
    } else {
        for h in &v.hits {
            let m = book.lookup(&target(&template), &[env(h)]);
            match groups.iter_mut().find(|(g, _)| g.in_force == m.in_force) {
                Some((g, hits)) => {
                    g.expired.extend(m.expired);
                    hits.push(h);
                }
                None => groups.push((m, vec![h])),
            }
        }
    }
    groups
        .into_iter()
        .map(|(m, hits)| {
            let w = book.record(&m);
            let mut f = template.clone();
            f.severity = hits
                .iter()
                .map(|h| rule.severity_in(env(h)))
                .max()
                .unwrap_or(rule.severity);
            f.message = format!("{} (rule {})", v.template.render(run.envs, &hits), rule.id);
            let mut envs: Vec<usize> = hits.iter().map(|h| h.env).collect();
            envs.sort_unstable();
            envs.dedup();
            f.environments = envs.iter().map(|&i| run.envs[i].clone()).collect();
            if let Some(w) = w {
                *suppressed.waived.entry(rule.id.clone()).or_default() += 1;
                f.waiver = Some(w.describe());
            }
            f
        })
        .collect()
}
