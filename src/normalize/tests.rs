//! The Kubernetes rules normalize follows, one test per rule, on manifests
//! parsed by the real parser. Where a rule is not obvious the comment names
//! the Kubernetes code it mirrors.

use proptest::prelude::*;

use super::canonical::{canonical_text, same};
use super::{Options, display_value, normalize};
use crate::model::{
    Collected, ConfigKind, Entry, Inventory, Issue, Provenance, RefKind, Subject, Value,
};

// ---------------------------------------------------------------------------
// helpers, shared with the compare tests
// ---------------------------------------------------------------------------

pub(crate) use crate::collect::testing::{collect_yaml, dedent, test_key};

/// Collects and normalizes one environment given as a manifest stream.
pub(crate) fn inventory(env: &str, text: &str) -> Inventory {
    normalize(
        env,
        &collect_yaml(text),
        &Options::with_defaults(test_key().id()),
    )
}

/// The entry of `key` under `scope` (`web/app`, `configmap/app-config`),
/// whatever its kind.
pub(crate) fn entry<'a>(inv: &'a Inventory, scope: &str, key: &str) -> Option<&'a Entry> {
    let mut found = inv
        .entries
        .iter()
        .filter(|(s, _)| s.scope.to_string() == scope && s.key == key);
    let first = found.next().map(|(_, e)| e);
    assert!(
        found.next().is_none(),
        "{scope} {key} has entries of several kinds"
    );
    first
}

fn subject_of<'a>(inv: &'a Inventory, scope: &str, key: &str) -> &'a Subject {
    inv.entries
        .keys()
        .find(|s| s.scope.to_string() == scope && s.key == key)
        .unwrap_or_else(|| panic!("no {scope} {key} in {:#?}", inv.entries.keys()))
}

fn value<'a>(inv: &'a Inventory, scope: &str, key: &str) -> &'a Value {
    &entry(inv, scope, key)
        .unwrap_or_else(|| panic!("no {scope} {key} in {:#?}", inv.entries.keys()))
        .value
}

/// The plain text of a value; panics on anything else.
fn text<'a>(inv: &'a Inventory, scope: &str, key: &str) -> &'a str {
    match value(inv, scope, key) {
        Value::Text(t) => t,
        other => panic!("{scope} {key} is not text: {other:?}"),
    }
}

fn keys(inv: &Inventory, scope: &str) -> Vec<String> {
    inv.entries
        .keys()
        .filter(|s| s.scope.to_string() == scope)
        .map(|s| s.key.to_string())
        .collect()
}

/// `(source, referrer, key)` of every dangling reference.
fn dangling(inv: &Inventory) -> Vec<(String, String, Option<String>)> {
    inv.issues
        .iter()
        .filter_map(|i| match i {
            Issue::DanglingReference {
                source,
                referrer,
                key,
                ..
            } => Some((source.clone(), referrer.clone(), key.clone())),
            Issue::Skew { .. } | Issue::StalePods { .. } | Issue::RejectedByApiServer { .. } => {
                None
            }
        })
        .collect()
}

fn skews(inv: &Inventory) -> Vec<(&Subject, &Vec<(String, usize)>)> {
    inv.issues
        .iter()
        .filter_map(|i| match i {
            Issue::Skew { subject, variants } => Some((subject, variants)),
            Issue::DanglingReference { .. }
            | Issue::StalePods { .. }
            | Issue::RejectedByApiServer { .. } => None,
        })
        .collect()
}

fn secret(plain: &str) -> Value {
    Value::Secret(Box::new(test_key().fingerprint(plain.as_bytes())))
}

/// A bare pod `web` in namespace `shop` with one container `app`; `{ENV}`
/// is replaced by the container's `env`/`envFrom` block.
fn web_pod(container_fields: &str) -> String {
    let fields = dedent(container_fields)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n  - name: app\n    image: web:1.4.2\n{fields}\n"
    )
}

/// A pod of Deployment `checkout` as `kubectl get pod -o yaml` prints it,
/// with everything Kubernetes generates per pod.
fn checkout_pod(suffix: &str, node: &str, ip: &str, token_volume: &str, env: &str) -> String {
    let env = dedent(env)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    dedent(
        r#"
        apiVersion: v1
        kind: Pod
        metadata:
          name: checkout-7c9d5b8f4d-SUFFIX
          generateName: checkout-7c9d5b8f4d-
          namespace: shop
          uid: 3f1e8c2a-SUFFIX
          resourceVersion: "81234"
          creationTimestamp: "2025-05-02T08:14:55Z"
          labels:
            app.kubernetes.io/name: checkout
            pod-template-hash: 7c9d5b8f4d
          annotations:
            kubectl.kubernetes.io/last-applied-configuration: '{"kind":"Pod","SUFFIX":1}'
          ownerReferences:
          - apiVersion: apps/v1
            kind: ReplicaSet
            name: checkout-7c9d5b8f4d
            uid: 9a0b7c4e-1111-2222-3333-444455556666
            controller: true
            blockOwnerDeletion: true
          managedFields:
          - manager: kube-controller-manager
            operation: Update
            time: "2025-05-02T08:14:55Z"
        spec:
          nodeName: NODE
          serviceAccountName: checkout
          containers:
          - name: server
            image: registry.example.com/checkout:2.3.1
        ENV
            volumeMounts:
            - name: TOKEN
              mountPath: /var/run/secrets/kubernetes.io/serviceaccount
              readOnly: true
          volumes:
          - name: TOKEN
            projected:
              defaultMode: 420
              sources:
              - serviceAccountToken:
                  expirationSeconds: 3607
                  path: token
              - configMap:
                  name: kube-root-ca.crt
                  items:
                  - key: ca.crt
                    path: ca.crt
              - downwardAPI:
                  items:
                  - path: namespace
                    fieldRef:
                      apiVersion: v1
                      fieldPath: metadata.namespace
        status:
          phase: Running
          hostIP: 10.128.0.4
          podIP: IP
          podIPs:
          - ip: IP
        "#,
    )
    .replace("SUFFIX", suffix)
    .replace("NODE", node)
    .replace("TOKEN", token_volume)
    .replace("IP", ip)
    .replace("ENV", &env)
}

const APP_CONFIG: &str = "
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: shop
data:
  DB_HOST: db.shop.svc
  DB_POOL_SIZE: \"5\"
  LOG_LEVEL: info
";

const DB_SECRET: &str = "
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
type: Opaque
stringData:
  password: hunter2
  user: shop
";

/// Several manifests as one stream, each written indented as it likes.
pub(crate) fn stream(docs: &[&str]) -> String {
    docs.iter()
        .map(|d| dedent(d))
        .collect::<Vec<_>>()
        .join("---\n")
}

// ---------------------------------------------------------------------------
// env precedence (kubelet makeEnvironmentVariables)
// ---------------------------------------------------------------------------

