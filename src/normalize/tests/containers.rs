//! Containers and per-pod fields.

use super::*;

// ---------------------------------------------------------------------------
// containers and per-pod fields
// ---------------------------------------------------------------------------

#[test]
fn init_containers_are_included_with_their_own_env() {
    let inv = inventory(
        "t",
        "
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop}
        spec:
          initContainers:
          - name: migrate
            env: [{name: MIGRATE_TIMEOUT, value: 60s}]
          containers:
          - name: app
            env: [{name: TIMEOUT_MS, value: '3000'}]
        ",
    );
    assert_eq!(text(&inv, "web/migrate", "MIGRATE_TIMEOUT"), "60s");
    assert!(entry(&inv, "web/migrate", "TIMEOUT_MS").is_none());
    assert!(entry(&inv, "web/app", "MIGRATE_TIMEOUT").is_none());
    let containers: Vec<&str> = inv.workloads["web"]
        .containers
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(containers, ["app", "migrate"]);
}

#[test]
fn field_refs_are_recorded_symbolically_and_equal_between_pods() {
    // The kubelet fills these per pod (pod name, IP, node): the same
    // reference is the same configuration.
    let env = "
        env:
        - name: MY_POD_IP
          valueFrom:
            fieldRef: {apiVersion: v1, fieldPath: status.podIP}
        - name: MY_NODE
          valueFrom:
            fieldRef: {fieldPath: spec.nodeName}
        - name: MEMORY_LIMIT_MB
          valueFrom:
            resourceFieldRef: {resource: limits.memory, divisor: 1Mi}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
        ]),
    );
    let ip = entry(&inv, "checkout/server", "MY_POD_IP").unwrap();
    assert_eq!(ip.value, Value::FieldRef("status.podIP".into()));
    assert_eq!(
        ip.provenance,
        Provenance::FieldRef {
            path: "status.podIP".into()
        }
    );
    // No limit: the node's allocatable, which no manifest tells.
    let mem = entry(&inv, "checkout/server", "MEMORY_LIMIT_MB").unwrap();
    assert_eq!(
        mem.value,
        Value::Unresolved("limits.memory not set: node allocatable".into())
    );
    assert_eq!(
        mem.provenance.to_string(),
        "resourceFieldRef limits.memory / 1Mi"
    );
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

/// A Deployment `web` whose container `app` has `resources` and `env`
/// (YAML at the container's indentation), beside a sidecar `proxy`.
fn web_with_resources(resources: &str, env: &str) -> String {
    let indent = |t: &str| {
        dedent(t)
            .lines()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  \
         template:\n    spec:\n      containers:\n      - name: app\n{}\n{}\n      - name: proxy\n        \
         resources: {{limits: {{cpu: 250m, memory: 64Mi}}}}\n",
        indent(resources),
        indent(env)
    )
}

fn resource_env(resources: &str, refs: &[(&str, &str)]) -> Inventory {
    let env: String = refs
        .iter()
        .map(|(name, r)| format!("- name: {name}\n  valueFrom:\n    resourceFieldRef: {r}\n"))
        .collect();
    inventory("t", &web_with_resources(resources, &format!("env:\n{env}")))
}

