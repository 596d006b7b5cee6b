//! One GET against the API server, as confdrift makes every request: read
//! through `kube::Client::send` (to see `Retry-After` and `Status` bodies),
//! retried when the failure is transient, classified when it is not, and
//! logged without what a body could hide (a Secret, a proxy's page).

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use kube::Client;

use super::KubeTarget;

/// Attempts of one request when the failure is transient.
const MAX_ATTEMPTS: u32 = 4;

/// A failed GET, classified.
#[derive(Debug)]
pub(super) struct GetError {
    pub(super) status: Option<u16>,
    pub(super) message: String,
}

impl GetError {
    pub(super) fn code(&self) -> &'static str {
        match self.status {
            Some(401) => crate::codes::ProblemCode::Unauthorized.as_str(),
            Some(403) => crate::codes::ProblemCode::Forbidden.as_str(),
            Some(404) => crate::codes::ProblemCode::NotFound.as_str(),
            Some(429) => crate::codes::ProblemCode::Throttled.as_str(),
            Some(s) if s >= 500 => crate::codes::ProblemCode::ServerError.as_str(),
            Some(_) => crate::codes::ProblemCode::ApiError.as_str(),
            None => crate::codes::ProblemCode::ClusterUnreachable.as_str(),
        }
    }

    /// What went wrong and what to do, naming the environment's context.
    pub(super) fn describe(&self, target: &KubeTarget, what: &str, ns: Option<&str>) -> String {
        let ctx = target.context_name();
        let place = match ns {
            Some(ns) => format!("in namespace {ns}"),
            None => "cluster-wide".to_string(),
        };
        match self.status {
            Some(401) => format!(
                "context {ctx}: the API server rejected the credentials (expired token?) while listing {what} {place}: {}",
                self.message
            ),
            Some(403) if what == "secrets" => format!(
                "context {ctx}: RBAC forbids `list` on `secrets` {place}; values from Secrets are unresolved, not compared. \
                 Grant it (deploy/rbac.yaml) or accept the gap with --allow-partial: {}",
                self.message
            ),
            Some(403) => format!(
                "context {ctx}: RBAC forbids `list` on `{what}` {place}; grant it (deploy/rbac.yaml): {}",
                self.message
            ),
            Some(s) => format!(
                "context {ctx}: listing {what} {place} failed with HTTP {s}: {}",
                self.message
            ),
            None => format!(
                "context {ctx}: cannot reach the API server while listing {what} {place}: {}",
                self.message
            ),
        }
    }
}

