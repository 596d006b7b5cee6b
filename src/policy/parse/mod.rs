//! Decodes one policy file (`confdrift/v1`) from its spanned YAML tree,
//! collecting every problem with its position instead of stopping at the
//! first. Unknown fields are errors, with the closest valid name suggested.

mod rule;

use regex::Regex;

use super::diagnostic::{Diagnostic, Level, suggest};
use super::model::*;
use super::units::{Typed, Unit, ValueType, read};
use super::yaml::{self, Node, NodeKind, Pos};
use crate::model::{ConfigKind, Severity};

pub const API_VERSION: &str = "confdrift/v1";

const TOP_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "ignore",
    "unmatched",
    "rules",
    "waivers",
];

pub const RULE_FIELDS: &[&str] = &[
    "id",
    "description",
    "key",
    "key_regex",
    "kind",
    "workload",
    "container",
    "configmap",
    "namespace",
    "environments",
    "when",
    "type",
    "unit",
    "equal",
    "allow_differ",
    "required",
    "forbid",
    "one_of",
    "pattern",
    "range",
    "tolerance",
    "relation",
    "changes",
    "severity",
    "severity_by_env",
    "stale",
];

const CHECK_FIELDS: &[&str] = &[
    "equal",
    "required",
    "forbid",
    "one_of",
    "pattern",
    "range",
    "tolerance",
    "type",
    "relation",
    "changes",
];

const WAIVER_FIELDS: &[&str] = &[
    "rule",
    "key",
    "kind",
    "workload",
    "container",
    "configmap",
    "environments",
    "reason",
    "owner",
    "expires",
];

const WHEN_FIELDS: &[&str] = &["key", "kind", "is", "one_of", "present"];
const RANGE_FIELDS: &[&str] = &["min", "max"];
const TOLERANCE_FIELDS: &[&str] = &["percent", "absolute", "baseline"];
const KINDS: &[&str] = &["env", "configmap", "flag", "file"];
const SEVERITIES: &[&str] = &["critical", "warning", "info"];

/// Rule ids of confdrift's built-in findings.
pub const RESERVED_IDS: &[&str] = &[
    "unmatched",
    "dangling-reference",
    "rejected-by-api-server",
    "pod-skew",
    "stale-pod",
];

/// One file's policy, as far as it could be read.
#[derive(Debug, Default)]
pub struct PolicyFile {
    pub ignore: Vec<Pattern>,
    pub unmatched: Option<Unmatched>,
    pub rules: Vec<Rule>,
    pub waivers: Vec<Waiver>,
}

/// Reads one file's text; problems go to `diags`.
pub fn parse_file(file: &str, text: &str, diags: &mut Vec<Diagnostic>) -> PolicyFile {
    let mut d = Decoder {
        file,
        diags,
        rule: None,
    };
    let docs = match yaml::parse(text) {
        Ok(docs) => docs,
        Err(e) => {
            d.error(
                "yaml-syntax",
                e.pos,
                "",
                format!("invalid YAML: {}", e.message),
                None,
            );
            return PolicyFile::default();
        }
    };
    match docs.as_slice() {
        [] => {
            d.error(
                "empty-file",
                Pos { line: 1, column: 1 },
                "",
                "the file holds no policy".into(),
                Some(format!(
                    "start it with `apiVersion: {API_VERSION}` and `kind: Policy`"
                )),
            );
            PolicyFile::default()
        }
        [doc] => d.policy(doc),
        [first, second, ..] => {
            d.error(
                "multiple-documents",
                second.pos,
                "",
                "a policy file holds one YAML document; this is a second one".into(),
                Some("put each policy in its own file".into()),
            );
            d.policy(first)
        }
    }
}

struct Decoder<'a> {
    file: &'a str,
    diags: &'a mut Vec<Diagnostic>,
    /// The id of the rule being read, for context in messages.
    rule: Option<String>,
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

