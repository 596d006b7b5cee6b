//! When the typed parse fails: a generic parse tells an object of a kind
//! confdrift skips (any shape is fine) from a broken object of a kind it
//! reads, whose error then names the field and line at fault.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::super::kinds::{self};
use super::*;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;

/// The typed parse failed: find out whether it failed on an object we read.
pub(super) fn fallback(
    doc: &Document<'_>,
    path: &str,
    key: &FingerprintKey,
    out: &mut Parsed,
    first: DocError,
) -> Result<()> {
    if doc.format == Format::Json && yaml_limits::json_values_exceed(doc.text, MAX_YAML_NODES) {
        // Too large to hold as a generic tree just to word the error.
        return Err(first.into_error(
            doc,
            path,
            "cannot read this JSON document (and it holds too many values to look \
             closer at which object is broken): ",
        ));
    }
    let generic: serde_yaml::Value = match doc.format {
        Format::Yaml => serde_yaml::from_str(doc.text).map_err(|e| {
            DocError::yaml(&e)
                .explained()
                .into_error(doc, path, "invalid YAML: ")
        })?,
        Format::Json => serde_json::from_str(doc.text).map_err(|e| {
            DocError::json(&e)
                .explained()
                .into_error(doc, path, "invalid JSON: ")
        })?,
    };
    let kind = generic
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string);
    let budget = std::cell::Cell::new(LOCATE_BUDGET_BYTES);
    let ctx = DocContext {
        path,
        line: doc.line,
        text: Some(doc.text),
        item: None,
        budget: &budget,
    };
    match kind.as_deref() {
        Some(k) if is_list_kind(k) && generic.get("items").is_some_and(|i| !i.is_null()) => {
            let Some(items) = generic.get("items").and_then(|i| i.as_sequence()) else {
                return Err(first.into_error(doc, path, "`items` must be a list: "));
            };
            for (i, item) in items.iter().enumerate() {
                let item_kind = item.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                let item_version = item.get("apiVersion").and_then(|v| v.as_str());
                let Some(read) = read_as(item_kind, item_version) else {
                    *out.skipped_kinds
                        .entry(skipped_label(item_kind, item_version))
                        .or_default() += 1;
                    continue;
                };
                match from_generic(item.clone(), read) {
                    Ok(raw) => convert(
                        raw,
                        &DocContext {
                            item: Some(i),
                            ..ctx
                        },
                        key,
                        out,
                    )?,
                    Err(e) => {
                        // Parse the text again, typed for this item only, to
                        // get the exact line of the error.
                        let probe = probe_item(doc, i);
                        let name = item
                            .get("metadata")
                            .and_then(|m| m.get("name"))
                            .and_then(|n| n.as_str())
                            .unwrap_or("?");
                        let field = e.path().to_string();
                        let at = match &probe {
                            Some(p) if p.message.contains(&field) => String::new(),
                            _ => field_prefix(&field),
                        };
                        let what = format!("{item_kind} {name} (items[{i}]): {at}");
                        return Err(match probe {
                            Some(e) => e.into_error(doc, path, &what),
                            None => first.into_error(doc, path, &what),
                        });
                    }
                }
            }
            Ok(())
        }
        Some(k) => {
            let version = generic.get("apiVersion").and_then(|v| v.as_str());
            let Some(read) = read_as(k, version) else {
                *out.skipped_kinds
                    .entry(skipped_label(k, version))
                    .or_default() += 1;
                return Ok(());
            };
            if let ReadAs::Template(t) = read
                && t.unnamed_containers
                && let Ok(raw) = from_generic(generic.clone(), read)
            {
                return convert(raw, &ctx, key, out);
            }
            let name = generic
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or("?");
            // serde_yaml's messages start with the path already.
            let at = error_path(doc)
                .filter(|p| !first.message.starts_with(p.as_str()))
                .map(|p| field_prefix(&p))
                .unwrap_or_default();
            Err(first.into_error(doc, path, &format!("{k} {name}: {at}")))
        }
        None => {
            if generic.is_mapping() {
                Err(Error::input(
                    format!("{path}:{}", doc.line),
                    "document has no `kind`; every Kubernetes object needs `apiVersion` and `kind`",
                ))
            } else {
                Err(Error::input(
                    format!("{path}:{}", doc.line),
                    "document is not a Kubernetes object (expected a mapping with `kind`)",
                ))
            }
        }
    }
}

