//! policy: the `confdrift/v1` policy language, which says which drift is
//! risky. Reading it (`parse`, with positions from `yaml`), the problems a
//! file can have (`diagnostic`), reading values as types and units
//! (`units`), and which findings a waiver accepts (`waivers`). Applying the
//! rules is the evaluate stage's (`evaluate::rules`).
//!
//! Loading never stops at the first problem: every file is read and every
//! problem collected, so `policy lint` shows them all. It never reads the
//! clock: "today" is passed in.

pub mod date;
pub mod diagnostic;
pub mod model;
pub mod parse;
pub mod units;
pub mod waivers;
pub(crate) mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use date::Date;
pub use diagnostic::{Diagnostic, Level};
pub use model::PolicySet;

use crate::limits::MAX_POLICY_BYTES;
use diagnostic::suggest;
use model::Location;

/// The policy directory used when none is given.
pub const DEFAULT_DIR: &str = "policies";

/// The merged policy and everything found wrong (or worth a warning) in it.
#[derive(Debug, Default)]
pub struct Loaded {
    pub set: PolicySet,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Every diagnostic (of one level, or all), one per line plus help lines,
    /// in file and line order.
    pub fn render(&self, level: Option<Level>) -> String {
        let mut out = String::new();
        for d in self
            .diagnostics
            .iter()
            .filter(|d| level.is_none_or(|l| d.level == l))
        {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        out
    }
}

fn whole_file(code: &'static str, file: &str, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        code,
        file: file.to_string(),
        line: 0,
        col: 0,
        field: String::new(),
        rule: None,
        message,
        help,
        source_line: None,
    }
}

/// The files behind the given paths, in the order they merge: paths as
/// given; a directory's `*.yaml`/`*.yml` files (not its subdirectories) by
/// name. A file named twice is read once.
pub fn policy_files(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut add = |p: PathBuf, out: &mut Vec<PathBuf>| {
        let id = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
        if seen.insert(id) {
            out.push(p);
        }
    };
    for path in paths {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) => diags.push(whole_file(
                "io",
                &shown,
                format!("cannot read policy path: {e}"),
                None,
            )),
            Ok(m) if m.is_dir() => {
                let entries = match std::fs::read_dir(path) {
                    Ok(rd) => rd,
                    Err(e) => {
                        diags.push(whole_file(
                            "io",
                            &shown,
                            format!("cannot read directory: {e}"),
                            None,
                        ));
                        continue;
                    }
                };
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        !name.starts_with('.')
                            && (name.ends_with(".yaml") || name.ends_with(".yml"))
                            && p.is_file()
                    })
                    .collect();
                files.sort();
                if files.is_empty() {
                    diags.push(whole_file(
                        "no-policy-files",
                        &shown,
                        "the directory holds no *.yaml or *.yml policy file".into(),
                        None,
                    ));
                }
                for f in files {
                    add(f, &mut out);
                }
            }
            Ok(_) => add(path.clone(), &mut out),
        }
    }
    out
}

