//! Finding the line of a field in a document's text, run only for a value
//! the API server would refuse or an entry in error; and the refused
//! values of one object, each with its line.

use super::*;
use crate::error::Result;
use crate::model::RejectedValue;

/// A step of a path into a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

pub(super) fn keys(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// `spec.containers[0].env[2].value`.
pub(super) fn field_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The values of one object that the API server would refuse, each with
/// the line it is written on.
pub(super) struct Rejections<'c> {
    pub(super) ctx: DocContext<'c>,
    pub(super) found: Vec<RejectedValue>,
}

impl Rejections<'_> {
    /// A string field's value as written; one that is not a string to YAML
    /// or JSON is recorded. `at` gives the field's path in the object.
    pub(super) fn read(
        &mut self,
        value: Option<ApiString>,
        at: impl FnOnce() -> Vec<Seg>,
        container: Option<&str>,
        key: Option<&str>,
        secret: bool,
    ) -> Result<Option<String>> {
        let (written_as, parsed) = match value {
            None => return Ok(None),
            Some(ApiString::Str(s)) => return Ok(Some(s)),
            Some(ApiString::Other(what, text)) => (what, text),
        };
        let Some(doc) = self.ctx.text else {
            // Streamed: the text path reads the document and finds the line.
            return Err(self
                .ctx
                .error("document", "holds a value to locate in its text"));
        };
        let local = at();
        let mut path = Vec::new();
        if let Some(i) = self.ctx.item {
            path.push(Seg::Key("items".into()));
            path.push(Seg::Index(i));
        }
        path.extend(local.iter().cloned());
        let affordable = self.ctx.budget.get() >= doc.len();
        if affordable {
            self.ctx.budget.set(self.ctx.budget.get() - doc.len());
        }
        let (line, text) = match affordable.then(|| locate(doc, &path)).flatten() {
            Some((line, text)) => (self.ctx.line + line.max(1) - 1, text),
            None => (self.ctx.line, parsed),
        };
        self.found.push(RejectedValue {
            location: format!("{}:{line}", self.ctx.path),
            field: field_path(&local),
            written_as: written_as.to_string(),
            text: (!secret).then(|| text.clone()),
            container: container.map(str::to_string),
            key: key.map(str::to_string),
        });
        Ok(Some(text))
    }
}

/// Finds the scalar at `path` in a YAML (or JSON) document: the line it is
/// on (counted in the document, from 1) and its text exactly as written
/// (`1.50`, `True`). Run only for a value the API server would refuse.
pub(super) fn locate(text: &str, path: &[Seg]) -> Option<(usize, String)> {
    match locate_node(text, path)? {
        (line, Some(value)) => Some((line, value)),
        (_, None) => None,
    }
}

/// The line where the node at `path` starts (counted in the document,
/// from 1), and its text when it is a scalar.
pub(super) fn locate_node(text: &str, path: &[Seg]) -> Option<(usize, Option<String>)> {
    use yaml_rust2::parser::Event;
    let (ev, mark, _) = walk(text, path)?;
    match ev {
        Event::Scalar(value, ..) => Some((mark.line(), Some(value))),
        Event::MappingStart(..) | Event::SequenceStart(..) => Some((mark.line(), None)),
        _ => None,
    }
}

/// The line of the field at `path` (counted in the document, from 1): of
/// its key when the last step is a key (`configMapKeyRef:`), else of the
/// item. A field that is not written is looked for one step up, and so
/// on: a missing `metadata.name` is at `metadata:`.
pub(crate) fn field_line(text: &str, path: &[Seg]) -> usize {
    (0..=path.len())
        .rev()
        .find_map(|n| {
            let (_, mark, key) = walk(text, &path[..n])?;
            Some(key.unwrap_or(mark).line())
        })
        .unwrap_or(1)
}

/// The events at `path`: the node's first event and where it is, and
/// where its key is when the last step is a key.
fn walk(
    text: &str,
    path: &[Seg],
) -> Option<(
    yaml_rust2::parser::Event,
    yaml_rust2::scanner::Marker,
    Option<yaml_rust2::scanner::Marker>,
)> {
    use yaml_rust2::parser::{Event, Parser};
    let mut p = Parser::new_from_str(text);
    let mut next = || p.next_token().ok();
    let first = loop {
        match next()? {
            (Event::StreamStart | Event::DocumentStart, _) => continue,
            other => break other,
        }
    };
    // Consumes the rest of a node whose first event is `ev`.
    fn skip(
        next: &mut dyn FnMut() -> Option<(Event, yaml_rust2::scanner::Marker)>,
        ev: &Event,
    ) -> Option<()> {
        let mut depth = match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => 1,
            _ => return Some(()),
        };
        while depth > 0 {
            match next()?.0 {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                Event::StreamEnd => return None,
                _ => {}
            }
        }
        Some(())
    }
    let (mut ev, mut mark) = first;
    let mut key_mark = None;
    for seg in path {
        key_mark = None;
        match (seg, &ev) {
            (Seg::Key(k), Event::MappingStart(..)) => loop {
                let (key, at) = next()?;
                match key {
                    Event::MappingEnd => return None,
                    Event::Scalar(ref name, ..) if name == k => {
                        key_mark = Some(at);
                        (ev, mark) = next()?;
                        break;
                    }
                    other => {
                        skip(&mut next, &other)?;
                        let (value, _) = next()?;
                        skip(&mut next, &value)?;
                    }
                }
            },
            (Seg::Index(i), Event::SequenceStart(..)) => {
                for _ in 0..*i {
                    let (item, _) = next()?;
                    if item == Event::SequenceEnd {
                        return None;
                    }
                    skip(&mut next, &item)?;
                }
                (ev, mark) = next()?;
            }
            _ => return None,
        }
    }
    Some((ev, mark, key_mark))
}
