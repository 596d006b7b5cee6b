//!
//! Cheap checks of a YAML document before libyaml sees it, so that a small
//! hostile file can neither hang confdrift nor exhaust its memory:
//! libyaml's scanner spends time proportional to the flow nesting depth on
//! every token, and serde_yaml holds every event of a document and replays
//! an anchored node at each alias. One pass over the bytes, knowing just
//! enough YAML (quotes, comments, block scalars, flow brackets), measures
//! the nesting and counts nodes; a document with aliases is then counted
//! exactly, with what each alias expands to, from yaml-rust2's events.
use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::{Document, MAX_NESTING, MAX_YAML_NODES};
use crate::error::{Error, Result};

pub(super) fn check(doc: &Document<'_>, path: &str) -> Result<()> {
    let scan = scan(doc.text, MAX_NESTING, MAX_YAML_NODES);
    let at = |line: usize| format!("{path}:{}", doc.line + line - 1);
    if let Some(line) = scan.too_deep_at {
        return Err(Error::input(
            at(line),
            format!(
                "YAML nested deeper than {MAX_NESTING} levels of `[` and `{{`; \
                 no Kubernetes object is, and parsing it would take minutes"
            ),
        ));
    }
    if let Some(line) = scan.too_many_at {
        return Err(Error::input(
            at(line),
            format!(
                "this YAML document holds more than {} nodes, the most confdrift reads \
                 in one document (about 100 MB of `kubectl get -o yaml`); split the file, \
                 or dump it with `-o json`, which is read item by item",
                thousands(MAX_YAML_NODES)
            ),
        ));
    }
    if scan.aliases {
        check_aliases(doc, &at)?;
    }
    Ok(())
}

/// `10,000,000`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Default, PartialEq)]
pub(super) struct Scan {
    /// Line (in the document) where the nesting passed the limit.
    pub too_deep_at: Option<usize>,
    /// Line where the node count passed the limit.
    pub too_many_at: Option<usize>,
    /// Whether the document uses `*alias`.
    pub aliases: bool,
}

