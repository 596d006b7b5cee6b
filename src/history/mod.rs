//! The nightly job's memory: every run's JSON report is kept in a history
//! directory, and each new run is compared with the last one — which
//! findings are new, which persist (since when, for how many days), which
//! were resolved, and what vanished from coverage.
//!
//! History works on the stable wire format (`confdrift.report/v1`), never on
//! in-memory types, so a newer confdrift reads an older history. Files are
//! written atomically (temporary file, then rename) and the index last, so a
//! run that dies leaves the history as it was; one run at a time holds the
//! directory's lock ([`Lock`]), and each run gets a file of its own. A
//! corrupt or foreign file is reported and skipped, never fatal.

mod lock;
pub mod object;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
pub use lock::Lock;

pub const INDEX: &str = "index.json";
/// The lock file: never removed, see [`Lock`].
pub const LOCK: &str = ".lock";
/// The directory of run files.
pub const RUNS: &str = "runs";
pub const SCHEMA: &str = "confdrift.history/v1";

/// The index of a history directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Index {
    pub schema: String,
    /// Runs, oldest first.
    pub runs: Vec<RunRecord>,
    /// Findings open after the last run: identity → when first seen.
    pub open: BTreeMap<String, OpenFinding>,
    /// Environments and workloads seen in the last run, for coverage news.
    #[serde(default)]
    pub coverage: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// RFC 3339 time of the run.
    pub time: String,
    /// The report file, relative to the directory.
    pub file: String,
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpenFinding {
    pub first_seen: String,
    /// A one-line description, so a resolved finding can still be named.
    pub label: String,
    pub severity: String,
}

/// What changed since the previous run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub previous_run: Option<String>,
    pub new: usize,
    pub persisting: usize,
    pub resolved: Vec<Resolved>,
    /// Environments or workloads present last time and gone now (or back).
    pub coverage: Vec<String>,
    /// Problems with the history itself (corrupt files skipped, …).
    pub problems: Vec<String>,
    /// The identities of the findings that are new in this run: what makes
    /// a finding `new`, never a comparison of times (two runs may share one).
    #[serde(skip)]
    pub new_ids: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub id: String,
    pub label: String,
    pub severity: String,
    pub first_seen: String,
}

/// A finding's identity across runs: its rule and subject, never its values
/// or its position in the report.
pub fn identity(f: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    for field in [
        "rule",
        "code",
        "environment",
        "workload",
        "container",
        "configmap",
        "kind",
        "key",
    ] {
        h.update(field.as_bytes());
        h.update(b"=");
        h.update(f[field].as_str().unwrap_or("").as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..8])
}

fn label(f: &serde_json::Value) -> String {
    let place = crate::report::json::place(f);
    let env = f["environment"]
        .as_str()
        .map(|e| format!(" in {e}"))
        .unwrap_or_default();
    format!(
        "{} {place} {}{env} ({})",
        f["code"].as_str().unwrap_or(""),
        f["key"].as_str().unwrap_or(""),
        f["rule"].as_str().unwrap_or("")
    )
    .replace("  ", " ")
}

/// Whole days between two RFC 3339 times.
pub fn age_days(first_seen: &str, now: &str) -> i64 {
    match (
        first_seen.parse::<jiff::Timestamp>(),
        now.parse::<jiff::Timestamp>(),
    ) {
        (Ok(a), Ok(b)) => (b.as_second() - a.as_second()).div_euclid(86_400),
        _ => 0,
    }
}

/// A history directory.
pub struct History {
    dir: PathBuf,
}

impl History {
    pub fn open(dir: &Path) -> Result<History> {
        std::fs::create_dir_all(dir.join(RUNS)).map_err(|e| Error::io(dir, e))?;
        tracing::debug!(dir = %dir.display(), "history opened");
        Ok(History {
            dir: dir.to_path_buf(),
        })
    }

