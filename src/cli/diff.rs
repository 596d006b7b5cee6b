//! `confdrift diff A B`: what differs between two environments.

use std::io::IsTerminal;

use super::args::DiffArgs;
use super::output::{emit, render_options};
use super::progress::Bars;
use super::today;
use crate::app;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::report::{self, exit};

/// `confdrift diff`: exit 3 when either side is incomplete, 1 with
/// `--exit-code` when anything differs, else 0.
pub(super) fn run(args: DiffArgs, key: &FingerprintKey) -> Result<i32> {
    let DiffArgs {
        pair,
        envs,
        all,
        exit_code,
        workload,
        key: key_glob,
        baseline,
        policies,
    } = args;
    let mut settings = envs.settings()?;
    if !policies.is_empty() {
        settings.policies = policies;
    }
    let names = settings.env_names();
    let (a, b) = match pair.as_slice() {
        [a, b] => (a.clone(), b.clone()),
        [] if names.len() == 2 => (names[0].clone(), names[1].clone()),
        _ => {
            return Err(Error::Usage(format!(
                "diff needs two environments: confdrift diff ENV_A ENV_B (configured: {})",
                names.join(", ")
            )));
        }
    };
    let mut chosen = Vec::new();
    for n in [&a, &b] {
        let Some(found) = settings.envs.iter().find(|(name, _)| name == n) else {
            return Err(Error::Usage(format!(
                "unknown environment {n} (configured: {})",
                names.join(", ")
            )));
        };
        chosen.push(found.clone());
    }
    settings.baseline = Some(diff_baseline(
        baseline.as_deref(),
        settings.baseline.as_deref(),
        &chosen,
        &settings.envs,
    )?);
    settings.envs = chosen;
    let filter = report::diff::Filter::new(workload.as_deref(), key_glob.as_deref())?;
    let mut audit = app::audit(&settings, key, today()?, &Bars::for_stderr())?;
    filter.check(&audit.inventories)?;
    audit.report.findings.retain(|f| filter.keeps(f));
    let options = render_options(std::io::stdout().is_terminal());
    let mut buf = Vec::new();
    report::diff::render(&audit.report, options, &mut buf).map_err(|e| Error::io("<diff>", e))?;
    if all {
        let equal = report::diff::equal_entries(&audit.inventories, &filter);
        report::diff::render_equal(&equal, options, &mut buf)
            .map_err(|e| Error::io("<diff>", e))?;
    }
    emit(None, &buf)?;
    let differs = report::diff::difference_count(&audit.report) > 0;
    Ok(if !audit.report.complete() {
        exit::INCOMPLETE
    } else if exit_code && differs {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// The baseline of `diff A B`, as in `audit`: `--baseline` (one of the
/// two), else the configured baseline when it is one of the two, else the
/// one of them configured last (audit's default is the last environment).
fn diff_baseline(
    given: Option<&str>,
    configured: Option<&str>,
    chosen: &[(String, impl Sized)],
    all: &[(String, impl Sized)],
) -> Result<String> {
    let in_pair = |n: &str| chosen.iter().any(|(c, _)| c == n);
    if let Some(b) = given {
        if !in_pair(b) {
            return Err(Error::Usage(format!(
                "--baseline {} is not one of the two environments compared ({})",
                crate::report::visible(b),
                crate::report::visible(
                    &chosen
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )));
        }
        return Ok(b.to_string());
    }
    if let Some(b) = configured.filter(|b| in_pair(b)) {
        return Ok(b.to_string());
    }
    all.iter()
        .rev()
        .find(|(n, _)| in_pair(n))
        .map(|(n, _)| n.clone())
        .ok_or_else(|| Error::Usage("diff needs two environments".into()))
}
