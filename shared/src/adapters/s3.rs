//! S3: reading incoming documents once, archiving accepted ones, quarantining rejected ones, and
//! presigning browser uploads.

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{MetadataDirective, ServerSideEncryption};

use super::{Aws, AwsError};
use crate::domain::model::StorageLocation;
use crate::engine::hashing::{DocumentHash, DocumentReader, ReadDocument};
use crate::upload::{PostPolicySpec, PresignedPost, SigningCredentials};
use crate::validation::s3_event::ObjectCreated;

/// The document buckets.
#[derive(Clone, Debug)]
pub struct DocumentStore {
    client: aws_sdk_s3::Client,
    /// Base URL for browser uploads: `None` for AWS's own virtual-hosted endpoint.
    endpoint: Option<String>,
    force_path_style: bool,
    region: String,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

impl DocumentStore {
    /// An adapter over the configured S3.
    pub fn new(aws: &Aws) -> Self {
        let config = aws_sdk_s3::config::Builder::from(&aws.config)
            .force_path_style(aws.s3_force_path_style)
            .build();
        DocumentStore {
            client: aws_sdk_s3::Client::from_conf(config),
            endpoint: aws
                .config
                .endpoint_url()
                .map(|e| e.trim_end_matches('/').to_string()),
            force_path_style: aws.s3_force_path_style,
            region: aws.region().to_string(),
            credentials: aws.config.credentials_provider(),
        }
    }

    /// Reads a small configuration object whole (at most `limit` bytes).
    pub async fn read_config(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Vec<u8>, AwsError> {
        let read = self.read_document(bucket, key, None, limit).await?;
        read.bytes.ok_or_else(|| {
            AwsError::permanent(
                "s3:GetObject",
                format!("s3://{bucket}/{key} is larger than {limit} bytes"),
            )
        })
    }

    /// Reads an object that may not exist (yet): `None` when there is no such key; otherwise its
    /// bytes (`None` inside when over `limit`) and its version.
    pub async fn read_optional(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<(Option<Vec<u8>>, Option<String>)>, AwsError> {
        let response = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(AwsError::new("s3:GetObject", &e)),
        };
        let version = response.version_id().map(str::to_string);
        let read = read_body(response.body, DocumentReader::new(limit, None)).await?;
        Ok(Some((read.bytes, version)))
    }

    /// Reads an object once, hashing it as it streams in and keeping at most `limit` bytes.
    pub async fn read_document(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        limit: u64,
    ) -> Result<ReadDocument, AwsError> {
        let response = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| AwsError::new("s3:GetObject", &e))?;
        let expected = response
            .content_length()
            .and_then(|n| u64::try_from(n).ok());
        read_body(response.body, DocumentReader::new(limit, expected)).await
    }

    /// Stores an accepted document under its content-addressed key, with the SHA-256 sent along
    /// so that S3 verifies what it stores. Storing the same bytes again is a no-op (conditional
    /// write), so a redelivered event leaves one object.
    pub async fn archive(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        hash: &DocumentHash,
        document_id: &str,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .checksum_sha256(hash.to_base64())
            .content_type("application/pdf")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .if_none_match("*")
            .metadata("document-id", document_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // The object exists: its key is its hash, so it holds these very bytes.
            Err(e) if e.code() == Some("PreconditionFailed") => Ok(()),
            Err(e) => Err(AwsError::new("s3:PutObject", &e)),
        }
    }

    /// Keeps a rejected document: a server-side copy of the exact version received, with the
    /// reason codes as metadata. Copying again overwrites with the same bytes.
    pub async fn quarantine(
        &self,
        object: &ObjectCreated,
        destination: &StorageLocation,
        document_id: &str,
        reasons: &str,
    ) -> Result<(), AwsError> {
        self.copy(
            &object.bucket,
            &object.key,
            object.version_id.as_deref(),
            destination,
            &[("document-id", document_id), ("reasons", reasons)],
        )
        .await
    }

    /// Gives a department its copy of an archived object (server side). Copying again
    /// overwrites with the same bytes.
    pub async fn copy_for_department(
        &self,
        source: &StorageLocation,
        destination: &StorageLocation,
        document_id: &str,
        department: &str,
    ) -> Result<(), AwsError> {
        self.copy(
            &source.bucket,
            &source.key,
            None,
            destination,
            &[("document-id", document_id), ("department", department)],
        )
        .await
    }

