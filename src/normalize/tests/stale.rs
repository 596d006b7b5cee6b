//! Pods that run with a value older than its ConfigMap or Secret.

use super::*;

// Env vars are read when a container starts; a ConfigMap changed later is
// not seen until a restart (kubernetes.io docs, "ConfigMaps consumed as
// environment variables are not updated automatically").
fn stale_fixture(cm_changed: &str, second_start: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: app-config
    namespace: shop
    managedFields:
    - manager: kubectl-client-side-apply
      operation: Update
      time: "{cm_changed}"
      fieldsType: FieldsV1
      fieldsV1: {{"f:data": {{"f:POOL": {{}}}}}}
    - manager: label-bot
      operation: Update
      time: "2030-01-01T00:00:00Z"
      fieldsType: FieldsV1
      fieldsV1: {{"f:metadata": {{"f:labels": {{}}}}}}
  data: {{POOL: "5"}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-abc-1
    namespace: shop
    labels: {{pod-template-hash: abc}}
    ownerReferences: [{{kind: ReplicaSet, name: web-abc, controller: true}}]
  spec:
    containers:
    - name: app
      env: [{{name: POOL, valueFrom: {{configMapKeyRef: {{name: app-config, key: POOL}}}}}}]
  status:
    phase: Running
    containerStatuses:
    - name: app
      state: {{running: {{startedAt: "2026-11-01T10:00:00Z"}}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-abc-2
    namespace: shop
    labels: {{pod-template-hash: abc}}
    ownerReferences: [{{kind: ReplicaSet, name: web-abc, controller: true}}]
  spec:
    containers:
    - name: app
      env: [{{name: POOL, valueFrom: {{configMapKeyRef: {{name: app-config, key: POOL}}}}}}]
  status:
    phase: Running
    containerStatuses:
    - name: app
      state: {{running: {{startedAt: "{second_start}"}}}}
"#
    )
}

fn stale_issues(inv: &Inventory) -> Vec<&Issue> {
    inv.issues
        .iter()
        .filter(|i| matches!(i, Issue::StalePods { .. }))
        .collect()
}

#[test]
fn pods_started_before_their_configmap_changed_are_stale() {
    let inv = inventory(
        "prod",
        &stale_fixture("2026-11-20T08:00:00Z", "2026-11-02T10:00:00+02:00"),
    );
    let stale = stale_issues(&inv);
    assert_eq!(stale.len(), 1, "{:?}", inv.issues);
    let Issue::StalePods {
        workload,
        container,
        source,
        stale,
        pods,
        started,
        ..
    } = stale[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (workload.as_str(), container.as_str(), source.as_str()),
        ("web", "app", "ConfigMap app-config")
    );
    assert_eq!((*stale, *pods), (2, 2));
    assert_eq!(started, "2026-11-01T10:00:00Z");
}

#[test]
fn a_pod_restarted_after_the_change_is_not_stale_and_label_edits_do_not_count() {
    // The label-bot's 2030 edit touched metadata only; the data changed on
    // 2026-11-20, after the first pod started but before the second.
    let inv = inventory(
        "prod",
        &stale_fixture("2026-11-20T08:00:00Z", "2026-11-21T00:00:00Z"),
    );
    let Issue::StalePods { stale, pods, .. } = stale_issues(&inv)[0] else {
        unreachable!()
    };
    assert_eq!((*stale, *pods), (1, 2));
    let inv = inventory(
        "prod",
        &stale_fixture("2026-10-01T00:00:00Z", "2026-11-21T00:00:00Z"),
    );
    assert!(stale_issues(&inv).is_empty(), "{:?}", inv.issues);
}
