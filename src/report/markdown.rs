//! Markdown for a pull-request comment: a one-line summary first (counts,
//! environments, whether the gate passes), the critical findings as a short
//! table, then everything else folded into `<details>`: warnings, info,
//! waived findings, the values side by side, line diffs, coverage, and the
//! policy with what it suppressed.
//!
//! With `max_length` (a comment's size limit, in characters) whole sections
//! are cut from the end until it fits, and a last line says what was cut and
//! where to see everything; the output never exceeds the limit.
//!
//! Text from input goes through `escape` or `code`, which show it with
//! [`visible`]: a comment is also printed into CI logs, where a control
//! character acts on the terminal, and rendered on a web page, where a bidi
//! override reorders what is shown.

use std::io::Write;

use super::{
    RenderOptions, Report, exit, exit_code, is_cross_env, is_policy_note, key_label, location,
    policy_line, shown, suppressed_line, visible, visible_lines,
};
use crate::model::{Finding, Severity};

/// Values in the values table are shortened to this many characters, all
/// of a row together so that where they differ stays visible.
const MAX_VALUE: usize = 40;

/// A folded part of the comment; `cut` names it in the truncation notice.
struct Section {
    cut: String,
    text: String,
}

/// The critical findings: never folded, cut row by row only when nothing
/// else is left to cut.
struct Critical {
    intro: String,
    rows: Vec<String>,
}

impl Critical {
    fn text(&self, rows: usize) -> String {
        let mut s = self.intro.clone();
        for r in &self.rows[..rows] {
            s.push_str(r);
        }
        s
    }
}

pub fn render(report: &Report, style: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let head = head(report, style);
    let critical = critical(report);
    let sections = sections(report);
    out.write_all(fit(&head, &critical, &sections, style.max_length).as_bytes())
}

fn head(report: &Report, style: RenderOptions) -> String {
    let s = &report.summary;
    let mut counts = format!(
        "{} critical, {} warning, {} info",
        s.critical, s.warning, s.info
    );
    if s.waived > 0 {
        counts.push_str(&format!(", {} waived", s.waived));
    }
    let envs: Vec<String> = report
        .envs
        .iter()
        .map(|e| {
            if *e == report.baseline {
                format!("{} (baseline)", escape(e))
            } else {
                escape(e)
            }
        })
        .collect();
    let incomplete: Vec<&str> = report
        .environments
        .iter()
        .filter(|e| !e.complete)
        .map(|e| e.name.as_str())
        .collect();
    let gate = match exit_code(report, style.fail_on, style.allow_partial) {
        exit::INCOMPLETE => format!(
            "gate **failed**: {} not read completely",
            escape(&incomplete.join(", "))
        ),
        exit::FINDINGS => format!("gate **failed** (`--fail-on {}`)", style.fail_on.as_str()),
        _ => format!("gate passed (`--fail-on {}`)", style.fail_on.as_str()),
    };
    let mut out = format!("**confdrift: {counts}** — {} — {gate}\n", envs.join(" vs "));
    if let Some(d) = &report.deploy {
        let (new, existing) = d.new_and_existing(&report.findings);
        out.push_str(&format!(
            "\nDeploy of {} to {}: **{} introduced** by this deploy, {} already there ({}), {} \
             resolved by it.\n",
            code(&d.candidate),
            escape(&d.target),
            new,
            existing,
            if d.fail_on_existing {
                "they count: `--fail-on-existing`"
            } else {
                "they do not fail the gate"
            },
            d.resolved.len()
        ));
    }
    if !incomplete.is_empty() {
        out.push_str(&format!(
            "\n**Not read completely:** {}. What was not seen is listed under Environments; \
             missing values are unresolved, never equal.\n",
            escape(&incomplete.join(", "))
        ));
    }
    out
}

