//! The streaming deserializer: a document is converted while it is read,
//! a `List`'s items one at a time, so a large dump is never held whole.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::*;
use crate::error::Result;
use crate::fingerprint::FingerprintKey;

/// Deserializes one document and converts it as it goes: the items of a
/// `List` are converted one by one, so a 100 MB `kubectl get pods -o json`
/// never exists in memory as a whole.
pub(super) struct DocSeed<'a, 'c> {
    pub(super) ctx: &'a DocContext<'c>,
    pub(super) key: &'a FingerprintKey,
    pub(super) out: &'a mut Parsed,
    /// The first conversion error (a broken object of a kind we read).
    pub(super) converted: &'a mut Result<()>,
    pub(super) snapshot: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut raw = RawObject::default();
        let mut streamed = false;
        // Items without a kind that came before the list's own `kind`.
        let mut pending = Vec::new();
        // A field given twice: serde would keep the last; YAML forbids it.
        const FIELDS: [&str; 9] = [
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "status",
            "data",
            "stringData",
            "binaryData",
            "items",
        ];
        let mut seen = [false; FIELDS.len()];
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if let Some(i) = FIELDS.iter().position(|f| *f == k.as_ref())
                && std::mem::replace(&mut seen[i], true)
            {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    FIELDS[i]
                )));
            }
            match k.as_ref() {
                "apiVersion" => raw.api_version = map.next_value()?,
                "kind" => raw.kind = map.next_value()?,
                "metadata" => raw.metadata = map.next_value()?,
                "spec" => raw.spec = map.next_value()?,
                "status" => raw.status = map.next_value()?,
                "data" => raw.data = map.next_value::<UniqueKeys>()?.0,
                "stringData" => raw.string_data = map.next_value::<UniqueKeys>()?.0,
                "binaryData" => raw.binary_data = map.next_value::<UniqueKeys>()?.0,
                "items" => {
                    // `items: null` is no `items`, as for any field.
                    streamed = map.next_value_seed(ItemsSeed {
                        list_kind: raw.kind.as_deref(),
                        list_version: raw.api_version.as_deref(),
                        ctx: self.ctx,
                        key: self.key,
                        out: &mut *self.out,
                        converted: &mut *self.converted,
                        pending: &mut pending,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if raw.kind.as_deref() == Some(SNAPSHOT_KIND) {
            *self.snapshot = true;
            return Ok(());
        }
        if streamed {
            let kind = raw.kind.clone().unwrap_or_default();
            if !(is_list_kind(&kind) || kind.is_empty()) {
                // `items` on an object that is not a List: read it as the
                // object it says it is.
                if self.converted.is_ok() {
                    *self.converted = convert(raw, self.ctx, self.key, self.out);
                }
                return Ok(());
            }
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            for (i, mut item) in pending {
                if item.kind.is_none() {
                    item.kind = item_kind.map(str::to_string);
                    inherit_api_version(&mut item, item_kind, raw.api_version.as_deref());
                }
                if self.converted.is_ok() {
                    let ctx = DocContext {
                        item: Some(i),
                        ..*self.ctx
                    };
                    *self.converted = convert(item, &ctx, self.key, self.out);
                }
            }
            return Ok(());
        }
        if self.converted.is_ok() {
            *self.converted = convert(raw, self.ctx, self.key, self.out);
        }
        Ok(())
    }
}

pub(super) struct ItemsSeed<'a, 'c> {
    pub(super) list_kind: Option<&'a str>,
    pub(super) list_version: Option<&'a str>,
    pub(super) ctx: &'a DocContext<'c>,
    pub(super) key: &'a FingerprintKey,
    pub(super) out: &'a mut Parsed,
    pub(super) converted: &'a mut Result<()>,
    pub(super) pending: &'a mut Vec<(usize, RawObject)>,
}

/// Converts the items of a List; `false` when `items` is null.
impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }
    fn visit_unit<E>(self) -> std::result::Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> std::result::Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<bool, A::Error> {
        let item_kind = self
            .list_kind
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty());
        let mut index = 0;
        while let Some(mut item) = seq.next_element::<RawObject>()? {
            let i = index;
            index += 1;
            if item.kind.is_none() {
                match item_kind {
                    Some(k) => {
                        item.kind = Some(k.to_string());
                        inherit_api_version(&mut item, item_kind, self.list_version);
                    }
                    None => {
                        self.pending.push((i, item));
                        continue;
                    }
                }
            }
            if self.converted.is_ok() {
                let ctx = DocContext {
                    item: Some(i),
                    ..*self.ctx
                };
                *self.converted = convert(item, &ctx, self.key, self.out);
            }
        }
        Ok(true)
    }
}
