//! Snapshots in object storage: the layout a fleet shares, and the source
//! that reads it.
//!
//! A cluster's job writes `PREFIX/<UTC time>.json.gz` (gzip, streamed),
//! then moves the small pointer `PREFIX/latest` to it; a reader of `PREFIX/`
//! follows `latest`, a reader of a full object URL reads that object (gzip
//! or plain JSON). Whatever cannot be read — no bucket, access denied, no
//! `latest` yet, a truncated object, an endpoint down or slow — and a
//! snapshot older than its `max_age` are problems of the environment, which
//! is then incomplete; they never stop the other environments. This module
//! never writes the pointer before the snapshot it names is complete.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::objstore::{self, Fault, ObjectUrl};
use super::snapshot::Snapshot;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Problem, Severity};

/// The pointer object's name below a prefix.
pub const LATEST: &str = "latest";
/// The pointer's schema.
pub const LATEST_SCHEMA: &str = "confdrift.latest/v1";
/// A snapshot older than this is stale unless `--max-age` or the
/// environment's `max_age:` says otherwise: a nightly job plus two hours.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(26 * 3600);

/// An environment read from object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSource {
    pub url: ObjectUrl,
    /// Older than this is `snapshot-stale`; `None`: [`DEFAULT_MAX_AGE`].
    pub max_age: Option<Duration>,
}

impl ObjectSource {
    pub fn parse(spec: &str) -> Result<ObjectSource> {
        Ok(ObjectSource {
            url: ObjectUrl::parse(spec)?,
            max_age: None,
        })
    }

    pub fn describe(&self) -> String {
        self.url.to_string()
    }

    fn max_age(&self) -> Duration {
        self.max_age.unwrap_or(DEFAULT_MAX_AGE)
    }
}

/// The `latest` pointer: names the newest complete snapshot below the
/// prefix, relative to it, so a copied bucket still points right.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Latest {
    pub schema: String,
    /// The snapshot object, relative to the prefix.
    pub object: String,
    pub environment: String,
    pub time: String,
}

/// Reads one environment from object storage. Never fails: what cannot be
/// read is a problem of the environment.
pub async fn collect(source: &ObjectSource, key: &FingerprintKey) -> Collected {
    let mut collected = Collected {
        source: source.describe(),
        fingerprint_key_id: key.id().to_string(),
        ..Collected::default()
    };
    match read(source, key, &mut collected).await {
        Ok(()) => {}
        Err(problem) => collected.problems.push(problem),
    }
    super::finish(&mut collected);
    collected
}

fn problem(code: &str, location: &str, message: String) -> Problem {
    Problem {
        code: code.into(),
        severity: Severity::Critical,
        incomplete: true,
        location: location.to_string(),
        message,
    }
}

fn fault_problem(fault: &Fault, url: &ObjectUrl) -> Problem {
    problem(fault.code(), &url.to_string(), fault.describe(url))
}

async fn read(
    source: &ObjectSource,
    key: &FingerprintKey,
    collected: &mut Collected,
) -> std::result::Result<(), Problem> {
    let url = &source.url;
    let store = objstore::open(url).map_err(|f| fault_problem(&f, url))?;
    let object = if url.is_prefix() {
        resolve_latest(store.as_ref(), url).await?
    } else {
        url.clone()
    };
    let started = std::time::Instant::now();
    let reader = match objstore::get_reader(store.as_ref(), &object).await {
        Ok(r) => r,
        Err(Fault::NotFound) => {
            return Err(not_found(store.as_ref(), &object, Fault::NotFound).await);
        }
        Err(f) => return Err(fault_problem(&f, &object)),
    };
    let size = reader.size;
    let shown = object.to_string();
    let snapshot = {
        let object = object.clone();
        tokio::task::spawn_blocking(move || parse(reader, &object))
            .await
            .map_err(|e| {
                problem(
                    crate::codes::ProblemCode::SnapshotCorrupt.as_str(),
                    &shown,
                    e.to_string(),
                )
            })??
    };
    tracing::info!(
        object = %object,
        bytes = size,
        objects = snapshot.collected.objects.len(),
        elapsed = ?started.elapsed(),
        "snapshot read from object storage"
    );
    let now = crate::clock::now()
        .map_err(|e| problem(crate::codes::ProblemCode::SnapshotStale.as_str(), &shown, e))?;
    collected.source = describe_read(url, &object, &snapshot, now);
    if let Some(p) = staleness(&snapshot, source.max_age(), now, &shown) {
        collected.problems.push(p);
    }
    snapshot.merge_into(collected, key, &shown);
    Ok(())
}

