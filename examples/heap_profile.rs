//! Runs `audit` on environments given as `NAME=SOURCE` with the system
//! allocator and renders the JSON report, so that heap profilers that
//! cannot see mimalloc (heaptrack, massif) show where memory goes:
//!
//! cargo build --release --example heap_profile
//! heaptrack target/release/examples/heap_profile dev=fleet/dev prod=fleet/prod

use confdrift::app;
use confdrift::config::{Settings, parse_env_arg};
use confdrift::fingerprint::FingerprintKey;
use confdrift::report::{self, Format, RenderOptions};

fn main() {
    let envs = std::env::args()
        .skip(1)
        .map(|a| parse_env_arg(&a).expect("NAME=SOURCE"))
        .collect();
    let settings = Settings {
        envs,
        // JOBS=1: one environment at a time, as `--jobs 1`.
        jobs: std::env::var("JOBS").ok().and_then(|j| j.parse().ok()),
        ..Settings::default()
    };
    let key = FingerprintKey::new(b"heap profile", true);
    let today = confdrift::policy::date::parse("2026-11-15").expect("a valid date");
    let audit = app::audit(&settings, &key, today, &app::NoProgress).expect("audit");
    let mut out = Vec::new();
    report::render(
        &audit.report,
        Format::Json,
        RenderOptions::default(),
        &mut out,
    )
    .expect("render");
    eprintln!("report: {} bytes", out.len());
}
