//! confdrift: configuration drift between environments of a Kubernetes
//! application.
//!
//! The pipeline is collect → normalize → compare → evaluate → report; each
//! stage is a module that takes plain data and returns plain data.
//!
//! # Six words for "something is wrong"
//!
//! - [`Error`](error::Error): the run cannot go on (a bad argument or
//!   `confdrift.yaml`, a manifest that cannot be parsed, an invalid policy,
//!   an I/O failure). Returned as `Err` from anywhere; the CLI prints it as
//!   `confdrift: error: …` and exits 2. `Error::Internal` is a bug in
//!   confdrift, not the user's: it exits 2 too and says how to report it.
//! - [`Problem`](model::Problem): something that could not be read or
//!   resolved in one environment (RBAC, a missing namespace, a timeout).
//!   Data, never `Err`: made by `collect` and `normalize`, carried in the
//!   inventory, listed in every report; an `incomplete` one exits 3 unless
//!   `--allow-partial`.
//! - [`Issue`](model::Issue): a fault of one environment alone (a dangling
//!   reference, stale pods, pods that disagree), found by `normalize`;
//!   `evaluate` turns each into a [`Finding`](model::Finding).
//! - `Violation`: what one check of one policy rule found about one
//!   subject, made by the rule engine; `evaluate` turns it into a Finding
//!   (waived or not).
//! - [`Diagnostic`](diagnostic::Diagnostic): a message about a file the
//!   user wrote (a policy, `confdrift.yaml`, a manifest), naming
//!   file:line:col, the field, a code and what would be valid, with the
//!   offending line drawn under it. `policy lint` prints them (exit 2 on an
//!   error); elsewhere an error among them stops the run as an Error (exit 2);
//!   a manifest's or `confdrift.yaml`'s is an `Error::Input`.
//! - [`Finding`](model::Finding): what the report shows, one per thing
//!   found, display-ready and redacted. Made by `evaluate` from drift,
//!   Issues and Violations; rendered by `report`; an unwaived one at or
//!   above `--fail-on` exits 1.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub(crate) mod clock;
pub mod codes;
pub mod collect;
pub mod compare;
pub mod config;
pub mod diagnostic;
pub(crate) mod display;
pub mod error;
pub mod evaluate;
pub mod fingerprint;
pub(crate) mod fsio;
pub mod history;
pub(crate) mod limits;
pub mod memory;
pub mod model;
pub mod normalize;
pub mod policy;
pub mod quantity;
pub mod report;
