//! The plain data types that flow between the pipeline stages.
//!
//! collect → [`Collected`] → normalize → [`Inventory`] → compare →
//! [`Comparison`] → evaluate → [`Finding`]s → report. Nothing in here knows
//! about clap, kube or an output format, and no type here can hold a plain
//! Secret value: Secrets arrive as [`Fingerprint`]s.

mod comparison;
mod entries;
mod finding;
pub(crate) mod identity;
mod inventory;
mod name;
mod objects;
pub mod spec_table;

pub use comparison::*;
pub use entries::{Entries, grow_by_a_quarter, shrink_exact};
pub use finding::*;
pub use inventory::*;
pub use name::Name;
pub use objects::*;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn pairs_look_up_by_key_and_keep_the_last_value_of_a_key_given_twice() {
        let p: Pairs = [("b", "2"), ("a", "1"), ("b", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(p.get("a").unwrap(), "1");
        assert_eq!(p.get("b").unwrap(), "3");
        assert_eq!(p.get("c"), None);
        assert_eq!(
            p.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn pairs_are_written_and_read_as_a_map_like_the_btreemap_before_them() {
        let p: Pairs = [("app".to_string(), "web".to_string())]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"app":"web"}"#);
        assert_eq!(serde_json::from_str::<Pairs>(&json).unwrap(), p);
    }

    fn inventory(env: &str, subjects: &[(u8, u8, u8)]) -> Inventory {
        let mut inv = Inventory {
            env: env.to_string(),
            ..Inventory::default()
        };
        for &(w, k, v) in subjects {
            inv.entries.insert(
                Subject {
                    scope: Scope::Container {
                        workload: format!("w{w}").into(),
                        container: "c".into(),
                    },
                    kind: ConfigKind::Env,
                    key: format!("K{k}").into(),
                },
                Entry {
                    value: Value::Text(format!("{env}-{v}").into()),
                    provenance: Provenance::Literal,
                    namespace: "ns".into(),
                },
            );
        }
        inv
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The merge gives what looking every subject up in every
        /// environment gives: the union in order, each subject once.
        #[test]
        fn aligned_is_the_sorted_union_with_each_environments_entry(
            envs in proptest::collection::vec(
                proptest::collection::vec((0u8..6, 0u8..6, 0u8..3), 0..20),
                0..4,
            )
        ) {
            let invs: Vec<Inventory> = envs
                .iter()
                .enumerate()
                .map(|(i, s)| inventory(&format!("e{i}"), s))
                .collect();
            let union: BTreeSet<&Subject> = invs.iter().flat_map(|i| i.entries.keys()).collect();
            let rows: Vec<_> = aligned(&invs).collect();
            proptest::prop_assert_eq!(
                rows.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                union.into_iter().collect::<Vec<_>>()
            );
            for (s, row) in rows {
                let looked_up: Vec<Option<&Entry>> = invs.iter().map(|i| i.entries.get(s)).collect();
                proptest::prop_assert_eq!(row, looked_up);
            }
        }
    }

    #[test]
    fn the_identity_labels_are_among_the_labels_kept() {
        for label in ["app.kubernetes.io/name", "app", "pod-template-hash"] {
            assert!(READ_LABELS.contains(&label), "{label}");
        }
    }
}
