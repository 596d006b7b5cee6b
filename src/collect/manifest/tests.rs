//! The manifest parser's rules, one test each, on manifests as users write
//! them. Over 800 lines because it is a list of short independent cases;
//! split it by step (split, raw, convert, limits) if it grows further.

use super::*;
use crate::model::{RejectedValue, TemplateRef};

fn parse(text: &str) -> Result<Parsed> {
    let key = FingerprintKey::new(b"test", true);
    let mut out = Parsed::default();
    for (i, doc) in split_documents(text, "f.yaml")?.iter().enumerate() {
        parse_document(doc, i, "f.yaml", &key, &mut out)?;
    }
    Ok(out)
}

fn parse_streamed(text: &str) -> Option<Parsed> {
    let key = FingerprintKey::new(b"test", true);
    parse_json_reader(text.as_bytes(), 1, "f.json", &key, &mut Default::default())
}

const POD_LIST: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-7c9d5b8f4d-x1", "namespace": "shop",
         "labels": {"app.kubernetes.io/name": "web", "pod-template-hash": "7c9d5b8f4d",
                    "helm.sh/chart": "web-1.2.3", "app.kubernetes.io/managed-by": "Helm"},
         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7c9d5b8f4d", "controller": true}]},
       "spec": {"containers": [{"name": "app", "env": [
         {"name": "A", "value": "1"},
         {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "b"}}},
         {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]},
       "status": {"phase": "Running", "containerStatuses": [
         {"name": "app", "state": {"running": {"startedAt": "2026-11-01T10:00:00Z"}}}]}},
      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
       "data": {"b": "two"}},
      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
    ]}"#;

#[test]
fn streamed_json_gives_what_the_text_path_gives() {
    let streamed = parse_streamed(POD_LIST).expect("one JSON object streams");
    let text = parse(POD_LIST).unwrap();
    assert_eq!(streamed.objects, text.objects);
    assert_eq!(streamed.skipped_kinds, text.skipped_kinds);
    assert_eq!(streamed.objects.len(), 2);
}

#[test]
fn streamed_json_leaves_to_the_text_path_what_it_cannot_word() {
    // Two documents, a syntax error, a broken object, a snapshot:
    // the text path reads these and words the error with its position.
    assert!(parse_streamed(&format!("{POD_LIST}\n{POD_LIST}")).is_none());
    assert!(parse_streamed(&POD_LIST[..POD_LIST.len() - 3]).is_none());
    assert!(parse_streamed(r#"{"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}"#).is_none());
    let snapshot = format!(r#"{{"kind": "{SNAPSHOT_KIND}", "environment": "x"}}"#);
    assert!(parse_streamed(&snapshot).is_none());
}

#[test]
fn only_the_labels_confdrift_reads_are_kept() {
    let parsed = parse(POD_LIST).unwrap();
    let meta = parsed.objects[0].meta();
    assert_eq!(meta.labels.get("app.kubernetes.io/name").unwrap(), "web");
    assert_eq!(meta.labels.get("pod-template-hash").unwrap(), "7c9d5b8f4d");
    assert_eq!(meta.labels.get("helm.sh/chart"), None);
    assert_eq!(meta.labels.iter().count(), 2);
}

#[test]
fn an_env_field_given_twice_is_an_error_as_in_strict_decoding() {
    // `kubectl apply` (strict field validation) rejects it; reading it
    // would silently take one of the two values.
    let err = parse(
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    env:\n    \
         - name: A\n      value: '1'\n      value: '2'\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("f.yaml:"), "{err}");
    assert!(err.contains("duplicate") && err.contains("value"), "{err}");
}

#[test]
fn splits_yaml_streams_at_markers_and_skips_empty_helm_documents() {
    let text = "---\n# Source: chart/templates/empty.yaml\n---\nkind: ConfigMap\nmetadata: {name: a}\n...\n---\nkind: ConfigMap\nmetadata: {name: b}\n";
    let docs = split_documents(text, "f").unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].line, 3);
    assert_eq!(docs[1].line, 7);
}

#[test]
fn error_line_is_relative_to_the_file_not_the_document() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    env:\n    - name: A\n      value: [1]\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(err.starts_with("f.yaml:12:"), "{err}");
    assert!(err.contains("Pod p"), "{err}");
}

