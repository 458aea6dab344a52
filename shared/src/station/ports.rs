//! What the station desk needs of the world besides uploads ([`crate::upload::ports`]): the
//! batches as it opens, fills and closes them, and the stations' keys. Like [`crate::ports`],
//! the traits use `async fn`: their futures are polled on the caller's task, never spawned, so
//! they need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::ports::PortError;
use crate::station::BatchRecord;

/// What opening a batch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOpening {
    /// A new batch.
    Opened(BatchRecord),
    /// The batch exists (a resumed push, or a replay): as it stands.
    Existing(BatchRecord),
}

/// What closing a batch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchClosing {
    /// The manifest is in.
    Closed,
    /// Closed before with this very manifest (a retried close).
    AlreadyClosed(BatchRecord),
    /// Closed before with another manifest.
    ClosedWithAnotherManifest(BatchRecord),
    /// No such batch.
    Unknown,
}

/// The batches, as the desk opens, fills and closes them. Every change is atomic on the batch,
/// so concurrent requests of one push never overwrite each other.
pub trait BatchDesk {
    /// Opens a batch, or finds it open (or closed) already.
    async fn open_batch(
        &self,
        station: &str,
        batch_id: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<BatchOpening, PortError>;

    /// A batch as it stands (read consistently).
    async fn batch(&self, station: &str, batch_id: &str) -> Result<Option<BatchRecord>, PortError>;

    /// Gives a file its document id: `candidate` the first time, the id given before on every
    /// later call (a resumed push). `None` when the batch takes no more files (complete,
    /// unknown, or holding as many names as a batch may).
    async fn assign_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        candidate: &str,
    ) -> Result<Option<String>, PortError>;

    /// Records a file refused before upload (too large), so the batch can still complete.
    async fn refuse_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        reason: &str,
    ) -> Result<(), PortError>;

    /// Closes an open batch with its manifest; closing again with the same manifest is a no-op.
    async fn close_batch(
        &self,
        station: &str,
        batch_id: &str,
        manifest: &str,
        manifest_sha256: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<BatchClosing, PortError>;
}

/// The stations' signing keys.
pub trait StationKeyring {
    /// A station's current key; `None` for a station that has none.
    async fn key(&self, station: &str) -> Result<Option<Vec<u8>>, PortError>;
}
