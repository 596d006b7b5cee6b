//! Wires the stages together for the commands. The CLI calls these with
//! plain [`Settings`]; so do the tests.

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument as _;

use crate::collect::{self, snapshot::Snapshot};
use crate::compare;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::evaluate;
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Comparison, Inventory};
use crate::normalize::{self, Options};
use crate::policy::{self, Date, PolicySet};
use crate::report::Report;

/// Who watches live environments being collected. The CLI answers with a
/// progress bar per cluster; tests and benches with [`NoProgress`]. `app`
/// never draws anything itself.
pub trait ShowProgress {
    /// Where the progress of collecting live environment `env` goes, if
    /// anywhere. Asked once per live environment, in the configured order.
    fn for_env(&self, env: &str) -> Option<Arc<dyn collect::Progress>>;
}

/// Progress shown nowhere.
pub struct NoProgress;

impl ShowProgress for NoProgress {
    fn for_env(&self, _env: &str) -> Option<Arc<dyn collect::Progress>> {
        None
    }
}

/// The result of collecting, comparing and evaluating.
pub struct Audit {
    pub inventories: Vec<Inventory>,
    pub comparison: Comparison,
    pub report: Report,
}

/// Collects every environment, all at once: a slow cluster costs its own
/// timeout, not the sum of everyone's.
pub fn collect_all(
    settings: &Settings,
    key: &FingerprintKey,
    progress: &dyn ShowProgress,
) -> Result<Vec<(String, Collected)>> {
    collect_each(settings, key, progress, |_, c| Ok(c))
}

/// Collects and normalizes every environment, each normalized as soon as
/// it is read and its raw objects dropped then: at no time are all
/// environments held both raw and normalized (README, "Performance").
pub fn collect_normalized(
    settings: &Settings,
    key: &FingerprintKey,
    progress: &dyn ShowProgress,
) -> Result<Vec<Inventory>> {
    let opts = Options::new(&settings.flag_patterns, &settings.flag_configmaps, key.id())?;
    let mut per_env = std::collections::BTreeMap::new();
    for (name, _) in &settings.envs {
        let opts = match settings.renames.get(name) {
            Some(r) => opts.clone().with_renames(r)?,
            None => opts.clone(),
        };
        per_env.insert(name.clone(), opts);
    }
    let mut invs: Vec<Inventory> =
        collect_each(settings, key, progress, move |name, collected| {
            let opts = per_env
                .get(name)
                .ok_or_else(|| Error::internal(format!("environment {name} has no options")))?;
            let mut inv = normalize::normalize(name, &collected, opts);
            // Its raw objects go first: giving back the entries' spare room
            // copies them, and the two should not be held at once.
            drop(collected);
            inv.entries.shrink_to_fit();
            Ok(inv)
        })?
        .into_iter()
        .map(|(_, inv)| inv)
        .collect();
    normalize::align_runtime(&mut invs);
    normalize::lineup::line_up(&mut invs, &settings.baseline()?, settings.line_up);
    Ok(invs)
}

