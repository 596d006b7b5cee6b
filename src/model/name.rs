//! [`Name`]: an interned, shared, immutable string for what repeats across
//! an inventory's entries — workload, container, namespace and key names,
//! and values. Fifty thousand pods give hundreds of thousands of entries per
//! environment that name the same few thousand workloads and the same few
//! hundred keys, and most values are equal in every environment: one copy
//! of each, shared, instead of one allocation per entry and environment.
//! Cloning a `Name` copies a pointer.
//!
//! Names compare, order and hash as the `str` they hold, so sorted maps
//! keyed by them keep the order plain strings had.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// See the module documentation.
///
/// One pointer wide: it points at the interned `&'static str`, so that a
/// `Name` costs 8 bytes in every entry that holds it, where an `Arc<str>`
/// costs 16, and cloning one touches no reference count.
#[derive(Clone)]
pub struct Name(&'static &'static str);

/// The interner is split so that environments normalized on several cores
/// at once seldom wait for each other.
const SHARDS: usize = 16;

/// foldhash: names are short and many, and std's SipHash made interning a
/// visible part of a run. Seeded once per process.
type Hashing = foldhash::fast::RandomState;

/// An interned string in the set, found by the `str` it holds.
#[derive(Clone, Copy)]
struct Interned(&'static &'static str);

impl PartialEq for Interned {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}
impl Eq for Interned {}
impl Hash for Interned {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (*self.0).hash(h)
    }
}
impl std::borrow::Borrow<str> for Interned {
    fn borrow(&self) -> &str {
        self.0
    }
}

type Shard = Mutex<HashSet<Interned, Hashing>>;

fn shards() -> &'static (Hashing, Vec<Shard>) {
    static SHARDS_: OnceLock<(Hashing, Vec<Shard>)> = OnceLock::new();
    SHARDS_.get_or_init(|| {
        let hashing = Hashing::default();
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(HashSet::with_hasher(hashing.clone())))
            .collect();
        (hashing, shards)
    })
}

impl Name {
    /// The one shared copy of `s`. The interner lives as long as the
    /// process, and so does every string it holds: confdrift is a command
    /// that runs once and exits, and the strings it interns are the names
    /// and values of the environments it audits.
    pub fn new(s: &str) -> Name {
        let (state, shards) = shards();

        let shard = &shards[(state.hash_one(s) as usize) % SHARDS];
        // A poisoned shard only means another thread panicked mid-insert;
        // the set itself is intact.
        let mut set = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = set.get(s) {
            return Name(found.0);
        }
        let text: &'static str = Box::leak(Box::<str>::from(s));
        let name: &'static &'static str = Box::leak(Box::new(text));
        set.insert(Interned(name));
        Name(name)
    }

    pub fn as_str(&self) -> &str {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::new("")
    }
}

/// Every `Name` comes from the one interner, so equal strings are one
/// pointer.
impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Name {}

/// As the `str`, so that maps keyed by `Name` can be searched with a `&str`.
impl Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (*self.0).hash(h)
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        (*self.0).cmp(*other.0)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(*self.0, f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(*self.0, f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name::new(&s)
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::new(s)
    }
}

impl From<&Name> for String {
    fn from(n: &Name) -> String {
        n.0.to_string()
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == *other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == *other.0
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        // Borrowed where the input allows, owned otherwise; interned either way.
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Name::new(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_copy() {
        let a = Name::new("DB_POOL_SIZE");
        let b = Name::from(String::from("DB_POOL_SIZE"));
        assert!(std::ptr::eq(a.0, b.0));
        assert_eq!(a, "DB_POOL_SIZE");
        assert_ne!(Name::new("DB_POOL_SIZE "), a);
    }

    #[test]
    fn names_order_as_their_strings() {
        let mut names: Vec<Name> = ["b", "a", "B", ""].into_iter().map(Name::new).collect();
        names.sort();
        let strs: Vec<&str> = names.iter().map(Name::as_str).collect();
        assert_eq!(strs, ["", "B", "a", "b"]);
    }
}
