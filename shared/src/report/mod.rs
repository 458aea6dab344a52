//! Daily figures for management: counters kept as documents are judged, and the reports built
//! from them. Plain functions over plain types; `notify` keeps the counters, `aggregate` and
//! `intake report` read them and write the reports.
//!
//! A judged document adds one to its Warsaw day's counters (total, status, channel, department,
//! drop-box site, service) in one of [`DEFAULT_COUNTER_SHARDS`] items for that day, chosen by its
//! id, so a burst of documents spreads over many keys. A report reads the shards of the days it
//! covers: its cost grows with days × shards, never with documents.

/// What the reporter needs, as ports.
pub mod ports;
/// The reporter: reports made from the counters, written to the reports bucket and topic.
pub mod reporter;

#[cfg(any(test, feature = "test-support"))]
pub mod domain_figures;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::model::{Channel, DocumentRecord, DocumentStatus};
use crate::engine::hashing::DocumentHash;

pub use crate::domain::limits::DEFAULT_COUNTER_SHARDS;
/// The daily report's schema.
pub const DAILY_REPORT_SCHEMA: &str = "intake.daily-report/1";
/// The range report's schema.
pub const RANGE_REPORT_SCHEMA: &str = "intake.range-report/1";
/// The longest range one report covers, in days.
pub const MAX_RANGE_DAYS: i32 = 3 * 366;

/// The Warsaw calendar day a document counts in: the day it arrived.
pub fn counted_day(record: &DocumentRecord) -> Option<Date> {
    record
        .received_at
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(crate::domain::time::office_day)
        .or_else(|| record.received_day.clone())
        .and_then(|d| d.parse().ok())
}

/// The counters a judged document adds one to, routed to `department`.
pub fn counter_names(record: &DocumentRecord, department: &str) -> Vec<String> {
    let mut names = vec!["total".to_string()];
    if let Some(status) = record.status.filter(|s| *s != DocumentStatus::Pending) {
        names.push(format!("status:{}", status.as_str()));
    }
    let channel = record.channel.map_or("unknown", Channel::as_str);
    names.push(format!("channel:{channel}"));
    names.push(format!("department:{department}"));
    if record.channel == Some(Channel::DropBox) {
        names.push(format!(
            "site:{}",
            record.site.as_deref().unwrap_or("unknown")
        ));
    }
    names.push(format!(
        "service:{}",
        record.service.as_deref().unwrap_or("unknown")
    ));
    names
}

/// The shard of a document's day counters.
pub fn shard_of(document_id: &str, shards: u32) -> u32 {
    let hash = DocumentHash::of(document_id.as_bytes()).to_hex();
    let prefix = u32::from_str_radix(&hash[..8], 16).unwrap_or(0);
    prefix % shards.max(1)
}

/// The table id of a day's counter shard.
pub fn counter_item_id(day: Date, shard: u32) -> String {
    format!("count#{day}#{shard}")
}

/// How many documents, in all and by each dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Every document.
    pub total: u64,
    /// By `accepted`, `rejected`, `duplicate`.
    pub by_status: BTreeMap<String, u64>,
    /// By `web`, `drop_box`.
    pub by_channel: BTreeMap<String, u64>,
    /// By department id.
    pub by_department: BTreeMap<String, u64>,
    /// By drop-box site id (scans only).
    pub by_site: BTreeMap<String, u64>,
    /// By service id.
    pub by_service: BTreeMap<String, u64>,
}

impl Counts {
    /// Counts from counter attributes (`total`, `status:accepted`, ...).
    pub fn from_counters<'a>(counters: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut counts = Counts::default();
        for (name, value) in counters {
            counts.add_counter(name, value);
        }
        counts
    }

    fn add_counter(&mut self, name: &str, value: u64) {
        let Some((dimension, key)) = name.split_once(':') else {
            if name == "total" {
                self.total += value;
            }
            return;
        };
        let map = match dimension {
            "status" => &mut self.by_status,
            "channel" => &mut self.by_channel,
            "department" => &mut self.by_department,
            "site" => &mut self.by_site,
            "service" => &mut self.by_service,
            _ => return,
        };
        *map.entry(key.to_string()).or_default() += value;
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Counts) {
        self.total += other.total;
        for (mine, theirs) in [
            (&mut self.by_status, &other.by_status),
            (&mut self.by_channel, &other.by_channel),
            (&mut self.by_department, &other.by_department),
            (&mut self.by_site, &other.by_site),
            (&mut self.by_service, &other.by_service),
        ] {
            for (key, value) in theirs {
                *mine.entry(key.clone()).or_default() += value;
            }
        }
    }
}

