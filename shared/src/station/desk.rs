//! The stations' side of `intake-api`: authenticates a station's signed request and opens,
//! fills, closes and reports its batches, over the ports of [`crate::station::ports`] and
//! [`crate::upload::ports`]. Answers are (HTTP status, JSON body).

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::{refusal as error, unavailable};
use crate::domain::model::{Channel, DocumentRecord, DocumentStatus};
use crate::domain::routing::RoutingRules;
use crate::engine::hashing::DocumentHash;
use crate::ports::{Clock, Documents, PortError};
use crate::station::ports::{BatchClosing, BatchDesk, BatchOpening, StationKeyring};
use crate::station::{
    self, AuthError, BatchRecord, BatchState, ManifestFile, OpenRequest, reconcile,
};
use crate::upload::PostPolicySpec;
use crate::upload::answers::upload_form;
use crate::upload::ports::{PendingRecords, UploadForms};

/// An answer: HTTP status and JSON body.
pub use crate::api::Answer;

/// What the desk needs.
pub struct StationDesk<T, U, S, K> {
    /// The documents table (batches and pending records).
    pub table: T,
    /// The upload forms.
    pub store: U,
    /// The stations' keys.
    pub keys: S,
    /// The routing rules (the stations are their sites).
    pub rules: RoutingRules,
    /// Where scans are uploaded.
    pub incoming_bucket: String,
    /// The largest scan accepted.
    pub max_upload_bytes: u64,
    /// How long an upload form works.
    pub upload_url_ttl: Duration,
    /// The clock (signatures' freshness, the batches' times).
    pub clock: K,
}

fn report(batch: &BatchRecord) -> Value {
    serde_json::to_value(reconcile(batch)).unwrap_or(Value::Null)
}

/// A signed station request.
pub struct StationRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The raw path (what was signed).
    pub path: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl<T, U, S, K> StationDesk<T, U, S, K>