    /// Takes the directory's lock, so two runs never write one history at
    /// once, or refuses at once if another run holds it; `run` (the run's
    /// time) names this run to a refused one. See [`Lock`].
    pub fn lock(&self, run: &str) -> Result<Lock> {
        Lock::take(&self.dir.join(LOCK), run)
    }

    /// The name of the next run's file, for a run at `time` (see
    /// [`run_file`]): the first counter that neither a file in `runs/` nor a
    /// record of `index` uses. Call it while holding the lock, which is what
    /// makes the name unique.
    pub fn next_run_file(&self, time: &str, index: &Index) -> String {
        let stamp = run_stamp(time);
        let prefix = format!("{stamp}-");
        let listed = std::fs::read_dir(self.dir.join(RUNS))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned());
        let indexed = index
            .runs
            .iter()
            .filter_map(|r| r.file.strip_prefix("runs/").map(str::to_string));
        let used = listed
            .chain(indexed)
            .filter_map(|name| {
                name.strip_prefix(&prefix)?
                    .strip_suffix(".json")?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        run_file(time, used + 1)
    }

    /// Reads the index; a missing index is an empty history, a corrupt one
    /// is rebuilt from the run files that can be read.
    pub fn load(&self) -> (Index, Vec<String>) {
        let mut problems = Vec::new();
        let path = self.dir.join(INDEX);
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<Index>(&text) {
                Ok(index) if index.schema == SCHEMA => {
                    tracing::debug!(
                        runs = index.runs.len(),
                        open = index.open.len(),
                        bytes = text.len(),
                        "history index read"
                    );
                    return (index, problems);
                }
                Ok(index) => problems.push(format!(
                    "{}: schema {} is not {SCHEMA}; rebuilt from the run files",
                    path.display(),
                    index.schema
                )),
                Err(e) => problems.push(format!(
                    "{}: unreadable ({e}); rebuilt from the run files",
                    path.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!(
                "{}: {e}; rebuilt from the run files",
                path.display()
            )),
        }
        let (index, mut more) = self.rebuild();
        tracing::debug!(
            runs = index.runs.len(),
            skipped = more.len(),
            "history index built from the run files"
        );
        problems.append(&mut more);
        (index, problems)
    }

    /// Rebuilds the index by replaying every readable run file in time order.
    fn rebuild(&self) -> (Index, Vec<String>) {
        let mut problems = Vec::new();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(self.dir.join(RUNS)) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => Vec::new(),
        };
        files.sort_by_cached_key(|f| {
            run_order(&f.file_name().unwrap_or_default().to_string_lossy())
        });
        let mut index = Index {
            schema: SCHEMA.into(),
            ..Index::default()
        };
        for f in files {
            let hidden = f
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                problems.push(format!(
                    "{}: left over by an interrupted run, ignored",
                    f.display()
                ));
                continue;
            }
            if f.extension().and_then(|e| e.to_str()) != Some("json") {
                problems.push(format!(
                    "{}: not a confdrift run file, skipped",
                    f.display()
                ));
                continue;
            }
            let run = std::fs::read_to_string(&f)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .filter(|v| {
                    v["schema"] == crate::report::json::SCHEMA && v["run"]["time"].is_string()
                });
            match run {
                Some(v) => {
                    let time = v["run"]["time"].as_str().unwrap_or("").to_string();
                    let name = f
                        .file_name()
                        .map(|n| format!("runs/{}", n.to_string_lossy()))
                        .unwrap_or_default();
                    index = advance(&index, &v, &time, &name).0;
                }
                None => problems.push(format!(
                    "{}: corrupt or not a confdrift report, skipped",
                    f.display()
                )),
            }
        }
        (index, problems)
    }

    /// Stores a run's report and the new index, atomically, report first.
    pub fn store(&self, report: &serde_json::Value, index: &Index, file: &str) -> Result<()> {
        let text = serde_json::to_string_pretty(report).map_err(|e| Error::Usage(e.to_string()))?;
        crate::app::write_atomic(&self.dir.join(file), format!("{text}\n").as_bytes())?;
        let idx = serde_json::to_string_pretty(index).map_err(|e| Error::Usage(e.to_string()))?;
        crate::app::write_atomic(&self.dir.join(INDEX), format!("{idx}\n").as_bytes())?;
        tracing::debug!(
            file,
            bytes = text.len() + 1,
            runs = index.runs.len(),
            open = index.open.len(),
            "run stored in the history"
        );
        Ok(())
    }
}

