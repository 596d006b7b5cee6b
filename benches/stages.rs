//! Criterion benchmarks of each pipeline stage (parse, normalize, compare,
//! evaluate, render) and of `audit` end to end, on the synthetic fleet of
//! `examples/gen_fleet.rs` written once to a temporary directory.
//!
//! Every input is checked once before it is timed: a setup that produces no
//! drift, no findings or an empty report fails the run instead of measuring
//! nothing.
//!
//! cargo bench --bench stages [-- FILTER]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use confdrift::app;
use confdrift::collect::{Source, files::collect_files};
use confdrift::compare;
use confdrift::config::Settings;
use confdrift::evaluate;
use confdrift::fingerprint::FingerprintKey;
use confdrift::policy::Date;
use confdrift::report::{self, Format, RenderOptions, Report};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

#[path = "../examples/gen_fleet/fleet.rs"]
mod fleet;

/// Pods per environment of the `stages` group.
const STAGE_PODS: usize = 1_000;
/// Pods per environment of the `scaling` group.
const SCALING_PODS: &[usize] = &[500, 1_000, 2_000, 4_000];
/// Pods per workload, as `benches/compare.sh` generates them.
const PODS_PER_WORKLOAD: usize = 10;

/// One generated fleet on disk and the settings that audit it.
struct Fleet {
    /// `3x1000`: environments × pods per environment.
    label: String,
    pods_in_all: usize,
    /// Each environment's name and directory.
    dirs: Vec<(String, PathBuf)>,
    settings: Settings,
}

impl Fleet {
    fn write(root: &Path, pods_per_env: usize) -> Fleet {
        let spec = fleet::Spec {
            workloads: pods_per_env / PODS_PER_WORKLOAD,
            pods: PODS_PER_WORKLOAD,
            seed: 7,
            ..fleet::Spec::default()
        };
        let out = root.join(format!("pods-{pods_per_env}"));
        let pods_in_all = fleet::write(&spec, &out).expect("write the fleet");
        let dirs: Vec<(String, PathBuf)> = fleet::env_names(spec.envs)
            .into_iter()
            .map(|env| {
                let dir = out.join(&env);
                (env, dir)
            })
            .collect();
        let envs = dirs
            .iter()
            .map(|(env, dir)| {
                (
                    env.clone(),
                    Source::Files(confdrift::collect::FileSource::new(vec![dir.clone()])),
                )
            })
            .collect();
        Fleet {
            label: format!("{}x{pods_per_env}", spec.envs),
            pods_in_all,
            dirs,
            settings: Settings {
                envs,
                policies: vec![default_policy()],
                ..Settings::default()
            },
        }
    }

    /// Fails unless a whole audit of the fleet finds drift.
    fn assert_audit_finds_drift(&self, key: &FingerprintKey) {
        let audit =
            app::audit(&self.settings, key, today(), &app::NoProgress).expect("audit the fleet");
        assert!(
            audit.report.complete(),
            "{}: an environment is incomplete",
            self.label
        );
        assert!(
            !audit.report.findings.is_empty(),
            "{}: no findings",
            self.label
        );
    }
}

fn default_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.yaml")
}

/// The run's clock, fixed so that waiver expiry never changes the work.
fn today() -> Date {
    confdrift::policy::date::parse("2026-11-15").expect("a valid date")
}

fn key() -> FingerprintKey {
    FingerprintKey::new(b"confdrift bench", true)
}

/// The audit's report rendered as JSON, as `benches/compare.sh` asks for.
fn audit_to_json(settings: &Settings, key: &FingerprintKey) -> Vec<u8> {
    let audit = app::audit(settings, key, today(), &app::NoProgress).expect("audit the fleet");
    let mut out = Vec::new();
    report::render(
        &audit.report,
        Format::Json,
        RenderOptions::default(),
        &mut out,
    )
    .expect("render to memory");
    out
}

