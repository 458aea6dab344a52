//! DynamoDB: the documents table.
//!
//! One table holds two kinds of item:
//! - a document (`id` = document id), indexed by `sha256`, by `department` and by `received_day`
//!   (all three global secondary indexes sort on `received_at`, and are sparse: a pending upload
//!   appears in none of them);
//! - a hash claim (`id` = `sha256#<hex>`), written once by the first document with those bytes:
//!   the conditional write on it is what makes duplicate detection race-free.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{Aws, AwsError};
use crate::domain::model::{
    Channel, DocumentRecord, DocumentStatus, Finding, ReasonCode, Severity, StorageLocation,
};
use crate::engine::hashing::DocumentHash;

/// Index of documents by SHA-256.
pub const INDEX_BY_SHA256: &str = "by_sha256";
/// Index of documents by department, sorted by received time.
pub const INDEX_BY_DEPARTMENT: &str = "by_department";
/// Index of documents by Warsaw calendar day, sorted by received time.
pub const INDEX_BY_DAY: &str = "by_day";

pub(super) type Item = HashMap<String, AttributeValue>;

/// The outcomes of claiming a document's hash and of writing a verdict (the ports' types).
pub use crate::validation::ports::{HashClaim, RecordWrite};

/// The documents table.
#[derive(Clone, Debug)]
pub struct DocumentTable {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

pub(super) fn dynamo_error<E>(
    operation: &'static str,
    err: &aws_sdk_dynamodb::error::SdkError<E>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // The SDKs share one error type; one describer serves both.
    AwsError::new(operation, err)
}

pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(
    err: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

impl DocumentTable {
    /// An adapter over `table`.
    pub fn new(aws: &Aws, table: impl Into<String>) -> Self {
        DocumentTable {
            client: aws_sdk_dynamodb::Client::new(&aws.config),
            table: table.into(),
        }
    }

    /// Creates the pending record of a requested upload unless a record with its id exists
    /// (`false` then).
    pub async fn create_pending(&self, record: &DocumentRecord) -> Result<bool, AwsError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error("dynamodb:PutItem", &e)),
        }
    }

    /// Reads a document's record (strongly consistent).
    pub async fn get(&self, id: &str) -> Result<Option<DocumentRecord>, AwsError> {
        let response = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        Ok(response
            .item
            .filter(|item| str_attr(item, "kind") == Some("document"))
            .map(|item| from_item(&item)))
    }

    /// Claims `hash` for `document_id`: succeeds for the first document with these bytes and
    /// again for the same document (a retry); any other document learns whose they are.
    pub async fn claim_hash(
        &self,
        hash: &DocumentHash,
        document_id: &str,
        claimed_at: &str,
    ) -> Result<HashClaim, AwsError> {
        let claim_id = format!("sha256#{}", hash.to_hex());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(claim_id.clone()))
            .item("kind", AttributeValue::S("hash_claim".into()))
            .item("original_id", AttributeValue::S(document_id.to_string()))
            .item("claimed_at", AttributeValue::S(claimed_at.to_string()))
            .condition_expression("attribute_not_exists(id) OR original_id = :me")
            .expression_attribute_values(":me", AttributeValue::S(document_id.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(HashClaim::Original),
            Err(e) if is_condition_failure(&e) => {
                let holder = match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed
                        .item()
                        .and_then(|item| str_attr(item, "original_id"))
                        .map(str::to_string),
                    _ => None,
                };
                let holder = match holder {
                    Some(h) => h,
                    // Not every DynamoDB returns the old item on a failed condition; the claim
                    // never changes once written, so reading it is safe.
                    None => self.claim_holder(&claim_id).await?,
                };
                Ok(HashClaim::DuplicateOf(holder))
            }
            Err(e) => Err(dynamo_error("dynamodb:PutItem", &e)),
        }
    }

    async fn claim_holder(&self, claim_id: &str) -> Result<String, AwsError> {
        let response = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(claim_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        response
            .item
            .as_ref()
            .and_then(|item| str_attr(item, "original_id"))
            .map(str::to_string)
            .ok_or_else(|| {
                AwsError::permanent(
                    "dynamodb:GetItem",
                    format!("hash claim {claim_id} has no original_id"),
                )
            })
    }

    /// Writes a document's verdict once: over its pending record, or as a new record for an
    /// object that arrived without one. A record that already holds a verdict is left as it is.
    pub async fn record_verdict(&self, record: &DocumentRecord) -> Result<RecordWrite, AwsError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(id) OR #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(DocumentStatus::Pending.as_str().into()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(RecordWrite::Written),
            Err(e) if is_condition_failure(&e) => Ok(RecordWrite::AlreadyRecorded),
            Err(e) => Err(dynamo_error("dynamodb:PutItem", &e)),
        }
    }

    /// Writes the routed department into a judged document's record, unless one is there
    /// already (an operator's or an earlier run's stands): `false` then, or when there is no
    /// such record.
    pub async fn set_department(
        &self,
        id: &str,
        department: &str,
        register_number: Option<&str>,
    ) -> Result<bool, AwsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.into()))
            .condition_expression("attribute_exists(id) AND attribute_not_exists(department)")
            .expression_attribute_values(":department", AttributeValue::S(department.into()));
        update = match register_number {
            // A number standing there already is the register's own: it stays.
            Some(number) => update
                .update_expression(
                    "SET department = :department, register_number = if_not_exists(register_number, :number)",
                )
                .expression_attribute_values(":number", AttributeValue::S(number.into())),
            None => update.update_expression("SET department = :department"),
        };
        let result = update.send().await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Writes a document's number into its item, unless it holds it already (then nothing is
    /// written, and the stream gets no record). `false` when there is no such document.
    pub async fn record_register_number(
        &self,
        document_id: &str,
        number: &str,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(document_id.into()))
            .update_expression("SET register_number = :number")
            .condition_expression("attribute_exists(id) AND attribute_not_exists(register_number)")
            .expression_attribute_values(":number", AttributeValue::S(number.into()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(true),
            Err(e) if is_condition_failure(&e) => e,
            Err(e) => return Err(dynamo_error("dynamodb:UpdateItem", &e)),
        };
        let standing = err
            .as_service_error()
            .and_then(|e| match e {
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                    c.item()
                }
                _ => None,
            })
            .map(|item| item.get("register_number").and_then(|v| v.as_s().ok()).cloned());
        match standing {
            // No such document.
            None => Ok(false),
            Some(Some(standing)) if standing == number => Ok(true),
            // The register's marks give each document one number: another one here is a
            // damaged record, for the operators.
            Some(other) => Err(AwsError::permanent(
                "dynamodb:UpdateItem",
                format!(
                    "document {document_id} holds register number {other:?}, the register gave it {number}"
                ),
            )),
        }
    }

    /// Moves a judged document to another department, if it is still in `from` (so two
    /// operators cannot overwrite each other's move unseen), recording who did it and the
    /// history. notify then tells the new department.
    pub async fn move_department(
        &self,
        id: &str,
        from: Option<&str>,
        to: &str,
        by: &str,
        history_json: &str,
    ) -> Result<bool, AwsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.into()))
            .update_expression(
                "SET department = :to, reclassified_by = :by, department_history = :history",
            )
            .expression_attribute_values(":to", AttributeValue::S(to.into()))
            .expression_attribute_values(":by", AttributeValue::S(by.into()))
            .expression_attribute_values(":history", AttributeValue::S(history_json.into()));
        update = match from {
            Some(from) => update
                .condition_expression("attribute_exists(id) AND department = :from")
                .expression_attribute_values(":from", AttributeValue::S(from.into())),
            None => update
                .condition_expression("attribute_exists(id) AND attribute_not_exists(department)"),
        };
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Whether the (document, department) notification is in the ledger.
    pub async fn notified(&self, document_id: &str, department: &str) -> Result<bool, AwsError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(ledger_id(document_id, department)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        Ok(item.item.is_some())
    }

    /// Enters a sent notification in the ledger.
    pub async fn mark_notified(
        &self,
        document_id: &str,
        department: &str,
        at: &str,
    ) -> Result<(), AwsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(ledger_id(document_id, department)))
            .item("document_id", AttributeValue::S(document_id.into()))
            .item("notified_department", AttributeValue::S(department.into()))
            .item("notified_at", AttributeValue::S(at.into()))
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:PutItem", &e))?;
        Ok(())
    }

    /// Every document recorded with these bytes, oldest first.
    pub async fn find_by_sha256(
        &self,
        hash: &DocumentHash,
    ) -> Result<Vec<DocumentRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let response = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INDEX_BY_SHA256)
                .key_condition_expression("sha256 = :h")
                .expression_attribute_values(":h", AttributeValue::S(hash.to_hex()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| dynamo_error("dynamodb:Query", &e))?;
            records.extend(response.items().iter().map(from_item));
            match response.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(records),
            }
        }
    }
}

