//! The structural half of the memory budget (issue #15): an extra replica of
//! a workload costs no pod spec and no inventory entry, however its pods
//! arrive (one file, one file each, with the workload's template).

use std::sync::Arc;

use super::{Options, normalize};
use crate::collect::files::collect_files;
use crate::fingerprint::FingerprintKey;
use crate::model::{Collected, Object, PodSpec};

const TEMPLATE: &str = r#"{"containers": [{"name": "app", "env": [
    {"name": "DB_POOL_SIZE", "value": "20"},
    {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "db", "key": "host"}}}]}]}"#;

/// A Deployment and `replicas` pods of it, each pod in a file of its own
/// (so that no reader could share specs by reading them one after another).
fn fleet(replicas: usize) -> (tempfile::TempDir, Collected) {
    let dir = tempfile::tempdir().unwrap();
    let deployment = format!(
        r#"{{"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {{"name": "web", "namespace": "shop"}},
            "spec": {{"template": {{"metadata": {{"labels": {{"app": "web"}}}}, "spec": {TEMPLATE}}}}}}}"#
    );
    std::fs::write(dir.path().join("deployment.json"), deployment).unwrap();
    std::fs::write(
        dir.path().join("configmap.json"),
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db", "namespace": "shop"},
            "data": {"host": "db.shop"}}"#,
    )
    .unwrap();
    for i in 0..replicas {
        let pod = format!(
            r#"{{"apiVersion": "v1", "kind": "Pod",
                "metadata": {{"name": "web-5d9c7b-{i:05}", "namespace": "shop",
                  "labels": {{"app": "web", "pod-template-hash": "5d9c7b"}},
                  "ownerReferences": [{{"kind": "ReplicaSet", "name": "web-5d9c7b", "controller": true}}]}},
                "spec": {TEMPLATE}, "status": {{"phase": "Running"}}}}"#
        );
        std::fs::write(dir.path().join(format!("pod-{i:05}.json")), pod).unwrap();
    }
    let key = FingerprintKey::new(b"replicas", true);
    let collected = collect_files(&[dir.path().to_path_buf()], &key).unwrap();
    (dir, collected)
}

fn specs(collected: &Collected) -> Vec<&Arc<PodSpec>> {
    collected
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::Pod { spec, .. } => Some(spec),
            Object::Workload { template, .. } => Some(template),
            _ => None,
        })
        .collect()
}

#[test]
fn replicas_read_from_separate_files_share_one_spec_with_their_template() {
    let (_dir, collected) = fleet(40);
    let specs = specs(&collected);
    assert_eq!(specs.len(), 41, "40 pods and the Deployment's template");
    assert!(specs.iter().all(|s| Arc::ptr_eq(s, specs[0])));
    // Every pod and the template hold it, nothing else: one copy in memory.
    assert_eq!(Arc::strong_count(specs[0]), 41);
}

#[test]
fn an_extra_replica_adds_no_inventory_entry() {
    let opts = Options::with_defaults(FingerprintKey::new(b"replicas", true).id());
    let (_a, few) = fleet(2);
    let (_b, many) = fleet(60);
    let (few, many) = (
        normalize("prod", &few, &opts),
        normalize("prod", &many, &opts),
    );
    assert_eq!(many.workloads["web"].pods, 60);
    assert_eq!(few.entries, many.entries);
    assert!(many.issues.is_empty(), "{:?}", many.issues);
}

#[test]
fn a_replica_that_differs_keeps_its_own_spec_and_is_skew() {
    let (dir, _) = fleet(3);
    let odd = std::fs::read_to_string(dir.path().join("pod-00001.json"))
        .unwrap()
        .replace(r#""value": "20""#, r#""value": "5""#);
    std::fs::write(dir.path().join("pod-00001.json"), odd).unwrap();
    let key = FingerprintKey::new(b"replicas", true);
    let collected = collect_files(&[dir.path().to_path_buf()], &key).unwrap();
    let specs = specs(&collected);
    let distinct = specs.iter().filter(|s| !Arc::ptr_eq(s, specs[0])).count();
    assert_eq!(
        distinct, 1,
        "the one pod that differs has a spec of its own"
    );
    let inv = normalize("prod", &collected, &Options::with_defaults(key.id()));
    assert!(
        inv.issues
            .iter()
            .any(|i| matches!(i, crate::model::Issue::Skew { .. })),
        "{:?}",
        inv.issues
    );
}
