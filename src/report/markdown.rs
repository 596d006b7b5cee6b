//! Markdown, for a pull-request comment or a wiki page: summary line first,
//! then the findings table and why each rule reported it, line diffs folded
//! away, coverage, then the policy applied and what it suppressed.

use std::io::Write;

use super::{
    Report, is_cross_env, is_policy_note, key_label, location, policy_line, suppressed_line,
};
use crate::evaluate::UNMATCHED;

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "## confdrift: {} critical, {} warning, {} info{}",
        s.critical,
        s.warning,
        s.info,
        if s.waived > 0 {
            format!(", {} waived", s.waived)
        } else {
            String::new()
        }
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Environments {} compared against baseline **{}**.{}",
        report
            .envs
            .iter()
            .map(|e| format!("`{}`", escape(e)))
            .collect::<Vec<_>>()
            .join(", "),
        escape(&report.baseline),
        if report.complete() {
            String::new()
        } else {
            " **Some environments could not be read completely: see below.**".to_string()
        }
    )?;
    writeln!(out)?;

    let cross: Vec<_> = report.findings.iter().filter(|f| is_cross_env(f)).collect();
    if cross.is_empty() {
        writeln!(out, "No drift between environments.")?;
    } else {
        write!(out, "| Severity | Where | Key |")?;
        for e in &report.envs {
            write!(out, " {} |", escape(e))?;
        }
        writeln!(out, " Rule |")?;
        write!(out, "|---|---|---|")?;
        for _ in &report.envs {
            write!(out, "---|")?;
        }
        writeln!(out, "---|")?;
        for f in &cross {
            let severity = match &f.waiver {
                Some(_) => format!("waived ({})", f.severity),
                None => f.severity.to_string(),
            };
            write!(
                out,
                "| {} | {} | {} |",
                severity,
                escape(&location(f)),
                code(&key_label(f))
            )?;
            for e in &report.envs {
                match f.values.get(e).cloned().flatten() {
                    None => write!(out, " — |")?,
                    Some(v) => write!(out, " {} |", code(&super::table::cut(&v)))?,
                }
            }
            writeln!(out, " {} |", escape(&f.rule))?;
        }
    }

    let ruled: Vec<_> = cross.iter().filter(|f| f.rule != UNMATCHED).collect();
    if !ruled.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Why")?;
        writeln!(out)?;
        for f in ruled {
            match &f.waiver {
                Some(w) => writeln!(
                    out,
                    "- ~~**{}**~~ waived: {}: {} — *waived: {}*",
                    f.severity,
                    escape(&location(f)),
                    escape(&f.message),
                    escape(w)
                )?,
                None => writeln!(
                    out,
                    "- **{}** {}: {}",
                    f.severity,
                    escape(&location(f)),
                    escape(&f.message)
                )?,
            }
        }
    }

    let single: Vec<_> = report
        .findings
        .iter()
        .filter(|f| !is_cross_env(f) && !is_policy_note(f))
        .collect();
    if !single.is_empty() {
        writeln!(out)?;
        writeln!(out, "### In one environment")?;
        writeln!(out)?;
        for f in single {
            writeln!(
                out,
                "- **{}** `{}`: {}{}",
                f.severity,
                f.code,
                escape(&f.message),
                f.waiver
                    .as_ref()
                    .map(|w| format!(" — *waived: {}*", escape(w)))
                    .unwrap_or_default()
            )?;
        }
    }

    let diffs: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.diff.is_some())
        .collect();
    if !diffs.is_empty() {
        writeln!(out)?;
        let mut shown = std::collections::BTreeSet::new();
        for f in diffs {
            if !shown.insert((location(f), key_label(f))) {
                continue; // several rules about one file: one diff
            }
            writeln!(
                out,
                "<details><summary>{} {}</summary>\n\n```diff\n{}```\n\n</details>",
                escape(&location(f)),
                escape(&key_label(f)),
                f.diff
                    .as_deref()
                    .unwrap_or("")
                    .replace("```", "`\u{200b}``")
            )?;
        }
    }

    writeln!(out)?;
    writeln!(out, "### Environments")?;
    writeln!(out)?;
    writeln!(
        out,
        "| Environment | Complete | Workloads | Containers | Keys | Unresolved | Source |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for e in &report.environments {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            escape(&e.name),
            if e.complete { "yes" } else { "**no**" },
            e.workloads,
            e.containers,
            e.keys,
            e.unresolved,
            code(&e.source)
        )?;
    }
    let problems: Vec<_> = report
        .environments
        .iter()
        .flat_map(|e| e.problems.iter().map(move |p| (e, p)))
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
        for (e, p) in problems {
            writeln!(
                out,
                "- {} **{}** {}: {}",
                escape(&e.name),
                p.severity,
                code(&p.location),
                escape(&p.message)
            )?;
        }
    }

    writeln!(out)?;
    writeln!(out, "### Policy")?;
    writeln!(out)?;
    writeln!(out, "Applied: {}", escape(&policy_line(report)))?;
    writeln!(out)?;
    writeln!(out, "Suppressed: {}", escape(&suppressed_line(report)))?;
    let notes: Vec<_> = report
        .findings
        .iter()
        .filter(|f| is_policy_note(f))
        .collect();
    if !notes.is_empty() {
        writeln!(out)?;
        for f in notes {
            writeln!(
                out,
                "- **{}** `{}`: {}",
                f.severity,
                f.code,
                escape(&f.message)
            )?;
        }
    }
    Ok(())
}

/// Escapes what would break a table cell or start markup.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// Inline code that survives backticks and pipes in the value.
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = s.replace('|', "\\|").replace('\n', " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}
