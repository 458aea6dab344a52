//! The validation path for one incoming object: read once, judge, store, record.
//!
//! Every step is safe to repeat, so a redelivered message or a function that died half-way ends
//! in the same state: one archive object per distinct content, one record per document.

pub mod ports;
pub mod s3_event;

use jiff::Timestamp;

use crate::domain::keys;
use crate::domain::model::{
    Channel, DocumentRecord, DocumentStatus, Finding, ReasonCode, StorageLocation, Verdict,
};
use crate::engine::hashing::{DocumentHash, ReadDocument};
use crate::engine::pdf::policy::PdfPolicy;
use crate::engine::signature::{Detached, SignaturePolicy};
use crate::lambda::config::ValidateConfig;
use crate::ports::{Clock, Documents, PortError as AwsError};
use crate::validation::ports::{DocumentBuckets, HashClaim, RecordWrite, Verdicts};
use crate::validation::s3_event::ObjectCreated;

/// Judges the bytes received against the PDF check and what the sender declared.
pub fn assess(
    read: &ReadDocument,
    pending: Option<&DocumentRecord>,
    limit: u64,
    policy: &PdfPolicy,
    signatures: &SignaturePolicy,
    detached: Detached<'_>,
) -> Verdict {
    let (mut verdict, parsed) = match &read.bytes {
        Some(bytes) => crate::engine::pdf::inspect_document(bytes, policy),
        None => (crate::engine::pdf::too_large(read.size, limit), None),
    };
    if let Some(bytes) = read
        .bytes
        .as_deref()
        .filter(|_| verdict.signatures_checkable())
    {
        let service = pending.and_then(|p| p.service.as_deref());
        crate::engine::signature::judge(
            &mut verdict,
            bytes,
            parsed.as_ref(),
            signatures,
            service,
            detached,
            Some(&read.checkpoints),
        );
    }
    let Some(pending) = pending else {
        verdict.findings.push(Finding::reject(
            ReasonCode::UnknownUpload,
            "the file arrived without a requested upload",
        ));
        return verdict;
    };
    if let Some(declared) = pending.declared_sha256.as_deref() {
        if DocumentHash::from_hex(declared) != Some(read.hash) {
            verdict.findings.push(Finding::reject(
                ReasonCode::HashMismatch,
                "the file's SHA-256 differs from the one declared: it changed in transit",
            ));
        }
    }
    if let Some(declared) = pending.declared_size {
        if declared != read.size {
            verdict.findings.push(Finding::warning(
                ReasonCode::SizeMismatch,
                format!("{} bytes arrived; {declared} were declared", read.size),
            ));
        }
    }
    verdict
}

/// Where the document's bytes end up, decided from the verdict and the hash claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Accepted and the first with these bytes: stored in the archive.
    Archive,
    /// Accepted, but the bytes were received before under another document.
    Duplicate {
        /// The first document with these bytes.
        original: String,
    },
    /// Rejected: kept in quarantine.
    Quarantine,
}

/// The complete record of a judged document, built over its pending record when there is one.
#[allow(clippy::too_many_arguments)]
pub fn judged_record(
    document_id: &str,
    channel: Option<Channel>,
    pending: Option<&DocumentRecord>,
    object: &ObjectCreated,
    read: &ReadDocument,
    verdict: Verdict,
    disposition: &Disposition,
    storage: StorageLocation,
    now: Timestamp,
) -> DocumentRecord {
    let mut record = pending.cloned().unwrap_or_default();
    record.id = document_id.to_string();
    record.channel = record.channel.or(channel);
    record.status = Some(match disposition {
        Disposition::Archive => DocumentStatus::Accepted,
        Disposition::Duplicate { .. } => DocumentStatus::Duplicate,
        Disposition::Quarantine => DocumentStatus::Rejected,
    });
    record.duplicate_of = match disposition {
        Disposition::Duplicate { original } => Some(original.clone()),
        _ => None,
    };
    record.sha256 = Some(read.hash.to_hex());
    record.size = Some(read.size);
    record.pages = verdict.pages;
    record.pdf_version = verdict.pdf_version;
    record.pdf_facts = verdict
        .facts
        .as_ref()
        .and_then(|facts| serde_json::to_string(facts).ok());
    record.signature_status = verdict
        .signatures
        .as_ref()
        .map(|r| r.status.as_str().to_string());
    record.signatures = verdict
        .signatures
        .as_ref()
        .and_then(|r| serde_json::to_string(&r.signatures).ok());
    record.findings = verdict.findings;
    record.received_at = Some(crate::domain::time::utc_rfc3339(object.event_time));
    record.received_day = Some(crate::domain::time::office_day(object.event_time));
    record.validated_at = Some(crate::domain::time::utc_rfc3339(now));
    record.storage = Some(storage);
    record
}

