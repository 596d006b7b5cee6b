//! Helpers for unit tests of collect and of the stages after it: a manifest
//! stream read the way the file source reads it. Test-only; never used by
//! the binary.

use crate::collect::manifest::{Parsed, parse_document, split_documents};
use crate::fingerprint::FingerprintKey;
use crate::model::Collected;

pub(crate) fn test_key() -> FingerprintKey {
    FingerprintKey::new(b"test", true)
}

/// Removes the indentation common to all lines, so manifests can be written
/// indented inside a test.
pub(crate) fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Reads a manifest stream the way the file source does.
pub(crate) fn collect_yaml(text: &str) -> Collected {
    let key = test_key();
    let text = dedent(text);
    let mut parsed = Parsed::default();
    let docs = split_documents(&text, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    for (i, doc) in docs.iter().enumerate() {
        parse_document(doc, i, "test.yaml", &key, &mut parsed).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut collected = Collected {
        source: "test.yaml".into(),
        objects: parsed.objects,
        skipped_kinds: parsed.skipped_kinds,
        files: 1,
        fingerprint_key_id: key.id().to_string(),
        ..Collected::default()
    };
    crate::collect::finish(&mut collected);
    collected
}
