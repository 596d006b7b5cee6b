//! How environments line up: what counts as the same configuration, what is
//! one absence rather than many missing keys, and the invariants (an
//! environment compared with itself has no drift; swapping two environments
//! swaps the sides of every delta).

use proptest::prelude::*;

use super::compare;
use crate::model::{Absence, Absent, ConfigKind, Delta, Inventory, Name, Value};
use crate::normalize::tests::{gen_env, inventory, stream};

fn deltas_for<'a>(deltas: &'a [Delta], scope: &str) -> Vec<&'a Delta> {
    deltas
        .iter()
        .filter(|d| d.subject.scope.to_string() == scope)
        .collect()
}

fn delta<'a>(deltas: &'a [Delta], scope: &str, key: &str) -> &'a Delta {
    deltas
        .iter()
        .find(|d| d.subject.scope.to_string() == scope && d.subject.key == key)
        .unwrap_or_else(|| {
            panic!(
                "no delta for {scope} {key}; deltas: {:?}",
                deltas
                    .iter()
                    .map(|d| format!("{} {}", d.subject.scope, d.subject.key))
                    .collect::<Vec<_>>()
            )
        })
}

fn shown(d: &Delta) -> Vec<Option<String>> {
    d.values
        .iter()
        .map(|v| {
            v.as_ref()
                .map(|e| crate::normalize::display_value(&e.value))
        })
        .collect()
}

/// A pod `web` in namespace `shop` whose container `app` has `env`.
fn web(env: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    env: {env}\n"
    )
}

#[test]
fn a_differing_value_is_one_delta_with_every_environments_value() {
    let staging = inventory("staging", &web("[{name: DB_POOL_SIZE, value: '20'}]"));
    let prod = inventory("prod", &web("[{name: DB_POOL_SIZE, value: '5'}]"));
    let c = compare(&[staging, prod], "prod");
    assert_eq!(c.envs, ["staging", "prod"]);
    assert_eq!(c.deltas.len(), 1);
    let d = delta(&c.deltas, "web/app", "DB_POOL_SIZE");
    assert_eq!(shown(d), [Some("20".into()), Some("5".into())]);
    assert_eq!(d.scope_absent, [false, false]);
    assert!(d.line_diff.is_none());
    assert!(c.absences.is_empty());
}

#[test]
fn a_key_missing_in_one_environment_is_a_delta_with_an_empty_side() {
    let staging = inventory(
        "staging",
        &web("[{name: A, value: '1'}, {name: TIMEOUT_MS, value: '3000'}]"),
    );
    let prod = inventory("prod", &web("[{name: A, value: '1'}]"));
    let c = compare(&[staging, prod], "prod");
    assert_eq!(c.deltas.len(), 1);
    let d = delta(&c.deltas, "web/app", "TIMEOUT_MS");
    assert_eq!(shown(d), [Some("3000".into()), None]);
    assert_eq!(d.scope_absent, [false, false]);
}

#[test]
fn whitespace_around_an_env_value_is_drift() {
    // The program gets the value byte for byte: `strconv.Atoi("20\n")` and
    // `Integer.parseInt(" 20")` fail where "20" parses (a `POOL: |` block).
    for raw in ["' eu-west-1 '", "\"eu-west-1\\n\""] {
        let staging = inventory(
            "staging",
            &web(&format!("[{{name: REGION, value: {raw}}}]")),
        );
        let prod = inventory("prod", &web("[{name: REGION, value: eu-west-1}]"));
        assert_eq!(compare(&[staging, prod], "prod").deltas.len(), 1, "{raw}");
    }
}

#[test]
fn flag_spellings_are_not_drift_but_a_flipped_flag_is() {
    let staging = inventory(
        "staging",
        &web("[{name: FEATURE_SEARCH, value: 'True'}, {name: FEATURE_NEW_UI, value: 'on'}]"),
    );
    let prod = inventory(
        "prod",
        &web("[{name: FEATURE_SEARCH, value: '1'}, {name: FEATURE_NEW_UI, value: 'false'}]"),
    );
    let c = compare(&[staging, prod], "prod");
    assert_eq!(c.deltas.len(), 1, "{:?}", c.deltas);
    let d = delta(&c.deltas, "web/app", "FEATURE_NEW_UI");
    assert_eq!(d.subject.kind, ConfigKind::Flag);
}

