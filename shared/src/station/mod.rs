//! Scanning stations: how a drop-box site's station proves who it is, what its batch manifest
//! says, and how a batch is reconciled against what arrived. Plain functions over plain types;
//! `intake-api` and `notify` do the I/O.
//!
//! A station signs every request with its own key (HMAC-SHA256 over the method, path, time and
//! body's SHA-256), so the manifest is carried in an authenticated request and a station can only
//! ever name itself. The keys live in SSM Parameter Store, one per station.

/// The station desk: the station API over the batches, the upload forms and the keys.
pub mod desk;
/// What the station desk needs, as ports.
pub mod ports;

use std::collections::{BTreeMap, BTreeSet};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::model::{DocumentRecord, DocumentStatus, ReasonCode, Severity};
use crate::engine::hashing::DocumentHash;

/// The manifest schema.
pub const MANIFEST_SCHEMA: &str = "intake.station-manifest/1";
/// The batch report schema.
pub const REPORT_SCHEMA: &str = "intake.batch-report/1";
/// The authorization scheme of station requests.
pub const AUTH_SCHEME: &str = "INTAKE-HMAC-SHA256";
/// How far a request's time may be from the server's, in seconds.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;
/// The most files in one batch (the busiest site scans about 250 a day).
pub const MAX_BATCH_FILES: usize = 500;
/// The most files in one upload request.
pub const MAX_FILES_PER_REQUEST: usize = 50;
/// The largest manifest accepted, in bytes: with the batch's maps it must fit one 400 KB
/// DynamoDB item (500 entries take about 125 KB).
pub const MAX_MANIFEST_BYTES: usize = 160 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// Why a station request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("station requests must be signed: send an Authorization header ({AUTH_SCHEME})")]
    Missing,
    /// The header is not in the scheme's form.
    #[error("malformed Authorization header: {0}")]
    Malformed(String),
    /// The header names another station than the path.
    #[error("the request is signed by station '{signed}' but addresses station '{addressed}'")]
    WrongStation {
        /// The station in the header.
        signed: String,
        /// The station in the path.
        addressed: String,
    },
    /// The request's time is too far from now.
    #[error(
        "the request was signed {0} s away from the server's clock (at most {MAX_CLOCK_SKEW_SECONDS} s): check the station's clock"
    )]
    Stale(i64),
    /// The station has no key (unknown or revoked).
    #[error("station '{0}' has no active key (unknown or revoked)")]
    UnknownStation(String),
    /// The signature does not match.
    #[error("the signature does not match this station's key")]
    BadSignature,
}

impl AuthError {
    /// A stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Malformed(_) => "unauthenticated",
            AuthError::WrongStation { .. } => "wrong_station",
            AuthError::Stale(_) => "stale_request",
            AuthError::UnknownStation(_) => "unknown_station",
            AuthError::BadSignature => "bad_signature",
        }
    }
}

/// What the station signs.
fn string_to_sign(method: &str, path: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "{AUTH_SCHEME}\n{method}\n{path}\n{timestamp}\n{}",
        DocumentHash::of(body).to_hex()
    )
}

/// The `Authorization` header of a station request.
pub fn authorization(
    station: &str,
    key: &[u8],
    method: &str,
    path: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let signature = match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(string_to_sign(method, path, timestamp, body).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{AUTH_SCHEME} Station={station}, Timestamp={timestamp}, Signature={signature}")
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The station that signed.
    pub station: String,
    /// Unix seconds.
    pub timestamp: i64,
    signature: Vec<u8>,
}

/// Reads an `Authorization` header.
pub fn parse_authorization(header: Option<&str>) -> Result<Authorization, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let rest = header
        .strip_prefix(AUTH_SCHEME)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| AuthError::Malformed(format!("expected '{AUTH_SCHEME} Station=…'")))?;
    let mut fields = BTreeMap::new();
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| AuthError::Malformed(format!("'{}' is not name=value", part.trim())))?;
        fields.insert(name, value);
    }
    let field = |name: &str| {
        fields
            .get(name)
            .copied()
            .ok_or_else(|| AuthError::Malformed(format!("{name} is missing")))
    };
    let station = field("Station")?;
    if !is_station_id(station) {
        return Err(AuthError::Malformed("Station is not a station id".into()));
    }
    let timestamp = field("Timestamp")?
        .parse()
        .map_err(|_| AuthError::Malformed("Timestamp is not Unix seconds".into()))?;
    let signature = hex::decode(field("Signature")?)
        .map_err(|_| AuthError::Malformed("Signature is not hex".into()))?;
    Ok(Authorization {
        station: station.to_string(),
        timestamp,
        signature,
    })
}

