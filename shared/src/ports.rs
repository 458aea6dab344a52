//! The narrow ports the library's logic works over. Each AWS adapter (`adapters`, feature
//! `aws`) implements the ports of its service; `in_memory` implements them all in memory, with
//! fault injection, for unit tests. The logic never names an SDK.
//!
//! The traits use `async fn`: their futures are polled on the task of the function that calls
//! them (the Lambda runtime's, or a test's), never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use jiff::civil::Date;

use crate::hashing::{DocumentHash, ReadDocument};
use crate::model::{DocumentRecord, StorageLocation};
use crate::notification::Notification;
use crate::s3_event::ObjectCreated;
use crate::station::{BatchNotification, BatchRecord};
use crate::time::Timestamp;

/// A port's operation failed: an AWS call (its operation, such as `s3:GetObject`, and the
/// service's error code, never request contents), or a fault a test injected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {detail}")]
pub struct PortError {
    /// The operation, for example `s3:GetObject`.
    pub operation: &'static str,
    /// The service's error code and message, or the transport error.
    pub detail: String,
    /// Whether the same call may succeed later.
    pub retry: Retry,
}

/// Whether a failed call is worth trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// Throttling, a timeout, a lost connection, the service's own fault, or something that has
    /// not happened yet: the same call may well succeed in a moment.
    Worthwhile,
    /// Refused for what it is (access denied, no such table or bucket, a malformed request, an
    /// inconsistent record): trying again changes nothing until the deployment or the data is
    /// mended, so it is for the operators, not for the retry loop.
    Pointless,
}

impl PortError {
    /// A failure that may pass if tried again.
    pub fn transient(operation: &'static str, detail: impl Into<String>) -> Self {
        PortError {
            operation,
            detail: detail.into(),
            retry: Retry::Worthwhile,
        }
    }

    /// A failure that trying again does not mend.
    pub fn permanent(operation: &'static str, detail: impl Into<String>) -> Self {
        PortError {
            operation,
            detail: detail.into(),
            retry: Retry::Pointless,
        }
    }

    /// Whether trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retry == Retry::Worthwhile
    }
}

/// The documents' records.
pub trait Documents {
    /// A document's record, read consistently; `None` when there is none.
    async fn get(&self, id: &str) -> Result<Option<DocumentRecord>, PortError>;

    /// Writes the routed department into a judged document's record unless one stands there
    /// already: `false` then, or when there is no such record.
    async fn set_department(&self, id: &str, department: &str) -> Result<bool, PortError>;
}

/// Who holds the claim on a document's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashClaim {
    /// This document is the first with these bytes (or claimed them before, on an earlier try).
    Original,
    /// Another document holds the claim.
    DuplicateOf(String),
}

/// The outcome of writing a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordWrite {
    /// The record now holds the verdict.
    Written,
    /// A verdict was recorded before (a redelivered event); nothing changed.
    AlreadyRecorded,
    /// A detached signature: nothing to record, it is judged with its document.
    JudgedWithDocument,
}

/// Duplicate detection and verdicts: the validation path's writes to the documents table.
pub trait Verdicts {
    /// Claims a document's bytes for `document_id`, atomically: the first document with these
    /// bytes holds the claim for good; any other is its duplicate.
    async fn claim_hash(
        &self,
        hash: &DocumentHash,
        document_id: &str,
        claimed_at: &str,
    ) -> Result<HashClaim, PortError>;

    /// Writes a judged record unless a verdict stands there already.
    async fn record_verdict(&self, record: &DocumentRecord) -> Result<RecordWrite, PortError>;
}

/// The buckets of the validation path: incoming objects read once, the archive and the
/// quarantine.
pub trait DocumentBuckets {
    /// Reads an object once, hashing it as it comes and keeping at most `limit` bytes.
    async fn read_document(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        limit: u64,
    ) -> Result<ReadDocument, PortError>;

    /// Reads a small object if it is there: its bytes (`None` over `limit`) and version.
    async fn read_optional(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<(Option<Vec<u8>>, Option<String>)>, PortError>;

    /// Stores accepted bytes under their content key; storing them again is a no-op.
    async fn archive(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        hash: &DocumentHash,
        document_id: &str,
    ) -> Result<(), PortError>;

    /// Keeps a rejected object: a copy of the version received, with the reasons.
    async fn quarantine(
        &self,
        object: &ObjectCreated,
        destination: &StorageLocation,
        document_id: &str,
        reasons: &str,
    ) -> Result<(), PortError>;
}

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

/// The time, so that a test can pin it.
pub trait Clock {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
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
