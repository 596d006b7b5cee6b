//! Every check: `range`, `equal`, `required`, `forbid`, `one_of`,
//! `pattern`, `tolerance`, `relation`, types and units.

use super::*;

#[test]
fn range_message_names_value_environment_bounds_and_rule() {
    let e = eval(
        "rules:\n  - id: timeout-bounds\n    key: TIMEOUT_MS\n    type: int\n    range: {min: 1000, max: 30000}\n",
        three(
            env("dev").var("TIMEOUT_MS", "3000"),
            env("staging").var("TIMEOUT_MS", "3000"),
            env("prod").var("TIMEOUT_MS", "800"),
        ),
    );
    let f = by_code(&e, "out-of-range");
    assert_eq!(f.len(), 1, "{:#?}", lines(&e));
    assert_eq!(
        f[0].message,
        "TIMEOUT_MS is 800 in prod, outside 1000..30000 (rule timeout-bounds)"
    );
    assert_eq!(f[0].severity, Severity::Warning, "the default severity");
    assert_eq!(f[0].environments, ["prod"]);
    assert_eq!(f[0].values["dev"].as_deref(), Some("3000"));
    // The finding is about the drifting key: the drift is not also `unmatched`.
    assert_eq!(by_code(&e, "value-differs").len(), 0, "{:#?}", lines(&e));
}

