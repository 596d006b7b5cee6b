//! The errors that stop a run. Problems that let the run go on are not
//! errors: they are [`crate::model::Problem`]s in the report.
//!
//! `Input`, `Io` and `Usage` are the user's to fix (exit code 2, as
//! DESIGN.md has it); `Internal` is confdrift's own failure, which exits 2
//! too (the contract has no other code for it) but says it is a bug and
//! where to report it.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to do about a bug in confdrift: where to report it (the package's
/// repository, when Cargo.toml names one) and with what.
fn report_a_bug() -> String {
    let to = match env!("CARGO_PKG_REPOSITORY") {
        "" => "to confdrift's maintainers".to_string(),
        repo => format!("at {repo}/issues"),
    };
    format!(
        "this is a bug in confdrift, not in your input or configuration; please report it \
         {to} with the command you ran and the output of `confdrift --version`"
    )
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file a user wrote (a manifest, `confdrift.yaml`, a policy) that
    /// cannot be read as it is, or holds an object Kubernetes would reject:
    /// where, what, and the offending line.
    #[error("{}", .0.as_error())]
    Input(Box<Diagnostic>),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A bad `confdrift.yaml`, flag combination or argument.
    #[error("{0}")]
    Usage(String),

    /// A failure that is not the user's: a bug in confdrift, or a state it
    /// believed impossible.
    #[error("internal error: {message}\n  {}", report_a_bug(), message = .0)]
    Internal(String),
}

impl Error {
    /// An input error at `FILE`, `FILE:LINE` or `FILE:LINE:COL`.
    pub fn input(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input(Box::new(Diagnostic::at(
            "invalid-input",
            &location.into(),
            message,
        )))
    }

    pub fn diagnostic(d: Diagnostic) -> Self {
        Error::Input(Box::new(d))
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal(message.into())
    }

    /// The error as the run's last word on standard error: an input error
    /// with the offending line drawn under it. `to_string()` is the one-line
    /// form, for a report's problem or a log.
    pub fn report(&self) -> String {
        match self {
            Error::Input(d) => d.as_error_with_line().to_string(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_says_it_is_a_bug_and_where_to_report_it() {
        let e = Error::internal("environment prod was not collected").to_string();
        assert!(
            e.starts_with("internal error: environment prod was not collected\n"),
            "{e}"
        );
        assert!(
            e.contains("this is a bug in confdrift, not in your input"),
            "{e}"
        );
        assert!(e.contains("please report it"), "{e}");
    }

    #[test]
    fn an_input_error_is_one_line_and_its_report_shows_the_line() {
        let e = Error::diagnostic(
            Diagnostic::at("invalid-object", "m.yaml:2", "Pod p: has no spec")
                .with_source("kind: Pod\nmetadata: {name: p}\n", 1),
        );
        assert_eq!(e.to_string(), "m.yaml:2: Pod p: has no spec");
        assert_eq!(
            e.report(),
            "m.yaml:2: Pod p: has no spec\n  |\n2 | metadata: {name: p}\n  | ^^^^^^^^^^^^^^^^^^^"
        );
    }
}