/// Runs the validation path over the ports: the buckets, the documents table and a clock (S3,
/// DynamoDB and the system's time in the validate function; memory in the unit tests).
pub struct Validator<S, T, K> {
    /// The buckets.
    pub store: S,
    /// The documents table.
    pub table: T,
    /// Bucket names and limits.
    pub config: ValidateConfig,
    /// Trust anchors and which services require a signature.
    pub signatures: SignaturePolicy,
    /// The time.
    pub clock: K,
}

/// What processing one object did.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The document's record as it stands.
    pub record: DocumentRecord,
    /// Whether this call wrote it or found it already written.
    pub write: RecordWrite,
}

impl<S, T, K> Validator<S, T, K>
where
    S: DocumentBuckets,
    T: Documents + Verdicts,
    K: Clock,
{
    /// Validates, stores and records one incoming object; `attempt` is the message's delivery
    /// count. An error leaves the message to be retried; every step before it is safe to
    /// repeat.
    pub async fn process(
        &self,
        object: &ObjectCreated,
        attempt: u32,
    ) -> Result<Processed, AwsError> {
        let parsed = keys::parse_incoming_key(&object.key);
        if let Some(signature) = parsed
            .as_ref()
            .filter(|k| k.kind == keys::IncomingKind::DetachedSignature)
        {
            // A detached signature is judged with its document, which reads it.
            let record = self.table.get(&signature.document_id).await?;
            return Ok(Processed {
                record: record.unwrap_or_else(|| DocumentRecord {
                    id: signature.document_id.clone(),
                    ..DocumentRecord::default()
                }),
                write: RecordWrite::JudgedWithDocument,
            });
        }
        let (document_id, channel) = match parsed {
            Some(parsed) => (parsed.document_id, Some(parsed.channel)),
            None => (keys::stray_object_id(&object.bucket, &object.key), None),
        };
        let existing = self.table.get(&document_id).await?;
        if let Some(record) = existing.as_ref() {
            if record.status != Some(DocumentStatus::Pending) {
                // A redelivery of a message whose verdict is already recorded.
                return Ok(Processed {
                    record: record.clone(),
                    write: RecordWrite::AlreadyRecorded,
                });
            }
        }
        let pending = existing.filter(|_| channel.is_some());
        let mut read = self
            .store
            .read_document(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                self.config.max_document_bytes,
            )
            .await?;
        // A declared detached signature is waited for over a few deliveries (the browser
        // uploads it beside the document), then the document is judged without it.
        let signature_key = crate::upload::web_signature_key(&document_id);
        let signature_object = match pending.as_ref().and_then(|p| p.detached_signature.as_ref()) {
            None => None,
            Some(_) => match self
                .store
                .read_optional(
                    &object.bucket,
                    &signature_key,
                    crate::upload::MAX_DETACHED_SIGNATURE_BYTES,
                )
                .await?
            {
                Some(found) => Some(found),
                None if attempt < self.config.signature_wait_attempts => {
                    return Err(AwsError::transient(
                        "wait",
                        format!(
                            "the detached signature of {document_id} has not arrived (delivery {attempt})"
                        ),
                    ));
                }
                None => None,
            },
        };
        let detached = match (
            &signature_object,
            pending.as_ref().and_then(|p| p.detached_signature.as_ref()),
        ) {
            (Some((bytes, _)), _) => Detached::Present(bytes.as_deref()),
            (None, Some(_)) => Detached::Missing,
            (None, None) => Detached::NotDeclared,
        };
        let policy = self.config.pdf_policies.for_channel(channel);
        let verdict = assess(
            &read,
            pending.as_ref(),
            self.config.max_document_bytes,
            policy,
            &self.signatures,
            detached,
        );
        let now = self.clock.now();

        let (disposition, storage) = if verdict.is_accepted() {
            let archive = StorageLocation {
                bucket: self.config.archive_bucket.clone(),
                key: keys::archive_key(&read.hash),
            };
            let claim = self
                .table
                .claim_hash(
                    &read.hash,
                    &document_id,
                    &crate::domain::time::utc_rfc3339(now),
                )
                .await?;
            // Archived whoever holds the claim: its holder may have died before storing the
            // bytes (and been rejected on a retry), so a duplicate must never point at bytes
            // that are not there. The write is a no-op when the object exists. Accepted bytes
            // were kept (`assess` rejects anything over the limit); they move into the upload,
            // so the document is never in memory twice.
            let bytes = read.bytes.take().unwrap_or_default();
            self.store
                .archive(
                    &archive.bucket,
                    &archive.key,
                    bytes,
                    &read.hash,
                    &document_id,
                )
                .await?;
            let disposition = match claim {
                HashClaim::Original => Disposition::Archive,
                HashClaim::DuplicateOf(original) => Disposition::Duplicate { original },
            };
            (disposition, archive)
        } else {
            let quarantine = StorageLocation {
                bucket: self.config.quarantine_bucket.clone(),
                key: keys::quarantine_key(channel, &document_id),
            };
            let reasons: Vec<&str> = verdict.rejections().map(|f| f.code.as_str()).collect();
            self.store
                .quarantine(object, &quarantine, &document_id, &reasons.join(","))
                .await?;
            (Disposition::Quarantine, quarantine)
        };

        // The detached signature is kept beside the document: with the archive when accepted,
        // in quarantine when rejected.
        let mut signature_stored = None;
        if let Some((_, version)) = &signature_object {
            let destination = StorageLocation {
                bucket: storage.bucket.clone(),
                key: match disposition {
                    Disposition::Quarantine => {
                        format!("{}.p7s", keys::quarantine_key(channel, &document_id))
                    }
                    _ => format!("signatures/{document_id}.p7s"),
                },
            };
            let source = ObjectCreated {
                bucket: object.bucket.clone(),
                key: signature_key.clone(),
                version_id: version.clone(),
                size: None,
                event_time: object.event_time,
            };
            self.store
                .quarantine(&source, &destination, &document_id, "detached-signature")
                .await?;
            signature_stored = Some(format!("{}/{}", destination.bucket, destination.key));
        }
        let mut record = judged_record(
            &document_id,
            channel,
            pending.as_ref(),
            object,
            &read,
            verdict,
            &disposition,
            storage,
            now,
        );
        record.detached_signature_stored = signature_stored;
        let write = self.table.record_verdict(&record).await?;
        let record = match write {
            RecordWrite::Written => record,
            // Another delivery of the same event got there first; report what it recorded.
            RecordWrite::AlreadyRecorded | RecordWrite::JudgedWithDocument => {
                self.table.get(&document_id).await?.unwrap_or(record)
            }
        };
        Ok(Processed { record, write })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hashing::DocumentReader;
    use crate::engine::pdf::samples::minimal_pdf;

    fn read(bytes: &[u8], limit: u64) -> ReadDocument {
        let mut reader = DocumentReader::new(limit, None);
        reader.push(bytes);
        reader.finish()
    }

    fn pending(bytes: &[u8]) -> DocumentRecord {
        DocumentRecord {
            id: "id".into(),
            status: Some(DocumentStatus::Pending),
            declared_size: Some(bytes.len() as u64),
            declared_sha256: Some(DocumentHash::of(bytes).to_hex()),
            ..Default::default()
        }
    }

    fn codes(v: &Verdict) -> Vec<ReasonCode> {
        v.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_declared_valid_pdf_is_accepted() {
        let pdf = minimal_pdf(1, "a");
        let v = assess(
            &read(&pdf, 1 << 20),
            Some(&pending(&pdf)),
            1 << 20,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        assert!(v.is_accepted(), "{v:?}");
        assert!(v.findings.is_empty());
    }

    #[test]
    fn bytes_changed_in_transit_are_rejected() {
        let pdf = minimal_pdf(1, "a");
        let other = minimal_pdf(1, "b");
        let v = assess(
            &read(&other, 1 << 20),
            Some(&pending(&pdf)),
            1 << 20,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        assert_eq!(codes(&v), vec![ReasonCode::HashMismatch]);
    }

    #[test]
    fn a_size_mismatch_alone_is_a_warning() {
        let pdf = minimal_pdf(1, "a");
        let mut p = pending(&pdf);
        p.declared_sha256 = None;
        p.declared_size = Some(1);
        let v = assess(
            &read(&pdf, 1 << 20),
            Some(&p),
            1 << 20,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        assert!(v.is_accepted());
        assert_eq!(codes(&v), vec![ReasonCode::SizeMismatch]);
    }

    #[test]
    fn oversized_and_unrequested_files_are_rejected() {
        let pdf = minimal_pdf(1, "a");
        let v = assess(
            &read(&pdf, 10),
            Some(&pending(&pdf)),
            10,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        assert_eq!(codes(&v), vec![ReasonCode::TooLarge]);
        let v = assess(
            &read(&pdf, 1 << 20),
            None,
            1 << 20,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        assert_eq!(codes(&v), vec![ReasonCode::UnknownUpload]);
    }

    #[test]
    fn judged_record_keeps_what_the_sender_declared() {
        let pdf = minimal_pdf(2, "a");
        let mut p = pending(&pdf);
        p.service = Some("child-benefit".into());
        p.file_name = Some("a.pdf".into());
        let r = read(&pdf, 1 << 20);
        let verdict = assess(
            &r,
            Some(&p),
            1 << 20,
            &PdfPolicy::default(),
            &SignaturePolicy::default(),
            Detached::NotDeclared,
        );
        let object = ObjectCreated {
            bucket: "in".into(),
            key: "incoming/web/id.pdf".into(),
            version_id: None,
            size: Some(pdf.len() as u64),
            // 23:30 UTC on 31 March is already 1 April in Warsaw (UTC+2).
            event_time: "2020-03-31T23:30:00Z".parse().unwrap(),
        };
        let storage = StorageLocation {
            bucket: "archive".into(),
            key: keys::archive_key(&r.hash),
        };
        let record = judged_record(
            "id",
            Some(Channel::Web),
            Some(&p),
            &object,
            &r,
            verdict,
            &Disposition::Duplicate {
                original: "first".into(),
            },
            storage,
            "2020-04-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(record.status, Some(DocumentStatus::Duplicate));
        assert_eq!(record.duplicate_of.as_deref(), Some("first"));
        assert_eq!(record.service.as_deref(), Some("child-benefit"));
        assert_eq!(record.pages, Some(2));
        assert_eq!(record.received_day.as_deref(), Some("2020-04-01"));
        assert_eq!(
            record.received_at.as_deref(),
            Some("2020-03-31T23:30:00.000Z")
        );
    }

    mod over_the_ports {
        //! The validation path in memory: the bytes kept once whatever step fails or the
        //! function dies after, duplicates found, rejections quarantined, redeliveries idle.

        use super::*;
        use crate::in_memory::{Fault, InMemory, block_on};

        const INCOMING: &str = "incoming";
        const ARCHIVE: &str = "archive";
        const QUARANTINE: &str = "quarantine";

        fn world() -> InMemory {
            InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"))
        }

        fn validator(world: &InMemory) -> Validator<&InMemory, &InMemory, &InMemory> {
            let config =
                ValidateConfig::from_env(&crate::lambda::config::Env(|name: &str| match name {
                    "INTAKE_TABLE" => Some("documents".to_string()),
                    "INTAKE_ARCHIVE_BUCKET" => Some(ARCHIVE.to_string()),
                    "INTAKE_QUARANTINE_BUCKET" => Some(QUARANTINE.to_string()),
                    _ => None,
                }))
                .expect("config");
            Validator {
                store: world,
                table: world,
                config,
                signatures: SignaturePolicy::default(),
                clock: world,
            }
        }

        /// A web upload of `bytes` under a new document id: its pending record and its object.
        fn uploaded(world: &InMemory, id: &str, bytes: &[u8]) -> ObjectCreated {
            let key = crate::upload::web_upload_key(id);
            world.put_document(DocumentRecord {
                id: id.to_string(),
                channel: Some(crate::domain::model::Channel::Web),
                service: Some("child-benefit".into()),
                ..pending(bytes)
            });
            world.put_object(INCOMING, &key, bytes);
            ObjectCreated {
                bucket: INCOMING.into(),
                key,
                version_id: None,
                size: Some(bytes.len() as u64),
                event_time: "2026-03-02T08:59:00Z".parse().expect("a time"),
            }
        }

        /// Delivers the message until it is processed, as SQS does (at most ten times).
        fn deliver(
            validator: &Validator<&InMemory, &InMemory, &InMemory>,
            object: &ObjectCreated,
        ) -> Processed {
            for attempt in 1..=10 {
                if let Ok(processed) = block_on(validator.process(object, attempt)) {
                    return processed;
                }
            }
            panic!("never processed");
        }

        const ID: &str = "0190c0de-0000-7000-8000-000000000001";
        const OTHER: &str = "0190c0de-0000-7000-8000-000000000002";

        #[test]
        fn an_accepted_document_is_archived_once_whatever_step_fails() {
            let pdf = minimal_pdf(1, "ports");
            let steps = {
                let world = world();
                let object = uploaded(&world, ID, &pdf);
                let before = world.faults.made();
                deliver(&validator(&world), &object);
                world.faults.made() - before
            };
            assert!(steps >= 3, "the claim, the archive, the verdict: {steps}");
            for step in 1..=steps {
                for fault in [Fault::FailBefore, Fault::DieAfter] {
                    let world = world();
                    let object = uploaded(&world, ID, &pdf);
                    world.faults.at(step, fault);
                    let processed = deliver(&validator(&world), &object);
                    assert_eq!(processed.record.status, Some(DocumentStatus::Accepted));
                    let record = world.document(ID).expect("recorded");
                    assert_eq!(
                        record.status,
                        Some(DocumentStatus::Accepted),
                        "step {step} {fault:?}"
                    );
                    let archive = world.objects(ARCHIVE);
                    assert_eq!(archive.len(), 1, "one object: {archive:?}");
                    let key = keys::archive_key(&DocumentHash::of(&pdf));
                    assert_eq!(archive[&key].bytes, pdf, "the bytes as sent");
                    assert_eq!(
                        record.storage.as_ref().map(|s| s.key.as_str()),
                        Some(key.as_str())
                    );
                    assert_eq!(world.claim_of(&DocumentHash::of(&pdf)).as_deref(), Some(ID));
                    assert!(world.objects(QUARANTINE).is_empty());
                }
            }
        }

        #[test]
        fn the_same_bytes_again_are_a_duplicate_of_the_first_and_stored_once() {
            let world = world();
            let validator = validator(&world);
            let pdf = minimal_pdf(1, "twice");
            deliver(&validator, &uploaded(&world, ID, &pdf));
            let second = deliver(&validator, &uploaded(&world, OTHER, &pdf));
            assert_eq!(second.record.status, Some(DocumentStatus::Duplicate));
            assert_eq!(second.record.duplicate_of.as_deref(), Some(ID));
            assert_eq!(world.objects(ARCHIVE).len(), 1);
        }

        #[test]
        fn a_rejected_document_is_kept_in_quarantine_with_its_reasons() {
            let world = world();
            let validator = validator(&world);
            let not_pdf = b"PK\x03\x04 a zip named .pdf";
            let processed = deliver(&validator, &uploaded(&world, ID, not_pdf));
            assert_eq!(processed.record.status, Some(DocumentStatus::Rejected));
            let quarantine = world.objects(QUARANTINE);
            let kept =
                &quarantine[&keys::quarantine_key(Some(crate::domain::model::Channel::Web), ID)];
            assert_eq!(kept.bytes, not_pdf);
            assert!(kept.metadata["reasons"].contains("not_pdf"), "{kept:?}");
            assert!(world.objects(ARCHIVE).is_empty());
        }

        #[test]
        fn a_redelivered_message_after_its_verdict_changes_nothing() {
            let world = world();
            let validator = validator(&world);
            let object = uploaded(&world, ID, &minimal_pdf(1, "again"));
            deliver(&validator, &object);
            let made = world.faults.made();
            let again = deliver(&validator, &object);
            assert_eq!(again.write, RecordWrite::AlreadyRecorded);
            assert_eq!(world.faults.made(), made, "no side effect");
        }
    }
}