#[test]
fn a_workload_missing_in_one_environment_is_one_absence_and_no_key_deltas() {
    let checkout = "
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: checkout, namespace: shop}
        spec:
          template:
            spec:
              containers:
              - name: server
                env:
                - {name: DB_POOL_SIZE, value: '5'}
                - {name: TIMEOUT_MS, value: '3000'}
                - {name: FEATURE_NEW_CHECKOUT, value: 'on'}
        ";
    let both = web("[{name: A, value: '1'}]");
    let staging = inventory("staging", &stream(&[&both, checkout]));
    let prod = inventory("prod", &both);
    let c = compare(&[staging, prod], "prod");
    assert_eq!(
        c.absences,
        [Absence {
            what: Absent::Workload {
                name: "checkout".into()
            },
            missing_in: vec!["prod".into()],
            present_in: vec!["staging".into()],
        }]
    );
    assert!(
        deltas_for(&c.deltas, "checkout/server").is_empty(),
        "{:?}",
        c.deltas
    );
    assert!(c.deltas.is_empty());
}

#[test]
fn a_container_missing_in_one_environment_is_one_absence_and_no_key_deltas() {
    let pod = |sidecar: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    env: [{{name: A, value: '1'}}]\n{sidecar}"
        )
    };
    let staging = inventory(
        "staging",
        &pod("  - name: envoy\n    env: [{name: ENVOY_LOG_LEVEL, value: debug}]\n"),
    );
    let prod = inventory("prod", &pod(""));
    let c = compare(&[staging, prod], "prod");
    assert_eq!(
        c.absences,
        [Absence {
            what: Absent::Container {
                workload: "web".into(),
                container: "envoy".into()
            },
            missing_in: vec!["prod".into()],
            present_in: vec!["staging".into()],
        }]
    );
    assert!(c.deltas.is_empty(), "{:?}", c.deltas);
}

#[test]
fn with_three_environments_a_workload_absent_in_one_is_still_compared_in_the_others() {
    let staging = inventory("staging", &web("[{name: DB_POOL_SIZE, value: '20'}]"));
    let dev = inventory(
        "dev",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n",
    );
    let prod = inventory("prod", &web("[{name: DB_POOL_SIZE, value: '5'}]"));
    let c = compare(&[dev, staging, prod], "prod");
    let d = delta(&c.deltas, "web/app", "DB_POOL_SIZE");
    assert_eq!(d.scope_absent, [true, false, false]);
    assert_eq!(shown(d), [None, Some("20".into()), Some("5".into())]);
    assert!(
        c.absences
            .iter()
            .any(|a| a.what == Absent::Workload { name: "web".into() } && a.missing_in == ["dev"])
    );
}

/// A kustomize-generated ConfigMap with its content hash, and a pod that
/// loads it with envFrom.
fn kustomized(env: &str, hash: &str, log_level: &str) -> Inventory {
    inventory(
        env,
        &format!(
            "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: app-config-{hash}
              namespace: shop
              labels: {{app.kubernetes.io/name: shop}}
            data:
              DB_HOST: db.shop.svc
              LOG_LEVEL: {log_level}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {{name: web, namespace: shop}}
            spec:
              containers:
              - name: app
                envFrom:
                - configMapRef: {{name: app-config-{hash}}}
            "
        ),
    )
}

