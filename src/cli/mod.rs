//! The command line: the only place that knows clap. It turns arguments into
//! plain [`Settings`](crate::config::Settings), calls the library, prints,
//! and returns the exit code. One file per command; `args` is clap's view
//! of the arguments, `output` where the results go, `progress` the bars of
//! live collections. It never collects, compares or judges anything itself:
//! what a command finds is the library's (`app`), so the tests can call it.

use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::policy::Date;
use crate::report::exit;

mod args;
mod audit;
mod diff;
mod lint;
mod logging;
mod output;
mod progress;
mod report;
mod snapshot;

pub use args::Cli;
use args::{Command, PolicyCommand};
use output::emit;

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
                crate::report::visible_lines(&e.report())
            );
            exit::USAGE
        }
    }
}

fn execute(cli: Cli) -> Result<i32> {
    let key = FingerprintKey::from_env();
    match cli.command {
        Command::Audit(args) => audit::run(args, &key),
        Command::Diff(args) => diff::run(args, &key),
        Command::Report(args) => report::run(args, &key),
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
        Command::Snapshot(args) => snapshot::run(args, &key),
        Command::Policy {
            command: PolicyCommand::Lint { paths },
        } => lint::run(paths),
    }
}

/// `confdrift completions SHELL`.
fn completions(shell: clap_complete::Shell) -> Result<i32> {
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

/// `confdrift man`.
fn man() -> Result<i32> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut buf)
        .map_err(|e| Error::io("<man>", e))?;
    emit(None, &buf)?;
    Ok(exit::OK)
}

/// Now, from `CONFDRIFT_NOW` or the system clock, to the second.
pub(super) fn now() -> Result<jiff::Timestamp> {
    crate::clock::now().map_err(Error::Usage)
}

/// Today's date by the one clock (see [`TODAY_ENV`]).
pub(super) fn today() -> Result<Date> {
    match std::env::var(TODAY_ENV) {
        Ok(s) if !s.is_empty() => crate::policy::date::parse(&s)
            .ok_or_else(|| Error::Usage(format!("{TODAY_ENV}={s}: expected a date as YYYY-MM-DD"))),
        _ => match std::env::var(NOW_ENV) {
            Ok(s) if !s.is_empty() => Ok(now()?.to_zoned(jiff::tz::TimeZone::UTC).date()),
            _ => Ok(crate::policy::date::system_today()),
        },
    }
}
