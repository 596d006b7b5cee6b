//! The human table: one row per delta, environments side by side, each value
//! with where it comes from; then why each rule reported it, line diffs,
//! single-environment findings, coverage, the policy applied, what it
//! suppressed, and the summary. Fits the terminal, or `COLUMNS` (120 when
//! unset) in a log; values shortened to fit keep where they differ in view
//! ([`shown`]).
//!
//! Every piece of text taken from input goes through [`visible`] before it
//! is measured or printed: a value must never act on the terminal.

use std::io::Write;

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};

use super::{
    RenderOptions, Report, is_cross_env, is_policy_note, key_label, location, policy_line, shown,
    suppressed_line, visible,
};
use crate::evaluate::UNMATCHED;
use crate::model::Severity;

/// Sources longer than this are cut in the table (the JSON has them whole).
const MAX_VALUE: usize = 24;

/// Values of a deploy's change are shortened to this (on one line each).
const DEPLOY_VALUE: usize = 40;

/// A row of the table as text: severity (none for a location heading),
/// cells, which values differ from the baseline, and the width of the
/// environment labels in FROM (0: one source).
type TableRow = (Option<Severity>, Vec<String>, Vec<bool>, usize);

/// A value cell where the key is not set.
const NOT_SET: &str = "—";

// Long (about 290 lines) on purpose: the table is written top to bottom in
// the order a reader meets it (header, deploy line, findings, diffs,
// single-environment notes, environments, policy, summary), each part a few
// lines over the same report and writer. Split it by part, not by size.
pub fn render(report: &Report, style: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "confdrift audit: {} environment(s) ({}), baseline {}",
        report.envs.len(),
        visible(&report.envs.join(", ")),
        visible(&report.baseline)
    )?;
    if let Some(d) = &report.deploy {
        let (new, existing) = d.new_and_existing(&report.findings);
        writeln!(
            out,
            "Deploy of {} to {}: {} finding(s) introduced by this deploy, {} already there{}, {} \
             resolved by it; {} the values after the deploy",
            visible(&d.candidate),
            visible(&d.target),
            new,
            existing,
            if d.fail_on_existing {
                " (--fail-on-existing: they count)"
            } else {
                " (they do not fail the gate)"
            },
            d.resolved.len(),
            visible(&d.target),
        )?;
    }
    writeln!(out)?;

    let cross: Vec<_> = report.findings.iter().filter(|f| is_cross_env(f)).collect();
    if cross.is_empty() {
        writeln!(out, "No drift between environments.")?;
    } else {
        let mut header = vec!["SEV".to_string(), "KEY".to_string()];
        header.extend(report.envs.iter().map(|e| {
            if *e == report.baseline {
                format!("{}*", visible(e))
            } else {
                visible(e).into_owned()
            }
        }));
        header.push("FROM".to_string());
        // Rows as text first, so the widths can be fitted to the terminal.
        let mut rows: Vec<TableRow> = Vec::new();
        let mut last_location = String::new();
        let mut last_row = None;
        for f in &cross {
            let loc = visible(&location(f)).into_owned();
            // One row per key and severity: several rules' findings about it
            // are each explained below the table.
            let row_id = (f.severity, f.waiver.is_some(), loc.clone(), key_label(f));
            if last_row.as_ref() == Some(&row_id) {
                continue;
            }
            last_row = Some(row_id);
            if loc != last_location {
                let mut heading = vec![String::new(), loc.clone()];
                heading.extend(report.envs.iter().map(|_| String::new()));
                heading.push(String::new());
                rows.push((None, heading, vec![], 0));
                last_location = loc;
            }
            let mut cells = vec![
                if f.waiver.is_some() {
                    "waiv".to_string()
                } else {
                    severity_label(f.severity).to_string()
                },
                format!("  {}", visible(&key_label(f))),
            ];
            let mut changed = Vec::new();
            for env in &report.envs {
                // Whole here: shortened together once the widths are known.
                cells.push(match f.values.get(env).cloned().flatten() {
                    None => NOT_SET.to_string(),
                    Some(v) => shown::one_line(&v),
                });
                changed.push(
                    env != &report.baseline && differs_from_baseline(f, env, &report.baseline),
                );
            }
            let (from, labels) = sources(f, &report.envs);
            cells.push(from);
            rows.push((Some(f.severity), cells, changed, labels));
        }
        let widths = fit_widths(
            &header,
            rows.iter().map(|r| &r.1),
            style.width.unwrap_or(terminal_width()),
        );
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        if style.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table.set_header(
            header
                .iter()
                .zip(&widths)
                .map(|(h, w)| Cell::new(fit(h, *w)))
                .collect::<Vec<_>>(),
        );
        let values = 2..2 + report.envs.len();
        let from = 2 + report.envs.len();
        for (sev, mut cells, changed, labels) in rows {
            shorten_values(&mut cells[values.clone()], &widths[values.clone()]);
            if labels > 0 {
                cells[from] = shorten_sources(&cells[from], labels, widths[from]);
            }
            let mut row = Vec::new();
            for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                let mut cell = Cell::new(fit(c, *w));
                if style.color {
                    match (i, sev) {
                        (0, Some(s)) => cell = cell.fg(severity_color(s)),
                        (1, None) => cell = cell.add_attribute(Attribute::Bold),
                        (i, Some(_)) if i >= 2 && changed.get(i - 2) == Some(&true) => {
                            cell = cell.fg(Color::Yellow)
                        }
                        _ => {}
                    }
                }
                row.push(cell);
            }
            table.add_row(row);
        }
        writeln!(out, "{table}")?;
    }

    let ruled: Vec<_> = cross.iter().filter(|f| f.rule != UNMATCHED).collect();
    if !ruled.is_empty() {
        writeln!(out)?;
        writeln!(out, "Why (rule findings):")?;
        let width = usize::from(style.width.unwrap_or(terminal_width()));
        for f in ruled {
            let (sev, shown) = match &f.waiver {
                Some(_) => ("WAIVED".to_string(), "WAIVED".to_string()),
                None => {
                    let s = f.severity.as_str().to_uppercase();
                    (s.clone(), paint(s, f.severity, style.color))
                }
            };
            let mut text = visible(&format!("{}: {}", location(f), f.message)).into_owned();
            if report.deploy.as_ref().is_some_and(|d| d.is_existing(f)) {
                text.push_str(" [already there before this deploy]");
            }
            for (i, line) in wrap(&text, width.saturating_sub(11)).iter().enumerate() {
                if i == 0 {
                    // Pad by the plain label's width: colour codes take none.
                    let pad = " ".repeat(8usize.saturating_sub(sev.chars().count()));
                    writeln!(out, "  {shown}{pad} {line}")?;
                } else {
                    writeln!(out, "  {:<8} {line}", "")?;
                }
            }
            if let Some(w) = &f.waiver {
                for line in wrap(&format!("waived: {}", visible(w)), width.saturating_sub(11)) {
                    writeln!(out, "  {:<8} {line}", "")?;
                }
            }
        }
    }

    let diffs: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.diff.is_some())
        .collect();
    if !diffs.is_empty() {
        writeln!(out)?;
        writeln!(out, "Line differences:")?;
        let mut printed: Vec<(&str, String)> = Vec::new();
        for f in diffs {
            let label = visible(&format!("{} {}", location(f), key_label(f))).into_owned();
            let diff = f.diff.as_deref().unwrap_or("");
            if printed.iter().any(|(_, l)| *l == label) {
                continue; // several rules about one file: one diff
            }
            if let Some((_, first)) = printed.iter().find(|(d, _)| *d == diff) {
                writeln!(out, "  {label}: the same change as {first}")?;
                continue;
            }
            writeln!(out, "  {label}")?;
            printed.push((diff, label));
            for line in diff.split_terminator('\n') {
                writeln!(out, "    {}", paint_diff_line(line, style.color))?;
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
        writeln!(out, "In one environment:")?;
        for f in single {
            writeln!(
                out,
                "  {:<8} {:<18} {}",
                paint(f.severity.as_str().to_uppercase(), f.severity, style.color),
                visible(&f.code),
                visible(&f.message)
            )?;
            if let Some(w) = &f.waiver {
                writeln!(out, "  {:<8} {:<18} waived: {}", "", "", visible(w))?;
            }
        }
    }

    if let Some(d) = &report.deploy {
        deploy_sections(d, style, out)?;
    }

    writeln!(out)?;
    writeln!(out, "Environments:")?;
    for e in &report.environments {
        let state = if e.complete { "complete" } else { "INCOMPLETE" };
        writeln!(
            out,
            "  {:<10} {:<10} {} workloads, {} containers, {} keys, {} unresolved  ({})",
            visible(&e.name),
            state,
            e.workloads,
            e.containers,
            e.keys,
            e.unresolved,
            visible(&e.source)
        )?;
        if !e.skipped_kinds.is_empty() {
            let kinds: Vec<String> = e
                .skipped_kinds
                .iter()
                .map(|(k, n)| format!("{} ×{n}", visible(k)))
                .collect();
            writeln!(
                out,
                "  {:<10} skipped (not configuration): {}",
                "",
                kinds.join(", ")
            )?;
        }
        if !e.renamed.is_empty() {
            let names: Vec<String> = e
                .renamed
                .iter()
                .map(|(new, old)| format!("{} as {}", visible(old), visible(new)))
                .collect();
            writeln!(
                out,
                "  {:<10} compared under other names: {}",
                "",
                names.join(", ")
            )?;
        }
        for p in &e.problems {
            writeln!(
                out,
                "  {:<10} {}: {}: {}",
                "",
                p.severity.as_str(),
                visible(&p.location),
                visible(&p.message)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Policy: {}", visible(&policy_line(report)))?;
    for f in report.findings.iter().filter(|f| is_policy_note(f)) {
        writeln!(
            out,
            "  {:<8} {:<18} {}",
            paint(f.severity.as_str().to_uppercase(), f.severity, style.color),
            visible(&f.code),
            visible(&f.message)
        )?;
    }
    writeln!(out, "Suppressed: {}", visible(&suppressed_line(report)))?;
    writeln!(out)?;
    let s = &report.summary;
    writeln!(
        out,
        "Summary: {} critical, {} warning, {} info, {} waived",
        s.critical, s.warning, s.info, s.waived
    )?;
    Ok(())
}

/// The value cells of one row, each fitted to its column: when one does
/// not fit, all are shortened together to the narrowest value column, so
/// that where they differ stays visible ([`shown::shorten_together`]).
fn shorten_values(cells: &mut [String], widths: &[usize]) {
    if cells
        .iter()
        .zip(widths)
        .all(|(c, w)| c.chars().count() <= *w)
    {
        return;
    }
    let width = widths.iter().copied().min().unwrap_or(shown::MIN_WIDTH);
    // "—" (not set) is not a value: it stays as it is.
    let present: Vec<&str> = cells
        .iter()
        .filter(|c| *c != NOT_SET)
        .map(String::as_str)
        .collect();
    let mut shortened = shown::shorten_together(&present, width).into_iter();
    for c in cells.iter_mut().filter(|c| *c != NOT_SET) {
        *c = shortened.next().unwrap_or_default();
    }
}

fn differs_from_baseline(f: &crate::model::Finding, env: &str, baseline: &str) -> bool {
    f.values.get(env) != f.values.get(baseline)
}

fn severity_label(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "info",
    }
}

fn severity_color(sev: Severity) -> Color {
    match sev {
        Severity::Critical => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Blue,
    }
}

fn terminal_width() -> u16 {
    // comfy-table asks the terminal only when it renders; ask it the same way.
    let probe = Table::new();
    probe.width().unwrap_or(100).max(60)
}

/// Column widths that fit `total` columns: the widest column gives way first,
/// down to a minimum, so short columns (severity, numbers) stay whole.
fn fit_widths<'a>(
    header: &[String],
    rows: impl Iterator<Item = &'a Vec<String>>,
    total: u16,
) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            let longest = c.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            *w = (*w).max(longest);
        }
    }
    // Each column has one space of padding on either side.
    let budget = (total as usize).saturating_sub(2 * widths.len());
    // The key column is what a reader scans: it gives way last.
    let mins: Vec<usize> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| match i {
            0 => *w,
            1 => (*w).min(32),
            _ => (*w).min(10),
        })
        .collect();
    while widths.iter().sum::<usize>() > budget {
        let Some(i) = (0..widths.len())
            .filter(|i| widths[*i] > mins[*i])
            .max_by_key(|i| (widths[*i] - mins[*i], std::cmp::Reverse(*i)))
        else {
            break;
        };
        widths[i] -= 1;
    }
    widths
}

