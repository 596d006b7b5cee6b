//! JUnit XML, for the test views of CI systems (GitLab, Jenkins, Azure
//! DevOps, GitHub test-report actions).
//!
//! One `<testsuite>` per rule, not per environment: a finding belongs to
//! exactly one rule but often to several environments (an `equal` check
//! compares them all), and a rule is what a reader fixes or waives. Each
//! subject a rule reported (workload/container and key, in one environment
//! for per-environment findings) is one `<testcase>`: a `<failure>` when a
//! finding reaches `--fail-on`, `<skipped>` when it is waived, else a passed
//! case whose `<system-out>` says what was found. A rule that found nothing
//! is one passed case, so the CI view shows a green check per rule. A first
//! suite, `environments`, has a case per environment that fails when it
//! could not be read completely (exit 3) unless `--allow-partial`.
//!
//! XML is written by hand: text and attributes are escaped, and characters
//! XML 1.0 cannot carry are replaced. Values arrive redacted.

use std::fmt::Write as _;
use std::io::Write;

use super::table::cut;
use super::{RenderOptions, Report, key_label, location, rules_checked, subject_key};
use crate::model::{Finding, Severity};

/// The suite of per-environment read checks.
pub const ENVIRONMENTS_SUITE: &str = "environments";

struct Case {
    classname: String,
    name: String,
    outcome: CaseResult,
}

/// How one test case ended: passed, failed or skipped.
enum CaseResult {
    Passed {
        out: Option<String>,
    },
    Failed {
        message: String,
        kind: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

struct Suite {
    name: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, pick: fn(&CaseResult) -> bool) -> usize {
        self.cases.iter().filter(|c| pick(&c.outcome)).count()
    }
}

fn failed(o: &CaseResult) -> bool {
    matches!(o, CaseResult::Failed { .. })
}

fn skipped(o: &CaseResult) -> bool {
    matches!(o, CaseResult::Skipped { .. })
}

pub fn render(report: &Report, style: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let suites = suites(report, style);
    let mut xml = String::new();
    let total: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(|s| s.count(failed)).sum();
    let skips: usize = suites.iter().map(|s| s.count(skipped)).sum();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"confdrift\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skips}\" time=\"0\">"
    );
    for s in &suites {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">",
            attr(&s.name),
            s.cases.len(),
            s.count(failed),
            s.count(skipped)
        );
        if !s.properties.is_empty() {
            xml.push_str("    <properties>\n");
            for (name, value) in &s.properties {
                let _ = writeln!(
                    xml,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    attr(name),
                    attr(value)
                );
            }
            xml.push_str("    </properties>\n");
        }
        for c in &s.cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\"",
                attr(&c.classname),
                attr(&c.name)
            );
            match &c.outcome {
                CaseResult::Passed { out: None } => xml.push_str("/>\n"),
                CaseResult::Passed { out: Some(o) } => {
                    let _ = writeln!(xml, ">\n      <system-out>{}</system-out>", text(o));
                    xml.push_str("    </testcase>\n");
                }
                CaseResult::Failed {
                    message,
                    kind,
                    body,
                } => {
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        attr(message),
                        attr(kind),
                        text(body)
                    );
                    xml.push_str("    </testcase>\n");
                }
                CaseResult::Skipped { message } => {
                    let _ = writeln!(xml, ">\n      <skipped message=\"{}\"/>", attr(message));
                    xml.push_str("    </testcase>\n");
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

fn suites(report: &Report, style: RenderOptions) -> Vec<Suite> {
    let mut out = vec![environments_suite(report, style)];
    let threshold = style.fail_on.threshold();
    for rule in rules_checked(report) {
        let classname = format!("confdrift.{}", rule.id);
        let mut properties = vec![("description", rule.description.clone())];
        if let Some((file, line)) = &rule.defined_at {
            properties.push(("defined-at", format!("{file}:{line}")));
        }
        // Findings of this rule, grouped by subject in report order.
        let mut groups: Vec<(Vec<&str>, Vec<&Finding>)> = Vec::new();
        for f in report.findings.iter().filter(|f| f.rule == rule.id) {
            let mut key = subject_key(f).to_vec();
            if f.workload.is_none() && f.configmap.is_none() && f.key.is_none() {
                key.push(&f.code); // about the policy itself: one case per code
            }
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, fs)) => fs.push(f),
                None => groups.push((key, vec![f])),
            }
        }
        let cases = if groups.is_empty() {
            vec![Case {
                classname: classname.clone(),
                name: "no findings".to_string(),
                outcome: CaseResult::Passed { out: None },
            }]
        } else {
            groups
                .into_iter()
                .map(|(_, fs)| Case {
                    classname: classname.clone(),
                    name: case_name(fs[0]),
                    outcome: outcome(report, &fs, threshold),
                })
                .collect()
        };
        out.push(Suite {
            name: rule.id.clone(),
            properties,
            cases,
        });
    }
    out
}

