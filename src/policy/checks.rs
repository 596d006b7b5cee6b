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

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::closest;
use super::model::*;
use super::units::{Typed, ValueType, approx_eq, fmt_num, read};
use crate::display::subject as subject_label;
use crate::evaluate::display_entries;
use crate::model::{ConfigKind, Entry, Inventory, Scope, ScopePresence, Severity, Subject, Value};
use crate::normalize::canonical::{CompareKey, compare_key, parse_bool};

/// One run's environments, lined up in the comparison's order.
pub struct Run<'a> {
    pub envs: &'a [String],
    pub baseline: &'a str,
    pub invs: &'a [Inventory],
    pub policy: &'a PolicySet,
    /// Every subject seen in any environment that no `ignore` pattern
    /// hides, in order.
    pub subjects: Vec<Row<'a>>,
    /// How many distinct keys and scopes `subjects` has (see [`Row`]).
    pub distinct_keys: usize,
    pub distinct_scopes: usize,
    /// Subjects hidden by `ignore` (rules never see them).
    pub ignored: BTreeSet<&'a Subject>,
}

/// A subject with its entry in each environment (in `invs` order; see
/// [`crate::model::aligned`]). Its key and scope are numbered, equal ones
/// alike, so that each rule matches each distinct key and scope once.
pub struct Row<'a> {
    pub subject: &'a Subject,
    pub entries: Vec<Option<&'a Entry>>,
    pub key_id: usize,
    pub scope_id: usize,
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
    pub hits: Vec<Hit>,
    pub atomic: bool,
    pub template: Template,
}

#[derive(Debug, Clone)]
pub struct Hit {
    /// Index into `Run::envs`.
    pub env: usize,
    /// How this environment is named in the message: `800 in prod`.
    pub item: String,
}

/// How a violation's message is built from the hits it reports, so a
/// partly waived violation still reads well.
#[derive(Debug, Clone)]
pub enum Template {
    /// `{what} is {items}, {tail}`
    Is { what: String, tail: String },
    /// `{what} is not set in {envs}{tail}`
    NotSet { what: String, tail: String },
    /// `{what} comes from a Secret in {envs}, so {tail}`
    Secret { what: String, tail: String },
    /// `{what} cannot be checked in {items}: the value is unresolved`
    Unresolved { what: String },
    /// A whole message, for atomic violations.
    Whole(String),
}

impl Template {
    pub fn render(&self, envs: &[String], hits: &[&Hit]) -> String {
        let items: Vec<&str> = hits.iter().map(|h| h.item.as_str()).collect();
        let names: Vec<&str> = hits
            .iter()
            .map(|h| envs.get(h.env).map_or("", String::as_str))
            .collect();
        match self {
            Template::Is { what, tail } => format!("{what} is {}, {tail}", and_list(&items)),
            Template::NotSet { what, tail } => {
                format!("{what} is not set in {}{tail}", and_list(&names))
            }
            Template::Secret { what, tail } => format!(
                "{what} comes from a Secret in {}, so {tail}",
                and_list(&names)
            ),
            Template::Unresolved { what } => {
                format!(
                    "{what} cannot be checked in {}: the value is unresolved",
                    and_list(&items)
                )
            }
            Template::Whole(s) => s.clone(),
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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
pub struct Note {
    pub rule: usize,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    pub coverage: BTreeMap<Subject, Coverage>,
    /// Rule index → subjects whose values differ but that `allow_differ` lets differ.
    pub allowed: BTreeMap<usize, BTreeSet<Subject>>,
    pub notes: Vec<Note>,
    /// Rules that selected nothing but say `stale: ignore`.
    pub stale_ignored: Vec<usize>,
}

/// Applies every rule.
pub fn apply(run: &Run) -> Outcome {
    let mut out = Outcome::default();
    for (ri, rule) in run.policy.rules.iter().enumerate() {
        apply_rule(run, ri, rule, &mut out);
    }
    out
}

/// The rules with `changes: true` that watch `subject` in `env` (the
/// environment a candidate is deployed to), in policy order.
pub fn change_watchers<'p>(
    policy: &'p crate::policy::PolicySet,
    subject: &Subject,
    env: &str,
    namespace: &str,
) -> Vec<&'p Rule> {
    policy
        .rules
        .iter()
        .filter(|r| r.has(|c| matches!(c, Check::Changes)))
        .filter(|r| selects(r, subject))
        .filter(|r| r.select.environments.is_empty() || any_match(&r.select.environments, env))
        .filter(|r| r.select.namespaces.is_empty() || any_match(&r.select.namespaces, namespace))
        .collect()
}

fn scope_matches(rule: &Rule, scope: &Scope) -> bool {
    let s = &rule.select;
    match scope {
        Scope::Container {
            workload,
            container,
        } => {
            s.configmaps.is_empty()
                && (s.workloads.is_empty() || any_match(&s.workloads, workload))
                && (s.containers.is_empty() || any_match(&s.containers, container))
        }
        Scope::ConfigMap { name } => {
            s.workloads.is_empty()
                && s.containers.is_empty()
                && (s.configmaps.is_empty() || any_match(&s.configmaps, name))
        }
    }
}

fn key_matches(rule: &Rule, key: &str) -> bool {
    let s = &rule.select;
    (s.keys.is_empty() || any_match(&s.keys, key))
        && s.key_regex.as_ref().is_none_or(|(r, _)| r.is_match(key))
}

fn selects(rule: &Rule, s: &Subject) -> bool {
    key_matches(rule, &s.key)
        && (rule.select.kinds.is_empty() || rule.select.kinds.contains(&s.kind))
        && scope_matches(rule, &s.scope)
}

/// A subject a rule looks at.
struct Candidate<'r> {
    subject: Cow<'r, Subject>,
    /// Its entry in each environment; `None` when it was made up from a
    /// `required` rule's literal key rather than seen in an environment.
    entries: Option<&'r [Option<&'r Entry>]>,
}

