//! The nightly job's memory: every run's JSON report is kept in a history
//! directory, and each new run is compared with the last one — which
//! findings are new, which persist (since when, for how many days), which
//! were resolved, and what vanished from coverage.
//!
//! History works on the stable wire format (`confdrift.report/v1`, the
//! types of [`crate::report::json`]), never on the audit's in-memory types,
//! so a newer confdrift reads an older history. Files are
//! written atomically (temporary file, then rename) and the index last, so a
//! run that dies leaves the history as it was; one run at a time holds the
//! directory's lock ([`crate::fsio::Lock`]), and each run gets a file of its own. A
//! corrupt or foreign file is reported and skipped, never fatal.

mod lock;
pub mod object;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fsio::Lock;
use crate::report::json::{FindingStatus, JsonFinding, JsonHistory, JsonReport};
pub use crate::report::json::{JsonResolved as Resolved, JsonTrendRun as RunRecord};

pub const INDEX: &str = "index.json";
/// The lock file: never removed, see [`crate::fsio::Lock`].
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

/// A finding's identity across runs: its rule and subject, never its values
/// or its position in the report.
/// The fields hashed are named by their wire names, and an absent one
/// (`null`) hashes as empty text, as it always has: the identities stored
/// in a history stay valid.
pub fn identity(f: &JsonFinding) -> String {
    let mut h = Sha256::new();
    for (field, value) in [
        ("rule", Some(f.rule.as_str())),
        ("code", Some(f.code.as_str())),
        ("environment", f.environment.as_deref()),
        ("workload", f.workload.as_deref()),
        ("container", f.container.as_deref()),
        ("configmap", f.configmap.as_deref()),
        ("kind", f.kind.map(|k| k.as_str())),
        ("key", f.key.as_deref()),
    ] {
        h.update(field.as_bytes());
        h.update(b"=");
        h.update(value.unwrap_or_default().as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..8])
}

fn label(f: &JsonFinding) -> String {
    let place = f.place();
    let env = f
        .environment
        .as_deref()
        .map(|e| format!(" in {e}"))
        .unwrap_or_default();
    format!(
        "{} {place} {}{env} ({})",
        f.code,
        f.key.as_deref().unwrap_or_default(),
        f.rule
    )
    .replace("  ", " ")
}

