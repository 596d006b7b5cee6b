//! What people see of a run. A value, key or name from input may hold escape
//! sequences, carriage returns or bidi overrides: the text outputs (table,
//! `diff`, Markdown) write them out (`\x1b[2J`, `\r`, `\u{202e}`) so that
//! they can neither take over the terminal nor hide a difference, while JSON
//! keeps every value exact and HTML escapes markup. And report files are
//! readable by the other users a CI pipeline runs as.

use crate::support::*;

/// Values that act on a terminal (`testdata/bad/terminal-escapes.yaml`),
/// compared with their plain twin.
const HOSTILE: &str = "bad/terminal-escapes.yaml";
const PLAIN: &str = "bad/terminal-escapes-baseline.yaml";

fn both(args: &[&str]) -> Run {
    let r = run(confdrift()
        .args(args)
        .arg("--env")
        .arg(format!("staging={}", data(HOSTILE)))
        .arg("--env")
        .arg(format!("prod={}", data(PLAIN))));
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r
}

/// Characters that act on a terminal or reorder what it shows; the
/// fixture holds each of them.
const ACTING: &[char] = &[
    '\u{1b}', '\r', '\u{7}', '\u{8}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{2069}',
];

/// The fixture's characters as every text output shows them: a cleared
/// screen, a hidden link, a line overwritten, an 8-bit CSI, a right-to-left
/// override in a value and in a workload name, a concealed key.
const SHOWN: &[&str] = &[
    "\\x1b[2J\\x1b[H",
    "\\x1b]8;;http://",
    "debug\\rinfo",
    "\\x1b[1A\\x1b[2K",
    "\\u{9b}31m",
    "alice\\u{202e}",
    "worker\\u{202e}rekrow",
    "EXTRA\\x1b[8m",
    "server_name shop.example;\\x1b[1K\\r",
];

fn assert_written_out(what: &str, out: &str) {
    for c in ACTING {
        assert!(!out.contains(*c), "{what}: raw {c:?} in\n{out}");
    }
    for shown in SHOWN {
        assert!(out.contains(shown), "{what}: expected {shown:?} in\n{out}");
    }
}

