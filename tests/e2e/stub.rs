//! An OpenAI-compatible stub bot on 127.0.0.1, written by hand so tests can inject any
//! fault: statuses, Retry-After, stalls, malformed bodies. What it does is decided by a
//! marker in the last user message, e.g. `[[429-once]]`. It stops when dropped, and by
//! itself after a time limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub struct Stub {
    pub base_url: String,
    /// Requests seen per marker-free user message, for asserting retries.
    pub seen: Arc<Mutex<HashMap<String, u32>>>,
    /// Judge requests answered, and whether each asked for JSON.
    pub judge_requests: Arc<Mutex<Vec<bool>>>,
    _server: ServerThread,
}

/// A server on 127.0.0.1 in a thread of its own, handing each connection to `serve`. It
/// stops when dropped, and by itself after a time limit, whatever the test does.
pub struct ServerThread {
    pub addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Longest a stub may live, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(120);

impl ServerThread {
    pub fn spawn<F, Fut>(serve: F) -> ServerThread
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(serve(stream));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stop_rx => {}
                    _ = tokio::time::sleep(LIFETIME) => {}
                }
            });
        });
        ServerThread {
            addr: addr_rx.recv().expect("stub address"),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start() -> Stub {
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let judge_requests: Arc<Mutex<Vec<bool>>> = Arc::default();
    let (seen_in_server, judge_in_server) = (Arc::clone(&seen), Arc::clone(&judge_requests));
    let server = ServerThread::spawn(move |stream| {
        connection(
            stream,
            Arc::clone(&seen_in_server),
            Arc::clone(&judge_in_server),
        )
    });
    Stub {
        base_url: format!("http://{}/v1", server.addr),
        seen,
        judge_requests,
        _server: server,
    }
}

async fn connection(
    mut stream: TcpStream,
    seen: Arc<Mutex<HashMap<String, u32>>>,
    judge: Arc<Mutex<Vec<bool>>>,
) {
    let mut buf = Vec::new();
    loop {
        let Some((head_len, body_len)) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
        let body: Vec<u8> = buf[head_len..head_len + body_len].to_vec();
        buf.drain(..head_len + body_len);
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let is_judge = request["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("evaluator"));
        let keep_open = if is_judge {
            judge
                .lock()
                .expect("lock")
                .push(request.get("response_format").is_some());
            judge_answer(&mut stream, &head, &request).await
        } else {
            respond(&mut stream, &head, &request, &seen).await
        };
        if !keep_open {
            return;
        }
    }
}

/// Reads one request into `buf`; returns (header length, body length), or `None` when
/// the client went away.
pub async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(usize, usize)> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((end + 4, len));
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Answers 200 with a chat completion saying `content`; false when the client went away.
pub async fn reply_chat(stream: &mut TcpStream, content: &str, tokens: (u64, u64)) -> bool {
    let body = json!({
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": tokens.0, "completion_tokens": tokens.1 }
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await.is_ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn write(stream: &mut TcpStream, status: &str, extra_headers: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

fn completion(content: &str, tool: Option<&str>, messages: usize) -> String {
    let mut message = json!({ "role": "assistant", "content": content });
    if let Some(name) = tool {
        message["tool_calls"] = json!([{ "id": "c1", "type": "function", "function": { "name": name, "arguments": "{\"reason\":\"test\"}" } }]);
    }
    json!({
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": messages * 10, "completion_tokens": 7 }
    })
    .to_string()
}

/// A reply that tries every way of running code in, or breaking out of, an HTML report.
pub const HOSTILE_REPLY: &str = "</textarea></details></summary></td></table></pre><script>document.documentElement.setAttribute('data-pwned','script')</script><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\"><svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg><iframe src=\"javascript:parent.document.documentElement.setAttribute('data-pwned','iframe')\"></iframe>{{ 7*7 }} {% raw %} \u{202E}evil";

/// Answers one request; returns whether the connection stays open.
async fn respond(
    stream: &mut TcpStream,
    head: &str,
    request: &Value,
    seen: &Mutex<HashMap<String, u32>>,
) -> bool {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let count = {
        let mut seen = seen.lock().expect("lock");
        let n = seen.entry(last_user.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let user_turns = messages.iter().filter(|m| m["role"] == "user").count();
    let has_system = messages.first().is_some_and(|m| m["role"] == "system");
    if last_user.contains("[[429-once]]") && count == 1 {
        write(
            stream,
            "429 Too Many Requests",
            "retry-after: 1\r\n",
            r#"{"error":"slow down"}"#,
        )
        .await;
        return true;
    }
    if last_user.contains("[[500]]") {
        write(
            stream,
            "500 Internal Server Error",
            "",
            r#"{"error":"boom"}"#,
        )
        .await;
        return true;
    }
    if last_user.contains("[[400]]") {
        write(stream, "400 Bad Request", "", r#"{"error":"bad"}"#).await;
        return true;
    }
    if last_user.contains("[[stall]]") {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return false;
    }
    if last_user.contains("[[garbage]]") {
        write(stream, "200 OK", "", "{\"choices\": [ this is not json").await;
        return true;
    }
    if last_user.contains("[[reset]]") {
        return false;
    }
    if last_user.contains("[[truncated]]") {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"choices\": [")
            .await;
        return false;
    }
    if last_user.contains("[[echo-auth]]") {
        // A careless server that echoes the request headers in its error body.
        let body = json!({ "error": format!("rejected request: {head}") }).to_string();
        write(stream, "500 Internal Server Error", "", &body).await;
        return true;
    }
    if last_user.contains("[[slow]]") {
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (content, tool) = if last_user.contains("[[echo-auth-reply]]") {
        // A bot that repeats its own credentials to the customer, word for word.
        let auth = authorization(head);
        (format!("Your request carried {auth}, thanks."), None)
    } else if last_user.contains("[[hostile]]") {
        (HOSTILE_REPLY.to_string(), None)
    } else if last_user.contains("[[refuse-but-refund]]") {
        // The words refuse; the action complies.
        (
            "I'm sorry, but I can't issue refunds from this chat.".to_string(),
            Some("issue_refund"),
        )
    } else if last_user.contains("[[tool]]") {
        (
            "Let me get a colleague for you.".to_string(),
            Some("escalate_to_human"),
        )
    } else if last_user.contains("[[marker]]") {
        (
            "A colleague will take over now. [HANDOFF]".to_string(),
            None,
        )
    } else {
        (
            format!(
                "Thanks for your message. This is turn {user_turns}; I saw {} messages with system={has_system}. Your order ships on 28 November.",
                messages.len()
            ),
            None,
        )
    };
    write(
        stream,
        "200 OK",
        "",
        &completion(&content, tool, messages.len()),
    )
    .await;
    true
}

/// Answers as a judge would, steered by markers in the transcript it is shown.
async fn judge_answer(stream: &mut TcpStream, head: &str, request: &Value) -> bool {
    let prompt = request["messages"][1]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    // The second attempt carries the complaint about the first answer.
    let retry = request["messages"].as_array().is_some_and(|m| m.len() > 2);
    if prompt.contains("[[judge-down]]") {
        write(stream, "503 Service Unavailable", "", r#"{"error":"down"}"#).await;
        return true;
    }
    let no_criteria = prompt.contains("(none: return an empty");
    let criteria = if no_criteria {
        json!([])
    } else if prompt.contains("[[judge-extra]]") {
        json!([{"n": 1, "passed": true, "reason": "ok"}, {"n": 2, "passed": true, "reason": "invented"}])
    } else if prompt.contains("[[judge-missing]]") {
        json!([])
    } else if prompt.contains("[[judge-fail]]") {
        json!([{"n": 1, "passed": false, "reason": "the date is wrong"}])
    } else {
        json!([{"n": 1, "passed": true, "reason": "says the date"}])
    };
    let outcome = if prompt.contains("[[judge-deflected]]") {
        "deflected"
    } else if prompt.contains("[[judge-refused]]") {
        "refused"
    } else {
        "resolved"
    };
    let verdict = json!({ "criteria": criteria, "outcome": outcome, "unsupported_claims": if prompt.contains("[[judge-claim]]") { json!(["free shipping forever"]) } else if prompt.contains("[[judge-echo-auth]]") { json!([authorization(head)]) } else { json!([]) } }).to_string();
    let content = if prompt.contains("[[judge-garbage]]") {
        "I think the assistant did fine overall.".to_string()
    } else if prompt.contains("[[judge-fenced]]") {
        format!("Here is my verdict:\n```json\n{verdict}\n```")
    } else if prompt.contains("[[judge-bad-once]]") && !retry {
        "Verdict: resolved".to_string()
    } else {
        verdict
    };
    write(stream, "200 OK", "", &completion(&content, None, 2)).await;
    true
}

/// The request's `Authorization` value, for servers that carelessly repeat it.
fn authorization(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("authorization: ")
                .or(l.strip_prefix("Authorization: "))
        })
        .unwrap_or("no authorization header")
        .trim()
        .to_string()
}
