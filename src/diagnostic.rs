//! One diagnostic for every file a user writes (manifests, `confdrift.yaml`,
//! policies): where (file, line, column), what (a stable code, the field at
//! fault, the message), what would be valid (help), and the offending line
//! shown under it, as cargo-deny and rustc show theirs.
//!
//! A leaf: it never reads a file. Whoever finds the problem hands over the
//! line's text, and decides whether it may be shown at all: a line of a
//! Secret never is, since its value may be on it.

use std::fmt;

/// A line longer than this is not shown (a minified JSON file is one line).
const MAX_SNIPPET_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One problem in a file a user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// A stable kebab-case code (`unknown-field`, `invalid-input`).
    pub code: &'static str,
    /// The file as the user named it.
    pub file: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    /// 1-based; 0 when the problem is the whole line.
    pub col: usize,
    /// The field's path, e.g. `rules[2].range.min`; empty when the message
    /// names it or there is none.
    pub field: String,
    /// The id of the policy rule the field belongs to, when known.
    pub rule: Option<String>,
    pub message: String,
    /// What would be valid, e.g. "did you mean `equal`?".
    pub help: Option<String>,
    /// The text of line `line`, shown under the message; `None` when it is
    /// not at hand or may not be shown.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// An error at `file:line:col` (0 for "not known").
    pub fn error(
        code: &'static str,
        file: impl Into<String>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: Level::Error,
            code,
            file: file.into(),
            line,
            col,
            field: String::new(),
            rule: None,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    /// An error at a location written `FILE`, `FILE:LINE` or
    /// `FILE:LINE:COL`, as `Error::input` takes it.
    pub fn at(code: &'static str, location: &str, message: impl Into<String>) -> Self {
        let (file, line, col) = split_location(location);
        Diagnostic::error(code, file, line, col, message)
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// Shows line [`Self::line`] of `text`, whose first line is line
    /// `first_line` of the file. Only for text that may be shown: never a
    /// Secret's.
    pub fn with_source(mut self, text: &str, first_line: usize) -> Self {
        self.set_source(text, first_line);
        self
    }

    /// [`Self::with_source`] in place.
    pub fn set_source(&mut self, text: &str, first_line: usize) {
        self.source_line = self
            .line
            .checked_sub(first_line)
            .and_then(|i| text.lines().nth(i))
            .map(|l| l.trim_end_matches('\r').to_string());
    }

    /// The location as `FILE:LINE:COL`, `FILE:LINE` or `FILE`.
    pub fn location(&self) -> String {
        match (self.line, self.col) {
            (0, _) => self.file.clone(),
            (l, 0) => format!("{}:{l}", self.file),
            (l, c) => format!("{}:{l}:{c}", self.file),
        }
    }

    /// The diagnostic as a run's error, on one line (it may end up in a
    /// report's problem): `FILE:LINE:COL: FIELD: MESSAGE`, the level and
    /// code left to the caller's `error:` prefix.
    pub fn as_error(&self) -> impl fmt::Display + '_ {
        Shown {
            d: self,
            with_code: false,
            with_line: false,
        }
    }

    /// [`Self::as_error`] with the offending line drawn under it, for a
    /// terminal or a CI log.
    pub fn as_error_with_line(&self) -> impl fmt::Display + '_ {
        Shown {
            d: self,
            with_code: false,
            with_line: true,
        }
    }
}

/// `FILE:LINE:COL` → its parts; a trailing part that is not a number is
/// part of the file's name (`s3://bucket/key`).
fn split_location(location: &str) -> (&str, usize, usize) {
    let number = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
    if let Some((rest, last)) = location.rsplit_once(':')
        && let Some(last) = number(last)
    {
        if let Some((file, line)) = rest.rsplit_once(':')
            && let Some(line) = number(line)
        {
            return (file, line, last);
        }
        return (rest, last, 0);
    }
    (location, 0, 0)
}

struct Shown<'a> {
    d: &'a Diagnostic,
    with_code: bool,
    with_line: bool,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        write!(f, "{}: ", d.location())?;
        if self.with_code {
            let level = match d.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            write!(f, "{level}[{}]: ", d.code)?;
        }
        if !d.field.is_empty() {
            write!(f, "{}", d.field)?;
            if let Some(rule) = &d.rule {
                write!(f, " (rule {rule})")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", d.message)?;
        if let Some(snippet) = snippet(d).filter(|_| self.with_line) {
            write!(f, "\n{snippet}")?;
        }
        if let Some(help) = &d.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// `FILE:LINE:COL: LEVEL[CODE]: FIELD (rule ID): MESSAGE`, the line under
/// it, then `help:`, as `policy lint` prints it.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown {
            d: self,
            with_code: true,
            with_line: true,
        }
        .fmt(f)
    }
}

