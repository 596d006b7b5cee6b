//! How a snapshot stores pod specs: each distinct spec once, in the
//! snapshot's `podSpecs`, and each pod's `spec` as its index there. The
//! replicas of a workload share one spec, so a 50,000-pod snapshot holds a
//! few thousand specs instead of 50,000 copies, and reading it builds each
//! spec once. Outside [`spec_table::writing`] a spec is written inline, as
//! it always was, and an inline spec is always read: snapshots written
//! before the table still read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Object, PodSpec};

thread_local! {
    static WRITING: RefCell<Option<HashMap<*const PodSpec, usize>>> = const { RefCell::new(None) };
    static READING: RefCell<Option<Vec<Arc<PodSpec>>>> = const { RefCell::new(None) };
}

/// The pod specs of `objects`: every pod's spec and every workload's
/// template.
fn specs_of(objects: &mut [Object]) -> impl Iterator<Item = &mut Arc<PodSpec>> {
    objects.iter_mut().filter_map(|o| match o {
        Object::Pod { spec, .. } => Some(spec),
        Object::Workload { template, .. } => Some(template),
        _ => None,
    })
}

/// What tells specs apart cheaply: container names and their variables.
/// Equal specs give equal keys; specs with equal keys are compared whole.
fn key_of(spec: &PodSpec) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in spec.init_containers.iter().chain(&spec.containers) {
        c.name.hash(&mut h);
        for e in &c.env {
            e.name.hash(&mut h);
            e.value.hash(&mut h);
        }
        c.env_from.len().hash(&mut h);
        c.volume_mounts.len().hash(&mut h);
    }
    spec.volumes.len().hash(&mut h);
    h.finish()
}

/// Makes equal pod specs one shared spec: the replicas of a workload, and
/// the workload's template that they run unchanged (a Deployment's, its
/// ReplicaSets'). Read from separate files or pages, they arrive as
/// separate copies; a 50,000-pod environment holds a few thousand distinct
/// specs. Pods and templates already sharing one are passed over.
pub fn share(objects: &mut [Object]) {
    // What each spec seen became: itself when first of its kind, else the
    // equal one met before. Replicas that already share an `Arc` are
    // looked up by pointer, not compared again.
    let mut became: HashMap<*const PodSpec, Arc<PodSpec>> = HashMap::new();
    let mut by_key: HashMap<u64, Vec<Arc<PodSpec>>> = HashMap::new();
    for spec in specs_of(objects) {
        if let Some(s) = became.get(&Arc::as_ptr(spec)) {
            *spec = s.clone();
            continue;
        }
        let same = by_key.entry(key_of(spec)).or_default();
        let shared = match same.iter().find(|s| ***s == **spec) {
            Some(s) => s.clone(),
            None => {
                same.push(spec.clone());
                spec.clone()
            }
        };
        became.insert(Arc::as_ptr(spec), shared.clone());
        *spec = shared;
    }
}

/// The distinct specs among `objects` (pods' specs and workloads'
/// templates), in the order first seen, and each spec's index among them.
/// Equal specs get one index even when they are separate copies.
pub fn index(objects: &[Object]) -> (Vec<Arc<PodSpec>>, HashMap<*const PodSpec, usize>) {
    let mut specs: Vec<Arc<PodSpec>> = Vec::new();
    let mut at: HashMap<*const PodSpec, usize> = HashMap::new();
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    for o in objects {
        let spec = match o {
            Object::Pod { spec, .. } => spec,
            Object::Workload { template, .. } => template,
            _ => continue,
        };
        if at.contains_key(&Arc::as_ptr(spec)) {
            continue;
        }
        let same = by_key.entry(key_of(spec)).or_default();
        let i = match same.iter().find(|&&i| *specs[i] == **spec) {
            Some(&i) => i,
            None => {
                specs.push(spec.clone());
                same.push(specs.len() - 1);
                specs.len() - 1
            }
        };
        at.insert(Arc::as_ptr(spec), i);
    }
    (specs, at)
}

/// Runs `f` (which serializes objects) writing each indexed pod spec as
/// its index.
pub fn writing<R>(at: HashMap<*const PodSpec, usize>, f: impl FnOnce() -> R) -> R {
    WRITING.with(|w| *w.borrow_mut() = Some(at));
    let _clear = Clear(&WRITING);
    f()
}

/// Runs `f` (which deserializes objects) resolving a spec given as an
/// index against `specs`.
pub fn reading<R>(specs: Vec<Arc<PodSpec>>, f: impl FnOnce() -> R) -> R {
    READING.with(|r| *r.borrow_mut() = Some(specs));
    let _clear = Clear(&READING);
    f()
}

/// Empties a table when its scope ends, also on an early return.
struct Clear<T: 'static>(&'static std::thread::LocalKey<RefCell<Option<T>>>);

impl<T: 'static> Drop for Clear<T> {
    fn drop(&mut self) {
        self.0.with(|t| t.borrow_mut().take());
    }
}

pub(super) fn serialize<S: Serializer>(spec: &Arc<PodSpec>, s: S) -> Result<S::Ok, S::Error> {
    let index = WRITING.with(|w| {
        w.borrow()
            .as_ref()
            .and_then(|at| at.get(&Arc::as_ptr(spec)).copied())
    });
    match index {
        Some(i) => s.serialize_u64(i as u64),
        None => spec.serialize(s),
    }
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<PodSpec>, D::Error> {
    d.deserialize_any(SpecOrIndex)
}

struct SpecOrIndex;

impl<'de> Visitor<'de> for SpecOrIndex {
    type Value = Arc<PodSpec>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a pod spec, or the index of one in the snapshot's podSpecs")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        PodSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(Arc::new)
    }

    fn visit_u64<E: de::Error>(self, i: u64) -> Result<Self::Value, E> {
        READING.with(|r| {
            let table = r.borrow();
            let specs = table.as_deref().unwrap_or(&[]);
            usize::try_from(i)
                .ok()
                .and_then(|i| specs.get(i))
                .cloned()
                .ok_or_else(|| {
                    E::custom(format!(
                        "pod spec {i} is not in the snapshot's podSpecs (it has {}); the \
                         snapshot is damaged: take a new one",
                        specs.len()
                    ))
                })
        })
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        match u64::try_from(i) {
            Ok(i) => self.visit_u64(i),
            Err(_) => Err(E::custom(format!("pod spec index {i} is negative"))),
        }
    }
}