#[test]
fn env_from_sources_apply_in_order_and_the_later_source_wins() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            "
            kind: ConfigMap
            metadata: {name: overrides, namespace: shop}
            data: {LOG_LEVEL: debug, EXTRA: x}
            ",
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: app-config}
                - configMapRef: {name: overrides}
                ",
            ),
        ]),
    );
    assert_eq!(text(&inv, "web/app", "LOG_LEVEL"), "debug");
    assert_eq!(text(&inv, "web/app", "DB_HOST"), "db.shop.svc");
    assert_eq!(text(&inv, "web/app", "EXTRA"), "x");
    assert_eq!(
        entry(&inv, "web/app", "LOG_LEVEL").unwrap().provenance,
        Provenance::EnvFrom {
            source: RefKind::ConfigMap,
            name: "overrides".into(),
            key: "LOG_LEVEL".into(),
            prefix: None,
        }
    );
}

#[test]
fn env_entries_override_env_from() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: app-config}
                env:
                - {name: DB_POOL_SIZE, value: '20'}
                ",
            ),
        ]),
    );
    assert_eq!(text(&inv, "web/app", "DB_POOL_SIZE"), "20");
    assert_eq!(
        entry(&inv, "web/app", "DB_POOL_SIZE").unwrap().provenance,
        Provenance::Literal
    );
}

#[test]
fn duplicate_env_names_the_later_definition_wins() {
    let inv = inventory(
        "t",
        &web_pod(
            "
            env:
            - {name: TIMEOUT_MS, value: '1000'}
            - {name: TIMEOUT_MS, value: '3000'}
            ",
        ),
    );
    assert_eq!(text(&inv, "web/app", "TIMEOUT_MS"), "3000");
}

#[test]
fn env_from_prefix_is_prepended_to_every_key() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: app-config}
                  prefix: APP_
                ",
            ),
        ]),
    );
    assert_eq!(
        keys(&inv, "web/app"),
        ["APP_DB_HOST", "APP_DB_POOL_SIZE", "APP_LOG_LEVEL"]
    );
    assert_eq!(
        entry(&inv, "web/app", "APP_LOG_LEVEL").unwrap().provenance,
        Provenance::EnvFrom {
            source: RefKind::ConfigMap,
            name: "app-config".into(),
            key: "LOG_LEVEL".into(),
            prefix: Some("APP_".into()),
        }
    );
}

#[test]
fn env_from_secret_ref_gives_fingerprinted_values() {
    let inv = inventory(
        "t",
        &stream(&[
            DB_SECRET,
            &web_pod(
                "
                envFrom:
                - secretRef: {name: db}
                  prefix: DB_
                ",
            ),
        ]),
    );
    // The prefix is prepended to the key as it is; case is not changed.
    assert_eq!(*value(&inv, "web/app", "DB_password"), secret("hunter2"));
    assert_eq!(*value(&inv, "web/app", "DB_user"), secret("shop"));
    assert_eq!(
        entry(&inv, "web/app", "DB_password").unwrap().provenance,
        Provenance::EnvFrom {
            source: RefKind::Secret,
            name: "db".into(),
            key: "password".into(),
            prefix: Some("DB_".into()),
        }
    );
}

// ---------------------------------------------------------------------------
// $(VAR) expansion (third_party/forked/golang/expansion)
// ---------------------------------------------------------------------------

#[test]
fn expansion_sees_only_variables_defined_earlier() {
    let inv = inventory(
        "t",
        &web_pod(
            "
            env:
            - {name: HOST, value: db}
            - {name: URL, value: 'postgres://$(HOST):$(PORT)/shop'}
            - {name: PORT, value: '5432'}
            ",
        ),
    );
    // PORT is defined after URL, so the kubelet leaves `$(PORT)` as written.
    assert_eq!(text(&inv, "web/app", "URL"), "postgres://db:$(PORT)/shop");
    assert_eq!(
        entry(&inv, "web/app", "URL").unwrap().provenance,
        Provenance::Expanded {
            template: "postgres://$(HOST):$(PORT)/shop".into()
        }
    );
}

#[test]
fn expansion_uses_the_value_a_redefined_variable_had_at_that_point() {
    // The kubelet updates its map as it walks `env`, so a reference sees the
    // definition before it, not the final one.
    let inv = inventory(
        "t",
        &web_pod(
            "
            env:
            - {name: MODE, value: blue}
            - {name: LABEL, value: 'svc-$(MODE)'}
            - {name: MODE, value: green}
            ",
        ),
    );
    assert_eq!(text(&inv, "web/app", "LABEL"), "svc-blue");
    assert_eq!(text(&inv, "web/app", "MODE"), "green");
}

#[test]
fn double_dollar_escapes_a_reference() {
    let inv = inventory(
        "t",
        &web_pod(
            "
            env:
            - {name: HOST, value: db}
            - {name: LITERAL, value: '$$(HOST) and $(HOST)'}
            ",
        ),
    );
    assert_eq!(text(&inv, "web/app", "LITERAL"), "$(HOST) and db");
}

#[test]
fn expansion_sees_variables_from_env_from() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: app-config}
                env:
                - {name: DSN, value: 'host=$(DB_HOST) pool=$(DB_POOL_SIZE)'}
                ",
            ),
        ]),
    );
    assert_eq!(text(&inv, "web/app", "DSN"), "host=db.shop.svc pool=5");
}

/// A pod that builds `DB_URL` from the Secret `db` whose password is
/// `password`.
fn url_from_secret(password: &str, url_template: &str) -> Inventory {
    inventory(
        "t",
        &stream(&[
            &DB_SECRET.replace("hunter2", password),
            &web_pod(&format!(
                "
                env:
                - name: DB_PASS
                  valueFrom:
                    secretKeyRef: {{name: db, key: password}}
                - {{name: DB_USER, value: app}}
                - {{name: DB_URL, value: '{url_template}'}}
                "
            )),
        ]),
    )
}

#[test]
fn expanding_a_secret_reference_makes_the_result_a_secret() {
    let inv = url_from_secret("hunter2", "postgres://app:$(DB_PASS)@db:5432/shop");
    let url = value(&inv, "web/app", "DB_URL");
    assert!(url.is_secret(), "{url:?}");
    assert!(!display_value(url).contains("hunter2"));
    assert!(!display_value(url).contains("postgres"));
}

#[test]
fn values_expanded_from_the_same_secret_and_template_compare_equal() {
    let tpl = "postgres://app:$(DB_PASS)@db:5432/shop";
    let a = url_from_secret("hunter2", tpl);
    let b = url_from_secret("hunter2", tpl);
    let c = url_from_secret("hunter3", tpl);
    let url = |inv: &Inventory| value(inv, "web/app", "DB_URL").clone();
    assert!(same(ConfigKind::Env, &url(&a), &url(&b)));
    assert!(!same(ConfigKind::Env, &url(&a), &url(&c)));
    // Same secret, different literal text around it: a different value.
    let d = url_from_secret("hunter2", "postgres://app:$(DB_PASS)@db-replica:5432/shop");
    assert!(!same(ConfigKind::Env, &url(&a), &url(&d)));
}

