//! The local run: the whole system on a local AWS, with the web-form samples pushed through it
//! exactly as a browser would, and a table of what became of each.
//!
//! Run it with `scripts/local-run` (which builds the functions first).

use std::time::{Duration, Instant};

use anyhow::Context;
use intake::adapters::Aws;
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
    let result = push_samples(&stack).await;
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
            "reasons",
            "pages",
            "stored at",
            "as expected",
        ],
        &rows,
    );
    anyhow::ensure!(
        all_right,
        "some samples did not get the outcome they should"
    );
    Ok(())
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
