//! The nightly history in object storage (`report --history s3://b/cd/history/`):
//! the same `index.json` and `runs/*.json` as a history directory, kept
//! consistent without a lock by conditional writes.
//!
//! A run's report is created with `If-None-Match: *` (another name is
//! taken if the name exists), then the index is replaced with `If-Match`
//! on the e-tag it was read with. When another reporter moved the index
//! in between, the index is read again, the run is applied to it anew and
//! the write retried, so no run is lost and the index never goes back.
//! This module never overwrites a run, and never writes an index it did
//! not derive from the one stored.

use object_store::{ObjectStore, PutMode};

use crate::collect::objstore::{self, Fault, ObjectUrl};
use crate::error::{Error, Result};
use crate::history::{self, Changes, INDEX, Index, SCHEMA};
use crate::limits::MAX_INDEX_BYTES;
use crate::report::json::JsonReport;

/// How often an index update that lost a race is tried again.
const ATTEMPTS: usize = 20;

/// Stores one run's report in the history at `url` and returns the index
/// after it, with what changed. `report` is the run's JSON report (with
/// `run.time` = `now`).
pub async fn record(url: &ObjectUrl, report: &JsonReport, now: &str) -> Result<(Index, Changes)> {
    let fail =
        |f: Fault, at: &ObjectUrl| Error::Usage(format!("history {url}: {}", f.describe(at)));
    let store = objstore::open(url).map_err(|f| fail(f, url))?;
    let store = store.as_ref();
    let text = crate::report::json::to_sorted_string(report)
        .map_err(|e| Error::internal(format!("the report does not serialize: {e}")))?
        .into_bytes();
    let file = create_run(store, url, &text, now).await?;
    let index_url = url.join(INDEX);
    for attempt in 1..=ATTEMPTS {
        let (index, version, problems) = load(store, url, &file).await?;
        if index.runs.iter().any(|r| r.file == file) {
            // Already in: a "lost" write had landed (a retried request), or
            // a racing reporter added this stored run. Done.
            let (_, mut changes) = history::advance(&index, report, now, &file);
            changes.problems = problems;
            return Ok((index, changes));
        }
        let (next, mut changes) = history::advance(&index, report, now, &file);
        changes.problems = problems;
        let mut body = serde_json::to_vec_pretty(&next)
            .map_err(|e| Error::internal(format!("the history index does not serialize: {e}")))?;
        body.push(b'\n');
        let mode = match version {
            Some(v) => PutMode::Update(v),
            None => PutMode::Create,
        };
        match objstore::put_if(store, &index_url, body, mode).await {
            Ok(()) => {
                tracing::debug!(
                    file,
                    attempt,
                    runs = next.runs.len(),
                    "run stored in the history"
                );
                return Ok((next, changes));
            }
            Err(Fault::Conflict) => {
                tracing::debug!(
                    attempt,
                    "the history index moved meanwhile; applying the run again"
                );
                // Spread racing reporters apart a little.
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
            }
            Err(f) => return Err(fail(f, &index_url)),
        }
    }
    Err(Error::Usage(format!(
        "history {url}: the index kept changing under {ATTEMPTS} attempts to add this run; \
         the run's report is stored as {file} and will be counted by the next run that \
         rebuilds the index"
    )))
}

/// Stores the run's report under a name no other run has:
/// `runs/<time>-<random number>.json`, create-only (`If-None-Match: *`), a new
/// random part if it exists. Unique by itself, so two runs never share a
/// report even where a server checks the condition loosely.
async fn create_run(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    text: &[u8],
    now: &str,
) -> Result<String> {
    for _ in 0..16 {
        // The run's time to the nanosecond, then a random number in place
        // of a local history's counter: no two reporters pick the same.
        let file = history::run_file(now, u64::from(getrandom::u32().unwrap_or(0)));
        let at = url.join(&file);
        match objstore::put_if(store, &at, text.to_vec(), PutMode::Create).await {
            Ok(()) => return Ok(file),
            Err(Fault::Conflict) => continue,
            Err(f) => return Err(Error::Usage(format!("history {url}: {}", f.describe(&at)))),
        }
    }
    Err(Error::Usage(format!(
        "history {url}: no free name for this run's report below runs/"
    )))
}

/// Reads the index and the version to update it from. None stored: an
/// empty history (`Create` then). A corrupt one is rebuilt from the runs.
///
/// Run reports stored but missing from the index (a reporter that died
/// between the two writes) are added to it in name order, before this
/// run (`own`), so a run once stored is never lost.
async fn load(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    own: &str,
) -> Result<(Index, Option<object_store::UpdateVersion>, Vec<String>)> {
    let index_url = url.join(INDEX);
    let mut problems = Vec::new();
    let version = match objstore::get_versioned(store, &index_url, MAX_INDEX_BYTES).await {
        Ok((bytes, version)) => match serde_json::from_slice::<Index>(&bytes) {
            Ok(index) if index.schema == SCHEMA => {
                let index = add_missing_runs(store, url, index, own, &mut problems).await?;
                return Ok((index, Some(version), problems));
            }
            _ => {
                problems.push(format!(
                    "{index_url}: unreadable or not {SCHEMA}; rebuilt from the run files"
                ));
                Some(version)
            }
        },
        Err(Fault::NotFound) => None,
        Err(f) => {
            return Err(Error::Usage(format!(
                "history {url}: {}",
                f.describe(&index_url)
            )));
        }
    };
    let (index, mut more) = rebuild(store, url, own).await?;
    problems.append(&mut more);
    Ok((index, version, problems))
}

/// Replays every readable run report but `own` in name (time) order.
async fn rebuild(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    own: &str,
) -> Result<(Index, Vec<String>)> {
    let index = Index {
        schema: SCHEMA.into(),
        ..Index::default()
    };
    let mut problems = Vec::new();
    let index = replay(store, url, index, |name| name != own, &mut problems).await?;
    Ok((index, problems))
}

/// Adds the stored runs the index does not name, except `own`.
async fn add_missing_runs(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    index: Index,
    own: &str,
    problems: &mut Vec<String>,
) -> Result<Index> {
    let known: std::collections::BTreeSet<String> =
        index.runs.iter().map(|r| r.file.clone()).collect();
    replay(
        store,
        url,
        index,
        |name| name != own && !known.contains(name),
        problems,
    )
    .await
}

/// Applies the stored run reports that `wanted` selects to `index`, in
/// name (time) order; unreadable ones are named in `problems`.
async fn replay(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    mut index: Index,
    wanted: impl Fn(&str) -> bool,
    problems: &mut Vec<String>,
) -> Result<Index> {
    let runs = url.join("runs/");
    let listed = match objstore::list(store, &runs).await {
        Ok(l) => l,
        Err(Fault::NotFound) => Vec::new(),
        Err(f) => {
            return Err(Error::Usage(format!(
                "history {url}: {}",
                f.describe(&runs)
            )));
        }
    };
    for object in listed {
        let name = format!("runs/{}", object.name());
        if !wanted(&name) {
            continue;
        }
        tracing::debug!(run = %name, "a stored run the index does not name yet");
        let run = match objstore::get_versioned(store, &object, MAX_INDEX_BYTES).await {
            Ok((bytes, _)) => history::read_run(&bytes),
            Err(f) => Err(f.describe(&object)),
        };
        match run {
            Ok((report, time)) => {
                index = history::advance(&index, &report, &time, &name).0;
            }
            Err(why) => problems.push(format!(
                "{object}: corrupt or not a confdrift report ({why}), skipped"
            )),
        }
    }
    Ok(index)
}
