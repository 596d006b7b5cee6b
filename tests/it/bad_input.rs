//! Hostile and broken input. Every file in `testdata/bad/` (and the big
//! ones generated here, too large to commit) ends in exit 2 with a message
//! that names the file, line and what to do, or in a problem the report
//! shows: never a panic, never a hang, never a Secret value in a message.
//!
//! Time is bounded by design (size, depth and node limits checked before
//! the expensive work); the timeout on each run is only a guard that turns a
//! hang into a failure, never a measurement.

#[path = "../../fuzz/src/lib.rs"]
mod fuzz_targets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::*;

/// Far beyond what any case needs, even in a debug build on a busy
/// machine: reaching it means a hang.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// `audit` with the broken file as staging and a good prod. The two hold
/// different applications: staging is `INCOMPLETE` for that alone
/// (`environments-do-not-line-up`), and `--allow-partial` keeps it from
/// deciding the exit code.
fn audit(staging: &Path) -> Run {
    run(confdrift()
        .timeout(HANG_GUARD)
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", staging.display()))
        .arg("--env")
        .arg(format!("prod={}", data("canary/prod.yaml")))
        .args(["--fail-on", "never", "--allow-partial"]))
}

/// `audit` with a config file and nothing else.
fn audit_config(config: &Path) -> Run {
    run(confdrift()
        .timeout(HANG_GUARD)
        .args(["audit", "--config"])
        .arg(config))
}

fn policy_lint(file: &Path) -> Run {
    run(confdrift()
        .timeout(HANG_GUARD)
        .args(["policy", "lint"])
        .arg(file))
}

/// The exit code, the text the message must hold, and what must never be
/// there whatever the input: a panic, a Secret value, a raw terminal escape.
fn check(what: &str, r: &Run, code: i32, text: &str) {
    let out = format!("{}{}", r.stdout, r.stderr);
    // -1: killed by the hang guard.
    assert_eq!(r.code, code, "{what}: exit code\n{out}");
    assert!(out.contains(text), "{what}: expected {text:?} in\n{out}");
    assert!(!out.contains("panicked"), "{what}: {out}");
    assert!(
        !out.contains("CANARY"),
        "{what} shows a Secret value:\n{out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "{what} prints a raw escape character:\n{out}"
    );
}

fn bad(name: &str) -> PathBuf {
    root().join("testdata/bad").join(name)
}

