//! The ports in memory, for unit tests: one [`InMemory`] holds the documents table (records,
//! ledger, batches) with its stream, the counters, the departments' copies, the topic as the
//! departments' queues see it, the e-mails and a pinned clock. [`Faults`] makes any side
//! effect fail, or take effect and then fail as a function killed right after it would.
//!
//! Built for the library's own tests, and for other crates' with the feature `in-memory`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::civil::Date;

use crate::domain::model::{DocumentRecord, DocumentStatus, StorageLocation};
use crate::domain::time::Timestamp;
use crate::engine::hashing::{DocumentHash, DocumentReader, ReadDocument};
use crate::notification::ports::{
    Batches, CountMark, Counters, DepartmentCopies, DepartmentTopic, Mailer, NotificationLedger,
};
use crate::notification::{Notification, StreamChange};
use crate::ports::{Clock, Documents, PortError};
use crate::register::ports::{Entered, RegisterBook};
use crate::station::{BatchNotification, BatchRecord, BatchState};
use crate::validation::ports::{DocumentBuckets, HashClaim, RecordWrite, Verdicts};
use crate::validation::s3_event::ObjectCreated;

/// Runs a future of the ports to its end on this thread (the tests' runtime).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => panic!("no runtime for the test: {e}"),
    }
}

/// When a side effect fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The side effect is not made; the call fails.
    FailBefore,
    /// The side effect is made, then the call fails (the function died right after it).
    DieAfter,
}

/// Counts side effects and fails the one asked for, once.
#[derive(Debug, Default)]
pub struct Faults {
    made: Cell<usize>,
    planned: Cell<Option<(usize, Fault)>>,
}

impl Faults {
    /// Fails the `n`-th side effect from now (1 is the next one) with `fault`.
    pub fn at(&self, n: usize, fault: Fault) {
        self.planned.set(Some((self.made.get() + n, fault)));
    }

    /// Side effects made so far.
    pub fn made(&self) -> usize {
        self.made.get()
    }

    /// Runs a side effect under the plan.
    fn effect<T>(
        &self,
        operation: &'static str,
        effect: impl FnOnce() -> T,
    ) -> Result<T, PortError> {
        let n = self.made.get() + 1;
        let fault = match self.planned.get() {
            Some((at, fault)) if at == n => {
                self.planned.set(None);
                Some(fault)
            }
            _ => None,
        };
        let injected =
            || PortError::transient(operation, format!("fault injected at side effect {n}"));
        if fault == Some(Fault::FailBefore) {
            return Err(injected());
        }
        self.made.set(n);
        let value = effect();
        match fault {
            Some(Fault::DieAfter) => Err(injected()),
            _ => Ok(value),
        }
    }
}

/// A message on the departments' topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The department (the message group).
    pub department: String,
    /// The subject: a document id, or a batch's event.
    pub subject: String,
    /// The message, as JSON.
    pub body: serde_json::Value,
}

/// Everything in memory. The notifier takes `&InMemory` for each of its ports.
#[derive(Debug)]
pub struct InMemory {
    /// The faults to inject.
    pub faults: Faults,
    now: Cell<Timestamp>,
    documents: RefCell<BTreeMap<String, DocumentRecord>>,
    batches: RefCell<BTreeMap<(String, String), BatchRecord>>,
    stream: RefCell<VecDeque<StreamChange>>,
    sequence: Cell<u64>,
    ledger: RefCell<BTreeMap<(String, String), String>>,
    marks: RefCell<BTreeMap<String, CountMark>>,
    counters: RefCell<BTreeMap<(Date, u32), BTreeMap<String, i64>>>,
    copies: RefCell<BTreeMap<(String, String), (String, String)>>,
    published: RefCell<Vec<Published>>,
    mails: RefCell<Vec<String>>,
    claims: RefCell<BTreeMap<String, String>>,
    objects: RefCell<BTreeMap<(String, String), StoredObject>>,
    reports: RefCell<BTreeMap<String, (String, u64)>>,
    summaries: RefCell<Vec<(String, String)>>,
    station_keys: RefCell<BTreeMap<String, Vec<u8>>>,
    registers: RefCell<BTreeMap<(String, i16), u64>>,
    register_marks: RefCell<BTreeMap<String, String>>,
}

