//! Web-form uploads: the request a browser sends, and the presigned S3 POST it gets back.
//!
//! The POST policy is built and signed here (AWS Signature Version 4) because the AWS SDK for
//! Rust presigns only single requests, not browser form uploads. S3 enforces every condition of
//! the policy: one key, a size range, the content type, the metadata and the expiry.

/// The web-form desk: a citizen's upload request and status query, over the table and the
/// buckets.
/// What the web-form desk answers.
pub mod answers;
pub mod desk;
/// What the desks need to hand out uploads, as ports.
pub mod ports;

use std::time::{Duration, SystemTime};

use base64::Engine;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::services;
use crate::engine::hashing::DocumentHash;

pub use crate::domain::limits::{DEFAULT_MAX_UPLOAD_BYTES, MAX_UPLOAD_URL_TTL};

const MAX_FILE_NAME_CHARS: usize = 255;
const MAX_APPLICANT_REFERENCE_CHARS: usize = 128;

/// What a browser asks for when it wants to upload a document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// The id of the electronic service the document is for.
    pub service: String,
    /// The file's name on the sender's machine.
    pub file_name: String,
    /// The file's size in bytes.
    pub size: u64,
    /// The sender's own reference (a case number, say), echoed back in the receipt.
    #[serde(default)]
    pub applicant_reference: Option<String>,
    /// The SHA-256 of the file as hex, when the browser computed it.
    #[serde(default)]
    pub sha256: Option<String>,
    /// A detached CAdES signature (`.p7s`) of the document, uploaded beside it.
    #[serde(default)]
    pub signature: Option<DetachedSignatureRequest>,
}

/// The detached signature named in an upload request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DetachedSignatureRequest {
    /// The `.p7s` file's name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Largest detached signature accepted (a CMS with its certificates is a few KiB).
pub const MAX_DETACHED_SIGNATURE_BYTES: u64 = 1024 * 1024;

/// An upload request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSpec {
    /// The service id, known to the catalogue.
    pub service: String,
    /// The file name, trimmed.
    pub file_name: String,
    /// The declared size.
    pub size: u64,
    /// The sender's reference, if any.
    pub applicant_reference: Option<String>,
    /// The declared hash, if any.
    pub sha256: Option<DocumentHash>,
    /// The detached signature's file name, when one comes with the document.
    pub signature_file_name: Option<String>,
}

/// Why an upload request is refused. Each variant is a client error with a readable message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadRequestError {
    /// The body is not the JSON object expected.
    #[error("the request body is not valid: {0}")]
    Malformed(String),
    /// The service id is not in the catalogue.
    #[error("unknown service '{0}'")]
    UnknownService(String),
    /// The declared size is over the limit.
    #[error("the file is {size} bytes; the largest accepted is {max} bytes")]
    TooLarge {
        /// The declared size.
        size: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A field has a value that is not allowed.
    #[error("field '{field}': {reason}")]
    InvalidField {
        /// The JSON field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl UploadRequestError {
    /// A stable machine-readable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            UploadRequestError::Malformed(_) => "malformed_request",
            UploadRequestError::UnknownService(_) => "unknown_service",
            UploadRequestError::TooLarge { .. } => "too_large",
            UploadRequestError::InvalidField { .. } => "invalid_field",
        }
    }
}

