//! `validate`: consumes the incoming bucket's notifications from SQS in batches, and validates,
//! stores and records every document. Failures are reported per message (partial batch
//! response), so one bad message never makes a good one run again.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use intake::adapters::Aws;
use intake::adapters::dynamodb::DocumentTable;
use intake::adapters::s3::DocumentStore;
use intake::engine::signature::{SignaturePolicy, TrustAnchors};
use intake::lambda::config::{Env, ValidateConfig};
use intake::ports::SystemClock;
use intake::validation::Validator;
use intake::validation::s3_event::{IncomingMessage, parse_incoming_message};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::lambda::telemetry::init();
    let config = ValidateConfig::from_env(&Env::process())?;
    let aws = Aws::from_env().await?;
    let store = DocumentStore::new(&aws);
    // The trust anchors are read once, at cold start; a bundle that cannot be read stops the
    // function here rather than judging signatures without it.
    let anchors = match &config.trust_anchors {
        None => TrustAnchors::none(),
        Some((bucket, key)) => {
            let pem = store.read_config(bucket, key, 4 * 1024 * 1024).await?;
            TrustAnchors::from_pem(&pem)
                .map_err(|e| format!("trust anchors s3://{bucket}/{key}: {e}"))?
        }
    };
    tracing::info!(
        trust_anchors = anchors.len(),
        signature_required = ?config.signature_required_services,
        revocation_required = ?config.revocation_required_services,
        "signature policy loaded"
    );
    let validator = Validator {
        store,
        table: DocumentTable::new(&aws, &config.table),
        signatures: SignaturePolicy {
            anchors,
            required_for: config.signature_required_services.clone(),
            revocation_required_for: config.revocation_required_services.clone(),
        },
        config,
        clock: SystemClock,
    };
    let validator = &validator;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let span = intake::lambda::telemetry::invocation(&event.context.request_id);
        async move { Ok::<_, Error>(handle(validator, event.payload).await) }.instrument(span)
    }))
    .await
}

/// The validation path over the AWS adapters.
type AwsValidator = Validator<DocumentStore, DocumentTable, SystemClock>;

async fn handle(validator: &AwsValidator, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.unwrap_or_default();
        let attempt = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1);
        let body = message.body.unwrap_or_default();
        let objects = match parse_incoming_message(&body) {
            Ok(IncomingMessage::TestEvent) => continue,
            Ok(IncomingMessage::Objects(objects)) => objects,
            Err(e) => {
                // Not ours to judge: leave it to the retries and then the dead-letter queue,
                // where an operator sees it.
                tracing::error!(message_id, error = %e, "unreadable message");
                response.batch_item_failures.push(failure(&message_id));
                continue;
            }
        };
        for object in &objects {
            match validator.process(object, attempt).await {
                Ok(processed) => tracing::info!(
                    message_id,
                    document_id = processed.record.id,
                    status = processed.record.status.map(|s| s.as_str()),
                    sha256 = processed.record.sha256,
                    size = processed.record.size,
                    reasons = ?processed.record.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
                    write = ?processed.write,
                    "document processed"
                ),
                Err(e) => {
                    tracing::error!(message_id, key = object.key, error = %e, retry = ?e.retry, "document not processed");
                    response.batch_item_failures.push(failure(&message_id));
                    break;
                }
            }
        }
    }
    response
}

fn failure(message_id: &str) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = message_id.to_string();
    failure
}
