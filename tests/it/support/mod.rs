//! Shared harness: runs the real binary with a controlled environment
//! (no colour, a fixed fingerprint key, fixed cwd), like a user's shell
//! would, minus the surprises. The one place for helpers more than one test
//! module uses; `apiserver` and `s3` are the outside parts tests start.
//! Nothing here mocks a seam of confdrift's own.

#![allow(dead_code)]

pub mod apiserver;
pub mod s3;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const KEY: &str = "test-fingerprint-key";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(rel: &str) -> String {
    root().join("testdata").join(rel).display().to_string()
}

/// `confdrift` with a clean environment, run from the crate root.
pub fn confdrift() -> Command {
    let mut cmd = Command::cargo_bin("confdrift").expect("binary is built");
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("CONFDRIFT_FINGERPRINT_KEY", KEY)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(root());
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("confdrift runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Replaces the absolute path of the crate root so snapshots are portable.
pub fn portable(s: &str) -> String {
    s.replace(&format!("{}/", root().display()), "")
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("readable")
}

/// The fixed date runs are dated with (`CONFDRIFT_TODAY`), for waivers'
/// expiry.
pub const TODAY: &str = "2026-06-01";

/// `confdrift` with the run's clock fixed to [`TODAY`].
pub fn dated() -> Command {
    let mut c = confdrift();
    c.env("CONFDRIFT_TODAY", TODAY);
    c
}

/// A policy with no rules: the report shows the differences alone.
pub const NO_RULES: &str = "testdata/policies/valid/no-rules.yaml";

/// The default policy plus waivers for every critical finding of the demo:
/// the worst unwaived finding is then a warning.
pub const WAIVE_CRITICALS: &str = "apiVersion: confdrift/v1\nkind: Policy\nwaivers:\n  - rule: connection-pools-equal\n    reason: prod runs on a smaller database\n    owner: team-db\n    expires: 2026-06-30\n  - rule: no-debug-in-prod\n    reason: incident 4711, debugging\n    expires: 2026-06-30\n  - rule: dangling-reference\n    environments: [staging]\n    reason: frontend-config is being recreated\n    expires: 2026-06-30\n";

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// Copies the tree `from` into `to` (created if missing).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The run's stdout as JSON; the panic shows both streams.
pub fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
}
