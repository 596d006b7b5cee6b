//! Canonical forms, and invariants over generated environments.

use super::*;

// ---------------------------------------------------------------------------
// canonical forms
// ---------------------------------------------------------------------------

#[test]
fn a_trailing_newline_on_a_one_line_value_is_noise_for_flags_too() {
    // Regression: a value with a trailing newline (a YAML `|` block) took
    // the multi-line path, so " 5\n" kept its leading space and a flag
    // "True\n" was not read as a boolean.
    // (An env value is compared exactly: canonical::tests.)
    assert_eq!(canonical_text(ConfigKind::File, " 5\n"), "5");
    assert_eq!(canonical_text(ConfigKind::Flag, "True\n"), "true");
    assert_eq!(
        canonical_text(ConfigKind::File, "a: 1\r\n  b: 2\r\n"),
        "a: 1\n  b: 2"
    );
    // Found by the property below: removing one `\r\n` pair left a new one.
    assert_eq!(canonical_text(ConfigKind::File, "\r\r\na"), "\na");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonicalizing_twice_changes_nothing(
        raw in "[ a-zA-Z01\r\n\t:]{0,16}",
        kind in prop_oneof![
            Just(ConfigKind::Env),
            Just(ConfigKind::Flag),
            Just(ConfigKind::File),
            Just(ConfigKind::ConfigMap),
        ],
    ) {
        let once = canonical_text(kind, &raw);
        prop_assert_eq!(canonical_text(kind, &once), once);
    }
}

// ---------------------------------------------------------------------------
// generated environments, for the invariants
// ---------------------------------------------------------------------------

/// How one generated env var gets its value.
#[derive(Debug, Clone)]
pub(crate) enum GenSource {
    Literal(String),
    ConfigMapKey(usize),
    SecretKey(usize),
    FieldRef,
}

/// A generated environment: one ConfigMap, one Secret and a Deployment
/// (as a template or as pods) whose container uses them.
#[derive(Debug, Clone)]
pub(crate) struct GenEnv {
    pub configmap: Vec<(String, String)>,
    pub secret: Vec<(String, String)>,
    pub env_from_prefix: Option<Option<String>>,
    pub env: Vec<(String, GenSource)>,
    pub pods: usize,
    pub extra_workload: bool,
}

fn gen_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Z_]{0,4}",
        Just("FEATURE_X".to_string()),
        Just("DB_POOL_SIZE".to_string()),
    ]
}

fn gen_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ]{0,8}",
        "\\$\\([A-Z][A-Z_]{0,2}\\)",
        "[a-z]{0,3}\\$\\$\\([A-Z]{1,2}\\)",
        "(true|True|1|on|off|0)",
        "[a-z]{1,4}: [0-9]{1,2}\n[a-z]{1,4}: [a-z]{0,3}\n",
    ]
}

pub(crate) fn gen_env() -> impl Strategy<Value = GenEnv> {
    let source = prop_oneof![
        3 => gen_value().prop_map(GenSource::Literal),
        1 => any::<usize>().prop_map(GenSource::ConfigMapKey),
        1 => any::<usize>().prop_map(GenSource::SecretKey),
        1 => Just(GenSource::FieldRef),
    ];
    (
        prop::collection::vec((gen_name(), gen_value()), 1..5),
        prop::collection::vec((gen_name(), "[a-z0-9]{0,6}"), 1..4),
        prop::option::of(prop::option::of("[A-Z]{1,3}_")),
        prop::collection::vec((gen_name(), source), 0..7),
        0usize..3,
        any::<bool>(),
    )
        .prop_map(
            |(configmap, secret, env_from_prefix, env, pods, extra_workload)| GenEnv {
                configmap,
                secret,
                env_from_prefix,
                env,
                pods,
                extra_workload,
            },
        )
}

