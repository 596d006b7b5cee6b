//! Environments whose names do not line up by themselves: kustomize
//! overlays with `namePrefix`, `--rename` on the command line, and
//! environments that hold different applications altogether.

use crate::support::*;

fn audit_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let r = run(confdrift()
        .arg("audit")
        .args(args)
        .args(["--format", "json"]));
    let v =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    (r.code, v, r.stderr)
}

fn overlays() -> Vec<String> {
    vec![
        "--env".into(),
        format!("staging={}", data("lineup/rendered/staging.yaml")),
        "--env".into(),
        format!("prod={}", data("lineup/rendered/prod.yaml")),
    ]
}

/// (code, workload, key) of every finding.
fn findings(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_string(),
                f["workload"]
                    .as_str()
                    .or(f["configmap"].as_str())
                    .unwrap_or("")
                    .to_string(),
                f["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn name_prefix_overlays_are_compared_without_any_config_and_fail_the_gate() {
    let mut args = overlays();
    args.extend(["--fail-on".into(), "warning".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, v, stderr) = audit_json(&args);
    // The seeded drift is found under the names both overlays share.
    let found = findings(&v);
    assert!(
        found
            .iter()
            .any(|(_, w, k)| w == "checkout" && k == "DB_POOL_SIZE"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, w, k)| w == "checkout" && k == "TIMEOUT_MS"),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(c, _, _)| c == "workload-missing"),
        "{found:?}"
    );
    assert_eq!(code, 1, "the gate fails on the drift: {stderr}");
    // Each environment says how its names were lined up, and keeps the
    // original names.
    for (i, env) in ["staging", "prod"].iter().enumerate() {
        let e = &v["environments"][i];
        assert_eq!(e["complete"], true, "{e}");
        let problems = e["problems"].as_array().unwrap();
        assert!(
            problems.iter().any(|p| p["code"] == "names-lined-up"
                && p["message"] == format!("names lined up by removing prefix `{env}-`")),
            "{e}"
        );
        assert_eq!(e["renamed"]["checkout"], format!("{env}-checkout"));
    }
}

#[test]
fn the_table_says_how_names_were_lined_up() {
    let mut args = overlays();
    args.extend(["--fail-on".into(), "never".into()]);
    let r = run(confdrift().arg("audit").args(&args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("names lined up by removing prefix `staging-`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("staging-checkout as checkout"),
        "{}",
        r.stdout
    );
}

#[test]
fn without_line_up_the_overlays_do_not_line_up_and_the_gate_does_not_pass() {
    let mut args = overlays();
    args.extend(["--no-line-up".into(), "--fail-on".into(), "warning".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, v, _) = audit_json(&args);
    assert_eq!(code, 3, "{v}");
    let staging = &v["environments"][0];
    assert_eq!(staging["complete"], false);
    let problem = staging["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "environments-do-not-line-up")
        .unwrap_or_else(|| panic!("{staging}"));
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains("staging-cart, staging-checkout"),
        "{message}"
    );
    assert!(message.contains("prod-cart, prod-checkout"), "{message}");
    assert!(message.contains("--rename staging:"), "{message}");
    // --allow-partial lets the run pass, as for any incomplete environment.
    let mut args = overlays();
    args.extend(["--no-line-up".into(), "--allow-partial".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, _) = audit_json(&args);
    assert_eq!(code, 0);
}

#[test]
fn rename_on_the_command_line_lines_up_like_the_config() {
    let mut args = overlays();
    args.extend([
        "--no-line-up".into(),
        "--rename".into(),
        "staging:^staging-(.*)$=$1".into(),
        "--rename".into(),
        "prod:^prod-(.*)$=$1".into(),
        "--fail-on".into(),
        "never".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, from_cli, stderr) = audit_json(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        findings(&from_cli)
            .iter()
            .any(|(_, w, k)| w == "checkout" && k == "DB_POOL_SIZE"),
        "{from_cli}"
    );
    assert_eq!(
        from_cli["environments"][0]["renamed"]["checkout"],
        "staging-checkout"
    );

    // The same rules in confdrift.yaml give the same findings.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    std::fs::write(
        &cfg,
        format!(
            "environments:\n  staging:\n    files: [{}]\n    rename: [{{match: \"^staging-(.*)$\", replace: \"$1\"}}]\n  prod:\n    files: [{}]\n    rename: [{{match: \"^prod-(.*)$\", replace: \"$1\"}}]\n",
            data("lineup/rendered/staging.yaml"),
            data("lineup/rendered/prod.yaml")
        ),
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let (_, from_config, _) = audit_json(&["--config", &cfg, "--no-line-up", "--fail-on", "never"]);
    assert_eq!(from_cli["findings"], from_config["findings"]);
}

#[test]
fn rename_errors_name_the_flag_and_what_to_write() {
    for (arg, text) in [
        ("staging-no-colon", "expected ENV:REGEX=REPLACEMENT"),
        ("staging:(unclosed=$1", "invalid regex"),
        (
            "qa:^x$=y",
            "there is no environment qa (environments: staging, prod)",
        ),
    ] {
        let mut args = overlays();
        args.extend(["--rename".into(), arg.into()]);
        let r = run(confdrift().arg("audit").args(&args));
        assert_eq!(r.code, 2, "{arg}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(text), "{arg}: {}", r.stderr);
    }
}

/// An implicit confdrift.yaml (found in the working directory) is read
/// exactly like `--config confdrift.yaml`: `--env` replaces its
/// environments and nothing else, so its `rename` rules still apply.
#[test]
fn an_implicit_config_is_read_like_an_explicit_one_and_env_replaces_only_environments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("confdrift.yaml"),
        "environments:\n  staging:\n    files: [nowhere.yaml]\n    rename: [{match: \"^staging-(.*)$\", replace: \"$1\"}]\n  prod:\n    files: [nowhere.yaml]\n    rename: [{match: \"^prod-(.*)$\", replace: \"$1\"}]\n",
    )
    .unwrap();
    let mut outputs = Vec::new();
    for config in [None, Some("confdrift.yaml")] {
        let mut cmd = confdrift();
        cmd.current_dir(dir.path()).arg("audit");
        if let Some(c) = config {
            cmd.args(["--config", c]);
        }
        let r = run(cmd.args(overlays()).args([
            "--no-line-up",
            "--fail-on",
            "never",
            "--format",
            "json",
        ]));
        assert_eq!(r.code, 0, "{config:?}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            v["environments"][1]["renamed"]["checkout"], "prod-checkout",
            "{config:?}: the config's renames apply"
        );
        outputs.push(r.stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
}