fn environments_suite(report: &Report, style: RenderOptions) -> Suite {
    let cases = report
        .environments
        .iter()
        .map(|e| {
            let problems: Vec<String> = e
                .problems
                .iter()
                .map(|p| format!("{} {}: {}", p.severity, p.location, p.message))
                .collect();
            let coverage = format!(
                "{}: {} workloads, {} containers, {} keys, {} unresolved, read from {}",
                e.name, e.workloads, e.containers, e.keys, e.unresolved, e.source
            );
            let outcome = if !e.complete && !style.allow_partial {
                CaseResult::Failed {
                    message: format!("environment {} could not be read completely", e.name),
                    kind: "incomplete".to_string(),
                    body: std::iter::once(coverage)
                        .chain(problems)
                        .collect::<Vec<_>>()
                        .join("\n"),
                }
            } else {
                CaseResult::Passed {
                    out: Some(
                        std::iter::once(coverage)
                            .chain(problems)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                }
            };
            Case {
                classname: format!("confdrift.{ENVIRONMENTS_SUITE}"),
                name: e.name.clone(),
                outcome,
            }
        })
        .collect();
    Suite {
        name: ENVIRONMENTS_SUITE.to_string(),
        properties: vec![
            ("baseline", report.baseline.clone()),
            ("environments", report.envs.join(", ")),
            ("fail-on", style.fail_on.as_str().to_string()),
        ],
        cases,
    }
}

/// `checkout/server DB_POOL_SIZE`, `frontend/web CDN_URL in staging`.
fn case_name(f: &Finding) -> String {
    let place = location(f);
    let what = key_label(f);
    let mut name = if place.is_empty() {
        what
    } else {
        format!("{place} {what}")
    };
    if let Some(env) = &f.environment {
        name.push_str(&format!(" in {env}"));
    }
    name
}

fn outcome(report: &Report, fs: &[&Finding], threshold: Option<Severity>) -> CaseResult {
    let envs = &report.envs;
    let existing = |f: &Finding| report.deploy.as_ref().is_some_and(|d| d.is_existing(f));
    let lines: Vec<String> = fs
        .iter()
        .map(|f| {
            let waived = f
                .waiver
                .as_ref()
                .map(|w| format!(" (waived: {w})"))
                .unwrap_or_default();
            let already = if existing(f) {
                " (already there before this deploy)"
            } else {
                ""
            };
            format!("{} {}: {}{waived}{already}", f.severity, f.code, f.message)
        })
        .chain(values(envs, fs[0]))
        .collect();
    let failing = fs
        .iter()
        .filter(|f| report.counts_for_gate(f) && threshold.is_some_and(|t| f.severity >= t))
        .max_by_key(|f| f.severity);
    if let Some(f) = failing {
        return CaseResult::Failed {
            message: f.message.clone(),
            kind: f.severity.to_string(),
            body: lines.join("\n"),
        };
    }
    if fs.iter().all(|f| f.waiver.is_some()) {
        let w = fs[0].waiver.as_deref().unwrap_or_default();
        return CaseResult::Skipped {
            message: format!("waived: {w}"),
        };
    }
    CaseResult::Passed {
        out: Some(lines.join("\n")),
    }
}

/// `  prod: 5 (ConfigMap shop-config/DB_POOL_SIZE)` per environment, in
/// report order, then the line diff of a multi-line value.
fn values(envs: &[String], f: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    for env in envs {
        let Some(v) = f.values.get(env) else {
            continue;
        };
        let shown = v.as_deref().map_or("(not set)".to_string(), cut);
        match f.sources.get(env) {
            Some(s) => out.push(format!("  {env}: {shown} ({s})")),
            None => out.push(format!("  {env}: {shown}")),
        }
    }
    if let Some(d) = &f.diff {
        out.push(d.trim_end().to_string());
    }
    out
}

/// Escaped for an attribute in double quotes; line breaks kept as references.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in xml_chars(s) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped for element text.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in xml_chars(s) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// The characters XML 1.0 allows; others (control characters, lone
/// surrogates cannot occur in a `str`) become U+FFFD.
fn xml_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().map(|c| match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 => '\u{FFFD}',
        '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
        c => c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            attr("a<b & \"c\"\n'd'"),
            "a&lt;b &amp; &quot;c&quot;&#10;&apos;d&apos;"
        );
        assert_eq!(text("x<y>&z\u{1b}"), "x&lt;y&gt;&amp;z\u{FFFD}");
        assert_eq!(text("]]>"), "]]&gt;");
    }
}
