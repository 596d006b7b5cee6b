//! The live source: list an environment's objects from a cluster with the
//! real `kube` client, read-only (GET only), paginated, retried with backoff
//! where retrying can help, and with every gap reported.
//!
//! Pages are parsed as they arrive by the same parser as files, so a Secret
//! value is fingerprinted the moment its page is read.

pub(crate) mod exec;
mod get;

use get::get;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use kube::config::{Config, KubeConfigOptions};
use kube::core::params::ListParams;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::collect::manifest::{self, Document, Format, Parsed};
use crate::fingerprint::FingerprintKey;
use crate::model::spec_table::Distinct;
use crate::model::{Collected, Problem, Severity, Unreadable};

/// The context name that means "the ServiceAccount this pod runs as".
pub const IN_CLUSTER: &str = "in-cluster";

/// What to read from one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeTarget {
    /// kubeconfig context; `None` for the current one, `in-cluster` for the
    /// pod's ServiceAccount.
    pub context: Option<String>,
    /// Namespaces to read; empty for all.
    pub namespaces: Vec<String>,
    /// Label selector for pods and workloads (ConfigMaps and Secrets are
    /// read whole, because pods refer to them without sharing labels).
    pub selector: Option<String>,
    /// The whole environment must be read within this.
    pub timeout: Duration,
    /// Page size of list requests.
    pub page_size: u32,
    /// Also read each workload's running process environment through the
    /// exec API (`--runtime-env`; needs `create` on `pods/exec`).
    pub runtime_env: bool,
}

impl Default for KubeTarget {
    fn default() -> Self {
        KubeTarget {
            context: None,
            namespaces: Vec::new(),
            selector: None,
            timeout: Duration::from_secs(60),
            page_size: 500,
            runtime_env: false,
        }
    }
}

impl KubeTarget {
    pub fn describe(&self) -> String {
        format!(
            "kube:{}/{}",
            self.context.as_deref().unwrap_or(""),
            self.namespaces.join(",")
        )
    }

    fn context_name(&self) -> &str {
        self.context.as_deref().unwrap_or("(current context)")
    }
}

/// A resource confdrift lists.
#[derive(Debug, Clone)]
struct Resource {
    /// `/api/v1` or `/apis/apps/v1`; for an optional kind, the version
    /// discovery found.
    prefix: std::borrow::Cow<'static, str>,
    plural: &'static str,
    kind: &'static str,
    /// Whether the label selector applies.
    selectable: bool,
    /// Served only where a controller is installed (`collect::kinds`): a
    /// list it forbids is reported, but the environment stays complete,
    /// because the pods it makes are still read and compared.
    optional: bool,
}

const RESOURCES: [Resource; 9] = [
    Resource {
        prefix: std::borrow::Cow::Borrowed("/api/v1"),
        plural: "pods",
        kind: "Pod",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/apps/v1"),
        plural: "deployments",
        kind: "Deployment",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/apps/v1"),
        plural: "statefulsets",
        kind: "StatefulSet",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/apps/v1"),
        plural: "daemonsets",
        kind: "DaemonSet",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/apps/v1"),
        plural: "replicasets",
        kind: "ReplicaSet",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/batch/v1"),
        plural: "jobs",
        kind: "Job",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/apis/batch/v1"),
        plural: "cronjobs",
        kind: "CronJob",
        selectable: true,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/api/v1"),
        plural: "configmaps",
        kind: "ConfigMap",
        selectable: false,
        optional: false,
    },
    Resource {
        prefix: std::borrow::Cow::Borrowed("/api/v1"),
        plural: "secrets",
        kind: "Secret",
        selectable: false,
        optional: false,
    },
];

/// The (API group, resource) pairs confdrift lists, for RBAC: `""` is the
/// core group. The shipped roles in `deploy/` are tested against this.
/// Optional kinds (`collect::kinds`) are listed when discovery finds them.
pub fn listed_resources() -> Vec<(&'static str, &'static str)> {
    let builtin = RESOURCES.iter().map(|r| {
        let group = match &r.prefix {
            std::borrow::Cow::Borrowed(p) => p
                .strip_prefix("/apis/")
                .and_then(|g| g.split('/').next())
                .unwrap_or(""),
            std::borrow::Cow::Owned(_) => "",
        };
        (group, r.plural)
    });
    let optional =
        crate::collect::kinds::optional_kinds().map(|(group, _, plural)| (group, plural));
    builtin.chain(optional).collect()
}

