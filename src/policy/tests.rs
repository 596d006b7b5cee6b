//! Loading policies: files merge in order, and what is wrong across files
//! (a rule id given twice, a waiver for a rule no file defines) is found
//! once they are merged. Applying the rules is tested in
//! `evaluate::tests`.

use super::{Date, load_sources};
use crate::model::Severity;

const HEAD: &str = "apiVersion: confdrift/v1\nkind: Policy\n";

fn today() -> Date {
    super::date::parse("2026-06-01").expect("a date")
}

#[test]
fn files_merge_in_order_and_duplicate_rule_ids_are_errors() {
    let a = format!(
        "{HEAD}ignore: [A]\nunmatched: warning\nrules:\n  - id: r\n    key: X\n    equal: true\n"
    );
    let b = format!(
        "{HEAD}ignore: [B]\nunmatched: critical\nrules:\n  - id: r\n    key: Y\n    equal: true\n  - id: s\n    key: Y\n    equal: true\n"
    );
    let loaded = load_sources(&[("a.yaml".into(), a), ("b.yaml".into(), b)], today());
    assert_eq!(loaded.errors(), 1);
    assert_eq!(
        loaded.render(None),
        "b.yaml:6:9: error[duplicate-rule]: rules[0].id (rule r): rule id `r` is already defined at a.yaml:6:9\n  |\n6 |   - id: r\n  |         ^\n  help: rule ids must be unique across all merged policy files; rename one\n"
    );
    let ids: Vec<&str> = loaded.set.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r", "s"]);
    let ignore: Vec<&str> = loaded.set.ignore.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(ignore, ["A", "B"]);
    assert_eq!(
        loaded.set.unmatched,
        super::model::Unmatched::Report(Severity::Critical)
    );
}

#[test]
fn a_waiver_for_an_unknown_rule_suggests_the_closest_id() {
    let loaded = load_sources(
        &[(
            "w.yaml".into(),
            format!(
                "{HEAD}rules:\n  - id: db-pool\n    key: X\n    equal: true\nwaivers:\n  - rule: db-pools\n    reason: r\n"
            ),
        )],
        today(),
    );
    assert_eq!(
        loaded.render(None),
        "w.yaml:8:11: error[unknown-rule]: waivers[0].rule: the waiver names rule `db-pools`, which no policy defines\n  |\n8 |   - rule: db-pools\n  |           ^^^^^^^^\n  help: did you mean `db-pool`?\n"
    );
}
