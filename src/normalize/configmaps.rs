//! ConfigMaps as objects: every data and binaryData key, as flags when the
//! ConfigMap is a flag store (by label or `flags.configmaps`), and the flags
//! of flagd flag-definition documents.

use std::collections::BTreeMap;

use super::{FLAG_STORE_LABEL, GENERATED_CONFIGMAPS, Options, needs_namespace, renamed};
use crate::model::identity::strip_generated_hash;
use crate::model::{
    Collected, ConfigKind, Entry, Inventory, Issue, Meta, Name, Object, Provenance, Scope, Subject,
    Value,
};

/// Adds every ConfigMap of the input as an object (but those the cluster
/// makes, [`GENERATED_CONFIGMAPS`]), under its name after the
/// environment's rewrites and without kustomize's hash suffix, qualified by
/// namespace where the name occurs in more than one; and what the API
/// server would refuse of them.
pub(super) fn add_configmaps(inv: &mut Inventory, collected: &Collected, opts: &Options) {
    let cm_names: Vec<(String, String)> = collected
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::ConfigMap { metadata, .. }
                if !GENERATED_CONFIGMAPS.contains(&metadata.name.as_str()) =>
            {
                Some((
                    metadata.namespace.to_string(),
                    opts.rename(strip_generated_hash(&metadata.name)),
                ))
            }
            _ => None,
        })
        .collect();
    let qualified_cms = needs_namespace(cm_names.iter());
    for o in &collected.objects {
        if let Object::ConfigMap {
            metadata,
            data,
            binary_data,
        } = o
        {
            if GENERATED_CONFIGMAPS.contains(&metadata.name.as_str()) {
                continue;
            }
            let base = renamed(inv, opts, strip_generated_hash(&metadata.name).to_string());
            let base = base.as_str();
            let id = if qualified_cms.contains(base) {
                format!("{}/{base}", metadata.namespace)
            } else {
                base.to_string()
            };
            for r in &metadata.rejected {
                inv.issues.push(Issue::RejectedByApiServer {
                    object: format!("ConfigMap {}", metadata.name),
                    workload: None,
                    container: None,
                    configmap: Some(id.clone()),
                    kind: r.key.as_ref().map(|_| ConfigKind::ConfigMap),
                    value: r.clone(),
                });
            }
            add_configmap(inv, &id, metadata, data, binary_data, opts);
            if let Some(origin) = &metadata.origin {
                inv.configmap_origins
                    .entry(id.clone())
                    .or_insert_with(|| origin.clone());
            }
            inv.configmaps.insert(id);
        }
    }
}

/// Adds a ConfigMap's data keys (and flags, for flag stores and flagd
/// documents) to the inventory.
fn add_configmap(
    inv: &mut Inventory,
    id: &str,
    meta: &Meta,
    data: &BTreeMap<Name, Name>,
    binary: &BTreeMap<String, String>,
    opts: &Options,
) {
    let flag_store = meta.labels.get(FLAG_STORE_LABEL).map(Name::as_str) == Some("true")
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
        namespace: meta.namespace.clone(),
    };
    for (k, v) in data {
        let prov = Provenance::ConfigMapData {
            name: Name::new(&meta.name),
            key: k.clone(),
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
                key: k.clone(),
            },
            entry(Value::Text(v.clone()), prov),
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
                Value::Binary(Name::from(h.clone())),
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
                None => Value::Unresolved(
                    format!("defaultVariant {variant} is not one of the flag's variants").into(),
                ),
            },
            // flagd: no default variant means the flag resolves to the
            // caller's code default.
            None => Value::Text(format!("{state} default=(code default)").into()),
        };
        out.push((name.clone(), value));
    }
    Some(out)
}
