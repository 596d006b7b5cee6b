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
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
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

/// The distinct pod specs met so far, in the order first met: the one way
/// equal specs are found, when a snapshot is read, after an environment is
/// collected ([`share`]) and when a snapshot is written ([`index`]).
#[derive(Default, Debug)]
pub struct Distinct {
    specs: Vec<Arc<PodSpec>>,
    by_key: HashMap<u64, Vec<usize>>,
    /// The spec met last: replicas come one after the other in a list.
    last: Option<usize>,
}

impl Distinct {
    /// The one shared spec equal to `spec`: one met before, or `spec`
    /// itself, given back its spare room ([`PodSpec::compact`]), when none
    /// is. A pod is read with its own copy of the spec; sharing it at once
    /// keeps an environment's raw objects at a few thousand specs while
    /// 50,000 pods are read.
    pub fn intern(&mut self, spec: PodSpec) -> Arc<PodSpec> {
        if let Some(i) = self.last
            && *self.specs[i] == spec
        {
            return self.specs[i].clone();
        }
        let same = self.by_key.entry(key_of(&spec)).or_default();
        let i = match same.iter().find(|&&i| *self.specs[i] == spec) {
            Some(&i) => i,
            None => {
                self.specs.push(Arc::new(spec.compact()));
                same.push(self.specs.len() - 1);
                self.specs.len() - 1
            }
        };
        self.last = Some(i);
        self.specs[i].clone()
    }

    /// The index of the spec equal to `spec` among those met, `spec` itself
    /// being added when none is.
    pub fn of(&mut self, spec: &Arc<PodSpec>) -> usize {
        let same = self.by_key.entry(key_of(spec)).or_default();
        match same.iter().find(|&&i| *self.specs[i] == **spec) {
            Some(&i) => i,
            None => {
                self.specs.push(spec.clone());
                same.push(self.specs.len() - 1);
                self.specs.len() - 1
            }
        }
    }

    /// The spec met last: the one the next replica most likely equals, so
    /// that reading it can reuse its interned names and values.
    pub fn last(&self) -> Option<&Arc<PodSpec>> {
        self.last.map(|i| &self.specs[i])
    }

    /// Makes the pod specs of `objects` (pods' specs, workloads'
    /// templates) the shared ones equal to them.
    pub fn share_all(&mut self, objects: &mut [Object]) {
        for spec in specs_of(objects) {
            let i = self.of(spec);
            *spec = self.specs[i].clone();
        }
    }

    /// The one spec of index `i`.
    pub fn get(&self, i: usize) -> &Arc<PodSpec> {
        &self.specs[i]
    }
}

/// Makes equal pod specs one shared spec: the replicas of a workload, and
/// the workload's template that they run unchanged (a Deployment's, its
/// ReplicaSets'). Read from separate files or pages, they arrive as
/// separate copies; a 50,000-pod environment holds a few thousand distinct
/// specs.
pub fn share(objects: &mut [Object]) {
    let mut distinct = Distinct::default();
    // Replicas that already share an `Arc` are looked up by pointer, not
    // compared again. No spec is allocated meanwhile, so a pointer cannot
    // come back as another spec's.
    let mut seen: HashMap<*const PodSpec, usize> = HashMap::new();
    for spec in specs_of(objects) {
        let i = *seen
            .entry(Arc::as_ptr(spec))
            .or_insert_with(|| distinct.of(spec));
        *spec = distinct.get(i).clone();
    }
}

/// The distinct specs among `objects` (pods' specs and workloads'
/// templates), in the order first seen, and each spec's index among them.
/// Equal specs get one index even when they are separate copies.
pub fn index(objects: &[Object]) -> (Vec<Arc<PodSpec>>, HashMap<*const PodSpec, usize>) {
    let mut distinct = Distinct::default();
    let mut at: HashMap<*const PodSpec, usize> = HashMap::new();
    for o in objects {
        let spec = match o {
            Object::Pod { spec, .. } => spec,
            Object::Workload { template, .. } => template,
            _ => continue,
        };
        at.entry(Arc::as_ptr(spec))
            .or_insert_with(|| distinct.of(spec));
    }
    (distinct.specs, at)
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