/// Lists running concurrently against one cluster.
const CONCURRENT_LISTS: usize = 4;
/// Restarts of one list when its continue token expired (410 Gone).
const MAX_RESTARTS: u32 = 3;

/// Collects one environment from a cluster. Never fails: everything that
/// goes wrong is a [`Problem`] that makes the environment incomplete.
pub(crate) async fn collect(
    target: &KubeTarget,
    key: Arc<FingerprintKey>,
    progress: Option<Arc<dyn crate::collect::Progress>>,
) -> Collected {
    let mut collected = Collected {
        source: target.describe(),
        fingerprint_key_id: key.id().to_string(),
        ..Collected::default()
    };
    let client = match client_for(target).await {
        Ok(c) => c,
        Err(message) => {
            // Not the message: a kubeconfig parse error may quote the file.
            tracing::info!(
                context = %target.context_name(),
                code = %"cluster-unreachable",
                "no client for the context"
            );
            collected.problems.push(problem(
                target,
                crate::codes::ProblemCode::ClusterUnreachable.as_str(),
                message,
            ));
            return collected;
        }
    };
    // Execs (--runtime-env) stop at 90% of the budget: the lists are kept.
    let exec_deadline = tokio::time::Instant::now() + target.timeout.mul_f32(0.9);
    let outcome = tokio::time::timeout(
        target.timeout,
        collect_with(&client, target, key, progress.clone(), exec_deadline),
    )
    .await;
    if let Some(progress) = &progress {
        progress.finished();
    }
    match outcome {
        Ok(mut parts) => {
            collected.objects.append(&mut parts.objects);
            collected.problems.append(&mut parts.problems);
            collected.unreadable.append(&mut parts.unreadable);
            collected.skipped_kinds.append(&mut parts.skipped_kinds);
            collected.runtime_env.append(&mut parts.runtime_env);
            if parts.finished_pods > 0 {
                collected.problems.push(Problem {
                    code: crate::codes::ProblemCode::FinishedPods.into(),
                    severity: Severity::Info,
                    incomplete: false,
                    location: target.describe(),
                    message: format!(
                        "{} finished pod(s) (phase Succeeded or Failed) were left out",
                        parts.finished_pods
                    ),
                });
            }
        }
        Err(_) => {
            tracing::info!(
                timeout = ?target.timeout,
                "the environment's timeout ran out; nothing of it is kept"
            );
            collected.problems.push(problem(
                target,
                crate::codes::ProblemCode::Timeout.as_str(),
                format!(
                    "the cluster did not answer within {}s; nothing from this environment is \
                     compared (raise `timeout:` in confdrift.yaml if the cluster is large)",
                    target.timeout.as_secs()
                ),
            ))
        }
    }
    crate::collect::finish(&mut collected);
    collected
}

fn problem(target: &KubeTarget, code: &str, message: String) -> Problem {
    Problem {
        code: code.into(),
        severity: Severity::Critical,
        incomplete: true,
        location: format!("context {}", target.context_name()),
        message,
    }
}

async fn client_for(target: &KubeTarget) -> Result<Client, String> {
    let mut config = match target.context.as_deref() {
        Some(IN_CLUSTER) => Config::incluster().map_err(|e| {
            format!("in-cluster configuration is not available ({e}); run inside a pod with a ServiceAccount, or name a kubeconfig context")
        })?,
        context => Config::from_kubeconfig(&KubeConfigOptions {
            context: context.map(str::to_string),
            ..KubeConfigOptions::default()
        })
        .await
        .map_err(|e| {
            // A YAML error can quote the file, and a kubeconfig holds
            // tokens and keys: say what is wrong, never what is there.
            let cause = match e {
                kube::config::KubeconfigError::Parse(_) => {
                    "the kubeconfig is not valid YAML (the parser's message is not shown: it can \
                     quote credentials; `kubectl config view` names the problem)"
                        .to_string()
                }
                e => e.to_string(),
            };
            format!(
                "cannot load kubeconfig context {}: {cause} (check KUBECONFIG and `kubectl config get-contexts`)",
                context.unwrap_or("(current)")
            )
        })?,
    };
    // One slow request must not eat the whole environment's budget.
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(target.timeout.min(Duration::from_secs(30)));
    tracing::debug!(
        context = %target.context_name(),
        server_host = %config.cluster_url.host().unwrap_or(""),
        server_port = config.cluster_url.port_u16(),
        namespaces = target.namespaces.len(),
        selector = target.selector.is_some(),
        page_size = target.page_size,
        timeout = ?target.timeout,
        "client configured"
    );
    Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))
}

