//! Values as findings carry them: display-ready and redacted. A Secret is
//! `<redacted A>`, `<redacted B>`, … by fingerprint, so a reader sees
//! which environments share a value and nothing else. Nothing after this
//! stage can leak a Secret, because nothing after it gets one.

use std::collections::BTreeMap;

use crate::display::value as display_value;
use crate::model::{Comparison, ConfigKind, Delta, Entry, Value};
use crate::normalize::canonical::{CompareKey, compare_key};

/// Display values per environment; Secrets become `<redacted A>`,
/// `<redacted B>`, … so a reader sees which environments share a value and
/// nothing else.
pub fn display_values(cmp: &Comparison, d: &Delta) -> BTreeMap<String, Option<String>> {
    let entries: Vec<Option<&Entry>> = d.values.iter().map(Option::as_ref).collect();
    display_entries(&cmp.envs, d.subject.kind, &entries)
}

/// [`display_values`] for one subject's entries, one slot per environment.
pub fn display_entries(
    envs: &[String],
    kind: ConfigKind,
    entries: &[Option<&Entry>],
) -> BTreeMap<String, Option<String>> {
    let mut labels: Vec<CompareKey> = Vec::new();
    let mut out = BTreeMap::new();
    for (env, v) in envs.iter().zip(entries) {
        let shown = v.map(|e| match &e.value {
            Value::Secret(_) => {
                let k = compare_key(kind, &e.value);
                let idx = match labels.iter().position(|l| *l == k) {
                    Some(i) => i,
                    None => {
                        labels.push(k);
                        labels.len() - 1
                    }
                };
                format!("<redacted {}>", label(idx))
            }
            other => display_value(other),
        });
        out.insert(env.clone(), shown);
    }
    out
}

fn label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < letters.len() {
        (letters[i] as char).to_string()
    } else {
        format!("#{}", i + 1)
    }
}