fn critical(report: &Report) -> Critical {
    let rows: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.waiver.is_none() && f.severity == Severity::Critical)
        .map(|f| marked_row(report, f))
        .collect();
    let intro = if rows.is_empty() {
        "\nNo critical findings.\n".to_string()
    } else {
        "\n### Critical\n\n| Where | Key | Finding |\n|---|---|---|\n".to_string()
    };
    Critical { intro, rows }
}

/// A finding's row, marked when a deploy finds it already there.
fn marked_row(report: &Report, f: &Finding) -> String {
    match &report.deploy {
        Some(d) if d.is_existing(f) => format!(
            "| {} | {} | {} *(already there)* |\n",
            escape(&place(f)),
            code(&key_label(f)),
            escape(&f.message)
        ),
        _ => finding_row(f),
    }
}

fn finding_row(f: &Finding) -> String {
    format!(
        "| {} | {} | {} |\n",
        escape(&place(f)),
        code(&key_label(f)),
        escape(&f.message)
    )
}

/// `checkout/server`, `staging: frontend/web`, `policy`.
fn place(f: &Finding) -> String {
    if is_policy_note(f) {
        return "policy".to_string();
    }
    match &f.environment {
        Some(env) => format!("{env}: {}", location(f)),
        None => location(f),
    }
}

fn details(summary: &str, body: &str) -> String {
    format!(
        "\n<details><summary>{summary}</summary>\n\n{}\n\n</details>\n",
        body.trim_end()
    )
}

