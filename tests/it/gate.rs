//! The deploy gate: SARIF (valid against the official SARIF 2.1.0 schema in
//! testdata/sarif/, stable fingerprints, waived findings suppressed), JUnit
//! (parsed back, failures at --fail-on, escaping), the pull-request Markdown
//! (summary first, --max-length), several reports from one run, and
//! `--candidate PATH --against NAME`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::*;

const POLICY: &str = "policies/default.yaml";

fn demo() -> Vec<String> {
    vec![
        "--config".into(),
        "testdata/demo/confdrift.yaml".into(),
        "--policy".into(),
        POLICY.into(),
    ]
}

// ---------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------

fn sarif_validator() -> jsonschema::Validator {
    let text = read(&root().join("testdata/sarif/sarif-schema-2.1.0.json"));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Parses a SARIF log and checks it against the official schema.
fn valid_sarif(what: &str, text: &str) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{text}"));
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: invalid SARIF:\n{}",
        errors.join("\n")
    );
    assert_eq!(log["version"], "2.1.0");
    log
}

fn sarif(args: &[String]) -> (i32, serde_json::Value) {
    let r = run(dated().arg("audit").args(args).args(["--format", "sarif"]));
    assert!(r.code == 0 || r.code == 1 || r.code == 3, "{}", r.stderr);
    (r.code, valid_sarif(&format!("{args:?}"), &r.stdout))
}

fn results(log: &serde_json::Value) -> Vec<serde_json::Value> {
    log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_schema_rejects_what_is_not_sarif() {
    // The validator is real: a wrong level and a missing message fail it.
    let validator = sarif_validator();
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "critical"}]}]
    });
    assert!(!validator.is_valid(&bad));
    let good = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "error", "message": {"text": "m"}}]}]
    });
    assert!(validator.is_valid(&good));
}