/// An object in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its metadata (document id, reasons).
    pub metadata: BTreeMap<String, String>,
}

impl InMemory {
    /// An empty world at `now`.
    pub fn at(now: Timestamp) -> Self {
        InMemory {
            faults: Faults::default(),
            now: Cell::new(now),
            documents: RefCell::default(),
            batches: RefCell::default(),
            stream: RefCell::default(),
            sequence: Cell::new(0),
            ledger: RefCell::default(),
            marks: RefCell::default(),
            counters: RefCell::default(),
            copies: RefCell::default(),
            published: RefCell::default(),
            mails: RefCell::default(),
            claims: RefCell::default(),
            objects: RefCell::default(),
            reports: RefCell::default(),
            summaries: RefCell::default(),
            station_keys: RefCell::default(),
            registers: RefCell::default(),
            register_marks: RefCell::default(),
        }
    }

    /// Moves the clock on.
    pub fn advance(&self, seconds: i64) {
        let later = self.now.get() + jiff::SignedDuration::from_secs(seconds);
        self.now.set(later);
    }

    fn emit(&self, change: StreamChange) {
        self.stream.borrow_mut().push_back(change);
    }

    fn next_sequence(&self) -> String {
        let n = self.sequence.get() + 1;
        self.sequence.set(n);
        format!("{n:020}")
    }

    /// Writes a document's record as another component would (validate's verdict, an
    /// operator's move); its stream record follows.
    pub fn put_document(&self, record: DocumentRecord) {
        let old = self
            .documents
            .borrow_mut()
            .insert(record.id.clone(), record.clone());
        self.emit(StreamChange {
            sequence_number: self.next_sequence(),
            event_name: if old.is_some() { "MODIFY" } else { "INSERT" }.into(),
            new: Some(record),
            old,
            new_batch: None,
            old_batch: None,
        });
    }

    /// A document's record.
    pub fn document(&self, id: &str) -> Option<DocumentRecord> {
        self.documents.borrow().get(id).cloned()
    }

    /// Writes a batch as the station desk would; its stream record follows.
    pub fn put_batch(&self, batch: BatchRecord) {
        let key = (batch.station.clone(), batch.batch_id.clone());
        let old = self.batches.borrow_mut().insert(key, batch.clone());
        self.emit_batch(old, batch);
    }

    fn emit_batch(&self, old: Option<BatchRecord>, new: BatchRecord) {
        self.emit(StreamChange {
            sequence_number: self.next_sequence(),
            event_name: if old.is_some() { "MODIFY" } else { "INSERT" }.into(),
            new: None,
            old: None,
            new_batch: Some(new),
            old_batch: old,
        });
    }

    /// A batch.
    pub fn batch(&self, station: &str, batch_id: &str) -> Option<BatchRecord> {
        self.batches
            .borrow()
            .get(&(station.to_string(), batch_id.to_string()))
            .cloned()
    }

    /// The stream records not yet taken, oldest first.
    pub fn take_stream(&self) -> Vec<StreamChange> {
        self.stream.borrow_mut().drain(..).collect()
    }

    /// Puts stream records back at the front (a failed batch is delivered again).
    pub fn redeliver(&self, records: Vec<StreamChange>) {
        let mut stream = self.stream.borrow_mut();
        for record in records.into_iter().rev() {
            stream.push_front(record);
        }
    }

    /// Every message published, repeats included.
    pub fn published(&self) -> Vec<Published> {
        self.published.borrow().clone()
    }

    /// What a department's FIFO queue receives: the messages, with a repeat of a (subject,
    /// department) pair dropped (the clock stays within the topic's five-minute window in
    /// these tests).
    pub fn delivered(&self, department: &str) -> Vec<Published> {
        let mut seen = BTreeSet::new();
        self.published
            .borrow()
            .iter()
            .filter(|m| m.department == department)
            .filter(|m| seen.insert(m.subject.clone()))
            .cloned()
            .collect()
    }

    /// The e-mails sent, by document id.
    pub fn mails(&self) -> Vec<String> {
        self.mails.borrow().clone()
    }

