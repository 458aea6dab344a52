//! The statutory deadline that the receipt of a document starts.
//!
//! Under the Code of Administrative Procedure (Kodeks postępowania administracyjnego, KPA) the
//! day a document is received starts the proceedings, and art. 35 gives the office a period to
//! settle the case: one month by default, two months for a particularly complicated case, and
//! some services have none. Art. 57 says how that period is counted:
//!
//! - § 1: a period in days does not count the day of the event; it ends with its last day;
//! - § 3: a period in months ends on the day of the last month whose number matches the day
//!   the period started on, or on the last day of that month when it has no such day;
//! - § 4: when the end falls on a statutory public holiday (dzień ustawowo wolny od pracy) or
//!   on a Saturday, the period ends on the next day that is neither.
//!
//! The public holidays are those of the act on days free from work (ustawa z dnia 18 stycznia
//! 1951 r. o dniach wolnych od pracy) as amended, with every Sunday. The calendar is the
//! current one, with the changes since 1990: Epiphany (6 January) is a holiday from 2011 on,
//! 12 November 2018 was a one-off holiday, Christmas Eve (24 December) is one from 2025 on.
//! Older changes (before 1990) are not modelled: no case received then is still open.
//!
//! The received day is a Warsaw calendar day; a caller holding an instant converts it with
//! [`crate::domain::time::office_date`] first.

use jiff::Span;
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

/// Easter Sunday of a year of the (proleptic) Gregorian calendar, by the anonymous Gregorian
/// algorithm (Meeus/Jones/Butcher); Easter Monday, Pentecost and Corpus Christi, public
/// holidays under the act on days free from work, are counted from it.
///
/// `None` for a year outside the dates `jiff` can represent (-9999 to 9999).
pub fn easter_sunday(year: i16) -> Option<Date> {
    // Euclidean division throughout, so that the arithmetic stays a floor division for the
    // proleptic negative years jiff supports, and no step can overflow or panic in i32.
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = i8::try_from(n.div_euclid(31)).ok()?;
    let day = i8::try_from(n.rem_euclid(31) + 1).ok()?;
    Date::new(year, month, day).ok()
}

/// A statutory public holiday (dzień ustawowo wolny od pracy) under art. 1 of the act on days
/// free from work, Sundays included, as KPA art. 57 § 4 uses them.
///
/// Serialised in snake_case (`"corpus_christi"`, `"sunday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// 1 January.
    NewYear,
    /// 6 January, a holiday again from 2011 on.
    Epiphany,
    /// The first day of Easter (always a Sunday).
    EasterSunday,
    /// The second day of Easter.
    EasterMonday,
    /// 1 May, "Święto Państwowe" in the act, known as Labour Day.
    StateHoliday,
    /// 3 May.
    ConstitutionDay,
    /// The first day of Pentecost, Easter + 49 days (always a Sunday).
    Pentecost,
    /// Corpus Christi, Easter + 60 days (always a Thursday).
    CorpusChristi,
    /// 15 August.
    Assumption,
    /// 1 November.
    AllSaints,
    /// 11 November.
    IndependenceDay,
    /// 12 November 2018 only, a day free from work by the act on the national holiday for the
    /// centenary of independence (ustawa o Święcie Narodowym z okazji 100. Rocznicy
    /// Odzyskania Niepodległości).
    IndependenceCentenary,
    /// 24 December, a holiday from 2025 on.
    ChristmasEve,
    /// 25 December.
    Christmas,
    /// 26 December.
    SecondDayOfChristmas,
    /// Any other Sunday: every Sunday is a day free from work under the act.
    Sunday,
}

impl Holiday {
    /// Every holiday, in calendar order (Sunday last).
    pub const ALL: [Holiday; 16] = [
        Holiday::NewYear,
        Holiday::Epiphany,
        Holiday::EasterSunday,
        Holiday::EasterMonday,
        Holiday::StateHoliday,
        Holiday::ConstitutionDay,
        Holiday::Pentecost,
        Holiday::CorpusChristi,
        Holiday::Assumption,
        Holiday::AllSaints,
        Holiday::IndependenceDay,
        Holiday::IndependenceCentenary,
        Holiday::ChristmasEve,
        Holiday::Christmas,
        Holiday::SecondDayOfChristmas,
        Holiday::Sunday,
    ];

