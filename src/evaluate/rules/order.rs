//! The checks that order values as numbers in the rule's type and unit:
//! `range` (bounds), `tolerance` (how far from a baseline environment) and
//! `relation` (`prod >= staging`).

use std::collections::BTreeSet;

use super::message::{in_unit, short};
use super::select::when_holds;
use super::{EnvMention, Found, RunEnvs, SubjectCheck, Template};
use crate::model::{Subject, Value};
use crate::policy::model::*;
use crate::policy::units::{Typed, Unit, ValueType, approx_eq, fmt_num, read};

/// `range`: values below `min` or above `max` (equal within rounding is in).
pub(super) fn range(
    sc: &SubjectCheck,
    min: Option<&Bound>,
    max: Option<&Bound>,
    found: &mut Found,
) {
    let hits: Vec<EnvMention> = sc
        .readings
        .iter()
        .filter_map(|r| {
            let t = r.text()?;
            let v = r.typed.as_ref()?.num()?;
            let low = min.is_some_and(|b| v < b.value && !approx_eq(v, b.value));
            let high = max.is_some_and(|b| v > b.value && !approx_eq(v, b.value));
            (low || high).then(|| EnvMention {
                env: r.env,
                item: format!("{} in {}", sc.shown(t, r.typed.as_ref()), sc.env(r.env)),
            })
        })
        .collect();
    let tail = match (min, max) {
        (Some(lo), Some(hi)) => {
            let hi_text = in_unit(&hi.text, sc.unit);
            format!("outside {}..{hi_text}", lo.text)
        }
        (Some(lo), None) => format!("below the minimum {}", in_unit(&lo.text, sc.unit)),
        (None, Some(hi)) => format!("above the maximum {}", in_unit(&hi.text, sc.unit)),
        (None, None) => String::new(),
    };
    found.push(
        sc,
        crate::codes::FindingCode::OutOfRange.as_str(),
        hits,
        false,
        Template::Is {
            what: sc.what.clone(),
            tail,
        },
    );
}

/// `tolerance`: values further than `amount` from the baseline
/// environment's (the run's, or the one the check names).
pub(super) fn tolerance(
    sc: &SubjectCheck,
    amount: &Amount,
    baseline: Option<&str>,
    found: &mut Found,
) {
    let run = sc.run;
    let base_name = baseline.unwrap_or(run.baseline);
    let Some(b) = run.envs.iter().position(|e| e == base_name) else {
        return; // reported once per rule as check-skipped
    };
    let Some((base_text, base_val)) = value_in(run, sc.rule, sc.subject, b, sc.ty, sc.unit) else {
        return; // nothing to compare against
    };
    let mut hits = Vec::new();
    for r in &sc.readings {
        if r.env == b {
            continue;
        }
        let (Some(t), Some(v)) = (r.text(), r.typed.as_ref().and_then(Typed::num)) else {
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
            Amount::Absolute(a) => !approx_eq(diff.abs(), a.value) && diff.abs() > a.value,
        };
        if over {
            let delta = match pct {
                Some(p) => format!("{}{}%", if p > 0.0 { "+" } else { "" }, fmt_num(p.round())),
                None => "from zero".to_string(),
            };
            hits.push(EnvMention {
                env: r.env,
                item: format!(
                    "{} in {} ({delta})",
                    sc.shown(t, r.typed.as_ref()),
                    sc.env(r.env)
                ),
            });
        }
    }
    let by = match amount {
        Amount::Percent(p) => format!("{}%", fmt_num(*p)),
        Amount::Absolute(a) => in_unit(&a.text, sc.unit),
    };
    found.push(
        sc,
        crate::codes::FindingCode::OutOfTolerance.as_str(),
        hits,
        false,
        Template::Is {
            what: sc.what.clone(),
            tail: format!(
                "more than {by} away from {base_name}'s {}",
                short(&base_text)
            ),
        },
    );
    let mut judged = sc.sel_envs.clone();
    judged.insert(b);
    if sc.judged_all(&judged) {
        found.coverage.value = true;
    }
}

/// `relation`: `left OP right` between two environments' values.
pub(super) fn relation(sc: &SubjectCheck, rels: &[Relation], found: &mut Found) {
    let run = sc.run;
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
            value_in(run, sc.rule, sc.subject, l, sc.ty, sc.unit),
            value_in(run, sc.rule, sc.subject, r, sc.ty, sc.unit),
        ) else {
            continue;
        };
        if !rel.op.holds(lv, rv) {
            found.push(
                sc,
                crate::codes::FindingCode::RelationViolated.as_str(),
                vec![EnvMention {
                    env: l,
                    item: format!("{} in {}", short(&lt), rel.left),
                }],
                false,
                Template::Is {
                    what: sc.what.clone(),
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
    if sc.judged_all(&judged) {
        found.coverage.value = true;
    }
}

/// One environment's value as the rule's type, for comparisons against
/// another environment (the tolerance baseline, a relation's sides). The
/// rule's `environments` do not apply; its `when` does.
fn value_in(
    run: &RunEnvs,
    rule: &Rule,
    subject: &Subject,
    ei: usize,
    ty: ValueType,
    unit: Option<Unit>,
) -> Option<(String, f64)> {
    let inv = &run.invs[ei];
    if !inv.has_scope(&subject.scope) || !when_holds(rule, inv, &subject.scope) {
        return None;
    }
    match &inv.entries.get(subject)?.value {
        Value::Text(t) => read(ty, unit, t).ok()?.num().map(|n| (t.to_string(), n)),
        _ => None,
    }
}
