//! Order numbers in what the customer wrote: `PL-1234`, `NW-40917`, `#204518`.

use std::sync::LazyLock;

use regex::Regex;

static ORDER_NUMBER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:\b[A-Za-z]{2,4}-\d{3,10}\b)|(?:#\d{4,10}\b)|(?:\b\d{6,10}\b)").ok()
});

/// The order number the customer gave last, as written (without a leading `#`).
pub fn latest(user_turns: &[&str]) -> Option<String> {
    let pattern = ORDER_NUMBER.as_ref()?;
    user_turns.iter().rev().find_map(|turn| {
        pattern
            .find_iter(turn)
            .last()
            .map(|m| m.as_str().trim_start_matches('#').to_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_order_number_given() {
        assert_eq!(latest(&["where is my refund?"]), None);
        assert_eq!(
            latest(&["my order pl-1234", "sorry, it's PL-5678."]),
            Some("PL-5678".into())
        );
        assert_eq!(latest(&["Order #204518 please"]), Some("204518".into()));
        assert_eq!(latest(&["it cost 42.50 on 2026-05-14"]), None);
    }
}