#[test]
fn sarif_lists_every_rule_and_one_result_per_finding_with_level_from_severity() {
    let (code, log) = sarif(&demo());
    assert_eq!(code, 1, "the demo has critical findings");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "confdrift");
    assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    // Every rule of the default policy, then the built-in ones.
    assert_eq!(ids.len(), 11 + 4, "{ids:?}");
    for id in [
        "connection-pools-equal",
        "present-everywhere",
        "unmatched",
        "dangling-reference",
        "pod-skew",
        "stale-pod",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let pools = rules
        .iter()
        .find(|r| r["id"] == "connection-pools-equal")
        .unwrap();
    assert_eq!(
        pools["shortDescription"]["text"],
        "connection pool sizes are the same in every environment"
    );
    assert_eq!(pools["defaultConfiguration"]["level"], "error");
    let dangling = rules
        .iter()
        .find(|r| r["id"] == "dangling-reference")
        .unwrap();
    assert!(
        dangling["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("the pod cannot start"),
        "{dangling}"
    );

    // One result per finding of the JSON report, in the same order.
    let json: serde_json::Value = serde_json::from_str(
        &run_ok(dated().arg("audit").args(demo()).args(["--format", "json"])).stdout,
    )
    .unwrap();
    let findings = json["findings"].as_array().unwrap();
    let results = results(&log);
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["rule"]);
        assert_eq!(r["message"]["text"], f["message"]);
        let level = match f["severity"].as_str().unwrap() {
            "critical" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{r}");
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
}

fn run_ok(cmd: &mut assert_cmd::Command) -> Run {
    let r = run(cmd);
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    r
}

#[test]
fn sarif_logical_locations_are_environment_namespace_workload_container_key() {
    let (_, log) = sarif(&demo());
    let results = results(&log);
    let names = |r: &serde_json::Value| -> Vec<String> {
        let all = locations(r);
        all.iter()
            .flat_map(|l| {
                l["logicalLocations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|l| l["fullyQualifiedName"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let debug = results
        .iter()
        .find(|r| r["ruleId"] == "no-debug-in-prod")
        .unwrap();
    assert_eq!(names(debug), ["prod/shop/payments/server/DEBUG"]);
    let pools = results
        .iter()
        .find(|r| r["ruleId"] == "connection-pools-equal")
        .unwrap();
    assert_eq!(
        names(pools),
        [
            "dev/shop/checkout/server/DB_POOL_SIZE",
            "staging/shop/checkout/server/DB_POOL_SIZE",
            "prod/shop/checkout/server/DB_POOL_SIZE"
        ]
    );
    let dangling = results
        .iter()
        .find(|r| r["ruleId"] == "dangling-reference")
        .unwrap();
    assert_eq!(names(dangling), ["staging/shop/frontend/web/CDN_URL"]);
    let cm = results
        .iter()
        .find(|r| r["properties"]["code"] == "configmap-missing")
        .unwrap();
    assert_eq!(names(cm), ["staging/shop/configmap/frontend-config"]);
}

/// A result's `locations` then its `relatedLocations`.
fn locations(r: &serde_json::Value) -> Vec<serde_json::Value> {
    let list = |k: &str| r[k].as_array().cloned().unwrap_or_default();
    let mut all = list("locations");
    all.extend(list("relatedLocations"));
    all
}

/// `uri:line` of a location's physical location.
fn file_line(l: &serde_json::Value) -> String {
    let p = &l["physicalLocation"];
    format!(
        "{}:{}",
        p["artifactLocation"]["uri"].as_str().unwrap_or("-"),
        p["region"]["startLine"]
    )
}

#[test]
fn sarif_drift_has_a_location_with_its_line_in_each_environments_file() {
    let (_, log) = sarif(&demo());
    let results = results(&log);
    let pools = results
        .iter()
        .find(|r| r["ruleId"] == "connection-pools-equal")
        .unwrap();
    assert_eq!(pools["locations"].as_array().unwrap().len(), 1);
    let at: Vec<String> = locations(pools).iter().map(file_line).collect();
    assert_eq!(
        at,
        [
            "testdata/demo/dev/workloads.yaml:392",
            "testdata/demo/staging/workloads.yaml:378",
            "testdata/demo/prod/workloads.yaml:392"
        ]
    );
    // Each line is where the checkout Deployment starts in that file.
    for a in &at {
        let (file, line) = a.rsplit_once(':').unwrap();
        let text = read(&root().join(file));
        let mut from = text.lines().skip(line.parse::<usize>().unwrap() - 1);
        let first = from.next().unwrap();
        let from: Vec<&str> = std::iter::once(first)
            .chain(from.take_while(|l| !l.starts_with("- ")))
            .collect();
        assert!(
            from[0].starts_with("- apiVersion: apps/v1"),
            "{a}: {}",
            from[0]
        );
        assert!(from.contains(&"  kind: Deployment"), "{a}");
        assert!(from.contains(&"    name: checkout"), "{a}");
    }
    // Related locations say which environment each is.
    assert_eq!(
        pools["relatedLocations"][0]["message"]["text"],
        "in staging"
    );
    assert_eq!(pools["relatedLocations"][1]["id"], 2);
    // A ConfigMap's finding points at the ConfigMap (shop-config's pool is
    // reported at checkout/server, where it is read: one cause, one
    // finding; flagd-config's flag stays at its ConfigMap).
    let cm = results
        .iter()
        .find(|r| {
            r["ruleId"] == "feature-flags-match"
                && locations(r)[0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .contains("/configmap/flagd-config")
        })
        .expect("the ConfigMap's finding");
    let at: Vec<String> = locations(cm).iter().map(file_line).collect();
    assert_eq!(at[0], "testdata/demo/dev/configmaps.yaml:156", "{at:?}");
}

/// Two environments as Helm renders them: documents with `# Source:` lines.
fn helm_pair(dir: &Path) -> Vec<String> {
    let staging = write(
        dir,
        "staging.yaml",
        "# Source: shop/templates/web.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: staging}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env: [{name: POOL, value: \"10\"}]\n        volumeMounts: [{name: c, mountPath: /etc/app}]\n      volumes: [{name: c, configMap: {name: app}}]\n---\n# Source: shop/templates/migrate.yaml\napiVersion: batch/v1\nkind: Job\nmetadata: {name: db-migrate, namespace: staging}\nspec:\n  template:\n    spec:\n      containers:\n      - name: migrate\n        env: [{name: X, value: \"1\"}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: staging}\ndata: {app.yaml: \"a: 1\\n\"}\n",
    );
    let production = write(
        dir,
        "production.yaml",
        "---\n# Source: shop/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: production}\ndata: {app.yaml: \"a: 2\\n\"}\n---\n# Source: shop/templates/web.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: production}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env: [{name: POOL, value: \"5\"}]\n        volumeMounts: [{name: c, mountPath: /etc/app}]\n      volumes: [{name: c, configMap: {name: app}}]\n",
    );
    vec![
        "--env".into(),
        format!("staging={}", staging.display()),
        "--env".into(),
        format!("production={}", production.display()),
        "--policy".into(),
        POLICY.into(),
        "--fail-on".into(),
        "never".into(),
    ]
}

#[test]
fn sarif_lines_of_rendered_manifests_are_the_documents_first_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (_, log) = sarif(&helm_pair(dir.path()));
    let pool = results(&log)
        .into_iter()
        .find(|r| locations(r)[0]["logicalLocations"][0]["name"] == "POOL")
        .expect("the POOL drift");
    let at: Vec<String> = locations(&pool).iter().map(file_line).collect();
    assert!(at[0].ends_with("/staging.yaml:2"), "{at:?}");
    assert!(at[1].ends_with("/production.yaml:9"), "{at:?}");
}

#[test]
fn sarif_a_missing_workload_names_its_own_environment_and_namespace() {
    // Regression: `production/staging/db-migrate`, production's name with
    // staging's namespace.
    let dir = tempfile::tempdir().unwrap();
    let (_, log) = sarif(&helm_pair(dir.path()));
    let missing = results(&log)
        .into_iter()
        .find(|r| r["properties"]["code"] == "workload-missing")
        .expect("db-migrate is missing in production");
    let names: Vec<String> = locations(&missing)
        .iter()
        .flat_map(|l| {
            l["logicalLocations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|l| l["fullyQualifiedName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["production/production/db-migrate"]);
}

#[test]
fn sarif_file_keys_never_make_an_empty_path_segment() {
    let dir = tempfile::tempdir().unwrap();
    for args in [demo(), helm_pair(dir.path())] {
        let (_, log) = sarif(&args);
        let mut files = 0;
        for r in results(&log) {
            for l in locations(&r) {
                for logical in l["logicalLocations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    let fqn = logical["fullyQualifiedName"].as_str().unwrap();
                    assert!(!fqn.contains("//"), "{fqn}");
                    if logical["kind"] == "resource" {
                        files += 1;
                    }
                }
            }
        }
        assert!(files > 0, "file keys were checked");
    }
    let (_, log) = sarif(&demo());
    let file = results(&log)
        .into_iter()
        .flat_map(|r| locations(&r))
        .find(|l| l["logicalLocations"][0]["kind"] == "resource")
        .unwrap();
    assert_eq!(
        file["logicalLocations"][0]["fullyQualifiedName"],
        "dev/shop/checkout/server/etc/checkout/application.yaml"
    );
}

/// The fingerprints of a run, by what each result is about.
fn fingerprints(log: &serde_json::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in results(log) {
        let fp = r["partialFingerprints"]["confdriftFinding/v1"]
            .as_str()
            .expect("every result has a fingerprint")
            .to_string();
        assert_eq!(fp.len(), 64, "{fp}");
        let what = format!(
            "{} {} {}",
            r["ruleId"], r["properties"]["code"], r["locations"][0]["logicalLocations"]
        );
        assert!(
            out.insert(fp.clone(), what.clone()).is_none(),
            "fingerprint {fp} is not unique ({what})"
        );
    }
    out
}

#[test]
fn sarif_fingerprints_are_stable_when_values_change() {
    // A copy of the demo where prod's pool is 7 instead of 5 and its
    // timeout 900 instead of 800: same problems, other values.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("testdata/demo"), dir.path());
    for (file, from, to) in [
        (
            "prod/configmaps.yaml",
            "DB_POOL_SIZE: \"5\"",
            "DB_POOL_SIZE: \"7\"",
        ),
        (
            "prod/configmaps.yaml",
            "\"DB_POOL_SIZE\":\"5\"",
            "\"DB_POOL_SIZE\":\"7\"",
        ),
    ] {
        let p = dir.path().join(file);
        let text = read(&p);
        assert!(text.contains(from), "{file} has {from}");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }
    let changed = vec![
        "--config".to_string(),
        dir.path().join("confdrift.yaml").display().to_string(),
        "--policy".to_string(),
        POLICY.to_string(),
    ];
    let (_, before) = sarif(&demo());
    let (_, after) = sarif(&changed);
    let pool_message = |log: &serde_json::Value| {
        results(log)
            .iter()
            .find(|r| {
                r["ruleId"] == "connection-pools-equal"
                    && r["locations"][0]["logicalLocations"][0]["name"] == "DB_POOL_SIZE"
            })
            .map(|r| r["message"]["text"].as_str().unwrap_or("").to_string())
            .unwrap()
    };
    assert!(pool_message(&before).contains("5 in prod"));
    assert!(pool_message(&after).contains("7 in prod"));
    let a: BTreeSet<String> = fingerprints(&before).into_keys().collect();
    let b: BTreeSet<String> = fingerprints(&after).into_keys().collect();
    assert_eq!(a, b, "the same findings keep their fingerprints");
    // And a second identical run gives byte-identical SARIF.
    let again = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "sarif"]));
    let once = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "sarif"]));
    assert_eq!(again.stdout, once.stdout);
}

#[test]
fn sarif_waived_findings_are_suppressed_results() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.yaml", WAIVE_CRITICALS);
    let mut args = demo();
    args.extend(["--policy".to_string(), waivers.display().to_string()]);
    let (code, log) = sarif(&args);
    assert_eq!(code, 0, "every critical is waived");
    let suppressed: Vec<serde_json::Value> = results(&log)
        .into_iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 3, "{suppressed:#?}");
    for r in &suppressed {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["status"], "accepted");
        // Still reported at its severity: the waiver accepts it, it does not lower it.
        assert_eq!(r["level"], "error");
    }
    let pools = suppressed
        .iter()
        .find(|r| r["ruleId"] == "connection-pools-equal")
        .unwrap();
    assert!(
        pools["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("prod runs on a smaller database (owner team-db, until 2026-06-30"),
        "{pools}"
    );
    // Unwaived results carry no suppressions.
    assert!(
        results(&log)
            .iter()
            .filter(|r| r["level"] != "error")
            .all(|r| r.get("suppressions").is_none())
    );
}

#[test]
fn sarif_points_at_the_candidate_file_and_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    candidate_file(dir.path(), "candidate.yaml", debug_logging);
    let r = run(dated()
        .current_dir(dir.path())
        .arg("audit")
        .arg("--config")
        .arg(data("demo/confdrift.yaml"))
        .arg("--policy")
        .arg(root().join(POLICY))
        .args(["--candidate", "candidate.yaml", "--against", "prod,staging"])
        .args(["--format", "sarif"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = valid_sarif("candidate", &r.stdout);
    let debug = results(&log)
        .into_iter()
        .find(|r| r["ruleId"] == "no-debug-logging-in-prod")
        .unwrap();
    assert_eq!(
        debug["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "candidate.yaml"
    );
    // New with this deploy; prod's DEBUG switch was there before it.
    assert_eq!(debug["baselineState"], "new");
    let existing = results(&log)
        .into_iter()
        .find(|r| r["ruleId"] == "no-debug-in-prod")
        .unwrap();
    assert_eq!(existing["baselineState"], "unchanged");
    // A stale rule points at its definition, line and all.
    let dir2 = tempfile::tempdir().unwrap();
    let p = write(
        dir2.path(),
        "stale.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nrules:\n  - id: gone\n    key: NO_SUCH_KEY\n    equal: true\n",
    );
    let r = run(dated()
        .arg("audit")
        .args(["--config", "testdata/demo/confdrift.yaml", "--policy"])
        .arg(&p)
        .args(["--format", "sarif", "--fail-on", "never"]));
    let log = valid_sarif("stale rule", &r.stdout);
    let stale = results(&log)
        .into_iter()
        .find(|r| r["properties"]["code"] == "stale-rule")
        .expect("a stale-rule result");
    let loc = &stale["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/stale.yaml"),
        "{loc}"
    );
    assert_eq!(loc["region"]["startLine"], 4);
}

/// The demo's prod as one rendered file, what `helm template` or
/// `kustomize build` would give for the next release, with `edit` applied
/// to its text: the release about to be deployed to prod.
fn candidate_file(dir: &Path, name: &str, edit: fn(String) -> String) -> std::path::PathBuf {
    let mut text = String::new();
    for f in ["workloads.yaml", "configmaps.yaml", "secrets.yaml"] {
        text.push_str("---\n");
        text.push_str(&read(&root().join("testdata/demo/prod").join(f)));
    }
    write(dir, name, &edit(text))
}

/// A release that turns debug logging on in prod's shared ConfigMap.
fn debug_logging(text: String) -> String {
    text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug")
        .replace("\"LOG_LEVEL\":\"info\"", "\"LOG_LEVEL\":\"debug\"")
}

/// A release that brings prod's pool of 5 up to staging's 20.
fn pool_fixed(text: String) -> String {
    text.replace("DB_POOL_SIZE: \"5\"", "DB_POOL_SIZE: \"20\"")
        .replace("\"DB_POOL_SIZE\":\"5\"", "\"DB_POOL_SIZE\":\"20\"")
}

#[test]
fn sarif_from_an_incomplete_environment_is_valid_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("prod.json");
    let r = run(dated()
        .env("CONFDRIFT_FINGERPRINT_KEY", "another-key")
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("demo/prod")))
        .arg("--output")
        .arg(&snap));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let envs = vec![
        "--env".to_string(),
        format!("staging={}", data("demo/staging")),
        "--env".to_string(),
        format!("prod={}", snap.display()),
        "--policy".to_string(),
        POLICY.to_string(),
    ];
    let (code, log) = sarif(&envs);
    assert_eq!(code, 3);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(
        !inv["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // JUnit fails the environment's case; Markdown says why the gate fails.
    let junit = run(dated().arg("audit").args(&envs).args(["--format", "junit"]));
    assert_eq!(junit.code, 3);
    let doc = roxmltree::Document::parse(&junit.stdout).expect("JUnit parses");
    let prod = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("prod"))
        .unwrap();
    let failure = prod.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("type"), Some("incomplete"));
    let md = run(dated()
        .arg("audit")
        .args(&envs)
        .args(["--format", "markdown"]));
    let first = md.stdout.lines().next().unwrap_or("");
    assert!(
        first.contains("gate **failed**: prod not read completely"),
        "{first}"
    );
    // With --allow-partial the environment case passes.
    let junit = run(dated().arg("audit").args(&envs).args([
        "--format",
        "junit",
        "--allow-partial",
        "--fail-on",
        "never",
    ]));
    assert_eq!(junit.code, 0);
    assert!(!junit.stdout.contains("type=\"incomplete\""));
}

