//! The notifier: what the notify function does with each record of the documents table's
//! stream, over the ports (so it is tested in memory, with a crash after any step).
//!
//! For every judged document it writes the department into the record, counts the document in
//! its day, gives the department its copy and publishes one notification; after an operator's
//! move it withdraws the former department's copies, moves the count and tells the new
//! department. For station batches it records each scan's verdict in its batch, completes a
//! batch once every file of its manifest is recorded, and tells the site's departments; run by
//! its schedule, it flags batches that take too long.
//!
//! Before any of that, the documents judged in a delivery are numbered in the incoming
//! register together (one entry per delivery, see [`crate::register`]); the department's
//! notification carries the number. (The number's own write wakes the `receipts` function,
//! which issues the document's receipt: [`crate::receipt::desk`].)
//!
//! Exactly once per (document, department), as the department sees it: the ledger records each
//! notification sent, and the topic drops a repeat of the same pair within five minutes, which
//! covers a function killed between publishing and writing the ledger. A record whose handling
//! fails is retried whole, from its first step; every step can be repeated.

use crate::domain::model::{DocumentRecord, StorageLocation};
use crate::domain::routing::RoutingRules;
use crate::notification::ports::{
    Batches, Counters, DepartmentCopies, DepartmentTopic, Mailer, NotificationLedger, Registry,
};
use crate::notification::{Attention, Plan, StreamChange, attention, plan, withdrawn_copies};
use crate::ports::{Clock, Documents, PortError};
use crate::station::{self, BatchRecord};
use tracing::Instrument;

/// How many items (documents, batches) of a delivery are handled at once: each waits on the
/// table, the counters, the bucket and the topic in turn.
pub const ITEMS_AT_ONCE: usize = 8;

/// A record of a delivery: its place, the change, and the number its image lacks.
type Numbered = (usize, StreamChange, Option<String>);

/// The table item a stream record is of: a batch's, or a document's (or another item's) id.
fn item_of(change: &StreamChange) -> String {
    if let Some(batch) = change.new_batch.as_ref().or(change.old_batch.as_ref()) {
        return batch.item_id();
    }
    change
        .new
        .as_ref()
        .or(change.old.as_ref())
        .map(|r| r.id.clone())
        .unwrap_or_default()
}

/// A stream record that could not be read: its sequence number when it has one, and why.
pub type UnreadableRecord = (Option<String>, String);

/// The notifier and the ports it works over.
pub struct Notifier<T, C, S, P, M, K, G> {
    /// The routing rules.
    pub rules: RoutingRules,
    /// After how long an unfinished batch is flagged.
    pub batch_overdue_seconds: i64,
    /// How many shards each day's counters have.
    pub counter_shards: u32,
    /// The documents table: records, the notification ledger, batches.
    pub table: T,
    /// The counters.
    pub counts: C,
    /// The departments' copies.
    pub store: S,
    /// The departments' topic.
    pub topic: P,
    /// The clerks' e-mail.
    pub mail: M,
    /// The time.
    pub clock: K,
    /// The incoming register.
    pub register: G,
}

/// A document placed in its department, with the plan to tell it.
struct Placed {
    /// The record the plan was made from.
    record: DocumentRecord,
    /// The plan.
    plan: Plan,
    /// Whether the record is the table's current one (the notifier just wrote its department,
    /// or read it), rather than a stream image that a later move may have overtaken.
    current: bool,
}

/// The department the table names for a document now, read at most once per stream record and
/// only when asked: a stream image may be older than a move an operator made since.
struct DepartmentNow<'a> {
    document_id: &'a str,
    department: std::cell::OnceCell<Option<String>>,
}

impl<'a> DepartmentNow<'a> {
    fn of(document_id: &'a str) -> Self {
        DepartmentNow {
            document_id,
            department: std::cell::OnceCell::new(),
        }
    }

    async fn read(&self, table: &impl Documents) -> Result<Option<&str>, PortError> {
        if self.department.get().is_none() {
            let department = table
                .get(self.document_id)
                .await?
                .and_then(|r| r.department);
            // Set once: a second read in the same record finds it.
            let _ = self.department.set(department);
        }
        Ok(self.department.get().and_then(|d| d.as_deref()))
    }
}

