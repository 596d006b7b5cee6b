//! confdrift: configuration drift between environments of a Kubernetes
//! application.
//!
//! The pipeline is collect → normalize → compare → evaluate → report; each
//! stage is a module that takes plain data and returns plain data.
#![forbid(unsafe_code)]

pub mod collect;
pub mod error;
pub mod fingerprint;
pub mod model;
pub mod normalize;
pub mod compare;
pub mod evaluate;
pub mod app;
pub mod config;
pub mod report;
pub mod cli;
