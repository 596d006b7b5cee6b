//! One cause, one finding: a consumed ConfigMap key drifts where it takes
//! effect, a flagd document drifts as its flags, and a key's absence is
//! judged by the presence rule alone (issue #13).

use super::*;
use crate::model::RefKind;

const POOL_RULE: &str = "rules:\n  - id: pools\n    key: \"*POOL_SIZE\"\n    kind: [env, configmap]\n    equal: true\n    severity: critical\n";

impl Env {
    /// `key` of ConfigMap `id` (object `object` in namespace `ns`).
    fn cm_object(mut self, id: &str, object: &str, ns: &str, key: &str, value: &str) -> Self {
        self = self.cm(id, key, value).from(Provenance::ConfigMapData {
            name: object.into(),
            key: key.into(),
        });
        self.in_ns(ns)
    }
    /// Sets the namespace of the entry added last.
    fn in_ns(mut self, ns: &str) -> Self {
        if let Some(s) = self.last.clone()
            && let Some(e) = self.inv.entries.get_mut(&s)
        {
            e.namespace = ns.into();
        }
        self
    }
    /// app/main's `var`, from `configMapKeyRef` to `object`'s `key`.
    fn reads_cm(self, var: &str, object: &str, key: &str, value: &str) -> Self {
        self.var(var, value).from(Provenance::ConfigMapKey {
            name: object.into(),
            key: key.into(),
        })
    }
    /// A file in app/main mounted from `object`'s `key`.
    fn mounted(self, path: &str, object: &str, key: &str, value: &str) -> Self {
        self.put(main(), ConfigKind::File, path, Value::Text(value.into()))
            .from(Provenance::Mounted {
                source: RefKind::ConfigMap,
                name: object.into(),
                key: key.into(),
            })
    }
    /// A flag of a flagd document (`doc` in ConfigMap `id`).
    fn flagd(self, id: &str, doc: &str, flag: &str, value: &str) -> Self {
        self.put(
            Scope::ConfigMap { name: id.into() },
            ConfigKind::Flag,
            flag,
            Value::Text(value.into()),
        )
        .from(Provenance::Flagd {
            configmap: id.into(),
            key: doc.into(),
        })
    }
}

/// Finding subjects, for assertions about where a finding is reported.
fn at(e: &Evaluation) -> Vec<String> {
    e.findings
        .iter()
        .map(|f| {
            let scope = match (&f.workload, &f.container, &f.configmap) {
                (Some(w), Some(c), _) => format!("{w}/{c}"),
                (_, _, Some(cm)) => format!("configmap/{cm}"),
                _ => "-".into(),
            };
            format!(
                "{} {scope} {} {}",
                f.severity,
                f.key.as_deref().unwrap_or("-"),
                f.code
            )
        })
        .collect()
}

#[test]
fn a_drifting_configmap_key_that_a_container_reads_is_one_finding_at_the_container() {
    let e = eval(
        POOL_RULE,
        vec![
            env("staging")
                .cm("shop-config", "DB_POOL_SIZE", "20")
                .reads_cm("DB_POOL_SIZE", "shop-config", "DB_POOL_SIZE", "20"),
            env("prod").cm("shop-config", "DB_POOL_SIZE", "5").reads_cm(
                "DB_POOL_SIZE",
                "shop-config",
                "DB_POOL_SIZE",
                "5",
            ),
        ],
    );
    assert_eq!(at(&e), ["critical app/main DB_POOL_SIZE not-equal"]);
    // Its source names the ConfigMap key, in every environment.
    assert_eq!(
        e.findings[0].sources.get("prod").map(String::as_str),
        Some("ConfigMap shop-config/DB_POOL_SIZE")
    );
    assert_eq!(e.suppressed.same_cause, 1);
    assert!(
        e.suppressed
            .phrases()
            .iter()
            .any(|p| p.contains("1 finding(s) of the same cause")),
        "{:?}",
        e.suppressed.phrases()
    );
}

#[test]
fn a_drifting_configmap_key_that_no_container_reads_stays_at_the_configmap() {
    let e = eval(
        POOL_RULE,
        vec![
            env("staging").cm("shop-config", "DB_POOL_SIZE", "20"),
            env("prod").cm("shop-config", "DB_POOL_SIZE", "5"),
        ],
    );
    assert_eq!(
        at(&e),
        ["critical configmap/shop-config DB_POOL_SIZE not-equal"]
    );
    assert_eq!(e.suppressed.same_cause, 0);
}

