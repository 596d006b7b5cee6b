//! End-to-end behaviour of the binary: exit codes, errors users can act on,
//! determinism, snapshots as sources.

use crate::support::*;

fn two(a: &str, b: &str) -> Vec<String> {
    vec![
        "--env".into(),
        format!("staging={}", data(a)),
        "--env".into(),
        format!("prod={}", data(b)),
    ]
}

#[test]
fn fail_on_threshold_decides_exit_code() {
    // The canary pair differs only in info-level drift.
    let envs = two("canary/staging.yaml", "canary/prod.yaml");
    let code = |fail_on: &str| {
        run(confdrift()
            .arg("audit")
            .args(&envs)
            .args(["--fail-on", fail_on, "--format", "json"]))
        .code
    };
    assert_eq!(code("critical"), 0);
    assert_eq!(code("warning"), 0);
    assert_eq!(code("info"), 1);
    assert_eq!(code("never"), 0);
}

#[test]
fn identical_environments_exit_zero_with_no_findings() {
    let r = run(confdrift()
        .arg("audit")
        .args(two("canary/prod.yaml", "canary/prod.yaml"))
        .args(["--fail-on", "info", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["schema"], "confdrift.report/v1");
}

#[test]
fn invalid_yaml_exits_2_naming_file_line_and_environment() {
    let r = run(confdrift()
        .arg("audit")
        .args(two("bad/invalid-yaml.yaml", "canary/prod.yaml")));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("testdata/bad/invalid-yaml.yaml:9:1: invalid YAML"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("environment staging"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn every_bad_input_is_a_clear_error_or_a_reported_problem_never_a_panic() {
    // (file, expected exit code, text the message must contain)
    let cases = [
        ("bad/invalid-yaml.yaml", 2, "invalid-yaml.yaml:9:1"),
        ("bad/invalid-utf8.yaml", 2, "not valid UTF-8"),
        ("bad/no-kind.yaml", 2, "no `kind`"),
        ("bad/secret-not-base64.yaml", 2, "not valid base64"),
        ("bad/empty.yaml", 0, "is empty"),
        ("bad/only-services.yaml", 0, "Service ×1"),
        ("bad/bom-crlf.yaml", 0, ""),
    ];
    for (file, code, text) in cases {
        let r = run(confdrift()
            .arg("audit")
            .args(two(file, "canary/prod.yaml"))
            .args(["--fail-on", "never"]));
        assert_eq!(r.code, code, "{file}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(text) || r.stderr.contains(text),
            "{file}: expected {text:?} in\n{}{}",
            r.stdout,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{file}: {}", r.stderr);
    }
}

#[test]
fn missing_source_path_is_a_usage_error() {
    let r = run(confdrift().arg("audit").args([
        "--env",
        "a=does/not/exist.yaml",
        "--env",
        "b=also/missing",
    ]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does/not/exist.yaml"), "{}", r.stderr);
}

#[test]
fn env_argument_without_equals_is_explained() {
    let r = run(confdrift().args(["audit", "--env", "prod"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NAME=SOURCE"), "{}", r.stderr);
}

#[test]
fn unknown_field_in_config_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    std::fs::write(
        &cfg,
        "baseline: prod\nenvironments:\n  prod:\n    file: [x.yaml]\n",
    )
    .unwrap();
    let r = run(confdrift().arg("audit").arg("--config").arg(&cfg));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("confdrift.yaml:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("unknown field `file`"), "{}", r.stderr);
}

#[test]
fn output_is_byte_identical_across_runs() {
    for format in ["table", "json", "markdown"] {
        let once = run(confdrift()
            .arg("audit")
            .args(two("canary/staging.yaml", "canary/prod.yaml"))
            .args(["--format", format]));
        let twice = run(confdrift()
            .arg("audit")
            .args(two("canary/staging.yaml", "canary/prod.yaml"))
            .args(["--format", format]));
        assert_eq!(once.stdout, twice.stdout, "{format}");
    }
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let r = run(confdrift()
        .arg("audit")
        .args(two("canary/staging.yaml", "canary/prod.yaml"))
        .args(["--format", "json", "--output"])
        .arg(&out));
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_str(&read(&out)).unwrap();
    assert_eq!(v["baseline"], "prod");
}

#[test]
fn snapshot_without_the_same_key_cannot_compare_secrets_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("prod.json");
    let r = run(confdrift()
        .env("CONFDRIFT_FINGERPRINT_KEY", "key-one")
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("canary/prod.yaml")))
        .arg("--output")
        .arg(&snap));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(confdrift()
        .env("CONFDRIFT_FINGERPRINT_KEY", "key-two")
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("canary/staging.yaml")))
        .arg("--env")
        .arg(format!("prod={}", snap.display()))
        .args(["--format", "json"]));
    assert_eq!(r.code, 3, "an incomplete view must not pass: {}", r.stdout);
    assert!(
        r.stdout.contains("fingerprint-key-mismatch"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("CONFDRIFT_FINGERPRINT_KEY"));
    // --allow-partial lets it through, exit decided by findings.
    let r = run(confdrift()
        .env("CONFDRIFT_FINGERPRINT_KEY", "key-two")
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("canary/staging.yaml")))
        .arg("--env")
        .arg(format!("prod={}", snap.display()))
        .args(["--allow-partial", "--fail-on", "critical"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn snapshot_without_a_key_warns_that_it_cannot_be_compared_later() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("prod.json");
    let r = run(confdrift()
        .env_remove("CONFDRIFT_FINGERPRINT_KEY")
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("canary/prod.yaml")))
        .arg("--output")
        .arg(&snap));
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("CONFDRIFT_FINGERPRINT_KEY is not set"),
        "{}",
        r.stderr
    );
}

#[test]
fn diff_needs_two_known_environments() {
    let r = run(confdrift()
        .args(["diff", "staging", "qa"])
        .args(two("canary/staging.yaml", "canary/prod.yaml")));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown environment qa"), "{}", r.stderr);
}
