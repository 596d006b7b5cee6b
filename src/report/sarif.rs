//! SARIF 2.1.0 (OASIS), for code-scanning views: GitHub code scanning,
//! GitLab, Azure DevOps, the VS Code SARIF viewer.
//!
//! One run. `tool.driver.rules` lists every rule of the run, the policy's and
//! the built-in ones, each with its description; each finding is one result
//! with `level` from its severity (critical → `error`, warning → `warning`,
//! info → `note`), logical locations `environment/namespace/workload/container/key`
//! (one per environment the finding is about), and a `partialFingerprints`
//! entry made of rule, code and subject — never of values — so a code-scanning
//! alert keeps its identity while the values change. A waived finding is a
//! result with an external, accepted suppression whose justification is the
//! waiver. Values arrive redacted; nothing here can see a Secret.
//!
//! These types are the wire format; `tests/it/gate.rs` validates what they
//! produce against the official schema in `testdata/sarif/`.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{EnvironmentReport, Report, RuleEntry, rules_checked, subject_key};
use crate::model::{ConfigKind, Finding, Severity};

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const VERSION: &str = "2.1.0";
/// The `partialFingerprints` key; bump the suffix if what goes into it changes.
pub const FINGERPRINT: &str = "confdriftFinding/v1";

#[derive(Serialize)]
pub struct Log<'a> {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<SarifRun<'a>>,
}

/// A SARIF `run`: one invocation of the tool and its results.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRun<'a> {
    pub tool: Tool,
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult<'a>>,
    pub properties: RunProperties<'a>,
}

#[derive(Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub id: String,
    pub short_description: Text,
    pub help: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_configuration: Option<Configuration>,
    pub properties: DescriptorProperties,
}

#[derive(Serialize)]
pub struct Configuration {
    pub level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescriptorProperties {
    pub tags: Vec<&'static str>,
    /// `file:line` of a policy rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_at: Option<String>,
}

#[derive(Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// False when an environment could not be read completely.
    pub execution_successful: bool,
    /// Problems met while reading the environments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
pub struct Notification {
    pub level: &'static str,
    pub message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult<'a> {
    pub rule_id: &'a str,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    /// Where the finding is in its first environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Where it is in each other environment it is about.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<Location>,
    pub partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression<'a>>,
    /// Deploy gate only: `new` when this deploy introduces the finding,
    /// `unchanged` when it is there today already (SARIF 2.1.0 §3.27.24).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<&'static str>,
    pub properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Set on related locations, which SARIF viewers refer to by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    /// The environment, on related locations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub name: String,
    pub fully_qualified_name: String,
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct Suppression<'a> {
    pub kind: &'static str,
    pub status: &'static str,
    pub justification: &'a str,
}

/// confdrift's own fields of a result, as in the JSON report.
#[derive(Serialize)]
pub struct ResultProperties<'a> {
    pub code: &'a str,
    pub severity: &'static str,
    pub environments: &'a [String],
    /// Environment → value as the table shows it (`null`: absent; a
    /// multi-line value as its line count); Secrets are `<redacted X>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<&'a str, Option<String>>,
    /// Unified line diff of a multi-line value against the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<&'a str>,
}

#[derive(Serialize)]
pub struct RunProperties<'a> {
    pub baseline: &'a str,
    pub environments: &'a [String],
}