/// Collects every environment concurrently and hands each [`Collected`] to
/// `finish` on a blocking thread as soon as it is complete.
fn collect_each<T, F>(
    settings: &Settings,
    key: &FingerprintKey,
    progress: &dyn ShowProgress,
    finish: F,
) -> Result<Vec<(String, T)>>
where
    T: Send + 'static,
    F: Fn(&str, Collected) -> Result<T> + Send + Sync + 'static,
{
    if settings.envs.is_empty() {
        return Err(Error::Usage(
            "no environments: give --env NAME=SOURCE (at least two) or a confdrift.yaml with `environments:`".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, _) in &settings.envs {
        if !seen.insert(name) {
            return Err(Error::Usage(format!("environment {name} is given twice")));
        }
    }
    let stdin: Vec<&str> = settings
        .envs
        .iter()
        .flat_map(|(name, source)| std::iter::repeat_n(name.as_str(), source.stdin_paths()))
        .collect();
    if stdin.len() > 1 {
        return Err(Error::Usage(format!(
            "standard input (`-`) is the source of more than one environment ({}); it can be \
             read once: give the others as files",
            stdin.join(", ")
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("<async runtime>", e))?;
    let key = std::sync::Arc::new(key.clone());
    let finish = std::sync::Arc::new(finish);
    // `--jobs`: an environment holds its raw objects from the start of its
    // collection until it is normalized; at most this many at a time.
    // Without `--jobs`, as many as a memory limit (a CronJob's) has room
    // for: all of them when there is none.
    let jobs = settings.jobs.unwrap_or_else(|| {
        let limit = crate::memory::cgroup_limit();
        let jobs = crate::memory::default_jobs(settings.envs.len(), limit);
        if let Some(bytes) = limit {
            tracing::info!(
                limit_mib = bytes / (1024 * 1024),
                jobs,
                "memory limit: reading this many environments at once (--jobs overrides)"
            );
        }
        jobs
    });
    let jobs = std::sync::Arc::new(tokio::sync::Semaphore::new(
        jobs.clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
    ));
    let normalizing = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
    let started = Instant::now();
    let results = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (name, source)) in settings.envs.iter().enumerate() {
            let source = source.clone();
            let key = key.clone();
            // Only a live collection reports progress (lists made).
            let tracker = match &source {
                collect::Source::Kube(_) => progress.for_env(name),
                _ => None,
            };
            // Every event of this environment's collection names it.
            let span = tracing::info_span!("env", name = %name);
            let finish = finish.clone();
            let name = name.clone();
            let jobs = jobs.clone();
            let normalizing = normalizing.clone();
            tasks.spawn(
                async move {
                    // The semaphore is never closed, so this cannot fail.
                    let _permit = jobs.acquire_owned().await;
                    let collected = match collect::collect(&source, key, tracker).await {
                        Ok(c) => c,
                        Err(e) => return (i, Err(e)),
                    };
                    // One environment is normalized at a time: its entries
                    // are made while all of its raw objects are still held,
                    // and environments read at once tend to get there
                    // together. At 3 × 50,000 pods this took the peak from
                    // 251–292 MB to 230–237 MB (benches/README.md).
                    let _normalizing = normalizing.acquire_owned().await;
                    let finished = tokio::task::spawn_blocking(move || finish(&name, collected))
                        .await
                        .unwrap_or_else(|e| {
                            Err(Error::internal(format!("collecting failed: {e}")))
                        });
                    (i, finished)
                }
                .instrument(span),
            );
        }
        let mut out: Vec<Option<Result<T>>> = settings.envs.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, r)) => out[i] = Some(r),
                Err(e) => return Err(Error::internal(format!("collecting failed: {e}"))),
            }
        }
        Ok(out)
    })?;
    tracing::info!(
        environments = settings.envs.len(),
        elapsed = ?started.elapsed(),
        "all environments collected"
    );
    settings
        .envs
        .iter()
        .zip(results)
        .map(|((name, _), r)| {
            let r =
                r.ok_or_else(|| Error::internal(format!("environment {name} was not collected")))?;
            r.map(|c| (name.clone(), c)).map_err(|e| match e {
                Error::Input(mut d) => {
                    d.message = format!("{} (environment {name})", d.message);
                    Error::Input(d)
                }
                other => other,
            })
        })
        .collect()
}

pub fn normalize_all(
    settings: &Settings,
    key: &FingerprintKey,
    collected: &[(String, Collected)],
) -> Result<Vec<Inventory>> {
    let opts = Options::new(&settings.flag_patterns, &settings.flag_configmaps, key.id())?;
    collected
        .iter()
        .map(|(name, c)| {
            let opts = match settings.renames.get(name) {
                Some(r) => opts.clone().with_renames(r)?,
                None => opts.clone(),
            };
            Ok(normalize::normalize(name, c, &opts))
        })
        .collect::<Result<Vec<_>>>()
        .and_then(|mut invs| {
            normalize::align_runtime(&mut invs);
            normalize::lineup::line_up(&mut invs, &settings.baseline()?, settings.line_up);
            Ok(invs)
        })
}

