//! report: render an audit's result in the requested format and decide the
//! exit code.
//!
//! [`Report`] is the one display model every format is drawn from; values in
//! it are already redacted. Renderers write to `impl Write`; [`render`] is
//! the one entry point for the formats of `audit`.

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod nightly;
pub mod prometheus;
pub mod sarif;
pub mod shown;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use crate::evaluate::{PolicyUse, Summary, Suppressed, UNMATCHED, summarize};
use crate::model::{Finding, Inventory, Origin, Problem, Scope, Severity};

pub use crate::display::{visible, visible_lines};

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// A pull-request comment: summary line, critical findings, the rest folded.
    Markdown,
    /// SARIF 2.1.0, for code-scanning views (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// JUnit XML, for the test views of CI systems.
    Junit,
}

/// What every format shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub baseline: String,
    /// Environment names in the order they were given.
    pub envs: Vec<String>,
    pub environments: Vec<EnvironmentReport>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// What the policy hid from the findings or the gate (ignored keys,
    /// waived findings, …): every format says it.
    pub suppressed: Suppressed,
    /// Which policy files were applied.
    pub policy: PolicyUse,
    /// `--candidate`: the deploy gate's view. `findings` are then those of
    /// the environments as they will be after the deploy.
    pub deploy: Option<DeployView>,
}

/// The deploy gate (`--candidate PATH --against TARGET,…`): the policy is
/// evaluated on the environments as they are today and as they will be
/// after the candidate is applied to TARGET; the gate judges what the
/// deploy introduces.
#[derive(Debug, Clone, Default)]
pub struct DeployView {
    /// The environment deployed to (the first `--against`).
    pub target: String,
    /// Where the candidate was read from.
    pub candidate: String,
    /// Identities ([`finding_identity`]) of the findings that are there
    /// today already.
    pub existing: BTreeSet<String>,
    /// Findings of today that the deploy makes go away.
    pub resolved: Vec<Finding>,
    /// What the deploy changes in the target, key by key.
    pub changes: Vec<crate::evaluate::Change>,
    /// `--fail-on-existing`: findings already there count for the gate too.
    pub fail_on_existing: bool,
}

impl DeployView {
    pub fn is_existing(&self, f: &Finding) -> bool {
        self.existing.contains(&finding_identity(f))
    }

    /// Of `findings` (those after the deploy): how many the deploy
    /// introduces, and how many are there already.
    pub fn new_and_existing(&self, findings: &[Finding]) -> (usize, usize) {
        let existing = findings.iter().filter(|f| self.is_existing(f)).count();
        (findings.len() - existing, existing)
    }
}

/// What makes two findings the same finding, today and after a deploy (or
/// from one nightly run to the next): rule, code and subject, never values.
pub fn finding_identity(f: &Finding) -> String {
    let mut id = format!("{}\u{0}{}", f.rule, f.code);
    for part in subject_key(f) {
        id.push('\u{0}');
        id.push_str(part);
    }
    id
}

#[derive(Debug, Clone)]
pub struct EnvironmentReport {
    pub name: String,
    pub source: String,
    pub complete: bool,
    pub workloads: usize,
    pub containers: usize,
    pub keys: usize,
    pub unresolved: usize,
    pub configmaps: usize,
    pub skipped_kinds: BTreeMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Names rewritten by `rename` rules: compared name → name in the cluster.
    pub renamed: BTreeMap<String, String>,
    /// The workloads seen, by the name they are compared under.
    pub workload_names: Vec<String>,
    /// The namespace of each workload, and of each ConfigMap, seen here.
    pub workload_namespaces: BTreeMap<String, String>,
    pub configmap_namespaces: BTreeMap<String, String>,
    /// The manifest file and line of each workload (its controller, else a
    /// pod) and ConfigMap, for environments read from files.
    pub workload_origins: BTreeMap<String, Origin>,
    pub configmap_origins: BTreeMap<String, Origin>,
}

impl Report {
    pub fn new(baseline: &str, invs: &[Inventory], findings: Vec<Finding>) -> Self {
        let environments = invs
            .iter()
            .map(|i| EnvironmentReport {
                name: i.env.clone(),
                source: i.source.clone(),
                complete: i.complete(),
                workloads: i.workloads.len(),
                containers: i.workloads.values().map(|w| w.containers.len()).sum(),
                keys: i.entries.len(),
                unresolved: i.unresolved(),
                configmaps: i.configmaps.len(),
                skipped_kinds: i.skipped_kinds.clone(),
                problems: i.problems.clone(),
                renamed: i.renamed.clone(),
                workload_names: i.workloads.keys().cloned().collect(),
                workload_namespaces: i
                    .workloads
                    .iter()
                    .map(|(name, w)| (name.clone(), w.namespace.clone()))
                    .collect(),
                configmap_namespaces: i
                    .entries
                    .iter()
                    .filter_map(|(s, e)| match &s.scope {
                        Scope::ConfigMap { name } => {
                            Some((name.to_string(), e.namespace.to_string()))
                        }
                        Scope::Container { .. } => None,
                    })
                    .collect(),
                workload_origins: i
                    .workloads
                    .iter()
                    .filter_map(|(name, w)| Some((name.clone(), w.origin.clone()?)))
                    .collect(),
                configmap_origins: i.configmap_origins.clone(),
            })
            .collect();
        Report {
            baseline: baseline.to_string(),
            envs: invs.iter().map(|i| i.env.clone()).collect(),
            environments,
            summary: summarize(&findings),
            findings,
            suppressed: Suppressed::default(),
            policy: PolicyUse::default(),
            deploy: None,
        }
    }

