//! `required`: a key must be set wherever the rule selects its container
//! (or ConfigMap), even where no environment sets it.

use std::collections::BTreeSet;

use super::message::and_list;
use super::select::{Candidate, namespace_of, scope_matches, selects, when_holds};
use super::{EnvMention, Found, RunEnvs, SubjectCheck, Template};
use crate::model::{ConfigKind, Name, Scope, Subject};
use crate::policy::model::*;

/// `required: true` on named keys: every selected container (or
/// ConfigMap) must have them, even where no environment sets them. The
/// subjects of those keys that `seen` (sorted) does not hold yet.
pub(super) fn required_subjects(
    run: &RunEnvs,
    rule: &Rule,
    seen: &[Candidate],
) -> BTreeSet<Subject> {
    let mut made_up: BTreeSet<Subject> = BTreeSet::new();
    let literal_keys = rule.has(|c| matches!(c, Check::Required))
        && rule.select.key_regex.is_none()
        && !rule.select.keys.is_empty()
        && rule.select.keys.iter().all(Pattern::is_literal);
    if !literal_keys {
        return made_up;
    }
    let kinds = if rule.select.kinds.is_empty() {
        vec![ConfigKind::Env]
    } else {
        rule.select.kinds.clone()
    };
    let mut scopes: BTreeSet<Scope> = BTreeSet::new();
    for inv in run.invs {
        for (w, info) in &inv.workloads {
            for c in &info.containers {
                scopes.insert(Scope::Container {
                    workload: Name::new(w),
                    container: Name::new(c),
                });
            }
        }
        for cm in &inv.configmaps {
            scopes.insert(Scope::ConfigMap {
                name: Name::new(cm),
            });
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
                    key: Name::new(&key.text),
                };
                if seen
                    .binary_search_by(|c| c.subject.as_ref().cmp(&subject))
                    .is_err()
                {
                    made_up.insert(subject);
                }
            }
        }
    }
    made_up
}

/// Whether a rule with `required` checks `subject`'s presence in
/// environment `ei` (the same rule, or another one).
pub(super) fn presence_judged(run: &RunEnvs, subject: &Subject, ei: usize) -> bool {
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

/// `required: true`: where the key is not set.
pub(super) fn required(sc: &SubjectCheck, found: &mut Found) {
    let run = sc.run;
    let hits: Vec<EnvMention> = sc
        .readings
        .iter()
        .filter(|r| r.entry.is_none())
        .map(|r| EnvMention {
            env: r.env,
            item: sc.env(r.env).to_string(),
        })
        .collect();
    if !hits.is_empty() {
        let set_in: Vec<&str> = (0..run.envs.len())
            .filter(|&i| run.invs[i].entries.contains_key(sc.subject))
            .map(|i| sc.env(i))
            .collect();
        let tail = if set_in.is_empty() {
            ", and in no other environment".to_string()
        } else {
            format!(" (it is set in {})", and_list(&set_in))
        };
        found.push(
            sc,
            crate::codes::FindingCode::RequiredMissing.as_str(),
            hits,
            false,
            Template::NotSet {
                what: sc.what.clone(),
                tail,
            },
        );
    }
    if sc.judged_all(&sc.sel_envs) {
        found.coverage.presence = true;
    }
}
