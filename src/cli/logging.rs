//! Diagnostics for operators on standard error (`RUST_LOG`, `-v`): what was
//! read, every API request and exec, how long each stage took. Off unless
//! asked for, so that standard error stays what the tests and users expect;
//! never on standard output, which carries the reports.
//!
//! A log line must never hold a value: confdrift's own events carry names,
//! counts, paths, sizes, statuses and durations only, and dependencies are
//! held back by [`may_be_logged`] whatever `RUST_LOG` asks for.

use std::io::IsTerminal;

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, fmt};

/// The directives of `-v`, `-vv`, `-vvv`: confdrift's own events only.
fn verbosity_directives(verbose: u8) -> Option<&'static str> {
    match verbose {
        0 => None,
        1 => Some("confdrift=info"),
        2 => Some("confdrift=debug"),
        _ => Some("confdrift=trace"),
    }
}

/// Dependency targets that may log at all, and up to which level; any other
/// target outside confdrift is dropped, whatever `RUST_LOG` says.
///
/// Why an allow-list and not "dependencies up to debug" (kube 5, seen at
/// `RUST_LOG=trace` against the tests' API server, and read in the sources):
/// - tungstenite (through `log`) prints every WebSocket frame, as text and as
///   hex, at `trace`: the `env` output of `--runtime-env`, Secret values and
///   all. `log` is not bridged today, but one feature flag would bridge it;
/// - kube-client logs the body of a failed response at `debug`
///   (`Unsuccessful data error parse: {body}`, on the exec path too) and a
///   whole response body at `warn` when it does not deserialize
///   (`Client::request*`, behind every typed `Api` list: a Secret list);
/// - kube-client's request span carries the full URL, continue token and
///   label selector included, and it logs `ERROR failed with status 500` for
///   each 5xx that confdrift retries and reports on its own;
/// - hyper-util, tower and rustls log connection and buffer internals.
///
/// What is on the list was read line by line: it names settings and files,
/// never a payload. confdrift's own events say, for every request, method,
/// path, status, attempt and duration.
const DEPENDENCIES: &[(&str, Level)] = &[
    // Impersonation and cluster URL overrides from the kubeconfig.
    ("kube_client::config", Level::WARN),
    // A CA bundle that failed to reload; certificate checks switched off.
    ("kube_client::client::tls", Level::WARN),
];

fn is_confdrift(target: &str) -> bool {
    target == "confdrift" || target.starts_with("confdrift::")
}

/// Whether an event or span may be logged at all, before `RUST_LOG` is
/// asked: confdrift's own always, a dependency's only as [`DEPENDENCIES`]
/// allows.
pub(crate) fn may_be_logged(meta: &Metadata<'_>) -> bool {
    may_log(meta.target(), *meta.level())
}

fn may_log(target: &str, level: Level) -> bool {
    is_confdrift(target)
        || DEPENDENCIES.iter().any(|(prefix, max)| {
            let within = target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
            within && level <= *max
        })
}

/// Installs the logger when `RUST_LOG` (which wins) or `-v` asks for one;
/// otherwise installs nothing, and standard error is exactly as without
/// logging.
///
/// `log` records (rustls, tungstenite) are deliberately not bridged: the
/// subscriber is set with `set_global_default`, not `try_init`, which would
/// install a `LogTracer` if a dependency ever turned on `tracing-log`.
pub(crate) fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let directives = match (&from_env, verbosity_directives(verbose)) {
        (Some(env), _) => env.as_str(),
        (None, Some(v)) => v,
        (None, None) => return,
    };
    let filter = match EnvFilter::builder()
        .with_default_directive(LevelFilter::OFF.into())
        .parse(directives)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("confdrift: warning: RUST_LOG={directives}: {e}; logging is off");
            return;
        }
    };
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_filter(filter_fn(may_be_logged).and(filter));
    let subscriber = tracing_subscriber::registry().with(layer);
    // Only fails when a logger is already installed (tests calling `run`
    // twice in one process); the first one stays.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confdrift_logs_at_every_level_and_dependencies_only_as_allowed() {
        for level in [Level::TRACE, Level::DEBUG, Level::ERROR] {
            assert!(may_log("confdrift", level));
            assert!(may_log("confdrift::collect::kube", level));
        }
        assert!(!may_log("confdriftx", Level::ERROR));
        assert!(may_log("kube_client::config", Level::WARN));
        assert!(!may_log("kube_client::config", Level::INFO));
        // Bodies of failed responses, request spans with continue tokens,
        // WebSocket frames, TLS: never.
        for target in [
            "kube_client::client",
            "kube_client::client::builder",
            "kube_client::configx",
            "tower_http::trace::on_response",
            "hyper_util::client::legacy::pool",
            "tungstenite::protocol::frame",
            "tokio_tungstenite",
            "rustls::client::hs",
        ] {
            for level in [Level::ERROR, Level::WARN, Level::DEBUG, Level::TRACE] {
                assert!(!may_log(target, level), "{target} at {level}");
            }
        }
    }

    #[test]
    fn verbosity_is_for_confdrift_only() {
        assert_eq!(verbosity_directives(0), None);
        assert_eq!(verbosity_directives(1), Some("confdrift=info"));
        assert_eq!(verbosity_directives(2), Some("confdrift=debug"));
        assert_eq!(verbosity_directives(7), Some("confdrift=trace"));
    }
}
