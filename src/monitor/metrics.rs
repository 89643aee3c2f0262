//! The production figures: per conversation only what they need (customer, language,
//! start, contained, CSAT), then repeat contacts found by sorting on (customer, start).
//! Every figure is computed over the same settled conversations; a pending one is counted
//! apart and left out of everything else.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::export::ConversationHead;
use crate::timefmt::{DAY, IsoWeek};

/// One conversation as the figures see it (24 bytes, whatever the transcript's length).
#[derive(Debug, Clone, Copy)]
struct Record {
    customer: u64,
    started_at: i64,
    /// CSAT, or NaN when the export has none (keeps the record small).
    csat: f32,
    language: u16,
    contained: bool,
}

/// Conversations as they are read, before the figures can be computed (repeat contacts
/// and pending conversations need the whole export).
#[derive(Debug, Default)]
pub struct Tally {
    languages: Vec<String>,
    language_index: HashMap<String, u16>,
    records: Vec<Record>,
}

/// The figures of one slice (overall, a language, a week): M in DESIGN's `monitor.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SliceFigures {
    /// Every conversation of the slice, pending ones included.
    pub conversations: u64,
    /// Conversations whose repeat window was over by the export's end: every count and
    /// rate below is among these.
    pub settled: u64,
    pub pending: u64,
    pub contained: u64,
    pub escalated: u64,
    /// Contained conversations whose customer came back within the window.
    pub repeat_contacts: u64,
    /// Contained and no repeat contact.
    pub durably_resolved: u64,
    pub containment_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
    /// Among contained conversations.
    pub repeat_contact_rate: Option<f64>,
    /// Among all settled conversations: the same denominator as containment.
    pub durable_resolution_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_contained: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_escalated: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counter {
    conversations: u64,
    pending: u64,
    contained: u64,
    escalated: u64,
    repeat_contacts: u64,
    csat_contained: (f64, u64),
    csat_escalated: (f64, u64),
}

impl Counter {
    fn add(&mut self, r: &Record, pending: bool, repeat: bool) {
        self.conversations += 1;
        if pending {
            self.pending += 1;
            return;
        }
        let csat = (!r.csat.is_nan()).then_some(f64::from(r.csat));
        let (count, sum) = if r.contained {
            self.contained += 1;
            self.repeat_contacts += u64::from(repeat);
            (&mut self.csat_contained.1, &mut self.csat_contained.0)
        } else {
            self.escalated += 1;
            (&mut self.csat_escalated.1, &mut self.csat_escalated.0)
        };
        if let Some(c) = csat {
            *count += 1;
            *sum += c;
        }
    }

    fn finish(&self) -> SliceFigures {
        let settled = self.contained + self.escalated;
        let durably_resolved = self.contained - self.repeat_contacts;
        let ratio = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
        let mean = |(sum, n): (f64, u64)| (n > 0).then(|| sum / n as f64);
        SliceFigures {
            conversations: self.conversations,
            settled,
            pending: self.pending,
            contained: self.contained,
            escalated: self.escalated,
            repeat_contacts: self.repeat_contacts,
            durably_resolved,
            containment_rate: ratio(self.contained, settled),
            escalation_rate: ratio(self.escalated, settled),
            repeat_contact_rate: ratio(self.repeat_contacts, self.contained),
            durable_resolution_rate: ratio(durably_resolved, settled),
            csat_contained: mean(self.csat_contained),
            csat_escalated: mean(self.csat_escalated),
        }
    }
}

/// Every slice's figures, and the window they were computed with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub repeat_window_days: u32,
    /// The export's latest `started_at`: windows that end after it are pending.
    pub latest_started_at: Option<String>,
    pub overall: SliceFigures,
    pub by_language: BTreeMap<String, SliceFigures>,
    /// ISO week (`2026-W45`, of UTC) of each conversation's start.
    pub by_week: BTreeMap<String, SliceFigures>,
    /// The weekly trend of each language.
    pub by_language_week: BTreeMap<String, BTreeMap<String, SliceFigures>>,
}

/// Which conversations the figures counted as settled and contained, per language: the
/// population a judge sample is drawn from (conversation numbers in reading order).
pub type ContainedByLanguage = BTreeMap<String, Vec<u64>>;

