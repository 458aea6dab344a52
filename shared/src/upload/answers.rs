//! What the web-form desk answers a citizen: the upload forms, the pending record written
//! before them, and the upload's status as the citizen sees it.

use serde::Serialize;

use crate::domain::model::{DocumentRecord, DocumentStatus};
use crate::upload::{PresignedPost, UploadSpec};

/// The answer to `POST /uploads`.
#[derive(Debug, Serialize)]
pub struct UploadCreated {
    /// The upload's id: also the document's id.
    pub upload_id: String,
    /// Where to ask for the verdict.
    pub status_url: String,
    /// The form to POST the file with.
    pub upload: UploadForm,
    /// The form to POST the detached signature with, when the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_upload: Option<UploadForm>,
}

/// A presigned POST in the shape a browser script uses directly.
#[derive(Debug, Serialize)]
pub struct UploadForm {
    /// Where to POST.
    pub url: String,
    /// The fields to send before the file (any order; the file goes last, as `file`).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// When the form stops working.
    pub expires_at: String,
    /// The largest file the form accepts.
    pub max_bytes: u64,
}

/// A presigned POST as the form a client fills.
pub fn upload_form(post: PresignedPost, max_bytes: u64) -> UploadForm {
    UploadForm {
        url: post.url,
        fields: post
            .fields
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
        expires_at: post.expires_at,
        max_bytes,
    }
}

/// Builds the answer to `POST /uploads`.
pub fn upload_created(
    upload_id: &str,
    post: PresignedPost,
    max_bytes: u64,
    signature_post: Option<PresignedPost>,
) -> UploadCreated {
    let form = upload_form;
    UploadCreated {
        upload_id: upload_id.to_string(),
        status_url: format!("/uploads/{upload_id}"),
        upload: form(post, max_bytes),
        signature_upload: signature_post
            .map(|post| form(post, crate::upload::MAX_DETACHED_SIGNATURE_BYTES)),
    }
}

/// The pending record of a new upload.
pub fn pending_record(upload_id: &str, spec: &UploadSpec, now: jiff::Timestamp) -> DocumentRecord {
    DocumentRecord {
        id: upload_id.to_string(),
        channel: Some(crate::domain::model::Channel::Web),
        service: Some(spec.service.clone()),
        status: Some(DocumentStatus::Pending),
        file_name: Some(spec.file_name.clone()),
        applicant_reference: spec.applicant_reference.clone(),
        declared_size: Some(spec.size),
        declared_sha256: spec.sha256.map(|h| h.to_hex()),
        detached_signature: spec.signature_file_name.clone(),
        created_at: Some(crate::domain::time::utc_rfc3339(now)),
        ..DocumentRecord::default()
    }
}

/// A reason shown to the sender.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ReasonView {
    /// The reason code.
    pub code: String,
    /// `reject` or `warning`.
    pub severity: &'static str,
    /// The explanation.
    pub message: String,
    /// What the code means, in Polish.
    pub message_pl: &'static str,
}

/// The answer to `GET /uploads/{id}`: what the sender may know of their document. Storage
/// locations stay internal.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UploadStatus {
    /// The upload id.
    pub upload_id: String,
    /// `pending`, `accepted`, `rejected` or `duplicate`.
    pub status: &'static str,
    /// The service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The sender's file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The sender's reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant_reference: Option<String>,
    /// The SHA-256 of what arrived: the sender's proof of what was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Bytes received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// When it arrived (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    /// For a duplicate, the upload first received with the same bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Its number in the incoming register, once judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register_number: Option<String>,
    /// Where its signed receipt is, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// Why it was rejected, and any warnings.
    pub reasons: Vec<ReasonView>,
}

/// What `GET /uploads/{id}` shows of a record.
pub fn upload_status(record: &DocumentRecord) -> UploadStatus {
    UploadStatus {
        upload_id: record.id.clone(),
        status: record.status.unwrap_or(DocumentStatus::Pending).as_str(),
        service: record.service.clone(),
        file_name: record.file_name.clone(),
        applicant_reference: record.applicant_reference.clone(),
        sha256: record.sha256.clone(),
        size: record.size,
        pages: record.pages,
        received_at: record.received_at.clone(),
        duplicate_of: record.duplicate_of.clone(),
        register_number: record.register_number.clone(),
        receipt: record
            .register_number
            .as_ref()
            .map(|_| crate::upload::receipt_path(&record.id)),
        reasons: record
            .findings
            .iter()
            .map(|f| ReasonView {
                code: f.code.as_str().to_string(),
                severity: f.severity.as_str(),
                message: f.message.clone(),
                message_pl: f.code.message_pl(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Finding, ReasonCode};

    #[test]
    fn status_shows_reasons_and_hides_storage() {
        let record = DocumentRecord {
            id: "u1".into(),
            status: Some(DocumentStatus::Rejected),
            findings: vec![Finding::reject(ReasonCode::Empty, "the file is empty")],
            storage: Some(crate::domain::model::StorageLocation {
                bucket: "quarantine".into(),
                key: "web/u1".into(),
            }),
            ..Default::default()
        };
        let json = serde_json::to_value(upload_status(&record)).unwrap();
        assert_eq!(json["status"], "rejected");
        assert_eq!(json["reasons"][0]["code"], "empty");
        assert_eq!(json["reasons"][0]["message_pl"], "Plik jest pusty.");
        assert!(!json.to_string().contains("quarantine"));
    }
}
