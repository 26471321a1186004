//! Time on the wire (SPEC §1.6): timestamps are UTC with milliseconds (`2025-01-15T10:30:00.000Z`),
//! calendar dates are `YYYY-MM-DD`. Stored timestamps are `i64` milliseconds since the Unix epoch;
//! stored dates are `YYYY-MM-DD` text.

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_timestamp(millis: i64) -> String {
    match Timestamp::from_millisecond(millis) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => String::new(),
    }
}

/// Parses an input date: `YYYY-MM-DD`, or a full ISO date-time of which only the literal
/// `YYYY-MM-DD` part is used, without time-zone conversion (SPEC §1.6). `None` if invalid.
pub fn parse_date_input(text: &str) -> Option<Date> {
    let text = text.trim();
    let date_part = text.get(..10)?;
    let rest = &text[10..];
    if !rest.is_empty() {
        // A date-time: the remainder must itself be a valid time part.
        let full = text.replace(' ', "T");
        let ok = full.parse::<Timestamp>().is_ok() || full.parse::<jiff::civil::DateTime>().is_ok();
        if !ok {
            return None;
        }
    }
    if date_part.as_bytes().get(4) != Some(&b'-') || date_part.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    date_part.parse::<Date>().ok()
}

/// The calendar date "today" at `millis` in the business unit's IANA time zone (UTC when the name
/// is unknown).
pub fn today_in(time_zone: &str, millis: i64) -> Date {
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    let ts = Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(tz).date()
}

/// Whether `name` is a time zone this server knows (IANA name such as `Europe/Amsterdam`).
pub fn is_known_time_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(
            format_timestamp(1_736_937_000_000),
            "2025-01-15T10:30:00.000Z"
        );
        assert_eq!(
            format_timestamp(1_736_937_000_123),
            "2025-01-15T10:30:00.123Z"
        );
    }

    #[test]
    fn dates_take_the_literal_date_part() {
        assert_eq!(
            parse_date_input("2025-01-15").map(|d| d.to_string()),
            Some("2025-01-15".into())
        );
        assert_eq!(
            parse_date_input("2025-02-01T00:00:00Z").map(|d| d.to_string()),
            Some("2025-02-01".into())
        );
        assert_eq!(
            parse_date_input("2025-02-01T23:30:00-05:00").map(|d| d.to_string()),
            Some("2025-02-01".into())
        );
        assert_eq!(parse_date_input("2025-02-30"), None);
        assert_eq!(parse_date_input("15/01/2025"), None);
        assert_eq!(parse_date_input("2025-01-15garbage"), None);
    }

    #[test]
    fn today_follows_the_time_zone() {
        // 2025-01-15T02:00Z is still 14 January in New York.
        let millis = 1_736_906_400_000;
        assert_eq!(today_in("UTC", millis).to_string(), "2025-01-15");
        assert_eq!(
            today_in("America/New_York", millis).to_string(),
            "2025-01-14"
        );
    }
}
