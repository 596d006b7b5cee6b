//! Every workload kind that carries a pod template is compared like a
//! Deployment (Argo Rollouts, OpenKruise, Knative), and Secrets that a
//! controller makes from an object in the same source (ExternalSecret,
//! SealedSecret) are present for references, their values unresolved.
//!
//! `testdata/kinds/staging` is a Helm-rendered candidate; `prod` is what
//! `kubectl get … -o yaml` prints from the running cluster.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::*;

fn audit(staging: &str, prod: &str) -> (Run, serde_json::Value) {
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={staging}"))
        .arg("--env")
        .arg(format!("prod={prod}"))
        .args(["--format", "json", "--fail-on", "never"]));
    assert!(r.code == 0 || r.code == 3, "{}{}", r.stdout, r.stderr);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    (r, v)
}

fn findings(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    v["findings"].as_array().unwrap().iter().collect()
}

/// (workload, container, key) of every finding.
fn subjects(v: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    findings(v)
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("workload"), s("container"), s("key"))
        })
        .collect()
}

fn finding<'a>(v: &'a serde_json::Value, workload: &str, key: &str) -> &'a serde_json::Value {
    findings(v)
        .into_iter()
        .find(|f| f["workload"] == workload && f["key"] == key)
        .unwrap_or_else(|| panic!("no finding for {workload} {key}: {v}"))
}

/// The prod fixture with `from` replaced by `to`, as a file in `dir`.
fn prod_with(dir: &Path, from: &str, to: &str) -> String {
    let text = read(&root().join("testdata/kinds/prod/cluster.yaml"));
    assert!(text.contains(from), "{from}");
    let path = dir.join("prod.yaml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path.display().to_string()
}

/// The items of the prod fixture's List that `keep` selects.
fn prod_items(dir: &Path, keep: impl Fn(&serde_yaml::Value) -> bool) -> String {
    let text = read(&root().join("testdata/kinds/prod/cluster.yaml"));
    let mut list: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let items = list["items"].as_sequence_mut().unwrap();
    items.retain(|i| keep(i));
    let path = dir.join("prod-part.yaml");
    std::fs::write(&path, serde_yaml::to_string(&list).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn a_rollouts_drift_is_compared_and_nothing_knative_or_a_controller_generates_is_drift() {
    let (r, v) = audit(&data("kinds/staging"), &data("kinds/prod"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = finding(&v, "checkout", "RATE_LIMIT_RPS");
    assert_eq!(f["values"]["staging"], "100");
    assert_eq!(f["values"]["prod"], "50");
    assert_eq!(f["container"], "server");
    // Exactly that drift and the Secrets whose values only a controller
    // knows in the candidate: no queue-proxy, no K_REVISION from the
    // Knative pod, no ReplicaSet hash, no scaled-down Deployment.
    let expected: BTreeSet<(String, String, String)> = [
        "RATE_LIMIT_RPS",
        "DB_PASSWORD",
        "STRIPE_API_KEY",
        "/etc/checkout/tls/tls.crt",
        "/etc/checkout/tls/tls.key",
    ]
    .iter()
    .map(|k| ("checkout".into(), "server".into(), k.to_string()))
    .collect();
    assert_eq!(subjects(&v), expected, "{v}");
    for env in v["environments"].as_array().unwrap() {
        // checkout and cart (Rollouts), search (CloneSet), recommendations
        // (Knative Service); nothing of these kinds is skipped.
        assert_eq!(env["coverage"]["workloads"], 4, "{env}");
        assert_eq!(env["complete"], true, "{env}");
        let skipped = env["coverage"]["skipped_kinds"].to_string();
        for kind in ["Rollout", "CloneSet", "ExternalSecret", "SealedSecret"] {
            assert!(!skipped.contains(kind), "{skipped}");
        }
    }
}

#[test]
fn a_rollout_drift_fails_the_gate_when_a_rule_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: confdrift/v1\nkind: Policy\nunmatched: ignore\nrules:\n  - id: rate-limit\n    key: RATE_LIMIT_RPS\n    equal: true\n    severity: critical\n",
    )
    .unwrap();
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("kinds/staging")))
        .arg("--env")
        .arg(format!("prod={}", data("kinds/prod")))
        .arg("--policy")
        .arg(&policy));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("RATE_LIMIT_RPS"), "{}", r.stdout);
}

#[test]
fn external_secrets_count_as_present_regression_false_critical_pod_cannot_start() {
    // A candidate whose Secrets come from External Secrets and Sealed
    // Secrets used to get a CRITICAL "the pod cannot start" per reference.
    let (_, v) = audit(&data("kinds/staging"), &data("kinds/prod"));
    assert!(
        findings(&v)
            .iter()
            .all(|f| f["rule"] != "dangling-reference"),
        "{v}"
    );
    let f = finding(&v, "checkout", "DB_PASSWORD");
    assert_eq!(f["rule"], "unmatched");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("made by ExternalSecret checkout-db at runtime"),
        "{f}"
    );
    // The SealedSecret names its keys: the mounted files are known.
    let f = finding(&v, "checkout", "/etc/checkout/tls/tls.crt");
    assert!(
        f["values"]["staging"]
            .as_str()
            .unwrap()
            .contains("made by SealedSecret checkout-tls"),
        "{f}"
    );
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("kinds/staging")))
        .arg("--env")
        .arg(format!("prod={}", data("kinds/prod"))));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Without the ExternalSecrets the references do dangle.
    let dir = tempfile::tempdir().unwrap();
    let text = read(&root().join("testdata/kinds/staging/rendered.yaml"));
    let without: Vec<&str> = text
        .split("\n---\n")
        .filter(|d| !d.contains("kind: ExternalSecret"))
        .collect();
    let path = dir.path().join("rendered.yaml");
    std::fs::write(&path, without.join("\n---\n")).unwrap();
    let (_, v) = audit(&path.display().to_string(), &data("kinds/prod"));
    let dangling: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["rule"] == "dangling-reference")
        .collect();
    assert_eq!(dangling.len(), 2, "{v}");
}

