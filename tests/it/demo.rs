//! The bundled demo and the kustomize case, end to end: every seeded drift
//! is reported, nothing else is, and every format is snapshot-tested.
//!
//! These runs use an empty policy, so what they show is the raw drift, the
//! same whatever `policies/default.yaml` says (tests/it/policy.rs covers that).

use std::collections::BTreeSet;

use crate::support::*;

fn audit_json(args: &[&str]) -> serde_json::Value {
    let r = run(confdrift()
        .arg("audit")
        .args(args)
        .args(["--policy", NO_RULES])
        .args(["--format", "json", "--fail-on", "never"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

/// (where, kind, key, code) of every finding that compares environments.
fn deltas(report: &serde_json::Value) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["environment"].is_null())
        .map(|f| {
            let place = match (
                f["workload"].as_str(),
                f["container"].as_str(),
                f["configmap"].as_str(),
            ) {
                (Some(w), Some(c), _) => format!("{w}/{c}"),
                (Some(w), None, _) => w.to_string(),
                (None, _, Some(cm)) => format!("configmap/{cm}"),
                _ => String::new(),
            };
            (
                place,
                f["kind"].as_str().unwrap_or("").to_string(),
                f["key"].as_str().unwrap_or("").to_string(),
                f["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str, &str)]) -> BTreeSet<(String, String, String, String)> {
    items
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

#[test]
fn demo_reports_every_seeded_drift_and_nothing_else() {
    let report = audit_json(&["--config", "testdata/demo/confdrift.yaml"]);
    // testdata/demo/EXPECTED.md, section 2.
    let expected = set(&[
        ("checkout/server", "env", "DB_POOL_SIZE", "value-differs"),
        ("checkout/server", "env", "TIMEOUT_MS", "value-differs"),
        ("payments/server", "env", "DEBUG", "key-missing"),
        ("cart/cart", "env", "CART_CACHE_TTL", "value-differs"),
        (
            "checkout/server",
            "flag",
            "FEATURE_EXPRESS_CHECKOUT",
            "value-differs",
        ),
        ("payments/server", "env", "API_KEY", "value-differs"),
        (
            "checkout/server",
            "file",
            "/etc/checkout/application.yaml",
            "value-differs",
        ),
        ("frontend/web", "env", "CDN_URL", "value-unresolved"),
        // One cause, one finding: the ConfigMap keys behind DB_POOL_SIZE,
        // CART_CACHE_TTL and application.yaml are shown where they are
        // read; flags.json (its ConfigMap key and the file in frontend/web)
        // differs only in the flag new-search, shown as that flag.
        (
            "configmap/flagd-config",
            "flag",
            "new-search",
            "value-differs",
        ),
        ("configmap/frontend-config", "", "", "configmap-missing"),
    ]);
    assert_eq!(deltas(&report), expected);
    assert_eq!(report["suppressed"]["same_cause"], 5);

    // The one finding about a single environment: staging's dangling reference.
    let single: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["environment"].is_null())
        .collect();
    assert_eq!(single.len(), 1, "{single:#?}");
    assert_eq!(single[0]["code"], "dangling-reference");
    assert_eq!(single[0]["environment"], "staging");
    assert_eq!(single[0]["workload"], "frontend");
    assert_eq!(single[0]["severity"], "critical");

    // Values and provenance of the headline drift.
    let pool = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "DB_POOL_SIZE" && f["workload"] == "checkout")
        .unwrap();
    assert_eq!(pool["values"]["prod"], "5");
    assert_eq!(pool["values"]["staging"], "20");
    assert_eq!(
        pool["sources"]["prod"],
        "ConfigMap shop-config/DB_POOL_SIZE"
    );
    // Dev and staging share the non-prod API key; prod has its own.
    let api = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "API_KEY")
        .unwrap();
    assert_eq!(api["values"]["dev"], api["values"]["staging"]);
    assert_ne!(api["values"]["dev"], api["values"]["prod"]);
    // The config file's one changed line is in the diff.
    let file = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "/etc/checkout/application.yaml")
        .unwrap();
    let diff = file["diff"].as_str().unwrap();
    assert!(diff.contains("-    max-retries: 5"), "{diff}");
    assert!(diff.contains("+    max-retries: 3"), "{diff}");
    // Every environment was read completely and no generated thing drifted.
    for env in report["environments"].as_array().unwrap() {
        assert_eq!(env["complete"], true);
        assert_eq!(env["coverage"]["workloads"], 5);
    }
}

#[test]
fn kustomize_overlays_report_exactly_their_deltas() {
    let report = audit_json(&["--config", "testdata/kustomize/confdrift.yaml"]);
    // testdata/kustomize/EXPECTED.md; the generated ConfigMap names carry
    // different hash suffixes and still line up.
    let expected = set(&[
        (
            "frontend/server",
            "env",
            "FRONTEND_MESSAGE",
            "value-differs",
        ),
        ("frontend/server", "env", "LOG_LEVEL", "value-differs"),
        (
            "checkoutservice/server",
            "env",
            "COLLECTOR_SERVICE_ADDR",
            "key-missing",
        ),
        ("loadgenerator", "", "", "workload-missing"),
    ]);
    assert_eq!(deltas(&report), expected);
    assert_eq!(report["summary"]["critical"], 0);
    // configmap/app-config LOG_LEVEL is the same cause as frontend/server's
    // (read through the hash-suffixed names): shown once, at the container.
    assert_eq!(report["suppressed"]["same_cause"], 1);
}

#[test]
fn auditing_snapshots_equals_auditing_the_originals() {
    let dir = tempfile::tempdir().unwrap();
    let mut envs = Vec::new();
    for env in ["dev", "staging", "prod"] {
        let out = dir.path().join(format!("{env}.json"));
        let r = run(confdrift()
            .args(["snapshot", "--env"])
            .arg(format!("{env}={}", data(&format!("demo/{env}"))))
            .arg("--output")
            .arg(&out));
        assert_eq!(r.code, 0, "{}", r.stderr);
        // The containers' resources travel with the snapshot, so that a
        // resourceFieldRef resolves from it as from the files.
        let saved = read(&out);
        assert!(saved.contains("\"limits\""), "{env}: no resources saved");
        envs.push("--env".to_string());
        envs.push(format!("{env}={}", out.display()));
    }
    let args: Vec<&str> = envs.iter().map(String::as_str).collect();
    let from_snapshots = audit_json(&args);
    let from_files = audit_json(&["--config", "testdata/demo/confdrift.yaml"]);
    assert_eq!(from_snapshots["findings"], from_files["findings"]);
    assert_eq!(from_snapshots["summary"], from_files["summary"]);
    for (a, b) in from_snapshots["environments"]
        .as_array()
        .unwrap()
        .iter()
        .zip(from_files["environments"].as_array().unwrap())
    {
        assert_eq!(a["coverage"], b["coverage"]);
        assert_eq!(a["complete"], b["complete"]);
    }
}

fn demo_output(args: &[&str]) -> String {
    let mut cmd = confdrift();
    cmd.args(args);
    if args[0] == "audit" {
        cmd.args(["--policy", NO_RULES]);
    }
    portable(&run(&mut cmd).stdout)
}

#[test]
fn demo_table_snapshot() {
    insta::assert_snapshot!(demo_output(&[
        "audit",
        "--config",
        "testdata/demo/confdrift.yaml"
    ]));
}

#[test]
fn demo_json_snapshot() {
    insta::assert_snapshot!(demo_output(&[
        "audit",
        "--config",
        "testdata/demo/confdrift.yaml",
        "--format",
        "json"
    ]));
}

#[test]
fn demo_markdown_snapshot() {
    insta::assert_snapshot!(demo_output(&[
        "audit",
        "--config",
        "testdata/demo/confdrift.yaml",
        "--format",
        "markdown"
    ]));
}

#[test]
fn demo_diff_snapshot() {
    insta::assert_snapshot!(demo_output(&[
        "diff",
        "staging",
        "prod",
        "--config",
        "testdata/demo/confdrift.yaml"
    ]));
}

#[test]
fn table_fits_a_100_column_terminal() {
    // Not a terminal: `COLUMNS` is the width (120 when unset, tests/it/display.rs).
    let out = portable(
        &run(confdrift()
            .args(["audit", "--config", "testdata/demo/confdrift.yaml"])
            .args(["--policy", NO_RULES])
            .env("COLUMNS", "100"))
        .stdout,
    );
    let table: Vec<&str> = out
        .lines()
        .take_while(|l| !l.starts_with("Line differences"))
        .collect();
    for line in table {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn no_colour_escape_codes_when_not_a_terminal() {
    let r = run(confdrift()
        .args(["audit", "--config", "testdata/demo/confdrift.yaml"])
        .env_remove("NO_COLOR"));
    assert!(!r.stdout.contains('\u{1b}'), "escape codes in piped output");
}
