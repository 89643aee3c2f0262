//! A keep-alive HTTP/1.1 client for bots served over plain `http://` — local models,
//! staging bots, the demo bot. It talks to one host: mostly one POST to one URL again and
//! again (a session bot's URL changes only in its path), so it needs none of a general
//! client's machinery (pooling by host, proxies, redirects), which at tens of thousands
//! of requests a second costs more than the request itself. Each connection is driven by the request that uses it, so a
//! request is one task, not two that wake each other.

use std::pin::Pin;
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{ProviderError, Reply, body_too_large, error_chain, retry_after};

/// One open connection: the handle requests go through, and the connection itself,
/// polled only while a request is using it.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<Connection<TokioIo<TcpStream>, Full<Bytes>>>>,
}

/// Why an exchange failed, and whether the request may be sent again on a new connection
/// without the bot having seen it.
struct Failed {
    error: ProviderError,
    unsent: Option<Request<Full<Bytes>>>,
}

pub struct PlainHttp {
    /// `host:port`, for connecting and for the `Host` header.
    authority: String,
    host_header: HeaderValue,
    /// Origin-form request target: path and query.
    target: String,
    /// Sent with every request (API keys among them, marked sensitive).
    headers: HeaderMap,
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
    max_body_bytes: usize,
}

impl PlainHttp {
    /// `url` must be an `http://` URL without user info; `None` otherwise, for the caller
    /// to use a general client instead.
    pub fn for_url(
        url: &reqwest::Url,
        headers: HeaderMap,
        max_idle: usize,
        max_body_bytes: usize,
    ) -> Option<PlainHttp> {
        if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        // IPv6 hosts come bracketed, as `host:port` wants them.
        let authority = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
        let host_header = HeaderValue::from_str(&authority).ok()?;
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Some(PlainHttp {
            authority,
            host_header,
            target,
            headers,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            max_body_bytes,
        })
    }

    /// POSTs a JSON body and reads the whole reply. A request that failed on a reused
    /// connection before it was written goes once more on a new one: the bot may close an
    /// idle connection at any time.
    pub async fn post_json(&self, body: Vec<u8>) -> Result<Reply, ProviderError> {
        self.send(&Method::POST, &self.target, Some(body)).await
    }