/// The offending line with its number, the column (or the line's text)
/// underlined, drawn by annotate-snippets without colour:
///
/// ```text
///    |
/// 13 |             configMapKeyRef: {name: cfg}
///    |             ^^^^^^^^^^^^^^^
/// ```
fn snippet(d: &Diagnostic) -> Option<String> {
    use annotate_snippets::{AnnotationKind, Group, Level as L, Renderer, Snippet};
    let text = d.source_line.as_deref()?;
    if d.line == 0 || text.trim().is_empty() || text.chars().count() > MAX_SNIPPET_CHARS {
        return None;
    }
    // A tab is drawn as spaces, which would shift the underline.
    let text = text.replace('\t', " ");
    let indent = text.len() - text.trim_start().len();
    let start = match d.col {
        0 => indent,
        c => text
            .char_indices()
            .nth(c - 1)
            .map_or(text.trim_end().len(), |(i, _)| i),
    };
    let rest = &text[start..];
    let len = if d.col == 0 {
        rest.trim_end().len()
    } else {
        token_len(rest)
    };
    let end = (start + len.max(1)).min(text.len());
    let start = start.min(end.saturating_sub(1));
    let level = match d.level {
        Level::Error => L::ERROR,
        Level::Warning => L::WARNING,
    };
    let group = Group::with_level(level).element(
        Snippet::source(text.as_str())
            .line_start(d.line)
            .annotation(AnnotationKind::Primary.span(start..end)),
    );
    let drawn = Renderer::plain().render(&[group]).to_string();
    let drawn = drawn.trim_end_matches('\n');
    (!drawn.is_empty()).then(|| drawn.to_string())
}

/// The length of the YAML token `rest` starts with: a quoted string to its
/// closing quote, a flow collection to its closing bracket, a key to its
/// `: `, a plain scalar to the next space, comma or bracket.
fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices().peekable();
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                if c == q && !escaped {
                    return i + 1;
                }
                escaped = q == '"' && c == '\\' && !escaped;
            }
            rest.len()
        }
        Some(open @ ('{' | '[')) => {
            let close = if open == '{' { '}' } else { ']' };
            let mut depth = 0usize;
            for (i, c) in rest.char_indices() {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
            }
            rest.len()
        }
        _ => {
            while let Some((i, c)) = chars.next() {
                let key_end = c == ':' && chars.peek().is_none_or(|(_, n)| n.is_whitespace());
                if c.is_whitespace() || matches!(c, ',' | '}' | ']') || key_end {
                    return i;
                }
            }
            rest.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_file_line_and_column() {
        assert_eq!(split_location("a.yaml:7:5"), ("a.yaml", 7, 5));
        assert_eq!(split_location("a.yaml:7"), ("a.yaml", 7, 0));
        assert_eq!(split_location("a.yaml"), ("a.yaml", 0, 0));
        assert_eq!(
            split_location("s3://bucket/a.yaml"),
            ("s3://bucket/a.yaml", 0, 0)
        );
        assert_eq!(split_location("C:/x.yaml:3"), ("C:/x.yaml", 3, 0));
    }

    #[test]
    fn the_offending_line_is_shown_under_the_message_with_the_column_underlined() {
        let text = "kind: Policy\nrules:\n  - id: a\n    equals: x\n";
        let mut d = Diagnostic::error("unknown-field", "p.yaml", 4, 5, "unknown field `equals`")
            .with_source(text, 1);
        d.field = "rules[0].equals".into();
        d.help = Some("did you mean `equal`?".into());
        assert_eq!(
            d.to_string(),
            "p.yaml:4:5: error[unknown-field]: rules[0].equals: unknown field `equals`\n  \
             |\n4 |     equals: x\n  |     ^^^^^^\n  help: did you mean `equal`?"
        );
        assert_eq!(
            d.as_error().to_string(),
            "p.yaml:4:5: rules[0].equals: unknown field `equals`\n  help: did you mean `equal`?"
        );
    }

    #[test]
    fn without_a_column_the_line_s_text_is_underlined() {
        let d = Diagnostic::at("invalid-input", "m.yaml:2", "has no key")
            .with_source("a: 1\n  b: {x: 1}\n", 1);
        assert_eq!(
            d.as_error_with_line().to_string(),
            "m.yaml:2: has no key\n  |\n2 |   b: {x: 1}\n  |   ^^^^^^^^^"
        );
        assert_eq!(d.as_error().to_string(), "m.yaml:2: has no key");
    }

    #[test]
    fn a_quoted_string_or_a_flow_collection_is_underlined_whole() {
        assert_eq!(token_len("\"has space\" # c"), 11);
        assert_eq!(token_len("{min: 1, max: [2]} # c"), 18);
        assert_eq!(token_len("key: value"), 3);
        assert_eq!(token_len("http://x y"), 8);
    }

    #[test]
    fn no_snippet_without_the_line_or_for_a_line_too_long_to_read() {
        let d = Diagnostic::at("invalid-input", "m.yaml:1", "bad");
        assert_eq!(d.as_error().to_string(), "m.yaml:1: bad");
        let long = "x".repeat(MAX_SNIPPET_CHARS + 1);
        let d = Diagnostic::at("invalid-input", "m.yaml:1", "bad").with_source(&long, 1);
        assert_eq!(d.as_error_with_line().to_string(), "m.yaml:1: bad");
    }
}