#[test]
fn values_expanded_from_a_secret_compare_by_the_text_the_container_gets() {
    // Regression: the fingerprint of a secret-tainted expansion hashed each
    // piece of the template separately, so `app:$(DB_PASS)` and
    // `$(DB_USER):$(DB_PASS)` with DB_USER=app looked different although
    // the container gets the same string.
    let a = url_from_secret("hunter2", "postgres://app:$(DB_PASS)@db");
    let b = url_from_secret("hunter2", "postgres://$(DB_USER):$(DB_PASS)@db");
    assert!(same(
        ConfigKind::Env,
        value(&a, "web/app", "DB_URL"),
        value(&b, "web/app", "DB_URL")
    ));
    // Text moved across the secret is a different value.
    let c = url_from_secret("hunter2", "postgres://ap:p$(DB_PASS)@db");
    assert!(!same(
        ConfigKind::Env,
        value(&a, "web/app", "DB_URL"),
        value(&c, "web/app", "DB_URL")
    ));
}

#[test]
fn expanding_a_field_ref_stays_symbolic_so_pods_do_not_differ() {
    let env = "
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef: {apiVersion: v1, fieldPath: metadata.name}
        - {name: INSTANCE_ID, value: 'checkout-$(POD_NAME)'}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
        ]),
    );
    assert_eq!(
        text(&inv, "checkout/server", "INSTANCE_ID"),
        "checkout-<fieldRef metadata.name>"
    );
    assert!(skews(&inv).is_empty(), "{:?}", inv.issues);
}

// ---------------------------------------------------------------------------
// configMapKeyRef / secretKeyRef
// ---------------------------------------------------------------------------

#[test]
fn key_refs_resolve_in_the_pods_namespace_only() {
    let inv = inventory(
        "t",
        &stream(&[
            // Same names, another namespace: the kubelet never looks there.
            &APP_CONFIG.replace("namespace: shop", "namespace: billing"),
            &DB_SECRET.replace("namespace: shop", "namespace: billing"),
            &web_pod(
                "
                env:
                - name: DB_HOST
                  valueFrom:
                    configMapKeyRef: {name: app-config, key: DB_HOST}
                - name: DB_PASS
                  valueFrom:
                    secretKeyRef: {name: db, key: password}
                ",
            ),
        ]),
    );
    assert!(matches!(
        value(&inv, "web/app", "DB_HOST"),
        Value::Unresolved(_)
    ));
    assert!(matches!(
        value(&inv, "web/app", "DB_PASS"),
        Value::Unresolved(_)
    ));
    assert_eq!(
        dangling(&inv),
        [
            (
                "ConfigMap app-config".to_string(),
                "env DB_HOST".to_string(),
                Some("DB_HOST".to_string())
            ),
            (
                "Secret db".to_string(),
                "env DB_PASS".to_string(),
                Some("password".to_string())
            ),
        ]
    );
}

#[test]
fn key_refs_resolve_with_their_provenance() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            DB_SECRET,
            &web_pod(
                "
                env:
                - name: DATABASE_HOST
                  valueFrom:
                    configMapKeyRef: {name: app-config, key: DB_HOST}
                - name: DATABASE_PASSWORD
                  valueFrom:
                    secretKeyRef: {name: db, key: password}
                ",
            ),
        ]),
    );
    let host = entry(&inv, "web/app", "DATABASE_HOST").unwrap();
    assert_eq!(host.value, Value::Text("db.shop.svc".into()));
    assert_eq!(
        host.provenance,
        Provenance::ConfigMapKey {
            name: "app-config".into(),
            key: "DB_HOST".into()
        }
    );
    assert_eq!(host.namespace, "shop");
    let pass = entry(&inv, "web/app", "DATABASE_PASSWORD").unwrap();
    assert_eq!(pass.value, secret("hunter2"));
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

#[test]
fn optional_refs_to_missing_objects_or_keys_yield_no_variable_and_no_issue() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            DB_SECRET,
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: not-there, optional: true}
                - secretRef: {name: not-there-either, optional: true}
                env:
                - name: MISSING_CM
                  valueFrom:
                    configMapKeyRef: {name: not-there, key: A, optional: true}
                - name: MISSING_CM_KEY
                  valueFrom:
                    configMapKeyRef: {name: app-config, key: NOPE, optional: true}
                - name: MISSING_SECRET
                  valueFrom:
                    secretKeyRef: {name: not-there, key: A, optional: true}
                - name: MISSING_SECRET_KEY
                  valueFrom:
                    secretKeyRef: {name: db, key: NOPE, optional: true}
                - {name: PRESENT, value: 'yes'}
                ",
            ),
        ]),
    );
    assert_eq!(keys(&inv, "web/app"), ["PRESENT"]);
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

#[test]
fn a_non_optional_ref_to_a_missing_object_or_key_is_dangling_and_unresolved() {
    // The kubelet refuses to start the container (CreateContainerConfigError).
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            DB_SECRET,
            &web_pod(
                "
                env:
                - name: A
                  valueFrom:
                    configMapKeyRef: {name: not-there, key: A}
                - name: B
                  valueFrom:
                    configMapKeyRef: {name: app-config, key: NOPE, optional: false}
                - name: C
                  valueFrom:
                    secretKeyRef: {name: not-there, key: C}
                - name: D
                  valueFrom:
                    secretKeyRef: {name: db, key: NOPE}
                ",
            ),
        ]),
    );
    for k in ["A", "B", "C", "D"] {
        assert!(
            matches!(value(&inv, "web/app", k), Value::Unresolved(_)),
            "{k}"
        );
    }
    let d = dangling(&inv);
    assert_eq!(d.len(), 4, "{d:?}");
    assert!(d.contains(&(
        "ConfigMap app-config".into(),
        "env B".into(),
        Some("NOPE".into())
    )));
    assert!(d.contains(&("Secret not-there".into(), "env C".into(), Some("C".into()))));
    // Unresolved values count, so the environment shows as not fully resolved.
    assert_eq!(inv.unresolved(), 4);
}

#[test]
fn a_non_optional_env_from_a_missing_source_is_dangling() {
    let inv = inventory(
        "t",
        &web_pod(
            "
            envFrom:
            - configMapRef: {name: app-config}
            - secretRef: {name: db}
            env:
            - {name: KEPT, value: '1'}
            ",
        ),
    );
    assert_eq!(
        dangling(&inv),
        [
            ("ConfigMap app-config".into(), "envFrom".into(), None),
            ("Secret db".into(), "envFrom".into(), None),
        ]
    );
    assert_eq!(keys(&inv, "web/app"), ["KEPT"]);
}

#[test]
fn volumes_from_missing_configmaps_and_secrets_are_dangling_unless_optional() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            "
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: shop}
            spec:
              containers:
              - name: app
                volumeMounts:
                - {name: cm, mountPath: /etc/cm}
                - {name: sec, mountPath: /etc/sec}
                - {name: proj, mountPath: /etc/proj}
                - {name: items, mountPath: /etc/items}
                - {name: opt-cm, mountPath: /etc/opt-cm}
                - {name: opt-sec, mountPath: /etc/opt-sec}
                - {name: opt-proj, mountPath: /etc/opt-proj}
              volumes:
              - name: cm
                configMap: {name: gone}
              - name: sec
                secret: {secretName: gone}
              - name: proj
                projected:
                  sources:
                  - configMap: {name: app-config}
                  - secret: {name: also-gone}
              - name: items
                configMap:
                  name: app-config
                  items: [{key: NOPE, path: nope.txt}]
              - name: opt-cm
                configMap: {name: gone, optional: true}
              - name: opt-sec
                secret: {secretName: gone, optional: true}
              - name: opt-proj
                projected:
                  sources:
                  - secret: {name: also-gone, optional: true}
                  - configMap:
                      name: app-config
                      optional: true
                      items: [{key: NOPE, path: nope.txt}]
            ",
        ]),
    );
    assert_eq!(
        dangling(&inv),
        [
            (
                "ConfigMap app-config".into(),
                "volume items".into(),
                Some("NOPE".into())
            ),
            ("ConfigMap gone".into(), "volume cm".into(), None),
            ("Secret also-gone".into(), "volume proj".into(), None),
            ("Secret gone".into(), "volume sec".into(), None),
        ]
    );
    // The projected volume still mounts the ConfigMap that is there.
    assert_eq!(text(&inv, "web/app", "/etc/proj/LOG_LEVEL"), "info");
}