/// Checks a signed request against the station's key, the station the path addresses, and
/// the server's clock (`now`, Unix seconds).
pub fn verify(
    auth: &Authorization,
    addressed: &str,
    key: &[u8],
    request: (&str, &str, &[u8]),
    now: i64,
) -> Result<(), AuthError> {
    if auth.station != addressed {
        return Err(AuthError::WrongStation {
            signed: auth.station.clone(),
            addressed: addressed.to_string(),
        });
    }
    let skew = now.saturating_sub(auth.timestamp);
    if skew.saturating_abs() > MAX_CLOCK_SKEW_SECONDS {
        return Err(AuthError::Stale(skew));
    }
    let (method, path, body) = request;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| AuthError::BadSignature)?;
    mac.update(string_to_sign(method, path, auth.timestamp, body).as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&auth.signature)
        .map_err(|_| AuthError::BadSignature)
}

/// Whether `id` has the form of a station id (a site id), as the keys have it.
pub use crate::domain::keys::is_station_id;

/// Whether `id` is a usable batch id (letters, digits and dashes, at most 64).
pub fn is_batch_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `name` is a usable scan file name: letters, digits, `.`, `_`, `-`, ending `.pdf`.
pub fn is_file_name(name: &str) -> bool {
    name.len() <= 128
        && !name.starts_with('.')
        && name.to_ascii_lowercase().ends_with(".pdf")
        && name.len() > 4
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The table id of a batch.
pub fn batch_item_id(station: &str, batch_id: &str) -> String {
    format!("batch#{station}#{batch_id}")
}

/// One file of a batch, as the station describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// The file name in the batch.
    pub name: String,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Pages scanned.
    pub pages: u32,
    /// The envelope the papers came in (several documents may share one).
    pub envelope: String,
    /// When it was scanned (RFC 3339).
    pub scanned_at: String,
    /// Who scanned it.
    pub operator: String,
}

/// A batch's manifest: what the station scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// The station.
    pub station: String,
    /// The batch.
    pub batch_id: String,
    /// When the manifest was written (RFC 3339).
    pub created_at: String,
    /// The service the whole batch is for, when the station knows it (decides at sites that
    /// serve two departments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Every file.
    pub files: Vec<ManifestFile>,
}

/// What is wrong with a manifest or an upload request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("malformed manifest: {0}")]
    Malformed(String),
    /// Too big.
    #[error("the manifest is larger than {MAX_MANIFEST_BYTES} bytes")]
    TooLarge,
    /// Written by another station.
    #[error("the manifest is station '{found}''s, not '{expected}''s")]
    OtherStation {
        /// The station the manifest names.
        found: String,
        /// The station that sent it.
        expected: String,
    },
    /// For another batch.
    #[error("the manifest is for batch '{found}', not '{expected}'")]
    OtherBatch {
        /// The batch the manifest names.
        found: String,
        /// The batch addressed.
        expected: String,
    },
    /// A file entry is wrong.
    #[error("file '{name}': {problem}")]
    BadFile {
        /// The entry's name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// Too many files, none, or a name twice.
    #[error("{0}")]
    BadFileList(String),
    /// The batch's record would not fit one DynamoDB item once every file is recorded.
    #[error(
        "the batch would take about {estimate_kb} KB to record with every file's verdict, more than {} KB: split it into smaller batches (or shorter file names)",
        MAX_BATCH_ITEM_BYTES / 1024
    )]
    BatchTooLarge {
        /// The estimate, in KB.
        estimate_kb: usize,
    },
}

impl ManifestError {
    /// A stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::Malformed(_) => "malformed_manifest",
            ManifestError::TooLarge => "manifest_too_large",
            ManifestError::OtherStation { .. } => "manifest_from_another_station",
            ManifestError::OtherBatch { .. } => "manifest_for_another_batch",
            ManifestError::BadFile { .. } => "bad_file_entry",
            ManifestError::BadFileList(_) => "bad_file_list",
            ManifestError::BatchTooLarge { .. } => "batch_too_large",
        }
    }
}

/// Checks one file entry.
pub fn check_file(file: &ManifestFile) -> Result<(), ManifestError> {
    let bad = |problem: &str| ManifestError::BadFile {
        name: file.name.chars().take(128).collect(),
        problem: problem.to_string(),
    };
    if !is_file_name(&file.name) {
        return Err(bad(
            "names must end in .pdf and use only letters, digits, '.', '_' and '-' (at most 128)",
        ));
    }
    if DocumentHash::from_hex(&file.sha256).is_none() {
        return Err(bad("sha256 must be 64 hex digits"));
    }
    if file.size == 0 {
        return Err(bad("size must be at least 1 byte"));
    }
    if file.envelope.trim().is_empty() || file.envelope.len() > 64 {
        return Err(bad("envelope must be 1 to 64 characters"));
    }
    if file.operator.trim().is_empty() || file.operator.len() > 64 {
        return Err(bad("operator must be 1 to 64 characters"));
    }
    if file.scanned_at.parse::<jiff::Timestamp>().is_err() {
        return Err(bad("scanned_at must be an RFC 3339 time"));
    }
    Ok(())
}

