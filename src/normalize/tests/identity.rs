//! Workload identity: which workload a pod belongs to.

use super::*;

// ---------------------------------------------------------------------------
// workload identity
// ---------------------------------------------------------------------------

#[test]
fn deployment_pods_that_differ_only_in_generated_fields_are_one_workload_without_skew() {
    let env = "
        env:
        - {name: DB_POOL_SIZE, value: '5'}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
            &checkout_pod("q7w8z", "node-b", "10.0.2.9", "kube-api-access-9vbnm", env),
            &checkout_pod("h5j6k", "node-c", "10.0.3.3", "kube-api-access-zt6qr", env),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    let info = &inv.workloads["checkout"];
    assert_eq!(info.kind, "Deployment");
    assert_eq!(info.pods, 3);
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
    // Nothing from the service-account token volume is compared.
    assert_eq!(keys(&inv, "checkout/server"), ["DB_POOL_SIZE"]);
}

#[test]
fn statefulset_pods_are_one_workload() {
    let pod = |ordinal: u32| {
        format!(
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: cart-{ordinal}
              namespace: shop
              labels:
                app: cart
                apps.kubernetes.io/pod-index: \"{ordinal}\"
                statefulset.kubernetes.io/pod-name: cart-{ordinal}
              ownerReferences:
              - {{apiVersion: apps/v1, kind: StatefulSet, name: cart, uid: u1, controller: true}}
            spec:
              hostname: cart-{ordinal}
              containers:
              - name: redis
                env: [{{name: MAXMEMORY, value: 256mb}}]
            "
        )
    };
    let inv = inventory("t", &stream(&[&pod(0), &pod(1), &pod(2)]));
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["cart"]);
    assert_eq!(inv.workloads["cart"].kind, "StatefulSet");
    assert_eq!(inv.workloads["cart"].pods, 3);
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}

const NIGHTLY_CRONJOB: &str = "
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-report, namespace: shop}
spec:
  schedule: '0 2 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            env: [{name: REPORT_DAYS, value: '7'}]
";

#[test]
fn cronjob_its_jobs_and_their_pods_are_one_workload() {
    // A CronJob's Jobs are named `<cronjob>-<minutes since the epoch>`
    // (pkg/controller/cronjob getJobName).
    let inv = inventory(
        "t",
        &stream(&[
            NIGHTLY_CRONJOB,
            "
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: nightly-report-29012345
              namespace: shop
              ownerReferences:
              - {apiVersion: batch/v1, kind: CronJob, name: nightly-report, uid: u1, controller: true}
            spec:
              template:
                spec:
                  containers:
                  - name: report
                    env: [{name: REPORT_DAYS, value: '7'}]
            ",
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: nightly-report-29012345-8xk2p
              namespace: shop
              labels: {job-name: nightly-report-29012345}
              ownerReferences:
              - {apiVersion: batch/v1, kind: Job, name: nightly-report-29012345, uid: u2, controller: true}
            spec:
              containers:
              - name: report
                env: [{name: REPORT_DAYS, value: '7'}]
            status: {phase: Running}
            ",
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["nightly-report"]);
    assert_eq!(inv.workloads["nightly-report"].kind, "CronJob");
    assert_eq!(inv.workloads["nightly-report"].pods, 1);
    assert_eq!(text(&inv, "nightly-report/report", "REPORT_DAYS"), "7");
}

#[test]
fn a_cronjob_without_running_jobs_uses_its_template() {
    let inv = inventory("t", NIGHTLY_CRONJOB);
    assert_eq!(inv.workloads["nightly-report"].kind, "CronJob");
    assert_eq!(inv.workloads["nightly-report"].pods, 0);
    assert_eq!(text(&inv, "nightly-report/report", "REPORT_DAYS"), "7");
}

#[test]
fn job_pods_stay_with_their_job_when_its_name_merely_ends_in_digits() {
    // Regression: a standalone Job named like a timestamp (a Helm hook
    // `migrate-20250502`) is in the input without a CronJob owner; its pods
    // were guessed to belong to a CronJob `migrate` while its template was
    // Job `migrate-20250502`: one workload became two.
    let inv = inventory(
        "t",
        &stream(&[
            "
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate-20250502, namespace: shop}
            spec:
              template:
                spec:
                  containers:
                  - name: migrate
                    env: [{name: DRY_RUN, value: 'false'}]
            ",
            "
            apiVersion: v1
            kind: Pod
            metadata:
              name: migrate-20250502-kx8vq
              namespace: shop
              ownerReferences:
              - {apiVersion: batch/v1, kind: Job, name: migrate-20250502, uid: u2, controller: true}
            spec:
              containers:
              - name: migrate
                env: [{name: DRY_RUN, value: 'false'}]
            status: {phase: Running}
            ",
        ]),
    );
    assert_eq!(
        inv.workloads.keys().collect::<Vec<_>>(),
        ["migrate-20250502"]
    );
    assert_eq!(inv.workloads["migrate-20250502"].kind, "Job");
    assert_eq!(inv.workloads["migrate-20250502"].pods, 1);
}

const CHECKOUT_DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
  uid: 5c6d7e8f-0000-1111-2222-333344445555
  generation: 7
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: checkout}
  template:
    metadata:
      labels: {app.kubernetes.io/name: checkout}
    spec:
      containers:
      - name: server
        env:
        - {name: DB_POOL_SIZE, value: '10'}
";

#[test]
fn a_deployment_with_pods_is_described_by_its_pods() {
    // The pods are what runs; the template may have been edited since.
    let env = "
        env:
        - {name: DB_POOL_SIZE, value: '5'}
        ";
    let inv = inventory(
        "t",
        &stream(&[
            CHECKOUT_DEPLOYMENT,
            &checkout_pod("x2x9k", "node-a", "10.0.1.17", "kube-api-access-4xk2p", env),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    assert_eq!(inv.workloads["checkout"].pods, 1);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "5");
}

#[test]
fn a_deployment_without_pods_is_described_by_its_template() {
    let inv = inventory("t", CHECKOUT_DEPLOYMENT);
    assert_eq!(inv.workloads["checkout"].kind, "Deployment");
    assert_eq!(inv.workloads["checkout"].pods, 0);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "10");
}

#[test]
fn replicasets_owned_by_a_deployment_in_the_input_are_not_workloads() {
    // `kubectl get all` lists old ReplicaSets (revisionHistoryLimit) too;
    // their templates are history, not configuration.
    let rs = |hash: &str, pool: &str| {
        format!(
            "
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata:
              name: checkout-{hash}
              namespace: shop
              labels: {{app.kubernetes.io/name: checkout, pod-template-hash: {hash}}}
              ownerReferences:
              - {{apiVersion: apps/v1, kind: Deployment, name: checkout, uid: u1, controller: true}}
            spec:
              replicas: 0
              template:
                spec:
                  containers:
                  - name: server
                    env: [{{name: DB_POOL_SIZE, value: '{pool}'}}]
            "
        )
    };
    let inv = inventory(
        "t",
        &stream(&[
            CHECKOUT_DEPLOYMENT,
            &rs("7c9d5b8f4d", "10"),
            &rs("6b8c4a7e3c", "3"),
        ]),
    );
    assert_eq!(inv.workloads.keys().collect::<Vec<_>>(), ["checkout"]);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "10");
    assert!(inv.issues.is_empty(), "{:?}", inv.issues);
}