/// Growth from `then` to `now` in percent, to one decimal; `None` when there was nothing then.
pub fn growth_percent(now: u64, then: u64) -> Option<f64> {
    if then == 0 {
        return None;
    }
    let percent = (now as f64 - then as f64) / then as f64 * 100.0;
    Some((percent * 10.0).round() / 10.0)
}

/// The same day a year earlier (29 February: the 28th).
pub fn year_ago(day: Date) -> Date {
    day.checked_sub(1.year()).unwrap_or(day)
}

/// Every day from `from` to `to`, both included (empty when `to` is before `from`).
pub fn days(from: Date, to: Date) -> Vec<Date> {
    let mut days = Vec::new();
    let mut day = from;
    // Bounded by the longest range plus a year before it (a range report reads from 1 January).
    while day <= to && days.len() <= 2 * MAX_RANGE_DAYS as usize {
        days.push(day);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    days
}

/// Why a range is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The end is before the start.
    #[error("--to {to} is before --from {from}")]
    Backwards {
        /// Start.
        from: Date,
        /// End.
        to: Date,
    },
    /// Too long.
    #[error("a range covers at most {MAX_RANGE_DAYS} days")]
    TooLong,
    /// Reaches past today: a report of days to come would say they had no documents.
    #[error("--to {to} is after today ({today} in Warsaw): those days have no documents yet")]
    Future {
        /// End.
        to: Date,
        /// Today in Warsaw.
        today: Date,
    },
}

/// Checks a report range, on `today` (in Warsaw).
pub fn check_range(from: Date, to: Date, today: Date) -> Result<(), RangeError> {
    if to < from {
        return Err(RangeError::Backwards { from, to });
    }
    if to > today {
        return Err(RangeError::Future { to, today });
    }
    if from
        .until(to)
        .map_or(true, |span| span.get_days() >= MAX_RANGE_DAYS)
    {
        return Err(RangeError::TooLong);
    }
    Ok(())
}

/// Growth by total and by each channel, site and department.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    /// All documents.
    pub total: Option<f64>,
    /// By channel.
    pub by_channel: BTreeMap<String, Option<f64>>,
    /// By drop-box site.
    pub by_site: BTreeMap<String, Option<f64>>,
    /// By department.
    pub by_department: BTreeMap<String, Option<f64>>,
}

fn growth_by(
    now: &BTreeMap<String, u64>,
    then: &BTreeMap<String, u64>,
) -> BTreeMap<String, Option<f64>> {
    now.keys()
        .chain(then.keys())
        .map(|k| {
            let n = now.get(k).copied().unwrap_or(0);
            let t = then.get(k).copied().unwrap_or(0);
            (k.clone(), growth_percent(n, t))
        })
        .collect()
}

/// A period's figures and the same period a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodFigures {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// Days in the period.
    pub days: usize,
    /// The counts.
    pub counts: Counts,
    /// First day a year earlier.
    pub year_ago_from: Date,
    /// Last day a year earlier.
    pub year_ago_to: Date,
    /// The counts a year earlier.
    pub year_ago: Counts,
    /// Growth in percent.
    pub growth: Growth,
    /// Average scans per day at each drop-box site.
    pub site_daily_average: BTreeMap<String, f64>,
}

/// The days a period needs counts for, with the same days a year earlier.
pub fn days_needed(from: Date, to: Date) -> Vec<Date> {
    let mut needed = days(from, to);
    needed.extend(days(year_ago(from), year_ago(to)));
    needed.sort();
    needed.dedup();
    needed
}