    /// Sends a request to `target` (path and query) on this client's host and reads the
    /// whole reply; without a body, no `Content-Type` is sent. Retried once on a new
    /// connection as [`PlainHttp::post_json`] is.
    pub async fn send(
        &self,
        method: &Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, ProviderError> {
        let mut request = self.request(method, target, body)?;
        if let Some(conn) = self.take_idle() {
            match self.exchange(conn, request).await {
                Ok(reply) => return Ok(reply),
                Err(Failed {
                    unsent: Some(again),
                    ..
                }) => request = again,
                Err(failed) => return Err(failed.error),
            }
        }
        let conn = self.connect().await?;
        self.exchange(conn, request).await.map_err(|f| f.error)
    }

    fn request(
        &self,
        method: &Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Request<Full<Bytes>>, ProviderError> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(target)
            .header(HOST, self.host_header.clone());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value.clone());
        }
        builder
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .map_err(|e| ProviderError::Transport(format!("cannot build the request: {e}")))
    }

    /// The most recently used idle connection that is still open.
    fn take_idle(&self) -> Option<Conn> {
        loop {
            let mut conn = self.idle.lock().ok()?.pop()?;
            // A connection the bot has closed ends as soon as it is polled.
            if conn.driver.as_mut().now_or_never().is_none() && !conn.sender.is_closed() {
                return Some(conn);
            }
        }
    }

    fn put_idle(&self, conn: Conn) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push(conn);
        }
    }

    async fn connect(&self) -> Result<Conn, ProviderError> {
        let stream = TcpStream::connect(self.authority.as_str())
            .await
            .map_err(|e| {
                ProviderError::Transport(format!("cannot connect to {}: {e}", self.authority))
            })?;
        // Requests are small and latency is what is measured: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport("handshake failed", &e))?;
        Ok(Conn {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// One request on `conn`, polling the connection meanwhile. The connection goes back
    /// to the idle list only after a complete reply.
    async fn exchange(
        &self,
        mut conn: Conn,
        request: Request<Full<Bytes>>,
    ) -> Result<Reply, Failed> {
        let Conn { sender, driver } = &mut conn;
        let max_body_bytes = self.max_body_bytes;
        let work = async move {
            if let Err(e) = sender.ready().await {
                return Err(Failed {
                    error: transport("connection closed", &e),
                    unsent: Some(request),
                });
            }
            let response = sender.try_send_request(request).await.map_err(|mut e| {
                let unsent = e.take_message();
                Failed {
                    error: transport("error sending request", e.error()),
                    unsent,
                }
            })?;
            read_reply(response, max_body_bytes).await
        };
        let (reply, reusable) = {
            let mut work = std::pin::pin!(work);
            tokio::select! {
                biased;
                reply = &mut work => (reply, true),
                // The connection is over, so whatever it delivered is all there is: the
                // reply is complete, or finishing it fails at once (with the reason).
                _ = driver.as_mut() => (work.await, false),
            }
        };
        if reusable && reply.is_ok() {
            self.put_idle(conn);
        }
        reply
    }
}

async fn read_reply(
    response: hyper::Response<hyper::body::Incoming>,
    max_body_bytes: usize,
) -> Result<Reply, Failed> {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = Limited::new(response.into_body(), max_body_bytes)
        .collect()
        .await
        .map_err(|e| Failed {
            error: if e.is::<http_body_util::LengthLimitError>() {
                body_too_large(max_body_bytes)
            } else {
                ProviderError::Transport(format!("error reading the response body: {e}"))
            },
            unsent: None,
        })?
        .to_bytes();
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// hyper's error with its causes, in one line.
fn transport(context: &str, error: &hyper::Error) -> ProviderError {
    ProviderError::Transport(format!("{context}: {}", error_chain(error)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// What the test server does with the n-th request it reads on a connection.
    #[derive(Clone, Copy)]
    enum Serve {
        /// Answers and keeps the connection open.
        KeepAlive,
        /// Answers, then closes the connection without saying so.
        CloseAfter,
        /// Closes the connection without answering.
        Hangup,
        /// Answers in chunks.
        Chunked,
        /// Answers with a body of this many bytes.
        Big(usize),
        /// Answers with something that is not HTTP.
        NotHttp,
    }

    struct Server {
        url: reqwest::Url,
        connections: Arc<AtomicUsize>,
        heads: Arc<Mutex<Vec<String>>>,
    }

    /// A raw HTTP/1.1 server on 127.0.0.1 that lives as long as the test's runtime.
    async fn server(serve: Serve) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = reqwest::Url::parse(&format!(
            "http://{}/v1/chat/completions?api-version=1",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let (counted, seen) = (Arc::clone(&connections), Arc::clone(&heads));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(head) = read_request(&mut stream, &mut buf).await {
                        seen.lock().unwrap().push(head);
                        let body = r#"{"ok":true}"#;
                        let reply = match serve {
                            Serve::Hangup => return,
                            Serve::Chunked => format!(
                                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                                &body[..4],
                                body.len() - 4,
                                &body[4..]
                            ),
                            Serve::NotHttp => "SSH-2.0-OpenSSH_9.6\r\n\r\n".to_string(),
                            Serve::Big(n) => format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n{}",
                                "x".repeat(n)
                            ),
                            _ => format!(
                                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            ),
                        };
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        if matches!(serve, Serve::CloseAfter) {
                            return;
                        }
                    }
                });
            }
        });
        Server {
            url,
            connections,
            heads,
        }
    }

    /// Reads one request (head and content-length body) from `stream`; returns the head.
    async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    buf.drain(..end + 4 + len);
                    return Some(head);
                }
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn client(url: &reqwest::Url) -> PlainHttp {
        let mut auth = HeaderValue::from_static("Bearer sk-test");
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        PlainHttp::for_url(url, headers, 4, 1024).unwrap()
    }

    #[tokio::test]
    async fn one_connection_serves_request_after_request() {
        let server = server(Serve::KeepAlive).await;
        let client = client(&server.url);
        for _ in 0..5 {
            let reply = client.post_json(b"{}".to_vec()).await.unwrap();
            assert_eq!(reply.status, 429);
            assert_eq!(reply.retry_after, Some(std::time::Duration::from_secs(2)));
            assert_eq!(&reply.body[..], br#"{"ok":true}"#);
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        let heads = server.heads.lock().unwrap();
        let head = &heads[0];
        let authority = server.url.authority();
        assert!(
            head.starts_with("post /v1/chat/completions?api-version=1 http/1.1"),
            "{head}"
        );
        for line in [
            format!("host: {authority}"),
            "content-type: application/json".into(),
            "authorization: bearer sk-test".into(),
            "content-length: 2".into(),
        ] {
            assert!(head.lines().any(|l| l == line), "no `{line}` in {head}");
        }
    }

    #[tokio::test]
    async fn a_connection_the_bot_closed_is_replaced() {
        let server = server(Serve::CloseAfter).await;
        let client = client(&server.url);
        for _ in 0..3 {
            let reply = client.post_json(b"{}".to_vec()).await.unwrap();
            assert_eq!(reply.status, 429);
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn chunked_replies_are_read_whole() {
        let server = server(Serve::Chunked).await;
        let reply = client(&server.url).post_json(b"{}".to_vec()).await.unwrap();
        assert_eq!(
            (reply.status, &reply.body[..]),
            (200, &br#"{"ok":true}"#[..])
        );
    }

    #[tokio::test]
    async fn a_hangup_and_an_oversized_body_are_errors() {
        let hangup = server(Serve::Hangup).await;
        let err = client(&hangup.url)
            .post_json(b"{}".to_vec())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ProviderError::Transport(_)), "{err}");

        let big = server(Serve::Big(4096)).await;
        let err = client(&big.url)
            .post_json(b"{}".to_vec())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ProviderError::BadResponse(_)), "{err}");
    }

    #[tokio::test]
    async fn a_reply_that_is_not_http_says_so() {
        let server = server(Serve::NotHttp).await;
        let err = client(&server.url)
            .post_json(b"{}".to_vec())
            .await
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(matches!(err, ProviderError::Transport(_)), "{err}");
        assert!(message.contains("invalid HTTP"), "{message}");
    }

    #[tokio::test]
    async fn nobody_listening_is_a_connection_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = reqwest::Url::parse(&format!("http://{addr}/v1")).unwrap();
        let err = client(&url).post_json(b"{}".to_vec()).await.err().unwrap();
        assert!(
            err.to_string().contains("cannot connect to 127.0.0.1:"),
            "{err}"
        );
    }

    #[test]
    fn only_plain_http_without_user_info() {
        for url in [
            "https://api.example.com/v1",
            "http://user:secret@127.0.0.1:8080/v1",
        ] {
            let url = reqwest::Url::parse(url).unwrap();
            assert!(
                PlainHttp::for_url(&url, HeaderMap::new(), 1, 1).is_none(),
                "{url}"
            );
        }
        let url = reqwest::Url::parse("http://[::1]/v1").unwrap();
        let client = PlainHttp::for_url(&url, HeaderMap::new(), 1, 1).unwrap();
        assert_eq!(client.authority, "[::1]:80");
    }
}