    /// The report of an evaluation: its findings and what it suppressed.
    pub fn from_evaluation(
        baseline: &str,
        invs: &[Inventory],
        eval: crate::evaluate::Evaluation,
    ) -> Self {
        let mut report = Report::new(baseline, invs, eval.findings);
        report.suppressed = eval.suppressed;
        report.policy = eval.policy;
        report
    }

    pub fn complete(&self) -> bool {
        self.environments.iter().all(|e| e.complete)
    }

    /// The highest severity of a finding that counts for the gate: not
    /// waived, and in a deploy gate introduced by the deploy (unless
    /// `--fail-on-existing`).
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| self.counts_for_gate(f))
            .map(|f| f.severity)
            .max()
    }

    /// Whether a finding can fail the gate: not waived, and not one a
    /// deploy finds already there (unless `--fail-on-existing`).
    pub fn counts_for_gate(&self, f: &Finding) -> bool {
        f.waiver.is_none()
            && self
                .deploy
                .as_ref()
                .is_none_or(|d| d.fail_on_existing || !d.is_existing(f))
    }
}

/// The gate threshold of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Critical => "critical",
            FailOn::Warning => "warning",
            FailOn::Info => "info",
            FailOn::Never => "never",
        }
    }
}

/// Exit codes of the contract (DESIGN.md).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INCOMPLETE: i32 = 3;
}

/// `3` when an environment is incomplete and partial views are not allowed,
/// else `1` when a finding reaches the threshold, else `0`.
pub fn exit_code(report: &Report, fail_on: FailOn, allow_partial: bool) -> i32 {
    if !report.complete() && !allow_partial {
        return exit::INCOMPLETE;
    }
    match (fail_on.threshold(), report.max_severity()) {
        (Some(t), Some(max)) if max >= t => exit::FINDINGS,
        _ => exit::OK,
    }
}

/// Options for rendering: how a report looks, how long it may be, and the
/// gate it is shown against. Never what was found.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    /// Table width; `None` asks the terminal.
    pub width: Option<u16>,
    /// The gate (`--fail-on`, `--allow-partial`): JUnit fails the test cases
    /// at or above it, Markdown says whether the run passes it.
    pub fail_on: FailOn,
    pub allow_partial: bool,
    /// Markdown: at most this many characters (a PR comment's limit). Whole
    /// sections are cut from the end and the cut is said.
    pub max_length: Option<usize>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: Some(100),
            fail_on: FailOn::Critical,
            allow_partial: false,
            max_length: None,
        }
    }
}

pub fn render(
    report: &Report,
    format: Format,
    style: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Markdown => markdown::render(report, style, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, style, out),
    }
}

/// A rule as the gate formats list it (SARIF `rules`, a JUnit suite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEntry {
    pub id: String,
    pub description: String,
    /// The rule's severity; `unmatched` takes the policy's and has none.
    pub severity: Option<Severity>,
    /// Where a policy rule is written (file, line); `None` for built-ins.
    pub defined_at: Option<(String, usize)>,
}

/// The rules confdrift applies whatever the policy says; an empty
/// description means the finding code of the same name says it.
const BUILTIN_RULES: &[(&str, &str, Option<Severity>)] = &[
    (
        UNMATCHED,
        "drift that no policy rule speaks to: a value differs, or a key, workload, container or ConfigMap is missing somewhere, or a value is unresolved",
        None,
    ),
    ("dangling-reference", "", Some(Severity::Critical)),
    ("pod-skew", "", Some(Severity::Warning)),
    ("stale-pod", "", Some(Severity::Warning)),
];

