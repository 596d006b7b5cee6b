//! Turning typed raw objects into [`Object`]s: the checks the API server
//! would make of what confdrift reads, Secret values fingerprinted and
//! their plain bytes dropped.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::super::kinds::{self, SecretName, TemplateAt};
use super::*;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::fingerprint::{FingerprintKey, sha256_hex};
use crate::model::{Container, EnvVar, Meta, Object, OwnerRef, PodSpec, PodStatus, TemplateRef};

#[derive(Clone, Copy)]
pub(super) struct DocContext<'a> {
    pub(super) path: &'a str,
    pub(super) line: usize,
    /// The document's text, to find a value's line in; `None` when it is
    /// streamed.
    pub(super) text: Option<&'a str>,
    /// The index in `items` of the List item being converted.
    pub(super) item: Option<usize>,
    /// What is left of [`LOCATE_BUDGET_BYTES`] for this document.
    pub(super) budget: &'a std::cell::Cell<usize>,
}

impl DocContext<'_> {
    /// An error of the object as a whole, at its first line.
    pub(super) fn error(&self, what: &str, message: impl Into<String>) -> Error {
        self.error_at(what, &[], message)
    }

    /// An error of the field at `at` in the object, at the line the field
    /// (or, when it is not written, the nearest field above it) is on,
    /// with that line shown unless the document may hold a Secret value.
    pub(super) fn error_at(&self, what: &str, at: &[Seg], message: impl Into<String>) -> Error {
        let message = format!("{what}: {}", message.into());
        let Some(text) = self.text else {
            return Error::input(format!("{}:{}", self.path, self.line), message);
        };
        let mut full = Vec::new();
        if let Some(i) = self.item {
            full.extend([Seg::Key("items".into()), Seg::Index(i)]);
        }
        full.extend(at.iter().cloned());
        // Once, for an error that stops the run: no budget needed.
        let line = self.line + field_line(text, &full).max(1) - 1;
        let d = Diagnostic::error("invalid-object", self.path, line, 0, message);
        Error::diagnostic(shown_unless_secret(d, text, self.line))
    }
}

