//! Sources as they sit in a repository: a kustomize directory or a Helm
//! chart is rendered by the tool the team uses (`kustomize build`,
//! `kubectl kustomize`, `helm template`), found on PATH, and its output is
//! read like a rendered file.
//!
//! It never writes a file, never runs anything but those tools, and never
//! guesses: a missing tool or a failed render is an error that names the
//! command to run by hand and how to give its output to confdrift.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::collect::FileSource;
use crate::display::visible;
use crate::error::{Error, Result};
use crate::fsio::mebibytes;
use crate::limits::MAX_FILE_BYTES;

/// The file names that make a directory a kustomization, as kustomize
/// looks for them (`konfig.RecognizedKustomizationFileNames`).
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The file that makes a directory a Helm chart.
pub const CHART_FILE: &str = "Chart.yaml";

/// How much of a failed tool's standard error is quoted.
const MAX_STDERR_SHOWN: usize = 2000;

/// A directory that a tool renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderable {
    Kustomize,
    Helm,
}

/// What a directory is: a kustomization, a Helm chart, or neither. Both at
/// once is an error: which one the team deploys cannot be told.
pub fn kind_of_dir(dir: &Path) -> Result<Option<Renderable>> {
    let kustomize = KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file());
    let helm = dir.join(CHART_FILE).is_file();
    match (kustomize, helm) {
        (true, true) => Err(Error::input(
            dir.display().to_string(),
            "holds both a kustomization and a Helm Chart.yaml, so which one renders the \
             environment cannot be told; render it as you deploy it and give confdrift the \
             output (`… > rendered.yaml`, then --env NAME=rendered.yaml, or `-` for standard \
             input)",
        )),
        (true, false) => Ok(Some(Renderable::Kustomize)),
        (false, true) => Ok(Some(Renderable::Helm)),
        (false, false) => Ok(None),
    }
}

/// A file named on its own that stands for its directory: a
/// `kustomization.yaml` or a `Chart.yaml` is rendered as the directory
/// that holds it.
pub fn directory_of_named_file(path: &Path) -> Option<(PathBuf, Renderable)> {
    let name = path.file_name()?.to_str()?;
    let kind = if KUSTOMIZATION_FILES.contains(&name) {
        Renderable::Kustomize
    } else if name == CHART_FILE {
        Renderable::Helm
    } else {
        return None;
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((dir, kind))
}

/// The output of one render.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    /// The command as a person would type it: `kubectl kustomize overlays/prod`.
    pub command: String,
    /// The tool and its version: `kubectl kustomize (kustomize v5.5.0, kubectl v1.32.4)`.
    pub by: String,
}

/// Renders a kustomization with `kustomize build DIR` when `kustomize` is
/// on PATH, else `kubectl kustomize DIR`.
pub fn kustomize(dir: &Path) -> Result<Rendered> {
    let shown_dir = quote(&dir.display().to_string());
    let (program, args, command, by) = if let Some(p) = find_on_path("kustomize") {
        let version = tool_version(&p, &["version"], kustomize_version);
        (
            p,
            vec!["build".into(), dir.as_os_str().to_owned()],
            format!("kustomize build {shown_dir}"),
            format!("kustomize build (kustomize {version})"),
        )
    } else if let Some(p) = find_on_path("kubectl") {
        let version = tool_version(&p, &["version", "--client"], kubectl_versions);
        (
            p,
            vec!["kustomize".into(), dir.as_os_str().to_owned()],
            format!("kubectl kustomize {shown_dir}"),
            format!("kubectl kustomize ({version})"),
        )
    } else {
        return Err(Error::input(
            dir.display().to_string(),
            format!(
                "is a kustomize directory, and neither `kustomize` nor `kubectl` is on PATH to \
                 render it. Install one of them, or render it by hand and give confdrift the \
                 output: `kubectl kustomize {shown_dir} > rendered.yaml`, then \
                 --env NAME=rendered.yaml (or pipe it: `kubectl kustomize {shown_dir} | \
                 confdrift audit --env NAME=- …`)"
            ),
        ));
    };
    let bytes = run(&program, &args, &command, &dir.display().to_string())?;
    Ok(Rendered { bytes, command, by })
}

