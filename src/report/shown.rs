//! How a value is shown in a table cell (table, Markdown, HTML): what
//! cannot be seen is written out (`""`, `"4 "`, `20⏎`), and the values of
//! one row are shortened together so that where they differ stays visible.
//!
//! It must never make two different values look the same, nor two equal
//! values look different: a reader compares the cells of a row by eye. The
//! JSON report holds the raw values; nothing here is used to compare.

use super::visible;

/// Written after a value for each newline it ends with.
pub const NEWLINE: char = '⏎';

/// Marks where text was cut.
const CUT: char = '…';

/// The narrowest width [`shorten_together`] works to: a cut on either side
/// and a few characters between them.
pub const MIN_WIDTH: usize = 5;

/// One value as one line a person can read: a multi-line value (a file) is
/// `(N lines)`; what acts on a terminal is written out ([`visible`]); an
/// empty value is `""`, one with a space at either end is quoted (`"4 "`),
/// each trailing newline is `⏎` (`20⏎`); a value that starts with `"` or
/// ends with `⏎` is quoted too. Placeholders (`<redacted A>`,
/// `<unresolved …>`) are shown short.
pub fn one_line(value: &str) -> String {
    if value.starts_with("<unresolved") {
        return "<unresolved>".into();
    }
    let body = value.trim_end_matches('\n');
    let newlines = value.len() - body.len();
    if body.contains('\n') {
        let lines = body.lines().count();
        return match newlines {
            1 => format!("({lines} lines)"),
            0 => format!("({lines} lines, no final {NEWLINE})"),
            n => format!("({lines} lines, {n}{NEWLINE} at the end)"),
        };
    }
    let text = visible(body);
    // Quoted too when it starts with a quote or ends with `⏎`, or is the
    // `—` of "not set", so that no value reads like another one.
    let quote = body.is_empty()
        || body == "—"
        || body.starts_with([' ', '"'])
        || body.ends_with([' ', NEWLINE]);
    let mut shown = if quote {
        format!("\"{text}\"")
    } else {
        text.into_owned()
    };
    shown.extend(std::iter::repeat_n(NEWLINE, newlines));
    shown
}

/// The values of one row (each one line, as [`one_line`] shows them), each
/// in at most `width` characters per line, shortened together so that
/// where they differ stays in view: every value is cut at the same place,
/// the part they all share elided (`…active=staging`, `…active=production`),
/// every cut marked with `…`. When the differences are too far apart for
/// one line, the shown part wraps onto more lines.
///
/// Different values stay different, equal values equal, and values that
/// fit are shown whole.
pub fn shorten_together(values: &[&str], width: usize) -> Vec<String> {
    let width = width.max(MIN_WIDTH);
    let chars: Vec<Vec<char>> = values.iter().map(|v| v.chars().collect()).collect();
    if chars.iter().all(|c| c.len() <= width) {
        return values.iter().map(|v| v.to_string()).collect();
    }
    // Where pairs of different values first differ: the window shows all
    // of these positions in every value, from the same start.
    let mut first = usize::MAX;
    let mut last = 0;
    for (i, a) in chars.iter().enumerate() {
        for b in &chars[i + 1..] {
            if a != b {
                let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                first = first.min(at);
                last = last.max(at);
            }
        }
    }
    if first == usize::MAX {
        first = 0; // all equal: cut them alike, from the start
    }
    let start = if last + 2 <= width {
        0
    } else {
        // Some context before the first difference, as room allows.
        // The end of the longest value, if that shows the first difference
        // (`…D default=false`); else some context before it, as room
        // allows; when the differences do not fit one line, several.
        let longest = chars.iter().map(Vec::len).max().unwrap_or(0);
        let tail = longest + 1 - width;
        let context = first.saturating_sub((width / 3).min(8));
        let one_line = context.max(last + 3 - width);
        if tail <= first {
            tail
        } else if one_line <= first {
            one_line
        } else {
            context
        }
    };
    chars
        .iter()
        .map(|c| window(c, start, last, width))
        .collect()
}

/// The cells of one row: each present value as [`one_line`] shows it, all
/// shortened together to `width` ([`shorten_together`]); an absent one is
/// `absent`.
pub fn row(values: &[Option<&str>], width: usize, absent: &str) -> Vec<String> {
    let present: Vec<String> = values.iter().flatten().map(|v| one_line(v)).collect();
    let refs: Vec<&str> = present.iter().map(String::as_str).collect();
    let mut shown = shorten_together(&refs, width).into_iter();
    values
        .iter()
        .map(|v| match v {
            Some(_) => shown.next().unwrap_or_default(),
            None => absent.to_string(),
        })
        .collect()
}

