//! The stable codes of what confdrift reports: [`FindingCode`] for a
//! finding, [`ProblemCode`] for a problem of an environment. Each has a
//! one-line description; the README's tables are these lists (a test keeps
//! them in step), and the wire formats carry [`FindingCode::as_str`] /
//! [`ProblemCode::as_str`].
//!
//! A leaf: names and descriptions only, no logic of when a code applies.

use std::fmt;

/// Declares a code enum: its variants, each with its kebab-case code and
/// its description, in the order the README lists them.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal : $what:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(#[doc = $what] $variant,)*
        }

        impl $name {
            /// Every code, in the order the README lists them.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The kebab-case code, as the reports write it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// What the code means, in one line.
            pub const fn description(self) -> &'static str {
                match self {
                    $($name::$variant => $what,)*
                }
            }

            /// The code written `code`, if it is one.
            pub fn parse(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|c| c.as_str() == code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.as_str().to_string()
            }
        }
    };
}

codes! {
    /// What a finding is about (`Finding::code`).
    FindingCode {
        ChangedByDeploy = "changed-by-deploy": "a key a rule watches with `changes: true` changes in the environment the candidate is deployed to",
        ValueDiffers = "value-differs": "a key has different values in different environments",
        KeyMissing = "key-missing": "a key is set in some environments and not in others",
        ValueUnresolved = "value-unresolved": "a value could not be resolved in some environment, so it cannot be compared or checked",
        WorkloadMissing = "workload-missing": "a workload exists in some environments only",
        ContainerMissing = "container-missing": "a container exists in some environments only",
        ConfigMapMissing = "configmap-missing": "a ConfigMap exists in some environments only",
        DanglingReference = "dangling-reference": "a non-optional reference to a ConfigMap, Secret or key that does not exist: the pod cannot start",
        RejectedByApiServer = "rejected-by-api-server": "a value the API server refuses (a number or boolean where Kubernetes takes a string): `kubectl apply` fails",
        PodSkew = "pod-skew": "pods of one workload in one environment run with different values",
        StalePod = "stale-pod": "pods started before the ConfigMap or Secret they read changed: they run with old values until restarted",
        NotEqual = "not-equal": "a key that a rule says must be equal differs between the environments the rule compares",
        RequiredMissing = "required-missing": "a key that a rule requires is not set in an environment",
        ForbiddenValue = "forbidden-value": "a value that a rule forbids",
        NotOneOf = "not-one-of": "a value that is not one of the values a rule allows",
        PatternMismatch = "pattern-mismatch": "a value that does not match a rule's pattern",
        OutOfRange = "out-of-range": "a value outside a rule's range",
        OutOfTolerance = "out-of-tolerance": "a value further from the baseline environment's value than a rule's tolerance allows",
        RelationViolated = "relation-violated": "two environments' values are not in the order a rule requires (e.g. prod >= staging)",
        ValueUnreadable = "value-unreadable": "a value cannot be read as the rule's type or unit, so the rule's checks cannot be made (never a silent pass)",
        SecretUnchecked = "secret-unchecked": "a rule's check needs to read a value that comes from a Secret, of which confdrift keeps only a fingerprint",
        StaleRule = "stale-rule": "a rule selects nothing in any environment: a renamed or removed key may have disabled it",
        CheckSkipped = "check-skipped": "a rule's check names an environment that is not part of this run, so it was not made",
        WaiverExpired = "waiver-expired": "a waiver's expiry date has passed: it no longer applies",
        WaiverUnused = "waiver-unused": "a waiver matches no finding",
    }
}