#[test]
fn an_env_entry_the_api_server_refuses_is_named_at_its_own_line() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Deployment\nmetadata: {name: web}\n\
                spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env:\n        \
                - {name: A, value: '1'}\n        - name: B=C\n          value: x\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(err.starts_with("f.yaml:13:"), "{err}");
    assert!(err.contains("env[1] name \"B=C\""), "{err}");
    let json = "{\"kind\": \"List\", \"items\": [\n {\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n  \
                \"spec\": {\"containers\": [{\"name\": \"c\", \"env\": [\n   {\"value\": \"orphan\"}]}]}}]}";
    let err = parse(json).unwrap_err().to_string();
    assert!(err.starts_with("f.yaml:4:"), "{err}");
    assert!(err.contains("env[0] has no name"), "{err}");
}

#[test]
fn unknown_kinds_of_any_shape_are_counted_not_errors() {
    let text = "kind: List\nitems:\n- kind: Widget\n  spec:\n    containers: 7\n- kind: Service\n  metadata: {name: s}\n- kind: ConfigMap\n  metadata: {name: c}\n  data: {A: '1'}\n";
    let out = parse(text).unwrap();
    assert_eq!(out.skipped_kinds.get("Widget"), Some(&1));
    assert_eq!(out.skipped_kinds.get("Service"), Some(&1));
    assert_eq!(out.objects.len(), 1);
}

#[test]
fn broken_known_item_in_a_list_reports_its_exact_line() {
    let text = "kind: List\nitems:\n- kind: Widget\n  spec:\n    containers: 7\n- kind: ConfigMap\n  metadata: {name: c}\n  data:\n    A: [1, 2]\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(err.starts_with("f.yaml:9:"), "{err}");
    assert!(err.contains("ConfigMap c (items[1])"), "{err}");
}

#[test]
fn secret_values_are_fingerprinted_and_string_data_wins() {
    // "aHVudGVyMg==" is base64 of "hunter2".
    let text = "kind: Secret\nmetadata: {name: s}\ndata: {A: aHVudGVyMg==, B: aHVudGVyMg==}\nstringData: {B: other}\n";
    let out = parse(text).unwrap();
    let Object::Secret { fingerprints, .. } = &out.objects[0] else {
        panic!("not a secret")
    };
    let key = FingerprintKey::new(b"test", true);
    assert_eq!(fingerprints["A"], key.fingerprint(b"hunter2"));
    assert_eq!(fingerprints["B"], key.fingerprint(b"other"));
}

#[test]
fn secret_type_errors_do_not_echo_the_value() {
    let text = "kind: Secret\nmetadata: {name: s}\ndata:\n  A: {nested: canary-value-123}\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(!err.contains("canary-value-123"), "{err}");
    let text = "kind: Secret\nmetadata: {name: s}\ndata:\n  A: not*base64*canary\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(!err.contains("canary"), "{err}");
    assert!(err.contains("not valid base64"), "{err}");
}

#[test]
fn sanitize_removes_values_but_keeps_the_shape() {
    assert_eq!(
        sanitize("data.A: invalid type: string \"hunter2\", expected a map"),
        "data.A: invalid type: string, expected a map"
    );
    assert_eq!(
        sanitize("invalid type: integer `5`, expected a string"),
        "invalid type: integer, expected a string"
    );
    assert_eq!(sanitize("missing field `name`"), "missing field `name`");
    assert_eq!(
        sanitize("env[0]: invalid type: unit value, expected struct RawEnvVar"),
        "env[0]: invalid type: null, expected struct EnvVar"
    );
}

