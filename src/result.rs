//! One line of `results.jsonl`: everything known about one case × repeat once it finished.
//! Every other stage (metrics, diff, gate, reports) reads this and nothing else.

use serde::{Deserialize, Serialize};

use crate::evalset::{ExpectedOutcome, Stratum};

/// What the bot actually did, as classified after the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObservedOutcome {
    Resolved,
    Escalated,
    Refused,
    Deflected,
    Error,
}

impl ObservedOutcome {
    pub const ALL: [ObservedOutcome; 5] = [
        ObservedOutcome::Resolved,
        ObservedOutcome::Escalated,
        ObservedOutcome::Refused,
        ObservedOutcome::Deflected,
        ObservedOutcome::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObservedOutcome::Resolved => "resolved",
            ObservedOutcome::Escalated => "escalated",
            ObservedOutcome::Refused => "refused",
            ObservedOutcome::Deflected => "deflected",
            ObservedOutcome::Error => "error",
        }
    }

    /// The observed outcome that fulfils an expectation.
    pub fn fulfilling(expected: ExpectedOutcome) -> ObservedOutcome {
        match expected {
            ExpectedOutcome::Resolve => ObservedOutcome::Resolved,
            ExpectedOutcome::Escalate => ObservedOutcome::Escalated,
            ExpectedOutcome::Refuse => ObservedOutcome::Refused,
        }
    }
}

/// Which part of a run failed, when a result is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSource {
    /// The bot under test: the result says nothing about quality.
    Bot,
    /// The judge: the bot's transcript stands and can be judged again (`rescore`).
    Judge,
    /// The customer simulator.
    Simulator,
    /// evalgate itself (a prompt that would not render for this case, a bug).
    Evalgate,
}

/// How a call or step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCause {
    Timeout,
    /// Could not connect, or the connection broke.
    Connection,
    /// An HTTP status other than success.
    HttpStatus,
    /// A reply that is not what the protocol promises.
    BadResponse,
    /// A prompt template that would not render.
    Prompt,
    Internal,
}

impl ErrorCause {
    pub fn of(error: &crate::transport::ProviderError) -> ErrorCause {
        use crate::transport::ProviderError as E;
        match error {
            E::Timeout(_) => ErrorCause::Timeout,
            E::Transport(_) => ErrorCause::Connection,
            E::Status { .. } => ErrorCause::HttpStatus,
            E::BadResponse(_) | E::Reported(_) => ErrorCause::BadResponse,
            E::Final(e) => ErrorCause::of(e),
            // A bot request template that would not render for this case.
            E::Request(_) => ErrorCause::Prompt,
        }
    }
}

/// Why a simulated conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The bot handed the customer to a human.
    Handoff,
    /// The simulated customer wrote the stop marker: goal reached, or given up.
    CustomerStop,
    /// The customer sent as many messages as the case allows.
    MaxTurns,
    /// The bot or the simulator failed.
    Error,
}

impl StopReason {
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Handoff => "handoff",
            StopReason::CustomerStop => "customer_stop",
            StopReason::MaxTurns => "max_turns",
            StopReason::Error => "error",
        }
    }
}

/// The kind of an error result, for tools that must tell a judge failure from a bot
/// failure without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub struct ErrorKind {
    pub source: ErrorSource,
    pub cause: ErrorCause,
}