/// (file in testdata/bad, exit code, text the output must contain)
#[rustfmt::skip]
const MANIFESTS: &[(&str, i32, &str)] = &[
    // Syntax, with file and line (of the file, not of the document).
    ("invalid-yaml.yaml", 2, "invalid-yaml.yaml:9:1: invalid YAML"),
    ("invalid-yaml-second-document.yaml", 2, "invalid-yaml-second-document.yaml:12:28: invalid YAML"),
    ("invalid-yaml-tab-indent.yaml", 2, "invalid-yaml-tab-indent.yaml:4:1: invalid YAML"),
    ("invalid-json.json", 2, "invalid-json.json:5:21: invalid JSON"),
    ("document-is-a-list.yaml", 2, "document-is-a-list.yaml:1: document is not a Kubernetes object"),
    ("document-is-a-scalar.yaml", 2, "document is not a Kubernetes object"),
    ("no-kind.yaml", 2, "no-kind.yaml:1: document has no `kind`"),
    // Encodings and line endings.
    ("invalid-utf8.yaml", 2, "invalid-utf8.yaml:6: not valid UTF-8 (byte 71)"),
    ("utf16.yaml", 2, "utf16.yaml:1: is UTF-16 text"),
    ("bom-crlf.yaml", 0, "no Pods or workloads found"),
    ("line-endings-lf.yaml", 0, "staging    INCOMPLETE 1 workloads"),
    ("line-endings-crlf-bom.yaml", 0, "staging    INCOMPLETE 1 workloads"),
    // Empty files and documents: a warning, not an error.
    ("empty.yaml", 0, "empty.yaml: is empty (no YAML or JSON documents)"),
    ("empty-documents.yaml", 0, "empty-documents.yaml: is empty"),
    ("only-comments.yaml", 0, "only-comments.yaml: is empty"),
    ("whitespace-only.yaml", 0, "whitespace-only.yaml: is empty"),
    // Resource exhaustion, small enough to commit.
    ("alias-bomb.yaml", 2, "alias-bomb.yaml:13: the aliases (*name) of this YAML document expand it to more than 10,000,000 nodes"),
    ("alias-bomb-in-skipped-kind.yaml", 2, "alias bomb"),
    ("deep-flow-nesting.yaml", 2, "deep-flow-nesting.yaml:5: YAML nested deeper than 128 levels"),
    ("deep-block-nesting.yaml", 2, "deep-block-nesting.yaml:5:255: invalid YAML: recursion limit exceeded; the document is nested deeper than 128 levels"),
    // Duplicate keys: rejected, as `kubectl apply` does by default.
    ("duplicate-key.yaml", 2, "duplicate-key.yaml:6:3: invalid YAML: data: duplicate entry with key \"DB_POOL_SIZE\"; a key may appear only once"),
    ("duplicate-key.json", 2, "duplicate-key.json:2:23: invalid JSON: duplicate entry with key \"A\""),
    ("duplicate-field.yaml", 2, "duplicate entry with key \"spec\""),
    ("duplicate-label.yaml", 2, "metadata.labels: duplicate entry with key \"app\""),
    // Kinds and apiVersions confdrift does not read: counted and shown.
    ("only-services.yaml", 0, "found: Service ×1"),
    ("unknown-kinds.yaml", 0, "Deployment (example.com/v1) ×1, SidecarSet ×1, Workflow ×1"),
    ("unknown-api-version.yaml", 0, "staging    INCOMPLETE 1 workloads"),
    // Required fields, as the API server requires them.
    ("missing-name.yaml", 2, "missing-name.yaml:3: ConfigMap: has no metadata.name"),
    ("pod-without-containers.yaml", 2, "Pod lonely: pod spec has no containers"),
    ("deployment-without-template.yaml", 2, "Deployment hollow: has no spec.template.spec"),
    ("container-without-name.yaml", 2, "container-without-name.yaml:8:9: Deployment web: spec.template.spec.containers[0]: missing field `name`"),
    ("env-without-name.yaml", 2, "Pod p: container c env[0] has no name"),
    ("configmap-ref-without-key.yaml", 2, "container c env[0] (A) valueFrom.configMapKeyRef has no key"),
    ("secret-key-ref-without-name.yaml", 2, "container c env[0] (PASSWORD) valueFrom.secretKeyRef has no name"),
    ("secret-not-base64.yaml", 2, "Secret creds: data key PASSWORD is not valid base64"),
    // Env names: what Kubernetes allows is read, the rest refused.
    ("env-names-odd-but-valid.yaml", 0, "staging    INCOMPLETE 1 workloads, 1 containers, 8 keys"),
    ("env-name-with-equals.yaml", 2, "env[0] name \"KEY=VALUE\" holds '='; Kubernetes allows printable ASCII"),
    ("env-name-with-escape.yaml", 2, "env[0] name \"RED\\u{1b}[31m\" holds '\\u{1b}'"),
    ("env-name-not-ascii.yaml", 2, "holds '名'; Kubernetes allows printable ASCII"),
    // `$(VAR)` references that point at each other.
    ("recursive-vars.yaml", 0, "staging    INCOMPLETE 1 workloads, 1 containers, 6 keys"),
    // A file that says it is a snapshot but is not one.
    ("snapshot-broken.json", 2, "snapshot-broken.json:1: invalid confdrift snapshot: invalid type: integer, expected a sequence"),
    // Escape sequences and bidi overrides in values, keys and names: read,
    // and shown written out (tests/it/terminal.rs has the details).
    ("terminal-escapes.yaml", 0, "worker\\u{202e}rekrow"),
    ("terminal-escapes-baseline.yaml", 0, "staging    INCOMPLETE 1 workloads"),
];

/// (file in testdata/bad/policies, exit code of `policy lint`, text)
#[rustfmt::skip]
const POLICIES: &[(&str, i32, &str)] = &[
    ("alias-bomb.yaml", 2, "alias-bomb.yaml:8:38: error[yaml-syntax]: invalid YAML: the file holds more than 1000000 YAML nodes once its aliases (*name) are expanded"),
    ("deep-block-nesting.yaml", 2, "deep-block-nesting.yaml:4:255: error[yaml-syntax]: invalid YAML: nested deeper than 128 levels"),
    ("deep-flow-nesting.yaml", 2, "deep-flow-nesting.yaml:3:263: error[yaml-syntax]: invalid YAML: nested deeper than 255 levels"),
    ("duplicate-field.yaml", 2, "duplicate-field.yaml:6:5: error[duplicate-field]: rules[0].key (rule a): `key` is given twice"),
    ("invalid-utf8.yaml", 2, "invalid-utf8.yaml: error[io]: the file is not valid UTF-8"),
];