#[test]
fn kustomize_hash_suffixed_configmaps_line_up_as_one_configmap() {
    // kustomize configMapGenerator appends a content hash, so the same
    // ConfigMap has another name in every environment whose data differs.
    let staging = kustomized("staging", "7h2g9k5c4m", "debug");
    let prod = kustomized("prod", "b8t6f2dkm4", "info");
    let c = compare(&[staging, prod], "prod");
    assert!(c.absences.is_empty(), "{:?}", c.absences);
    let d = delta(&c.deltas, "configmap/app-config", "LOG_LEVEL");
    assert_eq!(d.subject.kind, ConfigKind::ConfigMap);
    assert_eq!(shown(d), [Some("debug".into()), Some("info".into())]);
    // The provenance keeps the real name, for the person who goes looking.
    let web = delta(&c.deltas, "web/app", "LOG_LEVEL");
    assert!(
        web.values[1]
            .as_ref()
            .unwrap()
            .provenance
            .to_string()
            .contains("app-config-b8t6f2dkm4")
    );
    assert_eq!(c.deltas.len(), 2, "{:?}", c.deltas);
}

#[test]
fn mounted_files_line_up_by_mount_path_not_volume_name() {
    let pod = |volume: &str| {
        format!(
            "
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: nginx, namespace: shop}}
            data: {{nginx.conf: 'worker_processes 2;'}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {{name: web, namespace: shop}}
            spec:
              containers:
              - name: app
                volumeMounts: [{{name: {volume}, mountPath: /etc/nginx}}]
              volumes:
              - {{name: {volume}, configMap: {{name: nginx}}}}
            "
        )
    };
    let staging = inventory("staging", &pod("config"));
    let prod = inventory("prod", &pod("nginx-config"));
    let c = compare(&[staging, prod], "prod");
    assert!(c.deltas.is_empty(), "{:?}", c.deltas);
}

/// A ConfigMap `app` whose `application.yaml` has the given pool size.
fn app_yaml(env: &str, pool: u32) -> Inventory {
    inventory(
        env,
        &format!(
            "
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: app, namespace: shop}}
            data:
              application.yaml: |
                server:
                  port: 8080
                datasource:
                  url: jdbc:postgresql://db:5432/shop
                  pool: {pool}
                  timeout: 30s
            "
        ),
    )
}

#[test]
fn multi_line_values_get_a_unified_line_diff_against_the_baseline() {
    let c = compare(&[app_yaml("staging", 20), app_yaml("prod", 5)], "prod");
    let d = delta(&c.deltas, "configmap/app", "application.yaml");
    let diff = d.line_diff.as_deref().expect("a line diff");
    assert!(diff.contains("--- prod"), "{diff}");
    assert!(diff.contains("+++ staging"), "{diff}");
    assert!(diff.contains("\n-  pool: 5\n"), "{diff}");
    assert!(diff.contains("\n+  pool: 20\n"), "{diff}");
    // Context, but not the whole file.
    assert!(diff.contains("timeout: 30s"), "{diff}");
    assert!(!diff.contains("port: 8080"), "{diff}");
}

#[test]
fn environments_with_the_same_file_share_one_line_diff() {
    let c = compare(
        &[
            app_yaml("dev", 20),
            app_yaml("staging", 20),
            app_yaml("prod", 5),
        ],
        "prod",
    );
    let diff = c.deltas[0].line_diff.as_deref().expect("a line diff");
    assert_eq!(diff.matches("+  pool: 20").count(), 1, "{diff}");
    assert!(diff.contains("# staging is the same as dev"), "{diff}");
}

#[test]
fn crlf_line_endings_in_a_file_are_not_drift() {
    let staging = app_yaml("staging", 5);
    let mut prod = app_yaml("prod", 5);
    for e in prod.entries.values_mut() {
        if let Value::Text(t) = &mut e.value {
            *t = Name::from(t.replace('\n', "\r\n"));
        }
    }
    assert!(compare(&[staging, prod], "prod").deltas.is_empty());
}

