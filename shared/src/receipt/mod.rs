//! The receipt (urzędowe poświadczenie przedłożenia): the office's signed confirmation of what
//! it received, when, with what verdict and what deadline, for every document from every
//! channel.
//!
//! - [`model`]: what a receipt states, and [`receipt_for`] builds it from a document's record;
//! - [`xml`]: the same as XML (`urn:intake:receipt:1`), embedded in the PDF;
//! - [`pdf`]: the PDF in Polish, prepared for its signature;
//! - [`cms`]: the PAdES signature (CMS), signed by the office's key in KMS, and the RFC 3161
//!   timestamp;
//! - [`certificate`]: the key's certificate request and a certificate it signs for itself
//!   until the office's trust service issues one;
//! - [`desk`]: the receipt issued once per document, over [`ports`].

pub mod certificate;
pub mod cms;
pub mod desk;
pub mod model;
pub mod pdf;
pub mod ports;
pub mod xml;

use crate::domain::deadline::{StatutoryPeriod, deadline};
use crate::domain::model::{Channel, DocumentRecord, DocumentStatus, Severity};
use crate::domain::routing::RoutingRules;
use crate::domain::time::{Timestamp, office_date};
use model::{
    Office, Receipt, ReceiptChannel, ReceiptOutcome, ReceiptReason, ReceiptService, TimeSource,
};

/// Why a record cannot be confirmed (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The record is not a judged and registered document.
    #[error("document {0} is not judged and registered")]
    NotRegistered(String),
    /// The record has no readable time of receipt.
    #[error("document {0} has no time of receipt")]
    NoTimeOfReceipt(String),
}

/// What the receipt of a judged, registered document states, issued at `issued_at`.
///
/// The deadline is the service's statutory period counted from the Warsaw day of receipt; a
/// refused document and a duplicate (whose case the first copy started) start none.
pub fn receipt_for(
    record: &DocumentRecord,
    office: &Office,
    rules: &RoutingRules,
    issued_at: Timestamp,
    time_source: TimeSource,
) -> Result<Receipt, ReceiptError> {
    let not_registered = || ReceiptError::NotRegistered(record.id.clone());
    let register_number = record.register_number.clone().ok_or_else(not_registered)?;
    let outcome = match record.status.ok_or_else(not_registered)? {
        DocumentStatus::Pending => return Err(not_registered()),
        DocumentStatus::Accepted => ReceiptOutcome::Accepted,
        DocumentStatus::Rejected => ReceiptOutcome::Rejected,
        DocumentStatus::Duplicate => ReceiptOutcome::Duplicate,
    };
    let received_at: Timestamp = record
        .received_at
        .as_deref()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ReceiptError::NoTimeOfReceipt(record.id.clone()))?;
    let channel = match record.channel {
        Some(Channel::DropBox) => {
            let site = record.site.clone().unwrap_or_default();
            ReceiptChannel::DropBox {
                site_address: rules.site(&site).map(|s| s.address.clone()),
                site,
                envelope: record.envelope.clone(),
                batch_id: record.batch_id.clone(),
            }
        }
        _ => ReceiptChannel::WebForm,
    };
    let service = record.service.as_deref().map(|id| ReceiptService {
        id: id.to_string(),
        name_pl: crate::domain::services::find(id)
            .map_or_else(|| id.to_string(), |s| s.name_pl.to_string()),
    });
    let period = rules.period(record.service.as_deref());
    let deadline = match outcome {
        ReceiptOutcome::Accepted => deadline(office_date(received_at), period),
        ReceiptOutcome::Rejected | ReceiptOutcome::Duplicate => None,
    };
    // A refusal states its reasons; an acceptance its warnings.
    let reasons = record
        .findings
        .iter()
        .filter(|f| outcome != ReceiptOutcome::Rejected || f.severity == Severity::Reject)
        .map(|f| ReceiptReason {
            code: f.code.as_str().to_string(),
            text_pl: f.code.message_pl().to_string(),
        })
        .collect();
    Ok(Receipt {
        office: office.clone(),
        register_number,
        document_id: record.id.clone(),
        channel,
        service,
        file_name: record.file_name.clone(),
        size: record.size.unwrap_or(0),
        pages: record.pages,
        sha256: record.sha256.clone().unwrap_or_default(),
        received_at,
        outcome,
        reasons,
        duplicate_of: record.duplicate_of.clone(),
        period: if deadline.is_some() {
            period
        } else {
            StatutoryPeriod::None
        },
        deadline,
        issued_at,
        time_source,
    })
}

#[cfg(test)]
mod tests;
