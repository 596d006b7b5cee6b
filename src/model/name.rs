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
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// See the module documentation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<str>);

/// The interner is split so that environments normalized on several cores
/// at once seldom wait for each other.
const SHARDS: usize = 16;

/// foldhash: names are short and many, and std's SipHash made interning a
/// visible part of a run. Seeded once per process.
type Hashing = foldhash::fast::RandomState;

type Shard = Mutex<HashSet<Arc<str>, Hashing>>;

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
    /// process: confdrift is a command that runs once and exits.
    pub fn new(s: &str) -> Name {
        let (state, shards) = shards();

        let shard = &shards[(state.hash_one(s) as usize) % SHARDS];
        // A poisoned shard only means another thread panicked mid-insert;
        // the set itself is intact.
        let mut set = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = set.get(s) {
            return Name(found.clone());
        }
        let name: Arc<str> = Arc::from(s);
        set.insert(name.clone());
        Name(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
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
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
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
        assert!(Arc::ptr_eq(&a.0, &b.0));
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