/// `confdrift audit`.
///
/// `today` is the run's one clock: it decides which waivers have expired.
pub fn audit(
    settings: &Settings,
    key: &FingerprintKey,
    today: Date,
    progress: &dyn ShowProgress,
) -> Result<Audit> {
    let baseline = settings.baseline()?;
    // A broken policy stops the run before any environment is read.
    let policy = load_policies(&settings.policies, today)?;
    let started = Instant::now();
    let inventories = collect_normalized(settings, key, progress)?;
    tracing::info!(
        environments = inventories.len(),
        workloads = inventories.iter().map(|i| i.workloads.len()).sum::<usize>(),
        entries = inventories.iter().map(|i| i.entries.len()).sum::<usize>(),
        elapsed = ?started.elapsed(),
        "collected and normalized"
    );
    let started = Instant::now();
    let comparison = compare::compare(&inventories, &baseline);
    tracing::info!(
        deltas = comparison.deltas.len(),
        absences = comparison.absences.len(),
        elapsed = ?started.elapsed(),
        "compared"
    );
    let started = Instant::now();
    let evaluation = evaluate::evaluate(&comparison, &inventories, &policy, today);
    let report = Report::from_evaluation(&baseline, &inventories, evaluation);
    tracing::info!(
        findings = report.findings.len(),
        critical = report.summary.critical,
        warning = report.summary.warning,
        info = report.summary.info,
        elapsed = ?started.elapsed(),
        "evaluated"
    );
    Ok(Audit {
        inventories,
        comparison,
        report,
    })
}

/// The deploy gate: `candidate` (an environment of `settings`) is the next
/// version of `target`. Every environment is read once; the policy is
/// evaluated on the environments as they are today (without the candidate)
/// and as they will be after it is applied to `target`
/// ([`normalize::apply`]). The report holds the findings of after the
/// deploy, each marked new or already there, what the deploy resolves, and
/// what it changes in `target`.
pub fn deploy_gate(
    settings: &Settings,
    key: &FingerprintKey,
    today: Date,
    target: &str,
    candidate: &str,
    fail_on_existing: bool,
    progress: &dyn ShowProgress,
) -> Result<Audit> {
    let baseline = settings.baseline()?;
    let policy = load_policies(&settings.policies, today)?;
    let mut collected = collect_all(settings, key, progress)?;
    let c = collected
        .iter()
        .position(|(n, _)| n == candidate)
        .ok_or_else(|| Error::internal(format!("no candidate environment {candidate}")))?;
    let (_, candidate_objects) = collected.remove(c);
    let t = collected
        .iter()
        .position(|(n, _)| n == target)
        .ok_or_else(|| Error::Usage(format!("--against {target}: no such environment")))?;
    let after_target = normalize::apply::apply(&collected[t].1, &candidate_objects);
    drop(candidate_objects);

    let opts = Options::new(&settings.flag_patterns, &settings.flag_configmaps, key.id())?;
    let options_for = |name: &str| -> Result<Options> {
        match settings.renames.get(name) {
            Some(r) => opts.clone().with_renames(r),
            None => Ok(opts.clone()),
        }
    };
    let mut before = Vec::new();
    for (name, c) in &collected {
        before.push(normalize::normalize(name, c, &options_for(name)?));
    }
    let mut after = before.clone();
    after[t] = normalize::normalize(target, &after_target, &options_for(target)?);
    drop(collected);
    drop(after_target);

    let evaluate_world = |mut invs: Vec<Inventory>| -> (Vec<Inventory>, Comparison, Report) {
        normalize::align_runtime(&mut invs);
        normalize::lineup::line_up(&mut invs, &baseline, settings.line_up);
        let comparison = compare::compare(&invs, &baseline);
        let evaluation = evaluate::evaluate(&comparison, &invs, &policy, today);
        let report = Report::from_evaluation(&baseline, &invs, evaluation);
        (invs, comparison, report)
    };
    let (before, _, today_report) = evaluate_world(before);
    let (after, comparison, mut report) = evaluate_world(after);

    // What the deploy changes in the target: the target today against the
    // target after, under the names the comparison uses.
    let mut today_target = before[t].clone();
    let mut after_target = after[t].clone();
    today_target.env = target.to_string();
    after_target.env = candidate.to_string();
    let change_cmp = compare::compare(&[today_target, after_target], target);
    let (changes, watched) = evaluate::deploy_changes(&change_cmp, &policy);

    let existing: std::collections::BTreeSet<String> = today_report
        .findings
        .iter()
        .map(crate::report::finding_identity)
        .collect();
    let after_ids: std::collections::BTreeSet<String> = report
        .findings
        .iter()
        .map(crate::report::finding_identity)
        .collect();
    let resolved = today_report
        .findings
        .into_iter()
        .filter(|f| !after_ids.contains(&crate::report::finding_identity(f)))
        .collect();
    report.findings.extend(watched);
    evaluate::sort_findings(&mut report.findings);
    report.summary = evaluate::summarize(&report.findings);
    let candidate_source = settings
        .envs
        .iter()
        .find(|(n, _)| n == candidate)
        .map(|(_, s)| s.describe())
        .unwrap_or_default();
    report.deploy = Some(crate::report::DeployView {
        target: target.to_string(),
        candidate: candidate_source,
        existing,
        resolved,
        changes,
        fail_on_existing,
    });
    tracing::info!(
        changes = report.deploy.as_ref().map_or(0, |d| d.changes.len()),
        findings = report.findings.len(),
        "deploy gate evaluated"
    );
    Ok(Audit {
        inventories: after,
        comparison,
        report,
    })
}

