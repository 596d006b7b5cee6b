//! Policies end to end: `policy lint` on every invalid fixture (each error
//! snapshot with its file:line:column), the shipped default policy on the
//! demo, exit codes for every `--fail-on`, waiver expiry on a fixed clock,
//! merging, where policies are found, and that checks never print a Secret.

use crate::support::*;

fn demo() -> Vec<String> {
    vec!["--config".into(), data("demo/confdrift.yaml")]
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// policy lint
// ---------------------------------------------------------------------------

#[test]
fn lint_reports_every_error_of_every_invalid_fixture_with_file_line_and_column() {
    let dir = root().join("testdata/policies/invalid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 19, "{names:?}");
    for name in names {
        let path = format!("testdata/policies/invalid/{name}");
        let r = run(dated().args(["policy", "lint", &path]));
        assert_eq!(r.code, 2, "{name}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        for line in r.stdout.lines().filter(|l| l.contains("error[")) {
            // file:line:column: error[code]: field: message
            let rest = line.strip_prefix(&path).unwrap_or(line);
            assert!(
                rest.starts_with(':') || rest.starts_with('/'),
                "{name}: every error names its file: {line}"
            );
            let loc: Vec<&str> = rest
                .trim_start_matches(|c| c != ':')
                .splitn(4, ':')
                .collect();
            assert!(
                loc.len() == 4
                    && loc[1].parse::<usize>().is_ok()
                    && loc[2].parse::<usize>().is_ok(),
                "{name}: every error has line and column: {line}"
            );
        }
        let stem = name.trim_end_matches(".yaml");
        insta::assert_snapshot!(format!("lint_{stem}"), r.stdout);
    }
}

#[test]
fn lint_accepts_the_shipped_default_policy_and_the_valid_fixtures() {
    for path in [
        "policies/default.yaml",
        "testdata/policies/valid/every-feature.yaml",
        "testdata/policies/valid/split",
        "testdata/policies/valid/no-rules.yaml",
    ] {
        let r = run(dated().args(["policy", "lint", path]));
        assert_eq!(r.code, 0, "{path}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.starts_with("policy lint: ok:"),
            "{path}: {}",
            r.stdout
        );
    }
    // Without a path: policies/ of the working directory.
    let r = run(dated().args(["policy", "lint"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "policy lint: ok: 1 file(s), 11 rule(s), 0 waiver(s)\n"
    );
}

#[test]
fn lint_without_paths_and_without_a_policies_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dated().current_dir(dir.path()).args(["policy", "lint"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no policy to lint"), "{}", r.stderr);
    let r = run(dated().args(["policy", "lint", "does/not/exist.yaml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("does/not/exist.yaml: error[io]"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_expired_waiver_is_a_lint_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nrules:\n  - id: r\n    key: X\n    equal: true\nwaivers:\n  - rule: r\n    reason: old\n    expires: 2026-05-31\n",
    );
    let r = run(dated().args(["policy", "lint"]).arg(&p));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("w.yaml:10:14: warning[waiver-expired]: waivers[0].expires"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 warning(s)"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------
// audit with the default policy on the demo
// ---------------------------------------------------------------------------

#[test]
fn demo_with_the_default_policy_reports_the_seeded_risks_at_the_right_severity() {
    let r = run(dated().arg("audit").args(demo()).args([
        "--policy",
        "policies/default.yaml",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let all = findings(&v);
    let sev =
        |workload: Option<&str>, configmap: Option<&str>, key: &str, rule: &str| -> Vec<String> {
            all.iter()
                .filter(|f| {
                    f["key"] == key
                        && f["rule"] == rule
                        && f["workload"].as_str() == workload
                        && f["configmap"].as_str() == configmap
                })
                .map(|f| f["severity"].as_str().unwrap_or("").to_string())
                .collect()
        };
    // Pool size and debug in prod: critical.
    assert_eq!(
        sev(
            Some("checkout"),
            None,
            "DB_POOL_SIZE",
            "connection-pools-equal"
        ),
        ["critical"]
    );
    // One cause, one finding: shop-config's key is read by checkout/server
    // in every environment, so its drift is that container's finding.
    assert!(
        sev(
            None,
            Some("shop-config"),
            "DB_POOL_SIZE",
            "connection-pools-equal"
        )
        .is_empty()
    );
    assert_eq!(
        sev(Some("payments"), None, "DEBUG", "no-debug-in-prod"),
        ["critical"]
    );
    // Timeout and TTL: warnings.
    assert_eq!(
        sev(Some("checkout"), None, "TIMEOUT_MS", "timeout-ms-bounds"),
        ["warning", "warning"]
    );
    assert_eq!(
        sev(
            Some("cart"),
            None,
            "CART_CACHE_TTL",
            "cache-ttl-near-baseline"
        ),
        ["warning"]
    );
    assert!(
        sev(
            None,
            Some("cart-config"),
            "CACHE_TTL",
            "cache-ttl-near-baseline"
        )
        .is_empty()
    );
    let timeout = all
        .iter()
        .find(|f| f["key"] == "TIMEOUT_MS" && f["code"] == "out-of-range")
        .expect("TIMEOUT_MS out of range");
    assert_eq!(
        timeout["message"],
        "TIMEOUT_MS is 800 in prod, outside 1s..5m (rule timeout-ms-bounds)"
    );
    assert_eq!(timeout["environments"], serde_json::json!(["prod"]));
    // Nothing about values that are equal everywhere.
    for key in [
        "RETRY_MAX",
        "PSP_TIMEOUT",
        "DB_STATEMENT_TIMEOUT",
        "LOG_LEVEL",
        "CART_SESSION_TTL",
        "IDEMPOTENCY_TTL",
    ] {
        assert!(
            !all.iter().any(|f| f["key"] == key),
            "{key} is equal everywhere: {:#?}",
            all
        );
    }
    // No finding leaves the gate without a trace.
    assert_eq!(
        v["policy"]["files"],
        serde_json::json!(["policies/default.yaml"])
    );
    // Three causes fail the gate: checkout's pool, prod's DEBUG, staging's
    // dangling reference (testdata/demo/EXPECTED.md, section 2).
    assert_eq!(v["summary"]["critical"], 3, "{:#?}", v["summary"]);
    let critical: Vec<String> = all
        .iter()
        .filter(|f| f["severity"] == "critical")
        .map(|f| format!("{} {} {}", f["workload"], f["key"], f["code"]))
        .collect();
    assert_eq!(
        critical,
        [
            r#""checkout" "DB_POOL_SIZE" "not-equal""#,
            r#""frontend" "CDN_URL" "dangling-reference""#,
            r#""payments" "DEBUG" "forbidden-value""#,
        ]
    );
    assert_eq!(v["suppressed"]["same_cause"], 5, "{:#?}", v["suppressed"]);
    assert!(v["suppressed"]["ignored"].is_array());
}

#[test]
fn demo_table_with_the_default_policy() {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--policy", "policies/default.yaml"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("demo_default_policy_table", portable(&r.stdout));
}

#[test]
fn demo_markdown_with_the_default_policy() {
    let r = run(dated().arg("audit").args(demo()).args([
        "--policy",
        "policies/default.yaml",
        "--format",
        "markdown",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("demo_default_policy_markdown", portable(&r.stdout));
}

// ---------------------------------------------------------------------------
// exit codes
// ---------------------------------------------------------------------------

fn exit_code(policies: &[&str], fail_on: &str, today: &str) -> i32 {
    let mut c = dated();
    c.env("CONFDRIFT_TODAY", today).arg("audit").args(demo());
    for p in policies {
        c.args(["--policy", p]);
    }
    run(c.args(["--fail-on", fail_on, "--format", "json"])).code
}

#[test]
fn fail_on_follows_the_highest_unwaived_severity() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.yaml", WAIVE_CRITICALS);
    let waivers = waivers.to_str().unwrap_or_default();
    let info_only = write(
        dir.path(),
        "info.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nunmatched: info\nwaivers:\n  - rule: dangling-reference\n    reason: known\n",
    );
    let info_only = info_only.to_str().unwrap_or_default();
    let quiet = write(
        dir.path(),
        "quiet.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nunmatched: ignore\nwaivers:\n  - rule: dangling-reference\n    reason: known\n",
    );
    let quiet = quiet.to_str().unwrap_or_default();
    let cases: &[(&[&str], [i32; 4])] = &[
        // critical, warning, info, never
        (&["policies/default.yaml"], [1, 1, 1, 0]),
        (&["policies/default.yaml", waivers], [0, 1, 1, 0]),
        (&[info_only], [0, 0, 1, 0]),
        (&[quiet], [0, 0, 0, 0]),
    ];
    for (policies, want) in cases {
        let got: Vec<i32> = ["critical", "warning", "info", "never"]
            .iter()
            .map(|f| exit_code(policies, f, TODAY))
            .collect();
        assert_eq!(got, want, "{policies:?}");
    }
}

#[test]
fn waivers_apply_until_their_expiry_date_on_the_fixed_clock() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.yaml", WAIVE_CRITICALS);
    let waivers = waivers.to_str().unwrap_or_default();
    let policies = ["policies/default.yaml", waivers];
    assert_eq!(exit_code(&policies, "critical", "2026-06-30"), 0);
    assert_eq!(exit_code(&policies, "critical", "2026-07-01"), 1);

    let r = run(dated()
        .env("CONFDRIFT_TODAY", "2026-07-01")
        .arg("audit")
        .args(demo())
        .args([
            "--policy",
            "policies/default.yaml",
            "--policy",
            waivers,
            "--fail-on",
            "never",
        ]));
    assert!(r.stdout.contains("waiver-expired"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("expired on 2026-06-30 and no longer applies"),
        "{}",
        r.stdout
    );
    let r = run(dated().arg("audit").args(demo()).args([
        "--policy",
        "policies/default.yaml",
        "--policy",
        waivers,
        "--format",
        "json",
    ]));
    let v = json(&r.stdout);
    assert_eq!(v["summary"]["critical"], 0, "{:#?}", v["summary"]);
    assert_eq!(v["summary"]["waived"], 3);
    assert_eq!(
        v["suppressed"]["waived"],
        serde_json::json!({"connection-pools-equal": 1, "dangling-reference": 1, "no-debug-in-prod": 1})
    );
    let waived: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| !f["waiver"].is_null()).collect())
        .unwrap_or_default();
    assert_eq!(waived.len(), 3, "waived findings stay in the report");
    assert!(waived.iter().any(|f| f["waiver"].as_str().is_some_and(|w| {
        w.starts_with("prod runs on a smaller database (owner team-db, until 2026-06-30")
    })));
}

#[test]
fn a_bad_clock_is_a_usage_error() {
    let r = run(dated()
        .env("CONFDRIFT_TODAY", "next tuesday")
        .arg("audit")
        .args(demo()));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("CONFDRIFT_TODAY=next tuesday"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_format_says_what_was_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nignore: [\"*_TTL\"]\nunmatched: ignore\nrules:\n  - id: flags\n    kind: flag\n    key: \"*\"\n    equal: true\n    allow_differ: [FEATURE_EXPRESS_CHECKOUT]\n",
    );
    let base = || {
        let mut c = dated();
        c.arg("audit")
            .args(demo())
            .arg("--policy")
            .arg(&p)
            .args(["--fail-on", "never"]);
        c
    };
    let table = run(&mut base()).stdout;
    assert!(
        table.contains("Suppressed: 6 key(s) ignored, 2 of them drifting (*_TTL ×6); 1 key(s) allowed to differ (flags ×1); 11 drift(s) no rule speaks to, hidden by `unmatched: ignore`"),
        "{table}"
    );
    let md = run(base().args(["--format", "markdown"])).stdout;
    assert!(md.contains("Suppressed: 6 key(s) ignored"), "{md}");
    let v = json(&run(base().args(["--format", "json"])).stdout);
    assert_eq!(
        v["suppressed"]["ignored"],
        serde_json::json!([{"pattern": "*_TTL", "keys": 6, "drifting": 2}])
    );
    assert_eq!(v["suppressed"]["allowed"], serde_json::json!({"flags": 1}));
    assert_eq!(v["suppressed"]["unmatched"], 11);
    // The ignored TTL drift is nowhere in the findings.
    assert!(!findings(&v).iter().any(|f| f["key"] == "CART_CACHE_TTL"));
}

// ---------------------------------------------------------------------------
// where policies come from, merging
// ---------------------------------------------------------------------------

#[test]
fn policies_merge_in_order_and_duplicate_ids_stop_the_run() {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--policy", "testdata/policies/invalid/duplicate-ids"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("testdata/policies/invalid/duplicate-ids/b.yaml:7:9: error[duplicate-rule]"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    let r = run(dated().arg("audit").args(demo()).args([
        "--policy",
        "testdata/policies/valid/split",
        "--format",
        "json",
    ]));
    let v = json(&r.stdout);
    assert_eq!(
        v["policy"]["files"],
        serde_json::json!([
            "testdata/policies/valid/split/10-base.yaml",
            "testdata/policies/valid/split/20-team.yaml"
        ])
    );
    // 20-team.yaml says `unmatched: ignore` after 10-base.yaml's `info`.
    assert!(
        !findings(&v).iter().any(|f| f["rule"] == "unmatched"),
        "{:#?}",
        findings(&v)
    );
}

#[test]
fn an_invalid_policy_stops_the_audit_before_reading_any_environment() {
    let r = run(dated()
        .arg("audit")
        .args(["--env", "a=does/not/exist", "--env", "b=neither"])
        .args(["--policy", "testdata/policies/invalid/typo-equals.yaml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("testdata/policies/invalid/typo-equals.yaml:6:5: error[unknown-field]: rules[0].equals (rule db-pool-size)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `equal`?"), "{}", r.stderr);
    assert!(!r.stderr.contains("does/not/exist"), "{}", r.stderr);
}

#[test]
fn policies_come_from_the_flag_else_the_config_file_else_policies_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_dir = dir.path().join("conf");
    std::fs::create_dir_all(cfg_dir.join("rules")).unwrap();
    write(
        &cfg_dir.join("rules"),
        "team.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nunmatched: warning\n",
    );
    let cfg = write(
        &cfg_dir,
        "confdrift.yaml",
        &format!(
            "baseline: prod\nenvironments:\n  staging: {{files: [{}]}}\n  prod: {{files: [{}]}}\npolicies: [rules/]\n",
            data("canary/staging.yaml"),
            data("canary/prod.yaml")
        ),
    );
    let files = |c: &mut assert_cmd::Command| {
        json(&run(c.args(["--format", "json", "--fail-on", "never"])).stdout)["policy"]["files"]
            .clone()
    };
    // The config file's `policies:`, relative to the config file.
    let got = files(dated().arg("audit").arg("--config").arg(&cfg));
    assert_eq!(
        got[0].as_str().map(|s| s.ends_with("conf/rules/team.yaml")),
        Some(true),
        "{got}"
    );
    // --policy replaces it.
    let got = files(
        dated()
            .arg("audit")
            .arg("--config")
            .arg(&cfg)
            .args(["--policy", "policies/default.yaml"]),
    );
    assert_eq!(got, serde_json::json!(["policies/default.yaml"]));
    // No config policies: policies/ of the working directory, if any.
    let envs = [
        "--env".to_string(),
        format!("staging={}", data("canary/staging.yaml")),
        "--env".to_string(),
        format!("prod={}", data("canary/prod.yaml")),
    ];
    let got = files(dated().arg("audit").args(&envs));
    assert_eq!(got, serde_json::json!(["policies/default.yaml"]));
    let got = files(dated().current_dir(dir.path()).arg("audit").args(&envs));
    assert_eq!(got, serde_json::json!([]));
}

// ---------------------------------------------------------------------------
// secrets and determinism
// ---------------------------------------------------------------------------

#[test]
fn value_checks_on_secret_keys_print_no_secret_and_say_they_cannot_check() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "secrets.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nrules:\n  - id: api-key\n    key: [\"*API_KEY\", DSN, \"*SIGNING_KEY\"]\n    forbid: [CANARY-api-PROD-7f3a9c]\n    pattern: 'CANARY.*'\n    range: {min: 1}\n    equal: true\n    severity: critical\n",
    );
    for format in ["table", "json", "markdown"] {
        let r = run(dated()
            .arg("audit")
            .arg("--env")
            .arg(format!("staging={}", data("canary/staging.yaml")))
            .arg("--env")
            .arg(format!("prod={}", data("canary/prod.yaml")))
            .arg("--policy")
            .arg(&p)
            .args(["--format", format, "--fail-on", "never"]));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(
            r.stdout.contains("secret-unchecked") || format != "json",
            "{format}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("cannot be made"),
            "{format}: {}",
            r.stdout
        );
        // The only place a canary may appear is the policy's own text, which is not printed.
        for leak in [
            "CANARY-api-STAGING",
            "CANARY-api-PROD-7f3a9c in",
            "CANARY-db",
            "CANARY-sign",
        ] {
            assert!(
                !r.stdout.contains(leak),
                "{format} leaks {leak}:\n{}",
                r.stdout
            );
        }
        assert!(r.stdout.contains("<redacted A>"), "{format}: {}", r.stdout);
    }
}

#[test]
fn output_with_policies_is_byte_identical_across_runs() {
    for format in ["table", "json", "markdown"] {
        let once = run(dated().arg("audit").args(demo()).args(["--format", format]));
        let twice = run(dated().arg("audit").args(demo()).args(["--format", format]));
        assert_eq!(once.stdout, twice.stdout, "{format}");
    }
}

#[test]
fn diff_applies_the_same_policy_and_explains_each_key() {
    let r = run(dated().args(["diff", "staging", "prod"]).args(demo()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("critical: DB_POOL_SIZE must be the same in staging and prod, but is 20 in staging, 5 in prod (rule connection-pools-equal)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Suppressed by the policy:"),
        "{}",
        r.stdout
    );
}
