//! Wording of a parse error: its position counted from the file's first
//! line, what to do, and never the offending value (it may be a Secret's).

use super::*;
use crate::diagnostic::Diagnostic;
use crate::error::Error;

/// A parse error relative to one document.
#[derive(Debug)]
pub(super) struct DocError {
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) message: String,
}

impl DocError {
    pub(super) fn yaml(e: &serde_yaml::Error) -> Self {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        DocError {
            line,
            column,
            message: sanitize(&strip_location(&e.to_string(), line, column)),
        }
    }
    pub(super) fn json(e: &serde_json::Error) -> Self {
        DocError {
            line: e.line().max(1),
            column: e.column().max(1),
            message: sanitize(&strip_location(&e.to_string(), e.line(), e.column())),
        }
    }
    /// Adds what to do to messages that need it.
    pub(super) fn explained(mut self) -> Self {
        if self.message.contains("recursion limit exceeded") {
            self.message.push_str(&format!(
                "; the document is nested deeper than {MAX_NESTING} levels, and no Kubernetes \
                 object is"
            ));
        }
        if self.message.contains("duplicate entry") || self.message.contains("duplicate field") {
            self.message.push_str(
                "; a key may appear only once in a mapping (`kubectl apply` rejects this too, \
                 and without validation the last value silently wins)",
            );
        }
        self
    }

    pub(super) fn into_error(self, doc: &Document<'_>, path: &str, what: &str) -> Error {
        // Lines are counted from the document's first line; the user needs
        // them counted from the file's.
        let line = doc.line + self.line - 1;
        let d = Diagnostic::error(
            "invalid-document",
            path,
            line,
            self.column,
            format!("{what}{}", shift_lines(&self.message, doc.line - 1)),
        );
        Error::diagnostic(shown_unless_secret(d, doc.text, doc.line))
    }
}

/// `d` with its line shown, unless the document it is in may hold a
/// Secret's value: any document that names `Secret` (a Secret, a List of
/// them, a SealedSecret) shows none, whatever the line is.
pub(super) fn shown_unless_secret(d: Diagnostic, text: &str, first_line: usize) -> Diagnostic {
    if text.contains("Secret") {
        d
    } else {
        d.with_source(text, first_line)
    }
}

/// serde's messages end in " at line X column Y" for the error position;
/// we print that ourselves, relative to the whole file. Other positions in
/// the message (where a quoted scalar started) are kept.
pub(super) fn strip_location(msg: &str, line: usize, column: usize) -> String {
    let suffix = format!(" at line {line} column {column}");
    msg.strip_suffix(&suffix).unwrap_or(msg).to_string()
}

/// Rewrites "at line N" inside a message to count from the file's start.
pub(super) fn shift_lines(msg: &str, offset: usize) -> String {
    if offset == 0 {
        return msg.to_string();
    }
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find("at line ") {
        let (head, tail) = rest.split_at(i + "at line ".len());
        out.push_str(head);
        let digits: String = tail.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
        rest = &tail[digits.len()..];
    }
    out.push_str(rest);
    out
}

/// Removes the offending value from serde's "invalid type/value" messages,
/// because the value may be a Secret's.
pub(crate) fn sanitize(msg: &str) -> String {
    // serde says `unit value` for YAML's and JSON's null, and names our
    // parsing structs (`RawEnvVar`): say what the user wrote and reads.
    let msg = &msg
        .replace("unit value", "null")
        .replace("expected struct Raw", "expected struct ");
    for marker in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(i) = msg.find(marker) {
            let rest = &msg[i + marker.len()..];
            let end = rest.find(", expected").unwrap_or(rest.len());
            let what = &rest[..end];
            let kept = what.split(['`', '"', '\'']).next().unwrap_or("").trim_end();
            return format!("{}{}{}{}", &msg[..i], marker, kept, &rest[end..]);
        }
    }
    msg.to_string()
}
