//! ConfigMaps as objects: every data and binaryData key, as flags when the
//! ConfigMap is a flag store (by label or `flags.configmaps`), and the flags
//! of flagd flag-definition documents.

use std::collections::BTreeMap;

use super::{FLAG_STORE_LABEL, Options};
use crate::model::identity::strip_generated_hash;
use crate::model::{ConfigKind, Entry, Inventory, Meta, Name, Provenance, Scope, Subject, Value};

/// Adds a ConfigMap's data keys (and flags, for flag stores and flagd
/// documents) to the inventory.
pub(super) fn add_configmap(
    inv: &mut Inventory,
    id: &str,
    meta: &Meta,
    data: &BTreeMap<String, String>,
    binary: &BTreeMap<String, String>,
    opts: &Options,
) {
    let flag_store = meta.labels.get(FLAG_STORE_LABEL).map(String::as_str) == Some("true")
        || opts.flag_configmaps.is_match(&meta.name)
        || opts
            .flag_configmaps
            .is_match(strip_generated_hash(&meta.name));
    let scope = Scope::ConfigMap {
        name: Name::new(id),
    };
    let entry = |value: Value, provenance: Provenance| Entry {
        value,
        provenance,
        namespace: Name::new(&meta.namespace),
    };
    for (k, v) in data {
        let prov = Provenance::ConfigMapData {
            name: Name::new(&meta.name),
            key: Name::new(k),
        };
        let kind = if flag_store {
            ConfigKind::Flag
        } else {
            ConfigKind::ConfigMap
        };
        inv.entries.insert(
            Subject {
                scope: scope.clone(),
                kind,
                key: Name::new(k),
            },
            entry(Value::Text(Name::new(v)), prov),
        );
        if let Some(flags) = flagd_flags(v) {
            for (flag, value) in flags {
                inv.entries.insert(
                    Subject {
                        scope: scope.clone(),
                        kind: ConfigKind::Flag,
                        key: Name::from(flag),
                    },
                    entry(
                        value,
                        Provenance::Flagd {
                            configmap: Name::new(&meta.name),
                            key: Name::new(k),
                        },
                    ),
                );
            }
        }
    }
    for (k, h) in binary {
        inv.entries.insert(
            Subject {
                scope: scope.clone(),
                kind: ConfigKind::ConfigMap,
                key: Name::new(k),
            },
            entry(
                Value::Binary(h.clone()),
                Provenance::ConfigMapData {
                    name: Name::new(&meta.name),
                    key: Name::new(k),
                },
            ),
        );
    }
}

/// Reads a flagd flag-definition document (`{"flags": {NAME: {"state",
/// "variants", "defaultVariant"}}}`): each flag's value is its state and
/// the value of its default variant.
pub(super) fn flagd_flags(text: &str) -> Option<Vec<(String, Value)>> {
    let t = text.trim_start();
    if !t.starts_with('{') || !t.contains("\"flags\"") {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_str(t).ok()?;
    let flags = doc.get("flags")?.as_object()?;
    let mut out = Vec::new();
    for (name, def) in flags {
        let state = def
            .get("state")
            .and_then(|s| s.as_str())
            .unwrap_or("ENABLED");
        let value = match def.get("defaultVariant").and_then(|d| d.as_str()) {
            Some(variant) => match def.get("variants").and_then(|v| v.get(variant)) {
                Some(v) => Value::Text(format!("{state} default={v}").into()),
                None => Value::Unresolved(format!(
                    "defaultVariant {variant} is not one of the flag's variants"
                )),
            },
            // flagd: no default variant means the flag resolves to the
            // caller's code default.
            None => Value::Text(format!("{state} default=(code default)").into()),
        };
        out.push((name.clone(), value));
    }
    Some(out)
}