/// Reads and merges the policy files; any error stops the run (exit 2) with
/// every problem listed, each with file:line:column.
pub fn load_policies(paths: &[std::path::PathBuf], today: Date) -> Result<PolicySet> {
    let started = Instant::now();
    let loaded = policy::load(paths, today);
    tracing::info!(
        paths = paths.len(),
        files = loaded.set.files.len(),
        rules = loaded.set.rules.len(),
        waivers = loaded.set.waivers.len(),
        errors = loaded.errors(),
        warnings = loaded.diagnostics.len() - loaded.errors(),
        elapsed = ?started.elapsed(),
        "policies loaded"
    );
    if loaded.errors() > 0 {
        return Err(Error::Usage(format!(
            "invalid policy ({} error(s)); run `confdrift policy lint` for details:\n{}",
            loaded.errors(),
            loaded.render(Some(policy::Level::Error)).trim_end()
        )));
    }
    Ok(loaded.set)
}

/// `confdrift snapshot`: one environment, as a snapshot document stamped
/// with `now` (the one clock), the confdrift version and, for a live
/// source, its context and namespaces.
pub fn snapshot(
    name: &str,
    source: &collect::Source,
    key: &FingerprintKey,
    now: jiff::Timestamp,
    progress: &dyn ShowProgress,
) -> Result<Snapshot> {
    let settings = Settings {
        envs: vec![(name.to_string(), source.clone())],
        ..Settings::default()
    };
    let mut collected = collect_all(&settings, key, progress)?;
    let (_, collected) = collected.pop().expect("one environment was collected");
    let (context, namespaces) = match source {
        collect::Source::Kube(t) => (
            Some(t.context.clone().unwrap_or_else(|| "current".into())),
            t.namespaces.clone(),
        ),
        _ => (None, Vec::new()),
    };
    let mut snapshot = Snapshot::new(name, collected);
    snapshot.taken = Some(collect::snapshot::Taken {
        time: now.to_string(),
        confdrift_version: env!("CARGO_PKG_VERSION").to_string(),
        context,
        namespaces,
    });
    Ok(snapshot)
}

/// Saves a snapshot to a file (atomically) or an object storage URL (see
/// [`collect::object::write`]); returns where it went.
pub fn save_snapshot(snapshot: Snapshot, output: &str) -> Result<String> {
    if !crate::collect::objstore::is_url(output) {
        let path = std::path::Path::new(output);
        crate::fsio::write_atomic_with(path, |w| snapshot.write_json(w))
            .map_err(|e| Error::io(&e.path, e.source))?;
        return Ok(path.display().to_string());
    }
    let url = crate::collect::objstore::ObjectUrl::parse(output)?;
    let object = block_on(collect::object::write(snapshot, &url))??;
    Ok(object.to_string())
}

/// Runs one future to completion on a runtime of its own (the commands
/// are synchronous; only I/O is async).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("<async runtime>", e))?;
    Ok(runtime.block_on(future))
}

/// The object storage URL a path argument names, if it names one.
/// `file://` URLs are plain paths here (the history and reports on a local
/// disk keep their own atomic writes), so they are `None`.
fn object_url(path: &std::path::Path) -> Result<Option<crate::collect::objstore::ObjectUrl>> {
    match path.to_str() {
        Some(s) if crate::collect::objstore::is_url(s) && !s.starts_with("file://") => {
            crate::collect::objstore::ObjectUrl::parse(s).map(Some)
        }
        _ => Ok(None),
    }
}

