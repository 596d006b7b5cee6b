//! `confdrift report --history DIR`: the nightly audit, kept in a history,
//! rendered in the nightly formats (Markdown, JSON, HTML, Prometheus).

use super::args::{NightlyFormat, ReportArgs};
use super::output::emit;
use super::progress::Bars;
use super::{now, today};
use crate::app;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::report;

/// `confdrift report`: the exit code is the audit's, as for `audit`.
pub(super) fn run(args: ReportArgs, key: &FingerprintKey) -> Result<i32> {
    let ReportArgs {
        envs,
        history,
        baseline,
        policies,
        format,
        output,
        reports,
        fail_on,
        allow_partial,
    } = args;
    let mut settings = envs.settings()?;
    if baseline.is_some() {
        settings.baseline = baseline;
    }
    if !policies.is_empty() {
        settings.policies = policies;
    }
    let now = now()?;
    let run = app::nightly(
        &settings,
        key,
        today()?,
        &now.to_string(),
        &history,
        &Bars::for_stderr(),
    )?;
    let mut outputs = vec![(format, output)];
    outputs.extend(reports.into_iter().map(|(f, p)| (f, Some(p))));
    for (format, output) in outputs {
        let mut buf = Vec::new();
        match format {
            NightlyFormat::Json => {
                buf = report::json::to_sorted_string(&run.json)
                    .map_err(|e| Error::internal(format!("the report does not serialize: {e}")))?
                    .into_bytes();
            }
            NightlyFormat::Html => {
                report::html::render(&run.json, &mut buf).map_err(|e| Error::io("<report>", e))?
            }
            NightlyFormat::Prometheus => {
                report::prometheus::render(&run.json, now.as_second(), &mut buf)
                    .map_err(|e| Error::io("<report>", e))?
            }
            NightlyFormat::Markdown => report::nightly::render(&run.json, &mut buf)
                .map_err(|e| Error::io("<report>", e))?,
        }
        emit(output.as_deref(), &buf)?;
    }
    Ok(report::exit_code(
        &run.report,
        fail_on.into(),
        allow_partial,
    ))
}
