//! A canary Secret value planted in every way a pod can get a Secret (`data`,
//! `stringData`, `secretKeyRef`, `envFrom`, `$(VAR)` expansion, secret and
//! projected volumes) must appear in no output of any command or format —
//! nor in a log line at `RUST_LOG=trace`, from confdrift or a dependency.

use std::path::PathBuf;

use crate::support::apiserver::{self, ApiServer, Fault, kubeconfig};
use crate::support::s3;
use crate::support::*;
use base64::Engine as _;

/// Every planted plain value, and its base64 form as it sits in `data`.
fn canaries() -> Vec<String> {
    let plain = [
        "CANARY-api-STAGING-7f3a9c",
        "CANARY-api-PROD-7f3a9c",
        "CANARY-db-SHARED-51be02",
        "CANARY-sign-STAGING-c0ffee",
        "CANARY-sign-PROD-c0ffee",
        "CANARY-tls-STAGING-99aa",
        "CANARY-tls-PROD-99aa",
    ];
    let mut all: Vec<String> = plain.iter().map(|s| s.to_string()).collect();
    for p in &plain[..3] {
        all.push(base64::engine::general_purpose::STANDARD.encode(p));
    }
    // Any fragment of the marker is a leak too, also as a hex dump (how a
    // WebSocket frame or a byte buffer is logged).
    all.push("CANARY".into());
    all.push("43414e415259".into());
    all.push("43414E415259".into());
    all
}

fn assert_clean(what: &str, text: &str) {
    for c in canaries() {
        assert!(!text.contains(&c), "{what} leaks {c}:\n{text}");
    }
}

fn envs() -> Vec<String> {
    vec![
        "--env".into(),
        format!("staging={}", data("canary/staging.yaml")),
        "--env".into(),
        format!("prod={}", data("canary/prod.yaml")),
    ]
}

#[test]
fn canary_secret_appears_in_no_audit_format() {
    for format in ["table", "json", "markdown", "sarif", "junit"] {
        let r = run(confdrift()
            .arg("audit")
            .args(envs())
            .args(["--format", format]));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("audit --format {format} stdout"), &r.stdout);
        assert_clean(&format!("audit --format {format} stderr"), &r.stderr);
        // The differing secrets are still reported, redacted.
        assert!(r.stdout.contains("redacted"), "{format}: {}", r.stdout);
    }
}

#[test]
fn canary_secret_appears_in_no_diff_output() {
    let r = run(confdrift().args(["diff", "staging", "prod"]).args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("diff", &r.stdout);
    assert_clean("diff stderr", &r.stderr);
    assert!(r.stdout.contains("API_KEY"));
}

/// `snapshot` of the canary environment: the run and the file written.
fn snapshot_of_canary(mut cmd: assert_cmd::Command) -> (Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.json");
    let r = run(cmd
        .args(["snapshot", "--env"])
        .arg(format!("prod={}", data("canary/prod.yaml")))
        .arg("--output")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = read(&out);
    (r, file)
}

#[test]
fn canary_secret_appears_in_no_snapshot() {
    let (r, file) = snapshot_of_canary(confdrift());
    assert_clean("snapshot file", &file);
    assert_clean("snapshot stderr", &r.stderr);
}

#[test]
fn secret_that_fails_to_parse_is_not_echoed_in_the_error() {
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", data("bad/secret-not-base64.yaml")))
        .arg("--env")
        .arg(format!("b={}", data("canary/prod.yaml"))));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("secret-not-base64.yaml"), "{}", r.stderr);
    assert!(!r.stderr.contains("plain-text"), "{}", r.stderr);
    assert_clean("error", &r.stderr);
}

#[test]
fn equal_secrets_share_a_redaction_label_and_different_ones_do_not() {
    let r = run(confdrift()
        .arg("audit")
        .args(envs())
        .args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let api = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "API_KEY" && f["workload"] == "api")
        .expect("API_KEY differs between staging and prod");
    assert_eq!(api["values"]["staging"], "<redacted A>");
    assert_eq!(api["values"]["prod"], "<redacted B>");
    // DB_PASSWORD is the same in both: no finding at all.
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"].as_str().is_some_and(|k| k.contains("DB_PASSWORD")))
    );
}

