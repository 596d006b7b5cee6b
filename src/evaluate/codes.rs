//! The rule id of drift no rule speaks to. The codes of every finding the
//! evaluate stage emits, each with what it means, are
//! [`crate::codes::FindingCode`]: a leaf, since `policy` writes some too.

/// The rule id of drift that no policy rule speaks to.
pub const UNMATCHED: &str = "unmatched";

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::codes::FindingCode;

    #[test]
    fn lint_codes_and_finding_codes_are_not_confused() {
        let seen: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        // Lint diagnostics are another namespace, but must not be confused with findings.
        for (code, _) in crate::policy::diagnostic::LINT_CODES {
            assert!(
                !seen.contains(code) || *code == "waiver-expired",
                "{code} is both a lint code and a finding code"
            );
        }
    }
}
