//! A canary Secret value planted in every way a pod can get a Secret (`data`,
//! `stringData`, `secretKeyRef`, `envFrom`, `$(VAR)` expansion, secret and
//! projected volumes) must appear in no output of any command or format.

mod common;

use base64::Engine as _;
use common::*;

/// Every planted plain value, and its base64 form as it sits in `data`.
fn canaries() -> Vec<String> {
    let plain = [
        "CANARY-api-STAGING-7f3a9c",
        "CANARY-api-PROD-7f3a9c",
        "CANARY-db-SHARED-51be02",
        "CANARY-sign-STAGING-c0ffee",
        "CANARY-sign-PROD-c0ffee",
        "CANARY-tls-STAGING-99aa",
        "CANARY-tls-PROD-99aa",
    ];
    let mut all: Vec<String> = plain.iter().map(|s| s.to_string()).collect();
    for p in &plain[..3] {
        all.push(base64::engine::general_purpose::STANDARD.encode(p));
    }
    // Any fragment of the marker is a leak too.
    all.push("CANARY".into());
    all
}

fn assert_clean(what: &str, text: &str) {
    for c in canaries() {
        assert!(!text.contains(&c), "{what} leaks {c}:\n{text}");
    }
}

fn envs() -> Vec<String> {
    vec![
        "--env".into(),
        format!("staging={}", data("canary/staging.yaml")),
        "--env".into(),
        format!("prod={}", data("canary/prod.yaml")),
    ]
}

#[test]
fn canary_secret_appears_in_no_audit_format() {
    for format in ["table", "json", "markdown", "sarif", "junit"] {
        let r = run(confdrift()
            .arg("audit")
            .args(envs())
            .args(["--format", format]));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("audit --format {format} stdout"), &r.stdout);
        assert_clean(&format!("audit --format {format} stderr"), &r.stderr);
        // The differing secrets are still reported, redacted.
        assert!(r.stdout.contains("redacted"), "{format}: {}", r.stdout);
    }
}

#[test]
fn canary_secret_appears_in_no_diff_output() {
    let r = run(confdrift().args(["diff", "staging", "prod"]).args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("diff", &r.stdout);
    assert_clean("diff stderr", &r.stderr);
    assert!(r.stdout.contains("API_KEY"));
}

#[test]
fn canary_secret_appears_in_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.json");
    let r = run(confdrift()
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("canary/prod.yaml")))
        .arg("--output")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("snapshot file", &read(&out));
    assert_clean("snapshot stderr", &r.stderr);
}

#[test]
fn secret_that_fails_to_parse_is_not_echoed_in_the_error() {
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", data("bad/secret-not-base64.yaml")))
        .arg("--env")
        .arg(format!("b={}", data("canary/prod.yaml"))));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("secret-not-base64.yaml"), "{}", r.stderr);
    assert!(!r.stderr.contains("plain-text"), "{}", r.stderr);
    assert_clean("error", &r.stderr);
}

#[test]
fn equal_secrets_share_a_redaction_label_and_different_ones_do_not() {
    let r = run(confdrift()
        .arg("audit")
        .args(envs())
        .args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let api = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "API_KEY" && f["workload"] == "api")
        .expect("API_KEY differs between staging and prod");
    assert_eq!(api["values"]["staging"], "<redacted A>");
    assert_eq!(api["values"]["prod"], "<redacted B>");
    // DB_PASSWORD is the same in both: no finding at all.
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"].as_str().is_some_and(|k| k.contains("DB_PASSWORD")))
    );
}

#[test]
fn canary_secret_appears_in_no_history_file_nor_nightly_format() {
    let dir = tempfile::tempdir().unwrap();
    for (now, format) in [
        ("2026-11-20T02:00:00Z", "markdown"),
        ("2026-11-21T02:00:00Z", "json"),
        ("2026-11-22T02:00:00Z", "html"),
        ("2026-11-23T02:00:00Z", "prometheus"),
    ] {
        let r = run(confdrift()
            .env("CONFDRIFT_NOW", now)
            .args([
                "report",
                "--fail-on",
                "never",
                "--format",
                format,
                "--history",
            ])
            .arg(dir.path())
            .args(envs()));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("report --format {format}"), &r.stdout);
        assert_clean("report stderr", &r.stderr);
    }
    let mut files = vec![dir.path().join("index.json")];
    for e in std::fs::read_dir(dir.path().join("runs")).unwrap() {
        files.push(e.unwrap().path());
    }
    assert_eq!(files.len(), 5);
    for f in files {
        assert_clean(&f.display().to_string(), &read(&f));
    }
}
