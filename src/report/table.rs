//! The human table: one row per delta, environments side by side, each value
//! with where it comes from; then line diffs, single-environment findings,
//! coverage and the summary. Fits a 100-column terminal.

use std::io::Write;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::{Report, Style, is_cross_env, key_label, location};
use crate::model::Severity;

/// Values longer than this are cut in the table (the JSON has them whole).
const MAX_VALUE: usize = 28;

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "confdrift audit: {} environment(s) ({}), baseline {}",
        report.envs.len(),
        report.envs.join(", "),
        report.baseline
    )?;
    writeln!(out)?;

    let cross: Vec<_> = report.findings.iter().filter(|f| is_cross_env(f)).collect();
    if cross.is_empty() {
        writeln!(out, "No drift between environments.")?;
    } else {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = style.width {
            table.set_width(w);
        }
        if style.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        let mut header = vec![Cell::new("SEV"), Cell::new("WHERE"), Cell::new("KEY")];
        header.extend(report.envs.iter().map(|e| {
            if *e == report.baseline {
                Cell::new(format!("{e}*"))
            } else {
                Cell::new(e)
            }
        }));
        header.push(Cell::new("FROM"));
        table.set_header(header);
        let mut last_location = String::new();
        for f in &cross {
            let loc = location(f);
            let shown_loc = if loc == last_location {
                String::new()
            } else {
                loc.clone()
            };
            last_location = loc;
            let mut row = vec![
                severity_cell(f.severity, style.color),
                Cell::new(shown_loc),
                Cell::new(key_label(f)),
            ];
            for env in &report.envs {
                let text = match f.values.get(env).cloned().flatten() {
                    None => "—".to_string(),
                    Some(v) => cut(&v),
                };
                let mut cell = Cell::new(text);
                if style.color && env != &report.baseline && differs_from_baseline(f, env, &report.baseline) {
                    cell = cell.fg(Color::Yellow);
                }
                row.push(cell);
            }
            row.push(Cell::new(sources(f, &report.envs)));
            table.add_row(row);
        }
        writeln!(out, "{table}")?;
    }

    let diffs: Vec<_> = report.findings.iter().filter(|f| f.diff.is_some()).collect();
    if !diffs.is_empty() {
        writeln!(out)?;
        writeln!(out, "Line differences:")?;
        let mut printed: Vec<(&str, String)> = Vec::new();
        for f in diffs {
            let label = format!("{} {}", location(f), key_label(f));
            let diff = f.diff.as_deref().unwrap_or("");
            if let Some((_, first)) = printed.iter().find(|(d, _)| *d == diff) {
                writeln!(out, "  {label}: the same change as {first}")?;
                continue;
            }
            writeln!(out, "  {label}")?;
            printed.push((diff, label));
            for line in diff.lines() {
                writeln!(out, "    {}", paint_diff_line(line, style.color))?;
            }
        }
    }

    let single: Vec<_> = report.findings.iter().filter(|f| !is_cross_env(f)).collect();
    if !single.is_empty() {
        writeln!(out)?;
        writeln!(out, "In one environment:")?;
        for f in single {
            writeln!(
                out,
                "  {:<8} {:<18} {}",
                paint(f.severity.as_str().to_uppercase(), f.severity, style.color),
                f.code,
                f.message
            )?;
        }
    }

    writeln!(out)?;
    writeln!(out, "Environments:")?;
    for e in &report.environments {
        let state = if e.complete { "complete" } else { "INCOMPLETE" };
        writeln!(
            out,
            "  {:<10} {:<10} {} workloads, {} containers, {} keys, {} unresolved  ({})",
            e.name, state, e.workloads, e.containers, e.keys, e.unresolved, e.source
        )?;
        if !e.skipped_kinds.is_empty() {
            let kinds: Vec<String> = e
                .skipped_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            writeln!(out, "  {:<10} skipped (not configuration): {}", "", kinds.join(", "))?;
        }
        for p in &e.problems {
            writeln!(
                out,
                "  {:<10} {}: {}: {}",
                "",
                p.severity.as_str(),
                p.location,
                p.message
            )?;
        }
    }
    writeln!(out)?;
    let s = &report.summary;
    writeln!(
        out,
        "Summary: {} critical, {} warning, {} info, {} waived",
        s.critical, s.warning, s.info, s.waived
    )?;
    Ok(())
}

fn differs_from_baseline(f: &crate::model::Finding, env: &str, baseline: &str) -> bool {
    f.values.get(env) != f.values.get(baseline)
}

fn severity_cell(sev: Severity, color: bool) -> Cell {
    let cell = Cell::new(match sev {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "info",
    });
    if !color {
        return cell;
    }
    match sev {
        Severity::Critical => cell.fg(Color::Red),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell.fg(Color::Blue),
    }
}

fn paint(text: String, sev: Severity, color: bool) -> String {
    if !color {
        return text;
    }
    let code = match sev {
        Severity::Critical => "31",
        Severity::Warning => "33",
        Severity::Info => "34",
    };
    format!("\x1b[{code}m{text:<8}\x1b[0m")
}

fn paint_diff_line(line: &str, color: bool) -> String {
    if !color {
        return line.to_string();
    }
    if line.starts_with('+') && !line.starts_with("+++") {
        format!("\x1b[32m{line}\x1b[0m")
    } else if line.starts_with('-') && !line.starts_with("---") {
        format!("\x1b[31m{line}\x1b[0m")
    } else {
        line.to_string()
    }
}

/// One line, at most [`MAX_VALUE`] characters.
pub fn cut(v: &str) -> String {
    let lines = v.trim_end().lines().count();
    if lines > 1 {
        return format!("({lines} lines)");
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.len() > MAX_VALUE {
        let mut s: String = chars[..MAX_VALUE - 1].iter().collect();
        s.push('…');
        s
    } else {
        v.to_string()
    }
}

/// Where the values come from: one source when all environments agree,
/// else each environment's.
fn sources(f: &crate::model::Finding, envs: &[String]) -> String {
    let mut distinct: Vec<&String> = envs.iter().filter_map(|e| f.sources.get(e)).collect();
    distinct.dedup();
    if f.kind == Some(crate::model::ConfigKind::ConfigMap) {
        return String::new(); // the WHERE column names the ConfigMap already
    }
    let key = f.key.as_deref().unwrap_or("");
    let all_same = distinct.windows(2).all(|w| w[0] == w[1]);
    if all_same {
        return distinct.first().map(|s| short_source(s, key)).unwrap_or_default();
    }
    envs.iter()
        .filter_map(|e| f.sources.get(e).map(|s| format!("{e}: {}", short_source(s, key))))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Provenance in few characters: `cm shop-config`, `secret api`, `literal`.
fn short_source(src: &str, key: &str) -> String {
    let src = src.strip_suffix(&format!("/{key}")).unwrap_or(src);
    let s = src
        .replace("envFrom ConfigMap ", "envFrom cm ")
        .replace("envFrom Secret ", "envFrom secret ")
        .replace("mounted ConfigMap ", "cm ")
        .replace("mounted Secret ", "secret ")
        .replace("ConfigMap ", "cm ")
        .replace("Secret ", "secret ");
    cut(&s)
}
