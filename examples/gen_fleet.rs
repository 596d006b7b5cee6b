//! Generates a synthetic fleet as `kubectl get -o json` List files, for
//! benchmarks and scale checks: N environments × W workloads × P pods per
//! workload × K env vars, with ConfigMap refs, envFrom, a Secret, flags, a
//! mounted multi-line config file, and a controlled fraction of drift.
//! Deterministic for a given seed. The generator itself is
//! `gen_fleet/fleet.rs`, shared with `benches/stages.rs`.
//!
//! cargo run --release --example gen_fleet -- --out /tmp/fleet --envs 3 \
//!     --workloads 100 --pods 10 --vars 40 --drift 0.02 --seed 1

use std::path::PathBuf;

#[path = "gen_fleet/fleet.rs"]
mod fleet;

fn parse_args() -> (PathBuf, fleet::Spec) {
    let mut out = PathBuf::from("fleet");
    let mut spec = fleet::Spec::default();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--out" => out = PathBuf::from(v),
            "--envs" => spec.envs = v.parse().expect("--envs N"),
            "--workloads" => spec.workloads = v.parse().expect("--workloads N"),
            "--pods" => spec.pods = v.parse().expect("--pods N"),
            "--vars" => spec.vars = v.parse().expect("--vars N"),
            "--drift" => spec.drift = v.parse().expect("--drift FRACTION"),
            "--seed" => spec.seed = v.parse().expect("--seed N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    (out, spec)
}

fn main() {
    let (out, spec) = parse_args();
    let total_pods = fleet::write(&spec, &out).expect("write fleet files");
    eprintln!(
        "wrote {} environment(s), {} pods in all, to {}",
        spec.envs,
        total_pods,
        out.display()
    );
}
