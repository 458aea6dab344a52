//! DynamoDB: station batches, kept in the documents table as items `batch#<station>#<batch>`.
//!
//! Every change is one conditional `UpdateItem` on the batch's own item, so concurrent uploads,
//! verdicts and the close never overwrite each other; the maps (`files`, `verdicts`, `refused`)
//! are keyed by file name, so a repeated write is a no-op. A batch not yet complete carries
//! `unfinished`, which puts it in the sparse `unfinished_batches` index the overdue sweep reads.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::AwsError;
use super::dynamodb::{DocumentTable, Item, dynamo_error, is_condition_failure, str_attr};
use crate::station::ports::{BatchClosing, BatchOpening};
use crate::station::{BatchRecord, BatchState, batch_item_id};

/// Index of batches not yet complete, by opening time.
pub const INDEX_UNFINISHED_BATCHES: &str = "unfinished_batches";

fn string_map(item: &Item, name: &str) -> BTreeMap<String, String> {
    item.get(name)
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// A batch from its item.
pub fn batch_from_item(item: &Item) -> BatchRecord {
    let s = |name: &str| str_attr(item, name).map(str::to_string);
    BatchRecord {
        station: s("station").unwrap_or_default(),
        batch_id: s("batch_id").unwrap_or_default(),
        state: str_attr(item, "state").and_then(BatchState::parse),
        service: s("service"),
        opened_at: s("opened_at"),
        closed_at: s("closed_at"),
        completed_at: s("completed_at"),
        overdue_at: s("overdue_at"),
        manifest: s("manifest"),
        manifest_sha256: s("manifest_sha256"),
        files: string_map(item, "files"),
        verdicts: string_map(item, "verdicts"),
        refused: string_map(item, "refused"),
    }
}

/// Whether a table item id is a batch's.
pub fn is_batch_item(id: &str) -> bool {
    id.starts_with("batch#")
}

fn key(station: &str, batch_id: &str) -> AttributeValue {
    AttributeValue::S(batch_item_id(station, batch_id))
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

impl DocumentTable {
    /// Opens a batch, or finds it open (or closed) already.
    pub async fn open_batch(
        &self,
        station: &str,
        batch_id: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<BatchOpening, AwsError> {
        let mut item: Item = HashMap::from([
            ("id".to_string(), key(station, batch_id)),
            ("kind".to_string(), s("batch")),
            ("station".to_string(), s(station)),
            ("batch_id".to_string(), s(batch_id)),
            ("state".to_string(), s(BatchState::Open.as_str())),
            ("opened_at".to_string(), s(now)),
            ("unfinished".to_string(), s("1")),
            ("files".to_string(), AttributeValue::M(HashMap::new())),
            ("verdicts".to_string(), AttributeValue::M(HashMap::new())),
            ("refused".to_string(), AttributeValue::M(HashMap::new())),
        ]);
        if let Some(service) = service {
            item.insert("service".to_string(), s(service));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(BatchOpening::Opened(batch_from_item(&item))),
            Err(e) if is_condition_failure(&e) => match self.batch(station, batch_id).await? {
                Some(existing) => Ok(BatchOpening::Existing(existing)),
                None => Err(AwsError::transient(
                    "dynamodb:PutItem",
                    "the batch exists and then does not",
                )),
            },
            Err(e) => Err(dynamo_error("dynamodb:PutItem", &e)),
        }
    }

    /// Reads a batch (strongly consistent).
    pub async fn batch(
        &self,
        station: &str,
        batch_id: &str,
    ) -> Result<Option<BatchRecord>, AwsError> {
        let response = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        Ok(response.item.as_ref().map(batch_from_item))
    }

    /// Gives a file of a batch its document id: `candidate` the first time, the id given
    /// before on every later call (a resumed push). `None` when the batch is complete (or
    /// unknown): it takes no more files.
    pub async fn assign_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        candidate: &str,
    ) -> Result<Option<String>, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            .update_expression("SET files.#name = if_not_exists(files.#name, :id)")
            // At most a manifest's worth of names (plus as many strays): the item stays under
            // DynamoDB's 400 KB.
            .condition_expression(
                "attribute_exists(id) AND #state <> :complete AND (size(files) < :most OR attribute_exists(files.#name))",
            )
            .expression_attribute_names("#name", name)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":id", s(candidate))
            .expression_attribute_values(":complete", s(BatchState::Complete.as_str()))
            .expression_attribute_values(
                ":most",
                AttributeValue::N((crate::station::MAX_BATCH_FILES + 50).to_string()),
            )
            // The whole item: an unchanged entry (a resumed push) is not "updated".
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(answer) => answer
                .attributes
                .as_ref()
                .map(|a| string_map(a, "files"))
                .and_then(|files| files.get(name).cloned())
                .map(Some)
                .ok_or_else(|| {
                    AwsError::permanent(
                        "dynamodb:UpdateItem",
                        "the batch's file entry was not returned",
                    )
                }),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Records a file refused before upload (too large), so the batch can still complete.
    pub async fn refuse_batch_file(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        reason: &str,
    ) -> Result<(), AwsError> {
        self.set_batch_entry(station, batch_id, "refused", name, reason)
            .await
    }

    /// Records a judged file's verdict in its batch.
    pub async fn record_batch_verdict(
        &self,
        station: &str,
        batch_id: &str,
        name: &str,
        verdict: &str,
    ) -> Result<(), AwsError> {
        self.set_batch_entry(station, batch_id, "verdicts", name, verdict)
            .await
    }

    async fn set_batch_entry(
        &self,
        station: &str,
        batch_id: &str,
        map: &str,
        name: &str,
        value: &str,
    ) -> Result<(), AwsError> {
        // A complete batch's report is final (its departments were told): a file judged after
        // that (one not in its manifest) stays a document of its own, outside the report.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            .update_expression("SET #map.#name = :value")
            // Bounded like the files map: a station cannot grow the item past 400 KB with
            // refusals of names it never lists.
            .condition_expression(
                "attribute_exists(id) AND #state <> :complete AND (size(#map) < :most OR attribute_exists(#map.#name))",
            )
            .expression_attribute_names("#map", map)
            .expression_attribute_names("#name", name)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":value", s(value))
            .expression_attribute_values(":complete", s(BatchState::Complete.as_str()))
            .expression_attribute_values(
                ":most",
                AttributeValue::N((crate::station::MAX_BATCH_FILES + 50).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                tracing::warn!(
                    station,
                    batch_id,
                    "batch complete, full or unknown: entry not added"
                );
                Ok(())
            }
            // The item would pass DynamoDB's 400 KB (a station that sent hundreds of files it
            // never listed): retrying cannot help, and the document itself must go on to its
            // department. The batch stays incomplete, and is flagged overdue.
            Err(e) if e.code() == Some("ValidationException") => {
                tracing::error!(
                    station,
                    batch_id,
                    error = %dynamo_error("dynamodb:UpdateItem", &e),
                    "batch item cannot grow: entry not added"
                );
                Ok(())
            }
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Closes an open batch with its manifest. Closing again with the same manifest is a no-op.
    pub async fn close_batch(
        &self,
        station: &str,
        batch_id: &str,
        manifest: &str,
        manifest_sha256: &str,
        service: Option<&str>,
        now: &str,
    ) -> Result<BatchClosing, AwsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            .update_expression(if service.is_some() {
                "SET #state = :closed, manifest = :manifest, manifest_sha256 = :sha, closed_at = :now, service = :service"
            } else {
                "SET #state = :closed, manifest = :manifest, manifest_sha256 = :sha, closed_at = :now"
            })
            .condition_expression("#state = :open")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":closed", s(BatchState::Closed.as_str()))
            .expression_attribute_values(":open", s(BatchState::Open.as_str()))
            .expression_attribute_values(":manifest", s(manifest))
            .expression_attribute_values(":sha", s(manifest_sha256))
            .expression_attribute_values(":now", s(now));
        if let Some(service) = service {
            update = update.expression_attribute_values(":service", s(service));
        }
        match update.send().await {
            Ok(_) => Ok(BatchClosing::Closed),
            Err(e) if is_condition_failure(&e) => match self.batch(station, batch_id).await? {
                None => Ok(BatchClosing::Unknown),
                Some(b) if b.manifest_sha256.as_deref() == Some(manifest_sha256) => {
                    Ok(BatchClosing::AlreadyClosed(b))
                }
                Some(b) => Ok(BatchClosing::ClosedWithAnotherManifest(b)),
            },
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Marks a closed batch complete (once: `false` when it was not closed, or is complete).
    pub async fn complete_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            .update_expression("SET #state = :complete, completed_at = :now REMOVE unfinished")
            .condition_expression("#state = :closed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":complete", s(BatchState::Complete.as_str()))
            .expression_attribute_values(":closed", s(BatchState::Closed.as_str()))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Flags a batch that is not completing in time (once).
    pub async fn flag_overdue_batch(
        &self,
        station: &str,
        batch_id: &str,
        now: &str,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(station, batch_id))
            // Flagged once: it leaves the index the sweep reads.
            .update_expression("SET overdue_at = :now REMOVE unfinished")
            .condition_expression(
                "attribute_exists(id) AND attribute_not_exists(overdue_at) AND #state <> :complete",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":complete", s(BatchState::Complete.as_str()))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error("dynamodb:UpdateItem", &e)),
        }
    }

    /// Every batch not yet complete (the sparse index: few items, whatever the volume).
    pub async fn unfinished_batches(&self) -> Result<Vec<BatchRecord>, AwsError> {
        let mut batches = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INDEX_UNFINISHED_BATCHES)
                .key_condition_expression("unfinished = :one")
                .expression_attribute_values(":one", s("1"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("dynamodb:Query", &e))?;
            // The index projects keys only; each batch is read whole.
            for item in page.items() {
                let Some(id) = str_attr(item, "id") else {
                    continue;
                };
                let mut parts = id.splitn(3, '#').skip(1);
                if let (Some(station), Some(batch_id)) = (parts.next(), parts.next())
                    && let Some(batch) = self.batch(station, batch_id).await?
                {
                    batches.push(batch);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(batches);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_item_reads_back() {
        let item: Item = HashMap::from([
            ("id".to_string(), s("batch#mogilska#b-1")),
            ("station".to_string(), s("mogilska")),
            ("batch_id".to_string(), s("b-1")),
            ("state".to_string(), s("closed")),
            (
                "verdicts".to_string(),
                AttributeValue::M(HashMap::from([("a.pdf".to_string(), s("accepted"))])),
            ),
        ]);
        let batch = batch_from_item(&item);
        assert_eq!(batch.state, Some(BatchState::Closed));
        assert_eq!(batch.verdicts["a.pdf"], "accepted");
        assert!(batch.files.is_empty());
        assert_eq!(batch.item_id(), "batch#mogilska#b-1");
        assert!(is_batch_item("batch#x#y") && !is_batch_item("0190"));
    }
}