    /// The holiday's Polish name, as the act on days free from work names it (1 May by its
    /// common name, "Święto Pracy", since the act's "Święto Państwowe" says nothing on a
    /// receipt), for a receipt to say why a deadline moved (KPA art. 57 § 4).
    pub fn name_pl(self) -> &'static str {
        match self {
            Holiday::NewYear => "Nowy Rok",
            Holiday::Epiphany => "Święto Trzech Króli",
            Holiday::EasterSunday => "Pierwszy dzień Wielkiej Nocy",
            Holiday::EasterMonday => "Drugi dzień Wielkiej Nocy",
            Holiday::StateHoliday => "Święto Pracy",
            Holiday::ConstitutionDay => "Święto Narodowe Trzeciego Maja",
            Holiday::Pentecost => "Pierwszy dzień Zielonych Świątek",
            Holiday::CorpusChristi => "Dzień Bożego Ciała",
            Holiday::Assumption => "Wniebowzięcie Najświętszej Maryi Panny",
            Holiday::AllSaints => "Wszystkich Świętych",
            Holiday::IndependenceDay => "Narodowe Święto Niepodległości",
            Holiday::IndependenceCentenary => {
                "Święto Narodowe z okazji 100. Rocznicy Odzyskania Niepodległości"
            }
            Holiday::ChristmasEve => "Wigilia Bożego Narodzenia",
            Holiday::Christmas => "Pierwszy dzień Bożego Narodzenia",
            Holiday::SecondDayOfChristmas => "Drugi dzień Bożego Narodzenia",
            Holiday::Sunday => "Niedziela",
        }
    }
}

/// The statutory public holiday `day` is, if any (KPA art. 57 § 4 with the act on days free
/// from work). A named holiday that falls on a Sunday is given by its name, which says more
/// on a receipt than "Sunday".
pub fn holiday(day: Date) -> Option<Holiday> {
    let year = day.year();
    let fixed = match (day.month(), day.day()) {
        (1, 1) => Some(Holiday::NewYear),
        // Restored by the act of 24 September 2010, first kept on 6 January 2011.
        (1, 6) if year >= 2011 => Some(Holiday::Epiphany),
        (5, 1) => Some(Holiday::StateHoliday),
        (5, 3) => Some(Holiday::ConstitutionDay),
        (8, 15) => Some(Holiday::Assumption),
        (11, 1) => Some(Holiday::AllSaints),
        (11, 11) => Some(Holiday::IndependenceDay),
        // A one-off day free from work, the Monday after the centenary.
        (11, 12) if year == 2018 => Some(Holiday::IndependenceCentenary),
        // Added by the act of 6 December 2024; 24 December 2024 was still a working day.
        (12, 24) if year >= 2025 => Some(Holiday::ChristmasEve),
        (12, 25) => Some(Holiday::Christmas),
        (12, 26) => Some(Holiday::SecondDayOfChristmas),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    // The movable feasts lie between 22 March (Easter Sunday) and 24 June (Corpus Christi):
    // compute Easter only for days in that stretch of the year.
    if (3..=6).contains(&day.month()) {
        if let Some(easter) = easter_sunday(year) {
            // Both days are in the same year, so the difference of their day numbers is the
            // number of days from Easter.
            match day.day_of_year() - easter.day_of_year() {
                0 => return Some(Holiday::EasterSunday),
                1 => return Some(Holiday::EasterMonday),
                49 => return Some(Holiday::Pentecost),
                60 => return Some(Holiday::CorpusChristi),
                _ => {}
            }
        }
    }
    (day.weekday() == Weekday::Sunday).then_some(Holiday::Sunday)
}

/// Whether `day` is a statutory public holiday (dzień ustawowo wolny od pracy) in Poland,
/// every Sunday included; a period that ends on one ends on the next working day instead
/// (KPA art. 57 § 4). Saturdays are not holidays, though art. 57 § 4 treats them alike:
/// see [`day_off`].
pub fn is_public_holiday(day: Date) -> bool {
    holiday(day).is_some()
}

/// The Polish name of the statutory public holiday `day` is, as the act names it ("Dzień
/// Bożego Ciała"; an ordinary Sunday is "Niedziela"), or `None` on a day that is not one; a
/// receipt says with it why a deadline moved (KPA art. 57 § 4).
pub fn holiday_name(day: Date) -> Option<&'static str> {
    holiday(day).map(Holiday::name_pl)
}