/// Figures of a period from daily counts (a day missing from `daily` counted nothing).
pub fn period(from: Date, to: Date, daily: &BTreeMap<Date, Counts>) -> PeriodFigures {
    let sum = |from: Date, to: Date| {
        let mut total = Counts::default();
        for day in days(from, to) {
            if let Some(counts) = daily.get(&day) {
                total.add(counts);
            }
        }
        total
    };
    let counts = sum(from, to);
    let (year_ago_from, year_ago_to) = (year_ago(from), year_ago(to));
    let year_ago = sum(year_ago_from, year_ago_to);
    let day_count = days(from, to).len();
    let growth = Growth {
        total: growth_percent(counts.total, year_ago.total),
        by_channel: growth_by(&counts.by_channel, &year_ago.by_channel),
        by_site: growth_by(&counts.by_site, &year_ago.by_site),
        by_department: growth_by(&counts.by_department, &year_ago.by_department),
    };
    let site_daily_average = counts
        .by_site
        .iter()
        .map(|(site, n)| {
            let average = *n as f64 / day_count.max(1) as f64;
            (site.clone(), (average * 10.0).round() / 10.0)
        })
        .collect();
    PeriodFigures {
        from,
        to,
        days: day_count,
        counts,
        year_ago_from,
        year_ago_to,
        year_ago,
        growth,
        site_daily_average,
    }
}

/// The report of one Warsaw day: the day, month to date and year to date, each against the same
/// period a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyReport {
    /// Always [`DAILY_REPORT_SCHEMA`].
    pub schema: String,
    /// The day.
    pub day: Date,
    /// Its length in hours (23 and 25 on the daylight-saving days).
    pub hours: i64,
    /// When the report was made (RFC 3339 UTC).
    pub generated_at: String,
    /// The day itself.
    pub the_day: PeriodFigures,
    /// From the first of the month.
    pub month_to_date: PeriodFigures,
    /// From 1 January.
    pub year_to_date: PeriodFigures,
}

/// The days a daily report reads.
pub fn days_for_daily_report(day: Date) -> Vec<Date> {
    days_needed(day.first_of_year(), day)
}

/// Builds the report of `day` from daily counts.
pub fn daily_report(day: Date, daily: &BTreeMap<Date, Counts>, generated_at: &str) -> DailyReport {
    let hours = crate::domain::time::day_bounds(day).map_or(24, |(start, end)| {
        (end.as_second() - start.as_second()) / 3600
    });
    DailyReport {
        schema: DAILY_REPORT_SCHEMA.into(),
        day,
        hours,
        generated_at: generated_at.to_string(),
        the_day: period(day, day, daily),
        month_to_date: period(day.first_of_month(), day, daily),
        year_to_date: period(day.first_of_year(), day, daily),
    }
}

/// The report of a range of days against the same range a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeReport {
    /// Always [`RANGE_REPORT_SCHEMA`].
    pub schema: String,
    /// When the report was made.
    pub generated_at: String,
    /// The range.
    pub period: PeriodFigures,
}

/// Builds the report of a range from daily counts.
pub fn range_report(
    from: Date,
    to: Date,
    daily: &BTreeMap<Date, Counts>,
    generated_at: &str,
) -> RangeReport {
    RangeReport {
        schema: RANGE_REPORT_SCHEMA.into(),
        generated_at: generated_at.to_string(),
        period: period(from, to, daily),
    }
}

/// Display names: departments' Polish names, sites' addresses, channels in Polish.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Department id to name.
    pub departments: BTreeMap<String, String>,
    /// Site id to address.
    pub sites: BTreeMap<String, String>,
}

impl Names {
    /// The names in the routing rules.
    pub fn from_rules(rules: &crate::domain::routing::RoutingRules) -> Self {
        Names {
            departments: rules
                .departments()
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect(),
            sites: rules
                .sites()
                .map(|s| (s.id.clone(), s.address.clone()))
                .collect(),
        }
    }

    fn name(&self, dimension: &str, key: &str) -> String {
        let found = match dimension {
            "department" => self.departments.get(key).cloned(),
            "site" => self.sites.get(key).cloned(),
            "channel" => match key {
                "web" => Some("Skrzynka podawcza (formularz)".into()),
                "drop_box" => Some("Skrzynki na dokumenty (skany)".into()),
                _ => None,
            },
            "status" => match key {
                "accepted" => Some("przyjęte".into()),
                "rejected" => Some("odrzucone".into()),
                "duplicate" => Some("duplikaty".into()),
                _ => None,
            },
            _ => crate::domain::services::find(key).map(|s| s.name_pl.to_string()),
        };
        found.unwrap_or_else(|| key.to_string())
    }
}

