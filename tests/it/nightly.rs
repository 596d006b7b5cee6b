//! The nightly job: `confdrift report --history DIR` across several runs,
//! with a fixed clock — what is new, persisting (since when) and resolved;
//! a history that survives corrupt files, failed and killed runs, a lock
//! file left behind, and runs started at the same time; and formats that
//! other tools can read back.

use std::path::Path;

use crate::support::*;

fn report(dir: &Path, now: &str, envs: &[(&str, &str)], format: &str) -> Run {
    let mut cmd = confdrift();
    cmd.env("CONFDRIFT_NOW", now)
        .args([
            "report",
            "--fail-on",
            "never",
            "--format",
            format,
            "--history",
        ])
        .arg(dir);
    for (name, path) in envs {
        cmd.arg("--env").arg(format!("{name}={}", data(path)));
    }
    run(&mut cmd)
}

const ALL: &[(&str, &str)] = &[
    ("dev", "demo/dev"),
    ("staging", "demo/staging"),
    ("prod", "demo/prod"),
];
const NO_STAGING: &[(&str, &str)] = &[("dev", "demo/dev"), ("prod", "demo/prod")];

fn finding<'a>(v: &'a serde_json::Value, code: &str, key: &str) -> Option<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code && f["key"] == key)
}

#[test]
fn findings_are_new_then_persisting_with_their_age_then_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    assert_eq!(r1.code, 0, "{}", r1.stderr);
    let v1 = json(&r1);
    assert!(v1["history"]["previous_run"].is_null());
    let dangling = finding(&v1, "dangling-reference", "CDN_URL").expect("staging's dangling ref");
    assert_eq!(dangling["status"], "new");

    // Three days later staging is no longer audited: its dangling reference
    // is resolved, everything else persists with its first date and age.
    let r2 = report(dir.path(), "2026-11-23T02:00:00Z", NO_STAGING, "json");
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    let v2 = json(&r2);
    assert_eq!(v2["history"]["previous_run"], "2026-11-20T02:00:00Z");
    assert!(finding(&v2, "dangling-reference", "CDN_URL").is_none());
    let resolved = v2["history"]["resolved"].as_array().unwrap();
    assert!(
        resolved
            .iter()
            .any(|r| r["label"].as_str().unwrap().contains("dangling-reference")),
        "{resolved:?}"
    );
    let pool = v2["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "DB_POOL_SIZE" && f["workload"] == "checkout")
        .unwrap();
    assert_eq!(pool["status"], "persisting");
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
    assert_eq!(pool["age_days"], 3);
    assert!(
        v2["history"]["coverage"]
            .to_string()
            .contains("environment staging is no longer audited")
    );
    // The trend has both runs.
    assert_eq!(v2["history"]["trend"].as_array().unwrap().len(), 2);

    // Staging back: the dangling reference is new again.
    let v3 = json(&report(dir.path(), "2026-11-24T02:00:00Z", ALL, "json"));
    assert_eq!(
        finding(&v3, "dangling-reference", "CDN_URL").unwrap()["status"],
        "new"
    );
    assert_eq!(v3["history"]["trend"].as_array().unwrap().len(), 3);
}

#[test]
fn markdown_says_what_changed_first() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    let r = report(dir.path(), "2026-11-23T02:00:00Z", NO_STAGING, "markdown");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first_lines: Vec<&str> = r.stdout.lines().take(3).collect();
    assert!(
        first_lines[0].starts_with("## confdrift nightly 2026-11-23T02:00:00Z"),
        "{}",
        r.stdout
    );
    assert!(first_lines[2].contains("0 new"), "{}", r.stdout);
    assert!(first_lines[2].contains("3 resolved"), "{}", r.stdout);
    assert!(r.stdout.contains("### Persisting, oldest first"));
    assert!(r.stdout.contains("3 d (2026-11-20)"));
}