fn check_files(files: &[ManifestFile], most: usize) -> Result<(), ManifestError> {
    if files.is_empty() {
        return Err(ManifestError::BadFileList("no files are listed".into()));
    }
    if files.len() > most {
        return Err(ManifestError::BadFileList(format!(
            "{} files listed, at most {most} allowed",
            files.len()
        )));
    }
    let mut names = BTreeSet::new();
    for file in files {
        check_file(file)?;
        if !names.insert(file.name.as_str()) {
            return Err(ManifestError::BadFileList(format!(
                "file '{}' is listed twice",
                file.name
            )));
        }
    }
    Ok(())
}

/// Reads and checks a manifest sent by `station` for `batch_id`.
pub fn parse_manifest(
    bytes: &[u8],
    station: &str,
    batch_id: &str,
) -> Result<Manifest, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge);
    }
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Malformed(e.to_string()))?;
    if manifest.schema != MANIFEST_SCHEMA {
        return Err(ManifestError::Malformed(format!(
            "schema must be '{MANIFEST_SCHEMA}'"
        )));
    }
    if manifest.station != station {
        return Err(ManifestError::OtherStation {
            found: manifest.station.chars().take(64).collect(),
            expected: station.to_string(),
        });
    }
    if manifest.batch_id != batch_id {
        return Err(ManifestError::OtherBatch {
            found: manifest.batch_id.chars().take(64).collect(),
            expected: batch_id.to_string(),
        });
    }
    if let Some(service) = &manifest.service
        && crate::domain::services::find(service).is_none()
    {
        return Err(ManifestError::Malformed(format!(
            "service '{}' is not a service of the catalogue",
            service.chars().take(64).collect::<String>()
        )));
    }
    check_files(&manifest.files, MAX_BATCH_FILES)?;
    let estimate = batch_item_estimate(bytes.len(), &manifest);
    if estimate > MAX_BATCH_ITEM_BYTES {
        return Err(ManifestError::BatchTooLarge {
            estimate_kb: estimate.div_ceil(1024),
        });
    }
    Ok(manifest)
}

/// The most a batch item may take, leaving room under DynamoDB's 400 KB item limit.
pub const MAX_BATCH_ITEM_BYTES: usize = 380 * 1024;

/// A generous estimate of a batch item once every file of `manifest` (`manifest_bytes` long)
/// is recorded: the manifest itself, each name in the files and verdicts maps with its document
/// id and verdict, and room for files that come without being listed.
pub fn batch_item_estimate(manifest_bytes: usize, manifest: &Manifest) -> usize {
    // A document id, or a verdict with its reason codes.
    const PER_ENTRY: usize = 200;
    let listed: usize = manifest
        .files
        .iter()
        .map(|f| 2 * (f.name.len() + PER_ENTRY))
        .sum();
    manifest_bytes + listed + 2 * 1024
}

/// A request for upload forms: some of the batch's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// The files to upload (at most [`MAX_FILES_PER_REQUEST`]).
    pub files: Vec<ManifestFile>,
}

/// Reads and checks an upload request.
pub fn parse_upload_request(bytes: &[u8]) -> Result<UploadRequest, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge);
    }
    let request: UploadRequest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Malformed(e.to_string()))?;
    check_files(&request.files, MAX_FILES_PER_REQUEST)?;
    Ok(request)
}

/// The request that opens a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// The batch id the station chose.
    pub batch_id: String,
    /// The service of the whole batch, if known.
    #[serde(default)]
    pub service: Option<String>,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Files are being uploaded.
    Open,
    /// The manifest is in; waiting for every file to be judged.
    Closed,
    /// Every file in the manifest is judged; the report is final.
    Complete,
}

impl BatchState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Open => "open",
            BatchState::Closed => "closed",
            BatchState::Complete => "complete",
        }
    }

    /// The state of a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(BatchState::Open),
            "closed" => Some(BatchState::Closed),
            "complete" => Some(BatchState::Complete),
            _ => None,
        }
    }
}

/// A batch, as kept in the documents table (item id [`batch_item_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchRecord {
    /// The station.
    pub station: String,
    /// The batch id.
    pub batch_id: String,
    /// Where it stands (`None` only for an unreadable item).
    pub state: Option<BatchState>,
    /// The batch's service, if the station named one.
    pub service: Option<String>,
    /// When it was opened (RFC 3339 UTC).
    pub opened_at: Option<String>,
    /// When the manifest came.
    pub closed_at: Option<String>,
    /// When every file was judged.
    pub completed_at: Option<String>,
    /// When it was flagged as not completing in time.
    pub overdue_at: Option<String>,
    /// The manifest (JSON).
    pub manifest: Option<String>,
    /// SHA-256 of the manifest as received (hex): a second close must match it.
    pub manifest_sha256: Option<String>,
    /// The document id given to each file name.
    pub files: BTreeMap<String, String>,
    /// Each judged file's verdict summary ([`file_verdict`]).
    pub verdicts: BTreeMap<String, String>,
    /// Files refused before upload (too large), with the reason.
    pub refused: BTreeMap<String, String>,
}

