//! Object storage as a place to read and write: `s3://`, `gs://`, `az://`
//! and `file://` URLs, through Apache Arrow's `object_store`.
//!
//! This is the meeting point of a fleet: every cluster writes its snapshot
//! here and one central job reads them all. Credentials and endpoints come
//! only from each cloud's standard environment (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*`), never from the URL. This module must never put a credential
//! in a URL, a log line or an error, and never leave a partial object in
//! place of a good one: uploads are single PUTs or multipart uploads that
//! only appear when complete, and are aborted on failure.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _};

use crate::error::{Error, Result};
use crate::limits::MAX_OBJECT_BYTES;

/// Per-request timeout of object storage requests: `30s` unless
/// `CONFDRIFT_OBJECT_TIMEOUT` (e.g. `5s`, `2m`) says otherwise. A request
/// is retried twice at most, all within three times this.
pub const TIMEOUT_ENV: &str = "CONFDRIFT_OBJECT_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables whose values are credentials: scrubbed from any
/// error text before it is shown, in case a server echoes one.
const CREDENTIAL_ENVS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
];

/// Whether a SOURCE or output names object storage rather than a path.
pub fn is_url(s: &str) -> bool {
    scheme_of(s).is_some()
}

fn scheme_of(s: &str) -> Option<Scheme> {
    let (scheme, _) = s.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Some(Scheme::S3),
        "gs" => Some(Scheme::Gcs),
        "az" | "abfs" | "abfss" | "azure" => Some(Scheme::Azure),
        "file" => Some(Scheme::File),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    S3,
    Gcs,
    Azure,
    File,
}

/// An object or a prefix (the URL ends with `/`) in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    scheme: Scheme,
    /// `s3://bucket` (or `file://`): what the store is built from.
    root: String,
    /// The key inside the bucket, without a leading `/`; ends with `/` for
    /// a prefix, empty for the bucket's root.
    key: String,
}

impl ObjectUrl {
    /// Parses `s3://bucket/prefix/…` and the like. A URL that carries a
    /// user, a password or a query is refused: credentials belong in the
    /// environment, and a URL is printed in reports.
    pub fn parse(s: &str) -> Result<ObjectUrl> {
        let bad = |why: &str| Error::Usage(format!("{}: {why}", escaped(&redact_url(s))));
        let scheme = scheme_of(s).ok_or_else(|| {
            bad("not an object storage URL (s3://BUCKET/KEY, gs://, az://, file:///PATH)")
        })?;
        let (_, rest) = s.split_once("://").unwrap_or(("", s));
        if rest.contains('?') || rest.contains('#') {
            return Err(bad(
                "a query or fragment is not read; credentials and options come from the \
                 environment (AWS_*, GOOGLE_*, AZURE_*)",
            ));
        }
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(bad(
                "credentials in a URL are refused (they would be printed in reports); set \
                 them in the environment, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        if scheme == Scheme::File {
            if !authority.is_empty() && authority != "localhost" {
                return Err(bad("a file URL is file:///ABSOLUTE/PATH"));
            }
            return Ok(ObjectUrl {
                scheme,
                root: "file://".into(),
                key: key.trim_start_matches('/').to_string(),
            });
        }
        if authority.is_empty() {
            return Err(bad("no bucket: expected SCHEME://BUCKET/KEY"));
        }
        if key.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(bad("`.` and `..` are not object names"));
        }
        let scheme_text = s.split_once("://").map_or("", |(sc, _)| sc);
        Ok(ObjectUrl {
            scheme,
            root: format!("{}://{authority}", scheme_text.to_ascii_lowercase()),
            key: key.to_string(),
        })
    }

    /// A prefix (`…/`, or the bucket itself) rather than one object.
    pub fn is_prefix(&self) -> bool {
        self.key.is_empty() || self.key.ends_with('/')
    }

    /// An object below this prefix.
    pub fn join(&self, name: &str) -> ObjectUrl {
        let mut key = self.key.clone();
        if !key.is_empty() && !key.ends_with('/') {
            key.push('/');
        }
        key.push_str(name.trim_start_matches('/'));
        ObjectUrl {
            key,
            ..self.clone()
        }
    }

    /// The object's name relative to `prefix`, when it is below it.
    pub fn relative_to(&self, prefix: &ObjectUrl) -> Option<String> {
        if self.root != prefix.root {
            return None;
        }
        let base = if prefix.key.is_empty() || prefix.key.ends_with('/') {
            prefix.key.clone()
        } else {
            format!("{}/", prefix.key)
        };
        self.key.strip_prefix(&base).map(str::to_string)
    }