#[test]
fn cronjob_template_is_read_from_the_job_template() {
    let text = "kind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: '0 1 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            env: [{name: A, value: '1'}]\n";
    let out = parse(text).unwrap();
    let Object::Workload {
        workload_kind,
        template,
        ..
    } = &out.objects[0]
    else {
        panic!("not a workload")
    };
    assert_eq!(*workload_kind, crate::model::WorkloadKind::CronJob);
    assert_eq!(template.containers[0].env[0].name, "A");
}

fn workload_of(
    out: &Parsed,
    i: usize,
) -> (
    crate::model::WorkloadKind,
    &crate::model::PodSpec,
    Option<&TemplateRef>,
) {
    let Object::Workload {
        workload_kind,
        template,
        template_from,
        ..
    } = &out.objects[i]
    else {
        panic!("not a workload: {:?}", out.objects[i])
    };
    (*workload_kind, template, template_from.as_ref())
}

#[test]
fn pod_template_kinds_of_controllers_are_read_by_api_group() {
    use crate::model::WorkloadKind as W;
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: c, env: [{name: A, value: '1'}]}]\n---\napiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata: {name: b}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: apps.kruise.io/v1beta1\nkind: StatefulSet\nmetadata: {name: c}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {ports: [{port: 80}]}\n";
    let out = parse(text).unwrap();
    let kinds: Vec<W> = (0..out.objects.len())
        .map(|i| workload_of(&out, i).0)
        .collect();
    assert_eq!(
        kinds,
        [
            W::Rollout,
            W::CloneSet,
            W::AdvancedStatefulSet,
            W::StatefulSet
        ]
    );
    assert_eq!(out.skipped_kinds.get("Service"), Some(&1));
}

#[test]
fn typed_list_items_take_the_lists_api_group() {
    // What the API server answers for /apis/apps.kruise.io/v1beta1/statefulsets
    // when its items name no apiVersion: not the built-in StatefulSet.
    let text = r#"{"kind":"StatefulSetList","apiVersion":"apps.kruise.io/v1beta1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}}]}"#;
    let out = parse(text).unwrap();
    assert_eq!(
        workload_of(&out, 0).0,
        crate::model::WorkloadKind::AdvancedStatefulSet
    );
    let streamed = parse_streamed(text).unwrap();
    assert_eq!(streamed.objects, out.objects);
}

#[test]
fn knative_unnamed_containers_get_the_names_knative_gives_them() {
    let text = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: hello}\nspec:\n  template:\n    spec:\n      containers:\n      - image: gcr.io/knative-samples/helloworld-go\n        env: [{name: TARGET, value: World}]\n";
    let out = parse(text).unwrap();
    let (kind, template, _) = workload_of(&out, 0);
    assert_eq!(kind, crate::model::WorkloadKind::KnativeService);
    assert_eq!(template.containers[0].name, "user-container");
    // In a List too.
    let list = format!("kind: List\nitems:\n- {}", text.replace('\n', "\n  "));
    let out = parse(&list).unwrap();
    assert_eq!(workload_of(&out, 0).1.containers[0].name, "user-container");
    // A Deployment's container still needs its name.
    let err = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{image: nginx}]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `name`"), "{err}");
}

#[test]
fn a_rollout_with_a_workload_ref_takes_the_template_of_the_named_deployment() {
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: checkout}\nspec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}\n";
    let out = parse(text).unwrap();
    let (_, template, from) = workload_of(&out, 0);
    assert!(template.containers.is_empty());
    assert_eq!(from.unwrap().name, "checkout");
    let err = parse("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec: {replicas: 1}\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has no spec.template.spec (or spec.workloadRef)"),
        "{err}"
    );
}

