//! The narrow ports the library's logic works over: here the ones every concern shares (the
//! documents' records, the clock) and the error every port fails with; each concern adds its
//! own in its `ports` module (`validation::ports`, `notification::ports`, `station::ports`,
//! `upload::ports`, `report::ports`). Each AWS adapter (`adapters`, feature `aws`) implements
//! the ports of its service; `in_memory` implements them all in memory, with fault injection,
//! for unit tests. The logic never names an SDK.
//!
//! The traits use `async fn`: their futures are polled on the task of the function that calls
//! them (the Lambda runtime's, or a test's), never spawned, so they need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::domain::model::DocumentRecord;
use crate::domain::time::Timestamp;

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
    /// already: `false` then, or when there is no such record. With `register_number`, the
    /// document's number goes in with it (in the same write), unless one stands there.
    async fn set_department(
        &self,
        id: &str,
        department: &str,
        register_number: Option<&str>,
    ) -> Result<bool, PortError>;

    /// Writes a document's register number into its record unless it holds it already (then
    /// nothing is written); `false` when there is no such record.
    async fn record_register_number(&self, id: &str, number: &str) -> Result<bool, PortError>;
}

/// The time, so that a test can pin it.
pub trait Clock {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Now, as the records write it (RFC 3339, UTC, milliseconds).
    fn now_rfc3339(&self) -> String {
        crate::domain::time::utc_rfc3339(self.now())
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