fn with_secret(env: &str, password: &str) -> Inventory {
    inventory(
        env,
        &format!(
            "
            apiVersion: v1
            kind: Secret
            metadata: {{name: db, namespace: shop}}
            stringData:
              password: {password}
              config.yaml: |
                user: shop
                password: {password}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {{name: web, namespace: shop}}
            spec:
              containers:
              - name: app
                env:
                - {{name: DB_PASS, valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}
                volumeMounts: [{{name: creds, mountPath: /etc/db}}]
              volumes:
              - {{name: creds, secret: {{secretName: db}}}}
            "
        ),
    )
}

#[test]
fn secrets_compare_by_fingerprint_and_never_get_a_line_diff() {
    let same = compare(
        &[
            with_secret("staging", "hunter2"),
            with_secret("prod", "hunter2"),
        ],
        "prod",
    );
    assert!(same.deltas.is_empty(), "{:?}", same.deltas);

    let differs = compare(
        &[
            with_secret("staging", "hunter2"),
            with_secret("prod", "s3cr3t"),
        ],
        "prod",
    );
    assert_eq!(differs.deltas.len(), 3, "{:?}", differs.deltas);
    for d in &differs.deltas {
        assert!(d.values.iter().flatten().all(|e| e.value.is_secret()));
        assert!(d.line_diff.is_none(), "{:?}", d.line_diff);
    }
}

#[test]
fn an_unresolved_value_is_never_the_same_even_when_unresolved_everywhere() {
    // A dangling reference is not "no drift": nobody knows what either side
    // would get.
    let env = "[{name: DB_HOST, valueFrom: {configMapKeyRef: {name: gone, key: host}}}]";
    let c = compare(
        &[
            inventory("staging", &web(env)),
            inventory("prod", &web(env)),
        ],
        "prod",
    );
    let d = delta(&c.deltas, "web/app", "DB_HOST");
    assert!(
        d.values
            .iter()
            .flatten()
            .all(|e| matches!(e.value, Value::Unresolved(_)))
    );
}

#[test]
fn a_single_environment_has_nothing_to_compare() {
    let c = compare(&[app_yaml("prod", 5)], "prod");
    assert!(c.deltas.is_empty());
    assert!(c.absences.is_empty());
}

#[test]
fn no_environments_compare_to_nothing() {
    let c = compare(&[], "prod");
    assert!(c.deltas.is_empty() && c.absences.is_empty() && c.envs.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn comparing_an_environment_with_itself_yields_no_drift(g in gen_env()) {
        let manifest = g.manifest();
        let a = inventory("staging", &manifest);
        let b = inventory("prod", &manifest);
        let c = compare(&[a, b], "prod");
        prop_assert!(c.deltas.is_empty(), "{:?}", c.deltas);
        prop_assert!(c.absences.is_empty(), "{:?}", c.absences);
    }

    #[test]
    fn swapping_two_environments_swaps_the_sides_of_every_delta(
        a in gen_env(),
        b in gen_env(),
    ) {
        let (ia, ib) = (inventory("a", &a.manifest()), inventory("b", &b.manifest()));
        let ab = compare(&[ia.clone(), ib.clone()], "a");
        let ba = compare(&[ib, ia], "a");
        prop_assert_eq!(ab.deltas.len(), ba.deltas.len());
        for (x, y) in ab.deltas.iter().zip(&ba.deltas) {
            prop_assert_eq!(&x.subject, &y.subject);
            let mut swapped = y.values.clone();
            swapped.reverse();
            prop_assert_eq!(&x.values, &swapped);
            let mut absent = y.scope_absent.clone();
            absent.reverse();
            prop_assert_eq!(&x.scope_absent, &absent);
            // Both diff against the same baseline.
            prop_assert_eq!(&x.line_diff, &y.line_diff);
        }
        prop_assert_eq!(ab.absences, ba.absences);
    }

    #[test]
    fn every_delta_is_about_a_real_difference(a in gen_env(), b in gen_env()) {
        let (ia, ib) = (inventory("a", &a.manifest()), inventory("b", &b.manifest()));
        let c = compare(&[ia, ib], "a");
        for d in &c.deltas {
            let kind = d.subject.kind;
            let [x, y] = [&d.values[0], &d.values[1]];
            let equal = match (x, y) {
                (Some(x), Some(y)) => crate::normalize::canonical::same(kind, &x.value, &y.value),
                (None, None) => true,
                _ => false,
            };
            prop_assert!(!equal, "{:?}", d);
            prop_assert!(!d.scope_absent.iter().any(|s| *s), "{:?}", d);
        }
    }
}
