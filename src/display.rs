//! display: how input-derived text is shown to people, for every stage
//! and format alike. A value (`<redacted>` for a Secret, never its
//! fingerprint), a subject's and a finding's name, hostile text written
//! out so a terminal cannot act on it ([`visible`]), and long text cut to
//! one short line ([`short`], [`first_line`]).
//!
//! A leaf: it knows the model's types and nothing of the stages. It must
//! never show a Secret's value or fingerprint, and never compare: what is
//! shown here may be cut, so decisions are made on the values themselves.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::model::{ConfigKind, Finding, Subject, Value};

/// Marks where text was cut.
pub const ELLIPSIS: char = '…';

/// How many characters of a value a message shows ([`short`]).
pub const SHORT_CHARS: usize = 40;

/// How a value is shown to people. Secrets never get here as anything but
/// a fingerprint, and this never shows the fingerprint either.
pub fn value(v: &Value) -> String {
    match v {
        Value::Text(t) => t.to_string(),
        Value::Secret(_) => "<redacted>".into(),
        Value::FieldRef(p) => format!("<fieldRef {p}>"),
        Value::Binary(h) => format!("<binary sha256:{}>", &h[..h.len().min(12)]),
        Value::Unresolved(why) => format!("<unresolved: {why}>"),
    }
}

/// A subject as people name it: `TIMEOUT_MS`, `flag FEATURE_X`,
/// `file /etc/app.yaml`, `ConfigMap shop-config key DB_POOL_SIZE`.
pub fn subject(s: &Subject) -> String {
    match s.kind {
        ConfigKind::File => format!("file {}", s.key),
        ConfigKind::ConfigMap => format!(
            "ConfigMap {} key {}",
            s.scope.configmap().unwrap_or(""),
            s.key
        ),
        ConfigKind::Flag => format!("flag {}", s.key),
        ConfigKind::Env => s.key.to_string(),
    }
}

/// Where a finding is, for people: `checkout/server`, `checkout` (a
/// workload), `configmap/shop-config`, or nothing (about the policy or a
/// whole environment).
pub fn location(f: &Finding) -> String {
    match (&f.workload, &f.container, &f.configmap) {
        (Some(w), Some(c), _) => format!("{w}/{c}"),
        (Some(w), None, _) => w.clone(),
        (None, _, Some(cm)) => format!("configmap/{cm}"),
        _ => String::new(),
    }
}

/// A value in a message: its first line, at most [`SHORT_CHARS`]
/// characters, `…` where anything was left out (the rest of the line, or
/// more lines). The finding's `values` hold it whole.
pub fn short(text: &str) -> String {
    first_line(text, SHORT_CHARS, true)
}

/// The first line of `text`, at most `max` characters, with [`ELLIPSIS`]
/// when the line was cut or, if `mark_more_lines`, when more (non-blank)
/// lines follow.
pub fn first_line(text: &str, max: usize, mark_more_lines: bool) -> String {
    let line = text.lines().next().unwrap_or("");
    let more = mark_more_lines && text.trim_end().contains('\n');
    let mut out: String = line.chars().take(max).collect();
    if out.len() < line.len() || more {
        out.push(ELLIPSIS);
    }
    out
}

/// `text` as a terminal, a CI log or a rendered comment may show it: every
/// character that would act instead of print is written out, so a value
/// from a ConfigMap can neither rewrite the operator's screen (`ESC [2J`,
/// `CR` overwriting a line, an OSC 8 link) nor reorder or hide what is shown
/// next to it ("Trojan Source" bidi overrides, zero-width characters).
///
/// Written out: control characters (C0, DEL and C1) as `\x1b`, `\x07`,
/// `\u{9b}`, with `\n`, `\r` and `\t` for newline, carriage return and tab
/// (a tab too, so that a tab and spaces never look alike in a diff); format
/// characters (Unicode category Cf: bidi embeddings, overrides, isolates and
/// marks, zero-width spaces and joiners, the BOM, tag characters) and the
/// line and paragraph separators as `\u{202e}`. Everything else, other
/// scripts and emoji included, is shown as it is. A backslash stays one, so
/// `\x1b` may also be those four characters: the JSON report holds every
/// value exactly.
///
/// For text shown on one line (names, keys, values, messages); every text
/// renderer (table, diff, Markdown) passes what it took from input through
/// this or [`visible_lines`].
pub fn visible(text: &str) -> Cow<'_, str> {
    written_out(text, false)
}

/// [`visible`] for text shown as lines: newlines stay newlines.
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    written_out(text, true)
}

fn written_out(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let acts = |c: char| acts_on_display(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !acts(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// Whether a terminal or a text renderer would act on `c` rather than
/// print it: controls (Cc), format characters (Cf, Unicode 15.1) and the
/// line and paragraph separators (Zl, Zp).
fn acts_on_display(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_writes_out_what_a_terminal_would_act_on() {
        for (raw, shown) in [
            ("\u{1b}[2J\u{1b}[H", "\\x1b[2J\\x1b[H"),
            ("\u{1b}]8;;http://evil\u{7}x", "\\x1b]8;;http://evil\\x07x"),
            ("safe\rEVIL", "safe\\rEVIL"),
            ("prod\u{8}\u{8}", "prod\\x08\\x08"),
            ("a\tb\0c\u{7f}", "a\\tb\\x00c\\x7f"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("user\u{202e}nimda", "user\\u{202e}nimda"),
            ("\u{2066}x\u{2069}\u{200f}", "\\u{2066}x\\u{2069}\\u{200f}"),
            ("zero\u{200b}width\u{feff}", "zero\\u{200b}width\\u{feff}"),
            ("tag\u{e0041}", "tag\\u{e0041}"),
            ("line\u{2028}sep", "line\\u{2028}sep"),
            ("two\nlines", "two\\nlines"),
        ] {
            assert_eq!(visible(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn visible_keeps_legitimate_text_as_it_is() {
        for text in [
            "postgres://app@db:5432/app",
            "C:\\temp\\x1b is text",
            "grüße, 日本語, emoji 🚀, Ελληνικά, עברית",
            "",
        ] {
            assert!(matches!(visible(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn visible_lines_keeps_newlines_and_nothing_else() {
        assert_eq!(
            visible_lines("listen 80\nname \u{1b}[31mred\r\n"),
            "listen 80\nname \\x1b[31mred\\r\n"
        );
    }

    #[test]
    fn short_keeps_the_first_line_and_marks_what_it_left_out() {
        assert_eq!(short("20"), "20");
        assert_eq!(short(&"x".repeat(40)), "x".repeat(40));
        assert_eq!(short(&"x".repeat(41)), format!("{}…", "x".repeat(40)));
        assert_eq!(short("listen 80\nname x\n"), "listen 80…");
        assert_eq!(short("one line\n"), "one line");
        assert_eq!(first_line("a\nb", 600, false), "a");
        assert_eq!(short(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
    }
}
