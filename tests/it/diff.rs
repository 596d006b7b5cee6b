//! `confdrift diff A B`, the 2 AM view: filters, `--all`, `--exit-code`;
//! and the generated shell completions and man page.

use crate::support::*;

fn diff(args: &[&str]) -> Run {
    run(confdrift()
        .args([
            "diff",
            "staging",
            "prod",
            "--config",
            "testdata/demo/confdrift.yaml",
        ])
        .args(args))
}

#[test]
fn exit_code_flag_exits_1_when_anything_differs_like_git_diff() {
    assert_eq!(diff(&[]).code, 0);
    assert_eq!(diff(&["--exit-code"]).code, 1);
    // The CronJob is identical in staging and prod.
    let r = diff(&["--exit-code", "--workload", "nightly-reconcile"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("confdrift diff staging prod: 0 difference(s)")
    );
}

#[test]
fn workload_and_key_filters_narrow_the_view() {
    let r = diff(&["--key", "DB_*"]);
    assert!(r.stdout.contains("DB_POOL_SIZE"));
    assert!(!r.stdout.contains("TIMEOUT_MS"), "{}", r.stdout);
    let r = diff(&["--workload", "cart"]);
    assert!(r.stdout.contains("CART_CACHE_TTL"));
    assert!(!r.stdout.contains("checkout/server"), "{}", r.stdout);
    let r = diff(&["--key", "["]);
    assert_eq!(r.code, 2, "a bad glob is a usage error");
}

#[test]
fn all_shows_equal_keys_with_their_source_and_never_a_secret() {
    let r = diff(&["--all", "--workload", "payments"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let equal = r
        .stdout
        .split("Equal in both")
        .nth(1)
        .expect("an equal section");
    assert!(
        equal.contains("= DB_PASSWORD  <redacted, same>  (Secret payments-secrets/DB_PASSWORD)"),
        "{equal}"
    );
    assert!(
        !r.stdout.contains("demo-db-password"),
        "secret value leaked"
    );
    // Differing keys stay in the difference part only.
    assert!(!equal.contains("API_KEY"));
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(confdrift().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}");
        assert!(
            r.stdout.contains("audit") && r.stdout.contains("fail-on"),
            "{shell}"
        );
    }
    let r = run(confdrift().arg("man"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH confdrift 1"));
    assert!(r.stdout.contains("audit"));
}

/// Two environments, each one manifest file; `web/app` mounts what `volume`
/// says (nothing when empty) and `configmaps` are the ConfigMaps there.
fn pair_of(a: &str, b: &str) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = Vec::new();
    for (name, text) in [("a", a), ("b", b)] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("written");
        args.push("--env".to_string());
        args.push(format!("{name}={}", path.display()));
    }
    (dir, args)
}

fn web(mount: bool, env: &str) -> String {
    let mount = if mount {
        "        volumeMounts: [{name: conf, mountPath: /etc/app}]\n      volumes: [{name: conf, configMap: {name: app-conf}}]\n"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env: [{env}]\n{mount}"
    )
}

const APP_CONF: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-conf, namespace: shop}\ndata:\n  app.yaml: |\n    server:\n      port: 8080\n    pool: 10\n";

fn diff_pair(a: &str, b: &str, more: &[&str]) -> Run {
    let (_dir, args) = pair_of(a, b);
    run(confdrift()
        .args(["diff", "a", "b", "--policy", "policies/default.yaml"])
        .args(&args)
        .args(more))
}

#[test]
fn exit_code_counts_differences_not_the_same_dangling_reference_in_both() {
    // Regression: two identical environments with the same dangling
    // reference printed "0 difference(s)" and exited 1.
    let r = run(confdrift().args([
        "diff",
        "a",
        "b",
        "--env",
        "a=testdata/demo/staging",
        "--env",
        "b=testdata/demo/staging",
        "--exit-code",
    ]));
    assert!(
        r.stdout.starts_with("confdrift diff a b: 0 difference(s)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("dangling-reference"),
        "each environment's problem is still shown"
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_filter_that_matches_nothing_is_a_usage_error_with_near_names() {
    let r = diff(&["--workload", "chekout"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("--workload chekout"), "{}", r.stderr);
    assert!(r.stderr.contains("checkout"), "near name: {}", r.stderr);
    assert!(!r.stdout.contains("0 difference(s)"));
    let r = diff(&["--key", "DB_POOL"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--key DB_POOL"), "{}", r.stderr);
    assert!(r.stderr.contains("DB_POOL_SIZE"), "{}", r.stderr);
    // Keys of other workloads do not count: cart has no DB_* keys.
    let r = diff(&["--workload", "cart", "--key", "DB_*"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
}

#[test]
fn file_keys_match_by_their_shown_name_and_by_path() {
    for glob in ["file /etc/checkout/*", "/etc/checkout/*.yaml"] {
        let r = diff(&["--key", glob]);
        assert_eq!(r.code, 0, "{glob}: {}", r.stderr);
        assert!(
            r.stdout.contains("file /etc/checkout/application.yaml"),
            "{glob}: {}",
            r.stdout
        );
        assert!(!r.stdout.contains("DB_POOL_SIZE"), "{glob}");
    }
}

#[test]
fn policy_flag_is_repeatable_like_audit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = |name: &str, key: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        let text = format!(
            "apiVersion: confdrift/v1\nkind: Policy\nrules:\n  - id: {name}\n    key: {key}\n    equal: true\n    severity: warning\n"
        );
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    let (pools, ttl) = (
        policy("my-pools", "DB_POOL_SIZE"),
        policy("my-ttl", "CART_CACHE_TTL"),
    );
    let r = diff(&["--policy", &pools, "--policy", &ttl]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("(rule my-pools)"), "{}", r.stdout);
    assert!(r.stdout.contains("(rule my-ttl)"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("(rule connection-pools-equal)"),
        "--policy replaces the default policies/: {}",
        r.stdout
    );
    let r = diff(&["--policy", "does/not/exist.yaml"]);
    assert_eq!(r.code, 2, "a missing policy is a usage error: {}", r.stdout);
}

#[test]
fn percentages_and_baseline_come_from_the_configured_baseline_not_the_first_argument() {
    // testdata/demo/confdrift.yaml says `baseline: prod`.
    let r = diff(&[]);
    assert!(
        r.stdout
            .starts_with("confdrift diff staging prod: 9 difference(s), baseline prod"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "CART_CACHE_TTL is 300 in staging (-92%), more than 50% away from prod's 3600"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("in prod (+1100%)"), "{}", r.stdout);
    // --baseline picks the other one; it must be one of the two.
    let r = diff(&["--baseline", "staging"]);
    assert!(
        r.stdout.contains("CART_CACHE_TTL is 3600 in prod (+1100%)"),
        "{}",
        r.stdout
    );
    let r = diff(&["--baseline", "dev"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--baseline dev"), "{}", r.stderr);
}

#[test]
fn a_config_file_on_one_side_only_is_shown_as_its_lines() {
    let a = format!("{}{APP_CONF}", web(true, ""));
    let b = web(false, "");
    let r = diff_pair(&a, &b, &[]);
    assert!(r.stdout.contains("file /etc/app/app.yaml"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("\\n"),
        "no escaped newlines: {}",
        r.stdout
    );
    // Baseline b (the last) has no file: a diff against nothing, all `+`.
    assert!(r.stdout.contains("--- b (not set)"), "{}", r.stdout);
    assert!(r.stdout.contains("+++ a"), "{}", r.stdout);
    assert!(r.stdout.contains("    +  port: 8080"), "{}", r.stdout);
    assert!(r.stdout.contains("    +pool: 10"), "{}", r.stdout);
}

#[test]
fn a_file_from_a_missing_configmap_volume_is_unresolved_not_missing() {
    // b mounts app-conf, which does not exist there: the file is
    // unresolved (like an env var from the same missing ConfigMap), and
    // no presence finding is added for it.
    let a = format!("{}{APP_CONF}", web(true, ""));
    let b = web(true, "");
    let r = diff_pair(&a, &b, &[]);
    assert!(
        r.stdout.contains(
            "b  <unresolved: ConfigMap app-conf not found>  (mounted ConfigMap app-conf/app.yaml)"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("(not set)"), "{}", r.stdout);
    assert!(!r.stdout.contains("present-everywhere"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("<missing"),
        "no stand-in leaks: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("dangling-reference: b: web/app refers to ConfigMap app-conf (volume conf)")
    );
    // The text of a is shown as lines.
    assert!(r.stdout.contains("+  port: 8080"), "{}", r.stdout);
    // With `items` the path is known in b itself.
    let items = web(true, "").replace(
        "configMap: {name: app-conf}",
        "configMap: {name: app-conf, items: [{key: app.yaml, path: conf/app.yaml}]}",
    );
    let r = diff_pair(&format!("{items}{APP_CONF}"), &items, &[]);
    assert!(
        r.stdout.contains("file /etc/app/conf/app.yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("<unresolved: ConfigMap app-conf not found>"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("present-everywhere"), "{}", r.stdout);
}

#[test]
fn a_file_from_a_missing_secret_volume_is_unresolved_and_never_shown() {
    let secret_mount = web(true, "").replace(
        "configMap: {name: app-conf}",
        "secret: {secretName: app-sec}",
    );
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-sec, namespace: shop}\nstringData: {token: hunter2-canary}\n";
    let r = diff_pair(&format!("{secret_mount}{secret}"), &secret_mount, &[]);
    assert!(r.stdout.contains("file /etc/app/token"), "{}", r.stdout);
    assert!(
        r.stdout.contains("<unresolved: Secret app-sec not found>"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("present-everywhere"), "{}", r.stdout);
    assert!(!r.stdout.contains("hunter2"), "secret value leaked");
}