#[test]
fn every_bad_manifest_is_a_clear_error_or_a_reported_problem() {
    for (file, code, text) in MANIFESTS {
        check(file, &audit(&bad(file)), *code, text);
    }
}

#[test]
fn every_bad_policy_is_a_clear_lint_error() {
    for (file, code, text) in POLICIES {
        check(file, &policy_lint(&bad("policies").join(file)), *code, text);
    }
}

#[test]
fn every_file_in_testdata_bad_has_a_case() {
    let listed = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("testdata/bad is readable")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let mut cased: Vec<&str> = MANIFESTS.iter().map(|c| c.0).collect();
    cased.sort_unstable();
    assert_eq!(
        listed(&bad("")),
        cased,
        "testdata/bad/ and MANIFESTS differ"
    );
    let mut cased: Vec<&str> = POLICIES.iter().map(|c| c.0).collect();
    cased.sort_unstable();
    assert_eq!(
        listed(&bad("policies")),
        cased,
        "testdata/bad/policies/ and POLICIES differ"
    );
}

// Files too large to commit, written to a temporary directory.

fn configmap(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  BIG: \"{value}\"\n")
}

#[test]
fn a_file_over_256_mib_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // Sparse: 300 MiB of size, no disk and no memory.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(300 * 1024 * 1024).unwrap();
    let r = audit(&path);
    check(
        "huge file",
        &r,
        2,
        "huge.yaml: is 300 MiB, larger than the 256 MiB confdrift reads from one file",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_source_is_cut_off_at_the_limit() {
    // /dev/zero has no size to check up front.
    let r = audit(Path::new("/dev/zero"));
    check("/dev/zero", &r, 2, "/dev/zero: is more than 256 MiB");
}

#[test]
fn values_over_one_mebibyte_are_refused_without_being_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(1024 * 1024 + 1);
    let path = write(dir.path(), "cm.yaml", &configmap(&big));
    check(
        "ConfigMap value",
        &audit(&path),
        2,
        "ConfigMap big: data key BIG is 1,048,577 bytes, more than 1 MiB (1,048,576 bytes), the most Kubernetes allows",
    );

    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  TOKEN: \"CANARY{}\"\n",
        "y".repeat(2 * 1024 * 1024)
    );
    let path = write(dir.path(), "secret.yaml", &secret);
    check(
        "Secret value",
        &audit(&path),
        2,
        "Secret s: stringData key TOKEN is 2,097,158 bytes",
    );

    let env = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    env:\n    - {{name: BIG, value: \"{big}\"}}\n"
    );
    let path = write(dir.path(), "env.yaml", &env);
    check(
        "env value",
        &audit(&path),
        2,
        "Pod p: container c env[0] (BIG) value is 1,048,577 bytes",
    );
}

#[test]
fn a_value_of_exactly_one_mebibyte_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "cm.yaml", &configmap(&"x".repeat(1024 * 1024)));
    check(
        "1 MiB value",
        &audit(&path),
        0,
        "no Pods or workloads found",
    );
}

#[test]
fn deep_flow_nesting_no_longer_hangs_the_yaml_scanner() {
    // libyaml spends time proportional to the depth on every token: a
    // million `[` took minutes before the depth was checked first.
    let dir = tempfile::tempdir().unwrap();
    let n = 1_000_000;
    let text = format!(
        "apiVersion: v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let path = write(dir.path(), "deep.yaml", &text);
    check(
        "deep flow",
        &audit(&path),
        2,
        "deep.yaml:4: YAML nested deeper than 128 levels",
    );
}

#[test]
fn deep_block_nesting_is_refused_by_the_recursion_limit() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n{}x\n",
        "- ".repeat(100_000)
    );
    let path = write(dir.path(), "deep.yaml", &text);
    check(
        "deep block",
        &audit(&path),
        2,
        "recursion limit exceeded; the document is nested deeper than 128 levels",
    );
}

#[test]
fn a_document_of_more_than_ten_million_nodes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Widget\nmetadata: {{name: w}}\nspec: [{}0]\n",
        "0,".repeat(10_000_000)
    );
    let path = write(dir.path(), "many.yaml", &text);
    check(
        "many nodes",
        &audit(&path),
        2,
        "many.yaml:4: this YAML document holds more than 10,000,000 nodes",
    );
}

