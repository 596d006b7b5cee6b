//! `--runtime-env`: read the real process environment of running containers
//! through the exec API (`env` in the container), to catch variables baked
//! into the image or injected by mutating webhooks, which no manifest shows.
//!
//! One pod per workload (the first running pod in name order), every
//! container of it, a few execs at a time. Every value is fingerprinted the
//! moment it is read: a webhook may inject credentials, and confdrift cannot
//! tell a password from a log level by its name. What goes wrong is a
//! [`Problem`], never a failed run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::KubeTarget;
use crate::fingerprint::FingerprintKey;
use crate::model::identity::{Owners, pod_workload};
use crate::model::{Object, Problem, RuntimeEnv, Severity};

/// Execs running at the same time against one cluster.
pub const CONCURRENT_EXECS: usize = 4;
/// One exec may take this long (the environment's timeout still bounds all).
const EXEC_TIMEOUT: Duration = Duration::from_secs(10);
/// The command run in each container; the image needs an `env` binary
/// (coreutils, busybox), distroless images have none.
pub const COMMAND: &[&str] = &["env"];

/// The pods to read: per workload, the first running pod in name order,
/// with its (non-init) containers.
pub fn chosen_pods(objects: &[Object]) -> Vec<(String, String, Vec<String>)> {
    let owners = Owners::new(objects);
    let mut first: BTreeMap<(String, String, String), (String, Vec<String>)> = BTreeMap::new();
    for o in objects {
        let Object::Pod {
            metadata,
            spec,
            status,
        } = o
        else {
            continue;
        };
        if status.phase.as_deref() != Some("Running") {
            continue;
        }
        let (kind, name) = pod_workload(metadata, &owners);
        let slot = first
            .entry((String::from(metadata.namespace.clone()), kind, name))
            .or_insert_with(|| (metadata.name.clone(), Vec::new()));
        if metadata.name <= slot.0 {
            *slot = (
                metadata.name.clone(),
                spec.containers.iter().map(|c| c.name.clone()).collect(),
            );
        }
    }
    first
        .into_iter()
        .map(|((ns, _, _), (pod, containers))| (ns, pod, containers))
        .collect()
}

