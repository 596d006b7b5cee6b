//! `$(VAR)` expansion exactly as the kubelet does it
//! (kubernetes/third_party/forked/golang/expansion/expand.go): `$(NAME)`
//! expands to an earlier variable or stays as written when there is none,
//! `$$` is an escaped `$`, and any other `$` is copied as it is.

/// One piece of an expanded string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(std::borrow::Cow<'a, str>),
    /// A reference that resolved: the caller's mapping decided its value.
    Var(&'a str),
}

/// Splits `input` into literal text and references that `defined` knows.
/// References to unknown names stay literal, as in Kubernetes.
pub fn expand<'a>(input: &'a str, defined: impl Fn(&str) -> bool) -> Vec<Piece<'a>> {
    let mut out: Vec<Piece<'a>> = Vec::new();
    let mut text = String::new();
    let bytes = input.as_bytes();
    let mut checkpoint = 0;
    let mut cursor = 0;
    // No reference can close after the last `)`: knowing where it is keeps
    // a value of a million unclosed `$(` linear instead of quadratic.
    let last_close = input.rfind(')');
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            text.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            match rest.as_bytes()[0] {
                b'$' => {
                    // Escaped operator.
                    text.push('$');
                    cursor += 2;
                }
                b'(' => match last_close
                    .filter(|c| *c > cursor)
                    .and_then(|_| rest.find(')'))
                {
                    Some(close) => {
                        let name = &rest[1..close];
                        if defined(name) {
                            if !text.is_empty() {
                                out.push(Piece::Text(std::mem::take(&mut text).into()));
                            }
                            out.push(Piece::Var(name));
                        } else {
                            text.push_str(&input[cursor..cursor + 2 + close]);
                        }
                        cursor += 2 + close;
                    }
                    None => {
                        // Incomplete reference: copied as it is.
                        text.push_str("$(");
                        cursor += 2;
                    }
                },
                _ => {
                    // A `$` that starts no expression is kept, with the
                    // character after it.
                    let ch = rest.chars().next().map(char::len_utf8).unwrap_or(1);
                    text.push_str(&input[cursor..cursor + 1 + ch]);
                    cursor += 1 + ch;
                }
            }
            checkpoint = cursor;
        } else {
            cursor += 1;
        }
    }
    text.push_str(&input[checkpoint..]);
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text.into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(input: &str, vars: &[(&str, &str)]) -> String {
        expand(input, |n| vars.iter().any(|(k, _)| *k == n))
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.into_owned(),
                Piece::Var(n) => vars.iter().find(|(k, _)| *k == n).unwrap().1.to_string(),
            })
            .collect()
    }

    // The cases below are the kubelet's own table in expand_test.go.
    #[test]
    fn expands_defined_references() {
        assert_eq!(render("$(VAR_A)", &[("VAR_A", "A")]), "A");
        assert_eq!(render("___$(VAR_B)___", &[("VAR_B", "B")]), "___B___");
        assert_eq!(render("$(VAR_A)-$(VAR_A)", &[("VAR_A", "A")]), "A-A");
    }

    #[test]
    fn undefined_references_stay_as_written() {
        assert_eq!(render("$(VAR_DNE)", &[]), "$(VAR_DNE)");
        assert_eq!(render("$()", &[]), "$()");
    }

    #[test]
    fn double_dollar_escapes() {
        assert_eq!(render("$$(VAR_A)", &[("VAR_A", "A")]), "$(VAR_A)");
        assert_eq!(render("$$$(VAR_A)", &[("VAR_A", "A")]), "$A");
        assert_eq!(render("$$$$(VAR_A)", &[("VAR_A", "A")]), "$$(VAR_A)");
        assert_eq!(render("f00__(VAR_A)__$$", &[]), "f00__(VAR_A)__$");
    }

    #[test]
    fn lone_and_incomplete_operators_are_kept() {
        assert_eq!(render("$", &[]), "$");
        assert_eq!(render("$VAR_A", &[("VAR_A", "A")]), "$VAR_A");
        assert_eq!(render("$(VAR_A", &[("VAR_A", "A")]), "$(VAR_A");
        assert_eq!(render("$(VAR_A)$", &[("VAR_A", "A")]), "A$");
        assert_eq!(render("€$é", &[]), "€$é");
    }

    #[test]
    fn many_unclosed_references_take_linear_time() {
        // Each `$(` used to search the rest of the value for a `)`.
        let input = "$(".repeat(500_000);
        assert_eq!(render(&input, &[("A", "x")]), input);
        let input = format!("{}$(A)", "$(".repeat(500_000));
        assert_eq!(render(&input, &[("A", "x")]), input);
    }

    #[test]
    fn nested_references_are_not_recursive() {
        assert_eq!(
            render("$(VAR_$(VAR_A))", &[("VAR_A", "A")]),
            "$(VAR_$(VAR_A))"
        );
    }
}
