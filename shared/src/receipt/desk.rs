//! The receipt desk: issues each registered document's receipt once. It builds the receipt
//! ([`super::receipt_for`]), lays it out as a PDF with its XML ([`super::pdf`]), has the office's
//! key sign it ([`super::cms`], the key in KMS), adds the time-stamping authority's token when
//! one is configured, and stores it where none stands (a receipt issued before is kept: a
//! redelivered record, or a function that died after storing, issues nothing new).
//!
//! It runs as the `receipts` function, on the documents table's stream: the record in which a
//! document's register number appears (notify's write of it) is the one that wakes it
//! ([`wakes_receipts`]), and Lambda's filter lets only those through. Receipts are issued
//! [`RECEIPTS_AT_ONCE`] at a time; a receipt that fails sends the stream back to its record.
//!
//! The key's certificate is the one installed for it (`intake receipt-key install`), checked
//! against the key; until one is, the key signs a certificate for itself, so receipts are
//! issued from the first day and are intact and valid, though trusted by no one else.

use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tracing::Instrument;
use x509_cert::Certificate;

use super::model::{Office, TimeSource};
use super::ports::{ReceiptFiles, ReceiptKey, TimestampAuthority};
use super::{certificate, cms, pdf};
use crate::domain::model::DocumentRecord;
use crate::domain::routing::RoutingRules;
use crate::ports::{Clock, PortError};

/// How many receipts are issued at once: each waits on the key store, the time-stamping
/// authority and the bucket.
pub const RECEIPTS_AT_ONCE: usize = 8;

/// One record of the documents table's stream, as the receipts see it.
#[derive(Debug, Clone)]
pub struct RecordChange {
    /// Its sequence number (for partial batch failures).
    pub sequence_number: String,
    /// The item before.
    pub old: Option<DocumentRecord>,
    /// The item after.
    pub new: Option<DocumentRecord>,
}

/// Whether a change of a document's item asks for its receipt: the register number appears in
/// it (notify's write of the number), on a received document. What the stream mapping's filter
/// lets through to the `receipts` function says the same (`infra/receipts.tf`).
pub fn wakes_receipts(old: Option<&DocumentRecord>, new: Option<&DocumentRecord>) -> bool {
    new.is_some_and(|new| {
        new.register_number.is_some()
            && old.is_none_or(|old| old.register_number.is_none())
            && crate::register::is_registrable(new)
    })
}

/// How long a certificate the key signs for itself is valid.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The receipt desk and its ports.
pub struct ReceiptDesk<K, F, A, C> {
    /// The office, as its receipts name it.
    pub office: Office,
    /// The routing rules (services' periods, sites' addresses).
    pub rules: RoutingRules,
    /// The office's signing key.
    pub key: K,
    /// Where receipts are kept.
    pub files: F,
    /// The time-stamping authority, when one is configured.
    pub tsa: Option<A>,
    /// The time.
    pub clock: C,
    /// The certificate chain installed for the key (PEM, signer first), when there is one.
    pub installed_chain: Option<String>,
    /// The chain in use, settled at the first receipt.
    pub chain: OnceLock<Vec<Certificate>>,
}

/// A certificate that cannot be made or used: for the operators, not for a retry.
fn certificate_error(e: certificate::ReceiptCertificateError) -> PortError {
    PortError::permanent("receipt:certificate", e.to_string())
}

