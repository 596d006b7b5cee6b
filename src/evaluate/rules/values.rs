//! Reading each environment's value once under a rule (as its type, when
//! it has one), and the checks of what a value is: `forbid`, `one_of`,
//! `pattern`. A value that cannot be read, a Secret and an unresolved
//! value are findings of their own, never a silent pass.

use std::collections::BTreeSet;

use regex::Regex;

use super::message::short;
use super::{EnvMention, Found, Reading, SubjectCheck, Template};
use crate::model::{Entry, Value};
use crate::normalize::canonical::parse_bool;
use crate::policy::model::*;
use crate::policy::units::read as read_as;

/// Text equality as a person means it: booleans by meaning, otherwise
/// trimmed and ignoring ASCII case.
pub(super) fn loosely_equal(value: &str, want: &str) -> bool {
    match (parse_bool(value), parse_bool(want)) {
        (Some(a), Some(b)) => a == b,
        _ => value.trim().eq_ignore_ascii_case(want.trim()),
    }
}

/// Every selected environment's value, read once; what cannot be read for
/// the rule's checks is reported here.
pub(super) fn read<'a>(
    sc: &SubjectCheck<'a>,
    sel: &[(usize, Option<&'a Entry>)],
    found: &mut Found,
) -> Vec<Reading<'a>> {
    let rule = sc.rule;
    let value_checks: Vec<&'static str> = rule
        .checks
        .iter()
        .filter(|c| c.reads_values())
        .map(Check::name)
        .collect();
    let presence_only = rule.checks.iter().all(|c| matches!(c, Check::Required));
    let mut readings = Vec::new();
    let mut unreadable = Vec::new();
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    let mut secret = Vec::new();
    let mut unresolved = Vec::new();
    for &(ei, entry) in sel {
        let mut typed = None;
        match entry.map(|e| &e.value) {
            None => {}
            Some(Value::Text(t)) if sc.needs_typed => match read_as(sc.ty, sc.unit, t) {
                Ok(v) => typed = Some(v),
                Err(why) => {
                    unreadable.push(EnvMention {
                        env: ei,
                        item: format!("\"{}\" in {}", short(t), sc.env(ei)),
                    });
                    reasons.insert(why);
                }
            },
            Some(Value::Text(_)) => {}
            Some(Value::Secret(_)) if !value_checks.is_empty() => secret.push(EnvMention {
                env: ei,
                item: sc.env(ei).to_string(),
            }),
            Some(Value::Secret(_)) => {}
            // A presence check is made on an unresolved value too; any
            // other check cannot be.
            Some(Value::Unresolved(why)) if !presence_only => unresolved.push(EnvMention {
                env: ei,
                item: format!("{} ({why})", sc.env(ei)),
            }),
            Some(Value::Unresolved(_)) => {}
            Some(other) if !value_checks.is_empty() => {
                unreadable.push(EnvMention {
                    env: ei,
                    item: format!("{} in {}", crate::display::value(other), sc.env(ei)),
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
        let readable_as = if sc.needs_typed {
            sc.ty.described()
        } else {
            "a value"
        };
        found.push(
            sc,
            crate::codes::FindingCode::ValueUnreadable.as_str(),
            unreadable,
            false,
            Template::Is {
                what: sc.what.clone(),
                tail: if reason.is_empty() {
                    format!("which cannot be read as {readable_as}")
                } else {
                    format!("which cannot be read as {readable_as}: {reason}")
                },
            },
        );
    }
    if !secret.is_empty() {
        found.push(
            sc,
            crate::codes::FindingCode::SecretUnchecked.as_str(),
            secret,
            false,
            Template::Secret {
                what: sc.what.clone(),
                tail: format!(
                    "its {} check cannot be made: confdrift keeps only a fingerprint of a Secret value",
                    value_checks.join("/")
                ),
            },
        );
    }
    if !unresolved.is_empty() {
        found.push(
            sc,
            crate::codes::FindingCode::ValueUnresolved.as_str(),
            unresolved,
            false,
            Template::Unresolved {
                what: sc.what.clone(),
            },
        );
    }
    readings
}

/// `forbid` (`forbid` is true) or `one_of` (false): values that are (not)
/// among the listed ones, by meaning under the rule's type.
pub(super) fn forbid(sc: &SubjectCheck, lits: &[Literal], forbid: bool, found: &mut Found) {
    let mut hits = Vec::new();
    for r in &sc.readings {
        let Some(t) = r.text() else { continue };
        let matched = if sc.rule.value_type.is_some() {
            let Some(v) = &r.typed else { continue };
            lits.iter()
                .any(|l| l.typed.as_ref().is_some_and(|lt| lt.same(v)))
        } else {
            lits.iter().any(|l| loosely_equal(t, &l.text))
        };
        if matched == forbid {
            hits.push(EnvMention {
                env: r.env,
                item: format!("{} in {}", sc.shown(t, r.typed.as_ref()), sc.env(r.env)),
            });
        }
    }
    let listed: Vec<&str> = lits.iter().map(|l| l.text.as_str()).collect();
    let (code, tail) = if forbid {
        (
            crate::codes::FindingCode::ForbiddenValue.as_str(),
            format!("a forbidden value (forbidden: {})", listed.join(", ")),
        )
    } else {
        (
            crate::codes::FindingCode::NotOneOf.as_str(),
            format!("not one of the allowed values {}", listed.join(", ")),
        )
    };
    found.push(
        sc,
        code,
        hits,
        false,
        Template::Is {
            what: sc.what.clone(),
            tail,
        },
    );
}

/// `pattern`: values the (anchored) regular expression does not match.
pub(super) fn pattern(sc: &SubjectCheck, regex: &Regex, text: &str, found: &mut Found) {
    let hits: Vec<EnvMention> = sc
        .readings
        .iter()
        .filter_map(|r| {
            let t = r.text()?;
            (!regex.is_match(t.trim())).then(|| EnvMention {
                env: r.env,
                item: format!("{} in {}", short(t), sc.env(r.env)),
            })
        })
        .collect();
    found.push(
        sc,
        crate::codes::FindingCode::PatternMismatch.as_str(),
        hits,
        false,
        Template::Is {
            what: sc.what.clone(),
            tail: format!("which does not match the pattern {text}"),
        },
    );
}
