//! The file source: manifests, `kubectl get` dumps and confdrift snapshots,
//! given as files or directories or on standard input, and kustomize
//! directories and Helm charts through [`render`]. A file in a directory
//! that holds no Kubernetes object is listed as ignored, never read as one;
//! a file that claims a `kind` and is broken stops the run with file:line.

use std::path::{Path, PathBuf};

use crate::collect::FileSource;
use crate::collect::manifest::{self, Format, Parsed};
use crate::collect::render::{self, Renderable};
use crate::collect::snapshot::Snapshot;
use crate::error::{Error, Result};
use crate::fingerprint::FingerprintKey;
use crate::fsio::mebibytes;
use crate::limits::MAX_FILE_BYTES;
use crate::model::spec_table::Distinct;
use crate::model::{Collected, Object, Problem, Severity};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads a whole input file of at most [`MAX_FILE_BYTES`]
/// ([`crate::fsio::read_at_most`]).
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    crate::fsio::read_at_most(path, MAX_FILE_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            Error::input(
                path.display().to_string(),
                format!(
                    "{e}, larger than the {} confdrift reads from one file; split it (one \
                     namespace or kind per file) or read the cluster live \
                     (kube:CONTEXT/NAMESPACE)",
                    mebibytes(MAX_FILE_BYTES)
                ),
            )
        } else {
            Error::io(path, e)
        }
    })
}

/// Reads every file below `paths` into one environment's [`Collected`].
pub fn collect_files(paths: &[PathBuf], key: &FingerprintKey) -> Result<Collected> {
    collect_source(&FileSource::new(paths.to_vec()), key)
}

/// `-` as a path: standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How errors and findings name standard input.
const STDIN_SHOWN: &str = "<stdin>";

/// One thing to read: a file, standard input, or a directory a tool renders.
#[derive(Debug)]
enum Input {
    /// `explicit`: named on its own, so expected to hold something; files
    /// found in a directory may hold only Services, or no object at all.
    File {
        path: PathBuf,
        explicit: bool,
    },
    Stdin,
    Render {
        dir: PathBuf,
        what: Renderable,
    },
}

