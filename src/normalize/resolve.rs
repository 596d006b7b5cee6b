//! The environment of one container as the kubelet builds it: `envFrom`
//! in order, `env` on top, `$(VAR)` expansion, ConfigMap and Secret key
//! references, downward API resource fields, and files mounted from
//! ConfigMaps and Secrets. Every value keeps its provenance; a reference
//! that cannot be resolved is an issue, never a silent gap.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{EnvFromSource, VolumeMount};
use sha2::{Digest, Sha256};

use super::expand::{self, Piece};
use super::{GENERATED_CONFIGMAPS, MISSING_MOUNT, Options, Refs};
use crate::model::{
    ConfigKind, Container, Entry, Fingerprint, Issue, KeyToPath, Name, PodSpec, Provenance,
    RefKind, ResourceFieldSelector, Resources, Scope, Subject, Value, Volume,
};

/// The prefix of the projected volume the ServiceAccount admission plugin
/// adds to every pod (`kube-api-access-<random>`).
const GENERATED_VOLUME_PREFIX: &str = "kube-api-access-";

/// Where every pod gets its ServiceAccount token and cluster CA.
const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

pub(super) struct Resolver<'a, 'r> {
    pub(super) refs: &'r Refs<'a>,
    pub(super) opts: &'r Options,
    pub(super) ns: &'r str,
    pub(super) workload: &'r str,
    /// `workload` and `ns` as the names every entry shares.
    pub(super) names: (Name, Name),
    /// The container whose entries are being inserted, as a name (they
    /// come container by container).
    pub(super) container: Option<Name>,
    pub(super) entries: BTreeMap<Subject, Entry>,
    pub(super) issues: Vec<Issue>,
}

impl Resolver<'_, '_> {
    fn dangling(&mut self, container: &str, source: String, referrer: String, key: Option<String>) {
        self.issues.push(Issue::DanglingReference {
            workload: self.workload.to_string(),
            container: container.to_string(),
            namespace: self.ns.to_string(),
            source,
            referrer,
            key,
        });
    }

    /// The environment of one container, as the kubelet builds it
    /// (pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`).
    pub(super) fn container(&mut self, c: &Container, spec: &PodSpec) {
        // Variables in definition order; a later definition replaces an
        // earlier one, and expansion sees only what is defined before.
        let mut vars: HashMap<String, (Value, Provenance)> = HashMap::new();
        for from in &c.env_from {
            self.env_from(&c.name, from, &mut vars);
        }
        for ev in &c.env {
            let resolved = match &ev.value_from {
                None => {
                    let raw = ev.value.clone().unwrap_or_default();
                    Some(expand_value(&raw, &vars))
                }
                Some(src) => {
                    if let Some(f) = &src.field_ref {
                        Some((
                            Value::FieldRef(Name::from(f.field_path.clone())),
                            Provenance::FieldRef {
                                path: f.field_path.clone(),
                            },
                        ))
                    } else if let Some(r) = &src.resource_field_ref {
                        Some((
                            resource_field_value(r, c, spec),
                            Provenance::ResourceFieldRef {
                                resource: Name::new(&r.resource),
                                container: r
                                    .container_name
                                    .clone()
                                    .filter(|n| !n.is_empty())
                                    .map(Name::from),
                                divisor: r.divisor.as_deref().map(Name::new),
                            },
                        ))
                    } else if let Some(k) = &src.config_map_key_ref {
                        let reference = (RefKind::ConfigMap, k.name.as_str(), k.key.as_str());
                        self.key_ref(&c.name, &ev.name, reference, k.optional)
                    } else if let Some(k) = &src.secret_key_ref {
                        let reference = (RefKind::Secret, k.name.as_str(), k.key.as_str());
                        self.key_ref(&c.name, &ev.name, reference, k.optional)
                    } else {
                        Some((
                            Value::Unresolved("valueFrom with no source confdrift reads".into()),
                            Provenance::Literal,
                        ))
                    }
                }
            };
            if let Some(v) = resolved {
                vars.insert(String::from(ev.name.clone()), v);
            }
        }
        for (name, (value, provenance)) in vars {
            let kind = if self.opts.is_flag(&name) {
                ConfigKind::Flag
            } else {
                ConfigKind::Env
            };
            self.insert(&c.name, kind, name, value, provenance);
        }
        for m in &c.volume_mounts {
            self.mount(&c.name, m, &spec.volumes);
        }
    }

