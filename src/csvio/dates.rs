//! Dates in CSV files.
//!
//! Import: Excel rewrites ISO dates into its own forms when a file passes through it —
//! `11/5/2021`, `11/5/21`, `11/5/2021 14:10`, `11/5/2021 14:10:22`, `11/5/2021 2:10 PM`,
//! European `5.11.2021`, and sometimes the serial number `44505`. [`normalize_excel_date`]
//! turns those into ISO 8601 text without offset, which the one user-date parser
//! (`domain::dates::parse_user_datetime`) then reads in the site's time zone; ISO input
//! passes through untouched. Slashes are month/day/year (Excel US), unless the first
//! number cannot be a month. Two-digit years follow Excel: 00–29 → 2000s, 30–99 → 1900s.
//!
//! Export: the stored timestamps (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) are turned into the wire
//! form (`format_wire_utc`) by string work, without a calendar round trip, on the hot path.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use std::borrow::Cow;

/// Reads `text` as one of Excel's date forms and returns it as ISO 8601 without offset
/// (`2021-11-05` or `2021-11-05T14:10:00`). Text that is not Excel-shaped is returned as
/// it is; Excel-shaped text that is not a real date or time is an error with the reason.
pub fn normalize_excel_date(text: &str) -> Result<Cow<'_, str>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Cow::Borrowed(text));
    }
    if let Some(serial) = excel_serial(t) {
        return serial.map(Cow::Owned);
    }
    let (date_part, time_part) = match t.split_once(' ') {
        Some((d, rest)) => (d, Some(rest.trim())),
        None => (t, None),
    };
    let sep = if date_part.contains('/') {
        '/'
    } else if date_part.matches('.').count() == 2 && !date_part.contains('-') {
        '.'
    } else {
        return Ok(Cow::Borrowed(text));
    };
    let parts: Vec<&str> = date_part.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("{t:?} is not a date (expected e.g. 11/5/2021, 11/5/21 14:10 or 2021-11-05)"));
    }
    let num = |s: &str| s.parse::<u32>().unwrap_or(0);
    let (a, b, y) = (num(parts[0]), num(parts[1]), parts[2]);
    let year = match y.len() {
        4 => num(y) as i32,
        1 | 2 => {
            let yy = num(y) as i32;
            if yy < 30 {
                2000 + yy
            } else {
                1900 + yy
            }
        }
        _ => return Err(format!("{t:?}: the year {y:?} should have 2 or 4 digits")),
    };
    // Slashes: month/day (Excel US) unless the first number cannot be a month; dots: day.month.
    let (month, day) = if sep == '/' && a <= 12 { (a, b) } else { (b, a) };
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| format!("{t:?} is not a calendar date"))?;
    let Some(time_text) = time_part else {
        return Ok(Cow::Owned(date.format("%Y-%m-%d").to_string()));
    };
    let time = parse_excel_time(time_text).ok_or_else(|| {
        format!("{t:?}: the time {time_text:?} is not a time (expected e.g. 14:10, 14:10:22 or 2:10 PM)")
    })?;
    Ok(Cow::Owned(date.and_time(time).format("%Y-%m-%dT%H:%M:%S").to_string()))
}

