//! Calendar time without a date crate: RFC 3339 parsed to seconds since the epoch and
//! written back (run ids and `started_at` of runs, production exports), and the ISO week a
//! conversation started in. evalgate needs exactly these, on a million lines for
//! `monitor`, and nothing else.

/// Seconds in a day; a repeat-contact window is a whole number of them.
pub const DAY: i64 = 86_400;

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 time such as `2026-11-02T09:14:00Z`
/// or `2026-11-02T10:14:00.250+01:00`. Fractions of a second are dropped: the repeat
/// window is counted in whole seconds. A leap second (`:60`) reads as the second before.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let b = text.as_bytes();
    let bad = || format!("expected an RFC 3339 time such as 2026-11-02T09:14:00Z, got {text:?}");
    if b.len() < 20 {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let digits = &b[range];
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        } else {
            Err(bad())
        }
    };
    let separators_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !separators_ok {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(format!("{text:?} is not a date in the calendar"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("{text:?} is not a time of day"));
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &rest[1 + digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| -> Result<i64, String> {
                if a.is_ascii_digit() && b.is_ascii_digit() {
                    Ok(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
                } else {
                    Err(bad())
                }
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return Err(format!("{text:?} has an offset beyond ±23:59"));
            }
            let seconds = h * 3600 + m * 60;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * DAY + hour * 3600 + minute * 60 + second.min(59) - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// An ISO 8601 week: weeks start on Monday, and week 1 is the one holding the year's
/// first Thursday, so 1 January may belong to the last week of the year before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    pub year: i64,
    pub week: u32,
}

impl IsoWeek {
    /// The week (of UTC) that an instant falls in.
    pub fn of(epoch_seconds: i64) -> IsoWeek {
        let days = epoch_seconds.div_euclid(DAY);
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = (days + 3).rem_euclid(7);
        let thursday = days - weekday + 3;
        let (year, _, _) = civil_from_days(thursday);
        let ordinal = thursday - days_from_civil(year, 1, 1);
        IsoWeek {
            year,
            week: (ordinal / 7 + 1) as u32,
        }
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// `2026-11-02T09:14:00Z`.
pub fn format_rfc3339(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(DAY);
    let secs = epoch_seconds.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `20261102-091400`, for folder names.
pub fn compact_stamp(epoch_seconds: i64) -> String {
    let text = format_rfc3339(epoch_seconds);
    text[..19].replace(['-', ':'], "").replace('T', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        parse_rfc3339(text).unwrap()
    }

    #[test]
    fn parses_utc_offsets_and_fractions() {
        assert_eq!(at("1970-01-01T00:00:00Z"), 0);
        assert_eq!(at("2026-11-02T09:14:00Z"), 1_793_610_840);
        assert_eq!(at("2026-11-02T10:14:00+01:00"), at("2026-11-02T09:14:00Z"));
        assert_eq!(at("2026-11-02T04:44:00-04:30"), at("2026-11-02T09:14:00Z"));
        assert_eq!(at("2026-11-02T09:14:00.999Z"), at("2026-11-02T09:14:00Z"));
        assert_eq!(at("2026-11-02 09:14:00z"), at("2026-11-02T09:14:00Z"));
        assert_eq!(at("2024-02-29T00:00:00Z") + DAY, at("2024-03-01T00:00:00Z"));
        assert_eq!(at("1969-12-31T23:59:59Z"), -1);
        assert_eq!(at("2016-12-31T23:59:60Z"), at("2016-12-31T23:59:59Z"));
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for bad in [
            "",
            "2026-11-02",
            "2026-11-02T09:14:00",
            "2026-11-02T09:14Z",
            "2026/11/02T09:14:00Z",
            "2026-13-02T09:14:00Z",
            "2026-02-29T09:14:00Z",
            "2026-04-31T09:14:00Z",
            "2026-11-02T24:00:00Z",
            "2026-11-02T09:60:00Z",
            "2026-11-02T09:14:00+0100",
            "2026-11-02T09:14:00+24:00",
            "2026-11-02T09:14:00.Z",
            "2026-11-02T09:14:00Zjunk",
            "yesterday at nine o'clock",
            "２０２６-11-02T09:14:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_795_437_296), "2026-11-23T12:34:56Z");
    }

    #[test]
    fn round_trips_through_the_formatter() {
        for t in [0, 1_793_610_840, -86_401, 4_102_444_800] {
            assert_eq!(at(&format_rfc3339(t)), t);
        }
        assert_eq!(compact_stamp(1_793_610_840), "20261102-091400");
    }

    fn week(date: &str) -> String {
        IsoWeek::of(at(&format!("{date}T12:00:00Z"))).to_string()
    }

    #[test]
    fn iso_weeks_at_the_year_edges() {
        // 2026-01-01 is a Thursday: week 1 of 2026 starts on Monday 2025-12-29.
        assert_eq!(week("2026-01-01"), "2026-W01");
        assert_eq!(week("2025-12-29"), "2026-W01");
        assert_eq!(week("2025-12-28"), "2025-W52");
        // 2026 has 53 weeks; 2027-01-01 (a Friday) is still in its last one.
        assert_eq!(week("2026-12-31"), "2026-W53");
        assert_eq!(week("2027-01-01"), "2026-W53");
        assert_eq!(week("2027-01-03"), "2026-W53");
        assert_eq!(week("2027-01-04"), "2027-W01");
        // 2021-01-01 (Friday) belongs to 2020-W53; 2019-12-30 (Monday) to 2020-W01.
        assert_eq!(week("2021-01-01"), "2020-W53");
        assert_eq!(week("2019-12-30"), "2020-W01");
        assert_eq!(week("2026-11-02"), "2026-W45");
        assert_eq!(week("1970-01-01"), "1970-W01");
    }

    #[test]
    fn a_week_runs_monday_to_sunday_in_utc() {
        let monday = at("2026-11-02T00:00:00Z");
        assert_eq!(IsoWeek::of(monday - 1).to_string(), "2026-W44");
        assert_eq!(IsoWeek::of(monday).to_string(), "2026-W45");
        assert_eq!(IsoWeek::of(monday + 7 * DAY - 1).to_string(), "2026-W45");
        // An offset time counts by its UTC instant.
        assert_eq!(
            IsoWeek::of(at("2026-11-02T00:30:00+01:00")).to_string(),
            "2026-W44"
        );
    }
}
