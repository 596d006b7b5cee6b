//! The floor for `benches/compare.sh`: read and parse the same files into
//! generic `serde_json::Value`s on one thread, and nothing else. confdrift's
//! `audit` is measured against this.
//!
//! cargo run --release --example parse_floor -- DIR [DIR…]

use std::path::Path;

fn walk(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .expect("readable directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let mut files = Vec::new();
    for a in std::env::args().skip(1) {
        walk(Path::new(&a), &mut files);
    }
    let mut values = 0usize;
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable file");
        let v: serde_json::Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(&text).expect("valid JSON")
        } else {
            serde_yaml::from_str(&text).expect("valid YAML")
        };
        values += v
            .get("items")
            .and_then(|i| i.as_array())
            .map_or(1, |a| a.len());
    }
    println!("{values} objects parsed");
}