/// What the lists (and execs) of one live environment gave, before it
/// becomes its [`Collected`](crate::model::Collected).
#[derive(Default)]
struct Listed {
    objects: Vec<crate::model::Object>,
    problems: Vec<Problem>,
    unreadable: Vec<Unreadable>,
    skipped_kinds: std::collections::BTreeMap<String, usize>,
    finished_pods: usize,
    runtime_env: Vec<crate::model::RuntimeEnv>,
}

async fn collect_with(
    client: &Client,
    target: &KubeTarget,
    key: Arc<FingerprintKey>,
    progress: Option<Arc<dyn crate::collect::Progress>>,
    exec_deadline: tokio::time::Instant,
) -> Listed {
    let mut parts = Listed::default();
    // Namespaces that do not exist are reported; a list in a missing
    // namespace answers 200 with no items, which would look like "empty".
    let mut namespaces: Vec<Option<String>> = Vec::new();
    if target.namespaces.is_empty() {
        namespaces.push(None);
    }
    for ns in &target.namespaces {
        match get(client, &format!("/api/v1/namespaces/{ns}")).await {
            Ok(_) => namespaces.push(Some(ns.clone())),
            Err(e) if e.status == Some(404) => parts.problems.push(problem(
                target,
                crate::codes::ProblemCode::NamespaceMissing.as_str(),
                format!(
                    "namespace {ns} does not exist in context {}",
                    target.context_name()
                ),
            )),
            // A namespaced Role may not allow reading the Namespace object;
            // the lists below will tell what is readable.
            Err(e) if e.status == Some(403) => namespaces.push(Some(ns.clone())),
            Err(e) => {
                parts.problems.push(problem(
                    target,
                    e.code(),
                    e.describe(target, "namespaces", Some(ns)),
                ));
            }
        }
    }
    let semaphore = Arc::new(Semaphore::new(CONCURRENT_LISTS));
    // One table of pod specs for every list of this environment: a
    // Deployment's template and its pods, listed at once, share one spec
    // as soon as each page is read (see `share_page`).
    let specs = Arc::new(std::sync::Mutex::new(Distinct::default()));
    let objects = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    if let Some(progress) = &progress {
        progress.planned((namespaces.len() * RESOURCES.len()) as u64);
    }
    let mut tasks = tokio::task::JoinSet::new();
    // The built-in kinds are listed while discovery looks for the optional ones.
    let mut lists: Vec<(Resource, Option<String>)> = Vec::new();
    for ns in &namespaces {
        for res in &RESOURCES {
            lists.push((res.clone(), ns.clone()));
        }
    }
    let mut discovered = None;
    loop {
        for (res, ns) in lists.drain(..) {
            let client = client.clone();
            let target = target.clone();
            let key = key.clone();
            let semaphore = semaphore.clone();
            let progress = progress.clone();
            let objects = objects.clone();
            let specs = specs.clone();
            tasks.spawn(
                async move {
                    let _permit = semaphore.acquire_owned().await;
                    let r = list_all(&client, &target, res, ns.as_deref(), &key, &specs).await;
                    if let Some(progress) = &progress {
                        let read = match &r {
                            ListResult::Done(p) => Some(
                                objects.fetch_add(
                                    p.objects.len(),
                                    std::sync::atomic::Ordering::Relaxed,
                                ) + p.objects.len(),
                            ),
                            _ => None,
                        };
                        progress.listed(read);
                    }
                    r
                }
                .in_current_span(),
            );
        }
        if discovered.is_some() {
            break;
        }
        let (found, problems) = discover_optional(client, target).await;
        parts.problems.extend(problems);
        for res in &found {
            for ns in &namespaces {
                lists.push((res.clone(), ns.clone()));
            }
        }
        if let Some(progress) = &progress {
            progress.planned((namespaces.len() * found.len()) as u64);
        }
        discovered = Some(found);
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => parts.problems.push(problem(
                target,
                "internal",
                format!("a list task failed: {e}"),
            )),
        }
    }
    for r in results {
        match r {
            ListResult::Done(parsed) => {
                parts.objects.extend(parsed.objects);
                parts.finished_pods += parsed.finished_pods;
                for (k, n) in parsed.skipped_kinds {
                    *parts.skipped_kinds.entry(k).or_default() += n;
                }
            }
            ListResult::Failed {
                res,
                ns: _,
                mut problem,
            } if res.optional => {
                problem.severity = Severity::Warning;
                problem.incomplete = false;
                problem.message.push_str(&format!(
                    " ({} objects are not compared; the pods they make still are)",
                    res.kind
                ));
                parts.problems.push(problem);
            }
            ListResult::Failed { res, ns, problem } => {
                parts.unreadable.push(Unreadable {
                    namespace: ns.unwrap_or_default(),
                    kind: res.kind.to_string(),
                });
                parts.problems.push(problem);
            }
        }
    }
    parts.unreadable.sort();
    // Only when asked: exec is a `create` on `pods/exec`, not a read.
    if target.runtime_env {
        let (envs, mut problems) =
            exec::read_all(client, target, &parts.objects, key, exec_deadline).await;
        parts.runtime_env = envs;
        parts.problems.append(&mut problems);
    }
    parts
}

