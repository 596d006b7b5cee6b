//! Files mounted from ConfigMaps and Secrets.

use super::*;

// ---------------------------------------------------------------------------
// mounted files
// ---------------------------------------------------------------------------

fn pod_with_volume(mount: &str, volume: &str) -> String {
    let indent = |s: &str, n: usize| {
        dedent(s)
            .lines()
            .map(|l| format!("{}{l}", " ".repeat(n)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    volumeMounts:\n{}\n  volumes:\n{}\n",
        indent(mount, 4),
        indent(volume, 2)
    )
}

const NGINX_CONF: &str = "
apiVersion: v1
kind: ConfigMap
metadata: {name: nginx, namespace: shop}
data:
  nginx.conf: |
    worker_processes 2;
    events { worker_connections 1024; }
  mime.types: |
    types { text/html html; }
binaryData:
  favicon.ico: AAABAAEAEBA=
";

#[test]
fn a_configmap_volume_mounts_every_key_as_a_file_under_the_mount_path() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx/}",
                "- {name: conf, configMap: {name: nginx}}",
            ),
        ]),
    );
    assert_eq!(
        keys(&inv, "web/app"),
        [
            "/etc/nginx/favicon.ico",
            "/etc/nginx/mime.types",
            "/etc/nginx/nginx.conf"
        ]
    );
    let conf = subject_of(&inv, "web/app", "/etc/nginx/nginx.conf");
    assert_eq!(conf.kind, ConfigKind::File);
    assert!(text(&inv, "web/app", "/etc/nginx/nginx.conf").contains("worker_processes 2;"));
    assert!(matches!(
        value(&inv, "web/app", "/etc/nginx/favicon.ico"),
        Value::Binary(_)
    ));
    assert_eq!(
        entry(&inv, "web/app", "/etc/nginx/nginx.conf")
            .unwrap()
            .provenance,
        Provenance::Mounted {
            source: RefKind::ConfigMap,
            name: "nginx".into(),
            key: "nginx.conf".into()
        }
    );
}

#[test]
fn a_configmap_volume_with_items_mounts_only_those_keys_at_their_paths() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx}",
                "
                - name: conf
                  configMap:
                    name: nginx
                    items:
                    - {key: nginx.conf, path: conf.d/main.conf}
                ",
            ),
        ]),
    );
    assert_eq!(keys(&inv, "web/app"), ["/etc/nginx/conf.d/main.conf"]);
}

#[test]
fn a_sub_path_mount_is_that_one_file_at_the_mount_path() {
    let inv = inventory(
        "t",
        &stream(&[
            NGINX_CONF,
            &pod_with_volume(
                "- {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}",
                "- {name: conf, configMap: {name: nginx}}",
            ),
        ]),
    );
    assert_eq!(keys(&inv, "web/app"), ["/etc/nginx/nginx.conf"]);
    assert!(text(&inv, "web/app", "/etc/nginx/nginx.conf").contains("worker_connections"));
}

#[test]
fn a_projected_volume_combines_configmap_and_secret_sources() {
    let inv = inventory(
        "t",
        &stream(&[
            APP_CONFIG,
            DB_SECRET,
            &pod_with_volume(
                "- {name: all, mountPath: /etc/app}",
                "
                - name: all
                  projected:
                    sources:
                    - configMap:
                        name: app-config
                        items: [{key: LOG_LEVEL, path: log-level}]
                    - secret:
                        name: db
                        items: [{key: password, path: db/password}]
                    - downwardAPI:
                        items:
                        - {path: labels, fieldRef: {fieldPath: metadata.labels}}
                ",
            ),
        ]),
    );
    assert_eq!(
        keys(&inv, "web/app"),
        ["/etc/app/db/password", "/etc/app/log-level"]
    );
    assert_eq!(text(&inv, "web/app", "/etc/app/log-level"), "info");
    assert_eq!(
        *value(&inv, "web/app", "/etc/app/db/password"),
        secret("hunter2")
    );
}

#[test]
fn secret_volume_files_are_secret_values() {
    let inv = inventory(
        "t",
        &stream(&[
            DB_SECRET,
            &pod_with_volume(
                "- {name: creds, mountPath: /var/run/db, readOnly: true}",
                "- {name: creds, secret: {secretName: db, defaultMode: 256}}",
            ),
        ]),
    );
    assert_eq!(
        *value(&inv, "web/app", "/var/run/db/password"),
        secret("hunter2")
    );
    assert_eq!(*value(&inv, "web/app", "/var/run/db/user"), secret("shop"));
    assert_eq!(
        entry(&inv, "web/app", "/var/run/db/user")
            .unwrap()
            .provenance,
        Provenance::Mounted {
            source: RefKind::Secret,
            name: "db".into(),
            key: "user".into()
        }
    );
}

#[test]
fn the_kube_api_access_volume_and_kube_root_ca_are_never_compared() {
    // The ServiceAccount admission plugin adds `kube-api-access-<random>`
    // to every pod, and the root CA publisher puts `kube-root-ca.crt` in
    // every namespace with per-cluster content.
    let inv = inventory(
        "t",
        &stream(&[
            "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: kube-root-ca.crt
              namespace: shop
              annotations:
                kubernetes.io/description: Contains a CA bundle for verifying the kube-apiserver.
            data:
              ca.crt: |
                -----BEGIN CERTIFICATE-----
                MIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl
                -----END CERTIFICATE-----
            ",
            &checkout_pod(
                "x2x9k",
                "node-a",
                "10.0.1.17",
                "kube-api-access-4xk2p",
                "env: [{name: A, value: '1'}]",
            ),
        ]),
    );
    assert!(inv.configmaps.is_empty(), "{:?}", inv.configmaps);
    assert_eq!(keys(&inv, "checkout/server"), ["A"]);
    assert!(keys(&inv, "configmap/kube-root-ca.crt").is_empty());
}

#[test]
fn generated_ca_bundles_are_never_compared_nor_dangling() {
    // kube-root-ca.crt (kube-controller-manager), openshift-service-ca.crt
    // (the service CA operator) and istio-ca-root-cert (istiod) are written
    // into every namespace with the cluster's own CA. A rendered manifest
    // never holds them; a live namespace holds a different one per cluster.
    let pod = "
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop}
        spec:
          containers:
          - name: app
            env: [{name: A, value: '1'}]
            volumeMounts:
            - {name: istio, mountPath: /var/run/secrets/istio}
            - {name: openshift, mountPath: /etc/pki/service-ca}
            - {name: root, mountPath: /etc/ssl/cluster}
          volumes:
          - {name: istio, configMap: {name: istio-ca-root-cert}}
          - {name: openshift, configMap: {name: openshift-service-ca.crt}}
          - name: root
            projected:
              sources:
              - configMap: {name: kube-root-ca.crt}
        ";
    let bundle = |name: &str, pem: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: shop}}\n\
             data: {{root-cert.pem: {pem}}}\n"
        )
    };
    let rendered = inventory("rendered", pod);
    assert!(rendered.issues.is_empty(), "{:?}", rendered.issues);
    assert_eq!(keys(&rendered, "web/app"), ["A"]);
    let live = inventory(
        "live",
        &stream(&[
            pod,
            &bundle("istio-ca-root-cert", "cluster-a"),
            &bundle("openshift-service-ca.crt", "cluster-a"),
            &bundle("kube-root-ca.crt", "cluster-a"),
        ]),
    );
    assert!(live.issues.is_empty(), "{:?}", live.issues);
    assert!(live.configmaps.is_empty(), "{:?}", live.configmaps);
    assert_eq!(keys(&live, "web/app"), ["A"]);
}