/// Why a day cannot be the last day of a period under KPA art. 57 § 4: it is a Saturday, or a
/// statutory public holiday.
///
/// Serialised externally tagged in snake_case: `"saturday"` or `{"holiday": "christmas_eve"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOff {
    /// A Saturday, which art. 57 § 4 (as amended from 1 June 2017) treats as a holiday.
    Saturday,
    /// A statutory public holiday, Sundays included.
    Holiday(Holiday),
}

impl DayOff {
    /// The reason in Polish, for a receipt ("Sobota", or the holiday's name).
    pub fn name_pl(self) -> &'static str {
        match self {
            DayOff::Saturday => "Sobota",
            DayOff::Holiday(holiday) => holiday.name_pl(),
        }
    }
}

/// Why `day` cannot end a period under KPA art. 57 § 4, or `None` on a working day.
pub fn day_off(day: Date) -> Option<DayOff> {
    match holiday(day) {
        Some(holiday) => Some(DayOff::Holiday(holiday)),
        None => (day.weekday() == Weekday::Saturday).then_some(DayOff::Saturday),
    }
}

/// The period the office has to settle a case in (KPA art. 35).
///
/// Serialised externally tagged in snake_case: `"none"`, `{"days": 14}` or `{"months": 1}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatutoryPeriod {
    /// No statutory deadline: a service whose matter has no period under art. 35.
    None,
    /// A period in days, counted under art. 57 § 1. Zero days is not a period: no deadline.
    Days(u16),
    /// A period in months, counted under art. 57 § 3. Zero months is not a period: no
    /// deadline.
    Months(u8),
}

impl StatutoryPeriod {
    /// One month: the general rule of art. 35 § 3.
    pub const ONE_MONTH: StatutoryPeriod = StatutoryPeriod::Months(1);
    /// Two months: a particularly complicated case (art. 35 § 3).
    pub const PARTICULARLY_COMPLICATED: StatutoryPeriod = StatutoryPeriod::Months(2);
}

impl Default for StatutoryPeriod {
    /// One month from the start of the proceedings (art. 35 § 3).
    fn default() -> Self {
        StatutoryPeriod::ONE_MONTH
    }
}

/// A day passed over because it cannot end a period (KPA art. 57 § 4), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SkippedDay {
    /// The day passed over.
    pub day: Date,
    /// Why it cannot end the period.
    pub reason: DayOff,
}

/// The statutory deadline a received document starts (KPA art. 35 counted by art. 57).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The Warsaw calendar day the document was received: the event that starts the period.
    pub received: Date,
    /// The period counted.
    pub period: StatutoryPeriod,
    /// Where the period ends by art. 57 § 1 or § 3, before art. 57 § 4 moves it.
    pub nominal_end: Date,
    /// The last day of the period: the nominal end, or the first day after it that is neither
    /// a Saturday nor a public holiday (art. 57 § 4).
    pub due: Date,
    /// The days passed over between the nominal end and the due day, in order, with the
    /// reason for each; empty when the nominal end is a working day.
    pub moved_because: Vec<SkippedDay>,
}

