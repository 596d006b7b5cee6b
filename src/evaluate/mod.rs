//! evaluate: turn values, drift and per-environment issues into
//! [`Finding`]s with a severity, as the policies say.
//!
//! Every rule applies to every environment's values and to the drift between
//! them (`rules`). Drift no rule speaks to is reported under the
//! rule `unmatched` with the policy's `unmatched` severity (`info` without a
//! policy); dangling references are `critical` because the pod cannot start
//! (`findings`). Ignores and waivers (`waive`) are applied here, once, for
//! every format and the exit code alike, and what they hid is counted in
//! [`Suppressed`]. Values leave this stage display-ready and redacted
//! (`redact`), so no renderer can leak a Secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{
    Comparison, Delta, Entry, Finding, Inventory, Issue, Scope, Severity, Subject, Value,
};
use crate::normalize::canonical::same;
use crate::policy::Date;
use crate::policy::model::{PolicySet, Unmatched};
use crate::policy::waivers::WaiverBook;
use rules::{Coverage, RunEnvs};

mod codes;
mod consumers;
mod deploy;
mod findings;
mod redact;
mod rules;
mod suppressed;
mod waive;

pub use codes::UNMATCHED;
pub use deploy::{Change, deploy_changes};
pub use findings::{Summary, sort_findings, summarize};
pub use redact::{display_entries, display_values};
pub use suppressed::{IgnoredKeys, Suppressed};

use findings::{absence_finding, delta_finding, issue_finding, policy_note};
use waive::{violation_findings, waive};

/// What the evaluate stage hands to the report.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Most severe first, in a stable order; waived findings included.
    pub findings: Vec<Finding>,
    pub suppressed: Suppressed,
    pub policy: PolicyUse,
}

/// Which policies were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUse {
    pub files: Vec<String>,
    pub rules: usize,
    pub waivers: usize,
    /// Every rule applied, in policy order, for formats that list the
    /// rules checked (SARIF `rules`, a JUnit suite per rule).
    pub rule_list: Vec<RuleInfo>,
}

/// A policy rule as reports describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    /// The rule's `description`, else what it checks on which keys.
    pub description: String,
    /// Where the rule is written: file and line of its `id`.
    pub file: String,
    pub line: usize,
    pub severity: Severity,
}

impl RuleInfo {
    fn of(rule: &crate::policy::model::Rule) -> RuleInfo {
        let description = rule.description.clone().unwrap_or_else(|| {
            let mut keys: Vec<&str> = rule.select.keys.iter().map(|p| p.text.as_str()).collect();
            if let Some((_, text)) = &rule.select.key_regex {
                keys.push(text);
            }
            let checks: Vec<&str> = rule.checks.iter().map(|c| c.name()).collect();
            format!("{}: {}", keys.join(", "), checks.join(", "))
        });
        RuleInfo {
            id: rule.id.clone(),
            description,
            file: rule.at.file.clone(),
            line: rule.id_pos.line,
            severity: rule.severity,
        }
    }
}

/// Applies the policy to one run. `today` decides which waivers have expired.
pub fn evaluate(
    cmp: &Comparison,
    invs: &[Inventory],
    policy: &PolicySet,
    today: Date,
) -> Evaluation {
    let mut suppressed = Suppressed::default();
    let (run, ignored) = line_up(cmp, invs, policy);
    suppressed.ignored = ignored;
    let outcome = rules::apply(&run);
    let mut book = WaiverBook::new(&policy.waivers, today);
    let deltas: BTreeMap<&Subject, &Delta> = cmp.deltas.iter().map(|d| (&d.subject, d)).collect();
    let mut findings = Vec::new();

    for v in &outcome.violations {
        findings.extend(violation_findings(
            &run,
            &deltas,
            v,
            &mut book,
            &mut suppressed,
        ));
    }

    let unmatched = |f: Finding,
                     book: &mut WaiverBook,
                     suppressed: &mut Suppressed,
                     out: &mut Vec<Finding>| match policy.unmatched {
        Unmatched::Ignore => suppressed.unmatched += 1,
        Unmatched::Report(severity) => {
            let mut f = f;
            f.severity = severity;
            waive(book, &mut f, suppressed);
            out.push(f);
        }
    };
    for d in &cmp.deltas {
        if run.ignored.contains(&d.subject) || covered(cmp, d, outcome.coverage.get(&d.subject)) {
            continue;
        }
        unmatched(
            delta_finding(cmp, d),
            &mut book,
            &mut suppressed,
            &mut findings,
        );
    }
    for a in &cmp.absences {
        unmatched(
            absence_finding(a),
            &mut book,
            &mut suppressed,
            &mut findings,
        );
    }
    for inv in invs {
        for issue in &inv.issues {
            if let Issue::Skew { subject, .. } = issue
                && run.ignored.contains(subject)
            {
                continue; // counted as drifting under its ignore pattern
            }
            let mut f = issue_finding(&inv.env, issue);
            waive(&mut book, &mut f, &mut suppressed);
            findings.push(f);
        }
    }

    // Findings about the policy itself: never waived, always shown.
    for note in &outcome.notes {
        findings.push(policy_note(
            &policy.rules[note.rule].id,
            note.code,
            note.severity,
            note.message.clone(),
        ));
    }
    for (rule, code, severity, message) in book.notes() {
        findings.push(policy_note(&rule, code, severity, message));
    }
    suppressed.stale_ignored = outcome
        .stale_ignored
        .iter()
        .map(|&i| policy.rules[i].id.clone())
        .collect();
    for (ri, subjects) in &outcome.allowed {
        suppressed
            .allowed
            .insert(policy.rules[*ri].id.clone(), subjects.len());
    }

    // One cause, one finding: a consumed ConfigMap key drifts where it
    // takes effect.
    let merged = consumers::merge(&mut findings, invs);
    suppressed.same_cause = merged.len();
    for f in merged.iter().filter(|f| f.waiver.is_some()) {
        // Its waiver is used, but the finding it waived is not shown.
        if let Some(n) = suppressed.waived.get_mut(&f.rule) {
            *n -= 1;
            if *n == 0 {
                suppressed.waived.remove(&f.rule);
            }
        }
    }
    sort_findings(&mut findings);
    Evaluation {
        findings,
        suppressed,
        policy: PolicyUse {
            files: policy.files.clone(),
            rules: policy.rules.len(),
            waivers: policy.waivers.len(),
            rule_list: policy.rules.iter().map(RuleInfo::of).collect(),
        },
    }
}

