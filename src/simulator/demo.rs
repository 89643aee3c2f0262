//! The built-in deterministic customer: opens with the case's opening (or its goal),
//! answers the bot's question with the fact it asks for, thanks and stops once the bot
//! has answered, and gives up at its last message. No model, no network: simulated cases
//! run as is with the demo bot.

use crate::evalset::{Case, Simulation};
use crate::result::{Role, TranscriptTurn};

use super::{STOP_MARKER, fact_text};

pub const MODEL: &str = "evalgate-demo-customer";
/// Stands for this customer's "prompt" in the comparability key: bump it when the
/// behaviour below changes.
pub const RULES: &str = "evalgate demo customer v1: opening or goal; asked fact; thanks; give up";

/// Words a bot uses to ask for a fact, by the fact's name, in the shipped languages.
const ASKS: [(&[&str], &[&str]); 5] = [
    (
        &["order_id", "order", "order_number"],
        &[
            "order number",
            "order id",
            "ordernummer",
            "beställningsnummer",
            "bestellnummer",
            "numer zamówienia",
            "numeru zamówienia",
            "número de pedido",
            "numero de pedido",
        ],
    ),
    // Not a bare "email": a bot that mentions the confirmation email asks for no address.
    (
        &["email", "e-mail"],
        &[
            "email address",
            "e-mail address",
            "e-postadress",
            "e-mail-adresse",
            "adres e-mail",
            "adres email",
            "correo electrónico",
            "dirección de correo",
        ],
    ),
    (
        &["phone", "phone_number"],
        &["phone", "telefon", "teléfono", "numer telefonu"],
    ),
    (
        &["name", "full_name"],
        &[
            "your name",
            "ditt namn",
            "ihren namen",
            "imię",
            "nazwisko",
            "tu nombre",
        ],
    ),
    (
        &["card_last4"],
        &[
            "last four",
            "last 4",
            "sista fyra",
            "letzten vier",
            "ostatnie cztery",
            "últimos cuatro",
        ],
    ),
];

/// Per language: giving a fact, thanking, giving up.
fn phrases(language: &str) -> (&'static str, &'static str, &'static str) {
    match language {
        "sv" => (
            "Absolut, det är {}.",
            "Tack, det var allt jag behövde.",
            "Strunt samma, jag försöker på annat sätt.",
        ),
        "de" => (
            "Klar, das ist {}.",
            "Danke, mehr brauchte ich nicht.",
            "Schon gut, ich versuche es anders.",
        ),
        "pl" => (
            "Jasne, to {}.",
            "Dziękuję, to wszystko.",
            "Nieważne, spróbuję inaczej.",
        ),
        "es" => (
            "Claro, es {}.",
            "Gracias, eso es todo lo que necesitaba.",
            "Da igual, lo intentaré de otra forma.",
        ),
        _ => (
            "Sure, it's {}.",
            "Thank you, that's all I needed.",
            "Never mind, I'll try another way.",
        ),
    }
}

/// The customer's next message, with the stop marker when the conversation should end.
pub fn next_message(case: &Case, simulation: &Simulation, transcript: &[TranscriptTurn]) -> String {
    let said: Vec<&str> = transcript
        .iter()
        .filter(|t| t.role == Role::User)
        .map(|t| t.content.as_str())
        .collect();
    let Some(reply) = transcript
        .iter()
        .rev()
        .find(|t| t.role == Role::Assistant)
        .map(|t| t.content.to_lowercase())
    else {
        return simulation
            .opening
            .clone()
            .unwrap_or_else(|| simulation.goal.clone());
    };
    let (give, thanks, give_up) = phrases(&case.language);
    let asked: Vec<String> = simulation
        .facts
        .iter()
        .filter(|(name, _)| asks_for(&reply, name))
        .map(|(_, value)| fact_text(value))
        .filter(|value| !said.iter().any(|s| s.contains(value.as_str())))
        .collect();
    if !asked.is_empty() {
        return give.replace("{}", &asked.join(", "));
    }
    let last_message = said.len() as u32 + 1 >= simulation.max_turns;
    if reply.contains('?') {
        // A question for something the customer does not have: the goal again, once.
        if last_message || said.iter().any(|s| *s == simulation.goal) {
            return format!("{give_up} {STOP_MARKER}");
        }
        return simulation.goal.clone();
    }
    format!("{thanks} {STOP_MARKER}")
}

/// Whether the bot's reply (lowercased) asks for the fact with this name.
fn asks_for(reply: &str, fact: &str) -> bool {
    let fact = fact.to_lowercase();
    match ASKS
        .iter()
        .find(|(names, _)| names.contains(&fact.as_str()))
    {
        Some((_, words)) => words.iter().any(|w| reply.contains(w)),
        None => reply.contains(&fact.replace('_', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn case(language: &str, opening: &str) -> Case {
        let yaml = format!(
            "language: {language}\ncases:\n  - id: s\n    stratum: routine\n    simulate:\n      persona: Anna\n      goal: I want my refund\n      facts: {{ order_id: PL-1234 }}\n{opening}      max_turns: 4\n    expect:\n      outcome: resolve\n"
        );
        crate::evalset::load_file(Path::new("x.yaml"), &yaml)
            .unwrap()
            .remove(0)
    }

    fn turn(role: Role, content: &str) -> TranscriptTurn {
        TranscriptTurn::said(role, content)
    }

    #[test]
    fn opens_gives_the_asked_fact_then_thanks() {
        let c = case("en", "");
        let s = c.simulate.clone().unwrap();
        assert_eq!(next_message(&c, &s, &[]), "I want my refund");
        let mut t = vec![
            turn(Role::User, "I want my refund"),
            turn(Role::Assistant, "Could you send me the order number?"),
        ];
        assert_eq!(next_message(&c, &s, &t), "Sure, it's PL-1234.");
        t.push(turn(Role::User, "Sure, it's PL-1234."));
        t.push(turn(Role::Assistant, "Your refund arrives on 3 May."));
        assert_eq!(
            next_message(&c, &s, &t),
            format!("Thank you, that's all I needed. {STOP_MARKER}")
        );
        let opening = case("pl", "      opening: \"Gdzie jest mój zwrot?\"\n");
        let s = opening.simulate.clone().unwrap();
        assert_eq!(next_message(&opening, &s, &[]), "Gdzie jest mój zwrot?");
        let asked = [
            turn(Role::User, "Gdzie jest mój zwrot?"),
            turn(Role::Assistant, "Czy możesz podać numer zamówienia?"),
        ];
        assert_eq!(next_message(&opening, &s, &asked), "Jasne, to PL-1234.");
    }

    #[test]
    fn gives_up_when_the_bot_goes_nowhere() {
        let c = case("en", "");
        let s = c.simulate.clone().unwrap();
        let t = vec![
            turn(Role::User, "I want my refund"),
            turn(Role::Assistant, "What can I help you with?"),
            turn(Role::User, "I want my refund"),
            turn(Role::Assistant, "What can I help you with?"),
        ];
        assert!(next_message(&c, &s, &t).ends_with(STOP_MARKER));
        assert!(next_message(&c, &s, &t).starts_with("Never mind"));
    }
}
