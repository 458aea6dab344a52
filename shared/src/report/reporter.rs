//! Making the reports: read the daily counters, build the reports, and write them (an item in
//! the counts table, JSON, CSV and HTML in the reports bucket) and a summary to management. Used by the
//! `aggregate` function (every night, and for any day or range it is asked for) and by
//! `intake report --from --to`, over the ports of [`crate::report::ports`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_json::{Value, json};

use crate::domain::time::Timestamp;
use crate::ports::{Clock, PortError};
use crate::report::ports::{ManagementNotice, ReportFiles, ReportStore};
use crate::report::{
    self, Counts, DailyReport, Names, PeriodFigures, RangeError, RangeReport, daily_report,
    range_report,
};

/// Why a report was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A port failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The range is wrong.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// A report could not be encoded.
    #[error("encoding the report: {0}")]
    Encoding(String),
}

/// Where each report is kept.
pub fn daily_report_prefix(day: Date) -> String {
    format!(
        "reports/daily/{:04}/{:02}/{:02}/",
        day.year(),
        day.month(),
        day.day()
    )
}

/// Where a range report is kept.
pub fn range_report_prefix(from: Date, to: Date) -> String {
    format!("reports/range/{from}_{to}/")
}

/// What a report run is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportRequest {
    /// The schedule's run: the Warsaw day before its time.
    Nightly(Date),
    /// One day, remade.
    Day(Date),
    /// Every day of a range, remade, and the range's own report.
    Range(Date, Date),
}

impl ReportRequest {
    /// Reads an `aggregate` event: `{"from", "to"}`, `{"day"}`, or the schedule's
    /// `{"scheduled_time"}` (the day before that time in Warsaw, so a delayed or retried run
    /// reports the same day; without a readable time, the day before `now`).
    pub fn from_event(event: &Value, now: Timestamp) -> Result<Self, String> {
        match (
            date(event, "from")?,
            date(event, "to")?,
            date(event, "day")?,
        ) {
            (Some(from), Some(to), _) => Ok(ReportRequest::Range(from, to)),
            (Some(_), None, _) | (None, Some(_), _) => Err("a range needs both from and to".into()),
            (None, None, Some(day)) => Ok(ReportRequest::Day(day)),
            (None, None, None) => {
                let at = match event.get("scheduled_time").and_then(Value::as_str) {
                    Some(text) => text.parse::<Timestamp>().unwrap_or_else(|_| {
                        // Still the right day when run at 00:15; said, so the schedule gets
                        // fixed.
                        tracing::warn!(
                            scheduled_time = text,
                            "not a time: reporting the day before now"
                        );
                        now
                    }),
                    None => now,
                };
                Ok(ReportRequest::Nightly(
                    crate::domain::time::previous_office_day(at),
                ))
            }
        }
    }
}

fn date(event: &Value, name: &str) -> Result<Option<Date>, String> {
    match event.get(name).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} '{text}' is not a date (YYYY-MM-DD)")),
    }
}

/// Makes and keeps reports.
pub struct Reporter<S, F, M, K> {
    /// The counters and the report items.
    pub store: S,
    /// The report files.
    pub files: F,
    /// The reports bucket.
    pub bucket: String,
    /// Management's topic (`None`: nobody is told).
    pub management: M,
    /// Counter shards per day.
    pub shards: u32,
    /// Display names.
    pub names: Names,
    /// The clock (the reports' `generated_at`, and which days are in the future).
    pub clock: K,
}

impl<S: ReportStore, F: ReportFiles, M: ManagementNotice, K: Clock> Reporter<S, F, M, K> {
    /// Runs a request; the answer names the day or range, its total and where the report is.
    pub async fn answer(&self, request: ReportRequest) -> Result<Value, ReportError> {
        let report = match request {
            ReportRequest::Nightly(day) => self.nightly(day).await?,
            ReportRequest::Day(day) => self.daily(day).await?,
            ReportRequest::Range(from, to) => {
                let report = self.range(from, to).await?;
                return Ok(json!({
                    "from": from.to_string(),
                    "to": to.to_string(),
                    "total": report.period.counts.total,
                    "growth_percent": report.period.growth.total,
                    "report": range_report_prefix(from, to),
                }));
            }
        };
        Ok(json!({
            "day": report.day.to_string(),
            "total": report.the_day.counts.total,
            "report": daily_report_prefix(report.day),
        }))
    }