    /// The bucket's root, as a prefix.
    pub fn bucket(&self) -> ObjectUrl {
        ObjectUrl {
            key: String::new(),
            ..self.clone()
        }
    }

    /// The last part of the key (`2026….json.gz`).
    pub fn name(&self) -> &str {
        self.key
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(self.key.trim_end_matches('/'))
    }
}

impl std::fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scheme == Scheme::File {
            write!(f, "file:///{}", self.key)
        } else {
            write!(f, "{}/{}", self.root, self.key)
        }
    }
}

/// `s3://user:pass@b/k` → `s3://<redacted>@b/k`: for the error that refuses it.
fn redact_url(s: &str) -> String {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let authority = match authority.rsplit_once('@') {
                Some((_, host)) => format!("<redacted>@{host}"),
                None => authority.to_string(),
            };
            let path = path.split(['?', '#']).next().unwrap_or("");
            format!("{scheme}://{authority}/{path}")
        }
        None => s.to_string(),
    }
}

/// What went wrong with object storage, in the words a user acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The bucket (or container) does not exist.
    NoBucket,
    /// 401/403: credentials missing, wrong, or not allowed this object.
    AccessDenied(String),
    /// No object at that key.
    NotFound,
    /// Nothing answers at the endpoint (connection refused, DNS).
    EndpointDown(String),
    /// The endpoint did not answer within the timeout.
    Timeout,
    /// A conditional write lost: the object exists, or changed since read.
    Conflict,
    /// The object is larger than confdrift reads.
    TooLarge(u64),
    /// Anything else, its text scrubbed of credentials.
    Other(String),
}

impl Fault {
    /// The problem code of a source that failed this way.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::NoBucket => crate::codes::ProblemCode::ObjectNoBucket.as_str(),
            Fault::AccessDenied(_) => crate::codes::ProblemCode::ObjectAccessDenied.as_str(),
            Fault::NotFound => crate::codes::ProblemCode::ObjectNotFound.as_str(),
            Fault::EndpointDown(_) => crate::codes::ProblemCode::ObjectEndpointDown.as_str(),
            Fault::Timeout => crate::codes::ProblemCode::ObjectTimeout.as_str(),
            Fault::Conflict => crate::codes::ProblemCode::ObjectConflict.as_str(),
            Fault::TooLarge(_) => crate::codes::ProblemCode::ObjectTooLarge.as_str(),
            Fault::Other(_) => crate::codes::ProblemCode::ObjectStoreError.as_str(),
        }
    }

    /// One sentence: what happened at `url` and what to do.
    pub fn describe(&self, url: &ObjectUrl) -> String {
        let bucket = &url.root;
        match self {
            Fault::NoBucket => format!(
                "bucket {bucket} does not exist (or the endpoint serves no such bucket); check \
                 the URL and AWS_ENDPOINT_URL / AWS_REGION"
            ),
            Fault::AccessDenied(detail) => format!(
                "access denied to {url}: the credentials from the environment are missing, \
                 wrong, or not allowed this object (needs get, put and list on the prefix){}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                }
            ),
            Fault::NotFound => format!("no object {url}"),
            Fault::EndpointDown(detail) => format!(
                "the object storage endpoint for {bucket} cannot be reached ({detail}); is \
                 AWS_ENDPOINT_URL (or the cloud's endpoint) right and up?"
            ),
            Fault::Timeout => format!(
                "the object storage endpoint for {bucket} did not answer within {}s (retried); \
                 raise {TIMEOUT_ENV} if it is just slow",
                timeout().as_secs()
            ),
            Fault::Conflict => format!("{url} was changed by another writer at the same time"),
            Fault::TooLarge(size) => format!(
                "{url} is {}, larger than the {} confdrift reads from one object",
                crate::fsio::mebibytes(*size),
                crate::fsio::mebibytes(MAX_OBJECT_BYTES)
            ),
            Fault::Other(detail) => format!("{url}: {detail}"),
        }
    }
}