// ---------------------------------------------------------------------------
// JUnit
// ---------------------------------------------------------------------------

struct Case {
    suite: String,
    classname: String,
    name: String,
    failure: Option<(String, String)>,
    skipped: bool,
    out: String,
}

/// Parses a JUnit report back, checking that every count attribute matches
/// the test cases it counts.
fn junit_cases(xml: &str) -> Vec<Case> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("JUnit: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let count = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("{a} missing"))
            .parse()
            .unwrap()
    };
    let mut cases = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let name = suite.attribute("name").unwrap().to_string();
        let mut here = Vec::new();
        for tc in suite.children().filter(|n| n.has_tag_name("testcase")) {
            let failure = tc.children().find(|n| n.has_tag_name("failure")).map(|f| {
                (
                    f.attribute("type").unwrap_or("").to_string(),
                    f.attribute("message").unwrap_or("").to_string(),
                )
            });
            here.push(Case {
                suite: name.clone(),
                classname: tc.attribute("classname").unwrap().to_string(),
                name: tc.attribute("name").unwrap().to_string(),
                failure,
                skipped: tc.children().any(|n| n.has_tag_name("skipped")),
                out: tc
                    .descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| n.text())
                    .collect(),
            });
        }
        assert_eq!(count(suite, "tests"), here.len(), "{name}");
        assert_eq!(
            count(suite, "failures"),
            here.iter().filter(|c| c.failure.is_some()).count(),
            "{name}"
        );
        assert_eq!(
            count(suite, "skipped"),
            here.iter().filter(|c| c.skipped).count(),
            "{name}"
        );
        cases.extend(here);
    }
    assert_eq!(count(root, "tests"), cases.len());
    assert_eq!(
        count(root, "failures"),
        cases.iter().filter(|c| c.failure.is_some()).count()
    );
    cases
}

