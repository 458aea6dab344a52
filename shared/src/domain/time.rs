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
    office_date(at).to_string()
}

/// The calendar day in Europe/Warsaw on which an instant falls.
pub fn office_date(at: Timestamp) -> jiff::civil::Date {
    at.to_zoned_datetime(office_tz()).date()
}

/// The calendar day in Europe/Warsaw before the one on which `at` falls: the day a report run
/// at `at` (00:15 by the schedule) is for.
pub fn previous_office_day(at: Timestamp) -> jiff::civil::Date {
    let today = at.to_zoned_datetime(office_tz()).date();
    today.yesterday().unwrap_or(today)
}

/// The first and last instant of a Warsaw calendar day, as UTC: 23 hours on the day clocks go
/// forward, 25 on the day they go back.
pub fn day_bounds(day: jiff::civil::Date) -> Option<(Timestamp, Timestamp)> {
    let tz = office_tz();
    let start = day.to_zoned_datetime(tz.clone()).ok()?.timestamp();
    let end = day.tomorrow().ok()?.to_zoned_datetime(tz).ok()?.timestamp();
    Some((start, end))
}

/// An instant as RFC 3339 in UTC with millisecond precision, the form stored in records so that
/// The same instant as a `SystemTime` (what SigV4 signing takes); an instant before 1970 is
/// the epoch, which no clock of ours reads.
pub fn system_time(at: Timestamp) -> std::time::SystemTime {
    let since_epoch = std::time::Duration::try_from(at.as_duration()).unwrap_or_default();
    std::time::SystemTime::UNIX_EPOCH + since_epoch
}

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
    fn the_daylight_saving_days_have_23_and_25_hours() {
        let hours = |d: &str| {
            let (start, end) = day_bounds(d.parse().unwrap()).unwrap();
            (end.as_second() - start.as_second()) / 3600
        };
        assert_eq!(hours("2020-03-29"), 23);
        assert_eq!(hours("2020-10-25"), 25);
        assert_eq!(hours("2020-10-26"), 24);
        let (start, end) = day_bounds("2020-10-25".parse().unwrap()).unwrap();
        assert_eq!(start, ts("2020-10-24T22:00:00Z"));
        assert_eq!(end, ts("2020-10-25T23:00:00Z"));
        // The last hour of the long day is still that day.
        assert_eq!(office_day(ts("2020-10-25T22:59:59Z")), "2020-10-25");
    }

    #[test]
    fn a_report_at_a_quarter_past_midnight_is_for_the_day_before() {
        // 00:15 in Warsaw, summer and winter, including the mornings after the changes.
        assert_eq!(
            previous_office_day(ts("2020-03-29T23:15:00Z")).to_string(),
            "2020-03-29"
        );
        assert_eq!(
            previous_office_day(ts("2020-10-25T23:15:00Z")).to_string(),
            "2020-10-25"
        );
        assert_eq!(
            previous_office_day(ts("2020-01-01T23:15:00Z")).to_string(),
            "2020-01-01"
        );
        assert_eq!(
            previous_office_day(ts("2020-06-30T22:15:00Z")).to_string(),
            "2020-06-30"
        );
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
