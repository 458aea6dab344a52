//! What the notifier needs of the world: the ledger of notifications sent, the batches'
//! records, the day counters, the departments' copies, their topic and the clerks' e-mail.
//! Like [`crate::ports`], the traits use `async fn`: their futures are polled on the caller's
//! task, never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use jiff::civil::Date;

use std::collections::BTreeMap;

use crate::domain::model::{DocumentRecord, StorageLocation};
use crate::notification::Notification;
use crate::ports::PortError;
use crate::station::{BatchNotification, BatchRecord};

/// The ledger of notifications sent: one entry per (subject, department), the subject being a
/// document id or a batch's event.
pub trait NotificationLedger {
    /// Whether the pair's notification is in the ledger.
    async fn notified(&self, subject: &str, department: &str) -> Result<bool, PortError>;

    /// Enters a sent notification.
    async fn mark_notified(
        &self,
        subject: &str,
        department: &str,
        at: &str,
    ) -> Result<(), PortError>;
}

/// The station batches' records.
pub trait Batches {
    /// Records a judged file's verdict in its batch.
    async fn record_batch_verdict(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        verdict: &str,
    ) -> Result<(), PortError>;

    /// Marks a closed batch complete, once: `false` when it was not closed, or is complete.
    async fn complete_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError>;

    /// Flags a batch that is not completing in time, once.
    async fn flag_overdue_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError>;

    /// Every batch not yet complete nor flagged.
    async fn unfinished_batches(&self) -> Result<Vec<BatchRecord>, PortError>;
}

/// Where a document was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountMark {
    /// The Warsaw day.
    pub day: Date,
    /// The department it is counted for (moved with a reclassification).
    pub department: String,
    /// The counter shard.
    pub shard: u32,
}

/// The daily counters of judged documents.
pub trait Counters {
    /// Where a document was counted, if it was.
    async fn counted(&self, document_id: &str) -> Result<Option<CountMark>, PortError>;

    /// Counts a judged document in its day, once: `false` when it was counted before. The mark
    /// and the counters change together or not at all.
    async fn count_document(
        &self,
        document_id: &str,
        department: &str,
        day: Date,
        shard: u32,
        counters: &[String],
    ) -> Result<bool, PortError>;

    /// Moves a counted document's department count, once: `false` when it was moved already.
    async fn move_count(
        &self,
        document_id: &str,
        day: Date,
        shard: u32,
        from: &str,
        to: &str,
    ) -> Result<bool, PortError>;
}

/// The departments' copies of archived documents.
pub trait DepartmentCopies {
    /// Gives a department its copy; copying again writes the same bytes.
    async fn copy_for_department(
        &self,
        source: &StorageLocation,
        destination: &StorageLocation,
        document_id: &str,
        department: &str,
    ) -> Result<(), PortError>;

    /// Removes a copy; removing what is not there succeeds.
    async fn remove(&self, location: &StorageLocation) -> Result<(), PortError>;
}

/// The departments' notification topic. A repeat of a (subject, department) pair within five
/// minutes is dropped by the topic (its deduplication id), as SNS FIFO does.
pub trait DepartmentTopic {
    /// Publishes a document's notification to its department.
    async fn publish(&self, notification: &Notification) -> Result<(), PortError>;

    /// Publishes a batch event's notification to a department.
    async fn publish_batch(
        &self,
        department: &str,
        subject: &str,
        notification: &BatchNotification,
    ) -> Result<(), PortError>;
}

/// The clerks' e-mail: best effort, the department's queue is the record.
pub trait Mailer {
    /// Sends a notification's e-mail.
    async fn send(&self, notification: &Notification) -> Result<(), PortError>;
}

/// No mailer (the deployment set no e-mail topic) sends nothing.
impl<M: Mailer> Mailer for Option<M> {
    async fn send(&self, notification: &Notification) -> Result<(), PortError> {
        match self {
            Some(mailer) => mailer.send(notification).await,
            None => Ok(()),
        }
    }
}

/// The incoming register, which numbers each judged document before its department is told.
pub trait Registry {
    /// Numbers the registrable documents among `records` that have no number yet; answers the
    /// number of each registrable one, by document id.
    async fn number(
        &self,
        records: &[&DocumentRecord],
    ) -> Result<BTreeMap<String, String>, PortError>;
}

impl<B> Registry for crate::register::Register<B>
where
    B: crate::register::ports::RegisterBook,
{
    async fn number(
        &self,
        records: &[&DocumentRecord],
    ) -> Result<BTreeMap<String, String>, PortError> {
        crate::register::Register::number(self, records).await
    }
}
