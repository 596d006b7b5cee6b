//! `confdrift audit`: the audit of every environment, or the deploy gate
//! of a candidate (`--candidate`), rendered in every format asked for.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{AuditArgs, FormatArg};
use super::output::{emit, render_options};
use super::progress::Bars;
use super::today;
use crate::app;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::report::{self, RenderOptions};

/// `confdrift audit`: every report is rendered before any is written, so a
/// failing format leaves no half of the outputs behind.
pub(super) fn run(args: AuditArgs, key: &FingerprintKey) -> Result<i32> {
    let AuditArgs {
        envs,
        baseline,
        format,
        output,
        reports,
        max_length,
        fail_on,
        allow_partial,
        policies,
        candidate,
        against,
        fail_on_existing,
    } = args;
    let outputs = audit_outputs(format, output, reports, max_length.is_some())?;
    let mut settings = envs.settings()?;
    if let Some(path) = &candidate {
        with_candidate(&mut settings, path, &against)?;
    }
    if baseline.is_some() {
        settings.baseline = baseline;
    }
    if !policies.is_empty() {
        settings.policies = policies;
    }
    let audit = match (&candidate, against.first()) {
        (Some(_), Some(target)) => app::deploy_gate(
            &settings,
            key,
            today()?,
            target,
            CANDIDATE,
            fail_on_existing,
            &Bars::for_stderr(),
        )?,
        _ => app::audit(&settings, key, today()?, &Bars::for_stderr())?,
    };
    // Everything is rendered before anything is written.
    let mut rendered = Vec::new();
    for (format, output) in outputs {
        let to_terminal = output.is_none() && std::io::stdout().is_terminal();
        let options = RenderOptions {
            fail_on: fail_on.into(),
            allow_partial,
            max_length: max_length.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            ..render_options(to_terminal)
        };
        let mut buf = Vec::new();
        report::render(&audit.report, format.into(), options, &mut buf)
            .map_err(|e| Error::io("<report>", e))?;
        rendered.push((output, buf));
    }
    for (output, buf) in &rendered {
        emit(output.as_deref(), buf)?;
    }
    Ok(report::exit_code(
        &audit.report,
        fail_on.into(),
        allow_partial,
    ))
}

/// The reports of one `audit` run: `--format`/`--output` (if either is
/// given) and every `--report`; a table on standard output when none is.
fn audit_outputs(
    format: Option<FormatArg>,
    output: Option<PathBuf>,
    reports: Vec<(FormatArg, Option<PathBuf>)>,
    max_length: bool,
) -> Result<Vec<(FormatArg, Option<PathBuf>)>> {
    let mut outputs = Vec::new();
    if format.is_some() || output.is_some() || reports.is_empty() {
        outputs.push((format.unwrap_or(FormatArg::Table), output));
    }
    outputs.extend(reports);
    if outputs.iter().filter(|(_, o)| o.is_none()).count() > 1 {
        return Err(Error::Usage(
            "more than one report would go to standard output: give all but one a file (--report FORMAT=FILE, or --output FILE for --format)".into(),
        ));
    }
    let mut files = std::collections::BTreeSet::new();
    for (_, o) in &outputs {
        if let Some(path) = o
            && !files.insert(path)
        {
            return Err(Error::Usage(format!(
                "{} is the output of two reports",
                path.display()
            )));
        }
    }
    if max_length && !outputs.iter().any(|(f, _)| *f == FormatArg::Markdown) {
        return Err(Error::Usage(
            "--max-length applies to markdown output; add --format markdown or --report markdown=FILE".into(),
        ));
    }
    Ok(outputs)
}

/// The environment name `--candidate` reads its source as.
const CANDIDATE: &str = "candidate";

/// `--candidate PATH --against NAME[,NAME]`: the candidate, as environment
/// `candidate`, compared with the named configured environments only; the
/// first of them is the baseline (unless --baseline says otherwise).
fn with_candidate(settings: &mut Settings, path: &str, against: &[String]) -> Result<()> {
    let names = settings.env_names();
    if names.iter().any(|n| n == CANDIDATE) {
        return Err(Error::Usage(
            "--candidate adds an environment named `candidate`, but one is already configured; rename it or use --env NAME=SOURCE".into(),
        ));
    }
    let mut chosen = Vec::new();
    for name in against {
        let Some(found) = settings.envs.iter().find(|(n, _)| n == name) else {
            return Err(Error::Usage(format!(
                "--against {name}: no such environment (configured: {})",
                if names.is_empty() {
                    "none; give --config FILE or --env NAME=SOURCE".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        if !chosen.iter().any(|(n, _): &(String, _)| n == name) {
            chosen.push(found.clone());
        }
    }
    let source = crate::collect::Source::parse(path)
        .map_err(|e| Error::Usage(format!("--candidate {path}: {e}")))?;
    chosen.push((CANDIDATE.to_string(), source));
    settings.envs = chosen;
    settings.baseline = against.first().cloned();
    Ok(())
}
