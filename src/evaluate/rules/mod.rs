//! The rule engine: applies every rule of a [`PolicySet`] to every
//! environment's values (not only to the drift: a `DEBUG=true` that is the
//! same everywhere is still forbidden in prod) and to the differences
//! between environments.
//!
//! It produces [`Violation`]s, one per rule, check and subject, each with
//! the environments it was found in, and it records which drift a rule has
//! spoken to, so the evaluate stage knows what is left `unmatched`. It never
//! looks at a Secret's value: a check that needs one says it could not be
//! made.
//!
//! Which subjects a rule looks at is `select`; each environment's value is
//! read once (`values`), then each check judges the readings: `equal`,
//! `presence` (`required`), `values` (`forbid`, `one_of`, `pattern`),
//! `order` (`range`, `tolerance`, `relation`). How findings are worded is
//! `message`.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Entry, Inventory, ScopePresence, Severity, Subject, Value};
use crate::policy::PolicySet;
use crate::policy::model::*;
use crate::policy::units::{Typed, Unit, ValueType};

mod equal;
mod message;
mod order;
mod presence;
mod select;
mod values;

pub use message::{EnvMention, Template};
pub use select::change_watchers;

use message::{skipped_note, stale_message};
use select::{candidates, namespace_of, when_holds};

/// One run's environments, lined up in the comparison's order.
pub struct RunEnvs<'a> {
    pub envs: &'a [String],
    pub baseline: &'a str,
    pub invs: &'a [Inventory],
    pub policy: &'a PolicySet,
    /// Every subject seen in any environment that no `ignore` pattern
    /// hides, in order.
    pub subjects: Vec<SubjectRow<'a>>,
    /// Each subject's entry in each environment, row after row (see
    /// [`RunEnvs::entries`]): one vector for all rows, where a vector per
    /// row was an allocation per subject, hundreds of thousands of them.
    pub cells: Vec<Option<&'a Entry>>,
    /// How many distinct keys and scopes `subjects` has (see [`SubjectRow`]).
    pub distinct_keys: usize,
    pub distinct_scopes: usize,
    /// Subjects hidden by `ignore` (rules never see them).
    pub ignored: BTreeSet<&'a Subject>,
}

/// A subject with its entry in each environment (in `invs` order; see
/// [`crate::model::aligned`]). Its key and scope are numbered, equal ones
/// alike, so that each rule matches each distinct key and scope once.
pub struct SubjectRow<'a> {
    pub subject: &'a Subject,
    /// Where its entries start in [`RunEnvs::cells`].
    pub cells: usize,
    pub key_id: usize,
    pub scope_id: usize,
}

impl<'a> RunEnvs<'a> {
    /// A subject's entry in each environment, in `invs` order.
    pub fn entries(&self, row: &SubjectRow<'a>) -> &[Option<&'a Entry>] {
        &self.cells[row.cells..row.cells + self.invs.len()]
    }
}

/// What one check of one rule found about one subject.
#[derive(Debug, Clone)]
pub struct Violation {
    /// Index into `PolicySet::rules`.
    pub rule: usize,
    pub code: &'static str,
    pub subject: Subject,
    /// Where it was found; each environment can be waived on its own unless
    /// `atomic` (an `equal` finding is about all compared environments).
    pub hits: Vec<EnvMention>,
    pub atomic: bool,
    pub template: Template,
}

/// Which differences of a subject a rule has judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coverage {
    /// Values that differ between environments.
    pub value: bool,
    /// A key set in some environments and not in others.
    pub presence: bool,
}

/// A finding about the policy itself (a stale rule, a check that could not
/// be made in this run).
#[derive(Debug, Clone)]
pub struct PolicyNote {
    pub rule: usize,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct RulesOutcome {
    pub violations: Vec<Violation>,
    pub coverage: BTreeMap<Subject, Coverage>,
    /// Rule index → subjects whose values differ but that `allow_differ` lets differ.
    pub allowed: BTreeMap<usize, BTreeSet<Subject>>,
    pub notes: Vec<PolicyNote>,
    /// Rules that selected nothing but say `stale: ignore`.
    pub stale_ignored: Vec<usize>,
}

/// Applies every rule.
pub fn apply(run: &RunEnvs) -> RulesOutcome {
    let mut out = RulesOutcome::default();
    for (ri, rule) in run.policy.rules.iter().enumerate() {
        apply_rule(run, ri, rule, &mut out);
    }
    out
}

fn apply_rule(run: &RunEnvs, ri: usize, rule: &Rule, out: &mut RulesOutcome) {
    let n = run.envs.len();
    let env_ok: Vec<bool> = run
        .envs
        .iter()
        .map(|e| rule.select.environments.is_empty() || any_match(&rule.select.environments, e))
        .collect();
    if let Some(note) = skipped_note(run, ri, rule) {
        out.notes.push(note);
    }

    let mut selected_any = false;
    let mut scopes = ScopePresence::default();
    for candidate in candidates(run, rule) {
        let subject: &Subject = &candidate.subject;
        let made_up = candidate.entries.is_none();
        let has_scope = scopes.of(run.invs, &subject.scope);
        let scope_envs: Vec<usize> = (0..n).filter(|&i| has_scope[i]).collect();
        let mut sel: Vec<(usize, Option<&Entry>)> = Vec::new();
        for &ei in &scope_envs {
            if !env_ok[ei] {
                continue;
            }
            let inv = &run.invs[ei];
            let entry = match candidate.entries {
                Some(row) => row[ei],
                None => inv.entries.get(subject),
            };
            if !rule.select.namespaces.is_empty()
                && !any_match(&rule.select.namespaces, namespace_of(inv, subject, entry))
            {
                continue;
            }
            if entry.is_some() || made_up {
                selected_any = true;
            }
            if !when_holds(rule, inv, &subject.scope) {
                continue;
            }
            sel.push((ei, entry));
        }
        if !sel.is_empty() {
            check_subject(run, ri, rule, subject, &scope_envs, &sel, out);
        }
    }

    if !selected_any {
        match rule.stale {
            Stale::Ignore => out.stale_ignored.push(ri),
            Stale::Report(severity) => out.notes.push(PolicyNote {
                rule: ri,
                code: crate::codes::FindingCode::StaleRule.as_str(),
                severity,
                message: stale_message(run, rule, &env_ok),
            }),
        }
    }
}

/// How one environment's value reads under a rule.
struct Reading<'e> {
    env: usize,
    entry: Option<&'e Entry>,
    /// The value as the rule's type, when it has (or needs) one and it reads.
    typed: Option<Typed>,
}

