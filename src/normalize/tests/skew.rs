//! Skew between pods of one workload.

use super::*;

// ---------------------------------------------------------------------------
// skew between pods of one workload
// ---------------------------------------------------------------------------

#[test]
fn pods_of_one_workload_that_disagree_are_skew_and_the_majority_stands() {
    let pool = |n: &str| format!("env: [{{name: DB_POOL_SIZE, value: '{n}'}}]");
    let inv = inventory(
        "t",
        &stream(&[
            &checkout_pod(
                "x2x9k",
                "node-a",
                "10.0.1.17",
                "kube-api-access-4xk2p",
                &pool("20"),
            ),
            &checkout_pod(
                "q7w8z",
                "node-b",
                "10.0.2.9",
                "kube-api-access-9vbnm",
                &pool("5"),
            ),
            &checkout_pod(
                "h5j6k",
                "node-c",
                "10.0.3.3",
                "kube-api-access-zt6qr",
                &pool("5"),
            ),
        ]),
    );
    let s = skews(&inv);
    assert_eq!(s.len(), 1, "{:?}", inv.issues);
    let (subject, variants) = s[0];
    assert_eq!(subject, subject_of(&inv, "checkout/server", "DB_POOL_SIZE"));
    let mut variants = variants.clone();
    variants.sort();
    assert_eq!(variants, [("20".to_string(), 1), ("5".to_string(), 2)]);
    assert_eq!(text(&inv, "checkout/server", "DB_POOL_SIZE"), "5");
}

#[test]
fn skew_in_a_secret_never_shows_the_fingerprint() {
    let secret_pod = |suffix: &str, secret_name: &str| {
        checkout_pod(
            suffix,
            "node-a",
            "10.0.1.1",
            "kube-api-access-4xk2p",
            &format!(
                "env: [{{name: API_TOKEN, valueFrom: {{secretKeyRef: {{name: {secret_name}, key: password}}}}}}]"
            ),
        )
    };
    let inv = inventory(
        "t",
        &stream(&[
            DB_SECRET,
            &DB_SECRET
                .replace("name: db", "name: db-v2")
                .replace("hunter2", "hunter3"),
            &secret_pod("x2x9k", "db"),
            &secret_pod("q7w8z", "db-v2"),
        ]),
    );
    let s = skews(&inv);
    assert_eq!(s.len(), 1, "{:?}", inv.issues);
    for (shown, _) in s[0].1 {
        assert!(shown.starts_with("<redacted"), "{shown}");
        let fp = test_key().fingerprint(b"hunter2").mac;
        assert!(!shown.contains(&fp[..8]), "{shown}");
    }
}
