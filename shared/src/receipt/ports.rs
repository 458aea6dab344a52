//! What the receipts need of the world: the office's signing key (in KMS), the receipts'
//! bucket, and an RFC 3161 time-stamping authority when one is configured.
#![allow(async_fn_in_trait)]

use crate::ports::PortError;

/// The office's signing key. Its private half never leaves the key store: the key signs what
/// it is given.
pub trait ReceiptKey {
    /// The public key (DER SubjectPublicKeyInfo).
    async fn public_key(&self) -> Result<Vec<u8>, PortError>;

    /// Signs `message` (hashed with SHA-256 by the key store) with ECDSA P-256; the DER
    /// ECDSA-Sig-Value.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError>;
}

/// Where receipts are kept: one per document, written once.
pub trait ReceiptFiles {
    /// Whether the document's receipt is stored.
    async fn receipt_exists(&self, document_id: &str) -> Result<bool, PortError>;

    /// Stores the document's receipt unless one stands there already: `false` then (the one
    /// that stands is kept).
    async fn put_receipt(&self, document_id: &str, pdf: &[u8]) -> Result<bool, PortError>;

    /// The document's receipt, when stored.
    async fn receipt(&self, document_id: &str) -> Result<Option<Vec<u8>>, PortError>;
}

/// An RFC 3161 time-stamping authority.
pub trait TimestampAuthority {
    /// Its URL, as the receipt names it.
    fn url(&self) -> &str;

    /// Posts a TimeStampReq (DER) and answers the TimeStampResp (DER).
    async fn stamp(&self, request: &[u8]) -> Result<Vec<u8>, PortError>;
}
