//! Date and time formats: what people type, and what the v2 wire carries.
//!
//! People type `YYYY-MM-DD` (midnight in the site's time zone) or a full ISO 8601 instant;
//! a date-time without an offset is read in the site's time zone. The wire carries
//! `...UTC` fields with an explicit `+00:00` offset and local fields without one.
//!
//! A resident's dates are kept as UTC instants (the wire's `...UTC` fields), but a person
//! reads and types them as **the site's calendar day**: [`site_local`] turns an instant into
//! that day (and its wall-clock time when it is not midnight), [`site_today`] is "today" at
//! the site. Every edge shows these, so no screen converts a date by hand.

use crate::rules::{local_to_utc, RuleError};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

/// Parses a date or date-time typed by a person, for the field `field`: with an offset, that
/// instant; without one, wall-clock time in the site's zone `tz` (a bare date: midnight).
pub fn parse_user_datetime(field: &str, text: &str, tz: Tz) -> Result<DateTime<Utc>, RuleError> {
    parse_datetime_reading(field, text, |naive| local_to_utc(naive, tz))
}

/// Parses a date or date-time from a field whose name says UTC (`ActivationDateUTC` in a CSV
/// file that Excel saved again, without the offset): with an offset, that instant; a
/// date-time without one is UTC. A bare date has no time of day to be UTC or not: it names a
/// day at the site, midnight in `tz`, as everywhere else. The forms of [`parse_user_datetime`].
pub fn parse_utc_datetime(field: &str, text: &str, tz: Tz) -> Result<DateTime<Utc>, RuleError> {
    if let Ok(d) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(crate::rules::local_midnight(d, tz));
    }
    parse_datetime_reading(field, text, |naive| naive.and_utc())
}

/// The forms people type; `naive` says what a date-time without an offset means.
fn parse_datetime_reading(
    field: &str,
    text: &str,
    naive: impl Fn(NaiveDateTime) -> DateTime<Utc>,
) -> Result<DateTime<Utc>, RuleError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(RuleError::Required { field: field.to_string() });
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(naive(d.and_time(chrono::NaiveTime::MIN)));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(naive(n));
        }
    }
    Err(RuleError::Invalid {
        field: field.to_string(),
        reason: format!("{t:?} is not a date (expected YYYY-MM-DD or ISO 8601 such as 2026-11-05T14:10:00-06:00)"),
        why: Some(crate::rules::InvalidWhy::NotADate),
    })
}

/// An instant as a person at the site reads it: the site's calendar day, and the wall-clock
/// time when it is not the day's first minute (a stay typed as a date starts at midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteLocal {
    pub day: NaiveDate,
    /// `None` at midnight (what a date typed without a time becomes).
    pub time: Option<NaiveTime>,
}

impl SiteLocal {
    /// `YYYY-MM-DD`: what the forms show and accept back unchanged.
    pub fn day_text(&self) -> String {
        day_text(self.day)
    }
    /// `HH:MM`, when there is a time of day.
    pub fn time_text(&self) -> Option<String> {
        self.time.map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
    }
}

/// `at` in the site's zone `tz`: its calendar day there, and its time when not midnight.
pub fn site_local(at: DateTime<Utc>, tz: Tz) -> SiteLocal {
    let local = at.with_timezone(&tz).naive_local();
    let time = local.time();
    let midnight = time.hour() == 0 && time.minute() == 0 && time.second() == 0 && time.nanosecond() == 0;
    SiteLocal { day: local.date(), time: (!midnight).then_some(time) }
}