/// The subjects a rule looks at, in order.
fn candidates<'r>(run: &'r Run, rule: &Rule) -> Vec<Candidate<'r>> {
    // The same keys and scopes recur in every workload and environment:
    // match each distinct one against the rule's patterns once.
    let sel = &rule.select;
    let key_patterns = !sel.keys.is_empty() || sel.key_regex.is_some();
    // Without scope patterns every scope matches (see `scope_matches`).
    let scope_patterns =
        !(sel.workloads.is_empty() && sel.containers.is_empty() && sel.configmaps.is_empty());
    let mut keys: Vec<Option<bool>> = vec![None; run.distinct_keys];
    let mut scopes: Vec<Option<bool>> = vec![None; run.distinct_scopes];
    let mut out: Vec<Candidate> = run
        .subjects
        .iter()
        .filter(|row| {
            let s = row.subject;
            (sel.kinds.is_empty() || sel.kinds.contains(&s.kind))
                && (!key_patterns
                    || *keys[row.key_id].get_or_insert_with(|| key_matches(rule, &s.key)))
                && (!scope_patterns
                    || *scopes[row.scope_id].get_or_insert_with(|| scope_matches(rule, &s.scope)))
        })
        .map(|row| Candidate {
            subject: Cow::Borrowed(row.subject),
            entries: Some(row.entries.as_slice()),
        })
        .collect();
    let literal_keys = rule.has(|c| matches!(c, Check::Required))
        && rule.select.key_regex.is_none()
        && !rule.select.keys.is_empty()
        && rule.select.keys.iter().all(Pattern::is_literal);
    if !literal_keys {
        return out;
    }
    // `required: true` on named keys: every selected container (or
    // ConfigMap) must have them, even where no environment sets them.
    let kinds = if rule.select.kinds.is_empty() {
        vec![ConfigKind::Env]
    } else {
        rule.select.kinds.clone()
    };
    let mut made_up: BTreeSet<Subject> = BTreeSet::new();
    let mut scopes: BTreeSet<Scope> = BTreeSet::new();
    for inv in run.invs {
        for (w, info) in &inv.workloads {
            for c in &info.containers {
                scopes.insert(Scope::Container {
                    workload: w.clone(),
                    container: c.clone(),
                });
            }
        }
        for cm in &inv.configmaps {
            scopes.insert(Scope::ConfigMap { name: cm.clone() });
        }
    }
    for scope in scopes.iter().filter(|s| scope_matches(rule, s)) {
        for kind in &kinds {
            let fits = matches!(
                (kind, scope),
                (ConfigKind::Env | ConfigKind::File, Scope::Container { .. })
                    | (ConfigKind::ConfigMap, Scope::ConfigMap { .. })
            );
            if !fits {
                continue;
            }
            for key in &rule.select.keys {
                if any_match(&run.policy.ignore, &key.text) {
                    continue;
                }
                let subject = Subject {
                    scope: scope.clone(),
                    kind: *kind,
                    key: key.text.clone(),
                };
                if out
                    .binary_search_by(|c| c.subject.as_ref().cmp(&subject))
                    .is_err()
                {
                    made_up.insert(subject);
                }
            }
        }
    }
    // Two sorted runs: the stable sort merges them.
    out.extend(made_up.into_iter().map(|subject| Candidate {
        subject: Cow::Owned(subject),
        entries: None,
    }));
    out.sort_by(|a, b| a.subject.cmp(&b.subject));
    out
}