/// Every rule of the run: the policy's in policy order, then the built-in
/// ones, then any other rule a finding names.
pub fn rules_checked(report: &Report) -> Vec<RuleEntry> {
    let mut out: Vec<RuleEntry> = report
        .policy
        .rule_list
        .iter()
        .map(|r| RuleEntry {
            id: r.id.clone(),
            description: r.description.clone(),
            severity: Some(r.severity),
            defined_at: Some((r.file.clone(), r.line)),
        })
        .collect();
    for (id, description, severity) in BUILTIN_RULES {
        let description = match description {
            &"" => code_description(id).unwrap_or_default(),
            d => d,
        };
        out.push(RuleEntry {
            id: id.to_string(),
            description: description.to_string(),
            severity: *severity,
            defined_at: None,
        });
    }
    for f in &report.findings {
        if !out.iter().any(|r| r.id == f.rule) {
            out.push(RuleEntry {
                id: f.rule.clone(),
                description: code_description(&f.code).unwrap_or_default().to_string(),
                severity: None,
                defined_at: None,
            });
        }
    }
    out
}

/// What a finding code means ([`crate::codes::FindingCode`]).
pub fn code_description(code: &str) -> Option<&'static str> {
    crate::codes::FindingCode::parse(code).map(crate::codes::FindingCode::description)
}

/// What a finding is about, without its values: rule, environment (for
/// findings about one), workload, container, ConfigMap, kind and key. It
/// stays the same when the values change.
pub fn subject_key(f: &Finding) -> [&str; 7] {
    [
        f.rule.as_str(),
        f.environment.as_deref().unwrap_or(""),
        f.workload.as_deref().unwrap_or(""),
        f.container.as_deref().unwrap_or(""),
        f.configmap.as_deref().unwrap_or(""),
        f.kind.map(|k| k.as_str()).unwrap_or(""),
        f.key.as_deref().unwrap_or(""),
    ]
}

pub use crate::display::location;

/// The key with its kind, for people: `DB_POOL_SIZE`, `flag FEATURE_X`.
pub fn key_label(f: &Finding) -> String {
    use crate::model::ConfigKind;
    match (f.kind, &f.key) {
        (Some(ConfigKind::Env) | None, Some(k)) => k.clone(),
        (Some(ConfigKind::Flag), Some(k)) => format!("flag {k}"),
        (Some(ConfigKind::File), Some(k)) => format!("file {k}"),
        (Some(ConfigKind::ConfigMap), Some(k)) => k.clone(),
        (_, None) => f.code.clone(),
    }
}

/// Whether a finding is about values lined up across environments (shown
/// in the table) rather than about one environment or the policy itself.
pub fn is_cross_env(f: &Finding) -> bool {
    f.environment.is_none() && !is_policy_note(f)
}

/// A finding about the policy rather than the configuration (a stale rule,
/// an expired or unused waiver): no environment and no subject.
pub fn is_policy_note(f: &Finding) -> bool {
    f.environment.is_none() && f.workload.is_none() && f.configmap.is_none() && f.key.is_none()
}

/// `policies/default.yaml (14 rules, 1 waiver)`, or that none was applied.
pub fn policy_line(report: &Report) -> String {
    let p = &report.policy;
    if p.files.is_empty() {
        return "none (every difference is reported as `unmatched`)".to_string();
    }
    format!(
        "{} ({} rule(s), {} waiver(s))",
        p.files.join(", "),
        p.rules,
        p.waivers
    )
}

