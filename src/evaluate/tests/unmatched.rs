//! Drift no rule speaks to, `ignore`, `allow_differ` and stale rules:
//! what is (not) reported, and what is counted.

use super::*;

#[test]
fn drift_no_rule_speaks_to_takes_the_unmatched_severity_or_is_counted_when_ignored() {
    let envs = || vec![env("staging").var("A", "1"), env("prod").var("A", "2")];
    let e = eval("unmatched: warning\n", envs());
    assert_eq!(
        lines(&e),
        ["value-differs unmatched warning: A differs: staging=1, prod=2 (baseline prod)"]
    );
    let e = eval("unmatched: ignore\n", envs());
    assert!(e.findings.is_empty());
    assert_eq!(e.suppressed.unmatched, 1);
    assert!(
        e.suppressed.phrases()[0].contains("1 drift(s) no rule speaks to"),
        "{:?}",
        e.suppressed.phrases()
    );
}

#[test]
fn a_rule_whose_checks_pass_accepts_the_drift() {
    // Within tolerance: the rule spoke, and said it is fine.
    let e = eval(
        "rules:\n  - id: ttl\n    key: TTL\n    unit: s\n    tolerance: {percent: 50}\n",
        vec![
            env("staging").var("TTL", "90"),
            env("prod").var("TTL", "100"),
        ],
    );
    assert!(e.findings.is_empty(), "{:#?}", lines(&e));
}

#[test]
fn ignored_keys_are_invisible_to_rules_and_counted() {
    let e = eval(
        "ignore: [HOSTNAME, \"*_SERVICE_HOST\"]\nrules:\n  - id: all\n    key: \"*\"\n    equal: true\n  - id: host\n    key: HOSTNAME\n    equal: true\n",
        vec![
            env("staging")
                .var("HOSTNAME", "a")
                .var("DB_SERVICE_HOST", "10.0.0.1")
                .var("CACHE_SERVICE_HOST", "10.0.0.2"),
            env("prod")
                .var("HOSTNAME", "b")
                .var("DB_SERVICE_HOST", "10.9.0.1")
                .var("CACHE_SERVICE_HOST", "10.0.0.2"),
        ],
    );
    let l = lines(&e);
    assert_eq!(l.len(), 2, "{l:#?}");
    assert!(l.iter().all(|m| m.starts_with("stale-rule")), "{l:#?}");
    assert!(
        l[0].contains("rule all selects nothing") || l[1].contains("rule all selects nothing"),
        "{l:#?}"
    );
    let host = l
        .iter()
        .find(|m| m.contains("rule host"))
        .cloned()
        .unwrap_or_default();
    assert!(
        host.contains("not ignored by the policy's `ignore` list"),
        "{host}"
    );
    let ignored: Vec<(String, usize, usize)> = e
        .suppressed
        .ignored
        .iter()
        .map(|i| (i.pattern.clone(), i.keys, i.drifting))
        .collect();
    assert_eq!(
        ignored,
        [
            ("HOSTNAME".to_string(), 1, 1),
            ("*_SERVICE_HOST".to_string(), 2, 1)
        ]
    );
}

#[test]
fn allow_differ_lets_listed_keys_differ_and_counts_them() {
    let e = eval(
        "rules:\n  - id: flags\n    kind: flag\n    key: \"*\"\n    equal: true\n    allow_differ: [\"NEW_*\"]\n",
        vec![
            env("staging").flag("NEW_UI", "on").flag("OLD_UI", "on"),
            env("prod").flag("NEW_UI", "off").flag("OLD_UI", "off"),
        ],
    );
    let l = lines(&e);
    assert_eq!(l.len(), 1, "{l:#?}");
    assert!(
        l[0].starts_with("not-equal flags warning: flag OLD_UI"),
        "{l:#?}"
    );
    assert_eq!(e.suppressed.allowed.get("flags"), Some(&1));
}

#[test]
fn a_rule_that_selects_nothing_is_stale_with_a_guess() {
    let e = eval(
        "rules:\n  - id: pool\n    key: DB_POOL_SIZ\n    equal: true\n  - id: generic\n    key: \"*MAX_CONNECTIONS*\"\n    equal: true\n    stale: ignore\n",
        vec![
            env("staging").var("DB_POOL_SIZE", "1"),
            env("prod").var("DB_POOL_SIZE", "1"),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "stale-rule pool info: rule pool selects nothing in staging, prod: nothing matches key DB_POOL_SIZ (did you mean DB_POOL_SIZE?); a renamed or removed key would silently disable its checks (test.yaml:4)"
        ]
    );
    assert_eq!(e.suppressed.stale_ignored, ["generic"]);
}

#[test]
fn a_rule_for_environments_the_run_does_not_have_is_stale() {
    let e = eval(
        "rules:\n  - id: prod-only\n    key: A\n    environments: [production]\n    forbid: [x]\n    stale: warning\n",
        vec![env("staging").var("A", "1"), env("prod").var("A", "1")],
    );
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].severity, Severity::Warning);
    assert!(
        e.findings[0]
            .message
            .contains("its environments (production) match none"),
        "{}",
        e.findings[0].message
    );
}