fn junit(args: &[String], fail_on: &str) -> (i32, Vec<Case>) {
    let r = run(dated()
        .arg("audit")
        .args(args)
        .args(["--format", "junit", "--fail-on", fail_on]));
    (r.code, junit_cases(&r.stdout))
}

#[test]
fn junit_fails_the_cases_at_or_above_fail_on_and_shows_a_green_case_per_clean_rule() {
    let (code, cases) = junit(&demo(), "critical");
    assert_eq!(code, 1);
    let failed: BTreeSet<(String, String)> = cases
        .iter()
        .filter(|c| c.failure.is_some())
        .map(|c| (c.suite.clone(), c.name.clone()))
        .collect();
    let expect: BTreeSet<(String, String)> = [
        // shop-config's DB_POOL_SIZE is the same cause, shown at its consumer.
        ("connection-pools-equal", "checkout/server DB_POOL_SIZE"),
        ("no-debug-in-prod", "payments/server DEBUG"),
        ("dangling-reference", "frontend/web CDN_URL in staging"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(failed, expect);
    for c in cases.iter().filter(|c| c.failure.is_some()) {
        let (kind, message) = c.failure.as_ref().unwrap();
        assert_eq!(kind, "critical");
        assert!(!message.is_empty());
        assert_eq!(c.classname, format!("confdrift.{}", c.suite));
    }
    // A passed case per rule that found nothing.
    assert!(
        cases
            .iter()
            .any(|c| c.suite == "retry-counts" && c.name == "no findings" && c.failure.is_none())
    );
    assert!(
        cases
            .iter()
            .any(|c| c.suite == "pod-skew" && c.name == "no findings")
    );
    // A warning below the threshold is a passed case that says what it found.
    let timeout = cases
        .iter()
        .find(|c| c.suite == "timeout-ms-bounds")
        .unwrap();
    assert!(timeout.failure.is_none());
    assert!(
        timeout.out.contains("TIMEOUT_MS is 800 in prod"),
        "{}",
        timeout.out
    );
    // One case per environment read.
    let envs: Vec<&str> = cases
        .iter()
        .filter(|c| c.suite == "environments")
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(envs, ["dev", "staging", "prod"]);

    // The threshold moves the failures, and only the failures.
    let (_, warning) = junit(&demo(), "warning");
    let (_, never) = junit(&demo(), "never");
    let n = |cases: &[Case]| cases.iter().filter(|c| c.failure.is_some()).count();
    assert_eq!(n(&warning), 3 + 5, "critical and warning subjects");
    assert_eq!(n(&never), 0);
    assert_eq!(warning.len(), cases.len());
}

#[test]
fn junit_waived_findings_are_skipped_cases() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.yaml", WAIVE_CRITICALS);
    let mut args = demo();
    args.extend(["--policy".to_string(), waivers.display().to_string()]);
    let (code, cases) = junit(&args, "critical");
    assert_eq!(code, 0);
    assert!(cases.iter().all(|c| c.failure.is_none()));
    let skipped: Vec<&Case> = cases.iter().filter(|c| c.skipped).collect();
    assert_eq!(skipped.len(), 3);
}

/// Two environments whose only difference is a value full of markup.
fn nasty_envs(dir: &Path) -> Vec<String> {
    let manifest = |value: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: app\n        image: example/web:1\n        env:\n        - name: GREETING\n          value: {value}\n"
        )
    };
    let a = write(dir, "staging.yaml", &manifest("plain"));
    let b = write(dir, "prod.yaml", &manifest("'a<b & \"c\" ]]> it''s | `x`'"));
    vec![
        "--env".into(),
        format!("staging={}", a.display()),
        "--env".into(),
        format!("prod={}", b.display()),
        "--policy".into(),
        data("policies/valid/no-rules.yaml"),
    ]
}

