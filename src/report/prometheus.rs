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

/// Renders `report` (a `confdrift.report/v1` JSON value, optionally with
/// `history` and per-finding `age_days`) at `now` (seconds since the epoch).
pub fn render(report: &serde_json::Value, now: i64, out: &mut dyn Write) -> std::io::Result<()> {
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let mut by_rule: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut by_severity: BTreeMap<String, usize> = ["critical", "warning", "info"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut waived = 0usize;
    let mut ages = Vec::new();
    for f in &findings {
        let sev = f["severity"].as_str().unwrap_or("info").to_string();
        if !f["waiver"].is_null() {
            waived += 1;
            continue;
        }
        *by_severity.entry(sev.clone()).or_default() += 1;
        *by_rule
            .entry((sev.clone(), f["rule"].as_str().unwrap_or("").to_string()))
            .or_default() += 1;
        if let Some(age) = f["age_days"].as_i64() {
            let place = [
                f["workload"].as_str(),
                f["container"].as_str(),
                f["configmap"].as_str(),
            ]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join("/");
            ages.push((
                labels(&[
                    ("id", f["id"].as_str().unwrap_or("")),
                    ("rule", f["rule"].as_str().unwrap_or("")),
                    ("severity", &sev),
                    ("environment", f["environment"].as_str().unwrap_or("")),
                    ("workload", &place),
                    ("key", f["key"].as_str().unwrap_or("")),
                ]),
                age as f64,
            ));
        }
    }
    let envs = report["environments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let complete = envs.iter().all(|e| e["complete"] == true);
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
                        labels(&[("environment", e["name"].as_str().unwrap_or(""))]),
                        if e["complete"] == true { 1.0 } else { 0.0 },
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
                        labels(&[("environment", e["name"].as_str().unwrap_or(""))]),
                        e["coverage"]["workloads"].as_f64().unwrap_or(0.0),
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
        report["history"]["trend"]
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .filter(|r| r["complete"] == true)
            .find_map(|r| r["time"].as_str()?.parse::<jiff::Timestamp>().ok())
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
    if let Some(h) = report.get("history").filter(|h| h.is_object()) {
        metrics.push(Metric {
            name: "confdrift_findings_new",
            help: "Findings not seen in the previous run.",
            samples: vec![(String::new(), h["new"].as_f64().unwrap_or(0.0))],
        });
        metrics.push(Metric {
            name: "confdrift_findings_resolved",
            help: "Findings of the previous run that are gone.",
            samples: vec![(
                String::new(),
                h["resolved"].as_array().map_or(0, |a| a.len()) as f64,
            )],
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
