//! The synthetic fleet of `examples/gen_fleet.rs` and `benches/stages.rs`:
//! one generator, so that the criterion figures and `benches/compare.sh`
//! measure the same input. It writes files and nothing else; the output for
//! a given [`Spec`] must never change, or figures stop being comparable.

use std::fmt::Write as _;
use std::path::Path;

/// What to generate: `envs` environments × `workloads` Deployments ×
/// `pods` pods per workload × `vars` env vars per container, with `drift`
/// the fraction of values that differ in the last environment.
#[derive(Debug, Clone)]
pub struct Spec {
    pub envs: usize,
    pub workloads: usize,
    pub pods: usize,
    pub vars: usize,
    pub drift: f64,
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            envs: 3,
            workloads: 100,
            pods: 10,
            vars: 40,
            drift: 0.02,
            seed: 1,
        }
    }
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    fn suffix(&mut self, len: usize) -> String {
        const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| A[(self.next() % A.len() as u64) as usize] as char)
            .collect()
    }
}

/// `dev`, …, `staging`, `prod`: the last two are always staging and prod.
pub fn env_names(envs: usize) -> Vec<String> {
    (0..envs)
        .map(|i| match i {
            0 if envs >= 3 => "dev".to_string(),
            i if i == envs - 1 => "prod".to_string(),
            i if i == envs - 2 => "staging".to_string(),
            i => format!("env{i}"),
        })
        .collect()
}

