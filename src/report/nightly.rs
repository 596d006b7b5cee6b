//! The nightly report as Markdown: what changed since the previous run
//! first (new, resolved, coverage news), then what persists and for how
//! long — the oldest drift is the one somebody forgot.

use std::io::Write;

use serde_json::Value;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

fn place(f: &Value) -> String {
    let place = super::json::place(f);
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

pub fn render(report: &Value, out: &mut dyn Write) -> std::io::Result<()> {
    let sum = &report["summary"];
    let h = &report["history"];
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    writeln!(
        out,
        "## confdrift nightly {}: {} critical, {} warning, {} info",
        s(&report["run"], "time"),
        sum["critical"],
        sum["warning"],
        sum["info"]
    )?;
    writeln!(out)?;
    match h["previous_run"].as_str() {
        Some(prev) => writeln!(
            out,
            "Since the run of {prev}: **{} new**, {} persisting, **{} resolved**.",
            h["new"],
            h["persisting"],
            h["resolved"].as_array().map_or(0, |a| a.len())
        )?,
        None => writeln!(out, "First run of this history: every finding is new.")?,
    }
    let incomplete: Vec<&str> = report["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["complete"] != true)
        .map(|e| s(e, "name"))
        .collect();
    if !incomplete.is_empty() {
        writeln!(
            out,
            "\n**Not read completely: {}** — see the problems below.",
            incomplete.join(", ")
        )?;
    }
    for c in h["coverage"].as_array().into_iter().flatten() {
        writeln!(out, "- {}", md(c.as_str().unwrap_or("")))?;
    }

    let table = |out: &mut dyn Write, title: &str, rows: &[&&Value]| -> std::io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n### {title}\n")?;
        writeln!(out, "| Severity | Where | Key | Since | Finding |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in rows {
            let since = match f["age_days"].as_i64() {
                Some(0) | None => "today".to_string(),
                Some(d) => format!(
                    "{d} d ({})",
                    s(f, "first_seen").chars().take(10).collect::<String>()
                ),
            };
            writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                s(f, "severity"),
                md(&place(f)),
                md(s(f, "key")),
                since,
                md(s(f, "message"))
            )?;
        }
        Ok(())
    };
    let new: Vec<&&Value> = findings
        .iter()
        .filter(|f| s(f, "status") == "new")
        .collect();
    table(out, "New", &new)?;
    if let Some(resolved) = h["resolved"].as_array()
        && !resolved.is_empty()
    {
        writeln!(out, "\n### Resolved\n")?;
        for r in resolved {
            writeln!(
                out,
                "- {} {} (first seen {})",
                s(r, "severity"),
                md(s(r, "label")),
                s(r, "first_seen")
            )?;
        }
    }
    let mut persisting: Vec<&&Value> = findings
        .iter()
        .filter(|f| s(f, "status") == "persisting")
        .collect();
    persisting.sort_by_key(|f| std::cmp::Reverse(f["age_days"].as_i64().unwrap_or(0)));
    table(out, "Persisting, oldest first", &persisting)?;
    let problems: Vec<String> = report["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e["problems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |p| {
                    format!(
                        "- {} {}: {}: {}",
                        s(e, "name"),
                        s(p, "severity"),
                        md(s(p, "where")),
                        md(s(p, "message"))
                    )
                })
        })
        .chain(
            h["problems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| format!("- history: {}", md(p.as_str().unwrap_or("")))),
        )
        .collect();
    if !problems.is_empty() {
        writeln!(out, "\n### Problems\n")?;
        for p in problems {
            writeln!(out, "{p}")?;
        }
    }
    Ok(())
}
