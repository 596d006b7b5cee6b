//! How the rule engine words what it found: a violation's message from the
//! environments it is (still) reported in, values cut and shown in the
//! rule's unit, and the notes about the policy itself (a stale rule, a
//! check that could not be made).

use std::collections::BTreeSet;

use super::select::selects;
use super::{PolicyNote, RunEnvs, SubjectCheck};
use crate::model::Severity;
use crate::policy::diagnostic::closest;
use crate::policy::model::*;
use crate::policy::units::{Typed, Unit, ValueType, read};

#[derive(Debug, Clone)]
pub struct EnvMention {
    /// Index into `RunEnvs::envs`.
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
    pub fn render(&self, envs: &[String], hits: &[&EnvMention]) -> String {
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

/// Values in messages are cut; the finding's `values` have them whole.
pub(super) fn short(s: &str) -> String {
    crate::display::short(s.trim())
}

impl SubjectCheck<'_> {
    /// A value in a message: `45s (45000ms)` when the rule's unit shows it
    /// differently.
    pub(super) fn shown(&self, t: &str, typed: Option<&Typed>) -> String {
        match (self.unit, typed) {
            (Some(_), Some(v)) => {
                let norm = v.show(self.ty, self.unit);
                if norm == t.trim() || read(ValueType::Number, None, t).is_ok() {
                    short(t)
                } else {
                    format!("{} ({norm})", short(t))
                }
            }
            _ => short(t),
        }
    }
}

/// A bound as written, with the rule's unit when it is a bare number:
/// `1000ms`, `512 bytes`.
pub(super) fn in_unit(text: &str, unit: Option<Unit>) -> String {
    match unit {
        Some(u) if read(ValueType::Number, None, text).is_ok() => {
            format!("{text}{}", unit_label(u.name))
        }
        _ => text.to_string(),
    }
}

fn unit_label(name: &str) -> String {
    if name == "bytes" {
        " bytes".into()
    } else {
        name.into()
    }
}

/// Checks that name environments this run does not have cannot be made:
/// one note per rule that says which.
pub(super) fn skipped_note(run: &RunEnvs, ri: usize, rule: &Rule) -> Option<PolicyNote> {
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
    if skipped.is_empty() {
        return None;
    }
    Some(PolicyNote {
        rule: ri,
        code: crate::codes::FindingCode::CheckSkipped.as_str(),
        severity: Severity::Info,
        message: format!(
            "rule {}: {} names an environment that is not part of this run ({}), so that check was not made ({})",
            rule.id,
            skipped.join("; "),
            run.envs.join(", "),
            rule.at
        ),
    })
}

pub(super) fn stale_message(run: &RunEnvs, rule: &Rule, env_ok: &[bool]) -> String {
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
