//! Fleets: every cluster writes its snapshot to object storage, one job
//! audits them all. Against a real S3 server (`s3s-fs`) on 127.0.0.1, the
//! real binary, credentials only in the environment.

use crate::support::*;
use s3::{BUCKET, S3Server, SECRET_KEY};

const NOW: &str = "2026-12-07T02:00:00Z";

/// The AWS variables of a client.
type ClientEnv = Vec<(&'static str, String)>;

/// `confdrift` talking to `env` (an S3 endpoint and its keys), with the clock at `now`.
fn with_store(env: &[(&'static str, String)], now: &str) -> assert_cmd::Command {
    let mut cmd = confdrift();
    cmd.env("CONFDRIFT_NOW", now);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn snapshot_to(server: &S3Server, env: &str, source: &str, url: &str, now: &str) -> Run {
    run(with_store(&server.env(), now)
        .args(["snapshot", "--env"])
        .arg(format!("{env}={source}"))
        .args(["--output", url]))
}

fn audit_json(cmd: &mut assert_cmd::Command) -> (Run, serde_json::Value) {
    let r = run(cmd.args(["--format", "json"]));
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r, v)
}

fn problems(report: &serde_json::Value, env: &str) -> Vec<String> {
    report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == env)
        .unwrap_or_else(|| panic!("no environment {env}"))["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

fn env_report<'a>(report: &'a serde_json::Value, env: &str) -> &'a serde_json::Value {
    report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == env)
        .unwrap()
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn snapshots_in_a_bucket_audit_like_the_files_they_came_from() {
    let server = S3Server::start();
    let mut envs = Vec::new();
    for env in ["dev", "staging", "prod"] {
        let url = format!("s3://{BUCKET}/confdrift/{env}/");
        let r = snapshot_to(&server, env, &data(&format!("demo/{env}")), &url, NOW);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{url}20261207T020000Z.json.gz")),
            "{}",
            r.stderr
        );
        envs.push("--env".to_string());
        envs.push(format!("{env}={url}"));
    }
    // The layout: a gzip snapshot and a pointer per environment.
    let objects = server.objects();
    let names: Vec<&str> = objects.iter().map(|(n, _)| n.as_str()).collect();
    for env in ["dev", "staging", "prod"] {
        let snap = format!("{BUCKET}/confdrift/{env}/20261207T020000Z.json.gz");
        let (_, bytes) = objects
            .iter()
            .find(|(n, _)| *n == snap)
            .unwrap_or_else(|| panic!("no {snap} in {names:?}"));
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{snap} is gzip");
        let latest = objects
            .iter()
            .find(|(n, _)| *n == format!("{BUCKET}/confdrift/{env}/latest"))
            .unwrap_or_else(|| panic!("no latest in {names:?}"));
        let pointer: serde_json::Value = serde_json::from_slice(&latest.1).unwrap();
        assert_eq!(pointer["object"], "20261207T020000Z.json.gz");
        assert_eq!(pointer["environment"], env);
    }
    let (r, from_bucket) = audit_json(
        with_store(&server.env(), "2026-12-07T05:30:00Z")
            .arg("audit")
            .args(&envs),
    );
    let (_, from_files) = audit_json(confdrift().env("CONFDRIFT_NOW", NOW).args([
        "audit",
        "--config",
        "testdata/demo/confdrift.yaml",
    ]));
    assert_eq!(
        from_bucket["findings"], from_files["findings"],
        "{}",
        r.stderr
    );
    assert_eq!(from_bucket["summary"], from_files["summary"]);
    for env in ["dev", "staging", "prod"] {
        let (a, b) = (env_report(&from_bucket, env), env_report(&from_files, env));
        assert_eq!(a["coverage"], b["coverage"]);
        assert_eq!(a["complete"], true, "{a}");
        // The coverage line says which object and how old it is.
        assert_eq!(
            a["source"],
            format!(
                "s3://{BUCKET}/confdrift/{env}/ → 20261207T020000Z.json.gz, taken {NOW} (3h 30m ago)"
            )
        );
    }
    // A full object URL reads that object.
    let (r, one) = audit_json(
        with_store(&server.env(), NOW)
            .arg("audit")
            .arg("--env")
            .arg(format!(
                "staging=s3://{BUCKET}/confdrift/staging/20261207T020000Z.json.gz"
            ))
            .arg("--env")
            .arg(format!("prod=s3://{BUCKET}/confdrift/prod/")),
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_eq!(env_report(&one, "staging")["complete"], true);
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn a_plain_json_object_and_a_file_url_are_read_too() {
    let server = S3Server::start();
    let url = format!("s3://{BUCKET}/one/prod.json");
    let r = snapshot_to(&server, "prod", &data("demo/prod"), &url, NOW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stored = std::fs::read(server.object_path(BUCKET, "one/prod.json")).unwrap();
    assert_eq!(stored[0], b'{', "not gzip: the name does not end in .gz");
    let dir = tempfile::tempdir().unwrap();
    let file_url = format!("file://{}/snaps/", dir.path().display());
    let r = snapshot_to(&server, "staging", &data("demo/staging"), &file_url, NOW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, v) = audit_json(
        with_store(&server.env(), NOW)
            .arg("audit")
            .arg("--env")
            .arg(format!("staging={file_url}"))
            .arg("--env")
            .arg(format!("prod={url}")),
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_eq!(env_report(&v, "staging")["complete"], true, "{v}");
    assert_eq!(env_report(&v, "prod")["complete"], true, "{v}");
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn a_stale_snapshot_makes_its_environment_incomplete_exit_3() {
    let server = S3Server::start();
    for (env, time) in [("staging", "2026-12-05T00:00:00Z"), ("prod", NOW)] {
        let url = format!("s3://{BUCKET}/cd/{env}/");
        let r = snapshot_to(&server, env, &data(&format!("demo/{env}")), &url, time);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let args = [
        "audit",
        "--fail-on",
        "never",
        "--env",
        &format!("staging=s3://{BUCKET}/cd/staging/"),
        "--env",
        &format!("prod=s3://{BUCKET}/cd/prod/"),
    ];
    let (r, v) = audit_json(with_store(&server.env(), NOW).args(args));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(problems(&v, "staging"), ["snapshot-stale"]);
    assert!(problems(&v, "prod").is_empty());
    // Still audited, just not passed.
    assert_eq!(env_report(&v, "staging")["complete"], false);
    let r = run(with_store(&server.env(), NOW)
        .args(args)
        .arg("--allow-partial"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("more than the max age of 1d 2h"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("2d 2h ago"), "{}", r.stdout);
    // A longer --max-age accepts it.
    let r = run(with_store(&server.env(), NOW)
        .args(args)
        .args(["--max-age", "3d"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // So does the environment's max_age in confdrift.yaml.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("confdrift.yaml");
    std::fs::write(
        &config,
        format!(
            "environments:\n  staging: {{url: \"s3://{BUCKET}/cd/staging/\", max_age: 50h}}\n  \
             prod: {{url: \"s3://{BUCKET}/cd/prod/\"}}\n"
        ),
    )
    .unwrap();
    let r = run(with_store(&server.env(), NOW)
        .args(["audit", "--fail-on", "never", "--config"])
        .arg(&config));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// Each way object storage fails is a named problem of its environment;
/// the other environment is still audited.
#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn every_object_storage_fault_is_a_named_problem_of_its_environment() {
    let server = S3Server::start();
    let good = format!("s3://{BUCKET}/cd/prod/");
    let r = snapshot_to(&server, "prod", &data("demo/prod"), &good, NOW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A truncated gzip object and one that is not gzip nor JSON.
    let snap = server.object_path(BUCKET, "cd/prod/20261207T020000Z.json.gz");
    let bytes = std::fs::read(&snap).unwrap();
    let put = |key: &str, content: &[u8]| {
        let p = server.object_path(BUCKET, key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    put("bad/truncated.json.gz", &bytes[..bytes.len() / 2]);
    put(
        "bad/garbage.json.gz",
        b"\x1f\x8b\x08\x00garbage, not deflate",
    );
    std::fs::create_dir_all(server.object_path(BUCKET, "empty")).unwrap();
    let wrong_secret = s3::client_env(&server.endpoint(), "not-the-secret-key");
    let silent = s3::Silent::start();
    let cases: Vec<(&str, String, ClientEnv)> = vec![
        (
            "object-no-bucket",
            "s3://no-such-bucket/cd/prod/".into(),
            server.env(),
        ),
        ("object-access-denied", good.clone(), wrong_secret),
        (
            "object-not-found",
            format!("s3://{BUCKET}/cd/prod/20200101T000000Z.json.gz"),
            server.env(),
        ),
        (
            "snapshot-no-latest",
            format!("s3://{BUCKET}/empty/"),
            server.env(),
        ),
        (
            "snapshot-corrupt",
            format!("s3://{BUCKET}/bad/truncated.json.gz"),
            server.env(),
        ),
        (
            "snapshot-corrupt",
            format!("s3://{BUCKET}/bad/garbage.json.gz"),
            server.env(),
        ),
        (
            "object-endpoint-down",
            good.clone(),
            s3::client_env(&s3::closed_endpoint(), SECRET_KEY),
        ),
        (
            "object-timeout",
            good.clone(),
            s3::client_env(&silent.endpoint(), SECRET_KEY),
        ),
    ];
    for (code, url, env) in cases {
        let (r, v) = audit_json(
            with_store(&env, NOW)
                .env("CONFDRIFT_OBJECT_TIMEOUT", "1s")
                .arg("audit")
                .arg("--env")
                .arg(format!("staging={}", data("demo/staging")))
                .arg("--env")
                .arg(format!("prod={url}")),
        );
        assert_eq!(r.code, 3, "{code}: {}", r.stderr);
        assert_eq!(problems(&v, "prod"), [code], "{url}: {v}");
        assert_eq!(env_report(&v, "staging")["complete"], true, "{code}");
        assert!(
            env_report(&v, "staging")["coverage"]["workloads"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(!r.stdout.contains(SECRET_KEY) && !r.stderr.contains(SECRET_KEY));
    }
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn a_snapshot_that_cannot_be_written_exits_2_and_leaves_the_last_one() {
    let server = S3Server::start();
    let url = format!("s3://{BUCKET}/cd/prod/");
    let r = snapshot_to(&server, "prod", &data("demo/prod"), &url, NOW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = server.objects();
    for (env, why) in [
        (
            s3::client_env(&server.endpoint(), "not-the-secret-key"),
            "access denied",
        ),
        (
            s3::client_env(&s3::closed_endpoint(), SECRET_KEY),
            "cannot be reached",
        ),
    ] {
        let r = run(with_store(&env, "2026-12-08T02:00:00Z")
            .env("CONFDRIFT_OBJECT_TIMEOUT", "1s")
            .args(["snapshot", "--env"])
            .arg(format!("prod={}", data("demo/prod")))
            .args(["--output", &url]));
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(why), "{}", r.stderr);
        assert!(!r.stderr.contains(SECRET_KEY));
    }
    // (A bucket that does not exist cannot be shown here: s3s-fs creates
    // it on the first PUT, where S3 answers NoSuchBucket.)
    assert_eq!(server.objects(), before, "nothing changed in the bucket");
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn credentials_never_show_even_at_trace() {
    let server = S3Server::start();
    let url = format!("s3://{BUCKET}/cd/prod/");
    let r = run(with_store(&server.env(), NOW)
        .args(["-vvv", "snapshot", "--env"])
        .arg(format!("prod={}", data("demo/prod")))
        .args(["--output", &url]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains(SECRET_KEY), "{}", r.stderr);
    let r = run(with_store(&server.env(), NOW)
        .env("RUST_LOG", "trace")
        .args(["audit", "--env"])
        .arg(format!("staging={}", data("demo/staging")))
        .arg("--env")
        .arg(format!("prod={url}")));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(r.stderr.contains("snapshot read from object storage"));
    assert!(!r.stderr.contains(SECRET_KEY) && !r.stdout.contains(SECRET_KEY));
    let r = run(with_store(&server.env(), NOW).args([
        "audit",
        "--env",
        "prod=s3://user:pass-CANARY@fleet/cd/",
    ]));
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("pass-CANARY"), "{}", r.stderr);
}

fn report_cmd(server: &S3Server, now: &str) -> assert_cmd::Command {
    let mut cmd = with_store(&server.env(), now);
    cmd.args(["report", "--fail-on", "never", "--env"])
        .arg(format!("staging={}", data("demo/staging")))
        .arg("--env")
        .arg(format!("prod={}", data("demo/prod")))
        .args(["--history", &format!("s3://{BUCKET}/cd/history/")]);
    cmd
}

fn index(server: &S3Server) -> serde_json::Value {
    let bytes = std::fs::read(server.object_path(BUCKET, "cd/history/index.json"))
        .expect("the history index is in the bucket");
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn the_history_and_reports_live_in_the_bucket() {
    let server = S3Server::start();
    let r = run(report_cmd(&server, "2026-12-06T04:00:00Z").args([
        "--format",
        "json",
        "--output",
        &format!("s3://{BUCKET}/cd/report/latest.json"),
        "--report",
        &format!("html=s3://{BUCKET}/cd/report/latest.html"),
        "--report",
        &format!("prometheus=s3://{BUCKET}/cd/report/confdrift.prom"),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(report_cmd(&server, NOW).args(["--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["history"]["previous_run"], "2026-12-06T04:00:00Z");
    assert_eq!(v["history"]["new"], 0, "the same drift as the night before");
    assert!(v["history"]["persisting"].as_u64().unwrap() > 0);
    assert_eq!(index(&server)["runs"].as_array().unwrap().len(), 2);
    let html =
        std::fs::read_to_string(server.object_path(BUCKET, "cd/report/latest.html")).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.contains("<html"),
        "{html}"
    );
    let prom =
        std::fs::read_to_string(server.object_path(BUCKET, "cd/report/confdrift.prom")).unwrap();
    assert!(prom.contains("confdrift_"), "{prom}");
    let json = std::fs::read(server.object_path(BUCKET, "cd/report/latest.json")).unwrap();
    serde_json::from_slice::<serde_json::Value>(&json).unwrap();
    // A report that cannot be written: exit 2, named.
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        with_store(&s3::client_env(&s3::closed_endpoint(), SECRET_KEY), NOW)
            .env("CONFDRIFT_OBJECT_TIMEOUT", "1s")
            .args(["report", "--fail-on", "never", "--env"])
            .arg(format!("staging={}", data("demo/staging")))
            .arg("--env")
            .arg(format!("prod={}", data("demo/prod")))
            .arg("--history")
            .arg(dir.path())
            .args(["--output", &format!("s3://{BUCKET}/cd/report/latest.md")]),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be reached"), "{}", r.stderr);
}

/// Two reporters at the same time on one history in a bucket, at the same
/// clock: conditional writes, no lock, and every run is in the index.
#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn two_reporters_at_once_lose_no_run() {
    let server = S3Server::start();
    const ROUNDS: usize = 3;
    let mut children = Vec::new();
    for _ in 0..2 {
        let env = server.env();
        let bucket_history = format!("s3://{BUCKET}/cd/history/");
        let staging = data("demo/staging");
        let prod = data("demo/prod");
        children.push(std::thread::spawn(move || {
            let mut codes = Vec::new();
            for _ in 0..ROUNDS {
                let mut cmd = with_store(&env, NOW);
                cmd.args(["report", "--fail-on", "never", "--format", "json", "--env"])
                    .arg(format!("staging={staging}"))
                    .arg("--env")
                    .arg(format!("prod={prod}"))
                    .args(["--history", &bucket_history]);
                let r = run(&mut cmd);
                codes.push((r.code, r.stderr));
            }
            codes
        }));
    }
    for c in children {
        for (code, stderr) in c.join().unwrap() {
            assert_eq!(code, 0, "{stderr}");
        }
    }
    let idx = index(&server);
    let runs = idx["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2 * ROUNDS, "{idx}");
    let mut files: Vec<&str> = runs.iter().map(|r| r["file"].as_str().unwrap()).collect();
    files.sort();
    files.dedup();
    assert_eq!(
        files.len(),
        2 * ROUNDS,
        "every run has its own report: {files:?}"
    );
    for f in files {
        assert!(
            server
                .object_path(BUCKET, &format!("cd/history/{f}"))
                .is_file(),
            "{f} is stored"
        );
    }
}
