//! A local Kubernetes API server stand-in for tests: serves fixture objects
//! over real HTTP/1.1 on 127.0.0.1 with the real list semantics (`limit` /
//! `continue`, `resourceVersion`, typed `…List` bodies whose items carry no
//! `kind`, `labelSelector`), answers `Status` errors (401/403/404/410/429/
//! 500), can be slow or never answer, and records every request so a test
//! can prove that only reads were sent.
//!
//! It also answers the exec API (`GET …/pods/{name}/exec?…` with a
//! WebSocket upgrade, as `kube` sends it) with the Kubernetes channel
//! protocol (`v5.channel.k8s.io` / `v4.channel.k8s.io`: binary messages whose
//! first byte is the channel, 1 stdout, 2 stderr, 3 a `Status` JSON), running
//! a pretend `env` whose output can be set per container, or failing the way
//! a container without an `env` binary fails.
//!
//! It serves API discovery as the real server does (`GET /apis`, `GET
//! /apis/GROUP/VERSION`): the built-in groups always, a custom resource's
//! group (Argo Rollouts, OpenKruise, Knative) only when the fixtures hold
//! objects of it, as if its CRDs were installed. Custom resources keep
//! their `kind` and `apiVersion` in list items, as the real server's are.
//!
//! It is started by the test itself and stops when dropped.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A resource the stand-in serves: (API prefix, plural, kind).
const RESOURCES: &[(&str, &str, &str)] = &[
    ("/api/v1", "pods", "Pod"),
    ("/api/v1", "configmaps", "ConfigMap"),
    ("/api/v1", "secrets", "Secret"),
    ("/apis/apps/v1", "deployments", "Deployment"),
    ("/apis/apps/v1", "statefulsets", "StatefulSet"),
    ("/apis/apps/v1", "daemonsets", "DaemonSet"),
    ("/apis/apps/v1", "replicasets", "ReplicaSet"),
    ("/apis/batch/v1", "jobs", "Job"),
    ("/apis/batch/v1", "cronjobs", "CronJob"),
    // Custom resources, served when the fixtures hold some.
    ("/apis/argoproj.io/v1alpha1", "rollouts", "Rollout"),
    ("/apis/apps.kruise.io/v1alpha1", "clonesets", "CloneSet"),
    (
        "/apis/apps.kruise.io/v1beta1",
        "statefulsets",
        "StatefulSet",
    ),
    ("/apis/serving.knative.dev/v1", "services", "Service"),
    (
        "/apis/serving.knative.dev/v1",
        "configurations",
        "Configuration",
    ),
];

/// The groups every cluster serves.
const BUILTIN_GROUPS: &[&str] = &["apps", "batch"];

/// `apps` of `/apis/apps/v1`, `""` of `/api/v1`.
fn group_of_prefix(prefix: &str) -> &str {
    prefix
        .strip_prefix("/apis/")
        .and_then(|g| g.split('/').next())
        .unwrap_or("")
}

/// The resource path (`/apis/apps/v1/deployments`) objects are kept under.
fn resource_path(prefix: &str, plural: &str) -> String {
    format!("{prefix}/{plural}")
}

/// A misbehaviour, applied to requests whose path contains `path`.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub path: String,
    /// Answer with this status and a `Status` body.
    pub status: Option<u16>,
    /// Only the first N matching requests misbehave (`None`: all).
    pub times: Option<usize>,
    pub retry_after: Option<u64>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Accept the request and never answer.
    pub hang: bool,
    /// Only requests that carry a continue token.
    pub only_continue: bool,
    /// Send half of the answer, then close the connection (a reset mid-list).
    pub cut_connection: bool,
    /// Send a complete HTTP answer whose JSON body is cut in half.
    pub truncate_body: bool,
    /// With `status`: answer with this body instead of a `Status` (a
    /// proxy's error page; served as text/html when it starts with `<`).
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub uri: String,
}

/// A stored object and its JSON, serialized once: a page is put together
/// from these, so that serving costs little next to reading (the real API
/// server answers lists from its watch cache).
struct Item {
    value: serde_json::Value,
    json: String,
}