/// Writes each environment as `kubectl get -o json` List files in
/// `out/<env>/`: pods.json, workloads.json, configmaps.json, secrets.json.
/// Returns the number of pods written in all.
pub fn write(spec: &Spec, out: &Path) -> std::io::Result<usize> {
    let mut total_pods = 0;
    for (ei, env) in env_names(spec.envs).iter().enumerate() {
        // Drift is decided per (workload, var) with a seed shared by all
        // environments, and applied to the last environment only, so the
        // amount of drift is what --drift says.
        let mut shared = Rng(spec.seed);
        let mut local = Rng(spec.seed ^ (ei as u64 + 1).wrapping_mul(0x1234_5678_9ABC));
        let is_last = ei == spec.envs - 1;
        let dir = out.join(env);
        std::fs::create_dir_all(&dir)?;
        let mut pods = String::from(
            "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},\"items\":[\n",
        );
        let mut workloads = pods.clone();
        let mut configmaps = pods.clone();
        let mut secrets = pods.clone();
        let mut first_pod = true;
        for w in 0..spec.workloads {
            let name = format!("svc-{w:04}");
            let mut env_json = String::new();
            let mut cm_data = String::new();
            for k in 0..spec.vars {
                let drift = shared.chance(spec.drift) && is_last;
                let value = if drift {
                    format!("value-{w}-{k}-drifted")
                } else {
                    format!("value-{w}-{k}")
                };
                if k % 4 == 0 {
                    // Through the workload's ConfigMap.
                    let _ = write!(
                        env_json,
                        "{{\"name\":\"VAR_{k}\",\"valueFrom\":{{\"configMapKeyRef\":{{\"name\":\"{name}-config\",\"key\":\"VAR_{k}\"}}}}}},"
                    );
                    let _ = write!(cm_data, "\"VAR_{k}\":\"{value}\",");
                } else if k % 10 == 1 {
                    let flag = if drift { "false" } else { "true" };
                    let _ = write!(
                        env_json,
                        "{{\"name\":\"FEATURE_{k}\",\"value\":\"{flag}\"}},"
                    );
                } else {
                    let _ = write!(env_json, "{{\"name\":\"VAR_{k}\",\"value\":\"{value}\"}},");
                }
            }
            let _ = write!(
                env_json,
                "{{\"name\":\"POD_NAME\",\"valueFrom\":{{\"fieldRef\":{{\"fieldPath\":\"metadata.name\"}}}}}},\
                 {{\"name\":\"API_TOKEN\",\"valueFrom\":{{\"secretKeyRef\":{{\"name\":\"{name}-secret\",\"key\":\"token\"}}}}}}"
            );
            let file_drift = shared.chance(spec.drift) && is_last;
            let config_file = format!(
                "server:\\n  port: 8080\\n  threads: {}\\nlogging:\\n  level: info\\n",
                if file_drift { 32 } else { 16 }
            );
            let _ = write!(cm_data, "\"application.yaml\":\"{config_file}\"");
            let pod_spec = format!(
                "{{\"containers\":[{{\"name\":\"app\",\"image\":\"example/{name}:1.0\",\
                 \"envFrom\":[{{\"configMapRef\":{{\"name\":\"{name}-shared\"}},\"prefix\":\"SHARED_\"}}],\
                 \"env\":[{env_json}],\
                 \"volumeMounts\":[{{\"name\":\"config\",\"mountPath\":\"/etc/app\"}},\
                 {{\"name\":\"kube-api-access-{sfx}\",\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\",\"readOnly\":true}}]}}],\
                 \"volumes\":[{{\"name\":\"config\",\"configMap\":{{\"name\":\"{name}-config\",\"items\":[{{\"key\":\"application.yaml\",\"path\":\"application.yaml\"}}]}}}},\
                 {{\"name\":\"kube-api-access-{sfx}\",\"projected\":{{\"sources\":[{{\"serviceAccountToken\":{{\"path\":\"token\"}}}}]}}}}]}}",
                sfx = local.suffix(5)
            );
            let hash = local.suffix(10);
            let _ = writeln!(
                workloads,
                "{}{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"fleet\",\"uid\":\"{}\",\"resourceVersion\":\"{}\"}},\
                 \"spec\":{{\"replicas\":{},\"template\":{{\"metadata\":{{\"labels\":{{\"app\":\"{name}\"}}}},\"spec\":{pod_spec}}}}}}}",
                if w == 0 { "" } else { "," },
                local.next(),
                local.next() % 100000,
                spec.pods
            );
            for p in 0..spec.pods {
                total_pods += 1;
                let _ = writeln!(
                    pods,
                    "{}{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{name}-{hash}-{}\",\"namespace\":\"fleet\",\
                     \"uid\":\"{}\",\"labels\":{{\"app\":\"{name}\",\"pod-template-hash\":\"{hash}\"}},\
                     \"ownerReferences\":[{{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"{name}-{hash}\",\"controller\":true,\"uid\":\"{}\"}}],\
                     \"managedFields\":[{{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"time\":\"2026-11-0{}T10:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{{\"f:metadata\":{{\"f:labels\":{{}}}}}}}}]}},\
                     \"spec\":{pod_spec},\
                     \"status\":{{\"phase\":\"Running\",\"podIP\":\"10.{}.{}.{}\",\"hostIP\":\"192.168.0.{}\",\"containerStatuses\":[{{\"name\":\"app\",\"ready\":true,\"restartCount\":0,\"state\":{{\"running\":{{\"startedAt\":\"2026-11-01T00:00:00Z\"}}}}}}]}}}}",
                    if first_pod { "" } else { "," },
                    local.suffix(5),
                    local.next(),
                    local.next(),
                    1 + p % 9,
                    ei,
                    w % 250,
                    p % 250,
                    p % 250
                );
                first_pod = false;
            }
            let _ = writeln!(
                configmaps,
                "{}{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}-config\",\"namespace\":\"fleet\"}},\"data\":{{{cm_data}}}}},\
                 {{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}-shared\",\"namespace\":\"fleet\"}},\"data\":{{\"REGION\":\"eu-west-1\",\"LOG_FORMAT\":\"json\"}}}}",
                if w == 0 { "" } else { "," },
            );
            let token = if shared.chance(spec.drift) && is_last {
                "ZHJpZnRlZC10b2tlbg=="
            } else {
                "c2hhcmVkLXRva2Vu"
            };
            let _ = writeln!(
                secrets,
                "{}{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"{name}-secret\",\"namespace\":\"fleet\"}},\"type\":\"Opaque\",\"data\":{{\"token\":\"{token}\"}}}}",
                if w == 0 { "" } else { "," },
            );
        }
        for (file, mut body) in [
            ("pods.json", pods),
            ("workloads.json", workloads),
            ("configmaps.json", configmaps),
            ("secrets.json", secrets),
        ] {
            body.push_str("]}\n");
            std::fs::write(dir.join(file), body)?;
        }
    }
    Ok(total_pods)
}
