//! One workload's pods merged into one configuration: the value all pods
//! agree on is the workload's; disagreement is reported as skew, with the
//! most common value standing for the workload. Secret values are shown
//! only as `<redacted #n>`.

use std::collections::{BTreeMap, BTreeSet};

use super::canonical::{CompareKey, compare_key};
use super::display_value;
use crate::model::{Entry, Inventory, Issue, Subject, Value};

/// Merges the resolved pods of one workload: a value all pods agree on is
/// the workload's; disagreement is skew, and the most common value stands
/// for the workload.
pub(super) fn merge_variants(
    inv: &mut Inventory,
    mut resolved: Vec<(BTreeMap<Subject, Entry>, usize)>,
) {
    if resolved.len() == 1 {
        // `extend`, not `append`: BTreeMap::append rebuilds the whole map
        // (O(n + m)), which made normalizing quadratic in the workloads.
        inv.entries.extend(std::mem::take(&mut resolved[0].0));
        return;
    }
    let subjects: BTreeSet<Subject> = resolved
        .iter()
        .flat_map(|(r, _)| r.keys().cloned())
        .collect();
    for subject in subjects {
        let mut counts: Vec<(Option<CompareKey>, usize, Option<&Entry>)> = Vec::new();
        for (r, pods) in &resolved {
            let e = r.get(&subject);
            let k = e.map(|e| compare_key(subject.kind, &e.value));
            match counts.iter_mut().find(|(ck, _, _)| *ck == k) {
                Some(slot) => slot.1 += pods,
                None => counts.push((k, *pods, e)),
            }
        }
        let unresolved_only = counts.len() == 1 && counts[0].0 == Some(CompareKey::Unresolved);
        if counts.len() > 1 && !unresolved_only {
            let variants = skew_variants(&counts);
            inv.issues.push(Issue::Skew {
                subject: subject.clone(),
                variants,
            });
        }
        // Most common first; ties keep the order of the pods.
        let best = counts
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.1.cmp(&b.1).then(ib.cmp(ia)))
            .map(|(_, c)| c.2);
        if let Some(Some(e)) = best {
            inv.entries.insert(subject, e.clone());
        }
    }
}

pub(super) fn skew_variants(
    counts: &[(Option<CompareKey>, usize, Option<&Entry>)],
) -> Vec<(String, usize)> {
    let mut secrets = 0;
    counts
        .iter()
        .map(|(_, n, e)| {
            let shown = match e.map(|e| &e.value) {
                None => "(absent)".to_string(),
                Some(Value::Secret(_)) => {
                    secrets += 1;
                    format!("<redacted #{secrets}>")
                }
                Some(v) => display_value(v),
            };
            (shown, *n)
        })
        .collect()
}