#[test]
fn a_dangling_reference_in_every_pod_of_a_workload_is_reported_once_and_is_not_skew() {
    let env = "
        env:
        - name: DB_HOST
          valueFrom:
            configMapKeyRef: {name: app-config, key: DB_HOST}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
        ]),
    );
    assert_eq!(
        dangling(&inv),
        [(
            "ConfigMap app-config".into(),
            "env DB_HOST".into(),
            Some("DB_HOST".into())
        )]
    );
    assert!(skews(&inv).is_empty(), "{:?}", inv.issues);
    assert!(matches!(
        value(&inv, "checkout/server", "DB_HOST"),
        Value::Unresolved(_)
    ));
}

#[test]
fn secret_fingerprints_made_with_another_key_are_unresolved_not_compared() {
    // Fingerprints under different keys never match, so equal secrets would
    // look different: better to say they cannot be compared.
    let collected = collect_yaml(&stream(&[
        DB_SECRET,
        &web_pod(
            "
            env:
            - name: DB_PASS
              valueFrom:
                secretKeyRef: {name: db, key: password}
            ",
        ),
    ]));
    let inv = normalize("t", &collected, &Options::with_defaults("another-key"));
    assert!(matches!(
        value(&inv, "web/app", "DB_PASS"),
        Value::Unresolved(_)
    ));
}

// ---------------------------------------------------------------------------
// containers and per-pod fields
// ---------------------------------------------------------------------------

#[test]
fn init_containers_are_included_with_their_own_env() {
    let inv = inventory(
        "t",
        "
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop}
        spec:
          initContainers:
          - name: migrate
            env: [{name: MIGRATE_TIMEOUT, value: 60s}]
          containers:
          - name: app
            env: [{name: TIMEOUT_MS, value: '3000'}]
        ",
    );
    assert_eq!(text(&inv, "web/migrate", "MIGRATE_TIMEOUT"), "60s");
    assert!(entry(&inv, "web/migrate", "TIMEOUT_MS").is_none());
    assert!(entry(&inv, "web/app", "MIGRATE_TIMEOUT").is_none());
    let containers: Vec<&str> = inv.workloads["web"]
        .containers
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(containers, ["app", "migrate"]);
}

#[test]
fn field_refs_are_recorded_symbolically_and_equal_between_pods() {
    // The kubelet fills these per pod (pod name, IP, node): the same
    // reference is the same configuration.
    let env = "
        env:
        - name: MY_POD_IP
          valueFrom:
            fieldRef: {apiVersion: v1, fieldPath: status.podIP}
        - name: MY_NODE
          valueFrom:
            fieldRef: {fieldPath: spec.nodeName}
        - name: MEMORY_LIMIT_MB
          valueFrom:
            resourceFieldRef: {resource: limits.memory, divisor: 1Mi}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
        ]),
    );
    let ip = entry(&inv, "checkout/server", "MY_POD_IP").unwrap();
    assert_eq!(ip.value, Value::FieldRef("status.podIP".into()));
    assert_eq!(
        ip.provenance,
        Provenance::FieldRef {
            path: "status.podIP".into()
        }
    );
    // No limit: the node's allocatable, which no manifest tells.
    let mem = entry(&inv, "checkout/server", "MEMORY_LIMIT_MB").unwrap();
    assert_eq!(
        mem.value,
        Value::Unresolved("limits.memory not set: node allocatable".into())
    );
    assert_eq!(
        mem.provenance.to_string(),
        "resourceFieldRef limits.memory / 1Mi"
    );
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

/// A Deployment `web` whose container `app` has `resources` and `env`
/// (YAML at the container's indentation), beside a sidecar `proxy`.
fn web_with_resources(resources: &str, env: &str) -> String {
    let indent = |t: &str| {
        dedent(t)
            .lines()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  \
         template:\n    spec:\n      containers:\n      - name: app\n{}\n{}\n      - name: proxy\n        \
         resources: {{limits: {{cpu: 250m, memory: 64Mi}}}}\n",
        indent(resources),
        indent(env)
    )
}

fn resource_env(resources: &str, refs: &[(&str, &str)]) -> Inventory {
    let env: String = refs
        .iter()
        .map(|(name, r)| format!("- name: {name}\n  valueFrom:\n    resourceFieldRef: {r}\n"))
        .collect();
    inventory("t", &web_with_resources(resources, &format!("env:\n{env}")))
}

#[test]
fn resource_field_refs_resolve_as_extract_container_resource_value_rounding_up() {
    // k8s.io/kubernetes pkg/api/v1/resource ExtractContainerResourceValue:
    // cpu is ceil(MilliValue / divisor.MilliValue), everything else
    // ceil(Value / divisor.Value); the divisor defaults to 1.
    let inv = resource_env(
        "
        resources:
          limits: {cpu: 500m, memory: 128Mi, ephemeral-storage: 1Gi, hugepages-2Mi: 4Mi}
          requests: {cpu: 250m, memory: 100M}
        ",
        &[
            ("CPU_LIMIT", "{resource: limits.cpu}"),
            ("CPU_LIMIT_MILLIS", "{resource: limits.cpu, divisor: 1m}"),
            (
                "CPU_REQUEST_MILLIS",
                "{resource: requests.cpu, divisor: 1m}",
            ),
            ("MEMORY_LIMIT_MB", "{resource: limits.memory, divisor: 1Mi}"),
            ("MEMORY_LIMIT", "{resource: limits.memory}"),
            (
                "MEMORY_REQUEST_MB",
                "{resource: requests.memory, divisor: 1Mi}",
            ),
            (
                "SCRATCH_MB",
                "{resource: limits.ephemeral-storage, divisor: 1Mi}",
            ),
            (
                "SCRATCH_REQUEST",
                "{resource: requests.ephemeral-storage, divisor: 1Mi}",
            ),
            (
                "HUGEPAGES_MB",
                "{resource: limits.hugepages-2Mi, divisor: 1Mi}",
            ),
            (
                "PROXY_MEMORY_MB",
                "{containerName: proxy, resource: limits.memory, divisor: 1Mi}",
            ),
            ("ZERO_DIVISOR", "{resource: limits.cpu, divisor: '0'}"),
        ],
    );
    let got = |k: &str| value(&inv, "web/app", k).clone();
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(got("CPU_LIMIT"), text("1"), "500m rounds up to 1 cpu");
    assert_eq!(got("CPU_LIMIT_MILLIS"), text("500"));
    assert_eq!(got("CPU_REQUEST_MILLIS"), text("250"));
    assert_eq!(got("MEMORY_LIMIT_MB"), text("128"));
    assert_eq!(got("MEMORY_LIMIT"), text("134217728"));
    // 100M is 95.37Mi: rounded up.
    assert_eq!(got("MEMORY_REQUEST_MB"), text("96"));
    assert_eq!(got("SCRATCH_MB"), text("1024"));
    // No request: the API server defaults it to the limit.
    assert_eq!(got("SCRATCH_REQUEST"), text("1024"));
    assert_eq!(got("HUGEPAGES_MB"), text("4"));
    assert_eq!(got("PROXY_MEMORY_MB"), text("64"));
    assert_eq!(got("ZERO_DIVISOR"), text("1"), "a zero divisor is 1");
    assert_eq!(
        entry(&inv, "web/app", "PROXY_MEMORY_MB")
            .unwrap()
            .provenance
            .to_string(),
        "resourceFieldRef limits.memory of proxy / 1Mi"
    );
    assert_eq!(
        entry(&inv, "web/app", "CPU_LIMIT")
            .unwrap()
            .provenance
            .to_string(),
        "resourceFieldRef limits.cpu"
    );
}

