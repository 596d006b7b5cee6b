//! Env precedence and `$(VAR)` expansion, as the kubelet does them.

use super::*;

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
