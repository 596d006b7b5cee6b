//! Sources as they sit in a repository: kustomize directories rendered by
//! the real `kubectl kustomize`, Helm charts (rendered by a stand-in `helm`
//! script: no helm binary here), standard input, a namespace for objects
//! that name none, and files in a directory that hold no Kubernetes object.
//!
//! Tests that render need `kubectl` on PATH (Debian package `kubectl`; CI
//! installs it): without it they fail saying so.

use std::path::{Path, PathBuf};

use crate::support::*;

const SHOP: &str = "testdata/repos/shop";

/// The real kubectl, or a failure that says how to get it.
fn kubectl() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test renders kustomize directories with the real `kubectl kustomize`, and \
                 kubectl is not on PATH: install it (Debian: apt-get install kubectl)"
            )
        })
}

/// `kubectl kustomize DIR > OUT`, run by the test itself.
fn render_to(dir: &str, out: &Path) {
    let o = std::process::Command::new(kubectl())
        .arg("kustomize")
        .arg(root().join(dir))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, o.stdout).unwrap();
}

/// A PATH that holds only `kubectl`, so kubectl (not a kustomize binary
/// that may also be installed) renders, and nothing else is found.
fn path_with_only_kubectl(dir: &Path) -> std::ffi::OsString {
    let bin = dir.join("bin-kubectl");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("kubectl");
    if !link.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(kubectl(), &link).unwrap();
        #[cfg(not(unix))]
        std::fs::copy(kubectl(), &link).unwrap();
    }
    bin.into_os_string()
}