/// Follows `PREFIX/latest` to the snapshot it names.
async fn resolve_latest(
    store: &dyn object_store::ObjectStore,
    prefix: &ObjectUrl,
) -> std::result::Result<ObjectUrl, Problem> {
    let pointer = prefix.join(LATEST);
    let bytes = match objstore::get_small(store, &pointer).await {
        Ok(b) => b,
        Err(Fault::NotFound) => {
            let p = not_found(store, &pointer, Fault::NotFound).await;
            if p.code == Fault::NoBucket.code() {
                return Err(p);
            }
            return Err(problem(
                crate::codes::ProblemCode::SnapshotNoLatest.as_str(),
                &prefix.to_string(),
                format!(
                    "no snapshot has been written to {prefix} yet (there is no `{LATEST}` \
                     object): is the cluster's `confdrift snapshot --output {prefix}` job \
                     running, and writing to this prefix?"
                ),
            ));
        }
        Err(f) => return Err(fault_problem(&f, &pointer)),
    };
    let latest: Latest = serde_json::from_slice(&bytes)
        .ok()
        .filter(|l: &Latest| l.schema == LATEST_SCHEMA && !l.object.is_empty())
        .ok_or_else(|| {
            problem(
                crate::codes::ProblemCode::SnapshotCorrupt.as_str(),
                &pointer.to_string(),
                format!(
                    "{pointer} is not a confdrift `{LATEST}` pointer ({LATEST_SCHEMA}); it is \
                     written by `confdrift snapshot --output {prefix}`"
                ),
            )
        })?;
    if latest.object.split('/').any(|s| s == ".." || s == ".") {
        return Err(problem(
            crate::codes::ProblemCode::SnapshotCorrupt.as_str(),
            &pointer.to_string(),
            format!("{pointer} names an object outside its prefix"),
        ));
    }
    tracing::debug!(pointer = %pointer, object = %latest.object, "latest snapshot");
    Ok(prefix.join(&latest.object))
}

/// A missing object, or a missing bucket: S3 answers a GET in a bucket
/// that does not exist with 404 like a missing key, so the bucket is
/// listed to tell them apart.
async fn not_found(
    store: &dyn object_store::ObjectStore,
    url: &ObjectUrl,
    fault: Fault,
) -> Problem {
    if let Err(Fault::NoBucket) = objstore::list(store, &url.bucket()).await {
        return fault_problem(&Fault::NoBucket, url);
    }
    fault_problem(&fault, url)
}

/// Parses a downloaded snapshot, gzip or plain JSON, streaming from the
/// file. A gzip or JSON error is `snapshot-corrupt`, naming the object
/// and never quoting its contents.
fn parse(
    mut body: objstore::ObjectReader,
    object: &ObjectUrl,
) -> std::result::Result<Snapshot, Problem> {
    use std::io::{BufRead as _, BufReader, Read as _};
    let shown = &object.to_string();
    let mut reader = BufReader::with_capacity(1 << 16, &mut body);
    let gzip = reader
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let corrupt = |why: String| {
        problem(
            crate::codes::ProblemCode::SnapshotCorrupt.as_str(),
            shown,
            format!(
                "{shown} is not a readable confdrift snapshot: {why}; the upload may have been \
                 cut short or the object replaced. Take a new snapshot"
            ),
        )
    };
    // Decompressed, no more than a snapshot file may be.
    let limit = crate::limits::MAX_FILE_BYTES + 1;
    let result: std::result::Result<Snapshot, serde_json::Error> = if gzip {
        let decoder = flate2::bufread::GzDecoder::new(reader).take(limit);
        serde_json::from_reader(BufReader::with_capacity(1 << 16, decoder))
    } else {
        serde_json::from_reader(reader.take(limit))
    };
    // The transfer itself failed: that fault, not the parser's view of it.
    if let Some(fault) = body.fault() {
        return Err(fault_problem(fault, object));
    }
    let snapshot = result.map_err(|e| {
        corrupt(if e.is_io() {
            // The decoder's own words: "invalid gzip header", "corrupt deflate stream"…
            format!("gzip: {}", objstore::escaped(&e.to_string()))
        } else if e.is_eof() {
            "it ends early (truncated)".to_string()
        } else {
            // The position, not the text: a snapshot holds configuration.
            format!(
                "invalid JSON at line {} column {} ({:?})",
                e.line(),
                e.column(),
                e.classify()
            )
        })
    })?;
    if snapshot.api_version != super::snapshot::API_VERSION {
        return Err(corrupt(format!(
            "apiVersion {} is not {}",
            objstore::escaped(&snapshot.api_version),
            super::snapshot::API_VERSION
        )));
    }
    if snapshot.kind != super::manifest::SNAPSHOT_KIND {
        return Err(corrupt("its kind is not Snapshot".into()));
    }
    Ok(snapshot)
}

