//! A YAML tree that remembers where every node was written, so that each
//! policy error can point at `file:line:column`.
//!
//! serde would stop at the first error and loses the position of a field it
//! does not know; policy files are small, so we build a plain tree from
//! yaml-rust2's marked events and decode it by hand (see `parse.rs`). Every
//! scalar stays a string here: what it means (bool, number, duration) is
//! decided by the field it is written under, never by YAML's type guessing.

use std::collections::BTreeMap;

use crate::limits::{MAX_POLICY_DEPTH, MAX_POLICY_NODES};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `plain` is false for quoted and block scalars: `"true"` is a string.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in the order written (duplicates kept, so they can be reported).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `~`, `null`, or nothing at all.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true }
            if text.is_empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// What kind of YAML node this is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            _ if self.is_null() => "nothing (null)".to_string(),
            NodeKind::Scalar { text, plain } => {
                let shown: String = text.chars().take(40).collect();
                let more = if text.chars().count() > 40 { "…" } else { "" };
                if *plain {
                    format!("`{shown}{more}`")
                } else {
                    format!("the string \"{shown}{more}\"")
                }
            }
            NodeKind::Seq(_) => "a list".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }
}

/// A YAML syntax error, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses every document of `text`.
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Event by event rather than `Parser::load`, which recurses once per
    // nesting level and so overflows the stack on a deep enough file.
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| SyntaxError {
            pos: pos(*e.marker()),
            message: match e.info() {
                // yaml-rust2 counts flow levels in a byte.
                "recursion limit exceeded" => {
                    "nested deeper than 255 levels of `[` and `{`; a policy needs 5".to_string()
                }
                info => info.to_string(),
            },
        })?;
        let end = ev == Event::StreamEnd;
        builder.on_event(ev, mark);
        if end || builder.error.is_some() {
            break;
        }
    }
    if let Some(message) = builder.error {
        return Err(SyntaxError {
            pos: builder.error_pos,
            message,
        });
    }
    Ok(builder.documents)
}

/// The nodes in a tree, without recursion.
fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Seq(items) => todo.extend(items),
            NodeKind::Map(pairs) => {
                for (k, v) in pairs {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    count
}

fn pos(m: Marker) -> Pos {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

/// A container being filled.
enum Open {
    Seq(Pos, usize, Vec<Node>),
    Map(Pos, usize, Vec<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    documents: Vec<Node>,
    anchors: BTreeMap<usize, Node>,
    /// How many nodes each anchored node holds.
    sizes: BTreeMap<usize, usize>,
    /// Nodes built so far, aliases included.
    nodes: usize,
    error: Option<String>,
    error_pos: Pos,
}

impl Builder {
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.sizes.insert(anchor, count_nodes(&node));
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Open::Seq(_, _, items)) | Some(Open::Map(_, _, items)) => items.push(node),
            None => self.documents.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = pos(mark);
        let added = match &ev {
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => 1,
            Event::Alias(id) => self.sizes.get(id).copied().unwrap_or(0),
            _ => 0,
        };
        self.nodes = self.nodes.saturating_add(added);
        if self.nodes > MAX_POLICY_NODES {
            self.error = Some(format!(
                "the file holds more than {MAX_POLICY_NODES} YAML nodes once its aliases (*name) are \
                 expanded; a policy needs a few hundred (an alias bomb?)"
            ));
            self.error_pos = at;
            return;
        }
        if matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..))
            && self.stack.len() >= MAX_POLICY_DEPTH
        {
            self.error = Some(format!(
                "nested deeper than {MAX_POLICY_DEPTH} levels; a policy needs 5"
            ));
            self.error_pos = at;
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                self.finish(
                    Node {
                        pos: at,
                        kind: NodeKind::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(at, anchor, Vec::new())),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map(at, anchor, Vec::new())),
            Event::SequenceEnd => {
                if let Some(Open::Seq(p, anchor, items)) = self.stack.pop() {
                    self.finish(
                        Node {
                            pos: p,
                            kind: NodeKind::Seq(items),
                        },
                        anchor,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Open::Map(p, anchor, items)) = self.stack.pop() {
                    // A block mapping is marked where its first key is;
                    // point there, where a person sees the mapping begin.
                    let p = items.first().map_or(p, |k| k.pos.min(p));
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    self.finish(
                        Node {
                            pos: p,
                            kind: NodeKind::Map(pairs),
                        },
                        anchor,
                    );
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.finish(node, 0),
                None => {
                    self.error = Some("alias to an unknown anchor".into());
                    self.error_pos = at;
                }
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_line_and_column() {
        let docs = parse("a: 1\nrules:\n  - id: x\n    equal: true\n").unwrap();
        let NodeKind::Map(top) = &docs[0].kind else {
            panic!("map")
        };
        assert_eq!(top[0].0.pos, Pos { line: 1, column: 1 });
        assert_eq!(top[1].0.pos, Pos { line: 2, column: 1 });
        let NodeKind::Seq(rules) = &top[1].1.kind else {
            panic!("seq")
        };
        let NodeKind::Map(rule) = &rules[0].kind else {
            panic!("map")
        };
        assert_eq!(rule[1].0.scalar(), Some("equal"));
        assert_eq!(rule[1].0.pos, Pos { line: 4, column: 5 });
        assert_eq!(
            rule[1].1.pos,
            Pos {
                line: 4,
                column: 12
            }
        );
    }

    #[test]
    fn quoted_scalars_are_not_plain_and_duplicates_are_kept() {
        let docs = parse("a: \"true\"\na: true\n").unwrap();
        let NodeKind::Map(top) = &docs[0].kind else {
            panic!("map")
        };
        assert_eq!(top.len(), 2);
        assert!(matches!(
            top[0].1.kind,
            NodeKind::Scalar { plain: false, .. }
        ));
        assert!(matches!(
            top[1].1.kind,
            NodeKind::Scalar { plain: true, .. }
        ));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let e = parse("rules:\n  - id: x\n   bad: [\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
    }

    #[test]
    fn alias_bomb_is_an_error_not_gigabytes() {
        let mut text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e:?}");
        assert!(e.pos.line >= 6, "{e:?}");
    }

    #[test]
    fn deep_block_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("rules:\n{}x\n", "- ".repeat(100_000));
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("nested deeper than 128"), "{e:?}");
    }

    #[test]
    fn aliases_repeat_the_anchored_node() {
        let docs = parse("a: &env [prod, staging]\nb: *env\n").unwrap();
        let NodeKind::Map(top) = &docs[0].kind else {
            panic!("map")
        };
        assert_eq!(top[0].1.kind, top[1].1.kind);
    }
}