#[test]
fn secret_producers_yield_the_secret_their_controller_makes() {
    let text = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: shop-db, namespace: shop}\nspec:\n  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  target: {name: shop-db-credentials}\n  data: [{secretKey: password, remoteRef: {key: shop/db, property: password}}]\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: api-key, namespace: shop}\nspec: {data: []}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: merged, namespace: shop}\nspec: {target: {name: existing, creationPolicy: Merge}}\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: sealed, namespace: shop}\nspec:\n  encryptedData: {password: AgBy3i4OJSWK}\n  template: {metadata: {labels: {a: b}}}\n";
    let out = parse(text).unwrap();
    let made: Vec<(&str, &str)> = out
        .objects
        .iter()
        .map(|o| match o {
            Object::ProducedSecret {
                metadata, made_by, ..
            } => (metadata.name.as_str(), made_by.as_str()),
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(
        made,
        [
            ("shop-db-credentials", "ExternalSecret shop-db"),
            ("api-key", "ExternalSecret api-key"),
            ("sealed", "SealedSecret sealed"),
        ]
    );
    assert!(out.skipped_kinds.is_empty(), "{:?}", out.skipped_kinds);
}

#[test]
fn a_custom_resources_own_spec_data_or_target_does_not_stop_the_typed_parse() {
    // Fields that mean something for ExternalSecret are another shape
    // in other kinds: those are skipped, not errors, and stay on the
    // typed path (a failed typed parse would re-read the whole document).
    let text = "kind: List\nitems:\n- apiVersion: example.com/v1\n  kind: Widget\n  metadata: {name: w}\n  spec:\n    data: {a: 1}\n    target: 7\n    secretName: [x]\n    encryptedData: nope\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data: {A: '1'}\n";
    let streamed = parse_streamed(
        &serde_json::to_string(&serde_yaml::from_str::<serde_json::Value>(text).unwrap()).unwrap(),
    );
    let out = streamed.expect("typed path");
    assert_eq!(out.skipped_kinds.get("Widget"), Some(&1));
    assert_eq!(out.objects.len(), 1);
}

#[test]
fn yaml_1_1_octal_file_modes_from_helm_charts_do_not_break_parsing() {
    let text = "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n      volumes:\n      - name: cfg\n        configMap:\n          name: web\n          defaultMode: 0644\n          items: [{key: a, path: a, mode: 0400}]\n";
    let out = parse(text).unwrap();
    assert_eq!(out.objects.len(), 1);
}

#[test]
fn api_server_list_items_without_kind_take_it_from_the_list() {
    let text = r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"a","namespace":"x"},"data":{"K":"v"}}]}"#;
    let out = parse(text).unwrap();
    assert_eq!(out.objects.len(), 1);
    assert_eq!(out.objects[0].kind_name(), "ConfigMap");
}

#[test]
fn finished_pods_are_left_out_and_counted() {
    let text = "kind: Pod\nmetadata: {name: job-abc}\nspec:\n  containers: [{name: c}]\nstatus: {phase: Succeeded}\n";
    let out = parse(text).unwrap();
    assert!(out.objects.is_empty());
    assert_eq!(out.finished_pods, 1);
}

#[test]
fn json_streams_and_lists_parse_with_lines() {
    let text = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n{\"kind\":\"List\",\"items\":[\n{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\"},\"data\":{\"x\":[5]}}]}\n";
    let key = FingerprintKey::new(b"test", true);
    let docs = split_documents(text, "f.json").unwrap();
    assert_eq!(docs.len(), 2);
    let mut out = Parsed::default();
    parse_document(&docs[0], 0, "f.json", &key, &mut out).unwrap();
    let err = parse_document(&docs[1], 1, "f.json", &key, &mut out)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("f.json:3:"), "{err}");
}

#[test]
fn positions_inside_messages_count_from_the_file_start() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  K: \"open\n  L: x\n";
    let err = parse(text).unwrap_err().to_string();
    // The quoted scalar opened on line 7 runs to the end of the file.
    assert!(err.starts_with("f.yaml:9:"), "{err}");
    assert!(err.contains("end of stream at line 9"), "{err}");
}

