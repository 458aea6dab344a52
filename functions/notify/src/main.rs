//! `notify`: reads the documents table's stream, and for every judged document writes its
//! department into the record and publishes one notification to that department's queue.
//!
//! Exactly once per (document, department), as the department sees it: a ledger item in the
//! table records each notification sent, and the FIFO topic drops a repeat of the same pair
//! (same deduplication id) within five minutes, which covers a function killed between
//! publishing and writing the ledger. Failures are reported per record (partial batch
//! response), so the stream is retried from the first one that failed.

use intake::adapters::Aws;
use intake::adapters::AwsError;
use intake::adapters::dynamodb::{DocumentTable, parse_stream_event};
use intake::adapters::s3::DocumentStore;
use intake::adapters::sns::{EmailTopic, NotificationTopic};
use intake::config::{Env, NotifyConfig};
use intake::model::StorageLocation;
use intake::notify::{Plan, plan, withdrawn_copies};
use intake::routing::RoutingRules;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

struct Notifier {
    rules: RoutingRules,
    table: DocumentTable,
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
        rules,
        table: DocumentTable::new(&aws, &config.table),
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
        for change in parse_stream_event(event) {
            let change = match change {
                Ok(change) => change,
                Err((sequence, error)) => {
                    tracing::error!(error, "unreadable stream record");
                    return failure(sequence.as_deref());
                }
            };
            let Some(new) = change.new.as_ref() else {
                continue;
            };
            let withdrawn = change
                .old
                .as_ref()
                .map(|old| withdrawn_copies(old, new))
                .unwrap_or_default();
            if let Err(e) = self.withdraw(&new.id, &withdrawn).await {
                tracing::error!(document_id = new.id, error = %e, "former department's copy not removed");
                return failure(Some(&change.sequence_number));
            }
            let Some(plan) = plan(&self.rules, new) else {
                continue;
            };
            if let Err(e) = self.notify(&plan).await {
                tracing::error!(
                    document_id = plan.notification.document_id,
                    department = plan.department,
                    error = %e,
                    "notification not sent"
                );
                // The stream is retried from here; what follows is retried with it.
                return failure(Some(&change.sequence_number));
            }
        }
        json!({ "batchItemFailures": [] })
    }

    async fn notify(&self, plan: &Plan) -> Result<(), AwsError> {
        let document_id = &plan.notification.document_id;
        if self.table.notified(document_id, &plan.department).await? {
            return Ok(());
        }
        if plan.record_department {
            self.table
                .set_department(document_id, &plan.department)
                .await?;
        }
        // The department can read what it is told of.
        for copy in &plan.copies {
            self.store
                .copy_for_department(
                    &copy.source,
                    &copy.destination,
                    document_id,
                    &plan.department,
                )
                .await?;
        }
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
    /// Removes a former department's copies of a document that moved away from it.
    async fn withdraw(
        &self,
        document_id: &str,
        copies: &[StorageLocation],
    ) -> Result<(), AwsError> {
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
