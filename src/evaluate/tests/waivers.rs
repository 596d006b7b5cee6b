//! Waivers: what they hide, in which environments, until when, and
//! the ones that match nothing.

use super::*;

const POOL_RULE: &str =
    "rules:\n  - id: pool\n    key: POOL\n    range: {min: 10}\n    severity: critical\n";

fn pool_envs() -> Vec<Env> {
    three(
        env("dev").var("POOL", "2"),
        env("staging").var("POOL", "20"),
        env("prod").var("POOL", "5"),
    )
}

#[test]
fn a_waived_finding_is_reported_as_waived_and_does_not_count() {
    let e = eval(
        &format!(
            "{POOL_RULE}waivers:\n  - rule: pool\n    key: POOL\n    reason: sized down on purpose\n    owner: team-db\n    expires: 2026-12-31\n"
        ),
        pool_envs(),
    );
    assert_eq!(e.findings.len(), 1, "{:#?}", lines(&e));
    let f = &e.findings[0];
    assert_eq!(
        f.waiver.as_deref(),
        Some("sized down on purpose (owner team-db, until 2026-12-31, test.yaml:9)")
    );
    assert_eq!(crate::evaluate::summarize(&e.findings).waived, 1);
    assert_eq!(crate::evaluate::summarize(&e.findings).critical, 0);
    assert_eq!(e.suppressed.waived.get("pool"), Some(&1));
}

#[test]
fn a_waiver_for_some_environments_splits_the_finding() {
    let e = eval(
        &format!(
            "{POOL_RULE}waivers:\n  - rule: pool\n    environments: [dev]\n    reason: dev is small\n"
        ),
        pool_envs(),
    );
    assert_eq!(
        lines(&e),
        [
            "out-of-range pool critical: POOL is 5 in prod, below the minimum 10 (rule pool)",
            "out-of-range pool critical waived: POOL is 2 in dev, below the minimum 10 (rule pool)",
        ]
    );
}

#[test]
fn a_waiver_is_in_force_through_its_expiry_date_and_expired_the_day_after() {
    let policy = format!(
        "{POOL_RULE}waivers:\n  - rule: pool\n    reason: temporary\n    expires: 2026-06-01\n"
    );
    let e = eval_at(
        &policy,
        pool_envs(),
        crate::policy::date::parse("2026-06-01").expect("date"),
    );
    assert!(
        e.findings.iter().all(|f| f.waiver.is_some()),
        "{:#?}",
        lines(&e)
    );
    let e = eval_at(
        &policy,
        pool_envs(),
        crate::policy::date::parse("2026-06-02").expect("date"),
    );
    assert_eq!(
        lines(&e),
        [
            "out-of-range pool critical: POOL is 2 in dev and 5 in prod, below the minimum 10 (rule pool)",
            "waiver-expired pool warning: the waiver for rule pool (\"temporary\") expired on 2026-06-01 and no longer applies: the 1 finding(s) it matched are reported again; renew it or fix them (test.yaml:9)",
        ]
    );
}

#[test]
fn a_waiver_that_matches_nothing_is_reported() {
    let e = eval(
        &format!(
            "{POOL_RULE}waivers:\n  - rule: pool\n    workload: billing\n    reason: legacy\n"
        ),
        pool_envs(),
    );
    let f = by_code(&e, "waiver-unused");
    assert_eq!(f.len(), 1, "{:#?}", lines(&e));
    assert_eq!(
        f[0].message,
        "the waiver for rule pool, workload billing (\"legacy\") matches no finding: remove it, or check its fields (test.yaml:9)"
    );
    assert_eq!(f[0].severity, Severity::Info);
}

#[test]
fn built_in_findings_can_be_waived_too() {
    let e = eval(
        "waivers:\n  - rule: unmatched\n    key: A\n    kind: env\n    reason: known\n",
        vec![
            env("staging").var("A", "1").var("B", "1"),
            env("prod").var("A", "2").var("B", "2"),
        ],
    );
    let waived: Vec<bool> = e.findings.iter().map(|f| f.waiver.is_some()).collect();
    assert_eq!(waived, [true, false], "{:#?}", lines(&e));
}
