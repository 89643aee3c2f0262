//! The demo drafter (`expand: { provider: demo }`): typo drafts written by fixed rules,
//! with no model and no network, so a PM can try expand → check → approve → run on the
//! demo project. Typos are the one kind rules can write honestly; paraphrases,
//! translations, benign twins and attack variants need a model.

use crate::evalset::Case;
use crate::expand::parse::Proposal;

/// What the drafts' summary names as the model.
pub const MODEL: &str = "evalgate-demo-drafter";

/// `count` typo drafts of the case: every customer message with a letter slipped in some
/// of its words, a different slip for each draft.
pub fn typos(case: &Case, count: usize) -> Vec<Proposal> {
    (1..=count)
        .map(|draft| Proposal {
            turns: case.turns.iter().map(|turn| slip(turn, draft)).collect(),
            intent: None,
            context: None,
            expect: None,
        })
        .collect()
}

/// Swaps two neighbouring letters inside every third word long enough to hold a slip,
/// starting at a word that depends on the draft. Words with digits or capitals inside
/// (order numbers, codes, names) are left as written: a customer retypes those carefully,
/// and the case's checks often look for them.
fn slip(text: &str, draft: usize) -> String {
    let mut eligible = 0usize;
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let letters: Vec<char> = word.chars().collect();
        let plain = letters.len() >= 5
            && letters.iter().all(|c| c.is_alphabetic())
            && letters.iter().skip(1).all(|c| c.is_lowercase());
        if !plain {
            out.push_str(word);
            continue;
        }
        eligible += 1;
        if !(eligible + draft).is_multiple_of(3) {
            out.push_str(word);
            continue;
        }
        let mut letters = letters;
        // An interior pair, never the first letter: "wehre" still reads as "where".
        let at = 1 + (draft + eligible) % (letters.len() - 3);
        letters.swap(at, at + 1);
        out.extend(letters);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_draft_slips_other_words_and_keeps_codes_and_names() {
        let text = "Hello, where is my order PL-20577 from InPost? It should have arrived yesterday already.";
        let one = slip(text, 1);
        let two = slip(text, 2);
        assert_ne!(one, text);
        assert_ne!(two, text);
        assert_ne!(one, two);
        for kept in ["PL-20577", "InPost?", "Hello,"] {
            assert!(one.contains(kept) && two.contains(kept), "{one} / {two}");
        }
        assert_eq!(one.split(' ').count(), text.split(' ').count());
        // Only a swap: the same letters, word for word.
        for (a, b) in one.split(' ').zip(text.split(' ')) {
            let mut a: Vec<char> = a.chars().collect();
            let mut b: Vec<char> = b.chars().collect();
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn a_message_with_nothing_to_slip_stays_as_written() {
        assert_eq!(slip("ok PL-1 tak", 1), "ok PL-1 tak");
    }
}