where
    T: BatchDesk + PendingRecords + Documents,
    U: UploadForms,
    S: StationKeyring,
    K: Clock,
{
    /// Checks that the request is signed by `station`'s current key. The error is the answer.
    pub async fn authenticate(
        &self,
        station: &str,
        request: &StationRequest<'_>,
    ) -> Result<(), Answer> {
        let refuse = |e: AuthError| {
            tracing::warn!(station, error = e.code(), "station request refused");
            let status = if matches!(e, AuthError::WrongStation { .. }) {
                403
            } else {
                401
            };
            error(status, e.code(), e.to_string())
        };
        let auth = station::parse_authorization(request.authorization).map_err(refuse)?;
        if auth.station != station {
            return Err(refuse(AuthError::WrongStation {
                signed: auth.station,
                addressed: station.to_string(),
            }));
        }
        if self.rules.site(station).is_none() {
            return Err(refuse(AuthError::UnknownStation(station.to_string())));
        }
        let key = match self.keys.key(station).await {
            Ok(Some(key)) => key,
            Ok(None) => return Err(refuse(AuthError::UnknownStation(station.to_string()))),
            Err(e) => return Err(unavailable("reading the station key", &e)),
        };
        let now = self.clock.now().as_second();
        station::verify(
            &auth,
            station,
            &key,
            (request.method, request.path, request.body),
            now,
        )
        .map_err(refuse)
    }

    /// Opens a batch, or answers how an existing one stands.
    pub async fn open(&self, station: &str, body: &[u8]) -> Answer {
        let request: OpenRequest = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return error(400, "malformed_request", e.to_string()),
        };
        if !station::is_batch_id(&request.batch_id) {
            return error(
                400,
                "bad_batch_id",
                "batch_id must be 1 to 64 letters, digits or dashes",
            );
        }
        if let Some(service) = &request.service
            && crate::domain::services::find(service).is_none()
        {
            return error(400, "unknown_service", format!("no service '{service}'"));
        }
        let opened = self
            .table
            .open_batch(
                station,
                &request.batch_id,
                request.service.as_deref(),
                &self.clock.now_rfc3339(),
            )
            .await;
        match opened {
            Ok(BatchOpening::Opened(batch)) => {
                tracing::info!(station, batch_id = batch.batch_id, "batch opened");
                (201, json!({ "resumed": false, "report": report(&batch) }))
            }
            Ok(BatchOpening::Existing(batch)) if batch.state == Some(BatchState::Open) => {
                (200, json!({ "resumed": true, "report": report(&batch) }))
            }
            Ok(BatchOpening::Existing(batch)) => {
                let mut answer = error(
                    409,
                    "batch_closed",
                    format!(
                        "batch {} was closed at {}: it cannot be reopened; push new scans in a new batch",
                        batch.batch_id,
                        batch.closed_at.as_deref().unwrap_or("?")
                    ),
                );
                answer.1["report"] = report(&batch);
                answer
            }
            Err(e) => unavailable("opening the batch", &e),
        }
    }

    /// Upload forms for some of a batch's files; files that arrived already are said so.
    pub async fn uploads(&self, station: &str, batch_id: &str, body: &[u8]) -> Answer {
        let request = match station::parse_upload_request(body) {
            Ok(r) => r,
            Err(e) => return error(400, e.code(), e.to_string()),
        };
        let batch = match self.table.batch(station, batch_id).await {
            Ok(Some(b)) => b,
            Ok(None) => return error(404, "unknown_batch", "open the batch first"),
            Err(e) => return unavailable("reading the batch", &e),
        };
        let mut files = Vec::new();
        for file in &request.files {
            match self.upload_one(&batch, file).await {
                Ok(Some(answer)) => files.push(answer),
                Ok(None) => return self.no_more_files(station, batch_id).await,
                Err(e) => return unavailable("preparing an upload", &e),
            }
        }
        (200, json!({ "files": files }))
    }

    /// Why a batch took no more files: it completed, or it holds as many as one may.
    async fn no_more_files(&self, station: &str, batch_id: &str) -> Answer {
        match self.table.batch(station, batch_id).await {
            Ok(Some(b)) if b.state == Some(BatchState::Complete) => error(
                409,
                "batch_complete",
                format!("batch {batch_id} is complete: it takes no more files"),
            ),
            Ok(_) => error(
                409,
                "too_many_files",
                format!(
                    "batch {batch_id} holds as many files as one batch may: push the rest as another batch"
                ),
            ),
            Err(e) => unavailable("reading the batch", &e),
        }
    }

    async fn upload_one(
        &self,
        batch: &BatchRecord,
        file: &ManifestFile,
    ) -> Result<Option<Value>, PortError> {
        let station = batch.station.as_str();
        if file.size > self.max_upload_bytes {
            let reason = format!(
                "too_large: {} bytes, at most {} accepted",
                file.size, self.max_upload_bytes
            );
            self.table
                .refuse_batch_file(station, &batch.batch_id, &file.name, &reason)
                .await?;
            return Ok(Some(json!({
                "name": file.name, "status": "refused", "error": "too_large", "message": reason,
            })));
        }
        let candidate = crate::domain::keys::new_document_id();
        let Some(document_id) = self
            .table
            .assign_batch_file(station, &batch.batch_id, &file.name, &candidate)
            .await?
        else {
            return Ok(None);
        };
        let key = crate::domain::keys::station_upload_key(station, &document_id);
        // The id just given is new: no record can exist yet (a third fewer requests for a
        // fresh batch). An id given before (a resumed push) is looked up.
        let existing = if document_id == candidate {
            None
        } else {
            self.table.get(&document_id).await?
        };
        match existing {
            Some(record) if record.status != Some(DocumentStatus::Pending) => {
                return Ok(Some(json!({
                    "name": file.name, "document_id": document_id, "status": "received",
                    "verdict": record.status.map(|s| s.as_str()),
                })));
            }
            Some(_) => {
                if self.store.exists(&self.incoming_bucket, &key).await? {
                    return Ok(Some(json!({
                        "name": file.name, "document_id": document_id, "status": "received",
                    })));
                }
            }
            None => {
                let record = pending_scan(batch, file, &document_id, &self.clock.now_rfc3339());
                // `false`: written by a concurrent request for the same file; it stands.
                self.table.create_pending(&record).await?;
            }
        }
        let policy = PostPolicySpec {
            bucket: &self.incoming_bucket,
            key: &key,
            content_type: "application/pdf",
            max_bytes: self.max_upload_bytes,
            ttl: self.upload_url_ttl,
            metadata: vec![
                ("upload-id", document_id.clone()),
                ("channel", Channel::DropBox.as_str().to_string()),
                ("station", station.to_string()),
            ],
            // Not pinned in the form: S3 would refuse changed bytes outright, and the batch
            // would only learn that a file is missing. validate compares the bytes with the
            // manifest's hash instead, and keeps a changed file as a hash mismatch.
            checksum: None,
        };
        let post = self.store.presign_upload(&policy, self.clock.now()).await?;
        Ok(Some(json!({
            "name": file.name, "document_id": document_id, "status": "upload",
            "upload": upload_form(post, self.max_upload_bytes),
        })))
    }

    /// Closes a batch with its manifest.
    pub async fn close(&self, station: &str, batch_id: &str, body: &[u8]) -> Answer {
        let manifest = match station::parse_manifest(body, station, batch_id) {
            Ok(m) => m,
            Err(e) => {
                tracing::info!(station, batch_id, error = e.code(), "manifest refused");
                let status = if matches!(e, station::ManifestError::OtherStation { .. }) {
                    403
                } else {
                    400
                };
                return error(status, e.code(), e.to_string());
            }
        };
        let batch = match self.table.batch(station, batch_id).await {
            Ok(Some(b)) => b,
            Ok(None) => return error(404, "unknown_batch", "open the batch first"),
            Err(e) => return unavailable("reading the batch", &e),
        };
        // The service decides where scans go at two-department sites; it is fixed when the
        // batch opens (the scans uploaded so far carry it), and the manifest must agree.
        if manifest.service != batch.service {
            return error(
                400,
                "service_mismatch",
                format!(
                    "the manifest names service {:?}, the batch was opened with {:?}: they must be the same",
                    manifest.service, batch.service
                ),
            );
        }
        let stored = match serde_json::to_string(&manifest) {
            Ok(s) => s,
            Err(e) => return error(400, "malformed_manifest", e.to_string()),
        };
        let sha = DocumentHash::of(body).to_hex();
        let closing = self
            .table
            .close_batch(
                station,
                batch_id,
                &stored,
                &sha,
                manifest.service.as_deref(),
                &self.clock.now_rfc3339(),
            )
            .await;
        let closed = match closing {
            Ok(BatchClosing::Closed) => {
                tracing::info!(
                    station,
                    batch_id,
                    files = manifest.files.len(),
                    "batch closed"
                );
                true
            }
            Ok(BatchClosing::AlreadyClosed(_)) => false,
            Ok(BatchClosing::ClosedWithAnotherManifest(b)) => {
                let mut answer = error(
                    409,
                    "batch_closed",
                    format!(
                        "batch {batch_id} was closed at {} with another manifest; nothing changed",
                        b.closed_at.as_deref().unwrap_or("?")
                    ),
                );
                answer.1["report"] = report(&b);
                return answer;
            }
            Ok(BatchClosing::Unknown) => {
                return error(404, "unknown_batch", "open the batch first");
            }
            Err(e) => return unavailable("closing the batch", &e),
        };
        match self.table.batch(station, batch_id).await {
            Ok(Some(b)) => (200, json!({ "closed_now": closed, "report": report(&b) })),
            Ok(None) => error(404, "unknown_batch", "open the batch first"),
            Err(e) => unavailable("reading the batch", &e),
        }
    }

    /// The batch report.
    pub async fn report(&self, station: &str, batch_id: &str) -> Answer {
        match self.table.batch(station, batch_id).await {
            Ok(Some(b)) => (200, report(&b)),
            Ok(None) => error(404, "unknown_batch", "no such batch for this station"),
            Err(e) => unavailable("reading the batch", &e),
        }
    }
}