    /// One `envFrom` source: every key of its ConfigMap or Secret (with
    /// `prefix`), an unresolved stand-in when the object's kind could not
    /// be read, nothing when it is missing and optional, else a dangling
    /// reference.
    fn env_from(
        &mut self,
        container: &str,
        from: &EnvFromSource,
        vars: &mut HashMap<String, (Value, Provenance)>,
    ) {
        let prefix = from.prefix.clone().filter(|p| !p.is_empty());
        if let Some(cm) = &from.config_map_ref {
            match self.refs.configmaps.get(&(self.ns, cm.name.as_str())) {
                Some((data, _)) => {
                    for (k, v) in *data {
                        let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                        let prov = Provenance::EnvFrom {
                            source: RefKind::ConfigMap,
                            name: Name::new(&cm.name),
                            key: k.clone(),
                            prefix: prefix.as_deref().map(Name::new),
                        };
                        vars.insert(name, (Value::Text(v.clone()), prov));
                    }
                }
                None if self
                    .refs
                    .unreadable(self.ns, RefKind::ConfigMap, &cm.name)
                    .is_some() =>
                {
                    let v = self.refs.unreadable(self.ns, RefKind::ConfigMap, &cm.name);
                    vars.insert(
                        format!("<envFrom ConfigMap {}>", cm.name),
                        (
                            v.unwrap_or(Value::Unresolved(Name::from(String::new()))),
                            Provenance::EnvFrom {
                                source: RefKind::ConfigMap,
                                name: Name::new(&cm.name),
                                key: "*".into(),
                                prefix: prefix.as_deref().map(Name::new),
                            },
                        ),
                    );
                }
                None if cm.optional == Some(true) => {}
                None => self.dangling(
                    container,
                    format!("ConfigMap {}", cm.name),
                    "envFrom".into(),
                    None,
                ),
            }
        }
        if let Some(sr) = &from.secret_ref {
            match self.refs.secrets.get(&(self.ns, sr.name.as_str())) {
                Some(fps) => {
                    for (k, f) in *fps {
                        let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                        let prov = Provenance::EnvFrom {
                            source: RefKind::Secret,
                            name: Name::new(&sr.name),
                            key: Name::new(k),
                            prefix: prefix.as_deref().map(Name::new),
                        };
                        vars.insert(name, (self.refs.secret_value(f), prov));
                    }
                }
                None if let Some(values) = self.refs.produced_values(self.ns, sr.name.as_str()) => {
                    for (k, v) in values {
                        let name = format!("{}{k}", prefix.as_deref().unwrap_or(""));
                        let prov = Provenance::EnvFrom {
                            source: RefKind::Secret,
                            name: Name::new(&sr.name),
                            key: Name::from(k),
                            prefix: prefix.as_deref().map(Name::new),
                        };
                        vars.insert(name, (v, prov));
                    }
                }
                None if self
                    .refs
                    .unreadable(self.ns, RefKind::Secret, &sr.name)
                    .is_some() =>
                {
                    let v = self.refs.unreadable(self.ns, RefKind::Secret, &sr.name);
                    vars.insert(
                        format!("<envFrom Secret {}>", sr.name),
                        (
                            v.unwrap_or(Value::Unresolved(Name::from(String::new()))),
                            Provenance::EnvFrom {
                                source: RefKind::Secret,
                                name: Name::new(&sr.name),
                                key: "*".into(),
                                prefix: prefix.as_deref().map(Name::new),
                            },
                        ),
                    );
                }
                None if sr.optional == Some(true) => {}
                None => self.dangling(
                    container,
                    format!("Secret {}", sr.name),
                    "envFrom".into(),
                    None,
                ),
            }
        }
    }

