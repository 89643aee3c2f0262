//! A client for bots whose request URL changes from request to request (a conversation id
//! in the path, a `start` request elsewhere): the method and URL come with each request.
//! Plain `http://` goes through one lean keep-alive client per `host:port`, so the
//! connections of every conversation with one bot are shared; anything else through the
//! general client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::plain::PlainHttp;
use super::{MAX_BODY_BYTES, ProviderError, Reply, general_client, general_send};

/// Hosts past this many are not kept: a bot is one or two hosts, and a template that puts
/// a fresh host in every URL must not grow the map without end.
const MAX_HOSTS: usize = 64;

pub struct RoutedClient {
    /// Sent with every request (secret values marked sensitive).
    headers: HeaderMap,
    max_connections: usize,
    /// Every request through the general client (a proxy is configured).
    general_only: bool,
    general: reqwest::Client,
    plain: Mutex<HashMap<String, Arc<PlainHttp>>>,
    /// The last plain URL, its host's client and its request target: most bots take
    /// every turn at one URL, and parsing it again costs more than comparing it.
    last: Mutex<Option<(String, Arc<PlainHttp>, String)>>,
}

impl RoutedClient {
    /// `headers` go with every request; `max_connections` idle connections are kept per host.
    pub fn new(headers: HeaderMap, max_connections: usize) -> Result<RoutedClient, String> {
        RoutedClient::with_transport(headers, max_connections, super::proxy_configured())
    }

    /// `general`: use the general client even where the lean one would do.
    pub(crate) fn with_transport(
        headers: HeaderMap,
        max_connections: usize,
        general: bool,
    ) -> Result<RoutedClient, String> {
        Ok(RoutedClient {
            general: general_client(max_connections, headers.clone())?,
            headers,
            max_connections,
            general_only: general,
            plain: Mutex::new(HashMap::new()),
            last: Mutex::new(None),
        })
    }

    /// Sends one request and reads the whole reply, whatever its status. A URL that does
    /// not parse is a [`ProviderError::Request`].
    pub async fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, ProviderError> {
        let cached = self.last.lock().ok().and_then(|last| {
            last.as_ref()
                .filter(|(last_url, _, _)| last_url == url)
                .map(|(_, plain, target)| (Arc::clone(plain), target.clone()))
        });
        if let Some((plain, target)) = cached {
            return plain.send(method, &target, body).await;
        }
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ProviderError::Request(format!("the URL `{url}` is not valid: {e}")))?;
        match self.plain_for(&parsed) {
            Some(plain) => {
                let target = match parsed.query() {
                    Some(q) => format!("{}?{q}", parsed.path()),
                    None => parsed.path().to_string(),
                };
                if let Ok(mut last) = self.last.lock() {
                    *last = Some((url.to_string(), Arc::clone(&plain), target.clone()));
                }
                plain.send(method, &target, body).await
            }
            None => general_send(&self.general, method.clone(), parsed, body).await,
        }
    }

    /// The lean client for this URL's host, made on first use; `None` where the general
    /// client must go.
    fn plain_for(&self, url: &reqwest::Url) -> Option<Arc<PlainHttp>> {
        if self.general_only || url.scheme() != "http" {
            return None;
        }
        let key = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
        let mut hosts = self.plain.lock().ok()?;
        if let Some(found) = hosts.get(&key) {
            return Some(Arc::clone(found));
        }
        let made = Arc::new(PlainHttp::for_url(
            url,
            self.headers.clone(),
            self.max_connections,
            MAX_BODY_BYTES,
        )?);
        if hosts.len() >= MAX_HOSTS {
            hosts.clear();
        }
        hosts.insert(key, Arc::clone(&made));
        Some(made)
    }

    /// How many hosts have a lean client (for tests).
    #[cfg(test)]
    fn plain_hosts(&self) -> usize {
        self.plain.lock().map(|h| h.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A server that answers every request with its method and path, keeping connections
    /// open, and counts connections.
    async fn echo_server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + 4 + len {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..end + 4 + len);
                        let first = head.lines().next().unwrap_or("").to_string();
                        let typed = head
                            .to_lowercase()
                            .contains("content-type: application/json");
                        let body = format!("{first} json={typed} len={len}");
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (base, connections)
    }

    /// Conversations with ids in their URL share the host's connections; the method, the
    /// path and whether a body goes along follow each request.
    #[tokio::test]
    async fn urls_per_request_share_one_connection_per_host() {
        let (base, connections) = echo_server().await;
        let client = RoutedClient::new(HeaderMap::new(), 4).unwrap();
        for id in ["a", "b", "c"] {
            let url = format!("{base}/v1/conversations/{id}/messages?x=1");
            let reply = client
                .send(&Method::POST, &url, Some(b"{}".to_vec()))
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&reply.body).to_string();
            assert_eq!(
                text,
                format!("POST /v1/conversations/{id}/messages?x=1 HTTP/1.1 json=true len=2")
            );
        }
        let reply = client
            .send(&Method::GET, &format!("{base}/v1/state"), None)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            "GET /v1/state HTTP/1.1 json=false len=0"
        );
        assert_eq!(connections.load(Ordering::SeqCst), 1);
        assert_eq!(client.plain_hosts(), 1);
    }

    #[tokio::test]
    async fn the_general_client_takes_the_same_requests() {
        let (base, _) = echo_server().await;
        let client = RoutedClient::with_transport(HeaderMap::new(), 4, true).unwrap();
        let reply = client
            .send(&Method::PUT, &format!("{base}/v1/x"), Some(b"{}".to_vec()))
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            "PUT /v1/x HTTP/1.1 json=true len=2"
        );
        assert_eq!(client.plain_hosts(), 0);
    }

    #[tokio::test]
    async fn a_url_that_does_not_parse_is_a_request_error() {
        let client = RoutedClient::new(HeaderMap::new(), 1).unwrap();
        let err = client
            .send(&Method::POST, "not a url", None)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ProviderError::Request(_)), "{err}");
        assert!(!err.is_retryable());
    }
}
