//! The rule engine, end to end from policy text to findings: every check,
//! selector, unit conversion, waiver state, and what is (not) suppressed.
//! Inventories are built by hand so each test shows exactly the values it
//! is about.

use std::collections::BTreeMap;

use super::{CODES, Evaluation, evaluate};
use crate::compare::compare;
use crate::model::{
    ConfigKind, Entry, Finding, Fingerprint, Inventory, Provenance, Scope, Severity, Subject,
    Value, WorkloadInfo,
};
use crate::policy::{Date, load_sources};

mod one_cause;

const HEAD: &str = "apiVersion: confdrift/v1\nkind: Policy\n";

fn today() -> Date {
    crate::policy::date::parse("2026-06-01").expect("a date")
}

/// One environment: workload `app` with container `main` in namespace `shop`.
struct Env {
    inv: Inventory,
    /// The subject added last, for `from`.
    last: Option<Subject>,
}

fn env(name: &str) -> Env {
    let mut inv = Inventory {
        env: name.to_string(),
        source: format!("{name}.yaml"),
        ..Inventory::default()
    };
    inv.workloads.insert(
        "app".into(),
        WorkloadInfo {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            pods: 1,
            containers: ["main".to_string()].into_iter().collect(),
            origin: None,
        },
    );
    Env { inv, last: None }
}

impl Env {
    fn put(mut self, scope: Scope, kind: ConfigKind, key: &str, value: Value) -> Self {
        let subject = Subject {
            scope,
            kind,
            key: key.into(),
        };
        self.last = Some(subject.clone());
        self.inv.entries.insert(
            subject,
            Entry {
                value,
                provenance: Provenance::Literal,
                namespace: "shop".into(),
            },
        );
        self
    }
    /// `KEY=value` in app/main.
    fn var(self, key: &str, value: &str) -> Self {
        self.put(main(), ConfigKind::Env, key, Value::Text(value.into()))
    }
    fn flag(self, key: &str, value: &str) -> Self {
        self.put(main(), ConfigKind::Flag, key, Value::Text(value.into()))
    }
    fn secret(self, key: &str, mac: &str) -> Self {
        self.put(
            main(),
            ConfigKind::Env,
            key,
            Value::Secret(Fingerprint {
                key_id: "k".into(),
                mac: mac.into(),
            }),
        )
    }
    fn workload(mut self, workload: &str, container: &str, ns: &str) -> Self {
        self.inv
            .workloads
            .entry(workload.into())
            .or_insert_with(|| WorkloadInfo {
                kind: "Deployment".into(),
                namespace: ns.into(),
                pods: 1,
                containers: Default::default(),
                origin: None,
            })
            .containers
            .insert(container.into());
        self
    }
    fn at(mut self, workload: &str, container: &str, key: &str, value: &str, ns: &str) -> Self {
        self = self.workload(workload, container, ns);
        let subject = Subject {
            scope: Scope::Container {
                workload: workload.into(),
                container: container.into(),
            },
            kind: ConfigKind::Env,
            key: key.into(),
        };
        self.last = Some(subject.clone());
        self.inv.entries.insert(
            subject,
            Entry {
                value: Value::Text(value.into()),
                provenance: Provenance::Literal,
                namespace: ns.into(),
            },
        );
        self
    }
    fn cm(mut self, name: &str, key: &str, value: &str) -> Self {
        self.inv.configmaps.insert(name.into());
        self.put(
            Scope::ConfigMap { name: name.into() },
            ConfigKind::ConfigMap,
            key,
            Value::Text(value.into()),
        )
        .from(Provenance::ConfigMapData {
            name: name.into(),
            key: key.into(),
        })
    }
    /// Sets the provenance of the entry added last.
    fn from(mut self, provenance: Provenance) -> Self {
        if let Some(s) = self.last.clone()
            && let Some(e) = self.inv.entries.get_mut(&s)
        {
            e.provenance = provenance;
        }
        self
    }
}

fn main() -> Scope {
    Scope::Container {
        workload: "app".into(),
        container: "main".into(),
    }
}

fn eval_at(policy: &str, envs: Vec<Env>, day: Date) -> Evaluation {
    let loaded = load_sources(&[("test.yaml".to_string(), format!("{HEAD}{policy}"))], day);
    assert_eq!(loaded.errors(), 0, "{}", loaded.render(None));
    let invs: Vec<Inventory> = envs.into_iter().map(|e| e.inv).collect();
    let baseline = invs.last().map(|i| i.env.clone()).unwrap_or_default();
    let cmp = compare(&invs, &baseline);
    evaluate(&cmp, &invs, &loaded.set, day)
}

fn eval(policy: &str, envs: Vec<Env>) -> Evaluation {
    eval_at(policy, envs, today())
}

/// `code rule severity: message` per finding, for compact assertions.
fn lines(e: &Evaluation) -> Vec<String> {
    e.findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}{}: {}",
                f.code,
                f.rule,
                f.severity,
                if f.waiver.is_some() { " waived" } else { "" },
                f.message
            )
        })
        .collect()
}

fn by_code<'a>(e: &'a Evaluation, code: &str) -> Vec<&'a Finding> {
    e.findings.iter().filter(|f| f.code == code).collect()
}

fn three(dev: Env, staging: Env, prod: Env) -> Vec<Env> {
    vec![dev, staging, prod]
}

// ---------------------------------------------------------------------------
// checks
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// selectors
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// secrets, unresolved and per-pod values
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// unmatched, ignore, allow_differ, stale
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// waivers
// ---------------------------------------------------------------------------

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
    assert_eq!(super::summarize(&e.findings).waived, 1);
    assert_eq!(super::summarize(&e.findings).critical, 0);
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

// ---------------------------------------------------------------------------
// codes, determinism
// ---------------------------------------------------------------------------

#[test]
fn every_code_the_engine_emits_is_listed_and_output_is_deterministic() {
    let policy = "unmatched: info\nrules:\n  - id: all\n    key: \"*\"\n    required: true\n  - id: t\n    key: [T, S, U]\n    type: int\n    range: {min: 10}\n    tolerance: {percent: 1}\n    relation: [\"staging > prod\", \"prod > qa\"]\n    forbid: [\"99\"]\n    one_of: [\"1\", \"2\", \"99\"]\n    pattern: '[0-9]'\n    equal: true\n  - id: stale\n    key: NOPE\n    equal: true\nwaivers:\n  - rule: t\n    reason: old\n    expires: 2020-01-01\n  - rule: all\n    key: NOTHING\n    reason: unused\n";
    let envs = || {
        vec![
            env("staging")
                .var("T", "1")
                .var("U", "x")
                .secret("S", "a")
                .var("ONLY", "1"),
            env("prod").var("T", "99").var("U", "y").secret("S", "b"),
        ]
    };
    let e = eval(policy, envs());
    let known: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
    let mut seen = std::collections::BTreeSet::new();
    for f in &e.findings {
        assert!(
            known.contains(&f.code.as_str()),
            "{} is not in CODES",
            f.code
        );
        seen.insert(f.code.clone());
    }
    for code in [
        "required-missing",
        "out-of-range",
        "out-of-tolerance",
        "relation-violated",
        "forbidden-value",
        "not-equal",
        "value-unreadable",
        "secret-unchecked",
        "stale-rule",
        "check-skipped",
        "waiver-expired",
        "waiver-unused",
    ] {
        assert!(seen.contains(code), "{code} not produced: {:#?}", lines(&e));
    }
    assert_eq!(lines(&e), lines(&eval(policy, envs())));
}
