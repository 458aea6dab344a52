//! `notify`: reads the documents table's stream, and for every judged document writes its
//! department into the record and publishes one notification to that department's queue.
//! For station batches it records each scan's verdict in its batch, completes a batch once
//! every file of its manifest is recorded, and tells the site's departments; run by its
//! schedule (`{"task": "flag-overdue-batches"}`), it flags batches that take too long.
//!
//! Exactly once per (document, department), as the department sees it: a ledger item in the
//! table records each notification sent, and the FIFO topic drops a repeat of the same pair
//! (same deduplication id) within five minutes, which covers a function killed between
//! publishing and writing the ledger. Failures are reported per record (partial batch
//! response), so the stream is retried from the first one that failed.

use intake::adapters::Aws;
use intake::adapters::AwsError;
use intake::adapters::counters::CountsTable;
use intake::adapters::dynamodb::{DocumentTable, StreamChange, parse_stream_event};
use intake::adapters::s3::DocumentStore;
use intake::adapters::sns::{EmailTopic, NotificationTopic};
use intake::config::{Env, NotifyConfig};
use intake::model::{DocumentRecord, StorageLocation};
use intake::notify::{Attention, Plan, attention, plan, withdrawn_copies};
use intake::routing::RoutingRules;
use intake::station::{self, BatchRecord};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// A document placed in its department, with the plan to tell it.
struct Placed {
    /// The record the plan was made from.
    record: DocumentRecord,
    /// The plan.
    plan: Plan,
    /// Whether the record is the table's current one (notify just wrote its department, or
    /// read it), rather than a stream image that a later move may have overtaken.
    current: bool,
}

/// The department the table names for a document now, read at most once per stream record and
/// only when asked: a stream image may be older than a move an operator made since.
struct DepartmentNow<'a> {
    document_id: &'a str,
    department: tokio::sync::OnceCell<Option<String>>,
}

impl<'a> DepartmentNow<'a> {
    fn of(document_id: &'a str) -> Self {
        DepartmentNow {
            document_id,
            department: tokio::sync::OnceCell::new(),
        }
    }

    async fn read(&self, table: &DocumentTable) -> Result<Option<&str>, AwsError> {
        let department = self
            .department
            .get_or_try_init(|| async {
                Ok::<_, AwsError>(
                    table
                        .get(self.document_id)
                        .await?
                        .and_then(|r| r.department),
                )
            })
            .await?;
        Ok(department.as_deref())
    }
}

struct Notifier {
    batch_overdue_seconds: i64,
    counter_shards: u32,
    rules: RoutingRules,
    table: DocumentTable,
    counts: CountsTable,
    store: DocumentStore,
    topic: NotificationTopic,
    email: Option<EmailTopic>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::telemetry::init();
    let config = NotifyConfig::from_env(&Env::process())?;
    // The rules are checked at build; checked again here, a broken file stops the cold start.
    let rules = RoutingRules::bundled()?;
    let aws = Aws::from_env().await?;
    let notifier = Notifier {
        batch_overdue_seconds: config.batch_overdue_seconds,
        counter_shards: config.counter_shards,
        rules,
        table: DocumentTable::new(&aws, &config.table),
        counts: CountsTable::new(&aws, &config.counts_table),
        store: DocumentStore::new(&aws),
        topic: NotificationTopic::new(&aws, &config.topic_arn),
        email: config
            .email_topic_arn
            .as_ref()
            .map(|arn| EmailTopic::new(&aws, arn)),
    };
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(notifier.handle(&event.payload).await)
    }))
    .await
}

impl Notifier {
    async fn handle(&self, event: &Value) -> Value {
        if event.get("task").and_then(Value::as_str) == Some("flag-overdue-batches") {
            return match self.flag_overdue_batches().await {
                Ok(flagged) => json!({ "flagged": flagged }),
                Err(e) => {
                    tracing::error!(error = %e, "overdue sweep failed");
                    json!({ "error": e.to_string() })
                }
            };
        }
        for change in parse_stream_event(event) {
            let change = match change {
                Ok(change) => change,
                Err((sequence, error)) => {
                    tracing::error!(error, "unreadable stream record");
                    return failure(sequence.as_deref());
                }
            };
            if let Err(e) = self.handle_change(&change).await {
                tracing::error!(error = %e, "stream record not handled");
                // The stream is retried from here; what follows is retried with it.
                return failure(Some(&change.sequence_number));
            }
        }
        json!({ "batchItemFailures": [] })
    }

