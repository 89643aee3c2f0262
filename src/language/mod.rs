//! Reply-language detection, restricted to the languages a suite uses so that short
//! replies are not mistaken for some unrelated language.

mod segments;

use whatlang::{Detector, Lang};

/// BCP-47 primary tags that evalgate can detect, with the detector's language for each.
const TAGS: &[(&str, Lang)] = &[
    ("af", Lang::Afr),
    ("am", Lang::Amh),
    ("ar", Lang::Ara),
    ("az", Lang::Aze),
    ("be", Lang::Bel),
    ("bg", Lang::Bul),
    ("bn", Lang::Ben),
    ("ca", Lang::Cat),
    ("cs", Lang::Ces),
    ("cy", Lang::Cym),
    ("da", Lang::Dan),
    ("de", Lang::Deu),
    ("el", Lang::Ell),
    ("en", Lang::Eng),
    ("eo", Lang::Epo),
    ("es", Lang::Spa),
    ("et", Lang::Est),
    ("fa", Lang::Pes),
    ("fi", Lang::Fin),
    ("fr", Lang::Fra),
    ("gu", Lang::Guj),
    ("he", Lang::Heb),
    ("hi", Lang::Hin),
    ("hr", Lang::Hrv),
    ("hu", Lang::Hun),
    ("hy", Lang::Hye),
    ("id", Lang::Ind),
    ("it", Lang::Ita),
    ("ja", Lang::Jpn),
    ("jv", Lang::Jav),
    ("ka", Lang::Kat),
    ("km", Lang::Khm),
    ("kn", Lang::Kan),
    ("ko", Lang::Kor),
    ("la", Lang::Lat),
    ("lt", Lang::Lit),
    ("lv", Lang::Lav),
    ("mk", Lang::Mkd),
    ("ml", Lang::Mal),
    ("mr", Lang::Mar),
    ("my", Lang::Mya),
    ("nb", Lang::Nob),
    ("no", Lang::Nob),
    ("ne", Lang::Nep),
    ("nl", Lang::Nld),
    ("or", Lang::Ori),
    ("pa", Lang::Pan),
    ("pl", Lang::Pol),
    ("pt", Lang::Por),
    ("ro", Lang::Ron),
    ("ru", Lang::Rus),
    ("si", Lang::Sin),
    ("sk", Lang::Slk),
    ("sl", Lang::Slv),
    ("sn", Lang::Sna),
    ("sr", Lang::Srp),
    ("sv", Lang::Swe),
    ("ta", Lang::Tam),
    ("te", Lang::Tel),
    ("th", Lang::Tha),
    ("tk", Lang::Tuk),
    ("tl", Lang::Tgl),
    ("tr", Lang::Tur),
    ("uk", Lang::Ukr),
    ("ur", Lang::Urd),
    ("uz", Lang::Uzb),
    ("vi", Lang::Vie),
    ("yi", Lang::Yid),
    ("zh", Lang::Cmn),
    ("zu", Lang::Zul),
];

fn lang_of(tag: &str) -> Option<Lang> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or(tag)
        .to_ascii_lowercase();
    TAGS.iter().find(|(t, _)| *t == primary).map(|(_, l)| *l)
}

fn tag_of(lang: Lang) -> &'static str {
    TAGS.iter()
        .find(|(_, l)| *l == lang)
        .map(|(t, _)| *t)
        .unwrap_or("und")
}

/// The language's name in English, e.g. `Polish` for `pl`, for prompts that ask a model
/// to write in it.
pub fn english_name(tag: &str) -> Option<&'static str> {
    lang_of(tag).map(|l| l.eng_name())
}

pub fn is_known_tag(tag: &str) -> bool {
    lang_of(tag).is_some()
}

pub fn known_tags() -> Vec<&'static str> {
    TAGS.iter().map(|(t, _)| *t).collect()
}

/// Detects which of a suite's languages a reply is written in.
/// How sure the detector must be before a segment counts as another language.
const MIN_STRAY_CONFIDENCE: f64 = 0.25;

/// What the language check found in a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageCheck {
    pub passed: bool,
    /// The language of the reply as a whole.
    pub detected: Option<&'static str>,
    /// The reply as a whole reads as the expected language.
    pub whole_matches: bool,
    /// The first segment in another language, and that language.
    pub stray: Option<(String, &'static str)>,
}

pub struct LanguageDetector {
    detector: Detector,
}

impl LanguageDetector {
    /// English is always a candidate besides the suite's own languages: it is the
    /// language a drifting bot most often falls back to, and a one-language allowlist
    /// could otherwise never report a mismatch.
    pub fn for_languages(tags: &[String]) -> Self {
        let mut langs: Vec<Lang> = tags.iter().filter_map(|t| lang_of(t)).collect();
        langs.push(Lang::Eng);
        langs.sort_by_key(|l| l.code());
        langs.dedup();
        LanguageDetector {
            detector: Detector::with_allowlist(langs),
        }
    }