impl<'e> Reading<'e> {
    /// The value's text, when it has one (not a Secret, not unresolved).
    fn text(&self) -> Option<&'e str> {
        match self.entry.map(|e| &e.value) {
            Some(Value::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }
}

/// One rule and one subject: what every check of the rule reads.
struct SubjectCheck<'a> {
    run: &'a RunEnvs<'a>,
    ri: usize,
    rule: &'a Rule,
    subject: &'a Subject,
    /// How messages name the subject.
    what: String,
    /// The environments that have the subject's scope, and those of them
    /// the rule selects (its `environments`, `namespaces` and `when`).
    scope_envs: &'a [usize],
    sel_envs: BTreeSet<usize>,
    ty: ValueType,
    unit: Option<Unit>,
    /// Whether values are read as the rule's type.
    needs_typed: bool,
    /// Every selected environment's value, read once.
    readings: Vec<Reading<'a>>,
}

impl SubjectCheck<'_> {
    fn env(&self, i: usize) -> &str {
        self.run.envs[i].as_str()
    }

    /// Whether the rule judged every environment that has the scope.
    fn judged_all(&self, judged: &BTreeSet<usize>) -> bool {
        self.scope_envs.iter().all(|e| judged.contains(e))
    }
}

/// What the checks of one rule found about one subject.
#[derive(Default)]
struct Found {
    violations: Vec<Violation>,
    coverage: Coverage,
    /// Its values differ, but the rule's `allow_differ` lets them.
    allowed: bool,
}

impl Found {
    fn push(
        &mut self,
        sc: &SubjectCheck,
        code: &'static str,
        hits: Vec<EnvMention>,
        atomic: bool,
        template: Template,
    ) {
        if !hits.is_empty() {
            self.violations.push(Violation {
                rule: sc.ri,
                code,
                subject: sc.subject.clone(),
                hits,
                atomic,
                template,
            });
        }
    }
}

fn check_subject(
    run: &RunEnvs,
    ri: usize,
    rule: &Rule,
    subject: &Subject,
    scope_envs: &[usize],
    sel: &[(usize, Option<&Entry>)],
    out: &mut RulesOutcome,
) {
    let ordered_checks = rule.has(|c| {
        matches!(
            c,
            Check::Range { .. } | Check::Tolerance { .. } | Check::Relation(_)
        )
    });
    let mut sc = SubjectCheck {
        run,
        ri,
        rule,
        subject,
        what: crate::display::subject(subject),
        scope_envs,
        sel_envs: sel.iter().map(|(e, _)| *e).collect(),
        ty: rule.ordered_type(),
        unit: rule.unit,
        needs_typed: rule.value_type.is_some() || ordered_checks,
        readings: Vec::new(),
    };
    let mut found = Found::default();
    sc.readings = values::read(&sc, sel, &mut found);

    for check in &rule.checks {
        match check {
            Check::Type | Check::Changes => {}
            Check::Equal { allow_differ } => equal::check(&sc, allow_differ, &mut found),
            Check::Required => presence::required(&sc, &mut found),
            Check::Forbid(lits) => values::forbid(&sc, lits, true, &mut found),
            Check::OneOf(lits) => values::forbid(&sc, lits, false, &mut found),
            Check::Pattern { regex, text } => values::pattern(&sc, regex, text, &mut found),
            Check::Range { min, max } => order::range(&sc, min.as_ref(), max.as_ref(), &mut found),
            Check::Tolerance { amount, baseline } => {
                order::tolerance(&sc, amount, baseline.as_deref(), &mut found)
            }
            Check::Relation(rels) => order::relation(&sc, rels, &mut found),
        }
    }

    let Found {
        violations,
        mut coverage,
        allowed,
    } = found;
    if allowed {
        out.allowed.entry(ri).or_default().insert(subject.clone());
    }
    if !violations.is_empty() {
        coverage.value = true;
        coverage.presence = true;
    }
    let c = out.coverage.entry(subject.clone()).or_default();
    c.value |= coverage.value;
    c.presence |= coverage.presence;
    out.violations.extend(violations);
}