/// The pending record of a scan, before its bytes arrive, written at `now` (RFC 3339).
pub fn pending_scan(
    batch: &BatchRecord,
    file: &ManifestFile,
    document_id: &str,
    now: &str,
) -> DocumentRecord {
    DocumentRecord {
        id: document_id.to_string(),
        channel: Some(Channel::DropBox),
        site: Some(batch.station.clone()),
        service: batch.service.clone(),
        status: Some(DocumentStatus::Pending),
        file_name: Some(file.name.clone()),
        declared_size: Some(file.size),
        declared_sha256: Some(file.sha256.to_ascii_lowercase()),
        created_at: Some(now.to_string()),
        batch_id: Some(batch.batch_id.clone()),
        envelope: Some(file.envelope.clone()),
        scanned_at: Some(file.scanned_at.clone()),
        operator: Some(file.operator.clone()),
        declared_pages: Some(file.pages),
        ..DocumentRecord::default()
    }
}

#[cfg(test)]
mod tests {
    //! The station desk in memory: signed requests only, a resumed push that gets the same ids
    //! and sends nothing twice, oversized files refused but kept in the report, a complete
    //! batch that takes no more files, and a second close that must match the first.

    use super::*;
    use crate::in_memory::{InMemory, block_on};
    use crate::station::{MANIFEST_SCHEMA, Manifest, authorization};