/// The run the rules see: every subject once, in order (and so grouped by
/// scope), with its entry in each environment; and the subjects `ignore`
/// hides from them, counted by the first pattern that matched them.
fn line_up<'a>(
    cmp: &'a Comparison,
    invs: &'a [Inventory],
    policy: &'a PolicySet,
) -> (RunEnvs<'a>, Vec<IgnoredKeys>) {
    let mut drifting: BTreeSet<&Subject> = cmp.deltas.iter().map(|d| &d.subject).collect();
    for inv in invs {
        for issue in &inv.issues {
            if let Issue::Skew { subject, .. } = issue {
                drifting.insert(subject);
            }
        }
    }
    // Keys recur in every workload: each distinct one is numbered and
    // matched against `ignore` once.
    let mut keys: HashMap<&str, (usize, Option<usize>)> = HashMap::new();
    let mut counts: Vec<(usize, usize)> = vec![(0, 0); policy.ignore.len()];
    let mut ignored = BTreeSet::new();
    let mut subjects = Vec::new();
    let mut cells = Vec::new();
    let mut scope_id = 0;
    let mut last_scope: Option<&Scope> = None;
    for (s, entries) in crate::model::aligned(invs) {
        let next_id = keys.len();
        let (key_id, by) = *keys.entry(s.key.as_str()).or_insert_with(|| {
            (
                next_id,
                policy.ignore.iter().position(|p| p.matches(&s.key)),
            )
        });
        match by {
            Some(i) => {
                counts[i].0 += 1;
                if drifting.contains(s) {
                    counts[i].1 += 1;
                }
                ignored.insert(s);
            }
            None => {
                if last_scope.is_some_and(|l| *l != s.scope) {
                    scope_id += 1;
                }
                last_scope = Some(&s.scope);
                subjects.push(rules::SubjectRow {
                    subject: s,
                    cells: cells.len(),
                    key_id,
                    scope_id,
                });
                cells.extend(entries);
            }
        }
    }
    let by_pattern = policy
        .ignore
        .iter()
        .zip(&counts)
        .filter(|(_, (keys, _))| *keys > 0)
        .map(|(p, (keys, drifting))| IgnoredKeys {
            pattern: p.text.clone(),
            keys: *keys,
            drifting: *drifting,
        })
        .collect();
    let run = RunEnvs {
        envs: &cmp.envs,
        baseline: &cmp.baseline,
        invs,
        policy,
        distinct_keys: keys.len(),
        distinct_scopes: scope_id + 1,
        subjects,
        cells,
        ignored,
    };
    (run, by_pattern)
}

/// Whether the rules have spoken to every way a delta differs: its values
/// and, when some environments lack the key, its presence.
fn covered(cmp: &Comparison, d: &Delta, cov: Option<&Coverage>) -> bool {
    let Some(cov) = cov else {
        return false;
    };
    let present: Vec<Option<&Entry>> = d
        .values
        .iter()
        .zip(&d.scope_absent)
        .filter(|(_, absent)| !**absent)
        .map(|(v, _)| v.as_ref())
        .collect();
    let presence_differs =
        present.iter().any(|v| v.is_none()) && present.iter().any(|v| v.is_some());
    let values: Vec<&Value> = present.iter().flatten().map(|e| &e.value).collect();
    let values_differ = values.windows(2).any(|w| !same(d.subject.kind, w[0], w[1]))
        || values.iter().any(|v| matches!(v, Value::Unresolved(_)));
    let _ = cmp;
    (!presence_differs || cov.presence) && (!values_differ || cov.value)
}

#[cfg(test)]
mod tests;