fn audit_json(args: &[&str], path: Option<&std::ffi::OsStr>) -> serde_json::Value {
    let mut cmd = confdrift();
    cmd.args(["audit", "--format", "json", "--fail-on", "never"])
        .args(args);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// A config whose staging and prod environments line up by stripping each
/// overlay's namePrefix, so that real values are compared.
fn config(dir: &Path, name: &str, staging: &str, prod: &str) -> String {
    let cfg = dir.join(name);
    std::fs::write(
        &cfg,
        format!(
            "baseline: prod\nenvironments:\n  staging:\n    files: [{staging}]\n    rename: [{{match: \"^staging-(.*)$\", replace: \"$1\"}}]\n  prod:\n    files: [{prod}]\n    rename: [{{match: \"^prod-(.*)$\", replace: \"$1\"}}]\n",
        ),
    )
    .unwrap();
    cfg.display().to_string()
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn an_overlay_directory_gives_the_same_findings_as_its_rendered_output() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging.yaml");
    let prod = dir.path().join("prod.yaml");
    render_to(&format!("{SHOP}/overlays/staging"), &staging);
    render_to(&format!("{SHOP}/overlays/prod"), &prod);
    let path = path_with_only_kubectl(dir.path());
    let from_dirs = audit_json(
        &[
            "--config",
            &config(
                dir.path(),
                "dirs.yaml",
                &root()
                    .join(SHOP)
                    .join("overlays/staging")
                    .display()
                    .to_string(),
                &root()
                    .join(SHOP)
                    .join("overlays/prod")
                    .display()
                    .to_string(),
            ),
        ],
        Some(&path),
    );
    let from_files = audit_json(
        &[
            "--config",
            &config(
                dir.path(),
                "files.yaml",
                &staging.display().to_string(),
                &prod.display().to_string(),
            ),
        ],
        None,
    );
    assert_eq!(from_dirs["findings"], from_files["findings"]);
    assert_eq!(from_dirs["summary"], from_files["summary"]);
    // The same on the command line, lined up however confdrift lines
    // namePrefix environments up.
    let on_command_line = |staging: &str, prod: &str| {
        audit_json(
            &[
                "--env",
                &format!("staging={staging}"),
                "--env",
                &format!("prod={prod}"),
            ],
            Some(&path),
        )
    };
    let dirs = on_command_line(
        &format!("{SHOP}/overlays/staging"),
        &format!("{SHOP}/overlays/prod"),
    );
    let files = on_command_line(&staging.display().to_string(), &prod.display().to_string());
    assert_eq!(dirs["findings"], files["findings"]);
    // And they are the overlays' real differences, not noise: the
    // configMapGenerator merge, the strategic-merge patch, the JSON 6902
    // patch and the secretGenerator all resolved.
    let keys: std::collections::BTreeSet<&str> = from_dirs["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["environment"].is_null())
        .filter_map(|f| f["key"].as_str())
        .collect();
    for key in [
        "DB_POOL_SIZE",
        "LOG_LEVEL",
        "TIMEOUT_MS",
        "BATCH_SIZE",
        "DB_PASSWORD",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:?}");
    }
    let codes: Vec<&str> = from_dirs["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(!codes.contains(&"dangling-reference"), "{codes:?}");
    // The coverage names the tool and its version.
    let source = from_dirs["environments"][0]["source"].as_str().unwrap();
    assert!(
        source.contains("overlays/staging, rendered by kubectl kustomize (kustomize v"),
        "{source}"
    );
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn the_table_names_the_tool_that_rendered_an_overlay_and_reads_nothing_else_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with_only_kubectl(dir.path());
    let r = run(confdrift()
        .env("PATH", &path)
        .args(["audit", "--fail-on", "never"])
        .arg(format!("--env=staging={SHOP}/overlays/staging"))
        .arg(format!("--env=prod={SHOP}/overlays/prod")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "({SHOP}/overlays/prod, rendered by kubectl kustomize (kustomize v"
        )),
        "{}",
        r.stdout
    );
    // The overlay's JSON patch (a list, no kind) and its strategic-merge
    // patch (a partial Deployment) are kustomize's input, never read as
    // manifests, and not listed as ignored either.
    assert!(!r.stdout.contains("ignored-files"), "{}", r.stdout);
    assert!(!r.stdout.contains("worker-batch.json"), "{}", r.stdout);
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn kustomize_on_path_is_preferred_to_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = dir.path().join("prod.yaml");
    render_to(&format!("{SHOP}/overlays/prod"), &rendered);
    // A stand-in kustomize that prints what kubectl rendered.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let argv = dir.path().join("argv");
    write_script(
        &bin.join("kustomize"),
        &format!(
            "if [ \"$1\" = version ]; then echo v5.9.9-standin; exit 0; fi\nprintf '%s\\n' \"$@\" > '{}'\ncat '{}'\n",
            argv.display(),
            rendered.display()
        ),
    );
    let path = std::env::join_paths([
        bin.clone(),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .unwrap();
    let v = audit_json(
        &[
            "--env",
            &format!("prod={SHOP}/overlays/prod"),
            "--env",
            &format!("file={}", rendered.display()),
        ],
        Some(&path),
    );
    assert_eq!(
        std::fs::read_to_string(&argv).unwrap(),
        format!("build\n{SHOP}/overlays/prod\n")
    );
    assert_eq!(
        v["environments"][0]["source"],
        format!("{SHOP}/overlays/prod, rendered by kustomize build (kustomize v5.9.9-standin)")
    );
    assert_eq!(v["findings"], serde_json::json!([]));
}

#[cfg(unix)]
fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn write_script(_: &Path, _: &str) {
    panic!("stand-in tools are shell scripts");
}

#[test]
fn without_kustomize_or_kubectl_a_kustomization_stops_the_run_with_the_command_to_run() {
    let empty = tempfile::tempdir().unwrap();
    let r = run(confdrift()
        .env("PATH", empty.path())
        .args(["audit"])
        .arg(format!("--env=staging={SHOP}/overlays/staging"))
        .arg(format!("--env=prod={SHOP}/overlays/prod")));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("neither `kustomize` nor `kubectl` is on PATH"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("`kubectl kustomize {SHOP}/overlays/staging > rendered.yaml`, then --env NAME=rendered.yaml")),
        "{}",
        r.stderr
    );
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn a_kustomization_that_fails_to_render_stops_the_run_quoting_the_tool() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("overlay");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(
        broken.join("kustomization.yaml"),
        "resources:\n  - deployment-that-is-not-there.yaml\n",
    )
    .unwrap();
    let path = path_with_only_kubectl(dir.path());
    let r = run(confdrift()
        .env("PATH", &path)
        .args(["audit"])
        .arg(format!("--env=broken={}", broken.display()))
        .arg(format!("--env=prod={SHOP}/overlays/prod")));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("`kubectl kustomize {}` failed", broken.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("deployment-that-is-not-there.yaml"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(environment broken)"), "{}", r.stderr);
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn kustomizations_found_inside_a_directory_are_rendered_each_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with_only_kubectl(dir.path());
    let v = audit_json(
        &[
            "--env",
            &format!("all={SHOP}"),
            "--env",
            &format!("prod={SHOP}/overlays/prod"),
        ],
        Some(&path),
    );
    let env = &v["environments"][0];
    let source = env["source"].as_str().unwrap();
    for unit in ["base", "overlays/prod", "overlays/staging"] {
        assert!(
            source.contains(&format!("{SHOP}/{unit} rendered by kubectl kustomize")),
            "{source}"
        );
    }
    let warning = env["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "several-kustomizations")
        .unwrap_or_else(|| panic!("{env:#}"));
    assert_eq!(warning["severity"], "warning");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .starts_with("3 kustomizations were each rendered into this one environment"),
        "{warning}"
    );
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn a_kustomization_yaml_named_alone_renders_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with_only_kubectl(dir.path());
    let v = audit_json(
        &[
            "--env",
            &format!("a={SHOP}/overlays/prod/kustomization.yaml"),
            "--env",
            &format!("b={SHOP}/overlays/prod"),
        ],
        Some(&path),
    );
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["environments"][0]["coverage"]["workloads"], 2);
}

#[test]
#[ignore = "needs kubectl (Debian package kubectl; CI runs it)"]
fn standard_input_is_a_source_and_gives_the_same_findings_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging.yaml");
    let prod = dir.path().join("prod.yaml");
    render_to(&format!("{SHOP}/overlays/staging"), &staging);
    render_to(&format!("{SHOP}/overlays/prod"), &prod);
    let prod = format!("prod={}", prod.display());
    let as_file = audit_json(
        &[
            "--env",
            &format!("staging={}", staging.display()),
            "--env",
            &prod,
        ],
        None,
    );
    let r = run(confdrift()
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .args(["--env", "staging=-", "--env", &prod])
        .write_stdin(std::fs::read(&staging).unwrap()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let from_stdin: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(from_stdin["findings"], as_file["findings"]);
    assert!(
        !as_file["findings"].as_array().unwrap().is_empty(),
        "the overlays differ"
    );
    assert_eq!(
        from_stdin["environments"][0]["source"],
        "- (standard input)"
    );
    assert_eq!(from_stdin["environments"][0]["coverage"]["workloads"], 2);
}

#[test]
fn standard_input_in_json_is_read_like_a_json_file() {
    let file = "testdata/shapes/list.json";
    let r = run(confdrift()
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .args(["--env", "piped=-", "--env"])
        .arg(format!("file={file}"))
        .write_stdin(std::fs::read(root().join(file)).unwrap()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
    assert!(v["environments"][0]["coverage"]["keys"].as_u64().unwrap() > 0);
    assert_eq!(
        v["environments"][0]["coverage"],
        v["environments"][1]["coverage"]
    );
}

#[test]
fn standard_input_can_be_the_source_of_one_environment_only() {
    let r = run(confdrift()
        .args(["audit", "--env", "a=-", "--env", "b=-"])
        .write_stdin("kind: ConfigMap\n"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("standard input (`-`) is the source of more than one environment (a, b)"),
        "{}",
        r.stderr
    );
}

/// `kustomize build broken | confdrift audit --env x=-` in a shell without
/// pipefail: the failed render must not pass the gate as an empty
/// environment.
#[test]
fn empty_standard_input_stops_the_run() {
    let r = run(confdrift()
        .args(["audit", "--env", "a=-", "--env", "b=testdata/demo/prod"])
        .write_stdin("\n"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("<stdin>: is empty: nothing was piped in (did the command before `|` fail?)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_broken_object_on_standard_input_is_reported_at_its_line() {
    let r = run(confdrift()
        .args(["audit", "--env", "a=-", "--env", "b=testdata/demo/prod"])
        .write_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("<stdin>:6: Deployment web"),
        "{}",
        r.stderr
    );
}

/// Without a namespace, the Deployment (none) and its ConfigMap (`shop`)
/// are in different namespaces: the reference dangles. With
/// `?namespace=shop`, as `kubectl apply -n shop` would, it resolves.
#[test]
fn a_file_environments_namespace_is_given_to_objects_that_name_none() {
    let v = audit_json(
        &[
            "--env",
            "plain=testdata/repos/no-namespace",
            "--env",
            "applied=testdata/repos/no-namespace?namespace=shop",
        ],
        None,
    );
    let dangling: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "dangling-reference")
        .map(|f| f["environment"].as_str().unwrap())
        .collect();
    assert_eq!(dangling, vec!["plain"]);
    let message = |v: &serde_json::Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "dangling-reference")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(
        message(&v).contains(
            "which does not exist among the objects that name no namespace (if they are \
             applied with -n NS, give the source ?namespace=NS)"
        ),
        "{}",
        message(&v)
    );
    assert_eq!(
        v["environments"][1]["source"],
        "testdata/repos/no-namespace?namespace=shop"
    );
    // An object that names its namespace keeps it: with another default,
    // the ConfigMap stays in `shop` and the reference dangles again.
    let v = audit_json(
        &[
            "--env",
            "other=testdata/repos/no-namespace?namespace=other",
            "--env",
            "applied=testdata/repos/no-namespace?namespace=shop",
        ],
        None,
    );
    let dangling: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "dangling-reference")
        .map(|f| f["environment"].as_str().unwrap())
        .collect();
    assert_eq!(dangling, vec!["other"]);
    assert!(
        message(&v).contains("which does not exist in namespace other;"),
        "{}",
        message(&v)
    );
    // And the report says that this object names another namespace.
    let problems = v["environments"][0]["problems"].as_array().unwrap();
    let mismatch = problems
        .iter()
        .find(|p| p["code"] == "namespace-mismatch")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert_eq!(
        mismatch["message"],
        "object(s) name a namespace other than the source's other (shop ×1); they are compared \
         where they say, as `helm install -n other` would put them, but `kubectl apply -n other` \
         refuses them"
    );
    assert_eq!(v["environments"][0]["complete"], true);
}

#[test]
fn the_namespace_of_a_file_environment_can_be_configured() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("confdrift.yaml");
    let data = root().join("testdata/repos/no-namespace");
    std::fs::write(
        &cfg,
        format!(
            "environments:\n  a: {{files: [{d}], namespace: shop}}\n  b: {{files: [{d}]}}\n",
            d = data.display()
        ),
    )
    .unwrap();
    let v = audit_json(&["--config", &cfg.display().to_string()], None);
    let dangling: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "dangling-reference")
        .map(|f| f["environment"].as_str().unwrap())
        .collect();
    assert_eq!(dangling, vec!["b"]);
    // On a live source it is a mistake, said as such.
    std::fs::write(
        &cfg,
        "environments:\n  a: {context: prod, namespace: shop}\n  b: {files: [x.yaml]}\n",
    )
    .unwrap();
    let r = run(confdrift().args(["audit", "--config"]).arg(&cfg));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("namespace, values and release apply to files"),
        "{}",
        r.stderr
    );
}

#[test]
fn source_options_are_checked() {
    for (source, says) in [
        (
            "x.yaml?namespace=Shop",
            "namespace Shop: must be a DNS label",
        ),
        ("x.yaml?colour=blue", "source option colour: unknown"),
        (
            "x.yaml?namespace",
            "source option namespace: expected KEY=VALUE",
        ),
        ("?namespace=shop", "no path before `?`"),
    ] {
        let r = run(confdrift()
            .args(["audit", "--env", "b=y.yaml", "--env"])
            .arg(format!("a={source}")));
        assert_eq!(r.code, 2, "{source}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{source}: {}", r.stderr);
    }
}

/// Helm values files, a Chart.yaml, renovate.json next to rendered files:
/// listed as ignored with the reason, never an error.
#[test]
fn files_without_a_kubernetes_object_in_a_directory_are_listed_as_ignored() {
    let v = audit_json(
        &[
            "--env",
            "dir=testdata/repos/mixed",
            "--env",
            "file=testdata/repos/mixed/rendered.yaml",
        ],
        None,
    );
    assert_eq!(v["findings"], serde_json::json!([]));
    let messages: Vec<&str> = v["environments"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "ignored-files")
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        vec![
            "1 file(s) without a .yaml, .yml or .json extension were not read: testdata/repos/mixed/README.md",
            "3 file(s) hold no Kubernetes object (no document has a `kind`: Helm values, \
             Chart.yaml, kustomization or other configuration) and were not read: \
             testdata/repos/mixed/chart-metadata.yaml, testdata/repos/mixed/renovate.json, \
             testdata/repos/mixed/values-prod.yaml",
        ]
    );
    assert_eq!(v["environments"][0]["complete"], true);
}

#[test]
fn a_broken_object_in_a_directory_still_stops_the_run_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("testdata/repos/mixed/values-prod.yaml"),
        dir.path().join("values.yaml"),
    )
    .unwrap();
    // Claims a kind, has no spec.
    std::fs::write(
        dir.path().join("web.yaml"),
        "# web\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    )
    .unwrap();
    let r = run(confdrift()
        .args([
            "audit",
            "--env",
            "b=testdata/repos/mixed/rendered.yaml",
            "--env",
        ])
        .arg(format!("a={}", dir.path().display())));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}:2: Deployment web",
            dir.path().join("web.yaml").display()
        )),
        "{}",
        r.stderr
    );
    // A file named on its own that holds no object is still an error: it
    // was asked for.
    let r = run(confdrift().args([
        "audit",
        "--env",
        "a=testdata/repos/mixed/values-prod.yaml",
        "--env",
        "b=testdata/repos/mixed/rendered.yaml",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("document has no `kind`"), "{}", r.stderr);
}

const CHART: &str = "testdata/repos/shop-chart";

#[test]
fn without_helm_a_chart_stops_the_run_with_the_helm_template_command_to_run() {
    let empty = tempfile::tempdir().unwrap();
    let r = run(confdrift()
        .env("PATH", empty.path())
        .args([
            "audit",
            "--env",
            "b=testdata/repos/mixed/rendered.yaml",
            "--env",
        ])
        .arg(format!(
            "prod={CHART}?values=values-prod.yaml,/etc/shop/common.yaml&release=shop&namespace=shop"
        )));
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The absolute values file does not exist: said before helm is looked for.
    assert!(
        r.stderr
            .contains("values file /etc/shop/common.yaml not found"),
        "{}",
        r.stderr
    );
    let r = run(confdrift()
        .env("PATH", empty.path())
        .args([
            "audit",
            "--env",
            "b=testdata/repos/mixed/rendered.yaml",
            "--env",
        ])
        .arg(format!(
            "prod={CHART}?values=values-prod.yaml&release=shop&namespace=shop"
        )));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`helm` is not on PATH"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "`helm template shop {CHART} --namespace shop --values {CHART}/values-prod.yaml > rendered.yaml`, then --env NAME=rendered.yaml?namespace=shop"
        )),
        "{}",
        r.stderr
    );
}