    /// The department copies present: destination (bucket, key) to source (bucket, key).
    pub fn copies(&self) -> BTreeMap<(String, String), (String, String)> {
        self.copies.borrow().clone()
    }

    /// A day's counter, summed over its shards.
    pub fn counter(&self, day: Date, name: &str) -> i64 {
        self.counters
            .borrow()
            .iter()
            .filter(|((d, _), _)| *d == day)
            .filter_map(|(_, counters)| counters.get(name))
            .sum()
    }
}

impl RegisterBook for &InMemory {
    async fn last_number(&self, office: &str, year: i16) -> Result<u64, PortError> {
        Ok(self.register_last(office, year))
    }

    async fn enter(
        &self,
        office: &str,
        year: i16,
        last: u64,
        entries: &[(String, String)],
    ) -> Result<Entered, PortError> {
        if self.register_last(office, year) != last {
            return Ok(Entered::RegisterMoved);
        }
        if entries
            .iter()
            .any(|(id, _)| self.register_marks.borrow().contains_key(id))
        {
            return Ok(Entered::DocumentTaken);
        }
        // One transaction: the counter and every entry and mark, or nothing.
        self.faults.effect("memory:enter_register", || {
            self.registers
                .borrow_mut()
                .insert((office.to_string(), year), last + entries.len() as u64);
            let mut marks = self.register_marks.borrow_mut();
            for (id, number) in entries {
                marks.insert(id.clone(), number.clone());
            }
            Entered::Done
        })
    }

    async fn number_of(&self, document_id: &str) -> Result<Option<String>, PortError> {
        Ok(self.register_marks.borrow().get(document_id).cloned())
    }
}

/// The key the in-memory key store signs with (a test key, never a real one).
pub const RECEIPT_TEST_KEY: [u8; 32] = [0x17; 32];

/// What KMS does with the receipt key: signs (SHA-256, ECDSA P-256, DER) and shows the public
/// half, here with [`RECEIPT_TEST_KEY`].
impl crate::receipt::ports::ReceiptKey for &InMemory {
    async fn public_key(&self) -> Result<Vec<u8>, PortError> {
        use der::Encode;
        let key = receipt_signing_key()?;
        let point = key.verifying_key().to_encoded_point(false);
        let der = (|| {
            spki::SubjectPublicKeyInfoOwned {
                algorithm: spki::AlgorithmIdentifierOwned {
                    oid: const_oid::db::rfc5912::ID_EC_PUBLIC_KEY,
                    parameters: Some(der::Any::encode_from(
                        &const_oid::db::rfc5912::SECP_256_R_1,
                    )?),
                },
                subject_public_key: der::asn1::BitString::from_bytes(point.as_bytes())?,
            }
            .to_der()
        })();
        der.map_err(|e| PortError::permanent("memory:public_key", e.to_string()))
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError> {
        use p256::ecdsa::signature::Signer;
        let key = receipt_signing_key()?;
        self.faults.effect("memory:sign", || {
            let signature: p256::ecdsa::Signature = key.sign(message);
            signature.to_der().as_bytes().to_vec()
        })
    }
}

fn receipt_signing_key() -> Result<p256::ecdsa::SigningKey, PortError> {
    p256::ecdsa::SigningKey::from_bytes(&RECEIPT_TEST_KEY.into())
        .map_err(|e| PortError::permanent("memory:key", e.to_string()))
}

/// The in-memory receipts' bucket: the archive.
const RECEIPTS_BUCKET: &str = "archive";

impl crate::receipt::ports::ReceiptFiles for &InMemory {
    async fn receipt_exists(&self, document_id: &str) -> Result<bool, PortError> {
        Ok(self.receipt_file(document_id).is_some())
    }

    async fn put_receipt(&self, document_id: &str, pdf: &[u8]) -> Result<bool, PortError> {
        let key = (
            RECEIPTS_BUCKET.to_string(),
            format!("receipts/{document_id}.pdf"),
        );
        self.faults.effect("memory:put_receipt", || {
            let mut objects = self.objects.borrow_mut();
            if objects.contains_key(&key) {
                return false;
            }
            let object = StoredObject {
                bytes: pdf.to_vec(),
                metadata: BTreeMap::from([("document-id".to_string(), document_id.to_string())]),
            };
            objects.insert(key, object);
            true
        })
    }

