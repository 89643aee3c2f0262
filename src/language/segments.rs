//! A reply is in the customer's language only if every part of it is. Bots code-switch: a
//! Polish question echoed back and then an English answer, or a Polish answer with an
//! English footer, reads as Polish when the reply is detected as a whole. So the reply is
//! cut into segments (paragraphs, then sentences), codes and ids are set aside, text the
//! customer wrote is skipped, and every segment long enough to detect must be in the
//! expected language.

/// A segment needs this many words and letters (codes aside) for its language to be told;
/// shorter ones ("Thanks!", "Order PL-1234:") say too little to judge.
const MIN_WORDS: usize = 3;
const MIN_LETTERS: usize = 12;

/// The reply's paragraphs and sentences, trimmed, in order.
pub fn segments(reply: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in reply.lines() {
        let mut start = 0;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            // "am 17. März", "bis 28.3.": a full stop after a digit is a date's.
            let after_digit = c == '.' && line[..i].ends_with(|p: char| p.is_ascii_digit());
            let ends = matches!(c, '.' | '!' | '?' | '。' | '！' | '？') && !after_digit;
            let before_space = chars.peek().is_none_or(|(_, next)| next.is_whitespace());
            if ends && before_space {
                let end = i + c.len_utf8();
                push_trimmed(&mut out, &line[start..end]);
                start = end;
            }
        }
        push_trimmed(&mut out, &line[start..]);
    }
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, segment: &'a str) {
    let trimmed = segment.trim();
    if !trimmed.is_empty() {
        out.push(trimmed);
    }
}

/// The words of a segment that carry its language: tokens with digits (order ids, dates,
/// amounts), addresses and links are left out.
pub fn words_for_detection(segment: &str) -> String {
    segment
        .split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !w.contains('@') && !w.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a segment has enough words and letters for its language to be told.
pub fn long_enough(text: &str) -> bool {
    text.split_whitespace().count() >= MIN_WORDS
        && text.chars().filter(|c| c.is_alphabetic()).count() >= MIN_LETTERS
}

/// The segment repeats what the customer wrote: its language is the customer's doing.
pub fn quoted_from_customer(segment: &str, customer: &[&str]) -> bool {
    let needle = normalized(segment);
    !needle.is_empty()
        && customer
            .iter()
            .any(|said| normalized(said).contains(&needle))
}

/// Lower-case letters and digits, single-spaced: quotes, punctuation and case aside.
fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_cut_into_paragraphs_and_sentences() {
        assert_eq!(
            segments("Gdzie jest moje zamówienie PL-52904?\n\nThe answer is no. Thanks!"),
            [
                "Gdzie jest moje zamówienie PL-52904?",
                "The answer is no.",
                "Thanks!"
            ]
        );
        // A date's full stop inside a sentence is not its end.
        assert_eq!(
            segments("Die Erstattung kommt bis zum 28.3. an"),
            ["Die Erstattung kommt bis zum 28.3. an"]
        );
    }

    #[test]
    fn codes_and_addresses_do_not_count_as_words() {
        assert_eq!(
            words_for_detection(
                "Order GB-50318, tracking RM482913650GB, mail help@northwind.example"
            ),
            "Order tracking mail"
        );
        assert!(!long_enough(&words_for_detection("Order GB-50318 shipped")));
        assert!(long_enough("The answer is no."));
        assert!(!long_enough("Thanks a lot!"));
    }

    #[test]
    fn text_the_customer_wrote_is_recognised_whatever_the_quotes() {
        let customer = ["hej, gdzie jest moje zamówienie PL-52904? czekam od tygodnia"];
        assert!(quoted_from_customer(
            "„Gdzie jest moje zamówienie PL-52904?”",
            &customer
        ));
        assert!(!quoted_from_customer(
            "Twoje zamówienie jest w drodze.",
            &customer
        ));
        assert!(!quoted_from_customer("?!", &customer));
    }
}