/// No helm binary can be installed here: a stand-in script records the
/// arguments confdrift gives `helm template` and prints what helm would.
#[test]
fn a_chart_is_rendered_with_helm_template_and_the_sources_values() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let argv = dir.path().join("argv");
    let manifest = dir.path().join("manifest.yaml");
    // What `helm template shop … --values values-prod.yaml` gives: no
    // metadata.namespace, as charts are written.
    std::fs::write(
        &manifest,
        "---\n# Source: shop/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config\ndata:\n  DB_POOL_SIZE: \"20\"\n  LOG_LEVEL: \"warn\"\n---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop-web\nspec:\n  replicas: 6\n  selector:\n    matchLabels: {app.kubernetes.io/name: web}\n  template:\n    metadata:\n      labels: {app.kubernetes.io/name: web}\n    spec:\n      containers:\n        - name: server\n          image: \"ghcr.io/example/shop-web:1.4.0\"\n          envFrom:\n            - configMapRef:\n                name: shop-config\n",
    )
    .unwrap();
    write_script(
        &bin.join("helm"),
        &format!(
            "if [ \"$1\" = version ]; then echo v3.99.0+standin; exit 0; fi\nprintf '%s\\n' \"$@\" > '{}'\ncat '{}'\n",
            argv.display(),
            manifest.display()
        ),
    );
    let mut path = vec![bin];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();
    let v = audit_json(
        &[
            "--env",
            &format!("chart={CHART}?values=values-prod.yaml&release=shop&namespace=shop"),
            "--env",
            &format!("file={}?namespace=shop", manifest.display()),
        ],
        Some(&path),
    );
    assert_eq!(
        std::fs::read_to_string(&argv)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        vec![
            "template",
            "shop",
            CHART,
            "--namespace",
            "shop",
            "--values",
            &format!("{CHART}/values-prod.yaml"),
        ]
    );
    assert_eq!(
        v["environments"][0]["source"],
        format!(
            "{CHART}?values=values-prod.yaml&release=shop&namespace=shop, rendered by helm template (helm v3.99.0+standin)"
        )
    );
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["environments"][0]["coverage"]["keys"], 4);
    // values= needs a chart.
    let r = run(confdrift().args([
        "audit",
        "--env",
        "a=testdata/repos/mixed?values=values-prod.yaml",
        "--env",
        "b=testdata/repos/mixed/rendered.yaml",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("values= and release= are for a Helm chart (a directory with Chart.yaml), and this source holds none"),
        "{}",
        r.stderr
    );
}
