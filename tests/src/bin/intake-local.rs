//! The local run: the whole system on a local AWS, with the web-form samples pushed through it
//! exactly as a browser would, and a table of what became of each.
//!
//! Run it with `scripts/local-run` (which builds the functions first).
//! After the web-form samples, a scanning station pushes a batch of generated scans with
//! `intake station push` (`--station-batch N` scans, 12 by default; `scripts/bench-station`
//! pushes 250 and reports the wall time and peak memory).
//! `--report-bench` then counts a day of 1,000 documents and a day of 100,000 through the
//! counters' write path and times the daily report of each (`scripts/bench-report`).
//! `--notify-latency N` then also submits N documents at once and measures how long each takes
//! from its upload to its department's queue (`scripts/bench-notify`).

use std::time::{Duration, Instant};

use anyhow::Context;
use intake::adapters::Aws;
use intake::adapters::counters::CountsTable;
use intake::adapters::dynamodb::DocumentTable;
use intake_local::stack::{Stack, StackOptions};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("local run failed: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    let work = intake_local::workspace_root().join(".local/run");
    let _ = std::fs::remove_dir_all(&work);
    println!("starting moto, applying infra/ with terraform (about a minute and a half)...");
    let stack = Stack::start(StackOptions::new(&work)).await?;
    println!(
        "stack up in {:.0?}: moto at {}, web-form API at {}",
        started.elapsed(),
        stack.aws_endpoint,
        stack.api_url
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let latency_batch = args
        .iter()
        .position(|a| a == "--notify-latency")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok());
    let station_batch = args
        .iter()
        .position(|a| a == "--station-batch")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(12);
    let mut result = push_samples(&stack).await;
    if result.is_ok() {
        result = push_station_batch(&stack, &work, station_batch).await;
    }
    if result.is_ok() && args.iter().any(|a| a == "--report-bench") {
        result = report_bench(&stack).await;
    }
    if let (Ok(()), Some(n)) = (&result, latency_batch) {
        result = notify_latency(&stack, n).await;
    }
    println!("logs: {}", work.join("logs").display());
    stack.stop().await;
    println!("stopped everything; total {:.0?}", started.elapsed());
    result
}