/// Parses and checks an upload request body against the catalogue and the size limit.
pub fn parse_upload_request(body: &[u8], max_bytes: u64) -> Result<UploadSpec, UploadRequestError> {
    let request: UploadRequest = serde_json::from_slice(body).map_err(|e| {
        // serde's message names the field and position, never echoes long input.
        UploadRequestError::Malformed(e.to_string())
    })?;
    let service = request.service.trim();
    if services::find(service).is_none() {
        return Err(UploadRequestError::UnknownService(truncate(service, 64)));
    }
    let file_name = checked_file_name("file_name", &request.file_name, ".pdf")?;
    if request.size > max_bytes {
        return Err(UploadRequestError::TooLarge {
            size: request.size,
            max: max_bytes,
        });
    }
    let applicant_reference = match request.applicant_reference.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) if r.chars().count() > MAX_APPLICANT_REFERENCE_CHARS => {
            return Err(invalid(
                "applicant_reference",
                "must be at most 128 characters",
            ));
        }
        Some(r) if r.chars().any(char::is_control) => {
            return Err(invalid(
                "applicant_reference",
                "must not contain control characters",
            ));
        }
        Some(r) => Some(r.to_string()),
    };
    let sha256 = match request.sha256.as_deref() {
        None => None,
        Some(h) if h.len() == 64 => Some(
            DocumentHash::from_hex(h)
                .ok_or_else(|| invalid("sha256", "must be 64 hexadecimal digits"))?,
        ),
        Some(_) => return Err(invalid("sha256", "must be 64 hexadecimal digits")),
    };
    let signature_file_name = match &request.signature {
        None => None,
        Some(signature) => {
            let name = checked_file_name("signature.file_name", &signature.file_name, ".p7s")?;
            if signature.size == 0 || signature.size > MAX_DETACHED_SIGNATURE_BYTES {
                return Err(invalid(
                    "signature.size",
                    "a detached signature is 1 byte to 1 MiB",
                ));
            }
            Some(name)
        }
    };
    Ok(UploadSpec {
        service: service.to_string(),
        file_name,
        size: request.size,
        applicant_reference,
        sha256,
        signature_file_name,
    })
}

/// A file name from the sender: not empty, not too long, no control characters or path
/// separators, and ending in `suffix`.
fn checked_file_name(
    field: &'static str,
    name: &str,
    suffix: &str,
) -> Result<String, UploadRequestError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(invalid(field, "must be at most 255 characters"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(invalid(
            field,
            "must not contain control characters or path separators",
        ));
    }
    if !name.to_ascii_lowercase().ends_with(suffix) {
        return Err(invalid(
            field,
            if suffix == ".pdf" {
                "must name a PDF file (.pdf)"
            } else {
                "must name a detached signature file (.p7s)"
            },
        ));
    }
    Ok(name.to_string())
}

fn invalid(field: &'static str, reason: &'static str) -> UploadRequestError {
    UploadRequestError::InvalidField { field, reason }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Where the API serves a document's signed receipt (`GET`).
pub fn receipt_path(document_id: &str) -> String {
    format!("/uploads/{document_id}/receipt")
}

/// The key under which a web-form upload lands in the incoming bucket.
pub fn web_upload_key(upload_id: &str) -> String {
    format!(
        "{}{upload_id}.pdf",
        crate::domain::keys::WEB_INCOMING_PREFIX
    )
}

/// The key under which a web-form upload's detached signature lands in the incoming bucket.
pub fn web_signature_key(upload_id: &str) -> String {
    format!(
        "{}{upload_id}.p7s",
        crate::domain::keys::WEB_INCOMING_PREFIX
    )
}

/// Credentials to sign a POST policy with.
#[derive(Clone)]
pub struct SigningCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key. Never logged.
    pub secret_access_key: String,
    /// The session token of temporary credentials (always present in Lambda).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Everything a presigned POST is limited to.
#[derive(Debug, Clone)]
pub struct PostPolicySpec<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The one key the upload may write.
    pub key: &'a str,
    /// The Content-Type the form fixes.
    pub content_type: &'a str,
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// How long the form is valid (at most [`MAX_UPLOAD_URL_TTL`]).
    pub ttl: Duration,
    /// `x-amz-meta-*` fields (names without the prefix), fixed by the policy.
    pub metadata: Vec<(&'static str, String)>,
    /// The declared SHA-256, which S3 then verifies on arrival.
    pub checksum: Option<DocumentHash>,
}

/// A presigned S3 POST: the browser sends `fields` (in order) and then the file as `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    /// Where to POST the multipart form.
    pub url: String,
    /// The form fields, in the order to send them; `file` comes last.
    pub fields: Vec<(String, String)>,
    /// When the form stops working (RFC 3339, UTC).
    pub expires_at: String,
}