/// Cuts every line of a cell to `width` characters.
fn fit(text: &str, width: usize) -> String {
    text.lines()
        .map(|l| {
            if l.chars().count() > width {
                let mut s: String = l.chars().take(width.saturating_sub(1)).collect();
                s.push('…');
                s
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
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

/// A line of a unified diff, shown with [`visible`] (it quotes the values)
/// and coloured on a terminal: additions green, removals red, hunk headers
/// cyan.
pub(crate) fn paint_diff_line(line: &str, color: bool) -> String {
    let line = visible(line);
    if !color {
        return line.into_owned();
    }
    if line.starts_with('+') && !line.starts_with("+++") {
        format!("\x1b[32m{line}\x1b[0m")
    } else if line.starts_with('-') && !line.starts_with("---") {
        format!("\x1b[31m{line}\x1b[0m")
    } else if line.starts_with("@@") {
        format!("\x1b[36m{line}\x1b[0m")
    } else {
        line.to_string()
    }
}

/// Words into lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line, at most [`MAX_VALUE`] characters: for sources, whose cut
/// hides no difference (values go through [`shown`]).
pub fn cut(v: &str) -> String {
    if v.starts_with("<unresolved") {
        return "<unresolved>".into();
    }
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
/// else each environment's, one a line after its label (`prod:    `), all
/// labels as wide as the widest (returned; 0 for one source).
fn sources(f: &crate::model::Finding, envs: &[String]) -> (String, usize) {
    let mut distinct: Vec<&String> = envs.iter().filter_map(|e| f.sources.get(e)).collect();
    distinct.dedup();
    if f.kind == Some(crate::model::ConfigKind::ConfigMap) {
        return (String::new(), 0); // the WHERE column names the ConfigMap already
    }
    let key = f.key.as_deref().unwrap_or("");
    let all_same = distinct.windows(2).all(|w| w[0] == w[1]);
    if all_same {
        let one = distinct.first().map(|s| cut(&short_source(s, key)));
        return (one.unwrap_or_default(), 0);
    }
    let labeled: Vec<(String, String)> = envs
        .iter()
        .filter_map(|e| {
            let src = f.sources.get(e)?;
            Some((format!("{}:", visible(e)), short_source(src, key)))
        })
        .collect();
    let labels = labeled.iter().map(|(l, _)| l.chars().count() + 1).max();
    let labels = labels.unwrap_or(0);
    // Whole: shortened together to the column ([`shorten_sources`]).
    let lines: Vec<String> = labeled
        .iter()
        .map(|(label, src)| format!("{label:<labels$}{src}"))
        .collect();
    (lines.join("\n"), labels)
}

/// A FROM cell of one source per environment, fitted to `width`: the
/// sources after their labels shortened together, so that where they
/// differ stays visible; a wrapped source continues under its source.
fn shorten_sources(cell: &str, labels: usize, width: usize) -> String {
    let lines: Vec<(String, String)> = cell
        .lines()
        .map(|l| {
            let label: String = l.chars().take(labels).collect();
            let src: String = l.chars().skip(labels).collect();
            (label, src)
        })
        .collect();
    let srcs: Vec<&str> = lines.iter().map(|(_, s)| s.as_str()).collect();
    // Too narrow for label and source on one line: the source goes under
    // its label.
    let (room, indent) = match width.saturating_sub(labels) {
        room if room >= 8 => (room, labels),
        _ => (width.saturating_sub(1), 1),
    };
    shown::shorten_together(&srcs, room)
        .iter()
        .zip(&lines)
        .map(|(src, (label, _))| {
            let lead = format!("\n{:indent$}", "");
            let src = src.replace('\n', &lead);
            if indent == labels {
                format!("{label}{src}")
            } else {
                format!("{}{lead}{src}", label.trim_end())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Provenance in few words: `cm shop-config`, `secret api`, `literal`.
fn short_source(src: &str, key: &str) -> String {
    let src = src.strip_suffix(&format!("/{key}")).unwrap_or(src);
    visible(src)
        .replace("envFrom ConfigMap ", "envFrom cm ")
        .replace("envFrom Secret ", "envFrom secret ")
        .replace("mounted ConfigMap ", "cm ")
        .replace("mounted Secret ", "secret ")
        .replace("ConfigMap ", "cm ")
        .replace("Secret ", "secret ")
}

/// What a deploy changes in its target, and what it resolves.
fn deploy_sections(
    d: &crate::report::DeployView,
    style: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out)?;
    if d.changes.is_empty() {
        writeln!(
            out,
            "This deploy changes nothing in {}.",
            visible(&d.target)
        )?;
    } else {
        writeln!(out, "What this deploy changes in {}:", visible(&d.target))?;
        for c in &d.changes {
            let place = c.place();
            let key = match (c.kind, &c.key) {
                (Some(crate::model::ConfigKind::Flag), Some(k)) => format!(" flag {k}"),
                (Some(crate::model::ConfigKind::File), Some(k)) => format!(" file {k}"),
                (_, Some(k)) => format!(" {k}"),
                (_, None) => String::new(),
            };
            let values = shown::row(
                &[c.from.as_deref(), c.to.as_deref()],
                DEPLOY_VALUE,
                "(not set)",
            );
            let mut line = format!(
                "  {}{}: {} → {}",
                visible(&place),
                visible(&key),
                values[0].replace('\n', ""),
                values[1].replace('\n', "")
            );
            if let Some(src) = &c.to_source {
                line.push_str(&format!("  ({})", visible(src)));
            }
            if !c.watched_by.is_empty() {
                line.push_str(&format!(
                    "  [watched by {}]",
                    visible(&c.watched_by.join(", "))
                ));
            }
            writeln!(out, "{line}")?;
        }
    }
    if !d.resolved.is_empty() {
        writeln!(out)?;
        writeln!(out, "Resolved by this deploy:")?;
        for f in &d.resolved {
            writeln!(
                out,
                "  {:<8} {}: {}",
                paint(f.severity.as_str().to_uppercase(), f.severity, style.color),
                visible(&location(f)),
                visible(&f.message)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Change;
    use crate::model::ConfigKind;

    fn change(key: &str, from: Option<&str>, to: Option<&str>) -> Change {
        Change {
            workload: Some("api".into()),
            container: Some("app".into()),
            configmap: None,
            kind: Some(ConfigKind::Env),
            key: Some(key.into()),
            from: from.map(String::from),
            to: to.map(String::from),
            from_source: None,
            to_source: None,
            diff: None,
            watched_by: Vec::new(),
        }
    }

    #[test]
    fn a_deploy_change_shows_where_the_values_differ() {
        let mut report = Report::new("prod", &[], Vec::new());
        report.deploy = Some(crate::report::DeployView {
            target: "prod".into(),
            candidate: "rendered.yaml".into(),
            changes: vec![
                change("DB_POOL_SIZE", Some("20"), Some("20\n")),
                change("SENTRY_DSN", None, Some("")),
                change(
                    "JAVA_OPTS",
                    Some(
                        "-Xms64m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=200 -Dprofile=staging",
                    ),
                    Some(
                        "-Xms64m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=200 -Dprofile=production",
                    ),
                ),
            ],
            ..Default::default()
        });
        let mut out = Vec::new();
        render(&report, RenderOptions::default(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("api/app DB_POOL_SIZE: 20 → 20⏎"), "{out}");
        assert!(
            out.contains("api/app SENTRY_DSN: (not set) → \"\""),
            "{out}"
        );
        let java = out.lines().find(|l| l.contains("JAVA_OPTS")).unwrap();
        assert!(
            java.contains("=staging") && java.contains("=production"),
            "{out}"
        );
    }
}
