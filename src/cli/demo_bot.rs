//! `evalgate demo-bot`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::cli::{DemoBotArgs, DemoProtocol};
use crate::demo_server::Protocol;
use crate::exit::{Failure, Outcome};

pub fn run(args: &DemoBotArgs) -> Result<Outcome, Failure> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => return Err(Failure::bad_input(format!("cannot listen on {addr}: {e}"))),
        };
        let bound = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string());
        let (protocol, how) = match args.protocol {
            DemoProtocol::Openai => (Protocol::Openai, "/v1 (POST /v1/chat/completions"),
            DemoProtocol::Anthropic => (Protocol::Anthropic, " (POST /v1/messages"),
            DemoProtocol::Rasa => (Protocol::Rasa, " (POST /webhooks/rest/webhook"),
            DemoProtocol::Session => (
                Protocol::Session,
                " (POST /v1/conversations, then /v1/conversations/{id}/messages",
            ),
        };
        println!("demo bot listening on http://{bound}{how}; Ctrl-C stops it)");
        let stop_after = args.stop_after;
        let shutdown = async move {
            match stop_after {
                Some(secs) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        crate::demo_server::serve(listener, protocol, shutdown)
            .await
            .map(|()| Outcome::Passed)
            .map_err(|e| Failure::internal(format!("demo bot server failed: {e}")))
    })
}