/// The request timeout ([`TIMEOUT_ENV`]).
pub fn timeout() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|s| crate::clock::parse_duration(&s))
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Sorts an `object_store` error into a [`Fault`]. The error's own text is
/// used only to tell kinds apart and, scrubbed, for the otherwise unknown.
pub fn classify(e: &object_store::Error) -> Fault {
    use object_store::Error as E;
    let chain = error_chain(e);
    let has = |needle: &str| chain.contains(needle);
    // reqwest says what kind of transport failure it was.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<reqwest::Error>() {
            if r.is_timeout() {
                return Fault::Timeout;
            }
            if r.is_connect() {
                return Fault::EndpointDown(connect_detail(&chain));
            }
        }
        source = err.source();
    }
    match e {
        _ if has("NoSuchBucket")
            || has("ContainerNotFound")
            || has("The specified bucket does not exist") =>
        {
            Fault::NoBucket
        }
        E::NotFound { .. } => Fault::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            Fault::AccessDenied(s3_code(&chain).unwrap_or_default())
        }
        E::AlreadyExists { .. } | E::Precondition { .. } => Fault::Conflict,
        _ if has("AccessDenied") || has("InvalidAccessKeyId") || has("SignatureDoesNotMatch") => {
            Fault::AccessDenied(s3_code(&chain).unwrap_or_default())
        }
        _ if has("timed out") || has("deadline has elapsed") => Fault::Timeout,
        _ if has("Connection refused") || has("dns error") || has("error trying to connect") => {
            Fault::EndpointDown(connect_detail(&chain))
        }
        _ => Fault::Other(short(&scrub(&chain.replace('\n', ": ")))),
    }
}

/// Every message of an error and its sources, one per line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        out.push('\n');
        out.push_str(&err.to_string());
        source = err.source();
    }
    out
}

fn connect_detail(chain: &str) -> String {
    if chain.contains("Connection refused") {
        "connection refused".into()
    } else if chain.contains("dns error") {
        "the host name does not resolve".into()
    } else {
        "cannot connect".into()
    }
}

/// The S3 error code (`<Code>AccessDenied</Code>`) in a response body.
fn s3_code(chain: &str) -> Option<String> {
    let start = chain.find("<Code>")? + "<Code>".len();
    let len = chain[start..].find("</Code>")?;
    let code = &chain[start..start + len];
    code.chars()
        .all(|c| c.is_ascii_alphanumeric())
        .then(|| code.to_string())
}

/// Replaces the value of every credential variable set in the environment.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    for name in CREDENTIAL_ENVS {
        if let Ok(value) = std::env::var(name)
            && value.len() >= 4
        {
            out = out.replace(&value, "<redacted>");
        }
    }
    out
}

fn short(text: &str) -> String {
    escaped(&crate::display::first_line(text, 600, false))
}

/// Control characters and bidi overrides written out (`\u{202e}`), as
/// Rust's debug form does: server text is not obeyed by a terminal.
pub(crate) fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\'' | '\\' => c.to_string(),
            c => c.escape_debug().to_string(),
        })
        .collect()
}

/// A store for the bucket of `url`, configured from the environment, with
/// timeouts so that a slow endpoint cannot hang the run.
pub fn open(url: &ObjectUrl) -> std::result::Result<Arc<dyn ObjectStore>, Fault> {
    use object_store::{BackoffConfig, ClientConfigKey as C, RetryConfig};
    let timeout = timeout();
    // On top of what the environment set (AWS_ALLOW_HTTP and the like),
    // never instead of it.
    let timeouts = [
        (C::Timeout, format!("{}s", timeout.as_secs())),
        (
            C::ConnectTimeout,
            format!("{}s", timeout.min(Duration::from_secs(5)).as_secs()),
        ),
    ];
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: timeout * 3,
    };
    install_crypto_provider();
    let built: object_store::Result<Arc<dyn ObjectStore>> = match url.scheme {
        Scheme::S3 => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey as K};
            let mut b = AmazonS3Builder::from_env().with_url(&url.root);
            for (k, v) in &timeouts {
                b = b.with_config(K::Client(*k), v);
            }
            b.with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Scheme::Gcs => {
            use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey as K};
            let mut b = GoogleCloudStorageBuilder::from_env().with_url(&url.root);
            for (k, v) in &timeouts {
                b = b.with_config(K::Client(*k), v);
            }
            b.with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Scheme::Azure => {
            use object_store::azure::{AzureConfigKey as K, MicrosoftAzureBuilder};
            let mut b = MicrosoftAzureBuilder::from_env().with_url(&url.root);
            for (k, v) in &timeouts {
                b = b.with_config(K::Client(*k), v);
            }
            b.with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Scheme::File => Ok(Arc::new(object_store::local::LocalFileSystem::new())),
    };
    built.map_err(|e| {
        Fault::Other(format!(
            "cannot configure the client from the environment: {}",
            short(&scrub(&e.to_string()))
        ))
    })
}