    async fn receipt(&self, document_id: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.receipt_file(document_id))
    }
}

impl InMemory {
    /// A document's receipt file, as stored.
    pub fn receipt_file(&self, document_id: &str) -> Option<Vec<u8>> {
        let key = (
            RECEIPTS_BUCKET.to_string(),
            format!("receipts/{document_id}.pdf"),
        );
        self.objects.borrow().get(&key).map(|o| o.bytes.clone())
    }

    /// The last number of an office's register for a year.
    pub fn register_last(&self, office: &str, year: i16) -> u64 {
        let key = (office.to_string(), year);
        self.registers.borrow().get(&key).copied().unwrap_or(0)
    }
}

impl Documents for &InMemory {
    async fn get(&self, id: &str) -> Result<Option<DocumentRecord>, PortError> {
        Ok(self.document(id))
    }

    async fn set_department(
        &self,
        id: &str,
        department: &str,
        register_number: Option<&str>,
    ) -> Result<bool, PortError> {
        let current = self.document(id);
        self.faults.effect("memory:set_department", || {
            let Some(old) = current.filter(|r| r.department.is_none()) else {
                return false;
            };
            let mut new = old.clone();
            new.department = Some(department.to_string());
            if new.register_number.is_none() {
                new.register_number = register_number.map(str::to_string);
            }
            self.documents
                .borrow_mut()
                .insert(id.to_string(), new.clone());
            self.emit(StreamChange {
                sequence_number: self.next_sequence(),
                event_name: "MODIFY".into(),
                new: Some(new),
                old: Some(old),
                new_batch: None,
                old_batch: None,
            });
            true
        })
    }

    async fn record_register_number(
        &self,
        document_id: &str,
        number: &str,
    ) -> Result<bool, PortError> {
        let Some(old) = self.document(document_id) else {
            return Ok(false);
        };
        // As the table's condition: a number that stands is kept.
        match old.register_number.as_deref() {
            Some(standing) if standing == number => return Ok(true),
            Some(standing) => {
                return Err(PortError::permanent(
                    "memory:record_register_number",
                    format!("{document_id} holds {standing}, not {number}"),
                ));
            }
            None => {}
        }
        self.faults.effect("memory:record_register_number", || {
            let mut new = old.clone();
            new.register_number = Some(number.to_string());
            self.documents
                .borrow_mut()
                .insert(new.id.clone(), new.clone());
            self.emit(StreamChange {
                sequence_number: self.next_sequence(),
                event_name: "MODIFY".into(),
                new: Some(new),
                old: Some(old),
                new_batch: None,
                old_batch: None,
            });
            true
        })
    }
}

impl NotificationLedger for &InMemory {
    async fn notified(&self, subject: &str, department: &str) -> Result<bool, PortError> {
        Ok(self
            .ledger
            .borrow()
            .contains_key(&(subject.to_string(), department.to_string())))
    }

    async fn mark_notified(
        &self,
        subject: &str,
        department: &str,
        at: &str,
    ) -> Result<(), PortError> {
        self.faults.effect("memory:mark_notified", || {
            self.ledger.borrow_mut().insert(
                (subject.to_string(), department.to_string()),
                at.to_string(),
            );
        })
    }
}

impl InMemory {
    /// Changes a batch under a condition, emitting its stream record when it changed.
    fn change_batch(
        &self,
        operation: &'static str,
        station: &str,
        batch_id: &str,
        change: impl FnOnce(&mut BatchRecord) -> bool,
    ) -> Result<bool, PortError> {
        let key = (station.to_string(), batch_id.to_string());
        self.faults.effect(operation, || {
            let Some(old) = self.batches.borrow().get(&key).cloned() else {
                return false;
            };
            let mut new = old.clone();
            if !change(&mut new) {
                return false;
            }
            if new != old {
                self.batches.borrow_mut().insert(key, new.clone());
                self.emit_batch(Some(old), new);
            }
            true
        })
    }
}

impl Batches for &InMemory {
    async fn record_batch_verdict(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        verdict: &str,
    ) -> Result<(), PortError> {
        self.set_batch_entry(
            "memory:record_batch_verdict",
            (station, batch_id),
            |b| &mut b.verdicts,
            name,
            verdict,
        )
    }

