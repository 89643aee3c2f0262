//! HTTP for everything evalgate calls: bots, the judge and (later) the customer simulator.
//! One client type picks the lean keep-alive client for plain `http://` URLs and a
//! general one (HTTPS, proxies) otherwise; one error type says why a call failed; error
//! bodies are cut to an excerpt after secrets are scrubbed from them.

mod plain;
mod routed;

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use plain::PlainHttp;
pub use reqwest::Method;
pub use routed::RoutedClient;

/// Bodies past this are refused rather than buffered: a misbehaving server must not
/// exhaust memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Longest error-body excerpt kept in a result.
pub const ERROR_BODY_EXCERPT: usize = 300;

/// Why a call to a bot, the judge or the simulator failed. Messages never contain request
/// headers or keys.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderError {
    Timeout(Duration),
    /// Could not connect, or the connection broke mid-response.
    Transport(String),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// The response arrived but is not what the protocol promises.
    BadResponse(String),
    /// The bot answered, in its own protocol, that it failed this turn.
    Reported(String),
    /// A failure that ends the conversation: what the bot held of it is gone (a local
    /// program that was killed), so a retry would not continue the same conversation.
    Final(Box<ProviderError>),
    /// The request could not be made from the config and the case (a template that does
    /// not render, a URL that does not parse): sending it again cannot help.
    Request(String),
}

impl ProviderError {
    /// Connection problems, timeouts, 429 and 5xx may pass; other 4xx will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Timeout(_) | ProviderError::Transport(_) => true,
            ProviderError::Status { status, .. } => *status == 429 || *status >= 500,
            ProviderError::BadResponse(_)
            | ProviderError::Reported(_)
            | ProviderError::Final(_)
            | ProviderError::Request(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::Timeout(d) => write!(f, "timeout after {:.1}s", d.as_secs_f64()),
            ProviderError::Transport(m) => write!(f, "connection error: {m}"),
            ProviderError::Status { status, body, .. } => {
                write!(f, "HTTP {status}")?;
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            ProviderError::BadResponse(m) => write!(f, "invalid response: {m}"),
            ProviderError::Reported(m) => write!(f, "the bot reported an error: {m}"),
            ProviderError::Final(e) => e.fmt(f),
            ProviderError::Request(m) => write!(f, "cannot make the request: {m}"),
        }
    }
}

/// What came back: status, `Retry-After`, body.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

/// A client for one endpoint that evalgate POSTs JSON to again and again.
pub struct HttpClient {
    transport: Transport,
}

/// How requests reach the endpoint.
enum Transport {
    /// `http://` with no proxy in the environment: the lean client.
    Plain(PlainHttp),
    /// HTTPS, proxies, user info in the URL: a general client.
    General {
        client: reqwest::Client,
        /// Parsed once: every request goes to it.
        url: reqwest::Url,
    },
}

impl HttpClient {
    /// A client for `url`; `headers` go with every request (mark keys sensitive, so no
    /// debug print shows them). `max_connections` idle connections are kept.
    pub fn new(
        url: &str,
        headers: HeaderMap,
        max_connections: usize,
    ) -> Result<HttpClient, String> {
        HttpClient::with_transport(url, headers, max_connections, proxy_configured())
    }

    /// `general`: use the general client even where the lean one would do.
    pub(crate) fn with_transport(
        url: &str,
        headers: HeaderMap,
        max_connections: usize,
        general: bool,
    ) -> Result<HttpClient, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("base_url `{url}`: {e}"))?;
        let plain = if general {
            None
        } else {
            PlainHttp::for_url(&url, headers.clone(), max_connections, MAX_BODY_BYTES)
        };
        let transport = match plain {
            Some(plain) => Transport::Plain(plain),
            None => Transport::General {
                client: general_client(max_connections, headers)?,
                url,
            },
        };
        Ok(HttpClient { transport })
    }

    /// Whether requests go through the general client.
    pub fn is_general(&self) -> bool {
        matches!(self.transport, Transport::General { .. })
    }

    /// POSTs a JSON body and reads the whole reply, whatever its status.
    pub async fn post_json(&self, body: Vec<u8>) -> Result<Reply, ProviderError> {
        match &self.transport {
            Transport::Plain(plain) => plain.post_json(body).await,
            Transport::General { client, url } => {
                general_send(client, Method::POST, url.clone(), Some(body)).await
            }
        }
    }
}

/// Headers that carry `Authorization: Bearer <key>`, or none without a key.
pub fn bearer_headers(key: Option<&str>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert(AUTHORIZATION, bearer(key)?);
    }
    Ok(headers)
}

/// A `Bearer` authorization header for an API key.
pub fn bearer(key: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|_| "the API key contains characters not allowed in an HTTP header".to_string())?;
    value.set_sensitive(true);
    Ok(value)
}

/// Proxy variables a general client would honour for an `http://` URL; with any of them
/// set, requests go through that client so the proxy (and `NO_PROXY`) is respected.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

fn proxy_configured() -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// reqwest is built without a bundled crypto provider so that rustls uses `ring`
/// (no C toolchain beyond gcc, no aws-lc); install it once per process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An error and its causes in one line: what a result and a log show.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

/// An error body cut to [`ERROR_BODY_EXCERPT`] characters. Scrub secrets first: a cut
/// through an echoed key would leave a prefix no scrub recognises.
pub fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(ERROR_BODY_EXCERPT) {
        Some((idx, _)) => format!("{}…", &trimmed[..idx]),
        None => trimmed.to_string(),
    }
}

/// The client for HTTPS and proxies; `headers` go with every request.
fn general_client(max_connections: usize, headers: HeaderMap) -> Result<reqwest::Client, String> {
    install_crypto_provider();
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(max_connections)
        .tcp_nodelay(true)
        // A chat endpoint answers or fails; following a redirect would turn the POST
        // into a GET elsewhere (and costs a URL parse per request).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// One request through the general client, read whole; a JSON body when there is one.
async fn general_send(
    client: &reqwest::Client,
    method: Method,
    url: reqwest::Url,
    body: Option<Vec<u8>>,
) -> Result<Reply, ProviderError> {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.header(CONTENT_TYPE, "application/json").body(body);
    }
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(body_too_large(MAX_BODY_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        retry_after,
        body: bytes.into(),
    })
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    // Without the URL: it is ours, not news, and keeps messages short.
    ProviderError::Transport(error_chain(&e.without_url()))
}

/// A reply's `Retry-After`, whichever client read it.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// A reply body past `max_bytes`, refused rather than buffered.
fn body_too_large(max_bytes: usize) -> ProviderError {
    ProviderError::BadResponse(format!(
        "response body larger than {} MiB",
        max_bytes / (1024 * 1024)
    ))
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs and treated as absent).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(300.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