#[test]
fn a_corrupt_or_foreign_file_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    report(dir.path(), "2026-11-21T02:00:00Z", ALL, "json");
    // Someone's editor broke the index, and a foreign file landed in runs/.
    std::fs::write(dir.path().join("index.json"), "{ not json").unwrap();
    std::fs::write(dir.path().join("runs/notes.json"), "[1, 2, 3]").unwrap();
    std::fs::write(dir.path().join("runs/.tmpX1y2"), "half a report").unwrap();
    let r = report(dir.path(), "2026-11-22T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    let problems = v["history"]["problems"].to_string();
    assert!(problems.contains("index.json: unreadable"), "{problems}");
    assert!(
        problems.contains("notes.json: corrupt or not a confdrift report"),
        "{problems}"
    );
    assert!(
        problems.contains("left over by an interrupted run"),
        "{problems}"
    );
    // Rebuilt from the two good runs: findings keep their first date.
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
    assert_eq!(v["history"]["trend"].as_array().unwrap().len(), 3);
}

#[test]
fn a_failed_run_leaves_the_history_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    let before = read(&dir.path().join("index.json"));
    let r = report(
        dir.path(),
        "2026-11-21T02:00:00Z",
        &[("dev", "demo/dev"), ("prod", "bad/invalid-yaml.yaml")],
        "json",
    );
    assert_eq!(r.code, 2);
    assert_eq!(read(&dir.path().join("index.json")), before);
    assert_eq!(
        std::fs::read_dir(dir.path().join("runs")).unwrap().count(),
        1
    );
    let history = confdrift::history::History::open(dir.path()).unwrap();
    history
        .lock("2026-11-21T02:00:01Z")
        .expect("the lock is released");
}

/// What a refused run prints: exit 2 and who holds the lock.
fn assert_refused(r: &Run) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("another confdrift report") && r.stderr.contains("refused, not queued"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_second_run_is_refused_while_another_process_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    // This test process holds the lock, as a run in progress would.
    let history = confdrift::history::History::open(dir.path()).unwrap();
    let held = history.lock("2026-11-20T01:59:00Z").unwrap();
    let r = report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    assert_refused(&r);
    assert!(
        r.stderr.contains(&format!("pid {}", std::process::id())),
        "the holder is named: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("run of 2026-11-20T01:59:00Z"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("runs")).unwrap().count(),
        0
    );
    drop(held);
    let r = report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// In the shipped CronJob confdrift is the container's entrypoint, PID 1,
/// in every run. A run killed by the OOM killer or `activeDeadlineSeconds`
/// under the old PID-file lock left `.lock` saying `1`, and every later run
/// (PID 1, /proc/1 alive) was refused, every night.
#[test]
fn a_lock_file_left_with_pid_1_does_not_lock_the_nightly_job_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("runs")).unwrap();
    std::fs::write(dir.path().join(".lock"), "1\n").unwrap();
    let r = report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = report(dir.path(), "2026-11-21T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["history"]["trend"].as_array().unwrap().len(), 2);
}

/// Two reports in the same second (or at one fixed `CONFDRIFT_NOW`) used
/// to share one run file: the first run was lost, and the second said its
/// findings were `new` while its summary counted them as persisting.
#[test]
fn two_runs_in_the_same_second_keep_two_records() {
    let dir = tempfile::tempdir().unwrap();
    let now = "2026-11-20T02:00:00Z";
    let v1 = json(&report(dir.path(), now, ALL, "json"));
    let v2 = json(&report(dir.path(), now, ALL, "json"));
    let findings = v2["findings"].as_array().unwrap();
    assert_eq!(findings.len(), v1["findings"].as_array().unwrap().len());
    assert!(
        findings.iter().all(|f| f["status"] == "persisting"),
        "nothing is new the second time"
    );
    assert_eq!(v2["history"]["new"], 0);
    assert_eq!(v2["history"]["persisting"], findings.len());
    assert_history_is_whole(dir.path(), 2);
}