/// GETs a path, retrying what is transient (connection errors, 429 with
/// `Retry-After`, 5xx) with exponential backoff and jitter, a bounded
/// number of times. Authentication and authorization errors are final.
///
/// Each attempt is logged with its path, status, size and duration; of the
/// query only whether it pages (`limit`) and carries a continue token, whose
/// opaque text is the server's.
pub(super) async fn get(client: &Client, path_and_query: &str) -> Result<String, GetError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let limit = param("limit").and_then(|l| l.parse::<u32>().ok());
    let continue_token = param("continue").is_some();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        tracing::trace!(method = %"GET", %path, attempt, "sending");
        match get_once(client, path_and_query).await {
            Ok((status, body)) => {
                tracing::debug!(
                    method = %"GET",
                    %path,
                    limit,
                    continue_token,
                    status,
                    attempt,
                    bytes = body.len(),
                    elapsed = ?started.elapsed(),
                    "API request"
                );
                return Ok(body);
            }
            Err((e, retry_after)) => {
                let transient = matches!(e.status, None | Some(429) | Some(500..=599));
                tracing::debug!(
                    method = %"GET",
                    %path,
                    limit,
                    continue_token,
                    status = e.status,
                    code = %e.code(),
                    // Without a status it is the transport's error (refused,
                    // reset, TLS), never a body.
                    error = e
                        .status
                        .is_none()
                        .then(|| tracing::field::display(&e.message)),
                    attempt,
                    elapsed = ?started.elapsed(),
                    "API request failed"
                );
                if !transient || attempt >= MAX_ATTEMPTS {
                    return Err(e);
                }
                let delay = backoff(attempt, retry_after);
                tracing::info!(
                    %path,
                    status = e.status,
                    attempt,
                    max_attempts = MAX_ATTEMPTS,
                    retry_after_secs = retry_after.map(|d| d.as_secs()),
                    delay = ?delay,
                    "retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Exponential backoff with equal jitter (half the capped delay, plus a
/// random part of up to the other half), or the server's `Retry-After`.
pub(super) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(Duration::from_secs(30));
    }
    let base = Duration::from_millis(200) * 2u32.pow(attempt.saturating_sub(1).min(6));
    let cap = base.min(Duration::from_secs(5));
    let jitter = getrandom::u64().unwrap_or(0) % (cap.as_millis() as u64 + 1);
    Duration::from_millis(cap.as_millis() as u64 / 2 + jitter / 2)
}

pub(super) type Attempt = Result<(u16, String), (GetError, Option<Duration>)>;

pub(super) async fn get_once(client: &Client, path_and_query: &str) -> Attempt {
    let request = http::Request::get(path_and_query)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
        .map_err(|e| {
            (
                GetError {
                    status: Some(400),
                    message: e.to_string(),
                },
                None,
            )
        })?;
    let response = client.send(request).await.map_err(|e| {
        (
            GetError {
                status: None,
                message: e.to_string(),
            },
            None,
        )
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(80).collect::<String>());
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| {
            (
                GetError {
                    status: None,
                    message: format!("the connection broke while reading the answer: {e}"),
                },
                None,
            )
        })?;
    let text = String::from_utf8_lossy(&body).into_owned();
    if (200..300).contains(&status) {
        Ok((status, text))
    } else {
        Err((
            GetError {
                status: Some(status),
                message: status_message(&text, content_type.as_deref()),
            },
            retry_after,
        ))
    }
}

/// The `message` of a Kubernetes `Status` body. Any other body (a proxy's
/// error page, a misbehaving server echoing objects) is described by its
/// size and content type, never quoted: it could hold anything, Secrets
/// included.
pub(super) fn status_message(body: &str, content_type: Option<&str>) -> String {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        kind: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_str::<Status>(body) {
        Ok(s) if s.kind == "Status" && !s.message.is_empty() => s.message,
        _ if body.trim().is_empty() => "an empty answer".to_string(),
        _ => format!(
            "a {}-byte answer that is not a Kubernetes Status ({}); not shown, as it may hold \
             anything; run with -vv to see the request",
            body.len(),
            content_type.map_or_else(
                || "no content type".to_string(),
                |t| format!("content type {t}")
            )
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        for attempt in 1..10 {
            let d = backoff(attempt, None);
            assert!(d <= Duration::from_secs(5), "{attempt}: {d:?}");
        }
        assert!(backoff(1, None) <= Duration::from_millis(200));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn status_bodies_give_their_message() {
        let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden: User \"x\" cannot list resource \"secrets\"","reason":"Forbidden","code":403}"#;
        assert!(status_message(body, Some("application/json")).starts_with("secrets is forbidden"));
    }

    #[test]
    fn other_bodies_are_described_never_quoted() {
        let canary = "canary-s3cr3t-value";
        for body in [
            format!("<html><body>Bad gateway {canary}</body></html>"),
            format!(
                r#"{{"kind":"SecretList","items":[{{"data":{{"k":"{canary}"}}}}],"message":"{canary}"}}"#
            ),
            format!("plain text {canary}"),
        ] {
            let m = status_message(&body, Some("text/html"));
            assert!(!m.contains(canary), "{m}");
            assert!(m.contains(&format!("{}-byte", body.len())), "{m}");
            assert!(m.contains("text/html"), "{m}");
        }
        assert_eq!(status_message("", None), "an empty answer");
    }
}