/// Reads one environment's files, directories, renders and standard input
/// into its [`Collected`].
pub fn collect_source(source: &FileSource, key: &FingerprintKey) -> Result<Collected> {
    let mut collected = Collected {
        source: source.describe(),
        fingerprint_key_id: key.id().to_string(),
        ..Collected::default()
    };
    let mut inputs = Vec::new();
    let mut ignored = Vec::new();
    for path in &source.paths {
        if is_stdin(path) {
            inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::input(
                path.display().to_string(),
                format!(
                    "cannot read: {e} (give a manifest file, a directory of them, a kustomize \
                     directory, a Helm chart, or - for standard input)"
                ),
            )
        })?;
        if meta.is_dir() {
            walk(path, &mut inputs, &mut ignored)?;
        } else if let Some((dir, what)) = render::directory_of_named_file(path) {
            inputs.push(Input::Render { dir, what });
        } else {
            inputs.push(Input::File {
                path: path.clone(),
                explicit: true,
            });
        }
    }
    check_helm_options(source, &inputs)?;
    tracing::debug!(
        source = %collected.source,
        inputs = inputs.len(),
        ignored = ignored.len(),
        "files found"
    );
    if inputs.is_empty() {
        return Err(Error::input(
            collected.source.clone(),
            "no manifest files found (expected .yaml, .yml or .json files, a kustomization or \
             a Helm chart)",
        ));
    }
    let mut finished_pods = 0;
    // Shared by every file: a template and its pods may be in two.
    let mut specs = Distinct::default();
    let mut without_objects = Vec::new();
    let mut rendered = Vec::new();
    for input in &inputs {
        match input {
            Input::File { path, explicit } => {
                if !read_file(
                    path,
                    *explicit,
                    key,
                    &mut collected,
                    &mut finished_pods,
                    &mut specs,
                )? {
                    without_objects.push(path.clone());
                }
            }
            Input::Stdin => {
                let bytes = read_stdin()?;
                let parsed = parse_bytes(&bytes, STDIN_SHOWN, key, &mut collected, &mut specs)?;
                absorb(
                    parsed,
                    true,
                    STDIN_SHOWN,
                    &mut collected,
                    &mut finished_pods,
                );
            }
            Input::Render { dir, what } => {
                let out = match what {
                    Renderable::Kustomize => render::kustomize(dir)?,
                    Renderable::Helm => render::helm(dir, source)?,
                };
                let parsed =
                    parse_bytes(&out.bytes, &out.command, key, &mut collected, &mut specs)?;
                absorb(
                    parsed,
                    true,
                    &out.command,
                    &mut collected,
                    &mut finished_pods,
                );
                rendered.push((dir.clone(), *what, out.by));
            }
        }
    }
    report_ignored(&mut collected, ignored, without_objects.clone());
    report_renders(&mut collected, source, &rendered);
    let has_workloads = collected
        .objects
        .iter()
        .any(|o| matches!(o, Object::Pod { .. } | Object::Workload { .. }));
    if !has_workloads {
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::NoWorkloads.into(),
            severity: Severity::Warning,
            incomplete: false,
            location: collected.source.clone(),
            message: "no Pods or workloads found in this environment; is this the right source?"
                .into(),
        });
    }
    collected.files = inputs.len() - without_objects.len();
    if finished_pods > 0 {
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::FinishedPods.into(),
            severity: Severity::Info,
            incomplete: false,
            location: collected.source.clone(),
            message: format!(
                "{finished_pods} finished pod(s) (phase Succeeded or Failed) were left out; \
                 their workloads' templates still count"
            ),
        });
    }
    if let Some(ns) = &source.namespace {
        let elsewhere = default_namespace(&mut collected.objects, ns);
        if !elsewhere.is_empty() {
            collected.problems.push(Problem {
                code: crate::codes::ProblemCode::NamespaceMismatch.into(),
                severity: Severity::Info,
                incomplete: false,
                location: collected.source.clone(),
                message: format!(
                    "object(s) name a namespace other than the source's {ns} ({}); they are \
                     compared where they say, as `helm install -n {ns}` would put them, but \
                     `kubectl apply -n {ns}` refuses them",
                    elsewhere
                        .iter()
                        .map(|(n, count)| format!("{n} ×{count}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    super::finish(&mut collected);
    Ok(collected)
}

/// Gives objects that name no namespace the source's, as `kubectl apply
/// -n NS` does; an object that names its own keeps it (Helm installs it
/// there; kubectl refuses it: "the namespace from the provided object does
/// not match", kubernetes/kubernetes#7656). Every kind confdrift reads
/// (Pods, workloads, ConfigMaps, Secrets) is namespaced. Returns the other
/// namespaces named, with how many objects name each.
fn default_namespace(
    objects: &mut [Object],
    namespace: &str,
) -> std::collections::BTreeMap<String, usize> {
    let mut elsewhere = std::collections::BTreeMap::new();
    for object in objects {
        let meta = object.meta_mut();
        if meta.namespace.is_empty() {
            meta.namespace = crate::model::Name::new(namespace);
        } else if meta.namespace != namespace {
            *elsewhere.entry(meta.namespace.to_string()).or_default() += 1;
        }
    }
    elsewhere
}

/// `values=` and `release=` are for one Helm chart: the source must hold
/// exactly one.
fn check_helm_options(source: &FileSource, inputs: &[Input]) -> Result<()> {
    if source.values.is_empty() && source.release.is_none() {
        return Ok(());
    }
    let charts: Vec<&PathBuf> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Render {
                dir,
                what: Renderable::Helm,
            } => Some(dir),
            _ => None,
        })
        .collect();
    if charts.len() == 1 {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "source {}: values= and release= are for a Helm chart (a directory with Chart.yaml), \
         and this source holds {}",
        crate::display::visible(&source.describe()),
        if charts.is_empty() {
            "none".to_string()
        } else {
            format!(
                "{} ({}); give each chart as its own source",
                charts.len(),
                charts
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )))
}

/// Lists the files of a directory that were not read, with the reason.
fn report_ignored(collected: &mut Collected, other: Vec<PathBuf>, no_object: Vec<PathBuf>) {
    for (mut paths, why) in [
        (
            other,
            "without a .yaml, .yml or .json extension were not read",
        ),
        (
            no_object,
            "hold no Kubernetes object (no document has a `kind`: Helm values, Chart.yaml, \
             kustomization or other configuration) and were not read",
        ),
    ] {
        if paths.is_empty() {
            continue;
        }
        paths.sort();
        let listed: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::IgnoredFiles.into(),
            severity: Severity::Info,
            incomplete: false,
            location: collected.source.clone(),
            message: format!("{} file(s) {why}: {}", paths.len(), listed.join(", ")),
        });
    }
}

/// Names the tool and version that rendered each directory in the
/// environment's source, and warns when a directory source held several
/// kustomizations (a base and its overlays together are not one
/// environment).
fn report_renders(
    collected: &mut Collected,
    source: &FileSource,
    rendered: &[(PathBuf, Renderable, String)],
) {
    for (dir, _, by) in rendered {
        let whole = source.paths.len() == 1
            && (source.paths[0] == *dir
                || render::directory_of_named_file(&source.paths[0]).is_some());
        if whole {
            collected.source.push_str(&format!(", rendered by {by}"));
        } else {
            collected
                .source
                .push_str(&format!(", {} rendered by {by}", dir.display()));
        }
    }
    let kustomizations: Vec<String> = rendered
        .iter()
        .filter(|(_, what, _)| *what == Renderable::Kustomize)
        .map(|(dir, _, _)| dir.display().to_string())
        .collect();
    if kustomizations.len() > 1 {
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::SeveralKustomizations.into(),
            severity: Severity::Warning,
            incomplete: false,
            location: collected.source.clone(),
            message: format!(
                "{} kustomizations were each rendered into this one environment ({}); if they \
                 are a base and its overlays, give the one overlay this environment deploys \
                 as its source",
                kustomizations.len(),
                kustomizations.join(", ")
            ),
        });
    }
}