/// The deadline that receiving a document on `received` (a Warsaw calendar day) starts for a
/// case with the given statutory period, counted by KPA art. 57:
///
/// - days (§ 1): the day of receipt is not counted, so n days end on `received + n days`;
/// - months (§ 3): on the same day number n months later, or on the last day of that month
///   when it is shorter (31 January + 1 month is 28 or 29 February);
/// - then (§ 4) a nominal end on a Saturday or public holiday moves to the next day that is
///   neither, as many days on as it takes (Saturday 24 December 2033 → Tuesday the 27th).
///
/// `None` when there is no deadline ([`StatutoryPeriod::None`], or a period of zero days or
/// months), or when the deadline would fall outside the dates `jiff` can represent.
pub fn deadline(received: Date, period: StatutoryPeriod) -> Option<Deadline> {
    let span = match period {
        StatutoryPeriod::None | StatutoryPeriod::Days(0) | StatutoryPeriod::Months(0) => {
            return None;
        }
        // Art. 57 § 1: the day of the event is not counted, so the first day of the period
        // is the day after it and the last is n days after it.
        StatutoryPeriod::Days(n) => Span::new().try_days(n).ok()?,
        // Art. 57 § 3: jiff's month arithmetic keeps the day number and clamps it to the
        // last day of a shorter month, which is what the article says.
        StatutoryPeriod::Months(n) => Span::new().try_months(n).ok()?,
    };
    let nominal_end = received.checked_add(span).ok()?;
    let mut due = nominal_end;
    let mut moved_because = Vec::new();
    // Art. 57 § 4: move on while the day is a Saturday or a holiday. Every week has working
    // days, so this ends within a few days; past jiff's last date it returns None.
    while let Some(reason) = day_off(due) {
        moved_because.push(SkippedDay { day: due, reason });
        due = due.tomorrow().ok()?;
    }
    Some(Deadline {
        received,
        period,
        nominal_end,
        due,
        moved_because,
    })
}