#[test]
fn a_configmap_key_read_in_one_environment_only_stays_at_the_configmap_too() {
    // prod's container sets the variable itself: the ConfigMap's 5 reaches
    // nobody there, so the container's finding does not show its drift.
    let e = eval(
        POOL_RULE,
        vec![
            env("staging")
                .cm("shop-config", "DB_POOL_SIZE", "20")
                .reads_cm("DB_POOL_SIZE", "shop-config", "DB_POOL_SIZE", "20"),
            env("prod")
                .cm("shop-config", "DB_POOL_SIZE", "5")
                .var("DB_POOL_SIZE", "5"),
        ],
    );
    assert_eq!(
        at(&e),
        [
            "critical app/main DB_POOL_SIZE not-equal",
            "critical configmap/shop-config DB_POOL_SIZE not-equal",
        ]
    );
}

#[test]
fn consumers_are_matched_by_the_real_object_name_through_renames_and_hash_suffixes() {
    // kustomize's hash suffix in staging, a `rename` in prod: the subjects
    // say `shop-config`, the pods refer to the objects by their real names.
    let e = eval(
        POOL_RULE,
        vec![
            env("staging")
                .cm_object(
                    "shop-config",
                    "shop-config-7h2g9k5c4m",
                    "shop",
                    "DB_POOL_SIZE",
                    "20",
                )
                .reads_cm(
                    "DB_POOL_SIZE",
                    "shop-config-7h2g9k5c4m",
                    "DB_POOL_SIZE",
                    "20",
                ),
            env("prod")
                .cm_object(
                    "shop-config",
                    "prod-shop-config",
                    "shop",
                    "DB_POOL_SIZE",
                    "5",
                )
                .reads_cm("DB_POOL_SIZE", "prod-shop-config", "DB_POOL_SIZE", "5"),
        ],
    );
    assert_eq!(at(&e), ["critical app/main DB_POOL_SIZE not-equal"]);
}

#[test]
fn a_same_named_configmap_in_another_namespace_is_not_the_one_a_pod_reads() {
    // Two namespaces, each with a `cfg`: ids are namespace-qualified and a
    // pod in `shop` reads only shop/cfg.
    let both = |e: Env, pool: &str| {
        e.cm_object("shop/cfg", "cfg", "shop", "DB_POOL_SIZE", pool)
            .cm_object("other/cfg", "cfg", "other", "DB_POOL_SIZE", pool)
            .reads_cm("DB_POOL_SIZE", "cfg", "DB_POOL_SIZE", pool)
    };
    let e = eval(
        POOL_RULE,
        vec![both(env("staging"), "20"), both(env("prod"), "5")],
    );
    assert_eq!(
        at(&e),
        [
            "critical app/main DB_POOL_SIZE not-equal",
            "critical configmap/other/cfg DB_POOL_SIZE not-equal",
        ]
    );
}

#[test]
fn a_configmap_finding_that_counts_for_more_stays_and_the_consumers_plain_drift_goes() {
    // The rule speaks to ConfigMap keys only: the container's drift is
    // `unmatched` info, and the critical must not be lost to it; the info is
    // the same cause.
    let policy = "rules:\n  - id: pools\n    key: \"*POOL_SIZE\"\n    kind: configmap\n    equal: true\n    severity: critical\n";
    let e = eval(
        policy,
        vec![
            env("staging")
                .cm("shop-config", "DB_POOL_SIZE", "20")
                .reads_cm("DB_POOL_SIZE", "shop-config", "DB_POOL_SIZE", "20"),
            env("prod").cm("shop-config", "DB_POOL_SIZE", "5").reads_cm(
                "DB_POOL_SIZE",
                "shop-config",
                "DB_POOL_SIZE",
                "5",
            ),
        ],
    );
    assert_eq!(
        at(&e),
        ["critical configmap/shop-config DB_POOL_SIZE not-equal"]
    );
    assert_eq!(e.suppressed.same_cause, 1);
}