/// The namespace a subject lives in, in one environment.
fn namespace_of<'a>(inv: &'a Inventory, subject: &Subject, entry: Option<&'a Entry>) -> &'a str {
    if let Some(e) = entry {
        return &e.namespace;
    }
    match &subject.scope {
        Scope::Container { workload, .. } => inv
            .workloads
            .get(workload)
            .map_or("", |w| w.namespace.as_str()),
        Scope::ConfigMap { .. } => inv
            .entries
            .iter()
            .find(|(s, _)| s.scope == subject.scope)
            .map_or("", |(_, e)| e.namespace.as_str()),
    }
}

/// Whether a rule with `required` checks `subject`'s presence in
/// environment `ei` (the same rule, or another one).
fn presence_judged(run: &Run, subject: &Subject, ei: usize) -> bool {
    let inv = &run.invs[ei];
    let env = run.envs[ei].as_str();
    run.policy.rules.iter().any(|r| {
        r.has(|c| matches!(c, Check::Required))
            && selects(r, subject)
            && (r.select.environments.is_empty() || any_match(&r.select.environments, env))
            && (r.select.namespaces.is_empty()
                || any_match(&r.select.namespaces, namespace_of(inv, subject, None)))
            && when_holds(r, inv, &subject.scope)
    })
}

/// Text equality as a person means it: booleans by meaning, otherwise
/// trimmed and ignoring ASCII case.
fn loosely_equal(value: &str, want: &str) -> bool {
    match (parse_bool(value), parse_bool(want)) {
        (Some(a), Some(b)) => a == b,
        _ => value.trim().eq_ignore_ascii_case(want.trim()),
    }
}

fn when_holds(rule: &Rule, inv: &Inventory, scope: &Scope) -> bool {
    let Some(when) = &rule.when else {
        return true;
    };
    let kinds = match when.kind {
        Some(k) => vec![k],
        None => vec![
            ConfigKind::Env,
            ConfigKind::Flag,
            ConfigKind::ConfigMap,
            ConfigKind::File,
        ],
    };
    let entry = kinds.into_iter().find_map(|kind| {
        inv.entries.get(&Subject {
            scope: scope.clone(),
            kind,
            key: when.key.clone(),
        })
    });
    let text = match entry.map(|e| &e.value) {
        Some(Value::Text(t)) => Some(t.as_str()),
        _ => None,
    };
    match &when.condition {
        Condition::Present(p) => entry.is_some() == *p,
        Condition::Is(want) => text.is_some_and(|t| loosely_equal(t, want)),
        Condition::OneOf(wants) => text.is_some_and(|t| wants.iter().any(|w| loosely_equal(t, w))),
    }
}

