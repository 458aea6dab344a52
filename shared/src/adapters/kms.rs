//! KMS: the office's receipt-signing key, an asymmetric ECC_NIST_P256 key used for `Sign`
//! only. Its private half never leaves KMS: KMS hashes and signs what it is given (the DER of a
//! receipt's signed attributes, a certificate request, a certificate) and answers the
//! signature.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use tokio::sync::OnceCell;

use super::{Aws, AwsError};

/// The receipt-signing key.
#[derive(Debug)]
pub struct ReceiptSigningKey {
    client: aws_sdk_kms::Client,
    key_id: String,
    public_key: OnceCell<Vec<u8>>,
}

impl ReceiptSigningKey {
    /// The key `key_id` (an id, ARN or alias).
    pub fn new(aws: &Aws, key_id: impl Into<String>) -> Self {
        ReceiptSigningKey {
            client: aws_sdk_kms::Client::new(&aws.config),
            key_id: key_id.into(),
            public_key: OnceCell::new(),
        }
    }

    /// The public key (DER SubjectPublicKeyInfo), read once.
    pub async fn public_key(&self) -> Result<Vec<u8>, AwsError> {
        self.public_key
            .get_or_try_init(|| async {
                let answer = self
                    .client
                    .get_public_key()
                    .key_id(&self.key_id)
                    .send()
                    .await
                    .map_err(|e| AwsError::new("kms:GetPublicKey", &e))?;
                answer
                    .public_key
                    .map(Blob::into_inner)
                    .ok_or_else(|| AwsError::permanent("kms:GetPublicKey", "no public key"))
            })
            .await
            .cloned()
    }

    /// Signs `message` with ECDSA_SHA_256 (KMS hashes it: `MessageType` RAW); the DER
    /// ECDSA-Sig-Value.
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AwsError> {
        let answer = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| AwsError::new("kms:Sign", &e))?;
        answer
            .signature
            .map(Blob::into_inner)
            .ok_or_else(|| AwsError::permanent("kms:Sign", "no signature"))
    }
}