/// A manifest with every field confdrift reads, as a Helm chart or
/// kustomize renders it.
const EVERY_FIELD: &str = r#"
kind: List
apiVersion: v1
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
    labels: {app.kubernetes.io/name: web, app: web}
    ownerReferences: [{kind: Thing, name: t, controller: true}]
    managedFields: [{manager: m, time: "2026-01-01T00:00:00Z", fieldsV1: {"f:data": {}}}]
  spec:
    template:
      spec:
        resources: {limits: {cpu: "2", memory: 1Gi}, requests: {memory: 1Gi}}
        containers:
        - name: app
          env:
          - {name: A, value: "1"}
          - name: B
            valueFrom:
              configMapKeyRef: {name: cfg, key: b, optional: true}
          - name: C
            valueFrom:
              secretKeyRef: {name: sec, key: c, optional: true}
          - name: D
            valueFrom:
              fieldRef: {fieldPath: metadata.name, apiVersion: v1}
          - name: E
            valueFrom:
              resourceFieldRef: {resource: limits.memory, divisor: 1Mi, containerName: app}
          envFrom:
          - configMapRef: {name: cfg, optional: true}
            prefix: P_
          - secretRef: {name: sec, optional: true}
          volumeMounts:
          - {name: files, mountPath: /etc/app, subPath: app.conf, readOnly: true}
          resources:
            limits: {cpu: 500m, memory: 128Mi}
            requests: {cpu: 100m, memory: 64Mi}
        initContainers:
        - name: init
          env: [{name: I, value: "1"}]
        volumes:
        - name: files
          configMap:
            name: cfg
            optional: true
            items: [{key: b, path: app.conf}]
        - name: creds
          secret: {secretName: sec, optional: true, items: [{key: c, path: c}]}
        - name: both
          projected:
            sources:
            - configMap: {name: cfg, optional: true, items: [{key: b, path: b}]}
            - secret: {name: sec, optional: true}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: nightly, namespace: shop}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers: [{name: job, env: [{name: J, value: "1"}]}]
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop}
  spec:
    containers: [{name: app, env: [{name: A, value: "1"}]}]
  status:
    phase: Running
    containerStatuses: [{name: app, state: {running: {startedAt: "2026-01-01T00:00:00Z"}}}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cfg, namespace: shop}
  data: {b: two}
  binaryData: {bin: aGk=}
- apiVersion: v1
  kind: Secret
  metadata: {name: sec, namespace: shop}
  data: {c: aGk=}
  stringData: {d: plain}
"#;

/// A step into a generic YAML value.
#[derive(Clone)]
enum Step {
    Key(serde_yaml::Value),
    Index(usize),
}

/// Every mapping entry in `v`: its path, and `v` with that entry set to
/// null and with it removed.
fn variants(v: &serde_yaml::Value) -> Vec<(String, serde_yaml::Value, serde_yaml::Value)> {
    fn paths(v: &serde_yaml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, child) in m {
                    at.push(Step::Key(k.clone()));
                    out.push(at.clone());
                    paths(child, at, out);
                    at.pop();
                }
            }
            serde_yaml::Value::Sequence(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push(Step::Index(i));
                    paths(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    fn parent<'v>(v: &'v mut serde_yaml::Value, path: &[Step]) -> &'v mut serde_yaml::Value {
        path.iter().fold(v, |v, step| match step {
            Step::Key(k) => &mut v[k],
            Step::Index(i) => &mut v[*i],
        })
    }
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    all.into_iter()
        .map(|path| {
            let (last, head) = path.split_last().expect("a path to an entry");
            let Step::Key(key) = last else {
                unreachable!("entries end in a key")
            };
            let name = path
                .iter()
                .map(|s| match s {
                    Step::Key(k) => format!(".{}", k.as_str().unwrap_or("?")),
                    Step::Index(i) => format!("[{i}]"),
                })
                .collect::<String>();
            let mut nulled = v.clone();
            parent(&mut nulled, head)[key] = serde_yaml::Value::Null;
            let mut removed = v.clone();
            if let Some(m) = parent(&mut removed, head).as_mapping_mut() {
                m.remove(key);
            }
            (name.trim_start_matches('.').to_string(), nulled, removed)
        })
        .collect()
}