impl BatchRecord {
    /// The table id.
    pub fn item_id(&self) -> String {
        batch_item_id(&self.station, &self.batch_id)
    }

    /// The manifest, when it is in and readable.
    pub fn manifest(&self) -> Option<Manifest> {
        self.manifest
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
    }
}

/// A judged document's one-line verdict in its batch: `accepted`, `duplicate:<first id>`, or
/// `rejected:<code>,<code>`.
pub fn file_verdict(record: &DocumentRecord) -> Option<String> {
    let verdict = match record.status? {
        DocumentStatus::Pending => return None,
        DocumentStatus::Accepted => "accepted".to_string(),
        DocumentStatus::Duplicate => {
            format!("duplicate:{}", record.duplicate_of.as_deref().unwrap_or(""))
        }
        DocumentStatus::Rejected => {
            let codes: Vec<&str> = record
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Reject)
                .map(|f| f.code.as_str())
                .collect();
            format!("rejected:{}", codes.join(","))
        }
    };
    // The register number follows after a space: neither a verdict nor a number has one.
    Some(match &record.register_number {
        Some(number) => format!("{verdict} {number}"),
        None => verdict,
    })
}

/// A batch entry's verdict and register number, as [`file_verdict`] writes them.
pub fn split_file_verdict(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once(' ') {
        Some((verdict, number)) => (verdict, Some(number)),
        None => (entry, None),
    }
}

/// A registered file of a batch: its number in the incoming register and where its receipt is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredFile {
    /// The file name.
    pub name: String,
    /// Its document id.
    pub document_id: String,
    /// Its number in the incoming register.
    pub register_number: String,
    /// Where its signed receipt is (`GET`, once issued).
    pub receipt: String,
}

/// One file named in a batch report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFile {
    /// The file name.
    pub name: String,
    /// Its document id, when it was given one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// What is wrong (reason codes, or the original of a duplicate).
    pub detail: String,
}

/// What a batch came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// The station.
    pub station: String,
    /// The batch.
    pub batch_id: String,
    /// `open`, `closed` or `complete`.
    pub state: String,
    /// Whether every file in the manifest is recorded.
    pub complete: bool,
    /// Flagged for not completing in time (when).
    pub overdue_at: Option<String>,
    /// When opened, closed, completed.
    pub opened_at: Option<String>,
    /// When the manifest came.
    pub closed_at: Option<String>,
    /// When every file was judged.
    pub completed_at: Option<String>,
    /// SHA-256 of the manifest the batch was closed with (hex).
    pub manifest_sha256: Option<String>,
    /// Files in the manifest.
    pub manifest_files: usize,
    /// Files judged (in the manifest or not).
    pub recorded: usize,
    /// Accepted files.
    pub accepted: usize,
    /// In the manifest, not (yet) recorded.
    pub missing: Vec<String>,
    /// Recorded but not in the manifest.
    pub not_in_manifest: Vec<ReportFile>,
    /// Bytes that differ from the manifest's SHA-256 (changed in transit).
    pub hash_mismatches: Vec<ReportFile>,
    /// Files whose bytes were received before (a rescanned envelope).
    pub duplicates: Vec<ReportFile>,
    /// Files rejected by validation, or refused before upload.
    pub invalid: Vec<ReportFile>,
    /// Every judged file with its register number and receipt, in name order.
    pub registered: Vec<RegisteredFile>,
}

impl BatchReport {
    /// Whether anything in the batch needs a person's attention.
    pub fn has_problems(&self) -> bool {
        !(self.missing.is_empty()
            && self.not_in_manifest.is_empty()
            && self.hash_mismatches.is_empty()
            && self.duplicates.is_empty()
            && self.invalid.is_empty())
    }
}