/// Turns a typed raw object into [`Object`]s (a List into several).
// Long (about 190 lines): one match arm per kind confdrift reads (Pod,
// ConfigMap, Secret, templates, producers, Lists), so that the table of
// kinds is in one place; each arm is short.
pub(super) fn convert(
    raw: RawObject,
    ctx: &DocContext<'_>,
    key: &FingerprintKey,
    out: &mut Parsed,
) -> Result<()> {
    let kind = raw.kind.clone().unwrap_or_default();
    if let Some(items) = raw.items
        && (is_list_kind(&kind) || kind.is_empty())
    {
        // The API server's typed lists (`PodList`) leave out each item's
        // kind; `kubectl get -o json` fills it in.
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        for (i, mut item) in items.into_iter().enumerate() {
            if item.kind.is_none() {
                item.kind = item_kind.map(str::to_string);
            }
            inherit_api_version(&mut item, item_kind, raw.api_version.as_deref());
            let ctx = DocContext {
                item: Some(i),
                ..*ctx
            };
            convert(item, &ctx, key, out)?;
        }
        return Ok(());
    }
    if kind.is_empty() {
        return Err(Error::input(
            format!("{}:{}", ctx.path, ctx.line),
            "document has no `kind`; every Kubernetes object needs `apiVersion` and `kind`",
        ));
    }
    let Some(read) = read_as(&kind, raw.api_version.as_deref()) else {
        *out.skipped_kinds
            .entry(skipped_label(&kind, raw.api_version.as_deref()))
            .or_default() += 1;
        return Ok(());
    };
    let raw_meta = raw.metadata.unwrap_or_default();
    let name = raw_meta
        .name
        .clone()
        .or_else(|| raw_meta.generate_name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ctx.error_at(
                &kind,
                &keys(&["metadata", "name"]),
                "has no metadata.name; Kubernetes requires a name (or generateName)",
            )
        })?;
    let mut rejected = Rejections {
        ctx: *ctx,
        found: Vec::new(),
    };
    let meta = convert_meta(raw_meta, name, &mut rejected)?;
    let what = format!("{kind} {}", meta.name);
    let mut object = match (read, kind.as_str()) {
        (ReadAs::Producer(p), _) => {
            if let Some(secret) = produced_secret(p, &meta, raw.spec.as_ref()) {
                out.objects.push(secret);
            }
            return Ok(());
        }
        (ReadAs::Template(t), _) => {
            let spec = raw.spec.ok_or_else(|| ctx.error(&what, "has no spec"))?;
            workload(t, meta, spec, ctx, &what, &mut rejected, &mut out.specs)?
        }
        (ReadAs::Core, "Pod") => {
            let status = raw.status.unwrap_or_default();
            let phase = status.phase;
            let container_starts = status
                .container_statuses
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| {
                    let started = c.state?.running?.started_at?;
                    Some((c.name, started))
                })
                .collect();
            if matches!(phase.as_deref(), Some("Succeeded" | "Failed")) {
                out.finished_pods += 1;
                return Ok(());
            }
            let spec = raw.spec.ok_or_else(|| ctx.error(&what, "has no spec"))?;
            let last = out.specs.last().cloned();
            let spec = pod_spec(spec, ctx, &what, &["spec"], &mut rejected, last.as_deref())?;
            // Replicas share their spec, with each other and their template.
            let spec = out.specs.intern(spec);
            Object::Pod {
                metadata: meta,
                spec,
                status: PodStatus {
                    phase,
                    container_starts,
                },
            }
        }
        (ReadAs::Core, "ConfigMap") => {
            let mut data = BTreeMap::new();
            for (k, v) in raw.data.unwrap_or_default() {
                let v = rejected
                    .read(v, || keys(&["data", &k]), None, Some(&k), false)?
                    .unwrap_or_default();
                check_size(
                    ctx,
                    &what,
                    || keys(&["data", &k]),
                    || format!("data key {k}"),
                    v.len(),
                )?;
                data.insert(k.into(), v.into());
            }
            let mut binary_data = BTreeMap::new();
            for (k, v) in raw.binary_data.unwrap_or_default() {
                let v = rejected.read(v, || keys(&["binaryData", &k]), None, Some(&k), false)?;
                let bytes = decode_base64(v.as_deref().unwrap_or("")).map_err(|_| {
                    ctx.error_at(
                        &what,
                        &keys(&["binaryData", &k]),
                        format!("binaryData key {k} is not valid base64"),
                    )
                })?;
                check_size(
                    ctx,
                    &what,
                    || keys(&["binaryData", &k]),
                    || format!("binaryData key {k}"),
                    bytes.len(),
                )?;
                binary_data.insert(k, sha256_hex(&bytes));
            }
            Object::ConfigMap {
                metadata: meta,
                data,
                binary_data,
            }
        }
        (ReadAs::Core, "Secret") => {
            let mut fingerprints = BTreeMap::new();
            for (k, v) in raw.data.unwrap_or_default() {
                let v = rejected.read(v, || keys(&["data", &k]), None, Some(&k), true)?;
                let bytes = decode_base64(v.as_deref().unwrap_or("")).map_err(|_| {
                    ctx.error_at(
                        &what,
                        &keys(&["data", &k]),
                        format!(
                            "data key {k} is not valid base64 (Secret `data` is base64-encoded; \
                             put plain text under `stringData`)"
                        ),
                    )
                })?;
                check_size(
                    ctx,
                    &what,
                    || keys(&["data", &k]),
                    || format!("data key {k}"),
                    bytes.len(),
                )?;
                fingerprints.insert(k, key.fingerprint(&bytes));
            }
            // The API server merges stringData over data on write.
            for (k, v) in raw.string_data.unwrap_or_default() {
                let v = rejected
                    .read(v, || keys(&["stringData", &k]), None, Some(&k), true)?
                    .unwrap_or_default();
                check_size(
                    ctx,
                    &what,
                    || keys(&["stringData", &k]),
                    || format!("stringData key {k}"),
                    v.len(),
                )?;
                fingerprints.insert(k, key.fingerprint(v.as_bytes()));
            }
            Object::Secret {
                metadata: meta,
                fingerprints,
            }
        }
        // `read_as` gives `Core` only to the three kinds above.
        (ReadAs::Core, _) => return Err(ctx.error(&what, "is not a kind confdrift reads")),
    };
    rejected.found.sort();
    object.meta_mut().rejected = rejected.found;
    out.objects.push(object);
    Ok(())
}