/// Measures flow nesting and counts nodes (scalars, collections,
/// indicators: about one per libyaml event). Errs on the side of
/// counting less: a `[` inside a multi-line plain scalar is the only
/// thing it may take for structure.
// Long (about 160 lines): one byte-level pass, whose state (open quote,
// block scalar indent, flow depth, whether a node may start) every branch
// reads and changes; split, each piece would take all of it.
pub(super) fn scan(text: &str, max_depth: usize, max_nodes: usize) -> Scan {
    let mut out = Scan::default();
    let mut depth = 0usize;
    let mut nodes = 0usize;
    // Inside a quoted scalar, which may span lines: its quote.
    let mut quote: Option<u8> = None;
    // Inside a block scalar: lines indented beyond this are its text.
    let mut block: Option<isize> = None;
    // Whether the next character may start a node.
    let mut start = true;
    for (idx, line) in text.split('\n').enumerate() {
        let l = line.as_bytes();
        let indent = l.iter().take_while(|&&c| c == b' ').count();
        if let Some(parent) = block {
            let blank = l[indent..]
                .iter()
                .all(|c| matches!(c, b' ' | b'\t' | b'\r'));
            if blank || indent as isize > parent {
                continue;
            }
            block = None;
        }
        if quote.is_none() && depth == 0 {
            start = true;
        }
        // The column a block scalar's text must be indented beyond: the
        // key or `-` entry it belongs to.
        let mut parent = indent as isize - 1;
        let mut token_col = indent;
        let mut after_space = true;
        // Just after a quoted scalar or a flow collection, where a `:`
        // in flow context is an indicator even without a space.
        let mut json_like = false;
        let mut j = 0;
        while j < l.len() {
            // Fast paths over the bulk of the text, plain words and quoted
            // strings, where only a few bytes can change anything.
            if let Some(q) = quote {
                let run = l[j..].iter().position(|&b| b == q || b == b'\\');
                j += run.unwrap_or(l.len() - j);
                if j == l.len() {
                    break;
                }
            } else if !start && depth == 0 {
                let run = l[j..]
                    .iter()
                    .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'#' | b':'));
                let run = run.unwrap_or(l.len() - j);
                if run > 0 {
                    j += run;
                    after_space = false;
                    json_like = false;
                    continue;
                }
            }
            let c = l[j];
            if let Some(q) = quote {
                if q == b'"' && c == b'\\' {
                    j += 2;
                    continue;
                }
                if c == q {
                    if q == b'\'' && l.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    quote = None;
                    json_like = true;
                    after_space = false;
                }
                j += 1;
                continue;
            }
            let next = l.get(j + 1).copied();
            let next_blank = next.is_none_or(|n| matches!(n, b' ' | b'\t' | b'\r'));
            match c {
                b' ' | b'\t' | b'\r' => {
                    after_space = true;
                    j += 1;
                    continue;
                }
                b'#' if after_space => break,
                b'[' | b'{' if depth > 0 || start => {
                    depth += 1;
                    nodes += 2;
                    start = true;
                    json_like = false;
                    if depth > max_depth {
                        out.too_deep_at = Some(idx + 1);
                        return out;
                    }
                }
                b']' | b'}' if depth > 0 => {
                    depth -= 1;
                    start = false;
                    json_like = true;
                }
                b',' if depth > 0 => {
                    start = true;
                    json_like = false;
                }
                b'"' | b'\'' if start => {
                    quote = Some(c);
                    nodes += 1;
                    token_col = j;
                    start = false;
                }
                b':' if next_blank
                    || (depth > 0
                        && (json_like || next.is_some_and(|n| b",[]{}".contains(&n)))) =>
                {
                    nodes += 1;
                    start = true;
                    json_like = false;
                    if depth == 0 {
                        parent = token_col as isize;
                    }
                }
                b'-' | b'?' if start && next_blank && depth == 0 => {
                    nodes += 1;
                    parent = j as isize;
                }
                b'|' | b'>' if start && depth == 0 => {
                    block = Some(parent);
                    break;
                }
                b'&' | b'!' if start => {
                    // An anchor or tag: the node follows it.
                    while j < l.len()
                        && !matches!(l[j], b' ' | b'\t' | b'\r')
                        && !(depth > 0 && b",[]{}".contains(&l[j]))
                    {
                        j += 1;
                    }
                    after_space = false;
                    continue;
                }
                b'*' if start => {
                    out.aliases = true;
                    nodes += 1;
                    token_col = j;
                    start = false;
                }
                _ => {
                    if start {
                        nodes += 1;
                        token_col = j;
                    }
                    start = false;
                    json_like = false;
                }
            }
            after_space = false;
            j += 1;
            if nodes > max_nodes {
                out.too_many_at = Some(idx + 1);
                return out;
            }
        }
    }
    out
}

/// Counts the nodes of a document with every alias expanded.
struct Expansion {
    nodes: usize,
    /// Open collections: their anchor and the count when they opened.
    open: Vec<(usize, usize)>,
    /// The size of each anchored node.
    sizes: HashMap<usize, usize>,
    over_at: Option<usize>,
}

impl MarkedEventReceiver for Expansion {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.over_at.is_some() {
            return;
        }
        match ev {
            Event::Scalar(_, _, anchor, _) => {
                self.nodes += 1;
                if anchor > 0 {
                    self.sizes.insert(anchor, 1);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.open.push((anchor, self.nodes));
                self.nodes += 1;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, opened)) = self.open.pop()
                    && anchor > 0
                {
                    self.sizes.insert(anchor, self.nodes - opened);
                }
            }
            Event::Alias(id) => {
                let size = self.sizes.get(&id).copied().unwrap_or(1);
                self.nodes = self.nodes.saturating_add(size);
            }
            _ => {}
        }
        if self.nodes > MAX_YAML_NODES {
            self.over_at = Some(mark.line().max(1));
        }
    }
}