const NASTY: &str = "a<b & \"c\" ]]> it's | `x`";

#[test]
fn markup_in_values_survives_every_gate_format() {
    let dir = tempfile::tempdir().unwrap();
    let envs = nasty_envs(dir.path());
    // JUnit: parsed back, the value is there verbatim.
    let (_, cases) = junit(&envs, "info");
    let greeting = cases
        .iter()
        .find(|c| c.name == "web/app GREETING")
        .expect("a case for GREETING");
    assert!(greeting.out.contains(NASTY), "{}", greeting.out);
    let (kind, message) = greeting.failure.as_ref().unwrap();
    assert_eq!(kind, "info");
    assert!(message.contains("GREETING differs"), "{message}");
    // SARIF: valid, the value intact.
    let (_, log) = sarif(&envs);
    let r = &results(&log)[0];
    assert_eq!(r["properties"]["values"]["prod"], NASTY);
    // Markdown: nothing in the value can start markup or break the table.
    let md = run(dated()
        .arg("audit")
        .args(&envs)
        .args(["--format", "markdown"]))
    .stdout;
    let row = md
        .lines()
        .find(|l| l.starts_with("| info | web/app |"))
        .unwrap_or_else(|| panic!("{md}"));
    // In a code span (where `<` is text, not HTML), its pipe escaped for the table.
    assert!(row.contains("`` a<b & \"c\" ]]> it's \\| `x` ``"), "{row}");
    let cells = row
        .char_indices()
        .filter(|(i, c)| *c == '|' && (*i == 0 || row.as_bytes()[i - 1] != b'\\'))
        .count();
    assert_eq!(
        cells, 7,
        "6 cells (severity, where, key, 2 values, rule): {row}"
    );
}

