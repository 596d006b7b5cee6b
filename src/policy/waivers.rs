//! Waivers: findings a team has accepted, for a reason, maybe until a date.
//! A waived finding stays in every report, marked as waived, and no longer
//! counts for the exit code. An expired waiver no longer applies and is
//! itself reported; so is a waiver that matches nothing.

use super::date::Date;
use super::model::{Waiver, any_match};
use crate::model::{ConfigKind, Severity};

/// The subject fields of a finding, as a waiver matches them.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaiverSubject<'a> {
    pub rule: &'a str,
    pub key: Option<&'a str>,
    pub kind: Option<ConfigKind>,
    pub workload: Option<&'a str>,
    pub container: Option<&'a str>,
    pub configmap: Option<&'a str>,
}

/// The waivers that accept one finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// The first waiver in force that accepts it.
    pub in_force: Option<usize>,
    /// Expired waivers that would have.
    pub expired: std::collections::BTreeSet<usize>,
}

/// The waivers of a run and what each has matched.
pub struct WaiverBook<'a> {
    waivers: &'a [Waiver],
    today: Date,
    /// Findings each waiver accepted.
    used: Vec<usize>,
    /// Findings each expired waiver would have accepted.
    expired_matches: Vec<usize>,
}

impl<'a> WaiverBook<'a> {
    pub fn new(waivers: &'a [Waiver], today: Date) -> Self {
        WaiverBook {
            waivers,
            today,
            used: vec![0; waivers.len()],
            expired_matches: vec![0; waivers.len()],
        }
    }

    fn matches(w: &Waiver, t: &WaiverSubject, envs: &[&str]) -> bool {
        let field = |p: &Option<super::model::Pattern>, v: Option<&str>| match p {
            None => true,
            Some(p) => v.is_some_and(|v| p.matches(v)),
        };
        w.rule == t.rule
            && field(&w.key, t.key)
            && field(&w.workload, t.workload)
            && field(&w.container, t.container)
            && field(&w.configmap, t.configmap)
            && w.kind.is_none_or(|k| t.kind == Some(k))
            && (w.environments.is_empty()
                || (!envs.is_empty() && envs.iter().all(|e| any_match(&w.environments, e))))
    }

    /// Which waivers accept a finding about `envs`: the first in force, and
    /// every expired one that would have. Nothing is counted until
    /// [`WaiverBook::record`], so a finding made of several lookups counts once.
    pub fn lookup(&self, t: &WaiverSubject, envs: &[&str]) -> Match {
        let mut m = Match::default();
        for (i, w) in self.waivers.iter().enumerate() {
            if !Self::matches(w, t, envs) {
                continue;
            }
            if w.expired(self.today) {
                m.expired.insert(i);
                continue;
            }
            m.in_force = Some(i);
            break;
        }
        m
    }

    /// Counts one finding's match.
    pub fn record(&mut self, m: &Match) -> Option<&'a Waiver> {
        for &i in &m.expired {
            self.expired_matches[i] += 1;
        }
        let i = m.in_force?;
        self.used[i] += 1;
        self.waivers.get(i)
    }

    /// Findings about the waivers themselves: expired, or matching nothing.
    pub fn notes(&self) -> Vec<(String, &'static str, Severity, String)> {
        let mut out = Vec::new();
        for (i, w) in self.waivers.iter().enumerate() {
            let owner = w
                .owner
                .as_ref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default();
            if let Some(exp) = w.expires.filter(|_| w.expired(self.today)) {
                let effect = match self.expired_matches[i] {
                    0 => "it matches nothing any more either; remove it".to_string(),
                    n => format!(
                        "the {n} finding(s) it matched are reported again; renew it or fix them"
                    ),
                };
                out.push((
                    w.rule.clone(),
                    crate::codes::FindingCode::WaiverExpired.as_str(),
                    Severity::Warning,
                    format!(
                        "the waiver for {} (\"{}\"{owner}) expired on {exp} and no longer applies: {effect} ({})",
                        w.scope(),
                        w.reason,
                        w.at
                    ),
                ));
            } else if self.used[i] == 0 {
                out.push((
                    w.rule.clone(),
                    crate::codes::FindingCode::WaiverUnused.as_str(),
                    Severity::Info,
                    format!(
                        "the waiver for {} (\"{}\"{owner}) matches no finding: remove it, or check its fields ({})",
                        w.scope(),
                        w.reason,
                        w.at
                    ),
                ));
            }
        }
        out
    }
}