#[cfg(test)]
mod tests {
    use super::StatutoryPeriod::{Days, Months};
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// (received, period, due). Cross-checked against an independent count in Python
    /// (dateutil's relativedelta for the months, `holidays.Poland()` 0.109 for the holidays,
    /// which has Christmas Eve from 2025 on).
    const TABLE: &[(&str, StatutoryPeriod, &str)] = &[
        // Year ends.
        ("2024-11-30", Months(1), "2024-12-30"),
        ("2025-11-30", Months(1), "2025-12-30"),
        // 1 January, Nowy Rok.
        ("2024-12-01", Months(1), "2025-01-02"),
        ("2025-12-01", Months(1), "2026-01-02"),
        // 31 January 2026 is a Saturday.
        ("2025-12-31", Months(1), "2026-02-02"),
        // 6 January: a working day in 2010, a holiday from 2011.
        ("2009-12-06", Months(1), "2010-01-06"),
        ("2010-12-06", Months(1), "2011-01-07"),
        ("2025-12-06", Months(1), "2026-01-07"),
        ("2023-12-31", Days(1), "2024-01-02"),
        ("2025-12-02", Days(30), "2026-01-02"),
        // Easter Monday.
        ("2024-03-01", Months(1), "2024-04-02"),
        ("2025-03-21", Months(1), "2025-04-22"),
        ("2026-03-06", Months(1), "2026-04-07"),
        ("2027-02-28", Months(1), "2027-03-30"),
        ("2038-03-26", Months(1), "2038-04-27"),
        ("2025-04-14", Days(7), "2025-04-22"),
        // Saturday, Easter Sunday, Easter Monday.
        ("2027-02-27", Months(1), "2027-03-30"),
        // Easter Sunday 2024 then Easter Monday.
        ("2024-03-01", Days(30), "2024-04-02"),
        // Good Friday is a working day.
        ("2024-03-22", Days(7), "2024-03-29"),
        ("2024-02-29", Months(1), "2024-03-29"),
        // Corpus Christi.
        ("2024-04-30", Months(1), "2024-05-31"),
        ("2025-05-19", Months(1), "2025-06-20"),
        ("2026-05-04", Months(1), "2026-06-05"),
        // Pentecost Sunday; its Monday is a working day.
        ("2024-04-19", Months(1), "2024-05-20"),
        ("2025-05-08", Months(1), "2025-06-09"),
        ("2025-06-02", Days(7), "2025-06-09"),
        // Christmas Eve: a working day in 2024, a holiday from 2025.
        ("2024-11-24", Months(1), "2024-12-24"),
        ("2024-10-24", Months(2), "2024-12-24"),
        ("2024-12-10", Days(14), "2024-12-24"),
        ("2025-11-24", Months(1), "2025-12-29"),
        ("2025-10-24", Months(2), "2025-12-29"),
        ("2025-12-10", Days(14), "2025-12-29"),
        // Sunday 24 December 2023, then Christmas.
        ("2023-11-24", Months(1), "2023-12-27"),
        // Saturday 24 December 2022 (before the change) and 2033 (after it).
        ("2022-11-24", Months(1), "2022-12-27"),
        ("2033-11-24", Months(1), "2033-12-27"),
        // Christmas Eve, Christmas, Saturday, Sunday.
        ("2026-11-24", Months(1), "2026-12-28"),
        // Month ends: 31 January in a leap and in a common year.
        ("2024-01-31", Months(1), "2024-02-29"),
        ("2025-01-31", Months(1), "2025-02-28"),
        ("2023-01-31", Months(1), "2023-02-28"),
        ("2000-01-31", Months(1), "2000-02-29"),
        ("2028-01-31", Months(1), "2028-02-29"),
        // 2100 is not a leap year; 28 February 2100 is a Sunday.
        ("2100-01-31", Months(1), "2100-03-01"),
        // 28 February 2026 is a Saturday.
        ("2026-01-31", Months(1), "2026-03-02"),
        ("2025-12-31", Months(2), "2026-03-02"),
        ("2027-12-31", Months(2), "2028-02-29"),
        // 31 March + 2 months: 31 May, a Saturday in 2025.
        ("2024-03-31", Months(2), "2024-05-31"),
        ("2025-03-31", Months(2), "2025-06-02"),
        // 29 February + 12 months.
        ("2024-02-29", Months(12), "2025-02-28"),
        ("2025-05-31", Months(1), "2025-06-30"),
        ("2025-08-31", Months(1), "2025-09-30"),
        // 30 November 2025 is a Sunday.
        ("2025-10-31", Months(1), "2025-12-01"),
        // Saturday, Sunday, a Friday that stays.
        ("2025-09-11", Months(1), "2025-10-13"),
        ("2025-09-12", Months(1), "2025-10-13"),
        ("2025-09-10", Months(1), "2025-10-10"),
        ("2025-02-22", Days(7), "2025-03-03"),
        ("2025-01-01", Days(60), "2025-03-03"),
        // Around May: 1 May (Friday), Saturday, 3 May (Sunday) in 2026.
        ("2026-04-01", Months(1), "2026-05-04"),
        // 3 May on a Saturday, then Sunday.
        ("2025-04-03", Months(1), "2025-05-05"),
        // 2 May is a working day.
        ("2025-04-02", Months(1), "2025-05-02"),
        // 1 November on a Saturday, then Sunday; on a Sunday.
        ("2025-10-01", Months(1), "2025-11-03"),
        ("2020-10-01", Months(1), "2020-11-02"),
        // 11 November.
        ("2025-10-11", Months(1), "2025-11-12"),
        ("2026-10-11", Months(1), "2026-11-12"),
        // 11 November 2018 on a Sunday, then the one-off centenary holiday.
        ("2018-10-11", Months(1), "2018-11-13"),
        ("2018-10-12", Months(1), "2018-11-13"),
        // 15 August on a Friday (then the weekend) and on a Saturday.
        ("2025-07-15", Months(1), "2025-08-18"),
        ("2026-07-15", Months(1), "2026-08-17"),
        // Day periods that end on working days.
        ("2024-02-22", Days(7), "2024-02-29"),
        ("2025-01-01", Days(30), "2025-01-31"),
        ("2025-03-03", Days(14), "2025-03-17"),
    ];

