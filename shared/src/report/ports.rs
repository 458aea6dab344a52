//! What the reporter needs of the world: the day counters and the report items, the report
//! files, and management's topic. Like [`crate::ports`], the traits use `async fn`: their
//! futures are polled on the caller's task, never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::ports::PortError;
use crate::report::Counts;

/// The counts table as the reporter reads and writes it.
pub trait ReportStore {
    /// The counts of each of `days` that has any, its `shards` counter items summed.
    async fn daily_counts(
        &self,
        days: &[Date],
        shards: u32,
    ) -> Result<BTreeMap<Date, Counts>, PortError>;

    /// Stores a report under `id`, replacing an earlier run's.
    async fn put_report(
        &self,
        id: &str,
        report_json: &str,
        total: u64,
        generated_at: &str,
    ) -> Result<(), PortError>;
}

/// Where the report files go.
pub trait ReportFiles {
    /// Writes a text file, replacing what was there.
    async fn put_text(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: String,
    ) -> Result<(), PortError>;
}

/// Management's topic: a report's summary.
pub trait ManagementNotice {
    /// Publishes a summary.
    async fn publish(&self, subject: &str, text: &str) -> Result<(), PortError>;
}

/// No topic (the deployment set none) tells nobody.
impl<M: ManagementNotice> ManagementNotice for Option<M> {
    async fn publish(&self, subject: &str, text: &str) -> Result<(), PortError> {
        match self {
            Some(topic) => topic.publish(subject, text).await,
            None => Ok(()),
        }
    }
}