/// Reconciles a batch: the manifest against what was recorded.
pub fn reconcile(batch: &BatchRecord) -> BatchReport {
    let manifest = batch.manifest();
    let listed: BTreeSet<&str> = manifest
        .as_ref()
        .map(|m| m.files.iter().map(|f| f.name.as_str()).collect())
        .unwrap_or_default();
    let file = |name: &str, detail: String| ReportFile {
        name: name.to_string(),
        document_id: batch.files.get(name).cloned(),
        detail,
    };
    let mut report = BatchReport {
        schema: REPORT_SCHEMA.into(),
        station: batch.station.clone(),
        batch_id: batch.batch_id.clone(),
        state: batch.state.map_or("unknown", BatchState::as_str).into(),
        complete: false,
        overdue_at: batch.overdue_at.clone(),
        opened_at: batch.opened_at.clone(),
        closed_at: batch.closed_at.clone(),
        completed_at: batch.completed_at.clone(),
        manifest_sha256: batch.manifest_sha256.clone(),
        manifest_files: listed.len(),
        recorded: batch.verdicts.len() + batch.refused.len(),
        accepted: 0,
        missing: Vec::new(),
        not_in_manifest: Vec::new(),
        hash_mismatches: Vec::new(),
        duplicates: Vec::new(),
        invalid: Vec::new(),
        registered: Vec::new(),
    };
    for (name, entry) in &batch.verdicts {
        let (verdict, number) = split_file_verdict(entry);
        if let (Some(number), Some(document_id)) = (number, batch.files.get(name)) {
            report.registered.push(RegisteredFile {
                name: name.clone(),
                document_id: document_id.clone(),
                register_number: number.to_string(),
                receipt: crate::upload::receipt_path(document_id),
            });
        }
        let verdict = verdict.to_string();
        if manifest.is_some() && !listed.contains(name.as_str()) {
            report.not_in_manifest.push(file(name, verdict.clone()));
        }
        if verdict == "accepted" {
            report.accepted += 1;
        } else if let Some(of) = verdict.strip_prefix("duplicate:") {
            report
                .duplicates
                .push(file(name, format!("same bytes as {of}")));
        } else if let Some(codes) = verdict.strip_prefix("rejected:") {
            if codes
                .split(',')
                .any(|c| c == ReasonCode::HashMismatch.as_str())
            {
                report.hash_mismatches.push(file(name, codes.to_string()));
            } else {
                report.invalid.push(file(name, codes.to_string()));
            }
        }
    }
    for (name, reason) in &batch.refused {
        report.invalid.push(file(name, reason.clone()));
    }
    report.missing = listed
        .iter()
        .filter(|name| !batch.verdicts.contains_key(**name) && !batch.refused.contains_key(**name))
        .map(|name| name.to_string())
        .collect();
    report.complete = manifest.is_some() && report.missing.is_empty();
    report
}

/// Whether a batch that is not complete has waited longer than `after_seconds` since it was
/// opened (`now` and the record's times in RFC 3339).
pub fn is_overdue(batch: &BatchRecord, now: jiff::Timestamp, after_seconds: i64) -> bool {
    if batch.state == Some(BatchState::Complete) || batch.overdue_at.is_some() {
        return false;
    }
    batch
        .opened_at
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_some_and(|opened| now.as_second() - opened.as_second() > after_seconds)
}

/// The schema of the notification a department gets about a batch.
pub const BATCH_NOTIFICATION_SCHEMA: &str = "intake.batch-notification/1";

/// What a department is told about a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEvent {
    /// Every file in the manifest is recorded: the report is final.
    Complete,
    /// The batch did not complete in the configured time.
    Overdue,
}

impl BatchEvent {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchEvent::Complete => "batch_complete",
            BatchEvent::Overdue => "batch_overdue",
        }
    }
}

/// A batch notification, one per department the site serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchNotification {
    /// Always [`BATCH_NOTIFICATION_SCHEMA`].
    pub schema: &'static str,
    /// `batch_complete` or `batch_overdue`.
    pub event: &'static str,
    /// The department told.
    pub department: String,
    /// Its Polish name.
    pub department_name: String,
    /// The station (site id).
    pub station: String,
    /// The site's address.
    pub site_address: Option<String>,
    /// The batch.
    pub batch_id: String,
    /// The reconciliation.
    pub report: BatchReport,
}

/// Whether a batch has everything it needs to be marked complete.
pub fn ready_to_complete(batch: &BatchRecord) -> bool {
    batch.state == Some(BatchState::Closed) && reconcile(batch).complete
}

/// What changed in a batch that departments are told of.
pub fn batch_events(old: Option<&BatchRecord>, new: &BatchRecord) -> Vec<BatchEvent> {
    let mut events = Vec::new();
    if new.state == Some(BatchState::Complete)
        && old.is_none_or(|o| o.state != Some(BatchState::Complete))
    {
        events.push(BatchEvent::Complete);
    }
    if new.overdue_at.is_some() && old.is_none_or(|o| o.overdue_at.is_none()) {
        events.push(BatchEvent::Overdue);
    }
    events
}

/// The notification subject of a batch event (for the ledger and the deduplication id).
pub fn batch_subject(batch: &BatchRecord, event: BatchEvent) -> String {
    format!("{}#{}", batch.item_id(), event.as_str())
}