// ---------------------------------------------------------------------------
// Markdown for a pull request
// ---------------------------------------------------------------------------

fn markdown(extra: &[&str]) -> Run {
    run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "markdown"])
        .args(extra))
}

#[test]
fn markdown_starts_with_one_summary_line_then_the_critical_findings() {
    let r = markdown(&[]);
    assert_eq!(r.code, 1);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "**confdrift: 3 critical, 6 warning, 4 info** — dev vs staging vs prod (baseline) — gate **failed** (`--fail-on critical`)"
    );
    let critical = r.stdout.find("### Critical").unwrap();
    let first_details = r.stdout.find("<details>").unwrap();
    assert!(
        critical < first_details,
        "critical findings come before anything folded"
    );
    let table: Vec<&str> = r.stdout[critical..first_details]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Where"))
        .collect();
    assert_eq!(table.len(), 3, "{table:?}");
    for summary in [
        "<b>6 warning</b>",
        "<b>4 info</b>",
        "Values by environment",
        "Line differences",
        "Environments (3 of 3 read completely)",
        "Policy and what it suppressed",
    ] {
        assert!(r.stdout.contains(summary), "{summary}: {}", r.stdout);
    }
    let passing = markdown(&["--fail-on", "never"]);
    assert!(
        passing
            .stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("gate passed (`--fail-on never`)")
    );
}