/// Today at the site: the calendar day in the site's zone `tz` at the instant `now` (never the
/// UTC date, which is already tomorrow from 4 pm in California and still yesterday until
/// 9 am in Tokyo). A stay that starts on this day is current from the first instant of it:
/// [`crate::status::derive_flags`] and this function agree on every instant (tested).
pub fn site_today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// `YYYY-MM-DD` (written by hand: a list of 100,000 residents formats two per row).
pub fn day_text(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

const WIRE_UTC_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.f+00:00";

/// `2021-11-05T21:10:22.844348+00:00` (fraction only when non-zero), as the `...UTC` fields.
///
/// Written digit by digit, as chrono's `%.f` does it (no fraction, or 3, 6 or 9 digits: the
/// fewest that keep every non-zero digit): an import formats two per row, and chrono's
/// general formatter was ~10 % of its row checker at 100,000 rows.
pub fn format_wire_utc(dt: DateTime<Utc>) -> String {
    let nanos = dt.nanosecond();
    // Years outside four digits and leap seconds take chrono's general path.
    if !(0..=9999).contains(&dt.year()) || nanos >= 1_000_000_000 {
        return dt.format(WIRE_UTC_FORMAT).to_string();
    }
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let mut out = String::with_capacity(35);
    let fields = [
        ("", dt.year() as u32, 4),
        ("-", dt.month(), 2),
        ("-", dt.day(), 2),
        ("T", dt.hour(), 2),
        (":", dt.minute(), 2),
        (":", dt.second(), 2),
        (".", fraction, width),
    ];
    for (before, value, width) in fields.into_iter().filter(|f| f.2 > 0) {
        out.push_str(before);
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    }
    out.push_str("+00:00");
    out
}

/// `2021-11-05T14:10:22`: site-local wall-clock time without offset, as `ActivationDate`.
pub fn format_wire_local(dt: DateTime<Utc>, tz: Tz) -> String {
    dt.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `2021-11-05T21:10:28`: UTC without offset, as `OnboardedAt`.
pub fn format_wire_naive_utc(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Tolerant parse of a wire instant: RFC 3339 with any offset, or a naive date-time read as
/// UTC (as `OnboardedAt` is sent), or a bare date (UTC midnight).
pub fn parse_wire_utc(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn wire_utc_is_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2021, 11, 5, 21, 10, 22).unwrap();
        let nanos = [0, 1, 999, 1_000, 844_348_000, 844_000_000, 5_000_000, 100, 999_999_999, 120_000];
        let years =
            [Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()];
        for day in
            [base, base + chrono::Duration::days(400) + chrono::Duration::seconds(3_599)].into_iter().chain(years)
        {
            for n in nanos {
                let dt = day.with_nanosecond(n).unwrap();
                assert_eq!(format_wire_utc(dt), dt.format(WIRE_UTC_FORMAT).to_string(), "{dt:?}");
            }
        }
        // Outside four-digit years: chrono's own path.
        let far = Utc.with_ymd_and_hms(12_345, 6, 7, 8, 9, 10).unwrap();
        assert_eq!(format_wire_utc(far), far.format(WIRE_UTC_FORMAT).to_string());
        assert_eq!(format_wire_utc(base.with_nanosecond(844_348_000).unwrap()), "2021-11-05T21:10:22.844348+00:00");
    }

    #[test]
    fn user_input_forms() {
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        let d = parse_user_datetime("ActivationDateUTC", "2021-11-05", tz).unwrap();
        assert_eq!(d, Utc.with_ymd_and_hms(2021, 11, 5, 7, 0, 0).unwrap());
        let d = parse_user_datetime("ActivationDateUTC", "2021-11-05T14:10:22", tz).unwrap();
        assert_eq!(d, Utc.with_ymd_and_hms(2021, 11, 5, 21, 10, 22).unwrap());
        let d = parse_user_datetime("ActivationDateUTC", "2021-11-05T21:10:22.844348+00:00", tz).unwrap();
        assert_eq!(format_wire_utc(d), "2021-11-05T21:10:22.844348+00:00");
        assert_eq!(format_wire_local(d, tz), "2021-11-05T14:10:22");
        let err = parse_user_datetime("DeactivationDateUTC", "next tuesday", tz).unwrap_err();
        assert_eq!(err.field(), Some("DeactivationDateUTC"));
        assert!(parse_user_datetime("X", "2021-02-30", tz).is_err());
    }

    /// Corner case 4: the same text in a UTC-named field and in a site-time field.
    #[test]
    fn utc_reading_table() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        let at = |d, h, m| Utc.with_ymd_and_hms(2027, 1, d, h, m, 0).unwrap();
        let cases = [
            ("2027-01-05 21:10:00", at(5, 21, 10), at(6, 3, 10)),
            ("2027-01-05T21:10", at(5, 21, 10), at(6, 3, 10)),
            // A bare date is a day at the site in both readings.
            ("2027-01-05", at(5, 6, 0), at(5, 6, 0)),
            // An explicit offset is that instant in either reading.
            ("2027-01-05T21:10:00+00:00", at(5, 21, 10), at(5, 21, 10)),
            ("2027-01-05T15:10:00-06:00", at(5, 21, 10), at(5, 21, 10)),
        ];
        for (text, utc, site) in cases {
            assert_eq!(parse_utc_datetime("ActivationDateUTC", text, chicago).unwrap(), utc, "{text} as UTC");
            assert_eq!(parse_user_datetime("ActivationDate", text, chicago).unwrap(), site, "{text} as site time");
        }
        assert!(parse_utc_datetime("ActivationDateUTC", "soon", chicago).is_err());
    }

    /// The site's day of an instant, west and east of UTC around midnight UTC.
    #[test]
    fn site_local_days_west_and_east() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let auckland: Tz = "Pacific/Auckland".parse().unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        // 01:00 UTC on Dec 1 is 17:00 on Nov 30 in Los Angeles, 10:00 on Dec 1 in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
        assert_eq!(site_today(now, la), day(2026, 11, 30));
        assert_eq!(site_today(now, tokyo), day(2026, 12, 1));
        assert_eq!(site_today(now, auckland), day(2026, 12, 1));
        // 23:00 UTC on Nov 30 is already Dec 1 in Tokyo and Auckland (NZDT, +13).
        let late = Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap();
        assert_eq!(site_today(late, la), day(2026, 11, 30));
        assert_eq!(site_today(late, tokyo), day(2026, 12, 1));
        assert_eq!(site_today(late, auckland), day(2026, 12, 1));
        // A date typed at the site comes back as that day, without a time.
        for tz in [la, tokyo, auckland] {
            let typed = parse_user_datetime("ActivationDate", "2026-12-01", tz).unwrap();
            let local = site_local(typed, tz);
            assert_eq!((local.day_text(), local.time_text()), ("2026-12-01".to_string(), None), "{tz}");
        }
        // An instant with a time of day keeps it, in the site's zone.
        let l = site_local(now, la);
        assert_eq!((l.day_text(), l.time_text()), ("2026-11-30".to_string(), Some("17:00".to_string())));
        assert_eq!(day_text(day(987, 3, 4)), "0987-03-04");
    }

    #[test]
    fn wire_formats_match_the_vendor_example() {
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        let end = parse_wire_utc("2022-11-06T19:00:00+00:00").unwrap();
        assert_eq!(format_wire_utc(end), "2022-11-06T19:00:00+00:00");
        // The example straddles the DST change: 8 hours behind UTC.
        assert_eq!(format_wire_local(end, tz), "2022-11-06T11:00:00");
        let onboarded = parse_wire_utc("2021-11-05T21:10:28").unwrap();
        assert_eq!(format_wire_naive_utc(onboarded), "2021-11-05T21:10:28");
        assert!(parse_wire_utc("garbage").is_none());
    }
}