fn apply_rule(run: &Run, ri: usize, rule: &Rule, out: &mut Outcome) {
    let n = run.envs.len();
    let env_ok: Vec<bool> = run
        .envs
        .iter()
        .map(|e| rule.select.environments.is_empty() || any_match(&rule.select.environments, e))
        .collect();

    // Checks that name environments this run does not have cannot be made.
    let mut skipped = Vec::new();
    for c in &rule.checks {
        match c {
            Check::Tolerance {
                baseline: Some(b), ..
            } if !run.envs.contains(b) => skipped.push(format!("its tolerance baseline {b}")),
            Check::Relation(rels) => {
                for r in rels {
                    if let Some(e) = [&r.left, &r.right]
                        .into_iter()
                        .find(|e| !run.envs.contains(e))
                    {
                        skipped.push(format!("relation `{r}` (no environment {e})"));
                    }
                }
            }
            _ => {}
        }
    }
    if !skipped.is_empty() {
        out.notes.push(Note {
            rule: ri,
            code: "check-skipped",
            severity: Severity::Info,
            message: format!(
                "rule {}: {} names an environment that is not part of this run ({}), so that check was not made ({})",
                rule.id,
                skipped.join("; "),
                run.envs.join(", "),
                rule.at
            ),
        });
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
            Stale::Report(severity) => out.notes.push(Note {
                rule: ri,
                code: "stale-rule",
                severity,
                message: stale_message(run, rule, &env_ok),
            }),
        }
    }
}

fn stale_message(run: &Run, rule: &Rule, env_ok: &[bool]) -> String {
    let s = &rule.select;
    let mut what = Vec::new();
    if !s.keys.is_empty() {
        let keys: Vec<&str> = s.keys.iter().map(|p| p.text.as_str()).collect();
        what.push(format!("key {}", keys.join(" or ")));
    }
    if let Some((_, text)) = &s.key_regex {
        what.push(format!("key_regex {text}"));
    }
    if !s.kinds.is_empty() {
        let kinds: Vec<&str> = s.kinds.iter().map(|k| k.as_str()).collect();
        what.push(format!("kind {}", kinds.join(" or ")));
    }
    for (name, pats) in [
        ("workload", &s.workloads),
        ("container", &s.containers),
        ("configmap", &s.configmaps),
        ("namespace", &s.namespaces),
    ] {
        if !pats.is_empty() {
            let t: Vec<&str> = pats.iter().map(|p| p.text.as_str()).collect();
            what.push(format!("{name} {}", t.join(" or ")));
        }
    }
    let mut why = format!("nothing matches {}", what.join(", "));
    if !env_ok.iter().any(|b| *b) {
        let pats: Vec<&str> = s.environments.iter().map(|p| p.text.as_str()).collect();
        why = format!(
            "its environments ({}) match none of this run's",
            pats.join(", ")
        );
    } else if run.ignored.iter().any(|subj| selects(rule, subj)) {
        why.push_str(" that is not ignored by the policy's `ignore` list");
    } else {
        let known: BTreeSet<&str> = run
            .subjects
            .iter()
            .map(|r| r.subject.key.as_str())
            .collect();
        let guess = s
            .keys
            .iter()
            .filter(|p| p.is_literal())
            .find_map(|p| closest(&p.text, known.iter().copied()).filter(|g| *g != p.text));
        if let Some(g) = guess {
            why.push_str(&format!(" (did you mean {g}?)"));
        }
    }
    format!(
        "rule {} selects nothing in {}: {why}; a renamed or removed key would silently disable its checks ({})",
        rule.id,
        run.envs.join(", "),
        rule.at
    )
}

/// How one environment's value reads under a rule.
struct Reading<'e> {
    env: usize,
    entry: Option<&'e Entry>,
    /// The value as the rule's type, when it has (or needs) one and it reads.
    typed: Option<Typed>,
}

