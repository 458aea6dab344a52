//! What a receipt confirms: one document as the office received it.

use crate::domain::deadline::{Deadline, StatutoryPeriod};
use jiff::Timestamp;

/// The version of the receipt's XML schema (`urn:intake:receipt:1`).
pub const SCHEMA_VERSION: u32 = 1;

pub use crate::domain::model::Office;

/// How the document reached the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptChannel {
    /// The web form (electronic submission).
    WebForm,
    /// A drop box: its site, the site's address, the envelope its papers came in and the
    /// station batch.
    DropBox {
        /// The site id (`mogilska`).
        site: String,
        /// The site's address as people know it ("ul. Mogilska 41").
        site_address: Option<String>,
        /// The envelope's label, when the station gave one.
        envelope: Option<String>,
        /// The station batch.
        batch_id: Option<String>,
    },
}

/// The service the document is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptService {
    /// The stable id (`building-permit`).
    pub id: String,
    /// Its Polish name.
    pub name_pl: String,
}

/// What validation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Accepted and passed to the department.
    Accepted,
    /// Received but refused (the reasons say why); the bytes are kept.
    Rejected,
    /// The same bytes had been received before (`duplicate_of` names the first).
    Duplicate,
}

/// One reason, as the receipt states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptReason {
    /// Our reason code (`active_content`).
    pub code: String,
    /// The sentence in Polish.
    pub text_pl: String,
}

/// Where the receipt's time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSource {
    /// The office's own clock: no time-stamping authority is configured.
    OfficeClock,
    /// An RFC 3161 time-stamping authority at this URL stamps the signature.
    TimestampAuthority(String),
}

/// Everything a receipt states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The office.
    pub office: Office,
    /// The document's number in the incoming register (`UMK/RPW/2026/000123`).
    pub register_number: String,
    /// The document id.
    pub document_id: String,
    /// The channel.
    pub channel: ReceiptChannel,
    /// The service, when the sender named one.
    pub service: Option<ReceiptService>,
    /// The sender's file name.
    pub file_name: Option<String>,
    /// The size in bytes of what was received.
    pub size: u64,
    /// The page count, when the file could be read.
    pub pages: Option<u32>,
    /// The SHA-256 of what was received (lowercase hex).
    pub sha256: String,
    /// When the bytes arrived.
    pub received_at: Timestamp,
    /// The verdict.
    pub outcome: ReceiptOutcome,
    /// The reasons behind a refusal, or the warnings on an acceptance.
    pub reasons: Vec<ReceiptReason>,
    /// For a duplicate, the document first received with the same bytes.
    pub duplicate_of: Option<String>,
    /// The statutory period of the service (KPA art. 35).
    pub period: StatutoryPeriod,
    /// The deadline the receipt starts (KPA art. 57), `None` when the service has none or
    /// the document was refused.
    pub deadline: Option<Deadline>,
    /// When the receipt was issued.
    pub issued_at: Timestamp,
    /// Where its time comes from.
    pub time_source: TimeSource,
}
