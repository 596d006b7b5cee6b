//! `equal`: a key must have the same value (by meaning, under the rule's
//! type) in every selected environment, unless `allow_differ` lets it
//! differ. Its finding is about all compared environments at once.

use super::message::{and_list, short};
use super::presence::presence_judged;
use super::{EnvMention, Found, SubjectCheck, Template};
use crate::evaluate::display_entries;
use crate::model::Value;
use crate::normalize::canonical::{CompareKey, compare_key};
use crate::policy::model::*;
use crate::policy::units::Typed;

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

/// Environments grouped by what their value is compared by, in reading
/// order, each with how the group's value is shown.
fn groups(sc: &SubjectCheck) -> Vec<(EqKey, Vec<usize>, String)> {
    let run = sc.run;
    let subject = sc.subject;
    let labels = display_entries(
        run.envs,
        subject.kind,
        &(0..run.envs.len())
            .map(|i| run.invs[i].entries.get(subject))
            .collect::<Vec<_>>(),
    );
    let mut groups: Vec<(EqKey, Vec<usize>, String)> = Vec::new();
    for r in &sc.readings {
        let key = match r.entry.map(|e| &e.value) {
            // One cause, one finding: where a `required` rule
            // judges the key's presence, its absence is that
            // rule's finding, at that rule's severity there.
            None if presence_judged(run, subject, r.env) => continue,
            None => EqKey::Absent,
            Some(Value::Unresolved(_)) => continue,
            Some(Value::Text(_)) if sc.rule.value_type.is_some() => match &r.typed {
                Some(t) => EqKey::Typed(t.clone()),
                None => continue,
            },
            Some(v) => EqKey::Key(compare_key(subject.kind, v)),
        };
        let display = match &key {
            EqKey::Absent => "not set".to_string(),
            _ => labels
                .get(sc.env(r.env))
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
                        EqKey::Typed(t) => t.show(sc.ty, sc.unit),
                        EqKey::Key(CompareKey::Text(c)) => short(c),
                        _ => shown.clone(),
                    };
                }
                envs.push(r.env);
            }
            None => groups.push((key, vec![r.env], display)),
        }
    }
    groups
}

/// `equal: true`.
pub(super) fn check(sc: &SubjectCheck, allow_differ: &[Pattern], found: &mut Found) {
    let groups = groups(sc);
    if groups.len() > 1 {
        if any_match(allow_differ, &sc.subject.key) {
            found.allowed = true;
        } else {
            let parts: Vec<String> = groups
                .iter()
                .map(|(k, envs, shown)| {
                    let names: Vec<&str> = envs.iter().map(|&e| sc.env(e)).collect();
                    match k {
                        EqKey::Absent => format!("not set in {}", and_list(&names)),
                        _ => format!("{shown} in {}", and_list(&names)),
                    }
                })
                .collect();
            let mut names: Vec<usize> = groups
                .iter()
                .flat_map(|(_, e, _)| e.iter().copied())
                .collect();
            names.sort_unstable();
            let all: Vec<&str> = names.iter().map(|&e| sc.env(e)).collect();
            found.push(
                sc,
                crate::codes::FindingCode::NotEqual.as_str(),
                names
                    .iter()
                    .map(|&e| EnvMention {
                        env: e,
                        item: sc.env(e).to_string(),
                    })
                    .collect(),
                true,
                Template::Whole(format!(
                    "{} must be the same in {}, but is {}",
                    sc.what,
                    and_list(&all),
                    parts.join(", ")
                )),
            );
        }
    }
    if sc.judged_all(&sc.sel_envs) {
        found.coverage.value = true;
        found.coverage.presence = true;
    }
}