#[test]
fn a_jvm_heap_from_a_memory_limit_drifts_visibly() {
    let env = [("MEMORY_LIMIT_MB", "{resource: limits.memory, divisor: 1Mi}")];
    let staging = resource_env("resources: {limits: {memory: 64Mi}}", &env);
    let prod = resource_env("resources: {limits: {memory: 128Mi}}", &env);
    let (a, b) = (
        value(&staging, "web/app", "MEMORY_LIMIT_MB"),
        value(&prod, "web/app", "MEMORY_LIMIT_MB"),
    );
    assert_eq!(
        (a, b),
        (&Value::Text("64".into()), &Value::Text("128".into()))
    );
    assert!(!same(ConfigKind::Env, a, b));
}

#[test]
fn a_missing_limit_is_node_allocatable_unresolved_and_never_equal() {
    // pkg/kubelet defaultPodLimitsForDownwardAPI: no limit means the
    // node's allocatable (or the pod-level limit, when there is one).
    let env = [
        ("MEMORY_LIMIT", "{resource: limits.memory}"),
        ("CPU_REQUEST", "{resource: requests.cpu}"),
        ("NOT_A_RESOURCE", "{resource: limits.gpu}"),
        (
            "NO_SUCH_CONTAINER",
            "{containerName: nope, resource: limits.cpu}",
        ),
    ];
    let a = resource_env("resources: {}", &env);
    let b = resource_env("resources: null", &env);
    let mem = value(&a, "web/app", "MEMORY_LIMIT");
    assert_eq!(
        *mem,
        Value::Unresolved("limits.memory not set: node allocatable".into())
    );
    assert!(!same(
        ConfigKind::Env,
        mem,
        value(&b, "web/app", "MEMORY_LIMIT")
    ));
    for k in ["CPU_REQUEST", "NOT_A_RESOURCE", "NO_SUCH_CONTAINER"] {
        assert!(
            matches!(value(&a, "web/app", k), Value::Unresolved(_)),
            "{k}"
        );
    }
    assert_eq!(a.unresolved(), 4);
    // A pod-level limit stands in for a container's missing one.
    let pod_level = inventory(
        "t",
        &web_with_resources("resources: {}", "env: [{name: M, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}]")
            .replace("    spec:\n      containers:", "    spec:\n      resources: {limits: {memory: 1Gi}}\n      containers:"),
    );
    assert_eq!(
        *value(&pod_level, "web/app", "M"),
        Value::Text("1024".into())
    );
}

// ---------------------------------------------------------------------------
// workload identity
// ---------------------------------------------------------------------------

#[test]
fn deployment_pods_that_differ_only_in_generated_fields_are_one_workload_without_skew() {
    let env = "
        env:
        - {name: DB_POOL_SIZE, value: '5'}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
            &checkout_pod("h5j6k", "node-c", "10.0.3.3", "kube-api-access-zt6qr", env),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    let info = &inv.workloads["checkout"];
    assert_eq!(info.kind, "Deployment");
    assert_eq!(info.pods, 3);
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
    // Nothing from the service-account token volume is compared.
    assert_eq!(keys(&inv, "checkout/server"), ["DB_POOL_SIZE"]);
}

#[test]
fn statefulset_pods_are_one_workload() {
    let pod = |ordinal: u32| {
        format!(
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: cart-{ordinal}
              namespace: shop
              labels:
                app: cart
                apps.kubernetes.io/pod-index: \"{ordinal}\"
                statefulset.kubernetes.io/pod-name: cart-{ordinal}
              ownerReferences:
              - {{apiVersion: apps/v1, kind: StatefulSet, name: cart, uid: u1, controller: true}}
            spec:
              hostname: cart-{ordinal}
              containers:
              - name: redis
                env: [{{name: MAXMEMORY, value: 256mb}}]
            "
        )
    };
    let inv = inventory("t", &stream(&[&pod(0), &pod(1), &pod(2)]));
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["cart"]);
    assert_eq!(inv.workloads["cart"].kind, "StatefulSet");
    assert_eq!(inv.workloads["cart"].pods, 3);
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

const NIGHTLY_CRONJOB: &str = "
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-report, namespace: shop}
spec:
  schedule: '0 2 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            env: [{name: REPORT_DAYS, value: '7'}]
";

#[test]
fn cronjob_its_jobs_and_their_pods_are_one_workload() {
    // A CronJob's Jobs are named `<cronjob>-<minutes since the epoch>`
    // (pkg/controller/cronjob getJobName).
    let inv = inventory(
        "t",
        &stream(&[
            NIGHTLY_CRONJOB,
            "
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: nightly-report-29012345
              namespace: shop
              ownerReferences:
              - {apiVersion: batch/v1, kind: CronJob, name: nightly-report, uid: u1, controller: true}
            spec:
              template:
                spec:
                  containers:
                  - name: report
                    env: [{name: REPORT_DAYS, value: '7'}]
            ",
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: nightly-report-29012345-8xk2p
              namespace: shop
              labels: {job-name: nightly-report-29012345}
              ownerReferences:
              - {apiVersion: batch/v1, kind: Job, name: nightly-report-29012345, uid: u2, controller: true}
            spec:
              containers:
              - name: report
                env: [{name: REPORT_DAYS, value: '7'}]
            status: {phase: Running}
            ",
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["nightly-report"]);
    assert_eq!(inv.workloads["nightly-report"].kind, "CronJob");
    assert_eq!(inv.workloads["nightly-report"].pods, 1);
    assert_eq!(text(&inv, "nightly-report/report", "REPORT_DAYS"), "7");
}

#[test]
fn a_cronjob_without_running_jobs_uses_its_template() {
    let inv = inventory("t", NIGHTLY_CRONJOB);
    assert_eq!(inv.workloads["nightly-report"].kind, "CronJob");
    assert_eq!(inv.workloads["nightly-report"].pods, 0);
    assert_eq!(text(&inv, "nightly-report/report", "REPORT_DAYS"), "7");
}

#[test]
fn job_pods_stay_with_their_job_when_its_name_merely_ends_in_digits() {
    // Regression: a standalone Job named like a timestamp (a Helm hook
    // `migrate-20250502`) is in the input without a CronJob owner; its pods
    // were guessed to belong to a CronJob `migrate` while its template was
    // Job `migrate-20250502`: one workload became two.
    let inv = inventory(
        "t",
        &stream(&[
            "
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate-20250502, namespace: shop}
            spec:
              template:
                spec:
                  containers:
                  - name: migrate
                    env: [{name: DRY_RUN, value: 'false'}]
            ",
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: migrate-20250502-kx8vq
              namespace: shop
              ownerReferences:
              - {apiVersion: batch/v1, kind: Job, name: migrate-20250502, uid: u2, controller: true}
            spec:
              containers:
              - name: migrate
                env: [{name: DRY_RUN, value: 'false'}]
            status: {phase: Running}
            ",
        ]),
    );
    assert_eq!(
        inv.workloads.keys().collect::<Vec<_>>(),
        ["migrate-20250502"]
    );
    assert_eq!(inv.workloads["migrate-20250502"].kind, "Job");
    assert_eq!(inv.workloads["migrate-20250502"].pods, 1);
}

const CHECKOUT_DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
  uid: 5c6d7e8f-0000-1111-2222-333344445555
  generation: 7
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: checkout}
  template:
    metadata:
      labels: {app.kubernetes.io/name: checkout}
    spec:
      containers:
      - name: server
        env:
        - {name: DB_POOL_SIZE, value: '10'}
