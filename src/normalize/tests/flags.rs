//! Feature flags, and ConfigMaps as objects.

use super::*;

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