#[test]
fn canary_secret_appears_in_no_history_file_nor_nightly_format() {
    let dir = tempfile::tempdir().unwrap();
    for (now, format) in [
        ("2026-11-20T02:00:00Z", "markdown"),
        ("2026-11-21T02:00:00Z", "json"),
        ("2026-11-22T02:00:00Z", "html"),
        ("2026-11-23T02:00:00Z", "prometheus"),
    ] {
        let r = run(confdrift()
            .env("CONFDRIFT_NOW", now)
            .args([
                "report",
                "--fail-on",
                "never",
                "--format",
                format,
                "--history",
            ])
            .arg(dir.path())
            .args(envs()));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("report --format {format}"), &r.stdout);
        assert_clean("report stderr", &r.stderr);
    }
    let mut files = vec![dir.path().join("index.json")];
    for e in std::fs::read_dir(dir.path().join("runs")).unwrap() {
        files.push(e.unwrap().path());
    }
    assert_eq!(files.len(), 5);
    for f in files {
        assert_clean(&f.display().to_string(), &read(&f));
    }
}

// ---------------------------------------------------------------------------
// Logs: RUST_LOG=trace is on for every command below; nothing may leak, and
// the logs must really be there (a test of silence proves nothing when
// logging is off).
// ---------------------------------------------------------------------------

/// `confdrift` with every log level on.
fn traced() -> assert_cmd::Command {
    let mut cmd = confdrift();
    cmd.env("RUST_LOG", "trace");
    cmd
}

/// The log lines in `text`, of any target.
fn log_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            [" TRACE ", " DEBUG ", "  INFO ", "  WARN ", " ERROR "]
                .iter()
                .any(|level| l.contains(level))
        })
        .collect()
}

/// The log is on, names stages, and holds nothing from a dependency (see
/// `cli/logging.rs`: kube-client, tower-http, hyper, rustls and tungstenite
/// may print request URLs, response bodies or WebSocket frames).
fn assert_logged(what: &str, stderr: &str, expected: &[&str]) {
    assert!(
        !log_lines(stderr).is_empty(),
        "{what}: no log line:\n{stderr}"
    );
    for e in expected {
        assert!(stderr.contains(e), "{what}: no `{e}` in the log:\n{stderr}");
    }
    for line in log_lines(stderr) {
        assert!(line.contains(" confdrift::"), "{what}: not ours: {line}");
    }
    for dependency in ["kube_client", "tower", "hyper", "rustls", "tungstenite"] {
        assert!(
            !stderr.contains(dependency),
            "{what}: {dependency} logged:\n{stderr}"
        );
    }
    // Not a terminal: no colour, even with NO_COLOR unset.
    assert!(!stderr.contains('\u{1b}'), "{what}: ANSI in the log");
}

/// A stage-timing line: `… confdrift::app: evaluated findings=… elapsed=…`.
const EVALUATED: &str = "confdrift::app: evaluated findings=";

#[test]
fn rust_log_trace_leaks_no_canary_from_audit_in_any_format() {
    for format in ["table", "json", "markdown", "sarif", "junit"] {
        let r = run(traced()
            .env_remove("NO_COLOR")
            .arg("audit")
            .args(envs())
            .args(["--format", format]));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("traced audit --format {format} stdout"), &r.stdout);
        assert_clean(&format!("traced audit --format {format} stderr"), &r.stderr);
        assert_logged(
            format,
            &r.stderr,
            &[
                "confdrift::collect: collected objects=",
                // Per file and per document: names, lines and counts.
                "confdrift::collect::files: files found",
                "confdrift::collect::files: file read file=",
                "confdrift::collect::files: document read file=",
                "confdrift::app: policies loaded",
                "confdrift::app: compared deltas=",
                EVALUATED,
            ],
        );
        // Logs go to stderr only: the report is the report.
        assert!(log_lines(&r.stdout).is_empty(), "{format}: {}", r.stdout);
    }
}