/// `s3://b/cd/prod/ → 20261207T010203Z.json.gz, taken 2026-12-07T01:02:03Z (3h ago) from context in-cluster`
fn describe_read(
    url: &ObjectUrl,
    object: &ObjectUrl,
    snapshot: &Snapshot,
    now: jiff::Timestamp,
) -> String {
    let mut out = if url.is_prefix() {
        format!("{url} → {}", object.relative_to(url).unwrap_or_default())
    } else {
        url.to_string()
    };
    match &snapshot.taken {
        Some(taken) => {
            out.push_str(&format!(", taken {}", taken.time));
            if let Some(age) = age(taken, now) {
                out.push_str(&format!(" ({} ago)", crate::clock::human(age)));
            }
            if let Some(ctx) = &taken.context {
                out.push_str(&format!(" from context {ctx}"));
            }
        }
        None => out.push_str(", time unknown"),
    }
    out
}

/// Seconds since the snapshot was taken (0 for one from the future).
fn age(taken: &super::snapshot::Taken, now: jiff::Timestamp) -> Option<u64> {
    let t: jiff::Timestamp = taken.time.parse().ok()?;
    Some(u64::try_from(now.as_second() - t.as_second()).unwrap_or(0))
}

/// `snapshot-stale` when older than `max_age`, or when its age is unknown.
fn staleness(
    snapshot: &Snapshot,
    max_age: Duration,
    now: jiff::Timestamp,
    shown: &str,
) -> Option<Problem> {
    let limit = crate::clock::human(max_age.as_secs());
    let Some(taken) = &snapshot.taken else {
        return Some(problem(
            crate::codes::ProblemCode::SnapshotStale.as_str(),
            shown,
            format!(
                "the snapshot records no time (written by an older confdrift), so it cannot be \
                 shown to be younger than {limit}; take a new one"
            ),
        ));
    };
    let Some(age) = age(taken, now) else {
        return Some(problem(
            crate::codes::ProblemCode::SnapshotStale.as_str(),
            shown,
            format!("the snapshot's time cannot be read; take a new one (max age {limit})"),
        ));
    };
    (age > max_age.as_secs()).then(|| {
        problem(
            crate::codes::ProblemCode::SnapshotStale.as_str(),
            shown,
            format!(
                "the snapshot was taken {} ago ({}), more than the max age of {limit}: has the \
                 cluster's snapshot job stopped? (raise it with --max-age or the environment's \
                 max_age: if snapshots are meant to be this old)",
                crate::clock::human(age),
                taken.time
            ),
        )
    })
}

// ---------------------------------------------------------------------------
// writing
// ---------------------------------------------------------------------------

/// The object name of a snapshot taken at `time`: `20261207T010203Z.json.gz`,
/// in time order when listed.
pub fn object_name(time: jiff::Timestamp) -> String {
    format!("{}.json.gz", time.strftime("%Y%m%dT%H%M%SZ"))
}