/// Reads an object from its generic tree, first naming the containers its
/// controller would name (Knative's unnamed containers).
pub(super) fn from_generic(
    mut value: serde_yaml::Value,
    read: ReadAs,
) -> std::result::Result<RawObject, serde_path_to_error::Error<serde_yaml::Error>> {
    if let ReadAs::Template(t) = read
        && t.unnamed_containers
        && let Some(spec) = value
            .get_mut("spec")
            .and_then(|s| s.get_mut("template"))
            .and_then(|t| t.get_mut("spec"))
    {
        name_containers(spec);
    }
    serde_path_to_error::deserialize(value)
}

/// Gives unnamed containers of a pod spec the names the controller gives
/// them ([`kinds::default_container_names`]).
pub(super) fn name_containers(spec: &mut serde_yaml::Value) {
    let names = |spec: &serde_yaml::Value, field: &str| -> Vec<String> {
        spec.get(field)
            .and_then(|c| c.as_sequence())
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        c.get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut containers = names(spec, "containers");
    let mut init = names(spec, "initContainers");
    kinds::default_container_names(&mut containers, &mut init);
    for (field, named) in [("containers", containers), ("initContainers", init)] {
        let Some(list) = spec.get_mut(field).and_then(|c| c.as_sequence_mut()) else {
            continue;
        };
        for (c, name) in list.iter_mut().zip(named) {
            if let Some(m) = c.as_mapping_mut() {
                m.insert("name".into(), name.into());
            }
        }
    }
}

/// `Deployment (apps.kruise.io/v1alpha1)`: a kind we read, of another group.
pub(super) fn foreign_kind(kind: &str, api_version: Option<&str>) -> String {
    format!("{kind} ({})", api_version.unwrap_or(""))
}

pub(super) fn display_kind(kind: &str) -> String {
    if kind.is_empty() {
        "(no kind)".to_string()
    } else {
        kind.to_string()
    }
}

/// The field path where the typed parse of a document fails
/// (`spec.template.spec.containers[0].env[2].valueFrom`), from parsing it
/// again with the path tracked: only on the error path, so the fast path
/// pays nothing for it.
pub(super) fn error_path(doc: &Document<'_>) -> Option<String> {
    let err = match doc.format {
        Format::Yaml => {
            let de = serde_yaml::Deserializer::from_str(doc.text);
            serde_path_to_error::deserialize::<_, RawObject>(de)
                .err()?
                .path()
                .to_string()
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            serde_path_to_error::deserialize::<_, RawObject>(&mut de)
                .err()?
                .path()
                .to_string()
        }
    };
    Some(err)
}

/// `path: ` to put before an error message, or nothing at the root.
pub(super) fn field_prefix(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Deserializes the document again, typed only for `items[index]`, and
/// returns the error with its position in the document.
pub(super) fn probe_item(doc: &Document<'_>, index: usize) -> Option<DocError> {
    let seed = ProbeDoc { index };
    match doc.format {
        Format::Yaml => {
            let de = serde_yaml::Deserializer::from_str(doc.text);
            seed.deserialize(de).err().map(|e| DocError::yaml(&e))
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            seed.deserialize(&mut de).err().map(|e| DocError::json(&e))
        }
    }
}

pub(super) struct ProbeDoc {
    pub(super) index: usize,
}

impl<'de> DeserializeSeed<'de> for ProbeDoc {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProbeDoc {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "items" {
                map.next_value_seed(ProbeItems { index: self.index })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

pub(super) struct ProbeItems {
    pub(super) index: usize,
}

impl<'de> DeserializeSeed<'de> for ProbeItems {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ProbeItems {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        loop {
            if i == self.index {
                if seq.next_element::<RawObject>()?.is_none() {
                    return Ok(());
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}
