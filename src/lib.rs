//! confdrift: configuration drift between environments of a Kubernetes
//! application.
//!
//! The pipeline is collect → normalize → compare → evaluate → report; each
//! stage is a module that takes plain data and returns plain data.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod compare;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod fingerprint;
pub mod history;
pub mod model;
pub mod normalize;
pub mod policy;
pub mod quantity;
pub mod report;
