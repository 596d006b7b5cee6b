//! The errors that stop a run (exit code 2). Problems that let the run go on
//! are not errors: they are [`crate::model::Problem`]s in the report.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file that cannot be parsed or holds an object Kubernetes would reject.
    #[error("{location}: {message}")]
    Input { location: String, message: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A bad `confdrift.yaml`, flag combination or argument.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn input(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            location: location.into(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
