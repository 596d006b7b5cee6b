//! `confdrift diff A B`, the 2 AM view: filters, `--all`, `--exit-code`;
//! and the generated shell completions and man page.

mod common;

use common::*;

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