    /// `valueFrom.configMapKeyRef` / `secretKeyRef`, resolved in the pod's
    /// namespace: a missing object or key gives no variable when optional,
    /// else a dangling reference and an unresolved value; an object whose
    /// kind could not be read is unresolved, never dangling.
    fn key_ref(
        &mut self,
        container: &str,
        env: &str,
        (kind, name, key): (RefKind, &str, &str),
        optional: Option<bool>,
    ) -> Option<(Value, Provenance)> {
        let prov = match kind {
            RefKind::ConfigMap => Provenance::ConfigMapKey {
                name: Name::new(name),
                key: Name::new(key),
            },
            RefKind::Secret => Provenance::SecretKey {
                name: Name::new(name),
                key: Name::new(key),
            },
        };
        let found: Option<Option<Value>> = match kind {
            RefKind::ConfigMap => self
                .refs
                .configmaps
                .get(&(self.ns, name))
                .map(|(data, _)| data.get(key).map(|v| Value::Text(v.clone()))),
            RefKind::Secret => self
                .refs
                .secrets
                .get(&(self.ns, name))
                .map(|fps| fps.get(key).map(|f| self.refs.secret_value(f)))
                .or_else(|| {
                    self.refs
                        .produced_values(self.ns, name)
                        .map(|values| values.get(key).cloned())
                }),
        };
        let missing = match found {
            Some(Some(v)) => return Some((v, prov)),
            Some(None) => format!("key {key} missing in {} {name}", kind.as_str()),
            None => {
                if let Some(v) = self.refs.unreadable(self.ns, kind, name) {
                    return Some((v, prov));
                }
                format!("{} {name} not found", kind.as_str())
            }
        };
        if optional == Some(true) {
            return None;
        }
        self.dangling(
            container,
            format!("{} {name}", kind.as_str()),
            format!("env {env}"),
            Some(key.to_string()),
        );
        Some((Value::Unresolved(Name::from(missing)), prov))
    }

    fn container_name(&mut self, container: &str) -> Name {
        match &self.container {
            Some(name) if name.as_str() == container => name.clone(),
            _ => self.container.insert(Name::new(container)).clone(),
        }
    }

    fn insert(
        &mut self,
        container: &str,
        kind: ConfigKind,
        key: String,
        value: Value,
        provenance: Provenance,
    ) {
        let container = self.container_name(container);
        self.entries.insert(
            Subject {
                scope: Scope::Container {
                    workload: self.names.0.clone(),
                    container,
                },
                kind,
                key: Name::from(key),
            },
            Entry {
                value,
                provenance,
                namespace: self.names.1.clone(),
            },
        );
    }

