//! The AWS adapters as the library's ports ([`crate::ports`]): each trait method is the
//! adapter's own operation of the same name.

use jiff::civil::Date;

use super::counters::CountsTable;
use super::dynamodb::DocumentTable;
use super::s3::DocumentStore;
use super::sns::{EmailTopic, NotificationTopic};
use crate::hashing::{DocumentHash, ReadDocument};
use crate::model::{DocumentRecord, StorageLocation};
use crate::notification::Notification;
use crate::ports::{
    Batches, CountMark, Counters, DepartmentCopies, DepartmentTopic, DocumentBuckets, Documents,
    HashClaim, Mailer, NotificationLedger, PortError, RecordWrite, Verdicts,
};
use crate::s3_event::ObjectCreated;
use crate::station::{BatchNotification, BatchRecord};

impl Documents for DocumentTable {
    async fn get(&self, id: &str) -> Result<Option<DocumentRecord>, PortError> {
        DocumentTable::get(self, id).await
    }

    async fn set_department(&self, id: &str, department: &str) -> Result<bool, PortError> {
        DocumentTable::set_department(self, id, department).await
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