/// rustls needs one process-wide crypto provider; kube's is ring too.
fn install_crypto_provider() {
    // Err: one is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads a small object (a pointer) whole, at most 64 KiB.
pub async fn get_small(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
) -> std::result::Result<Bytes, Fault> {
    get_versioned(store, url, 64 * 1024).await.map(|(b, _)| b)
}

/// Reads an object of at most `max` bytes whole, with the version a
/// conditional update of it must name (its e-tag).
pub async fn get_versioned(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    max: u64,
) -> std::result::Result<(Bytes, object_store::UpdateVersion), Fault> {
    let got = store.get(&url.path()).await.map_err(|e| classify(&e))?;
    if got.meta.size > max {
        return Err(Fault::TooLarge(got.meta.size));
    }
    let version = object_store::UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got.bytes().await.map_err(|e| classify(&e))?;
    Ok((bytes, version))
}

/// Writes a small object with one PUT under a condition: `Create` fails
/// with [`Fault::Conflict`] if it exists (`If-None-Match: *`), `Update`
/// if it changed since it was read (`If-Match: <e-tag>`).
pub async fn put_if(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    bytes: Vec<u8>,
    mode: object_store::PutMode,
) -> std::result::Result<(), Fault> {
    let len = bytes.len();
    let conditional = format!("{mode:?}");
    store
        .put_opts(&url.path(), bytes.into(), mode.into())
        .await
        .map_err(|e| classify(&e))?;
    tracing::debug!(object = %url, bytes = len, mode = %conditional.split('(').next().unwrap_or(""), "object written");
    Ok(())
}

/// The objects directly below a prefix, by name.
pub async fn list(
    store: &dyn ObjectStore,
    prefix: &ObjectUrl,
) -> std::result::Result<Vec<ObjectUrl>, Fault> {
    let listed = store
        .list_with_delimiter(Some(&prefix.path()))
        .await
        .map_err(|e| classify(&e))?;
    let mut out: Vec<ObjectUrl> = listed
        .objects
        .iter()
        .map(|m| ObjectUrl {
            key: m.location.to_string(),
            ..prefix.clone()
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Opens an object for reading as a stream: the returned reader (for a
/// blocking thread) gets the body chunk by chunk as it arrives, a few
/// chunks ahead at most, so the object is never whole in memory nor on
/// disk (a CronJob's root filesystem is read-only). An object larger than
/// [`MAX_OBJECT_BYTES`] is refused; a transfer that fails midway ends the
/// reader with an error and [`ObjectReader::fault`] says why.
pub async fn get_reader(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
) -> std::result::Result<ObjectReader, Fault> {
    use futures_util::StreamExt as _;
    let got = store.get(&url.path()).await.map_err(|e| classify(&e))?;
    let size = got.meta.size;
    if size > MAX_OBJECT_BYTES {
        return Err(Fault::TooLarge(size));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stream = got.into_stream();
    let shown = url.to_string();
    tokio::spawn(async move {
        let mut read = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(&e));
            if let Ok(c) = &chunk {
                read += c.len() as u64;
            }
            let stop = chunk.is_err();
            let chunk = if read > MAX_OBJECT_BYTES {
                Err(Fault::TooLarge(read))
            } else {
                chunk
            };
            if tx.send(chunk).await.is_err() || stop || read > MAX_OBJECT_BYTES {
                break;
            }
        }
        tracing::debug!(object = %shown, bytes = read, "object read");
    });
    Ok(ObjectReader {
        rx,
        current: Bytes::new(),
        fault: None,
        size,
    })
}

/// The reading end of [`get_reader`].
pub struct ObjectReader {
    rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, Fault>>,
    current: Bytes,
    fault: Option<Fault>,
    /// The object's size, as the store reported it.
    pub size: u64,
}

impl ObjectReader {
    /// Why reading stopped early, if it did.
    pub fn fault(&self) -> Option<&Fault> {
        self.fault.as_ref()
    }
}

impl std::io::Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(fault)) => {
                    self.fault = Some(fault);
                    return Err(std::io::Error::other("the object could not be read"));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Writes a small object whole with one PUT (atomic by itself).
pub async fn put_small(
    store: &dyn ObjectStore,
    url: &ObjectUrl,
    bytes: Vec<u8>,
) -> std::result::Result<(), Fault> {
    let len = bytes.len();
    store
        .put(&url.path(), bytes.into())
        .await
        .map_err(|e| classify(&e))?;
    tracing::debug!(object = %url, bytes = len, "object written");
    Ok(())
}

/// Bytes handed from the producing thread to the upload at a time.
const CHUNK: usize = 1 << 20;

/// Uploads what `produce` writes, streaming: `produce` runs on a blocking
/// thread and writes into a pipe whose chunks are uploaded as they come
/// (one PUT when it all fits 10 MiB, else a multipart upload), so the whole
/// object is never held in memory. The object appears only when complete;
/// if `produce` or the upload fails, the upload is aborted and whatever
/// was at `url` stays as it was.
pub async fn put_stream<F>(
    store: Arc<dyn ObjectStore>,
    url: &ObjectUrl,
    produce: F,
) -> std::result::Result<u64, Fault>
where
    F: FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send + 'static,
{
    use tokio::io::AsyncWriteExt as _;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let mut pipe = Pipe {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        produce(&mut pipe)?;
        pipe.send()
    });
    let mut writer = object_store::buffered::BufWriter::new(store, url.path());
    let mut written = 0u64;
    let mut failed = None;
    while let Some(chunk) = rx.recv().await {
        written += chunk.len() as u64;
        if let Err(e) = writer.put(chunk).await {
            failed = Some(classify(&e));
            break;
        }
    }
    // Dropping the receiver makes a producer still writing stop with an error.
    drop(rx);
    let produced = producer
        .await
        .map_err(|e| Fault::Other(format!("the snapshot writer stopped: {e}")));
    let failed = match (failed, produced) {
        (Some(f), _) => Some(f),
        (None, Err(f)) => Some(f),
        (None, Ok(Err(e))) => Some(Fault::Other(format!("writing failed: {e}"))),
        (None, Ok(Ok(()))) => None,
    };
    if let Some(fault) = failed {
        if let Err(e) = writer.abort().await {
            tracing::debug!(object = %url, error = %scrub(&e.to_string()), "abort failed");
        }
        return Err(fault);
    }
    writer.shutdown().await.map_err(|e| {
        // BufWriter wraps the store's error in an io::Error.
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<object_store::Error>())
        {
            Some(inner) => classify(inner),
            None => Fault::Other(short(&scrub(&e.to_string()))),
        }
    })?;
    tracing::debug!(object = %url, bytes = written, "object uploaded");
    Ok(written)
}

/// The writing end of [`put_stream`]: collects [`CHUNK`] bytes, then hands
/// them to the upload (waiting while it is behind).
struct Pipe {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl Pipe {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Bytes::from(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

impl std::io::Write for Pipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_a_key_or_prefix() {
        let u = ObjectUrl::parse("s3://b/confdrift/prod/").unwrap();
        assert!(u.is_prefix());
        assert_eq!(u.to_string(), "s3://b/confdrift/prod/");
        let o = u.join("latest");
        assert_eq!(o.to_string(), "s3://b/confdrift/prod/latest");
        assert!(!o.is_prefix());
        assert_eq!(o.relative_to(&u).as_deref(), Some("latest"));
        assert_eq!(o.name(), "latest");
        assert!(ObjectUrl::parse("s3://b").unwrap().is_prefix());
        let f = ObjectUrl::parse("file:///tmp/x/snap.json.gz").unwrap();
        assert_eq!(f.to_string(), "file:///tmp/x/snap.json.gz");
        assert!(is_url("gs://b/k") && is_url("az://c/k") && !is_url("dir/file.yaml"));
    }

    /// 25 MiB through the pipe: more than one multipart part; then a
    /// producer that fails halfway leaves the object as it was.
    #[test]
    fn a_streamed_upload_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let url = ObjectUrl::parse(&format!("file://{}/snap.json", dir.path().display())).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let block = vec![b'x'; 1 << 20];
        let written = runtime
            .block_on(put_stream(open(&url).unwrap(), &url, {
                let block = block.clone();
                move |out| {
                    for _ in 0..25 {
                        out.write_all(&block)?;
                    }
                    Ok(())
                }
            }))
            .unwrap();
        assert_eq!(written, 25 << 20);
        let path = dir.path().join("snap.json");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 25 << 20);
        let failed = runtime.block_on(put_stream(open(&url).unwrap(), &url, move |out| {
            for _ in 0..12 {
                out.write_all(&block)?;
            }
            Err(std::io::Error::other("the collection failed"))
        }));
        assert!(matches!(failed, Err(Fault::Other(_))), "{failed:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 25 << 20);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no partial upload left beside it");
    }

    #[test]
    fn credentials_in_a_url_are_refused_and_not_repeated() {
        for url in [
            "s3://AKIAEXAMPLE:canarysecret@b/k",
            "s3://b/k?secret=canarysecret",
        ] {
            let e = ObjectUrl::parse(url).unwrap_err().to_string();
            assert!(!e.contains("canarysecret"), "{e}");
            assert!(e.contains("environment"), "{e}");
        }
        assert!(ObjectUrl::parse("s3:///k").is_err());
        // Server text is written out, not obeyed by a terminal.
        assert_eq!(escaped("a'\u{1b}[2J\u{202e}"), "a'\\u{1b}[2J\\u{202e}");
        assert!(ObjectUrl::parse("s3://b/../k").is_err());
    }
}