/// Finds the optional kinds (`collect::kinds`) the cluster serves, with
/// kube's discovery calls: `GET /apis`, then `GET /apis/GROUP/VERSION` of
/// each group found, preferred version first. A group the cluster does not
/// serve is not a problem. When discovery itself fails, the optional kinds
/// are not listed and a warning says so; the environment stays complete,
/// because their pods are read and grouped by owner all the same.
async fn discover_optional(client: &Client, target: &KubeTarget) -> (Vec<Resource>, Vec<Problem>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let warn = |what: String, e: kube::Error| Problem {
        code: crate::codes::ProblemCode::DiscoveryFailed.into(),
        severity: Severity::Warning,
        incomplete: false,
        location: format!("context {}", target.context_name()),
        message: format!(
            "context {}: API discovery of {what} failed ({}); Argo Rollouts, OpenKruise and \
             Knative objects there are not read (the pods they make still are)",
            target.context_name(),
            discovery_error(&e)
        ),
    };
    let groups = match client.list_api_groups().await {
        Ok(g) => g.groups,
        Err(e) => {
            tracing::debug!(error = %e, "GET /apis failed");
            problems.push(warn("/apis".into(), e));
            return (found, problems);
        }
    };
    let mut wanted: Vec<(&str, &str, &str)> = crate::collect::kinds::optional_kinds().collect();
    wanted.sort();
    let mut by_group: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    for (group, kind, plural) in wanted {
        by_group.entry(group).or_default().push((kind, plural));
    }
    for (group, kinds) in by_group {
        let Some(g) = groups.iter().find(|g| g.name == group) else {
            tracing::debug!(group, "API group not served");
            continue;
        };
        // Preferred version first, then the others as the server lists them.
        let mut versions: Vec<&str> = g
            .preferred_version
            .iter()
            .map(|v| v.group_version.as_str())
            .collect();
        for v in &g.versions {
            if !versions.contains(&v.group_version.as_str()) {
                versions.push(v.group_version.as_str());
            }
        }
        let mut pending = kinds;
        for gv in versions {
            if pending.is_empty() {
                break;
            }
            let resources = match client.list_api_group_resources(gv).await {
                Ok(r) => r.resources,
                Err(e) => {
                    tracing::debug!(group_version = gv, error = %e, "discovery failed");
                    problems.push(warn(format!("/apis/{gv}"), e));
                    continue;
                }
            };
            pending.retain(|(kind, plural)| {
                let served = resources.iter().any(|r| {
                    r.name == *plural && r.kind == *kind && r.verbs.iter().any(|v| v == "list")
                });
                if served {
                    found.push(Resource {
                        prefix: std::borrow::Cow::Owned(format!("/apis/{gv}")),
                        plural,
                        kind,
                        selectable: true,
                        optional: true,
                    });
                }
                !served
            });
        }
    }
    tracing::debug!(
        found = ?found.iter().map(|r| format!("{}/{}", r.prefix, r.plural)).collect::<Vec<_>>(),
        "optional kinds discovered"
    );
    (found, problems)
}

/// A discovery error in words, without a response body that is not a
/// `Status` (a proxy's page).
fn discovery_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("HTTP {}: {}", s.code, s.message),
        e => e.to_string(),
    }
}

