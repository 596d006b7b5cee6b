//! A real S3-compatible server for tests: `s3s-fs` (an S3 server over a
//! directory, by the s3s project) started on 127.0.0.1 with its own data
//! directory, access key and secret key, stopped when dropped.
//!
//! The binary must be on PATH (CI installs it: `cargo install
//! s3s-fs@0.14.1 --locked --features binary`); without it a test fails
//! saying so, never passes in silence.
//!
//! Also: an endpoint that accepts connections and never answers (a slow
//! or hung server), and a port nothing listens on (an endpoint down).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "confdrift-test-access";
/// A canary: no output, log or object may ever contain it.
pub const SECRET_KEY: &str = "CANARYS3SECRET-9d81c7e2b4";
pub const BUCKET: &str = "fleet";
pub const BINARY: &str = "s3s-fs";

pub struct S3Server {
    child: Child,
    pub port: u16,
    pub root: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl S3Server {
    /// Starts s3s-fs with one bucket, [`BUCKET`].
    pub fn start() -> S3Server {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket dir");
        let port = free_port();
        let child = Command::new(BINARY)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{BINARY}` ({e}): the object storage tests need a real S3 \
                     server on PATH. Install it with `cargo install s3s-fs@0.14.1 --locked \
                     --features binary` (CI does, in .ci/run)"
                )
            });
        let server = S3Server { child, port, root };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{BINARY} did not listen on 127.0.0.1:{port} within 20s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The file s3s-fs keeps an object in.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.path().join(bucket).join(key)
    }

    /// Every object stored, as (key below the root, bytes).
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.root.path(), self.root.path(), &mut out);
        out.sort();
        out
    }

    /// The environment of a client of this server: endpoint, keys, region,
    /// plain HTTP.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        client_env(&self.endpoint(), SECRET_KEY)
    }
}

/// The AWS environment of a client of `endpoint`.
pub fn client_env(endpoint: &str, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
    ]
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            out.push((rel, bytes));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An endpoint that accepts connections and never answers, until dropped.
pub struct Silent {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => held.push(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Silent { port, stop }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An endpoint nothing listens on.
pub fn closed_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}