impl GenEnv {
    /// The environment as a `kubectl get -o yaml`-like manifest stream.
    pub(crate) fn manifest(&self) -> String {
        use serde_json::json;
        let data: serde_json::Map<String, serde_json::Value> = self
            .configmap
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let string_data: serde_json::Map<String, serde_json::Value> = self
            .secret
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let env: Vec<serde_json::Value> = self
            .env
            .iter()
            .map(|(name, src)| match src {
                GenSource::Literal(v) => json!({"name": name, "value": v}),
                GenSource::ConfigMapKey(i) => json!({"name": name, "valueFrom": {"configMapKeyRef":
                    {"name": "app-config", "key": self.configmap[i % self.configmap.len()].0}}}),
                GenSource::SecretKey(i) => json!({"name": name, "valueFrom": {"secretKeyRef":
                    {"name": "app-secret", "key": self.secret[i % self.secret.len()].0}}}),
                GenSource::FieldRef => json!({"name": name, "valueFrom": {"fieldRef":
                    {"fieldPath": "metadata.name"}}}),
            })
            .collect();
        let mut container = json!({"name": "server", "env": env});
        if let Some(prefix) = &self.env_from_prefix {
            let mut from = json!({"configMapRef": {"name": "app-config"}});
            if let Some(p) = prefix {
                from["prefix"] = json!(p);
            }
            container["envFrom"] = json!([from, {"secretRef": {"name": "app-secret"}}]);
        }
        let spec = json!({"containers": [container]});
        let mut docs = vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "app-config", "namespace": "shop"}, "data": data}),
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "app-secret", "namespace": "shop"}, "stringData": string_data}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "checkout", "namespace": "shop"},
                   "spec": {"template": {"spec": spec}}}),
        ];
        for i in 0..self.pods {
            docs.push(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("checkout-7c9d5b8f4d-pod{i}"), "namespace": "shop",
                    "labels": {"pod-template-hash": "7c9d5b8f4d"},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-7c9d5b8f4d",
                        "controller": true}]},
                "spec": spec,
                "status": {"phase": "Running", "podIP": format!("10.0.0.{i}")}}));
        }
        if self.extra_workload {
            docs.push(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "cart", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "redis", "env": [{"name": "MAXMEMORY", "value": "256mb"}]}]}}}}));
        }
        docs.iter()
            .map(|d| serde_yaml::to_string(d).expect("JSON values serialize as YAML"))
            .collect::<Vec<_>>()
            .join("---\n")
    }
}

/// The parts of an inventory that later stages read.
type Observable<'a> = (
    &'a crate::model::Entries,
    &'a std::collections::BTreeMap<String, crate::model::WorkloadInfo>,
    &'a std::collections::BTreeSet<String>,
    &'a Vec<Issue>,
);

fn observable(inv: &Inventory) -> Observable<'_> {
    (&inv.entries, &inv.workloads, &inv.configmaps, &inv.issues)
}

#[test]
fn the_generated_manifest_parses_and_resolves() {
    // Guards the generator: a typical environment resolves without issues.
    let g = GenEnv {
        configmap: vec![("LOG_LEVEL".into(), "info".into())],
        secret: vec![("TOKEN".into(), "s3cr3t".into())],
        env_from_prefix: Some(Some("APP_".into())),
        env: vec![
            ("A".into(), GenSource::ConfigMapKey(0)),
            ("B".into(), GenSource::Literal("x-$(A)".into())),
            ("C".into(), GenSource::SecretKey(0)),
        ],
        pods: 2,
        extra_workload: true,
    };
    let inv = inventory("t", &g.manifest());
    assert_eq!(text(&inv, "checkout/server", "B"), "x-info");
    assert_eq!(text(&inv, "checkout/server", "APP_LOG_LEVEL"), "info");
    assert_eq!(*value(&inv, "checkout/server", "TOKEN"), secret("s3cr3t"));
    assert_eq!(inv.workloads["checkout"].pods, 2);
    assert!(inv.workloads.contains_key("cart"));
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn normalizing_the_same_collection_twice_gives_equal_inventories(g in gen_env()) {
        let collected = collect_yaml(&g.manifest());
        let opts = Options::with_defaults(test_key().id());
        let a = normalize("prod", &collected, &opts);
        let b = normalize("prod", &collected, &opts);
        prop_assert_eq!(observable(&a), observable(&b));
    }

    #[test]
    fn a_snapshot_round_trip_normalizes_to_the_same_inventory(g in gen_env()) {
        let collected = collect_yaml(&g.manifest());
        let json = serde_json::to_string(&collected).expect("serializes");
        let back: Collected = serde_json::from_str(&json).expect("deserializes");
        let opts = Options::with_defaults(test_key().id());
        let a = normalize("prod", &collected, &opts);
        let b = normalize("prod", &back, &opts);
        prop_assert_eq!(observable(&a), observable(&b));
    }

    #[test]
    fn identical_pods_never_show_skew(g in gen_env()) {
        let inv = inventory("prod", &g.manifest());
        prop_assert!(skews(&inv).is_empty(), "{:?}", inv.issues);
    }
}
