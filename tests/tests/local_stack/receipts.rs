//! The incoming register and the receipts on the local stack: every document from every
//! channel, accepted or not, gets a register number once (gapless under a burst and under
//! redelivery) and a receipt signed through KMS that pyHanko, an independent validator,
//! verifies as intact, valid and trusted under the test CA, time-stamped by the test TSA.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use intake::domain::model::{Channel, DocumentRecord, DocumentStatus};
use intake::engine::pdf::samples::minimal_pdf;
use intake::register::RegisterNumber;
use intake_local::browser;
use intake_local::stack::wait_until;
use serde_json::Value;

use crate::stack;

const PATIENCE: Duration = Duration::from_secs(180);

/// A work directory of this file's tests.
fn work_dir(name: &str) -> PathBuf {
    let dir = intake_local::workspace_root()
        .join("target/local-stack-tests")
        .join(format!("receipts-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

/// The document's receipt from `GET /uploads/{id}/receipt`, once it is issued.
pub async fn receipt_of(http: &reqwest::Client, id: &str) -> Vec<u8> {
    browser::wait_for_receipt(http, &stack().api_url, id, PATIENCE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Writes a receipt where pyHanko can read it.
pub fn keep(dir: &Path, id: &str, pdf: &[u8]) -> PathBuf {
    let path = dir.join(format!("{id}.pdf"));
    std::fs::write(&path, pdf).expect("write the receipt");
    path
}

/// pyHanko's verdicts (tests/local-aws/verify_receipts.py) under the stack's test CA.
pub fn pyhanko(files: &[PathBuf]) -> Vec<Value> {
    let script = intake_local::workspace_root().join("tests/local-aws/verify_receipts.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(stack().pki.ca_pem())
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "pyHanko: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// pyHanko finds the receipt whole, valid, trusted, time-stamped, covering the file, and
/// stating the document's own register number and SHA-256.
pub fn assert_trusted(verdict: &Value, record: &DocumentRecord) {
    assert_eq!(verdict["intact"], true, "{verdict}");
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["trusted"], true, "{verdict}");
    assert_eq!(verdict["coverage"], "ENTIRE_FILE", "{verdict}");
    assert_eq!(verdict["timestamp"]["trusted"], true, "{verdict}");
    assert_eq!(
        verdict["register_number"].as_str(),
        record.register_number.as_deref(),
        "{verdict}"
    );
    assert_eq!(
        verdict["sha256"].as_str(),
        record.sha256.as_deref(),
        "{verdict}"
    );
}

/// The receipt of every one of `ids`, read from the archive as soon as it is issued, is
/// verified by pyHanko as whole, valid and trusted, stating the document's own register number
/// and SHA-256. Every test that has documents judged ends with this, so that every receipt the
/// suite produces is checked by a validator other than ours.
pub async fn assert_every_receipt_trusted(test: &str, ids: &[String]) {
    let dir = work_dir(&format!("every-{test}"));
    let s = stack();
    let table = s.table().await;
    let s3 = s.s3().await;
    let archive = s.outputs.buckets["archive"].clone();
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        let key = intake::adapters::s3::receipt_key(id);
        wait_until(
            &format!("the receipt of {id} is issued"),
            PATIENCE,
            || async {
                s3.head_object()
                    .bucket(&archive)
                    .key(&key)
                    .send()
                    .await
                    .is_ok()
            },
        )
        .await;
        files.push(keep(&dir, id, &s.object_bytes(&archive, &key).await));
    }
    // pyHanko once per hundred receipts: one interpreter's start instead of one per file.
    let mut verdicts = Vec::with_capacity(files.len());
    for chunk in files.chunks(100) {
        verdicts.extend(pyhanko(chunk));
    }
    assert_eq!(verdicts.len(), ids.len(), "one verdict per receipt");
    for (verdict, id) in verdicts.iter().zip(ids) {
        let record = table.get(id).await.expect("read").expect("record");
        assert_trusted(verdict, &record);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_and_a_rejected_upload_each_get_a_number_and_a_receipt_pyhanko_trusts() {
    let http = reqwest::Client::new();
    let api = &stack().api_url;
    let dir = work_dir("web");
    let table = stack().table().await;
    let mut kept = Vec::new();
    let mut records = Vec::new();
    for (name, bytes, status) in [
        (
            "wniosek.pdf",
            minimal_pdf(2, "receipts: accepted"),
            "accepted",
        ),
        ("to-nie-pdf.pdf", b"not a PDF at all".to_vec(), "rejected"),
    ] {
        let submission = browser::submit(&http, api, "general-letter", name, bytes)
            .await
            .expect("submitted");
        let id = submission.upload_id;
        let verdict = browser::wait_for_verdict(&http, api, &id, PATIENCE)
            .await
            .expect("a verdict");
        assert_eq!(verdict["status"], status, "{verdict}");
        let receipt = receipt_of(&http, &id).await;
        // The status names the number and where the receipt is.
        let (_, status) = browser::upload_status(&http, api, &id)
            .await
            .expect("status");
        let record = table.get(&id).await.expect("read").expect("record");
        let number = record.register_number.clone().expect("registered");
        assert!(
            RegisterNumber::parse(&number).is_some_and(|n| n.office == "UMK"),
            "{number}"
        );
        assert_eq!(status["register_number"], number.as_str());
        assert_eq!(status["receipt"], format!("/uploads/{id}/receipt"));
        // The department is told the number.
        if record.department.is_some() {
            wait_until("the department is told", PATIENCE, || async {
                stack()
                    .notifications
                    .lock()
                    .is_ok_and(|log| log.contains_key(&id))
            })
            .await;
            let told = stack().notifications.lock().expect("log")[&id][0]
                .body
                .clone();
            assert_eq!(told["register_number"], number.as_str(), "{told}");
        }
        kept.push(keep(&dir, &id, &receipt));
        records.push(record);
    }
    // One byte changed in the accepted document's receipt (in its first signed range).
    let mut altered = std::fs::read(&kept[0]).expect("read");
    let at = altered.len() / 50;
    altered[at] ^= 0x01;
    let altered_path = dir.join("altered.pdf");
    std::fs::write(&altered_path, altered).expect("write");
    let mut files = kept.clone();
    files.push(altered_path);
    let verdicts = pyhanko(&files);
    for (verdict, record) in verdicts.iter().zip(&records) {
        assert_trusted(verdict, record);
    }
    let altered = &verdicts[2];
    assert!(
        altered["intact"] == false || altered.get("error").is_some(),
        "a receipt with one byte changed is not intact: {altered}"
    );
}

/// A judged web document received at `received_at`, recorded as validate records it.
async fn judged(received_at: &str) -> String {
    let id = intake::domain::keys::new_document_id();
    let at: intake::domain::time::Timestamp = received_at.parse().expect("a time");
    let bytes = minimal_pdf(1, &id);
    stack()
        .table()
        .await
        .record_verdict(&DocumentRecord {
            id: id.clone(),
            channel: Some(Channel::Web),
            service: Some("general-letter".into()),
            status: Some(DocumentStatus::Accepted),
            sha256: Some(intake::engine::hashing::DocumentHash::of(&bytes).to_hex()),
            size: Some(bytes.len() as u64),
            received_at: Some(intake::domain::time::utc_rfc3339(at)),
            received_day: Some(intake::domain::time::office_day(at)),
            ..DocumentRecord::default()
        })
        .await
        .expect("record");
    id
}

/// The last number of the office's register for `year`, as its counter item holds it.
async fn register_last(year: i16) -> u64 {
    let dynamodb = aws_sdk_dynamodb::Client::new(&stack().sdk_config().await);
    let item = dynamodb
        .get_item()
        .table_name(&stack().outputs.register_table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("register#UMK#{year}")),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("read the register");
    item.item()
        .and_then(|i| i.get("last"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Each document's register number, once every one has one.
async fn numbers_of(ids: &[String]) -> Vec<String> {
    let table = stack().table().await;
    let mut numbers = Vec::new();
    for id in ids {
        wait_until(&format!("{id} is registered"), PATIENCE, || async {
            table
                .get(id)
                .await
                .ok()
                .flatten()
                .is_some_and(|r| r.register_number.is_some())
        })
        .await;
        let record = table.get(id).await.expect("read").expect("record");
        numbers.push(record.register_number.expect("a number"));
    }
    numbers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_documents_at_once_take_1_to_200_and_a_redelivery_takes_no_number() {
    // 2034's register is this test's alone.
    let year = 2034;
    let ids: Vec<String> = futures_join(200, |i| {
        judged_owned(format!(
            "{year}-03-01T09:00:{:02}.{:03}Z",
            i / 1000 % 60,
            i % 1000
        ))
    })
    .await;
    let numbers = numbers_of(&ids).await;
    let sequences: BTreeSet<u64> = numbers
        .iter()
        .map(|n| RegisterNumber::parse(n).expect("a register number"))
        .inspect(|n| assert_eq!((n.office.as_str(), n.year), ("UMK", year)))
        .map(|n| n.sequence)
        .collect();
    assert_eq!(sequences, (1..=200).collect(), "unique and gapless");
    assert_eq!(register_last(year).await, 200);

    // The stream delivers every one of their records again: nothing is numbered twice.
    let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let events = stack().delivered_to_notify(|event| {
        event
            .to_string()
            .split('"')
            .any(|token| wanted.contains(token))
    });
    assert!(!events.is_empty());
    for answer in stack().redeliver_to_notify(&events).await {
        assert_eq!(
            answer["batchItemFailures"],
            serde_json::json!([]),
            "{answer}"
        );
    }
    assert_eq!(numbers_of(&ids).await, numbers);
    assert_eq!(register_last(year).await, 200);

    // And each has its receipt, which pyHanko trusts.
    assert_every_receipt_trusted("burst", &ids).await;
}

async fn judged_owned(received_at: String) -> String {
    judged(&received_at).await
}

/// Runs `n` of `make` at once and collects their answers in order.
async fn futures_join<F, Fut>(n: usize, make: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("a task"));
    }
    out
}