/// `14:10`, `14:10:22`, `2:10 PM`, `2:10:22 pm`, `2:10PM`.
fn parse_excel_time(text: &str) -> Option<NaiveTime> {
    let upper = text.trim().to_ascii_uppercase();
    let (clock, meridiem) = if let Some(c) = upper.strip_suffix("AM") {
        (c.trim(), Some(false))
    } else if let Some(c) = upper.strip_suffix("PM") {
        (c.trim(), Some(true))
    } else {
        (upper.as_str(), None)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let nums: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (mut h, m, s) = (nums[0], nums[1], nums.get(2).copied().unwrap_or(0));
    match meridiem {
        Some(pm) => {
            if h == 0 || h > 12 {
                return None;
            }
            h = match (pm, h) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
        }
        None if h > 23 => return None,
        None => {}
    }
    NaiveTime::from_hms_opt(h, m, s)
}

/// Excel's serial day numbers (days since 1899-12-30, with an optional fraction of a day),
/// within 1954–2173 so plain numbers that are clearly not dates are left alone.
fn excel_serial(t: &str) -> Option<Result<String, String>> {
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if int.len() != 5 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let days: i64 = int.parse().ok()?;
    if !(20_000..=99_999).contains(&days) {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(NaiveTime::MIN);
    let mut at: NaiveDateTime = epoch + Duration::days(days);
    if let Some(f) = frac {
        let fraction: f64 = format!("0.{f}").parse().ok()?;
        at += Duration::seconds((fraction * 86_400.0).round() as i64);
        return Some(Ok(at.format("%Y-%m-%dT%H:%M:%S").to_string()));
    }
    Some(Ok(at.date().format("%Y-%m-%d").to_string()))
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Fast parse of a stored timestamp (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, as `store::ts` writes);
/// other forms fall back to `store::parse_ts`.
pub fn parse_stored(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() == 27 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z' {
        let date = NaiveDate::from_ymd_opt(digits(&b[0..4])? as i32, digits(&b[5..7])?, digits(&b[8..10])?)?;
        let time = NaiveTime::from_hms_micro_opt(
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
            digits(&b[20..26])?,
        )?;
        return Some(date.and_time(time).and_utc());
    }
    crate::store::parse_ts(text)
}

/// Appends the wire form of a stored timestamp to `out`: the same text as
/// `format_wire_utc(parse_ts(stored))` (fraction only when non-zero, 3 or 6 digits).
pub fn push_wire_utc(stored: &str, out: &mut Vec<u8>) {
    let b = stored.as_bytes();
    if b.len() == 27 && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z' && b[20..26].iter().all(u8::is_ascii_digit) {
        out.extend_from_slice(&b[..19]);
        let frac = &b[20..26];
        if frac != b"000000" {
            out.push(b'.');
            if &frac[3..] == b"000" {
                out.extend_from_slice(&frac[..3]);
            } else {
                out.extend_from_slice(frac);
            }
        }
        out.extend_from_slice(b"+00:00");
        return;
    }
    if let Some(dt) = crate::store::parse_ts(stored) {
        out.extend_from_slice(residentdesk_domain::dates::format_wire_utc(dt).as_bytes());
    } else {
        out.extend_from_slice(stored.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn excel_forms_table() {
        let cases = [
            ("11/5/2021", "2021-11-05"),
            ("11/05/2021", "2021-11-05"),
            ("11/5/21", "2021-11-05"),
            ("1/2/99", "1999-01-02"),
            ("11/5/2021 14:10", "2021-11-05T14:10:00"),
            ("11/5/2021 14:10:22", "2021-11-05T14:10:22"),
            ("11/5/2021 2:10 PM", "2021-11-05T14:10:00"),
            ("11/5/21 2:10:22 pm", "2021-11-05T14:10:22"),
            ("11/5/2021 12:05 AM", "2021-11-05T00:05:00"),
            ("11/5/2021 12:05 PM", "2021-11-05T12:05:00"),
            ("25/12/2021", "2021-12-25"),
            ("5.11.2021", "2021-11-05"),
            ("44505", "2021-11-05"),
            ("44505.5", "2021-11-05T12:00:00"),
            // ISO passes through for the user-date parser.
            ("2021-11-05", "2021-11-05"),
            ("2021-11-05T14:10:22-06:00", "2021-11-05T14:10:22-06:00"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_excel_date(input).as_deref(), Ok(expected), "{input}");
        }
        for bad in ["2/30/2021", "13/13/2021", "11/5/2021 25:00", "11/5/2021 13:00 PM", "11/5", "11/5/20211"] {
            assert!(normalize_excel_date(bad).is_err(), "{bad} should be refused");
        }
        // Not Excel-shaped: left for the ISO parser to judge.
        assert_eq!(normalize_excel_date("next tuesday").as_deref(), Ok("next tuesday"));
    }

    #[test]
    fn stored_timestamps_convert_like_format_wire_utc() {
        for micros in [0u32, 844_000, 844_348, 1, 999_999] {
            let dt = Utc.with_ymd_and_hms(2021, 11, 5, 21, 10, 22).unwrap() + Duration::microseconds(micros.into());
            let stored = crate::store::ts(dt);
            let mut out = Vec::new();
            push_wire_utc(&stored, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), residentdesk_domain::dates::format_wire_utc(dt));
            assert_eq!(parse_stored(&stored), Some(dt));
        }
    }

    proptest! {
        #[test]
        fn stored_conversion_matches_chrono(secs in 0i64..4_000_000_000, micros in 0i64..1_000_000) {
            let dt = DateTime::from_timestamp(secs, 0).unwrap() + Duration::microseconds(micros);
            let stored = crate::store::ts(dt);
            let mut out = Vec::new();
            push_wire_utc(&stored, &mut out);
            prop_assert_eq!(String::from_utf8(out).unwrap(), residentdesk_domain::dates::format_wire_utc(dt));
            prop_assert_eq!(parse_stored(&stored), Some(dt));
        }

        #[test]
        fn excel_normalisation_never_panics(s in "\\PC{0,30}") {
            let _ = normalize_excel_date(&s);
        }
    }
}
