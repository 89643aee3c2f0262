//! Personal data in real tickets, masked before a ticket becomes a case in a repository:
//! email addresses, IBANs and card numbers (each checked by its checksum, so an order
//! number of the same length stays), and phone numbers. Masking errs on the side of the
//! customer: a long number that looks like a phone number is masked too.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// How many of each kind were masked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Masked {
    pub emails: usize,
    pub ibans: usize,
    pub cards: usize,
    pub phones: usize,
}

impl Masked {
    pub fn total(&self) -> usize {
        self.emails + self.ibans + self.cards + self.phones
    }

    pub fn add(&mut self, other: Masked) {
        self.emails += other.emails;
        self.ibans += other.ibans;
        self.cards += other.cards;
        self.phones += other.phones;
    }

    /// `2 email addresses, 1 card number`, the kinds found only.
    pub fn describe(&self) -> String {
        let kinds = [
            (self.emails, "email address", "email addresses"),
            (self.ibans, "IBAN", "IBANs"),
            (self.cards, "card number", "card numbers"),
            (self.phones, "phone number", "phone numbers"),
        ];
        kinds
            .iter()
            .filter(|(n, ..)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("email pattern")
});
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b").expect("IBAN pattern")
});
/// 13 to 19 digits, in groups separated by single spaces or dashes.
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9](?:[ -]?[0-9]){12,18}\b").expect("card pattern"));
/// An optional `+` or `(`, then digits with spaces, dashes, dots and brackets between.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\()?[0-9](?:[ ./()-]{0,2}[0-9]){6,18}").expect("phone pattern")
});

/// `text` with personal data replaced by `[email]`, `[iban]`, `[card]` and `[phone]`.
pub fn mask(text: &str) -> (String, Masked) {
    let mut masked = Masked::default();
    let text = EMAIL.replace_all(text, |_: &Captures| {
        masked.emails += 1;
        "[email]"
    });
    let text = IBAN.replace_all(&text, |c: &Captures| {
        if iban_checks(&c[0]) {
            masked.ibans += 1;
            "[iban]".to_string()
        } else {
            c[0].to_string()
        }
    });
    let text = CARD.replace_all(&text, |c: &Captures| {
        if luhn_checks(&c[0]) {
            masked.cards += 1;
            "[card]".to_string()
        } else {
            c[0].to_string()
        }
    });
    let text = PHONE.replace_all(&text, |c: &Captures| {
        let found = &c[0];
        let digits = found.chars().filter(char::is_ascii_digit).count();
        // Dates (8 digits) and short order numbers stay; an international number may be
        // as short as 7 digits after its `+`.
        let international = found.starts_with('+');
        if (international && digits >= 7 || digits >= 9) && digits <= 15 {
            masked.phones += 1;
            "[phone]".to_string()
        } else {
            found.to_string()
        }
    });
    (text.into_owned(), masked)
}

/// The Luhn checksum every payment card number carries.
fn luhn_checks(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: the country and check digits moved to the end, letters as numbers, mod 97 = 1.
fn iban_checks(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| *c != ' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        let step = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * step + value) % 97;
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_kind_and_counts_it() {
        let text = "Jestem anna.kowalska@example.pl, tel. +48 600 123 456 albo (030) 1234-5678. Karta 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00.";
        let (out, m) = mask(text);
        assert_eq!(
            out,
            "Jestem [email], tel. [phone] albo [phone]. Karta [card], IBAN [iban]."
        );
        assert_eq!(
            m,
            Masked {
                emails: 1,
                ibans: 1,
                cards: 1,
                phones: 2
            }
        );
        assert_eq!(
            m.describe(),
            "1 email address, 1 IBAN, 1 card number, 2 phone numbers"
        );
    }

    #[test]
    fn order_numbers_dates_and_amounts_stay() {
        let text = "Order PL-1234 of 2026-11-28 for 129.99 zł, ticket 12345678.";
        let (out, m) = mask(text);
        assert_eq!(out, text);
        assert_eq!(m.total(), 0);
    }

    #[test]
    fn a_number_that_fails_luhn_is_no_card() {
        // 16 digits, Luhn fails: still long enough to be masked as a phone number? No:
        // more than 15 digits is no phone number either.
        let (out, m) = mask("ref 4111 1111 1111 1112");
        assert_eq!(out, "ref 4111 1111 1111 1112");
        assert_eq!(m.total(), 0);
    }

    #[test]
    fn checksums() {
        assert!(luhn_checks("5500-0000-0000-0004"));
        assert!(!luhn_checks("5500-0000-0000-0005"));
        assert!(iban_checks("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_checks("GB82 WEST 1234 5698 7654 33"));
    }
}