/// SARIF's level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn to_wire(report: &Report) -> Log<'_> {
    let rules = rules_checked(report);
    let fingerprints = fingerprints(&report.findings);
    let results = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fp)| {
            let rule_index = rules.iter().position(|r| r.id == f.rule).unwrap_or(0);
            let (locations, related_locations) = locations(report, f, rules.get(rule_index));
            SarifResult {
                rule_id: &f.rule,
                rule_index,
                level: level(f.severity),
                message: Text {
                    text: f.message.clone(),
                },
                locations,
                related_locations,
                partial_fingerprints: BTreeMap::from([(FINGERPRINT, fp)]),
                suppressions: f
                    .waiver
                    .as_deref()
                    .map(|w| Suppression {
                        kind: "external",
                        status: "accepted",
                        justification: w,
                    })
                    .into_iter()
                    .collect(),
                baseline_state: report
                    .deploy
                    .as_ref()
                    .map(|d| if d.is_existing(f) { "unchanged" } else { "new" }),
                properties: ResultProperties {
                    code: &f.code,
                    severity: f.severity.as_str(),
                    environments: &f.environments,
                    values: f
                        .values
                        .iter()
                        .map(|(env, v)| (env.as_str(), v.as_deref().map(super::table::cut)))
                        .collect(),
                    diff: f.diff.as_deref(),
                },
            }
        })
        .collect();
    let notifications = report
        .environments
        .iter()
        .flat_map(|e| {
            e.problems.iter().map(move |p| Notification {
                level: level(p.severity),
                message: Text {
                    text: format!("environment {}: {}: {}", e.name, p.location, p.message),
                },
            })
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: VERSION,
        runs: vec![SarifRun {
            tool: Tool {
                driver: Driver {
                    name: "confdrift",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules.iter().map(descriptor).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: report.complete(),
                tool_execution_notifications: notifications,
            }],
            results,
            properties: RunProperties {
                baseline: &report.baseline,
                environments: &report.envs,
            },
        }],
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_wire(report))?;
    writeln!(out)
}

fn descriptor(r: &RuleEntry) -> Descriptor {
    let defined_at = r.defined_at.as_ref().map(|(f, l)| format!("{f}:{l}"));
    let waive = format!(
        "To accept a finding, add a waiver for rule `{}` with a reason and an expiry date.",
        r.id
    );
    let help = match &defined_at {
        Some(at) => format!("Policy rule, defined at {at}. {waive}"),
        None => format!("Built into confdrift. {waive}"),
    };
    Descriptor {
        id: r.id.clone(),
        short_description: Text {
            text: r.description.clone(),
        },
        help: Text { text: help },
        default_configuration: r.severity.map(|s| Configuration { level: level(s) }),
        properties: DescriptorProperties {
            tags: vec![
                "configuration-drift",
                if defined_at.is_some() {
                    "policy"
                } else {
                    "built-in"
                },
            ],
            defined_at,
        },
    }
}

/// Where a finding is. About configuration: one location per environment
/// it is about, the first in `locations`, the others in
/// `relatedLocations`, each with its logical location and, when that
/// environment was read from files, the file and line of the workload (or
/// ConfigMap) there; else, for an environment read from one manifest file
/// (a rendered candidate), that file. About the policy: the rule's line in
/// its policy file.
fn locations(
    report: &Report,
    f: &Finding,
    rule: Option<&RuleEntry>,
) -> (Vec<Location>, Vec<Location>) {
    let envs: Vec<&String> = match &f.environment {
        Some(e) => vec![e],
        None => f.environments.iter().collect(),
    };
    let has_subject = f.workload.is_some() || f.configmap.is_some() || f.key.is_some();
    if !has_subject {
        let physical = rule
            .and_then(|r| r.defined_at.as_ref())
            .map(|(file, line)| PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri(file) },
                region: Some(Region {
                    start_line: (*line).max(1),
                }),
            });
        let location = physical.map(|p| Location {
            id: None,
            message: None,
            physical_location: Some(p),
            logical_locations: Vec::new(),
        });
        return (location.into_iter().collect(), Vec::new());
    }
    let mut all = envs.iter().enumerate().map(|(i, env)| Location {
        id: (i > 0).then_some(i),
        message: (i > 0).then(|| Text {
            text: format!("in {env}"),
        }),
        physical_location: physical_location(report, env, f),
        logical_locations: vec![logical_location(report, env, f)],
    });
    let first = all.next();
    (first.into_iter().collect(), all.collect())
}

