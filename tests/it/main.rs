//! The end-to-end tests, one binary (as ripgrep does): one module a
//! concern, helpers in `support/`. One binary links once, not twenty times.
//!
//! Run one concern with a filter: `cargo test --test it -- gate::`.
//! Snapshots are in `snapshots/`, named `it__<module>__<name>.snap`.

mod support;

mod architecture;
mod bad_input;
mod cli;
mod demo;
mod deploy;
mod diff;
mod display;
mod fleet;
mod gate;
mod kinds;
mod lineup;
mod live;
mod nightly;
mod policy;
mod rename;
mod secrets;
mod shapes;
mod sources;
mod terminal;
mod values;
