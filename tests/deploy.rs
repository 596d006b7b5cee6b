//! The RBAC shipped in `deploy/` must allow exactly what confdrift does:
//! every list it sends, and no verb that writes.

use std::collections::BTreeSet;

fn rules(file: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
        if matches!(v["kind"].as_str(), Some("Role" | "ClusterRole")) {
            out.extend(v["rules"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

fn granted(rules: &[serde_json::Value]) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for r in rules {
        for g in r["apiGroups"].as_array().unwrap() {
            for res in r["resources"].as_array().unwrap() {
                for v in r["verbs"].as_array().unwrap() {
                    out.insert((
                        g.as_str().unwrap().to_string(),
                        res.as_str().unwrap().to_string(),
                        v.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn shipped_roles_are_read_only_and_cover_every_list_confdrift_sends() {
    for file in ["rbac-clusterrole.yaml", "rbac-role.yaml"] {
        let g = granted(&rules(file));
        for (_, _, verb) in &g {
            assert!(verb == "get" || verb == "list", "{file} grants {verb}");
        }
        for (group, resource) in confdrift::collect::kube::listed_resources() {
            assert!(
                g.contains(&(group.to_string(), resource.to_string(), "list".to_string())),
                "{file} does not grant list on {group}/{resource}"
            );
        }
        assert!(
            g.contains(&("".into(), "namespaces".into(), "get".into())),
            "{file}"
        );
    }
}