/// The ledger item of a (document, department) notification.
/// A string attribute.
pub(super) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

/// A transaction item the SDK's builder refused (a missing required field: our own fault).
pub(super) fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, AwsError> {
    result.map_err(|e| AwsError::permanent("dynamodb:TransactWriteItems", e.to_string()))
}

fn ledger_id(document_id: &str, department: &str) -> String {
    format!("notified#{document_id}#{department}")
}

pub use crate::notification::StreamChange;

/// Reads a DynamoDB stream event (Lambda's JSON, read with `aws_lambda_events`' types; the
/// images converted to the SDK's items by `serde_dynamo`). A record that cannot be read is
/// returned as an error with its sequence number when there is one.
pub fn parse_stream_event(
    event: &serde_json::Value,
) -> Vec<Result<StreamChange, crate::notification::notifier::UnreadableRecord>> {
    let Some(records) = event.get("Records").and_then(|r| r.as_array()) else {
        return vec![Err((None, "the event has no Records".into()))];
    };
    records
        .iter()
        .map(|raw| {
            let sequence_number = raw
                .pointer("/dynamodb/SequenceNumber")
                .and_then(|s| s.as_str())
                .map(str::to_string);
            // One record at a time, so that one unreadable record is reported as itself.
            let record: aws_lambda_events::dynamodb::EventRecord =
                serde_json::from_value(raw.clone()).map_err(|_| {
                    (
                        sequence_number.clone(),
                        "an unreadable stream record".to_string(),
                    )
                })?;
            let Some(sequence) = sequence_number else {
                return Err((None, "a record without a sequence number".into()));
            };
            let image = |item: serde_dynamo::Item| -> Option<Item> {
                (!item.is_empty()).then(|| item.into())
            };
            let new = image(record.change.new_image);
            let old = image(record.change.old_image);
            let batch = |item: &Option<Item>| {
                item.as_ref()
                    .filter(|i| str_attr(i, "id").is_some_and(super::batches::is_batch_item))
                    .map(super::batches::batch_from_item)
            };
            Ok(StreamChange {
                sequence_number: sequence,
                event_name: record.event_name,
                new_batch: batch(&new),
                old_batch: batch(&old),
                new: new.as_ref().map(from_item),
                old: old.as_ref().map(from_item),
            })
        })
        .collect()
}