    /// Files a volume mount puts into the container, keyed by their path.
    fn mount(&mut self, container: &str, m: &VolumeMount, volumes: &[Volume]) {
        // The ServiceAccount token mount: `kube-api-access-*` since 1.24,
        // a `default-token-*` Secret volume before; per-cluster either way.
        if m.name.starts_with(GENERATED_VOLUME_PREFIX)
            || m.mount_path.starts_with(SERVICE_ACCOUNT_MOUNT)
        {
            return;
        }
        let Some(vol) = volumes.iter().find(|v| v.name == m.name) else {
            return;
        };
        let mut files: Vec<(String, Value, Provenance)> = Vec::new();
        if let Some(cm) = &vol.config_map {
            self.project_configmap(
                container,
                &m.name,
                &cm.name,
                cm.items.as_deref(),
                cm.optional,
                &mut files,
            );
        }
        if let Some(s) = &vol.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            self.project_secret(
                container,
                &m.name,
                &name,
                s.items.as_deref(),
                s.optional,
                &mut files,
            );
        }
        if let Some(p) = &vol.projected {
            for src in p.sources.iter().flatten() {
                if let Some(cm) = &src.config_map {
                    self.project_configmap(
                        container,
                        &m.name,
                        &cm.name,
                        cm.items.as_deref(),
                        cm.optional,
                        &mut files,
                    );
                }
                if let Some(s) = &src.secret {
                    self.project_secret(
                        container,
                        &m.name,
                        &s.name,
                        s.items.as_deref(),
                        s.optional,
                        &mut files,
                    );
                }
            }
        }
        let base = m.mount_path.trim_end_matches('/');
        for (path, value, prov) in files {
            let key = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                // With subPath the mount is that one file (or directory).
                Some(sub) if path == sub => base.to_string(),
                Some(sub) => match path.strip_prefix(&format!("{}/", sub.trim_end_matches('/'))) {
                    Some(rest) => format!("{base}/{rest}"),
                    None => continue,
                },
                None => format!("{base}/{path}"),
            };
            self.insert(container, ConfigKind::File, key, value, prov);
        }
    }

    fn project_configmap(
        &mut self,
        container: &str,
        volume: &str,
        name: &str,
        items: Option<&[KeyToPath]>,
        optional: Option<bool>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        if GENERATED_CONFIGMAPS.contains(&name) {
            return;
        }
        let values = self
            .refs
            .configmaps
            .get(&(self.ns, name))
            .map(|(data, binary)| {
                data.iter()
                    .map(|(k, v)| (k.to_string(), Value::Text(v.clone())))
                    .chain(
                        binary
                            .iter()
                            .map(|(k, h)| (k.clone(), Value::Binary(Name::new(h)))),
                    )
                    .collect()
            });
        let source = (RefKind::ConfigMap, name, items, optional);
        self.project(container, volume, source, values, files);
    }

    fn project_secret(
        &mut self,
        container: &str,
        volume: &str,
        name: &str,
        items: Option<&[KeyToPath]>,
        optional: Option<bool>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        let values = self
            .refs
            .secrets
            .get(&(self.ns, name))
            .map(|fps| {
                fps.iter()
                    .map(|(k, f)| (k.clone(), self.refs.secret_value(f)))
                    .collect()
            })
            .or_else(|| self.refs.produced_values(self.ns, name));
        let source = (RefKind::Secret, name, items, optional);
        self.project(container, volume, source, values, files);
    }

    /// The files a ConfigMap or Secret volume source puts at its paths, as
    /// the kubelet projects them: every key, or only `items` (a missing item
    /// key fails the mount unless the source is optional).
    fn project(
        &mut self,
        container: &str,
        volume: &str,
        (kind, name, items, optional): (RefKind, &str, Option<&[KeyToPath]>, Option<bool>),
        values: Option<BTreeMap<String, Value>>,
        files: &mut Vec<(String, Value, Provenance)>,
    ) {
        let prov = |k: &str| Provenance::Mounted {
            source: kind,
            name: Name::new(name),
            key: Name::new(k),
        };
        let Some(values) = values else {
            if let Some(v) = self.refs.unreadable(self.ns, kind, name) {
                files.push((format!("<{} {name}>", kind.as_str()), v, prov("*")));
            } else if optional != Some(true) {
                self.dangling(
                    container,
                    format!("{} {name}", kind.as_str()),
                    format!("volume {volume}"),
                    None,
                );
                // Its files are unresolved, like env vars from the same
                // missing object: with `items` their paths are known here;
                // without, other environments name them ([`fill_missing_mounts`]).
                let why = Value::Unresolved(format!("{} {name} not found", kind.as_str()).into());
                match items {
                    Some(items) => files.extend(
                        items
                            .iter()
                            .map(|it| (it.path.clone(), why.clone(), prov(&it.key))),
                    ),
                    None => files.push((
                        format!("{MISSING_MOUNT}{} {name}>", kind.as_str()),
                        why,
                        prov("*"),
                    )),
                }
            }
            return;
        };
        match items {
            Some(items) => {
                for it in items {
                    match values.get(&it.key) {
                        Some(v) => files.push((it.path.clone(), v.clone(), prov(&it.key))),
                        None if optional == Some(true) => {}
                        None => self.dangling(
                            container,
                            format!("{} {name}", kind.as_str()),
                            format!("volume {volume}"),
                            Some(it.key.clone()),
                        ),
                    }
                }
            }
            None => {
                for (k, v) in values {
                    files.push((k.clone(), v, prov(&k)));
                }
            }
        }
    }
}

