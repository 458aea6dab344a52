//! Writes sample reports from the domain notes' figures (March and 1-16 April 2020 against the
//! same days of 2019, and every drop box's daily average): the range report and the daily report
//! of 16 April 2020, as HTML and CSV, to look at them without AWS.
//!
//! `cargo run -p intake-shared --example sample_report -- OUT_DIR`

use std::collections::BTreeMap;

use intake::report::{self, Counts, Names};
use jiff::civil::Date;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out)?;
    let rules = intake::domain::routing::RoutingRules::bundled()?;
    let names = Names::from_rules(&rules);
    let sites: BTreeMap<&str, u64> = report::domain_figures::DROP_BOX_DAILY.into();
    let mut daily: BTreeMap<Date, Counts> = BTreeMap::new();
    for (from, to, web_total) in report::domain_figures::ELECTRONIC_INBOX {
        // The drop boxes a year earlier: a tenth fewer.
        let scale = if from.starts_with("2019") { 0.9 } else { 1.0 };
        let days = report::days(from.parse()?, to.parse()?);
        let n = days.len() as u64;
        for (i, day) in days.iter().enumerate() {
            let web = web_total / n + u64::from((i as u64) < web_total % n);
            let mut counters: Vec<(String, u64)> = vec![("channel:web".into(), web)];
            // The web documents spread over the services, routed to their departments.
            let services = intake::domain::services::SERVICES;
            for (k, service) in services.iter().enumerate() {
                let share = web / services.len() as u64
                    + u64::from((k as u64) < web % services.len() as u64);
                let department = rules
                    .route(intake::domain::routing::Origin::Web {
                        service: Some(service.id),
                    })
                    .department;
                counters.push((format!("service:{}", service.id), share));
                counters.push((format!("department:{department}"), share));
            }
            let mut scans = 0;
            for site in rules.sites() {
                let v = (sites[site.id.as_str()] as f64 * scale).round() as u64;
                scans += v;
                counters.push((format!("site:{}", site.id), v));
                counters.push((format!("department:{}", site.departments[0]), v));
            }
            counters.push(("channel:drop_box".into(), scans));
            counters.push(("total".into(), web + scans));
            counters.push(("status:accepted".into(), web + scans - 40));
            counters.push(("status:rejected".into(), 30));
            counters.push(("status:duplicate".into(), 10));
            daily.insert(
                *day,
                Counts::from_counters(counters.iter().map(|(k, v)| (k.as_str(), *v))),
            );
        }
    }
    let (from, to): (Date, Date) = ("2020-03-01".parse()?, "2020-04-16".parse()?);
    let range = report::range_report(from, to, &daily, "2020-04-17T00:15:00.000Z");
    let periods = [("okres", &range.period)];
    let title = format!("Dokumenty wpływające: {from} – {to}");
    std::fs::write(
        out.join("range.html"),
        report::to_html(&title, &periods, &names),
    )?;
    std::fs::write(out.join("range.csv"), report::to_csv(&periods, &names))?;
    let day = report::daily_report(to, &daily, "2020-04-17T00:15:00.000Z");
    let periods = [
        ("dzień", &day.the_day),
        ("od początku miesiąca", &day.month_to_date),
        ("od początku roku", &day.year_to_date),
    ];
    let title = format!("Dokumenty wpływające: raport dzienny {to}");
    std::fs::write(
        out.join("daily.html"),
        report::to_html(&title, &periods, &names),
    )?;
    std::fs::write(out.join("daily.csv"), report::to_csv(&periods, &names))?;
    println!(
        "web {} against {} ({:?}%); files in {}",
        range.period.counts.by_channel["web"],
        range.period.year_ago.by_channel["web"],
        range.period.growth.by_channel["web"],
        out.display()
    );
    Ok(())
}