    type InMemoryDesk<'a> = StationDesk<&'a InMemory, &'a InMemory, &'a InMemory, &'a InMemory>;

    const STATION: &str = "mogilska";
    const KEY: &[u8] = b"the station's own key, 32 bytes!";
    const MAX: u64 = 1000;

    fn world() -> InMemory {
        let world = InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"));
        world.put_station_key(STATION, KEY);
        world
    }

    fn desk(world: &InMemory) -> InMemoryDesk<'_> {
        StationDesk {
            table: world,
            store: world,
            keys: world,
            rules: RoutingRules::bundled().expect("rules"),
            incoming_bucket: "incoming".into(),
            max_upload_bytes: MAX,
            upload_url_ttl: Duration::from_secs(900),
            clock: world,
        }
    }

    fn file(name: &str, size: u64) -> ManifestFile {
        ManifestFile {
            name: name.into(),
            sha256: DocumentHash::of(name.as_bytes()).to_hex(),
            size,
            pages: 1,
            envelope: "K-1".into(),
            scanned_at: "2026-03-02T08:00:00Z".into(),
            operator: "op-7".into(),
        }
    }

    fn manifest(batch_id: &str, files: &[ManifestFile]) -> Vec<u8> {
        serde_json::to_vec(&Manifest {
            schema: MANIFEST_SCHEMA.into(),
            station: STATION.into(),
            batch_id: batch_id.into(),
            created_at: "2026-03-02T08:30:00Z".into(),
            service: None,
            files: files.to_vec(),
        })
        .expect("JSON")
    }

    fn uploads(desk: &InMemoryDesk<'_>, batch_id: &str, files: &[ManifestFile]) -> Answer {
        let body = serde_json::to_vec(&json!({ "files": files })).expect("JSON");
        block_on(desk.uploads(STATION, batch_id, &body))
    }

    fn statuses(answer: &Answer) -> Vec<(String, String)> {
        answer.1["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("").to_string(),
                    f["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn only_a_request_signed_now_by_that_stations_own_key_is_let_in() {
        let world = world();
        let desk = desk(&world);
        let now = (&world).now().as_second();
        let signed = |station: &str, key: &[u8], at: i64| {
            authorization(
                station,
                key,
                "POST",
                "/stations/mogilska/batches",
                at,
                b"{}",
            )
        };
        let request = |authorization: &str| {
            let request = StationRequest {
                method: "POST",
                path: "/stations/mogilska/batches",
                authorization: Some(authorization),
                body: b"{}",
            };
            block_on(desk.authenticate(STATION, &request)).map_err(|(status, body)| {
                (status, body["error"].as_str().unwrap_or("").to_string())
            })
        };
        assert_eq!(request(&signed(STATION, KEY, now)), Ok(()));
        let (status, _) = request(&signed(STATION, b"another key", now)).expect_err("refused");
        assert_eq!(status, 401);
        // Signed ten minutes ago: a replayed request.
        let (status, _) = request(&signed(STATION, KEY, now - 600)).expect_err("refused");
        assert_eq!(status, 401);
        let (status, _) = request(&signed("dworzec", KEY, now)).expect_err("refused");
        assert_eq!(status, 403, "a station signs for itself only");
    }

    #[test]
    fn a_resumed_push_gets_the_same_ids_and_uploads_only_what_did_not_arrive() {
        let world = world();
        let desk = desk(&world);
        let opened = block_on(desk.open(STATION, br#"{"batch_id":"b-1"}"#));
        assert_eq!((opened.0, opened.1["resumed"].clone()), (201, json!(false)));
        let files = [
            file("1.pdf", 100),
            file("2.pdf", 100),
            file("big.pdf", MAX + 1),
        ];
        let first = uploads(&desk, "b-1", &files);
        assert_eq!(
            statuses(&first),
            [
                ("1.pdf", "upload"),
                ("2.pdf", "upload"),
                ("big.pdf", "refused")
            ]
            .map(|(n, s)| (n.to_string(), s.to_string()))
        );
        let id = |answer: &Answer, i: usize| answer.1["files"][i]["document_id"].clone();
        // 1.pdf arrived; the push is interrupted and starts again.
        let key =
            crate::domain::keys::station_upload_key(STATION, id(&first, 0).as_str().expect("id"));
        world.put_object("incoming", &key, b"%PDF-");
        let reopened = block_on(desk.open(STATION, br#"{"batch_id":"b-1"}"#));
        assert_eq!(
            (reopened.0, reopened.1["resumed"].clone()),
            (200, json!(true))
        );
        let again = uploads(&desk, "b-1", &files);
        assert_eq!(
            statuses(&again),
            [
                ("1.pdf", "received"),
                ("2.pdf", "upload"),
                ("big.pdf", "refused")
            ]
            .map(|(n, s)| (n.to_string(), s.to_string()))
        );
        assert_eq!(id(&again, 0), id(&first, 0));
        assert_eq!(id(&again, 1), id(&first, 1));
        let pending = world
            .document(id(&first, 1).as_str().expect("id"))
            .expect("a pending record");
        assert_eq!(pending.status, Some(DocumentStatus::Pending));
        assert_eq!(pending.batch_id.as_deref(), Some("b-1"));
        assert_eq!(
            pending.created_at.as_deref(),
            Some("2026-03-02T09:00:00.000Z")
        );
        let batch = world.batch(STATION, "b-1").expect("the batch");
        assert_eq!(batch.files.len(), 2);
        assert!(batch.refused["big.pdf"].starts_with("too_large"));
    }

    #[test]
    fn a_second_close_must_bring_the_same_manifest_and_a_complete_batch_takes_no_files() {
        let world = world();
        let desk = desk(&world);
        block_on(desk.open(STATION, br#"{"batch_id":"b-2"}"#));
        let files = [file("1.pdf", 100)];
        uploads(&desk, "b-2", &files);
        let closing = manifest("b-2", &files);
        let closed = block_on(desk.close(STATION, "b-2", &closing));
        assert_eq!(
            (closed.0, closed.1["closed_now"].clone()),
            (200, json!(true))
        );
        let retried = block_on(desk.close(STATION, "b-2", &closing));
        assert_eq!(
            (retried.0, retried.1["closed_now"].clone()),
            (200, json!(false))
        );
        let other = block_on(desk.close(STATION, "b-2", &manifest("b-2", &[file("2.pdf", 1)])));
        assert_eq!(
            (other.0, other.1["error"].clone()),
            (409, json!("batch_closed"))
        );
        let reopened = block_on(desk.open(STATION, br#"{"batch_id":"b-2"}"#));
        assert_eq!(reopened.0, 409, "a closed batch cannot be reopened");

        let mut batch = world.batch(STATION, "b-2").expect("the batch");
        batch.state = Some(BatchState::Complete);
        world.put_batch(batch);
        let late = uploads(&desk, "b-2", &[file("3.pdf", 100)]);
        assert_eq!(
            (late.0, late.1["error"].clone()),
            (409, json!("batch_complete"))
        );
        let unknown = uploads(&desk, "b-404", &files);
        assert_eq!(
            (unknown.0, unknown.1["error"].clone()),
            (404, json!("unknown_batch"))
        );
    }
}
