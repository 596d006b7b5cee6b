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

/// The shipped CronJob must run a command line confdrift accepts, with a
/// config and a policy it can load.
#[test]
fn the_nightly_cronjob_runs_a_valid_command_with_a_valid_config_and_policy() {
    use clap::Parser;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/cronjob.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut config = None;
    let mut policy = None;
    let mut args = None;
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
        match v["kind"].as_str() {
            Some("ConfigMap") => {
                config = v["data"]["confdrift.yaml"].as_str().map(str::to_string);
                policy = v["data"]["default.yaml"].as_str().map(str::to_string);
            }
            Some("CronJob") => {
                let c = &v["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
                args = Some(
                    c["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect::<Vec<_>>(),
                );
                // Read-only: the job never needs write access.
                assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
            }
            _ => {}
        }
    }
    let args = args.expect("a CronJob");
    let mut argv = vec!["confdrift".to_string()];
    argv.extend(args);
    confdrift::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    std::fs::write(&cfg, config.expect("confdrift.yaml in the ConfigMap")).unwrap();
    let settings = confdrift::config::Settings::load(&cfg).unwrap();
    assert_eq!(settings.env_names(), vec!["staging", "prod"]);
    let pol = dir.path().join("default.yaml");
    std::fs::write(&pol, policy.expect("a policy in the ConfigMap")).unwrap();
    let out = assert_cmd::Command::cargo_bin("confdrift")
        .unwrap()
        .args(["policy", "lint"])
        .arg(&pol)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
