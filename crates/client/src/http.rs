//! Talking to the Warroom HTTP API: URLs, the bearer token, and turning every
//! failure (server error bodies, unreachable servers) into one readable line.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::wire::ErrorBody;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of a non-JSON error body is worth showing.
const BODY_EXCERPT_CHARS: usize = 200;

const HINT_401: &str = "set --token or WARROOM_TOKEN (the server prints an admin token on first \
                        start; `warroom token create` makes more)";
const HINT_403: &str = "your token's role may not do this";

/// A client for one server, authenticated with one token.
pub(super) struct Api {
    client: reqwest::Client,
    base: Url,
    auth: HeaderValue,
}

impl Api {
    pub fn new(server: &Url, token: Option<&str>) -> anyhow::Result<Api> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| anyhow!("no API token; {HINT_401}"))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow!("the API token contains characters not allowed in a header"))?;
        auth.set_sensitive(true);
        let client = reqwest::Client::builder()
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Api {
            client,
            base: server.clone(),
            auth,
        })
    }

    /// `{server}/api/v1/{segments...}`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> anyhow::Result<Url> {
        endpoint(&self.base, segments)
    }

    /// Sends a request and returns the body of a successful answer (perhaps
    /// empty), or an error line built from the server's error body.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> anyhow::Result<String> {
        let mut request = self
            .client
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.transport(&e))?;
        if !status.is_success() {
            bail!(error_line(status, &text));
        }
        Ok(text)
    }

    pub async fn get(&self, url: Url) -> anyhow::Result<String> {
        self.send::<()>(Method::GET, url, None).await
    }

    /// A connection-level failure as one line with a hint.
    fn transport(&self, err: &reqwest::Error) -> anyhow::Error {
        let server = self.base.as_str().trim_end_matches('/');
        let cause = root_cause(err);
        if err.is_connect() {
            anyhow!(
                "cannot reach Warroom at {server} ({cause}): is `warroom serve` running? \
                 Set --server or WARROOM_SERVER."
            )
        } else if err.is_timeout() {
            anyhow!(
                "Warroom at {server} did not answer within {}s",
                REQUEST_TIMEOUT.as_secs()
            )
        } else {
            anyhow!("request to {server} failed: {cause}")
        }
    }
}

/// Decodes a response body into `T`, naming what was expected if it does not fit.
pub(super) fn decode<T: DeserializeOwned>(body: &str, what: &str) -> anyhow::Result<T> {
    serde_json::from_str(body).with_context(|| {
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
            format!("unexpected {what} from the server (is it a different version?)")
        } else {
            format!(
                "the server sent something that is not JSON: {}",
                excerpt(body)
            )
        }
    })
}

/// `{base}/api/v1/{segments...}`. Segments are user input (incident ids, role
/// names, phases) and go in percent-encoded, so `/`, `?` or `#` in them can
/// never change which endpoint is called.
pub(super) fn endpoint(base: &Url, segments: &[&str]) -> anyhow::Result<Url> {
    if let Some(bad) = segments.iter().find(|s| invalid_segment(s)) {
        bail!("`{bad}` cannot be used as an incident id, role or phase");
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| anyhow!("{base} cannot be used as a server URL"))?
        .pop_if_empty()
        .extend(["api", "v1"])
        .extend(segments);
    Ok(url)
}

/// `url` silently drops `.` and `..` segments, and an empty one would hit
/// a different route, so those are refused rather than sent.
pub(super) fn invalid_segment(segment: &str) -> bool {
    matches!(segment, "" | "." | "..")
}

/// The one line a failed request becomes, e.g.
/// `HTTP 422: severity: unknown severity `SEV-9`; the playbook has: SEV-0, ...`.
pub(super) fn error_line(status: StatusCode, body: &str) -> String {
    let detail = match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => {
            let message = one_line(&error.message);
            match error.field {
                Some(field) if !field.is_empty() && !message.starts_with(field.as_str()) => {
                    format!("{message} (field {field})")
                }
                _ => message,
            }
        }
        Err(_) if body.trim().is_empty() => {
            status.canonical_reason().unwrap_or("no details").to_owned()
        }
        Err(_) => excerpt(body),
    };
    let code = status.as_u16();
    match status {
        StatusCode::UNAUTHORIZED => format!("HTTP {code}: {detail}; {HINT_401}"),
        StatusCode::FORBIDDEN => format!("HTTP {code}: {detail}; {HINT_403}"),
        _ => format!("HTTP {code}: {detail}"),
    }
}

/// The first [`BODY_EXCERPT_CHARS`] characters of `text`, on one line.
fn excerpt(text: &str) -> String {
    let line = one_line(text);
    match line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// Collapses whitespace (newlines included) to single spaces and drops
/// control characters, so server text cannot break the line or the terminal.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The innermost error, e.g. `Connection refused (os error 111)`.
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    one_line(&cause.to_string())
}

#[cfg(test)]
mod tests;