#[test]
fn a_consumers_own_rule_finding_is_another_cause_and_stays() {
    let policy = "rules:
  - id: pools
    key: \"*POOL_SIZE\"
    kind: configmap
    equal: true
    severity: critical
  - id: pool-range
    key: \"*POOL_SIZE\"
    kind: env
    type: int
    range: {min: 10}
    severity: warning
";
    let e = eval(
        policy,
        vec![
            env("staging")
                .cm("shop-config", "DB_POOL_SIZE", "20")
                .reads_cm("DB_POOL_SIZE", "shop-config", "DB_POOL_SIZE", "20"),
            env("prod").cm("shop-config", "DB_POOL_SIZE", "5").reads_cm(
                "DB_POOL_SIZE",
                "shop-config",
                "DB_POOL_SIZE",
                "5",
            ),
        ],
    );
    assert_eq!(
        at(&e),
        [
            "critical configmap/shop-config DB_POOL_SIZE not-equal",
            "warning app/main DB_POOL_SIZE out-of-range",
        ]
    );
}

#[test]
fn a_flag_store_key_read_through_env_from_is_one_finding() {
    // A ConfigMap labelled confdrift.io/flags: its keys are flags; the
    // container reads them with envFrom under a name no flag pattern
    // matches, so only the ConfigMap's flag is judged by the flag rule.
    let store = |e: Env, on: &str| {
        let mut e = e.put(
            Scope::ConfigMap {
                name: "feature-flags".into(),
            },
            ConfigKind::Flag,
            "NEW_CHECKOUT_UI",
            Value::Text(on.into()),
        );
        e.inv.configmaps.insert("feature-flags".into());
        e.from(Provenance::ConfigMapData {
            name: "feature-flags".into(),
            key: "NEW_CHECKOUT_UI".into(),
        })
        .var("NEW_CHECKOUT_UI", on)
        .from(Provenance::EnvFrom {
            source: RefKind::ConfigMap,
            name: "feature-flags".into(),
            key: "NEW_CHECKOUT_UI".into(),
            prefix: None,
        })
    };
    let e = eval(
        FLAGS_RULE,
        vec![store(env("staging"), "true"), store(env("prod"), "false")],
    );
    assert_eq!(
        at(&e),
        ["warning configmap/feature-flags NEW_CHECKOUT_UI not-equal"]
    );
}

#[test]
fn a_mounted_file_is_a_consumer_too() {
    let e = eval(
        "rules: []\n",
        vec![
            env("staging")
                .cm("app-config", "app.yaml", "retries: 3\n")
                .mounted(
                    "/etc/app/app.yaml",
                    "app-config",
                    "app.yaml",
                    "retries: 3\n",
                ),
            env("prod")
                .cm("app-config", "app.yaml", "retries: 5\n")
                .mounted(
                    "/etc/app/app.yaml",
                    "app-config",
                    "app.yaml",
                    "retries: 5\n",
                ),
        ],
    );
    assert_eq!(at(&e), ["info app/main /etc/app/app.yaml value-differs"]);
}

const FLAGS_RULE: &str = "rules:\n  - id: flags\n    kind: flag\n    key: \"*\"\n    equal: true\n    severity: warning\n";

fn flagd_doc(search: &str, targeting: &str) -> String {
    format!(
        r#"{{"flags": {{"new-search": {{"state": "ENABLED", "variants": {{"on": true, "off": false}}, "defaultVariant": "{search}"}}, "carousel": {{"state": "ENABLED", "variants": {{"on": true, "off": false}}, "defaultVariant": "on", "targeting": {targeting}}}}}}}"#
    )
}

fn flagd_env(name: &str, search: &str, targeting: &str) -> Env {
    let doc = flagd_doc(search, targeting);
    let shown = if search == "on" { "true" } else { "false" };
    env(name)
        .cm("flagd-config", "flags.json", &doc)
        .flagd(
            "flagd-config",
            "flags.json",
            "new-search",
            &format!("ENABLED default={shown}"),
        )
        .flagd(
            "flagd-config",
            "flags.json",
            "carousel",
            "ENABLED default=true",
        )
        .mounted("/etc/flagd/flags.json", "flagd-config", "flags.json", &doc)
}

#[test]
fn a_flagd_document_that_differs_in_one_flag_is_that_flag_finding_alone() {
    let e = eval(
        FLAGS_RULE,
        vec![
            flagd_env("staging", "on", "{}"),
            flagd_env("prod", "off", "{}"),
        ],
    );
    assert_eq!(
        at(&e),
        ["warning configmap/flagd-config new-search not-equal"]
    );
    assert_eq!(e.suppressed.same_cause, 2);
}