/// One dimension of a period: its id, Polish label, counts now and a year earlier.
type Dimension<'a> = (
    &'static str,
    &'static str,
    &'a BTreeMap<String, u64>,
    &'a BTreeMap<String, u64>,
);

fn dimensions(p: &PeriodFigures) -> [Dimension<'_>; 5] {
    [
        (
            "channel",
            "kanał",
            &p.counts.by_channel,
            &p.year_ago.by_channel,
        ),
        (
            "status",
            "status",
            &p.counts.by_status,
            &p.year_ago.by_status,
        ),
        (
            "department",
            "wydział",
            &p.counts.by_department,
            &p.year_ago.by_department,
        ),
        ("site", "skrzynka", &p.counts.by_site, &p.year_ago.by_site),
        (
            "service",
            "usługa",
            &p.counts.by_service,
            &p.year_ago.by_service,
        ),
    ]
}

fn polish_number(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:+.1}").replace('.', ","))
}

fn csv_field(value: &str) -> String {
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A text field (a key or a name, which may come from outside): one a spreadsheet would take
/// for a formula is prefixed with `'`.
fn csv_text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// The periods as CSV for a spreadsheet: UTF-8 with a byte-order mark (so Excel reads the
/// Polish letters), `;` between fields and a decimal comma, as Polish Excel expects.
pub fn to_csv(periods: &[(&str, &PeriodFigures)], names: &Names) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("okres;od;do;wymiar;klucz;nazwa;liczba;rok wcześniej;zmiana %\r\n");
    for (label, p) in periods {
        let mut row = |dimension: &str, key: &str, name: &str, now: u64, then: u64| {
            let fields = [
                label.to_string(),
                p.from.to_string(),
                p.to.to_string(),
                csv_text(dimension),
                csv_text(key),
                csv_text(name),
                now.to_string(),
                then.to_string(),
                polish_number(growth_percent(now, then)),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(";"));
            out.push_str("\r\n");
        };
        row(
            "razem",
            "total",
            "wszystkie dokumenty",
            p.counts.total,
            p.year_ago.total,
        );
        for (dimension, label_pl, now, then) in dimensions(p) {
            let keys: std::collections::BTreeSet<&String> = now.keys().chain(then.keys()).collect();
            for key in keys {
                row(
                    label_pl,
                    key,
                    &names.name(dimension, key),
                    now.get(key).copied().unwrap_or(0),
                    then.get(key).copied().unwrap_or(0),
                );
            }
        }
    }
    out
}

/// A count with thousands grouped by a narrow no-break space, as Polish writes them.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A period's days as text: one date, or first – last.
fn span(from: Date, to: Date) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from} – {to}")
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn growth_badge(g: Option<f64>) -> String {
    match g {
        None => "<span class=\"g none\">—</span>".into(),
        Some(v) if v >= 0.0 => format!("<span class=\"g up\">{}%</span>", polish_number(Some(v))),
        Some(v) => format!("<span class=\"g down\">{}%</span>", polish_number(Some(v))),
    }
}

