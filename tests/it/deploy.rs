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

/// `kubectl kustomize` of the fleet's example overlays: the real renderer,
/// as `kubectl apply -k` would run it.
fn kustomize(dir: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("kubectl is needed for this test (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}

fn container(objects: &[serde_json::Value], cronjob: &str) -> serde_json::Value {
    let job = objects
        .iter()
        .find(|o| o["kind"] == "CronJob" && o["metadata"]["name"] == cronjob)
        .unwrap_or_else(|| panic!("no CronJob {cronjob}"));
    job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].clone()
}

/// Kubernetes' `$(VAR)` expansion of container args from the container's
/// `env` entries whose value comes from a ConfigMap among `objects`.
fn expanded_args(objects: &[serde_json::Value], c: &serde_json::Value) -> Vec<String> {
    let mut vars = std::collections::BTreeMap::new();
    for e in c["env"].as_array().unwrap() {
        let r = &e["valueFrom"]["configMapKeyRef"];
        if r.is_null() {
            continue;
        }
        let cm = objects
            .iter()
            .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == r["name"])
            .unwrap_or_else(|| panic!("no ConfigMap {}", r["name"]));
        vars.insert(
            e["name"].as_str().unwrap().to_string(),
            cm["data"][r["key"].as_str().unwrap()]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.as_str().unwrap().to_string();
            for (k, v) in &vars {
                a = a.replace(&format!("$({k})"), v);
            }
            assert!(!a.contains("$("), "unexpanded {a}");
            a
        })
        .collect()
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn the_fleet_cluster_overlay_snapshots_to_its_bucket_prefix_read_only() {
    use clap::Parser;
    let objects = kustomize("deploy/fleet/overlays/example/cluster");
    let c = container(&objects, "confdrift-snapshot");
    assert_eq!(c["image"], "registry.example.com/confdrift:0.1.0");
    let job = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(job["spec"]["schedule"], "30 1 * * *");
    let args = expanded_args(&objects, &c);
    assert_eq!(
        args,
        [
            "snapshot",
            "--env=prod-eu=kube:in-cluster/shop",
            "--output=s3://acme-confdrift/confdrift/prod-eu/"
        ]
    );
    let mut argv = vec!["confdrift".to_string()];
    argv.extend(args);
    confdrift::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    // Read-only RBAC that covers every list the snapshot sends.
    let mut rules = Vec::new();
    for o in &objects {
        if o["kind"] == "ClusterRole" || o["kind"] == "Role" {
            rules.extend(o["rules"].as_array().cloned().unwrap_or_default());
        }
    }
    let g = granted(&rules);
    assert!(g.iter().all(|(_, _, v)| v == "get" || v == "list"), "{g:?}");
    for (group, resource) in confdrift::collect::kube::listed_resources() {
        assert!(
            g.contains(&(group.to_string(), resource.to_string(), "list".to_string())),
            "deploy/fleet/cluster/rbac.yaml does not grant list on {group}/{resource}"
        );
    }
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn the_fleet_central_overlay_reports_from_the_bucket_back_to_it() {
    use clap::Parser;
    let objects = kustomize("deploy/fleet/overlays/example/central");
    let c = container(&objects, "confdrift-report");
    assert_eq!(c["image"], "registry.example.com/confdrift:0.1.0");
    let args = expanded_args(&objects, &c);
    for want in [
        "--history=s3://acme-confdrift/confdrift/report/history/",
        "--report=html=s3://acme-confdrift/confdrift/report/latest.html",
        "--report=prometheus=s3://acme-confdrift/confdrift/report/confdrift.prom",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    let mut argv = vec!["confdrift".to_string()];
    argv.extend(args);
    confdrift::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    // Its config names the environments by their bucket prefixes.
    let cm = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap")
        .expect("the central ConfigMap");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    std::fs::write(&cfg, cm["data"]["confdrift.yaml"].as_str().unwrap()).unwrap();
    let settings = confdrift::config::Settings::load(&cfg).unwrap();
    assert_eq!(settings.env_names(), ["prod-us", "prod-eu"]);
    assert!(
        settings
            .envs
            .iter()
            .all(|(_, s)| matches!(s, confdrift::collect::Source::Object(_)))
    );
    // It reads no cluster.
    let job = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(
        job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["automountServiceAccountToken"],
        false
    );
}