#[test]
fn null_on_any_field_is_read_as_its_absence_in_yaml_and_json() {
    // The API server decodes `null` as the field's absence; kustomize
    // and Helm write `env: null`, `volumeMounts: null` and the like.
    let full: serde_yaml::Value = serde_yaml::from_str(EVERY_FIELD).unwrap();
    let all = variants(&full);
    assert!(all.len() > 100, "{}", all.len());
    for (at, nulled, removed) in all {
        // In a map of strings, `KEY: null` is the key with an empty
        // value (Go's JSON decoding), not an absent key.
        let parent = at.rsplit_once('.').map_or("", |(p, _)| p);
        if ["labels", "data", "stringData", "binaryData"]
            .iter()
            .any(|m| parent.ends_with(m) || parent.contains(&format!("{m}.")))
        {
            continue;
        }
        let yaml = |v: &serde_yaml::Value| serde_yaml::to_string(v).unwrap();
        let json = |v: &serde_yaml::Value| serde_json::to_string_pretty(v).unwrap();
        for (null_text, absent_text) in [
            (yaml(&nulled), yaml(&removed)),
            (json(&nulled), json(&removed)),
        ] {
            let with_null = parse(&null_text);
            let without = parse(&absent_text);
            match (&with_null, &without) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.objects, b.objects, "{at}: null is not absence");
                    assert_eq!(a.skipped_kinds, b.skipped_kinds, "{at}");
                }
                (Err(a), Err(_)) => {
                    assert!(!a.to_string().contains("unit value"), "{at}: {a}");
                }
                _ => panic!(
                    "{at}: null gives {:?}, absence {:?}",
                    with_null.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                    without.as_ref().map(|_| ()).map_err(|e| e.to_string())
                ),
            }
        }
    }
}

#[test]
fn every_yaml_spelling_of_null_is_absence() {
    for null in ["null", "~", "", "Null", "NULL"] {
        let text = format!(
            "kind: Deployment\nmetadata:\n  name: web\n  labels: {null}\nspec:\n  template:\n    \
             spec:\n      volumes: {null}\n      initContainers: {null}\n      containers:\n      \
             - name: app\n        env: {null}\n        envFrom: {null}\n        volumeMounts: \
             {null}\n        resources: {null}\n---\nkind: ConfigMap\nmetadata: {{name: c}}\n\
             data: {null}\n"
        );
        let out = parse(&text).unwrap_or_else(|e| panic!("{null:?}: {e}"));
        assert_eq!(out.objects.len(), 2, "{null:?}");
    }
}

#[test]
fn errors_that_remain_name_the_field_path_in_yaml_and_json() {
    let yaml = "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      \
                containers:\n      - name: app\n        env:\n        - {name: A, value: '1'}\n        \
                - {name: B, value: '2'}\n        - name: C\n          valueFrom: [oops]\n";
    let err = parse(yaml).unwrap_err().to_string();
    assert!(
        err.contains("spec.template.spec.containers[0].env[2].valueFrom"),
        "{err}"
    );
    assert!(
        err.starts_with("f.yaml:12:"),
        "the line of the fault: {err}"
    );
    let json = r#"{"kind": "Deployment", "metadata": {"name": "web"},
 "spec": {"template": {"spec": {"containers": [{"name": "app",
   "env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": 7}]}]}}}}"#;
    let err = parse(json).unwrap_err().to_string();
    assert!(
        err.contains("spec.template.spec.containers[0].env[1].valueFrom"),
        "{err}"
    );
    assert!(err.starts_with("f.yaml:3:"), "{err}");
    // In a List, the item is named and the path is the item's.
    let list =
        "kind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: c}\n  data:\n    A: [1]\n";
    let err = parse(list).unwrap_err().to_string();
    assert!(
        err.contains("ConfigMap c (items[0]): items[0].data.A:"),
        "{err}"
    );
}