pub(super) fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(super) fn num_attr(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// A record as a DynamoDB item. Unset fields are left out, which keeps the indexes sparse.
pub fn to_item(record: &DocumentRecord) -> Item {
    let mut item = Item::new();
    let mut s = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            item.insert(name.to_string(), AttributeValue::S(v.to_string()));
        }
    };
    s("id", Some(&record.id));
    s("kind", Some("document"));
    s("channel", record.channel.map(Channel::as_str));
    s("service", record.service.as_deref());
    s("department", record.department.as_deref());
    s("site", record.site.as_deref());
    s("reclassified_by", record.reclassified_by.as_deref());
    s("department_history", record.department_history.as_deref());
    s("status", record.status.map(DocumentStatus::as_str));
    s("file_name", record.file_name.as_deref());
    s("applicant_reference", record.applicant_reference.as_deref());
    s("declared_sha256", record.declared_sha256.as_deref());
    s("created_at", record.created_at.as_deref());
    s("sha256", record.sha256.as_deref());
    s("pdf_version", record.pdf_version.as_deref());
    s("pdf_facts", record.pdf_facts.as_deref());
    s("signature_status", record.signature_status.as_deref());
    s("signatures", record.signatures.as_deref());
    s("detached_signature", record.detached_signature.as_deref());
    s(
        "detached_signature_stored",
        record.detached_signature_stored.as_deref(),
    );
    s("received_at", record.received_at.as_deref());
    s("received_day", record.received_day.as_deref());
    s("validated_at", record.validated_at.as_deref());
    s("duplicate_of", record.duplicate_of.as_deref());
    s("register_number", record.register_number.as_deref());
    s("batch_id", record.batch_id.as_deref());
    s("envelope", record.envelope.as_deref());
    s("scanned_at", record.scanned_at.as_deref());
    s("operator", record.operator.as_deref());
    s(
        "storage_bucket",
        record.storage.as_ref().map(|l| l.bucket.as_str()),
    );
    s(
        "storage_key",
        record.storage.as_ref().map(|l| l.key.as_str()),
    );
    let mut n = |name: &str, value: Option<u64>| {
        if let Some(v) = value {
            item.insert(name.to_string(), AttributeValue::N(v.to_string()));
        }
    };
    n("declared_size", record.declared_size);
    n("size", record.size);
    n("pages", record.pages.map(u64::from));
    n("declared_pages", record.declared_pages.map(u64::from));
    if !record.findings.is_empty() {
        let findings = record
            .findings
            .iter()
            .map(|f| {
                AttributeValue::M(HashMap::from([
                    (
                        "code".to_string(),
                        AttributeValue::S(f.code.as_str().into()),
                    ),
                    (
                        "severity".to_string(),
                        AttributeValue::S(f.severity.as_str().into()),
                    ),
                    ("message".to_string(), AttributeValue::S(f.message.clone())),
                ]))
            })
            .collect();
        item.insert("findings".to_string(), AttributeValue::L(findings));
    }
    item
}

