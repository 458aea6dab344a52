//! The AWS adapters as the library's ports ([`crate::ports`]): each trait method is the
//! adapter's own operation of the same name.

use jiff::civil::Date;

use super::counters::CountsTable;
use super::dynamodb::DocumentTable;
use super::s3::DocumentStore;
use super::sns::{EmailTopic, NotificationTopic};
use crate::domain::model::{DocumentRecord, StorageLocation};
use crate::engine::hashing::{DocumentHash, ReadDocument};
use crate::notification::Notification;
use crate::notification::ports::{
    Batches, CountMark, Counters, DepartmentCopies, DepartmentTopic, Mailer, NotificationLedger,
};
use crate::ports::{Documents, PortError};
use crate::station::{BatchNotification, BatchRecord};
use crate::validation::ports::{DocumentBuckets, HashClaim, RecordWrite, Verdicts};
use crate::validation::s3_event::ObjectCreated;

impl crate::register::ports::RegisterBook for super::register::RegisterTable {
    async fn last_number(&self, office: &str, year: i16) -> Result<u64, PortError> {
        super::register::RegisterTable::last_number(self, office, year).await
    }

    async fn enter(
        &self,
        office: &str,
        year: i16,
        last: u64,
        entries: &[(String, String)],
    ) -> Result<crate::register::ports::Entered, PortError> {
        super::register::RegisterTable::enter(self, office, year, last, entries).await
    }

    async fn number_of(&self, document_id: &str) -> Result<Option<String>, PortError> {
        super::register::RegisterTable::number_of(self, document_id).await
    }
}

impl crate::receipt::ports::ReceiptFiles for super::s3::ReceiptStore {
    async fn receipt_exists(&self, document_id: &str) -> Result<bool, PortError> {
        super::s3::ReceiptStore::receipt_exists(self, document_id).await
    }

    async fn put_receipt(&self, document_id: &str, pdf: &[u8]) -> Result<bool, PortError> {
        super::s3::ReceiptStore::put_receipt(self, document_id, pdf).await
    }

    async fn receipt(&self, document_id: &str) -> Result<Option<Vec<u8>>, PortError> {
        super::s3::ReceiptStore::receipt(self, document_id).await
    }
}

impl crate::receipt::ports::ReceiptKey for super::kms::ReceiptSigningKey {
    async fn public_key(&self) -> Result<Vec<u8>, PortError> {
        super::kms::ReceiptSigningKey::public_key(self).await
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError> {
        super::kms::ReceiptSigningKey::sign(self, message).await
    }
}

impl crate::receipt::ports::TimestampAuthority for super::tsa::HttpTimestampAuthority {
    fn url(&self) -> &str {
        super::tsa::HttpTimestampAuthority::url(self)
    }

    async fn stamp(&self, request: &[u8]) -> Result<Vec<u8>, PortError> {
        super::tsa::HttpTimestampAuthority::stamp(self, request).await
    }
}

impl Documents for DocumentTable {
    async fn get(&self, id: &str) -> Result<Option<DocumentRecord>, PortError> {
        DocumentTable::get(self, id).await
    }

    async fn set_department(
        &self,
        id: &str,
        department: &str,
        register_number: Option<&str>,
    ) -> Result<bool, PortError> {
        DocumentTable::set_department(self, id, department, register_number).await
    }

    async fn record_register_number(&self, id: &str, number: &str) -> Result<bool, PortError> {
        DocumentTable::record_register_number(self, id, number).await
    }
}

impl NotificationLedger for DocumentTable {
    async fn notified(&self, subject: &str, department: &str) -> Result<bool, PortError> {
        DocumentTable::notified(self, subject, department).await
    }

    async fn mark_notified(
        &self,
        subject: &str,
        department: &str,
        at: &str,
    ) -> Result<(), PortError> {
        DocumentTable::mark_notified(self, subject, department, at).await
    }
}

impl Batches for DocumentTable {
    async fn record_batch_verdict(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        verdict: &str,
    ) -> Result<(), PortError> {
        DocumentTable::record_batch_verdict(self, station, batch_id, name, verdict).await
    }

    async fn complete_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError> {
        DocumentTable::complete_batch(self, station, batch_id, now).await
    }

    async fn flag_overdue_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, PortError> {
        DocumentTable::flag_overdue_batch(self, station, batch_id, now).await
    }

    async fn unfinished_batches(&self) -> Result<Vec<BatchRecord>, PortError> {
        DocumentTable::unfinished_batches(self).await
    }
}

impl Counters for CountsTable {
    async fn counted(&self, document_id: &str) -> Result<Option<CountMark>, PortError> {
        CountsTable::counted(self, document_id).await
    }

    async fn count_document(
        &self,
        document_id: &str,
        department: &str,
        day: Date,
        shard: u32,
        counters: &[String],
    ) -> Result<bool, PortError> {
        CountsTable::count_document(self, document_id, department, day, shard, counters).await
    }