/// The file and line of the finding's workload or ConfigMap in `env`.
fn physical_location(report: &Report, env: &str, f: &Finding) -> Option<PhysicalLocation> {
    // A value the API server refuses is at a known line of a manifest.
    if f.code == "rejected-by-api-server"
        && let Some((file, line)) = f.sources.get(env).and_then(|at| at.rsplit_once(':'))
        && let Ok(line) = line.parse::<usize>()
    {
        return Some(PhysicalLocation {
            artifact_location: ArtifactLocation { uri: uri(file) },
            region: Some(Region {
                start_line: line.max(1),
            }),
        });
    }
    let e = report.environments.iter().find(|e| e.name == env)?;
    let origin = match (&f.workload, &f.configmap) {
        (Some(w), _) => e.workload_origins.get(w),
        (None, Some(cm)) => e.configmap_origins.get(cm),
        (None, None) => None,
    };
    if let Some(o) = origin {
        return Some(PhysicalLocation {
            artifact_location: ArtifactLocation { uri: uri(&o.file) },
            region: Some(Region {
                start_line: o.line.max(1),
            }),
        });
    }
    let file = match &report.deploy {
        // After a deploy, the target's values are the candidate's.
        Some(d) if d.target == e.name => manifest_file(&d.candidate),
        _ => manifest_file(&e.source),
    }?;
    Some(PhysicalLocation {
        artifact_location: ArtifactLocation { uri: uri(file) },
        region: None,
    })
}

/// `prod/shop/checkout/server/DB_POOL_SIZE`, `prod/shop/configmap/shop-config/DB_POOL_SIZE`,
/// `prod/shop/checkout/server/etc/checkout/application.yaml` (a file key,
/// its path without a doubled `/`).
///
/// The namespace is the environment's own: where the workload (ConfigMap)
/// is in that environment, else, when it is missing there, the one
/// namespace that environment's objects are in ("-" when they are in
/// several). Never another environment's namespace.
fn logical_location(report: &Report, env: &str, f: &Finding) -> LogicalLocation {
    let here = report.environments.iter().find(|e| e.name == env);
    let only_namespace = || {
        let all: std::collections::BTreeSet<&String> = here
            .into_iter()
            .flat_map(|e| {
                e.workload_namespaces
                    .values()
                    .chain(e.configmap_namespaces.values())
            })
            .collect();
        match all.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    };
    let namespace = |pick: fn(&EnvironmentReport) -> &BTreeMap<String, String>, name: &str| {
        here.and_then(|e| pick(e).get(name))
            .cloned()
            .or_else(only_namespace)
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "-".to_string())
    };
    let mut parts = vec![env.to_string()];
    match (&f.workload, &f.configmap) {
        (Some(w), _) => {
            parts.push(namespace(|e| &e.workload_namespaces, w));
            parts.push(w.clone());
            if let Some(c) = &f.container {
                parts.push(c.clone());
            }
        }
        (None, Some(cm)) => {
            parts.push(namespace(|e| &e.configmap_namespaces, cm));
            parts.push("configmap".to_string());
            parts.push(cm.clone());
        }
        (None, None) => {}
    }
    if let Some(k) = &f.key {
        parts.push(k.clone());
    }
    let kind = match (f.key.is_some(), f.kind) {
        (true, Some(ConfigKind::File)) => "resource",
        (true, _) => "variable",
        (false, _) => "object",
    };
    LogicalLocation {
        name: parts.last().cloned().unwrap_or_default(),
        fully_qualified_name: without_empty_segments(&parts.join("/")),
        kind,
    }
}