/// `file:///x/y` as the path `/x/y`; any other path as it is.
fn local_path(path: &std::path::Path) -> std::path::PathBuf {
    match path.to_str().and_then(|s| s.strip_prefix("file://")) {
        Some(rest) => std::path::PathBuf::from(rest),
        None => path.to_path_buf(),
    }
}

/// Writes a report to a file (atomically, [`crate::fsio::write_atomic`]) or to an
/// object storage URL (one PUT: the object appears whole or not at all).
pub fn write_output(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    let path = &local_path(path);
    let Some(url) = object_url(path)? else {
        return write_atomic(path, contents);
    };
    if url.is_prefix() {
        return Err(Error::Usage(format!(
            "{url}: a report is one object; give its name, e.g. {}",
            url.join("report.html")
        )));
    }
    block_on(async {
        let store = crate::collect::objstore::open(&url)?;
        crate::collect::objstore::put_small(store.as_ref(), &url, contents.to_vec()).await
    })?
    .map_err(|f| Error::Usage(format!("cannot write the report: {}", f.describe(&url))))
}

/// [`crate::fsio::write_atomic`], its error as the run's.
fn write_atomic(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    crate::fsio::write_atomic(path, contents).map_err(|e| Error::io(e.path, e.source))
}

/// The result of the nightly `report` run.
pub struct Nightly {
    /// The JSON report, with `run` and `history` added.
    pub json: crate::report::json::JsonReport,
    pub report: Report,
    pub changes: crate::history::Changes,
}

/// `confdrift report --history DIR`: audit, compare with the previous run
/// stored in `dir`, store this run, and return the annotated report. The
/// history is locked for the duration, and written report file first,
/// index last, each atomically: a run that fails leaves it as it was.
pub fn nightly(
    settings: &Settings,
    key: &FingerprintKey,
    today: Date,
    now: &str,
    dir: &std::path::Path,
    progress: &dyn ShowProgress,
) -> Result<Nightly> {
    if let Some(url) = object_url(dir)? {
        return nightly_in_object_store(settings, key, today, now, &url, progress);
    }
    let history = crate::history::History::open(&local_path(dir))?;
    let _lock = history.lock(now)?;
    let audit = audit(settings, key, today, progress)?;
    let mut json = crate::report::json::to_wire(&audit.report);
    json.run = Some(crate::report::json::JsonRun {
        time: now.to_string(),
    });
    let (index, problems) = history.load();
    let file = history.next_run_file(now, &index);
    let (next, mut changes) = crate::history::advance(&index, &json, now, &file);
    tracing::info!(
        new = changes.new,
        persisting = changes.persisting,
        resolved = changes.resolved.len(),
        runs = next.runs.len(),
        "compared with the previous run"
    );
    changes.problems = problems;
    history.store(&json, &next, &file)?;
    crate::history::annotate(&mut json, &next, &changes, now);
    Ok(Nightly {
        json,
        report: audit.report,
        changes,
    })
}

/// [`nightly`] with the history in object storage: no lock, conditional
/// writes instead ([`crate::history::object`]).
fn nightly_in_object_store(
    settings: &Settings,
    key: &FingerprintKey,
    today: Date,
    now: &str,
    url: &crate::collect::objstore::ObjectUrl,
    progress: &dyn ShowProgress,
) -> Result<Nightly> {
    let url = if url.is_prefix() {
        url.clone()
    } else {
        crate::collect::objstore::ObjectUrl::parse(&format!("{url}/"))?
    };
    let audit = audit(settings, key, today, progress)?;
    let mut json = crate::report::json::to_wire(&audit.report);
    json.run = Some(crate::report::json::JsonRun {
        time: now.to_string(),
    });
    let (next, changes) = block_on(crate::history::object::record(&url, &json, now))??;
    tracing::info!(
        new = changes.new,
        persisting = changes.persisting,
        resolved = changes.resolved.len(),
        runs = next.runs.len(),
        "compared with the previous run"
    );
    crate::history::annotate(&mut json, &next, &changes, now);
    Ok(Nightly {
        json,
        report: audit.report,
        changes,
    })
}