#[test]
fn a_range_rule_does_not_speak_to_drift_within_the_range() {
    let e = eval(
        "rules:\n  - id: t\n    key: TIMEOUT_MS\n    range: {min: 1000}\n",
        vec![
            env("staging").var("TIMEOUT_MS", "3000"),
            env("prod").var("TIMEOUT_MS", "2000"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "value-differs unmatched info: TIMEOUT_MS differs: staging=3000, prod=2000 (baseline prod)"
        ]
    );
}

#[test]
fn range_with_one_bound_and_several_environments() {
    let e = eval(
        "rules:\n  - id: pool-min\n    key: POOL\n    range: {min: 10}\n    severity: critical\n",
        three(
            env("dev").var("POOL", "2"),
            env("staging").var("POOL", "10"),
            env("prod").var("POOL", "5"),
        ),
    );
    assert_eq!(
        lines(&e)[0],
        "out-of-range pool-min critical: POOL is 2 in dev and 5 in prod, below the minimum 10 (rule pool-min)"
    );
}

#[test]
fn equal_groups_environments_by_value_and_covers_the_drift() {
    let e = eval(
        "rules:\n  - id: pool\n    key: DB_POOL_SIZE\n    equal: true\n    severity: critical\n",
        three(
            env("dev").var("DB_POOL_SIZE", "20"),
            env("staging").var("DB_POOL_SIZE", "20"),
            env("prod").var("DB_POOL_SIZE", "5"),
        ),
    );
    assert_eq!(
        lines(&e),
        [
            "not-equal pool critical: DB_POOL_SIZE must be the same in dev, staging and prod, but is 20 in dev and staging, 5 in prod (rule pool)"
        ]
    );
    assert_eq!(e.findings[0].environments, ["dev", "staging", "prod"]);
}

#[test]
fn equal_values_give_no_finding() {
    let e = eval(
        "rules:\n  - id: pool\n    key: DB_POOL_SIZE\n    equal: true\n",
        three(
            env("dev").var("DB_POOL_SIZE", "20"),
            env("staging").var("DB_POOL_SIZE", "20"),
            env("prod").var("DB_POOL_SIZE", "20"),
        ),
    );
    assert!(e.findings.is_empty(), "{:#?}", lines(&e));
}

#[test]
fn equal_sees_a_trailing_newline_or_space() {
    // `POOL: |` gives "20\n", which Atoi and parseInt reject: not equal.
    for staging in ["20\n", " 20 "] {
        let e = eval(
            "rules:\n  - id: pool\n    key: DB_POOL_SIZE\n    equal: true\n",
            three(
                env("dev").var("DB_POOL_SIZE", "20"),
                env("staging").var("DB_POOL_SIZE", staging),
                env("prod").var("DB_POOL_SIZE", "20"),
            ),
        );
        assert_eq!(e.findings.len(), 1, "{staging:?}: {:#?}", lines(&e));
    }
}

#[test]
fn equal_reports_a_key_missing_somewhere() {
    let e = eval(
        "rules:\n  - id: pool\n    key: DB_POOL_SIZE\n    equal: true\n",
        vec![env("staging").var("DB_POOL_SIZE", "20"), env("prod")],
    );
    assert_eq!(
        lines(&e),
        [
            "not-equal pool warning: DB_POOL_SIZE must be the same in staging and prod, but is 20 in staging, not set in prod (rule pool)"
        ]
    );
}

#[test]
fn durations_in_different_spellings_are_equal_under_a_unit() {
    let e = eval(
        "rules:\n  - id: t\n    key: TIMEOUT\n    unit: ms\n    equal: true\n",
        three(
            env("dev").var("TIMEOUT", "30s"),
            env("staging").var("TIMEOUT", "30000"),
            env("prod").var("TIMEOUT", "30000ms"),
        ),
    );
    assert!(e.findings.is_empty(), "{:#?}", lines(&e));
    let e = eval(
        "rules:\n  - id: t\n    key: TIMEOUT\n    unit: ms\n    equal: true\n",
        vec![
            env("staging").var("TIMEOUT", "30s"),
            env("prod").var("TIMEOUT", "3000"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "not-equal t warning: TIMEOUT must be the same in staging and prod, but is 30s in staging, 3000 in prod (rule t)"
        ]
    );
}

#[test]
fn quantities_in_different_spellings_are_equal() {
    let e = eval(
        "rules:\n  - id: mem\n    key: CACHE_SIZE\n    type: quantity\n    equal: true\n    range: {max: 1Gi}\n",
        three(
            env("dev").var("CACHE_SIZE", "512Mi"),
            env("staging").var("CACHE_SIZE", "536870912"),
            env("prod").var("CACHE_SIZE", "512MiB"),
        ),
    );
    assert!(e.findings.is_empty(), "{:#?}", lines(&e));
    let e = eval(
        "rules:\n  - id: mem\n    key: CACHE_SIZE\n    unit: MiB\n    range: {max: 1Gi}\n",
        vec![
            env("staging").var("CACHE_SIZE", "512"),
            env("prod").var("CACHE_SIZE", "2Gi"),
        ],
    );
    assert_eq!(
        lines(&e)[0],
        "out-of-range mem warning: CACHE_SIZE is 2Gi (2048MiB) in prod, above the maximum 1Gi (rule mem)"
    );
}

#[test]
fn booleans_compare_by_meaning_under_type_bool() {
    let e = eval(
        "rules:\n  - id: b\n    key: CACHE_ENABLED_X\n    type: bool\n    equal: true\n",
        three(
            env("dev").var("CACHE_ENABLED_X", "on"),
            env("staging").var("CACHE_ENABLED_X", "TRUE"),
            env("prod").var("CACHE_ENABLED_X", "1"),
        ),
    );
    assert!(e.findings.is_empty(), "{:#?}", lines(&e));
}

#[test]
fn a_value_that_cannot_be_read_as_the_type_is_a_finding_not_a_pass() {
    let e = eval(
        "rules:\n  - id: t\n    key: TIMEOUT\n    type: duration\n    range: {max: 1m}\n    severity: critical\n",
        three(
            env("dev").var("TIMEOUT", "30"),
            env("staging").var("TIMEOUT", "soon"),
            env("prod").var("TIMEOUT", "30s"),
        ),
    );
    let f = by_code(&e, "value-unreadable");
    assert_eq!(f.len(), 1, "{:#?}", lines(&e));
    assert_eq!(
        f[0].message,
        "TIMEOUT is \"30\" in dev and \"soon\" in staging, which cannot be read as a duration (rule t)"
    );
    assert_eq!(f[0].severity, Severity::Critical);
    // One reason is given when all environments share it.
    let e = eval(
        "rules:\n  - id: n\n    key: POOL\n    type: int\n",
        vec![
            env("staging").var("POOL", "ten"),
            env("prod").var("POOL", "10"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "value-unreadable n warning: POOL is \"ten\" in staging, which cannot be read as an integer: it is not a whole number (rule n)"
        ]
    );
}

#[test]
fn forbid_compares_booleans_by_meaning_and_text_ignoring_case_in_selected_environments() {
    let policy = "rules:\n  - id: no-debug\n    key: [DEBUG, LOG_LEVEL]\n    environments: [\"prod*\"]\n    forbid: [\"true\", debug]\n    severity: critical\n";
    let e = eval(
        policy,
        three(
            env("dev").var("DEBUG", "true").var("LOG_LEVEL", "debug"),
            env("staging").var("DEBUG", "1").var("LOG_LEVEL", "info"),
            env("prod-eu").var("DEBUG", "yes").var("LOG_LEVEL", "DEBUG"),
        ),
    );
    let f = by_code(&e, "forbidden-value");
    let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "DEBUG is yes in prod-eu, a forbidden value (forbidden: true, debug) (rule no-debug)",
            "LOG_LEVEL is DEBUG in prod-eu, a forbidden value (forbidden: true, debug) (rule no-debug)",
        ]
    );
}

#[test]
fn forbid_applies_even_when_every_environment_agrees() {
    let e = eval(
        "rules:\n  - id: no-debug\n    key: DEBUG\n    environments: [prod]\n    forbid: [\"true\"]\n    severity: critical\n",
        vec![
            env("staging").var("DEBUG", "true"),
            env("prod").var("DEBUG", "true"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "forbidden-value no-debug critical: DEBUG is true in prod, a forbidden value (forbidden: true) (rule no-debug)"
        ]
    );
}

#[test]
fn one_of_and_pattern() {
    let e = eval(
        "rules:\n  - id: fmt\n    key: LOG_FORMAT\n    one_of: [json, logfmt]\n  - id: tag\n    key: IMAGE_TAG\n    pattern: 'v[0-9]+\\.[0-9]+'\n",
        vec![
            env("staging")
                .var("LOG_FORMAT", "JSON")
                .var("IMAGE_TAG", "v1.2"),
            env("prod")
                .var("LOG_FORMAT", "text")
                .var("IMAGE_TAG", "v1.2-hotfix"),
        ],
    );
    let l = lines(&e);
    assert!(l.contains(&"not-one-of fmt warning: LOG_FORMAT is text in prod, not one of the allowed values json, logfmt (rule fmt)".to_string()), "{l:#?}");
    // Anchored: the whole value must match.
    assert!(l.contains(&"pattern-mismatch tag warning: IMAGE_TAG is v1.2-hotfix in prod, which does not match the pattern v[0-9]+\\.[0-9]+ (rule tag)".to_string()), "{l:#?}");
    assert_eq!(by_code(&e, "pattern-mismatch").len(), 1);
}

#[test]
fn tolerance_in_percent_against_the_run_baseline() {
    let e = eval(
        "rules:\n  - id: ttl\n    key: CACHE_TTL\n    unit: s\n    tolerance: {percent: 20}\n",
        three(
            env("dev").var("CACHE_TTL", "300"),
            env("staging").var("CACHE_TTL", "55m"),
            env("prod").var("CACHE_TTL", "1h"),
        ),
    );
    assert_eq!(
        lines(&e),
        [
            "out-of-tolerance ttl warning: CACHE_TTL is 300 in dev (-92%), more than 20% away from prod's 1h (rule ttl)"
        ]
    );
}

#[test]
fn tolerance_absolute_against_a_named_baseline() {
    let e = eval(
        "rules:\n  - id: t\n    key: TIMEOUT_MS\n    unit: ms\n    tolerance: {absolute: 500, baseline: staging}\n",
        three(
            env("dev").var("TIMEOUT_MS", "3400"),
            env("staging").var("TIMEOUT_MS", "3000"),
            env("prod").var("TIMEOUT_MS", "2s"),
        ),
    );
    assert_eq!(
        lines(&e),
        [
            "out-of-tolerance t warning: TIMEOUT_MS is 2s (2000ms) in prod (-33%), more than 500ms away from staging's 3000 (rule t)"
        ]
    );
}

#[test]
fn relation_between_environments() {
    let policy = "rules:\n  - id: pool-order\n    key: POOL\n    type: int\n    relation: [\"prod >= staging\"]\n    severity: critical\n";
    let e = eval(
        policy,
        vec![
            env("staging").var("POOL", "20"),
            env("prod").var("POOL", "5"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "relation-violated pool-order critical: POOL is 5 in prod, but must be >= staging's 20 (rule pool-order)"
        ]
    );
    let e = eval(
        policy,
        vec![
            env("staging").var("POOL", "5"),
            env("prod").var("POOL", "20"),
        ],
    );
    assert!(
        e.findings.is_empty(),
        "a relation that holds speaks to the drift: {:#?}",
        lines(&e)
    );
}

#[test]
fn a_check_naming_an_environment_not_in_the_run_says_it_was_skipped() {
    let e = eval(
        "rules:\n  - id: pool-order\n    key: POOL\n    relation: \"prod >= qa\"\n",
        vec![
            env("staging").var("POOL", "20"),
            env("prod").var("POOL", "5"),
        ],
    );
    let f = by_code(&e, "check-skipped");
    assert_eq!(f.len(), 1, "{:#?}", lines(&e));
    assert!(
        f[0].message
            .contains("relation `prod >= qa` (no environment qa)"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("test.yaml:"), "{}", f[0].message);
}

#[test]
fn required_reports_where_a_key_is_missing_but_not_where_the_container_is_absent() {
    let e = eval(
        "rules:\n  - id: present\n    key: \"*\"\n    required: true\n",
        three(
            env("dev").var("A", "1"),
            env("staging")
                .var("A", "1")
                .at("worker", "w", "B", "x", "shop"),
            env("prod")
                .var("A", "1")
                .var("NEW", "1")
                .workload("worker", "w", "shop"),
        ),
    );
    assert_eq!(
        lines(&e),
        [
            "required-missing present warning: NEW is not set in dev and staging (it is set in prod) (rule present)",
            "required-missing present warning: B is not set in prod (it is set in staging) (rule present)",
            "workload-missing unmatched info: workload worker is missing in dev (present in staging, prod)",
        ]
    );
}

#[test]
fn required_on_a_named_key_checks_every_selected_container_even_where_no_environment_sets_it() {
    let e = eval(
        "rules:\n  - id: otel\n    key: OTEL_SERVICE_NAME\n    workload: app\n    required: true\n",
        vec![env("staging"), env("prod")],
    );
    assert_eq!(
        lines(&e),
        [
            "required-missing otel warning: OTEL_SERVICE_NAME is not set in staging and prod, and in no other environment (rule otel)"
        ]
    );
}

#[test]
fn severity_by_env_uses_the_worst_environment_a_finding_is_about() {
    let policy = "rules:\n  - id: present\n    key: \"*\"\n    required: true\n    severity: warning\n    severity_by_env: {dev: info, \"prod*\": critical}\n";
    let e = eval(
        policy,
        vec![env("dev"), env("staging"), env("prod").var("X", "1")],
    );
    // One finding for dev and staging together: the worse of info and warning.
    assert_eq!(
        e.findings[0].severity,
        Severity::Warning,
        "{:#?}",
        lines(&e)
    );
    let e = eval(policy, vec![env("dev"), env("prod").var("X", "1")]);
    assert_eq!(e.findings[0].severity, Severity::Info);
    let e = eval(policy, vec![env("dev").var("X", "1"), env("prod")]);
    assert_eq!(e.findings[0].severity, Severity::Critical);
}
