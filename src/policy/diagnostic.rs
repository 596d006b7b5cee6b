//! Policy diagnostics: what is wrong in a policy file, where, and what would
//! be valid. They are collected, never thrown, so one run of `policy lint`
//! shows every problem of every file. The type is the one every file a
//! user writes shares ([`crate::diagnostic`]); the codes are the policy's.

/// Every diagnostic code `policy lint` emits, with what it means.
pub const LINT_CODES: &[(&str, &str)] = &[
    ("io", "a policy file or directory cannot be read"),
    (
        "no-policy-files",
        "a directory given as a policy holds no *.yaml or *.yml file",
    ),
    ("yaml-syntax", "the file is not valid YAML"),
    ("empty-file", "the file holds no policy document"),
    (
        "multiple-documents",
        "a policy file holds more than one YAML document",
    ),
    (
        "unknown-field",
        "a field the policy format does not have (often a typo)",
    ),
    (
        "duplicate-field",
        "the same field is given twice in one mapping",
    ),
    (
        "missing-field",
        "a field the policy format requires is not given",
    ),
    (
        "wrong-type",
        "a field holds the wrong kind of value (a list for a string, a string for a number, ...)",
    ),
    (
        "invalid-value",
        "a field's value is not one of the allowed values or not valid for the field",
    ),
    ("bad-glob", "a glob pattern cannot be compiled"),
    ("bad-regex", "a regular expression cannot be compiled"),
    ("bad-date", "a date is not a valid YYYY-MM-DD date"),
    ("bad-relation", "a relation is not of the form `ENV OP ENV`"),
    (
        "conflicting-fields",
        "two fields that cannot be used together",
    ),
    (
        "no-checks",
        "a rule has no check, so it can never report anything",
    ),
    (
        "duplicate-rule",
        "two rules have the same id (in one file or across the merged files)",
    ),
    (
        "reserved-rule-id",
        "a rule id that confdrift uses for its built-in findings",
    ),
    (
        "unknown-rule",
        "a waiver names a rule that no policy defines",
    ),
    (
        "unsupported-version",
        "the apiVersion or kind is not `confdrift/v1` `Policy`",
    ),
    (
        "waiver-expired",
        "a waiver's expiry date has passed (a warning: the waiver no longer applies)",
    ),
];

pub use crate::diagnostic::{Diagnostic, Level};

/// The valid name closest to a misspelt one, if any is close enough to be a
/// plausible typo: `equals` → `equal`, `allow-differ` → `allow_differ`.
pub fn closest<'a>(given: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let g = squash(given);
    let mut best: Option<(usize, &str)> = None;
    for v in valid {
        let sv = squash(v);
        let d = if sv == g {
            0
        } else if g.chars().count() >= 3 && sv.starts_with(&g) {
            1 // an abbreviation: `crit`, `warn`
        } else {
            strsim::damerau_levenshtein(&g, &sv)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, v));
        }
    }
    let (d, v) = best?;
    let limit = match g.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        n => n / 3,
    };
    (d <= limit).then_some(v)
}

/// "did you mean `x`?" or the list of valid names.
pub fn suggest(given: &str, valid: &[&str], what: &str) -> String {
    match closest(given, valid.iter().copied()) {
        Some(v) => format!("did you mean `{v}`?"),
        None => format!(
            "valid {what}: {}",
            valid
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_suggest_the_closest_valid_name() {
        let valid = [
            "equal",
            "required",
            "allow_differ",
            "key_regex",
            "severity_by_env",
        ];
        assert_eq!(closest("equals", valid), Some("equal"));
        assert_eq!(closest("allow-differ", valid), Some("allow_differ"));
        assert_eq!(closest("keyRegex", valid), Some("key_regex"));
        assert_eq!(closest("severityByEnv", valid), Some("severity_by_env"));
        assert_eq!(closest("requird", valid), Some("required"));
        assert_eq!(closest("banana", valid), None);
        assert_eq!(
            closest("crit", ["critical", "warning", "info"]),
            Some("critical")
        );
    }

    #[test]
    fn lint_codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for (code, what) in LINT_CODES {
            assert!(seen.insert(*code), "duplicate lint code {code}");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{code}"
            );
            assert!(!what.is_empty());
        }
    }
}
