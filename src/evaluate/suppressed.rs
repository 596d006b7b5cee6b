//! What the policy kept out of the findings or out of the gate (ignored
//! keys, waived findings, keys allowed to differ, …), counted so that
//! nothing is hidden without a trace.

use std::collections::BTreeMap;

/// Everything the policy kept out of the findings (or out of the gate), so
/// nothing is hidden without a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressed {
    /// Keys hidden by `ignore`, by the first pattern that matched them.
    pub ignored: Vec<IgnoredKeys>,
    /// Waived findings, by rule.
    pub waived: BTreeMap<String, usize>,
    /// Keys whose values differ but that a rule's `allow_differ` lets differ, by rule.
    pub allowed: BTreeMap<String, usize>,
    /// Drift no rule speaks to, hidden by `unmatched: ignore`.
    pub unmatched: usize,
    /// Rules that selected nothing and say `stale: ignore`.
    pub stale_ignored: Vec<String>,
    /// Findings left out because another finding shows the same cause: a
    /// consumed ConfigMap key at its consumers, a flagd document as its flags.
    pub same_cause: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredKeys {
    pub pattern: String,
    /// Distinct (workload/container or ConfigMap, kind, key) subjects.
    pub keys: usize,
    /// How many of them differ between (or within) environments.
    pub drifting: usize,
}

impl Suppressed {
    pub fn is_empty(&self) -> bool {
        self.ignored.is_empty()
            && self.waived.is_empty()
            && self.allowed.is_empty()
            && self.unmatched == 0
            && self.stale_ignored.is_empty()
            && self.same_cause == 0
    }

    /// One phrase per kind of suppression, for people.
    pub fn phrases(&self) -> Vec<String> {
        let by = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        if !self.ignored.is_empty() {
            let keys: usize = self.ignored.iter().map(|i| i.keys).sum();
            let drifting: usize = self.ignored.iter().map(|i| i.drifting).sum();
            let each: Vec<String> = self
                .ignored
                .iter()
                .map(|i| format!("{} ×{}", i.pattern, i.keys))
                .collect();
            out.push(format!(
                "{keys} key(s) ignored, {drifting} of them drifting ({})",
                each.join(", ")
            ));
        }
        if !self.waived.is_empty() {
            let n: usize = self.waived.values().sum();
            out.push(format!("{n} finding(s) waived ({})", by(&self.waived)));
        }
        if !self.allowed.is_empty() {
            let n: usize = self.allowed.values().sum();
            out.push(format!(
                "{n} key(s) allowed to differ ({})",
                by(&self.allowed)
            ));
        }
        if self.unmatched > 0 {
            out.push(format!(
                "{} drift(s) no rule speaks to, hidden by `unmatched: ignore`",
                self.unmatched
            ));
        }
        if !self.stale_ignored.is_empty() {
            out.push(format!(
                "{} rule(s) matched nothing and say `stale: ignore` ({})",
                self.stale_ignored.len(),
                self.stale_ignored.join(", ")
            ));
        }
        if self.same_cause > 0 {
            out.push(format!(
                "{} finding(s) of the same cause shown once (ConfigMap keys where they are consumed, flagd documents as their flags)",
                self.same_cause
            ));
        }
        out
    }
}