impl<K, F, A, C> ReceiptDesk<K, F, A, C>
where
    K: ReceiptKey,
    F: ReceiptFiles,
    A: TimestampAuthority,
    C: Clock,
{
    /// Issues the receipts a delivery of stream records asks for, several at a time. `None`
    /// when all are issued; else the sequence number of the first record (in stream order)
    /// whose receipt failed, from which the stream retries (a receipt issued before is found,
    /// not issued again).
    pub async fn handle_records(&self, records: Vec<RecordChange>) -> Option<String> {
        use futures_util::stream::{self, StreamExt};
        let due: Vec<(usize, RecordChange)> = records
            .into_iter()
            .enumerate()
            .filter(|(_, change)| wakes_receipts(change.old.as_ref(), change.new.as_ref()))
            .collect();
        let issued: Vec<(usize, String, Result<bool, PortError>)> = stream::iter(due)
            .filter_map(
                |(at, change)| async move { Some((at, change.sequence_number, change.new?)) },
            )
            .map(|(at, sequence, record)| async move {
                let span = tracing::info_span!(
                    "stream_record",
                    sequence_number = sequence,
                    document_id = record.id
                );
                let result = self.issue(&record).instrument(span).await;
                (at, sequence, result)
            })
            .buffer_unordered(RECEIPTS_AT_ONCE)
            .collect()
            .await;
        issued
            .into_iter()
            .filter_map(|(at, sequence, result)| {
                let e = result.err()?;
                tracing::error!(sequence_number = sequence, error = %e, retry = ?e.retry, "receipt not issued");
                Some((at, sequence))
            })
            .min()
            .map(|(_, sequence)| sequence)
    }

    /// Issues the document's receipt unless one is stored: `true` when this call stored it.
    pub async fn issue(&self, record: &DocumentRecord) -> Result<bool, PortError> {
        if self.files.receipt_exists(&record.id).await? {
            return Ok(false);
        }
        let pdf = self.make(record).await?;
        let stored = self.files.put_receipt(&record.id, &pdf).await?;
        tracing::info!(
            document_id = record.id,
            register_number = record.register_number,
            bytes = pdf.len(),
            stored,
            "receipt issued"
        );
        Ok(stored)
    }

    /// The signed receipt of a registered document.
    pub async fn make(&self, record: &DocumentRecord) -> Result<Vec<u8>, PortError> {
        let time_source = match &self.tsa {
            Some(tsa) => TimeSource::TimestampAuthority(tsa.url().to_string()),
            None => TimeSource::OfficeClock,
        };
        let receipt = super::receipt_for(
            record,
            &self.office,
            &self.rules,
            self.clock.now(),
            time_source,
        )
        .map_err(|e| PortError::permanent("receipt:content", e.to_string()))?;
        let chain = self.chain().await?;
        let signer = chain
            .first()
            .ok_or_else(|| PortError::permanent("receipt:certificate", "the chain is empty"))?;
        let prepared = pdf::prepare(&receipt, &self.office.name)
            .map_err(|e| PortError::permanent("receipt:pdf", e.to_string()))?;
        let attributes = cms::signed_attributes(&prepared.digest(), signer)
            .map_err(|e| PortError::permanent("receipt:cms", e.to_string()))?;
        let signature = self.key.sign(&attributes.to_der()).await?;
        let token = match &self.tsa {
            Some(tsa) => Some(self.timestamp(tsa, &record.id, &signature).await?),
            None => None,
        };
        let signed = cms::signed_data(&attributes, &signature, chain, token.as_deref())
            .map_err(|e| PortError::permanent("receipt:cms", e.to_string()))?;
        prepared
            .embed(&signed)
            .map_err(|e| PortError::permanent("receipt:pdf", e.to_string()))
    }

    /// The authority's token over the signature.
    async fn timestamp(
        &self,
        tsa: &A,
        document_id: &str,
        signature: &[u8],
    ) -> Result<Vec<u8>, PortError> {
        // A nonce of the document and the moment: no two requests share one.
        let seed = format!("{document_id}{}", self.clock.now().as_nanosecond());
        let digest = Sha256::digest(seed.as_bytes());
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&digest[..8]);
        let nonce = u64::from_be_bytes(nonce) >> 1;
        let response = tsa.stamp(&cms::timestamp_request(signature, nonce)).await?;
        // A refusal or a garbled answer may pass: the authority is asked again on the retry.
        cms::timestamp_token(&response, signature, nonce)
            .map_err(|e| PortError::transient("tsa:timestamp", e.to_string()))
    }

    /// The certificate chain: the installed one when it is the key's, else one the key signs
    /// for itself; settled once.
    pub async fn chain(&self) -> Result<&[Certificate], PortError> {
        if let Some(chain) = self.chain.get() {
            return Ok(chain);
        }
        let public_key = self.key.public_key().await?;
        let chain = match &self.installed_chain {
            Some(pem) => {
                let chain = certificate::parse_chain_pem(pem).map_err(certificate_error)?;
                let matches = chain
                    .first()
                    .is_some_and(|c| certificate::public_key_matches(c, &public_key));
                if !matches {
                    return Err(PortError::permanent(
                        "receipt:certificate",
                        "the installed certificate is not the receipt key's",
                    ));
                }
                chain
            }
            None => {
                tracing::warn!(
                    "no certificate is installed for the receipt key: receipts carry one the key signs for itself"
                );
                vec![self.self_signed(&public_key).await?]
            }
        };
        Ok(self.chain.get_or_init(|| chain))
    }

    /// A certificate the key signs for itself, valid from now for ten years.
    async fn self_signed(&self, public_key: &[u8]) -> Result<Certificate, PortError> {
        let subject =
            certificate::office_subject(&self.office.name, "PL").map_err(certificate_error)?;
        // The serial: a positive 16-byte number of the key and the moment.
        let mut seed = public_key.to_vec();
        seed.extend_from_slice(&self.clock.now().as_nanosecond().to_be_bytes());
        let mut serial = Sha256::digest(&seed)[..16].to_vec();
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let now = crate::domain::time::system_time(self.clock.now());
        let info = certificate::self_signed_info(
            &subject,
            public_key,
            &serial,
            now,
            now + SELF_SIGNED_VALIDITY,
        )
        .map_err(certificate_error)?;
        let signature = self.key.sign(&info).await?;
        certificate::certificate(&info, &signature).map_err(certificate_error)
    }
}