    /// Writes a small text object (a report file), replacing what was there.
    pub async fn put_text(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: String,
    ) -> Result<(), AwsError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body.into_bytes()))
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| AwsError::new("s3:PutObject", &e))?;
        Ok(())
    }

    /// Writes an object unless one stands at its key (`If-None-Match: *`): `false` then, and
    /// the one that stands is kept.
    pub async fn put_new(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
    ) -> Result<bool, AwsError> {
        let mut request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(body.to_vec()))
            .server_side_encryption(ServerSideEncryption::Aes256);
        for (name, value) in metadata {
            request = request.metadata(*name, *value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(false),
            Err(e) => Err(AwsError::new("s3:PutObject", &e)),
        }
    }

    /// Reads a small object whole, if it is there.
    pub async fn get_text(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        Ok(self
            .read_optional(bucket, key, 16 * 1024 * 1024)
            .await?
            .and_then(|(bytes, _)| bytes))
    }

    /// Whether an object exists.
    pub async fn exists(&self, bucket: &str, key: &str) -> Result<bool, AwsError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(false),
            Err(e) => Err(AwsError::new("s3:HeadObject", &e)),
        }
    }

    /// Removes an object (a department's copy after the document moved). Removing what is not
    /// there succeeds.
    pub async fn remove(&self, location: &StorageLocation) -> Result<(), AwsError> {
        self.client
            .delete_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| AwsError::new("s3:DeleteObject", &e))?;
        Ok(())
    }

    async fn copy(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        destination: &StorageLocation,
        metadata: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        let mut source = format!(
            "{bucket}/{}",
            percent_encoding::utf8_percent_encode(key, COPY_SOURCE_ENCODE)
        );
        if let Some(version) = version {
            source.push_str("?versionId=");
            source.push_str(version);
        }
        let mut request = self
            .client
            .copy_object()
            .copy_source(source)
            .bucket(&destination.bucket)
            .key(&destination.key)
            .metadata_directive(MetadataDirective::Replace)
            .server_side_encryption(ServerSideEncryption::Aes256);
        for (name, value) in metadata {
            request = request.metadata(*name, *value);
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::new("s3:CopyObject", &e))?;
        Ok(())
    }

    /// Presigns a browser upload of one document into `bucket` with the function's credentials.
    pub async fn presign_upload(
        &self,
        spec: &PostPolicySpec<'_>,
        now: crate::domain::time::Timestamp,
    ) -> Result<PresignedPost, AwsError> {
        let now = crate::domain::time::system_time(now);
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| AwsError::permanent("presign", "no AWS credentials are configured"))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| AwsError::transient("presign", format!("loading credentials: {e}")))?;
        let signing = SigningCredentials {
            access_key_id: credentials.access_key_id().to_string(),
            secret_access_key: credentials.secret_access_key().to_string(),
            session_token: credentials.session_token().map(str::to_string),
        };
        let url = self.upload_url(spec.bucket);
        Ok(crate::upload::presign_post(
            spec,
            &url,
            &self.region,
            &signing,
            now,
        ))
    }

    fn upload_url(&self, bucket: &str) -> String {
        match (&self.endpoint, self.force_path_style) {
            (Some(endpoint), true) => format!("{endpoint}/{bucket}"),
            (Some(endpoint), false) => endpoint.replacen("://", &format!("://{bucket}."), 1),
            (None, _) => format!("https://{bucket}.s3.{}.amazonaws.com", self.region),
        }
    }
}

/// Characters escaped in an `x-amz-copy-source` key: everything but unreserved ones and `/`.
const COPY_SOURCE_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Streams an object's body through `reader` (hashing on the way, keeping at most its limit).
async fn read_body(
    mut body: aws_sdk_s3::primitives::ByteStream,
    mut reader: DocumentReader,
) -> Result<crate::engine::hashing::ReadDocument, AwsError> {
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| AwsError::transient("s3:GetObject", format!("reading the body: {e}")))?
    {
        reader.push(&chunk);
    }
    Ok(reader.finish())
}

/// The receipts, in the archive bucket under `receipts/<document id>.pdf`: beside the
/// documents, written once each.
#[derive(Clone, Debug)]
pub struct ReceiptStore {
    store: DocumentStore,
    bucket: String,
}

/// Where a document's receipt is kept.
pub fn receipt_key(document_id: &str) -> String {
    format!("receipts/{document_id}.pdf")
}

impl ReceiptStore {
    /// The receipts in `bucket`.
    pub fn new(store: DocumentStore, bucket: impl Into<String>) -> Self {
        ReceiptStore {
            store,
            bucket: bucket.into(),
        }
    }

    /// Whether the document's receipt is stored.
    pub async fn receipt_exists(&self, document_id: &str) -> Result<bool, AwsError> {
        self.store
            .exists(&self.bucket, &receipt_key(document_id))
            .await
    }

    /// Stores a receipt once: `false` when one stands there already.
    pub async fn put_receipt(&self, document_id: &str, pdf: &[u8]) -> Result<bool, AwsError> {
        self.store
            .put_new(
                &self.bucket,
                &receipt_key(document_id),
                "application/pdf",
                pdf,
                &[("document-id", document_id)],
            )
            .await
    }

    /// The document's receipt, when stored.
    pub async fn receipt(&self, document_id: &str) -> Result<Option<Vec<u8>>, AwsError> {
        Ok(self
            .store
            .read_optional(&self.bucket, &receipt_key(document_id), 4 * 1024 * 1024)
            .await?
            .and_then(|(bytes, _)| bytes))
    }
}