#[test]
fn a_key_a_producer_does_not_make_is_still_dangling() {
    // The SealedSecret holds tls.crt and tls.key; a reference to ca.crt
    // would keep the pod from starting.
    let dir = tempfile::tempdir().unwrap();
    let text = read(&root().join("testdata/kinds/staging/rendered.yaml")).replace(
        "        volumeMounts:\n        - name: tls",
        "        - name: CA_BUNDLE\n          valueFrom:\n            secretKeyRef:\n              name: checkout-tls\n              key: ca.crt\n        volumeMounts:\n        - name: tls",
    );
    assert!(text.contains("CA_BUNDLE"));
    let path = dir.path().join("rendered.yaml");
    std::fs::write(&path, text).unwrap();
    let (_, v) = audit(&path.display().to_string(), &data("kinds/prod"));
    let dangling: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["rule"] == "dangling-reference")
        .collect();
    assert_eq!(dangling.len(), 1, "{v}");
    assert!(
        dangling[0]["message"]
            .as_str()
            .unwrap()
            .contains("checkout-tls")
    );
}

#[test]
fn a_rollout_with_a_workload_ref_is_compared_with_the_deployments_template() {
    let dir = tempfile::tempdir().unwrap();
    let prod = prod_with(
        dir.path(),
        "name: CART_TTL_SECONDS\n            value: \"3600\"",
        "name: CART_TTL_SECONDS\n            value: \"600\"",
    );
    let (_, v) = audit(&data("kinds/staging"), &prod);
    let f = finding(&v, "cart", "CART_TTL_SECONDS");
    assert_eq!(f["values"]["prod"], "600");
    // One workload `cart`: the scaled-down Deployment is the Rollout's.
    assert_eq!(
        findings(&v)
            .iter()
            .filter(|f| f["key"] == "CART_TTL_SECONDS")
            .count(),
        1
    );

    // The referenced Deployment missing from the source: its
    // configuration is not seen, which is said, and not a pass.
    let prod = prod_items(dir.path(), |i| {
        !(i["kind"] == "Deployment" && i["metadata"]["name"] == "cart")
    });
    let (r, v) = audit(&data("kinds/staging"), &prod);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let problems = v["environments"][1]["problems"].to_string();
    assert!(problems.contains("template-not-found"), "{problems}");
    assert!(problems.contains("Deployment cart"), "{problems}");
}

#[test]
fn a_clonesets_drift_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let prod = prod_with(
        dir.path(),
        "name: SEARCH_RESULTS_PER_PAGE\n            value: \"24\"",
        "name: SEARCH_RESULTS_PER_PAGE\n            value: \"48\"",
    );
    let (_, v) = audit(&data("kinds/staging"), &prod);
    let f = finding(&v, "search", "SEARCH_RESULTS_PER_PAGE");
    assert_eq!(f["container"], "search");
    assert_eq!(f["values"]["staging"], "24");
}

#[test]
fn a_knative_services_unnamed_container_lines_up_with_knatives_name_for_it() {
    // The candidate leaves the container unnamed; the cluster shows the
    // name Knative gave it, `user-container`.
    let dir = tempfile::tempdir().unwrap();
    let prod = prod_with(
        dir.path(),
        "name: MAX_RECOMMENDATIONS\n            value: \"8\"",
        "name: MAX_RECOMMENDATIONS\n            value: \"12\"",
    );
    let (_, v) = audit(&data("kinds/staging"), &prod);
    let f = finding(&v, "recommendations", "MAX_RECOMMENDATIONS");
    assert_eq!(f["container"], "user-container");
    assert!(
        findings(&v)
            .iter()
            .all(|f| f["rule"] != "container-missing"),
        "{v}"
    );
}

#[test]
fn pods_of_a_rollouts_replicaset_belong_to_the_rollout() {
    // Only the pods, as `kubectl get pods -o yaml` shows them: the owner
    // chain Pod → ReplicaSet `checkout-6c7d9b5f8` → Rollout is read from
    // the `rollouts-pod-template-hash` label.
    let dir = tempfile::tempdir().unwrap();
    let prod = prod_items(dir.path(), |i| i["kind"] == "Pod" || i["kind"] == "Secret");
    let (_, v) = audit(&data("kinds/staging"), &prod);
    let f = finding(&v, "checkout", "RATE_LIMIT_RPS");
    assert_eq!(f["values"]["prod"], "50");
    assert!(
        findings(&v)
            .iter()
            .all(|f| !f["workload"].as_str().unwrap_or("").contains("6c7d9b5f8")),
        "{v}"
    );
}

#[test]
fn a_snapshot_keeps_produced_secrets_and_workload_refs() {
    // The snapshot of the candidate audits as the candidate does: the
    // Secrets External Secrets will make and the Rollout's workloadRef
    // survive the round trip.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("staging.json");
    let r = run(confdrift()
        .arg("snapshot")
        .arg("--env")
        .arg(format!("staging={}", data("kinds/staging")))
        .arg("--output")
        .arg(&snap));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (_, from_files) = audit(&data("kinds/staging"), &data("kinds/prod"));
    let (_, from_snapshot) = audit(&snap.display().to_string(), &data("kinds/prod"));
    assert_eq!(from_snapshot["findings"], from_files["findings"]);
    assert_eq!(
        from_snapshot["environments"][0]["coverage"]["keys"],
        from_files["environments"][0]["coverage"]["keys"]
    );
}
