//! evaluate: turn values, drift and per-environment issues into
//! [`Finding`]s with a severity, as the policies say.
//!
//! Every rule applies to every environment's values and to the drift between
//! them (`policy::checks`). Drift no rule speaks to is reported under the
//! rule `unmatched` with the policy's `unmatched` severity (`info` without a
//! policy); dangling references are `critical` because the pod cannot start.
//! Ignores and waivers are applied here, once, for every format and the exit
//! code alike, and what they hid is counted in [`Suppressed`]. Values leave
//! this stage display-ready and redacted, so no renderer can leak a Secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::display::{short, subject as subject_label, value as display_value};
use crate::model::{
    Absent, Comparison, ConfigKind, Delta, Entry, Finding, Inventory, Issue, Scope, Severity,
    Subject, Value,
};
use crate::normalize::canonical::{CompareKey, compare_key, same};
use crate::policy::checks::{self, Coverage, Run, Violation};
use crate::policy::model::{PolicySet, Unmatched};
use crate::policy::waivers::{Book, Match, Target};
use crate::policy::{Date, model::Waiver};

mod consumers;

/// The rule id of drift that no policy rule speaks to.
pub const UNMATCHED: &str = "unmatched";

/// Every finding code confdrift emits, with what it means.
pub const CODES: &[(&str, &str)] = &[
    (
        "changed-by-deploy",
        "a key a rule watches with `changes: true` changes in the environment the candidate is deployed to",
    ),
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
        "a value could not be resolved in some environment, so it cannot be compared or checked",
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
        "rejected-by-api-server",
        "a value the API server refuses (a number or boolean where Kubernetes takes a string): `kubectl apply` fails",
    ),
    (
        "pod-skew",
        "pods of one workload in one environment run with different values",
    ),
    (
        "stale-pod",
        "pods started before the ConfigMap or Secret they read changed: they run with old values until restarted",
    ),
    (
        "not-equal",
        "a key that a rule says must be equal differs between the environments the rule compares",
    ),
    (
        "required-missing",
        "a key that a rule requires is not set in an environment",
    ),
    ("forbidden-value", "a value that a rule forbids"),
    (
        "not-one-of",
        "a value that is not one of the values a rule allows",
    ),
    (
        "pattern-mismatch",
        "a value that does not match a rule's pattern",
    ),
    ("out-of-range", "a value outside a rule's range"),
    (
        "out-of-tolerance",
        "a value further from the baseline environment's value than a rule's tolerance allows",
    ),
    (
        "relation-violated",
        "two environments' values are not in the order a rule requires (e.g. prod >= staging)",
    ),
    (
        "value-unreadable",
        "a value cannot be read as the rule's type or unit, so the rule's checks cannot be made (never a silent pass)",
    ),
    (
        "secret-unchecked",
        "a rule's check needs to read a value that comes from a Secret, of which confdrift keeps only a fingerprint",
    ),
    (
        "stale-rule",
        "a rule selects nothing in any environment: a renamed or removed key may have disabled it",
    ),
    (
        "check-skipped",
        "a rule's check names an environment that is not part of this run, so it was not made",
    ),
    (
        "waiver-expired",
        "a waiver's expiry date has passed: it no longer applies",
    ),
    ("waiver-unused", "a waiver matches no finding"),
];

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

/// Everything the policy kept out of the findings (or out of the gate), so
/// nothing is hidden without a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressed {
    /// Keys hidden by `ignore`, by the first pattern that matched them.
    pub ignored: Vec<IgnoredKeys>,
    /// Waived findings, by rule.
    pub waived: BTreeMap<String, usize>,
    /// Keys whose values differ but that a rule's `allow_differ` lets differ, by rule.
    pub allowed: BTreeMap<String, usize>,
    /// Drift no rule speaks to, hidden by `unmatched: ignore`.
    pub unmatched: usize,
    /// Rules that selected nothing and say `stale: ignore`.
    pub stale_ignored: Vec<String>,
    /// Findings left out because another finding shows the same cause: a
    /// consumed ConfigMap key at its consumers, a flagd document as its flags.
    pub same_cause: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredKeys {
    pub pattern: String,
    /// Distinct (workload/container or ConfigMap, kind, key) subjects.
    pub keys: usize,
    /// How many of them differ between (or within) environments.
    pub drifting: usize,
}

impl Suppressed {
    pub fn is_empty(&self) -> bool {
        self.ignored.is_empty()
            && self.waived.is_empty()
            && self.allowed.is_empty()
            && self.unmatched == 0
            && self.stale_ignored.is_empty()
            && self.same_cause == 0
    }

