//! The web-form desk: what intake-api answers a citizen. `POST /uploads` gets an upload id and
//! presigned S3 POST forms (the document, and its detached signature when one is declared),
//! after the pending record is written, so an upload is never unknown; `GET /uploads/{id}` gets
//! that upload's verdict. Answers are (HTTP status, JSON body).

use std::time::SystemTime;

use crate::adapters::dynamodb::DocumentTable;
use crate::adapters::s3::DocumentStore;
use crate::api::{self, Answer, refusal, unavailable};
use crate::config::ApiConfig;
use crate::upload::{
    MAX_DETACHED_SIGNATURE_BYTES, PostPolicySpec, UploadRequestError, parse_upload_request,
    web_signature_key, web_upload_key,
};

/// What the desk needs.
pub struct WebDesk {
    /// The documents table (pending records, verdicts).
    pub table: DocumentTable,
    /// The buckets (the incoming bucket's forms).
    pub store: DocumentStore,
    /// The bucket, the size limit and the forms' lifetime.
    pub config: ApiConfig,
}

fn json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl WebDesk {
    /// `POST /uploads`: checks the request, writes the pending record and answers the forms.
    pub async fn create_upload(&self, body: &[u8]) -> Answer {
        let spec = match parse_upload_request(body, self.config.max_upload_bytes) {
            Ok(spec) => spec,
            Err(e) => {
                let status = match e {
                    UploadRequestError::TooLarge { .. } => 413,
                    _ => 400,
                };
                tracing::info!(error = e.code(), "upload request refused");
                return refusal(status, e.code(), e.to_string());
            }
        };
        let upload_id = crate::keys::new_document_id();
        let now_system = SystemTime::now();
        let now = jiff::Timestamp::try_from(now_system).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let key = web_upload_key(&upload_id);
        let policy = PostPolicySpec {
            bucket: &self.config.incoming_bucket,
            key: &key,
            content_type: "application/pdf",
            max_bytes: self.config.max_upload_bytes,
            ttl: self.config.upload_url_ttl,
            metadata: vec![
                ("upload-id", upload_id.clone()),
                ("channel", "web".to_string()),
                ("service", spec.service.clone()),
            ],
            checksum: spec.sha256,
        };
        let post = match self.store.presign_upload(&policy, now_system).await {
            Ok(post) => post,
            Err(e) => return unavailable("presigning the upload", &e),
        };
        let signature_post = match &spec.signature_file_name {
            None => None,
            Some(_) => {
                let key = web_signature_key(&upload_id);
                let policy = PostPolicySpec {
                    bucket: &self.config.incoming_bucket,
                    key: &key,
                    content_type: "application/pkcs7-signature",
                    max_bytes: MAX_DETACHED_SIGNATURE_BYTES,
                    ttl: self.config.upload_url_ttl,
                    metadata: vec![
                        ("upload-id", upload_id.clone()),
                        ("channel", "web".to_string()),
                    ],
                    checksum: None,
                };
                match self.store.presign_upload(&policy, now_system).await {
                    Ok(post) => Some(post),
                    Err(e) => return unavailable("presigning the signature upload", &e),
                }
            }
        };
        // The pending record exists before the form is handed out, so the upload is never unknown.
        let record = api::pending_record(&upload_id, &spec, now);
        if let Err(e) = self.table.create_pending(&record).await {
            return unavailable("recording the upload", &e);
        }
        tracing::info!(
            upload_id,
            service = spec.service,
            size = spec.size,
            "upload requested"
        );
        (
            201,
            json(api::upload_created(
                &upload_id,
                post,
                self.config.max_upload_bytes,
                signature_post,
            )),
        )
    }

    /// `GET /uploads/{id}`: the upload's verdict as the citizen sees it.
    pub async fn upload_status(&self, id: &str) -> Answer {
        let not_found = || refusal(404, "unknown_upload", "no upload with this id");
        if !crate::keys::is_document_id(id) {
            return not_found();
        }
        match self.table.get(id).await {
            Ok(Some(record)) => (200, json(api::upload_status(&record))),
            Ok(None) => not_found(),
            Err(e) => unavailable("reading the upload", &e),
        }
    }
}