/// The run file of the `counter`-th run at `time`:
/// `runs/20261207T010203.000000000Z-0001.json`, the UTC time to the
/// nanosecond, then the counter, so that names sort (as text) in the order
/// the runs were made, and two runs in the same second (or at the same
/// fixed `CONFDRIFT_NOW`) get two files. See [`History::next_run_file`].
pub fn run_file(time: &str, counter: u64) -> String {
    format!("runs/{}-{counter:04}.json", run_stamp(time))
}

/// A run time as it appears in a run file's name; a time that is not
/// RFC 3339 (from a library caller) is kept, with only its letters and
/// digits.
fn run_stamp(time: &str) -> String {
    match time.parse::<jiff::Timestamp>() {
        Ok(t) => {
            let d = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
            format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}.{:09}Z",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second(),
                d.subsec_nanosecond()
            )
        }
        Err(_) => time
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
    }
}

/// The order of run files when the index is rebuilt: by the time and
/// counter in the name. Names written by confdrift before run counters
/// (`2026-11-20T02-00-00Z.json`, one per second) are read as counter 0 of
/// their second, so an old history and the runs added to it stay in order.
fn run_order(name: &str) -> (String, u64, String) {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    if let Some((stamp, counter)) = stem.rsplit_once('-')
        && stamp.len() == 26
        && let Ok(counter) = counter.parse::<u64>()
    {
        return (stamp.to_string(), counter, name.to_string());
    }
    let b = stem.as_bytes();
    let old = b.len() == 20
        && b[19] == b'Z'
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b'-');
    if old {
        let digits: String = stem.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 14 {
            let stamp = format!("{}T{}.000000000Z", &digits[..8], &digits[8..]);
            return (stamp, 0, name.to_string());
        }
    }
    (stem.to_string(), 0, name.to_string())
}

