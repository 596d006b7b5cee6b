//! Parsing Kubernetes manifests (`kubectl get -o yaml|json`, rendered Helm
//! or kustomize output, `List`s, multi-document streams) into [`Object`]s.
//!
//! The fast path deserializes each document straight into lean typed structs
//! that ignore every field confdrift does not need (`managedFields` blobs,
//! `status` details, probes, …). Only when that fails does it fall back to a
//! generic parse, to tell an object of a kind we skip (any shape is fine)
//! from a broken object of a kind we read (an error with file and line).
//! Secret values are fingerprinted here and the plain bytes dropped.
//!
//! `split` cuts a file into documents; `yaml_limits` refuses hostile YAML
//! before libyaml sees it; `stream` deserializes a document into the lean
//! structs of `raw` and hands each object to `convert`, which `locate`s the
//! line of a value in error; `fallback` words the error when the typed parse
//! fails, `doc_error` makes its position count from the file's first line.

use std::collections::BTreeMap;

use serde::de::DeserializeSeed;

use crate::error::Result;
use crate::fingerprint::FingerprintKey;
use crate::limits::{LOCATE_BUDGET_BYTES, MAX_NESTING, MAX_VALUE_BYTES, MAX_YAML_NODES};
use crate::model::Object;

/// The kind a confdrift snapshot file carries.
pub const SNAPSHOT_KIND: &str = "Snapshot";

mod convert;
mod doc_error;
mod fallback;
mod locate;
mod raw;
mod split;
mod stream;
#[cfg(test)]
mod tests;
mod yaml_limits;

use convert::*;
pub(crate) use doc_error::sanitize;
use doc_error::*;
use fallback::*;
use locate::*;
pub(crate) use locate::{Seg, field_line};
use raw::*;
pub use split::split_documents;
use stream::*;

/// The format of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// One document of a file, with the line it starts on (1-based).
#[derive(Debug)]
pub struct Document<'a> {
    pub text: &'a str,
    pub line: usize,
    pub format: Format,
}

/// What parsing a file yields besides errors.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: Vec<Object>,
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Finished pods (`Succeeded`/`Failed`) left out.
    pub finished_pods: usize,
    /// Set when the file is a confdrift snapshot: the document to read as one.
    pub snapshot_doc: Option<(usize, Format)>,
    /// The pod specs read so far, each once: pods and templates with equal
    /// specs share one (see [`crate::model::spec_table::Distinct::intern`]).
    /// Carried from file to file by the caller, so that a Deployment's
    /// template and its pods in another file share one spec too.
    pub specs: crate::model::spec_table::Distinct,
}

/// Whether a document is well-formed YAML or JSON that does not claim to be
/// a Kubernetes object: no top-level `kind` (a Helm values file, a
/// `Chart.yaml`, a kustomization, any other configuration). A document that
/// does not parse, or is too deep or too aliased to parse safely, claims
/// nothing either way: `false`.
pub fn claims_no_kind(doc: &Document<'_>, path: &str) -> bool {
    let value: Option<serde_yaml::Value> = match doc.format {
        Format::Yaml => yaml_limits::check(doc, path)
            .ok()
            .and_then(|()| serde_yaml::from_str(doc.text).ok()),
        Format::Json => serde_json::from_str(doc.text).ok(),
    };
    value.is_some_and(|v| v.get("kind").is_none())
}

/// Parses one document into `out`.
pub fn parse_document(
    doc: &Document<'_>,
    doc_index: usize,
    path: &str,
    key: &FingerprintKey,
    out: &mut Parsed,
) -> Result<()> {
    if doc.format == Format::Yaml {
        yaml_limits::check(doc, path)?;
    }
    let budget = std::cell::Cell::new(LOCATE_BUDGET_BYTES);
    let ctx = DocContext {
        path,
        line: doc.line,
        text: Some(doc.text),
        item: None,
        budget: &budget,
    };
    // Undo what a failed streaming parse already added before falling back.
    let mark = (
        out.objects.len(),
        out.skipped_kinds.clone(),
        out.finished_pods,
    );
    let mut converted: Result<()> = Ok(());
    let mut snapshot = false;
    let seed = DocSeed {
        ctx: &ctx,
        key,
        out: &mut *out,
        converted: &mut converted,
        snapshot: &mut snapshot,
    };
    let typed: std::result::Result<(), DocError> = match doc.format {
        Format::Yaml => seed
            .deserialize(serde_yaml::Deserializer::from_str(doc.text))
            .map_err(|e| DocError::yaml(&e)),
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(doc.text);
            seed.deserialize(&mut de)
                .and_then(|()| de.end())
                .map_err(|e| DocError::json(&e))
        }
    };
    match typed {
        Ok(()) if snapshot => {
            out.snapshot_doc = Some((doc_index, doc.format));
            Ok(())
        }
        Ok(()) => converted,
        Err(first) => {
            out.objects.truncate(mark.0);
            out.skipped_kinds = mark.1;
            out.finished_pods = mark.2;
            fallback(doc, path, key, out, first)
        }
    }
}

/// Parses a file that holds exactly one JSON object (what `kubectl get -o
/// json` writes) straight from `reader`, converting `List` items as they
/// arrive, so the file's text is never held in memory: three 35 MB pod
/// lists read at once no longer cost 105 MB of text. `line` is the line
/// the object starts on.
///
/// Returns `None` whenever the text path could say more: a syntax or
/// conversion error (the text path words it with the exact position), a
/// stream of several documents, invalid UTF-8, or a confdrift snapshot.
/// The caller then reads the file whole; on success both paths give the
/// same [`Parsed`].
pub fn parse_json_reader<R: std::io::Read>(
    reader: R,
    line: usize,
    path: &str,
    key: &FingerprintKey,
    specs: &mut crate::model::spec_table::Distinct,
) -> Option<Parsed> {
    let ctx = DocContext {
        path,
        line,
        text: None,
        item: None,
        budget: &std::cell::Cell::new(0),
    };
    let mut out = Parsed {
        specs: std::mem::take(specs),
        ..Parsed::default()
    };
    let mut converted: Result<()> = Ok(());
    let mut snapshot = false;
    let seed = DocSeed {
        ctx: &ctx,
        key,
        out: &mut out,
        converted: &mut converted,
        snapshot: &mut snapshot,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
    *specs = std::mem::take(&mut out.specs);
    (parsed.is_ok() && converted.is_ok() && !snapshot).then_some(out)
}
