//! Making the reports: read the daily counters, build the reports, and write them (an item in
//! the counts table, JSON, CSV and HTML in the reports bucket) and a summary to management. Used by the
//! `aggregate` function (every night, and for any day or range it is asked for) and by
//! `intake report --from --to`.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::adapters::AwsError;
use crate::adapters::counters::CountsTable;
use crate::adapters::s3::DocumentStore;
use crate::adapters::sns::ManagementTopic;
use crate::report::{
    self, Counts, DailyReport, Names, PeriodFigures, RangeError, RangeReport, daily_report,
    range_report,
};

/// Why a report was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// AWS failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
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

/// Makes and keeps reports.
pub struct Reporter {
    /// The counts table (counters and report items).
    pub table: CountsTable,
    /// S3.
    pub store: DocumentStore,
    /// The reports bucket.
    pub bucket: String,
    /// The management topic, if any.
    pub topic: Option<ManagementTopic>,
    /// Counter shards per day.
    pub shards: u32,
    /// Display names.
    pub names: Names,
}

impl Reporter {
    /// The reporter `config` describes, naming departments and sites as `rules` do.
    pub fn new(
        aws: &crate::adapters::Aws,
        config: &crate::config::AggregateConfig,
        rules: &crate::routing::RoutingRules,
    ) -> Self {
        Reporter {
            table: CountsTable::new(aws, &config.counts_table),
            store: DocumentStore::new(aws),
            bucket: config.reports_bucket.clone(),
            topic: config
                .management_topic_arn
                .as_ref()
                .map(|arn| ManagementTopic::new(aws, arn)),
            shards: config.counter_shards,
            names: Names::from_rules(rules),
        }
    }
}

fn now() -> String {
    crate::time::utc_rfc3339(crate::time::Timestamp::now())
}

impl Reporter {
    async fn counts(&self, days: &[Date]) -> Result<BTreeMap<Date, Counts>, ReportError> {
        Ok(self.table.daily_counts(days, self.shards).await?)
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
            self.store
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
        self.table
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
        if let Some(topic) = &self.topic {
            let text = format!(
                "{}\nPliki: s3://{}/{prefix}report.html (.csv, .json)\n",
                report::summary_text(title, periods),
                self.bucket
            );
            topic.publish(subject, &text).await?;
        }
        Ok(())
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
        let earlier = daily_report(before, &daily, &now());
        self.keep_daily(&earlier).await?;
        tracing::info!(day = %before, total = earlier.the_day.counts.total, "daily report remade");
        self.daily_from(day, &daily).await
    }

    async fn daily_from(
        &self,
        day: Date,
        daily: &BTreeMap<Date, Counts>,
    ) -> Result<DailyReport, ReportError> {
        let report = daily_report(day, daily, &now());
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
        report::check_range(
            from,
            to,
            crate::time::office_date(crate::time::Timestamp::now()),
        )?;
        let daily = self
            .counts(&report::days_needed(from.first_of_year(), to))
            .await?;
        let generated_at = now();
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
        self.table
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