/// The value the kubelet gives a `resourceFieldRef`: the kubelet's
/// `containerResourceRuntimeValue` (pkg/kubelet/kubelet_pods.go) calls
/// k8s.io/kubernetes pkg/api/v1/resource `ExtractContainerResourceValue`,
/// which divides the container's limit or request by `divisor` (1 when
/// unset or zero) and rounds up: cpu in millicores
/// (`convertResourceCPUToString`: ceil(MilliValue / divisor.MilliValue), so
/// 500m / 1 is 1), everything else in units
/// (`convertResourceMemoryToString`: ceil(Value / divisor.Value), so 128Mi /
/// 1Mi is 128). A container without a limit gets the pod-level limit, else
/// the node's allocatable (`defaultPodLimitsForDownwardAPI`), which no
/// manifest tells: unresolved. A missing request defaults to the limit, as
/// the API server's defaulting does (`SetDefaults_Pod`); without either it is
/// 0 or a LimitRange's default: unresolved too.
pub(super) fn resource_field_value(
    r: &ResourceFieldSelector,
    c: &Container,
    spec: &PodSpec,
) -> Value {
    use crate::quantity::Quantity;
    let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        None => Some(c),
        Some(name) => spec
            .containers
            .iter()
            .chain(&spec.init_containers)
            .find(|x| x.name == name),
    };
    let Some(target) = target else {
        return Value::Unresolved(
            format!(
                "resourceFieldRef names container {}, which the pod does not have",
                r.container_name.as_deref().unwrap_or_default()
            )
            .into(),
        );
    };
    let Some((side, resource)) = r
        .resource
        .split_once('.')
        .filter(|(side, res)| matches!(*side, "limits" | "requests") && Resources::exposed(res))
    else {
        return Value::Unresolved(
            format!(
                "resourceFieldRef {:?} is not a resource the downward API exposes (limits.cpu, \
             requests.memory, limits.ephemeral-storage, limits.hugepages-2Mi, …)",
                r.resource
            )
            .into(),
        );
    };
    let divisor = match r.divisor.as_deref().map(Quantity::parse) {
        None => Quantity::parse("1"),
        Some(Some(d)) if d.is_zero() => Quantity::parse("1"),
        Some(d) => d,
    };
    let Some(divisor) = divisor else {
        return Value::Unresolved(
            format!(
                "resourceFieldRef divisor {:?} is not a quantity",
                r.divisor.as_deref().unwrap_or_default()
            )
            .into(),
        );
    };
    // A zero limit counts as none (`MergeContainerResourceLimits`).
    fn set<'p>(pairs: Option<&'p crate::model::Pairs>, resource: &str) -> Option<&'p Name> {
        pairs
            .and_then(|p| p.get(resource))
            .filter(|v| Quantity::parse(v).is_none_or(|q| !q.is_zero()))
    }
    let own = target.resources.as_deref();
    let limit = set(own.map(|r| &r.limits), resource).or_else(|| {
        matches!(resource, "cpu" | "memory")
            .then(|| set(spec.resources.as_deref().map(|r| &r.limits), resource))
            .flatten()
    });
    let written = match side {
        "limits" => limit.ok_or_else(|| format!("{} not set: node allocatable", r.resource)),
        _ => own
            .and_then(|r| r.requests.get(resource))
            .or(set(own.map(|r| &r.limits), resource))
            .ok_or_else(|| {
                format!(
                    "{} not set (and no limit to default from): 0, or a LimitRange default",
                    r.resource
                )
            }),
    };
    let written = match written {
        Ok(w) => w,
        Err(why) => return Value::Unresolved(Name::from(why)),
    };
    let Some(amount) = Quantity::parse(written) else {
        return Value::Unresolved(
            format!("{side}.{resource} {written:?} is not a quantity").into(),
        );
    };
    let scale = if resource == "cpu" { 3 } else { 0 };
    match (amount.ceil_scaled(scale), divisor.ceil_scaled(scale)) {
        (Some(a), Some(d)) if d > 0 => Value::Text(Name::from(a.div_ceil(d).to_string())),
        _ => Value::Unresolved(
            format!(
                "{} {written} / {} is out of range",
                r.resource,
                r.divisor.as_deref().unwrap_or("1")
            )
            .into(),
        ),
    }
}

