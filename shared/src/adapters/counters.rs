//! DynamoDB: the counts table. It holds the daily counters (`count#<day>#<shard>`), one mark
//! per counted document (`counted#<document>`: its day, department and shard) and the report
//! items (`report#daily#<day>`, `report#range#<from>#<to>`).
//!
//! A document is counted in one transaction that puts its mark (only if there is none) and
//! adds one to its day's shard: a replayed stream record, a retried batch or a rerun report
//! never counts it twice. The counts live apart from the documents table so that counting
//! feeds no stream record back to notify, and so that reports need no access to documents.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use jiff::civil::Date;

use super::dynamodb::{built, dynamo_error, s};
use super::{Aws, AwsError};
use crate::report::{Counts, counter_item_id};

/// The counts table: counters, marks of counted documents, reports.
#[derive(Clone)]
pub struct CountsTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub use crate::notification::ports::CountMark;

fn mark_id(document_id: &str) -> String {
    format!("counted#{document_id}")
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An `ADD` of `delta` to each named counter of a day's shard.
fn shard_update(
    table: &str,
    day: Date,
    shard: u32,
    deltas: &[(String, i64)],
) -> Result<Update, AwsError> {
    let mut expression = String::from("SET #kind = :kind, #day = :day ADD ");
    let mut update = Update::builder()
        .table_name(table)
        .key("id", s(&counter_item_id(day, shard)))
        .expression_attribute_names("#kind", "kind")
        .expression_attribute_names("#day", "day")
        .expression_attribute_values(":kind", s("counter"))
        .expression_attribute_values(":day", s(&day.to_string()));
    for (i, (name, delta)) in deltas.iter().enumerate() {
        if i > 0 {
            expression.push_str(", ");
        }
        expression.push_str(&format!("#c{i} :d{i}"));
        update = update
            .expression_attribute_names(format!("#c{i}"), name)
            .expression_attribute_values(format!(":d{i}"), n(*delta));
    }
    built(update.update_expression(expression).build())
}

/// Whether a transaction was cancelled because its first item's condition failed.
fn first_condition_failed(reasons: &[aws_sdk_dynamodb::types::CancellationReason]) -> bool {
    reasons
        .first()
        .and_then(|r| r.code())
        .is_some_and(|c| c == "ConditionalCheckFailed")
}

impl CountsTable {
    /// The counts table `table`.
    pub fn new(aws: &Aws, table: impl Into<String>) -> Self {
        CountsTable {
            client: aws_sdk_dynamodb::Client::new(&aws.config),
            table: table.into(),
        }
    }

    /// Where a document was counted, if it was.
    pub async fn counted(&self, document_id: &str) -> Result<Option<CountMark>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(&mark_id(document_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        let Some(item) = answer.item else {
            return Ok(None);
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let mark = (|| {
            Some(CountMark {
                day: text("day")?.parse().ok()?,
                department: text("department")?,
                shard: item.get("shard")?.as_n().ok()?.parse().ok()?,
            })
        })();
        Ok(mark)
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, AwsError> {
        // Transactions on one shard item can conflict under a burst: retried with a pause.
        for attempt in 0..5u64 {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(e) => {
                    let service = e.as_service_error();
                    if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) = service {
                        if first_condition_failed(c.cancellation_reasons()) {
                            return Ok(false);
                        }
                    }
                    let retry = e.code().is_some_and(|c| {
                        c == "TransactionCanceledException" || c == "TransactionConflictException"
                    });
                    if !retry || attempt == 4 {
                        return Err(dynamo_error("dynamodb:TransactWriteItems", &e));
                    }
                    tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
                }
            }
        }
        Ok(false)
    }

    /// Counts a judged document in its day, once: `false` when it was counted before.
    pub async fn count_document(
        &self,
        document_id: &str,
        department: &str,
        day: Date,
        shard: u32,
        counters: &[String],
    ) -> Result<bool, AwsError> {
        let mark = built(
            Put::builder()
                .table_name(&self.table)
                .item("id", s(&mark_id(document_id)))
                .item("kind", s("counted"))
                .item("day", s(&day.to_string()))
                .item("department", s(department))
                .item("shard", n(i64::from(shard)))
                .condition_expression("attribute_not_exists(id)")
                .build(),
        )?;
        let deltas: Vec<(String, i64)> = counters.iter().map(|c| (c.clone(), 1)).collect();
        let add = shard_update(&self.table, day, shard, &deltas)?;
        self.transact(vec![
            TransactWriteItem::builder().put(mark).build(),
            TransactWriteItem::builder().update(add).build(),
        ])
        .await
    }

    /// Moves a counted document's department count after a reclassification, once: `false`
    /// when it was moved already.
    pub async fn move_count(
        &self,
        document_id: &str,
        day: Date,
        shard: u32,
        from: &str,
        to: &str,
    ) -> Result<bool, AwsError> {
        let mark = built(
            Update::builder()
                .table_name(&self.table)
                .key("id", s(&mark_id(document_id)))
                .update_expression("SET department = :to")
                .condition_expression("department = :from")
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to))
                .build(),
        )?;
        let deltas = [
            (format!("department:{from}"), -1),
            (format!("department:{to}"), 1),
        ];
        let add = shard_update(&self.table, day, shard, &deltas)?;
        self.transact(vec![
            TransactWriteItem::builder().update(mark).build(),
            TransactWriteItem::builder().update(add).build(),
        ])
        .await
    }

    /// Adds counts to a day's shard directly (importing history; the load benchmark).
    pub async fn add_counts(
        &self,
        day: Date,
        shard: u32,
        counts: &[(String, i64)],
    ) -> Result<(), AwsError> {
        let update = shard_update(&self.table, day, shard, counts)?;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(&counter_item_id(day, shard)))
            .set_update_expression(Some(update.update_expression().to_string()))
            .set_expression_attribute_names(update.expression_attribute_names().cloned());
        request =
            request.set_expression_attribute_values(update.expression_attribute_values().cloned());
        request
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:UpdateItem", &e))?;
        Ok(())
    }

    /// The counts of each of `days` (summed over its shards); a day nothing was counted in is
    /// left out. Reads days × shards small items, whatever the volume.
    pub async fn daily_counts(
        &self,
        days: &[Date],
        shards: u32,
    ) -> Result<BTreeMap<Date, Counts>, AwsError> {
        let ids: Vec<String> = days
            .iter()
            .flat_map(|day| (0..shards).map(move |shard| counter_item_id(*day, shard)))
            .collect();
        let mut daily: BTreeMap<Date, Counts> = BTreeMap::new();
        for chunk in ids.chunks(100) {
            let keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|id| HashMap::from([("id".to_string(), s(id))]))
                .collect();
            let mut pending = Some(built(
                KeysAndAttributes::builder().set_keys(Some(keys)).build(),
            )?);
            let mut attempt = 0u64;
            while let Some(request) = pending.take() {
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| dynamo_error("dynamodb:BatchGetItem", &e))?;
                for item in answer
                    .responses
                    .as_ref()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let Some(day) = item
                        .get("day")
                        .and_then(|d| d.as_s().ok())
                        .and_then(|d| d.parse::<Date>().ok())
                    else {
                        continue;
                    };
                    let counters = item.iter().filter_map(|(name, value)| {
                        let count = value.as_n().ok()?.parse::<i64>().ok()?;
                        Some((name.as_str(), u64::try_from(count).unwrap_or(0)))
                    });
                    daily
                        .entry(day)
                        .or_default()
                        .add(&Counts::from_counters(counters));
                }
                pending = answer
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    // Throttled for a minute or so: an error, rather than a report that
                    // never comes (the schedule retries the run).
                    if attempt > 40 {
                        return Err(AwsError::transient(
                            "dynamodb:BatchGetItem",
                            "counter items still unprocessed after 40 attempts",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50 * attempt.min(30))).await;
                }
            }
        }
        Ok(daily)
    }

    /// Stores a report (replacing an earlier run's).
    pub async fn put_report(
        &self,
        id: &str,
        report_json: &str,
        total: u64,
        generated_at: &str,
    ) -> Result<(), AwsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("id", s(id))
            .item("kind", s("report"))
            .item("report", s(report_json))
            .item("total", n(i64::try_from(total).unwrap_or(i64::MAX)))
            .item("generated_at", s(generated_at))
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:PutItem", &e))?;
        Ok(())
    }

    /// A stored report's JSON.
    pub async fn report(&self, id: &str) -> Result<Option<String>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        Ok(answer
            .item
            .and_then(|i| i.get("report").and_then(|r| r.as_s().ok()).cloned()))
    }
}