/// A controller with a pod template, as a [`Object::Workload`].
pub(super) fn workload(
    t: &kinds::TemplateKind,
    meta: Meta,
    spec: RawSpec,
    ctx: &DocContext<'_>,
    what: &str,
    rejected: &mut Rejections<'_>,
    specs: &mut crate::model::spec_table::Distinct,
) -> Result<Object> {
    let at: &[&str] = match t.at {
        TemplateAt::JobTemplate => &["spec", "jobTemplate", "spec", "template", "spec"],
        TemplateAt::SpecTemplate => &["spec", "template", "spec"],
    };
    let template = match t.at {
        TemplateAt::JobTemplate => spec
            .job_template
            .and_then(|jt| jt.spec)
            .and_then(|js| js.template)
            .and_then(|t| t.spec)
            .ok_or_else(|| {
                ctx.error_at(
                    what,
                    &keys(&["spec", "jobTemplate", "spec", "template", "spec"]),
                    "has no spec.jobTemplate.spec.template.spec",
                )
            })?,
        TemplateAt::SpecTemplate => match (spec.template.and_then(|t| t.spec), spec.workload_ref) {
            (Some(template), _) => template,
            // Argo Rollouts: "Instead of removing Deployment you can scale it
            // down to zero and reference it from the Rollout resource"; the
            // Rollout then has no template of its own
            // (https://argo-rollouts.readthedocs.io/en/stable/migrating/).
            (None, Some(r)) => {
                let (Some(kind), Some(name)) = (
                    r.kind.filter(|k| !k.is_empty()),
                    r.name.filter(|n| !n.is_empty()),
                ) else {
                    return Err(ctx.error_at(
                        what,
                        &keys(&["spec", "workloadRef"]),
                        "spec.workloadRef has no kind or name",
                    ));
                };
                return Ok(Object::Workload {
                    workload_kind: t.workload,
                    metadata: meta,
                    template: std::sync::Arc::new(PodSpec::default()),
                    template_from: Some(TemplateRef { kind, name }),
                });
            }
            (None, None) => {
                let also = if t.workload == crate::model::WorkloadKind::Rollout {
                    " (or spec.workloadRef)"
                } else {
                    ""
                };
                return Err(ctx.error_at(
                    what,
                    &keys(&["spec", "template", "spec"]),
                    format!("has no spec.template.spec{also}"),
                ));
            }
        },
    };
    Ok(Object::Workload {
        workload_kind: t.workload,
        metadata: meta,
        template: {
            let last = specs.last().cloned();
            let template = pod_spec(template, ctx, what, at, rejected, last.as_deref())?;
            specs.intern(template)
        },
        template_from: None,
    })
}

/// The Secret a producer's controller makes, if it makes one.
pub(super) fn produced_secret(
    p: &kinds::SecretProducer,
    meta: &Meta,
    spec: Option<&RawSpec>,
) -> Option<Object> {
    let target = spec.and_then(|s| s.target.as_ref());
    let name = match p.name {
        SecretName::Own => meta.name.clone(),
        SecretName::TargetNameOrOwn => {
            // `Merge` fills a Secret that must exist already; `None` makes none.
            if target
                .and_then(|t| t.creation_policy.as_deref())
                .is_some_and(|c| matches!(c, "Merge" | "None"))
            {
                return None;
            }
            target
                .and_then(|t| t.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| meta.name.clone())
        }
        SecretName::SpecSecretName => spec
            .and_then(|s| s.secret_name.clone())
            .filter(|n| !n.is_empty())?,
    };
    Some(Object::ProducedSecret {
        metadata: Meta {
            name,
            namespace: meta.namespace.clone(),
            ..Meta::default()
        },
        made_by: format!("{} {}", p.kind, meta.name),
        keys: spec.and_then(|s| produced_keys(p, s)),
    })
}

/// The keys a producer's Secret will hold, when the producer names them
/// all: an ExternalSecret's `data[].secretKey` (without `dataFrom` or a
/// target template, which add keys only the controller knows), a
/// SealedSecret's `encryptedData` plus its template's plain `data`.
pub(super) fn produced_keys(p: &kinds::SecretProducer, spec: &RawSpec) -> Option<Vec<String>> {
    let mut keys: Vec<String> = match p.name {
        SecretName::TargetNameOrOwn => {
            if spec.data_from.is_some()
                || spec.target.as_ref().is_some_and(|t| t.template.is_some())
            {
                return None;
            }
            spec.data
                .iter()
                .flatten()
                .filter_map(|d| d.secret_key.clone())
                .collect()
        }
        SecretName::Own => {
            let sealed = spec.encrypted_data.iter().flat_map(|m| m.keys().cloned());
            let plain = spec
                .template
                .iter()
                .flat_map(|t| t.data.iter().flat_map(|m| m.keys().cloned()));
            sealed.chain(plain).collect()
        }
        SecretName::SpecSecretName => return None,
    };
    keys.sort();
    keys.dedup();
    Some(keys)
}