/// Reads the environment of every container of the chosen pods. No exec
/// runs past `deadline`, so that a slow exec costs its container, not the
/// lists already read for the environment.
pub async fn read_all(
    client: &Client,
    target: &KubeTarget,
    objects: &[Object],
    key: Arc<FingerprintKey>,
    deadline: tokio::time::Instant,
) -> (Vec<RuntimeEnv>, Vec<Problem>) {
    let semaphore = Arc::new(Semaphore::new(CONCURRENT_EXECS));
    let mut tasks = tokio::task::JoinSet::new();
    let pods = chosen_pods(objects);
    tracing::debug!(
        pods = pods.len(),
        containers = pods.iter().map(|(_, _, c)| c.len()).sum::<usize>(),
        "reading process environments"
    );
    for (ns, pod, containers) in pods {
        for container in containers {
            let client = client.clone();
            let semaphore = semaphore.clone();
            let key = key.clone();
            let ns = ns.clone();
            let pod = pod.clone();
            tasks.spawn(
                async move {
                    let _permit = semaphore.acquire_owned().await;
                    let started = std::time::Instant::now();
                    let until = deadline.min(tokio::time::Instant::now() + EXEC_TIMEOUT);
                    let r =
                        tokio::time::timeout_at(until, exec_env(&client, &ns, &pod, &container))
                            .await;
                    // The outcome, never the output nor the error text (the
                    // command's output could be quoted there).
                    let (outcome, bytes) = match &r {
                        Ok(Ok(text)) => ("ok", Some(text.len())),
                        Ok(Err(ExecError::Forbidden(_))) => ("forbidden", None),
                        Ok(Err(ExecError::Failed(_))) => ("failed", None),
                        Err(_) => ("timeout", None),
                    };
                    let r = r.unwrap_or_else(|_| {
                        Err(ExecError::Failed(format!(
                            "no answer within {}s (or the environment's timeout ran out)",
                            EXEC_TIMEOUT.as_secs()
                        )))
                    });
                    let r = r.map(|text| RuntimeEnv {
                        vars: parse_env(&text, &key),
                        namespace: ns.clone(),
                        pod: pod.clone(),
                        container: container.clone(),
                    });
                    tracing::debug!(
                        namespace = %ns,
                        %pod,
                        %container,
                        %outcome,
                        bytes,
                        variables = r.as_ref().ok().map(|env| env.vars.len()),
                        elapsed = ?started.elapsed(),
                        "exec env"
                    );
                    (ns, pod, container, r)
                }
                .in_current_span(),
            );
        }
    }
    let mut envs = Vec::new();
    let mut problems = Vec::new();
    let mut forbidden = None;
    let ctx = target.context.as_deref().unwrap_or("(current context)");
    while let Some(joined) = tasks.join_next().await {
        let Ok((ns, pod, container, r)) = joined else {
            continue;
        };
        match r {
            Ok(env) => envs.push(env),
            Err(ExecError::Forbidden(message)) => {
                forbidden.get_or_insert((ns, message));
            }

            Err(ExecError::Failed(message)) => problems.push(Problem {
                code: crate::codes::ProblemCode::RuntimeEnvUnreadable.into(),
                severity: Severity::Warning,
                incomplete: false,
                location: format!("context {ctx}, pod {ns}/{pod}, container {container}"),
                message: format!(
                    "cannot read the process environment of container {container} (`env` through \
                     the exec API): {message}; its runtime variables are compared in no \
                     environment (the image needs an `env` binary, e.g. coreutils or busybox)"
                ),
            }),
        }
    }
    if let Some((ns, message)) = forbidden {
        // One problem for the environment, not one per container.
        problems.push(Problem {
            code: crate::codes::ProblemCode::RuntimeEnvForbidden.into(),
            severity: Severity::Critical,
            incomplete: true,
            location: format!("context {ctx}"),
            message: format!(
                "context {ctx}: RBAC forbids `create` on `pods/exec` in namespace {ns}, which \
                 --runtime-env needs to run `env` in containers; no runtime variables were read. \
                 Grant it (the optional rule in deploy/rbac-*.yaml) or drop --runtime-env: {message}"
            ),
        });
    }
    envs.sort();
    (envs, problems)
}

enum ExecError {
    /// 401/403: the whole environment's runtime view is missing.
    Forbidden(String),
    /// This container: no `env`, not running, the command failed.
    Failed(String),
}

/// Runs `env` in one container and returns what it printed.
async fn exec_env(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
) -> Result<String, ExecError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let params = AttachParams::default()
        .container(container)
        .stdin(false)
        .stdout(true)
        .stderr(true)
        .tty(false);
    let process = api.exec(pod, COMMAND.iter().copied(), &params).await;
    if let Err(kube::Error::Api(status)) = &process {
        tracing::debug!(
            status = status.code,
            reason = %status.reason,
            "exec refused by the API server"
        );
    }
    let mut process = match process {
        Ok(p) => p,
        Err(kube::Error::Api(status)) if status.code == 401 || status.code == 403 => {
            return Err(ExecError::Forbidden(status.message));
        }
        Err(kube::Error::Api(status)) => {
            return Err(ExecError::Failed(format!(
                "HTTP {}: {}",
                status.code, status.message
            )));
        }
        Err(e) => return Err(ExecError::Failed(e.to_string())),
    };
    let (Some(mut stdout), Some(mut stderr), Some(status)) =
        (process.stdout(), process.stderr(), process.take_status())
    else {
        return Err(ExecError::Failed("the exec stream has no stdout".into()));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let (o, _, status) = tokio::join!(
        stdout.read_to_end(&mut out),
        stderr.read_to_end(&mut err),
        status
    );
    o.map_err(|e| ExecError::Failed(format!("reading the output failed: {e}")))?;
    tracing::trace!(
        status = status.as_ref().and_then(|s| s.status.as_deref()),
        reason = status.as_ref().and_then(|s| s.reason.as_deref()),
        stdout_bytes = out.len(),
        stderr_bytes = err.len(),
        "exec stream closed"
    );
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => {}
        Some(s) => {
            return Err(ExecError::Failed(
                s.message.unwrap_or_else(|| "the command failed".into()),
            ));
        }
        None => {
            return Err(ExecError::Failed(
                "the connection closed before the command's exit status".into(),
            ));
        }
    }
    let _ = process.join().await;
    // stderr is not quoted: it could echo values.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Parses `env` output (`NAME=VALUE` lines; a line that does not start a
