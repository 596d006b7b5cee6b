//! The live path, end to end: the real binary with the real `kube` client
//! over real HTTP, against the API server stand-in on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::apiserver::{self, ApiServer, Fault, kubeconfig};
use crate::support::*;

fn demo(env: &str) -> Vec<PathBuf> {
    [
        "workloads.yaml",
        "pods.yaml",
        "configmaps.yaml",
        "secrets.yaml",
    ]
    .iter()
    .map(|f| root().join("testdata/demo").join(env).join(f))
    .collect()
}

fn serve(env: &str) -> ApiServer {
    let files = demo(env);
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    ApiServer::start(&refs)
}

struct Live {
    staging: ApiServer,
    prod: ApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn live() -> Live {
    let staging = serve("staging");
    let prod = serve("prod");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(
        dir.path(),
        &[("ctx-staging", &staging.url()), ("ctx-prod", &prod.url())],
    );
    Live {
        staging,
        prod,
        dir,
        kubeconfig,
    }
}

impl Live {
    /// A confdrift.yaml with both environments live.
    fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("confdrift.yaml");
        std::fs::write(
            &path,
            format!(
                "baseline: prod\nenvironments:\n  staging: {{context: ctx-staging, namespaces: [shop]{extra}}}\n  prod: {{context: ctx-prod, namespaces: [shop]{extra}}}\n"
            ),
        )
        .unwrap();
        path
    }

    fn audit(&self, config: &Path, args: &[&str]) -> Run {
        run(confdrift()
            .env("KUBECONFIG", &self.kubeconfig)
            .arg("audit")
            .arg("--config")
            .arg(config)
            .args(args))
    }
}

fn offline() -> serde_json::Value {
    let r = run(confdrift()
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("demo/staging")))
        .arg("--env")
        .arg(format!("prod={}", data("demo/prod")))
        .args(["--format", "json", "--fail-on", "never"]));
    json(&r)
}

