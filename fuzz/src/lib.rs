//! What each fuzz target checks, as plain functions: the libFuzzer targets
//! in `fuzz_targets/` call them, and `tests/it/bad_input.rs` replays the
//! committed corpus (`corpus/<target>/`) through them in every `cargo test`,
//! so the stable toolchain alone keeps the corpus passing.
//!
//! Each function takes any bytes and panics only when an invariant breaks.

use base64::Engine as _;
use confdrift::collect::manifest::{Parsed, parse_document, split_documents};
use confdrift::fingerprint::FingerprintKey;
use confdrift::normalize::expand::{Piece, expand};
use confdrift::policy;

/// A Secret value no error message may ever show.
const CANARY: &str = "FUZZ-CANARY-s3cr3t";

fn secret_document(how: u8) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
    match how % 3 {
        0 => format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  K: {CANARY}\n"
        ),
        1 => format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  K: {b64}\n"),
        _ => format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"s\"}},\
             \"data\":{{\"K\":\"{b64}\"}}}}\n"
        ),
    }
}

/// Manifest parsing as `collect::files` does it: `split_documents`, then
/// `parse_document` per document. The first byte decides whether a Secret
/// holding a canary value goes before or after the fuzzed text; no error
/// may quote that value, plain or base64.
pub fn manifest(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(fuzzed) = std::str::from_utf8(rest) else {
        return;
    };
    // Text the fuzzer wrote itself may of course be quoted back.
    let planted = mode % 4 != 0 && !fuzzed.contains("CANARY") && !fuzzed.contains("Q0FOQVJZ");
    let secret = secret_document(mode / 4);
    let text = match mode % 4 {
        0 => fuzzed.to_string(),
        1 => format!("{secret}{fuzzed}"),
        2 => format!("{fuzzed}\n---\n{secret}"),
        _ => format!("{secret}---\n{fuzzed}"),
    };
    let key = FingerprintKey::new(b"fuzz", true);
    let mut out = Parsed::default();
    let result = split_documents(&text, "f.yaml").and_then(|docs| {
        for (i, doc) in docs.iter().enumerate() {
            parse_document(doc, i, "f.yaml", &key, &mut out)?;
        }
        Ok(())
    });
    if let Err(e) = result
        && planted
    {
        let msg = e.to_string();
        assert!(
            !msg.contains("CANARY"),
            "an error shows a Secret value: {msg}"
        );
        assert!(
            !msg.contains("Q0FOQVJZ"),
            "an error shows a Secret value: {msg}"
        );
    }
}

/// A policy file: read and merged as `policy::load` does (`load_sources` is
/// `load` without the file system), every diagnostic rendered.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Day 20,000 of the Unix epoch.
    let today = policy::date::parse("2024-10-04").expect("a date");
    let loaded = policy::load_sources(&[("p.yaml".to_string(), text.to_string())], today);
    let _ = loaded.render(None);
    let _ = loaded.errors();
}

/// `$(VAR)` expansion. The input is `TEMPLATE\0NAME\0NAME…`: the template
/// and the names defined before it. The kubelet's rules as invariants:
/// only defined names expand, a reference is never expanded again (no
/// recursion), and writing each expanded reference back as `$(NAME)` gives
/// exactly what expanding with nothing defined gives.
pub fn expand_vars(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let template = parts.next().unwrap_or("");
    let names: Vec<&str> = parts.collect();
    let pieces = expand(template, |n| names.contains(&n));
    let mut refs = 0;
    for p in &pieces {
        if let Piece::Var(n) = p {
            assert!(names.contains(n), "expanded the undefined name {n:?}");
            refs += 1;
        }
    }
    assert!(refs <= template.matches("$(").count());
    let none = expand(template, |_| false);
    assert!(none.iter().all(|p| matches!(p, Piece::Text(_))));
    assert_eq!(written_back(&pieces), written_back(&none));
}

fn written_back(pieces: &[Piece<'_>]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Var(n) => {
                s.push_str("$(");
                s.push_str(n);
                s.push(')');
            }
        }
    }
    s
}