/// A path with no empty segment: a file key's leading `/` (or a `//` in a
/// mount path) must not make `server//etc/x.yaml`.
fn without_empty_segments(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The path of an environment read from exactly one manifest file.
fn manifest_file(source: &str) -> Option<&str> {
    // `rendered.yaml?namespace=shop`: the options are not part of the path.
    let source = source.split_once('?').map_or(source, |(path, _)| path);
    let lower = source.to_ascii_lowercase();
    let manifest = [".yaml", ".yml", ".json"]
        .iter()
        .any(|x| lower.ends_with(x));
    (manifest && !source.starts_with("kube:") && !source.contains(',')).then_some(source)
}

/// A path as a URI reference: relative paths stay relative (code scanning
/// resolves them against the repository), absolute ones become `file://`.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One fingerprint per finding: a hash of its rule, code and subject. Two
/// findings of one run that share all of these (a rule's hits split by a
/// waiver) are told apart by their environments, then by their position.
fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let base = |f: &Finding| {
        let mut parts: Vec<&str> = subject_key(f).to_vec();
        parts.push(&f.code);
        parts.join("\u{1f}")
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(base(f)).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    findings
        .iter()
        .map(|f| {
            let mut id = base(f);
            if counts[&id] > 1 {
                id.push('\u{1f}');
                id.push_str(&f.environments.join(","));
            }
            let n = seen.entry(id.clone()).or_default();
            *n += 1;
            if *n > 1 {
                id.push_str(&format!("\u{1f}#{n}"));
            }
            hex::encode(Sha256::digest(id.as_bytes()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Inventory;

    fn finding(rule: &str, key: &str, value: &str, envs: &[&str]) -> Finding {
        Finding {
            rule: rule.into(),
            environment: None,
            code: "not-equal".into(),
            severity: Severity::Critical,
            workload: Some("checkout".into()),
            container: Some("server".into()),
            configmap: None,
            kind: Some(ConfigKind::Env),
            key: Some(key.into()),
            values: BTreeMap::from([("prod".to_string(), Some(value.to_string()))]),
            sources: BTreeMap::new(),
            message: format!("{key} is {value}"),
            diff: None,
            waiver: None,
            environments: envs.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn fingerprints_ignore_values_and_stay_unique() {
        let a = fingerprints(&[finding("r", "K", "1", &["prod"])]);
        let b = fingerprints(&[finding("r", "K", "2", &["prod"])]);
        assert_eq!(a, b, "a value change keeps the fingerprint");
        let c = fingerprints(&[finding("r", "OTHER", "1", &["prod"])]);
        assert_ne!(a, c);
        let split = fingerprints(&[
            finding("r", "K", "1", &["dev"]),
            finding("r", "K", "1", &["prod"]),
            finding("r", "K", "1", &["prod"]),
        ]);
        assert_eq!(split.len(), 3);
        assert!(split[0] != split[1] && split[1] != split[2] && split[0] != split[2]);
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::Warning), "warning");
        assert_eq!(level(Severity::Info), "note");
    }

    #[test]
    fn uris_are_relative_references_or_file_uris() {
        assert_eq!(uri("rendered/prod.yaml"), "rendered/prod.yaml");
        assert_eq!(uri("/tmp/my dir/a.yaml"), "file:///tmp/my%20dir/a.yaml");
        assert_eq!(uri("c:\\x.yaml"), "c%3A/x.yaml");
        assert_eq!(
            manifest_file("out/candidate.yaml"),
            Some("out/candidate.yaml")
        );
        assert_eq!(manifest_file("dumps/prod/"), None);
        assert_eq!(manifest_file("a.yaml,b.yaml"), None);
        assert_eq!(
            manifest_file("out/candidate.yaml?namespace=shop"),
            Some("out/candidate.yaml")
        );
        assert_eq!(
            manifest_file("overlays/prod, rendered by kubectl kustomize (kustomize v5.5.0)"),
            None
        );
    }

    #[test]
    fn logical_locations_name_environment_namespace_workload_container_key() {
        let mut inv = Inventory {
            env: "prod".into(),
            ..Inventory::default()
        };
        inv.workloads.insert(
            "checkout".into(),
            crate::model::WorkloadInfo {
                namespace: "shop".into(),
                ..Default::default()
            },
        );
        let report = Report::new("prod", &[inv], vec![finding("r", "K", "1", &["prod"])]);
        let log = to_wire(&report);
        let loc = &log.runs[0].results[0].locations[0].logical_locations[0];
        assert_eq!(loc.fully_qualified_name, "prod/shop/checkout/server/K");
        assert_eq!(loc.name, "K");
    }
}