/// A horizontal bar chart (inline SVG) of `rows` (label, now, a year earlier).
fn bar_chart(title: &str, rows: &[(String, u64, u64)]) -> String {
    let max = rows
        .iter()
        .map(|(_, n, t)| (*n).max(*t))
        .max()
        .unwrap_or(0)
        .max(1);
    // Room for the longest label at 12 px (about 6.6 px a character).
    let longest = rows
        .iter()
        .map(|(l, _, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * 6.6 + 16.0).clamp(160.0, 440.0);
    let (bar_width, row_height) = (420.0, 26.0);
    let height = row_height * rows.len() as f64 + 30.0;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"{}\">",
        html_escape(title),
        label_width + bar_width + 90.0,
        html_escape(title)
    );
    for (i, (label, now, then)) in rows.iter().enumerate() {
        let y = 10.0 + row_height * i as f64;
        let w_now = bar_width * *now as f64 / max as f64;
        let w_then = bar_width * *then as f64 / max as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"l\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{w_then:.1}\" height=\"6\" class=\"then\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"{w_now:.1}\" height=\"12\" class=\"now\"/>\
             <text x=\"{}\" y=\"{}\" class=\"v\">{}</text>",
            label_width - 8.0,
            y + 12.0,
            html_escape(label),
            label_width,
            y + 14.0,
            label_width,
            y + 1.0,
            label_width + w_now.max(w_then) + 6.0,
            y + 12.0,
            grouped(*now),
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// A self-contained HTML page (no external assets): the headline figures against a year
/// earlier, and charts per drop-box site and per department.
pub fn to_html(title: &str, periods: &[(&str, &PeriodFigures)], names: &Names) -> String {
    let mut page = format!(
        "<!DOCTYPE html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;color:#1d2733;padding:0 1rem}}\
         h1{{font-size:1.5rem}} h2{{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dbe3;padding-bottom:.3rem}}\
         .cards{{display:flex;gap:1rem;flex-wrap:wrap}} .card{{border:1px solid #d5dbe3;border-radius:.5rem;padding:1rem 1.2rem;min-width:14rem}}\
         .card .n{{font-size:2rem;font-weight:600}} .card .s{{color:#5a6776;font-size:.9rem}}\
         .g{{font-weight:600;padding:.05rem .4rem;border-radius:.3rem}} .up{{background:#e3f4e6;color:#1e6b2f}} .down{{background:#fbe5e3;color:#9b2c22}} .none{{color:#8a96a3}}\
         table{{border-collapse:collapse;margin:.5rem 0}} td,th{{padding:.25rem .8rem;text-align:right;border-bottom:1px solid #eef1f5}} td:first-child,th:first-child{{text-align:left}}\
         figure{{margin:1rem 0}} figcaption{{font-weight:600;margin-bottom:.3rem}} svg{{width:100%;max-width:52rem;height:auto}}\
         .l{{font-size:12px;fill:#1d2733}} .v{{font-size:11px;fill:#5a6776}} .now{{fill:#2f6fb3}} .then{{fill:#b8c4d2}}\
         .legend span{{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}}\
         </style></head><body><h1>{}</h1>",
        html_escape(title),
        html_escape(title)
    );
    page.push_str("<div class=\"cards\">");
    for (label, p) in periods {
        let _ = write!(
            page,
            "<div class=\"card\"><div class=\"s\">{} ({})</div><div class=\"n\">{}</div>\
             <div class=\"s\">rok wcześniej: {} {}</div></div>",
            html_escape(label),
            span(p.from, p.to),
            grouped(p.counts.total),
            grouped(p.year_ago.total),
            growth_badge(p.growth.total)
        );
    }
    page.push_str("</div>");
    for (label, p) in periods {
        let _ = write!(
            page,
            "<h2>{} ({}; rok wcześniej {})</h2>",
            html_escape(label),
            span(p.from, p.to),
            span(p.year_ago_from, p.year_ago_to)
        );
        page.push_str(
            "<table><tr><th>kanał</th><th>liczba</th><th>rok wcześniej</th><th>zmiana</th></tr>",
        );
        let channels: std::collections::BTreeSet<&String> = p
            .counts
            .by_channel
            .keys()
            .chain(p.year_ago.by_channel.keys())
            .collect();
        for channel in channels {
            let now = p.counts.by_channel.get(channel).copied().unwrap_or(0);
            let then = p.year_ago.by_channel.get(channel).copied().unwrap_or(0);
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&names.name("channel", channel)),
                grouped(now),
                grouped(then),
                growth_badge(growth_percent(now, then))
            );
        }
        let _ = write!(
            page,
            "<tr><td><b>razem</b></td><td><b>{}</b></td><td>{}</td><td>{}</td></tr></table>",
            grouped(p.counts.total),
            grouped(p.year_ago.total),
            growth_badge(p.growth.total)
        );
        page.push_str("<div class=\"legend\"><span class=\"now\" style=\"background:#2f6fb3\"></span>okres<span style=\"background:#b8c4d2\"></span>rok wcześniej</div>");
        let rows = |dimension: &str, now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            let keys: std::collections::BTreeSet<&String> = now.keys().chain(then.keys()).collect();
            let mut rows: Vec<(String, u64, u64)> = keys
                .into_iter()
                .map(|k| {
                    (
                        names.name(dimension, k),
                        now.get(k).copied().unwrap_or(0),
                        then.get(k).copied().unwrap_or(0),
                    )
                })
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            rows
        };
        let sites = rows("site", &p.counts.by_site, &p.year_ago.by_site);
        if !sites.is_empty() {
            page.push_str(&bar_chart("Skrzynki na dokumenty (według miejsca)", &sites));
            if p.days > 1 {
                page.push_str("<table><tr><th>skrzynka</th><th>średnio dziennie</th></tr>");
                for (site, average) in &p.site_daily_average {
                    let _ = write!(
                        page,
                        "<tr><td>{}</td><td>{}</td></tr>",
                        html_escape(&names.name("site", site)),
                        format!("{average:.1}").replace('.', ",")
                    );
                }
                page.push_str("</table>");
            }
        }
        let departments = rows(
            "department",
            &p.counts.by_department,
            &p.year_ago.by_department,
        );
        if !departments.is_empty() {
            page.push_str(&bar_chart("Wydziały", &departments));
        }
    }
    page.push_str("</body></html>");
    page
}

