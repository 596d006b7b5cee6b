//! Values as real repositories write them: Helm-rendered manifests with
//! nulls and no namespaces, values the kubelet computes from resources, CA
//! bundles the cluster generates, and values the API server would refuse.

use crate::support::*;

fn audit(envs: &[(&str, &str)], extra: &[&str]) -> (Run, serde_json::Value) {
    let mut cmd = confdrift();
    cmd.arg("audit");
    for (name, path) in envs {
        cmd.arg("--env").arg(format!("{name}={}", data(path)));
    }
    let r = run(cmd.args(["--format", "json"]).args(extra));
    let v =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    (r, v)
}

fn findings(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    v["findings"].as_array().unwrap().iter().collect()
}

#[test]
fn a_helm_rendered_manifest_with_nulls_and_no_namespaces_audits_without_false_findings() {
    // `env: null`, `requests: null`, `value: ~`, `initContainers: null`,
    // empty `# Source:` documents, no metadata.namespace anywhere, mounts
    // of the CA bundles the cluster generates (never in a rendered file).
    let (r, v) = audit(
        &[
            ("staging", "rendered/staging.yaml"),
            ("prod", "rendered/staging.yaml"),
        ],
        &["--fail-on", "info"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(findings(&v).is_empty(), "{}", r.stdout);
    for env in v["environments"].as_array().unwrap() {
        assert_eq!(env["complete"], true, "{env}");
        assert_eq!(env["coverage"]["workloads"], 2, "{env}");
        // Both resourceFieldRefs resolved from the container's limits.
        assert_eq!(env["coverage"]["unresolved"], 0, "{env}");
        assert!(env["problems"].as_array().unwrap().is_empty(), "{env}");
    }
}

#[test]
fn a_memory_limit_read_through_resource_field_ref_drifts_visibly() {
    // MEMORY_LIMIT_MB = limits.memory / 1Mi: 128 in staging, 256 in prod.
    let (r, v) = audit(
        &[
            ("staging", "rendered/staging.yaml"),
            ("prod", "rendered/prod.yaml"),
        ],
        &["--fail-on", "info"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let f = findings(&v);
    let mem: Vec<_> = f.iter().filter(|f| f["key"] == "MEMORY_LIMIT_MB").collect();
    assert_eq!(mem.len(), 1, "{}", r.stdout);
    assert_eq!(mem[0]["values"]["staging"], "128");
    assert_eq!(mem[0]["values"]["prod"], "256");
    assert_eq!(
        mem[0]["sources"]["prod"],
        "resourceFieldRef limits.memory / 1Mi"
    );
    // GOMAXPROCS: limits.cpu 500m rounds up to 1 in both: no finding.
    assert!(!f.iter().any(|f| f["key"] == "GOMAXPROCS"), "{}", r.stdout);
}

#[test]
fn a_snapshot_of_a_rendered_manifest_audits_like_the_manifest() {
    // Snapshots carry the containers' resources, so resourceFieldRefs
    // resolve from a snapshot as from the files.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("prod.json");
    let r = run(confdrift()
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("rendered/prod.yaml")))
        .arg("--output")
        .arg(&snap));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, from_files) = audit(
        &[
            ("staging", "rendered/staging.yaml"),
            ("prod", "rendered/prod.yaml"),
        ],
        &["--fail-on", "never"],
    );
    let mut cmd = confdrift();
    let r = run(cmd
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("rendered/staging.yaml")))
        .arg("--env")
        .arg(format!("prod={}", snap.display()))
        .args(["--format", "json", "--fail-on", "never"]));
    let from_snapshot: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(from_snapshot["findings"], from_files["findings"]);
    assert!(
        findings(&from_files)
            .iter()
            .any(|f| f["key"] == "MEMORY_LIMIT_MB"),
        "the comparison above must cover a resourceFieldRef"
    );
}

#[test]
fn values_kubectl_apply_would_reject_fail_the_gate_with_file_and_line() {
    let (r, v) = audit(
        &[
            ("staging", "rendered/rejected.yaml"),
            ("prod", "rendered/quoted.json"),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "critical fails the default gate: {}", r.stdout);
    let rejected: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["rule"] == "rejected-by-api-server")
        .collect();
    let mut brief: Vec<(&str, &str, &str)> = rejected
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["values"]["staging"].as_str().unwrap(),
            )
        })
        .collect();
    brief.sort();
    assert_eq!(
        brief,
        [
            ("FEATURE_FAST_PATH", "critical", "true"),
            ("PIN", "critical", "<redacted>"),
            ("PORT", "critical", "8080"),
            ("WORKERS", "critical", "5"),
        ],
        "{}",
        r.stdout
    );
    let port = rejected.iter().find(|f| f["key"] == "PORT").unwrap();
    let msg = port["message"].as_str().unwrap();
    assert!(msg.contains("rendered/rejected.yaml:7:"), "{msg}");
    assert!(msg.contains("data.PORT is an integer"), "{msg}");
    let workers = rejected.iter().find(|f| f["key"] == "WORKERS").unwrap();
    let msg = workers["message"].as_str().unwrap();
    assert!(msg.contains("rendered/rejected.yaml:20:"), "{msg}");
    assert!(
        msg.contains("spec.template.spec.containers[0].env[0].value"),
        "{msg}"
    );
    // A Secret's value is reported, never shown.
    assert!(!r.stdout.contains("471142"), "{}", r.stdout);
    // Compared as written: "8080" and 8080 are the same value.
    assert!(
        !findings(&v)
            .iter()
            .any(|f| f["key"] == "PORT" && f["rule"] != "rejected-by-api-server"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_json_number_where_a_string_belongs_is_a_finding_not_an_error() {
    let (r, v) = audit(
        &[
            ("staging", "rendered/quoted.json"),
            ("prod", "rendered/rejected.json"),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let f: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["rule"] == "rejected-by-api-server")
        .collect();
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["environment"], "prod");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("rendered/rejected.json:3:"), "{msg}");
}

#[test]
fn a_dangling_reference_names_the_namespace_it_looked_in() {
    let dir = tempfile::tempdir().unwrap();
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    \
                spec:\n      containers:\n      - name: app\n        envFrom: [{configMapRef: {name: gone}}]\n";
    let bare = dir.path().join("bare.yaml");
    std::fs::write(&bare, text).unwrap();
    let in_ns = dir.path().join("shop.yaml");
    std::fs::write(
        &in_ns,
        text.replace("{name: web}", "{name: web, namespace: shop}"),
    )
    .unwrap();
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", bare.display()))
        .arg("--env")
        .arg(format!("b={}", in_ns.display()))
        .args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let messages: Vec<&str> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "dangling-reference")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{}", r.stdout);
    assert!(
        messages[0].contains("which does not exist among the objects that name no namespace"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("which does not exist in namespace shop"),
        "{}",
        messages[1]
    );
}

#[test]
fn sarif_points_a_rejected_value_at_its_file_and_line() {
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("rendered/rejected.yaml")))
        .arg("--env")
        .arg(format!("prod={}", data("rendered/quoted.json")))
        .args(["--format", "sarif"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let port = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|res| {
            res["ruleId"] == "rejected-by-api-server"
                && res["message"]["text"].as_str().unwrap().contains("PORT")
        })
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let physical = &port["locations"][0]["physicalLocation"];
    assert!(
        physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("testdata/rendered/rejected.yaml"),
        "{physical}"
    );
    assert_eq!(physical["region"]["startLine"], 7, "{physical}");
}
