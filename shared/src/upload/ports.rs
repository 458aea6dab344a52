//! What the desks (web forms and stations) need to hand out uploads: pending records and
//! presigned upload forms. Like [`crate::ports`], the traits use `async fn`: their futures are
//! polled on the caller's task, never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::domain::model::DocumentRecord;
use crate::domain::time::Timestamp;
use crate::ports::PortError;
use crate::upload::{PostPolicySpec, PresignedPost};

/// The pending records of uploads not yet arrived.
pub trait PendingRecords {
    /// Writes a pending record unless a record with its id stands already: `false` then (a
    /// concurrent request for the same upload wrote it, and it stands).
    async fn create_pending(&self, record: &DocumentRecord) -> Result<bool, PortError>;
}

/// Upload forms for the incoming bucket.
pub trait UploadForms {
    /// A presigned POST limited to `spec`, valid from `now`.
    async fn presign_upload(
        &self,
        spec: &PostPolicySpec<'_>,
        now: Timestamp,
    ) -> Result<PresignedPost, PortError>;

    /// Whether an object is there (an upload that arrived).
    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, PortError>;
}