#[test]
fn live_audit_of_two_contexts_equals_the_offline_audit_of_the_same_objects() {
    let l = live();
    let r = l.audit(&l.config(""), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let live = json(&r);
    let offline = offline();
    assert_eq!(live["findings"], offline["findings"]);
    assert_eq!(live["summary"], offline["summary"]);
    for (a, b) in live["environments"]
        .as_array()
        .unwrap()
        .iter()
        .zip(offline["environments"].as_array().unwrap())
    {
        assert_eq!(a["complete"], true, "{a}");
        assert_eq!(a["coverage"]["workloads"], b["coverage"]["workloads"]);
        assert_eq!(a["coverage"]["keys"], b["coverage"]["keys"]);
    }
    // Both clusters were asked.
    assert!(!l.staging.requests().is_empty());
    assert!(!l.prod.requests().is_empty());
}

#[test]
fn only_get_requests_are_ever_sent() {
    let l = live();
    let r = l.audit(&l.config(""), &["--format", "json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    for server in [&l.staging, &l.prod] {
        for req in server.requests() {
            assert_eq!(req.method, "GET", "{req:?}");
        }
    }
}

#[test]
fn pagination_reads_every_page() {
    let l = live();
    let r = l.audit(
        &l.config(", page_size: 2"),
        &["--format", "json", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
    let continues = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("continue="))
        .count();
    assert!(continues >= 5, "only {continues} continue requests");
    assert!(
        l.prod
            .requests()
            .iter()
            .all(|r| !r.uri.contains("limit=") || r.uri.contains("limit=2"))
    );
}

#[test]
fn an_expired_continue_token_restarts_the_list() {
    let l = live();
    l.prod.fault(Fault {
        path: "/pods".into(),
        status: Some(410),
        times: Some(1),
        only_continue: true,
        ..Fault::default()
    });
    let r = l.audit(
        &l.config(", page_size: 2"),
        &["--format", "json", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
    // The pod list started over: two first-page requests for pods.
    let first_pages = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/namespaces/shop/pods?") && !r.uri.contains("continue="))
        .count();
    assert_eq!(first_pages, 2);
}

#[test]
fn forbidden_secrets_make_the_environment_incomplete_and_exit_3() {
    let l = live();
    l.prod.fault(Fault {
        path: "/secrets".into(),
        status: Some(403),
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let v = json(&r);
    let prod = &v["environments"][1];
    assert_eq!(prod["complete"], false);
    let msg = prod["problems"].to_string();
    assert!(msg.contains("RBAC forbids `list` on `secrets`"), "{msg}");
    assert!(msg.contains("ctx-prod"), "{msg}");
    assert_eq!(v["environments"][0]["complete"], true);
    // The API key is unresolved in prod, never "equal"; no dangling
    // reference is invented for a Secret that merely could not be read.
    let api = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "API_KEY")
        .expect("API_KEY reported");
    assert_eq!(api["code"], "value-unresolved");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "dangling-reference" && f["environment"] == "prod")
    );
    // 403 is never retried.
    let secret_requests = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/secrets"))
        .count();
    assert_eq!(secret_requests, 1);
    // --allow-partial: exit decided by findings (staging's dangling reference).
    let r = l.audit(&l.config(""), &["--format", "json", "--allow-partial"]);
    assert_eq!(r.code, 1);
    let r = l.audit(
        &l.config(""),
        &["--format", "json", "--allow-partial", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0);
}

#[test]
fn a_missing_namespace_is_reported_not_taken_for_empty() {
    let l = live();
    let path = l.dir.path().join("confdrift.yaml");
    std::fs::write(
        &path,
        "environments:\n  staging: {context: ctx-staging, namespaces: [shop]}\n  prod: {context: ctx-prod, namespaces: [shopp]}\n",
    )
    .unwrap();
    let r = l.audit(&path, &["--format", "json"]);
    assert_eq!(r.code, 3);
    let v = json(&r);
    assert!(
        v["environments"][1]["problems"]
            .to_string()
            .contains("namespace shopp does not exist")
    );
}

#[test]
fn a_server_that_never_answers_times_out_and_the_other_environment_is_still_reported() {
    let l = live();
    l.prod.fault(Fault {
        path: "/".into(),
        hang: true,
        ..Fault::default()
    });
    let started = std::time::Instant::now();
    let r = l.audit(&l.config(", timeout: 2s"), &["--format", "json"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    assert_eq!(v["environments"][0]["complete"], true);
    assert_eq!(v["environments"][0]["coverage"]["workloads"], 5);
    assert_eq!(v["environments"][1]["complete"], false);
    assert!(
        v["environments"][1]["problems"]
            .to_string()
            .contains("did not answer within 2s")
    );
    // Not a hang: bounded by the environment's timeout (generously).
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn throttling_is_retried_after_the_servers_retry_after() {
    let l = live();
    l.prod.fault(Fault {
        path: "/configmaps".into(),
        status: Some(429),
        retry_after: Some(1),
        times: Some(1),
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
    let cm = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/configmaps"))
        .count();
    assert_eq!(cm, 2, "one throttled request and one retry");
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times() {
    let l = live();
    l.prod.fault(Fault {
        path: "/deployments".into(),
        status: Some(500),
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json"]);
    assert_eq!(r.code, 3);
    let tries = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/deployments"))
        .count();
    assert_eq!(tries, 4, "bounded retries, no storm");
    assert!(
        json(&r)["environments"][1]["problems"]
            .to_string()
            .contains("HTTP 500")
    );
}

#[test]
fn unknown_context_is_reported_with_what_to_do() {
    let l = live();
    let path = l.dir.path().join("confdrift.yaml");
    std::fs::write(
        &path,
        "environments:\n  staging: {context: ctx-staging, namespaces: [shop]}\n  prod: {context: gke-prod, namespaces: [shop]}\n",
    )
    .unwrap();
    let r = l.audit(&path, &["--format", "json"]);
    assert_eq!(r.code, 3);
    let problems = json(&r)["environments"][1]["problems"].to_string();
    assert!(problems.contains("gke-prod"), "{problems}");
    assert!(
        problems.contains("kubectl config get-contexts"),
        "{problems}"
    );
}

#[test]
fn env_flag_takes_a_live_source() {
    let l = live();
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args(["audit", "--env", "staging=kube:ctx-staging/shop", "--env"])
        .arg(format!("prod={}", data("demo/prod")))
        .args(["--format", "json", "--fail-on", "never"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
}

#[test]
fn a_live_snapshot_audits_like_the_live_cluster() {
    let l = live();
    let snap = l.dir.path().join("prod.json");
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args(["snapshot", "--env", "prod=kube:ctx-prod/shop", "--output"])
        .arg(&snap));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args(["audit", "--env", "staging=kube:ctx-staging/shop", "--env"])
        .arg(format!("prod={}", snap.display()))
        .args(["--format", "json", "--fail-on", "never"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
}

#[test]
fn a_connection_reset_mid_list_is_retried() {
    let l = live();
    l.prod.fault(Fault {
        path: "/pods".into(),
        cut_connection: true,
        times: Some(1),
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(json(&r)["findings"], offline()["findings"]);
    let pods = l
        .prod
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/pods"))
        .count();
    assert_eq!(pods, 2, "the cut list was asked again");
}

#[test]
fn a_truncated_json_page_is_reported_not_half_used() {
    let l = live();
    l.prod.fault(Fault {
        path: "/configmaps".into(),
        truncate_body: true,
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let v = json(&r);
    let problems = v["environments"][1]["problems"].to_string();
    assert!(problems.contains("cannot read"), "{problems}");
    assert!(problems.contains("configmaps"), "{problems}");
    assert_eq!(v["environments"][0]["complete"], true);
}

#[test]
fn an_expired_token_is_reported_once_and_not_retried() {
    let l = live();
    l.prod.fault(Fault {
        path: "/".into(),
        status: Some(401),
        ..Fault::default()
    });
    let r = l.audit(&l.config(""), &["--format", "json"]);
    assert_eq!(r.code, 3);
    let problems = json(&r)["environments"][1]["problems"].to_string();
    assert!(problems.contains("rejected the credentials"), "{problems}");
    assert!(problems.contains("ctx-prod"), "{problems}");
    // One request per list (and the namespace check), none repeated.
    let reqs = l.prod.requests();
    let mut uris: Vec<&str> = reqs.iter().map(|r| r.uri.as_str()).collect();
    let before = uris.len();
    uris.sort();
    uris.dedup();
    assert_eq!(uris.len(), before, "a 401 was retried: {uris:?}");
}

#[test]
fn a_tls_failure_is_reported_with_the_context_and_bounded_retries() {
    let l = live();
    // The kubeconfig says https; the server speaks plain HTTP.
    let tls = l.prod.url().replace("http://", "https://");
    let kc = kubeconfig(
        l.dir.path(),
        &[("ctx-staging", &l.staging.url()), ("ctx-prod", &tls)],
    );
    let r = run(confdrift()
        .env("KUBECONFIG", &kc)
        .arg("audit")
        .arg("--config")
        .arg(l.config(""))
        .args(["--format", "json"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    let problems = v["environments"][1]["problems"].to_string();
    assert!(
        problems.contains("cannot reach the API server"),
        "{problems}"
    );
    assert!(problems.contains("ctx-prod"), "{problems}");
    assert_eq!(v["environments"][0]["complete"], true);
}

#[test]
fn one_environment_of_three_down_the_other_two_are_audited() {
    let l = live();
    let dev = serve("dev");
    // A port nobody listens on: take one and free it.
    let closed = {
        let sock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", sock.local_addr().unwrap())
    };
    let kc = kubeconfig(
        l.dir.path(),
        &[
            ("ctx-dev", &dev.url()),
            ("ctx-staging", &closed),
            ("ctx-prod", &l.prod.url()),
        ],
    );
    let cfg = l.dir.path().join("three.yaml");
    std::fs::write(
        &cfg,
        "environments:\n  dev: {context: ctx-dev, namespaces: [shop]}\n  staging: {context: ctx-staging, namespaces: [shop], timeout: 20s}\n  prod: {context: ctx-prod, namespaces: [shop]}\n",
    )
    .unwrap();
    let r = run(confdrift()
        .env("KUBECONFIG", &kc)
        .args(["audit", "--format", "json", "--config"])
        .arg(&cfg));
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v = json(&r);
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs[0]["complete"], true);
    assert_eq!(envs[2]["complete"], true);
    assert_eq!(envs[1]["complete"], false);
    assert!(envs[1]["problems"].to_string().contains("ctx-staging"));
    // dev and prod were still compared: the seeded prod drift is there.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "DB_POOL_SIZE")
    );
}

// ---------------------------------------------------------------------------
// --runtime-env: the containers' real process environment, through exec
// ---------------------------------------------------------------------------

fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// `env` output: what the stand-in prints by default plus `extra` lines.
fn env_with(extra: &str) -> String {
    format!("{}{extra}", apiserver::BASE_ENV)
}

#[test]
fn a_variable_baked_into_the_image_is_compared_with_provenance_runtime() {
    let l = live();
    l.staging.exec_env(
        "server",
        &env_with("JAVA_OPTS=-Xmx512m\nIMAGE_BUILD=2026-11-01\n"),
    );
    l.prod.exec_env(
        "server",
        &env_with("JAVA_OPTS=-Xmx2g\nIMAGE_BUILD=2026-11-01\n"),
    );
    // Per environment in confdrift.yaml.
    let r = l.audit(
        &l.config(", runtime_env: true"),
        &["--format", "json", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    let java: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f["key"] == "JAVA_OPTS")
        .collect();
    let workloads: Vec<&str> = java.iter().filter_map(|f| f["workload"].as_str()).collect();
    assert!(workloads.contains(&"checkout"), "{java:?}");
    for f in &java {
        assert_eq!(f["container"], "server", "{f}");
        for env in ["staging", "prod"] {
            let source = f["sources"][env].as_str().unwrap_or("");
            assert!(source.starts_with("runtime"), "{f}");
            // Compared by fingerprint, shown redacted.
            let shown = f["values"][env].as_str().unwrap_or("");
            assert!(shown.starts_with("<redacted"), "{f}");
        }
    }
    // Equal everywhere: nothing to report. Kubelet-set variables (HOSTNAME
    // is the pod's name, Service links hold cluster IPs) are not compared.
    for f in findings(&v) {
        let key = f["key"].as_str().unwrap_or("");
        assert!(
            key != "IMAGE_BUILD" && key != "HOSTNAME" && !key.starts_with("KUBERNETES_"),
            "{f}"
        );
    }
    // One pod per workload: checkout, payments and cart run in both, the
    // staging frontend is Pending; every exec ran `env` in a named container.
    for (server, pods) in [(&l.staging, 3), (&l.prod, 4)] {
        let execs = server.exec_requests();
        assert_eq!(execs.len(), pods, "{execs:?}");
        for e in &execs {
            assert_eq!(e.method, "GET", "{e:?}");
            assert!(e.uri.contains("command=env"), "{e:?}");
            assert!(e.uri.contains("container="), "{e:?}");
            assert!(e.uri.contains("stdout=true"), "{e:?}");
            assert!(!e.uri.contains("stdin=true"), "{e:?}");
            assert!(!e.uri.contains("tty=true"), "{e:?}");
        }
    }
    // The first running pod in name order.
    assert!(
        l.prod
            .exec_requests()
            .iter()
            .any(|e| e.uri.contains("/pods/checkout-5f4b8d9c7b-lhvwd/exec")),
        "{:?}",
        l.prod.exec_requests()
    );
}

#[test]
fn declared_variables_are_compared_from_the_spec_not_duplicated() {
    let l = live();
    // Real `env` output also holds what the spec declares, with values the
    // two environments disagree on here; a runtime copy would be a second,
    // conflicting account of LOG_LEVEL or FEATURE_EXPRESS_CHECKOUT.
    l.staging.exec_env(
        "checkout/server",
        &env_with("LOG_LEVEL=runtime-staging\nFEATURE_EXPRESS_CHECKOUT=maybe\n"),
    );
    l.prod.exec_env(
        "checkout/server",
        &env_with("LOG_LEVEL=runtime-prod\nFEATURE_EXPRESS_CHECKOUT=nope\n"),
    );
    let r = l.audit(
        &l.config(""),
        &["--format", "json", "--fail-on", "never", "--runtime-env"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    // Only undeclared, equal variables (PATH, HOME) came from the runtime:
    // the findings are exactly those of the spec alone.
    assert_eq!(v["findings"], offline()["findings"]);
    assert!(!r.stdout.contains("runtime ("), "{}", r.stdout);
}

#[test]
fn a_container_without_env_is_a_problem_and_the_run_goes_on() {
    let l = live();
    l.staging.exec_missing_env("server");
    l.staging
        .exec_env("cart", &env_with("CART_CACHE=redis\nBAKED_SERVER=a\n"));
    l.prod
        .exec_env("cart", &env_with("CART_CACHE=memcached\nBAKED_SERVER=a\n"));
    l.prod.exec_env("server", &env_with("JAVA_OPTS=-Xmx2g\n"));
    let r = l.audit(
        &l.config(""),
        &["--format", "json", "--fail-on", "never", "--runtime-env"],
    );
    // Not incomplete: the spec-derived view is whole.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    let staging = &v["environments"][0];
    assert_eq!(staging["complete"], true, "{staging}");
    let problems = staging["problems"].to_string();
    assert!(problems.contains("runtime-env-unreadable"), "{problems}");
    assert!(problems.contains("executable file not found"), "{problems}");
    assert!(problems.contains("container server"), "{problems}");
    // The other containers were still read and compared…
    assert!(
        findings(&v)
            .iter()
            .any(|f| f["key"] == "CART_CACHE" && f["workload"] == "cart"),
        "{}",
        r.stdout
    );
    // …and the unreadable one's variables are not "missing in staging".
    assert!(
        !findings(&v).iter().any(|f| f["key"] == "JAVA_OPTS"),
        "{}",
        r.stdout
    );
}

#[test]
fn exec_forbidden_is_reported_with_the_missing_rbac() {
    let l = live();
    l.prod.fault(Fault {
        path: "/exec".into(),
        status: Some(403),
        ..Fault::default()
    });
    l.staging.exec_env("cart", &env_with("CART_CACHE=redis\n"));
    let r = l.audit(&l.config(""), &["--format", "json", "--runtime-env"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let v = json(&r);
    let prod = &v["environments"][1];
    assert_eq!(prod["complete"], false);
    let msg = prod["problems"].to_string();
    assert!(msg.contains("`create` on `pods/exec`"), "{msg}");
    assert!(msg.contains("ctx-prod"), "{msg}");
    assert!(msg.contains("deploy/rbac"), "{msg}");
    // Reported once for the environment, not once per container.
    assert_eq!(msg.matches("runtime-env-forbidden").count(), 1, "{msg}");
    // What staging read is not reported as missing in prod.
    assert!(!findings(&v).iter().any(|f| f["key"] == "CART_CACHE"));
    // Spec-derived findings are unchanged.
    assert_eq!(v["findings"], offline()["findings"]);
    let r = l.audit(
        &l.config(""),
        &[
            "--format",
            "json",
            "--runtime-env",
            "--allow-partial",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_runtime_value_never_appears_in_any_output() {
    const CANARY: &str = "canary-runtime-9f3kq2";
    let l = live();
    // A webhook-injected credential, different in each environment.
    l.staging.exec_env(
        "server",
        &env_with(&format!(
            "VAULT_TOKEN={CANARY}-staging\nCERT=-----BEGIN\n{CANARY}-pem\n-----END\n"
        )),
    );
    l.prod
        .exec_env("server", &env_with(&format!("VAULT_TOKEN={CANARY}-prod\n")));
    let out = l.dir.path();
    let reports = [
        ("json", out.join("r.json")),
        ("markdown", out.join("r.md")),
        ("sarif", out.join("r.sarif")),
        ("junit", out.join("r.xml")),
    ];
    let mut args: Vec<String> = vec![
        "--runtime-env".into(),
        "--fail-on".into(),
        "never".into(),
        "--report".into(),
        "table".into(),
    ];
    for (format, path) in &reports {
        args.push("--report".into());
        args.push(format!("{format}={}", path.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = l.audit(&l.config(""), &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("VAULT_TOKEN"), "{}", r.stdout);
    assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));
    for (format, path) in &reports {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("VAULT_TOKEN"), "{format}: {text}");
        assert!(!text.contains(CANARY), "{format} leaks the runtime value");
    }
    // diff, and a snapshot (which keeps fingerprints only).
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args([
            "diff",
            "staging",
            "prod",
            "--all",
            "--runtime-env",
            "--config",
        ])
        .arg(l.config("")));
    assert!(r.stdout.contains("VAULT_TOKEN"), "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));
    let snap = out.join("staging.json");
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args([
            "snapshot",
            "--runtime-env",
            "--env",
            "staging=kube:ctx-staging/shop",
            "--output",
        ])
        .arg(&snap));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.contains("VAULT_TOKEN"), "{text}");
    assert!(!text.contains(CANARY) && !r.stderr.contains(CANARY));
    // The snapshot's runtime fingerprints compare like the live ones.
    let r = run(confdrift()
        .env("KUBECONFIG", &l.kubeconfig)
        .args(["audit", "--runtime-env", "--env"])
        .arg(format!("staging={}", snap.display()))
        .args(["--env", "prod=kube:ctx-prod/shop"])
        .args(["--format", "json", "--fail-on", "never"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vault: Vec<_> = findings(&json(&r))
        .into_iter()
        .filter(|f| f["key"] == "VAULT_TOKEN")
        .collect();
    assert!(!vault.is_empty(), "{}", r.stdout);
    assert!(!r.stdout.contains(CANARY));
}

#[test]
fn without_runtime_env_no_exec_request_is_sent() {
    let l = live();
    let r = l.audit(&l.config(""), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for server in [&l.staging, &l.prod] {
        assert!(!server.requests().is_empty());
        assert!(server.exec_requests().is_empty());
    }
}

#[test]
fn a_hanging_exec_costs_its_container_not_the_environment() {
    let l = live();
    l.prod.fault(Fault {
        path: "/exec".into(),
        hang: true,
        ..Fault::default()
    });
    let started = std::time::Instant::now();
    let r = l.audit(
        &l.config(", timeout: 3s"),
        &["--format", "json", "--fail-on", "never", "--runtime-env"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    let v = json(&r);
    let prod = &v["environments"][1];
    // The lists read before the execs are kept: prod is compared whole.
    assert_eq!(prod["complete"], true, "{prod}");
    assert!(
        prod["problems"]
            .to_string()
            .contains("runtime-env-unreadable"),
        "{prod}"
    );
    assert_eq!(v["findings"], offline()["findings"]);
}

#[test]
fn a_broken_kubeconfig_is_reported_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    // A token on a line the YAML parser chokes on: parsers quote the line.
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1'}\nusers:\n- name: u\n  user:\n    token: \"canary-kubeconfig-t0ken\n      : [ {\n",
    )
    .unwrap();
    for verbose in ["", "-vvv"] {
        let mut cmd = confdrift();
        cmd.env("KUBECONFIG", &kc)
            .args(["audit", "--env", "prod=kube:prod", "--format", "json"]);
        if !verbose.is_empty() {
            cmd.arg(verbose);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(!all.contains("canary-kubeconfig-t0ken"), "{all}");
        assert!(all.contains("not valid YAML"), "{all}");
        assert!(all.contains("kubectl config view"), "{all}");
    }
}

#[test]
fn an_error_body_that_is_not_a_status_is_described_not_quoted() {
    let l = live();
    // A proxy in front of the API server answering with its own page, or a
    // broken server answering an error with whatever it holds.
    for (path, body) in [
        (
            "/secrets",
            "<html><body>502 Bad Gateway canary-proxy-s3cr3t</body></html>",
        ),
        (
            "/configmaps",
            r#"{"kind":"SecretList","items":[{"data":{"k":"canary-proxy-s3cr3t"}}]}"#,
        ),
    ] {
        l.prod.fault(Fault {
            path: path.into(),
            status: Some(403),
            body: Some(body.into()),
            ..Fault::default()
        });
    }
    let config = l.config("");
    let r = l.audit(&config, &["--format", "json", "-vv"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains("canary-proxy-s3cr3t"), "{all}");
    let problems = json(&r)["environments"][1]["problems"].to_string();
    assert!(problems.contains("not a Kubernetes Status"), "{problems}");
    assert!(problems.contains("text/html"), "{problems}");
}

// ---------------------------------------------------------------------------
// Workload kinds a cluster serves only with a controller installed
// ---------------------------------------------------------------------------

/// A cluster running Argo Rollouts, OpenKruise and Knative, with the
/// Secrets that External Secrets and Sealed Secrets made.
fn kinds_cluster() -> (ApiServer, tempfile::TempDir, PathBuf) {
    let server = ApiServer::start(&[&root().join("testdata/kinds/prod/cluster.yaml")]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(dir.path(), &[("ctx-prod", &server.url())]);
    (server, dir, kubeconfig)
}

fn audit_kinds(kubeconfig: &Path) -> (Run, serde_json::Value) {
    let r = run(confdrift()
        .env("KUBECONFIG", kubeconfig)
        .arg("audit")
        .arg("--env")
        .arg(format!("staging={}", data("kinds/staging")))
        .arg("--env")
        .arg("prod=kube:ctx-prod/shop")
        .args(["--format", "json", "--fail-on", "never"]));
    let v = json(&r);
    (r, v)
}

#[test]
fn rollouts_clonesets_and_knative_services_are_found_through_discovery_and_compared() {
    let (server, _dir, kubeconfig) = kinds_cluster();
    let (r, live) = audit_kinds(&kubeconfig);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // The same findings as from the `kubectl get -o yaml` of the same
    // objects: the Rollout's drift, the Secrets only a controller fills in.
    let offline = {
        let r = run(confdrift()
            .arg("audit")
            .arg("--env")
            .arg(format!("staging={}", data("kinds/staging")))
            .arg("--env")
            .arg(format!("prod={}", data("kinds/prod")))
            .args(["--format", "json", "--fail-on", "never"]));
        json(&r)
    };
    assert_eq!(live["findings"], offline["findings"]);
    let prod = &live["environments"][1];
    assert_eq!(prod["complete"], true, "{prod}");
    assert_eq!(prod["coverage"]["workloads"], 4, "{prod}");
    assert_eq!(prod["problems"].as_array().unwrap().len(), 0, "{prod}");
    let uris: Vec<String> = server.requests().into_iter().map(|r| r.uri).collect();
    for path in [
        "/apis",
        "/apis/argoproj.io/v1alpha1",
        "/apis/apps.kruise.io/v1alpha1",
        "/apis/serving.knative.dev/v1",
    ] {
        assert!(uris.iter().any(|u| u == path), "{path} not asked: {uris:?}");
    }
    assert!(
        uris.iter()
            .any(|u| u.starts_with("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts?")),
        "{uris:?}"
    );
}

#[test]
fn a_cluster_without_these_controllers_lists_only_the_builtin_kinds() {
    let l = live();
    let r = l.audit(&l.config(""), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for env in json(&r)["environments"].as_array().unwrap() {
        assert_eq!(env["problems"].as_array().unwrap().len(), 0, "{env}");
    }
    let uris: Vec<String> = l.prod.requests().into_iter().map(|r| r.uri).collect();
    assert!(uris.iter().any(|u| u == "/apis"), "{uris:?}");
    assert!(!uris.iter().any(|u| u.contains("argoproj.io")), "{uris:?}");
}

#[test]
fn a_forbidden_optional_kind_is_reported_and_its_pods_are_still_compared() {
    // Decision: RBAC that forbids Rollouts is said like any forbidden list,
    // but as a warning that leaves the environment complete: the pods the
    // Rollout makes are read and grouped under it all the same.
    let (server, _dir, kubeconfig) = kinds_cluster();
    server.fault(Fault {
        path: "/rollouts".into(),
        status: Some(403),
        ..Fault::default()
    });
    let (r, v) = audit_kinds(&kubeconfig);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let prod = &v["environments"][1];
    assert_eq!(prod["complete"], true, "{prod}");
    let problems = prod["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{prod}");
    assert_eq!(problems[0]["code"], "forbidden");
    assert_eq!(problems[0]["severity"], "warning");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(message.contains("rollouts"), "{message}");
    assert!(
        message.contains("the pods they make still are"),
        "{message}"
    );
    // checkout's pods, through their ReplicaSet, still carry its drift.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["workload"] == "checkout" && f["key"] == "RATE_LIMIT_RPS"),
        "{v}"
    );
}

#[test]
fn failed_discovery_is_a_warning_not_a_silent_gap() {
    let (server, _dir, kubeconfig) = kinds_cluster();
    server.fault(Fault {
        path: "/apis/serving.knative.dev/v1".into(),
        status: Some(500),
        ..Fault::default()
    });
    let (r, v) = audit_kinds(&kubeconfig);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let problems = v["environments"][1]["problems"].to_string();
    assert!(problems.contains("discovery-failed"), "{problems}");
    assert!(
        problems.contains("/apis/serving.knative.dev/v1"),
        "{problems}"
    );
}