    async fn counts(&self, days: &[Date]) -> Result<BTreeMap<Date, Counts>, ReportError> {
        Ok(self.store.daily_counts(days, self.shards).await?)
    }

    async fn write_files(
        &self,
        prefix: &str,
        title: &str,
        json: &str,
        periods: &[(&str, &PeriodFigures)],
    ) -> Result<(), ReportError> {
        let files = [
            ("report.json", "application/json", json.to_string()),
            (
                "report.csv",
                "text/csv; charset=utf-8",
                report::to_csv(periods, &self.names),
            ),
            (
                "report.html",
                "text/html; charset=utf-8",
                report::to_html(title, periods, &self.names),
            ),
        ];
        for (name, content_type, body) in files {
            self.files
                .put_text(&self.bucket, &format!("{prefix}{name}"), content_type, body)
                .await?;
        }
        Ok(())
    }

    async fn keep_daily(&self, report: &DailyReport) -> Result<(), ReportError> {
        let json =
            serde_json::to_string(report).map_err(|e| ReportError::Encoding(e.to_string()))?;
        let title = format!("Dokumenty wpływające: raport dzienny {}", report.day);
        let periods = [
            ("dzień", &report.the_day),
            ("od początku miesiąca", &report.month_to_date),
            ("od początku roku", &report.year_to_date),
        ];
        self.write_files(&daily_report_prefix(report.day), &title, &json, &periods)
            .await?;
        self.store
            .put_report(
                &format!("report#daily#{}", report.day),
                &json,
                report.the_day.counts.total,
                &report.generated_at,
            )
            .await?;
        Ok(())
    }

    async fn tell_management(
        &self,
        subject: &str,
        title: &str,
        periods: &[(&str, &PeriodFigures)],
        prefix: &str,
    ) -> Result<(), ReportError> {
        let text = format!(
            "{}\nPliki: s3://{}/{prefix}report.html (.csv, .json)\n",
            report::summary_text(title, periods),
            self.bucket
        );
        Ok(self.management.publish(subject, &text).await?)
    }

    /// Makes (or remakes) the report of one day and tells management.
    pub async fn daily(&self, day: Date) -> Result<DailyReport, ReportError> {
        let daily = self.counts(&report::days_for_daily_report(day)).await?;
        self.daily_from(day, &daily).await
    }

    /// The nightly run: remakes the report of the day before `day` without telling anyone,
    /// then makes `day`'s and tells management. A document is counted in the day it arrived
    /// but only once judged, which can be after that day's report (a document that waited for
    /// its detached signature, or was retried): the next night's run takes it in.
    pub async fn nightly(&self, day: Date) -> Result<DailyReport, ReportError> {
        let Ok(before) = day.yesterday() else {
            return self.daily(day).await;
        };
        let mut days = report::days_for_daily_report(before);
        days.extend(report::days_for_daily_report(day));
        days.sort();
        days.dedup();
        let daily = self.counts(&days).await?;
        let earlier = daily_report(before, &daily, &self.clock.now_rfc3339());
        self.keep_daily(&earlier).await?;
        tracing::info!(day = %before, total = earlier.the_day.counts.total, "daily report remade");
        self.daily_from(day, &daily).await
    }

    async fn daily_from(
        &self,
        day: Date,
        daily: &BTreeMap<Date, Counts>,
    ) -> Result<DailyReport, ReportError> {
        let report = daily_report(day, daily, &self.clock.now_rfc3339());
        self.keep_daily(&report).await?;
        let title = format!("Dokumenty wpływające: raport dzienny {day}");
        self.tell_management(
            &format!("intake: daily report {day}"),
            &title,
            &[
                ("dzień", &report.the_day),
                ("od początku miesiąca", &report.month_to_date),
                ("od początku roku", &report.year_to_date),
            ],
            &daily_report_prefix(day),
        )
        .await?;
        tracing::info!(day = %day, total = report.the_day.counts.total, "daily report made");
        Ok(report)
    }