/// Reads standard input whole, at most [`MAX_FILE_BYTES`].
fn read_stdin() -> Result<Vec<u8>> {
    use std::io::{IsTerminal as _, Read as _};
    if std::io::stdin().is_terminal() {
        // Waiting for someone to type manifests would look like a hang.
        return Err(Error::input(
            STDIN_SHOWN,
            "is a terminal: `-` reads manifests piped in, e.g. `kubectl kustomize \
             overlays/prod | confdrift audit --env prod=- …`",
        ));
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::input(STDIN_SHOWN, format!("cannot read standard input: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::input(
            STDIN_SHOWN,
            format!(
                "is more than the {} confdrift reads from one source; split it (one namespace \
                 or kind per source) or read the cluster live (kube:CONTEXT/NAMESPACE)",
                mebibytes(MAX_FILE_BYTES)
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // `kustomize build broken | confdrift audit --env x=-` without
        // pipefail: the failed render must not pass as an empty environment.
        return Err(Error::input(
            STDIN_SHOWN,
            "is empty: nothing was piped in (did the command before `|` fail?)",
        ));
    }
    Ok(bytes)
}

/// Walks a directory: a kustomization or a Helm chart (the directory given,
/// or one found below it) is rendered as a unit and nothing else in it is
/// read; other directories are walked for manifest files.
fn walk(dir: &Path, inputs: &mut Vec<Input>, ignored: &mut Vec<PathBuf>) -> Result<()> {
    if let Some(what) = render::kind_of_dir(dir)? {
        inputs.push(Input::Render {
            dir: dir.to_path_buf(),
            what,
        });
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, inputs, ignored)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            inputs.push(Input::File {
                path,
                explicit: false,
            });
        } else {
            tracing::trace!(file = %path.display(), "not read: no .yaml, .yml or .json extension");
            ignored.push(path);
        }
    }
    Ok(())
}

/// Reads one file into `collected`. `false`: a file found in a directory
/// that holds no Kubernetes object at all (no document has a `kind`: a Helm
/// values file, a `Chart.yaml`), left for the caller to list as ignored.
fn read_file(
    path: &Path,
    explicit: bool,
    key: &FingerprintKey,
    collected: &mut Collected,
    finished_pods: &mut usize,
    specs: &mut Distinct,
) -> Result<bool> {
    let shown = path.display().to_string();
    let started = std::time::Instant::now();
    if read_snapshot_streaming(path, &shown, key, collected)? {
        tracing::debug!(file = %shown, elapsed = ?started.elapsed(), "snapshot read from a reader");
        return Ok(true);
    }
    let (parsed, how) = match read_json_streaming(path, &shown, key, specs)? {
        Some(parsed) => (
            FileParse {
                parsed,
                had_snapshot: false,
                empty: false,
            },
            "JSON from a reader",
        ),
        None => match parse_text(path, &shown, key, collected, specs) {
            Ok(parsed) => (parsed, "text"),
            Err(e) if !explicit && holds_no_object(path, &shown) => {
                tracing::debug!(file = %shown, error = %e, "not read: no document has a `kind`");
                return Ok(false);
            }
            Err(e) => return Err(e),
        },
    };
    // Names and counts only: never a value.
    tracing::debug!(
        file = %shown,
        how,
        objects = parsed.parsed.objects.len(),
        skipped = parsed.parsed.skipped_kinds.values().sum::<usize>(),
        finished_pods = parsed.parsed.finished_pods,
        snapshot = parsed.had_snapshot,
        elapsed = ?started.elapsed(),
        "file read"
    );
    absorb(parsed, explicit, &shown, collected, finished_pods);
    Ok(true)
}

/// Whether a file that did not parse as manifests holds no document with a
/// `kind` at all, and every document is YAML or JSON: not a Kubernetes
/// object that is broken, but another kind of file.
fn holds_no_object(path: &Path, shown: &str) -> bool {
    let Ok(bytes) = read_limited(path) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match manifest::split_documents(text, shown) {
        Ok(docs) => docs.iter().all(|d| manifest::claims_no_kind(d, shown)),
        Err(_) => false,
    }
}

/// What one file or stream gave.
struct FileParse {
    parsed: Parsed,
    /// It was a confdrift snapshot (already merged).
    had_snapshot: bool,
    /// It held no YAML or JSON document.
    empty: bool,
}

/// Adds what one file or stream gave to `collected`, with a warning when
/// something named on its own holds nothing confdrift reads.
fn absorb(
    file: FileParse,
    explicit: bool,
    shown: &str,
    collected: &mut Collected,
    finished_pods: &mut usize,
) {
    let FileParse {
        parsed,
        had_snapshot,
        empty,
    } = file;
    if explicit && parsed.objects.is_empty() && !had_snapshot && !empty {
        let found = if parsed.skipped_kinds.is_empty() {
            "no objects".to_string()
        } else {
            parsed
                .skipped_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::NoWorkloads.into(),
            severity: Severity::Warning,
            incomplete: false,
            location: shown.to_string(),
            message: format!(
                "holds no Pods, workloads, ConfigMaps or Secrets (found: {found}); \
                 is this the right file?"
            ),
        });
    }
    if empty {
        collected.problems.push(Problem {
            code: crate::codes::ProblemCode::NoWorkloads.into(),
            severity: Severity::Warning,
            incomplete: false,
            location: shown.to_string(),
            message: "is empty (no YAML or JSON documents); is this the right file?".into(),
        });
    }
    *finished_pods += parsed.finished_pods;
    for (k, n) in parsed.skipped_kinds {
        *collected.skipped_kinds.entry(k).or_default() += n;
    }
    if collected.objects.is_empty() {
        // One large file: keep its vector rather than copy it.
        collected.objects = parsed.objects;
    } else {
        collected.objects.extend(parsed.objects);
    }
}