    async fn complete_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError> {
        self.change_batch("memory:complete_batch", station, batch_id, |b| {
            if b.state != Some(BatchState::Closed) {
                return false;
            }
            b.state = Some(BatchState::Complete);
            b.completed_at = Some(now.to_string());
            true
        })
    }

    async fn flag_overdue_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError> {
        self.change_batch("memory:flag_overdue_batch", station, batch_id, |b| {
            if b.overdue_at.is_some() || b.state == Some(BatchState::Complete) {
                return false;
            }
            b.overdue_at = Some(now.to_string());
            true
        })
    }

    async fn unfinished_batches(&self) -> Result<Vec<BatchRecord>, PortError> {
        Ok(self
            .batches
            .borrow()
            .values()
            .filter(|b| b.state != Some(BatchState::Complete) && b.overdue_at.is_none())
            .cloned()
            .collect())
    }
}

impl InMemory {
    fn add(&self, day: Date, shard: u32, counters: &[(String, i64)]) {
        let mut all = self.counters.borrow_mut();
        let shard = all.entry((day, shard)).or_default();
        for (name, delta) in counters {
            *shard.entry(name.clone()).or_default() += delta;
        }
    }
}

impl Counters for &InMemory {
    async fn counted(&self, document_id: &str) -> Result<Option<CountMark>, PortError> {
        Ok(self.marks.borrow().get(document_id).cloned())
    }

    async fn count_document(
        &self,
        document_id: &str,
        department: &str,
        day: Date,
        shard: u32,
        counters: &[String],
    ) -> Result<bool, PortError> {
        self.faults.effect("memory:count_document", || {
            if self.marks.borrow().contains_key(document_id) {
                return false;
            }
            self.marks.borrow_mut().insert(
                document_id.to_string(),
                CountMark {
                    day,
                    department: department.to_string(),
                    shard,
                },
            );
            let ones: Vec<(String, i64)> = counters.iter().map(|c| (c.clone(), 1)).collect();
            self.add(day, shard, &ones);
            true
        })
    }

    async fn move_count(
        &self,
        document_id: &str,
        day: Date,
        shard: u32,
        from: &str,
        to: &str,
    ) -> Result<bool, PortError> {
        self.faults.effect("memory:move_count", || {
            let mut marks = self.marks.borrow_mut();
            let Some(mark) = marks.get_mut(document_id).filter(|m| m.department == from) else {
                return false;
            };
            mark.department = to.to_string();
            drop(marks);
            self.add(
                day,
                shard,
                &[
                    (format!("department:{from}"), -1),
                    (format!("department:{to}"), 1),
                ],
            );
            true
        })
    }
}

impl DepartmentCopies for &InMemory {
    async fn copy_for_department(
        &self,
        source: &StorageLocation,
        destination: &StorageLocation,
        _document_id: &str,
        _department: &str,
    ) -> Result<(), PortError> {
        self.faults.effect("memory:copy_for_department", || {
            self.copies.borrow_mut().insert(
                (destination.bucket.clone(), destination.key.clone()),
                (source.bucket.clone(), source.key.clone()),
            );
        })
    }

    async fn remove(&self, location: &StorageLocation) -> Result<(), PortError> {
        self.faults.effect("memory:remove", || {
            self.copies
                .borrow_mut()
                .remove(&(location.bucket.clone(), location.key.clone()));
        })
    }
}

impl InMemory {
    fn publish_json(
        &self,
        department: &str,
        subject: &str,
        body: serde_json::Result<serde_json::Value>,
    ) -> Result<(), PortError> {
        let body = body.map_err(|e| {
            PortError::permanent("memory:publish", format!("encoding the notification: {e}"))
        })?;
        self.faults.effect("memory:publish", || {
            self.published.borrow_mut().push(Published {
                department: department.to_string(),
                subject: subject.to_string(),
                body,
            });
        })
    }
}

impl DepartmentTopic for &InMemory {
    async fn publish(&self, notification: &Notification) -> Result<(), PortError> {
        self.publish_json(
            &notification.department,
            &notification.document_id,
            serde_json::to_value(notification),
        )
    }