async fn push_samples(stack: &Stack) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let tag = jiff::Timestamp::now().to_string();
    let samples = intake_local::samples::web_form_samples(&tag);
    let aws = Aws {
        config: stack.sdk_config().await,
        s3_force_path_style: true,
    };
    let table = DocumentTable::new(&aws, &stack.outputs.documents_table);
    let receipts = stack.work_dir.join("receipts");
    std::fs::create_dir_all(&receipts)?;

    let mut rows = Vec::new();
    let mut all_right = true;
    for sample in &samples {
        let submission = intake_local::browser::submit(
            &http,
            &stack.api_url,
            sample.service,
            sample.file_name,
            sample.bytes.clone(),
        )
        .await
        .with_context(|| format!("submitting the {}", sample.label))?;
        let verdict = intake_local::browser::wait_for_verdict(
            &http,
            &stack.api_url,
            &submission.upload_id,
            Duration::from_secs(60),
        )
        .await?;
        // The receipt, as its sender gets it.
        let receipt = intake_local::browser::wait_for_receipt(
            &http,
            &stack.api_url,
            &submission.upload_id,
            Duration::from_secs(60),
        )
        .await?;
        std::fs::write(
            receipts.join(format!("{}.pdf", submission.upload_id)),
            receipt,
        )?;
        let record = table
            .get(&submission.upload_id)
            .await?
            .context("no record for an upload")?;
        let status = verdict["status"].as_str().unwrap_or("?").to_string();
        let reasons: Vec<String> = verdict["reasons"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|x| x["code"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let right = status == sample.expected_status
            && sample
                .expected_reason
                .is_none_or(|code| reasons.iter().any(|r| r == code));
        all_right &= right;
        let detail = match verdict["duplicate_of"].as_str() {
            Some(original) => format!("duplicate of {}", short_id(original)),
            None => reasons.join(","),
        };
        rows.push([
            sample.label.to_string(),
            short_id(&submission.upload_id),
            status,
            record.register_number.clone().unwrap_or_else(|| "-".into()),
            detail,
            verdict["pages"]
                .as_u64()
                .map_or("-".into(), |p| p.to_string()),
            record
                .storage
                .as_ref()
                .map_or("-".into(), |s| s.to_string()),
            if right { "yes" } else { "NO" }.to_string(),
        ]);
    }
    print_table(
        &[
            "sample",
            "upload",
            "status",
            "register number",
            "reasons",
            "pages",
            "stored at",
            "as expected",
        ],
        &rows,
    );
    println!("  receipts: {}", receipts.display());
    anyhow::ensure!(
        all_right,
        "some samples did not get the outcome they should"
    );
    Ok(())
}

/// A station's day: `count` generated scans pushed with `intake station push`, as a station
/// would, with the wall time and the peak memory of the command and of the functions.
async fn push_station_batch(
    stack: &Stack,
    work: &std::path::Path,
    count: usize,
) -> anyhow::Result<()> {
    let station = "wszystkich-swietych";
    println!("\nstation {station}: pushing a batch of {count} scans with `intake station push`...");
    let intake = intake_local::workspace_root().join("target/debug/intake");
    let env = [
        ("AWS_ENDPOINT_URL", stack.aws_endpoint.as_str()),
        ("AWS_REGION", stack.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("INTAKE_API_URL", stack.api_url.as_str()),
    ];
    let key = tokio::process::Command::new(&intake)
        .args(["station", "key", "--station", station, "--prefix"])
        .arg(&stack.outputs.station_key_prefix)
        .envs(env)
        .output()
        .await
        .context("running intake station key")?;
    anyhow::ensure!(key.status.success(), "intake station key failed: {key:?}");
    let dir = work.join("station-batch");
    std::fs::create_dir_all(&dir)?;
    let key_file = work.join("station.key");
    std::fs::write(&key_file, key.stdout.trim_ascii())?;
    for i in 0..count {
        let name = format!("K-{:04}_{}.pdf", i / 2, i % 2 + 1);
        let scan = intake::engine::pdf::samples::scan_pdf(1 + i % 4, i as u64 + 1);
        std::fs::write(dir.join(name), scan)?;
    }
    let started = Instant::now();
    let mut push = tokio::process::Command::new(&intake)
        .args(["station", "push"])
        .arg(&dir)
        .args([
            "--station",
            station,
            "--operator",
            "local-run",
            "--key-file",
        ])
        .arg(&key_file)
        .envs(env)
        .kill_on_drop(true)
        .spawn()
        .context("running intake station push")?;
    let pid = push.id().unwrap_or(0);
    let mut command_peak = 0;
    let status = loop {
        command_peak = command_peak.max(intake_local::process::peak_memory_kib(pid).unwrap_or(0));
        if let Some(status) = push.try_wait()? {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let wall = started.elapsed();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "station batch of {count}: {:.1} s from the first hash to the final report; peak memory: intake station push {:.0} MiB",
        wall.as_secs_f64(),
        mib(command_peak)
    );
    for name in ["intake-api", "validate", "notify"] {
        if let Some(kib) = stack.function(name).peak_memory_kib() {
            println!("  {name}: {:.0} MiB peak (debug build)", mib(kib));
        }
    }
    anyhow::ensure!(status.success(), "intake station push: {status}");
    Ok(())
}

/// Counts `documents` documents in `day` as notify does (one counter update per document, into
/// its shard), one writer per shard, as the system spreads its writes. (moto alone lost an ADD in
/// 100,000 when writers shared shards: its UpdateItem is a read and a write. The local AWS now runs
/// DynamoDB requests one at a time; `tests/tests/local_aws.rs`.)
async fn count_day(
    table: &CountsTable,
    day: jiff::civil::Date,
    documents: usize,
    shards: u32,
) -> anyhow::Result<Duration> {
    let rules = intake::domain::routing::RoutingRules::bundled()?;
    let services: Vec<&str> = intake::domain::services::SERVICES
        .iter()
        .map(|s| s.id)
        .collect();
    let sites: Vec<String> = rules.sites().map(|s| s.id.clone()).collect();
    let started = Instant::now();
    let mut by_shard: Vec<Vec<usize>> = vec![Vec::new(); shards as usize];
    for i in 0..documents {
        let shard = intake::report::shard_of(&format!("bench-{day}-{i}"), shards);
        by_shard[shard as usize].push(i);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (shard, mine) in by_shard.into_iter().enumerate() {
        let shard = shard as u32;
        let table = table.clone();
        let services = services.clone();
        let sites = sites.clone();
        let rules = rules.clone();
        tasks.spawn(async move {
            for i in mine {
                let id = format!("bench-{day}-{i}");
                let scan = i % 2 == 0;
                let record = intake::domain::model::DocumentRecord {
                    id: id.clone(),
                    channel: Some(if scan {
                        intake::domain::model::Channel::DropBox
                    } else {
                        intake::domain::model::Channel::Web
                    }),
                    site: scan.then(|| sites[i % sites.len()].clone()),
                    service: Some(services[i % services.len()].to_string()),
                    status: Some(intake::domain::model::DocumentStatus::Accepted),
                    ..intake::domain::model::DocumentRecord::default()
                };
                let department = rules
                    .route(intake::domain::routing::Origin::Web {
                        service: record.service.as_deref(),
                    })
                    .department;
                let counters: Vec<(String, i64)> =
                    intake::report::counter_names(&record, &department)
                        .into_iter()
                        .map(|c| (c, 1))
                        .collect();
                table.add_counts(day, shard, &counters).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed())
}

/// The report's cost against the day's volume: a day of 1,000 documents and one of 100,000.
async fn report_bench(stack: &Stack) -> anyhow::Result<()> {
    let aws = Aws {
        config: stack.sdk_config().await,
        s3_force_path_style: true,
    };
    let table = CountsTable::new(&aws, &stack.outputs.counts_table);
    let shards = stack.outputs.counter_shards;
    println!(
        "\nreport benchmark: counting documents as notify does, then timing each day's report"
    );
    for (day, documents) in [("2024-05-06", 1_000usize), ("2024-05-07", 100_000)] {
        let day: jiff::civil::Date = day.parse()?;
        let counting = count_day(&table, day, documents, shards).await?;
        let mut times = Vec::new();
        let mut total = serde_json::Value::Null;
        for _ in 0..3 {
            let started = Instant::now();
            let answer = stack
                .function("aggregate")
                .invoke(
                    serde_json::json!({ "day": day.to_string() })
                        .to_string()
                        .into(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("aggregate: {e:?}"))?;
            times.push(started.elapsed());
            total = serde_json::from_slice::<serde_json::Value>(&answer)?["total"].clone();
        }
        times.sort();
        anyhow::ensure!(
            total == documents,
            "the report counted {total}, not {documents}"
        );
        println!(
            "  {day}: {documents:>7} documents counted in {:.1} s ({:.0}/s); report (day, month and year to date, a year earlier: {} counter items) median {:.0} ms of 3",
            counting.as_secs_f64(),
            documents as f64 / counting.as_secs_f64(),
            intake::report::days_for_daily_report(day).len() * shards as usize,
            times[1].as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

/// Submits `n` documents at once (child benefit, so one department's queue) and measures, for
/// each, the time from the end of its upload to its notification arriving in the queue.
async fn notify_latency(stack: &Stack, n: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let department = "centrum-swiadczen";
    let queue = stack
        .outputs
        .department_queues
        .get(department)
        .context("no queue for the benefits centre")?
        .clone();
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config().await);
    println!("\nnotification latency: {n} documents submitted at once...");
    let poller = &stack.notify_poller.stats;
    let read = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::SeqCst);
    let before = (
        read(&poller.processed),
        read(&poller.filtered_out),
        read(&poller.batches),
    );
    let started = Instant::now();
    let uploads = (0..n).map(|i| {
        let http = http.clone();
        let api = stack.api_url.clone();
        async move {
            let pdf = intake::engine::pdf::samples::minimal_pdf(
                1,
                &format!("latency {i} {}", jiff::Timestamp::now()),
            );
            let submission =
                intake_local::browser::submit(&http, &api, "child-benefit", "wniosek.pdf", pdf)
                    .await?;
            anyhow::Ok((submission.upload_id, Instant::now()))
        }
    });
    let uploaded: Vec<(String, Instant)> = futures_join_all(uploads).await?;
    let uploads_done = started.elapsed();
    let ours: std::collections::HashSet<&str> =
        uploaded.iter().map(|(id, _)| id.as_str()).collect();
    let mut arrived: std::collections::HashMap<String, Instant> = std::collections::HashMap::new();
    while arrived.len() < n && started.elapsed() < Duration::from_secs(600) {
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await?;
        for message in received.messages.unwrap_or_default() {
            let body: serde_json::Value =
                serde_json::from_str(message.body.as_deref().unwrap_or("{}"))?;
            // The samples of the local run went to this queue too; only this batch counts.
            if let Some(id) = body["document_id"].as_str().filter(|id| ours.contains(id)) {
                arrived.entry(id.to_string()).or_insert_with(Instant::now);
            }
            sqs.delete_message()
                .queue_url(&queue)
                .set_receipt_handle(message.receipt_handle)
                .send()
                .await?;
        }
    }
    let mut latencies: Vec<Duration> = uploaded
        .iter()
        .filter_map(|(id, at)| arrived.get(id).map(|arrival| arrival.duration_since(*at)))
        .collect();
    latencies.sort();
    anyhow::ensure!(
        latencies.len() == n,
        "{} of {n} notifications arrived",
        latencies.len()
    );
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "  uploads took {:.1?}; upload to queue: median {:.1?}, p95 {:.1?}, max {:.1?}; all {n} notified {:.1?} after the first upload began",
        uploads_done,
        pick(0.5),
        pick(0.95),
        pick(1.0),
        started.elapsed()
    );
    // Settle: notify's own writes come back through the stream after the notifications.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let records = read(&poller.processed) - before.0;
    let filtered = read(&poller.filtered_out) - before.1;
    let per = |count: u64| count as f64 / n as f64;
    println!(
        "  notify's stream: {:.2} records a document, {:.2} of them filtered out by the mapping \
         (so {:.2} reach notify, in {:.2} invocations a document)",
        per(records),
        per(filtered),
        per(records - filtered),
        per(read(&poller.batches) - before.2)
    );
    Ok(())
}

/// Runs futures side by side and collects their results in order.
async fn futures_join_all<T: Send + 'static>(
    futures: impl Iterator<Item = impl std::future::Future<Output = anyhow::Result<T>> + Send + 'static>,
) -> anyhow::Result<Vec<T>> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect::<Vec<_>>();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await??);
    }
    Ok(out)
}

/// The random tail of a time-ordered id (its head is the same for ids made close together).
fn short_id(id: &str) -> String {
    let tail: String = id.chars().rev().take(12).collect();
    format!("…{}", tail.chars().rev().collect::<String>())
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("  {}", padded.join("  "));
    };
    println!();
    line(header.to_vec());
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    println!();
}