enum ListResult {
    Done(Parsed),
    Failed {
        res: Resource,
        ns: Option<String>,
        problem: Problem,
    },
}

/// Lists one resource in one namespace (or all), page by page. The next
/// page is requested as soon as a page's continue token is known, and a
/// page is parsed on a blocking thread while the next one is on its way:
/// the API server's time and ours overlap, and the async workers stay free
/// for the other lists and environments.
/// The pod specs of an environment's lists, shared between them.
type SharedSpecs = Arc<std::sync::Mutex<Distinct>>;

/// Makes the specs of a page's new objects the environment's shared ones,
/// and drops the page's own table: its copies go as soon as the page is
/// read, where each list kept them until the environment was complete.
fn share_page(specs: &SharedSpecs, parsed: &mut Parsed, from: usize) {
    // A poisoned table only means another list panicked mid-insert; the
    // table itself is intact.
    specs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .share_all(&mut parsed.objects[from..]);
    parsed.specs = Distinct::default();
}

// Long (about 160 lines): one page loop, whose state (the next page's
// request in flight, the page being parsed on a blocking thread, restarts
// after 410 Gone) every step shares.
async fn list_all(
    client: &Client,
    target: &KubeTarget,
    res: Resource,
    ns: Option<&str>,
    key: &Arc<FingerprintKey>,
    specs: &SharedSpecs,
) -> ListResult {
    let path = match ns {
        Some(ns) => format!("{}/namespaces/{ns}/{}", res.prefix, res.plural),
        None => format!("{}/{}", res.prefix, res.plural),
    };
    let started = Instant::now();
    let mut restarts = 0;
    // Requests one page in the background.
    let fetch = |continue_token: Option<&str>| {
        let mut lp = ListParams::default().limit(target.page_size);
        if res.selectable
            && let Some(sel) = &target.selector
        {
            lp = lp.labels(sel);
        }
        if let Some(t) = continue_token {
            lp = lp.continue_token(t);
        }
        let query = kube::core::Request::new(&path)
            .list(&lp)
            .map(|req| req.uri().to_string());
        let client = client.clone();
        tokio::spawn(async move {
            match query {
                Ok(query) => get(&client, &query).await.map_err(Some),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot build the list request");
                    Err(None)
                }
            }
        })
    };
    'restart: loop {
        let mut parsed = Parsed::default();
        let mut next = fetch(None);
        let mut pages = 0usize;
        loop {
            let fetched = match next.await {
                Ok(r) => r,
                Err(e) => {
                    return failed(
                        target,
                        res.clone(),
                        ns,
                        crate::codes::ProblemCode::BadRequest.as_str(),
                        format!("the list request failed: {e}"),
                    );
                }
            };
            let body = match fetched {
                Ok(body) => body,
                Err(None) => {
                    return failed(
                        target,
                        res.clone(),
                        ns,
                        crate::codes::ProblemCode::BadRequest.as_str(),
                        "cannot build the list request (check the label selector)".into(),
                    );
                }
                Err(Some(e)) if e.status == Some(410) && restarts < MAX_RESTARTS => {
                    // The continue token expired: the list must start over
                    // for a consistent view.
                    restarts += 1;
                    tracing::info!(
                        %path,
                        restarts,
                        "continue token expired (410 Gone); listing again from the first page"
                    );
                    continue 'restart;
                }
                Err(Some(e)) => {
                    tracing::debug!(%path, code = %e.code(), status = e.status, "list failed");
                    return failed(
                        target,
                        res.clone(),
                        ns,
                        e.code(),
                        e.describe(target, res.plural, ns),
                    );
                }
            };
            let continue_token = next_token(&body);
            // Ask for the next page before reading this one.
            let prefetch = continue_token.as_deref().map(|t| fetch(Some(t)));
            let (page_parsed, result) = {
                let path = path.clone();
                let key = key.clone();
                let specs = specs.clone();
                match tokio::task::spawn_blocking(move || {
                    let page = Document {
                        text: &body,
                        line: 1,
                        format: Format::Json,
                    };
                    let before = parsed.objects.len();
                    let result = manifest::parse_document(&page, 0, &path, &key, &mut parsed);
                    if result.is_ok() {
                        share_page(&specs, &mut parsed, before);
                    }
                    (parsed, result)
                })
                .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        return failed(
                            target,
                            res.clone(),
                            ns,
                            crate::codes::ProblemCode::BadResponse.as_str(),
                            format!("reading a page failed: {e}"),
                        );
                    }
                }
            };
            parsed = page_parsed;
            if let Err(e) = result {
                if let Some(p) = prefetch {
                    p.abort();
                }
                return failed(
                    target,
                    res,
                    ns,
                    crate::codes::ProblemCode::BadResponse.as_str(),
                    format!("the API server sent a list confdrift cannot read: {e}"),
                );
            }
            pages += 1;
            tracing::trace!(
                %path,
                pages,
                objects = parsed.objects.len(),
                continue_token = continue_token.is_some(),
                "page read"
            );
            match prefetch {
                Some(p) => next = p,
                None => {
                    tracing::debug!(
                        %path,
                        objects = parsed.objects.len(),
                        finished_pods = parsed.finished_pods,
                        pages,
                        restarts,
                        elapsed = ?started.elapsed(),
                        "listed"
                    );
                    return ListResult::Done(parsed);
                }
            }
        }
    }
}

