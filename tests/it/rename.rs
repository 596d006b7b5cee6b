//! Environments whose workloads carry an environment suffix line up through
//! `rename` rules in confdrift.yaml, and the report names both.

use crate::support::*;

#[test]
fn renamed_workloads_and_configmaps_line_up_and_the_report_shows_both_names() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("testdata/shapes/list.yaml")).unwrap();
    // Staging names everything with a -stg suffix, and differs in WORKERS.
    let staging = original
        .replace("\"web\"", "\"web-stg\"")
        .replace("\"web-config\"", "\"web-config-stg\"")
        .replace("\"web-secret\"", "\"web-secret-stg\"")
        .replace("WORKERS: \"4\"", "WORKERS: \"8\"");
    std::fs::write(dir.path().join("staging.yaml"), staging).unwrap();
    std::fs::write(dir.path().join("prod.yaml"), original).unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    std::fs::write(
        &cfg,
        "environments:\n  staging:\n    files: [staging.yaml]\n    rename: [{match: \"^(.*)-stg$\", replace: \"$1\"}]\n  prod:\n    files: [prod.yaml]\n",
    )
    .unwrap();
    let r = run(confdrift()
        .args([
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--config",
        ])
        .arg(&cfg));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    // Exactly the real drift: WORKERS, seen through envFrom and in the
    // ConfigMap, one cause: reported once, where the container reads it
    // (the renamed ConfigMap is matched by its real name, web-config-stg).
    let keys: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["workload"].as_str().unwrap_or(""),
                f["key"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![("value-differs", "web", "WORKERS")],
        "{findings:#?}"
    );
    assert_eq!(v["suppressed"]["same_cause"], 1);
    assert_eq!(v["environments"][0]["renamed"]["web"], "web-stg");
    assert_eq!(
        v["environments"][0]["renamed"]["web-config"],
        "web-config-stg"
    );
    // Without the rule, the `-stg` suffix every staging name carries is
    // removed automatically, and the report says so.
    let without_rule = |extra: &[&str]| {
        run(confdrift()
            .arg("audit")
            .arg("--env")
            .arg(format!(
                "staging={}",
                dir.path().join("staging.yaml").display()
            ))
            .arg("--env")
            .arg(format!("prod={}", dir.path().join("prod.yaml").display()))
            .args(["--format", "json", "--fail-on", "never"])
            .args(extra))
    };
    let r = without_rule(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let auto: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(auto["findings"], v["findings"]);
    assert!(
        auto["environments"][0]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"] == "names lined up by removing suffix `-stg`"),
        "{}",
        auto["environments"][0]
    );
    // With that turned off, nothing lines up, and that is not a pass.
    let r = without_rule(&["--no-line-up"]);
    assert_eq!(r.code, 3);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "workload-missing")
    );
}