    /// Remakes the daily report of every day from `from` to `to`, and makes the range's own
    /// report against the same range a year earlier. The counters of every day needed are
    /// read once.
    pub async fn range(&self, from: Date, to: Date) -> Result<RangeReport, ReportError> {
        report::check_range(from, to, crate::domain::time::office_date(self.clock.now()))?;
        let daily = self
            .counts(&report::days_needed(from.first_of_year(), to))
            .await?;
        let generated_at = self.clock.now_rfc3339();
        for day in report::days(from, to) {
            self.keep_daily(&daily_report(day, &daily, &generated_at))
                .await?;
        }
        let report = range_report(from, to, &daily, &generated_at);
        let json =
            serde_json::to_string(&report).map_err(|e| ReportError::Encoding(e.to_string()))?;
        let title = format!("Dokumenty wpływające: {from} – {to}");
        let periods = [("okres", &report.period)];
        let prefix = range_report_prefix(from, to);
        self.write_files(&prefix, &title, &json, &periods).await?;
        self.store
            .put_report(
                &format!("report#range#{from}#{to}"),
                &json,
                report.period.counts.total,
                &generated_at,
            )
            .await?;
        self.tell_management(
            &format!("intake: report {from} to {to}"),
            &title,
            &periods,
            &prefix,
        )
        .await?;
        tracing::info!(%from, %to, total = report.period.counts.total, "range report made");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    //! The reporter in memory: the nightly run's day from the schedule's time, a rerun that
    //! replaces a report and takes in a late document, ranges, and failures that leave no
    //! half-told report.

    use super::*;
    use crate::domain::model::{Channel, DocumentRecord, DocumentStatus};
    use crate::in_memory::{Fault, InMemory, block_on};
    use crate::notification::ports::Counters;

    type InMemoryReporter<'a> = Reporter<&'a InMemory, &'a InMemory, &'a InMemory, &'a InMemory>;

    const SHARDS: u32 = 4;

    fn reporter(world: &InMemory) -> InMemoryReporter<'_> {
        Reporter {
            store: world,
            files: world,
            bucket: "reports".into(),
            management: world,
            shards: SHARDS,
            names: Names::from_rules(
                &crate::domain::routing::RoutingRules::bundled().expect("rules"),
            ),
            clock: world,
        }
    }

    fn date(s: &str) -> Date {
        s.parse().expect("a date")
    }

    /// Counts a judged web document that arrived at `received_at`, as notify does.
    fn count(world: &InMemory, id: &str, received_at: &str) {
        let record = DocumentRecord {
            id: id.into(),
            channel: Some(Channel::Web),
            service: Some("general-letter".into()),
            status: Some(DocumentStatus::Accepted),
            received_at: Some(received_at.into()),
            ..DocumentRecord::default()
        };
        let day = report::counted_day(&record).expect("a day");
        let counters = report::counter_names(&record, "kancelaria");
        let counted = block_on((&world).count_document(
            id,
            "kancelaria",
            day,
            report::shard_of(id, SHARDS),
            &counters,
        ));
        assert_eq!(counted, Ok(true));
    }

    fn total(world: &InMemory, day: &str) -> Option<u64> {
        world.report(&format!("report#daily#{day}")).map(|(_, t)| t)
    }

    #[test]
    fn the_schedules_run_reports_the_warsaw_day_before_its_time_not_before_now() {
        let at: Timestamp = "2026-06-11T22:15:00Z".parse().expect("a time");
        let event = json!({ "scheduled_time": "2026-06-09T22:15:00Z" });
        // Delayed by two days, it still reports the day its schedule meant.
        assert_eq!(
            ReportRequest::from_event(&event, at),
            Ok(ReportRequest::Nightly(date("2026-06-09")))
        );
        assert_eq!(
            ReportRequest::from_event(&json!({ "scheduled_time": "soon" }), at),
            Ok(ReportRequest::Nightly(date("2026-06-11")))
        );
        assert_eq!(
            ReportRequest::from_event(&json!({ "day": "2026-06-01" }), at),
            Ok(ReportRequest::Day(date("2026-06-01")))
        );
        for (bad, why) in [
            (json!({ "day": "June" }), "not a date"),
            (json!({ "from": "2026-06-01" }), "both from and to"),
        ] {
            let refused = ReportRequest::from_event(&bad, at).expect_err("refused");
            assert!(refused.contains(why), "{refused}");
        }
    }

