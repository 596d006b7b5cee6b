//! compare: line the environments' inventories up by (scope, kind, key) and
//! keep what is not the same everywhere.
//!
//! A workload, container or ConfigMap absent from an environment is one
//! [`Absence`], not one missing key per variable. Multi-line values get a
//! unified line diff against the baseline.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

use crate::limits::{MAX_DIFF_BYTES, MAX_DIFF_LINES};
use crate::model::{Absence, Absent, Comparison, Delta, Inventory, ScopePresence, Value, aligned};
use crate::normalize::canonical::same;

#[cfg(test)]
mod tests;

/// Compares environments; `baseline` must be one of them.
pub fn compare(invs: &[Inventory], baseline: &str) -> Comparison {
    let envs: Vec<String> = invs.iter().map(|i| i.env.clone()).collect();
    let mut absences = Vec::new();

    // Workloads and containers present in some environments only.
    let workloads: BTreeSet<&String> = invs.iter().flat_map(|i| i.workloads.keys()).collect();
    for w in &workloads {
        let present: Vec<bool> = invs.iter().map(|i| i.workloads.contains_key(*w)).collect();
        if let Some(a) = absence(&envs, &present, Absent::Workload { name: (*w).clone() }) {
            absences.push(a);
            continue;
        }
        let containers: BTreeSet<&String> = invs
            .iter()
            .filter_map(|i| i.workloads.get(*w))
            .flat_map(|info| info.containers.iter())
            .collect();
        for c in containers {
            let present: Vec<bool> = invs
                .iter()
                .map(|i| {
                    i.workloads
                        .get(*w)
                        .is_some_and(|info| info.containers.contains(c))
                })
                .collect();
            if let Some(a) = absence(
                &envs,
                &present,
                Absent::Container {
                    workload: (*w).clone(),
                    container: c.clone(),
                },
            ) {
                absences.push(a);
            }
        }
    }
    let configmaps: BTreeSet<&String> = invs.iter().flat_map(|i| i.configmaps.iter()).collect();
    for cm in configmaps {
        let present: Vec<bool> = invs.iter().map(|i| i.configmaps.contains(cm)).collect();
        if let Some(a) = absence(&envs, &present, Absent::ConfigMap { name: cm.clone() }) {
            absences.push(a);
        }
    }

    // An unknown baseline falls back to the last environment; with no
    // environments there is nothing to diff (and no index to underflow).
    let base_idx = envs
        .iter()
        .position(|e| e == baseline)
        .unwrap_or(envs.len().saturating_sub(1));
    let mut deltas = Vec::new();
    let mut scopes = ScopePresence::default();
    for (subject, values) in aligned(invs) {
        let has_scope = scopes.of(invs, &subject.scope);
        let present: Vec<Option<&Value>> = values
            .iter()
            .zip(has_scope)
            .filter(|(_, has)| **has)
            .map(|(v, _)| v.map(|e| &e.value))
            .collect();
        if present.len() < 2 {
            continue; // The absence says it all.
        }
        let all_same = present.windows(2).all(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => same(subject.kind, a, b),
            (None, None) => true,
            _ => false,
        }) && !present
            .iter()
            .any(|v| matches!(v, Some(Value::Unresolved(_))));
        if all_same {
            continue;
        }
        let scope_absent: Vec<bool> = has_scope.iter().map(|h| !h).collect();
        let line_diff = line_diff(&envs, &values, base_idx);
        deltas.push(Delta {
            subject: subject.clone(),
            values: values.into_iter().map(|v| v.cloned()).collect(),
            scope_absent,
            line_diff,
        });
    }
    Comparison {
        envs,
        baseline: baseline.to_string(),
        deltas,
        absences,
    }
}

fn absence(envs: &[String], present: &[bool], what: Absent) -> Option<Absence> {
    if present.iter().all(|p| *p) {
        return None;
    }
    let pick = |want: bool| -> Vec<String> {
        envs.iter()
            .zip(present)
            .filter(|(_, p)| **p == want)
            .map(|(e, _)| e.clone())
            .collect()
    };
    Some(Absence {
        what,
        missing_in: pick(false),
        present_in: pick(true),
    })
}

/// A unified diff of a multi-line text value, baseline against each other
/// environment whose text differs.
fn line_diff(
    envs: &[String],
    values: &[Option<&crate::model::Entry>],
    base_idx: usize,
) -> Option<String> {
    let text = |i: usize| match values[i].map(|e| &e.value) {
        Some(Value::Text(t)) => Some(t.as_str()),
        _ => None,
    };
    let multi = (0..values.len()).any(|i| text(i).is_some_and(|t| t.trim_end().contains('\n')));
    if !multi {
        return None;
    }
    // Diff against the baseline, or the first environment with a text
    // when the baseline has none.
    let base = if text(base_idx).is_some() {
        base_idx
    } else {
        (0..values.len()).find(|i| text(*i).is_some())?
    };
    let old = normalize_newlines(text(base)?);
    let mut out = String::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..values.len() {
        if i == base {
            continue;
        }
        let Some(new) = text(i).map(normalize_newlines) else {
            continue;
        };
        if new == old {
            continue;
        }
        if let Some(prev) = seen.get(&new) {
            out.push_str(&format!("# {} is the same as {prev}\n", envs[i]));
            continue;
        }
        seen.insert(new.clone(), envs[i].clone());
        if [&old, &new].iter().any(|t| too_long_to_diff(t)) {
            out.push_str(&format!(
                "# line diff skipped, too large to compare line by line: {} has {}, {} has \
                 {}; the limit is {} lines or {} KiB per side\n",
                envs[base],
                extent(&old),
                envs[i],
                extent(&new),
                thousands(MAX_DIFF_LINES),
                MAX_DIFF_BYTES / 1024
            ));
            continue;
        }
        let diff = TextDiff::from_lines(old.as_str(), new.as_str());
        let unified = diff
            .unified_diff()
            .context_radius(2)
            .header(&envs[base], &envs[i])
            .to_string();
        out.push_str(&end_lines_at_lone_cr(&unified));
    }
    (!out.is_empty()).then_some(out)
}

/// similar ends a line at a lone `\r` too (old Mac line endings) and
/// prints such a line without a `\n`, so that a `\r` in a value would run
/// two lines of the diff into one. Every line of the diff ends in `\n`
/// after this; a renderer shows the `\r` at the end of its line.
fn end_lines_at_lone_cr(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len());
    let mut chars = diff.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        }
    }
    out
}

fn too_long_to_diff(text: &str) -> bool {
    text.len() > MAX_DIFF_BYTES || lines(text) > MAX_DIFF_LINES
}

/// Lines as similar counts them (a lone `\r` ends one too), or more.
fn lines(text: &str) -> usize {
    text.bytes().filter(|b| matches!(b, b'\n' | b'\r')).count()
}

/// `500,000 lines (1,000,000 bytes)`.
fn extent(text: &str) -> String {
    format!(
        "{} lines ({} bytes)",
        thousands(lines(text)),
        thousands(text.len())
    )
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn normalize_newlines(s: &str) -> String {
    let mut t = s.replace("\r\n", "\n");
    while t.ends_with("\n\n") {
        t.pop();
    }
    if !t.ends_with('\n') {
        t.push('\n');
    }
    t
}