#[derive(Default)]
struct State {
    /// (resource path, namespace) → items, in name order.
    objects: BTreeMap<(String, String), Vec<Item>>,
    namespaces: Vec<String>,
    faults: Vec<(Fault, usize)>,
    requests: Vec<Request>,
    resource_version: u64,
    /// Container name, or `POD_PREFIX/CONTAINER`, → what `env` prints there
    /// (default: [`BASE_ENV`]).
    exec_env: BTreeMap<String, String>,
    /// Containers whose image has no `env` binary.
    exec_missing: Vec<String>,
}

/// What `env` prints in a container nobody configured: what the image and
/// the kubelet set, with `{pod}` replaced by the pod's name.
pub const BASE_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
HOSTNAME={pod}\n\
KUBERNETES_SERVICE_HOST=10.96.0.1\n\
KUBERNETES_SERVICE_PORT=443\n\
KUBERNETES_SERVICE_PORT_HTTPS=443\n\
KUBERNETES_PORT=tcp://10.96.0.1:443\n\
KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443\n\
KUBERNETES_PORT_443_TCP_PROTO=tcp\n\
KUBERNETES_PORT_443_TCP_PORT=443\n\
KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1\n\
HOME=/root\n";

pub struct ApiServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl ApiServer {
    /// Serves the objects of the given fixture files (YAML or JSON, Lists
    /// or single objects).
    pub fn start(fixtures: &[&Path]) -> ApiServer {
        let mut state = State {
            resource_version: 1000,
            ..State::default()
        };
        for f in fixtures {
            let text = std::fs::read_to_string(f).expect("fixture readable");
            if text.trim_start().starts_with('{')
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                match v.get("items").and_then(|i| i.as_array()) {
                    Some(items) => items.iter().for_each(|i| state.add(i.clone())),
                    None => state.add(v),
                }
                continue;
            }
            for doc in serde_yaml::Deserializer::from_str(&text) {
                let v: serde_json::Value = match serde::Deserialize::deserialize(doc) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                let items = match v.get("items").and_then(|i| i.as_array()) {
                    Some(items) => items.clone(),
                    None => vec![v],
                };
                for item in items {
                    state.add(item);
                }
            }
        }
        for list in state.objects.values_mut() {
            list.sort_by_key(|i| name_of(&i.value));
        }
        let state = Arc::new(Mutex::new(state));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let st = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, st).await;
                });
            }
        });
        ApiServer {
            addr,
            state,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push((fault, 0));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Sets what `env` prints in every container of this name, or with
    /// `POD_PREFIX/CONTAINER` in that container of pods whose name starts
    /// with the prefix (replacing [`BASE_ENV`]).
    pub fn exec_env(&self, container: &str, output: &str) {
        self.state
            .lock()
            .unwrap()
            .exec_env
            .insert(container.to_string(), output.to_string());
    }

    /// Containers of this name have no `env` binary: exec fails with the
    /// container runtime's error on the status channel.
    pub fn exec_missing_env(&self, container: &str) {
        self.state
            .lock()
            .unwrap()
            .exec_missing
            .push(container.to_string());
    }

    /// The exec requests received (path and query).
    pub fn exec_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.uri.split('?').next().unwrap_or("").ends_with("/exec"))
            .collect()
    }

    /// Adds a namespace that exists but holds nothing.
    pub fn add_namespace(&self, ns: &str) {
        let mut s = self.state.lock().unwrap();
        if !s.namespaces.iter().any(|n| n == ns) {
            s.namespaces.push(ns.to_string());
        }
    }
}

