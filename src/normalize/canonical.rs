//! Canonical forms, so that noise (whitespace, `True` vs `true` for flags,
//! CRLF in a config file) never shows up as drift.

use crate::model::{ConfigKind, Value};

/// What two values are compared by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CompareKey {
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
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" | "enabled" => Some(true),
        "false" | "0" | "no" | "n" | "off" | "disabled" => Some(false),
        _ => None,
    }
}

pub fn canonical_text(kind: ConfigKind, raw: &str) -> String {
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

pub fn compare_key(kind: ConfigKind, value: &Value) -> CompareKey {
    match value {
        Value::Text(t) => CompareKey::Text(canonical_text(kind, t)),
        Value::Secret(f) => CompareKey::Secret {
            key_id: f.key_id.clone(),
            mac: f.mac.clone(),
        },
        Value::FieldRef(p) => CompareKey::FieldRef(p.clone()),
        Value::Binary(h) => CompareKey::Binary(h.clone()),
        Value::Unresolved(_) => CompareKey::Unresolved,
    }
}

/// Whether two values are the same configuration.
pub fn same(kind: ConfigKind, a: &Value, b: &Value) -> bool {
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
    fn surrounding_whitespace_and_crlf_are_noise() {
        assert_eq!(canonical_text(ConfigKind::Env, " 20 "), "20");
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