/// Reads a confdrift snapshot file (JSON as `snapshot` writes it, with
/// `apiVersion` first) from a buffered reader and merges it into
/// `collected`, so that a 50,000-pod snapshot's text is never held whole.
/// `false`: not a snapshot, or not readable this way; the text path then
/// reads it and says exactly what is wrong, with the line.
fn read_snapshot_streaming(
    path: &Path,
    shown: &str,
    key: &FingerprintKey,
    collected: &mut Collected,
) -> Result<bool> {
    use std::io::{BufRead as _, Read as _};
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    match file.metadata() {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE_BYTES => {}
        _ => return Ok(false),
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file.take(MAX_FILE_BYTES));
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if !looks_like_snapshot(&head[..head.len().min(512)]) {
        return Ok(false);
    }
    match serde_json::from_reader::<_, Snapshot>(reader) {
        Ok(snapshot) if snapshot.api_version == super::snapshot::API_VERSION => {
            snapshot.merge_into(collected, key, shown);
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Whether a file's first bytes open a JSON object whose first field is a
/// confdrift snapshot's `apiVersion`.
fn looks_like_snapshot(head: &[u8]) -> bool {
    let Some(rest) = String::from_utf8_lossy(head)
        .trim_start()
        .strip_prefix('{')
        .map(|r| r.trim_start().to_string())
    else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("\"apiVersion\"") else {
        return false;
    };
    let rest = rest.trim_start();
    rest.strip_prefix(':').is_some_and(|r| {
        r.trim_start()
            .starts_with(&format!("\"{}\"", super::snapshot::API_VERSION))
    })
}

/// Reads a regular file that starts with `{` (after whitespace) as one JSON
/// document from a buffered reader, without holding its text (see
/// [`manifest::parse_json_reader`]). `None`: read it whole instead.
fn read_json_streaming(
    path: &Path,
    shown: &str,
    key: &FingerprintKey,
    specs: &mut Distinct,
) -> Result<Option<Parsed>> {
    use std::io::{BufRead as _, Read as _};
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    match file.metadata() {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE_BYTES => {}
        _ => return Ok(None),
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file.take(MAX_FILE_BYTES));
    // Skip leading whitespace, counting lines, up to the first `{`.
    let mut line = 1;
    loop {
        let buf = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let blank = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        line += buf[..blank].iter().filter(|b| **b == b'\n').count();
        if blank == 0 {
            if first != b'{' {
                return Ok(None);
            }
            break;
        }
        reader.consume(blank);
    }
    let mut parsed = manifest::parse_json_reader(reader, line, shown, key, specs);
    if let Some(parsed) = &mut parsed {
        // The text is not kept: every object points at the document.
        super::origin::assign(&mut parsed.objects, &shown.into(), None, line);
    }
    Ok(parsed)
}

/// Reads a file whole and parses every document in it: YAML, JSON streams,
/// and every file [`read_json_streaming`] turned down.
fn parse_text(
    path: &Path,
    shown: &str,
    key: &FingerprintKey,
    collected: &mut Collected,
    specs: &mut Distinct,
) -> Result<FileParse> {
    let bytes = read_limited(path)?;
    parse_bytes(&bytes, shown, key, collected, specs)
}

/// Parses every document of a file's or a stream's bytes; a snapshot among
/// them is merged into `collected` at once.
fn parse_bytes(
    bytes: &[u8],
    shown: &str,
    key: &FingerprintKey,
    collected: &mut Collected,
    specs: &mut Distinct,
) -> Result<FileParse> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(Error::input(
            format!("{shown}:1"),
            "is UTF-16 text (it starts with a UTF-16 byte order mark, as PowerShell's `>` \
             writes); confdrift reads UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8`, \
             or write it with `| Out-File -Encoding utf8`",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::input(
            format!(
                "{shown}:{}",
                1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
            ),
            format!(
                "not valid UTF-8 (byte {}); Kubernetes manifests are UTF-8 text",
                e.valid_up_to()
            ),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = manifest::split_documents(text, shown)?;
    let mut parsed = Parsed {
        specs: std::mem::take(specs),
        ..Parsed::default()
    };
    let mut had_snapshot = false;
    let file: std::sync::Arc<str> = shown.into();
    for (i, doc) in docs.iter().enumerate() {
        let before = parsed.objects.len();
        manifest::parse_document(doc, i, shown, key, &mut parsed)?;
        super::origin::assign(
            &mut parsed.objects[before..],
            &file,
            Some(doc.text),
            doc.line,
        );
        tracing::trace!(
            file = %shown,
            document = i + 1,
            line = doc.line,
            format = ?doc.format,
            objects_so_far = parsed.objects.len(),
            "document read"
        );
        if let Some((index, format)) = parsed.snapshot_doc.take() {
            let doc = &docs[index];
            let snapshot = Snapshot::parse(doc.text, format == Format::Json).map_err(|e| {
                // Never quote a value: a file that claims to be a
                // snapshot may hold anything.
                Error::input(format!("{shown}:{}", doc.line), manifest::sanitize(&e))
            })?;
            snapshot.merge_into(collected, key, shown);
            had_snapshot = true;
        }
    }
    *specs = std::mem::take(&mut parsed.specs);
    Ok(FileParse {
        parsed,
        had_snapshot,
        empty: docs.is_empty(),
    })
}
