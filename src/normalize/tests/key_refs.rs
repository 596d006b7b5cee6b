//! `configMapKeyRef` and `secretKeyRef`.

use super::*;

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