#[test]
fn table_shows_escape_sequences_and_bidi_overrides_written_out() {
    let r = both(&["audit", "--fail-on", "never"]);
    assert_written_out("table", &r.stdout);
    // The line the carriage return would have overwritten is a line of
    // its own in the diff, not hidden under the next one.
    assert!(
        r.stdout.contains(
            "    +  server_name shop.example;\\x1b[1K\\r\n    +  server_name evil.example;\n"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn diff_shows_escape_sequences_and_bidi_overrides_written_out() {
    let r = both(&["diff", "staging", "prod", "--all"]);
    assert_written_out("diff", &r.stdout);
    // Whole values, aligned by what is shown; a ConfigMap key is shown
    // where it is read (one cause, one finding).
    assert!(
        r.stdout.contains(
            "    staging  \\x1b]8;;http://evil.example/\\x07Help\\x1b]8;;\\x07  (envFrom ConfigMap web-config/DOCS_URL)\n"
        ),
        "{}",
        r.stdout
    );
    // Equal in both: shown the same way.
    assert!(
        r.stdout
            .contains("  = THEME  \\x1b[31mred\\x1b[0m  (ConfigMap web-config/THEME)"),
        "{}",
        r.stdout
    );
}

#[test]
fn markdown_shows_escape_sequences_and_bidi_overrides_written_out() {
    let r = both(&["audit", "--fail-on", "never", "--format", "markdown"]);
    // Markdown escapes a backslash outside code spans; compare what a
    // rendered comment shows.
    let rendered = r.stdout.replace("\\\\", "\\");
    assert_written_out("markdown", &rendered);
    for c in ACTING {
        assert!(!r.stdout.contains(*c), "markdown: raw {c:?}");
    }
}

#[test]
fn json_keeps_every_value_exact() {
    let r = both(&["audit", "--fail-on", "never", "--format", "json"]);
    // serde_json writes control characters as \u001b, never raw.
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let finding = |key: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            // Read by the web container with envFrom: reported there.
            .find(|f| {
                f["key"] == key
                    && f["sources"]["staging"]
                        .as_str()
                        .is_some_and(|s| s.contains("ConfigMap web-config/"))
            })
            .unwrap_or_else(|| panic!("a finding about {key}"))
            .clone()
    };
    for (key, value) in [
        ("BANNER", "\u{1b}[2J\u{1b}[HAll systems nominal"),
        ("LOG_LEVEL", "debug\rinfo "),
        ("REGION", "\u{9b}31meu-west-1"),
        (
            "ADMIN_USERS",
            "alice\u{202e}\u{2066},mallory\u{2069}\u{2066}",
        ),
    ] {
        assert_eq!(finding(key)["values"]["staging"], value, "{key}");
    }
    assert_eq!(finding("EXTRA\u{1b}[8m")["values"]["staging"], "hidden");
}

/// The nightly job (`report`) on the fixture pair, in a fresh history.
fn nightly(format: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let r = run(confdrift()
        .env("CONFDRIFT_NOW", "2026-11-24T02:00:00Z")
        .args([
            "report",
            "--fail-on",
            "never",
            "--format",
            format,
            "--history",
        ])
        .arg(dir.path())
        .arg("--env")
        .arg(format!("staging={}", data(HOSTILE)))
        .arg("--env")
        .arg(format!("prod={}", data(PLAIN))));
    assert_eq!(r.code, 0, "{format}: {}", r.stderr);
    r
}

#[test]
fn html_escapes_markup_from_values() {
    let r = nightly("html");
    assert!(!r.stdout.contains("<img"), "{}", r.stdout);
    assert!(
        r.stdout.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        r.stdout
    );
}

// Report files.

#[cfg(unix)]
#[test]
fn a_new_report_file_is_readable_like_any_file_the_user_creates() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What `File::create` (or the shell's `>`) gives under this umask:
    // 0644 with the usual 022, never the temporary file's 0600.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let expected = mode(&reference);

    let report = dir.path().join("report.md");
    let write = || {
        let output = report.display().to_string();
        both(&[
            "audit",
            "--fail-on",
            "never",
            "--format",
            "markdown",
            "--output",
            &output,
        ]);
    };
    write();
    assert_eq!(mode(&report), expected, "{:o}", mode(&report));

    // A file that exists keeps its permissions when it is replaced.
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o640)).unwrap();
    write();
    assert_eq!(mode(&report), 0o640, "{:o}", mode(&report));
}

#[test]
fn html_writes_out_escape_sequences_and_bidi_overrides() {
    let r = nightly("html");
    // A browser would reorder the text around a bidi override. The line
    // diff splits lines as `str::lines` does, so a CR before LF ends the
    // line (CRLF) rather than being shown.
    for c in ACTING {
        assert!(!r.stdout.contains(*c), "html: raw {c:?} in\n{}", r.stdout);
    }
    for shown in SHOWN.iter().map(|s| s.strip_suffix("\\r").unwrap_or(s)) {
        assert!(
            r.stdout.contains(shown),
            "html: expected {shown:?} in\n{}",
            r.stdout
        );
    }
}

#[test]
fn nightly_markdown_writes_out_escape_sequences_and_bidi_overrides() {
    let r = nightly("markdown");
    for c in ACTING {
        assert!(
            !r.stdout.contains(*c),
            "nightly markdown: raw {c:?} in\n{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("\\u{202e}"), "{}", r.stdout);
}

#[test]
fn an_error_quoting_a_path_writes_out_its_escape_sequences() {
    let r = run(confdrift()
        .args(["audit", "--env"])
        .arg("prod=/nonexistent/\u{1b}[2J\u{1b}[Hprod\u{202e}.yaml"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    for c in ACTING {
        assert!(!r.stderr.contains(*c), "raw {c:?} in\n{}", r.stderr);
    }
    assert!(
        r.stderr.contains("\\x1b[2J\\x1b[Hprod\\u{202e}.yaml"),
        "{}",
        r.stderr
    );
}

#[test]
fn policy_lint_writes_out_escape_sequences_from_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "rules:\n  - id: \"pool\\e[2J\\u202e\"\n    key: DB_POOL_SIZE\n    equa\u{202e}l: true\n",
    )
    .unwrap();
    let r = run(confdrift().args(["policy", "lint"]).arg(&policy));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    for c in ACTING {
        assert!(!all.contains(*c), "raw {c:?} in\n{all}");
    }
    assert!(all.contains("equa\\u{202e}l"), "{all}");
}