    async fn publish_batch(
        &self,
        department: &str,
        subject: &str,
        notification: &BatchNotification,
    ) -> Result<(), PortError> {
        self.publish_json(department, subject, serde_json::to_value(notification))
    }
}

impl Mailer for &InMemory {
    async fn send(&self, notification: &Notification) -> Result<(), PortError> {
        self.faults.effect("memory:send", || {
            self.mails
                .borrow_mut()
                .push(notification.document_id.clone());
        })
    }
}

impl Clock for &InMemory {
    fn now(&self) -> Timestamp {
        self.now.get()
    }
}

impl InMemory {
    /// Puts an object in a bucket, as an upload would.
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        self.objects.borrow_mut().insert(
            (bucket.to_string(), key.to_string()),
            StoredObject {
                bytes: bytes.to_vec(),
                metadata: BTreeMap::new(),
            },
        );
    }

    /// The objects of a bucket, by key.
    pub fn objects(&self, bucket: &str) -> BTreeMap<String, StoredObject> {
        self.objects
            .borrow()
            .iter()
            .filter(|((b, _), _)| b == bucket)
            .map(|((_, key), object)| (key.clone(), object.clone()))
            .collect()
    }

    /// Who holds the claim on these bytes.
    pub fn claim_of(&self, hash: &DocumentHash) -> Option<String> {
        self.claims.borrow().get(&hash.to_hex()).cloned()
    }

    fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        self.objects
            .borrow()
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }
}

impl Verdicts for &InMemory {
    async fn claim_hash(
        &self,
        hash: &DocumentHash,
        document_id: &str,
        _claimed_at: &str,
    ) -> Result<HashClaim, PortError> {
        self.faults.effect("memory:claim_hash", || {
            let mut claims = self.claims.borrow_mut();
            let holder = claims
                .entry(hash.to_hex())
                .or_insert_with(|| document_id.to_string());
            if holder == document_id {
                HashClaim::Original
            } else {
                HashClaim::DuplicateOf(holder.clone())
            }
        })
    }

    async fn record_verdict(&self, record: &DocumentRecord) -> Result<RecordWrite, PortError> {
        let current = self.document(&record.id);
        self.faults.effect("memory:record_verdict", || {
            if current
                .as_ref()
                .is_some_and(|r| r.status != Some(DocumentStatus::Pending))
            {
                return RecordWrite::AlreadyRecorded;
            }
            self.put_document(record.clone());
            RecordWrite::Written
        })
    }
}

impl DocumentBuckets for &InMemory {
    async fn read_document(
        &self,
        bucket: &str,
        key: &str,
        _version_id: Option<&str>,
        limit: u64,
    ) -> Result<ReadDocument, PortError> {
        let object = self.object(bucket, key).ok_or_else(|| {
            PortError::permanent("memory:read_document", format!("NoSuchKey: {bucket}/{key}"))
        })?;
        let mut reader = DocumentReader::new(limit, Some(object.bytes.len() as u64));
        reader.push(&object.bytes);
        Ok(reader.finish())
    }