fn rejected(out: &Parsed) -> Vec<RejectedValue> {
    out.objects
        .iter()
        .flat_map(|o| o.meta().rejected.clone())
        .collect()
}

#[test]
fn values_the_api_server_rejects_are_read_as_written_and_located() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\ndata: {OK: '1'}\n---\nkind: ConfigMap\n\
                metadata:\n  name: cfg\n  labels: {version: 1.0}\ndata:\n  HOST: db\n  PORT: 8080\n  \
                RATIO: 1.50\n---\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    \
                spec:\n      containers:\n      - name: app\n        env:\n        - name: A\n          \
                value: x\n        - name: DEBUG\n          value: true\n";
    let out = parse(text).unwrap();
    let got = rejected(&out);
    let brief: Vec<(&str, &str, &str, Option<&str>)> = got
        .iter()
        .map(|r| {
            (
                r.location.as_str(),
                r.field.as_str(),
                r.written_as.as_str(),
                r.text.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("f.yaml:11", "data.PORT", "an integer", Some("8080")),
            ("f.yaml:12", "data.RATIO", "a number", Some("1.50")),
            (
                "f.yaml:8",
                "metadata.labels.version",
                "a number",
                Some("1.0")
            ),
            (
                "f.yaml:25",
                "spec.template.spec.containers[0].env[1].value",
                "a boolean",
                Some("true")
            ),
        ]
    );
    // Compared as written.
    let Object::ConfigMap { data, .. } = &out.objects[1] else {
        panic!()
    };
    assert_eq!(data["RATIO"], "1.50");
    let Object::Workload { template, .. } = &out.objects[2] else {
        panic!()
    };
    assert_eq!(template.containers[0].env[1].value.as_deref(), Some("true"));
    assert_eq!(got[3].container.as_deref(), Some("app"));
    assert_eq!(got[3].key.as_deref(), Some("DEBUG"));
}

#[test]
fn finding_the_lines_of_rejected_values_is_bounded() {
    // Each line is found by reading the document again: past a budget
    // of bytes, values are reported at the document's first line, so a
    // hostile document cannot make confdrift hang.
    let n = LOCATE_BUDGET_BYTES / 200_000 + 50;
    let mut text = String::from("---\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n");
    for i in 0..n {
        text.push_str(&format!("  K{i}: {i}\n"));
    }
    text.push_str(&format!("  PAD: '{}'\n", "x".repeat(200_000)));
    let out = parse(&text).unwrap();
    let got = rejected(&out);
    assert_eq!(got.len(), n);
    let at = |key: &str| {
        got.iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap()
            .location
            .clone()
    };
    assert_eq!(at("K0"), "f.yaml:5");
    let at_start = got.iter().filter(|r| r.location == "f.yaml:1").count();
    let doc_len = text.len() - 4;
    assert_eq!(n - at_start, LOCATE_BUDGET_BYTES / doc_len, "located ones");
}

#[test]
fn json_numbers_where_strings_belong_are_rejected_not_an_error() {
    let text = r#"{"kind": "List", "items": [
  {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"A": "1"}},
  {"kind": "ConfigMap", "metadata": {"name": "cfg"},
   "data": {"PORT": 8080}},
  {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"PIN": 1234}}
]}"#;
    let out = parse(text).unwrap();
    let got = rejected(&out);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].location, "f.yaml:4");
    assert_eq!(got[0].text.as_deref(), Some("8080"));
    // A Secret's value is never kept to be shown.
    assert_eq!(got[1].location, "f.yaml:5");
    assert_eq!(got[1].text, None);
    assert_eq!(got[1].field, "stringData.PIN");
    // The streamed reader leaves such a file to the text path, which
    // can find the lines.
    assert!(parse_streamed(text).is_none());
}

