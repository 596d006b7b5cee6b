//! Splitting a file into its documents (YAML `---` streams, JSON value
//! streams), each with the line it starts on. It never parses a document.

use serde::de::IgnoredAny;

use super::*;
use crate::error::{Error, Result};

/// Splits a file into documents. JSON streams are split per top-level value,
/// YAML streams at `---` / `...` markers (a marker at column 0 always ends a
/// document in YAML, even inside a block scalar).
pub fn split_documents<'a>(text: &'a str, path: &str) -> Result<Vec<Document<'a>>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return split_json(text, path);
    }
    let mut docs = Vec::new();
    let mut start = 0usize; // byte offset of the current document
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        let is_start = content.starts_with("---")
            && content[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t');
        let is_end =
            content == "..." || (content.starts_with("...") && content[3..].trim().is_empty());
        if is_start || is_end {
            push_yaml_doc(&mut docs, &text[start..offset], start_line);
            if is_start {
                // Content after `---` on the same line belongs to the new document.
                start = offset + 3;
                start_line = idx + 1;
            } else {
                start = offset + line.len();
                start_line = idx + 2;
            }
        }
        offset += line.len();
    }
    push_yaml_doc(&mut docs, &text[start..], start_line);
    Ok(docs)
}

pub(super) fn push_yaml_doc<'a>(docs: &mut Vec<Document<'a>>, text: &'a str, line: usize) {
    let has_content = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    });
    if has_content {
        docs.push(Document {
            text,
            line,
            format: Format::Yaml,
        });
    }
}

pub(super) fn split_json<'a>(text: &'a str, path: &str) -> Result<Vec<Document<'a>>> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
    let mut start = 0usize;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(_)) => {
                let end = stream.byte_offset();
                let lead = text[start..end].len() - text[start..end].trim_start().len();
                let begin = start + lead;
                docs.push(Document {
                    text: &text[begin..end],
                    line: line_of(text, begin),
                    format: Format::Json,
                });
                start = end;
            }
            Some(Err(e)) => {
                return Err(Error::input(
                    format!("{path}:{}:{}", e.line(), e.column()),
                    format!(
                        "invalid JSON: {}",
                        strip_location(&e.to_string(), e.line(), e.column())
                    ),
                ));
            }
        }
    }
    Ok(docs)
}

pub(super) fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].bytes().filter(|b| *b == b'\n').count() + 1
}