fn check_subject(
    run: &Run,
    ri: usize,
    rule: &Rule,
    subject: &Subject,
    scope_envs: &[usize],
    sel: &[(usize, Option<&Entry>)],
    out: &mut Outcome,
) {
    let what = subject_label(subject);
    let env = |i: usize| run.envs[i].as_str();
    let ordered_checks = rule.has(|c| {
        matches!(
            c,
            Check::Range { .. } | Check::Tolerance { .. } | Check::Relation(_)
        )
    });
    let needs_typed = rule.value_type.is_some() || ordered_checks;
    let ty = rule.ordered_type();
    let unit = rule.unit;
    let value_checks: Vec<&'static str> = rule
        .checks
        .iter()
        .filter(|c| c.reads_values())
        .map(Check::name)
        .collect();
    let sel_envs: BTreeSet<usize> = sel.iter().map(|(e, _)| *e).collect();
    let presence_only = rule.checks.iter().all(|c| matches!(c, Check::Required));
    let judged_all = |judged: &BTreeSet<usize>| scope_envs.iter().all(|e| judged.contains(e));
    let mut violations: Vec<Violation> = Vec::new();
    let mut push = |code: &'static str, hits: Vec<Hit>, atomic: bool, template: Template| {
        if !hits.is_empty() {
            violations.push(Violation {
                rule: ri,
                code,
                subject: subject.clone(),
                hits,
                atomic,
                template,
            });
        }
    };

    // Read every selected environment's value once.
    let mut readings = Vec::new();
    let mut unreadable = Vec::new();
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    let mut secret = Vec::new();
    let mut unresolved = Vec::new();
    for &(ei, entry) in sel {
        let mut typed = None;
        match entry.map(|e| &e.value) {
            None => {}
            Some(Value::Text(t)) if needs_typed => match read(ty, unit, t) {
                Ok(v) => typed = Some(v),
                Err(why) => {
                    unreadable.push(Hit {
                        env: ei,
                        item: format!("\"{}\" in {}", short(t), env(ei)),
                    });
                    reasons.insert(why);
                }
            },
            Some(Value::Text(_)) => {}
            Some(Value::Secret(_)) if !value_checks.is_empty() => secret.push(Hit {
                env: ei,
                item: env(ei).to_string(),
            }),
            Some(Value::Secret(_)) => {}
            // A presence check is made on an unresolved value too; any
            // other check cannot be.
            Some(Value::Unresolved(why)) if !presence_only => unresolved.push(Hit {
                env: ei,
                item: format!("{} ({why})", env(ei)),
            }),
            Some(Value::Unresolved(_)) => {}
            Some(other) if !value_checks.is_empty() => {
                unreadable.push(Hit {
                    env: ei,
                    item: format!("{} in {}", crate::display::value(other), env(ei)),
                });
                reasons
                    .insert("it is set per pod or is binary, so it has no value to check".into());
            }
            Some(_) => {}
        }
        readings.push(Reading {
            env: ei,
            entry,
            typed,
        });
    }
    // Messages are worded only for what was found: most subjects pass.
    if !unreadable.is_empty() {
        let reason = if reasons.len() == 1 {
            reasons.into_iter().next().unwrap_or_default()
        } else {
            String::new()
        };
        let readable_as = if needs_typed {
            ty.described()
        } else {
            "a value"
        };
        push(
            "value-unreadable",
            unreadable,
            false,
            Template::Is {
                what: what.clone(),
                tail: if reason.is_empty() {
                    format!("which cannot be read as {readable_as}")
                } else {
                    format!("which cannot be read as {readable_as}: {reason}")
                },
            },
        );
    }
    if !secret.is_empty() {
        push(
            "secret-unchecked",
            secret,
            false,
            Template::Secret {
                what: what.clone(),
                tail: format!(
                    "its {} check cannot be made: confdrift keeps only a fingerprint of a Secret value",
                    value_checks.join("/")
                ),
            },
        );
    }
    if !unresolved.is_empty() {
        push(
            "value-unresolved",
            unresolved,
            false,
            Template::Unresolved { what: what.clone() },
        );
    }

    // `45s (45000ms)` when the rule's unit shows the value differently.
    let shown = |t: &str, typed: Option<&Typed>| -> String {
        match (unit, typed) {
            (Some(_), Some(v)) => {
                let norm = v.show(ty, unit);
                if norm == t.trim() || read(ValueType::Number, None, t).is_ok() {
                    short(t)
                } else {
                    format!("{} ({norm})", short(t))
                }
            }
            _ => short(t),
        }
    };

    let mut coverage = Coverage::default();
    for check in &rule.checks {
        match check {
            Check::Type | Check::Changes => {}
            Check::Equal { allow_differ } => {
                let labels = display_entries(
                    run.envs,
                    subject.kind,
                    &(0..run.envs.len())
                        .map(|i| run.invs[i].entries.get(subject))
                        .collect::<Vec<_>>(),
                );
                // What each environment is compared by.
                let mut groups: Vec<(EqKey, Vec<usize>, String)> = Vec::new();
                for r in &readings {
                    let key = match r.entry.map(|e| &e.value) {
                        // One cause, one finding: where a `required` rule
                        // judges the key's presence, its absence is that
                        // rule's finding, at that rule's severity there.
                        None if presence_judged(run, subject, r.env) => continue,
                        None => EqKey::Absent,
                        Some(Value::Unresolved(_)) => continue,
                        Some(Value::Text(_)) if rule.value_type.is_some() => match &r.typed {
                            Some(t) => EqKey::Typed(t.clone()),
                            None => continue,
                        },
                        Some(v) => EqKey::Key(compare_key(subject.kind, v)),
                    };
                    let display = match &key {
                        EqKey::Absent => "not set".to_string(),
                        _ => labels
                            .get(env(r.env))
                            .cloned()
                            .flatten()
                            .map(|s| short(&s))
                            .unwrap_or_default(),
                    };
                    match groups.iter_mut().find(|(k, _, _)| k.same(&key)) {
                        Some((k, envs, shown)) => {
                            if *shown != display {
                                // Same meaning, different spelling (`30s`, `30000`).
                                *shown = match k {
                                    EqKey::Typed(t) => t.show(ty, unit),
                                    EqKey::Key(CompareKey::Text(c)) => short(c),
                                    _ => shown.clone(),
                                };
                            }
                            envs.push(r.env);
                        }
                        None => groups.push((key, vec![r.env], display)),
                    }
                }
                let compared: Vec<usize> = groups
                    .iter()
                    .flat_map(|(_, e, _)| e.iter().copied())
                    .collect();
                if groups.len() > 1 {
                    if any_match(allow_differ, &subject.key) {
                        out.allowed.entry(ri).or_default().insert(subject.clone());
                    } else {
                        let parts: Vec<String> = groups
                            .iter()
                            .map(|(k, envs, shown)| {
                                let names: Vec<&str> = envs.iter().map(|&e| env(e)).collect();
                                match k {
                                    EqKey::Absent => format!("not set in {}", and_list(&names)),
                                    _ => format!("{shown} in {}", and_list(&names)),
                                }
                            })
                            .collect();
                        let mut names: Vec<usize> = compared.clone();
                        names.sort_unstable();
                        let all: Vec<&str> = names.iter().map(|&e| env(e)).collect();
                        push(
                            "not-equal",
                            names
                                .iter()
                                .map(|&e| Hit {
                                    env: e,
                                    item: env(e).to_string(),
                                })
                                .collect(),
                            true,
                            Template::Whole(format!(
                                "{what} must be the same in {}, but is {}",
                                and_list(&all),
                                parts.join(", ")
                            )),
                        );
                    }
                }
                if judged_all(&sel_envs) {
                    coverage.value = true;
                    coverage.presence = true;
                }
            }
            Check::Required => {
                let hits: Vec<Hit> = readings
                    .iter()
                    .filter(|r| r.entry.is_none())
                    .map(|r| Hit {
                        env: r.env,
                        item: env(r.env).to_string(),
                    })
                    .collect();
                if !hits.is_empty() {
                    let set_in: Vec<&str> = (0..run.envs.len())
                        .filter(|&i| run.invs[i].entries.contains_key(subject))
                        .map(env)
                        .collect();
                    let tail = if set_in.is_empty() {
                        ", and in no other environment".to_string()
                    } else {
                        format!(" (it is set in {})", and_list(&set_in))
                    };
                    push(
                        "required-missing",
                        hits,
                        false,
                        Template::NotSet {
                            what: what.clone(),
                            tail,
                        },
                    );
                }
                if judged_all(&sel_envs) {
                    coverage.presence = true;
                }
            }
            Check::Forbid(lits) | Check::OneOf(lits) => {
                let forbid = matches!(check, Check::Forbid(_));
                let mut hits = Vec::new();
                for r in &readings {
                    let Some(t) = text_of(r) else { continue };
                    let matched = if rule.value_type.is_some() {
                        let Some(v) = &r.typed else { continue };
                        lits.iter()
                            .any(|l| l.typed.as_ref().is_some_and(|lt| lt.same(v)))
                    } else {
                        lits.iter().any(|l| loosely_equal(t, &l.text))
                    };
                    if matched == forbid {
                        hits.push(Hit {
                            env: r.env,
                            item: format!("{} in {}", shown(t, r.typed.as_ref()), env(r.env)),
                        });
                    }
                }
                let listed: Vec<&str> = lits.iter().map(|l| l.text.as_str()).collect();
                if forbid {
                    push(
                        "forbidden-value",
                        hits,
                        false,
                        Template::Is {
                            what: what.clone(),
                            tail: format!("a forbidden value (forbidden: {})", listed.join(", ")),
                        },
                    );
                } else {
                    push(
                        "not-one-of",
                        hits,
                        false,
                        Template::Is {
                            what: what.clone(),
                            tail: format!("not one of the allowed values {}", listed.join(", ")),
                        },
                    );
                }
            }
            Check::Pattern { regex, text } => {
                let hits: Vec<Hit> = readings
                    .iter()
                    .filter_map(|r| {
                        let t = text_of(r)?;
                        (!regex.is_match(t.trim())).then(|| Hit {
                            env: r.env,
                            item: format!("{} in {}", short(t), env(r.env)),
                        })
                    })
                    .collect();
                push(
                    "pattern-mismatch",
                    hits,
                    false,
                    Template::Is {
                        what: what.clone(),
                        tail: format!("which does not match the pattern {text}"),
                    },
                );
            }
            Check::Range { min, max } => {
                let hits: Vec<Hit> = readings
                    .iter()
                    .filter_map(|r| {
                        let t = text_of(r)?;
                        let v = r.typed.as_ref()?.num()?;
                        let low = min
                            .as_ref()
                            .is_some_and(|b| v < b.value && !approx_eq(v, b.value));
                        let high = max
                            .as_ref()
                            .is_some_and(|b| v > b.value && !approx_eq(v, b.value));
                        (low || high).then(|| Hit {
                            env: r.env,
                            item: format!("{} in {}", shown(t, r.typed.as_ref()), env(r.env)),
                        })
                    })
                    .collect();
                let in_unit = |b: &Bound| match unit {
                    Some(u) if read(ValueType::Number, None, &b.text).is_ok() => {
                        format!("{}{}", b.text, unit_label(u.name))
                    }
                    _ => b.text.clone(),
                };
                let tail = match (min, max) {
                    (Some(lo), Some(hi)) => {
                        let hi_text = in_unit(hi);
                        format!("outside {}..{hi_text}", lo.text)
                    }
                    (Some(lo), None) => format!("below the minimum {}", in_unit(lo)),
                    (None, Some(hi)) => format!("above the maximum {}", in_unit(hi)),
                    (None, None) => String::new(),
                };
                push(
                    "out-of-range",
                    hits,
                    false,
                    Template::Is {
                        what: what.clone(),
                        tail,
                    },
                );
            }
            Check::Tolerance { amount, baseline } => {
                let base_name = baseline.as_deref().unwrap_or(run.baseline);
                let Some(b) = run.envs.iter().position(|e| e == base_name) else {
                    continue; // reported once per rule as check-skipped
                };
                let Some((base_text, base_val)) = value_in(run, rule, subject, b, ty, unit) else {
                    continue; // nothing to compare against
                };
                let mut hits = Vec::new();
                for r in &readings {
                    if r.env == b {
                        continue;
                    }
                    let (Some(t), Some(v)) = (text_of(r), r.typed.as_ref().and_then(Typed::num))
                    else {
                        continue;
                    };
                    let diff = v - base_val;
                    let pct = if base_val != 0.0 {
                        Some(diff / base_val.abs() * 100.0)
                    } else {
                        None
                    };
                    let over = match amount {
                        Amount::Percent(p) => {
                            !approx_eq(diff.abs(), p / 100.0 * base_val.abs())
                                && diff.abs() > p / 100.0 * base_val.abs()
                        }
                        Amount::Absolute(a) => {
                            !approx_eq(diff.abs(), a.value) && diff.abs() > a.value
                        }
                    };
                    if over {
                        let delta = match pct {
                            Some(p) => {
                                format!("{}{}%", if p > 0.0 { "+" } else { "" }, fmt_num(p.round()))
                            }
                            None => "from zero".to_string(),
                        };
                        hits.push(Hit {
                            env: r.env,
                            item: format!(
                                "{} in {} ({delta})",
                                shown(t, r.typed.as_ref()),
                                env(r.env)
                            ),
                        });
                    }
                }
                let by = match amount {
                    Amount::Percent(p) => format!("{}%", fmt_num(*p)),
                    Amount::Absolute(a) => match unit {
                        Some(u) if read(ValueType::Number, None, &a.text).is_ok() => {
                            format!("{}{}", a.text, unit_label(u.name))
                        }
                        _ => a.text.clone(),
                    },
                };
                push(
                    "out-of-tolerance",
                    hits,
                    false,
                    Template::Is {
                        what: what.clone(),
                        tail: format!(
                            "more than {by} away from {base_name}'s {}",
                            short(&base_text)
                        ),
                    },
                );
                let mut judged = sel_envs.clone();
                judged.insert(b);
                if judged_all(&judged) {
                    coverage.value = true;
                }
            }
            Check::Relation(rels) => {
                let mut judged = BTreeSet::new();
                for rel in rels {
                    let (Some(l), Some(r)) = (
                        run.envs.iter().position(|e| *e == rel.left),
                        run.envs.iter().position(|e| *e == rel.right),
                    ) else {
                        continue; // reported once per rule as check-skipped
                    };
                    judged.insert(l);
                    judged.insert(r);
                    let (Some((lt, lv)), Some((rt, rv))) = (
                        value_in(run, rule, subject, l, ty, unit),
                        value_in(run, rule, subject, r, ty, unit),
                    ) else {
                        continue;
                    };
                    if !rel.op.holds(lv, rv) {
                        push(
                            "relation-violated",
                            vec![Hit {
                                env: l,
                                item: format!("{} in {}", short(&lt), rel.left),
                            }],
                            false,
                            Template::Is {
                                what: what.clone(),
                                tail: format!(
                                    "but must be {} {}'s {}",
                                    rel.op.as_str(),
                                    rel.right,
                                    short(&rt)
                                ),
                            },
                        );
                    }
                }
                if judged_all(&judged) {
                    coverage.value = true;
                }
            }
        }
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

fn unit_label(name: &str) -> String {
    if name == "bytes" {
        " bytes".into()
    } else {
        name.into()
    }
}

/// One environment's value as the rule's type, for comparisons against
/// another environment (the tolerance baseline, a relation's sides). The
/// rule's `environments` do not apply; its `when` does.
fn value_in(
    run: &Run,
    rule: &Rule,
    subject: &Subject,
    ei: usize,
    ty: ValueType,
    unit: Option<super::units::Unit>,
) -> Option<(String, f64)> {
    let inv = &run.invs[ei];
    if !inv.has_scope(&subject.scope) || !when_holds(rule, inv, &subject.scope) {
        return None;
    }
    match &inv.entries.get(subject)?.value {
        Value::Text(t) => read(ty, unit, t).ok()?.num().map(|n| (t.clone(), n)),
        _ => None,
    }
}

fn text_of<'e>(r: &Reading<'e>) -> Option<&'e str> {
    match r.entry.map(|e| &e.value) {
        Some(Value::Text(t)) => Some(t.as_str()),
        _ => None,
    }
}

/// What `equal` compares an environment's value by.
#[derive(Debug, Clone)]
enum EqKey {
    Absent,
    Typed(Typed),
    Key(CompareKey),
}

impl EqKey {
    fn same(&self, other: &EqKey) -> bool {
        match (self, other) {
            (EqKey::Absent, EqKey::Absent) => true,
            (EqKey::Typed(a), EqKey::Typed(b)) => a.same(b),
            (EqKey::Key(a), EqKey::Key(b)) => a == b && *a != CompareKey::Unresolved,
            _ => false,
        }
    }
}

/// Values in messages are cut; the finding's `values` have them whole.
fn short(s: &str) -> String {
    crate::display::short(s.trim())
}