/// The index names `runs` run files, each distinct, present and whole, and
/// nothing else is in `runs/`.
fn assert_history_is_whole(dir: &Path, runs: usize) {
    let index: serde_json::Value =
        serde_json::from_str(&read(&dir.join("index.json"))).expect("index is whole");
    let files: Vec<&str> = index["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), runs, "{files:?}");
    let distinct: std::collections::BTreeSet<&&str> = files.iter().collect();
    assert_eq!(distinct.len(), runs, "one file per run: {files:?}");
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(sorted, files, "file names sort in run order");
    for f in &files {
        let _: serde_json::Value =
            serde_json::from_str(&read(&dir.join(f))).expect("every indexed run file is whole");
    }
    assert_eq!(std::fs::read_dir(dir.join("runs")).unwrap().count(), runs);
}

/// Two processes started at once on one history, at the same fixed instant:
/// each either runs or is refused with exit 2 and the holder named; a
/// refused one is run again afterwards (as the next night would). Every run
/// that succeeded is in the index, in its own file: none is lost.
#[test]
fn two_runs_started_at_once_both_finish_and_no_run_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let now = "2026-11-20T02:00:00Z";
    let bin = assert_cmd::cargo::cargo_bin("confdrift");
    let mut succeeded = 0;
    for round in 0..3 {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let runs: Vec<std::thread::JoinHandle<std::process::Output>> =
            (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    let bin = bin.clone();
                    let dir = dir.path().to_path_buf();
                    std::thread::spawn(move || {
                        let mut cmd = std::process::Command::new(&bin);
                        cmd.env_clear()
                            .env("NO_COLOR", "1")
                            .env("CONFDRIFT_FINGERPRINT_KEY", KEY)
                            .env("CONFDRIFT_NOW", now)
                            .current_dir(root())
                            .args([
                                "report",
                                "--fail-on",
                                "never",
                                "--format",
                                "json",
                                "--history",
                            ])
                            .arg(&dir)
                            .args(ALL.iter().flat_map(|(n, p)| {
                                ["--env".to_string(), format!("{n}={}", data(p))]
                            }));
                        barrier.wait();
                        cmd.output().expect("confdrift runs")
                    })
                })
                .collect();
        // Both have finished before a refused one is run again.
        let outputs: Vec<std::process::Output> =
            runs.into_iter().map(|t| t.join().unwrap()).collect();
        for out in outputs {
            let r = Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            if r.code == 0 {
                succeeded += 1;
                let v = json(&r);
                // Consistent with itself: the findings' statuses add up to
                // the history's counts.
                let statuses = |s: &str| {
                    v["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| f["status"] == s)
                        .count()
                };
                assert_eq!(v["history"]["new"], statuses("new"), "round {round}");
                assert_eq!(v["history"]["persisting"], statuses("persisting"));
            } else {
                assert_refused(&r);
                // Refused, it changed nothing; run it again now.
                let again = report(dir.path(), now, ALL, "json");
                assert_eq!(again.code, 0, "{}", again.stderr);
                succeeded += 1;
            }
        }
    }
    assert_eq!(succeeded, 6);
    assert_history_is_whole(dir.path(), 6);
}

/// A history written by confdrift before run counters (`runs/<second>.json`)
/// is continued, and still rebuilt in time order if its index is lost.
#[test]
fn an_old_history_with_one_file_per_second_is_continued() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    report(dir.path(), "2026-11-21T02:00:00Z", NO_STAGING, "json");
    // Rename the two runs the way the old version named them.
    let index_path = dir.path().join("index.json");
    let mut index = read(&index_path);
    for (new, old) in [
        ("20261120T020000.000000000Z-0001", "2026-11-20T02-00-00Z"),
        ("20261121T020000.000000000Z-0001", "2026-11-21T02-00-00Z"),
    ] {
        std::fs::rename(
            dir.path().join(format!("runs/{new}.json")),
            dir.path().join(format!("runs/{old}.json")),
        )
        .unwrap();
        index = index.replace(new, old);
    }
    std::fs::write(&index_path, index).unwrap();
    let v = json(&report(dir.path(), "2026-11-22T02:00:00Z", ALL, "json"));
    assert_eq!(v["history"]["previous_run"], "2026-11-21T02:00:00Z");
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
    assert_history_is_whole(dir.path(), 3);
    // Lost index: rebuilt from old and new names in time order.
    std::fs::remove_file(&index_path).unwrap();
    let v = json(&report(dir.path(), "2026-11-23T02:00:00Z", ALL, "json"));
    let times: Vec<&str> = v["history"]["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-20T02:00:00Z",
            "2026-11-21T02:00:00Z",
            "2026-11-22T02:00:00Z",
            "2026-11-23T02:00:00Z"
        ]
    );
    // The dangling reference of staging: gone on the 21st, back on the 22nd.
    assert_eq!(
        finding(&v, "dangling-reference", "CDN_URL").unwrap()["first_seen"],
        "2026-11-22T02:00:00Z"
    );
}