impl Decoder<'_> {
    fn push(
        &mut self,
        level: Level,
        code: &'static str,
        pos: Pos,
        field: &str,
        message: String,
        help: Option<String>,
    ) {
        self.diags.push(Diagnostic {
            level,
            code,
            file: self.file.to_string(),
            line: pos.line,
            col: pos.column,
            field: field.to_string(),
            rule: self.rule.clone(),
            message,
            help,
            source_line: None,
        });
    }

    fn error(
        &mut self,
        code: &'static str,
        pos: Pos,
        field: &str,
        message: String,
        help: Option<String>,
    ) {
        self.push(Level::Error, code, pos, field, message, help);
    }

    fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        self.error(
            "wrong-type",
            node.pos,
            field,
            format!("expected {expected}, found {}", node.describe()),
            None,
        );
    }

    /// The entries of a mapping whose keys are all valid; reports unknown
    /// and duplicate fields.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        valid: &[&str],
        what: &str,
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, path, &format!("a mapping ({what})"));
            return None;
        };
        let mut out: Vec<(&str, &Node)> = Vec::new();
        for (k, v) in pairs {
            let Some(name) = k.scalar() else {
                self.wrong_type(k, path, "a field name");
                continue;
            };
            let field = join(path, name);
            if !valid.contains(&name) {
                self.error(
                    "unknown-field",
                    k.pos,
                    &field,
                    format!("unknown field `{name}` in {what}"),
                    Some(suggest(name, valid, "fields")),
                );
                continue;
            }
            if out.iter().any(|(n, _)| *n == name) {
                self.error(
                    "duplicate-field",
                    k.pos,
                    &field,
                    format!("`{name}` is given twice; only one can count"),
                    None,
                );
                continue;
            }
            out.push((name, v));
        }
        Some(out)
    }

    fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Some(text.clone()),
            _ => {
                self.wrong_type(node, field, "a string");
                None
            }
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, node: &Node, field: &str) -> Option<Vec<(String, Pos)>> {
        match &node.kind {
            NodeKind::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.string(item, &format!("{field}[{i}]")) {
                        out.push((s, item.pos));
                    }
                }
                Some(out)
            }
            NodeKind::Scalar { .. } if !node.is_null() => {
                self.string(node, field).map(|s| vec![(s, node.pos)])
            }
            _ => {
                self.wrong_type(node, field, "a string or a list of strings");
                None
            }
        }
    }

    /// `true` or `false`, unquoted.
    fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Scalar { text, plain: true } if text == "true" => Some(true),
            NodeKind::Scalar { text, plain: true } if text == "false" => Some(false),
            _ => {
                self.wrong_type(node, field, "`true` or `false`");
                None
            }
        }
    }

    fn number(&mut self, node: &Node, field: &str) -> Option<f64> {
        let n = match &node.kind {
            NodeKind::Scalar { text, plain: true } => read(ValueType::Number, None, text)
                .ok()
                .and_then(|t| t.num()),
            _ => None,
        };
        if n.is_none() {
            self.wrong_type(node, field, "a number");
        }
        n
    }

    /// A value from a fixed list, with "did you mean" for typos.
    fn choice<'v>(
        &mut self,
        node: &Node,
        field: &str,
        valid: &[&'v str],
        what: &str,
    ) -> Option<&'v str> {
        let s = self.string(node, field)?;
        match valid.iter().find(|v| **v == s) {
            Some(v) => Some(*v),
            None => {
                self.error(
                    "invalid-value",
                    node.pos,
                    field,
                    format!("`{s}` is not a valid {what}"),
                    Some(suggest(&s, valid, "values")),
                );
                None
            }
        }
    }

    fn severity(&mut self, node: &Node, field: &str) -> Option<Severity> {
        Some(match self.choice(node, field, SEVERITIES, "severity")? {
            "critical" => Severity::Critical,
            "warning" => Severity::Warning,
            _ => Severity::Info,
        })
    }

    /// A severity, or `ignore`.
    fn severity_or_ignore(&mut self, node: &Node, field: &str) -> Option<Option<Severity>> {
        const VALID: &[&str] = &["critical", "warning", "info", "ignore"];
        Some(
            match self.choice(node, field, VALID, "severity (or `ignore`)")? {
                "ignore" => None,
                "critical" => Some(Severity::Critical),
                "warning" => Some(Severity::Warning),
                _ => Some(Severity::Info),
            },
        )
    }

    fn kind(&mut self, node: &Node, field: &str) -> Option<ConfigKind> {
        Some(match self.choice(node, field, KINDS, "kind")? {
            "env" => ConfigKind::Env,
            "configmap" => ConfigKind::ConfigMap,
            "flag" => ConfigKind::Flag,
            _ => ConfigKind::File,
        })
    }

    fn patterns(&mut self, node: &Node, field: &str) -> Option<Vec<Pattern>> {
        let items = self.strings(node, field)?;
        let mut out = Vec::new();
        let many = matches!(node.kind, NodeKind::Seq(_));
        for (i, (text, pos)) in items.into_iter().enumerate() {
            let f = if many {
                format!("{field}[{i}]")
            } else {
                field.to_string()
            };
            match Pattern::new(&text) {
                Ok(p) => out.push(p),
                Err(e) => self.error(
                    "bad-glob",
                    pos,
                    &f,
                    format!("invalid glob `{text}`: {e}"),
                    None,
                ),
            }
        }
        Some(out)
    }

    fn regex(&mut self, node: &Node, field: &str) -> Option<(Regex, String)> {
        let text = self.string(node, field)?;
        match Regex::new(&format!("^(?:{text})$")) {
            Ok(r) => Some((r, text)),
            Err(e) => {
                let why = e.to_string();
                let why = why
                    .lines()
                    .find_map(|l| l.strip_prefix("error: "))
                    .unwrap_or(why.lines().last().unwrap_or(""))
                    .to_string();
                self.error(
                    "bad-regex",
                    node.pos,
                    field,
                    format!("invalid regular expression `{text}`: {why}"),
                    None,
                );
                None
            }
        }
    }

    fn policy(&mut self, doc: &Node) -> PolicyFile {
        let mut out = PolicyFile::default();
        let Some(fields) = self.fields(doc, "", TOP_FIELDS, "a policy") else {
            return out;
        };
        for (required, want) in [("apiVersion", API_VERSION), ("kind", "Policy")] {
            match fields.iter().find(|(n, _)| *n == required) {
                None => self.error(
                    "missing-field",
                    doc.pos,
                    required,
                    format!("`{required}` is missing"),
                    Some(format!("add `{required}: {want}`")),
                ),
                Some((_, v)) => {
                    if let Some(s) = self.string(v, required)
                        && s != want
                    {
                        self.error(
                            "unsupported-version",
                            v.pos,
                            required,
                            format!("`{s}` is not supported"),
                            Some(format!("this confdrift reads `{required}: {want}`")),
                        );
                    }
                }
            }
        }
        for (name, v) in &fields {
            match *name {
                "ignore" => out.ignore = self.patterns(v, "ignore").unwrap_or_default(),
                "unmatched" => {
                    out.unmatched = self.severity_or_ignore(v, "unmatched").map(|s| match s {
                        Some(s) => Unmatched::Report(s),
                        None => Unmatched::Ignore,
                    })
                }
                "rules" => match &v.kind {
                    NodeKind::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(rule) = self.rule(item, &format!("rules[{i}]")) {
                                out.rules.push(rule);
                            }
                            self.rule = None;
                        }
                    }
                    _ if v.is_null() => {}
                    _ => self.wrong_type(v, "rules", "a list of rules"),
                },
                "waivers" => match &v.kind {
                    NodeKind::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(w) = self.waiver(item, &format!("waivers[{i}]")) {
                                out.waivers.push(w);
                            }
                        }
                    }
                    _ if v.is_null() => {}
                    _ => self.wrong_type(v, "waivers", "a list of waivers"),
                },
                _ => {}
            }
        }
        out
    }

    fn location(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_string(),
            pos,
        }
    }

    fn waiver(&mut self, node: &Node, path: &str) -> Option<Waiver> {
        self.rule = None;
        let fields = self.fields(node, path, WAIVER_FIELDS, "a waiver")?;
        let get = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let before = self.error_count();
        let required = |d: &mut Self, name: &str, help: &str| -> Option<String> {
            match get(name) {
                Some(v) => {
                    let s = d.string(v, &join(path, name))?;
                    if s.trim().is_empty() {
                        d.error(
                            "invalid-value",
                            v.pos,
                            &join(path, name),
                            format!("`{name}` is empty"),
                            Some(help.into()),
                        );
                        return None;
                    }
                    Some(s)
                }
                None => {
                    d.error(
                        "missing-field",
                        node.pos,
                        &join(path, name),
                        format!("a waiver needs `{name}`"),
                        Some(help.into()),
                    );
                    None
                }
            }
        };
        let rule = required(self, "rule", "the id of the rule whose findings it accepts");
        let reason = required(
            self,
            "reason",
            "say why the finding is accepted, so the next person can judge it",
        );
        let one = |d: &mut Self, name: &str| -> Option<Pattern> {
            let v = get(name)?;
            let f = join(path, name);
            let s = d.string(v, &f)?;
            Pattern::new(&s)
                .map_err(|e| {
                    d.error(
                        "bad-glob",
                        v.pos,
                        &f,
                        format!("invalid glob `{s}`: {e}"),
                        None,
                    )
                })
                .ok()
        };
        let key = one(self, "key");
        let workload = one(self, "workload");
        let container = one(self, "container");
        let configmap = one(self, "configmap");
        let kind = get("kind").and_then(|v| self.kind(v, &join(path, "kind")));
        let environments = get("environments")
            .and_then(|v| self.patterns(v, &join(path, "environments")))
            .unwrap_or_default();
        let owner = get("owner").and_then(|v| self.string(v, &join(path, "owner")));
        let expires = get("expires").and_then(|v| {
            let f = join(path, "expires");
            let s = self.string(v, &f)?;
            let d = super::date::parse(&s);
            if d.is_none() {
                self.error(
                    "bad-date",
                    v.pos,
                    &f,
                    format!("`{s}` is not a date"),
                    Some(
                        "write the last day the waiver applies as YYYY-MM-DD, e.g. 2027-01-31"
                            .into(),
                    ),
                );
            }
            d
        });
        if self.error_count() > before {
            return None;
        }
        Some(Waiver {
            rule: rule?,
            key,
            kind,
            workload,
            container,
            configmap,
            environments,
            reason: reason?,
            owner,
            expires,
            at: self.location(node.pos),
            path: path.to_string(),
            rule_pos: get("rule").map_or(node.pos, |v| v.pos),
            expires_pos: get("expires").map_or(node.pos, |v| v.pos),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (PolicyFile, Vec<String>) {
        let mut diags = Vec::new();
        let p = parse_file("p.yaml", text, &mut diags);
        (p, diags.iter().map(|d| d.to_string()).collect())
    }

    const HEAD: &str = "apiVersion: confdrift/v1\nkind: Policy\n";

    #[test]
    fn a_full_rule_reads_without_errors() {
        let (p, errs) = parse(&format!(
            "{HEAD}ignore: [HOSTNAME]\nunmatched: warning\nrules:\n  - id: t\n    key: \"*TIMEOUT_MS\"\n    unit: ms\n    range: {{min: 1s, max: 30000}}\n    tolerance: {{percent: 20, baseline: prod}}\n    severity: warning\n    severity_by_env: {{prod: critical}}\n"
        ));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(p.rules.len(), 1);
        let r = &p.rules[0];
        assert_eq!(r.value_type, Some(ValueType::Duration));
        assert_eq!(r.severity_in("prod"), Severity::Critical);
        assert_eq!(r.severity_in("dev"), Severity::Warning);
        assert!(matches!(&r.checks[0], Check::Range { min: Some(b), .. } if b.value == 1e9));
        assert_eq!(p.unmatched, Some(Unmatched::Report(Severity::Warning)));
    }

    #[test]
    fn every_problem_of_a_file_is_reported_in_one_pass() {
        let (_, errs) = parse(&format!(
            "{HEAD}rules:\n  - id: a\n    key: X\n    equals: true\n  - id: b\n    key: \"[\"\n    equal: true\n    severity: crit\n"
        ));
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(
            errs[0].starts_with(
                "p.yaml:6:5: error[unknown-field]: rules[0].equals (rule a): unknown field `equals`"
            ),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("did you mean `equal`?"));
        assert!(errs[1].contains("bad-glob"), "{}", errs[1]);
        assert!(errs[2].contains("did you mean `critical`?"), "{}", errs[2]);
    }
}
