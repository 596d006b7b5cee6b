//! Where each object read from a manifest file is: the file, as the user
//! named it, and the line its document (or its item of a `List`) starts on,
//! so that a report can point into the file (SARIF locations).
//!
//! Reads the text only to find lines; it never changes an object's content,
//! and a line it cannot find falls back to the document's first line.

use std::sync::Arc;

use crate::model::{Object, Origin};

/// Sets the origin of `objects`, all read from one document of `file` whose
/// text is `text` (`None` when the text was not kept) and which starts on
/// `line`.
pub fn assign(objects: &mut [Object], file: &Arc<str>, text: Option<&str>, line: usize) {
    let first = text.map_or(0, first_content_line);
    let items = match (objects.len(), text) {
        (n, Some(text)) if n > 1 => list_items(text),
        _ => Vec::new(),
    };
    let mut used = vec![false; items.len()];
    for o in objects {
        let kind = o.kind_name();
        let found = items.iter().enumerate().position(|(i, it)| {
            !used[i]
                && it.kind.as_deref() == Some(kind)
                && it.name.as_deref() == Some(&o.meta().name)
        });
        let offset = match found {
            Some(i) => {
                used[i] = true;
                items[i].line
            }
            None => first,
        };
        o.meta_mut().origin = Some(Origin {
            file: file.clone(),
            line: line + offset,
        });
    }
}

/// The 0-based line of the first line that is not blank or a comment (Helm
/// writes `# Source: …` above each document).
fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "---"
        })
        .unwrap_or(0)
}

/// One item of a YAML `List` (`items:` at the top level, as `kubectl get -o
/// yaml` writes it): its 0-based line in the document, kind and name.
#[derive(Debug, PartialEq)]
struct Item {
    line: usize,
    kind: Option<String>,
    name: Option<String>,
}

fn list_items(text: &str) -> Vec<Item> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "items:") else {
        return Vec::new();
    };
    let mut items: Vec<Item> = Vec::new();
    let mut indent = None;
    let mut in_metadata = false;
    for (i, raw) in lines.iter().enumerate().skip(start + 1) {
        let content = raw.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let at = raw.len() - content.len();
        let item_indent = *indent.get_or_insert(at);
        if at < item_indent || (at == item_indent && !content.starts_with("- ")) {
            break; // the next top-level key: the list has ended
        }
        let field_indent = item_indent + 2;
        let (at, content) = if at == item_indent {
            items.push(Item {
                line: i,
                kind: None,
                name: None,
            });
            in_metadata = false;
            (field_indent, &content[2..])
        } else {
            (at, content)
        };
        let Some(item) = items.last_mut() else {
            continue;
        };
        if at == field_indent {
            in_metadata = content.trim_end() == "metadata:";
            if let Some(kind) = content.strip_prefix("kind:") {
                item.kind = Some(scalar(kind));
            }
        } else if at == field_indent + 2
            && in_metadata
            && item.name.is_none()
            && let Some(name) = content.strip_prefix("name:")
        {
            item.name = Some(scalar(name));
        }
    }
    items
}

fn scalar(s: &str) -> String {
    s.trim().trim_matches(['"', '\'']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_are_found_with_kind_name_and_line() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    A: \"1\"\n  kind: ConfigMap\n  metadata:\n    labels:\n      name: not-this\n    name: shop-config\n    namespace: shop\n- kind: Secret\n  metadata:\n    name: 'creds'\n  spec:\n    containers:\n    - name: x\nkind: List\nmetadata:\n  name: ignored\n";
        assert_eq!(
            list_items(text),
            [
                Item {
                    line: 2,
                    kind: Some("ConfigMap".into()),
                    name: Some("shop-config".into())
                },
                Item {
                    line: 11,
                    kind: Some("Secret".into()),
                    name: Some("creds".into())
                },
            ]
        );
    }

    #[test]
    fn a_document_starts_at_its_first_line_that_is_not_a_comment() {
        assert_eq!(
            first_content_line("# Source: chart/x.yaml\n\napiVersion: v1\n"),
            2
        );
    }
}
