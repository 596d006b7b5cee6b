//! Prometheus text exposition (format 0.0.4) of a report, for a node
//! exporter textfile collector or a Pushgateway job, so drift can be
//! alerted on: findings by severity and rule, the age of each open finding,
//! environment completeness, and when the last (successful) run was.
//!
//! Drawn from the JSON wire form so that it works on a fresh audit and on a
//! report annotated with history alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::json::JsonReport;

/// Escapes a label value: backslash, double quote and newline.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

struct Metric {
    name: &'static str,
    help: &'static str,
    samples: Vec<(String, f64)>,
}

/// Renders `report` (optionally with `history` and per-finding `age_days`)
/// at `now` (seconds since the epoch).
pub fn render(report: &JsonReport, now: i64, out: &mut dyn Write) -> std::io::Result<()> {
    let mut by_rule: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut by_severity: BTreeMap<String, usize> = ["critical", "warning", "info"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut waived = 0usize;
    let mut ages = Vec::new();
    for f in &report.findings {
        let sev = f.severity.as_str().to_string();
        if f.waiver.is_some() {
            waived += 1;
            continue;
        }
        *by_severity.entry(sev.clone()).or_default() += 1;
        *by_rule.entry((sev.clone(), f.rule.clone())).or_default() += 1;
        // The history gives an open finding its identity and age together.
        if let (Some(age), Some(id)) = (f.age_days, &f.id) {
            let place = [&f.workload, &f.container, &f.configmap]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("/");
            ages.push((
                labels(&[
                    ("id", id),
                    ("rule", &f.rule),
                    ("severity", &sev),
                    // Empty: the finding is about every environment.
                    ("environment", f.environment.as_deref().unwrap_or_default()),
                    ("workload", &place),
                    // Empty: about a whole workload or ConfigMap.
                    ("key", f.key.as_deref().unwrap_or_default()),
                ]),
                age as f64,
            ));
        }
    }
    let envs = &report.environments;
    let complete = report.complete();
    let mut metrics = vec![
        Metric {
            name: "confdrift_findings",
            help: "Findings that are not waived, by severity.",
            samples: by_severity
                .iter()
                .map(|(s, n)| (labels(&[("severity", s)]), *n as f64))
                .collect(),
        },
        Metric {
            name: "confdrift_rule_findings",
            help: "Findings that are not waived, by severity and rule.",
            samples: by_rule
                .iter()
                .map(|((s, r), n)| (labels(&[("severity", s), ("rule", r)]), *n as f64))
                .collect(),
        },
        Metric {
            name: "confdrift_findings_waived",
            help: "Findings accepted by a waiver.",
            samples: vec![(String::new(), waived as f64)],
        },
        Metric {
            name: "confdrift_environment_complete",
            help: "1 when the environment was read completely, 0 when something could not be read.",
            samples: envs
                .iter()
                .map(|e| {
                    (
                        labels(&[("environment", &e.name)]),
                        if e.complete { 1.0 } else { 0.0 },
                    )
                })
                .collect(),
        },
        Metric {
            name: "confdrift_environment_workloads",
            help: "Workloads seen in the environment.",
            samples: envs
                .iter()
                .map(|e| {
                    (
                        labels(&[("environment", &e.name)]),
                        e.coverage.workloads as f64,
                    )
                })
                .collect(),
        },
        Metric {
            name: "confdrift_last_run_timestamp_seconds",
            help: "When this report was made.",
            samples: vec![(String::new(), now as f64)],
        },
    ];
    // The last run that read everything: this one, or the newest complete
    // run in the history.
    let last_complete = if complete {
        Some(now)
    } else {
        report
            .history
            .iter()
            .flat_map(|h| h.trend.iter().rev())
            .filter(|r| r.complete)
            .find_map(|r| r.time.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second())
    };
    if let Some(t) = last_complete {
        metrics.push(Metric {
            name: "confdrift_last_successful_run_timestamp_seconds",
            help: "When a run last read every environment completely.",
            samples: vec![(String::new(), t as f64)],
        });
    }
    if !ages.is_empty() {
        metrics.push(Metric {
            name: "confdrift_finding_age_days",
            help: "Days since each open finding was first seen.",
            samples: ages,
        });
    }
    if let Some(h) = &report.history {
        metrics.push(Metric {
            name: "confdrift_findings_new",
            help: "Findings not seen in the previous run.",
            samples: vec![(String::new(), h.new as f64)],
        });
        metrics.push(Metric {
            name: "confdrift_findings_resolved",
            help: "Findings of the previous run that are gone.",
            samples: vec![(String::new(), h.resolved.len() as f64)],
        });
    }
    let mut text = String::new();
    for m in metrics {
        let _ = writeln!(text, "# HELP {} {}", m.name, m.help);
        let _ = writeln!(text, "# TYPE {} gauge", m.name);
        for (l, v) in m.samples {
            let _ = writeln!(text, "{}{l} {v}", m.name);
        }
    }
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