impl Tally {
    pub fn add(&mut self, head: &ConversationHead<'_>) {
        let language = match self.language_index.get(head.language) {
            Some(&i) => i,
            None => {
                let i = self.languages.len() as u16;
                self.languages.push(head.language.to_string());
                self.language_index.insert(head.language.to_string(), i);
                i
            }
        };
        self.records.push(Record {
            customer: head.customer,
            started_at: head.started_at,
            csat: head.csat.map_or(f32::NAN, |c| c as f32),
            language,
            contained: head.contained,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether the language table has room for another language (65,536 of them).
    pub fn language_room(&self, language: &str) -> bool {
        self.language_index.contains_key(language) || self.languages.len() <= usize::from(u16::MAX)
    }

    /// The figures with a repeat window of `window_days`, and the settled contained
    /// conversations of each language when `with_contained` (for the judge sample).
    pub fn figures(
        &self,
        window_days: u32,
        with_contained: bool,
    ) -> (Figures, ContainedByLanguage) {
        let window = i64::from(window_days) * DAY;
        let repeat = self.repeat_contacts(window);
        let latest = self.records.iter().map(|r| r.started_at).max();
        let mut overall = Counter::default();
        let mut by_language = vec![Counter::default(); self.languages.len()];
        let mut by_week: BTreeMap<IsoWeek, Counter> = BTreeMap::new();
        let mut by_language_week: Vec<BTreeMap<IsoWeek, Counter>> =
            vec![BTreeMap::new(); self.languages.len()];
        let mut contained = ContainedByLanguage::new();
        for (i, r) in self.records.iter().enumerate() {
            // Pending: the window reaches past the export's end, so a repeat contact could
            // still come. A window ending exactly at the latest start is over.
            let pending = latest.is_some_and(|l| r.started_at + window > l);
            let week = IsoWeek::of(r.started_at);
            let l = usize::from(r.language);
            overall.add(r, pending, repeat[i]);
            by_language[l].add(r, pending, repeat[i]);
            by_week.entry(week).or_default().add(r, pending, repeat[i]);
            by_language_week[l]
                .entry(week)
                .or_default()
                .add(r, pending, repeat[i]);
            if with_contained && r.contained && !pending {
                contained
                    .entry(self.languages[l].clone())
                    .or_default()
                    .push(i as u64);
            }
        }
        let weeks = |m: &BTreeMap<IsoWeek, Counter>| {
            m.iter()
                .map(|(w, c)| (w.to_string(), c.finish()))
                .collect::<BTreeMap<_, _>>()
        };
        let figures = Figures {
            repeat_window_days: window_days,
            latest_started_at: latest.map(crate::timefmt::format_rfc3339),
            overall: overall.finish(),
            by_language: self
                .languages
                .iter()
                .zip(&by_language)
                .map(|(name, c)| (name.clone(), c.finish()))
                .collect(),
            by_week: weeks(&by_week),
            by_language_week: self
                .languages
                .iter()
                .zip(&by_language_week)
                .map(|(name, m)| (name.clone(), weeks(m)))
                .collect(),
        };
        (figures, contained)
    }

    /// For each conversation: whether its customer started another conversation later
    /// than it and at most `window` seconds after it (the edge included).
    fn repeat_contacts(&self, window: i64) -> Vec<bool> {
        let mut order: Vec<u32> = (0..self.records.len() as u32).collect();
        order.sort_unstable_by_key(|&i| {
            let r = &self.records[i as usize];
            (r.customer, r.started_at)
        });
        let mut repeat = vec![false; self.records.len()];
        // Walk backwards: the customer's next conversation that started strictly later is
        // the nearest one behind us with a greater start.
        let mut next_later: Option<i64> = None;
        let mut behind: Option<(u64, i64)> = None;
        for &i in order.iter().rev() {
            let r = &self.records[i as usize];
            match behind {
                Some((customer, start)) if customer == r.customer => {
                    if start > r.started_at {
                        next_later = Some(start);
                    }
                }
                _ => next_later = None,
            }
            repeat[i as usize] = next_later.is_some_and(|later| later - r.started_at <= window);
            behind = Some((r.customer, r.started_at));
        }
        repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::export::stable_hash;
    use crate::timefmt::parse_rfc3339;

    fn add(
        t: &mut Tally,
        customer: &str,
        language: &str,
        start: &str,
        contained: bool,
        csat: Option<f64>,
    ) {
        t.add(&ConversationHead {
            customer: stable_hash(customer),
            language,
            started_at: parse_rfc3339(start).unwrap(),
            contained,
            csat,
        });
    }

    /// Languages are numbered in 16 bits: the 65,536th still fits, the next is refused
    /// rather than wrapping onto the first.
    #[test]
    fn the_language_table_holds_65536_languages() {
        let mut t = Tally::default();
        for i in 0..=u32::from(u16::MAX) {
            let language = format!("x{i}");
            assert!(t.language_room(&language), "{language}");
            add(&mut t, "u-1", &language, "2026-11-02T09:00:00Z", true, None);
        }
        assert!(
            t.language_room("x0"),
            "a language already seen needs no room"
        );
        assert!(!t.language_room("y"), "the 65,537th");
        let (f, _) = t.figures(7, false);
        assert_eq!(f.by_language.len(), 65_536);
        assert_eq!(f.by_language["x65535"].conversations, 1);
    }

    #[test]
    fn the_window_edge_is_exactly_seven_days() {
        let mut t = Tally::default();
        // u-1 returns exactly 7 × 24 h later: a repeat.
        add(&mut t, "u-1", "en", "2026-11-02T09:00:00Z", true, None);
        add(&mut t, "u-1", "en", "2026-11-09T09:00:00Z", true, None);
        // u-2 returns 7 × 24 h and one minute later: not a repeat.
        add(&mut t, "u-2", "en", "2026-11-02T09:00:00Z", true, None);
        add(&mut t, "u-2", "en", "2026-11-09T09:01:00Z", true, None);
        // u-3 starts two conversations at the same second: neither is later than the other.
        add(&mut t, "u-3", "en", "2026-11-02T09:00:00Z", true, None);
        add(&mut t, "u-3", "en", "2026-11-02T09:00:00Z", true, None);
        // Keeps every conversation above settled.
        add(&mut t, "u-9", "en", "2026-11-20T00:00:00Z", false, None);
        let repeat = t.repeat_contacts(7 * DAY);
        assert_eq!(repeat, vec![true, false, false, false, false, false, false]);
        let (f, _) = t.figures(7, false);
        assert_eq!(f.overall.repeat_contacts, 1);
    }

    #[test]
    fn pending_edge_is_the_latest_start() {
        let mut t = Tally::default();
        add(&mut t, "u-1", "en", "2026-11-01T12:00:00Z", true, None);
        // Its window ends exactly at the latest start: over, so settled.
        add(&mut t, "u-2", "en", "2026-11-02T12:00:00Z", true, None);
        // Its window ends a second after the latest start: pending.
        add(
            &mut t,
            "u-3",
            "en",
            "2026-11-02T12:00:01Z",
            false,
            Some(1.0),
        );
        add(&mut t, "u-4", "en", "2026-11-09T12:00:00Z", true, None);
        let (f, _) = t.figures(7, false);
        let o = &f.overall;
        assert_eq!((o.conversations, o.settled, o.pending), (4, 2, 2));
        assert_eq!((o.contained, o.escalated), (2, 0));
        assert_eq!(
            o.csat_escalated, None,
            "a pending conversation's CSAT waits too"
        );
        assert_eq!(f.latest_started_at.as_deref(), Some("2026-11-09T12:00:00Z"));
    }

    /// A small export worked out by hand (window 7 days, latest start 2026-11-20 10:00):
    ///
    /// | conv | customer | lang | start        | contained | csat | repeat? | pending? |
    /// | a    | u-1      | pl   | 11-02 09:00  | yes       | 2    | yes (b, 3 days later) | no |
    /// | b    | u-1      | pl   | 11-05 09:00  | no        | 4    | -        | no |
    /// | c    | u-2      | pl   | 11-03 10:00  | yes       | 5    | no (u-2 never returns) | no |
    /// | d    | u-3      | en   | 11-04 08:00  | yes       | -    | no (e is 8 days later) | no |
    /// | e    | u-3      | en   | 11-12 08:00  | yes       | 3    | no (nothing later) | no |
    /// | f    | u-4      | en   | 11-10 00:00  | no        | 1    | -        | no |
    /// | g    | u-5      | en   | 11-20 10:00  | yes       | -    | -        | yes |
    ///
    /// pl: 3 settled, 2 contained (a, c), 1 escalated; 1 repeat (a); durable 1 (c).
    ///   containment 2/3, escalation 1/3, repeat 1/2, durable 1/3; CSAT contained (2+5)/2 =
    ///   3.5, escalated 4.
    /// en: 4 conversations, 1 pending (g), 3 settled: contained d, e; escalated f; repeat 0;
    ///   durable 2/3; CSAT contained 3 (d has none), escalated 1.
    /// overall: 7, pending 1, settled 6, contained 4, escalated 2, repeat 1, durable 3:
    ///   containment 4/6, repeat 1/4, durable 3/6.
    /// weeks: W45 (11-02..11-08) a b c d; W46 (11-09..11-15) e f; W47 g (pending).
    #[test]
    fn figures_of_a_small_export_match_the_hand_count() {
        let mut t = Tally::default();
        add(&mut t, "u-1", "pl", "2026-11-02T09:00:00Z", true, Some(2.0));
        add(
            &mut t,
            "u-1",
            "pl",
            "2026-11-05T09:00:00Z",
            false,
            Some(4.0),
        );
        add(&mut t, "u-2", "pl", "2026-11-03T10:00:00Z", true, Some(5.0));
        add(&mut t, "u-3", "en", "2026-11-04T08:00:00Z", true, None);
        add(&mut t, "u-3", "en", "2026-11-12T08:00:00Z", true, Some(3.0));
        add(
            &mut t,
            "u-4",
            "en",
            "2026-11-10T00:00:00Z",
            false,
            Some(1.0),
        );
        add(&mut t, "u-5", "en", "2026-11-20T10:00:00Z", true, None);
        let (f, contained) = t.figures(7, true);
        let pl = &f.by_language["pl"];
        assert_eq!(
            (
                pl.conversations,
                pl.settled,
                pl.contained,
                pl.escalated,
                pl.repeat_contacts,
                pl.durably_resolved
            ),
            (3, 3, 2, 1, 1, 1)
        );
        assert_eq!(pl.containment_rate, Some(2.0 / 3.0));
        assert_eq!(pl.escalation_rate, Some(1.0 / 3.0));
        assert_eq!(pl.repeat_contact_rate, Some(0.5));
        assert_eq!(pl.durable_resolution_rate, Some(1.0 / 3.0));
        assert_eq!(
            (pl.csat_contained, pl.csat_escalated),
            (Some(3.5), Some(4.0))
        );
        let en = &f.by_language["en"];
        assert_eq!((en.conversations, en.pending, en.settled), (4, 1, 3));
        assert_eq!((en.repeat_contacts, en.durably_resolved), (0, 2));
        assert_eq!(
            (en.csat_contained, en.csat_escalated),
            (Some(3.0), Some(1.0))
        );
        let o = &f.overall;
        assert_eq!(
            (
                o.conversations,
                o.pending,
                o.settled,
                o.contained,
                o.escalated,
                o.repeat_contacts,
                o.durably_resolved
            ),
            (7, 1, 6, 4, 2, 1, 3)
        );
        assert_eq!(o.repeat_contact_rate, Some(0.25));
        assert_eq!(o.durable_resolution_rate, Some(0.5));
        let weeks: Vec<(&str, u64, u64)> = f
            .by_week
            .iter()
            .map(|(w, m)| (w.as_str(), m.conversations, m.pending))
            .collect();
        assert_eq!(
            weeks,
            vec![("2026-W45", 4, 0), ("2026-W46", 2, 0), ("2026-W47", 1, 1)]
        );
        assert_eq!(f.by_week["2026-W47"].durable_resolution_rate, None);
        assert_eq!(f.by_language_week["pl"]["2026-W45"].conversations, 3);
        assert_eq!(contained["pl"], vec![0, 2]);
        assert_eq!(contained["en"], vec![3, 4], "g is pending, so not sampled");
    }
}