    /// The BCP-47 tag of the reply's language, or `None` when the text has no letters to go by.
    pub fn detect(&self, text: &str) -> Option<&'static str> {
        self.detector.detect_lang(text).map(tag_of)
    }

    /// Whether `text` is in the language `expected` names (primary tags compared).
    /// Whether a reply is in the expected language: every segment long enough to detect
    /// (codes and ids aside, text the customer wrote skipped) must be. A reply with no such
    /// segment is judged as a whole.
    pub fn check(&self, reply: &str, expected: &str, customer: &[&str]) -> LanguageCheck {
        let (whole, detected) = self.matches(reply, expected);
        let expected_lang = lang_of(expected);
        let mut judged = 0;
        for segment in segments::segments(reply) {
            if segments::quoted_from_customer(segment, customer) {
                continue;
            }
            let words = segments::words_for_detection(segment);
            if !segments::long_enough(&words) {
                continue;
            }
            // A segment whatlang cannot place says nothing either way; nor does a short
            // one it places with little confidence ("Hen tar över chatten inom kort." reads
            // as German at 0.06).
            let Some(info) = self.detector.detect(&words) else {
                continue;
            };
            let found = info.lang();
            if Some(found) != expected_lang && info.confidence() < MIN_STRAY_CONFIDENCE {
                continue;
            }
            judged += 1;
            if Some(found) != expected_lang {
                return LanguageCheck {
                    passed: false,
                    detected,
                    whole_matches: whole,
                    stray: Some((segment.to_string(), tag_of(found))),
                };
            }
        }
        LanguageCheck {
            passed: judged > 0 || whole,
            detected,
            whole_matches: whole,
            stray: None,
        }
    }

    pub fn matches(&self, text: &str, expected: &str) -> (bool, Option<&'static str>) {
        let detected = self.detect(text);
        let expected_lang = lang_of(expected);
        let ok = match (detected.and_then(lang_of), expected_lang) {
            (Some(d), Some(e)) => d == e,
            _ => false,
        };
        (ok, detected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> LanguageDetector {
        LanguageDetector::for_languages(&["pl".into(), "sv".into(), "de".into()])
    }

    #[test]
    fn detects_suite_languages() {
        let d = detector();
        assert_eq!(
            d.detect("Twój zwrot jest w trakcie realizacji i dotrze do 28 listopada."),
            Some("pl")
        );
        assert_eq!(
            d.detect("Din återbetalning behandlas och kommer senast den 28 november."),
            Some("sv")
        );
        assert_eq!(
            d.detect("Your refund is being processed and will arrive by 28 November."),
            Some("en")
        );
    }

    #[test]
    fn matches_on_primary_tag() {
        let d = detector();
        let (ok, _) = d.matches(
            "Ihre Erstattung wird bearbeitet und kommt bis zum 28. November an.",
            "de-AT",
        );
        assert!(ok);
        let (ok, got) = d.matches("Your refund is being processed and will arrive soon.", "pl");
        assert!(!ok);
        assert_eq!(got, Some("en"));
    }

    /// (language, a customer's question, a right answer in that language, an English
    /// sentence a code-switching bot adds).
    const MIXED: [(&str, &str, &str, &str); 4] = [
        (
            "sv",
            "Var är min beställning SE-48213? Jag har väntat i två veckor.",
            "Din beställning SE-48213 har skickats med PostNord och kommer fram den 17 mars.",
            "The answer is no.",
        ),
        (
            "de",
            "Wo ist meine Bestellung DE-30418? Ich warte schon seit zwei Wochen.",
            "Ihre Bestellung DE-30418 wurde mit DHL verschickt und kommt am 17. März an.",
            "Thank you for your message.",
        ),
        (
            "pl",
            "Gdzie jest moje zamówienie PL-52904? Czekam już dwa tygodnie.",
            "Twoje zamówienie PL-52904 zostało wysłane przez InPost i dotrze do 17 marca.",
            "The answer is no.",
        ),
        (
            "es",
            "¿Dónde está mi pedido ES-71418? Llevo dos semanas esperando.",
            "Tu pedido ES-71418 se ha enviado con Correos y llegará el 17 de marzo.",
            "Thank you for your message.",
        ),
    ];

    fn every_shipped_language() -> LanguageDetector {
        let tags = ["en", "sv", "de", "pl", "es"].map(String::from);
        LanguageDetector::for_languages(&tags)
    }

    /// The customer's question echoed, then an English answer: not the customer's language,
    /// though the reply as a whole reads as theirs.
    #[test]
    fn an_echoed_question_and_an_english_answer_do_not_match() {
        let d = every_shipped_language();
        for (tag, question, _, english) in MIXED {
            let reply = format!("{question}\n\n{english}");
            let found = d.check(&reply, tag, &[question]);
            assert!(!found.passed, "{tag}: {found:?}");
            assert_eq!(found.stray, Some((english.to_string(), "en")), "{tag}");
        }
    }

    /// A right answer with an English footer does not match either.
    #[test]
    fn an_english_footer_does_not_match() {
        let d = every_shipped_language();
        for (tag, question, answer, english) in MIXED {
            let reply = format!("{answer}\n\n{english}");
            let found = d.check(&reply, tag, &[question]);
            assert!(!found.passed, "{tag}: {found:?}");
            assert_eq!(found.detected, Some(tag), "the whole reads as {tag}");
        }
        let found = d.check(
            "Your order GB-50318 has shipped with Royal Mail and will arrive on 17 March.\n\nUn saludo del equipo de soporte.",
            "en",
            &[],
        );
        assert_eq!(found.stray.map(|s| s.1), Some("es"));
    }

    /// Order ids, quoting the customer and short closings are no reason to fail.
    #[test]
    fn answers_in_the_language_pass_with_ids_quotes_and_closings() {
        let d = every_shipped_language();
        for (tag, question, answer, _) in MIXED {
            let reply = format!("{question}\n\n{answer} OK!");
            let found = d.check(&reply, tag, &[question]);
            assert!(found.passed, "{tag}: {found:?}");
        }
        // Short segments placed with little confidence are not judged.
        let reply = "Jag förstår att det här känns tungt just nu. Hen tar över chatten inom kort.";
        assert!(d.check(reply, "sv", &[]).passed);
    }

    #[test]
    fn empty_text_never_matches() {
        assert_eq!(detector().matches("", "pl"), (false, None));
    }
}