/// Expands a literal env value against the variables defined before it.
/// A reference to a Secret makes the result a Secret (fingerprinted); a
/// reference to a per-pod field stays symbolic, so pods do not differ.
pub(super) fn expand_value(
    raw: &str,
    vars: &HashMap<String, (Value, Provenance)>,
) -> (Value, Provenance) {
    if !raw.contains('$') {
        return (Value::Text(Name::new(raw)), Provenance::Literal);
    }
    let pieces = expand::expand(raw, |n| vars.contains_key(n));
    let mut text = String::new();
    let mut secret = false;
    let mut unresolved = None;
    let mut any_var = false;
    // What the secret-tainted result is fingerprinted over: the text the
    // container gets, with the referenced secrets' fingerprints in their
    // places. Each run of text between secrets is hashed whole and
    // length-prefixed, so that how the template spelled the text (a literal
    // `app:` or `$(USER):`) makes no difference.
    let mut hasher = Sha256::new();
    let mut run_start = 0;
    let hash_run = |hasher: &mut Sha256, run: &str| {
        hasher.update((run.len() as u64).to_le_bytes());
        hasher.update(run.as_bytes());
    };
    let mut key_id = String::new();
    for p in &pieces {
        match p {
            Piece::Text(t) => text.push_str(t),
            Piece::Var(name) => {
                any_var = true;
                let (v, _) = &vars[*name];
                match v {
                    Value::Text(t) => text.push_str(t),
                    Value::Secret(f) => {
                        secret = true;
                        key_id = f.key_id.clone();
                        hash_run(&mut hasher, &text[run_start..]);
                        run_start = text.len();
                        hasher.update(f.mac.as_bytes());
                    }
                    Value::FieldRef(path) => text.push_str(&format!("<fieldRef {path}>")),
                    Value::Binary(_) | Value::Unresolved(_) => {
                        unresolved = Some(format!("refers to $({name}), which is unresolved"));
                    }
                }
            }
        }
        // Each reference may double the text (B=$(A)$(A), C=$(B)$(B), ...):
        // 40 short variables would expand to a terabyte.
        if text.len() > crate::limits::MAX_VALUE_BYTES {
            let why = format!(
                "expands to more than {} MiB; the container could not start with it",
                crate::limits::MAX_VALUE_BYTES >> 20
            );
            let provenance = Provenance::Expanded {
                template: raw.to_string(),
            };
            return (Value::Unresolved(Name::from(why)), provenance);
        }
    }
    hash_run(&mut hasher, &text[run_start..]);
    let provenance = if any_var {
        Provenance::Expanded {
            template: raw.to_string(),
        }
    } else {
        Provenance::Literal
    };
    let value = if let Some(why) = unresolved {
        Value::Unresolved(Name::from(why))
    } else if secret {
        Value::Secret(Box::new(Fingerprint {
            key_id,
            mac: hex::encode(hasher.finalize()),
        }))
    } else {
        Value::Text(Name::from(text))
    };
    (value, provenance)
}