";

#[test]
fn a_deployment_with_pods_is_described_by_its_pods() {
    // The pods are what runs; the template may have been edited since.
    let env = "
        env:
        - {name: DB_POOL_SIZE, value: '5'}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            CHECKOUT_DEPLOYMENT,
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    assert_eq!(inv.workloads["checkout"].pods, 1);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "5");
}

#[test]
fn a_deployment_without_pods_is_described_by_its_template() {
    let inv = inventory("t", CHECKOUT_DEPLOYMENT);
    assert_eq!(inv.workloads["checkout"].kind, "Deployment");
    assert_eq!(inv.workloads["checkout"].pods, 0);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "10");
}

#[test]
fn replicasets_owned_by_a_deployment_in_the_input_are_not_workloads() {
    // `kubectl get all` lists old ReplicaSets (revisionHistoryLimit) too;
    // their templates are history, not configuration.
    let rs = |hash: &str, pool: &str| {
        format!(
            "
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata:
              name: checkout-{hash}
              namespace: shop
              labels: {{app.kubernetes.io/name: checkout, pod-template-hash: {hash}}}
              ownerReferences:
              - {{apiVersion: apps/v1, kind: Deployment, name: checkout, uid: u1, controller: true}}
            spec:
              replicas: 0
              template:
                spec:
                  containers:
                  - name: server
                    env: [{{name: DB_POOL_SIZE, value: '{pool}'}}]
            "
        )
    };
    let inv = inventory(
        "t",
        &stream(&[
            CHECKOUT_DEPLOYMENT,
            &rs("7c9d5b8f4d", "10"),
            &rs("6b8c4a7e3c", "3"),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "10");
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

// ---------------------------------------------------------------------------
// skew between pods of one workload
// ---------------------------------------------------------------------------

#[test]
fn pods_of_one_workload_that_disagree_are_skew_and_the_majority_stands() {
    let pool = |n: &str| format!("env: [{{name: DB_POOL_SIZE, value: '{n}'}}]");
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod(
                "x2x9k",
                "node-a",
                "10.0.1.17",
                "kube-api-access-4xk2p",
                &pool("20"),
            ),
            &checkout_pod(
                "q7w8z",
                "node-b",
                "10.0.2.9",
                "kube-api-access-9vbnm",
                &pool("5"),
            ),
            &checkout_pod(
                "h5j6k",
                "node-c",
                "10.0.3.3",
                "kube-api-access-zt6qr",
                &pool("5"),
            ),
        ]),
    );
    let s = skews(&inv);
    assert_eq!(s.len(), 1, "{:?}", inv.issues);
    let (subject, variants) = s[0];
    assert_eq!(subject, subject_of(&inv, "checkout/server", "DB_POOL_SIZE"));
    let mut variants = variants.clone();
    variants.sort();
    assert_eq!(variants, [("20".to_string(), 1), ("5".to_string(), 2)]);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "5");
}

#[test]
fn skew_in_a_secret_never_shows_the_fingerprint() {
    let secret_pod = |suffix: &str, secret_name: &str| {
        checkout_pod(
            suffix,
            "node-a",
            "10.0.1.1",
            "kube-api-access-4xk2p",
            &format!(
                "env: [{{name: API_TOKEN, valueFrom: {{secretKeyRef: {{name: {secret_name}, key: password}}}}}}]"
            ),
        )
    };
    let inv = inventory(
        "t",
        &stream(&[
            DB_SECRET,
            &DB_SECRET
                .replace("name: db", "name: db-v2")
                .replace("hunter2", "hunter3"),
            &secret_pod("x2x9k", "db"),
            &secret_pod("q7w8z", "db-v2"),
        ]),
    );
    let s = skews(&inv);
    assert_eq!(s.len(), 1, "{:?}", inv.issues);
    for (shown, _) in s[0].1 {
        assert!(shown.starts_with("<redacted"), "{shown}");
        let fp = test_key().fingerprint(b"hunter2").mac;
        assert!(!shown.contains(&fp[..8]), "{shown}");
    }
}

// ---------------------------------------------------------------------------
// mounted files
// ---------------------------------------------------------------------------

fn pod_with_volume(mount: &str, volume: &str) -> String {
    let indent = |s: &str, n: usize| {
        dedent(s)
            .lines()
            .map(|l| format!("{}{l}", " ".repeat(n)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    volumeMounts:\n{}\n  volumes:\n{}\n",
        indent(mount, 4),
        indent(volume, 2)
    )
}

const NGINX_CONF: &str = "
apiVersion: v1
kind: ConfigMap
metadata: {name: nginx, namespace: shop}
data:
  nginx.conf: |
    worker_processes 2;
    events { worker_connections 1024; }
  mime.types: |
    types { text/html html; }
binaryData:
  favicon.ico: AAABAAEAEBA=
";

#[test]
fn a_configmap_volume_mounts_every_key_as_a_file_under_the_mount_path() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx/}",
                "- {name: conf, configMap: {name: nginx}}",
            ),
        ]),
    );
    assert_eq!(
        keys(&inv, "web/app"),
        [
            "/etc/nginx/favicon.ico",
            "/etc/nginx/mime.types",
            "/etc/nginx/nginx.conf"
        ]
    );
    let conf = subject_of(&inv, "web/app", "/etc/nginx/nginx.conf");
    assert_eq!(conf.kind, ConfigKind::File);
    assert!(text(&inv, "web/app", "/etc/nginx/nginx.conf").contains("worker_processes 2;"));
    assert!(matches!(
        value(&inv, "web/app", "/etc/nginx/favicon.ico"),
        Value::Binary(_)
    ));
    assert_eq!(
        entry(&inv, "web/app", "/etc/nginx/nginx.conf")
            .unwrap()
            .provenance,
        Provenance::Mounted {
            source: RefKind::ConfigMap,
            name: "nginx".into(),
            key: "nginx.conf".into()
        }
    );
}