/// Writes a snapshot to object storage: below a prefix as a timestamped
/// gzip object, then the `latest` pointer; to a full object URL as that
/// object (gzip when its name ends in `.gz`). Returns the object written.
/// A failure is an error (exit 2) and leaves any earlier snapshot and
/// pointer as they were.
pub async fn write(snapshot: Snapshot, url: &ObjectUrl) -> Result<ObjectUrl> {
    let fail = |f: Fault, at: &ObjectUrl| {
        Error::Usage(format!("cannot write the snapshot: {}", f.describe(at)))
    };
    let store = objstore::open(url).map_err(|f| fail(f, url))?;
    let time = snapshot
        .taken
        .as_ref()
        .and_then(|t| t.time.parse::<jiff::Timestamp>().ok())
        .ok_or_else(|| Error::internal("the snapshot has no time"))?;
    let (object, gzip) = if url.is_prefix() {
        (url.join(&object_name(time)), true)
    } else {
        (url.clone(), url.name().ends_with(".gz"))
    };
    let environment = snapshot.environment.clone();
    let started = std::time::Instant::now();
    let bytes = objstore::put_stream(store.clone(), &object, move |out| {
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            snapshot.write_json(&mut gz)?;
            gz.finish()?;
            Ok(())
        } else {
            snapshot.write_json(out)
        }
    })
    .await
    .map_err(|f| fail(f, &object))?;
    tracing::info!(object = %object, bytes, elapsed = ?started.elapsed(), "snapshot uploaded");
    if url.is_prefix() {
        let latest = Latest {
            schema: LATEST_SCHEMA.into(),
            object: object.relative_to(url).unwrap_or_default(),
            environment,
            time: time.to_string(),
        };
        let mut body = serde_json::to_vec_pretty(&latest)
            .map_err(|e| Error::internal(format!("cannot build the pointer: {e}")))?;
        body.push(b'\n');
        let pointer = url.join(LATEST);
        objstore::put_small(store.as_ref(), &pointer, body)
            .await
            .map_err(|f| fail(f, &pointer))?;
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_at(time: Option<&str>) -> Snapshot {
        let mut s = Snapshot::new("prod", Collected::default());
        s.taken = time.map(|t| super::super::snapshot::Taken {
            time: t.into(),
            confdrift_version: "0".into(),
            context: Some("in-cluster".into()),
            namespaces: vec!["shop".into()],
        });
        s
    }

    #[test]
    fn a_snapshot_older_than_max_age_is_stale_and_incomplete() {
        let now: jiff::Timestamp = "2026-12-07T03:00:00Z".parse().unwrap();
        let max = DEFAULT_MAX_AGE;
        assert!(staleness(&snapshot_at(Some("2026-12-06T03:00:00Z")), max, now, "x").is_none());
        let p = staleness(&snapshot_at(Some("2026-12-05T23:00:00Z")), max, now, "x").unwrap();
        assert_eq!(p.code, "snapshot-stale");
        assert!(p.incomplete);
        assert!(p.message.contains("1d 4h ago"), "{}", p.message);
        assert!(p.message.contains("max age of 1d 2h"), "{}", p.message);
        // No time: cannot be shown fresh.
        assert!(staleness(&snapshot_at(None), max, now, "x").is_some());
    }

    #[test]
    fn the_coverage_source_names_the_object_and_its_age() {
        let now: jiff::Timestamp = "2026-12-07T03:00:00Z".parse().unwrap();
        let prefix = ObjectUrl::parse("s3://b/cd/prod/").unwrap();
        let object = prefix.join("20261207T000000Z.json.gz");
        assert_eq!(
            describe_read(
                &prefix,
                &object,
                &snapshot_at(Some("2026-12-07T00:00:00Z")),
                now
            ),
            "s3://b/cd/prod/ → 20261207T000000Z.json.gz, taken 2026-12-07T00:00:00Z (3h ago) \
             from context in-cluster"
        );
    }

    #[test]
    fn object_names_sort_by_time() {
        let t: jiff::Timestamp = "2026-12-07T01:02:03Z".parse().unwrap();
        assert_eq!(object_name(t), "20261207T010203Z.json.gz");
    }
}
