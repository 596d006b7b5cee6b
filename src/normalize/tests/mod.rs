//! The Kubernetes rules normalize follows, one test per rule, on manifests
//! parsed by the real parser. Where a rule is not obvious the comment names
//! the Kubernetes code it mirrors.

mod containers;
mod env;
mod flags;
mod identity;
mod invariants;
mod key_refs;
mod mounts;
mod skew;
pub(crate) use invariants::gen_env;
mod stale;

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
        .unwrap_or_else(|| {
            panic!(
                "no {scope} {key} in {:#?}",
                inv.entries.keys().collect::<Vec<_>>()
            )
        })
}

fn value<'a>(inv: &'a Inventory, scope: &str, key: &str) -> &'a Value {
    &entry(inv, scope, key)
        .unwrap_or_else(|| {
            panic!(
                "no {scope} {key} in {:#?}",
                inv.entries.keys().collect::<Vec<_>>()
            )
        })
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