#[test]
fn many_aliases_of_a_large_anchor_no_longer_hang() {
    // Not exponential, just wide: each of 1,000 aliases replays a 100,000
    // item list. serde_yaml's own limit (100 alias uses per event) let
    // this through; counting what the aliases expand to stops it.
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n  big: &big [{}0]\n  uses: [{}*big]\n",
        "0,".repeat(100_000),
        "*big,".repeat(999)
    );
    let path = write(dir.path(), "wide.yaml", &text);
    check(
        "wide aliases",
        &audit(&path),
        2,
        "wide.yaml:6: the aliases (*name) of this YAML document expand it to more than 10,000,000 nodes",
    );
}

#[test]
fn a_huge_json_document_that_fails_to_parse_is_not_held_whole_to_word_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p\"}},\"spec\":{{\"containers\":7}},\"x\":[{}0]}}\n",
        "0,".repeat(10_000_000)
    );
    let path = write(dir.path(), "huge.json", &text);
    check(
        "huge JSON",
        &audit(&path),
        2,
        "huge.json:1:78: cannot read this JSON document (and it holds too many values to look closer at which object is broken): invalid type: integer, expected a sequence",
    );
}

#[test]
fn policy_with_deep_block_nesting_no_longer_overflows_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: confdrift/v1\nkind: Policy\nrules:\n{}x\n",
        "- ".repeat(100_000)
    );
    let path = write(dir.path(), "deep.yaml", &text);
    check(
        "deep policy",
        &policy_lint(&path),
        2,
        "deep.yaml:4:255: error[yaml-syntax]: invalid YAML: nested deeper than 128 levels",
    );
}

#[test]
fn policy_alias_bomb_no_longer_exhausts_memory() {
    // Twelve levels of ten: 10^12 nodes once expanded.
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        "apiVersion: confdrift/v1\nkind: Policy\nx0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            .to_string();
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    let path = write(dir.path(), "bomb.yaml", &text);
    check("policy bomb", &policy_lint(&path), 2, "alias bomb");
}

#[test]
fn a_million_unclosed_var_references_are_read_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let value = "$(".repeat(500_000);
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    env:\n    - {{name: A, value: x}}\n    - {{name: B, value: \"{value}\"}}\n"
    );
    let path = write(dir.path(), "refs.yaml", &text);
    check(
        "unclosed refs",
        &audit(&path),
        0,
        "staging    INCOMPLETE 1 workloads",
    );
}

// Semantics of the odd but valid cases.

/// `diff A B --all`: every key with its value and source.
fn diff_all(a: &Path, b: &Path) -> Run {
    run(confdrift()
        .timeout(HANG_GUARD)
        .args(["diff", "a", "b", "--all"])
        .arg("--env")
        .arg(format!("a={}", a.display()))
        .arg("--env")
        .arg(format!("b={}", b.display())))
}

#[test]
fn var_references_that_point_at_each_other_expand_once_like_the_kubelet() {
    // The kubelet expands each value once, against the variables defined
    // before it (third_party/forked/golang/expansion): A=$(B) keeps `$(B)`
    // because B comes later, B=$(A) takes A's value as it is, and a
    // redefined C sees the earlier C.
    let f = bad("recursive-vars.yaml");
    let r = diff_all(&f, &f);
    check("recursive vars", &r, 0, "0 difference(s)");
    for line in [
        "= A  $(B)  (literal)",
        "= B  $(B)  (literal $(A))",
        "= SELF  <$(SELF)>  (literal)",
        "= D  xx  (literal $(C)$(C))",
        "= C  xxx  (literal $(D)$(C))",
        "= E  $(A) $(A  (literal)",
    ] {
        assert!(
            r.stdout.contains(line),
            "expected {line:?} in\n{}",
            r.stdout
        );
    }
}

#[test]
fn odd_but_valid_env_names_are_read_as_they_are() {
    let f = bad("env-names-odd-but-valid.yaml");
    let r = diff_all(&f, &f);
    check("odd names", &r, 0, "Equal in both (8)");
    for name in [
        "dotted.name",
        "with space",
        "pipe|and<angle>&amp;",
        "quote\"and'apostrophe",
        "$(NOT_A_REF)",
        "~!@#%^*()[]{}",
    ] {
        assert!(
            r.stdout.contains(&format!("= {name}  ")),
            "{name} in\n{}",
            r.stdout
        );
    }
    // And every machine format stays valid with them.
    let r = run(confdrift()
        .timeout(HANG_GUARD)
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", f.display()))
        .arg("--env")
        .arg(format!("b={}", data("canary/prod.yaml")))
        .args(["--fail-on", "never", "--allow-partial", "--format", "json"]));
    check("odd names json", &r, 0, "");
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(report["schema"], "confdrift.report/v1");
}