/// A sample: metric name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// A minimal reader of the Prometheus text format (0.0.4): what a textfile
/// collector would accept.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut typed = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut p = rest.split(' ');
            typed.insert(p.next().unwrap().to_string());
            assert_eq!(p.next(), Some("gauge"), "{line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (head, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let (name, labels) = match head.split_once('{') {
            Some((n, l)) => (n, l.strip_suffix('}').expect("closing brace")),
            None => (head, ""),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name {name}"
        );
        assert!(typed.contains(name), "{name} has no TYPE line before it");
        let mut parsed = Vec::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (k, after) = rest.split_once("=\"").expect("label=\"value\"");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        let (_, e) = chars.next().unwrap();
                        value.push(match e {
                            'n' => '\n',
                            other => other,
                        });
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.expect("closing quote");
            parsed.push((k.to_string(), value));
            rest = after[end + 1..].trim_start_matches(',');
        }
        samples.push((name.to_string(), parsed, value));
    }
    samples
}

#[test]
fn prometheus_exposition_parses_back_with_the_numbers_of_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json"));
    let r = report(dir.path(), "2026-11-23T02:00:00Z", ALL, "prometheus");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let samples = parse_prometheus(&r.stdout);
    let get = |name: &str, label: Option<(&str, &str)>| -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name && label.is_none_or(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .unwrap_or_else(|| panic!("{name} {label:?} missing"))
            .2
    };
    assert_eq!(
        get("confdrift_findings", Some(("severity", "critical"))),
        v["summary"]["critical"].as_f64().unwrap()
    );
    assert_eq!(
        get(
            "confdrift_environment_complete",
            Some(("environment", "prod"))
        ),
        1.0
    );
    assert_eq!(
        get("confdrift_last_run_timestamp_seconds", None),
        1_795_399_200.0
    );
    assert_eq!(
        get(
            "confdrift_finding_age_days",
            Some(("rule", "no-debug-in-prod"))
        ),
        3.0
    );
    assert_eq!(get("confdrift_findings_new", None), 0.0);
}

#[test]
fn html_is_one_self_contained_file_with_every_finding() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    let v = json(&report(
        dir.path(),
        "2026-11-23T02:00:00Z",
        NO_STAGING,
        "json",
    ));
    // Same history, one more run, as HTML.
    let r = report(dir.path(), "2026-11-24T02:00:00Z", NO_STAGING, "html");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = &r.stdout;
    assert!(page.starts_with("<!DOCTYPE html>"));
    // No network resources: no scripts, no external links or images.
    for bad in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(bad), "page contains {bad}");
    }
    let rows = page.matches("<tr class=\"finding\"").count();
    assert_eq!(rows, v["findings"].as_array().unwrap().len());
    assert!(page.contains("id=\"trend-chart\""));
    assert!(page.contains("max-retries"), "line diffs are shown");
    assert!(!page.contains("demo-api-key"), "no secret value");
}

