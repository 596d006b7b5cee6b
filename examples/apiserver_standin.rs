//! Serves fixture files through the test API server stand-in, one server per
//! environment, and writes a kubeconfig with one context per environment, for
//! measuring the live path by hand or in `benches/`.
//!
//! cargo run --release --example apiserver_standin -- --kubeconfig /tmp/kc \
//!     staging=/tmp/fleet/staging prod=/tmp/fleet/prod
//!
//! Runs until killed. Context names are the environment names.
//! `--latency-ms N` delays every answer by N ms, as a remote API server's
//! round trip and list time would (`benches/live.sh`).

#[path = "../tests/it/support/apiserver.rs"]
mod apiserver;

use std::path::{Path, PathBuf};

fn files_in(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .expect("readable directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut kubeconfig = PathBuf::from("kubeconfig");
    let mut envs = Vec::new();
    let mut latency = None;
    while let Some(a) = args.next() {
        if a == "--kubeconfig" {
            kubeconfig = PathBuf::from(args.next().expect("--kubeconfig PATH"));
        } else if a == "--latency-ms" {
            let ms: u64 = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--latency-ms N");
            latency = Some(std::time::Duration::from_millis(ms)).filter(|d| !d.is_zero());
        } else {
            let (name, path) = a.split_once('=').expect("NAME=PATH");
            envs.push((name.to_string(), PathBuf::from(path)));
        }
    }
    let mut servers = Vec::new();
    for (name, path) in &envs {
        let files = files_in(path);
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let server = apiserver::ApiServer::start(&refs);
        if let Some(delay) = latency {
            // A fault on every path that only delays the answer.
            server.fault(apiserver::Fault {
                delay: Some(delay),
                ..apiserver::Fault::default()
            });
        }
        eprintln!("{name}: {} serving {}", server.url(), path.display());
        servers.push((name.clone(), server));
    }
    let contexts: Vec<(&str, String)> =
        servers.iter().map(|(n, s)| (n.as_str(), s.url())).collect();
    let contexts: Vec<(&str, &str)> = contexts.iter().map(|(n, u)| (*n, u.as_str())).collect();
    let dir = kubeconfig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = apiserver::kubeconfig(dir, &contexts);
    if written != kubeconfig {
        std::fs::rename(&written, &kubeconfig).expect("move kubeconfig");
    }
    eprintln!("kubeconfig: {}", kubeconfig.display());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
