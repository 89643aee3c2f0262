//! CSV as RFC 4180 writes it: fields quoted with `"` may hold commas, quotes (doubled) and
//! line breaks. Each record keeps the line it starts on, so a bad ticket can be named.
//! A small reader of our own rather than a crate: it is a page, and it knows line numbers.

/// One record: the line it starts on (1-based) and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Every record of `text`; blank lines between records are skipped. Every record must
/// have as many fields as the first (the header).
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            let Some(c) = chars.next() else {
                fields.push(std::mem::take(&mut field));
                break;
            };
            match c {
                '"' if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    let opened = line;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(CsvError {
                                    line: opened,
                                    message: "a quoted field is never closed".into(),
                                });
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',' | '\n' | '\r') => {}
                        Some(_) => {
                            return Err(CsvError {
                                line,
                                message: "text after the closing quote of a field (a quote inside a quoted field is written `\"\"`)".into(),
                            });
                        }
                    }
                }
                '"' => {
                    return Err(CsvError {
                        line,
                        message: "a quote inside an unquoted field (quote the whole field and double the quote)".into(),
                    });
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                c => field.push(c),
            }
        }
        let blank = fields.len() == 1 && fields[0].is_empty() && !quoted_field;
        if !blank {
            records.push(Record {
                line: start,
                fields,
            });
        }
    }
    if let Some(header) = records.first() {
        let width = header.fields.len();
        if let Some(bad) = records.iter().find(|r| r.fields.len() != width) {
            return Err(CsvError {
                line: bad.line,
                message: format!(
                    "{} field{}, but the header has {width}",
                    bad.fields.len(),
                    if bad.fields.len() == 1 { "" } else { "s" }
                ),
            });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: &Record) -> Vec<&str> {
        r.fields.iter().map(String::as_str).collect()
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_breaks() {
        let text =
            "\u{feff}id,text\r\n1,\"Hi, \"\"Ola\"\" here\r\nsecond line\"\r\n\r\n2,plain\n3,\"\"\n";
        let records = parse(text).unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(fields(&records[0]), ["id", "text"]);
        assert_eq!(records[1].line, 2);
        assert_eq!(
            fields(&records[1]),
            ["1", "Hi, \"Ola\" here\r\nsecond line"]
        );
        assert_eq!(records[2].line, 5, "the record after a two-line field");
        assert_eq!(fields(&records[2]), ["2", "plain"]);
        assert_eq!(fields(&records[3]), ["3", ""]);
    }

    #[test]
    fn no_trailing_newline_is_fine() {
        let records = parse("a,b\n1,2").unwrap();
        assert_eq!(fields(&records[1]), ["1", "2"]);
    }

    #[test]
    fn malformed_records_name_their_line() {
        let cases = [
            ("a,b\n1,2\n3\n", 3, "1 field, but the header has 2"),
            ("a,b\n1,\"open\n2,3\n", 2, "never closed"),
            ("a,b\n1,\"x\"y\n", 2, "after the closing quote"),
            ("a,b\n1,x\"y\n", 2, "inside an unquoted field"),
        ];
        for (text, line, words) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(words), "{text:?}: {err}");
        }
    }
}
