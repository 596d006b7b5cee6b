//! A policy as confdrift understands it after reading and checking the
//! YAML: globs compiled, regexes compiled, bounds read in the rule's unit.
//! Nothing here can be invalid; `parse.rs` refuses what would be.

use std::fmt;

use globset::{Glob, GlobMatcher};
use regex::Regex;

use super::date::Date;
use super::units::{Typed, Unit, ValueType};
use super::yaml::Pos;
use crate::model::{ConfigKind, Severity};

/// Where something was written: `policies/default.yaml:12`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos.line)
    }
}

/// A glob as written, compiled.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        Glob::new(text)
            .map(|g| Pattern {
                text: text.to_string(),
                matcher: g.compile_matcher(),
            })
            .map_err(|e| e.kind().to_string())
    }

    pub fn matches(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }

    /// No glob syntax at all: the pattern names exactly one thing.
    pub fn is_literal(&self) -> bool {
        !self.text.contains(['*', '?', '[', '{', '\\'])
    }
}

pub fn any_match(patterns: &[Pattern], s: &str) -> bool {
    patterns.iter().any(|p| p.matches(s))
}

/// The rules of every policy file, merged in the order the files were given.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// The files read, as named.
    pub files: Vec<String>,
    pub ignore: Vec<Pattern>,
    pub unmatched: Unmatched,
    pub rules: Vec<Rule>,
    pub waivers: Vec<Waiver>,
}

/// What to do with drift no rule speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    Report(Severity),
    Ignore,
}

impl Default for Unmatched {
    fn default() -> Self {
        Unmatched::Report(Severity::Info)
    }
}

/// What to do when a rule selects nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    Report(Severity),
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: Option<String>,
    pub at: Location,
    /// Where the id was written, and the rule's path (`rules[3]`) in its file.
    pub id_pos: Pos,
    pub path: String,
    pub select: Selector,
    pub when: Option<When>,
    /// `type:`, else the dimension of `unit:`, else none.
    pub value_type: Option<ValueType>,
    pub unit: Option<Unit>,
    pub checks: Vec<Check>,
    pub severity: Severity,
    /// Environment glob → severity; the first match wins.
    pub severity_by_env: Vec<(Pattern, Severity)>,
    pub stale: Stale,
}

impl Rule {
    pub fn severity_in(&self, env: &str) -> Severity {
        self.severity_by_env
            .iter()
            .find(|(p, _)| p.matches(env))
            .map_or(self.severity, |(_, s)| *s)
    }

    /// The type ordered checks read values as: the rule's, else a number.
    pub fn ordered_type(&self) -> ValueType {
        self.value_type.unwrap_or(ValueType::Number)
    }

    pub fn has(&self, f: impl Fn(&Check) -> bool) -> bool {
        self.checks.iter().any(f)
    }
}

/// Which values a rule looks at. Every given field must match.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Key globs; any may match. Empty when only `key_regex` is given.
    pub keys: Vec<Pattern>,
    /// Anchored: the whole key must match.
    pub key_regex: Option<(Regex, String)>,
    pub kinds: Vec<ConfigKind>,
    pub workloads: Vec<Pattern>,
    pub containers: Vec<Pattern>,
    pub configmaps: Vec<Pattern>,
    pub namespaces: Vec<Pattern>,
    pub environments: Vec<Pattern>,
}

/// A precondition: check only where another key of the same container (or
/// ConfigMap) has a given value.
#[derive(Debug, Clone)]
pub struct When {
    pub key: String,
    pub kind: Option<ConfigKind>,
    pub condition: Condition,
}

#[derive(Debug, Clone)]
pub enum Condition {
    Is(String),
    OneOf(Vec<String>),
    Present(bool),
}

#[derive(Debug, Clone)]
pub enum Check {
    Equal {
        allow_differ: Vec<Pattern>,
    },
    Required,
    Forbid(Vec<Literal>),
    OneOf(Vec<Literal>),
    Pattern {
        regex: Regex,
        text: String,
    },
    Range {
        min: Option<Bound>,
        max: Option<Bound>,
    },
    Tolerance {
        amount: Amount,
        baseline: Option<String>,
    },
    Type,
    Relation(Vec<Relation>),
    /// `changes: true`: in a deploy gate (`--candidate`), any change of a
    /// matching key in the environment deployed to is a finding of the
    /// rule's severity. Outside a deploy it checks nothing.
    Changes,
}

