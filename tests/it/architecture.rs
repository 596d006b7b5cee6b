//! The direction of dependencies between confdrift's modules: cli → app →
//! history, config → report → evaluate → policy → compare → normalize →
//! collect, with leaves (error, limits, memory, codes, clock, fingerprint, quantity,
//! fsio, display) underneath, and model and diagnostic (which error uses) at
//! the bottom. A module may use what is below it, never what is above: when
//! it needs something from a later stage, that thing is in the wrong place
//! (STYLE.md).
//!
//! The check reads every `crate::MODULE` path in `src/`. No upward use is
//! left (issue #14), so [`KNOWN`] is empty and must stay so: a new upward
//! use fails, and so would an entry that no longer occurs.

use std::collections::BTreeSet;
use std::path::Path;

/// Higher uses lower. Modules of equal rank do not use each other.
const LAYERS: &[(&str, u8)] = &[
    ("main", 12),
    ("cli", 11),
    ("app", 10),
    ("history", 9),
    ("config", 9),
    ("report", 8),
    ("evaluate", 7),
    ("policy", 6),
    ("compare", 5),
    ("normalize", 4),
    ("collect", 3),
    ("error", 2),
    ("limits", 2),
    ("memory", 2),
    ("codes", 2),
    ("clock", 2),
    ("fingerprint", 2),
    ("quantity", 2),
    ("fsio", 2),
    ("display", 2),
    ("model", 1),
    ("diagnostic", 1),
];

/// Upward uses that exist today, as (file under src/, module it uses).
/// Empty: none is allowed (issue #14); keep it so.
const KNOWN: &[(&str, &str)] = &[];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every (file, module) where `file` names `crate::module` of a higher or
/// equal layer than its own.
fn upward_uses() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeSet::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        found.extend(upward_uses_in(&rel, &text));
    }
    found
}

/// The upward uses in one file's text; `rel` is its path under `src/`.
fn upward_uses_in(rel: &str, text: &str) -> BTreeSet<(String, String)> {
    let own = rel.split('/').next().unwrap_or("").trim_end_matches(".rs");
    let mut found = BTreeSet::new();
    let Some(own_rank) = rank(own) else {
        return found; // lib.rs declares every module
    };
    for (i, _) in text.match_indices("crate::") {
        let used: String = text[i + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if used == own {
            continue;
        }
        if let Some(r) = rank(&used)
            && r >= own_rank
        {
            found.insert((rel.to_string(), used));
        }
    }
    found
}

#[test]
fn every_module_is_ranked() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        let line = line.trim();
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .or_else(|| line.strip_prefix("pub(crate) mod "))
        {
            let name = name.trim_end_matches(';');
            assert!(
                rank(name).is_some(),
                "module {name} has no layer in tests/it/architecture.rs: decide where it belongs"
            );
        }
    }
}

#[test]
fn dependencies_point_down_the_pipeline() {
    let found = upward_uses();
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    assert!(
        new.is_empty(),
        "these files use a module above their own layer: {new:?}. Move what they use down \
         (a leaf module, or the stage that owns the concept) instead of importing up"
    );
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "these known upward uses are gone: remove them from KNOWN so they cannot come back: \
         {gone:?}"
    );
}

#[test]
fn the_check_sees_an_upward_use() {
    // The scanner itself, on a file of the model layer that would use the
    // CLI, a stage's sibling and a leaf.
    let text = "use crate::cli::args;\nuse crate::model::Subject;\nfn f() { crate::fsio::x() }";
    let found = upward_uses_in("model/objects.rs", text);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            ("model/objects.rs".to_string(), "cli".to_string()),
            ("model/objects.rs".to_string(), "fsio".to_string())
        ]
    );
    assert!(upward_uses_in("cli/mod.rs", "use crate::model::Subject;").is_empty());
}
