//! Secrets, unresolved and per-pod values: checks that cannot be made
//! say so, and never print a value.

use super::*;

#[test]
fn value_checks_on_a_secret_say_they_cannot_be_made_and_print_no_value() {
    let e = eval(
        "rules:\n  - id: key\n    key: API_KEY\n    forbid: [changeme]\n    pattern: 'sk_live_.*'\n    equal: true\n",
        vec![
            env("staging").secret("API_KEY", "aaaa"),
            env("prod").secret("API_KEY", "bbbb"),
        ],
    );
    let l = lines(&e);
    assert_eq!(
        l,
        [
            "not-equal key warning: API_KEY must be the same in staging and prod, but is <redacted A> in staging, <redacted B> in prod (rule key)",
            "secret-unchecked key warning: API_KEY comes from a Secret in staging and prod, so its forbid/pattern check cannot be made: confdrift keeps only a fingerprint of a Secret value (rule key)",
        ]
    );
    for f in &e.findings {
        assert!(
            !format!("{f:?}").contains("aaaa") && !format!("{f:?}").contains("bbbb"),
            "{f:?}"
        );
    }
}

#[test]
fn equal_secrets_by_fingerprint_give_no_finding() {
    let e = eval(
        "rules:\n  - id: key\n    key: API_KEY\n    equal: true\n",
        vec![
            env("staging").secret("API_KEY", "same"),
            env("prod").secret("API_KEY", "same"),
        ],
    );
    assert!(e.findings.is_empty());
}

#[test]
fn unresolved_and_per_pod_values_cannot_be_checked_and_say_so() {
    let e = eval(
        "rules:\n  - id: u\n    key: [URL, POD_IP]\n    type: url\n    equal: true\n",
        vec![
            env("staging")
                .put(
                    main(),
                    ConfigKind::Env,
                    "URL",
                    Value::Unresolved("ConfigMap cfg not found".into()),
                )
                .put(
                    main(),
                    ConfigKind::Env,
                    "POD_IP",
                    Value::FieldRef("status.podIP".into()),
                ),
            env("prod").var("URL", "https://x.example").put(
                main(),
                ConfigKind::Env,
                "POD_IP",
                Value::FieldRef("status.podIP".into()),
            ),
        ],
    );
    let l = lines(&e);
    assert!(l.contains(&"value-unresolved u warning: URL cannot be checked in staging (ConfigMap cfg not found): the value is unresolved (rule u)".to_string()), "{l:#?}");
    assert!(l.iter().any(|m| m.starts_with("value-unreadable u warning: POD_IP is <fieldRef status.podIP> in staging and <fieldRef status.podIP> in prod")), "{l:#?}");
    assert_eq!(by_code(&e, "not-equal").len(), 0, "{l:#?}");
}