fn name_of(v: &serde_json::Value) -> String {
    v.pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

impl State {
    fn add(&mut self, mut item: serde_json::Value) {
        let kind = item
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string();
        // The group an object names picks the resource; one that names
        // none is the built-in kind.
        let group = item
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .map(|v| v.rsplit_once('/').map_or("", |(g, _)| g));
        let Some((prefix, plural, _)) = RESOURCES.iter().find(|(p, _, k)| {
            *k == kind
                && match group {
                    Some(g) => group_of_prefix(p) == g,
                    None => true,
                }
        }) else {
            return;
        };
        let custom =
            !BUILTIN_GROUPS.contains(&group_of_prefix(prefix)) && !prefix.starts_with("/api/");
        let ns = item
            .pointer("/metadata/namespace")
            .and_then(|n| n.as_str())
            .unwrap_or("default")
            .to_string();
        if !self.namespaces.contains(&ns) {
            self.namespaces.push(ns.clone());
        }
        // Items of a typed list carry no kind or apiVersion; a custom
        // resource's list items do.
        if !custom && let Some(obj) = item.as_object_mut() {
            obj.remove("kind");
            obj.remove("apiVersion");
        }
        let json = item.to_string();
        self.objects
            .entry((resource_path(prefix, plural), ns))
            .or_default()
            .push(Item { value: item, json });
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            if buf.first() == Some(&0x16) {
                // A TLS handshake sent to this plain-HTTP server: answer as
                // an HTTP server does, and hang up.
                stream
                    .write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTPS request to an HTTP server.\n")
                    .await?;
                return Ok(());
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut body_len = 0usize;
        for line in head.lines().skip(1) {
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                body_len = v.trim().parse().unwrap_or(0);
            }
        }
        while buf.len() < head_end + 4 + body_len {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + 4 + body_len);
        let mut parts = head.lines().next().unwrap_or("").split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let uri = parts.next().unwrap_or("").to_string();
        let (status, mut body, retry_after, delay, mode) = respond(&state, &method, &uri);
        if let Mode::Exec(outcome) = &mode {
            return serve_exec(stream, &head, outcome).await;
        }
        if mode == Mode::Hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        if mode == Mode::TruncateBody {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let content_type = if body.starts_with('<') {
            "text/html"
        } else {
            "application/json"
        };
        let mut resp = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            reason(status),
            body.len()
        );
        if let Some(s) = retry_after {
            resp.push_str(&format!("Retry-After: {s}\r\n"));
        }
        resp.push_str("\r\n");
        stream.write_all(resp.as_bytes()).await?;
        if mode == Mode::CutConnection {
            // Promise the whole body, send half, hang up.
            stream.write_all(&body.as_bytes()[..body.len() / 2]).await?;
            stream.flush().await?;
            return Ok(());
        }
        stream.write_all(body.as_bytes()).await?;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn status_body(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    })
    .to_string()
}

/// How to misbehave while answering.
#[derive(Clone, PartialEq, Eq)]
enum Mode {
    Normal,
    Hang,
    CutConnection,
    TruncateBody,
    /// Upgrade to the exec WebSocket and run the pretend command.
    Exec(ExecOutcome),
}

#[derive(Clone, PartialEq, Eq)]
enum ExecOutcome {
    /// What `env` prints.
    Output(String),
    /// The container has no `env` binary.
    NotFound { container: String },
}

/// Answers an exec request that asked for a WebSocket: the handshake by
/// hand (the head is already read), then the channel protocol.
async fn serve_exec(stream: TcpStream, head: &str, outcome: &ExecOutcome) -> std::io::Result<()> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::{Message, handshake::derive_accept_key, protocol::Role};
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let mut stream = stream;
    let (Some(key), Some(upgrade)) = (header("sec-websocket-key"), header("upgrade")) else {
        let body = status_body(400, "BadRequest", "exec needs a WebSocket upgrade");
        let resp = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        return stream.write_all(resp.as_bytes()).await;
    };
    assert!(upgrade.eq_ignore_ascii_case("websocket"), "{head}");
    // The first protocol offered that the API server speaks.
    let offered = header("sec-websocket-protocol").unwrap_or_default();
    let protocol = offered
        .split(',')
        .map(str::trim)
        .find(|p| *p == "v5.channel.k8s.io" || *p == "v4.channel.k8s.io")
        .unwrap_or("v4.channel.k8s.io")
        .to_string();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(resp.as_bytes()).await?;
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let frame = |channel: u8, data: &[u8]| {
        let mut v = vec![channel];
        v.extend_from_slice(data);
        Message::binary(v)
    };
    let send = async {
        // The API server opens every channel with an empty message.
        for ch in [1u8, 2, 3] {
            ws.send(frame(ch, &[])).await?;
        }
        match outcome {
            ExecOutcome::Output(text) => {
                // In two pieces, cut mid-line, as a pipe delivers it.
                let bytes = text.as_bytes();
                let mid = bytes.len() / 2;
                ws.send(frame(1, &bytes[..mid])).await?;
                ws.send(frame(1, &bytes[mid..])).await?;
                ws.send(frame(3, br#"{"metadata":{},"status":"Success"}"#))
                    .await?;
            }
            ExecOutcome::NotFound { container } => {
                let message = format!(
                    "Internal error occurred: error executing command in container: failed to exec in container: \
                     failed to start exec \"{container}\": OCI runtime exec failed: exec failed: unable to start \
                     container process: exec: \"env\": executable file not found in $PATH: unknown"
                );
                let status = serde_json::json!({"metadata": {}, "status": "Failure",
                    "message": message, "reason": "InternalError", "code": 500,
                    "details": {"causes": [{"message": message}]}});
                ws.send(frame(3, status.to_string().as_bytes())).await?;
            }
        }
        ws.close(None).await
    };
    // The client may hang up as soon as it has the status.
    let _ = send.await;
    Ok(())
}

type Answer = (u16, String, Option<u64>, Option<Duration>, Mode);

fn respond(state: &Arc<Mutex<State>>, method: &str, uri: &str) -> Answer {
    let mut s = state.lock().unwrap();
    s.requests.push(Request {
        method: method.to_string(),
        uri: uri.to_string(),
    });
    if method != "GET" {
        return (
            405,
            status_body(405, "MethodNotAllowed", "read-only stand-in"),
            None,
            None,
            Mode::Normal,
        );
    }
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect();
    let has_continue = params.contains_key("continue");
    // Faults first.
    for (fault, hits) in s.faults.iter_mut() {
        if !path.contains(&fault.path) || (fault.only_continue && !has_continue) {
            continue;
        }
        if fault.times.is_some_and(|t| *hits >= t) {
            continue;
        }
        *hits += 1;
        if fault.hang {
            return (0, String::new(), None, None, Mode::Hang);
        }
        if fault.cut_connection || fault.truncate_body {
            let mode = if fault.cut_connection {
                Mode::CutConnection
            } else {
                Mode::TruncateBody
            };
            drop(s);
            let answer = route(state, path, &params);
            return (answer.0, answer.1, None, None, mode);
        }
        if let Some(code) = fault.status {
            let (reason, message) = match code {
                401 => ("Unauthorized", "Unauthorized".to_string()),
                403 if path.ends_with("/exec") => (
                    "Forbidden",
                    format!(
                        "pods \"{}\" is forbidden: User \"system:serviceaccount:ci:confdrift\" cannot create resource \"pods/exec\" in API group \"\" in the namespace",
                        path.rsplit('/').nth(1).unwrap_or("")
                    ),
                ),
                403 => (
                    "Forbidden",
                    format!(
                        "{path} is forbidden: User \"system:serviceaccount:ci:confdrift\" cannot list resource"
                    ),
                ),
                404 => ("NotFound", format!("{path} not found")),
                410 => (
                    "Expired",
                    "The provided continue parameter is too old".to_string(),
                ),
                429 => (
                    "TooManyRequests",
                    "Too many requests, please try again later.".to_string(),
                ),
                _ => (
                    "InternalError",
                    "Internal error occurred: etcdserver: request timed out".to_string(),
                ),
            };
            return (
                code,
                fault
                    .body
                    .clone()
                    .unwrap_or_else(|| status_body(code, reason, &message)),
                fault.retry_after,
                fault.delay,
                Mode::Normal,
            );
        }
        if let Some(d) = fault.delay {
            drop(s);
            let answer = route(state, path, &params);
            return (answer.0, answer.1, None, Some(d), Mode::Normal);
        }
    }
    drop(s);
    route(state, path, &params)
}

fn decode(v: &str) -> String {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(x) = u8::from_str_radix(&v[i + 1..i + 3], 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn route(state: &Arc<Mutex<State>>, path: &str, params: &BTreeMap<String, String>) -> Answer {
    let s = state.lock().unwrap();
    // GET /api/v1/namespaces/{ns}/pods/{name}/exec?container=…&command=env
    if let Some(rest) = path.strip_prefix("/api/v1/namespaces/")
        && let Some(rest) = rest.strip_suffix("/exec")
        && let Some((ns, pod)) = rest.split_once("/pods/")
    {
        let exists = s
            .objects
            .get(&(resource_path("/api/v1", "pods"), ns.to_string()))
            .is_some_and(|pods| pods.iter().any(|p| name_of(&p.value) == pod));
        if !exists {
            return (
                404,
                status_body(404, "NotFound", &format!("pods \"{pod}\" not found")),
                None,
                None,
                Mode::Normal,
            );
        }
        let container = params.get("container").cloned().unwrap_or_default();
        assert_eq!(params.get("command").map(String::as_str), Some("env"));
        let outcome = if s.exec_missing.contains(&container) {
            ExecOutcome::NotFound { container }
        } else {
            let for_pod = s.exec_env.iter().find_map(|(k, v)| {
                let (prefix, c) = k.split_once('/')?;
                (pod.starts_with(prefix) && c == container).then(|| v.clone())
            });
            ExecOutcome::Output(
                for_pod
                    .or_else(|| s.exec_env.get(&container).cloned())
                    .unwrap_or_else(|| BASE_ENV.to_string())
                    .replace("{pod}", pod),
            )
        };
        return (101, String::new(), None, None, Mode::Exec(outcome));
    }
    // GET /api/v1/namespaces/{ns}
    if let Some(ns) = path.strip_prefix("/api/v1/namespaces/")
        && !ns.contains('/')
    {
        return if s.namespaces.iter().any(|n| n == ns) {
            let body = serde_json::json!({"kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": ns}, "status": {"phase": "Active"}});
            (200, body.to_string(), None, None, Mode::Normal)
        } else {
            (
                404,
                status_body(404, "NotFound", &format!("namespaces \"{ns}\" not found")),
                None,
                None,
                Mode::Normal,
            )
        };
    }
    if let Some(answer) = discovery(&s, path) {
        return answer;
    }
    for (prefix, plural, kind) in RESOURCES {
        let Some(rest) = path.strip_prefix(prefix) else {
            continue;
        };
        if !served(&s, prefix) {
            continue;
        }
        let resource = resource_path(prefix, plural);
        let ns = if rest == format!("/{plural}") {
            None
        } else if let Some(r) = rest.strip_prefix("/namespaces/")
            && let Some((ns, p)) = r.split_once('/')
            && p == *plural
        {
            Some(ns.to_string())
        } else {
            continue;
        };
        let mut items: Vec<&Item> = s
            .objects
            .iter()
            .filter(|((p, n), _)| *p == resource && ns.as_ref().is_none_or(|want| want == n))
            .flat_map(|(_, v)| v.iter())
            .collect();
        if let Some(sel) = params.get("labelSelector") {
            items.retain(|item| matches_selector(&item.value, sel));
        }
        let offset: usize = params
            .get("continue")
            .and_then(|t| t.strip_prefix("o"))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let limit: usize = params
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let end = offset.saturating_add(limit).min(items.len());
        let page = &items[offset.min(items.len())..end];
        let mut metadata = serde_json::json!({"resourceVersion": s.resource_version.to_string()});
        if end < items.len() {
            metadata["continue"] = serde_json::Value::String(format!("o{end}"));
            metadata["remainingItemCount"] = serde_json::json!(items.len() - end);
        }
        let api_version = prefix
            .trim_start_matches("/api/")
            .trim_start_matches("/apis/");
        let head = serde_json::json!({
            "kind": format!("{kind}List"), "apiVersion": api_version,
            "metadata": metadata,
        })
        .to_string();
        let mut body = String::with_capacity(
            head.len() + 12 + page.iter().map(|i| i.json.len() + 1).sum::<usize>(),
        );
        body.push_str(head.strip_suffix('}').unwrap_or(&head));
        body.push_str(",\"items\":[");
        for (n, item) in page.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(&item.json);
        }
        body.push_str("]}");
        return (200, body, None, None, Mode::Normal);
    }
    (
        404,
        status_body(
            404,
            "NotFound",
            &format!("the server could not find the requested resource {path}"),
        ),
        None,
        None,
        Mode::Normal,
    )
}

/// Whether the group of a resource prefix is served: the built-in groups
/// always, a custom resource's when the fixtures hold objects of its group.
fn served(s: &State, prefix: &str) -> bool {
    let group = group_of_prefix(prefix);
    prefix.starts_with("/api/")
        || BUILTIN_GROUPS.contains(&group)
        || s.objects.keys().any(|(p, _)| group_of_prefix(p) == group)
}

/// `GET /apis` (an `APIGroupList`) and `GET /apis/GROUP/VERSION` (an
/// `APIResourceList`), as the real server answers them.
fn discovery(s: &State, path: &str) -> Option<Answer> {
    let ok = |v: serde_json::Value| Some((200, v.to_string(), None, None, Mode::Normal));
    let prefixes = || {
        let mut p: Vec<&str> = RESOURCES
            .iter()
            .map(|(p, _, _)| *p)
            .filter(|p| p.starts_with("/apis/") && served(s, p))
            .collect();
        p.dedup();
        p
    };
    if path == "/apis" {
        let mut groups: Vec<serde_json::Value> = Vec::new();
        for prefix in prefixes() {
            let gv = prefix.trim_start_matches("/apis/");
            let (group, version) = gv.split_once('/').unwrap_or((gv, ""));
            let entry = serde_json::json!({"groupVersion": gv, "version": version});
            match groups.iter_mut().find(|g| g["name"] == group) {
                Some(g) => g["versions"].as_array_mut().unwrap().push(entry),
                None => groups.push(serde_json::json!({
                    "name": group, "versions": [entry.clone()], "preferredVersion": entry,
                })),
            }
        }
        return ok(
            serde_json::json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
        );
    }
    let gv = path.strip_prefix("/apis/")?;
    if gv.matches('/').count() != 1 {
        return None;
    }
    let prefix = format!("/apis/{gv}");
    if !prefixes().contains(&prefix.as_str()) {
        return None;
    }
    let resources: Vec<serde_json::Value> = RESOURCES
        .iter()
        .filter(|(p, _, _)| *p == prefix)
        .map(|(_, plural, kind)| {
            serde_json::json!({"name": plural, "singularName": "", "namespaced": true,
                "kind": kind, "verbs": ["get", "list", "watch"]})
        })
        .collect();
    ok(
        serde_json::json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": gv, "resources": resources}),
    )
}

fn matches_selector(item: &serde_json::Value, sel: &str) -> bool {
    sel.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (k, v) = term.split_once('=').unwrap_or((term, ""));
        let v = v.trim_start_matches('=');
        item.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(|x| x.as_str())
            == Some(v)
    })
}

/// Writes a kubeconfig with one context per (name, server, namespace).
pub fn kubeconfig(dir: &Path, contexts: &[(&str, &str)]) -> std::path::PathBuf {
    let mut y = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (name, server) in contexts {
        y.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n"
        ));
    }
    y.push_str("users:\n- name: tester\n  user:\n    token: test-token\ncontexts:\n");
    for (name, _) in contexts {
        y.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: tester\n"
        ));
    }
    y.push_str(&format!("current-context: {}\n", contexts[0].0));
    let path = dir.join("kubeconfig");
    std::fs::write(&path, y).expect("write kubeconfig");
    path
}