#[test]
fn a_flagd_document_that_differs_beyond_its_flag_values_keeps_its_own_finding() {
    // Targeting is not part of a flag's value: only the document shows it.
    let e = eval(
        FLAGS_RULE,
        vec![
            flagd_env("staging", "on", r#"{"if": [true, "on"]}"#),
            flagd_env("prod", "off", "{}"),
        ],
    );
    assert_eq!(
        at(&e),
        [
            "warning configmap/flagd-config new-search not-equal",
            "info app/main /etc/flagd/flags.json value-differs",
        ]
    );
}

// ---------------------------------------------------------------------------
// absence belongs to the presence rule
// ---------------------------------------------------------------------------

fn default_policy() -> crate::policy::PolicySet {
    let text = include_str!("../../../policies/default.yaml");
    let loaded = load_sources(
        &[("policies/default.yaml".to_string(), text.to_string())],
        today(),
    );
    assert_eq!(loaded.errors(), 0, "{}", loaded.render(None));
    loaded.set
}

fn eval_default(envs: Vec<Env>) -> Evaluation {
    let invs: Vec<Inventory> = envs.into_iter().map(|e| e.inv).collect();
    let cmp = compare(&invs, "prod");
    evaluate(&cmp, &invs, &default_policy(), today())
}

#[test]
fn default_policy_a_pool_size_not_set_in_dev_is_one_info_finding() {
    let e = eval_default(three(
        env("dev"),
        env("staging").var("DB_POOL_SIZE", "10"),
        env("prod").var("DB_POOL_SIZE", "10"),
    ));
    assert_eq!(
        lines(&e),
        [
            "required-missing present-everywhere info: DB_POOL_SIZE is not set in dev (it is set in staging and prod) (rule present-everywhere)"
        ]
    );
}

#[test]
fn default_policy_a_pool_size_not_set_in_dev_and_different_in_prod_is_two_causes() {
    let e = eval_default(three(
        env("dev"),
        env("staging").var("DB_POOL_SIZE", "10"),
        env("prod").var("DB_POOL_SIZE", "5"),
    ));
    assert_eq!(
        lines(&e),
        [
            "not-equal connection-pools-equal critical: DB_POOL_SIZE must be the same in staging and prod, but is 10 in staging, 5 in prod (rule connection-pools-equal)",
            "required-missing present-everywhere info: DB_POOL_SIZE is not set in dev (it is set in staging and prod) (rule present-everywhere)",
        ]
    );
}

#[test]
fn equal_alone_still_reports_a_missing_key_as_a_difference() {
    // No presence rule speaks to the key: its absence is `equal`'s to judge.
    let e = eval(
        POOL_RULE,
        vec![env("staging").var("DB_POOL_SIZE", "20"), env("prod")],
    );
    assert_eq!(at(&e), ["critical app/main DB_POOL_SIZE not-equal"]);
}

#[test]
fn a_presence_rule_limited_to_some_environments_leaves_the_others_to_equal() {
    let policy = format!(
        "{POOL_RULE}  - id: present-in-dev\n    key: \"*\"\n    environments: [dev]\n    required: true\n    severity: info\n    stale: ignore\n"
    );
    let e = eval(
        &policy,
        three(
            env("dev"),
            env("staging").var("DB_POOL_SIZE", "10"),
            env("prod"),
        ),
    );
    assert_eq!(
        lines(&e),
        [
            "not-equal pools critical: DB_POOL_SIZE must be the same in staging and prod, but is 10 in staging, not set in prod (rule pools)",
            "required-missing present-in-dev info: DB_POOL_SIZE is not set in dev (it is set in staging) (rule present-in-dev)",
        ]
    );
}

#[test]
fn a_waiver_of_both_findings_counts_the_one_shown() {
    let policy =
        format!("{POOL_RULE}waivers:\n  - rule: pools\n    reason: prod runs a smaller database\n");
    let e = eval(
        &policy,
        vec![
            env("staging")
                .cm("shop-config", "DB_POOL_SIZE", "20")
                .reads_cm("DB_POOL_SIZE", "shop-config", "DB_POOL_SIZE", "20"),
            env("prod").cm("shop-config", "DB_POOL_SIZE", "5").reads_cm(
                "DB_POOL_SIZE",
                "shop-config",
                "DB_POOL_SIZE",
                "5",
            ),
        ],
    );
    assert_eq!(
        lines(&e),
        [
            "not-equal pools critical waived: DB_POOL_SIZE must be the same in staging and prod, but is 20 in staging, 5 in prod (rule pools)"
        ]
    );
    assert_eq!(e.suppressed.waived.get("pools"), Some(&1));
    assert_eq!(e.findings.iter().filter(|f| f.waiver.is_some()).count(), 1);
}