/// A record from a DynamoDB item. Unknown or malformed attributes read as unset; a finding with
/// a code this build does not know is kept out rather than failing the read.
pub fn from_item(item: &Item) -> DocumentRecord {
    let s = |name: &str| str_attr(item, name).map(str::to_string);
    let storage = match (s("storage_bucket"), s("storage_key")) {
        (Some(bucket), Some(key)) => Some(StorageLocation { bucket, key }),
        _ => None,
    };
    let findings = item
        .get("findings")
        .and_then(|v| v.as_l().ok())
        .map(|list| list.iter().filter_map(finding_from_attr).collect())
        .unwrap_or_default();
    DocumentRecord {
        id: s("id").unwrap_or_default(),
        channel: str_attr(item, "channel").and_then(Channel::parse),
        service: s("service"),
        department: s("department"),
        site: s("site"),
        reclassified_by: s("reclassified_by"),
        department_history: s("department_history"),
        status: str_attr(item, "status").and_then(DocumentStatus::parse),
        file_name: s("file_name"),
        applicant_reference: s("applicant_reference"),
        declared_size: num_attr(item, "declared_size"),
        declared_sha256: s("declared_sha256"),
        created_at: s("created_at"),
        sha256: s("sha256"),
        size: num_attr(item, "size"),
        pages: num_attr(item, "pages").and_then(|p| u32::try_from(p).ok()),
        pdf_version: s("pdf_version"),
        pdf_facts: s("pdf_facts"),
        signature_status: s("signature_status"),
        signatures: s("signatures"),
        detached_signature: s("detached_signature"),
        detached_signature_stored: s("detached_signature_stored"),
        received_at: s("received_at"),
        received_day: s("received_day"),
        validated_at: s("validated_at"),
        findings,
        storage,
        duplicate_of: s("duplicate_of"),
        register_number: s("register_number"),
        batch_id: s("batch_id"),
        envelope: s("envelope"),
        scanned_at: s("scanned_at"),
        operator: s("operator"),
        declared_pages: num_attr(item, "declared_pages").and_then(|p| u32::try_from(p).ok()),
    }
}