/// Moves the index forward by one run and tells what changed. Annotates
/// nothing; see [`annotate`].
pub fn advance(
    prev: &Index,
    report: &serde_json::Value,
    time: &str,
    file: &str,
) -> (Index, Changes) {
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let mut open = BTreeMap::new();
    let mut changes = Changes {
        previous_run: prev.runs.last().map(|r| r.time.clone()),
        ..Changes::default()
    };
    for f in &findings {
        let id = identity(f);
        let first_seen = match prev.open.get(&id) {
            Some(o) => {
                changes.persisting += 1;
                o.first_seen.clone()
            }
            None => {
                changes.new += 1;
                changes.new_ids.insert(id.clone());
                time.to_string()
            }
        };
        open.insert(
            id,
            OpenFinding {
                first_seen,
                label: label(f),
                severity: f["severity"].as_str().unwrap_or("").to_string(),
            },
        );
    }
    for (id, o) in &prev.open {
        if !open.contains_key(id) {
            changes.resolved.push(Resolved {
                id: id.clone(),
                label: o.label.clone(),
                severity: o.severity.clone(),
                first_seen: o.first_seen.clone(),
            });
        }
    }
    // Coverage: environments and their workloads.
    let mut coverage: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in report["environments"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or("").to_string();
        let workloads: BTreeSet<String> = e["workloads"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect();
        coverage.insert(name, workloads);
    }
    if !prev.runs.is_empty() {
        for (env, workloads) in &prev.coverage {
            match coverage.get(env) {
                None => changes
                    .coverage
                    .push(format!("environment {env} is no longer audited")),
                Some(now) => {
                    for w in workloads.difference(now) {
                        changes
                            .coverage
                            .push(format!("workload {w} vanished from {env}"));
                    }
                    for w in now.difference(workloads) {
                        changes
                            .coverage
                            .push(format!("workload {w} appeared in {env}"));
                    }
                }
            }
        }
        for env in coverage.keys() {
            if !prev.coverage.contains_key(env) {
                changes
                    .coverage
                    .push(format!("environment {env} is audited for the first time"));
            }
        }
    }
    let summary = &report["summary"];
    let count = |k: &str| summary[k].as_u64().unwrap_or(0) as usize;
    let mut runs = prev.runs.clone();
    runs.push(RunRecord {
        time: time.to_string(),
        file: file.to_string(),
        critical: count("critical"),
        warning: count("warning"),
        info: count("info"),
        waived: count("waived"),
        complete: report["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["complete"] == true),
    });
    (
        Index {
            schema: SCHEMA.into(),
            runs,
            open,
            coverage,
        },
        changes,
    )
}

/// Adds history to a JSON report: per finding `status` (`new` or
/// `persisting`), `first_seen` and `age_days`; and a top-level `history`
/// with what was resolved, coverage news and the trend of past runs.
pub fn annotate(report: &mut serde_json::Value, index: &Index, changes: &Changes, time: &str) {
    if let Some(findings) = report["findings"].as_array_mut() {
        for f in findings {
            let id = identity(f);
            let first_seen = index
                .open
                .get(&id)
                .map(|o| o.first_seen.clone())
                .unwrap_or_else(|| time.to_string());
            let status = if changes.new_ids.contains(&id) {
                "new"
            } else {
                "persisting"
            };
            f["id"] = serde_json::Value::String(id);
            f["status"] = serde_json::Value::String(status.into());
            f["age_days"] = serde_json::Value::from(age_days(&first_seen, time));
            f["first_seen"] = serde_json::Value::String(first_seen);
        }
    }
    report["history"] = serde_json::json!({
        "previous_run": changes.previous_run,
        "new": changes.new,
        "persisting": changes.persisting,
        "resolved": changes.resolved,
        "coverage": changes.coverage,
        "problems": changes.problems,
        "trend": index.runs,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(findings: serde_json::Value, workloads: &[&str]) -> serde_json::Value {
        json!({
            "schema": "confdrift.report/v1",
            "environments": [{"name": "prod", "complete": true, "workloads": workloads}],
            "findings": findings,
            "summary": {"critical": 1, "warning": 0, "info": 0, "waived": 0},
        })
    }

    fn pool(value: &str) -> serde_json::Value {
        json!({"rule": "db-pool-size", "code": "not-equal", "severity": "critical",
               "workload": "checkout", "container": "server", "kind": "env",
               "key": "DB_POOL_SIZE", "values": {"prod": value}})
    }

    #[test]
    fn identity_ignores_values_and_order_but_not_the_subject() {
        assert_eq!(identity(&pool("5")), identity(&pool("7")));
        let mut other = pool("5");
        other["key"] = json!("DB_POOL_MAX");
        assert_ne!(identity(&pool("5")), identity(&other));
    }

    #[test]
    fn findings_are_new_then_persisting_with_their_first_date_then_resolved() {
        let t1 = "2026-11-20T02:00:00Z";
        let t2 = "2026-11-23T02:00:00Z";
        let t3 = "2026-11-24T02:00:00Z";
        let (i1, c1) = advance(
            &Index::default(),
            &report(json!([pool("5")]), &["checkout"]),
            t1,
            "a",
        );
        assert_eq!((c1.new, c1.persisting), (1, 0));
        let mut r2 = report(json!([pool("6")]), &["checkout"]);
        let (i2, c2) = advance(&i1, &r2, t2, "b");
        assert_eq!((c2.new, c2.persisting, c2.resolved.len()), (0, 1, 0));
        annotate(&mut r2, &i2, &c2, t2);
        assert_eq!(r2["findings"][0]["status"], "persisting");
        assert_eq!(r2["findings"][0]["first_seen"], t1);
        assert_eq!(r2["findings"][0]["age_days"], 3);
        let (_, c3) = advance(&i2, &report(json!([]), &["checkout"]), t3, "c");
        assert_eq!(c3.resolved.len(), 1);
        assert_eq!(c3.resolved[0].first_seen, t1);
        assert!(c3.resolved[0].label.contains("DB_POOL_SIZE"));
    }

    #[test]
    fn a_vanished_workload_is_news() {
        let (i1, _) = advance(
            &Index::default(),
            &report(json!([]), &["cart", "checkout"]),
            "2026-11-20T02:00:00Z",
            "a",
        );
        let (_, c2) = advance(
            &i1,
            &report(json!([]), &["checkout"]),
            "2026-11-21T02:00:00Z",
            "b",
        );
        assert_eq!(
            c2.coverage,
            vec!["workload cart vanished from prod".to_string()]
        );
    }

    #[test]
    fn age_is_in_whole_days() {
        assert_eq!(age_days("2026-11-20T02:00:00Z", "2026-11-23T01:59:59Z"), 2);
        assert_eq!(age_days("2026-11-20T02:00:00Z", "2026-11-23T02:00:00Z"), 3);
    }

    #[test]
    fn runs_at_the_same_instant_get_distinct_files_that_sort_in_run_order() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let t = "2026-12-07T01:02:03Z";
        let mut index = Index::default();
        let mut names = Vec::new();
        for _ in 0..3 {
            let file = h.next_run_file(t, &index);
            std::fs::write(dir.path().join(&file), "{}").unwrap();
            index.runs.push(RunRecord {
                time: t.into(),
                file: file.clone(),
                critical: 0,
                warning: 0,
                info: 0,
                waived: 0,
                complete: true,
            });
            names.push(file);
        }
        assert_eq!(
            names,
            [
                "runs/20261207T010203.000000000Z-0001.json",
                "runs/20261207T010203.000000000Z-0002.json",
                "runs/20261207T010203.000000000Z-0003.json",
            ]
        );
        // A name the index still uses, its file gone, is not reused.
        std::fs::remove_file(dir.path().join(&names[2])).unwrap();
        assert_eq!(
            h.next_run_file(t, &index),
            "runs/20261207T010203.000000000Z-0004.json"
        );
        // Later instants, to the nanosecond, sort after.
        let later = [
            run_file("2026-12-07T01:02:03.5Z", 1),
            run_file("2026-12-07T01:02:04Z", 1),
            run_file("2026-12-08T00:00:00+01:00", 1),
        ];
        let mut sorted = later.to_vec();
        sorted.sort();
        assert_eq!(sorted, later);
        assert!(names[2] < later[0]);
    }

    #[test]
    fn old_second_named_run_files_are_read_in_time_order_with_new_ones() {
        let mut names = vec![
            "20261121T020000.000000000Z-0001.json",
            "2026-11-22T02-00-00Z.json",
            "20261120T020000.000000000Z-0002.json",
            "2026-11-20T02-00-00Z.json",
            "20261120T020000.000000000Z-0001.json",
        ];
        names.sort_by_cached_key(|n| run_order(n));
        assert_eq!(
            names,
            [
                "2026-11-20T02-00-00Z.json",
                "20261120T020000.000000000Z-0001.json",
                "20261120T020000.000000000Z-0002.json",
                "20261121T020000.000000000Z-0001.json",
                "2026-11-22T02-00-00Z.json",
            ]
        );
    }

    #[test]
    fn a_second_run_at_the_same_instant_finds_its_findings_persisting() {
        let t = "2026-12-07T01:02:03Z";
        let (i1, _) = advance(&Index::default(), &report(json!([pool("5")]), &[]), t, "a");
        let mut r2 = report(json!([pool("5")]), &[]);
        let (i2, c2) = advance(&i1, &r2, t, "b");
        annotate(&mut r2, &i2, &c2, t);
        assert_eq!((c2.new, c2.persisting), (0, 1));
        assert_eq!(r2["findings"][0]["status"], "persisting");
        assert_eq!(i2.runs.len(), 2);
    }
}