/// Reads and merges the policies at `paths`. Rules and waivers keep the
/// order of the files; `ignore` lists add up; the last file that sets
/// `unmatched` decides it. `today` only decides which waivers are
/// reported as expired.
pub fn load(paths: &[PathBuf], today: Date) -> Loaded {
    let mut diags = Vec::new();
    let mut sources = Vec::new();
    for path in policy_files(paths, &mut diags) {
        let shown = path.display().to_string();
        match crate::fsio::read_at_most(&path, MAX_POLICY_BYTES) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => sources.push((shown, t)),
                Err(_) => diags.push(whole_file(
                    "io",
                    &shown,
                    "the file is not valid UTF-8".into(),
                    None,
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => diags.push(whole_file(
                "io",
                &shown,
                format!(
                    "the file {e}, larger than the {} confdrift reads from a policy file",
                    crate::fsio::mebibytes(MAX_POLICY_BYTES)
                ),
                Some(
                    "a policy takes a few hundred kilobytes: is this the right file? Split a \
                     generated one into several files in a policy directory"
                        .into(),
                ),
            )),
            Err(e) => diags.push(whole_file("io", &shown, format!("cannot read: {e}"), None)),
        }
    }
    merge(&sources, today, diags)
}

/// [`load`] for policies already read: `(name, text)` in merge order.
pub fn load_sources(sources: &[(String, String)], today: Date) -> Loaded {
    merge(sources, today, Vec::new())
}

fn merge(sources: &[(String, String)], today: Date, mut diags: Vec<Diagnostic>) -> Loaded {
    let mut set = PolicySet::default();
    let mut first_seen: BTreeMap<String, Location> = BTreeMap::new();
    for (shown, text) in sources {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file = parse::parse_file(shown, text, &mut diags);
        let (rules, waivers) = (file.rules.len(), file.waivers.len());
        tracing::debug!(file = %shown, bytes = text.len(), rules, waivers, "policy file read");
        set.files.push(shown.clone());
        set.ignore.extend(file.ignore);
        if let Some(u) = file.unmatched {
            set.unmatched = u;
        }
        for rule in file.rules {
            if let Some(first) = first_seen.get(&rule.id) {
                diags.push(Diagnostic {
                    level: Level::Error,
                    code: "duplicate-rule",
                    file: rule.at.file.clone(),
                    line: rule.id_pos.line,
                    col: rule.id_pos.column,
                    field: format!("{}.id", rule.path),
                    rule: Some(rule.id.clone()),
                    message: format!(
                        "rule id `{}` is already defined at {}:{}:{}",
                        rule.id, first.file, first.pos.line, first.pos.column
                    ),
                    help: Some(
                        "rule ids must be unique across all merged policy files; rename one".into(),
                    ),
                    source_line: None,
                });
                continue;
            }
            first_seen.insert(
                rule.id.clone(),
                Location {
                    file: rule.at.file.clone(),
                    pos: rule.id_pos,
                },
            );
            set.rules.push(rule);
        }
        set.waivers.extend(file.waivers);
    }

    // Waivers must name a rule that exists once everything is merged.
    let mut known: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    known.extend(parse::RESERVED_IDS);
    let mut keep = Vec::new();
    for w in std::mem::take(&mut set.waivers) {
        if !known.contains(&w.rule.as_str()) {
            diags.push(Diagnostic {
                level: Level::Error,
                code: "unknown-rule",
                file: w.at.file.clone(),
                line: w.rule_pos.line,
                col: w.rule_pos.column,
                field: format!("{}.rule", w.path),
                rule: None,
                message: format!(
                    "the waiver names rule `{}`, which no policy defines",
                    w.rule
                ),
                help: Some(suggest(&w.rule, &known, "rule ids")),
                source_line: None,
            });
            continue;
        }
        if let Some(exp) = w.expires.filter(|_| w.expired(today)) {
            diags.push(Diagnostic {
                level: Level::Warning,
                code: "waiver-expired",
                file: w.at.file.clone(),
                line: w.expires_pos.line,
                col: w.expires_pos.column,
                field: format!("{}.expires", w.path),
                rule: None,
                message: format!(
                    "the waiver for {} expired on {exp} and no longer applies",
                    w.scope()
                ),
                help: Some("renew it with a new date, or fix what it waived and remove it".into()),
                source_line: None,
            });
        }
        keep.push(w);
    }
    set.waivers = keep;
    diags.sort_by(|a, b| {
        (&a.file, a.line, a.col, a.level, a.code, &a.field)
            .cmp(&(&b.file, b.line, b.col, b.level, b.code, &b.field))
    });
    // Each diagnostic shows the line it is about (a policy holds no secrets).
    for d in &mut diags {
        if let Some((_, text)) = sources.iter().find(|(shown, _)| *shown == d.file) {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            d.set_source(text, 1);
        }
    }
    Loaded {
        set,
        diagnostics: diags,
    }
}

/// `policies/` in the working directory, if it exists.
pub fn default_paths() -> Vec<PathBuf> {
    let p = Path::new(DEFAULT_DIR);
    if p.is_dir() {
        vec![p.to_path_buf()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
