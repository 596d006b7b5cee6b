//! Which subjects a rule looks at, in which environments: its selector
//! (keys, kinds, workloads, containers, ConfigMaps, namespaces,
//! environments) and its `when` precondition.

use std::borrow::Cow;

use super::RunEnvs;
use super::presence::required_subjects;
use super::values::loosely_equal;
use crate::model::{ConfigKind, Entry, Inventory, Name, Scope, Subject, Value};
use crate::policy::PolicySet;
use crate::policy::model::*;

/// The rules with `changes: true` that watch `subject` in `env` (the
/// environment a candidate is deployed to), in policy order.
pub fn change_watchers<'p>(
    policy: &'p PolicySet,
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

pub(super) fn scope_matches(rule: &Rule, scope: &Scope) -> bool {
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

pub(super) fn selects(rule: &Rule, s: &Subject) -> bool {
    key_matches(rule, &s.key)
        && (rule.select.kinds.is_empty() || rule.select.kinds.contains(&s.kind))
        && scope_matches(rule, &s.scope)
}

/// A subject a rule looks at.
pub(super) struct Candidate<'r> {
    pub subject: Cow<'r, Subject>,
    /// Its entry in each environment; `None` when it was made up from a
    /// `required` rule's literal key rather than seen in an environment.
    pub entries: Option<&'r [Option<&'r Entry>]>,
}

/// The subjects a rule looks at, in order.
pub(super) fn candidates<'r>(run: &'r RunEnvs, rule: &Rule) -> Vec<Candidate<'r>> {
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
            entries: Some(run.entries(row)),
        })
        .collect();
    let made_up = required_subjects(run, rule, &out);
    if made_up.is_empty() {
        return out;
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
pub(super) fn namespace_of<'a>(
    inv: &'a Inventory,
    subject: &Subject,
    entry: Option<&'a Entry>,
) -> &'a str {
    if let Some(e) = entry {
        return &e.namespace;
    }
    match &subject.scope {
        Scope::Container { workload, .. } => inv
            .workloads
            .get(workload.as_str())
            .map_or("", |w| w.namespace.as_str()),
        Scope::ConfigMap { .. } => inv
            .entries
            .iter()
            .find(|(s, _)| s.scope == subject.scope)
            .map_or("", |(_, e)| e.namespace.as_str()),
    }
}

pub(super) fn when_holds(rule: &Rule, inv: &Inventory, scope: &Scope) -> bool {
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
            key: Name::new(&when.key),
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
