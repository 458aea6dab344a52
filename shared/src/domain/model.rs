//! The document model: what the system knows about every document it receives.

use serde::{Deserialize, Serialize};

// The engine's verdict vocabulary is the records' too.
pub use crate::engine::findings::{Finding, Outcome, ReasonCode, Severity, Verdict};

/// The office that receives and confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    /// The office's name, as on its letterhead ("Urząd Miasta Krakowa").
    pub name: String,
    /// The short code register numbers start with ("UMK").
    pub code: String,
    /// Its address.
    pub address: String,
}

/// How a document reached the city hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Uploaded by a citizen or company through the web form (ePUAP-style electronic inbox).
    Web,
    /// Scanned at a drop-box site by its scanning station.
    DropBox,
}

impl Channel {
    /// The stable name used in records, keys and metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::DropBox => "drop_box",
        }
    }

    /// Parses the stable name back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "web" => Some(Channel::Web),
            "drop_box" => Some(Channel::DropBox),
            _ => None,
        }
    }
}

/// Where a document stands in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// An upload was requested; the bytes have not been validated yet.
    Pending,
    /// Validated and stored in the archive.
    Accepted,
    /// Failed validation; the original bytes are kept in quarantine with the reasons.
    Rejected,
    /// The same bytes were already received; the record points to the original.
    Duplicate,
}

impl DocumentStatus {
    /// The stable name used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Pending => "pending",
            DocumentStatus::Accepted => "accepted",
            DocumentStatus::Rejected => "rejected",
            DocumentStatus::Duplicate => "duplicate",
        }
    }

    /// Parses the stable name back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DocumentStatus::Pending),
            "accepted" => Some(DocumentStatus::Accepted),
            "rejected" => Some(DocumentStatus::Rejected),
            "duplicate" => Some(DocumentStatus::Duplicate),
            _ => None,
        }
    }
}

/// Where a document's bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageLocation {
    /// The S3 bucket.
    pub bucket: String,
    /// The S3 key.
    pub key: String,
}

impl std::fmt::Display for StorageLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// A document's record, as kept in the documents table.
///
/// A web-form upload creates it as [`DocumentStatus::Pending`] with what the sender declared;
/// validation completes it once, with a conditional write.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DocumentRecord {
    /// The document id (for web uploads, the upload id).
    pub id: String,
    /// The channel it came through; `None` for an object no channel wrote.
    pub channel: Option<Channel>,
    /// The service it is for, when known.
    pub service: Option<String>,
    /// The department it is routed to; unset until routing resolves it.
    pub department: Option<String>,
    /// The drop-box site (scanning station) a scan came from.
    pub site: Option<String>,
    /// Who last moved the document to another department, when someone did.
    pub reclassified_by: Option<String>,
    /// Every move between departments (JSON list of who, when, from, to).
    pub department_history: Option<String>,
    /// Where it stands.
    pub status: Option<DocumentStatus>,
    /// The sender's file name.
    pub file_name: Option<String>,
    /// The sender's own reference.
    pub applicant_reference: Option<String>,
    /// The size the sender declared.
    pub declared_size: Option<u64>,
    /// The SHA-256 the sender declared (hex).
    pub declared_sha256: Option<String>,
    /// When the upload was requested (RFC 3339 UTC).
    pub created_at: Option<String>,
    /// The SHA-256 of the bytes received (hex).
    pub sha256: Option<String>,
    /// The size of the bytes received.
    pub size: Option<u64>,
    /// The page count.
    pub pages: Option<u32>,
    /// The PDF version its header declares.
    pub pdf_version: Option<String>,
    /// The PDF engine's facts (version, revisions, producer, active content, ...) as JSON.
    pub pdf_facts: Option<String>,
    /// The document-level signature verdict (`unsigned`, `trusted`, `valid_untrusted`,
    /// `changed_after_signing`, `invalid`).
    pub signature_status: Option<String>,
    /// Every signature's verdict, as JSON.
    pub signatures: Option<String>,
    /// The file name of the detached signature (`.p7s`) the sender declared with the document.
    pub detached_signature: Option<String>,
    /// Where the detached signature is kept (`bucket/key`), once judged.
    pub detached_signature_stored: Option<String>,
    /// When the bytes arrived (RFC 3339 UTC).
    pub received_at: Option<String>,
    /// The calendar day of `received_at` in Europe/Warsaw (YYYY-MM-DD).
    pub received_day: Option<String>,
    /// When validation recorded its verdict (RFC 3339 UTC).
    pub validated_at: Option<String>,
    /// Everything validation found.
    pub findings: Vec<Finding>,
    /// Where the bytes are kept (archive, or quarantine when rejected).
    pub storage: Option<StorageLocation>,
    /// For a duplicate, the id of the document first received with the same bytes.
    pub duplicate_of: Option<String>,
    /// Its number in the office's incoming register (`UMK/RPW/2026/000123`), given once
    /// after the verdict.
    pub register_number: Option<String>,
    /// For a scan, the station batch it came in.
    pub batch_id: Option<String>,
    /// For a scan, the envelope its papers came in.
    pub envelope: Option<String>,
    /// For a scan, when it was scanned (as the station says).
    pub scanned_at: Option<String>,
    /// For a scan, who scanned it.
    pub operator: Option<String>,
    /// For a scan, the pages the station counted.
    pub declared_pages: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [
            DocumentStatus::Pending,
            DocumentStatus::Accepted,
            DocumentStatus::Rejected,
            DocumentStatus::Duplicate,
        ] {
            assert_eq!(DocumentStatus::parse(s.as_str()), Some(s));
        }
        for c in [Channel::Web, Channel::DropBox] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for code in ReasonCode::ALL {
            assert!(code.message_pl().ends_with('.'), "{code:?}");
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }
}
