//! The five languages the demo bot speaks, how it guesses a customer's language, and the
//! text folding that lets one keyword list match typed-without-diacritics messages.

use whatlang::{Detector, Lang as Wl};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Sv,
    De,
    Pl,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Sv, Lang::De, Lang::Pl, Lang::Es];

    /// Position in the `[en, sv, de, pl, es]` arrays the reply tables are written as.
    pub fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Sv => 1,
            Lang::De => 2,
            Lang::Pl => 3,
            Lang::Es => 4,
        }
    }

    /// Accepts a BCP-47 tag such as `pl` or `de-AT`; other languages are not spoken.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "sv" => Some(Lang::Sv),
            "de" => Some(Lang::De),
            "pl" => Some(Lang::Pl),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The English name of the language, as a prompt author would write it in a directive.
    pub fn from_english_name(name: &str) -> Option<Lang> {
        match name.to_ascii_lowercase().as_str() {
            "english" => Some(Lang::En),
            "swedish" => Some(Lang::Sv),
            "german" => Some(Lang::De),
            "polish" => Some(Lang::Pl),
            "spanish" => Some(Lang::Es),
            _ => None,
        }
    }

    fn from_whatlang(lang: Wl) -> Option<Lang> {
        match lang {
            Wl::Eng => Some(Lang::En),
            Wl::Swe => Some(Lang::Sv),
            Wl::Deu => Some(Lang::De),
            Wl::Pol => Some(Lang::Pl),
            Wl::Spa => Some(Lang::Es),
            _ => None,
        }
    }
}

/// Short messages ("hej, var är mitt paket?") defeat trigram statistics, so common
/// function words and letters unique to one language are counted first.
const MARKERS: [(Lang, &[&str]); 5] = [
    (
        Lang::En,
        &[
            "the", "my", "is", "i", "you", "what", "when", "where", "please", "how", "and", "it",
            "order", "can", "hi",
        ],
    ),
    (
        Lang::Sv,
        &[
            "jag", "och", "min", "mitt", "mina", "är", "det", "inte", "har", "hur", "när", "var",
            "tack", "hej", "kan", "vad",
        ],
    ),
    (
        Lang::De,
        &[
            "ich", "und", "mein", "meine", "ist", "nicht", "wie", "wann", "wo", "bitte", "habe",
            "die", "der", "das", "hallo", "sie",
        ],
    ),
    (
        Lang::Pl,
        &[
            "jest", "nie", "moje", "moja", "mój", "jak", "kiedy", "gdzie", "proszę", "się", "czy",
            "mam", "dzień", "dobry", "mi",
        ],
    ),
    (
        Lang::Es,
        &[
            "el", "la", "mi", "es", "no", "cómo", "cuándo", "dónde", "por", "favor", "que", "de",
            "tengo", "hola", "y", "mis",
        ],
    ),
];

const UNIQUE_LETTERS: [(Lang, &str); 4] = [
    (Lang::Sv, "å"),
    (Lang::De, "ßü"),
    (Lang::Pl, "ąęłśćńźż"),
    (Lang::Es, "ñ¿¡áí"),
];

/// Guesses which of the five languages `text` is written in; `None` when nothing points
/// anywhere (empty text, digits, emoji).
pub fn detect(text: &str) -> Option<Lang> {
    // The opening of a message says which language it is in; the cap bounds the work.
    let text: String = text.chars().take(2000).collect();
    let lower = text.to_lowercase();
    let mut scores = [0usize; 5];
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        for (lang, words) in MARKERS {
            if words.contains(&word) {
                scores[lang.index()] += 2;
            }
        }
    }
    for ch in lower.chars() {
        for (lang, letters) in UNIQUE_LETTERS {
            if letters.contains(ch) {
                scores[lang.index()] += 3;
            }
        }
    }
    let best = scores.iter().copied().max().unwrap_or(0);
    let leaders: Vec<Lang> = Lang::ALL
        .into_iter()
        .filter(|l| best > 0 && scores[l.index()] == best)
        .collect();
    if leaders.len() == 1 {
        return leaders.first().copied();
    }
    let detector = Detector::with_allowlist(vec![Wl::Eng, Wl::Swe, Wl::Deu, Wl::Pol, Wl::Spa]);
    detector
        .detect_lang(&text)
        .and_then(Lang::from_whatlang)
        .or_else(|| leaders.first().copied())
}

/// Lowercases and strips the diacritics of the five languages, so that "zamowienie",
/// "Zamówienie" and "ZAMÓWIENIE" all read the same to the keyword patterns.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        match ch {
            'å' | 'ä' | 'á' | 'à' | 'â' | 'ą' => out.push('a'),
            'ö' | 'ó' | 'ò' | 'ô' | 'ø' => out.push('o'),
            'ü' | 'ú' | 'ù' | 'û' => out.push('u'),
            'é' | 'è' | 'ê' | 'ë' | 'ę' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ß' => out.push_str("ss"),
            'ł' => out.push('l'),
            'ś' => out.push('s'),
            'ć' | 'ç' => out.push('c'),
            'ń' | 'ñ' => out.push('n'),
            'ź' | 'ż' => out.push('z'),
            '\u{2019}' | '\u{2018}' | '`' | '´' => out.push('\''),
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '«' | '»' => out.push('"'),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_names() {
        assert_eq!(Lang::from_tag("de-AT"), Some(Lang::De));
        assert_eq!(Lang::from_tag("PL"), Some(Lang::Pl));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_english_name("Swedish"), Some(Lang::Sv));
    }

    #[test]
    fn detects_short_messages() {
        assert_eq!(detect("hej, var är mitt paket?"), Some(Lang::Sv));
        assert_eq!(detect("Wo ist meine Bestellung?"), Some(Lang::De));
        assert_eq!(detect("gdzie jest moja paczka"), Some(Lang::Pl));
        assert_eq!(detect("¿Dónde está mi pedido?"), Some(Lang::Es));
        assert_eq!(detect("where is my order?"), Some(Lang::En));
        assert_eq!(detect(""), None);
        assert_eq!(detect("12345 !!!"), None);
    }

    #[test]
    fn folding() {
        assert_eq!(fold("ZAMÓWIENIE Łódź"), "zamowienie lodz");
        assert_eq!(
            fold("Rückerstattung für Straße"),
            "ruckerstattung fur strasse"
        );
        assert_eq!(fold("didn\u{2019}t"), "didn't");
    }
}
