//! The domain notes' figures, as the sample report and the tests build their history from:
//! the electronic inbox in March and 1-16 April 2020 against the same periods of 2019, and the
//! documents a day at each drop box.

/// The electronic inbox (web form): first day, last day and documents of each period, 2020's
/// two periods first, then 2019's. Together: 22,564 against 11,146.
pub const ELECTRONIC_INBOX: [(&str, &str, u64); 4] = [
    ("2020-03-01", "2020-03-31", 13_814),
    ("2020-04-01", "2020-04-16", 8_750),
    ("2019-03-01", "2019-03-31", 6_829),
    ("2019-04-01", "2019-04-16", 4_317),
];

/// Documents a day at each drop-box site (by station id), within the ranges the notes give
/// ("about 50-60", "kilkanaście", …); 908 a day in all.
pub const DROP_BOX_DAILY: [(&str, u64); 11] = [
    ("wszystkich-swietych", 55),
    ("rynek-podgorski", 15),
    ("mogilska", 130),
    ("os-zgody", 150),
    ("powstania-warszawskiego", 250),
    ("kasprowicza", 28),
    ("stachowicza", 80),
    ("wielicka", 60),
    ("dekerta", 110),
    ("lubelska", 25),
    ("biskupia", 5),
];