#[test]
fn max_length_keeps_the_comment_under_the_limit_and_says_what_was_cut() {
    let full = markdown(&[]).stdout;
    let full_len = full.chars().count();
    assert!(full_len > 3000, "{full_len}");
    for limit in [full_len, 3000, 1500, 600, 120] {
        let r = markdown(&["--max-length", &limit.to_string()]);
        assert_eq!(r.code, 1, "the exit code does not depend on the cut");
        let len = r.stdout.chars().count();
        assert!(len <= limit, "{limit}: {len} characters");
        if limit == full_len {
            assert_eq!(r.stdout, full, "nothing cut when it fits");
            continue;
        }
        if limit >= 600 {
            assert!(
                r.stdout.starts_with("**confdrift: 3 critical"),
                "{}",
                r.stdout
            );
            assert!(r.stdout.contains("*Cut to fit"), "{limit}: {}", r.stdout);
            assert!(r.stdout.contains("--max-length"), "{}", r.stdout);
        }
    }
    // 3000 characters keep the findings (one cause, one finding: 13 of
    // them), and name the rest.
    let r = markdown(&["--max-length", "3000"]);
    assert!(r.stdout.contains("### Critical"));
    assert!(
        r.stdout.contains(
            "Cut to fit 3000 characters: values by environment, line differences, environments, policy not shown"
        ),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!("markdown_max_length_3000", portable(&r.stdout));
}

#[test]
fn max_length_needs_a_markdown_report() {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--max-length", "100"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--max-length applies to markdown"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// several reports from one run
// ---------------------------------------------------------------------------

#[test]
fn one_run_writes_every_report_and_each_equals_its_own_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--report", "table"])
        .arg("--report")
        .arg(format!("sarif={}", p("drift.sarif")))
        .arg("--report")
        .arg(format!("junit={}", p("drift.xml")))
        .arg("--report")
        .arg(format!("markdown={}", p("comment.md")))
        .args(["--max-length", "65000"])
        .arg("--report")
        .arg(format!("json={}", p("report.json"))));
    assert_eq!(r.code, 1, "the exit code is the gate's: {}", r.stderr);
    let alone =
        |format: &str| run(dated().arg("audit").args(demo()).args(["--format", format])).stdout;
    assert_eq!(r.stdout, alone("table"));
    assert_eq!(read(Path::new(&p("drift.sarif"))), alone("sarif"));
    assert_eq!(read(Path::new(&p("drift.xml"))), alone("junit"));
    assert_eq!(read(Path::new(&p("comment.md"))), alone("markdown"));
    assert_eq!(read(Path::new(&p("report.json"))), alone("json"));
    // Nothing but the reports is left in the directory (atomic writes).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["comment.md", "drift.sarif", "drift.xml", "report.json"]
    );

    // --format/--output still work, next to --report.
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "sarif", "--output"])
        .arg(p("drift.sarif"))
        .args(["--report", "junit"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, alone("junit"));
    valid_sarif("--output", &read(Path::new(&p("drift.sarif"))));
}

#[test]
fn report_arguments_that_cannot_work_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--report", "table", "--report", "json"],
            "more than one report would go to standard output",
        ),
        (
            &["--format", "json", "--report", "sarif=-"],
            "more than one report would go to standard output",
        ),
        (
            &["--report", "sarif=x.sarif", "--report", "junit=x.sarif"],
            "x.sarif is the output of two reports",
        ),
        (&["--report", "yaml=x"], "unknown format `yaml`"),
        (&["--report", "json="], "FILE is empty"),
    ];
    for (args, message) in cases {
        let r = run(dated().arg("audit").args(demo()).args(*args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn output_replaces_an_existing_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = write(dir.path(), "drift.sarif", "old contents");
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "sarif", "--output"])
        .arg(&out));
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    valid_sarif("replaced", &read(&out));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

// ---------------------------------------------------------------------------
// --candidate PATH --against NAME
// ---------------------------------------------------------------------------

fn json_of(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
}

fn gate(candidate: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .arg("--candidate")
        .arg(candidate)
        .args(["--against", "prod,staging", "--format", "json"])
        .args(extra));
    (r.code, json_of(&r))
}

fn with_rule<'v>(v: &'v serde_json::Value, rule: &str) -> Vec<&'v serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The candidate is the next version of prod: judged as prod after the
/// deploy next to staging (what was tested), never as a third environment.
#[test]
fn a_candidate_that_fixes_a_prod_problem_passes_and_says_what_it_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let file = candidate_file(dir.path(), "rendered.yaml", pool_fixed);
    let (code, v) = gate(&file, &[]);
    // prod's DEBUG switch (critical) is still there, but not this deploy's doing.
    assert_eq!(code, 0, "{v:#}");
    let names: Vec<&str> = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod", "staging"]);
    assert!(
        v["environments"][0]["source"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} applied to", file.display())),
        "{}",
        v["environments"][0]["source"]
    );
    assert!(with_rule(&v, "connection-pools-equal").is_empty());
    let deploy = &v["deploy"];
    assert_eq!(deploy["target"], "prod");
    assert_eq!(deploy["new"], 0);
    let resolved: Vec<(&str, &str)> = deploy["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["workload"].as_str().or(f["configmap"].as_str()).unwrap(),
            )
        })
        .collect();
    assert!(
        resolved.contains(&("connection-pools-equal", "checkout")),
        "{resolved:?}"
    );
    // What the deploy changes in prod, from what to what.
    let change = deploy["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["workload"] == "checkout" && c["key"] == "DB_POOL_SIZE")
        .unwrap_or_else(|| panic!("{deploy:#}"));
    assert_eq!(
        (&change["from"], &change["to"]),
        (&"5".into(), &"20".into())
    );
    // Findings already there are marked as such.
    let debug = with_rule(&v, "no-debug-in-prod");
    assert!(!debug.is_empty());
    assert!(debug.iter().all(|f| f["deploy"] == "existing"));
    // --fail-on-existing makes them count.
    let (code, _) = gate(&file, &["--fail-on-existing"]);
    assert_eq!(code, 1);
}

