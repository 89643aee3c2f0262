//! Reply-language detection, restricted to the languages a suite uses so that short
//! replies are not mistaken for some unrelated language.

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

pub fn is_known_tag(tag: &str) -> bool {
    lang_of(tag).is_some()
}

pub fn known_tags() -> Vec<&'static str> {
    TAGS.iter().map(|(t, _)| *t).collect()
}

/// Detects which of a suite's languages a reply is written in.
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

    #[test]
    fn empty_text_never_matches() {
        assert_eq!(detector().matches("", "pl"), (false, None));
    }
}