codes! {
    /// What is wrong with reading one environment (`Problem::code`).
    ProblemCode {
        // Files
        NoWorkloads = "no-workloads": "a source or file holds no Pods or workloads: is it the right source?",
        FinishedPods = "finished-pods": "pods that have finished (Succeeded, Failed) were left out",
        NamespaceMismatch = "namespace-mismatch": "objects name a namespace other than the source's: compared where they say, but `kubectl apply -n` would refuse them",
        IgnoredFiles = "ignored-files": "files of a directory that are not manifests (Helm values, Chart.yaml, other configuration) were not read",
        SeveralKustomizations = "several-kustomizations": "several kustomizations were rendered into one environment: give the one overlay it deploys",
        DuplicateObject = "duplicate-object": "the same object appears more than once with different content; the first one read is used",
        FingerprintKeyMismatch = "fingerprint-key-mismatch": "a snapshot's Secret fingerprints were made with another key, so its Secrets cannot be compared",
        CandidateNamespace = "candidate-namespace": "the candidate's objects name no namespace: they take the target's, or are compared as they are when it uses several",
        // Live clusters
        ClusterUnreachable = "cluster-unreachable": "the cluster's API server cannot be reached",
        Timeout = "timeout": "the cluster did not answer within the environment's timeout; nothing of it is compared",
        Unauthorized = "unauthorized": "the API server rejected the credentials (an expired token?)",
        Forbidden = "forbidden": "RBAC forbids listing a kind confdrift reads; its values are unresolved",
        NotFound = "not-found": "the API server answered a list request with HTTP 404",
        NamespaceMissing = "namespace-missing": "a namespace the environment names does not exist",
        Throttled = "throttled": "the API server kept refusing requests as too many (HTTP 429)",
        ServerError = "server-error": "the API server failed (HTTP 5xx)",
        ApiError = "api-error": "the API server refused a request for another reason",
        BadRequest = "bad-request": "a list request could not be made",
        BadResponse = "bad-response": "the API server sent a list confdrift cannot read",
        DiscoveryFailed = "discovery-failed": "the API server's list of kinds could not be read, so custom workload kinds were not looked for",
        RuntimeEnvForbidden = "runtime-env-forbidden": "RBAC forbids `create` on `pods/exec`, so the containers' process environments were not read",
        RuntimeEnvUnreadable = "runtime-env-unreadable": "a container's process environment could not be read",
        // Object storage
        SnapshotStale = "snapshot-stale": "a snapshot from object storage is older than its maximum age, or of unknown age",
        SnapshotCorrupt = "snapshot-corrupt": "a snapshot is truncated, or not gzip or JSON",
        SnapshotNoLatest = "snapshot-no-latest": "a prefix holds no snapshot yet (nothing pushed)",
        ObjectNoBucket = "object-no-bucket": "the bucket does not exist",
        ObjectAccessDenied = "object-access-denied": "the credentials may not read the object",
        ObjectNotFound = "object-not-found": "the object does not exist",
        ObjectEndpointDown = "object-endpoint-down": "the object store cannot be reached",
        ObjectTimeout = "object-timeout": "the object store did not answer in time",
        ObjectConflict = "object-conflict": "another writer changed the object at the same time",
        ObjectTooLarge = "object-too-large": "the object is larger than confdrift reads",
        ObjectStoreError = "object-store-error": "the object store failed for another reason",
        // Normalizing and lining up
        TemplateNotFound = "template-not-found": "a workload takes its pod template from another workload that does not exist",
        NamesLinedUp = "names-lined-up": "workloads or ConfigMaps with different names were lined up across environments",
        NamesAmbiguous = "names-ambiguous": "names could be lined up in more than one way, so they were not",
        EnvironmentsDoNotLineUp = "environments-do-not-line-up": "most names of an environment match none of the baseline's: a prefix or suffix to rename?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kebab(code: &str) -> bool {
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    }

    #[test]
    fn codes_are_unique_kebab_case_and_described() {
        let mut seen = std::collections::BTreeSet::new();
        let all = FindingCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.description()))
            .chain(
                ProblemCode::ALL
                    .iter()
                    .map(|c| (c.as_str(), c.description())),
            );
        for (code, what) in all {
            assert!(seen.insert(code), "{code} is given twice");
            assert!(kebab(code), "{code} is not kebab-case");
            assert!(!what.is_empty(), "{code} has no description");
            assert_eq!(
                FindingCode::parse(code)
                    .map(FindingCode::as_str)
                    .or(ProblemCode::parse(code).map(ProblemCode::as_str)),
                Some(code)
            );
        }
    }

    /// The rows `| `code` | description |` of the README table that follows
    /// the line `marker`.
    fn readme_table(readme: &str, marker: &str) -> Vec<(String, String)> {
        let start = readme
            .find(marker)
            .unwrap_or_else(|| panic!("README has no {marker:?}"));
        readme[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|row| {
                let cells: Vec<&str> = row.trim_matches('|').splitn(2, '|').collect();
                (
                    cells[0].trim().trim_matches('`').to_string(),
                    cells.get(1).unwrap_or(&"").trim().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn the_readme_lists_every_code_with_its_description_in_order() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let findings: Vec<(String, String)> = FindingCode::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.description().to_string()))
            .collect();
        assert_eq!(
            readme_table(&readme, "Every finding has a stable `code`"),
            findings,
            "README's table of finding codes and FindingCode differ"
        );
        let problems: Vec<(String, String)> = ProblemCode::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.description().to_string()))
            .collect();
        assert_eq!(
            readme_table(&readme, "Every problem has a stable `code`"),
            problems,
            "README's table of problem codes and ProblemCode differ"
        );
    }
}