/// `value` from `start`, far enough to show position `last`, in lines of
/// `width`: `…` before when `start > 0`, `…` after when cut.
fn window(value: &[char], start: usize, last: usize, width: usize) -> String {
    let lead = usize::from(start > 0);
    // Lines needed to show up to `last` with both marks, then filled.
    let need = lead + (last + 1).saturating_sub(start) + 1;
    let lines = need.div_ceil(width).max(1);
    let room = lines * width - lead - 1;
    let end = if value.len() <= start + room + 1 {
        value.len()
    } else {
        start + room
    };
    let mut text: Vec<char> = Vec::with_capacity(width * lines);
    if start > 0 {
        text.push(CUT);
    }
    text.extend(&value[start.min(value.len())..end]);
    if end < value.len() {
        text.push(CUT);
    }
    text.chunks(width)
        .map(|line| line.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invisible_values_are_written_out() {
        assert_eq!(one_line(""), "\"\"");
        assert_eq!(one_line("20\n"), "20⏎");
        assert_eq!(one_line("20\n\n"), "20⏎⏎");
        assert_eq!(one_line("20 "), "\"20 \"");
        assert_eq!(one_line(" 20"), "\" 20\"");
        assert_eq!(one_line("\n"), "\"\"⏎");
        assert_eq!(one_line("20"), "20");
        assert_eq!(one_line("\"\""), "\"\"\"\"");
        assert_eq!(one_line("20⏎"), "\"20⏎\"");
        assert_eq!(one_line("a b"), "a b");
        assert_eq!(one_line("x\r"), "x\\r");
        assert_eq!(one_line("a: 1\nb: 2\n"), "(2 lines)");
        assert_eq!(one_line("a: 1\nb: 2"), "(2 lines, no final ⏎)");
        assert_eq!(one_line("<unresolved: no ConfigMap x>"), "<unresolved>");
    }

    #[test]
    fn values_that_differ_in_the_last_word_show_it() {
        let shown = shorten_together(
            &[
                "-Xms64m -Xmx512m -XX:+UseG1GC -Dspring.profiles.active=staging",
                "-Xms64m -Xmx512m -XX:+UseG1GC -Dspring.profiles.active=production",
            ],
            24,
        );
        assert!(
            shown[0].starts_with('…') && shown[0].ends_with("staging"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with('…') && shown[1].contains("produc"),
            "{shown:?}"
        );
        assert!(shown.iter().all(|s| s.chars().count() <= 24), "{shown:?}");
    }

    #[test]
    fn a_field_path_is_not_cut_to_read_like_another() {
        let shown = shorten_together(
            &["<fieldRef metadata.namespace>", "<fieldRef metadata.name>"],
            20,
        );
        assert!(shown[0].contains("names"), "{shown:?}");
        assert_ne!(shown[0], shown[1]);
    }

    #[test]
    fn values_that_fit_are_shown_whole() {
        assert_eq!(shorten_together(&["20", "5", "—"], 10), ["20", "5", "—"]);
    }

    #[test]
    fn equal_long_values_are_cut_alike_from_the_start() {
        let v = "https://cdn.shop.example/assets/v2";
        assert_eq!(
            shorten_together(&[v, v], 12),
            ["https://cdn…", "https://cdn…"]
        );
    }

    #[test]
    fn differences_far_apart_wrap_rather_than_hide() {
        let shown = shorten_together(
            &[
                "a-----------------b",
                "x-----------------b",
                "a-----------------c",
            ],
            8,
        );
        assert_eq!(shown.len(), 3);
        assert_ne!(shown[0], shown[1]);
        assert_ne!(shown[0], shown[2]);
        assert!(shown[0].contains('\n'), "{shown:?}");
        for s in &shown {
            assert!(s.lines().all(|l| l.chars().count() <= 8), "{s:?}");
        }
    }

    /// One-line text with few letters, so that values share long prefixes
    /// and suffixes; `…` and `⏎` included, as a value may hold them.
    fn value() -> impl Strategy<Value = String> {
        "[ab…⏎ ]{0,6}".prop_flat_map(|head| {
            ("[ab…]{0,40}", "[ab ]{0,6}").prop_map(move |(mid, tail)| format!("{head}{mid}{tail}"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn shortened_values_stay_distinct_and_fit(
            values in prop::collection::vec(value(), 1..5),
            width in MIN_WIDTH..40usize,
        ) {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let shown = shorten_together(&refs, width);
            prop_assert_eq!(shown.len(), values.len());
            for (i, a) in values.iter().enumerate() {
                for lines in shown[i].split('\n') {
                    prop_assert!(lines.chars().count() <= width, "{:?} wider than {}", shown[i], width);
                }
                for (j, b) in values.iter().enumerate() {
                    prop_assert_eq!(a == b, shown[i] == shown[j], "{:?} / {:?} shown {:?} / {:?}", a, b, shown[i], shown[j]);
                }
            }
        }

        #[test]
        fn one_line_keeps_different_values_apart(a in "[a \n\"⏎]{0,6}", b in "[a \n\"⏎]{0,6}") {
            // Only where the newlines are trailing: inner ones make a file,
            // shown as its line count (the line diff shows the rest).
            prop_assume!(!a.trim_end_matches('\n').contains('\n'));
            prop_assume!(!b.trim_end_matches('\n').contains('\n'));
            prop_assert_eq!(a == b, one_line(&a) == one_line(&b));
        }
    }
}
