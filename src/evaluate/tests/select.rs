//! Selectors: keys, kinds, workloads, containers, ConfigMaps,
//! namespaces, and `when`.

use super::*;

#[test]
fn key_glob_key_regex_and_kind_select() {
    let policy = "rules:\n  - id: glob\n    key: \"*_POOL_*\"\n    equal: true\n  - id: regex\n    key_regex: 'RETRY_(MAX|COUNT)'\n    equal: true\n  - id: flags\n    kind: flag\n    key: \"*\"\n    equal: true\n";
    let e = eval(
        policy,
        vec![
            env("staging")
                .var("DB_POOL_MAX", "1")
                .var("RETRY_MAX", "1")
                .var("RETRY_MAXIMUM", "1")
                .flag("FEATURE_X", "on")
                .var("FEATURE_Y", "1"),
            env("prod")
                .var("DB_POOL_MAX", "2")
                .var("RETRY_MAX", "2")
                .var("RETRY_MAXIMUM", "2")
                .flag("FEATURE_X", "true")
                .var("FEATURE_Y", "2"),
        ],
    );
    let rules: BTreeMap<String, String> = e
        .findings
        .iter()
        .map(|f| (f.key.clone().unwrap_or_default(), f.rule.clone()))
        .collect();
    assert_eq!(rules["DB_POOL_MAX"], "glob");
    assert_eq!(rules["RETRY_MAX"], "regex");
    // The regex is anchored, and the flag rule does not select env vars.
    assert_eq!(rules["RETRY_MAXIMUM"], "unmatched");
    assert_eq!(rules["FEATURE_Y"], "unmatched");
    // "on" and "true" are the same flag state.
    assert!(!rules.contains_key("FEATURE_X"), "{:#?}", lines(&e));
}

#[test]
fn workload_container_configmap_and_namespace_select() {
    let policy = "rules:\n  - id: w\n    key: X\n    workload: \"api-*\"\n    container: server\n    namespace: payments\n    equal: true\n  - id: cm\n    key: X\n    configmap: shop-config\n    equal: true\n";
    let e = eval(
        policy,
        vec![
            env("staging")
                .at("api-eu", "server", "X", "1", "payments")
                .at("api-us", "server", "X", "1", "other")
                .at("web", "server", "X", "1", "payments")
                .cm("shop-config", "X", "1"),
            env("prod")
                .at("api-eu", "server", "X", "2", "payments")
                .at("api-us", "server", "X", "2", "other")
                .at("web", "server", "X", "2", "payments")
                .cm("shop-config", "X", "2"),
        ],
    );
    let got: Vec<(String, String)> = e
        .findings
        .iter()
        .map(|f| (crate::display::location(f), f.rule.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("api-eu/server".to_string(), "w".to_string()),
            ("configmap/shop-config".to_string(), "cm".to_string()),
            ("api-us/server".to_string(), "unmatched".to_string()),
            ("web/server".to_string(), "unmatched".to_string()),
        ]
    );
}

#[test]
fn when_applies_a_rule_only_where_another_key_has_a_value() {
    let policy = "rules:\n  - id: x-needs-url\n    key: X_URL\n    type: url\n    when: {key: FEATURE_X, is: \"on\"}\n";
    let e = eval(
        policy,
        three(
            env("dev")
                .flag("FEATURE_X", "off")
                .var("X_URL", "not a url"),
            env("staging")
                .flag("FEATURE_X", "true")
                .var("X_URL", "not a url"),
            env("prod").var("X_URL", "https://x.example"),
        ),
    );
    let f = by_code(&e, "value-unreadable");
    assert_eq!(f.len(), 1, "{:#?}", lines(&e));
    assert_eq!(f[0].environments, ["staging"]);
}

#[test]
fn when_present_and_one_of() {
    let policy = "rules:\n  - id: r\n    key: A\n    forbid: [bad]\n    when: {key: MODE, one_of: [blue, green]}\n  - id: p\n    key: B\n    forbid: [bad]\n    when: {key: LEGACY, present: false}\n";
    let e = eval(
        policy,
        vec![
            env("staging")
                .var("MODE", "red")
                .var("A", "bad")
                .var("B", "bad")
                .var("LEGACY", "1"),
            env("prod")
                .var("MODE", "GREEN")
                .var("A", "bad")
                .var("B", "bad"),
        ],
    );
    let l: Vec<String> = by_code(&e, "forbidden-value")
        .iter()
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(
        l,
        [
            "A is bad in prod, a forbidden value (forbidden: bad) (rule r)",
            "B is bad in prod, a forbidden value (forbidden: bad) (rule p)",
        ]
    );
}