    async fn read_optional(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<(Option<Vec<u8>>, Option<String>)>, PortError> {
        Ok(self.object(bucket, key).map(|object| {
            let kept = (object.bytes.len() as u64 <= limit).then_some(object.bytes);
            (kept, None)
        }))
    }

    async fn archive(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        _hash: &DocumentHash,
        document_id: &str,
    ) -> Result<(), PortError> {
        self.faults.effect("memory:archive", || {
            // A conditional write: the key is the hash, so an object there holds these bytes.
            self.objects
                .borrow_mut()
                .entry((bucket.to_string(), key.to_string()))
                .or_insert_with(|| StoredObject {
                    bytes,
                    metadata: BTreeMap::from([("document-id".into(), document_id.into())]),
                });
        })
    }

    async fn quarantine(
        &self,
        object: &ObjectCreated,
        destination: &StorageLocation,
        document_id: &str,
        reasons: &str,
    ) -> Result<(), PortError> {
        // A copy of what is not there fails, as S3's does.
        let source = self.object(&object.bucket, &object.key).ok_or_else(|| {
            PortError::permanent(
                "memory:quarantine",
                format!("NoSuchKey: {}/{}", object.bucket, object.key),
            )
        })?;
        self.faults.effect("memory:quarantine", || {
            self.objects.borrow_mut().insert(
                (destination.bucket.clone(), destination.key.clone()),
                StoredObject {
                    bytes: source.bytes,
                    metadata: BTreeMap::from([
                        ("document-id".into(), document_id.into()),
                        ("reasons".into(), reasons.into()),
                    ]),
                },
            );
        })
    }
}

impl crate::report::ports::ReportStore for &InMemory {
    async fn daily_counts(
        &self,
        days: &[Date],
        shards: u32,
    ) -> Result<BTreeMap<Date, crate::report::Counts>, PortError> {
        let all = self.counters.borrow();
        let mut daily: BTreeMap<Date, crate::report::Counts> = BTreeMap::new();
        for day in days {
            for shard in 0..shards {
                if let Some(counters) = all.get(&(*day, shard)) {
                    let counts = crate::report::Counts::from_counters(
                        counters
                            .iter()
                            .map(|(name, n)| (name.as_str(), u64::try_from(*n).unwrap_or(0))),
                    );
                    daily.entry(*day).or_default().add(&counts);
                }
            }
        }
        Ok(daily)
    }

    async fn put_report(
        &self,
        id: &str,
        report_json: &str,
        total: u64,
        _generated_at: &str,
    ) -> Result<(), PortError> {
        self.faults.effect("memory:put_report", || {
            self.reports
                .borrow_mut()
                .insert(id.to_string(), (report_json.to_string(), total));
        })
    }
}

impl crate::report::ports::ReportFiles for &InMemory {
    async fn put_text(
        &self,
        bucket: &str,
        key: &str,
        _content_type: &str,
        body: String,
    ) -> Result<(), PortError> {
        self.faults.effect("memory:put_text", || {
            self.put_object(bucket, key, body.as_bytes())
        })
    }
}

impl crate::report::ports::ManagementNotice for &InMemory {
    async fn publish(&self, subject: &str, text: &str) -> Result<(), PortError> {
        self.faults.effect("memory:publish_summary", || {
            self.summaries
                .borrow_mut()
                .push((subject.to_string(), text.to_string()));
        })
    }
}

impl InMemory {
    /// A stored report's JSON and total.
    pub fn report(&self, id: &str) -> Option<(String, u64)> {
        self.reports.borrow().get(id).cloned()
    }

    /// The summaries told to management, oldest first (subject, text).
    pub fn summaries(&self) -> Vec<(String, String)> {
        self.summaries.borrow().clone()
    }

    /// Adds to a day's counter as counting does (for a day's history in a test).
    pub fn add_counts(&self, day: Date, shard: u32, counters: &[(String, i64)]) {
        self.add(day, shard, counters);
    }
}

/// As many file names as a batch item takes (the adapter's bound, for the item's size).
const MOST_BATCH_NAMES: usize = crate::station::MAX_BATCH_FILES + 50;

/// Whether a batch takes an entry under `name` in one of its maps, as the adapter's condition
/// has it: not once complete, nor past as many names as the item takes.
fn takes_name(batch_state: Option<BatchState>, map: &BTreeMap<String, String>, name: &str) -> bool {
    batch_state != Some(BatchState::Complete)
        && (map.len() < MOST_BATCH_NAMES || map.contains_key(name))
}

impl InMemory {
    /// Sets a batch's entry under `name` in the map `entries` picks, when the batch takes it
    /// (a refused entry is no error, as with the adapter).
    fn set_batch_entry(
        &self,
        operation: &'static str,
        (station, batch_id): (&str, &str),
        entries: fn(&mut BatchRecord) -> &mut BTreeMap<String, String>,
        name: &str,
        value: &str,
    ) -> Result<(), PortError> {
        self.change_batch(operation, station, batch_id, |b| {
            let state = b.state;
            let map = entries(b);
            if !takes_name(state, map, name) {
                return false;
            }
            map.insert(name.to_string(), value.to_string());
            true
        })
        .map(|_| ())
    }
}

impl crate::station::ports::BatchDesk for &InMemory {
    async fn open_batch(
        &self,
        station: &str,
        batch_id: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<crate::station::ports::BatchOpening, PortError> {
        use crate::station::ports::BatchOpening;
        if let Some(existing) = InMemory::batch(self, station, batch_id) {
            return Ok(BatchOpening::Existing(existing));
        }
        let batch = BatchRecord {
            station: station.to_string(),
            batch_id: batch_id.to_string(),
            state: Some(BatchState::Open),
            service: service.map(str::to_string),
            opened_at: Some(now.to_string()),
            ..BatchRecord::default()
        };
        self.faults.effect("memory:open_batch", || {
            self.put_batch(batch.clone());
            BatchOpening::Opened(batch)
        })
    }

    async fn batch(&self, station: &str, batch_id: &str) -> Result<Option<BatchRecord>, PortError> {
        Ok(InMemory::batch(self, station, batch_id))
    }

    async fn assign_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        candidate: &str,
    ) -> Result<Option<String>, PortError> {
        let mut given = None;
        self.change_batch("memory:assign_batch_file", station, batch_id, |b| {
            if !takes_name(b.state, &b.files, name) {
                return false;
            }
            let id = b
                .files
                .entry(name.to_string())
                .or_insert_with(|| candidate.to_string());
            given = Some(id.clone());
            true
        })?;
        Ok(given)
    }

