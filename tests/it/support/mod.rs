//! Shared harness: runs the real binary with a controlled environment
//! (no colour, a fixed fingerprint key, fixed cwd), like a user's shell
//! would, minus the surprises.

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