fn stages(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("a temporary directory");
    let fleet = Fleet::write(root.path(), STAGE_PODS);
    let settings = &fleet.settings;
    let key = key();
    let baseline = settings.baseline().expect("a baseline");
    let date = today();
    let policy = app::load_policies(&settings.policies, date).expect("the default policy");

    // Each stage's input, made once by the stage before and checked. Parsing
    // reads the environments in turn on this thread; `audit` reads them
    // side by side, as the CLI does.
    let parse = || -> Vec<_> {
        fleet
            .dirs
            .iter()
            .map(|(env, dir)| {
                let files = collect_files(std::slice::from_ref(dir), &key);
                (env.clone(), files.expect("parse the fleet"))
            })
            .collect()
    };
    let collected = parse();
    let objects: usize = collected.iter().map(|(_, c)| c.objects.len()).sum();
    assert!(objects >= fleet.pods_in_all, "parsed {objects} objects");
    let inventories = app::normalize_all(settings, &key, &collected).expect("normalize");
    assert!(
        inventories
            .iter()
            .all(|i| i.complete() && !i.entries.is_empty())
    );
    let comparison = compare::compare(&inventories, &baseline);
    assert!(!comparison.deltas.is_empty(), "the fleet has no drift");
    let evaluation = evaluate::evaluate(&comparison, &inventories, &policy, date);
    assert!(!evaluation.findings.is_empty(), "the policy finds nothing");
    let report = Report::from_evaluation(&baseline, &inventories, evaluation);
    let wire = report::json::to_wire(&report);
    fleet.assert_audit_finds_drift(&key);
    eprintln!(
        "fleet {}: {objects} objects, {} deltas, {} findings",
        fleet.label,
        comparison.deltas.len(),
        report.findings.len()
    );

    let mut group = c.benchmark_group("stages");
    let id = |stage: &str| BenchmarkId::new(stage, &fleet.label);
    group.bench_function(id("parse"), |b| b.iter(&parse));
    group.bench_function(id("normalize"), |b| {
        b.iter(|| app::normalize_all(settings, &key, black_box(&collected)))
    });
    group.bench_function(id("compare"), |b| {
        b.iter(|| compare::compare(black_box(&inventories), &baseline))
    });
    group.bench_function(id("evaluate"), |b| {
        b.iter(|| evaluate::evaluate(black_box(&comparison), &inventories, &policy, date))
    });

    let formats = [
        ("table", Format::Table),
        ("json", Format::Json),
        ("markdown", Format::Markdown),
        ("sarif", Format::Sarif),
        ("junit", Format::Junit),
    ];
    let render = |format| {
        let mut out = Vec::new();
        report::render(
            black_box(&report),
            format,
            RenderOptions::default(),
            &mut out,
        )
        .expect("render to memory");
        out
    };
    for (name, format) in formats {
        assert!(!render(format).is_empty(), "{name} rendered nothing");
        group.bench_function(id(&format!("render-{name}")), |b| b.iter(|| render(format)));
    }
    // The HTML page is drawn from the JSON wire form (the nightly report),
    // not from `report::render`; the wire form is made once above.
    let render_html = || {
        let mut out = Vec::new();
        report::html::render(black_box(&wire), &mut out).expect("render to memory");
        out
    };
    assert!(!render_html().is_empty(), "html rendered nothing");
    group.bench_function(id("render-html"), |b| b.iter(&render_html));

    group.bench_function(id("audit"), |b| {
        b.iter(|| audit_to_json(black_box(settings), &key))
    });
    group.finish();
}

/// `audit` end to end at growing sizes; the throughput is pods (in all
/// environments) per second, so the cost per pod can be read off.
fn scaling(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("a temporary directory");
    let key = key();
    let mut group = c.benchmark_group("scaling");
    // Each audit takes a tenth of a second or more: the same number of
    // iterations per sample, as criterion advises for long benchmarks.
    group.sampling_mode(SamplingMode::Flat);
    for &pods in SCALING_PODS {
        let fleet = Fleet::write(root.path(), pods);
        fleet.assert_audit_finds_drift(&key);
        group.throughput(Throughput::Elements(fleet.pods_in_all as u64));
        group.bench_function(BenchmarkId::new("audit", &fleet.label), |b| {
            b.iter(|| audit_to_json(black_box(&fleet.settings), &key))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Few samples, short windows: the measuring takes about a minute and a
    // half on two cores (the build comes on top).
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = stages, scaling
}
criterion_main!(benches);