/// Reads a run stored in a history: a `confdrift.report/v1` report with
/// the run's time. Returns the report and its time, or why it is not one
/// (a field missing or of the wrong type, another schema).
pub fn read_run(text: &[u8]) -> std::result::Result<(JsonReport, String), String> {
    use crate::report::json::SCHEMA as REPORT;
    // An object first, its schema checked before its fields: serde reads a
    // JSON array as a struct, field by field, and a report of another
    // schema is named as such rather than by the first field it lacks.
    let doc: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(text).map_err(|e| e.to_string())?;
    match doc.get("schema") {
        Some(serde_json::Value::String(s)) if s == REPORT => {}
        Some(other) => return Err(format!("schema {other} is not {REPORT}")),
        None => return Err(format!("no schema; {REPORT} expected")),
    }
    let report: JsonReport =
        serde_json::from_value(serde_json::Value::Object(doc)).map_err(|e| e.to_string())?;
    let Some(time) = report.run.as_ref().map(|r| r.time.clone()) else {
        return Err("no run time: not a run of the nightly job".to_string());
    };
    Ok((report, time))
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
    /// time) names this run to a refused one. See [`lock::take`].
    pub fn lock(&self, run: &str) -> Result<Lock> {
        lock::take(&self.dir.join(LOCK), run)
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
            let run = std::fs::read(&f)
                .map_err(|e| e.to_string())
                .and_then(|t| read_run(&t));
            match run {
                Ok((report, time)) => {
                    let name = f
                        .file_name()
                        .map(|n| format!("runs/{}", n.to_string_lossy()))
                        .unwrap_or_default();
                    index = advance(&index, &report, &time, &name).0;
                }
                Err(why) => problems.push(format!(
                    "{}: corrupt or not a confdrift report ({why}), skipped",
                    f.display()
                )),
            }
        }
        (index, problems)
    }

    /// Stores a run's report and the new index, atomically, report first.
    pub fn store(&self, report: &JsonReport, index: &Index, file: &str) -> Result<()> {
        let text = crate::report::json::to_sorted_string(report)
            .map_err(|e| Error::internal(format!("the report does not serialize: {e}")))?;
        let write = |path: PathBuf, bytes: &[u8]| {
            crate::fsio::write_atomic(&path, bytes).map_err(|e| Error::io(e.path, e.source))
        };
        write(self.dir.join(file), text.as_bytes())?;
        let idx = serde_json::to_string_pretty(index)
            .map_err(|e| Error::internal(format!("the history index does not serialize: {e}")))?;
        write(self.dir.join(INDEX), format!("{idx}\n").as_bytes())?;
        tracing::debug!(
            file,
            bytes = text.len(),
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
pub fn advance(prev: &Index, report: &JsonReport, time: &str, file: &str) -> (Index, Changes) {
    let mut open = BTreeMap::new();
    let mut changes = Changes {
        previous_run: prev.runs.last().map(|r| r.time.clone()),
        ..Changes::default()
    };
    for f in &report.findings {
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
                severity: f.severity.as_str().to_string(),
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
    for e in &report.environments {
        coverage.insert(e.name.clone(), e.workloads.iter().cloned().collect());
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
    let summary = &report.summary;
    let mut runs = prev.runs.clone();
    runs.push(RunRecord {
        time: time.to_string(),
        file: file.to_string(),
        critical: summary.critical,
        warning: summary.warning,
        info: summary.info,
        waived: summary.waived,
        complete: report.complete(),
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
pub fn annotate(report: &mut JsonReport, index: &Index, changes: &Changes, time: &str) {
    for f in &mut report.findings {
        let id = identity(f);
        let first_seen = index
            .open
            .get(&id)
            .map(|o| o.first_seen.clone())
            .unwrap_or_else(|| time.to_string());
        f.status = Some(if changes.new_ids.contains(&id) {
            FindingStatus::New
        } else {
            FindingStatus::Persisting
        });
        f.id = Some(id);
        f.age_days = Some(age_days(&first_seen, time));
        f.first_seen = Some(first_seen);
    }
    report.history = Some(JsonHistory {
        previous_run: changes.previous_run.clone(),
        new: changes.new,
        persisting: changes.persisting,
        resolved: changes.resolved.clone(),
        coverage: changes.coverage.clone(),
        problems: changes.problems.clone(),
        trend: index.runs.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConfigKind, Severity};
    use crate::report::json::{JsonEnvironment, JsonSummary};

    fn report(findings: Vec<JsonFinding>, workloads: &[&str]) -> JsonReport {
        JsonReport {
            schema: crate::report::json::SCHEMA.into(),
            environments: vec![JsonEnvironment {
                name: "prod".into(),
                complete: true,
                workloads: workloads.iter().map(|w| w.to_string()).collect(),
                ..JsonEnvironment::default()
            }],
            findings,
            summary: JsonSummary {
                critical: 1,
                ..JsonSummary::default()
            },
            ..JsonReport::default()
        }
    }

    fn pool(value: &str) -> JsonFinding {
        JsonFinding {
            rule: "db-pool-size".into(),
            code: "not-equal".into(),
            severity: Severity::Critical,
            workload: Some("checkout".into()),
            container: Some("server".into()),
            kind: Some(ConfigKind::Env),
            key: Some("DB_POOL_SIZE".into()),
            values: [("prod".to_string(), Some(value.to_string()))].into(),
            ..JsonFinding::default()
        }
    }

    #[test]
    fn identity_ignores_values_and_order_but_not_the_subject() {
        assert_eq!(identity(&pool("5")), identity(&pool("7")));
        let mut other = pool("5");
        other.key = Some("DB_POOL_MAX".into());
        assert_ne!(identity(&pool("5")), identity(&other));
    }

    /// The identities stored in a history (its index's `open`) must mean
    /// the same finding to the next version: this one is in
    /// testdata/history/v1 and the nightly snapshots.
    #[test]
    fn identity_is_the_one_stored_by_earlier_versions() {
        let mut f = pool("5");
        f.rule = "connection-pools-equal".into();
        assert_eq!(identity(&f), "6c0068ab803e5916");
    }

    #[test]
    fn a_stored_run_without_a_required_field_is_refused_with_the_field_named() {
        let (good, time) = {
            let mut r = report(vec![pool("5")], &["checkout"]);
            r.run = Some(crate::report::json::JsonRun {
                time: "2026-11-20T02:00:00Z".into(),
            });
            let text = crate::report::json::to_sorted_string(&r).unwrap();
            let (read, time) = read_run(text.as_bytes()).expect("a whole run is read");
            assert_eq!(read, r);
            (text, time)
        };
        assert_eq!(time, "2026-11-20T02:00:00Z");
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        // `same_cause` came to v1 after the first histories were stored.
        v["suppressed"]
            .as_object_mut()
            .unwrap()
            .remove("same_cause");
        assert!(read_run(v.to_string().as_bytes()).is_ok());
        v["findings"][0].as_object_mut().unwrap().remove("severity");
        let why = read_run(v.to_string().as_bytes()).unwrap_err();
        assert!(why.contains("missing field `severity`"), "{why}");
        v.as_object_mut().unwrap().remove("findings");
        let why = read_run(v.to_string().as_bytes()).unwrap_err();
        assert!(why.contains("missing field `findings`"), "{why}");
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        v.as_object_mut().unwrap().remove("run");
        let why = read_run(v.to_string().as_bytes()).unwrap_err();
        assert!(why.contains("no run time"), "{why}");
        v["schema"] = "confdrift.report/v2".into();
        let why = read_run(v.to_string().as_bytes()).unwrap_err();
        assert!(why.contains("schema \"confdrift.report/v2\""), "{why}");
    }

    #[test]
    fn findings_are_new_then_persisting_with_their_first_date_then_resolved() {
        let t1 = "2026-11-20T02:00:00Z";
        let t2 = "2026-11-23T02:00:00Z";
        let t3 = "2026-11-24T02:00:00Z";
        let (i1, c1) = advance(
            &Index::default(),
            &report(vec![pool("5")], &["checkout"]),
            t1,
            "a",
        );
        assert_eq!((c1.new, c1.persisting), (1, 0));
        let mut r2 = report(vec![pool("6")], &["checkout"]);
        let (i2, c2) = advance(&i1, &r2, t2, "b");
        assert_eq!((c2.new, c2.persisting, c2.resolved.len()), (0, 1, 0));
        annotate(&mut r2, &i2, &c2, t2);
        assert_eq!(r2.findings[0].status, Some(FindingStatus::Persisting));
        assert_eq!(r2.findings[0].first_seen.as_deref(), Some(t1));
        assert_eq!(r2.findings[0].age_days, Some(3));
        let (_, c3) = advance(&i2, &report(vec![], &["checkout"]), t3, "c");
        assert_eq!(c3.resolved.len(), 1);
        assert_eq!(c3.resolved[0].first_seen, t1);
        assert!(c3.resolved[0].label.contains("DB_POOL_SIZE"));
    }

    #[test]
    fn a_vanished_workload_is_news() {
        let (i1, _) = advance(
            &Index::default(),
            &report(vec![], &["cart", "checkout"]),
            "2026-11-20T02:00:00Z",
            "a",
        );
        let (_, c2) = advance(
            &i1,
            &report(vec![], &["checkout"]),
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
        let (i1, _) = advance(&Index::default(), &report(vec![pool("5")], &[]), t, "a");
        let mut r2 = report(vec![pool("5")], &[]);
        let (i2, c2) = advance(&i1, &r2, t, "b");
        annotate(&mut r2, &i2, &c2, t);
        assert_eq!((c2.new, c2.persisting), (0, 1));
        assert_eq!(r2.findings[0].status, Some(FindingStatus::Persisting));
        assert_eq!(i2.runs.len(), 2);
    }
}