    #[test]
    fn deadline_table() {
        assert!(TABLE.len() >= 50);
        for &(received, period, due) in TABLE {
            let got = deadline(d(received), period).unwrap();
            assert_eq!(got.due, d(due), "{received} + {period:?}");
            assert_eq!(got.received, d(received));
            assert_eq!(got.period, period);
            // Every day from the nominal end up to the due day is passed over, with a reason.
            let skipped: Vec<Date> = got.moved_because.iter().map(|s| s.day).collect();
            let expected: Vec<Date> = got
                .nominal_end
                .series(Span::new().days(1))
                .take_while(|&day| day < got.due)
                .collect();
            assert_eq!(skipped, expected, "{received} + {period:?}");
            assert!(day_off(got.due).is_none());
        }
    }

    #[test]
    fn deadline_reasons_name_the_days_passed_over() {
        // Wednesday 24 December 2025: five days off in a row.
        let got = deadline(d("2025-11-24"), Months(1)).unwrap();
        assert_eq!(got.nominal_end, d("2025-12-24"));
        let reasons: Vec<(String, &str)> = got
            .moved_because
            .iter()
            .map(|s| (s.day.to_string(), s.reason.name_pl()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("2025-12-24".to_string(), "Wigilia Bożego Narodzenia"),
                ("2025-12-25".to_string(), "Pierwszy dzień Bożego Narodzenia"),
                ("2025-12-26".to_string(), "Drugi dzień Bożego Narodzenia"),
                ("2025-12-27".to_string(), "Sobota"),
                ("2025-12-28".to_string(), "Niedziela"),
            ]
        );
        // A working nominal end moves nothing.
        let got = deadline(d("2024-11-24"), Months(1)).unwrap();
        assert_eq!(got.nominal_end, got.due);
        assert!(got.moved_because.is_empty());
        // Saturday 27 March 2027, then Easter.
        let got = deadline(d("2027-02-27"), Months(1)).unwrap();
        let reasons: Vec<DayOff> = got.moved_because.iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            [
                DayOff::Saturday,
                DayOff::Holiday(Holiday::EasterSunday),
                DayOff::Holiday(Holiday::EasterMonday),
            ]
        );
    }

    #[test]
    fn deadline_none_without_a_period() {
        for period in [StatutoryPeriod::None, Days(0), Months(0)] {
            assert_eq!(deadline(d("2025-06-02"), period), None, "{period:?}");
        }
    }

    #[test]
    fn deadline_default_is_one_month() {
        assert_eq!(StatutoryPeriod::default(), Months(1));
        assert_eq!(StatutoryPeriod::PARTICULARLY_COMPLICATED, Months(2));
    }

    #[test]
    fn deadline_period_serde_is_snake_case() {
        let cases = [
            (StatutoryPeriod::None, r#""none""#),
            (Days(14), r#"{"days":14}"#),
            (Months(1), r#"{"months":1}"#),
        ];
        for (period, json) in cases {
            assert_eq!(serde_json::to_string(&period).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<StatutoryPeriod>(json).unwrap(),
                period
            );
        }
        assert!(serde_json::from_str::<StatutoryPeriod>(r#"{"weeks":2}"#).is_err());
        assert!(serde_json::from_str::<StatutoryPeriod>(r#"{"days":-1}"#).is_err());
        assert!(serde_json::from_str::<StatutoryPeriod>(r#"{"months":256}"#).is_err());

        let got = deadline(d("2025-10-01"), Months(1)).unwrap();
        let json = serde_json::to_value(&got).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "received": "2025-10-01",
                "period": {"months": 1},
                "nominal_end": "2025-11-01",
                "due": "2025-11-03",
                "moved_because": [
                    {"day": "2025-11-01", "reason": {"holiday": "all_saints"}},
                    {"day": "2025-11-02", "reason": {"holiday": "sunday"}},
                ],
            })
        );
        assert_eq!(serde_json::from_value::<Deadline>(json).unwrap(), got);
        assert_eq!(
            serde_json::to_string(&DayOff::Saturday).unwrap(),
            r#""saturday""#
        );
    }

    #[test]
    fn deadline_easter_known_dates() {
        let known = [
            "2000-04-23",
            "2001-04-15",
            "2002-03-31",
            "2003-04-20",
            "2004-04-11",
            "2005-03-27",
            "2006-04-16",
            "2007-04-08",
            "2008-03-23",
            "2009-04-12",
            "2010-04-04",
            "2011-04-24",
            "2012-04-08",
            "2013-03-31",
            "2014-04-20",
            "2015-04-05",
            "2016-03-27",
            "2017-04-16",
            "2018-04-01",
            "2019-04-21",
            "2020-04-12",
            "2021-04-04",
            "2022-04-17",
            "2023-04-09",
            "2024-03-31",
            "2025-04-20",
            "2026-04-05",
            "2027-03-28",
            "2028-04-16",
            "2029-04-01",
            "2030-04-21",
            "2031-04-13",
            "2032-03-28",
            "2033-04-17",
            "2034-04-09",
            "2035-03-25",
            "2036-04-13",
            "2037-04-05",
            "2038-04-25",
            "2039-04-10",
            "2040-04-01",
            // The extremes: 22 March (1818, 2285) and 25 April (1943, 2038).
            "1818-03-22",
            "2285-03-22",
            "1943-04-25",
            "1583-04-10",
        ];
        for date in known {
            let day = d(date);
            assert_eq!(easter_sunday(day.year()), Some(day), "{date}");
        }
    }

    #[test]
    fn deadline_easter_is_a_sunday_in_spring_for_every_year() {
        for year in -9999..=9999 {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter.year(), year);
            assert_eq!(easter.weekday(), Weekday::Sunday, "{year}");
            assert!(
                (d("2000-03-22").day_of_year()..=d("2000-04-25").day_of_year())
                    .contains(&easter.with().year(2000).build().unwrap().day_of_year()),
                "{easter}"
            );
        }
        // Years jiff cannot represent.
        for year in [i16::MIN, -10000, 10000, i16::MAX] {
            assert_eq!(easter_sunday(year), None, "{year}");
        }
    }

    #[test]
    fn deadline_holidays_of_2025() {
        let mut named: Vec<(String, Holiday)> = Vec::new();
        for day in d("2025-01-01").series(Span::new().days(1)) {
            if day.year() != 2025 {
                break;
            }
            match holiday(day) {
                Some(Holiday::Sunday) | None => {}
                Some(h) => named.push((day.to_string(), h)),
            }
        }
        let expected = [
            ("2025-01-01", Holiday::NewYear),
            ("2025-01-06", Holiday::Epiphany),
            ("2025-04-20", Holiday::EasterSunday),
            ("2025-04-21", Holiday::EasterMonday),
            ("2025-05-01", Holiday::StateHoliday),
            ("2025-05-03", Holiday::ConstitutionDay),
            ("2025-06-08", Holiday::Pentecost),
            ("2025-06-19", Holiday::CorpusChristi),
            ("2025-08-15", Holiday::Assumption),
            ("2025-11-01", Holiday::AllSaints),
            ("2025-11-11", Holiday::IndependenceDay),
            ("2025-12-24", Holiday::ChristmasEve),
            ("2025-12-25", Holiday::Christmas),
            ("2025-12-26", Holiday::SecondDayOfChristmas),
        ];
        let expected: Vec<(String, Holiday)> =
            expected.iter().map(|&(s, h)| (s.to_string(), h)).collect();
        assert_eq!(named, expected);
    }

    #[test]
    fn deadline_holiday_lookups() {
        assert!(is_public_holiday(d("2025-12-24")));
        assert!(!is_public_holiday(d("2024-12-24")));
        assert!(is_public_holiday(d("2011-01-06")));
        assert!(!is_public_holiday(d("2010-01-06")));
        assert!(is_public_holiday(d("2025-06-08")));
        assert!(is_public_holiday(d("2018-11-12")));
        assert!(!is_public_holiday(d("2019-11-12")));
        assert!(!is_public_holiday(d("2025-06-09")));
        assert!(is_public_holiday(d("2025-06-01")));
        assert!(!is_public_holiday(d("2025-05-31")));
        assert_eq!(holiday_name(d("2026-06-04")), Some("Dzień Bożego Ciała"));
        assert_eq!(
            holiday_name(d("2038-04-26")),
            Some("Drugi dzień Wielkiej Nocy")
        );
        assert_eq!(holiday_name(d("2025-06-01")), Some("Niedziela"));
        // A named holiday on a Sunday is named.
        assert_eq!(holiday_name(d("2020-11-01")), Some("Wszystkich Świętych"));
        assert_eq!(holiday_name(d("2025-05-31")), None);
        assert_eq!(day_off(d("2025-05-31")), Some(DayOff::Saturday));
        assert_eq!(day_off(d("2025-06-02")), None);
        // At jiff's limits.
        assert_eq!(holiday(Date::MIN), Some(Holiday::NewYear));
        assert_eq!(holiday(Date::MAX), None);
    }

    #[test]
    fn deadline_holiday_names_are_polish() {
        const POLISH: &str =
            "aąbcćdeęfghijklłmnńoóprsśtuwyzźżAĄBCĆDEĘFGHIJKLŁMNŃOÓPRSŚTUWYZŹŻ 0123456789.";
        let mut names: Vec<&str> = Holiday::ALL.iter().map(|h| h.name_pl()).collect();
        names.push(DayOff::Saturday.name_pl());
        for name in &names {
            assert!(
                name.chars().all(|c| POLISH.contains(c)),
                "not Polish: {name}"
            );
            assert!(name.starts_with(|c: char| c.is_uppercase()), "{name}");
        }
        // No English left over (the Polish alphabet has no q, v or x, which the check above
        // already refuses), and every name is distinct.
        for word in ["Day", "Christmas", "Easter", "Sunday", "Saint"] {
            assert!(names.iter().all(|n| !n.contains(word)), "{word}");
        }
        for (i, name) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(name), "{name}");
        }
        assert_eq!(names.len(), 17);
    }

    #[test]
    fn deadline_sweep_never_panics() {
        let periods = [
            StatutoryPeriod::None,
            Days(0),
            Days(1),
            Days(7),
            Days(14),
            Days(30),
            Days(u16::MAX),
            Months(1),
            Months(2),
            Months(12),
            Months(u8::MAX),
        ];
        let mut day = d("1900-01-01");
        let end = d("2200-01-01");
        while day < end {
            for period in periods {
                if let Some(got) = deadline(day, period) {
                    assert!(got.nominal_end > day);
                    assert!(got.due >= got.nominal_end);
                    // Art. 57 § 4 never moves a deadline by more than a few days.
                    assert!(got.moved_because.len() <= 5, "{day} {period:?}");
                    assert!(day_off(got.due).is_none());
                }
            }
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn deadline_near_jiffs_limits_is_none_not_a_panic() {
        let periods = [
            Days(1),
            Days(7),
            Days(u16::MAX),
            Months(1),
            Months(12),
            Months(u8::MAX),
        ];
        for period in periods {
            assert_eq!(deadline(Date::MAX, period), None, "{period:?}");
            assert!(deadline(Date::MIN, period).is_some(), "{period:?}");
        }
        // 31 December 9999, jiff's last day, is a Friday: a period can still end on it.
        assert_eq!(Date::MAX.weekday(), Weekday::Friday);
        let got = deadline(d("9999-12-30"), Days(1)).unwrap();
        assert_eq!(got.due, Date::MAX);
        // Christmas 9999 is a Saturday: the deadline moves to Monday the 27th.
        assert_eq!(
            deadline(d("9999-11-25"), Months(1)).unwrap().due,
            d("9999-12-27")
        );
        assert_eq!(deadline(d("9999-12-31"), Days(1)), None);
        // Every start in the last year of the range: no panic.
        for day in d("9999-01-01").series(Span::new().days(1)) {
            for period in periods {
                let _ = deadline(day, period);
            }
        }
    }
}
