//! The nightly report as Markdown: what changed since the previous run
//! first (new, resolved, coverage news), then what persists and for how
//! long — the oldest drift is the one somebody forgot.

use std::io::Write;

use super::json::{FindingStatus, JsonFinding, JsonHistory, JsonReport};

fn place(f: &JsonFinding) -> String {
    let place = f.place();
    if place.is_empty() {
        "policy".to_string()
    } else {
        place
    }
}

/// Text from input in a Markdown table cell: a line, pipes and tags
/// escaped, control and bidi characters written out
/// ([`super::visible`]).
fn md(text: &str) -> String {
    super::visible(&text.replace('\n', " "))
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders `report`, a nightly run's report: with `run` and `history`,
/// and each finding's `status`, `first_seen` and `age_days`. Without
/// them, it reads as a first run.
pub fn render(report: &JsonReport, out: &mut dyn Write) -> std::io::Result<()> {
    let sum = &report.summary;
    let first_run = JsonHistory::default();
    let h = report.history.as_ref().unwrap_or(&first_run);
    writeln!(
        out,
        "## confdrift nightly {}: {} critical, {} warning, {} info",
        report.run.as_ref().map_or("", |r| r.time.as_str()),
        sum.critical,
        sum.warning,
        sum.info
    )?;
    writeln!(out)?;
    match &h.previous_run {
        Some(prev) => writeln!(
            out,
            "Since the run of {prev}: **{} new**, {} persisting, **{} resolved**.",
            h.new,
            h.persisting,
            h.resolved.len()
        )?,
        None => writeln!(out, "First run of this history: every finding is new.")?,
    }
    let incomplete: Vec<&str> = report
        .environments
        .iter()
        .filter(|e| !e.complete)
        .map(|e| e.name.as_str())
        .collect();
    if !incomplete.is_empty() {
        writeln!(
            out,
            "\n**Not read completely: {}** — see the problems below.",
            incomplete.join(", ")
        )?;
    }
    for c in &h.coverage {
        writeln!(out, "- {}", md(c))?;
    }

    let table = |out: &mut dyn Write, title: &str, rows: &[&JsonFinding]| -> std::io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n### {title}\n")?;
        writeln!(out, "| Severity | Where | Key | Since | Finding |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in rows {
            let since = match f.age_days {
                Some(0) | None => "today".to_string(),
                Some(d) => format!(
                    "{d} d ({})",
                    f.first_seen
                        .as_deref()
                        .unwrap_or_default()
                        .chars()
                        .take(10)
                        .collect::<String>()
                ),
            };
            writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                f.severity,
                md(&place(f)),
                md(f.key.as_deref().unwrap_or_default()),
                since,
                md(&f.message)
            )?;
        }
        Ok(())
    };
    let with_status = |status: FindingStatus| -> Vec<&JsonFinding> {
        report
            .findings
            .iter()
            .filter(|f| f.status == Some(status))
            .collect()
    };
    table(out, "New", &with_status(FindingStatus::New))?;
    if !h.resolved.is_empty() {
        writeln!(out, "\n### Resolved\n")?;
        for r in &h.resolved {
            writeln!(
                out,
                "- {} {} (first seen {})",
                r.severity,
                md(&r.label),
                r.first_seen
            )?;
        }
    }
    let mut persisting = with_status(FindingStatus::Persisting);
    persisting.sort_by_key(|f| std::cmp::Reverse(f.age_days.unwrap_or(0)));
    table(out, "Persisting, oldest first", &persisting)?;
    let problems: Vec<String> = report
        .environments
        .iter()
        .flat_map(|e| {
            e.problems.iter().map(move |p| {
                format!(
                    "- {} {}: {}: {}",
                    e.name,
                    p.severity,
                    md(&p.location),
                    md(&p.message)
                )
            })
        })
        .chain(h.problems.iter().map(|p| format!("- history: {}", md(p))))
        .collect();
    if !problems.is_empty() {
        writeln!(out, "\n### Problems\n")?;
        for p in problems {
            writeln!(out, "{p}")?;
        }
    }
    Ok(())
}