/// The notifications of a batch event: one for each department the station's site serves (the
/// general office for a station the rules do not know).
pub fn batch_notifications(
    rules: &crate::domain::routing::RoutingRules,
    batch: &BatchRecord,
    event: BatchEvent,
) -> Vec<BatchNotification> {
    let site = rules.site(&batch.station);
    let departments = site.map_or_else(
        || vec![rules.general_office().to_string()],
        |s| s.departments.clone(),
    );
    let report = reconcile(batch);
    departments
        .into_iter()
        .map(|department| BatchNotification {
            schema: BATCH_NOTIFICATION_SCHEMA,
            event: event.as_str(),
            department_name: rules
                .department(&department)
                .map_or_else(|| department.clone(), |d| d.name.clone()),
            department,
            station: batch.station.clone(),
            site_address: site.map(|s| s.address.clone()),
            batch_id: batch.batch_id.clone(),
            report: report.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Finding;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn entry(name: &str) -> ManifestFile {
        ManifestFile {
            name: name.into(),
            sha256: "ab".repeat(32),
            size: 10,
            pages: 2,
            envelope: "K-001".into(),
            scanned_at: "2026-11-25T08:00:00Z".into(),
            operator: "op-7".into(),
        }
    }

    fn manifest(names: &[&str]) -> Manifest {
        Manifest {
            schema: MANIFEST_SCHEMA.into(),
            station: "mogilska".into(),
            batch_id: "b-1".into(),
            created_at: "2026-11-25T09:00:00Z".into(),
            service: None,
            files: names.iter().map(|n| entry(n)).collect(),
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_fails() {
        let body = br#"{"batch_id":"b-1"}"#;
        let header = authorization(
            "mogilska",
            KEY,
            "POST",
            "/stations/mogilska/batches",
            1000,
            body,
        );
        let auth = parse_authorization(Some(&header)).unwrap();
        let request = ("POST", "/stations/mogilska/batches", &body[..]);
        assert_eq!(verify(&auth, "mogilska", KEY, request, 1100), Ok(()));
        assert_eq!(
            verify(&auth, "mogilska", b"another key", request, 1100),
            Err(AuthError::BadSignature)
        );
        let other_body = ("POST", "/stations/mogilska/batches", &b"{}"[..]);
        assert_eq!(
            verify(&auth, "mogilska", KEY, other_body, 1100),
            Err(AuthError::BadSignature)
        );
        let other_path = ("POST", "/stations/wielicka/batches", &body[..]);
        assert_eq!(
            verify(&auth, "mogilska", KEY, other_path, 1100),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            verify(&auth, "wielicka", KEY, request, 1100),
            Err(AuthError::WrongStation { .. })
        ));
        assert_eq!(
            verify(&auth, "mogilska", KEY, request, 1000 + 301),
            Err(AuthError::Stale(301))
        );
        assert_eq!(
            verify(&auth, "mogilska", KEY, request, 1000 - 400),
            Err(AuthError::Stale(-400))
        );
    }

    #[test]
    fn malformed_authorization_headers_are_refused_with_a_reason() {
        assert_eq!(parse_authorization(None), Err(AuthError::Missing));
        for header in [
            "Bearer x",
            "INTAKE-HMAC-SHA256 Station=mogilska",
            "INTAKE-HMAC-SHA256 Station=mogilska, Timestamp=x, Signature=00",
            "INTAKE-HMAC-SHA256 Station=mogilska, Timestamp=1, Signature=zz",
            "INTAKE-HMAC-SHA256 Station=../x, Timestamp=1, Signature=00",
            "INTAKE-HMAC-SHA256 garbage",
        ] {
            assert!(
                matches!(
                    parse_authorization(Some(header)),
                    Err(AuthError::Malformed(_))
                ),
                "{header}"
            );
        }
        let huge = format!(
            "INTAKE-HMAC-SHA256 Station=a, Timestamp={}, Signature=00",
            "9".repeat(40)
        );
        assert!(parse_authorization(Some(&huge)).is_err());
    }

    #[test]
    fn manifests_are_checked_for_station_batch_and_every_entry() {
        let good = serde_json::to_vec(&manifest(&["a.pdf", "b.pdf"])).unwrap();
        assert_eq!(
            parse_manifest(&good, "mogilska", "b-1")
                .unwrap()
                .files
                .len(),
            2
        );
        assert!(matches!(
            parse_manifest(&good, "wielicka", "b-1"),
            Err(ManifestError::OtherStation { .. })
        ));
        assert!(matches!(
            parse_manifest(&good, "mogilska", "b-2"),
            Err(ManifestError::OtherBatch { .. })
        ));
        assert!(matches!(
            parse_manifest(b"{not json", "mogilska", "b-1"),
            Err(ManifestError::Malformed(_))
        ));
        let twice = serde_json::to_vec(&manifest(&["a.pdf", "a.pdf"])).unwrap();
        assert!(matches!(
            parse_manifest(&twice, "mogilska", "b-1"),
            Err(ManifestError::BadFileList(_))
        ));
        let empty = serde_json::to_vec(&manifest(&[])).unwrap();
        assert!(parse_manifest(&empty, "mogilska", "b-1").is_err());
        for (change, name) in [
            (
                Box::new(|f: &mut ManifestFile| f.name = "../x.pdf".into())
                    as Box<dyn Fn(&mut ManifestFile)>,
                "path",
            ),
            (
                Box::new(|f: &mut ManifestFile| f.name = "scan.exe".into()),
                "not pdf",
            ),
            (
                Box::new(|f: &mut ManifestFile| f.sha256 = "xyz".into()),
                "hash",
            ),
            (Box::new(|f: &mut ManifestFile| f.size = 0), "size"),
            (
                Box::new(|f: &mut ManifestFile| f.envelope = " ".into()),
                "envelope",
            ),
            (
                Box::new(|f: &mut ManifestFile| f.scanned_at = "yesterday".into()),
                "time",
            ),
            (
                Box::new(|f: &mut ManifestFile| f.operator = String::new()),
                "operator",
            ),
        ] {
            let mut m = manifest(&["a.pdf"]);
            change(&mut m.files[0]);
            let bytes = serde_json::to_vec(&m).unwrap();
            assert!(
                matches!(
                    parse_manifest(&bytes, "mogilska", "b-1"),
                    Err(ManifestError::BadFile { .. })
                ),
                "{name}"
            );
        }
        // 500 files with the longest names would not fit one DynamoDB item once recorded.
        let long: Vec<String> = (0..500).map(|i| format!("{i:0>86}.pdf")).collect();
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        let bytes = serde_json::to_vec(&manifest(&names)).unwrap();
        assert!(bytes.len() < MAX_MANIFEST_BYTES);
        let refused = parse_manifest(&bytes, "mogilska", "b-1").unwrap_err();
        assert_eq!(refused.code(), "batch_too_large", "{refused}");
        let short: Vec<String> = (0..500).map(|i| format!("skan_{i:03}.pdf")).collect();
        let names: Vec<&str> = short.iter().map(String::as_str).collect();
        let bytes = serde_json::to_vec(&manifest(&names)).unwrap();
        assert!(parse_manifest(&bytes, "mogilska", "b-1").is_ok());
        let mut unknown_service = manifest(&["a.pdf"]);
        unknown_service.service = Some("no-such-service".into());
        let bytes = serde_json::to_vec(&unknown_service).unwrap();
        assert!(matches!(
            parse_manifest(&bytes, "mogilska", "b-1"),
            Err(ManifestError::Malformed(_))
        ));
        let mut extra = serde_json::to_value(manifest(&["a.pdf"])).unwrap();
        extra["unexpected"] = 1.into();
        assert!(parse_manifest(extra.to_string().as_bytes(), "mogilska", "b-1").is_err());
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert_eq!(
            parse_manifest(&big, "mogilska", "b-1"),
            Err(ManifestError::TooLarge)
        );
    }

    #[test]
    fn upload_requests_are_bounded() {
        let files: Vec<ManifestFile> = (0..=MAX_FILES_PER_REQUEST)
            .map(|i| entry(&format!("s{i}.pdf")))
            .collect();
        let too_many = serde_json::to_vec(&UploadRequest { files }).unwrap();
        assert!(matches!(
            parse_upload_request(&too_many),
            Err(ManifestError::BadFileList(_))
        ));
        let one = serde_json::to_vec(&UploadRequest {
            files: vec![entry("a.pdf")],
        })
        .unwrap();
        assert_eq!(parse_upload_request(&one).unwrap().files.len(), 1);
    }

    fn batch(names: &[&str]) -> BatchRecord {
        BatchRecord {
            station: "mogilska".into(),
            batch_id: "b-1".into(),
            state: Some(BatchState::Closed),
            opened_at: Some("2026-11-25T08:00:00Z".into()),
            manifest: Some(serde_json::to_string(&manifest(names)).unwrap()),
            ..BatchRecord::default()
        }
    }

    #[test]
    fn reconciliation_names_every_kind_of_problem() {
        let mut b = batch(&["a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf", "f.pdf"]);
        for name in ["a.pdf", "b.pdf", "c.pdf", "d.pdf", "x.pdf"] {
            b.files.insert(name.into(), format!("id-{name}"));
        }
        b.verdicts.insert("a.pdf".into(), "accepted".into());
        b.verdicts
            .insert("b.pdf".into(), "rejected:hash_mismatch".into());
        b.verdicts.insert("c.pdf".into(), "duplicate:first".into());
        b.verdicts.insert("d.pdf".into(), "rejected:not_pdf".into());
        b.verdicts.insert("x.pdf".into(), "accepted".into());
        b.refused
            .insert("e.pdf".into(), "too_large: 2 bytes".into());
        let r = reconcile(&b);
        assert!(!r.complete);
        assert_eq!(r.missing, ["f.pdf"]);
        assert_eq!(r.accepted, 2);
        assert_eq!(r.recorded, 6);
        assert_eq!(r.hash_mismatches[0].name, "b.pdf");
        assert_eq!(
            r.hash_mismatches[0].document_id.as_deref(),
            Some("id-b.pdf")
        );
        assert_eq!(r.duplicates[0].detail, "same bytes as first");
        let invalid: Vec<&str> = r.invalid.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(invalid, ["d.pdf", "e.pdf"]);
        assert_eq!(r.not_in_manifest[0].name, "x.pdf");
        assert!(r.has_problems());
        b.verdicts.insert("f.pdf".into(), "accepted".into());
        assert!(reconcile(&b).complete);
    }

    #[test]
    fn a_clean_batch_is_complete_without_problems_and_an_open_one_is_not() {
        let mut b = batch(&["a.pdf"]);
        b.verdicts.insert("a.pdf".into(), "accepted".into());
        let r = reconcile(&b);
        assert!(r.complete && !r.has_problems());
        b.manifest = None;
        assert!(!reconcile(&b).complete);
    }

    #[test]
    fn file_verdicts_summarise_the_record() {
        let mut record = DocumentRecord {
            status: Some(DocumentStatus::Rejected),
            findings: vec![
                Finding::reject(ReasonCode::HashMismatch, "x"),
                Finding::warning(ReasonCode::Repaired, "y"),
            ],
            ..DocumentRecord::default()
        };
        assert_eq!(
            file_verdict(&record).as_deref(),
            Some("rejected:hash_mismatch")
        );
        record.status = Some(DocumentStatus::Duplicate);
        record.duplicate_of = Some("first".into());
        assert_eq!(file_verdict(&record).as_deref(), Some("duplicate:first"));
        record.status = Some(DocumentStatus::Pending);
        assert_eq!(file_verdict(&record), None);
    }

    #[test]
    fn a_batch_is_overdue_once_after_the_configured_time() {
        let b = batch(&["a.pdf"]);
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert!(!is_overdue(&b, at("2026-11-25T09:00:00Z"), 7200));
        assert!(is_overdue(&b, at("2026-11-25T10:00:01Z"), 7200));
        let mut flagged = b.clone();
        flagged.overdue_at = Some("2026-11-25T10:00:01Z".into());
        assert!(!is_overdue(&flagged, at("2026-11-26T00:00:00Z"), 7200));
        let mut done = b;
        done.state = Some(BatchState::Complete);
        assert!(!is_overdue(&done, at("2026-11-26T00:00:00Z"), 7200));
    }

    #[test]
    fn completion_and_overdue_are_told_once_to_each_department_of_the_site() {
        let rules = crate::domain::routing::RoutingRules::bundled().unwrap();
        let mut b = batch(&["a.pdf"]);
        assert!(!ready_to_complete(&b));
        b.verdicts.insert("a.pdf".into(), "accepted".into());
        assert!(ready_to_complete(&b));
        let mut done = b.clone();
        done.state = Some(BatchState::Complete);
        assert!(!ready_to_complete(&done));
        assert_eq!(batch_events(Some(&b), &done), [BatchEvent::Complete]);
        assert!(batch_events(Some(&done), &done).is_empty());
        let mut late = b.clone();
        late.overdue_at = Some("2026-11-26T00:00:00Z".into());
        assert_eq!(batch_events(Some(&b), &late), [BatchEvent::Overdue]);
        assert!(batch_events(Some(&late), &late).is_empty());

        done.station = "os-zgody".into();
        let told = batch_notifications(&rules, &done, BatchEvent::Complete);
        let departments: Vec<&str> = told.iter().map(|n| n.department.as_str()).collect();
        assert_eq!(departments, rules.site("os-zgody").unwrap().departments);
        assert_eq!(departments.len(), 2);
        assert_eq!(told[0].event, "batch_complete");
        assert!(told[0].report.complete);
        done.station = "no-such-site".into();
        let told = batch_notifications(&rules, &done, BatchEvent::Complete);
        assert_eq!(told[0].department, rules.general_office());
        assert_ne!(
            batch_subject(&done, BatchEvent::Complete),
            batch_subject(&done, BatchEvent::Overdue)
        );
    }

    #[test]
    fn names_and_ids_are_checked() {
        assert!(is_file_name("K-001_1.pdf") && is_file_name("SCAN.PDF"));
        for bad in ["", ".pdf", "a/b.pdf", "a b.pdf", "x.pdf.exe", "ą.pdf"] {
            assert!(!is_file_name(bad), "{bad}");
        }
        assert!(is_station_id("os-zgody") && !is_station_id("Os") && !is_station_id(""));
        assert!(is_batch_id("0190c0de-aaaa") && !is_batch_id("a/b") && !is_batch_id(""));
    }
}