    #[test]
    fn a_rerun_replaces_the_report_never_counts_twice_and_takes_in_a_late_document() {
        let world = InMemory::at("2026-06-11T22:15:00Z".parse().expect("a time"));
        for (i, at) in ["06:00", "09:30", "20:00"].iter().enumerate() {
            count(&world, &format!("doc-{i}"), &format!("2026-06-10T{at}:00Z"));
        }
        let reporter = reporter(&world);
        let first =
            block_on(reporter.answer(ReportRequest::Day(date("2026-06-10")))).expect("made");
        assert_eq!(first["total"], 3);
        let again =
            block_on(reporter.answer(ReportRequest::Day(date("2026-06-10")))).expect("made");
        assert_eq!(again["total"], 3, "a rerun counts nothing twice");
        assert_eq!(total(&world, "2026-06-10"), Some(3));
        // Arrived at 23:45 Warsaw time on the 10th and judged after that day's report: the
        // next night's run takes it in, remaking the day before without telling anyone.
        count(&world, "late", "2026-06-10T21:45:00Z");
        let told_before = world.summaries().len();
        let nightly =
            block_on(reporter.answer(ReportRequest::Nightly(date("2026-06-11")))).expect("made");
        assert_eq!(nightly["day"], "2026-06-11");
        assert_eq!(
            total(&world, "2026-06-10"),
            Some(4),
            "the late document counted"
        );
        assert_eq!(total(&world, "2026-06-11"), Some(0));
        let told: Vec<_> = world.summaries()[told_before..].to_vec();
        assert_eq!(told.len(), 1, "only the night's own day is told: {told:?}");
        assert_eq!(told[0].0, "intake: daily report 2026-06-11");
        let files = world.objects("reports");
        for name in ["report.json", "report.csv", "report.html"] {
            assert!(files.contains_key(&format!("reports/daily/2026/06/10/{name}")));
        }
    }

    #[test]
    fn a_range_remakes_its_days_and_refuses_the_future() {
        let world = InMemory::at("2026-06-11T12:00:00Z".parse().expect("a time"));
        count(&world, "a", "2026-06-01T08:00:00Z");
        count(&world, "b", "2026-06-03T08:00:00Z");
        let reporter = reporter(&world);
        let range =
            block_on(reporter.answer(ReportRequest::Range(date("2026-06-01"), date("2026-06-05"))))
                .expect("made");
        assert_eq!(range["total"], 2);
        assert_eq!(total(&world, "2026-06-03"), Some(1));
        assert_eq!(total(&world, "2026-06-05"), Some(0));
        let future =
            block_on(reporter.answer(ReportRequest::Range(date("2026-06-10"), date("2026-06-20"))));
        assert!(matches!(future, Err(ReportError::Range(_))), "{future:?}");
    }

    #[test]
    fn a_failed_write_tells_management_nothing_and_a_retry_makes_the_whole_report() {
        let world = InMemory::at("2026-06-11T12:00:00Z".parse().expect("a time"));
        count(&world, "a", "2026-06-10T08:00:00Z");
        let reporter = reporter(&world);
        // A report writes its three files, then its item, then tells management: the second
        // file fails.
        world.faults.at(2, Fault::FailBefore);
        let failed = block_on(reporter.answer(ReportRequest::Day(date("2026-06-10"))));
        assert!(matches!(failed, Err(ReportError::Port(_))), "{failed:?}");
        assert!(
            world.summaries().is_empty(),
            "nothing told of a report not kept"
        );
        let retried = block_on(reporter.answer(ReportRequest::Day(date("2026-06-10"))));
        assert_eq!(retried.expect("made")["total"], 1);
        assert_eq!(world.summaries().len(), 1);
    }
}