    async fn refuse_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        reason: &str,
    ) -> Result<(), PortError> {
        self.set_batch_entry(
            "memory:refuse_batch_file",
            (station, batch_id),
            |b| &mut b.refused,
            name,
            reason,
        )
    }

    async fn close_batch(
        &self,
        station: &str,
        batch_id: &str,
        manifest: &str,
        manifest_sha256: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<crate::station::ports::BatchClosing, PortError> {
        use crate::station::ports::BatchClosing;
        let closed = self.change_batch("memory:close_batch", station, batch_id, |b| {
            if b.state != Some(BatchState::Open) {
                return false;
            }
            b.state = Some(BatchState::Closed);
            b.manifest = Some(manifest.to_string());
            b.manifest_sha256 = Some(manifest_sha256.to_string());
            b.closed_at = Some(now.to_string());
            if let Some(service) = service {
                b.service = Some(service.to_string());
            }
            true
        })?;
        Ok(match InMemory::batch(self, station, batch_id) {
            _ if closed => BatchClosing::Closed,
            None => BatchClosing::Unknown,
            Some(b) if b.manifest_sha256.as_deref() == Some(manifest_sha256) => {
                BatchClosing::AlreadyClosed(b)
            }
            Some(b) => BatchClosing::ClosedWithAnotherManifest(b),
        })
    }
}

impl crate::upload::ports::PendingRecords for &InMemory {
    async fn create_pending(&self, record: &DocumentRecord) -> Result<bool, PortError> {
        if self.documents.borrow().contains_key(&record.id) {
            return Ok(false);
        }
        self.faults.effect("memory:create_pending", || {
            self.put_document(record.clone());
            true
        })
    }
}

impl crate::upload::ports::UploadForms for &InMemory {
    async fn presign_upload(
        &self,
        spec: &crate::upload::PostPolicySpec<'_>,
        now: Timestamp,
    ) -> Result<crate::upload::PresignedPost, PortError> {
        // The real form, signed with test credentials.
        let credentials = crate::upload::SigningCredentials {
            access_key_id: "memory".into(),
            secret_access_key: "memory".into(),
            session_token: None,
        };
        let url = format!("memory://{}", spec.bucket);
        Ok(crate::upload::presign_post(
            spec,
            &url,
            "eu-central-1",
            &credentials,
            crate::domain::time::system_time(now),
        ))
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, PortError> {
        Ok(self.object(bucket, key).is_some())
    }
}

impl crate::station::ports::StationKeyring for &InMemory {
    async fn key(&self, station: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.station_keys.borrow().get(station).cloned())
    }
}

impl InMemory {
    /// Gives a station its signing key.
    pub fn put_station_key(&self, station: &str, key: &[u8]) {
        self.station_keys
            .borrow_mut()
            .insert(station.to_string(), key.to_vec());
    }
}