impl<T, C, S, P, M, K, G> Notifier<T, C, S, P, M, K, G>
where
    T: Documents + NotificationLedger + Batches,
    C: Counters,
    S: DepartmentCopies,
    P: DepartmentTopic,
    M: Mailer,
    K: Clock,
    G: Registry,
{
    /// Handles a batch of stream records: each item's in order, [`ITEMS_AT_ONCE`] items at a
    /// time. The sequence number of the first record that failed is returned, so the stream
    /// retries from it (what follows with it); `None` when every record was handled.
    pub async fn handle_records(
        &self,
        records: impl IntoIterator<Item = Result<StreamChange, UnreadableRecord>>,
    ) -> Option<Option<String>> {
        let records: Vec<_> = records.into_iter().collect();
        let numbers = match self.number(&records).await {
            Ok(numbers) => numbers,
            Err(e) => {
                tracing::error!(error = %e, retry = ?e.retry, "documents not registered");
                // Nothing of the delivery was handled: it is retried whole.
                return records.first().map(|first| match first {
                    Ok(change) => Some(change.sequence_number.clone()),
                    Err((sequence, _)) => sequence.clone(),
                });
            }
        };
        // The records up to the first unreadable one, each with the number its image lacks,
        // grouped by item: an item's records are handled in order, items side by side.
        let mut unreadable = None;
        let mut groups: Vec<(String, Vec<Numbered>)> = Vec::new();
        for (at, record) in records.into_iter().enumerate() {
            let mut change = match record {
                Ok(change) => change,
                Err((sequence, error)) => {
                    tracing::error!(error, "unreadable stream record");
                    unreadable = Some((at, sequence));
                    break;
                }
            };
            // A number the record's image does not carry yet: written with the department (or
            // on its own), and told.
            let mut unwritten = None;
            if let Some(new) = change.new.as_mut()
                && new.register_number.is_none()
            {
                new.register_number = numbers.get(&new.id).cloned();
                unwritten = new.register_number.clone();
            }
            let item = item_of(&change);
            match groups.iter_mut().find(|(key, _)| *key == item) {
                Some((_, group)) => group.push((at, change, unwritten)),
                None => groups.push((item, vec![(at, change, unwritten)])),
            }
        }
        use futures_util::stream::{self, StreamExt};
        let failed: Vec<(usize, String)> = stream::iter(groups)
            .map(|(_, group)| async move {
                for (at, change, unwritten) in group {
                    let span = tracing::info_span!(
                        "stream_record",
                        sequence_number = change.sequence_number,
                        document_id = change
                            .new
                            .as_ref()
                            .or(change.old.as_ref())
                            .map(|r| r.id.as_str()),
                    );
                    let handled = self
                        .handle_numbered_change(&change, unwritten.as_deref())
                        .instrument(span)
                        .await;
                    if let Err(e) = handled {
                        tracing::error!(error = %e, retry = ?e.retry, "stream record not handled");
                        return Some((at, change.sequence_number));
                    }
                }
                None
            })
            .buffer_unordered(ITEMS_AT_ONCE)
            .filter_map(|failed| async move { failed })
            .collect()
            .await;
        // The stream retries from the first record that failed (what follows it was handled,
        // or is handled again: every step can be repeated).
        let first_failed = failed.into_iter().min();
        match (first_failed, unreadable) {
            (Some((at, sequence)), Some((bad, unreadable))) => {
                Some(if at < bad { Some(sequence) } else { unreadable })
            }
            (Some((_, sequence)), None) => Some(Some(sequence)),
            (None, Some((_, unreadable))) => Some(unreadable),
            (None, None) => None,
        }
    }

    /// Numbers the documents of a delivery in the register, in the order they arrived.
    async fn number(
        &self,
        records: &[Result<StreamChange, UnreadableRecord>],
    ) -> Result<std::collections::BTreeMap<String, String>, PortError> {
        let judged: Vec<&DocumentRecord> = records
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|change| change.new.as_ref())
            .filter(|new| crate::register::is_registrable(new))
            .collect();
        if judged.is_empty() {
            return Ok(Default::default());
        }
        self.register.number(&judged).await
    }

    /// Handles one stream record. Every step can be repeated: a record that failed half-way is
    /// handled again from its start.
    pub async fn handle_change(&self, change: &StreamChange) -> Result<(), PortError> {
        self.handle_numbered_change(change, None).await
    }

    /// Handles one stream record whose document the register gave `unwritten`, a number its
    /// record does not carry yet.
    async fn handle_numbered_change(
        &self,
        change: &StreamChange,
        unwritten: Option<&str>,
    ) -> Result<(), PortError> {
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
        let Some(placed) = self.place(new, plan, unwritten).await? else {
            return Ok(());
        };
        // Counted before the department is told, so that a notification that keeps failing
        // (its record ends in the dead-letter queue) leaves the figures whole. The verdict's
        // record counts directly (the counters' condition guards a replay); any other reads
        // the mark first, to move the count or to find it done.
        let first = attention == Attention::Verdict && placed.record.reclassified_by.is_none();
        self.count(&placed, &now, first).await?;
        let plan = &placed.plan;
        self.notify(&placed, &now).await.inspect_err(|e| {
            tracing::error!(
                document_id = plan.notification.document_id,
                department = plan.department,
                error = %e,
                retry = ?e.retry,
                "notification not sent"
            );
        })
    }

    /// Whether the document is still in the placed department as the table has it now (a
    /// later move's own record follows when it is not).
    async fn still_in(&self, placed: &Placed, now: &DepartmentNow<'_>) -> Result<bool, PortError> {
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
    ///
    /// `unwritten`, the register number the record does not carry yet, is written with the
    /// department in one write (its record is the one that wakes the receipts), or on its own
    /// when a department stands there already.
    async fn place(
        &self,
        record: &DocumentRecord,
        plan: Plan,
        unwritten: Option<&str>,
    ) -> Result<Option<Placed>, PortError> {
        if !plan.record_department {
            if let Some(number) = unwritten {
                self.table
                    .record_register_number(&record.id, number)
                    .await?;
            }
            return Ok(Some(Placed {
                record: record.clone(),
                plan,
                current: false,
            }));
        }
        if self
            .table
            .set_department(&record.id, &plan.department, unwritten)
            .await?
        {
            return Ok(Some(Placed {
                record: record.clone(),
                plan,
                current: true,
            }));
        }
        let Some(mut current) = self.table.get(&record.id).await? else {
            return Ok(None);
        };
        if let Some(number) = unwritten
            && current.register_number.is_none()
        {
            self.table
                .record_register_number(&record.id, number)
                .await?;
            current.register_number = Some(number.to_string());
        }
        Ok(
            crate::notification::plan(&self.rules, &current).map(|plan| Placed {
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
    ) -> Result<(), PortError> {
        let (record, department) = (&placed.record, placed.plan.department.as_str());
        let Some(day) = crate::report::counted_day(record) else {
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
        let shard = crate::report::shard_of(&record.id, self.counter_shards);
        let names = crate::report::counter_names(record, department);
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
    ) -> Result<(), PortError> {
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
    ) -> Result<(), PortError> {
        if station::ready_to_complete(batch) {
            let now = self.clock.now_rfc3339();
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
                    .publish_batch(department, &subject, &notification)
                    .await?;
                let now = self.clock.now_rfc3339();
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
    /// tells the departments); how many were flagged.
    pub async fn flag_overdue_batches(&self) -> Result<usize, PortError> {
        let now = self.clock.now();
        let mut flagged = 0;
        for batch in self.table.unfinished_batches().await? {
            if station::is_overdue(&batch, now, self.batch_overdue_seconds)
                && self
                    .table
                    .flag_overdue_batch(
                        &batch.station,
                        &batch.batch_id,
                        &crate::domain::time::utc_rfc3339(now),
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
    async fn notify(&self, placed: &Placed, now: &DepartmentNow<'_>) -> Result<(), PortError> {
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
        let at = self.clock.now_rfc3339();
        self.table
            .mark_notified(document_id, &plan.department, &at)
            .await?;
        // Best effort: the queue is the record; a failed e-mail is logged, not retried.
        if let Err(e) = self.mail.send(&plan.notification).await {
            tracing::warn!(document_id, department = plan.department, error = %e, "e-mail not sent");
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

    /// Copies the document (and its detached signature) where its department reads it; a copy
    /// made before is made again, the same.
    async fn copy(&self, plan: &Plan) -> Result<(), PortError> {
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
    ) -> Result<(), PortError> {
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

#[cfg(test)]
mod tests;
