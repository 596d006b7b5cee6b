//! The codes of every finding the evaluate stage emits, each with what it
//! means: the one list reports describe codes from (and the README lists).

/// The rule id of drift that no policy rule speaks to.
pub const UNMATCHED: &str = "unmatched";

/// Every finding code confdrift emits, with what it means.
pub const CODES: &[(&str, &str)] = &[
    (
        "changed-by-deploy",
        "a key a rule watches with `changes: true` changes in the environment the candidate is deployed to",
    ),
    (
        "value-differs",
        "a key has different values in different environments",
    ),
    (
        "key-missing",
        "a key is set in some environments and not in others",
    ),
    (
        "value-unresolved",
        "a value could not be resolved in some environment, so it cannot be compared or checked",
    ),
    (
        "workload-missing",
        "a workload exists in some environments only",
    ),
    (
        "container-missing",
        "a container exists in some environments only",
    ),
    (
        "configmap-missing",
        "a ConfigMap exists in some environments only",
    ),
    (
        "dangling-reference",
        "a non-optional reference to a ConfigMap, Secret or key that does not exist: the pod cannot start",
    ),
    (
        "rejected-by-api-server",
        "a value the API server refuses (a number or boolean where Kubernetes takes a string): `kubectl apply` fails",
    ),
    (
        "pod-skew",
        "pods of one workload in one environment run with different values",
    ),
    (
        "stale-pod",
        "pods started before the ConfigMap or Secret they read changed: they run with old values until restarted",
    ),
    (
        "not-equal",
        "a key that a rule says must be equal differs between the environments the rule compares",
    ),
    (
        "required-missing",
        "a key that a rule requires is not set in an environment",
    ),
    ("forbidden-value", "a value that a rule forbids"),
    (
        "not-one-of",
        "a value that is not one of the values a rule allows",
    ),
    (
        "pattern-mismatch",
        "a value that does not match a rule's pattern",
    ),
    ("out-of-range", "a value outside a rule's range"),
    (
        "out-of-tolerance",
        "a value further from the baseline environment's value than a rule's tolerance allows",
    ),
    (
        "relation-violated",
        "two environments' values are not in the order a rule requires (e.g. prod >= staging)",
    ),
    (
        "value-unreadable",
        "a value cannot be read as the rule's type or unit, so the rule's checks cannot be made (never a silent pass)",
    ),
    (
        "secret-unchecked",
        "a rule's check needs to read a value that comes from a Secret, of which confdrift keeps only a fingerprint",
    ),
    (
        "stale-rule",
        "a rule selects nothing in any environment: a renamed or removed key may have disabled it",
    ),
    (
        "check-skipped",
        "a rule's check names an environment that is not part of this run, so it was not made",
    ),
    (
        "waiver-expired",
        "a waiver's expiry date has passed: it no longer applies",
    ),
    ("waiver-unused", "a waiver matches no finding"),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn finding_codes_are_unique_kebab_case_and_described() {
        let mut seen = BTreeSet::new();
        for (code, what) in CODES {
            assert!(seen.insert(*code), "duplicate finding code {code}");
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{code} is not kebab-case"
            );
            assert!(!what.is_empty(), "{code} has no description");
        }
        // Lint diagnostics are another namespace, but must not be confused with findings.
        for (code, _) in crate::policy::diagnostic::LINT_CODES {
            assert!(
                !seen.contains(code) || *code == "waiver-expired",
                "{code} is both a lint code and a finding code"
            );
        }
    }
}