#[test]
fn crlf_with_bom_and_lf_give_the_same_values() {
    let r = run(confdrift()
        .timeout(HANG_GUARD)
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", bad("line-endings-lf.yaml").display()))
        .arg("--env")
        .arg(format!("b={}", bad("line-endings-crlf-bom.yaml").display()))
        .args(["--fail-on", "info", "--format", "json"]));
    check("line endings", &r, 0, "");
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(report["findings"], serde_json::json!([]), "{}", r.stdout);
}

#[test]
fn a_newer_version_of_a_known_api_group_is_read() {
    let r = diff_all(
        &bad("unknown-api-version.yaml"),
        &bad("unknown-api-version.yaml"),
    );
    check("apps/v9", &r, 0, "future/c\n  = A  1  (literal)");
}

// The fuzz corpus, through the same checks the fuzz targets run.

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn fuzz_corpus_replays_through_the_fuzz_targets_checks() {
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 3] = [
        ("manifest", fuzz_targets::manifest),
        ("policy", fuzz_targets::policy),
        ("expand", fuzz_targets::expand_vars),
    ];
    for (target, replay) in targets {
        for file in corpus(target) {
            let bytes = std::fs::read(&file).expect("corpus file is readable");
            // A panic names the file that caused it.
            let outcome = std::panic::catch_unwind(|| replay(&bytes));
            assert!(
                outcome.is_ok(),
                "fuzz target {target} fails on {}",
                file.display()
            );
        }
    }
}

/// `B=$(A)$(A)`, `C=$(B)$(B)`, …: each reference may double the text, and 40
/// short variables would expand to a terabyte. Expansion stops at 1 MiB and
/// the value is unresolved (regression: the run aborted after 3.2 GB).
#[test]
fn doubling_var_references_stop_at_one_mebibyte() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = String::from("      - {name: V0, value: xxxxxxxx}\n");
    for i in 1..40 {
        env.push_str(&format!(
            "      - {{name: V{i}, value: \"$(V{p})$(V{p})\"}}\n",
            p = i - 1
        ));
    }
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: bomb, namespace: x}}\nspec:\n  containers:\n  - name: c\n    env:\n{env}"
    );
    let file = dir.path().join("bomb.yaml");
    std::fs::write(&file, pod).unwrap();
    let r = run(confdrift()
        .timeout(Duration::from_secs(60))
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", file.display()))
        .arg("--env")
        .arg(format!("b={}", file.display()))
        .args(["--format", "json", "--fail-on", "never"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("expands to more than 1 MiB"),
        "{}",
        &r.stdout[..r.stdout.len().min(2000)]
    );
}

// confdrift.yaml and policy files: read with a limit, like manifests.

/// A sparse file: its size, no disk and no memory.
fn sparse(dir: &tempfile::TempDir, name: &str, bytes: u64) -> PathBuf {
    let path = dir.path().join(name);
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(bytes).unwrap();
    path
}

#[test]
fn a_config_file_over_one_mebibyte_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = sparse(&dir, "confdrift.yaml", 300 * 1024 * 1024);
    check(
        "huge config",
        &audit_config(&path),
        2,
        "confdrift.yaml: is 300 MiB, larger than the 1 MiB confdrift reads from a config file; \
         a confdrift.yaml names environments, renames and flags in a few kilobytes: is this the \
         right file? (give it with --config FILE)",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_config_file_is_cut_off_at_the_limit() {
    check(
        "/dev/zero config",
        &audit_config(Path::new("/dev/zero")),
        2,
        "/dev/zero: is more than 1 MiB, larger than the 1 MiB confdrift reads from a config file",
    );
}

#[test]
fn deep_nesting_in_a_config_file_no_longer_hangs_the_yaml_scanner() {
    // Half a million `[` fit in 1 MiB, and took serde_yaml minutes.
    let dir = tempfile::tempdir().unwrap();
    let n = 500_000;
    let text = format!("environments: {}{}\n", "[".repeat(n), "]".repeat(n));
    let path = write(dir.path(), "confdrift.yaml", &text);
    check(
        "deep config",
        &audit_config(&path),
        2,
        "YAML nested deeper than 32 levels; a config file needs 5 at most",
    );
    let text = format!("environments:\n{}x\n", "- ".repeat(100_000));
    let path = write(dir.path(), "block.yaml", &text);
    check(
        "deep block config",
        &audit_config(&path),
        2,
        "block.yaml:2:63: YAML nested deeper than 32 levels",
    );
}

#[test]
fn names_in_config_errors_are_shown_written_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "confdrift.yaml",
        "environments:\n  \"prod\\e[2J\\u202E\": {}\n",
    );
    check(
        "escape in an environment name",
        &audit_config(&path),
        2,
        "environment prod\\x1b[2J\\u{202e} needs `files: [...]`, `context: NAME` or `url: s3://BUCKET/PREFIX/`",
    );
    let path = write(
        dir.path(),
        "unknown.yaml",
        "environments:\n  prod: {files: [x], \"nam\\e[8me\": 1}\n",
    );
    check(
        "escape in an unknown field",
        &audit_config(&path),
        2,
        "unknown.yaml:2:22: environments.prod: unknown field `nam\\x1b[8me`",
    );
}

