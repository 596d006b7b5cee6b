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

/// The distinct specs of the pods among `objects`, in the order first
/// seen, and each pod spec's index among them.
pub fn index(objects: &[Object]) -> (Vec<Arc<PodSpec>>, HashMap<*const PodSpec, usize>) {
    const RECENT: usize = 8;
    let mut specs: Vec<Arc<PodSpec>> = Vec::new();
    let mut at: HashMap<*const PodSpec, usize> = HashMap::new();
    for o in objects {
        let Object::Pod { spec, .. } = o else {
            continue;
        };
        if at.contains_key(&Arc::as_ptr(spec)) {
            continue;
        }
        // Equal specs that are not shared (read from separate
        // documents): replicas come together, so look a few back.
        let same = specs
            .iter()
            .enumerate()
            .rev()
            .take(RECENT)
            .find(|(_, s)| ***s == **spec)
            .map(|(i, _)| i);
        let i = same.unwrap_or_else(|| {
            specs.push(spec.clone());
            specs.len() - 1
        });
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
