//! Canonical forms, so that noise (`True` vs `true` for flags, CRLF or a
//! final newline in a config file) never shows up as drift. What a program
//! would read differently is never noise: env values compare exactly.

use crate::model::{ConfigKind, Value};

/// What two values are compared by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum CompareKey {
    Text(String),
    Secret {
        key_id: String,
        mac: String,
    },
    FieldRef(String),
    Binary(String),
    /// Never equal to anything, itself included.
    Unresolved,
}

/// Reads the boolean spellings Kubernetes users write for flags.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" | "enabled" => Some(true),
        "false" | "0" | "no" | "n" | "off" | "disabled" => Some(false),
        _ => None,
    }
}

/// The text two values of `kind` are compared by.
///
/// An env value reaches the program byte for byte: `"20\n"` (a YAML `|`
/// block) and `" 20"` are not `"20"` to Go's `strconv.Atoi` or Java's
/// `Integer.parseInt`, so an env value is compared exactly, and so is a
/// one-line ConfigMap value (what env values are read from). A file
/// (a multi-line ConfigMap value too) ignores CRLF and trailing blank lines,
/// a final newline included; a flag is compared by meaning (`on` = `true`).
pub(crate) fn canonical_text(kind: ConfigKind, raw: &str) -> String {
    if kind == ConfigKind::Env {
        return raw.to_string();
    }
    // Line endings and trailing blank lines are noise. Every `\r` before a
    // line break goes, not just one, so that the result is canonical too.
    let unix = if raw.contains('\r') {
        raw.split('\n')
            .map(|line| line.trim_end_matches('\r'))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        raw.to_string()
    };
    let body = unix.trim_end();
    if body.contains('\n') {
        // A file: leading indentation is content.
        return body.to_string();
    }
    if kind == ConfigKind::ConfigMap {
        return raw.to_string(); // one line: read as an env value is
    }
    // One line (a YAML `|` block of one line ends in a newline): the same
    // value as without the newline, flag spellings included.
    let trimmed = body.trim();
    if kind == ConfigKind::Flag
        && let Some(b) = parse_bool(trimmed)
    {
        return b.to_string();
    }
    trimmed.to_string()
}

pub(crate) fn compare_key(kind: ConfigKind, value: &Value) -> CompareKey {
    match value {
        Value::Text(t) => CompareKey::Text(canonical_text(kind, t)),
        Value::Secret(f) => CompareKey::Secret {
            key_id: f.key_id.clone(),
            mac: f.mac.clone(),
        },
        Value::FieldRef(p) => CompareKey::FieldRef(String::from(p.clone())),
        Value::Binary(h) => CompareKey::Binary(String::from(h.clone())),
        Value::Unresolved(_) => CompareKey::Unresolved,
    }
}

/// Whether two values are the same configuration.
pub(crate) fn same(kind: ConfigKind, a: &Value, b: &Value) -> bool {
    let (ka, kb) = (compare_key(kind, a), compare_key(kind, b));
    ka != CompareKey::Unresolved && ka == kb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_spellings_compare_by_meaning() {
        for t in ["true", "True", "TRUE", "1", "yes", "on"] {
            assert_eq!(canonical_text(ConfigKind::Flag, t), "true", "{t}");
        }
        assert_eq!(canonical_text(ConfigKind::Flag, "off"), "false");
        // Only for flags: an env value "1" is not "true".
        assert_eq!(canonical_text(ConfigKind::Env, "1"), "1");
    }

    #[test]
    fn an_env_value_is_compared_exactly() {
        // `POOL: |` gives "20\n": Go's strconv.Atoi and Java's parseInt
        // reject it, so it is not "20"; nor are " 20" and "20 ".
        for raw in ["20\n", " 20", "20 ", "20\r\n", ""] {
            assert_eq!(canonical_text(ConfigKind::Env, raw), raw, "{raw:?}");
            let (a, b) = (Value::Text(raw.into()), Value::Text("20".into()));
            assert!(!same(ConfigKind::Env, &a, &b), "{raw:?}");
        }
        // A one-line ConfigMap value is what env values are read from.
        assert!(!same(
            ConfigKind::ConfigMap,
            &Value::Text("20\n".into()),
            &Value::Text("20".into())
        ));
    }

    #[test]
    fn a_final_newline_and_crlf_are_noise_in_a_file() {
        assert_eq!(canonical_text(ConfigKind::File, " 20 \n"), "20");
        assert_eq!(
            canonical_text(ConfigKind::ConfigMap, "a: 1\r\nb: 2\r\n\n"),
            "a: 1\nb: 2"
        );
        assert_eq!(
            canonical_text(ConfigKind::File, "a: 1\r\nb: 2\r\n\n"),
            canonical_text(ConfigKind::File, "a: 1\nb: 2\n")
        );
    }

    #[test]
    fn unresolved_is_never_equal_even_to_itself() {
        let u = Value::Unresolved("x".into());
        assert!(!same(ConfigKind::Env, &u, &u));
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for s in ["  a ", "True", "x\r\ny\r\n", "", "$(A)"] {
            for k in [ConfigKind::Env, ConfigKind::Flag, ConfigKind::File] {
                let once = canonical_text(k, s);
                assert_eq!(canonical_text(k, &once), once);
            }
        }
    }
}
