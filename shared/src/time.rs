//! Calendar days in Polish time: figures are per day in Europe/Warsaw, across DST changes.

pub use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The time zone the city hall counts its days in.
pub const OFFICE_TIME_ZONE: &str = "Europe/Warsaw";

fn office_tz() -> TimeZone {
    // The zone database is bundled into the binary (jiff's tzdb-bundle-always), so this lookup
    // cannot fail at run time; fall back to UTC rather than panic if the bundle were ever empty.
    TimeZone::get(OFFICE_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

/// The calendar day (YYYY-MM-DD) in Europe/Warsaw on which an instant falls.
pub fn office_day(at: Timestamp) -> String {
    at.to_zoned_datetime(office_tz()).date().to_string()
}

/// An instant as RFC 3339 in UTC with millisecond precision, the form stored in records so that
/// string order is time order.
pub fn utc_rfc3339(at: Timestamp) -> String {
    format!("{at:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn day_boundaries_follow_warsaw_time() {
        // Winter: UTC+1.
        assert_eq!(office_day(ts("2020-03-01T22:59:59Z")), "2020-03-01");
        assert_eq!(office_day(ts("2020-03-01T23:00:00Z")), "2020-03-02");
        // Summer: UTC+2.
        assert_eq!(office_day(ts("2020-04-01T21:59:59Z")), "2020-04-01");
        assert_eq!(office_day(ts("2020-04-01T22:00:00Z")), "2020-04-02");
        // The DST change day itself (2020-03-29, clocks forward at 01:00 UTC).
        assert_eq!(office_day(ts("2020-03-28T23:00:00Z")), "2020-03-29");
        assert_eq!(office_day(ts("2020-03-29T21:59:59Z")), "2020-03-29");
        assert_eq!(office_day(ts("2020-03-29T22:00:00Z")), "2020-03-30");
    }

    #[test]
    fn utc_format_sorts_as_time() {
        assert_eq!(
            utc_rfc3339(ts("2020-03-01T10:00:00.5Z")),
            "2020-03-01T10:00:00.500Z"
        );
        assert_eq!(
            utc_rfc3339(ts("2020-03-01T10:00:00Z")),
            "2020-03-01T10:00:00.000Z"
        );
    }
}
