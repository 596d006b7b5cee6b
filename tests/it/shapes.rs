//! One small application written in every input shape confdrift reads must
//! audit as one configuration: no drift between the shapes.

use crate::support::*;

#[test]
fn every_input_shape_reads_the_same_configuration() {
    let shapes = [
        ("yaml_list", "shapes/list.yaml"),     // kubectl get -o yaml
        ("json_list", "shapes/list.json"),     // kubectl get -o json
        ("json_stream", "shapes/stream.json"), // concatenated objects
        ("helm", "shapes/helm.yaml"),          // helm template: # Source comments, empty documents
        ("directory", "shapes/dir"),           // one object per file
    ];
    let mut cmd = confdrift();
    cmd.arg("audit");
    for (name, path) in shapes {
        cmd.arg("--env").arg(format!("{name}={}", data(path)));
    }
    let r = run(cmd.args(["--format", "json", "--fail-on", "info"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{}", r.stdout);
    for env in v["environments"].as_array().unwrap() {
        assert_eq!(env["coverage"]["workloads"], 1, "{env}");
        assert_eq!(env["coverage"]["keys"], 7, "{env}");
        assert_eq!(env["coverage"]["skipped_kinds"]["Service"], 1, "{env}");
        // A Service-only file inside a directory is normal, not a warning.
        assert_eq!(env["problems"].as_array().unwrap().len(), 0, "{env}");
    }
}

#[test]
fn a_shape_that_differs_is_seen() {
    // Sanity check that the test above can fail: the canary app differs.
    // It is another application altogether, so the environments do not
    // line up (exit 3); past that, its differences are findings (exit 1).
    let audit = |extra: &[&str]| {
        run(confdrift()
            .arg("audit")
            .arg("--env")
            .arg(format!("a={}", data("shapes/list.yaml")))
            .arg("--env")
            .arg(format!("b={}", data("canary/prod.yaml")))
            .args(["--format", "json", "--fail-on", "info"])
            .args(extra))
    };
    let r = audit(&[]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(r.stdout.contains("environments-do-not-line-up"));
    assert_eq!(audit(&["--allow-partial"]).code, 1);
}