/// Renders a Helm chart with `helm template [RELEASE] CHART [--namespace
/// NS] [--values FILE]…`, values files relative to the chart directory.
pub fn helm(chart: &Path, source: &FileSource) -> Result<Rendered> {
    let mut args: Vec<OsString> = vec!["template".into()];
    if let Some(release) = &source.release {
        args.push(release.into());
    }
    args.push(chart.as_os_str().to_owned());
    if let Some(ns) = &source.namespace {
        args.push("--namespace".into());
        args.push(ns.into());
    }
    for values in &source.values {
        let path = chart.join(values);
        if !path.is_file() {
            return Err(Error::input(
                chart.display().to_string(),
                format!(
                    "values file {} not found (values files are relative to the chart \
                     directory, or absolute)",
                    visible(&path.display().to_string())
                ),
            ));
        }
        args.push("--values".into());
        args.push(path.into_os_string());
    }
    let command = std::iter::once("helm".to_string())
        .chain(args.iter().map(|a| quote(&a.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ");
    let Some(program) = find_on_path("helm") else {
        let ns = source
            .namespace
            .as_ref()
            .map(|n| format!("?namespace={n}"))
            .unwrap_or_default();
        return Err(Error::input(
            chart.display().to_string(),
            format!(
                "is a Helm chart, and `helm` is not on PATH to render it. Install helm, or \
                 render it by hand and give confdrift the output: `{command} > rendered.yaml`, \
                 then --env NAME=rendered.yaml{ns} (or pipe it: `{command} | confdrift audit \
                 --env NAME=-{ns} …`)"
            ),
        ));
    };
    let version = tool_version(&program, &["version", "--short"], first_line);
    let by = format!("helm template (helm {version})");
    let bytes = run(&program, &args, &command, &chart.display().to_string())?;
    Ok(Rendered { bytes, command, by })
}

/// Runs a tool with no standard input and reads all it writes, at most
/// [`MAX_FILE_BYTES`] of output (like a file) and the first part of its
/// standard error. No timeout: a render takes as long as it takes, like
/// the deploy it stands for.
fn run(program: &Path, args: &[OsString], command: &str, location: &str) -> Result<Vec<u8>> {
    tracing::info!(command, "rendering");
    let started = std::time::Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::input(location, format!("cannot run `{command}`: {e}")))?;
    let stderr = child.stderr.take();
    // Read standard error on its own thread, so that a tool that fills
    // that pipe never blocks while we wait on its output.
    let stderr_reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = stderr {
            let _ = (&mut pipe).take(16 * 1024).read_to_end(&mut kept);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        }
        kept
    });
    let mut out = Vec::new();
    let read = match child.stdout.take() {
        Some(stdout) => stdout.take(MAX_FILE_BYTES + 1).read_to_end(&mut out),
        None => Ok(0),
    };
    if out.len() as u64 > MAX_FILE_BYTES {
        let _ = child.kill();
    }
    let status = child.wait();
    let stderr = stderr_reader.join().unwrap_or_default();
    // Sizes only: what a tool says may quote a secretGenerator's input.
    tracing::debug!(
        command,
        bytes = out.len(),
        stderr_bytes = stderr.len(),
        elapsed = ?started.elapsed(),
        "rendered"
    );
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::input(
            location,
            format!(
                "`{command}` wrote more than the {} confdrift reads from one source; render \
                 less at a time (one application per source)",
                mebibytes(MAX_FILE_BYTES)
            ),
        ));
    }
    let status = status.map_err(|e| Error::input(location, format!("`{command}`: {e}")))?;
    read.map_err(|e| Error::input(location, format!("reading the output of `{command}`: {e}")))?;
    if !status.success() {
        return Err(Error::input(
            location,
            format!(
                "`{command}` failed ({status}); it said:\n{}",
                quoted_stderr(&stderr)
            ),
        ));
    }
    Ok(out)
}