/// Items of a typed list (`StatefulSetList`) that name no `apiVersion`
/// have the list's: an Advanced StatefulSet listed from `apps.kruise.io`
/// is not a built-in one.
pub(super) fn inherit_api_version(
    item: &mut RawObject,
    item_kind: Option<&str>,
    list_version: Option<&str>,
) {
    if item.api_version.is_none() && item_kind.is_some() {
        item.api_version = list_version.map(str::to_string);
    }
}

pub(super) fn decode_base64(s: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    // kubectl prints data on one line, but hand-written manifests may wrap it.
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
}

/// Refuses a value larger than [`MAX_VALUE_BYTES`]; never quotes it.
pub(super) fn check_size(
    ctx: &DocContext<'_>,
    what: &str,
    at: impl FnOnce() -> Vec<Seg>,
    field: impl Fn() -> String,
    len: usize,
) -> Result<()> {
    if len <= MAX_VALUE_BYTES {
        return Ok(());
    }
    Err(ctx.error_at(
        what,
        &at(),
        format!(
            "{} is {} bytes, more than {} ({} bytes), the most Kubernetes allows a whole \
             ConfigMap or Secret (confdrift reads values up to that size)",
            field(),
            yaml_limits::thousands(len),
            crate::fsio::mebibytes(MAX_VALUE_BYTES as u64),
            yaml_limits::thousands(MAX_VALUE_BYTES),
        ),
    ))
}

/// What the API server checks of an env entry and confdrift relies on: a
/// name of printable ASCII other than `=` (KEP-4369, the rule since
/// Kubernetes 1.34; older versions allow fewer), references that name their
/// object and key, a value of at most [`MAX_VALUE_BYTES`].
pub(super) fn check_env(
    ctx: &DocContext<'_>,
    what: &str,
    entry_at: &[Seg],
    container: &str,
    index: usize,
    e: &crate::model::EnvVar,
) -> Result<()> {
    let entry = || format!("container {container} env[{index}]");
    let at = |field: &[&str]| {
        let mut path = entry_at.to_vec();
        path.extend(keys(field));
        path
    };
    if e.name.is_empty() {
        return Err(ctx.error_at(what, &at(&["name"]), format!("{} has no name", entry())));
    }
    if let Some(c) = e
        .name
        .chars()
        .find(|c| !(' '..='~').contains(c) || *c == '=')
    {
        return Err(ctx.error_at(
            what,
            &at(&["name"]),
            format!(
                "{} name {:?} holds {c:?}; Kubernetes allows printable ASCII characters \
                 other than `=` in environment variable names",
                entry(),
                e.name
            ),
        ));
    }
    if let Some(from) = &e.value_from {
        let refs = [
            (
                "configMapKeyRef",
                from.config_map_key_ref.as_ref().map(|r| (&r.name, &r.key)),
            ),
            (
                "secretKeyRef",
                from.secret_key_ref.as_ref().map(|r| (&r.name, &r.key)),
            ),
        ];
        for (field, (name, key)) in refs.into_iter().filter_map(|(f, r)| Some((f, r?))) {
            let missing = if name.is_empty() { "name" } else { "key" };
            if name.is_empty() || key.is_empty() {
                return Err(ctx.error_at(
                    what,
                    &at(&["valueFrom", field]),
                    format!(
                        "{} ({}) valueFrom.{field} has no {missing}",
                        entry(),
                        e.name
                    ),
                ));
            }
        }
    }
    let len = e.value.as_ref().map_or(0, |v| v.len());
    check_size(
        ctx,
        what,
        || at(&["value"]),
        || format!("{} ({}) value", entry(), e.name),
        len,
    )
}