    async fn move_count(
        &self,
        document_id: &str,
        day: Date,
        shard: u32,
        from: &str,
        to: &str,
    ) -> Result<bool, PortError> {
        CountsTable::move_count(self, document_id, day, shard, from, to).await
    }
}

impl DepartmentCopies for DocumentStore {
    async fn copy_for_department(
        &self,
        source: &StorageLocation,
        destination: &StorageLocation,
        document_id: &str,
        department: &str,
    ) -> Result<(), PortError> {
        DocumentStore::copy_for_department(self, source, destination, document_id, department).await
    }

    async fn remove(&self, location: &StorageLocation) -> Result<(), PortError> {
        DocumentStore::remove(self, location).await
    }
}

impl DepartmentTopic for NotificationTopic {
    async fn publish(&self, notification: &Notification) -> Result<(), PortError> {
        NotificationTopic::publish(self, notification).await
    }

    async fn publish_batch(
        &self,
        department: &str,
        subject: &str,
        notification: &BatchNotification,
    ) -> Result<(), PortError> {
        self.publish_message(department, subject, notification)
            .await
    }
}

impl Mailer for EmailTopic {
    async fn send(&self, notification: &Notification) -> Result<(), PortError> {
        self.publish(notification).await
    }
}

impl Verdicts for DocumentTable {
    async fn claim_hash(
        &self,
        hash: &DocumentHash,
        document_id: &str,
        claimed_at: &str,
    ) -> Result<HashClaim, PortError> {
        DocumentTable::claim_hash(self, hash, document_id, claimed_at).await
    }

    async fn record_verdict(&self, record: &DocumentRecord) -> Result<RecordWrite, PortError> {
        DocumentTable::record_verdict(self, record).await
    }
}

impl DocumentBuckets for DocumentStore {
    async fn read_document(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        limit: u64,
    ) -> Result<ReadDocument, PortError> {
        DocumentStore::read_document(self, bucket, key, version_id, limit).await
    }

    async fn read_optional(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> Result<Option<(Option<Vec<u8>>, Option<String>)>, PortError> {
        DocumentStore::read_optional(self, bucket, key, limit).await
    }

    async fn archive(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        hash: &DocumentHash,
        document_id: &str,
    ) -> Result<(), PortError> {
        DocumentStore::archive(self, bucket, key, bytes, hash, document_id).await
    }

    async fn quarantine(
        &self,
        object: &ObjectCreated,
        destination: &StorageLocation,
        document_id: &str,
        reasons: &str,
    ) -> Result<(), PortError> {
        DocumentStore::quarantine(self, object, destination, document_id, reasons).await
    }
}

impl crate::report::ports::ReportStore for CountsTable {
    async fn daily_counts(
        &self,
        days: &[Date],
        shards: u32,
    ) -> Result<std::collections::BTreeMap<Date, crate::report::Counts>, PortError> {
        CountsTable::daily_counts(self, days, shards).await
    }

    async fn put_report(
        &self,
        id: &str,
        report_json: &str,
        total: u64,
        generated_at: &str,
    ) -> Result<(), PortError> {
        CountsTable::put_report(self, id, report_json, total, generated_at).await
    }
}

impl crate::report::ports::ReportFiles for DocumentStore {
    async fn put_text(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: String,
    ) -> Result<(), PortError> {
        DocumentStore::put_text(self, bucket, key, content_type, body).await
    }
}

impl crate::report::ports::ManagementNotice for super::sns::ManagementTopic {
    async fn publish(&self, subject: &str, text: &str) -> Result<(), PortError> {
        super::sns::ManagementTopic::publish(self, subject, text).await
    }
}

impl crate::upload::ports::PendingRecords for DocumentTable {
    async fn create_pending(&self, record: &DocumentRecord) -> Result<bool, PortError> {
        DocumentTable::create_pending(self, record).await
    }
}

impl crate::upload::ports::UploadForms for DocumentStore {
    async fn presign_upload(
        &self,
        spec: &crate::upload::PostPolicySpec<'_>,
        now: crate::domain::time::Timestamp,
    ) -> Result<crate::upload::PresignedPost, PortError> {
        DocumentStore::presign_upload(self, spec, now).await
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, PortError> {
        DocumentStore::exists(self, bucket, key).await
    }
}

impl crate::station::ports::BatchDesk for DocumentTable {
    async fn open_batch(
        &self,
        station: &str,
        batch_id: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<crate::station::ports::BatchOpening, PortError> {
        DocumentTable::open_batch(self, station, batch_id, service, now).await
    }

    async fn batch(&self, station: &str, batch_id: &str) -> Result<Option<BatchRecord>, PortError> {
        DocumentTable::batch(self, station, batch_id).await
    }

    async fn assign_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        candidate: &str,
    ) -> Result<Option<String>, PortError> {
        DocumentTable::assign_batch_file(self, station, batch_id, name, candidate).await
    }

    async fn refuse_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        reason: &str,
    ) -> Result<(), PortError> {
        DocumentTable::refuse_batch_file(self, station, batch_id, name, reason).await
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
        DocumentTable::close_batch(
            self,
            station,
            batch_id,
            manifest,
            manifest_sha256,
            service,
            now,
        )
        .await
    }
}

impl crate::station::ports::StationKeyring for super::ssm::StationKeys {
    async fn key(&self, station: &str) -> Result<Option<Vec<u8>>, PortError> {
        super::ssm::StationKeys::key(self, station).await
    }
}