    /// One phrase per kind of suppression, for people.
    pub fn phrases(&self) -> Vec<String> {
        let by = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        if !self.ignored.is_empty() {
            let keys: usize = self.ignored.iter().map(|i| i.keys).sum();
            let drifting: usize = self.ignored.iter().map(|i| i.drifting).sum();
            let each: Vec<String> = self
                .ignored
                .iter()
                .map(|i| format!("{} ×{}", i.pattern, i.keys))
                .collect();
            out.push(format!(
                "{keys} key(s) ignored, {drifting} of them drifting ({})",
                each.join(", ")
            ));
        }
        if !self.waived.is_empty() {
            let n: usize = self.waived.values().sum();
            out.push(format!("{n} finding(s) waived ({})", by(&self.waived)));
        }
        if !self.allowed.is_empty() {
            let n: usize = self.allowed.values().sum();
            out.push(format!(
                "{n} key(s) allowed to differ ({})",
                by(&self.allowed)
            ));
        }
        if self.unmatched > 0 {
            out.push(format!(
                "{} drift(s) no rule speaks to, hidden by `unmatched: ignore`",
                self.unmatched
            ));
        }
        if !self.stale_ignored.is_empty() {
            out.push(format!(
                "{} rule(s) matched nothing and say `stale: ignore` ({})",
                self.stale_ignored.len(),
                self.stale_ignored.join(", ")
            ));
        }
        if self.same_cause > 0 {
            out.push(format!(
                "{} finding(s) of the same cause shown once (ConfigMap keys where they are consumed, flagd documents as their flags)",
                self.same_cause
            ));
        }
        out
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

    // `ignore`: subjects no rule and no report sees, counted by pattern.
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
    // Every subject once, in order (and so grouped by scope).
    let mut subjects = Vec::new();
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
                subjects.push(checks::Row {
                    subject: s,
                    entries,
                    key_id,
                    scope_id,
                });
            }
        }
    }
    suppressed.ignored = policy
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

    let run = Run {
        envs: &cmp.envs,
        baseline: &cmp.baseline,
        invs,
        policy,
        distinct_keys: keys.len(),
        distinct_scopes: scope_id + 1,
        subjects,
        ignored,
    };
    let outcome = checks::apply(&run);
    let mut book = Book::new(&policy.waivers, today);
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
                     book: &mut Book,
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

fn target(f: &Finding) -> Target<'_> {
    Target {
        rule: &f.rule,
        key: f.key.as_deref(),
        kind: f.kind,
        workload: f.workload.as_deref(),
        container: f.container.as_deref(),
        configmap: f.configmap.as_deref(),
    }
}

fn waive(book: &mut Book, f: &mut Finding, suppressed: &mut Suppressed) {
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
fn violation_findings(
    run: &Run,
    deltas: &BTreeMap<&Subject, &Delta>,
    v: &Violation,
    book: &mut Book,
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
        key: Some(subject.key.clone()),
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
    let env = |h: &checks::Hit| run.envs[h.env].as_str();
    // Hits grouped by the waiver that accepts them.
    let mut groups: Vec<(Match, Vec<&checks::Hit>)> = Vec::new();
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

fn policy_note(rule: &str, code: &str, severity: Severity, message: String) -> Finding {
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

/// Display values per environment; Secrets become `<redacted A>`,
/// `<redacted B>`, … so a reader sees which environments share a value and
/// nothing else.
pub fn display_values(cmp: &Comparison, d: &Delta) -> BTreeMap<String, Option<String>> {
    let entries: Vec<Option<&Entry>> = d.values.iter().map(Option::as_ref).collect();
    display_entries(&cmp.envs, d.subject.kind, &entries)
}

/// [`display_values`] for one subject's entries, one slot per environment.
pub fn display_entries(
    envs: &[String],
    kind: ConfigKind,
    entries: &[Option<&Entry>],
) -> BTreeMap<String, Option<String>> {
    let mut labels: Vec<CompareKey> = Vec::new();
    let mut out = BTreeMap::new();
    for (env, v) in envs.iter().zip(entries) {
        let shown = v.map(|e| match &e.value {
            Value::Secret(_) => {
                let k = compare_key(kind, &e.value);
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
        environments: a.missing_in.clone(),
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
                code: "rejected-by-api-server".into(),
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
            environments: vec![env.to_string()],
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

// ---------------------------------------------------------------------------
// deploy gate: what a deploy changes
// ---------------------------------------------------------------------------

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
        let watchers = checks::change_watchers(policy, &d.subject, target, namespace);
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
                code: "changed-by-deploy".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_codes_are_unique_kebab_case_and_described() {
        let mut seen = BTreeSet::new();
        for (code, what) in CODES {
            assert!(seen.insert(*code), "duplicate finding code {code}");
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{code} is not kebab-case"
            );
            assert!(!what.is_empty(), "{code} has no description");
        }
        // Lint diagnostics are another namespace, but must not be confused with findings.
        for (code, _) in crate::policy::diagnostic::LINT_CODES {
            assert!(
                !seen.contains(code) || *code == "waiver-expired",
                "{code} is both a lint code and a finding code"
            );
        }
    }
}