#[test]
fn resource_field_refs_resolve_as_extract_container_resource_value_rounding_up() {
    // k8s.io/kubernetes pkg/api/v1/resource ExtractContainerResourceValue:
    // cpu is ceil(MilliValue / divisor.MilliValue), everything else
    // ceil(Value / divisor.Value); the divisor defaults to 1.
    let inv = resource_env(
        "
        resources:
          limits: {cpu: 500m, memory: 128Mi, ephemeral-storage: 1Gi, hugepages-2Mi: 4Mi}
          requests: {cpu: 250m, memory: 100M}
        ",
        &[
            ("CPU_LIMIT", "{resource: limits.cpu}"),
            ("CPU_LIMIT_MILLIS", "{resource: limits.cpu, divisor: 1m}"),
            (
                "CPU_REQUEST_MILLIS",
                "{resource: requests.cpu, divisor: 1m}",
            ),
            ("MEMORY_LIMIT_MB", "{resource: limits.memory, divisor: 1Mi}"),
            ("MEMORY_LIMIT", "{resource: limits.memory}"),
            (
                "MEMORY_REQUEST_MB",
                "{resource: requests.memory, divisor: 1Mi}",
            ),
            (
                "SCRATCH_MB",
                "{resource: limits.ephemeral-storage, divisor: 1Mi}",
            ),
            (
                "SCRATCH_REQUEST",
                "{resource: requests.ephemeral-storage, divisor: 1Mi}",
            ),
            (
                "HUGEPAGES_MB",
                "{resource: limits.hugepages-2Mi, divisor: 1Mi}",
            ),
            (
                "PROXY_MEMORY_MB",
                "{containerName: proxy, resource: limits.memory, divisor: 1Mi}",
            ),
            ("ZERO_DIVISOR", "{resource: limits.cpu, divisor: '0'}"),
        ],
    );
    let got = |k: &str| value(&inv, "web/app", k).clone();
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(got("CPU_LIMIT"), text("1"), "500m rounds up to 1 cpu");
    assert_eq!(got("CPU_LIMIT_MILLIS"), text("500"));
    assert_eq!(got("CPU_REQUEST_MILLIS"), text("250"));
    assert_eq!(got("MEMORY_LIMIT_MB"), text("128"));
    assert_eq!(got("MEMORY_LIMIT"), text("134217728"));
    // 100M is 95.37Mi: rounded up.
    assert_eq!(got("MEMORY_REQUEST_MB"), text("96"));
    assert_eq!(got("SCRATCH_MB"), text("1024"));
    // No request: the API server defaults it to the limit.
    assert_eq!(got("SCRATCH_REQUEST"), text("1024"));
    assert_eq!(got("HUGEPAGES_MB"), text("4"));
    assert_eq!(got("PROXY_MEMORY_MB"), text("64"));
    assert_eq!(got("ZERO_DIVISOR"), text("1"), "a zero divisor is 1");
    assert_eq!(
        entry(&inv, "web/app", "PROXY_MEMORY_MB")
            .unwrap()
            .provenance
            .to_string(),
        "resourceFieldRef limits.memory of proxy / 1Mi"
    );
    assert_eq!(
        entry(&inv, "web/app", "CPU_LIMIT")
            .unwrap()
            .provenance
            .to_string(),
        "resourceFieldRef limits.cpu"
    );
}

#[test]
fn a_jvm_heap_from_a_memory_limit_drifts_visibly() {
    let env = [("MEMORY_LIMIT_MB", "{resource: limits.memory, divisor: 1Mi}")];
    let staging = resource_env("resources: {limits: {memory: 64Mi}}", &env);
    let prod = resource_env("resources: {limits: {memory: 128Mi}}", &env);
    let (a, b) = (
        value(&staging, "web/app", "MEMORY_LIMIT_MB"),
        value(&prod, "web/app", "MEMORY_LIMIT_MB"),
    );
    assert_eq!(
        (a, b),
        (&Value::Text("64".into()), &Value::Text("128".into()))
    );
    assert!(!same(ConfigKind::Env, a, b));
}

#[test]
fn a_missing_limit_is_node_allocatable_unresolved_and_never_equal() {
    // pkg/kubelet defaultPodLimitsForDownwardAPI: no limit means the
    // node's allocatable (or the pod-level limit, when there is one).
    let env = [
        ("MEMORY_LIMIT", "{resource: limits.memory}"),
        ("CPU_REQUEST", "{resource: requests.cpu}"),
        ("NOT_A_RESOURCE", "{resource: limits.gpu}"),
        (
            "NO_SUCH_CONTAINER",
            "{containerName: nope, resource: limits.cpu}",
        ),
    ];
    let a = resource_env("resources: {}", &env);
    let b = resource_env("resources: null", &env);
    let mem = value(&a, "web/app", "MEMORY_LIMIT");
    assert_eq!(
        *mem,
        Value::Unresolved("limits.memory not set: node allocatable".into())
    );
    assert!(!same(
        ConfigKind::Env,
        mem,
        value(&b, "web/app", "MEMORY_LIMIT")
    ));
    for k in ["CPU_REQUEST", "NOT_A_RESOURCE", "NO_SUCH_CONTAINER"] {
        assert!(
            matches!(value(&a, "web/app", k), Value::Unresolved(_)),
            "{k}"
        );
    }
    assert_eq!(a.unresolved(), 4);
    // A pod-level limit stands in for a container's missing one.
    let pod_level = inventory(
        "t",
        &web_with_resources("resources: {}", "env: [{name: M, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}]")
            .replace("    spec:\n      containers:", "    spec:\n      resources: {limits: {memory: 1Gi}}\n      containers:"),
    );
    assert_eq!(
        *value(&pod_level, "web/app", "M"),
        Value::Text("1024".into())
    );
}