/// Builds and signs a POST policy limited to `spec`, for the form target `url` of a bucket in
/// `region`, valid from `now`.
pub fn presign_post(
    spec: &PostPolicySpec<'_>,
    url: &str,
    region: &str,
    credentials: &SigningCredentials,
    now: SystemTime,
) -> PresignedPost {
    let ttl = spec.ttl.min(MAX_UPLOAD_URL_TTL);
    let now_ts = Timestamp::try_from(now).unwrap_or(Timestamp::UNIX_EPOCH);
    let expires = now_ts
        .checked_add(jiff::SignedDuration::try_from(ttl).unwrap_or_default())
        .unwrap_or(now_ts);
    let amz_date = now_ts.strftime("%Y%m%dT%H%M%SZ").to_string();
    let short_date = &amz_date[..8];
    let credential = format!(
        "{}/{short_date}/{}/s3/aws4_request",
        credentials.access_key_id, region
    );

    let mut fields: Vec<(String, String)> = vec![
        ("key".into(), spec.key.to_string()),
        ("Content-Type".into(), spec.content_type.to_string()),
    ];
    for (name, value) in &spec.metadata {
        fields.push((format!("x-amz-meta-{name}"), value.clone()));
    }
    if let Some(hash) = spec.checksum {
        fields.push(("x-amz-checksum-algorithm".into(), "SHA256".into()));
        fields.push(("x-amz-checksum-sha256".into(), hash.to_base64()));
    }
    fields.push(("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()));
    fields.push(("x-amz-credential".into(), credential));
    fields.push(("x-amz-date".into(), amz_date));
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".into(), token.clone()));
    }

    let mut conditions = vec![
        serde_json::json!({ "bucket": spec.bucket }),
        serde_json::json!(["content-length-range", 0, spec.max_bytes]),
    ];
    // Every field is pinned to its exact value; S3 refuses a form with any field not in the policy.
    conditions.extend(
        fields
            .iter()
            .map(|(name, value)| serde_json::json!(["eq", format!("${name}"), value])),
    );
    let policy = serde_json::json!({
        "expiration": crate::domain::time::utc_rfc3339(expires),
        "conditions": conditions,
    });
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(
        &credentials.secret_access_key,
        now,
        region,
        "s3",
    );
    let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy_b64.as_bytes());
    fields.push(("policy".into(), policy_b64));
    fields.push(("x-amz-signature".into(), signature));

    PresignedPost {
        url: url.to_string(),
        fields,
        expires_at: crate::domain::time::utc_rfc3339(expires),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = DEFAULT_MAX_UPLOAD_BYTES;

    fn request(json: serde_json::Value) -> Result<UploadSpec, UploadRequestError> {
        parse_upload_request(json.to_string().as_bytes(), MAX)
    }

    #[test]
    fn accepts_a_complete_request() {
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let spec = request(serde_json::json!({
            "service": "child-benefit", "file_name": " wniosek-800+.pdf ", "size": 1234,
            "applicant_reference": "sprawa 12/2020", "sha256": sha,
        }))
        .unwrap();
        assert_eq!(spec.service, "child-benefit");
        assert_eq!(spec.file_name, "wniosek-800+.pdf");
        assert_eq!(spec.applicant_reference.as_deref(), Some("sprawa 12/2020"));
        assert_eq!(spec.sha256.map(|h| h.to_hex()).as_deref(), Some(sha));
    }

    #[test]
    fn a_detached_signature_is_declared_beside_the_document() {
        let spec = request(serde_json::json!({
            "service": "child-benefit", "file_name": "wniosek.pdf", "size": 1234,
            "signature": {"file_name": "wniosek.pdf.p7s", "size": 3000},
        }))
        .unwrap();
        assert_eq!(spec.signature_file_name.as_deref(), Some("wniosek.pdf.p7s"));
        let refused = |signature: serde_json::Value| {
            request(serde_json::json!({
                "service": "child-benefit", "file_name": "wniosek.pdf", "size": 1,
                "signature": signature,
            }))
            .unwrap_err()
            .code()
        };
        assert_eq!(
            refused(serde_json::json!({"file_name": "p.exe", "size": 10})),
            "invalid_field"
        );
        assert_eq!(
            refused(
                serde_json::json!({"file_name": "p.p7s", "size": MAX_DETACHED_SIGNATURE_BYTES + 1})
            ),
            "invalid_field"
        );
        assert_eq!(
            refused(serde_json::json!({"file_name": "p.p7s", "size": 10, "x": 1})),
            "malformed_request"
        );
    }

    #[test]
    fn refuses_bad_requests_with_the_reason() {
        let cases = [
            (serde_json::json!({"service": "x"}), "malformed_request"),
            (
                serde_json::json!({"service": "nope", "file_name": "a.pdf", "size": 1}),
                "unknown_service",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "a.pdf", "size": MAX + 1}),
                "too_large",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "a.exe", "size": 1}),
                "invalid_field",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "../a.pdf", "size": 1}),
                "invalid_field",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "a.pdf", "size": 1, "sha256": "abc"}),
                "invalid_field",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "a.pdf", "size": -1}),
                "malformed_request",
            ),
            (
                serde_json::json!({"service": "child-benefit", "file_name": "a.pdf", "size": 1, "extra": 1}),
                "malformed_request",
            ),
        ];
        for (body, code) in cases {
            let err = request(body.clone()).unwrap_err();
            assert_eq!(err.code(), code, "{body} gave {err}");
        }
        assert_eq!(
            parse_upload_request(b"not json", MAX).unwrap_err().code(),
            "malformed_request"
        );
    }

    const URL: &str = "https://incoming.s3.eu-central-1.amazonaws.com";

    fn spec_for_test() -> PostPolicySpec<'static> {
        PostPolicySpec {
            bucket: "incoming",
            key: "incoming/web/abc.pdf",
            content_type: "application/pdf",
            max_bytes: MAX,
            ttl: Duration::from_secs(3600),
            metadata: vec![
                ("upload-id", "abc".into()),
                ("service", "child-benefit".into()),
            ],
            checksum: Some(DocumentHash::of(b"abc")),
        }
    }

    fn credentials() -> SigningCredentials {
        SigningCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("token".into()),
        }
    }

    fn field<'a>(post: &'a PresignedPost, name: &str) -> &'a str {
        post.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    #[test]
    fn policy_pins_key_size_type_metadata_checksum_and_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_585_000_000);
        let post = presign_post(&spec_for_test(), URL, "eu-central-1", &credentials(), now);
        let policy_json = base64::engine::general_purpose::STANDARD
            .decode(field(&post, "policy"))
            .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&policy_json).unwrap();

        // The TTL asked for (an hour) is capped at 15 minutes.
        assert_eq!(policy["expiration"], "2020-03-23T22:01:40.000Z");
        assert_eq!(post.expires_at, policy["expiration"]);
        let conditions = policy["conditions"].as_array().unwrap();
        let has = |c: serde_json::Value| conditions.contains(&c);
        assert!(has(serde_json::json!({"bucket": "incoming"})));
        assert!(has(serde_json::json!(["content-length-range", 0, MAX])));
        assert!(has(serde_json::json!([
            "eq",
            "$key",
            "incoming/web/abc.pdf"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$Content-Type",
            "application/pdf"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-meta-upload-id",
            "abc"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-meta-service",
            "child-benefit"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-checksum-sha256",
            DocumentHash::of(b"abc").to_base64()
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-security-token",
            "token"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-credential",
            "AKIDEXAMPLE/20200323/eu-central-1/s3/aws4_request"
        ])));
        // Every form field the browser sends, but the policy and signature, is in the policy.
        for (name, _) in &post.fields {
            if name == "policy" || name == "x-amz-signature" {
                continue;
            }
            assert!(
                conditions.iter().any(|c| c[1] == format!("${name}")),
                "{name} not pinned"
            );
        }
        assert_eq!(field(&post, "x-amz-date"), "20200323T214640Z");
    }

    #[test]
    fn signature_is_sigv4_over_the_policy() {
        use hmac::{Hmac, Mac};
        fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_585_000_000);
        let creds = credentials();
        let post = presign_post(&spec_for_test(), URL, "eu-central-1", &creds, now);
        // The signing key chain written out independently of aws-sigv4.
        let k_date = mac(
            format!("AWS4{}", creds.secret_access_key).as_bytes(),
            b"20200323",
        );
        let k_region = mac(&k_date, b"eu-central-1");
        let k_service = mac(&k_region, b"s3");
        let k_signing = mac(&k_service, b"aws4_request");
        let expected = hex::encode(mac(&k_signing, field(&post, "policy").as_bytes()));
        assert_eq!(field(&post, "x-amz-signature"), expected);
    }

    #[test]
    fn upload_key_is_under_the_web_prefix() {
        assert_eq!(web_upload_key("u1"), "incoming/web/u1.pdf");
    }
}