impl Check {
    /// The field that wrote it.
    pub fn name(&self) -> &'static str {
        match self {
            Check::Equal { .. } => "equal",
            Check::Required => "required",
            Check::Forbid(_) => "forbid",
            Check::OneOf(_) => "one_of",
            Check::Pattern { .. } => "pattern",
            Check::Range { .. } => "range",
            Check::Tolerance { .. } => "tolerance",
            Check::Type => "type",
            Check::Relation(_) => "relation",
            Check::Changes => "changes",
        }
    }

    /// Checks that look at what a value is (and so cannot look at a Secret).
    pub fn reads_values(&self) -> bool {
        !matches!(self, Check::Equal { .. } | Check::Required | Check::Changes)
    }
}

/// A value in `forbid` or `one_of`, read as the rule's type when it has one.
#[derive(Debug, Clone)]
pub struct Literal {
    pub text: String,
    pub typed: Option<Typed>,
}

/// A `range` bound or `absolute` tolerance, as written and as read.
#[derive(Debug, Clone)]
pub struct Bound {
    pub text: String,
    pub value: f64,
}

#[derive(Debug, Clone)]
pub enum Amount {
    Percent(f64),
    Absolute(Bound),
}

/// `prod >= staging`.
#[derive(Debug, Clone)]
pub struct Relation {
    pub left: String,
    pub op: Op,
    pub right: String,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.left, self.op.as_str(), self.right)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Op {
    /// Longest first, so `>=` is not read as `>`.
    pub const ALL: &'static [(&'static str, Op)] = &[
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }

    pub fn holds(self, a: f64, b: f64) -> bool {
        let eq = super::units::approx_eq(a, b);
        match self {
            Op::Lt => a < b && !eq,
            Op::Le => a < b || eq,
            Op::Eq => eq,
            Op::Ne => !eq,
            Op::Ge => a > b || eq,
            Op::Gt => a > b && !eq,
        }
    }
}

/// An accepted finding: reported as waived, not counted by the gate.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub key: Option<Pattern>,
    pub kind: Option<ConfigKind>,
    pub workload: Option<Pattern>,
    pub container: Option<Pattern>,
    pub configmap: Option<Pattern>,
    pub environments: Vec<Pattern>,
    pub reason: String,
    pub owner: Option<String>,
    /// The last day the waiver applies.
    pub expires: Option<Date>,
    pub at: Location,
    /// The waiver's path (`waivers[2]`) in its file, and where its `rule`
    /// and `expires` were written.
    pub path: String,
    pub rule_pos: Pos,
    pub expires_pos: Pos,
}

impl Waiver {
    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| today > d)
    }

    /// What it covers, for messages: `rule timeout-bounds, workload legacy-*`.
    pub fn scope(&self) -> String {
        let mut parts = vec![format!("rule {}", self.rule)];
        let mut add = |name: &str, p: &Option<Pattern>| {
            if let Some(p) = p {
                parts.push(format!("{name} {}", p.text));
            }
        };
        add("key", &self.key);
        add("workload", &self.workload);
        add("container", &self.container);
        add("configmap", &self.configmap);
        if let Some(k) = self.kind {
            parts.push(format!("kind {}", k.as_str()));
        }
        if !self.environments.is_empty() {
            let envs: Vec<&str> = self.environments.iter().map(|p| p.text.as_str()).collect();
            parts.push(format!("environments {}", envs.join(", ")));
        }
        parts.join(", ")
    }

    /// The text a waived finding carries: why, who, until when, where.
    pub fn describe(&self) -> String {
        let mut s = self.reason.clone();
        let mut meta = Vec::new();
        if let Some(o) = &self.owner {
            meta.push(format!("owner {o}"));
        }
        if let Some(d) = self.expires {
            meta.push(format!("until {d}"));
        }
        meta.push(self.at.to_string());
        s.push_str(&format!(" ({})", meta.join(", ")));
        s
    }
}