#[test]
fn a_policy_file_over_16_mib_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = sparse(&dir, "policy.yaml", 300 * 1024 * 1024);
    let message = "policy.yaml: error[io]: the file is 300 MiB, larger than the 16 MiB confdrift \
                   reads from a policy file\n  help: a policy takes a few hundred kilobytes: is \
                   this the right file?";
    check("huge policy", &policy_lint(&path), 2, message);
    // And `audit` stops before reading any environment.
    let r = run(confdrift()
        .timeout(HANG_GUARD)
        .arg("audit")
        .arg("--policy")
        .arg(&path)
        .arg("--env")
        .arg(format!("prod={}", data("canary/prod.yaml"))));
    check("huge policy in audit", &r, 2, message);
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_policy_file_is_cut_off_at_the_limit() {
    check(
        "/dev/zero policy",
        &policy_lint(Path::new("/dev/zero")),
        2,
        "/dev/zero: error[io]: the file is more than 16 MiB, larger than the 16 MiB confdrift \
         reads from a policy file",
    );
}

// Line diffs of huge values.

/// A ConfigMap with one file of `lines` lines, as `kubectl get -o json`
/// writes it.
fn configmap_file(lines: impl Iterator<Item = String>) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "big", "namespace": "shop"},
        "data": {"hosts.txt": text},
    })
    .to_string()
}

/// `diff a b` of two ConfigMap files of `n` one-digit lines that differ on
/// nearly every line.
fn diff_of_two_configmap_files(dir: &tempfile::TempDir, n: usize) -> Run {
    let a = write(
        dir.path(),
        "a.json",
        &configmap_file((0..n).map(|i| (i % 10).to_string())),
    );
    let b = write(
        dir.path(),
        "b.json",
        &configmap_file((0..n).map(|i| (i * 7 % 10).to_string())),
    );
    run(confdrift()
        .timeout(HANG_GUARD)
        .args(["diff", "a", "b"])
        .arg("--env")
        .arg(format!("a={}", a.display()))
        .arg("--env")
        .arg(format!("b={}", b.display())))
}

#[test]
fn huge_values_get_a_size_note_instead_of_a_line_diff() {
    // 500,000 lines of one digit: 1,000,000 bytes, within the 1 MiB a value
    // may hold; nearly every line differs. The line diff took 52 s in a
    // debug build; now it is not drawn, whatever the machine.
    let dir = tempfile::tempdir().unwrap();
    let r = diff_of_two_configmap_files(&dir, 500_000);
    check(
        "huge diff",
        &r,
        0,
        // b is the baseline (configured last), so the diff is from b to a.
        "    # line diff skipped, too large to compare line by line: b has 500,000 lines \
         (1,000,000 bytes), a has 500,000 lines (1,000,000 bytes); the limit is 10,000 lines or \
         256 KiB per side\n",
    );
    assert!(
        !r.stdout.contains("@@"),
        "{}",
        &r.stdout[..r.stdout.len().min(2000)]
    );

    // At the limit, the diff is drawn.
    let r = diff_of_two_configmap_files(&dir, 10_000);
    check("diff at the limit", &r, 0, "@@ -1,");
    assert!(!r.stdout.contains("line diff skipped"));
}