#[test]
fn a_candidate_that_introduces_a_problem_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let file = candidate_file(dir.path(), "rendered.yaml", debug_logging);
    let (code, v) = gate(&file, &[]);
    assert_eq!(code, 1);
    let debug = with_rule(&v, "no-debug-logging-in-prod");
    assert!(!debug.is_empty(), "{v:#}");
    assert!(
        debug
            .iter()
            .all(|f| f["deploy"] == "new" && f["severity"] == "critical")
    );
    assert_eq!(debug[0]["values"]["prod"], "debug");
    // The table says it too.
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .arg("--candidate")
        .arg(&file)
        .args(["--against", "prod,staging"]));
    assert!(
        r.stdout.contains("What this deploy changes in prod:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("LOG_LEVEL: info → debug"), "{}", r.stdout);
    assert!(
        r.stdout.contains("[already there before this deploy]"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_rule_that_watches_changes_gives_a_change_its_severity() {
    let dir = tempfile::tempdir().unwrap();
    let file = candidate_file(dir.path(), "rendered.yaml", pool_fixed);
    let policy = write(
        dir.path(),
        "changes.yaml",
        "apiVersion: confdrift/v1\nkind: Policy\nrules:\n  - id: pool-changes-need-review\n    key: DB_POOL_SIZE\n    kind: env\n    changes: true\n    severity: warning\n",
    );
    let policy = policy.display().to_string();
    let (code, v) = gate(&file, &["--policy", &policy, "--fail-on", "warning"]);
    assert_eq!(code, 1, "{v:#}");
    let watched = with_rule(&v, "pool-changes-need-review");
    assert_eq!(watched.len(), 1, "{v:#}");
    assert_eq!(watched[0]["code"], "changed-by-deploy");
    assert_eq!(watched[0]["severity"], "warning");
    assert_eq!(watched[0]["deploy"], "new");
    assert!(
        watched[0]["message"]
            .as_str()
            .unwrap()
            .contains("from 5 to 20"),
        "{}",
        watched[0]["message"]
    );
    // A change no rule watches is information, not drift.
    let (code, _) = gate(&file, &["--fail-on", "warning"]);
    assert_eq!(code, 0);
}

#[test]
fn several_against_the_first_is_deployed_to() {
    let dir = tempfile::tempdir().unwrap();
    let file = candidate_file(dir.path(), "rendered.yaml", pool_fixed);
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .arg("--candidate")
        .arg(&file)
        .args([
            "--against",
            "staging",
            "--against",
            "prod",
            "--format",
            "json",
        ]));
    let v = json_of(&r);
    assert_eq!(v["baseline"], "staging");
    assert_eq!(v["deploy"]["target"], "staging");
    assert_eq!(v["environments"].as_array().unwrap().len(), 2);
}

#[test]
fn candidate_mistakes_are_usage_errors() {
    let file = data("demo/staging/workloads.yaml");
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--candidate", &file, "--against", "prd"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--against prd: no such environment (configured: dev, staging, prod)"),
        "{}",
        r.stderr
    );
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--candidate", &file]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--against"), "{}", r.stderr);
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--against", "prod"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--candidate"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// snapshots
// ---------------------------------------------------------------------------

#[test]
fn demo_sarif_snapshot() {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "sarif"]));
    insta::assert_snapshot!("demo_sarif", portable(&r.stdout));
}

#[test]
fn demo_junit_snapshot() {
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .args(["--format", "junit"]));
    insta::assert_snapshot!("demo_junit", portable(&r.stdout));
}

/// The plain demo's Markdown is snapshot in tests/it/policy.rs; this one has
/// waived findings and a gate that passes.
#[test]
fn demo_markdown_waived_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.yaml", WAIVE_CRITICALS);
    let r = run(dated()
        .arg("audit")
        .args(demo())
        .arg("--policy")
        .arg(&waivers)
        .args(["--format", "markdown"]));
    assert_eq!(r.code, 0);
    let text = portable(&r.stdout).replace(&format!("{}/", dir.path().display()), "TMP/");
    insta::assert_snapshot!("demo_markdown_waived", text);
}