fn check_aliases(doc: &Document<'_>, at: &dyn Fn(usize) -> String) -> Result<()> {
    let mut count = Expansion {
        nodes: 0,
        open: Vec::new(),
        sizes: HashMap::new(),
        over_at: None,
    };
    // Event by event: `Parser::load` recurses once per nesting level.
    let mut parser = Parser::new_from_str(doc.text);
    let parsed = loop {
        match parser.next_token() {
            Ok((ev, mark)) => {
                let end = ev == Event::StreamEnd;
                count.on_event(ev, mark);
                if end || count.over_at.is_some() {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Some(line) = count.over_at {
        return Err(Error::input(
            at(line),
            format!(
                "the aliases (*name) of this YAML document expand it to more than {} \
                 nodes, the most confdrift reads in one document: an alias bomb \
                 (\"billion laughs\")? Kubernetes manifests rarely need aliases",
                thousands(MAX_YAML_NODES)
            ),
        ));
    }
    if let Err(e) = parsed {
        // serde_yaml would replay the aliases unchecked: refuse instead.
        return Err(Error::input(
            at(e.marker().line().max(1)),
            format!(
                "invalid YAML: {} (read while checking what the document's aliases \
                 expand to)",
                e.info()
            ),
        ));
    }
    Ok(())
}

/// Whether a JSON document holds more than `limit` values (counted by
/// their separators, outside strings).
pub(super) fn json_values_exceed(text: &str, limit: usize) -> bool {
    let mut n = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &c in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b',' | b'[' | b'{' | b':' => {
                n += 1;
                if n > limit {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_of(text: &str) -> Option<usize> {
        (0..200).find(|d| scan(text, *d, usize::MAX).too_deep_at.is_none())
    }

    #[test]
    fn flow_nesting_is_measured() {
        assert_eq!(depth_of("a: [[1, {b: [2]}]]\n"), Some(4));
        assert_eq!(depth_of("a:\n  - [\n    [1],\n    [2]\n  ]\n"), Some(2));
        assert_eq!(depth_of("{\"a\":[\"b\"]}"), Some(2));
    }

    #[test]
    fn brackets_in_scalars_comments_and_block_text_are_not_nesting() {
        let text = "a: \"[[[[\"\nb: '{{{{ it''s [ '\nc: x[[[[ y\n# [[[[\nd: |\n  [[[[\n  {{{{\n\n  [[\ne: >-\n   [[[\nf: [x] # [[[\ng: \"multi\n  line [[[[ \\\" [[\"\n";
        assert_eq!(depth_of(text), Some(1));
        let text = "- key: |\n    [[[[\n  other: [1]\n- |\n  [[[[\n";
        assert_eq!(depth_of(text), Some(1));
    }

    #[test]
    fn a_block_scalar_ends_where_its_key_does() {
        // `other` is not part of the text: its brackets count.
        let text = "- key: |\n    text\n  other: [[[1]]]\n";
        assert_eq!(depth_of(text), Some(3));
    }

    #[test]
    fn nodes_are_counted_and_aliases_noticed() {
        let s = scan("a: 1\nb: [x, y]\nc: *a\n", 128, usize::MAX);
        assert!(s.aliases);
        let s = scan("a: '*not an alias'\nb: x*y\n", 128, usize::MAX);
        assert!(!s.aliases);
        let s = scan(&"- a\n".repeat(100), 128, 150);
        assert!(s.too_many_at.is_some());
    }

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert!(!json_values_exceed(r#"{"a": "[,,,,]", "b": [1, 2]}"#, 6));
        assert!(json_values_exceed(r#"{"a": "[,,,,]", "b": [1, 2, 3]}"#, 6));
    }
}
