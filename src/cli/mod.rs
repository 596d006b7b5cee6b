//! The command line: the only place that knows clap. It turns arguments into
//! plain [`Settings`](crate::config::Settings), calls the library, prints,
//! and returns the exit code. One file per command; `args` is clap's view
//! of the arguments, `output` where the results go.

use std::io::IsTerminal;

use crate::app;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::policy::Date;
use crate::report::{self, Style, exit};

mod args;
mod audit;
mod diff;
mod lint;
mod logging;
mod output;

pub use args::Cli;
use args::{Command, NightlyFormat, PolicyCommand};
use audit::{CANDIDATE, audit_outputs, with_candidate};
use diff::diff_baseline;
use lint::lint;
use output::{emit, style_for};

/// The one clock: `CONFDRIFT_NOW` (RFC 3339, or a date meaning its
/// midnight UTC) when set — tests, replays —, else the system time. Waiver
/// expiry uses its date (`CONFDRIFT_TODAY=YYYY-MM-DD` overrides just that);
/// the nightly history stamps runs with it.
pub const NOW_ENV: &str = crate::clock::NOW_ENV;
pub const TODAY_ENV: &str = "CONFDRIFT_TODAY";

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    logging::init(cli.verbose);
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            // An error can quote input (a key, a path, a policy's text):
            // escapes and bidi overrides in it are written out, not obeyed.
            eprintln!(
                "confdrift: error: {}",
                crate::report::visible_lines(&e.to_string())
            );
            exit::USAGE
        }
    }
}

fn execute(cli: Cli) -> Result<i32> {
    let key = FingerprintKey::from_env();
    match cli.command {
        Command::Audit {
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
        } => {
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
                    &key,
                    today()?,
                    target,
                    CANDIDATE,
                    fail_on_existing,
                )?,
                _ => app::audit(&settings, &key, today()?)?,
            };
            // Everything is rendered before anything is written.
            let mut rendered = Vec::new();
            for (format, output) in outputs {
                let to_terminal = output.is_none() && std::io::stdout().is_terminal();
                let style = Style {
                    fail_on: fail_on.into(),
                    allow_partial,
                    max_length: max_length.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                    ..style_for(to_terminal)
                };
                let mut buf = Vec::new();
                report::render(&audit.report, format.into(), style, &mut buf)
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
        Command::Diff {
            pair,
            envs,
            all,
            exit_code,
            workload,
            key: key_glob,
            baseline,
            policies,
        } => {
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
            let mut audit = app::audit(&settings, &key, today()?)?;
            filter.check(&audit.inventories)?;
            audit.report.findings.retain(|f| filter.keeps(f));
            let style = style_for(std::io::stdout().is_terminal());
            let mut buf = Vec::new();
            report::diff::render(&audit.report, style, &mut buf)
                .map_err(|e| Error::io("<diff>", e))?;
            if all {
                let equal = report::diff::equal_entries(&audit.inventories, &filter);
                report::diff::render_equal(&equal, style, &mut buf)
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
        Command::Report {
            envs,
            history,
            baseline,
            policies,
            format,
            output,
            reports,
            fail_on,
            allow_partial,
        } => {
            let mut settings = envs.settings()?;
            if baseline.is_some() {
                settings.baseline = baseline;
            }
            if !policies.is_empty() {
                settings.policies = policies;
            }
            let now = now()?;
            let run = app::nightly(&settings, &key, today()?, &now.to_string(), &history)?;
            let mut outputs = vec![(format, output)];
            outputs.extend(reports.into_iter().map(|(f, p)| (f, Some(p))));
            for (format, output) in outputs {
                let mut buf = Vec::new();
                match format {
                    NightlyFormat::Json => {
                        serde_json::to_writer_pretty(&mut buf, &run.json)
                            .map_err(|e| Error::Usage(e.to_string()))?;
                        buf.push(b'\n');
                    }
                    NightlyFormat::Html => report::html::render(&run.json, &mut buf)
                        .map_err(|e| Error::io("<report>", e))?,
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
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "confdrift",
                &mut buf,
            );
            emit(None, &buf)?;
            Ok(exit::OK)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut buf)
                .map_err(|e| Error::io("<man>", e))?;
            emit(None, &buf)?;
            Ok(exit::OK)
        }
        Command::Snapshot { envs, output } => {
            let settings = envs.settings()?;
            let [(name, source)] = settings.envs.as_slice() else {
                return Err(Error::Usage(format!(
                    "snapshot takes exactly one environment (--env NAME=SOURCE); got {}",
                    settings.envs.len()
                )));
            };
            if !key.stable {
                eprintln!(
                    "confdrift: warning: {} is not set; the snapshot's Secret fingerprints use a \
                     one-off key and cannot be compared with other runs",
                    crate::fingerprint::KEY_ENV
                );
            }
            let snapshot = app::snapshot(name, source, &key, now()?)?;
            let written = app::save_snapshot(snapshot, &output)?;
            eprintln!("confdrift: wrote snapshot of {name} to {written}");
            Ok(exit::OK)
        }
        Command::Policy {
            command: PolicyCommand::Lint { paths },
        } => lint(paths),
    }
}

/// Now, from `CONFDRIFT_NOW` or the system clock, to the second.
pub(super) fn now() -> Result<jiff::Timestamp> {
    crate::clock::now().map_err(Error::Usage)
}

/// Today's date by the one clock (see [`TODAY_ENV`]).
pub(super) fn today() -> Result<Date> {
    match std::env::var(TODAY_ENV) {
        Ok(s) if !s.is_empty() => Date::parse(&s)
            .ok_or_else(|| Error::Usage(format!("{TODAY_ENV}={s}: expected a date as YYYY-MM-DD"))),
        _ => match std::env::var(NOW_ENV) {
            Ok(s) if !s.is_empty() => {
                let d = now()?.to_zoned(jiff::tz::TimeZone::UTC).date();
                Date::parse(&d.to_string())
                    .ok_or_else(|| Error::Usage(format!("{NOW_ENV}: bad date")))
            }
            _ => Ok(Date::system_today()),
        },
    }
}