// Long (about 170 lines): one block per section of the comment, in the
// order they are shown (deploy, findings by severity, waived, cross-env,
// diffs, environments, summary); each block builds one `Section`.
fn sections(report: &Report) -> Vec<Section> {
    let mut out = Vec::new();
    if let Some(d) = &report.deploy {
        out.extend(deploy_sections(d));
    }
    for (severity, label) in [(Severity::Warning, "warning"), (Severity::Info, "info")] {
        let rows: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.waiver.is_none() && f.severity == severity)
            .map(|f| marked_row(report, f))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let body = format!(
            "| Where | Key | Finding |\n|---|---|---|\n{}",
            rows.concat()
        );
        out.push(Section {
            cut: format!("{} {label}", rows.len()),
            text: details(&format!("<b>{} {label}</b>", rows.len()), &body),
        });
    }

    let waived: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.waiver.is_some())
        .collect();
    if !waived.is_empty() {
        let mut body =
            String::from("| Severity | Where | Key | Finding | Waiver |\n|---|---|---|---|---|\n");
        for f in &waived {
            body.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                f.severity,
                escape(&place(f)),
                code(&key_label(f)),
                escape(&f.message),
                escape(f.waiver.as_deref().unwrap_or(""))
            ));
        }
        out.push(Section {
            cut: format!("{} waived", waived.len()),
            text: details(&format!("{} waived", waived.len()), &body),
        });
    }

    let cross: Vec<&Finding> = report.findings.iter().filter(|f| is_cross_env(f)).collect();
    if !cross.is_empty() {
        let mut body = String::from("| Severity | Where | Key |");
        for e in &report.envs {
            body.push_str(&format!(" {} |", escape(e)));
        }
        body.push_str(" Rule |\n|---|---|---|");
        for _ in &report.envs {
            body.push_str("---|");
        }
        body.push_str("---|\n");
        for f in &cross {
            let severity = match &f.waiver {
                Some(_) => format!("waived ({})", f.severity),
                None => f.severity.to_string(),
            };
            body.push_str(&format!(
                "| {} | {} | {} |",
                severity,
                escape(&location(f)),
                code(&key_label(f))
            ));
            let values: Vec<Option<&str>> = report
                .envs
                .iter()
                .map(|e| f.values.get(e).and_then(|v| v.as_deref()))
                .collect();
            for (v, cell) in values.iter().zip(shown::row(&values, MAX_VALUE, "—")) {
                match v {
                    // A cell is one line: wrapped parts are joined again.
                    Some(_) => body.push_str(&format!(" {} |", code(&cell.replace('\n', "")))),
                    None => body.push_str(" — |"),
                }
            }
            body.push_str(&format!(" {} |\n", escape(&f.rule)));
        }
        out.push(Section {
            cut: "values by environment".to_string(),
            text: details(
                &format!("Values by environment ({} finding(s))", cross.len()),
                &body,
            ),
        });
    }

    let mut shown = std::collections::BTreeSet::new();
    let mut diffs = String::new();
    for f in report.findings.iter().filter(|f| f.diff.is_some()) {
        if !shown.insert((location(f), key_label(f))) {
            continue; // several rules about one file: one diff
        }
        diffs.push_str(&format!(
            "**{}** {}\n\n```diff\n{}```\n\n",
            escape(&location(f)),
            code(&key_label(f)),
            visible_lines(f.diff.as_deref().unwrap_or("")).replace("```", "`\u{200b}``")
        ));
    }
    if !shown.is_empty() {
        out.push(Section {
            cut: "line differences".to_string(),
            text: details(&format!("Line differences ({})", shown.len()), &diffs),
        });
    }

    let mut body = String::from(
        "| Environment | Complete | Workloads | Containers | Keys | Unresolved | Source |\n|---|---|---|---|---|---|---|\n",
    );
    for e in &report.environments {
        body.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            escape(&e.name),
            if e.complete { "yes" } else { "**no**" },
            e.workloads,
            e.containers,
            e.keys,
            e.unresolved,
            code(&e.source)
        ));
    }
    let problems: Vec<String> = report
        .environments
        .iter()
        .flat_map(|e| {
            e.problems.iter().map(move |p| {
                format!(
                    "- {} **{}** {}: {}\n",
                    escape(&e.name),
                    p.severity,
                    code(&p.location),
                    escape(&p.message)
                )
            })
        })
        .collect();
    if !problems.is_empty() {
        body.push('\n');
        body.push_str(&problems.concat());
    }
    let complete = report.environments.iter().filter(|e| e.complete).count();
    out.push(Section {
        cut: "environments".to_string(),
        text: details(
            &format!(
                "Environments ({complete} of {} read completely)",
                report.environments.len()
            ),
            &body,
        ),
    });

    let body = format!(
        "Applied: {}\n\nSuppressed: {}\n",
        escape(&policy_line(report)),
        escape(&suppressed_line(report))
    );
    out.push(Section {
        cut: "policy".to_string(),
        text: details("Policy and what it suppressed", &body),
    });
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn notice(max: usize, cut: &[String]) -> String {
    format!(
        "\n---\n*Cut to fit {max} characters: {} not shown. Everything is in this run's JSON or \
         SARIF report if it wrote one (`--report json=FILE`), or run `confdrift audit --format \
         markdown` without `--max-length`.*\n",
        cut.join(", ")
    )
}

/// The comment, cut to `max` characters: whole sections from the end, then
/// critical rows, then (when even the summary is too long) the text itself.
fn fit(head: &str, critical: &Critical, sections: &[Section], max: Option<usize>) -> String {
    let all_rows = critical.rows.len();
    let full: String = std::iter::once(head.to_string())
        .chain(std::iter::once(critical.text(all_rows)))
        .chain(sections.iter().map(|s| s.text.clone()))
        .collect();
    let Some(max) = max else {
        return full;
    };
    if chars(&full) <= max {
        return full;
    }
    let critical_full = critical.text(all_rows);
    for keep in (0..sections.len()).rev() {
        let cut: Vec<String> = sections[keep..].iter().map(|s| s.cut.clone()).collect();
        let mut out = format!("{head}{critical_full}");
        for s in &sections[..keep] {
            out.push_str(&s.text);
        }
        out.push_str(&notice(max, &cut));
        if chars(&out) <= max {
            return out;
        }
    }
    for rows in (0..all_rows).rev() {
        let mut cut = vec![format!(
            "{} of {all_rows} critical finding(s)",
            all_rows - rows
        )];
        cut.extend(sections.iter().map(|s| s.cut.clone()));
        let out = format!("{head}{}{}", critical.text(rows), notice(max, &cut));
        if chars(&out) <= max {
            return out;
        }
    }
    // Not even the summary fits: cut the text itself.
    let tail = "\n*(cut)*\n";
    let room = max.saturating_sub(chars(tail));
    let mut out: String = full.chars().take(room).collect();
    if chars(tail) <= max {
        out.push_str(tail);
    }
    out
}