/// Converts a pod spec at `at` (`spec`, `spec.template.spec`, …) in its
/// object, checking its env entries as the API server does.
pub(super) fn pod_spec(
    spec: RawSpec,
    ctx: &DocContext<'_>,
    what: &str,
    at: &[&str],
    rejected: &mut Rejections<'_>,
    like: Option<&PodSpec>,
) -> Result<PodSpec> {
    let raw = spec.containers.unwrap_or_default();
    if raw.is_empty() {
        let mut path = keys(at);
        path.push(Seg::Key("containers".into()));
        return Err(ctx.error_at(what, &path, "pod spec has no containers"));
    }
    let mut read = |list: Vec<RawContainer>, field: &str| -> Result<Vec<Container>> {
        list.into_iter()
            .enumerate()
            .map(|(i, c)| {
                if c.name.is_empty() {
                    let mut path = keys(at);
                    path.extend([Seg::Key(field.into()), Seg::Index(i)]);
                    let at = at.join(".");
                    return Err(ctx.error_at(
                        what,
                        &path,
                        format!("{at}.{field}[{i}] has no name; Kubernetes requires one"),
                    ));
                }
                let like = like
                    .map(|l| match field {
                        "containers" => &l.containers,
                        _ => &l.init_containers,
                    })
                    .and_then(|list| list.get(i));
                container(c, at, field, i, rejected, like)
            })
            .collect()
    };
    let containers = read(raw, "containers")?;
    let init_containers = read(spec.init_containers.unwrap_or_default(), "initContainers")?;
    let lists = [
        ("containers", &containers),
        ("initContainers", &init_containers),
    ];
    for (field, list) in lists {
        for (ci, c) in list.iter().enumerate() {
            for (i, e) in c.env.iter().enumerate() {
                // The entry's path, built only for an entry in error.
                if check_env(ctx, what, &[], &c.name, i, e).is_ok() {
                    continue;
                }
                let mut path = keys(at);
                path.extend([Seg::Key(field.into()), Seg::Index(ci)]);
                path.extend([Seg::Key("env".into()), Seg::Index(i)]);
                check_env(ctx, what, &path, &c.name, i, e)?;
            }
        }
    }
    Ok(PodSpec {
        containers,
        init_containers,
        volumes: spec.volumes.unwrap_or_default(),
        resources: RawResources::lean(spec.resources),
    })
}

/// One container, `at.field[index]` in its object.
pub(super) fn container(
    c: RawContainer,
    at: &[&str],
    field: &str,
    index: usize,
    rejected: &mut Rejections<'_>,
    like: Option<&Container>,
) -> Result<Container> {
    // The container read last at this place: a replica's variables are
    // its template's, and reusing their interned names and values spares
    // interning each of them again for 50,000 pods.
    let like = like.map_or(&[][..], |l| l.env.as_slice());
    let env = c
        .env
        .into_iter()
        .enumerate()
        .map(|(j, e)| {
            let path = || {
                let mut p = keys(at);
                p.extend([Seg::Key(field.into()), Seg::Index(index)]);
                p.extend([
                    Seg::Key("env".into()),
                    Seg::Index(j),
                    Seg::Key("value".into()),
                ]);
                p
            };
            let value = rejected.read(e.value, path, Some(&c.name), Some(&e.name), false)?;
            let like = like.get(j);
            let name = match like {
                Some(l) if l.name == e.name => l.name.clone(),
                _ => crate::model::Name::from(e.name),
            };
            let value = value.map(|v| match like.and_then(|l| l.value.as_ref()) {
                Some(l) if *l == v => l.clone(),
                _ => crate::model::Name::from(v),
            });
            Ok(EnvVar {
                name,
                value,
                value_from: e.value_from,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Container {
        name: c.name,
        env,
        env_from: c.env_from,
        volume_mounts: c.volume_mounts,
        resources: RawResources::lean(c.resources),
    })
}

pub(super) fn convert_meta(
    raw: RawMeta,
    name: String,
    rejected: &mut Rejections<'_>,
) -> Result<Meta> {
    let mut labels = Vec::new();
    for (k, v) in raw.labels.unwrap_or_default() {
        let v = rejected.read(v, || keys(&["metadata", "labels", &k]), None, None, false)?;
        if crate::model::READ_LABELS.contains(&k.as_str()) {
            labels.push((k, v.unwrap_or_default()));
        }
    }
    let last_update = raw
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.fields.as_ref().is_some_and(|f| f.0))
        .filter_map(|m| m.time)
        .max_by_key(|t| crate::clock::timestamp(t));
    Ok(Meta {
        name,
        namespace: crate::model::Name::from(raw.namespace.unwrap_or_default()),
        labels: labels.into_iter().collect(),
        owner_references: raw
            .owner_references
            .unwrap_or_default()
            .into_iter()
            .map(|o| OwnerRef {
                kind: o.kind.into(),
                name: o.name.into(),
                controller: o.controller.unwrap_or(false),
            })
            // A new vector of the exact size: collected in place, it kept
            // the raw list's room (four owners' worth) in every pod.
            .collect::<Vec<_>>()
            .into_boxed_slice()
            .into_vec(),
        last_update,
        rejected: Vec::new(),
        origin: None,
    })
}
