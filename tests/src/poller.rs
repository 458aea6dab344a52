//! Lambda's SQS event source mapping, for the local stack: receive a batch, invoke the function
//! with the SQS event, delete what succeeded. On a function error or crash nothing is deleted,
//! and the messages come back after the visibility timeout, as on AWS; on a partial batch
//! response only the failed messages do.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::json;

use crate::runtime::FunctionHost;

/// Counters of the poller's work.
#[derive(Debug, Default)]
pub struct PollerStats {
    /// Batches handed to the function.
    pub batches: AtomicU64,
    /// Messages deleted after success.
    pub deleted: AtomicU64,
    /// Messages left for redelivery (failed items, or the whole batch on an error).
    pub returned: AtomicU64,
    /// Invocations that errored or crashed.
    pub failed_invocations: AtomicU64,
}

/// A running poller.
#[derive(Clone)]
pub struct Poller {
    paused: Arc<AtomicBool>,
    /// Every message body delivered, in order (tests replay them).
    pub delivered: Arc<Mutex<Vec<String>>>,
    /// Counters.
    pub stats: Arc<PollerStats>,
}

impl Poller {
    /// Starts polling `queue_url` into `host`.
    pub fn start(
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        queue_arn: String,
        region: String,
        batch_size: usize,
        host: FunctionHost,
    ) -> Poller {
        let poller = Poller {
            paused: Arc::new(AtomicBool::new(false)),
            delivered: Arc::new(Mutex::new(Vec::new())),
            stats: Arc::new(PollerStats::default()),
        };
        let state = poller.clone();
        tokio::spawn(async move {
            loop {
                if state.paused.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let received = sqs
                    .receive_message()
                    .queue_url(&queue_url)
                    .max_number_of_messages(i32::try_from(batch_size.clamp(1, 10)).unwrap_or(10))
                    .wait_time_seconds(1)
                    .message_system_attribute_names(MessageSystemAttributeName::All)
                    .send()
                    .await;
                let messages = match received {
                    Ok(r) => r.messages.unwrap_or_default(),
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                if messages.is_empty() {
                    continue;
                }
                state.stats.batches.fetch_add(1, Ordering::SeqCst);
                let records: Vec<serde_json::Value> = messages
                    .iter()
                    .map(|m| {
                        let attributes: serde_json::Map<String, serde_json::Value> = m
                            .attributes()
                            .map(|a| {
                                a.iter()
                                    .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        json!({
                            "messageId": m.message_id(),
                            "receiptHandle": m.receipt_handle(),
                            "body": m.body(),
                            "attributes": attributes,
                            "messageAttributes": {},
                            "md5OfBody": m.md5_of_body(),
                            "eventSource": "aws:sqs",
                            "eventSourceARN": queue_arn,
                            "awsRegion": region,
                        })
                    })
                    .collect();
                {
                    let mut delivered = state.delivered.lock().unwrap_or_else(|e| e.into_inner());
                    delivered.extend(messages.iter().filter_map(|m| m.body().map(str::to_string)));
                }
                let event = json!({ "Records": records }).to_string();
                let failed_ids: Option<Vec<String>> = match host.invoke(event.into()).await {
                    Ok(body) => parse_batch_failures(&body),
                    Err(_) => None,
                };
                let Some(failed_ids) = failed_ids else {
                    // Whole batch failed: leave every message to come back.
                    state
                        .stats
                        .failed_invocations
                        .fetch_add(1, Ordering::SeqCst);
                    state
                        .stats
                        .returned
                        .fetch_add(messages.len() as u64, Ordering::SeqCst);
                    continue;
                };
                let entries: Vec<DeleteMessageBatchRequestEntry> = messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| {
                        !failed_ids
                            .iter()
                            .any(|f| Some(f.as_str()) == m.message_id())
                    })
                    .filter_map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .set_receipt_handle(m.receipt_handle().map(str::to_string))
                            .build()
                            .ok()
                    })
                    .collect();
                state
                    .stats
                    .returned
                    .fetch_add((messages.len() - entries.len()) as u64, Ordering::SeqCst);
                if !entries.is_empty() {
                    let count = entries.len() as u64;
                    if sqs
                        .delete_message_batch()
                        .queue_url(&queue_url)
                        .set_entries(Some(entries))
                        .send()
                        .await
                        .is_ok()
                    {
                        state.stats.deleted.fetch_add(count, Ordering::SeqCst);
                    }
                }
            }
        });
        poller
    }

    /// Stops handing out batches (messages stay in the queue) until [`Poller::resume`].
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Resumes polling.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// The ids of a partial batch response; `None` when the response is not one (Lambda then
/// treats the whole batch as failed).
fn parse_batch_failures(body: &[u8]) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let failures = match value.get("batchItemFailures") {
        None | Some(serde_json::Value::Null) => return Some(Vec::new()),
        Some(f) => f.as_array()?,
    };
    failures
        .iter()
        .map(|f| f.get("itemIdentifier")?.as_str().map(str::to_string))
        .collect()
}