#[test]
fn resources_keep_only_what_the_downward_api_exposes() {
    let text = r#"{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c",
  "resources": {"limits": {"cpu": 1, "memory": "128Mi", "nvidia.com/gpu": 1, "hugepages-2Mi": "4Mi"},
                "claims": [{"name": "x"}]}}]}}"#;
    let out = parse(text).unwrap();
    let Object::Pod { spec, .. } = &out.objects[0] else {
        panic!()
    };
    let r = spec.containers[0].resources.as_deref().unwrap();
    let limits: Vec<(&str, &str)> = r
        .limits
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        limits,
        [("cpu", "1"), ("hugepages-2Mi", "4Mi"), ("memory", "128Mi")]
    );
    assert!(r.requests.is_empty());
}

#[test]
fn invalid_yaml_names_file_and_line() {
    let err = parse("kind: ConfigMap\nmetadata:\n  name: [unclosed\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("f.yaml:"), "{err}");
    assert!(err.contains("invalid YAML"), "{err}");
}

/// The first line of a run's error, and the whole of it.
fn error_of(text: &str) -> (String, String) {
    let err = parse(text).expect_err("an error").report();
    (err.lines().next().unwrap_or("").to_string(), err)
}

const BAD_REF: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: A
          valueFrom:
            configMapKeyRef: {name: cfg}
";

#[test]
fn a_bad_config_map_key_ref_is_reported_at_its_own_line_with_the_line_shown() {
    let (first, err) = error_of(BAD_REF);
    assert_eq!(
        first,
        "f.yaml:13: Deployment web: container app env[0] (A) valueFrom.configMapKeyRef has no key"
    );
    assert!(
        err.contains("13 |             configMapKeyRef: {name: cfg}"),
        "{err}"
    );
    // The same entry as a List item, and in the file's second document.
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- {}",
        BAD_REF.replace('\n', "\n  ")
    );
    assert!(error_of(list.trim_end()).0.starts_with("f.yaml:16: "));
    let two = format!("kind: ConfigMap\nmetadata: {{name: a}}\n---\n{BAD_REF}");
    assert!(error_of(&two).0.starts_with("f.yaml:16: "));
}

#[test]
fn errors_in_an_object_name_the_line_of_the_field_at_fault() {
    let cm = "kind: ConfigMap\nmetadata:\n  name: cfg\nbinaryData:\n  OK: aGk=\n  BAD: '%%%'\n";
    assert_eq!(
        error_of(cm).0,
        "f.yaml:6: ConfigMap cfg: binaryData key BAD is not valid base64"
    );
    let unnamed =
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n  - name: ''\n";
    assert_eq!(
        error_of(unnamed).0,
        "f.yaml:6: Pod p: spec.containers[1] has no name; Kubernetes requires one"
    );
    let env_name = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    env:\n    - name: OK\n    - name: \"A=B\"\n";
    assert!(
        error_of(env_name).0.starts_with("f.yaml:8: Pod p: "),
        "{}",
        error_of(env_name).0
    );
}

#[test]
fn no_line_of_a_secret_is_shown_with_its_error() {
    let secret = "kind: Secret\nmetadata: {name: creds}\ndata:\n  PASSWORD: not-base64-CANARY\n";
    let (first, err) = error_of(secret);
    assert!(
        first.starts_with("f.yaml:4: Secret creds: data key PASSWORD"),
        "{first}"
    );
    assert!(!err.contains("CANARY"), "{err}");
    let broken = "kind: Secret\nmetadata: {name: creds}\nstringData:\n  PASSWORD: \"CANARY\n";
    let err = parse(broken).expect_err("invalid YAML").report();
    assert!(!err.contains("CANARY"), "{err}");
}

#[test]
fn a_syntax_error_shows_the_line_at_fault() {
    let (first, err) = error_of("kind: ConfigMap\nmetadata: {name: a}\ndata:\n  A: [1\n  B: 2\n");
    assert!(first.starts_with("f.yaml:"), "{first}");
    assert!(err.contains(" | "), "{err}");
}
