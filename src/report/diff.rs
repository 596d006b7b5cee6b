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
    RenderOptions, Report, is_cross_env, is_policy_note, key_label, location, suppressed_line,
    visible,
};
use crate::evaluate::UNMATCHED;
use crate::model::Finding;

/// What differs between the two environments of `diff A B`: findings
/// about values lined up across them whose values are not the same, and
/// absences. A rule's finding about a value that is the same in both
/// belongs to `audit`; so does a value unresolved the same way in both
/// (each environment's own problem, shown under "In one environment").
/// The count and `--exit-code` are made of these, and nothing else.
pub fn differences(report: &Report) -> Vec<&Finding> {
    let (a, b) = pair(report);
    report
        .findings
        .iter()
        .filter(|f| is_cross_env(f))
        .filter(|f| f.key.is_none() || f.values.get(a) != f.values.get(b) || f.diff.is_some())
        .collect()
}

/// How many distinct keys (and absences) differ.
pub fn difference_count(report: &Report) -> usize {
    differences(report)
        .iter()
        .map(|f| (location(f), key_label(f)))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn pair(report: &Report) -> (&str, &str) {
    match report.envs.as_slice() {
        [a, b] => (a.as_str(), b.as_str()),
        _ => ("", ""),
    }
}

pub fn render(report: &Report, style: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let (a, b) = pair(report);
    let cross = differences(report);
    let (a_shown, b_shown) = (visible(a), visible(b));
    writeln!(
        out,
        "confdrift diff {a_shown} {b_shown}: {} difference(s), baseline {}",
        difference_count(report),
        visible(&report.baseline)
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
                None if one_sided_text(f, a, b).is_some() => {
                    let (present, text) = one_sided_text(f, a, b).unwrap_or_default();
                    let other = if present == a { b } else { a };
                    let other_value = f.values.get(other).and_then(|v| v.as_deref());
                    for env in [a, b] {
                        let env_shown = visible(env);
                        let src = visible(f.sources.get(env).map_or("", String::as_str));
                        match other_value {
                            _ if env == present => {
                                writeln!(out, "    {env_shown:<width$}  from {src}")?
                            }
                            Some(v) => {
                                writeln!(out, "    {env_shown:<width$}  {}  ({src})", visible(v))?
                            }
                            None => writeln!(out, "    {env_shown:<width$}  (not set)")?,
                        }
                    }
                    let label = match other_value {
                        None => "not set",
                        Some(v) if v.starts_with("<unresolved") => "unresolved",
                        Some(_) => "no text",
                    };
                    let nothing = format!("{other} ({label})");
                    for line in against_nothing(text, present, &nothing, &report.baseline)
                        .split_terminator('\n')
                    {
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

/// A multi-line value (a config file) that only one of the two
/// environments has as text (the other has none, or an unresolved or
/// one-line value, so there is no line diff): that environment and the text.
fn one_sided_text<'f>(f: &'f Finding, a: &'f str, b: &'f str) -> Option<(&'f str, &'f str)> {
    let text = |env: &str| {
        f.values
            .get(env)
            .and_then(|v| v.as_deref())
            .filter(|t| t.trim_end().contains('\n') && !t.starts_with("<redacted"))
    };
    match (text(a), text(b)) {
        (Some(t), None) => Some((a, t)),
        (None, Some(t)) => Some((b, t)),
        _ => None,
    }
}

/// A unified diff of `text` against nothing, in the baseline's direction:
/// all `+` when the baseline lacks it, all `-` when only the baseline has it.
fn against_nothing(text: &str, present: &str, nothing: &str, baseline: &str) -> String {
    let (old, new, from, to) = if present == baseline {
        (text, "", present, nothing)
    } else {
        ("", text, nothing, present)
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(from, to)
        .to_string()
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

/// `--workload` / `--key` globs of `confdrift diff`. A key matches by its
/// name (`DB_POOL_SIZE`, a file's path `/etc/x.yaml`) or by the name it is
/// shown under (`file /etc/x.yaml`, `flag FEATURE_X`).
#[derive(Debug, Default)]
pub struct Filter {
    workload: Option<(String, globset::GlobMatcher)>,
    key: Option<(String, globset::GlobMatcher)>,
}

impl Filter {
    pub fn new(workload: Option<&str>, key: Option<&str>) -> crate::error::Result<Filter> {
        let glob = |flag: &str,
                    g: Option<&str>|
         -> crate::error::Result<Option<(String, globset::GlobMatcher)>> {
            g.map(|g| {
                globset::Glob::new(g)
                    .map(|m| (g.to_string(), m.compile_matcher()))
                    .map_err(|e| crate::error::Error::Usage(format!("{flag} {g}: {e}")))
            })
            .transpose()
        };
        Ok(Filter {
            workload: glob("--workload", workload)?,
            key: glob("--key", key)?,
        })
    }

    fn keeps_owner(&self, owner: Option<&str>) -> bool {
        self.workload
            .as_ref()
            .is_none_or(|(_, m)| owner.is_some_and(|w| m.is_match(w)))
    }

    fn keeps_key(&self, kind: Option<crate::model::ConfigKind>, key: Option<&str>) -> bool {
        self.key.as_ref().is_none_or(|(_, m)| {
            key.is_some_and(|k| m.is_match(k) || m.is_match(shown_key(kind, k).as_ref()))
        })
    }

    /// Whether a finding is about a selected workload (or ConfigMap) and key.
    pub fn keeps(&self, f: &Finding) -> bool {
        let owner = f.workload.as_deref().or(f.configmap.as_deref());
        self.keeps_owner(owner) && self.keeps_key(f.kind, f.key.as_deref())
    }

    /// A filter that selects nothing in any of the environments is a
    /// mistake (a typo, a name from another application), not "no
    /// difference": a usage error naming the filter and the nearest names.
    pub fn check(&self, invs: &[crate::model::Inventory]) -> crate::error::Result<()> {
        let envs = invs
            .iter()
            .map(|i| i.env.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        if let Some((glob, _)) = &self.workload {
            let owners: std::collections::BTreeSet<&str> = invs
                .iter()
                .flat_map(|i| {
                    i.workloads
                        .keys()
                        .map(String::as_str)
                        .chain(i.configmaps.iter().map(String::as_str))
                })
                .collect();
            if !owners.iter().any(|o| self.keeps_owner(Some(o))) {
                return Err(no_match(
                    "--workload",
                    glob,
                    "workload or ConfigMap",
                    &envs,
                    owners,
                ));
            }
        }
        if let Some((glob, _)) = &self.key {
            let mut keys = std::collections::BTreeSet::new();
            for i in invs {
                for subject in i.entries.keys() {
                    let owner = subject.scope.workload().or(subject.scope.configmap());
                    if !self.keeps_owner(owner) {
                        continue;
                    }
                    if self.keeps_key(Some(subject.kind), Some(&subject.key)) {
                        return Ok(());
                    }
                    keys.insert(shown_key(Some(subject.kind), &subject.key));
                }
            }
            let what = match &self.workload {
                Some((w, _)) => format!("key in the workloads matching --workload {w}"),
                None => "key".to_string(),
            };
            let keys = keys.iter().map(|k| k.as_ref()).collect();
            return Err(no_match("--key", glob, &what, &envs, keys));
        }
        Ok(())
    }
}

/// A key as the diff shows it: `DB_POOL_SIZE`, `file /etc/x.yaml`, `flag X`.
fn shown_key(kind: Option<crate::model::ConfigKind>, key: &str) -> std::borrow::Cow<'_, str> {
    use crate::model::ConfigKind;
    match kind {
        Some(k @ (ConfigKind::File | ConfigKind::Flag)) => format!("{} {key}", k.as_str()).into(),
        _ => key.into(),
    }
}

/// The usage error of a filter that matches nothing, with up to three of
/// the names nearest to it.
fn no_match(
    flag: &str,
    glob: &str,
    what: &str,
    envs: &str,
    names: std::collections::BTreeSet<&str>,
) -> crate::error::Error {
    let mut near: Vec<(f64, &str)> = names
        .into_iter()
        .map(|n| {
            let score = strsim::jaro_winkler(&glob.to_lowercase(), &n.to_lowercase());
            (score, n)
        })
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    near.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(y.1)));
    let near: Vec<String> = near
        .iter()
        .take(3)
        .map(|(_, n)| visible(n).into_owned())
        .collect();
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    };
    crate::error::Error::Usage(format!(
        "{flag} {} matches no {what} in {}{hint}",
        visible(glob),
        visible(envs)
    ))
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
        if !filter.keeps_owner(owner) || !filter.keeps_key(Some(subject.kind), Some(&subject.key)) {
            continue;
        }
        let value = match &ea.value {
            crate::model::Value::Secret(_) => "<redacted, same>".to_string(),
            v => super::table::cut(&crate::normalize::display_value(v)),
        };
        let key = match subject.kind {
            crate::model::ConfigKind::Env | crate::model::ConfigKind::ConfigMap => {
                subject.key.to_string()
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
pub fn render_equal(
    equal: &[Equal],
    style: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
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
