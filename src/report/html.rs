//! A self-contained HTML report (one file, inline CSS and SVG, no script,
//! no network): summary by severity, the trend over the history, coverage
//! per environment, findings grouped by workload with values side by side
//! and where they come from, line diffs of config files, and new / resolved
//! markers.
//!
//! Drawn from the JSON wire form (optionally annotated with history). Every
//! piece of text is escaped; values are already redacted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::json::{FindingStatus, JsonFinding, JsonReport, JsonTrendRun};
use crate::model::ConfigKind;

/// Escapes text for HTML content and attribute values. Control and bidi
/// characters are written out (`\u{202e}`), as in every other format
/// ([`super::visible_lines`]): a browser would otherwise reorder or hide
/// the text around them.
pub fn esc(s: &str) -> String {
    let s = super::visible_lines(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --crit:#c62828; --warn:#b26a00; --info:#1565c0; --ok:#2e7d32; --muted:#666; --line:#ddd; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { background: #263238; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #cfd8dc; }
main { padding: 16px 24px; max-width: 1400px; }
h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; font-family: ui-monospace, monospace; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 120px; }
.card .n { font-size: 26px; font-weight: 600; }
.card.critical .n { color: var(--crit); } .card.warning .n { color: var(--warn); } .card.info .n { color: var(--info); }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eceff1; font-weight: 600; }
td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
td.value.differs { background: #fff8e1; }
td.value.absent { color: var(--muted); }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px; font-weight: 600; }
.sev.critical { background: var(--crit); } .sev.warning { background: var(--warn); } .sev.info { background: var(--info); }
.tag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 11px; border: 1px solid var(--muted); color: var(--muted); }
.tag.new { border-color: var(--crit); color: var(--crit); font-weight: 600; }
.tag.waived { border-color: var(--ok); color: var(--ok); }
.src { color: var(--muted); font-size: 12px; }
.msg { font-size: 13px; }
pre.diff { background: #fff; border: 1px solid var(--line); padding: 6px; overflow-x: auto; margin: 4px 0; }
pre.diff .add { color: #1b5e20; background: #e8f5e9; display: block; }
pre.diff .del { color: #b71c1c; background: #ffebee; display: block; }
pre.diff .hunk { color: #6a1b9a; display: block; }
pre.diff .ctx { display: block; min-height: 1em; }
.complete-no { color: var(--crit); font-weight: 600; }
.muted { color: var(--muted); }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
"#;

fn location(f: &JsonFinding) -> String {
    let place = f.place();
    if place.is_empty() {
        "(policy)".to_string()
    } else {
        place
    }
}

/// Renders the page.
// Long (about 200 lines) on purpose: the page is written top to bottom
// (head, summary cards, trend, coverage, findings by workload, resolved),
// each part marked with a comment; the escaping happens in `esc` and the
// cells in their own helpers.
pub fn render(report: &JsonReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut h = String::new();
    let envs: Vec<String> = report.environments.iter().map(|e| e.name.clone()).collect();
    let baseline = report.baseline.as_str();
    // Empty: a report not made by the nightly job.
    let time = report.run.as_ref().map_or("", |r| r.time.as_str());
    let summary = &report.summary;
    let history = report.history.as_ref();

    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>confdrift report {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(time)
    );
    let _ = write!(
        h,
        "<header><h1>confdrift report</h1><p>{} environment(s): {} — baseline <b>{}</b>{}</p></header>\n<main>\n",
        envs.len(),
        esc(&envs.join(", ")),
        esc(baseline),
        if time.is_empty() {
            String::new()
        } else {
            format!(" — {}", esc(time))
        }
    );

    // Summary cards.
    h.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (sev, n) in [
        ("critical", summary.critical),
        ("warning", summary.warning),
        ("info", summary.info),
        ("waived", summary.waived),
    ] {
        let _ = write!(
            h,
            "<div class=\"card {sev}\" data-count=\"{sev}\"><div class=\"n\">{n}</div>{sev}</div>"
        );
    }
    if let Some(hist) = history {
        for (k, label, n) in [
            ("new", "new", hist.new),
            ("persisting", "persisting", hist.persisting),
        ] {
            let _ = write!(
                h,
                "<div class=\"card\" data-count=\"{k}\"><div class=\"n\">{n}</div>{label}</div>"
            );
        }
        let _ = write!(
            h,
            "<div class=\"card\" data-count=\"resolved\"><div class=\"n\">{}</div>resolved</div>",
            hist.resolved.len()
        );
    }
    h.push_str("</div>");
    if let Some(prev) = history.and_then(|h| h.previous_run.as_deref()) {
        let _ = write!(
            h,
            "<p class=\"muted\">Compared with the run of {}.</p>",
            esc(prev)
        );
    }
    h.push_str("</section>\n");

    // Trend.
    if let Some(trend) = history.map(|h| &h.trend)
        && !trend.is_empty()
    {
        h.push_str("<section id=\"trend\"><h2>Findings per run</h2>");
        h.push_str(&trend_svg(trend));
        h.push_str("</section>\n");
    }

    // Coverage.
    h.push_str("<section id=\"coverage\"><h2>Environments</h2><table><tr><th>Environment</th><th>Complete</th><th>Workloads</th><th>Containers</th><th>Keys</th><th>Unresolved</th><th>Source</th><th>Problems</th></tr>");
    for e in &report.environments {
        let complete = e.complete;
        let problems: Vec<String> = e
            .problems
            .iter()
            .map(|p| {
                format!(
                    "<div><span class=\"sev {}\">{}</span> {}: {}</div>",
                    esc(p.severity.as_str()),
                    esc(p.severity.as_str()),
                    esc(&p.location),
                    esc(&p.message)
                )
            })
            .collect();
        let c = &e.coverage;
        let _ = write!(
            h,
            "<tr class=\"environment\" data-complete=\"{complete}\"><td>{}{}</td><td class=\"complete-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"src\">{}</td><td>{}</td></tr>",
            esc(&e.name),
            if e.name == baseline {
                " (baseline)"
            } else {
                ""
            },
            if complete { "yes" } else { "no" },
            if complete { "yes" } else { "no" },
            c.workloads,
            c.containers,
            c.keys,
            c.unresolved,
            esc(&e.source),
            problems.join("")
        );
    }
    h.push_str("</table>");
    if let Some(cov) = history.map(|h| &h.coverage)
        && !cov.is_empty()
    {
        h.push_str("<ul id=\"coverage-changes\">");
        for c in cov {
            let _ = write!(h, "<li>{}</li>", esc(c));
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>\n");

    // Findings grouped by workload.
    let findings = &report.findings;
    let mut groups: BTreeMap<String, Vec<&JsonFinding>> = BTreeMap::new();
    for f in findings {
        groups.entry(location(f)).or_default().push(f);
    }
    let _ = write!(
        h,
        "<section id=\"findings\"><h2>Findings ({})</h2>",
        findings.len()
    );
    if findings.is_empty() {
        h.push_str("<p>No findings: the environments agree.</p>");
    }
    for (loc, fs) in &groups {
        let _ = write!(
            h,
            "<div class=\"group\" data-location=\"{}\"><h3>{}</h3><table><tr><th>Severity</th><th>Key</th>",
            esc(loc),
            esc(loc)
        );
        for e in &envs {
            let _ = write!(
                h,
                "<th>{}{}</th>",
                esc(e),
                if e == baseline { " *" } else { "" }
            );
        }
        h.push_str("<th>Finding</th></tr>");
        for f in fs {
            finding_row(&mut h, f, &envs, baseline);
        }
        h.push_str("</table></div>");
    }
    h.push_str("</section>\n");

    // Resolved.
    if let Some(resolved) = history.map(|h| &h.resolved) {
        h.push_str("<section id=\"resolved\"><h2>Resolved since the previous run</h2>");
        if resolved.is_empty() {
            h.push_str("<p class=\"muted\">Nothing was resolved.</p>");
        } else {
            h.push_str("<ul>");
            for r in resolved {
                let _ = write!(
                    h,
                    "<li class=\"resolved\"><span class=\"sev {}\">{}</span> {} <span class=\"muted\">(first seen {})</span></li>",
                    esc(&r.severity),
                    esc(&r.severity),
                    esc(&r.label),
                    esc(&r.first_seen)
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</section>\n");
    }
    if let Some(problems) = history.map(|h| &h.problems)
        && !problems.is_empty()
    {
        h.push_str("<section id=\"history-problems\"><h2>History</h2><ul>");
        for p in problems {
            let _ = write!(h, "<li>{}</li>", esc(p));
        }
        h.push_str("</ul></section>\n");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

fn finding_row(h: &mut String, f: &JsonFinding, envs: &[String], baseline: &str) {
    let sev = f.severity.as_str();
    let status = match f.status {
        Some(FindingStatus::New) => "new",
        Some(FindingStatus::Persisting) => "persisting",
        None => "",
    };
    let waived = f.waiver.is_some();
    let _ = write!(
        h,
        "<tr class=\"finding\" data-severity=\"{}\" data-status=\"{}\" data-code=\"{}\"><td><span class=\"sev {}\">{}</span>",
        esc(sev),
        esc(status),
        esc(&f.code),
        esc(sev),
        esc(sev)
    );
    if f.status == Some(FindingStatus::New) {
        h.push_str(" <span class=\"tag new\">new</span>");
    } else if let (Some(age), Some(first_seen)) = (f.age_days, &f.first_seen) {
        let _ = write!(
            h,
            " <span class=\"tag\" title=\"first seen {}\">{age} d</span>",
            esc(first_seen)
        );
    }
    if waived {
        h.push_str(" <span class=\"tag waived\">waived</span>");
    }
    let key = match (f.kind, f.key.as_deref()) {
        (Some(ConfigKind::Env) | None, Some(k)) => k.to_string(),
        (Some(kind), Some(k)) => format!("{} {k}", kind.as_str()),
        (_, None) => f.code.clone(),
    };
    let _ = write!(h, "</td><td><code>{}</code></td>", esc(&key));
    // `None`: the baseline has no value, or is not in the finding.
    let base = f.values.get(baseline).and_then(Option::as_deref);
    for e in envs {
        let v = f.values.get(e.as_str());
        let src = f.sources.get(e.as_str());
        match v {
            Some(Some(text)) => {
                let class = if e != baseline && Some(text.as_str()) != base {
                    "value differs"
                } else {
                    "value"
                };
                // Not cut: a cell wraps. What cannot be seen is written
                // out (`""`, `"4 "`, `20⏎`); a file is its line count.
                let shown = if text.starts_with("<unresolved") {
                    text.to_string()
                } else {
                    super::shown::one_line(text)
                };
                let _ = write!(
                    h,
                    "<td class=\"{class}\">{}{}</td>",
                    esc(&shown),
                    src.map(|s| format!("<div class=\"src\">{}</div>", esc(s)))
                        .unwrap_or_default()
                );
            }
            // In the finding, absent there.
            Some(None) => h.push_str("<td class=\"value absent\">not set</td>"),
            // Not in the finding.
            None => h.push_str("<td class=\"value absent\"></td>"),
        }
    }
    let _ = write!(
        h,
        "<td class=\"msg\">{} <span class=\"muted\">({})</span>",
        esc(&f.message),
        esc(&f.rule)
    );
    if let Some(w) = &f.waiver {
        let _ = write!(h, "<div class=\"src\">waiver: {}</div>", esc(w));
    }
    if let Some(diff) = &f.diff {
        h.push_str("<pre class=\"diff\">");
        for line in diff.lines() {
            let class = if line.starts_with("@@") {
                "hunk"
            } else if line.starts_with('+') && !line.starts_with("+++") {
                "add"
            } else if line.starts_with('-') && !line.starts_with("---") {
                "del"
            } else {
                "ctx"
            };
            // Each line is a block of its own: no newline between them.
            let _ = write!(h, "<span class=\"{class}\">{}</span>", esc(line));
        }
        h.push_str("</pre>");
    }
    h.push_str("</td></tr>");
}

/// Run labels under the trend chart: a monospace font of this size, so
/// that a label's width is known without a browser.
const LABEL_FONT_PX: f64 = 11.0;
/// The width taken for one character of a label: more than the advance of
/// a monospace glyph at [`LABEL_FONT_PX`] (0.6 em, 6.6 px, in common
/// monospace fonts).
const LABEL_CHAR_PX: f64 = 7.0;
/// The least space between two labels.
const LABEL_GAP_PX: f64 = 8.0;

/// Stacked bars of findings per run (critical, warning, info), for the last
/// 60 runs, with runs labelled by their time; see [`run_labels`] and
/// [`label_positions`].
fn trend_svg(trend: &[JsonTrendRun]) -> String {
    let runs: Vec<&JsonTrendRun> = trend
        .iter()
        .rev()
        .take(60)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let max = runs
        .iter()
        .map(|r| r.critical + r.warning + r.info)
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, hgt, pad) = (720.0, 160.0, 28.0);
    // Each run gets an equal slot across the chart (so its label has room),
    // its bar at most 38 px wide in the middle of it.
    let slot = (w - 2.0 * pad) / runs.len() as f64;
    let width = (slot - 2.0).clamp(1.0, 38.0);
    let mut s = format!(
        "<svg id=\"trend-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"findings per run\">",
        hgt + 30.0
    );
    let _ = write!(
        s,
        "<text x=\"2\" y=\"12\">{max}</text><text x=\"2\" y=\"{}\">0</text>",
        hgt
    );
    let mut centres = Vec::with_capacity(runs.len());
    for (i, r) in runs.iter().enumerate() {
        let x = pad + i as f64 * slot + (slot - width) / 2.0;
        centres.push(x + width / 2.0);
        let mut y = hgt;
        for (k, n, color) in [
            ("info", r.info, "#1565c0"),
            ("warning", r.warning, "#b26a00"),
            ("critical", r.critical, "#c62828"),
        ] {
            let n = n as f64;
            let height = n / max as f64 * (hgt - 10.0);
            y -= height;
            let _ = write!(
                s,
                "<rect class=\"bar {k}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{color}\"><title>{} {k}: {n}</title></rect>",
                esc(&r.time)
            );
        }
    }
    let labels = run_labels(&runs);
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_w = longest as f64 * LABEL_CHAR_PX;
    for (i, x) in label_positions(&centres, label_w, w) {
        let _ = write!(
            s,
            "<text class=\"run-label\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" \
             font-size=\"{LABEL_FONT_PX}\" font-family=\"ui-monospace, monospace\">{}</text>",
            hgt + 14.0,
            esc(&labels[i])
        );
    }
    s.push_str("</svg>");
    s
}

/// A label per run, from its time, as short as tells the runs apart: the
/// date (`2026-11-20`) when every run is on a day of its own, else month,
/// day and time to the minute (`11-20 02:00`), or to the second when two
/// runs share a minute. (Runs in one second share a label; each bar's
/// tooltip has the full time.)
fn run_labels(runs: &[&JsonTrendRun]) -> Vec<String> {
    let times: Vec<Option<jiff::civil::DateTime>> = runs
        .iter()
        .map(|r| {
            r.time
                .parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).datetime())
        })
        .collect();
    let distinct = |f: &dyn Fn(&jiff::civil::DateTime) -> String| {
        let keys: Vec<String> = times.iter().flatten().map(f).collect();
        keys.iter().collect::<std::collections::BTreeSet<_>>().len() == keys.len()
    };
    let format: &str = if distinct(&|d| d.strftime("%F").to_string()) {
        "%F"
    } else if distinct(&|d| d.strftime("%F %H:%M").to_string()) {
        "%m-%d %H:%M"
    } else {
        "%m-%d %H:%M:%S"
    };
    runs.iter()
        .zip(&times)
        .map(|(r, t)| match t {
            Some(d) => d.strftime(format).to_string(),
            None => r.time.chars().take(19).collect(),
        })
        .collect()
}

/// Which runs get a label, and where its centre goes: every `step`-th run
/// counting back from the last (always labelled), `step` the fewest runs
/// whose bars are wider than a label and the gap, so labels are evenly
/// spaced and never overlap. A label is kept inside the chart; one that
/// would then come too close to its neighbour is left out.
fn label_positions(centres: &[f64], label_w: f64, chart_w: f64) -> Vec<(usize, f64)> {
    let Some(last) = centres.len().checked_sub(1) else {
        return Vec::new();
    };
    let spacing = label_w + LABEL_GAP_PX;
    let pitch = if last > 0 {
        centres[1] - centres[0]
    } else {
        spacing
    };
    let step = ((spacing / pitch).ceil() as usize).max(1);
    let half = (label_w / 2.0).min(chart_w / 2.0);
    let mut kept: Vec<(usize, f64)> = Vec::new();
    for i in (0..=last).rev().step_by(step) {
        let x = centres[i].clamp(half, chart_w - half);
        if kept.last().is_none_or(|&(_, right)| right - x >= spacing) {
            kept.push((i, x));
        }
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(esc("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
    }

    use crate::report::json::{JsonEnvironment, JsonSummary};

    fn env(name: &str) -> JsonEnvironment {
        JsonEnvironment {
            name: name.into(),
            complete: true,
            source: "x".into(),
            ..JsonEnvironment::default()
        }
    }

    /// A finding of `unmatched` about env var `key` of container w/c.
    fn finding(key: &str, values: &[(&str, &str)]) -> JsonFinding {
        JsonFinding {
            rule: "unmatched".into(),
            code: "value-differs".into(),
            workload: Some("w".into()),
            container: Some("c".into()),
            kind: Some(ConfigKind::Env),
            key: Some(key.into()),
            values: values
                .iter()
                .map(|(e, v)| (e.to_string(), Some(v.to_string())))
                .collect(),
            message: "m".into(),
            ..JsonFinding::default()
        }
    }

    fn report(envs: &[&str], findings: Vec<JsonFinding>) -> JsonReport {
        JsonReport {
            schema: crate::report::json::SCHEMA.into(),
            baseline: "prod".into(),
            environments: envs.iter().map(|e| env(e)).collect(),
            summary: JsonSummary {
                info: findings.len(),
                ..JsonSummary::default()
            },
            findings,
            ..JsonReport::default()
        }
    }

    #[test]
    fn a_value_with_markup_cannot_inject_into_the_page() {
        let report = report(
            &["prod"],
            vec![finding("K", &[("prod", "<img src=x onerror=alert(1)>")])],
        );
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;img src=x"));
    }

    #[test]
    fn invisible_values_are_written_out() {
        let finding =
            |key: &str, staging: &str| finding(key, &[("staging", staging), ("prod", "20")]);
        let report = report(
            &["staging", "prod"],
            vec![
                finding("POOL", "20\n"),
                finding("WORKERS", "20 "),
                finding("DSN", ""),
            ],
        );
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for shown in [">20⏎<", ">&quot;20 &quot;<", ">&quot;&quot;<"] {
            assert!(page.contains(shown), "{shown} not in {page}");
        }
    }

    /// A history of `n` runs, `per_day` of them each day from 2026-11-01.
    fn trend(n: usize, per_day: usize) -> Vec<JsonTrendRun> {
        (0..n)
            .map(|i| {
                let (day, run) = (i / per_day, i % per_day);
                let time = jiff::Timestamp::from_second(1_793_498_400) // 2026-11-01T02:00:00Z
                    .unwrap()
                    .checked_add(jiff::SignedDuration::from_secs(
                        day as i64 * 86_400 + run as i64 * 3_600,
                    ))
                    .unwrap();
                JsonTrendRun {
                    time: time.to_string(),
                    critical: 1,
                    warning: 2,
                    info: i % 5,
                    ..JsonTrendRun::default()
                }
            })
            .collect()
    }

    /// The run labels of a chart as a browser would read the SVG: text,
    /// centre, and the width its characters take at its font size.
    fn read_labels(svg: &str) -> (f64, Vec<(String, f64, f64)>) {
        let doc = roxmltree::Document::parse(svg).expect("the chart is well-formed SVG");
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        let labels = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("run-label"))
            .map(|n| {
                assert_eq!(n.attribute("text-anchor"), Some("middle"));
                let size: f64 = n.attribute("font-size").unwrap().parse().unwrap();
                let text = n.text().unwrap().to_string();
                // 0.6 em per character: a monospace font's advance.
                let w = text.chars().count() as f64 * 0.6 * size;
                (text, n.attribute("x").unwrap().parse().unwrap(), w)
            })
            .collect();
        (width, labels)
    }

    #[test]
    fn trend_labels_never_overlap_and_the_last_run_is_always_labelled() {
        for (n, per_day) in [
            (1, 1),
            (2, 2),
            (3, 1),
            (7, 7),
            (12, 4),
            (30, 1),
            (60, 3),
            (80, 1),
        ] {
            let runs = trend(n, per_day);
            let (width, labels) = read_labels(&trend_svg(&runs));
            let case = format!("{n} runs, {per_day} a day: {labels:?}");
            assert!(!labels.is_empty(), "{case}");
            for pair in labels.windows(2) {
                let ((_, a, wa), (_, b, wb)) = (&pair[0], &pair[1]);
                assert!(b - a >= (wa + wb) / 2.0 + 4.0, "labels overlap: {case}");
            }
            for (_, x, w) in &labels {
                assert!(
                    x - w / 2.0 >= 0.0 && x + w / 2.0 <= width,
                    "inside the chart: {case}"
                );
            }
            // Bounded: at most as many as fit side by side.
            assert!(labels.len() as f64 <= width / 60.0, "{case}");
            // The last run (the one this report is about) is labelled.
            let last = &labels.last().unwrap().0;
            let t: jiff::Timestamp = runs.last().unwrap().time.parse().unwrap();
            let t = t.to_zoned(jiff::tz::TimeZone::UTC);
            let names = ["%F", "%m-%d %H:%M", "%m-%d %H:%M:%S"].map(|f| t.strftime(f).to_string());
            assert!(names.contains(last), "{case}");
        }
    }

    #[test]
    fn runs_of_one_day_are_labelled_by_their_time() {
        let runs = trend(2, 2);
        let (_, labels) = read_labels(&trend_svg(&runs));
        let texts: Vec<&str> = labels.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(texts, ["11-01 02:00", "11-01 03:00"]);
        // One run a day: the date.
        let (_, labels) = read_labels(&trend_svg(&trend(2, 1)));
        let texts: Vec<&str> = labels.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(texts, ["2026-11-01", "2026-11-02"]);
    }
}