/// Runs of one day used to be labelled with their date, on top of each
/// other. Now each label names its run's time, and they stand apart.
#[test]
fn html_trend_labels_runs_of_one_day_by_their_time() {
    let dir = tempfile::tempdir().unwrap();
    for hour in ["02", "08", "14"] {
        report(
            dir.path(),
            &format!("2026-11-20T{hour}:00:00Z"),
            ALL,
            "json",
        );
    }
    let r = report(dir.path(), "2026-11-20T20:00:00Z", ALL, "html");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let start = r
        .stdout
        .find("<svg id=\"trend-chart\"")
        .expect("a trend chart");
    let end = start + r.stdout[start..].find("</svg>").unwrap() + "</svg>".len();
    let doc = roxmltree::Document::parse(&r.stdout[start..end]).expect("well-formed SVG");
    let labels: Vec<(&str, f64)> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("run-label"))
        .map(|n| {
            (
                n.text().unwrap(),
                n.attribute("x").unwrap().parse().unwrap(),
            )
        })
        .collect();
    let texts: Vec<&str> = labels.iter().map(|l| l.0).collect();
    assert_eq!(
        texts,
        ["11-20 02:00", "11-20 08:00", "11-20 14:00", "11-20 20:00"]
    );
    // 11 characters at 11 px monospace are about 73 px wide.
    for pair in labels.windows(2) {
        assert!(pair[1].1 - pair[0].1 > 80.0, "{labels:?}");
    }
}

/// Renders the HTML report in a real headless Chromium and checks what a
/// person would see: the browser parses the same findings, the summary
/// numbers and the trend, and takes a screenshot.
#[test]
#[ignore = "needs chromium"]
fn html_report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    let v = json(&report(
        dir.path(),
        "2026-11-23T02:00:00Z",
        NO_STAGING,
        "json",
    ));
    let r = report(dir.path(), "2026-11-24T02:00:00Z", NO_STAGING, "html");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &r.stdout).unwrap();
    let chromium = |extra: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,1800",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dom = chromium(&["--dump-dom"]);
    // The browser's DOM holds every finding row the report has: nothing was
    // swallowed by broken markup.
    let rows = dom.matches("class=\"finding\"").count();
    assert_eq!(rows, v["findings"].as_array().unwrap().len());
    let critical = v["summary"]["critical"].as_u64().unwrap();
    assert!(
        dom.contains(&format!(
            "data-count=\"critical\"><div class=\"n\">{critical}</div>"
        )),
        "critical count card"
    );
    assert_eq!(
        dom.matches("class=\"bar critical\"").count(),
        3,
        "one bar per run"
    );
    assert!(dom.contains("Resolved since the previous run"));
    let shot = dir.path().join("report.png");
    chromium(&[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real picture"
    );
}

#[test]
fn one_run_writes_several_reports_and_one_history_entry() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("latest.html");
    let prom = out.path().join("confdrift.prom");
    let mut cmd = confdrift();
    cmd.env("CONFDRIFT_NOW", "2026-11-20T02:00:00Z")
        .args(["report", "--fail-on", "never", "--history"])
        .arg(dir.path())
        .arg(format!("--report=html={}", html.display()))
        .arg(format!("--report=prometheus={}", prom.display()));
    for (name, path) in ALL {
        cmd.arg("--env").arg(format!("{name}={}", data(path)));
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("## confdrift nightly"),
        "markdown on stdout"
    );
    assert!(read(&html).starts_with("<!DOCTYPE html>"));
    assert!(read(&prom).contains("confdrift_findings{severity=\"critical\"}"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("runs")).unwrap().count(),
        1
    );
    let bad = run(confdrift()
        .args(["report", "--history"])
        .arg(dir.path())
        .arg("--report=pdf=x.pdf"));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("unknown format `pdf`"),
        "{}",
        bad.stderr
    );
}

/// Every nightly format on a fixed clock and a two-run history.
#[test]
fn nightly_formats_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json");
    for format in ["markdown", "json", "html", "prometheus"] {
        // Each run adds to the history; copy it so every format sees the
        // same one previous run.
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let r = report(copy.path(), "2026-11-23T02:00:00Z", NO_STAGING, format);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        insta::assert_snapshot!(format!("nightly_{format}"), portable(&r.stdout));
    }
}