    async fn handle_change(&self, change: &StreamChange) -> Result<(), AwsError> {
        if let Some(batch) = &change.new_batch {
            return self.follow_batch(change.old_batch.as_ref(), batch).await;
        }
        let Some(new) = change.new.as_ref() else {
            return Ok(());
        };
        self.record_in_batch(change.old.as_ref(), new).await?;
        let now = DepartmentNow::of(&new.id);
        if let Some(old) = change.old.as_ref() {
            self.withdraw(&now, old, &withdrawn_copies(old, new))
                .await?;
        }
        let attention = attention(change.old.as_ref(), new);
        if attention == Attention::None {
            return Ok(());
        }
        let Some(plan) = plan(&self.rules, new) else {
            return Ok(());
        };
        let Some(placed) = self.place(new, plan).await? else {
            return Ok(());
        };
        // Counted before the department is told, so that a notification that keeps failing
        // (its record ends in the dead-letter queue) leaves the figures whole. The verdict's
        // record counts directly (the transaction's condition guards a replay); any other
        // reads the mark first, to move the count or to find it done.
        let first = attention == Attention::Verdict && placed.record.reclassified_by.is_none();
        self.count(&placed, &now, first).await?;
        let plan = &placed.plan;
        self.notify(&placed, &now).await.inspect_err(|e| {
            tracing::error!(
                document_id = plan.notification.document_id,
                department = plan.department,
                error = %e,
                "notification not sent"
            );
        })
    }

    /// Whether the document is still in the placed department as the table has it now (a
    /// later move's own record follows when it is not).
    async fn still_in(&self, placed: &Placed, now: &DepartmentNow<'_>) -> Result<bool, AwsError> {
        if placed.current {
            return Ok(true);
        }
        let department = placed.plan.department.as_str();
        let still = now.read(&self.table).await? == Some(department);
        if !still {
            tracing::info!(
                document_id = now.document_id,
                department,
                "moved on since this record: the later record is handled instead"
            );
        }
        Ok(still)
    }

    /// Writes the routed department into the record. When a department stands there already
    /// (an operator moved the document before this record was handled, or an earlier attempt
    /// wrote it), the record is read again and the department it names is the one told.
    async fn place(&self, record: &DocumentRecord, plan: Plan) -> Result<Option<Placed>, AwsError> {
        if !plan.record_department {
            return Ok(Some(Placed {
                record: record.clone(),
                plan,
                current: false,
            }));
        }
        if self
            .table
            .set_department(&record.id, &plan.department)
            .await?
        {
            return Ok(Some(Placed {
                record: record.clone(),
                plan,
                current: true,
            }));
        }
        let Some(current) = self.table.get(&record.id).await? else {
            return Ok(None);
        };
        Ok(
            intake::notify::plan(&self.rules, &current).map(|plan| Placed {
                record: current,
                plan,
                current: true,
            }),
        )
    }

    /// Counts a judged document in its day's counters, once; after a reclassification, moves
    /// its department count.
    async fn count(
        &self,
        placed: &Placed,
        now: &DepartmentNow<'_>,
        first: bool,
    ) -> Result<(), AwsError> {
        let (record, department) = (&placed.record, placed.plan.department.as_str());
        let Some(day) = intake::report::counted_day(record) else {
            return Ok(());
        };
        if !first && let Some(mark) = self.counts.counted(&record.id).await? {
            if mark.department != department && self.still_in(placed, now).await? {
                self.counts
                    .move_count(
                        &record.id,
                        mark.day,
                        mark.shard,
                        &mark.department,
                        department,
                    )
                    .await?;
            }
            return Ok(());
        }
        let shard = intake::report::shard_of(&record.id, self.counter_shards);
        let names = intake::report::counter_names(record, department);
        let counted = self
            .counts
            .count_document(&record.id, department, day, shard, &names)
            .await?;
        tracing::info!(document_id = record.id, %day, shard, counted, "document counted");
        Ok(())
    }

    /// A scan just judged: its verdict goes into its batch.
    async fn record_in_batch(
        &self,
        old: Option<&DocumentRecord>,
        new: &DocumentRecord,
    ) -> Result<(), AwsError> {
        let (Some(station), Some(batch_id), Some(name)) =
            (&new.site, &new.batch_id, &new.file_name)
        else {
            return Ok(());
        };
        if old.is_some_and(|o| o.status == new.status) {
            return Ok(());
        }
        let Some(verdict) = station::file_verdict(new) else {
            return Ok(());
        };
        self.table
            .record_batch_verdict(station, batch_id, name, &verdict)
            .await
    }

