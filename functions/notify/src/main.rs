//! `notify`: the documents table's stream and the overdue-batch schedule, handed to the
//! library's notifier (`intake::notification::notifier`, which says what it does and how it
//! keeps each department's notification exactly once and numbers each document in the
//! register) over the AWS adapters. Failures are
//! reported per record (partial batch response), so the stream is retried from the first one
//! that failed.

use intake::adapters::Aws;
use intake::adapters::dynamodb::parse_stream_event;
use intake::aws::AwsNotifier;
use intake::domain::routing::RoutingRules;
use intake::lambda::config::{Env, NotifyConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::lambda::telemetry::init();
    let config = NotifyConfig::from_env(&Env::process())?;
    // The rules are checked at build; checked again here, a broken file stops the cold start.
    let rules = RoutingRules::bundled()?;
    let aws = Aws::from_env().await?;
    let notifier = AwsNotifier::new(&aws, &config, rules);
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let span = intake::lambda::telemetry::invocation(&event.context.request_id);
        handle(notifier, event.payload).instrument(span)
    }))
    .await
}

/// One invocation: the schedule's sweep, or a batch of stream records.
async fn handle(notifier: &AwsNotifier, payload: Value) -> Result<Value, Error> {
    if payload.get("task").and_then(Value::as_str) == Some("flag-overdue-batches") {
        return Ok(match notifier.flag_overdue_batches().await {
            Ok(flagged) => json!({ "flagged": flagged }),
            Err(e) => {
                tracing::error!(error = %e, retry = ?e.retry, "overdue sweep failed");
                json!({ "error": e.to_string() })
            }
        });
    }
    let failed = notifier.handle_records(parse_stream_event(&payload)).await;
    let failures: Vec<Value> = failed
        .flatten()
        .map(|sequence| json!({ "itemIdentifier": sequence }))
        .into_iter()
        .collect();
    Ok(json!({ "batchItemFailures": failures }))
}