#[test]
fn rust_log_trace_leaks_no_canary_from_diff_snapshot_report_lint_or_an_error() {
    let r = run(traced()
        .args(["diff", "staging", "prod", "--all"])
        .args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("traced diff", &r.stdout);
    assert_clean("traced diff stderr", &r.stderr);
    assert_logged("diff", &r.stderr, &[EVALUATED]);

    let (r, file) = snapshot_of_canary(traced());
    assert_clean("traced snapshot file", &file);
    assert_clean("traced snapshot stderr", &r.stderr);
    assert_logged("snapshot", &r.stderr, &["env{name=prod}"]);

    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    for (now, format) in [
        ("2026-11-20T02:00:00Z", "markdown"),
        ("2026-11-21T02:00:00Z", "json"),
        ("2026-11-22T02:00:00Z", "html"),
        ("2026-11-23T02:00:00Z", "prometheus"),
    ] {
        let r = run(traced()
            .env("CONFDRIFT_NOW", now)
            .args(["report", "--fail-on", "never", "--format", format])
            .arg("--history")
            .arg(&history)
            .args(envs()));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_clean(&format!("traced report --format {format}"), &r.stdout);
        assert_clean("traced report stderr", &r.stderr);
        assert_logged(
            format,
            &r.stderr,
            &[
                EVALUATED,
                "confdrift::history: history locked",
                "confdrift::history: run stored in the history",
            ],
        );
    }
    for e in std::fs::read_dir(history.join("runs")).unwrap() {
        let f = e.unwrap().path();
        assert_clean(&f.display().to_string(), &read(&f));
    }

    let r = run(traced().args(["policy", "lint"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(
        "policy lint",
        &r.stderr,
        &["confdrift::policy: policy file read file=policies/default.yaml"],
    );

    // An input error: the error names the file, the log what was tried.
    let r = run(traced()
        .arg("audit")
        .arg("--env")
        .arg(format!("a={}", data("bad/secret-not-base64.yaml")))
        .arg("--env")
        .arg(format!("b={}", data("canary/prod.yaml"))));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("plain-text"), "{}", r.stderr);
    assert_clean("traced error", &r.stderr);
    assert_logged("error", &r.stderr, &["collection failed"]);
}

/// The canary fixtures served live, with one running pod of `api` whose
/// `env` holds the Secret's values as a real container's would.
struct LiveCanary {
    staging: ApiServer,
    prod: ApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn live_canary() -> LiveCanary {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-7c9d-x2k4p\n  namespace: canary\n  \
         labels: {app: api}\nspec:\n  containers: [{name: server, image: example/api:1.0}]\n\
         status: {phase: Running}\n",
    )
    .unwrap();
    let serve = |env: &str| {
        let fixture = root().join(format!("testdata/canary/{env}.yaml"));
        let server = ApiServer::start(&[fixture.as_path(), pod.as_path()]);
        let upper = env.to_uppercase();
        server.exec_env(
            "server",
            &format!(
                "{}API_KEY=CANARY-api-{upper}-7f3a9c\nFROM_SIGNING_KEY=CANARY-sign-{upper}-c0ffee\n\
                 VAULT_TOKEN=CANARY-vault-{upper}\n",
                apiserver::BASE_ENV
            ),
        );
        server
    };
    let (staging, prod) = (serve("staging"), serve("prod"));
    let kubeconfig = kubeconfig(
        dir.path(),
        &[("ctx-staging", &staging.url()), ("ctx-prod", &prod.url())],
    );
    LiveCanary {
        staging,
        prod,
        dir,
        kubeconfig,
    }
}

impl LiveCanary {
    fn envs(&self) -> [&'static str; 4] {
        [
            "--env",
            "staging=kube:ctx-staging/canary",
            "--env",
            "prod=kube:ctx-prod/canary",
        ]
    }

    fn run(&self, cmd: &mut assert_cmd::Command) -> Run {
        run(cmd.env("KUBECONFIG", &self.kubeconfig))
    }
}

#[test]
fn rust_log_trace_leaks_no_canary_from_the_live_path_with_runtime_env() {
    let l = live_canary();
    // A retry, so that backoff is logged too.
    l.prod.fault(Fault {
        path: "/configmaps".into(),
        status: Some(500),
        times: Some(1),
        ..Fault::default()
    });
    let out = l.dir.path();
    let reports = ["json", "markdown", "sarif", "junit"].map(|f| (f, out.join(f)));
    let mut cmd = traced();
    cmd.args([
        "audit",
        "--runtime-env",
        "--fail-on",
        "never",
        "--report",
        "table",
    ])
    .args(l.envs());
    for (format, path) in &reports {
        cmd.arg("--report")
            .arg(format!("{format}={}", path.display()));
    }
    let r = l.run(&mut cmd);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("VAULT_TOKEN"), "{}", r.stdout);
    assert_clean("traced live audit", &r.stdout);
    assert_clean("traced live audit stderr", &r.stderr);
    for (format, path) in &reports {
        assert_clean(format, &read(path));
    }
    assert_logged(
        "live audit",
        &r.stderr,
        &[
            // The Secret list, page by page, by path only.
            "method=GET path=/api/v1/namespaces/canary/secrets limit=500 \
             continue_token=false status=200 attempt=1",
            "confdrift::collect::kube: listed path=/api/v1/namespaces/canary/secrets",
            "env{name=prod}",
            "retrying path=/api/v1/namespaces/canary/configmaps status=500 attempt=1",
            "pod=api-7c9d-x2k4p container=server outcome=ok",
            EVALUATED,
        ],
    );
    // Never a query's text: the continue token and selector are the server's
    // and the config's.
    assert!(!r.stderr.contains('?'), "{}", r.stderr);

    // diff and snapshot, live.
    let r = l.run(
        traced()
            .args(["diff", "staging", "prod", "--all", "--runtime-env"])
            .args(l.envs()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("traced live diff", &r.stdout);
    assert_clean("traced live diff stderr", &r.stderr);
    assert_logged("live diff", &r.stderr, &["outcome=ok", EVALUATED]);
    let snap = out.join("snap.json");
    let r = l.run(
        traced()
            .args([
                "snapshot",
                "--runtime-env",
                "--env",
                "prod=kube:ctx-prod/canary",
            ])
            .arg("--output")
            .arg(&snap),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_clean("traced live snapshot", &read(&snap));
    assert_clean("traced live snapshot stderr", &r.stderr);
    assert_logged("live snapshot", &r.stderr, &["outcome=ok"]);
    assert!(!l.staging.requests().is_empty());
}

#[test]
fn rust_log_trace_leaks_no_canary_when_the_live_path_fails() {
    let l = live_canary();
    l.prod.fault(Fault {
        path: "/secrets".into(),
        status: Some(403),
        ..Fault::default()
    });
    l.staging.exec_missing_env("server");
    let r = l.run(
        traced()
            .args(["audit", "--runtime-env", "--format", "json"])
            .args(l.envs()),
    );
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_clean("traced failing live audit", &r.stdout);
    assert_clean("traced failing live audit stderr", &r.stderr);
    assert_logged(
        "failing live audit",
        &r.stderr,
        &[
            "path=/api/v1/namespaces/canary/secrets limit=500 continue_token=false status=403 \
             code=forbidden",
            "outcome=failed",
        ],
    );
}

#[test]
fn dependencies_never_log_whatever_rust_log_asks() {
    let l = live_canary();
    let r = l.run(
        confdrift()
            .env(
                "RUST_LOG",
                "kube=trace,kube_client=trace,tower=trace,tower_http=trace,hyper=trace,\
                 hyper_util=trace,rustls=trace,tungstenite=trace,tokio_tungstenite=trace",
            )
            .args([
                "audit",
                "--runtime-env",
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .args(l.envs()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

#[test]
fn without_rust_log_or_verbose_stderr_holds_no_log_line() {
    let l = live_canary();
    for rust_log in [None, Some(""), Some("  ")] {
        let mut cmd = confdrift();
        if let Some(v) = rust_log {
            cmd.env("RUST_LOG", v);
        }
        let r = l.run(
            cmd.args([
                "audit",
                "--runtime-env",
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .args(l.envs()),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stderr, "", "RUST_LOG={rust_log:?}");
    }
    let r = run(confdrift().arg("audit").args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

#[test]
fn verbose_flags_log_confdrift_at_info_then_debug() {
    let r = run(confdrift().args(["audit", "-v"]).args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged("-v", &r.stderr, &[EVALUATED]);
    assert!(!r.stderr.contains(" DEBUG "), "{}", r.stderr);
    let r = run(confdrift()
        .args(["-vv", "diff", "staging", "prod"])
        .args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged("-vv", &r.stderr, &[" DEBUG ", EVALUATED]);
    assert!(!r.stderr.contains(" TRACE "), "{}", r.stderr);
    assert_clean("-vv", &r.stderr);
    // RUST_LOG wins over -v.
    let r = run(confdrift()
        .env("RUST_LOG", "confdrift=warn")
        .args(["audit", "-vvv"])
        .args(envs()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

/// Every object a fleet writes to a bucket — gzip snapshots, the `latest`
/// pointer, the history's runs and index, HTML and metrics — holds no
/// Secret value; and the bucket's own secret key shows in no output, even
/// at -vvv.
#[test]
#[ignore = "needs s3s-fs: cargo install s3s-fs@0.14.1 --locked --features binary (CI runs it)"]
fn canary_secret_appears_in_no_object_written_to_a_bucket() {
    use std::io::Read as _;
    let server = s3::S3Server::start();
    let with_bucket = || {
        let mut cmd = confdrift();
        cmd.env("CONFDRIFT_NOW", "2026-12-07T02:00:00Z");
        for (k, v) in server.env() {
            cmd.env(k, v);
        }
        cmd
    };
    let mut outputs = Vec::new();
    for env in ["staging", "prod"] {
        let r = run(with_bucket()
            .args(["-vvv", "snapshot", "--env"])
            .arg(format!("{env}={}", data(&format!("canary/{env}.yaml"))))
            .arg("--output")
            .arg(format!("s3://{}/cd/{env}/", s3::BUCKET)));
        assert_eq!(r.code, 0, "{}", r.stderr);
        outputs.push(r);
    }
    let r = run(with_bucket().args([
        "-vvv",
        "report",
        "--fail-on",
        "never",
        "--env",
        &format!("staging=s3://{}/cd/staging/", s3::BUCKET),
        "--env",
        &format!("prod=s3://{}/cd/prod/", s3::BUCKET),
        "--history",
        &format!("s3://{}/cd/history/", s3::BUCKET),
        "--report",
        &format!("html=s3://{}/cd/latest.html", s3::BUCKET),
        "--report",
        &format!("prometheus=s3://{}/cd/confdrift.prom", s3::BUCKET),
        "--report",
        &format!("json=s3://{}/cd/latest.json", s3::BUCKET),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    outputs.push(r);
    for r in &outputs {
        assert_clean("stdout", &r.stdout);
        assert_clean("stderr", &r.stderr);
        assert!(!r.stderr.contains(s3::SECRET_KEY), "{}", r.stderr);
        assert!(!r.stdout.contains(s3::SECRET_KEY));
    }
    let objects = server.objects();
    let names: Vec<&str> = objects.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "latest",
        ".json.gz",
        "index.json",
        "latest.html",
        "confdrift.prom",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(want)),
            "no {want} in {names:?}"
        );
    }
    for (name, bytes) in &objects {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            text.clear();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
            assert!(text.contains("fingerprint"), "{name} is a snapshot");
        }
        assert_clean(name, &text);
        assert!(!text.contains(s3::SECRET_KEY), "{name}");
    }
}
