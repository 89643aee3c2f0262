//! The conversations a stateful demo protocol keeps between requests, bounded: past
//! [`MAX_CONVERSATIONS`] the oldest is dropped, past [`MAX_MESSAGES`] a conversation
//! keeps its latest messages, so a long benchmark cannot grow the server without end.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::provider::{BotTurn, Message, demo};
use crate::result::Role;

pub(super) const MAX_CONVERSATIONS: usize = 10_000;
const MAX_MESSAGES: usize = 200;

#[derive(Default)]
pub(super) struct Conversations {
    inner: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    by_id: HashMap<String, Conversation>,
    /// Ids in the order they were opened, oldest first.
    opened: VecDeque<String>,
}

#[derive(Clone, Default)]
struct Conversation {
    system: String,
    history: Vec<Message>,
}

impl Conversations {
    /// Opens a conversation under `id` (a known id starts over).
    pub(super) fn open(&self, id: &str, system: &str) {
        let Ok(mut store) = self.inner.lock() else {
            return;
        };
        if store.by_id.len() >= MAX_CONVERSATIONS
            && !store.by_id.contains_key(id)
            && let Some(oldest) = store.opened.pop_front()
        {
            store.by_id.remove(&oldest);
        }
        let conversation = Conversation {
            system: system.to_string(),
            history: Vec::new(),
        };
        if store.by_id.insert(id.to_string(), conversation).is_none() {
            store.opened.push_back(id.to_string());
        }
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.inner.lock().is_ok_and(|s| s.by_id.contains_key(id))
    }

    /// The demo bot's answer to `message` in conversation `id`, remembered there; `None`
    /// for an id that is not (or no longer) open.
    pub(super) fn answer(&self, id: &str, message: &str) -> Option<BotTurn> {
        // The answer is computed outside the lock: other conversations go on meanwhile.
        let Conversation {
            system,
            mut history,
        } = self.inner.lock().ok()?.by_id.get(id)?.clone();
        history.push(Message {
            role: Role::User,
            content: message.to_string(),
        });
        let turn = demo::answer(&system, &history);
        let mut store = self.inner.lock().ok()?;
        let kept = store.by_id.get_mut(id)?;
        kept.history.push(Message {
            role: Role::User,
            content: message.to_string(),
        });
        kept.history.push(Message {
            role: Role::Assistant,
            content: turn.content.clone(),
        });
        if kept.history.len() > MAX_MESSAGES {
            let excess = kept.history.len() - MAX_MESSAGES;
            kept.history.drain(..excess);
        }
        Some(turn)
    }

    /// How many messages conversation `id` holds (for tests).
    #[cfg(test)]
    pub(super) fn messages(&self, id: &str) -> Option<usize> {
        self.inner
            .lock()
            .ok()?
            .by_id
            .get(id)
            .map(|c| c.history.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_conversation_is_dropped_at_the_cap() {
        let store = Conversations::default();
        for i in 0..=MAX_CONVERSATIONS {
            store.open(&format!("c{i}"), "");
        }
        assert!(!store.contains("c0"));
        assert!(store.contains("c1"));
        assert!(store.contains(&format!("c{MAX_CONVERSATIONS}")));
    }

    #[test]
    fn turns_are_remembered_and_bounded() {
        let store = Conversations::default();
        store.open("a", "");
        assert!(store.answer("nope", "hi").is_none());
        for _ in 0..MAX_MESSAGES {
            assert!(store.answer("a", "Where is my refund?").is_some());
        }
        assert_eq!(store.messages("a"), Some(MAX_MESSAGES));
    }
}