/// Escapes what would break a table cell or start markup, and shows what
/// would act on a terminal ([`visible`]).
fn escape(s: &str) -> String {
    visible(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inline code that survives backticks and pipes in the value; what would
/// act on a terminal is shown ([`visible`]).
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = visible(s).replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// The deploy gate: what the deploy changes in its target, and what it
/// resolves.
fn deploy_sections(d: &super::DeployView) -> Vec<Section> {
    let mut out = Vec::new();
    if !d.changes.is_empty() {
        let mut body =
            String::from("| Where | Key | Now | After the deploy |\n|---|---|---|---|\n");
        for c in &d.changes {
            let place = c.place();
            let shown = |v: &Option<String>| match v {
                // A file stays whole (written out on one line).
                Some(v) if v.trim_end_matches('\n').contains('\n') => code(v),
                Some(v) => code(&shown::one_line(v)),
                None => "(not set)".to_string(),
            };
            let mut key = c.key.as_deref().map(code).unwrap_or_default();
            if !c.watched_by.is_empty() {
                key.push_str(&format!(
                    " (watched by {})",
                    escape(&c.watched_by.join(", "))
                ));
            }
            body.push_str(&format!(
                "| {} | {key} | {} | {} |\n",
                escape(&place),
                shown(&c.from),
                shown(&c.to)
            ));
        }
        out.push(Section {
            cut: format!("{} change(s) of this deploy", d.changes.len()),
            text: details(
                &format!(
                    "<b>What this deploy changes in {}: {}</b>",
                    escape(&d.target),
                    d.changes.len()
                ),
                &body,
            ),
        });
    }
    if !d.resolved.is_empty() {
        let rows: Vec<String> = d.resolved.iter().map(finding_row).collect();
        let body = format!(
            "| Where | Key | Finding |\n|---|---|---|\n{}",
            rows.concat()
        );
        out.push(Section {
            cut: format!("{} resolved", rows.len()),
            text: details(
                &format!("<b>Resolved by this deploy: {}</b>", rows.len()),
                &body,
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, len: usize) -> Section {
        Section {
            cut: name.to_string(),
            text: format!("\n{}\n", "x".repeat(len)),
        }
    }

    #[test]
    fn fits_by_cutting_whole_sections_from_the_end_and_says_so() {
        let critical = Critical {
            intro: "\n### Critical\n".into(),
            rows: vec!["| a |\n".into(), "| b |\n".into()],
        };
        let sections = [section("warnings", 100), section("info", 5000)];
        let full = fit("**summary**\n", &critical, &sections, None);
        assert!(full.contains(&"x".repeat(5000)));
        for max in [5000, 1000, 400, 300] {
            let out = fit("**summary**\n", &critical, &sections, Some(max));
            assert!(chars(&out) <= max, "{max}: {} chars", chars(&out));
            assert!(out.starts_with("**summary**"), "{out}");
            assert!(out.contains("Cut to fit"), "{out}");
            assert!(out.contains("info"), "{out}");
        }
        let out = fit("**summary**\n", &critical, &sections, Some(1000));
        assert!(
            out.contains("| b |") && out.contains(&"x".repeat(100)),
            "{out}"
        );
        // Smaller than anything sensible: still within the limit.
        let out = fit("**summary**\n", &critical, &sections, Some(20));
        assert!(chars(&out) <= 20, "{out}");
    }
}