fn failed(
    target: &KubeTarget,
    res: Resource,
    ns: Option<&str>,
    code: &str,
    message: String,
) -> ListResult {
    ListResult::Failed {
        res,
        ns: ns.map(str::to_string),
        problem: problem(target, code, message),
    }
}

/// `metadata.continue` of a list page.
fn next_token(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(default)]
        metadata: PageMeta,
    }
    #[derive(serde::Deserialize, Default)]
    struct PageMeta {
        #[serde(default, rename = "continue")]
        token: Option<String>,
    }
    serde_json::from_str::<Page>(body)
        .ok()
        .and_then(|p| p.metadata.token)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Object;

    #[test]
    fn continue_token_is_read_from_list_metadata() {
        assert_eq!(
            next_token(
                r#"{"kind":"PodList","metadata":{"continue":"abc","resourceVersion":"1"},"items":[]}"#
            ),
            Some("abc".to_string())
        );
        assert_eq!(
            next_token(r#"{"metadata":{"continue":""},"items":[]}"#),
            None
        );
        assert_eq!(next_token(r#"{"items":[]}"#), None);
    }

    /// A page of a list, parsed as `list_all` parses one.
    fn page(text: &str, parsed: &mut Parsed, specs: &SharedSpecs) {
        let doc = Document {
            text,
            line: 1,
            format: Format::Json,
        };
        let before = parsed.objects.len();
        let key = crate::collect::testing::test_key();
        manifest::parse_document(&doc, 0, "list", &key, parsed).unwrap();
        share_page(specs, parsed, before);
    }

    fn spec_of(o: &Object) -> &Arc<crate::model::PodSpec> {
        match o {
            Object::Pod { spec, .. } | Object::Workload { template: spec, .. } => spec,
            other => panic!("no pod spec: {other:?}"),
        }
    }

    #[test]
    fn a_template_and_its_pods_listed_apart_share_one_spec_once_each_page_is_read() {
        let container = r#"{"name":"app","env":[{"name":"DB_POOL_SIZE","value":"20"}]}"#;
        let pods = format!(
            r#"{{"kind":"PodList","items":[
                {{"metadata":{{"name":"web-1","namespace":"shop"}},"spec":{{"containers":[{container}]}}}},
                {{"metadata":{{"name":"web-2","namespace":"shop"}},"spec":{{"containers":[{container}]}}}}]}}"#
        );
        let deployments = format!(
            r#"{{"kind":"DeploymentList","apiVersion":"apps/v1","items":[
                {{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web","namespace":"shop"}},
                  "spec":{{"template":{{"spec":{{"containers":[{container}]}}}}}}}}]}}"#
        );
        let specs = SharedSpecs::default();
        let (mut p, mut d) = (Parsed::default(), Parsed::default());
        page(&pods, &mut p, &specs);
        page(&deployments, &mut d, &specs);
        assert_eq!(p.objects.len(), 2);
        assert_eq!(d.objects.len(), 1);
        let template = spec_of(&d.objects[0]);
        for pod in &p.objects {
            assert!(Arc::ptr_eq(spec_of(pod), template));
        }
        // The objects and the shared table hold it; no page keeps a copy.
        assert_eq!(Arc::strong_count(template), 4);
    }
}
