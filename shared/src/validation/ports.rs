//! What the validation path needs of the world: duplicate detection and verdicts in the
//! documents table, and the buckets (incoming objects read once, the archive, the quarantine).
//! Like [`crate::ports`], the traits use `async fn`: their futures are polled on the caller's
//! task, never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::domain::model::{DocumentRecord, StorageLocation};
use crate::engine::hashing::{DocumentHash, ReadDocument};
use crate::ports::PortError;
use crate::validation::s3_event::ObjectCreated;

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