#[test]
fn a_configmap_volume_with_items_mounts_only_those_keys_at_their_paths() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx}",
                "
                - name: conf
                  configMap:
                    name: nginx
                    items:
                    - {key: nginx.conf, path: conf.d/main.conf}
                ",
            ),
        ]),
    );
    assert_eq!(keys(&inv, "web/app"), ["/etc/nginx/conf.d/main.conf"]);
}

#[test]
fn a_sub_path_mount_is_that_one_file_at_the_mount_path() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}",
                "- {name: conf, configMap: {name: nginx}}",
            ),
        ]),
    );
    assert_eq!(keys(&inv, "web/app"), ["/etc/nginx/nginx.conf"]);
    assert!(text(&inv, "web/app", "/etc/nginx/nginx.conf").contains("worker_connections"));
}

#[test]
fn a_projected_volume_combines_configmap_and_secret_sources() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            DB_SECRET,
            &pod_with_volume(
                "- {name: all, mountPath: /etc/app}",
                "
                - name: all
                  projected:
                    sources:
                    - configMap:
                        name: app-config
                        items: [{key: LOG_LEVEL, path: log-level}]
                    - secret:
                        name: db
                        items: [{key: password, path: db/password}]
                    - downwardAPI:
                        items:
                        - {path: labels, fieldRef: {fieldPath: metadata.labels}}
                ",
            ),
        ]),
    );
    assert_eq!(
        keys(&inv, "web/app"),
        ["/etc/app/db/password", "/etc/app/log-level"]
    );
    assert_eq!(text(&inv, "web/app", "/etc/app/log-level"), "info");
    assert_eq!(
        *value(&inv, "web/app", "/etc/app/db/password"),
        secret("hunter2")
    );
}

#[test]
fn secret_volume_files_are_secret_values() {
    let inv = inventory(
        "t",
        &stream(&[
            DB_SECRET,
            &pod_with_volume(
                "- {name: creds, mountPath: /var/run/db, readOnly: true}",
                "- {name: creds, secret: {secretName: db, defaultMode: 256}}",
            ),
        ]),
    );
    assert_eq!(
        *value(&inv, "web/app", "/var/run/db/password"),
        secret("hunter2")
    );
    assert_eq!(*value(&inv, "web/app", "/var/run/db/user"), secret("shop"));
    assert_eq!(
        entry(&inv, "web/app", "/var/run/db/user")
            .unwrap()
            .provenance,
        Provenance::Mounted {
            source: RefKind::Secret,
            name: "db".into(),
            key: "user".into()
        }
    );
}

#[test]
fn the_kube_api_access_volume_and_kube_root_ca_are_never_compared() {
    // The ServiceAccount admission plugin adds `kube-api-access-<random>`
    // to every pod, and the root CA publisher puts `kube-root-ca.crt` in
    // every namespace with per-cluster content.
    let inv = inventory(
        "t",
        &stream(&[
            "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: kube-root-ca.crt
              namespace: shop
              annotations:
                kubernetes.io/description: Contains a CA bundle for verifying the kube-apiserver.
            data:
              ca.crt: |
                -----BEGIN CERTIFICATE-----
                MIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl
                -----END CERTIFICATE-----
            ",
            &checkout_pod(
                "x2x9k",
                "node-a",
                "10.0.1.17",
                "kube-api-access-4xk2p",
                "env: [{name: A, value: '1'}]",
            ),
        ]),
    );
    assert!(inv.configmaps.is_empty(), "{:?}", inv.configmaps);
    assert_eq!(keys(&inv, "checkout/server"), ["A"]);
    assert!(keys(&inv, "configmap/kube-root-ca.crt").is_empty());
}

#[test]
fn generated_ca_bundles_are_never_compared_nor_dangling() {
    // kube-root-ca.crt (kube-controller-manager), openshift-service-ca.crt
    // (the service CA operator) and istio-ca-root-cert (istiod) are written
    // into every namespace with the cluster's own CA. A rendered manifest
    // never holds them; a live namespace holds a different one per cluster.
    let pod = "
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop}
        spec:
          containers:
          - name: app
            env: [{name: A, value: '1'}]
            volumeMounts:
            - {name: istio, mountPath: /var/run/secrets/istio}
            - {name: openshift, mountPath: /etc/pki/service-ca}
            - {name: root, mountPath: /etc/ssl/cluster}
          volumes:
          - {name: istio, configMap: {name: istio-ca-root-cert}}
          - {name: openshift, configMap: {name: openshift-service-ca.crt}}
          - name: root
            projected:
              sources:
              - configMap: {name: kube-root-ca.crt}
        ";
    let bundle = |name: &str, pem: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: shop}}\n\
             data: {{root-cert.pem: {pem}}}\n"
        )
    };
    let rendered = inventory("rendered", pod);
    assert!(rendered.issues.is_empty(), "{:?}", rendered.issues);
    assert_eq!(keys(&rendered, "web/app"), ["A"]);
    let live = inventory(
        "live",
        &stream(&[
            pod,
            &bundle("istio-ca-root-cert", "cluster-a"),
            &bundle("openshift-service-ca.crt", "cluster-a"),
            &bundle("kube-root-ca.crt", "cluster-a"),
        ]),
    );
    assert!(live.issues.is_empty(), "{:?}", live.issues);
    assert!(live.configmaps.is_empty(), "{:?}", live.configmaps);
    assert_eq!(keys(&live, "web/app"), ["A"]);
}

// ---------------------------------------------------------------------------
// feature flags
// ---------------------------------------------------------------------------

#[test]
fn env_vars_matching_the_default_flag_patterns_are_flags() {
    let inv = inventory(
        "t",
        &web_pod(
            "
            env:
            - {name: FEATURE_NEW_CHECKOUT, value: 'true'}
            - {name: FF_DARK_MODE, value: 'off'}
            - {name: ENABLE_CACHE, value: '1'}
            - {name: DISABLE_TELEMETRY, value: 'yes'}
            - {name: SEARCH_ENABLED, value: 'True'}
            - {name: LEGACY_DISABLED, value: 'false'}
            - {name: DB_POOL_SIZE, value: '5'}
            ",
        ),
    );
    for k in [
        "FEATURE_NEW_CHECKOUT",
        "FF_DARK_MODE",
        "ENABLE_CACHE",
        "DISABLE_TELEMETRY",
        "SEARCH_ENABLED",
        "LEGACY_DISABLED",
    ] {
        assert_eq!(subject_of(&inv, "web/app", k).kind, ConfigKind::Flag, "{k}");
    }
    assert_eq!(
        subject_of(&inv, "web/app", "DB_POOL_SIZE").kind,
        ConfigKind::Env
    );
}