/// variable continues the previous value) and fingerprints every value.
/// Variables the kubelet sets per pod or per cluster are left out:
/// `HOSTNAME` (the pod name) and Service links (`{SVC}_SERVICE_HOST`,
/// `{SVC}_SERVICE_PORT*`, `{SVC}_PORT*`, Service IPs).
pub fn parse_env(text: &str, key: &FingerprintKey) -> BTreeMap<String, crate::model::Fingerprint> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        match line.split_once('=') {
            Some((name, value)) if is_name(name) => {
                vars.push((name.to_string(), value.to_string()))
            }
            _ => {
                if let Some((_, value)) = vars.last_mut() {
                    value.push('\n');
                    value.push_str(line);
                }
            }
        }
    }
    let services: Vec<String> = vars
        .iter()
        .filter_map(|(n, _)| n.strip_suffix("_SERVICE_HOST").map(str::to_string))
        .collect();
    let service_link = |name: &str| {
        services.iter().any(|s| {
            name.strip_prefix(s.as_str()).is_some_and(|rest| {
                rest == "_SERVICE_HOST"
                    || rest.starts_with("_SERVICE_PORT")
                    || rest == "_PORT"
                    || rest.starts_with("_PORT_")
            })
        })
    };
    vars.into_iter()
        .filter(|(n, _)| n != "HOSTNAME" && !service_link(n))
        .map(|(n, v)| {
            let f = key.fingerprint(v.as_bytes());
            (n, f)
        })
        .collect()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::collect_yaml;

    #[test]
    fn one_running_pod_per_workload_first_in_name_order() {
        let c = collect_yaml(
            r#"
            apiVersion: v1
            kind: Pod
            metadata:
              name: api-7c9-zzz
              namespace: shop
              ownerReferences: [{kind: ReplicaSet, name: api-7c9, controller: true}]
            spec: {containers: [{name: server}, {name: proxy}]}
            status: {phase: Running}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: api-7c9-aaa
              namespace: shop
              ownerReferences: [{kind: ReplicaSet, name: api-7c9, controller: true}]
            spec: {containers: [{name: server}, {name: proxy}]}
            status: {phase: Pending}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: api-7c9-bbb
              namespace: shop
              ownerReferences: [{kind: ReplicaSet, name: api-7c9, controller: true}]
            spec:
              initContainers: [{name: migrate}]
              containers: [{name: server}, {name: proxy}]
            status: {phase: Running}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: done-1, namespace: shop}
            spec: {containers: [{name: job}]}
            status: {phase: Succeeded}
            "#,
        );
        assert_eq!(
            chosen_pods(&c.objects),
            vec![(
                "shop".to_string(),
                "api-7c9-bbb".to_string(),
                vec!["server".to_string(), "proxy".to_string()]
            )]
        );
    }

    #[test]
    fn env_output_is_parsed_fingerprinted_and_kubelet_variables_left_out() {
        let key = FingerprintKey::new(b"k", true);
        let text = "PATH=/usr/bin\nHOSTNAME=checkout-7d9f-abcde\nKUBERNETES_SERVICE_HOST=10.0.0.1\n\
                    KUBERNETES_SERVICE_PORT=443\nKUBERNETES_SERVICE_PORT_HTTPS=443\n\
                    KUBERNETES_PORT=tcp://10.0.0.1:443\nKUBERNETES_PORT_443_TCP_ADDR=10.0.0.1\n\
                    DB_PORT=5432\nCERT=-----BEGIN\nline two\n-----END\nEMPTY=\n";
        let vars = parse_env(text, &key);
        let names: Vec<&str> = vars.keys().map(String::as_str).collect();
        assert_eq!(names, ["CERT", "DB_PORT", "EMPTY", "PATH"]);
        assert_eq!(vars["PATH"], key.fingerprint(b"/usr/bin"));
        assert_eq!(
            vars["CERT"],
            key.fingerprint(b"-----BEGIN\nline two\n-----END")
        );
        assert_eq!(vars["EMPTY"], key.fingerprint(b""));
    }
}