    /// A batch changed: complete it when it can be, and tell departments what happened.
    async fn follow_batch(
        &self,
        old: Option<&BatchRecord>,
        batch: &BatchRecord,
    ) -> Result<(), AwsError> {
        if station::ready_to_complete(batch) {
            let now = intake::time::utc_rfc3339(intake::time::Timestamp::now());
            if self
                .table
                .complete_batch(&batch.station, &batch.batch_id, &now)
                .await?
            {
                tracing::info!(
                    station = batch.station,
                    batch_id = batch.batch_id,
                    "batch complete"
                );
            }
        }
        for event in station::batch_events(old, batch) {
            let subject = station::batch_subject(batch, event);
            for notification in station::batch_notifications(&self.rules, batch, event) {
                let department = notification.department.as_str();
                if self.table.notified(&subject, department).await? {
                    continue;
                }
                self.topic
                    .publish_message(department, &subject, &notification)
                    .await?;
                let now = intake::time::utc_rfc3339(intake::time::Timestamp::now());
                self.table.mark_notified(&subject, department, &now).await?;
                tracing::info!(
                    station = batch.station,
                    batch_id = batch.batch_id,
                    department,
                    event = event.as_str(),
                    "department told of a batch"
                );
            }
        }
        Ok(())
    }

    /// Flags every unfinished batch older than the configured time (its stream record then
    /// tells the departments).
    async fn flag_overdue_batches(&self) -> Result<usize, AwsError> {
        let now = intake::time::Timestamp::now();
        let mut flagged = 0;
        for batch in self.table.unfinished_batches().await? {
            if station::is_overdue(&batch, now, self.batch_overdue_seconds)
                && self
                    .table
                    .flag_overdue_batch(
                        &batch.station,
                        &batch.batch_id,
                        &intake::time::utc_rfc3339(now),
                    )
                    .await?
            {
                tracing::warn!(
                    station = batch.station,
                    batch_id = batch.batch_id,
                    "batch overdue"
                );
                flagged += 1;
            }
        }
        Ok(flagged)
    }

    /// Tells the department, once; not when the document moved on to another department since
    /// the record was written (the later record tells that one).
    async fn notify(&self, placed: &Placed, now: &DepartmentNow<'_>) -> Result<(), AwsError> {
        let plan = &placed.plan;
        let document_id = &plan.notification.document_id;
        if self.table.notified(document_id, &plan.department).await? {
            // Told before, moved away (which withdrew its copies) and back: it can read the
            // document again, and is not told twice.
            if placed.record.reclassified_by.is_some() && self.still_in(placed, now).await? {
                self.copy(plan).await?;
            }
            return Ok(());
        }
        if !self.still_in(placed, now).await? {
            return Ok(());
        }
        // The department can read what it is told of.
        self.copy(plan).await?;
        self.topic.publish(&plan.notification).await?;
        let now = intake::time::utc_rfc3339(intake::time::Timestamp::now());
        self.table
            .mark_notified(document_id, &plan.department, &now)
            .await?;
        if let Some(email) = &self.email {
            // Best effort: the queue is the record; a failed e-mail is logged, not retried.
            if let Err(e) = email.publish(&plan.notification).await {
                tracing::warn!(document_id, department = plan.department, error = %e, "e-mail not sent");
            }
        }
        tracing::info!(
            document_id,
            department = plan.department,
            routing = plan.notification.routing,
            status = plan.notification.status,
            "department notified"
        );
        Ok(())
    }
}

impl Notifier {
    /// Copies the document (and its detached signature) where its department reads it; a copy
    /// made before is made again, the same.
    async fn copy(&self, plan: &Plan) -> Result<(), AwsError> {
        for copy in &plan.copies {
            self.store
                .copy_for_department(
                    &copy.source,
                    &copy.destination,
                    &plan.notification.document_id,
                    &plan.department,
                )
                .await?;
        }
        Ok(())
    }

    /// Removes a former department's copies of a document that moved away from it, unless the
    /// document has come back to it since (a replayed record of the earlier move).
    async fn withdraw(
        &self,
        now: &DepartmentNow<'_>,
        old: &DocumentRecord,
        copies: &[StorageLocation],
    ) -> Result<(), AwsError> {
        if copies.is_empty() {
            return Ok(());
        }
        let document_id = now.document_id;
        if let Some(department) = now.read(&self.table).await?
            && old.department.as_deref() == Some(department)
        {
            return Ok(());
        }
        for copy in copies {
            self.store.remove(copy).await?;
            tracing::info!(
                document_id,
                key = copy.key,
                "former department's copy removed"
            );
        }
        Ok(())
    }
}

fn failure(sequence: Option<&str>) -> Value {
    match sequence {
        Some(sequence) => json!({ "batchItemFailures": [{ "itemIdentifier": sequence }] }),
        None => json!({ "batchItemFailures": [] }),
    }
}
