//! How long a receipt takes: `scripts/bench-receipts [N]` (default 100).
//!
//! On the local stack, N judged web documents are recorded at once (as validate records its
//! verdicts), and each is watched until its department's notification arrives and until its
//! receipt is in the archive. Both times run from the verdict's write; the notification, the
//! path that existed before receipts, is the reference the receipt is measured against in the
//! same run. Prints the median, p95 and slowest of each and their ratio, and checks that the N
//! documents took N distinct register numbers.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use intake::domain::model::{Channel, DocumentRecord, DocumentStatus};
use intake_local::stack::{Stack, StackOptions};

/// How long the documents may take, at most.
const PATIENCE: Duration = Duration::from_secs(600);
/// How often the receipts and the records are looked for.
const LOOK_EVERY: Duration = Duration::from_millis(50);

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("receipt benchmark failed: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let documents = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .with_context(|| format!("'{arg}' is not a number of documents from 1 to 5000"))?,
        None => 100,
    };
    let work = intake_local::workspace_root().join(".local/receipts-bench");
    let _ = std::fs::remove_dir_all(&work);
    let mut options = StackOptions::new(&work);
    options.collect_notifications = true;
    println!("starting moto, applying infra/ with terraform (about a minute and a half)...");
    let stack = Stack::start(options).await?;
    let result = bench(&stack, documents).await;
    println!("logs: {}", work.join("logs").display());
    stack.stop().await;
    result
}

/// The median, p95 and largest of some durations, in milliseconds.
fn spread(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (at(0.5), at(0.95), at(1.0))
}

async fn bench(stack: &Stack, documents: usize) -> anyhow::Result<()> {
    let table = stack.table().await;
    let s3 = stack.s3().await;
    let archive = stack.outputs.buckets["archive"].clone();
    let now = intake::domain::time::Timestamp::now();
    let records: Vec<DocumentRecord> = (0..documents)
        .map(|i| {
            let id = intake::domain::keys::new_document_id();
            let bytes = intake::engine::pdf::samples::minimal_pdf(1, &format!("bench {i} {id}"));
            DocumentRecord {
                id,
                channel: Some(Channel::Web),
                service: Some("child-benefit".into()),
                status: Some(DocumentStatus::Accepted),
                sha256: Some(intake::engine::hashing::DocumentHash::of(&bytes).to_hex()),
                size: Some(bytes.len() as u64),
                received_at: Some(intake::domain::time::utc_rfc3339(now)),
                received_day: Some(intake::domain::time::office_day(now)),
                ..DocumentRecord::default()
            }
        })
        .collect();
    println!("recording {documents} verdicts at once...");
    let mut writes = Vec::new();
    for record in records.clone() {
        let table = table.clone();
        writes.push(tokio::spawn(async move {
            table.record_verdict(&record).await.map(|_| Instant::now())
        }));
    }
    let mut judged: BTreeMap<String, Instant> = BTreeMap::new();
    for (record, write) in records.iter().zip(writes) {
        let at = write.await?.context("recording a verdict")?;
        judged.insert(record.id.clone(), at);
    }
    let mut receipts: BTreeMap<String, Instant> = BTreeMap::new();
    let mut notified: BTreeMap<String, Instant> = BTreeMap::new();
    let started = Instant::now();
    while receipts.len() < documents || notified.len() < documents {
        if started.elapsed() > PATIENCE {
            bail!(
                "after {PATIENCE:?}: {} receipts and {} notifications of {documents}",
                receipts.len(),
                notified.len()
            );
        }
        if let Ok(log) = stack.notifications.lock() {
            for id in judged.keys() {
                if let Some(first) = log.get(id).and_then(|n| n.first()) {
                    notified.entry(id.clone()).or_insert(first.arrived);
                }
            }
        }
        for id in judged.keys() {
            if receipts.contains_key(id) {
                continue;
            }
            let key = format!("receipts/{id}.pdf");
            if s3
                .head_object()
                .bucket(&archive)
                .key(&key)
                .send()
                .await
                .is_ok()
            {
                receipts.insert(id.clone(), Instant::now());
            }
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
    let since = |times: &BTreeMap<String, Instant>| -> Vec<Duration> {
        times
            .iter()
            .map(|(id, at)| at.saturating_duration_since(judged[id]))
            .collect()
    };
    let (told_median, told_p95, told_max) = spread(since(&notified));
    let (receipt_median, receipt_p95, receipt_max) = spread(since(&receipts));
    let mut numbers = BTreeSet::new();
    for id in judged.keys() {
        let record = table.get(id).await?.context("a record")?;
        numbers.insert(record.register_number.context("a register number")?);
    }
    ensure!(numbers.len() == documents, "register numbers repeat");
    println!();
    println!("{documents} documents judged at once, from the verdict's write (ms):");
    println!("  {:<28} {:>9} {:>9} {:>9}", "", "median", "p95", "slowest");
    println!(
        "  {:<28} {told_median:>9.0} {told_p95:>9.0} {told_max:>9.0}",
        "department notified"
    );
    println!(
        "  {:<28} {receipt_median:>9.0} {receipt_p95:>9.0} {receipt_max:>9.0}",
        "receipt in the archive"
    );
    println!(
        "  receipt / notification: median {:.2}x, p95 {:.2}x",
        receipt_median / told_median.max(1.0),
        receipt_p95 / told_p95.max(1.0)
    );
    // What the functions asked of the local AWS for them (the mappings' polling included).
    let mut counts = intake_local::moto::request_counts(&stack.aws_endpoint).await?;
    counts.sort_by(|a, b| {
        (&a.caller, &a.service, &a.operation).cmp(&(&b.caller, &b.service, &b.operation))
    });
    println!("  requests per document, by caller, service and operation:");
    for count in counts.iter().filter(|c| c.caller != "harness") {
        println!(
            "    {:<12} {:<16} {:<28} {:>8.2}",
            count.caller,
            count.service,
            count.operation,
            count.requests as f64 / documents as f64
        );
    }
    for name in intake_local::stack::FUNCTIONS {
        let stats = stack.function(name).stats();
        println!(
            "  {name}: {} invocations, {} ms in all",
            stats.responses, stats.invocation_ms
        );
    }
    println!(
        "  register numbers: {} distinct, {} to {}",
        numbers.len(),
        numbers.first().map_or("", String::as_str),
        numbers.last().map_or("", String::as_str)
    );
    Ok(())
}
