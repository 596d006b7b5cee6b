//! [`Entries`]: an environment's values, as one sorted vector.
//!
//! An inventory holds hundreds of thousands of entries at 50,000 pods. A
//! `BTreeMap` filled in order keeps its nodes about half empty, and making
//! it compact again means building a second one beside it; a vector sorted
//! by subject costs exactly its length, and normalize appends workload by
//! workload in subject order, so an insert is almost always a push.

use super::{Entry, Subject};

/// The entries of an inventory, sorted by subject, each subject once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entries(Vec<(Subject, Entry)>);

/// What [`Entries::iter`] yields.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (Subject, Entry)>, fn(&'a (Subject, Entry)) -> Pair<'a>>;

/// One subject with its entry, borrowed.
pub type Pair<'a> = (&'a Subject, &'a Entry);

fn pair(p: &(Subject, Entry)) -> Pair<'_> {
    (&p.0, &p.1)
}

impl Entries {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, subject: &Subject) -> Result<usize, usize> {
        // Appending in order is the common case: look at the end first.
        match self.0.last() {
            Some((last, _)) if last < subject => Err(self.0.len()),
            _ => self.0.binary_search_by(|(s, _)| s.cmp(subject)),
        }
    }

    pub fn get(&self, subject: &Subject) -> Option<&Entry> {
        self.find(subject).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, subject: &Subject) -> Option<&mut Entry> {
        self.find(subject).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, subject: &Subject) -> bool {
        self.find(subject).is_ok()
    }

    /// Sets the entry of `subject`, returning the one it replaces.
    pub fn insert(&mut self, subject: Subject, entry: Entry) -> Option<Entry> {
        match self.find(&subject) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, entry)),
            Err(i) => {
                self.grow();
                self.0.insert(i, (subject, entry));
                None
            }
        }
    }

    /// Sets the entry of `subject` unless it has one.
    pub fn insert_if_absent(&mut self, subject: Subject, entry: Entry) {
        if let Err(i) = self.find(&subject) {
            self.grow();
            self.0.insert(i, (subject, entry));
        }
    }

    fn grow(&mut self) {
        grow_by_a_quarter(&mut self.0, 64);
    }

    pub fn remove(&mut self, subject: &Subject) -> Option<Entry> {
        self.find(subject).ok().map(|i| self.0.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Subject, &mut Entry) -> bool) {
        self.0.retain_mut(|(s, e)| keep(s, e));
    }

    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(pair as fn(&(Subject, Entry)) -> Pair<'_>)
    }

    /// The entries from `from` on.
    pub fn range_from(&self, from: &Subject) -> Iter<'_> {
        let at = self.0.partition_point(|(s, _)| s < from);
        self.0[at..]
            .iter()
            .map(pair as fn(&(Subject, Entry)) -> Pair<'_>)
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Subject> + ExactSizeIterator {
        self.0.iter().map(|(s, _)| s)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.0.iter().map(|(_, e)| e)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.0.iter_mut().map(|(_, e)| e)
    }

    /// Gives back the room left over from growing (see [`shrink_exact`]).
    pub fn shrink_to_fit(&mut self) {
        shrink_exact(&mut self.0);
    }
}

/// Makes room for one more element of a full vector, by a quarter of what
/// it holds (`least` at the least): doubling would leave up to half of the
/// largest allocations of a run unused, and hold three times their
/// elements while it copies them.
pub fn grow_by_a_quarter<T>(v: &mut Vec<T>, least: usize) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 4).max(least));
    }
}

/// Gives back a vector's spare room by moving it into an allocation of the
/// exact size: an allocator may keep a block that shrinks by less than half
/// where it is (mimalloc does), so that `shrink_to_fit` frees nothing.
pub fn shrink_exact<T>(v: &mut Vec<T>) {
    if v.capacity() > v.len() {
        let mut exact = Vec::with_capacity(v.len());
        exact.append(v);
        *v = exact;
    }
}

impl Entries {
    /// The entries of `parts` as one, in one allocation of the exact size,
    /// each part given back as soon as it is moved. Parts that follow each
    /// other in subject order (workload after workload) are simply put end
    /// to end; otherwise they are sorted, the last entry of a subject
    /// winning, as inserting them one after the other would.
    pub fn from_parts(parts: Vec<Entries>) -> Entries {
        let in_order = parts
            .iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0].0.last().map(|l| &l.0) < w[1].0.first().map(|f| &f.0));
        if !in_order {
            return parts.into_iter().flatten().collect();
        }
        let mut all = Vec::with_capacity(parts.iter().map(Entries::len).sum());
        for part in parts {
            all.extend(part.0);
        }
        Entries(all)
    }
}

