//! `receipts`: the documents table's stream, filtered to the records in which a document's
//! register number appears, handed to the library's receipt desk (`intake::receipt::desk`,
//! which says how each receipt is made, signed through KMS and stored once) over the AWS
//! adapters. Failures are reported per record (partial batch response), so the stream is retried
//! from the first record whose receipt failed.

use intake::adapters::Aws;
use intake::adapters::dynamodb::parse_stream_event;
use intake::aws::AwsReceiptDesk;
use intake::domain::routing::RoutingRules;
use intake::lambda::config::{Env, ReceiptsConfig};
use intake::receipt::desk::RecordChange;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::lambda::telemetry::init();
    let config = ReceiptsConfig::from_env(&Env::process())?;
    let rules = RoutingRules::bundled()?;
    let aws = Aws::from_env().await?;
    let desk = AwsReceiptDesk::new(&aws, &config, rules).await?;
    let desk = &desk;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let span = intake::lambda::telemetry::invocation(&event.context.request_id);
        handle(desk, event.payload).instrument(span)
    }))
    .await
}

/// One invocation: a batch of stream records.
async fn handle(desk: &AwsReceiptDesk, payload: Value) -> Result<Value, Error> {
    let mut records = Vec::new();
    let mut unreadable = None;
    for change in parse_stream_event(&payload) {
        match change {
            Ok(change) => records.push(RecordChange {
                sequence_number: change.sequence_number,
                old: change.old,
                new: change.new,
            }),
            Err((sequence, error)) => {
                tracing::error!(error, "unreadable stream record");
                unreadable = Some(sequence);
                break;
            }
        }
    }
    // What comes before an unreadable record is handled; the stream retries from it.
    let failed = desk.handle_records(records).await.map(Some).or(unreadable);
    let failures: Vec<Value> = failed
        .flatten()
        .map(|sequence| json!({ "itemIdentifier": sequence }))
        .into_iter()
        .collect();
    Ok(json!({ "batchItemFailures": failures }))
}