/// A run killed at any moment leaves the history readable and complete up
/// to the previous run (files are renamed into place, the index last).
#[test]
fn a_run_killed_at_random_points_never_damages_the_history() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        report(dir.path(), "2026-11-20T02:00:00Z", ALL, "json").code,
        0
    );
    let bin = assert_cmd::cargo::cargo_bin("confdrift");
    for (i, delay_ms) in [0u64, 1, 2, 4, 7, 12, 20, 35, 60, 100].iter().enumerate() {
        let now = format!("2026-11-{:02}T02:00:00Z", 21 + i);
        let mut child = std::process::Command::new(&bin)
            .env_clear()
            .env("NO_COLOR", "1")
            .env("CONFDRIFT_FINGERPRINT_KEY", KEY)
            .env("CONFDRIFT_NOW", &now)
            .current_dir(root())
            .args([
                "report",
                "--fail-on",
                "never",
                "--format",
                "json",
                "--history",
            ])
            .arg(dir.path())
            .args(
                ALL.iter()
                    .flat_map(|(n, p)| ["--env".to_string(), format!("{n}={}", data(p))]),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(*delay_ms));
        let _ = child.kill(); // SIGKILL: no destructor runs, the lock stays
        let _ = child.wait();
        // The index is always whole JSON naming only run files that exist
        // and are whole.
        let index: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join("index.json"))).expect("index is whole");
        for run in index["runs"].as_array().unwrap() {
            let file = dir.path().join(run["file"].as_str().unwrap());
            let _: serde_json::Value =
                serde_json::from_str(&read(&file)).expect("every indexed run file is whole");
        }
    }
    // The killed runs' locks died with them: the next run carries on from
    // the last complete run.
    let r = report(dir.path(), "2026-12-01T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
}

/// A history as the previous version of confdrift stored it (two runs:
/// every environment on the 20th, staging gone on the 21st), copied so
/// each test writes its own.
fn stored_history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&data("history/v1")), dir.path());
    dir
}

#[test]
fn a_history_stored_by_the_previous_version_is_continued_and_rebuilt() {
    let dir = stored_history();
    let v = json(&report(dir.path(), "2026-11-22T02:00:00Z", ALL, "json"));
    assert_eq!(v["history"]["problems"], serde_json::json!([]));
    assert_eq!(v["history"]["previous_run"], "2026-11-21T02:00:00Z");
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["status"], "persisting");
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
    assert_eq!(pool["age_days"], 2);
    // Staging's dangling reference: gone on the 21st, back today.
    assert_eq!(
        finding(&v, "dangling-reference", "CDN_URL").unwrap()["status"],
        "new"
    );
    // Its index lost, the history is rebuilt from the stored runs alone.
    std::fs::remove_file(dir.path().join("index.json")).unwrap();
    let v = json(&report(dir.path(), "2026-11-23T02:00:00Z", ALL, "json"));
    assert_eq!(v["history"]["problems"], serde_json::json!([]));
    assert_eq!(v["history"]["trend"].as_array().unwrap().len(), 4);
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
}

/// A stored run without its `findings` used to be read as a run without
/// findings: every open finding resolved, and new again the next night.
/// It is a run that cannot be read, named with the field it lacks.
#[test]
fn a_stored_run_missing_a_field_is_named_and_skipped_not_read_as_empty() {
    let dir = stored_history();
    std::fs::remove_file(dir.path().join("index.json")).unwrap();
    let second = dir.path().join("runs/20261121T020000.000000000Z-0001.json");
    let mut run: serde_json::Value = serde_json::from_str(&read(&second)).unwrap();
    run.as_object_mut().unwrap().remove("findings");
    std::fs::write(&second, run.to_string()).unwrap();
    let r = report(dir.path(), "2026-11-22T02:00:00Z", ALL, "json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    let problems = v["history"]["problems"].to_string();
    assert!(
        problems
            .contains("20261121T020000.000000000Z-0001.json: corrupt or not a confdrift report")
            && problems.contains("missing field `findings`"),
        "{problems}"
    );
    // Only the run of the 20th was read: the pool finding persists from it.
    assert_eq!(v["history"]["previous_run"], "2026-11-20T02:00:00Z");
    let pool = finding(&v, "not-equal", "DB_POOL_SIZE").unwrap();
    assert_eq!(pool["status"], "persisting");
    assert_eq!(pool["first_seen"], "2026-11-20T02:00:00Z");
}