/// A tool's standard error for an error message: at most
/// [`MAX_STDERR_SHOWN`] characters, indented, every control character
/// written out.
fn quoted_stderr(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return "    (nothing on standard error)".into();
    }
    let mut shown: String = text.chars().take(MAX_STDERR_SHOWN).collect();
    let cut = shown.len() < text.len();
    if cut {
        shown.push_str(" …");
    }
    shown
        .lines()
        .map(|l| format!("    {}", visible(l.trim_end())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The executable named `name` in a directory of PATH, as a shell finds it.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names = [
        name.to_string(),
        format!("{name}{}", std::env::consts::EXE_SUFFIX),
    ];
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// A tool's version as it prints it, once per process and program; `version
/// unknown` when it says nothing we can read. Never fatal: the render is
/// what matters.
fn tool_version(program: &Path, args: &[&str], parse: fn(&str) -> Option<String>) -> String {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<BTreeMap<PathBuf, String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(v) = seen.lock().ok().and_then(|m| m.get(program).cloned()) {
        return v;
    }
    let version = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse(&String::from_utf8_lossy(&o.stdout)))
        .map(|v| visible(&v.chars().take(80).collect::<String>()).into_owned())
        .unwrap_or_else(|| "version unknown".into());
    if let Ok(mut m) = seen.lock() {
        m.insert(program.to_path_buf(), version.clone());
    }
    version
}

fn first_line(out: &str) -> Option<String> {
    out.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// `kustomize version`: `v5.5.0` (v5), `{Version:kustomize/v4.5.7 …}` (v4).
fn kustomize_version(out: &str) -> Option<String> {
    if let Some(i) = out.find("kustomize/v") {
        let rest = &out[i + "kustomize/".len()..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '}')
            .unwrap_or(rest.len());
        return Some(rest[..end].to_string());
    }
    first_line(out)
}

/// `kubectl version --client`: `Client Version: v1.32.4` and `Kustomize
/// Version: v5.5.0` → `kustomize v5.5.0, kubectl v1.32.4`.
fn kubectl_versions(out: &str) -> Option<String> {
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (field("Kustomize Version:"), field("Client Version:")) {
        (Some(k), Some(c)) => Some(format!("kustomize {k}, kubectl {c}")),
        (Some(k), None) => Some(format!("kustomize {k}")),
        (None, Some(c)) => Some(format!("kubectl {c}")),
        (None, None) => None,
    }
}

/// A word for a shell command line: as it is when plain, else in single
/// quotes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", visible(&word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_each_tool_prints_them() {
        assert_eq!(kustomize_version("v5.5.0\n").as_deref(), Some("v5.5.0"));
        assert_eq!(
            kustomize_version("{Version:kustomize/v4.5.7 GitCommit:56d82a8 BuildDate:x}\n")
                .as_deref(),
            Some("v4.5.7")
        );
        assert_eq!(
            kubectl_versions("Client Version: v1.32.4\nKustomize Version: v5.5.0\n").as_deref(),
            Some("kustomize v5.5.0, kubectl v1.32.4")
        );
        assert_eq!(kubectl_versions("nothing\n"), None);
        assert_eq!(
            first_line("\n v3.16.2+g13654a5\n").as_deref(),
            Some("v3.16.2+g13654a5")
        );
    }

    #[test]
    fn commands_shown_for_a_shell_quote_what_needs_it() {
        assert_eq!(quote("overlays/prod"), "overlays/prod");
        assert_eq!(quote("my charts/shop"), "'my charts/shop'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_tools_standard_error_is_bounded_and_written_out() {
        let noisy = format!("Error: bad\x1b[31m\n{}", "x".repeat(5000));
        let shown = quoted_stderr(noisy.as_bytes());
        assert!(shown.starts_with("    Error: bad\\x1b[31m\n"), "{shown}");
        assert!(shown.len() < MAX_STDERR_SHOWN + 100, "{}", shown.len());
        assert!(shown.ends_with(" …"));
    }

    #[test]
    fn a_kustomization_or_chart_file_named_alone_stands_for_its_directory() {
        assert_eq!(
            directory_of_named_file(Path::new("overlays/prod/kustomization.yaml")),
            Some((PathBuf::from("overlays/prod"), Renderable::Kustomize))
        );
        assert_eq!(
            directory_of_named_file(Path::new("Chart.yaml")),
            Some((PathBuf::from("."), Renderable::Helm))
        );
        assert_eq!(directory_of_named_file(Path::new("values.yaml")), None);
    }
}