#[test]
fn a_configmap_labelled_as_a_flag_store_yields_flags() {
    let inv = inventory(
        "t",
        "
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: feature-flags
          namespace: shop
          labels: {confdrift.io/flags: 'true'}
        data:
          new-checkout-ui: 'on'
          dark-mode: 'False'
        ",
    );
    for k in ["new-checkout-ui", "dark-mode"] {
        let s = subject_of(&inv, "configmap/feature-flags", k);
        assert_eq!(s.kind, ConfigKind::Flag, "{k}");
    }
    assert_eq!(
        entry(&inv, "configmap/feature-flags", "dark-mode")
            .unwrap()
            .provenance,
        Provenance::ConfigMapData {
            name: "feature-flags".into(),
            key: "dark-mode".into()
        }
    );
}

#[test]
fn a_flagd_document_yields_one_flag_per_flag_with_state_and_default_variant() {
    let inv = inventory(
        "t",
        r##"
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: flagd-flags, namespace: shop}
        data:
          flags.flagd.json: |
            {
              "$schema": "https://flagd.dev/schema/v0/flags.json",
              "flags": {
                "new-checkout": {
                  "state": "ENABLED",
                  "variants": {"on": true, "off": false},
                  "defaultVariant": "off"
                },
                "banner-color": {
                  "state": "DISABLED",
                  "variants": {"red": "#f00", "blue": "#00f"},
                  "defaultVariant": "red"
                },
                "broken": {
                  "state": "ENABLED",
                  "variants": {"a": 1},
                  "defaultVariant": "b"
                }
              }
            }
        "##,
    );
    let flags: Vec<(&str, &Value, &Provenance)> = inv
        .entries
        .iter()
        .filter(|(s, _)| s.kind == ConfigKind::Flag)
        .map(|(s, e)| (s.key.as_str(), &e.value, &e.provenance))
        .collect();
    assert_eq!(flags.len(), 3, "{flags:?}");
    assert_eq!(
        text(&inv, "configmap/flagd-flags", "new-checkout"),
        "ENABLED default=false"
    );
    assert_eq!(
        text(&inv, "configmap/flagd-flags", "banner-color"),
        "DISABLED default=\"#f00\""
    );
    assert!(matches!(
        value(&inv, "configmap/flagd-flags", "broken"),
        Value::Unresolved(_)
    ));
    assert_eq!(
        *flags[0].2,
        Provenance::Flagd {
            configmap: "flagd-flags".into(),
            key: "flags.flagd.json".into()
        }
    );
}

#[test]
fn flag_spellings_true_1_and_on_are_the_same_flag_value() {
    let flag = |v: &str| {
        let inv = inventory(
            "t",
            &web_pod(&format!("env: [{{name: FEATURE_SEARCH, value: '{v}'}}]")),
        );
        value(&inv, "web/app", "FEATURE_SEARCH").clone()
    };
    let t = flag("true");
    for v in ["True", "1", "on", " yes "] {
        assert!(same(ConfigKind::Flag, &t, &flag(v)), "{v}");
    }
    assert!(!same(ConfigKind::Flag, &t, &flag("off")));
    // Only flags are read as booleans.
    assert!(!same(ConfigKind::Env, &t, &flag("1")));
}

// ---------------------------------------------------------------------------
// ConfigMaps as objects
// ---------------------------------------------------------------------------

#[test]
fn kustomize_hashed_configmap_is_known_by_its_base_name() {
    let inv = inventory(
        "t",
        &stream(&[
            &APP_CONFIG.replace("name: app-config", "name: app-config-7h2g9k5c4m"),
            &web_pod(
                "
                envFrom:
                - configMapRef: {name: app-config-7h2g9k5c4m}
                ",
            ),
        ]),
    );
    assert_eq!(inv.configmaps.iter().collect::<Vec<_>>(), ["app-config"]);
    assert_eq!(text(&inv, "configmap/app-config", "LOG_LEVEL"), "info");
    // The pod refers to the real name, and that resolves.
    assert_eq!(text(&inv, "web/app", "LOG_LEVEL"), "info");
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

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
    &'a std::collections::BTreeMap<Subject, Entry>,
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

// Env vars are read when a container starts; a ConfigMap changed later is
// not seen until a restart (kubernetes.io docs, "ConfigMaps consumed as
// environment variables are not updated automatically").
fn stale_fixture(cm_changed: &str, second_start: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: app-config
    namespace: shop
    managedFields:
    - manager: kubectl-client-side-apply
      operation: Update
      time: "{cm_changed}"
      fieldsType: FieldsV1
      fieldsV1: {{"f:data": {{"f:POOL": {{}}}}}}
    - manager: label-bot
      operation: Update
      time: "2030-01-01T00:00:00Z"
      fieldsType: FieldsV1
      fieldsV1: {{"f:metadata": {{"f:labels": {{}}}}}}
  data: {{POOL: "5"}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-abc-1
    namespace: shop
    labels: {{pod-template-hash: abc}}
    ownerReferences: [{{kind: ReplicaSet, name: web-abc, controller: true}}]
  spec:
    containers:
    - name: app
      env: [{{name: POOL, valueFrom: {{configMapKeyRef: {{name: app-config, key: POOL}}}}}}]
  status:
    phase: Running
    containerStatuses:
    - name: app
      state: {{running: {{startedAt: "2026-11-01T10:00:00Z"}}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-abc-2
    namespace: shop
    labels: {{pod-template-hash: abc}}
    ownerReferences: [{{kind: ReplicaSet, name: web-abc, controller: true}}]
  spec:
    containers:
    - name: app
      env: [{{name: POOL, valueFrom: {{configMapKeyRef: {{name: app-config, key: POOL}}}}}}]
  status:
    phase: Running
    containerStatuses:
    - name: app
      state: {{running: {{startedAt: "{second_start}"}}}}
"#
    )
}

fn stale_issues(inv: &Inventory) -> Vec<&Issue> {
    inv.issues
        .iter()
        .filter(|i| matches!(i, Issue::StalePods { .. }))
        .collect()
}

#[test]
fn pods_started_before_their_configmap_changed_are_stale() {
    let inv = inventory(
        "prod",
        &stale_fixture("2026-11-20T08:00:00Z", "2026-11-02T10:00:00+02:00"),
    );
    let stale = stale_issues(&inv);
    assert_eq!(stale.len(), 1, "{:?}", inv.issues);
    let Issue::StalePods {
        workload,
        container,
        source,
        stale,
        pods,
        started,
        ..
    } = stale[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (workload.as_str(), container.as_str(), source.as_str()),
        ("web", "app", "ConfigMap app-config")
    );
    assert_eq!((*stale, *pods), (2, 2));
    assert_eq!(started, "2026-11-01T10:00:00Z");
}

#[test]
fn a_pod_restarted_after_the_change_is_not_stale_and_label_edits_do_not_count() {
    // The label-bot's 2030 edit touched metadata only; the data changed on
    // 2026-11-20, after the first pod started but before the second.
    let inv = inventory(
        "prod",
        &stale_fixture("2026-11-20T08:00:00Z", "2026-11-21T00:00:00Z"),
    );
    let Issue::StalePods { stale, pods, .. } = stale_issues(&inv)[0] else {
        unreachable!()
    };
    assert_eq!((*stale, *pods), (1, 2));
    let inv = inventory(
        "prod",
        &stale_fixture("2026-10-01T00:00:00Z", "2026-11-21T00:00:00Z"),
    );
    assert!(stale_issues(&inv).is_empty(), "{:?}", inv.issues);
}