impl Extend<(Subject, Entry)> for Entries {
    fn extend<I: IntoIterator<Item = (Subject, Entry)>>(&mut self, iter: I) {
        for (s, e) in iter {
            self.insert(s, e);
        }
    }
}

/// Sorted by subject; of a subject given twice, the last entry is kept, as
/// in a `BTreeMap` built the same way.
impl FromIterator<(Subject, Entry)> for Entries {
    fn from_iter<I: IntoIterator<Item = (Subject, Entry)>>(iter: I) -> Self {
        let mut v: Vec<(Subject, Entry)> = iter.into_iter().collect();
        v.reverse();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|later, earlier| later.0 == earlier.0);
        v.shrink_to_fit();
        Entries(v)
    }
}

impl IntoIterator for Entries {
    type Item = (Subject, Entry);
    type IntoIter = std::vec::IntoIter<(Subject, Entry)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = Pair<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConfigKind, Name, Provenance, Scope, Value};

    fn subject(workload: &str, key: &str) -> Subject {
        Subject {
            scope: Scope::Container {
                workload: workload.into(),
                container: "app".into(),
            },
            kind: ConfigKind::Env,
            key: key.into(),
        }
    }

    fn entry(v: &str) -> Entry {
        Entry {
            value: Value::Text(v.into()),
            provenance: Provenance::Literal,
            namespace: Name::new("default"),
        }
    }

    #[test]
    fn entries_inserted_out_of_order_come_out_sorted_and_the_last_insert_of_a_subject_wins() {
        let mut e = Entries::default();
        for (w, k, v) in [
            ("b", "X", "1"),
            ("a", "Y", "2"),
            ("b", "A", "3"),
            ("a", "Y", "4"),
        ] {
            e.insert(subject(w, k), entry(v));
        }
        let got: Vec<String> = e
            .iter()
            .map(|(s, e)| format!("{} {} {:?}", s.scope, s.key, e.value))
            .collect();
        assert_eq!(
            got,
            [
                "a/app Y Text(\"4\")",
                "b/app A Text(\"3\")",
                "b/app X Text(\"1\")"
            ]
        );
        assert_eq!(e.get(&subject("b", "A")), Some(&entry("3")));
        assert_eq!(e.get(&subject("c", "A")), None);
        e.insert_if_absent(subject("a", "Y"), entry("5"));
        assert_eq!(e.get(&subject("a", "Y")), Some(&entry("4")));
        assert_eq!(e.remove(&subject("a", "Y")), Some(entry("4")));
        assert_eq!(e.len(), 2);
        assert_eq!(
            e.range_from(&subject("b", "B"))
                .map(|(s, _)| s.key.as_str())
                .collect::<Vec<_>>(),
            ["X"]
        );
    }

    #[test]
    fn parts_in_order_are_put_end_to_end_and_parts_out_of_order_are_sorted_last_wins() {
        let part = |items: &[(&str, &str, &str)]| {
            let mut e = Entries::default();
            for (w, k, v) in items {
                e.insert(subject(w, k), entry(v));
            }
            e
        };
        let shown = |e: &Entries| {
            e.iter()
                .map(|(s, e)| format!("{}/{}={:?}", s.scope, s.key, e.value))
                .collect::<Vec<_>>()
        };
        let joined = Entries::from_parts(vec![
            part(&[("a", "X", "1"), ("a", "Y", "2")]),
            Entries::default(),
            part(&[("b", "X", "3")]),
        ]);
        assert_eq!(
            shown(&joined),
            [
                "a/app/X=Text(\"1\")",
                "a/app/Y=Text(\"2\")",
                "b/app/X=Text(\"3\")"
            ]
        );
        assert_eq!(joined.0.capacity(), 3);
        // Two workloads renamed to one: the later part's entry wins.
        let overlapping = Entries::from_parts(vec![
            part(&[("b", "X", "1")]),
            part(&[("a", "X", "2"), ("b", "X", "3")]),
        ]);
        assert_eq!(
            shown(&overlapping),
            ["a/app/X=Text(\"2\")", "b/app/X=Text(\"3\")"]
        );
    }

    #[test]
    fn collected_entries_keep_the_last_of_a_subject_like_a_btreemap() {
        let pairs = [("b", "1"), ("a", "2"), ("b", "3")].map(|(w, v)| (subject(w, "K"), entry(v)));
        let ours: Entries = pairs.clone().into_iter().collect();
        let theirs: std::collections::BTreeMap<Subject, Entry> = pairs.into_iter().collect();
        assert_eq!(
            ours.iter().collect::<Vec<_>>(),
            theirs.iter().collect::<Vec<_>>()
        );
    }
}
