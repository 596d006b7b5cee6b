//! The 2 AM view of `confdrift diff A B`: only what differs, grouped by
//! workload and container, both values with where they come from, and
//! unified line diffs of config files. Under each key, what the policy's
//! rules say about it; what the policy suppressed is counted at the end.
//!
//! Every piece of text taken from input is printed through [`visible`]: a
//! value must never act on the terminal.

use std::collections::BTreeMap;
use std::io::Write;

use super::{
    Report, Style, is_cross_env, is_policy_note, key_label, location, suppressed_line, visible,
};
use crate::evaluate::UNMATCHED;
use crate::model::Finding;

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    let (a, b) = match report.envs.as_slice() {
        [a, b] => (a.as_str(), b.as_str()),
        _ => ("", ""),
    };
    // What differs between A and B; a rule's finding about a value that is
    // the same in both belongs to `audit`, not here.
    let cross: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| is_cross_env(f))
        .filter(|f| f.key.is_none() || f.values.get(a) != f.values.get(b) || f.diff.is_some())
        .collect();
    let distinct: std::collections::BTreeSet<(String, String)> =
        cross.iter().map(|f| (location(f), key_label(f))).collect();
    let (a_shown, b_shown) = (visible(a), visible(b));
    writeln!(
        out,
        "confdrift diff {a_shown} {b_shown}: {} difference(s)",
        distinct.len()
    )?;
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in &cross {
        groups.entry(location(f)).or_default().push(f);
    }
    let width = report
        .envs
        .iter()
        .map(|e| visible(e).chars().count())
        .max()
        .unwrap_or(0);
    for (loc, findings) in groups {
        writeln!(out)?;
        writeln!(out, "{}", bold(&visible(&loc), style.color))?;
        let mut shown = std::collections::BTreeSet::new();
        for f in &findings {
            if f.key.is_none() {
                writeln!(out, "  {}", visible(&f.message))?;
                continue;
            }
            if !shown.insert(key_label(f)) {
                continue; // values shown once; each rule's word is below them
            }
            writeln!(out, "  {}", visible(&key_label(f)))?;
            match &f.diff {
                Some(diff) => {
                    for env in [a, b] {
                        if let Some(src) = f.sources.get(env) {
                            let (env, src) = (visible(env), visible(src));
                            writeln!(out, "    {env:<width$}  from {src}")?;
                        }
                    }
                    for line in diff.split_terminator('\n') {
                        writeln!(out, "    {}", paint(line, style.color))?;
                    }
                }
                None => {
                    let shown = |env: &str| {
                        f.values
                            .get(env)
                            .cloned()
                            .flatten()
                            .map(|v| visible(&v).into_owned())
                    };
                    let vw = [a, b]
                        .iter()
                        .filter_map(|e| shown(e))
                        .map(|v| v.chars().count())
                        .max()
                        .unwrap_or(0);
                    for env in [a, b] {
                        let env_shown = visible(env);
                        match shown(env) {
                            Some(v) => {
                                let src = visible(f.sources.get(env).map_or("", String::as_str));
                                writeln!(out, "    {env_shown:<width$}  {v:<vw$}  ({src})")?;
                            }
                            None => writeln!(out, "    {env_shown:<width$}  (not set)")?,
                        }
                    }
                }
            }
            for r in findings
                .iter()
                .filter(|r| r.rule != UNMATCHED && key_label(r) == key_label(f))
            {
                let waived = if r.waiver.is_some() { " (waived)" } else { "" };
                writeln!(out, "    {}{waived}: {}", r.severity, visible(&r.message))?;
            }
        }
    }
    let single: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !is_cross_env(f) && !is_policy_note(f))
        .collect();
    if !single.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", bold("In one environment", style.color))?;
        for f in single {
            writeln!(
                out,
                "  {} {}: {}",
                f.severity,
                visible(&f.code),
                visible(&f.message)
            )?;
        }
    }
    for e in &report.environments {
        for p in &e.problems {
            writeln!(
                out,
                "{}: {} {}: {}",
                visible(&e.name),
                p.severity,
                visible(&p.location),
                visible(&p.message)
            )?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Suppressed by the policy: {}",
            visible(&suppressed_line(report))
        )?;
    }
    Ok(())
}

fn bold(s: &str, color: bool) -> String {
    if color {
        format!("\x1b[1m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn paint(line: &str, color: bool) -> String {
    super::table::paint_diff_line(line, color)
}

/// `--workload` / `--key` globs of `confdrift diff`.
#[derive(Debug, Default)]
pub struct Filter {
    workload: Option<globset::GlobMatcher>,
    key: Option<globset::GlobMatcher>,
}

impl Filter {
    pub fn new(workload: Option<&str>, key: Option<&str>) -> crate::error::Result<Filter> {
        let glob =
            |flag: &str, g: Option<&str>| -> crate::error::Result<Option<globset::GlobMatcher>> {
                g.map(|g| {
                    globset::Glob::new(g)
                        .map(|g| g.compile_matcher())
                        .map_err(|e| crate::error::Error::Usage(format!("{flag} {g}: {e}")))
                })
                .transpose()
            };
        Ok(Filter {
            workload: glob("--workload", workload)?,
            key: glob("--key", key)?,
        })
    }

    fn keeps_names(&self, workload: Option<&str>, key: Option<&str>) -> bool {
        self.workload
            .as_ref()
            .is_none_or(|m| workload.is_some_and(|w| m.is_match(w)))
            && self
                .key
                .as_ref()
                .is_none_or(|m| key.is_some_and(|k| m.is_match(k)))
    }

    /// Whether a finding is about a selected workload (or ConfigMap) and key.
    pub fn keeps(&self, f: &Finding) -> bool {
        let owner = f.workload.as_deref().or(f.configmap.as_deref());
        self.keeps_names(owner, f.key.as_deref())
    }
}

/// A key that is the same in both environments.
pub struct Equal {
    pub location: String,
    pub key: String,
    pub value: String,
    pub source: String,
}

/// The keys two inventories agree on, for `diff --all`.
pub fn equal_entries(invs: &[crate::model::Inventory], filter: &Filter) -> Vec<Equal> {
    let [a, b] = invs else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (subject, ea) in &a.entries {
        let Some(eb) = b.entries.get(subject) else {
            continue;
        };
        if !crate::normalize::canonical::same(subject.kind, &ea.value, &eb.value) {
            continue;
        }
        let owner = subject.scope.workload().or(subject.scope.configmap());
        if !filter.keeps_names(owner, Some(&subject.key)) {
            continue;
        }
        let value = match &ea.value {
            crate::model::Value::Secret(_) => "<redacted, same>".to_string(),
            v => super::table::cut(&crate::normalize::display_value(v)),
        };
        let key = match subject.kind {
            crate::model::ConfigKind::Env | crate::model::ConfigKind::ConfigMap => {
                subject.key.clone()
            }
            k => format!("{} {}", k.as_str(), subject.key),
        };
        out.push(Equal {
            location: subject.scope.to_string(),
            key,
            value,
            source: ea.provenance.to_string(),
        });
    }
    out
}

/// The "equal in both" section of `diff --all`; its text is from input and
/// shown through [`visible`].
pub fn render_equal(equal: &[Equal], style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        bold(&format!("Equal in both ({})", equal.len()), style.color)
    )?;
    let mut last = "";
    for e in equal {
        if e.location != last {
            writeln!(out, "{}", visible(&e.location))?;
            last = &e.location;
        }
        writeln!(
            out,
            "  = {}  {}  ({})",
            visible(&e.key),
            visible(&e.value),
            visible(&e.source)
        )?;
    }
    Ok(())
}