fn finding_from_attr(value: &AttributeValue) -> Option<Finding> {
    let map = value.as_m().ok()?;
    let code: ReasonCode = serde_json::from_value(serde_json::Value::String(
        str_attr(map, "code")?.to_string(),
    ))
    .ok()?;
    let severity = Severity::parse(str_attr(map, "severity")?)?;
    Some(Finding {
        code,
        severity,
        message: str_attr(map, "message").unwrap_or("").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_an_item() {
        let record = DocumentRecord {
            id: "0190a6f0-0000-7000-8000-000000000001".into(),
            channel: Some(Channel::Web),
            service: Some("child-benefit".into()),
            status: Some(DocumentStatus::Rejected),
            file_name: Some("wniosek żółw.pdf".into()),
            declared_size: Some(10),
            size: Some(11),
            pages: Some(2),
            received_at: Some("2020-03-16T09:30:00.000Z".into()),
            received_day: Some("2020-03-16".into()),
            findings: vec![
                Finding::warning(ReasonCode::SizeMismatch, "size"),
                Finding::reject(ReasonCode::NoPages, "no pages"),
            ],
            storage: Some(StorageLocation {
                bucket: "q".into(),
                key: "web/x".into(),
            }),
            batch_id: Some("b-1".into()),
            envelope: Some("K-1".into()),
            scanned_at: Some("2026-11-25T08:00:00Z".into()),
            operator: Some("op".into()),
            declared_pages: Some(3),
            ..Default::default()
        };
        let item = to_item(&record);
        assert!(!item.contains_key("department"), "unset fields stay out");
        assert!(!item.contains_key("sha256"), "sparse index keys stay out");
        assert_eq!(from_item(&item), record);
    }

    /// A stream record as Lambda delivers it, with `dynamodb` fields added to the usual ones.
    fn lambda_record(sequence: &str, name: &str, dynamodb: serde_json::Value) -> serde_json::Value {
        let mut change = serde_json::json!({
            "ApproximateCreationDateTime": 1_764_583_200.0,
            "SequenceNumber": sequence,
            "SizeBytes": 120,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if let (Some(change), Some(extra)) = (change.as_object_mut(), dynamodb.as_object()) {
            change.extend(extra.clone());
        }
        serde_json::json!({
            "eventID": format!("e-{sequence}"),
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-central-1",
            "dynamodb": change,
            "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/t/stream/x",
        })
    }

    #[test]
    fn stream_records_are_read_as_lambda_sends_them() {
        let record = DocumentRecord {
            id: "d-1".into(),
            status: Some(DocumentStatus::Accepted),
            size: Some(11),
            findings: vec![Finding::warning(ReasonCode::SizeMismatch, "size")],
            ..Default::default()
        };
        let pending = DocumentRecord {
            status: Some(DocumentStatus::Pending),
            findings: Vec::new(),
            ..record.clone()
        };
        let image = |r: &DocumentRecord| {
            let item: serde_dynamo::Item = to_item(r).into();
            serde_json::to_value(item).expect("JSON")
        };
        let event = serde_json::json!({ "Records": [
            lambda_record("111", "MODIFY", serde_json::json!({
                "Keys": { "id": { "S": "d-1" } },
                "NewImage": image(&record),
                "OldImage": image(&pending),
            })),
            lambda_record("222", "REMOVE", serde_json::json!({
                "Keys": { "id": { "S": "d-1" } },
                "OldImage": image(&record),
            })),
            lambda_record("333", "INSERT", serde_json::json!({
                "Keys": { "id": { "S": "batch#mogilska#b-1" } },
                "NewImage": {
                    "id": { "S": "batch#mogilska#b-1" }, "station": { "S": "mogilska" },
                    "batch_id": { "S": "b-1" }, "state": { "S": "open" },
                },
            })),
            { "eventName": "MODIFY", "dynamodb": { "SequenceNumber": "444", "NewImage": { "id": { "X": 1 } } } },
            { "eventName": "MODIFY" },
        ] });
        let changes = parse_stream_event(&event);
        assert_eq!(changes.len(), 5);
        let modify = changes[0].as_ref().expect("read");
        assert_eq!(modify.sequence_number, "111");
        assert_eq!(modify.new.as_ref(), Some(&record));
        assert_eq!(modify.old.as_ref(), Some(&pending));
        let remove = changes[1].as_ref().expect("read");
        assert!(remove.new.is_none() && remove.old.is_some());
        let batch = changes[2].as_ref().expect("read");
        assert_eq!(
            batch.new_batch.as_ref().map(|b| b.batch_id.as_str()),
            Some("b-1")
        );
        assert_eq!(
            changes[3].as_ref().err().map(|e| e.0.as_deref()),
            Some(Some("444")),
            "an unreadable record names its sequence number"
        );
        assert_eq!(changes[4].as_ref().err().map(|e| e.0.clone()), Some(None));
        assert!(parse_stream_event(&serde_json::json!({})).len() == 1);
    }
}