/// What was suppressed, in one line for people.
pub fn suppressed_line(report: &Report) -> String {
    let phrases = report.suppressed.phrases();
    if phrases.is_empty() {
        "nothing".to_string()
    } else {
        phrases.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character class [`visible`] writes out, as raw input.
    const HOSTILE: &str = "\u{1b}[2J\u{1b}]8;;http://evil\u{7}\r\u{8}\u{9b}1A\u{202e}\u{2066}\t";

    fn hostile(what: &str) -> String {
        format!("{what}{HOSTILE}")
    }

    /// A report with input-derived text in every field a renderer shows.
    fn hostile_report() -> Report {
        use crate::evaluate::{IgnoredKeys, RuleInfo};
        use crate::model::{ConfigKind, Finding, Problem};
        let (a, b) = (hostile("a"), hostile("b"));
        let finding = |rule: &str, env: Option<&str>, key: Option<&str>| Finding {
            rule: rule.into(),
            environment: env.map(String::from),
            code: hostile("code"),
            severity: Severity::Critical,
            workload: key.map(|_| hostile("web")),
            container: key.map(|_| hostile("app")),
            configmap: None,
            kind: key.map(|_| ConfigKind::File),
            key: key.map(String::from),
            values: BTreeMap::from([
                (a.clone(), Some(hostile("one"))),
                (b.clone(), Some(format!("{}\nline two", hostile("two")))),
            ]),
            sources: BTreeMap::from([(a.clone(), hostile("cm")), (b.clone(), hostile("cm2"))]),
            message: hostile("message"),
            diff: Some(format!(
                "--- {b}\n+++ {a}\n@@ -1 +1 @@\n-{}\n+x\n",
                hostile("old")
            )),
            waiver: Some(hostile("waiver")),
            environments: vec![a.clone()],
        };
        let findings = vec![
            finding(&hostile("rule"), None, Some(&hostile("key"))),
            finding(&hostile("rule"), Some(&a), Some(&hostile("key"))),
            finding(&hostile("stale"), None, None),
        ];
        let env = |name: &str| EnvironmentReport {
            name: name.to_string(),
            source: hostile("file.yaml"),
            complete: false,
            workloads: 1,
            containers: 1,
            keys: 1,
            unresolved: 0,
            configmaps: 0,
            skipped_kinds: BTreeMap::from([(hostile("Kind"), 1)]),
            problems: vec![Problem {
                code: "no-workloads".into(),
                severity: Severity::Warning,
                incomplete: true,
                location: hostile("where"),
                message: hostile("problem"),
            }],
            renamed: BTreeMap::from([(hostile("new"), hostile("old"))]),
            workload_names: vec![hostile("web")],
            workload_namespaces: BTreeMap::new(),
            configmap_namespaces: BTreeMap::new(),
            workload_origins: BTreeMap::new(),
            configmap_origins: BTreeMap::new(),
        };
        Report {
            baseline: b.clone(),
            envs: vec![a.clone(), b.clone()],
            environments: vec![env(&a), env(&b)],
            summary: crate::evaluate::summarize(&findings),
            findings,
            suppressed: Suppressed {
                ignored: vec![IgnoredKeys {
                    pattern: hostile("pattern"),
                    keys: 1,
                    drifting: 1,
                }],
                waived: BTreeMap::from([(hostile("rule"), 1)]),
                allowed: BTreeMap::from([(hostile("rule"), 1)]),
                unmatched: 1,
                stale_ignored: vec![hostile("stale")],
                same_cause: 1,
            },
            policy: PolicyUse {
                files: vec![hostile("policy.yaml")],
                rules: 1,
                waivers: 1,
                rule_list: vec![RuleInfo {
                    id: hostile("rule"),
                    description: hostile("description"),
                    file: hostile("policy.yaml"),
                    line: 1,
                    severity: Severity::Critical,
                }],
            },
            deploy: Some(DeployView {
                target: b.clone(),
                candidate: hostile("candidate"),
                existing: BTreeSet::new(),
                resolved: Vec::new(),
                changes: vec![crate::evaluate::Change {
                    workload: Some(hostile("web")),
                    container: Some(hostile("app")),
                    configmap: None,
                    kind: Some(crate::model::ConfigKind::Env),
                    key: Some(hostile("KEY")),
                    from: Some(hostile("from")),
                    to: Some(hostile("to")),
                    from_source: Some(hostile("literal")),
                    to_source: Some(hostile("literal")),
                    diff: None,
                    watched_by: vec![hostile("rule")],
                }],
                fail_on_existing: false,
            }),
        }
    }

    /// No character of [`HOSTILE`] left raw; an escape character only as
    /// the start of a colour (SGR) sequence the renderer wrote itself.
    fn assert_nothing_acts(what: &str, out: &str) {
        for c in [
            '\r', '\u{7}', '\u{8}', '\t', '\u{9b}', '\u{202e}', '\u{2066}',
        ] {
            assert!(!out.contains(c), "{what}: raw {c:?} in\n{out}");
        }
        for (i, _) in out.match_indices('\u{1b}') {
            let sgr = out[i + 1..]
                .strip_prefix('[')
                .map(|rest| rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';'))
                .is_some_and(|rest| rest.starts_with('m'));
            assert!(sgr, "{what}: raw escape sequence at {i} in\n{out}");
        }
        assert!(
            out.contains("\\x1b[2J"),
            "{what}: escaped form missing in\n{out}"
        );
    }

    #[test]
    fn no_text_renderer_lets_input_act_on_the_terminal() {
        let report = hostile_report();
        for color in [false, true] {
            let style = RenderOptions {
                color,
                ..RenderOptions::default()
            };
            for (name, render) in [
                (
                    "table",
                    table::render as fn(&Report, RenderOptions, &mut dyn Write) -> _,
                ),
                ("markdown", markdown::render),
                ("diff", diff::render),
            ] {
                let mut out = Vec::new();
                render(&report, style, &mut out).unwrap();
                let out = String::from_utf8(out).unwrap();
                assert_nothing_acts(&format!("{name}, colour {color}"), &out);
            }
            let equal = [diff::Equal {
                location: hostile("web"),
                key: hostile("key"),
                value: hostile("value"),
                source: hostile("cm"),
            }];
            let mut out = Vec::new();
            diff::render_equal(&equal, style, &mut out).unwrap();
            assert_nothing_acts("diff --all", &String::from_utf8(out).unwrap());
        }
    }
}
