//! The web-form desk: what intake-api answers a citizen. `POST /uploads` gets an upload id and
//! presigned S3 POST forms (the document, and its detached signature when one is declared),
//! after the pending record is written, so an upload is never unknown; `GET /uploads/{id}` gets
//! that upload's verdict. Answers are (HTTP status, JSON body). Over the ports of
//! [`crate::upload::ports`] and a clock.

use crate::api::{Answer, Reply, refusal, unavailable};
use crate::lambda::config::ApiConfig;
use crate::ports::{Clock, Documents};
use crate::receipt::ports::ReceiptFiles;
use crate::upload::ports::{PendingRecords, UploadForms};
use crate::upload::{
    MAX_DETACHED_SIGNATURE_BYTES, PostPolicySpec, UploadRequestError, parse_upload_request,
    web_signature_key, web_upload_key,
};

/// What the desk needs.
pub struct WebDesk<T, U, K, R> {
    /// The documents table (pending records, verdicts).
    pub table: T,
    /// The upload forms.
    pub store: U,
    /// The bucket, the size limit and the forms' lifetime.
    pub config: ApiConfig,
    /// The clock (the forms' validity, the records' times).
    pub clock: K,
    /// The receipts.
    pub receipts: R,
}

fn json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl<T, U, K, R> WebDesk<T, U, K, R>
where
    T: PendingRecords + Documents,
    U: UploadForms,
    K: Clock,
    R: ReceiptFiles,
{
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
        let upload_id = crate::domain::keys::new_document_id();
        let now = self.clock.now();
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
        let post = match self.store.presign_upload(&policy, now).await {
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
                match self.store.presign_upload(&policy, now).await {
                    Ok(post) => Some(post),
                    Err(e) => return unavailable("presigning the signature upload", &e),
                }
            }
        };
        // The pending record exists before the form is handed out, so the upload is never unknown.
        let record = crate::upload::answers::pending_record(&upload_id, &spec, now);
        // A fresh id: no record stands there (`false` would mean one does, and it stands).
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
            json(crate::upload::answers::upload_created(
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
        if !crate::domain::keys::is_document_id(id) {
            return not_found();
        }
        match self.table.get(id).await {
            Ok(Some(record)) => (200, json(crate::upload::answers::upload_status(&record))),
            Ok(None) => not_found(),
            Err(e) => unavailable("reading the upload", &e),
        }
    }

    /// `GET /uploads/{id}/receipt`: the document's signed receipt, once it is judged and
    /// registered.
    pub async fn receipt(&self, id: &str) -> Reply {
        let not_found = || refusal(404, "unknown_upload", "no upload with this id").into();
        if !crate::domain::keys::is_document_id(id) {
            return not_found();
        }
        let not_yet = |why: &str| -> Reply {
            refusal(
                409,
                "receipt_not_ready",
                format!("{why}; ask again in a few seconds"),
            )
            .into()
        };
        let record = match self.table.get(id).await {
            Ok(Some(record)) => record,
            Ok(None) => return not_found(),
            Err(e) => return unavailable("reading the upload", &e).into(),
        };
        if record.register_number.is_none() {
            return not_yet("the document is not judged and registered yet");
        }
        match self.receipts.receipt(id).await {
            Ok(Some(bytes)) => Reply::Pdf {
                file_name: format!("potwierdzenie-{id}.pdf"),
                bytes,
            },
            Ok(None) => not_yet("the receipt is being issued"),
            Err(e) => unavailable("reading the receipt", &e).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The web-form desk in memory: the pending record is written before any form is handed
    //! out, a failure to write it hands out none, and a status is the record's.

    use std::time::Duration;

    use super::*;
    use crate::domain::model::DocumentStatus;
    use crate::in_memory::{Fault, InMemory, block_on};

    type InMemoryDesk<'a> = WebDesk<&'a InMemory, &'a InMemory, &'a InMemory, &'a InMemory>;

    fn desk(world: &InMemory) -> InMemoryDesk<'_> {
        WebDesk {
            table: world,
            store: world,
            config: ApiConfig {
                table: "documents".into(),
                incoming_bucket: "incoming".into(),
                max_upload_bytes: 1000,
                upload_url_ttl: Duration::from_secs(900),
                station_key_prefix: "/intake/stations/".into(),
                station_key_cache: Duration::from_secs(60),
                archive_bucket: "archive".into(),
            },
            clock: world,
            receipts: world,
        }
    }

    const REQUEST: &[u8] =
        br#"{"service": "general-letter", "file_name": "wniosek.pdf", "size": 500}"#;

    #[test]
    fn an_upload_is_recorded_pending_before_its_form_is_handed_out() {
        let world = InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"));
        let desk = desk(&world);
        let (status, body) = block_on(desk.create_upload(REQUEST));
        assert_eq!(status, 201, "{body}");
        let id = body["upload_id"].as_str().expect("an id");
        let record = world.document(id).expect("the pending record");
        assert_eq!(record.status, Some(DocumentStatus::Pending));
        assert_eq!(record.service.as_deref(), Some("general-letter"));
        assert_eq!(
            body["upload"]["expires_at"], "2026-03-02T09:15:00.000Z",
            "the form works for the configured 15 minutes from the desk's clock"
        );
        let (status, seen) = block_on(desk.upload_status(id));
        assert_eq!((status, seen["status"].clone()), (200, "pending".into()));
    }

    #[test]
    fn no_form_without_its_pending_record_and_no_status_for_an_unknown_id() {
        let world = InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"));
        let desk = desk(&world);
        world.faults.at(1, Fault::FailBefore);
        let (status, body) = block_on(desk.create_upload(REQUEST));
        assert_eq!(
            (status, body["error"].clone()),
            (503, "temporarily_unavailable".into())
        );
        assert!(body.get("upload").is_none(), "{body}");
        let unknown = crate::domain::keys::new_document_id();
        assert_eq!(block_on(desk.upload_status(&unknown)).0, 404);
        assert_eq!(block_on(desk.upload_status("../etc")).0, 404);
    }
}