/// The short text of the management notification.
pub fn summary_text(title: &str, periods: &[(&str, &PeriodFigures)]) -> String {
    let mut text = format!("{title}\n\n");
    for (label, p) in periods {
        let growth = p
            .growth
            .total
            .map_or("-".to_string(), |g| format!("{}%", polish_number(Some(g))));
        let _ = writeln!(
            text,
            "{label} ({} – {}): {} dokumentów; rok wcześniej {} ({growth})",
            p.from, p.to, p.counts.total, p.year_ago.total
        );
        for (channel, n) in &p.counts.by_channel {
            let then = p.year_ago.by_channel.get(channel).copied().unwrap_or(0);
            let _ = writeln!(
                text,
                "  {channel}: {n} (rok wcześniej {then}, {})",
                growth_percent(*n, then)
                    .map_or("-".into(), |g| format!("{}%", polish_number(Some(g))))
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn web(n: u64) -> Counts {
        Counts::from_counters([("total", n), ("channel:web", n), ("status:accepted", n)])
    }

    #[test]
    fn a_document_counts_once_in_each_dimension_of_its_warsaw_day() {
        let record = DocumentRecord {
            id: "d".into(),
            channel: Some(Channel::DropBox),
            site: Some("mogilska".into()),
            status: Some(DocumentStatus::Accepted),
            received_at: Some("2020-03-28T23:30:00.000Z".into()),
            ..DocumentRecord::default()
        };
        assert_eq!(counted_day(&record), Some(date("2020-03-29")));
        let names = counter_names(&record, "architektura");
        assert_eq!(
            names,
            [
                "total",
                "status:accepted",
                "channel:drop_box",
                "department:architektura",
                "site:mogilska",
                "service:unknown"
            ]
        );
        let counts = Counts::from_counters(names.iter().map(|n| (n.as_str(), 1)));
        assert_eq!(counts.total, 1);
        assert_eq!(counts.by_site["mogilska"], 1);
        assert_eq!(counts.by_department["architektura"], 1);
    }

    #[test]
    fn shards_spread_documents() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000 {
            let shard = shard_of(&format!("doc-{i}"), 16);
            assert!(shard < 16);
            seen.insert(shard);
        }
        assert_eq!(seen.len(), 16);
        assert_eq!(counter_item_id(date("2020-03-01"), 3), "count#2020-03-01#3");
    }

    #[test]
    fn the_domain_figures_come_out_as_plus_102_4_percent() {
        let mut daily = BTreeMap::new();
        // 13,814 in March 2020 and 8,750 on 1-16 April 2020; 6,829 and 4,317 a year earlier.
        let spread = |daily: &mut BTreeMap<Date, Counts>, from: &str, to: &str, total: u64| {
            let span = days(date(from), date(to));
            let n = span.len() as u64;
            for (i, day) in span.iter().enumerate() {
                let share = total / n + u64::from((i as u64) < total % n);
                daily.insert(*day, web(share));
            }
        };
        spread(&mut daily, "2020-03-01", "2020-03-31", 13_814);
        spread(&mut daily, "2020-04-01", "2020-04-16", 8_750);
        spread(&mut daily, "2019-03-01", "2019-03-31", 6_829);
        spread(&mut daily, "2019-04-01", "2019-04-16", 4_317);
        let report = range_report(date("2020-03-01"), date("2020-04-16"), &daily, "now");
        let p = &report.period;
        assert_eq!((p.counts.total, p.year_ago.total), (22_564, 11_146));
        assert_eq!(p.growth.total, Some(102.4));
        assert_eq!(p.growth.by_channel["web"], Some(102.4));
        assert_eq!(p.days, 47);
        assert_eq!(growth_percent(13_814, 6_829), Some(102.3));
        assert_eq!(growth_percent(5, 0), None);
    }

    #[test]
    fn a_daily_report_has_the_day_month_and_year_to_date() {
        let mut daily = BTreeMap::new();
        daily.insert(date("2020-04-16"), web(10));
        daily.insert(date("2020-04-01"), web(5));
        daily.insert(date("2020-01-02"), web(1));
        daily.insert(date("2019-04-16"), web(4));
        let report = daily_report(date("2020-04-16"), &daily, "t");
        assert_eq!(report.the_day.counts.total, 10);
        assert_eq!(report.the_day.growth.total, Some(150.0));
        assert_eq!(report.month_to_date.counts.total, 15);
        assert_eq!(report.year_to_date.counts.total, 16);
        assert_eq!(report.year_to_date.year_ago.total, 4);
        assert_eq!(report.hours, 24);
        assert_eq!(daily_report(date("2020-03-29"), &daily, "t").hours, 23);
        assert_eq!(daily_report(date("2020-10-25"), &daily, "t").hours, 25);
        let needed = days_for_daily_report(date("2020-04-16"));
        assert_eq!(needed.first(), Some(&date("2019-01-01")));
        assert_eq!(needed.len(), 107 + 106);
        assert_eq!(year_ago(date("2020-02-29")), date("2019-02-28"));
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(22_564), "22\u{202f}564");
        assert_eq!(grouped(1_000_000), "1\u{202f}000\u{202f}000");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn ranges_are_checked() {
        let today = date("2026-11-29");
        assert!(check_range(date("2020-03-01"), date("2020-04-16"), today).is_ok());
        assert!(check_range(date("2026-11-01"), today, today).is_ok());
        assert!(matches!(
            check_range(date("2020-04-16"), date("2020-03-01"), today),
            Err(RangeError::Backwards { .. })
        ));
        assert_eq!(
            check_range(date("2010-01-01"), date("2020-01-01"), today),
            Err(RangeError::TooLong)
        );
        assert_eq!(
            check_range(date("2026-11-01"), date("2026-11-30"), today),
            Err(RangeError::Future {
                to: date("2026-11-30"),
                today
            })
        );
    }

    #[test]
    fn the_csv_opens_in_a_polish_spreadsheet_and_the_html_stands_alone() {
        let rules = crate::domain::routing::RoutingRules::bundled().unwrap();
        let names = Names::from_rules(&rules);
        let mut counts = web(3);
        counts.add(&Counts::from_counters([
            ("total", 2),
            ("channel:drop_box", 2),
            ("site:os-zgody", 2),
            ("department:srodowisko", 2),
        ]));
        let mut daily = BTreeMap::new();
        daily.insert(date("2020-04-16"), counts);
        daily.insert(date("2019-04-16"), web(2));
        let report = daily_report(date("2020-04-16"), &daily, "t");
        let periods = [("dzień", &report.the_day)];
        let csv = to_csv(&periods, &names);
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("wydział;srodowisko;Wydział Środowiska;2;0;"),
            "{csv}"
        );
        assert!(
            csv.contains("razem;total;wszystkie dokumenty;5;2;+150,0"),
            "{csv}"
        );
        let html = to_html("Raport dzienny 2020-04-16", &periods, &names);
        assert!(html.contains("Wydział Środowiska"));
        assert!(html.contains("<svg"));
        assert!(
            !html.contains("http://")
                || !html
                    .replace("http://www.w3.org/2000/svg", "")
                    .contains("http")
        );
        assert!(!html.contains("<script") && !html.contains("<link"));
        let mut hostile = Counts::default();
        hostile.add(&Counts::from_counters([("service:=HYPERLINK(\"x\")", 1)]));
        let mut daily = BTreeMap::new();
        daily.insert(date("2020-04-16"), hostile);
        let tricked = daily_report(date("2020-04-16"), &daily, "t");
        let csv = to_csv(&[("dzień", &tricked.the_day)], &names);
        assert!(csv.contains(";\"'=HYPERLINK(\"\"x\"\")\";"), "{csv}");
        let summary = summary_text("Raport", &periods);
        assert!(
            summary.contains("5 dokumentów; rok wcześniej 2 (+150,0%)"),
            "{summary}"
        );
    }
}