/// Why a conversation or its scoring ended without a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultError {
    pub message: String,
    pub source: ErrorSource,
    pub cause: ErrorCause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ToolCall {
    pub name: String,
    /// The arguments exactly as the bot sent them (usually a JSON string).
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TranscriptTurn {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For bot turns: how long the successful request took (none when cached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The answer came from the response cache, not the bot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// The bot said in its own protocol that a human takes over (an http bot's
    /// `response.handoff`), kept so that scoring and `rescore` see it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handoff: bool,
}

#[cfg(test)]
impl TranscriptTurn {
    /// A plain turn: no tool calls, not timed, not cached, no handoff.
    pub fn said(role: Role, content: &str) -> TranscriptTurn {
        TranscriptTurn {
            role,
            content: content.into(),
            tool_calls: vec![],
            latency_ms: None,
            cached: false,
            handoff: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CriterionVerdict {
    pub n: u32,
    pub criterion: String,
    pub passed: bool,
    pub reason: String,
}

/// The LLM judge's verdict on one result.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct JudgeVerdict {
    pub model: String,
    pub criteria: Vec<CriterionVerdict>,
    pub outcome: Option<ObservedOutcome>,
    #[serde(default)]
    pub unsupported_claims: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CaseResult {
    pub key: String,
    pub language: String,
    pub stratum: Stratum,
    pub intent: Option<String>,
    pub scenario: Option<String>,
    pub repeat: u32,
    pub turns: Vec<TranscriptTurn>,
    /// SHA-256 (lowercase hex) of `turns` as stored here: a human label binds to the
    /// transcript its labeler saw, not only to the case.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transcript_sha256: String,
    /// Every action the bot reported taking, in order, over the whole conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ToolCall>,
    /// The bot's final reply.
    pub reply: String,
    pub expected_outcome: ExpectedOutcome,
    pub observed_outcome: ObservedOutcome,
    /// The handoff signal that made the outcome `escalated`, if any.
    #[serde(default)]
    pub handoff: Option<String>,
    pub checks: Vec<Check>,
    pub judge: Option<JudgeVerdict>,
    /// No content check and no judge could have failed this result: its pass says only
    /// that the bot answered (in the right language, within the length).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
    /// Detected language of the final reply.
    #[serde(default)]
    pub detected_language: Option<String>,
    pub passed: bool,
    /// Wall time of the whole conversation, retries included.
    pub latency_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// The judge's tokens, counted apart from the bot's.
    #[serde(default)]
    pub judge_tokens_in: u64,
    #[serde(default)]
    pub judge_tokens_out: u64,
    /// The customer was played by the simulator (a `simulate:` case).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
    /// Why a simulated conversation ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// The simulator's tokens, counted apart from the bot's and the judge's.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub simulator_tokens_in: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub simulator_tokens_out: u64,
    /// Requests sent, retries included.
    #[serde(default)]
    pub attempts: u32,
    pub error: Option<String>,
    /// What failed, when `error` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The hash a transcript is known by: SHA-256, lowercase hex, of the `turns` array as
/// results.jsonl stores it (compact JSON, fields in their order). A label names it, so it
/// applies only to the conversation its labeler read.
pub fn transcript_sha256(turns: &[TranscriptTurn]) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(turns).unwrap_or_default();
    format!("{:x}", Sha256::digest(&json))
}

impl CaseResult {
    /// The identity of a result within a run: case key and repeat.
    pub fn id(&self) -> (String, u32) {
        (self.key.clone(), self.repeat)
    }

    pub fn is_error(&self) -> bool {
        self.observed_outcome == ObservedOutcome::Error
    }

    /// The result ended in a judge error: the bot's transcript stands. Results written
    /// before errors had kinds are told by their message.
    pub fn is_judge_error(&self) -> bool {
        match (&self.error_kind, &self.error) {
            (Some(kind), _) => kind.source == ErrorSource::Judge,
            (None, Some(message)) => message.starts_with("judge unreachable"),
            (None, None) => false,
        }
    }

    pub fn failing_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// Why the result did not pass, in one line: the error, or its first failing check
    /// (the most specific one: the outcome check comes last).
    pub fn first_failure(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("error: {e}"));
        }
        self.failing_checks()
            .next()
            .map(|c| format!("{}: {}", c.name, c.detail))
    }
}

#[cfg(test)]
impl CaseResult {
    /// A scored result for tests, with one passing language check and one bot turn.
    pub fn fixture(
        language: &str,
        stratum: Stratum,
        expected: ExpectedOutcome,
        observed: ObservedOutcome,
        passed: bool,
    ) -> CaseResult {
        CaseResult {
            key: format!("{language}/x"),
            language: language.into(),
            stratum,
            intent: Some("refund".into()),
            scenario: None,
            repeat: 0,
            transcript_sha256: String::new(),
            actions: Vec::new(),
            turns: vec![TranscriptTurn {
                role: Role::Assistant,
                content: "hi".into(),
                tool_calls: vec![],
                latency_ms: Some(10),
                cached: false,
                handoff: false,
            }],
            reply: "hi".into(),
            expected_outcome: expected,
            observed_outcome: observed,
            handoff: None,
            checks: vec![Check {
                name: "language".into(),
                passed: true,
                detail: String::new(),
            }],
            judge: None,
            unverified: false,
            detected_language: None,
            passed,
            latency_ms: 10,
            tokens_in: 5,
            tokens_out: 7,
            judge_tokens_in: 0,
            judge_tokens_out: 0,
            simulated: false,
            stop_reason: None,
            simulator_tokens_in: 0,
            simulator_tokens_out: 0,
            attempts: 1,
            error: (observed == ObservedOutcome::Error).then(|| "boom".to_string()),
            error_kind: (observed == ObservedOutcome::Error).then_some(ErrorKind {
                source: ErrorSource::Bot,
                cause: ErrorCause::Connection,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash is of `turns` exactly as results.jsonl stores them, so anyone can check a
    /// label against a results line; any change to the transcript changes it.
    #[test]
    fn a_transcript_hash_is_of_the_stored_turns() {
        let turn = |role, content: &str, calls: &[(&str, &str)]| TranscriptTurn {
            role,
            content: content.into(),
            tool_calls: calls
                .iter()
                .map(|(name, arguments)| ToolCall {
                    name: (*name).into(),
                    arguments: (*arguments).into(),
                })
                .collect(),
            latency_ms: Some(3),
            cached: false,
            handoff: false,
        };
        let base = vec![
            turn(Role::User, "Where is my refund?", &[]),
            turn(Role::Assistant, "On its way.", &[("lookup_order", "{}")]),
        ];
        let hash = transcript_sha256(&base);
        let stored = r#"[{"role":"user","content":"Where is my refund?","latency_ms":3},{"role":"assistant","content":"On its way.","tool_calls":[{"name":"lookup_order","arguments":"{}"}],"latency_ms":3}]"#;
        assert_eq!(serde_json::to_string(&base).unwrap(), stored);
        use sha2::{Digest, Sha256};
        assert_eq!(hash, format!("{:x}", Sha256::digest(stored.as_bytes())));
        assert_eq!(hash.len(), 64);
        let variants = [
            vec![
                base[0].clone(),
                turn(Role::Assistant, "On its way!", &[("lookup_order", "{}")]),
            ],
            vec![base[0].clone(), turn(Role::Assistant, "On its way.", &[])],
            vec![
                base[0].clone(),
                turn(Role::User, "On its way.", &[("lookup_order", "{}")]),
            ],
        ];
        for v in variants {
            assert_ne!(transcript_sha256(&v), hash, "{v:?}");
        }
    }
}
