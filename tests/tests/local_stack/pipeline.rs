//! The web-form pipeline end to end on the local stack: moto, `infra/` applied with terraform,
//! and the real function binaries under the Lambda Runtime API emulation, driven through the
//! real AWS SDK and HTTP exactly as a browser and AWS would.
//!
//! One stack serves every test in this file (terraform against moto takes about a minute and a
//! half); each test uses its own documents, so they can run side by side.

use std::time::{Duration, Instant};

use intake::adapters::dynamodb::DocumentTable;
use intake::domain::model::DocumentStatus;
use intake::engine::hashing::DocumentHash;
use intake::engine::pdf::samples::minimal_pdf;
use intake_local::browser;
use intake_local::proxy::{Fault, FaultRule};
use intake_local::stack::wait_until;

use crate::{
    DEPARTMENT_CLERK, MAX_UPLOAD_BYTES, SIGNATURE_REQUIRED_SERVICE, signature_fixture, stack,
};
use serde_json::json;

const VERDICT_TIMEOUT: Duration = Duration::from_secs(120);

async fn table() -> DocumentTable {
    stack().table().await
}

fn bucket(name: &str) -> String {
    stack().outputs.buckets[name].clone()
}

async fn object_bytes(bucket: &str, key: &str) -> Vec<u8> {
    stack().object_bytes(bucket, key).await
}

async fn object_exists(bucket: &str, key: &str) -> bool {
    let s3 = stack().s3().await;
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => false,
        Err(e) => panic!("s3://{bucket}/{key}: {e}"),
    }
}

async fn version_count(bucket: &str, key: &str) -> usize {
    let s3 = stack().s3().await;
    let versions = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .send()
        .await
        .expect("list versions");
    versions
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .count()
}

async fn submit_and_wait(http: &reqwest::Client, name: &str, bytes: Vec<u8>) -> serde_json::Value {
    submit_for_service_and_wait(http, "general-letter", name, bytes).await
}

async fn submit_for_service_and_wait(
    http: &reqwest::Client,
    service: &str,
    name: &str,
    bytes: Vec<u8>,
) -> serde_json::Value {
    let api = &stack().api_url;
    let submission = browser::submit(http, api, service, name, bytes)
        .await
        .expect("submission");
    browser::wait_for_verdict(http, api, &submission.upload_id, VERDICT_TIMEOUT)
        .await
        .expect("verdict")
}

/// The upload id a status answer names.
fn id_of(status: &serde_json::Value) -> String {
    status["upload_id"]
        .as_str()
        .expect("an upload id")
        .to_string()
}

async fn queue_depth(queue_url: &str) -> (u64, u64) {
    let sqs = aws_sdk_sqs::Client::new(&stack().sdk_config().await);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .expect("queue attributes");
    let get = |name: aws_sdk_sqs::types::QueueAttributeName| {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages),
        get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

#[tokio::test]
async fn web_form_samples_get_the_right_verdicts_and_everything_is_kept() {
    let s = stack();
    let http = reqwest::Client::new();
    let table = table().await;
    let samples = intake_local::samples::web_form_samples(&uuid::Uuid::now_v7().to_string());
    let mut first_valid: Option<(String, String)> = None;
    let mut ids = Vec::new();
    for sample in samples {
        let submission = browser::submit(
            &http,
            &s.api_url,
            sample.service,
            sample.file_name,
            sample.bytes.clone(),
        )
        .await
        .expect("submission");
        ids.push(submission.upload_id.clone());
        let verdict =
            browser::wait_for_verdict(&http, &s.api_url, &submission.upload_id, VERDICT_TIMEOUT)
                .await
                .expect("verdict");
        assert_eq!(
            verdict["status"], sample.expected_status,
            "{}: {verdict}",
            sample.label
        );
        let codes: Vec<&str> = verdict["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        if let Some(reason) = sample.expected_reason {
            assert_eq!(codes, vec![reason], "{}", sample.label);
        }
        let hash = DocumentHash::of(&sample.bytes).to_hex();
        assert_eq!(verdict["sha256"], hash.as_str(), "{}", sample.label);
        assert_eq!(verdict["size"], sample.bytes.len(), "{}", sample.label);

        let record = table
            .get(&submission.upload_id)
            .await
            .expect("read")
            .expect("record exists");
        assert_eq!(record.service.as_deref(), Some(sample.service));
        assert_eq!(record.file_name.as_deref(), Some(sample.file_name));
        assert!(record.received_day.is_some() && record.received_at.is_some());
        let storage = record.storage.clone().expect("stored somewhere");
        // Whatever the verdict, the exact bytes are kept.
        assert_eq!(
            object_bytes(&storage.bucket, &storage.key).await,
            sample.bytes,
            "{}",
            sample.label
        );
        match sample.expected_status {
            "accepted" => {
                assert_eq!(storage.bucket, bucket("archive"));
                assert_eq!(
                    storage.key,
                    intake::domain::keys::archive_key(&DocumentHash::of(&sample.bytes))
                );
                assert_eq!(verdict["pages"], 2);
                first_valid = Some((submission.upload_id.clone(), storage.key.clone()));
            }
            "rejected" => assert_eq!(storage.bucket, bucket("quarantine")),
            "duplicate" => {
                let (original, key) = first_valid.clone().expect("original first");
                assert_eq!(verdict["duplicate_of"], original.as_str());
                assert_eq!(
                    storage.key, key,
                    "a duplicate points to the original's bytes"
                );
                assert_eq!(version_count(&bucket("archive"), &key).await, 1);
                let same_bytes = table
                    .find_by_sha256(&DocumentHash::of(&sample.bytes))
                    .await
                    .expect("query by sha256");
                let mut statuses: Vec<_> = same_bytes.iter().filter_map(|r| r.status).collect();
                statuses.sort_by_key(|s| s.as_str());
                assert_eq!(
                    statuses,
                    vec![DocumentStatus::Accepted, DocumentStatus::Duplicate]
                );
            }
            other => panic!("unexpected expectation {other}"),
        }
    }
    // Both functions ran as binaries booted through the Lambda Runtime API.
    for name in ["intake-api", "validate"] {
        let stats = s.function(name).stats();
        assert!(
            stats.cold_starts >= 1 && stats.responses >= 1,
            "{name}: {stats:?}"
        );
    }
    // The mapping's filters kept what notify does not act on (pending uploads, hash claims,
    // ledger items) from waking it, and every notification above still came.
    let filtered = s
        .notify_poller
        .stats
        .filtered_out
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(filtered > 0, "no stream record was filtered out");
    // The Terraform filters let through exactly what the library says wakes notify: the
    // poller held every record it read against both.
    let checked = s
        .notify_poller
        .stats
        .checked
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(checked > 0);
    let disagreements = s
        .notify_poller
        .disagreements
        .lock()
        .map(|d| d.clone())
        .unwrap_or_default();
    assert!(
        disagreements.is_empty(),
        "the filters and wakes_notify disagree on {disagreements:?}"
    );
    // And the receipts function's filter lets through what wakes_receipts says.
    let receipts = &s.receipts_poller;
    assert!(
        receipts
            .stats
            .checked
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
    );
    let disagreements = receipts
        .disagreements
        .lock()
        .map(|d| d.clone())
        .unwrap_or_default();
    assert!(
        disagreements.is_empty(),
        "the filters and wakes_receipts disagree on {disagreements:?}"
    );
    crate::receipts::assert_every_receipt_trusted("web-samples", &ids).await;
}

#[tokio::test]
async fn the_api_refuses_bad_requests_with_a_json_error() {
    let s = stack();
    let http = reqwest::Client::new();
    let api = &s.api_url;
    let cases = [
        (json!("not an object"), 400, "malformed_request"),
        (
            json!({"service": "child-benefit", "file_name": "a.pdf"}),
            400,
            "malformed_request",
        ),
        (
            json!({"service": "dog-licence", "file_name": "a.pdf", "size": 10}),
            400,
            "unknown_service",
        ),
        (
            json!({"service": "child-benefit", "file_name": "a.pdf", "size": MAX_UPLOAD_BYTES + 1}),
            413,
            "too_large",
        ),
        (
            json!({"service": "child-benefit", "file_name": "a.docx", "size": 10}),
            400,
            "invalid_field",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = browser::request_upload(&http, api, &body)
            .await
            .expect("answer");
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let raw = http
        .post(format!("{api}/uploads"))
        .header("content-type", "application/json")
        .body("{\"service\": ")
        .send()
        .await
        .expect("answer");
    assert_eq!(raw.status().as_u16(), 400);

    for (method, path, status) in [
        ("GET", "/uploads/01a2c0de-0000-7000-8000-000000000000", 404),
        ("GET", "/uploads/not-an-id", 404),
        (
            "DELETE",
            "/uploads/01a2c0de-0000-7000-8000-000000000000",
            405,
        ),
        ("GET", "/uploads", 405),
        ("GET", "/admin", 404),
    ] {
        let answer = http
            .request(method.parse().expect("method"), format!("{api}{path}"))
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status().as_u16(), status, "{method} {path}");
        let body: serde_json::Value = answer.json().await.expect("JSON error body");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }

    // An upload that was requested but never sent is pending, with what was declared.
    let (status, created) = browser::request_upload(
        &http,
        api,
        &json!({"service": "voter-register-entry", "file_name": "spis.pdf", "size": 100,
                "applicant_reference": "WY-2020/17"}),
    )
    .await
    .expect("answer");
    assert_eq!(status, 201, "{created}");
    let id = created["upload_id"].as_str().expect("id");
    let (status, pending) = browser::upload_status(&http, api, id)
        .await
        .expect("status");
    assert_eq!(status, 200);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["applicant_reference"], "WY-2020/17");
    let fields = created["upload"]["fields"].as_object().expect("fields");
    assert_eq!(fields["key"], format!("incoming/web/{id}.pdf").as_str());
    assert!(fields.contains_key("policy") && fields.contains_key("x-amz-signature"));
    assert_eq!(fields["x-amz-security-token"], "local-session-token");
}

/// Requests an upload with `request`, posts `bytes` instead, and checks the rejection with
/// `code` and that the exact bytes are kept.
async fn send_other_than_declared(
    http: &reqwest::Client,
    request: &serde_json::Value,
    bytes: &[u8],
    code: &str,
) -> serde_json::Value {
    let api = &stack().api_url;
    let (status, created) = browser::request_upload(http, api, request)
        .await
        .expect("answer");
    assert_eq!(status, 201, "{created}");
    browser::post_file(http, &created, "declared.pdf", bytes.to_vec())
        .await
        .expect("post");
    let id = created["upload_id"].as_str().expect("id");
    let verdict = browser::wait_for_verdict(http, api, id, VERDICT_TIMEOUT)
        .await
        .expect("verdict");
    assert_eq!(verdict["status"], "rejected", "{verdict}");
    assert_eq!(verdict["reasons"][0]["code"], code, "{verdict}");
    let record = table().await.get(id).await.expect("read").expect("record");
    let storage = record.storage.expect("kept");
    assert_eq!(object_bytes(&storage.bucket, &storage.key).await, bytes);
    verdict
}

#[tokio::test]
async fn bytes_that_differ_from_the_declaration_or_exceed_the_limit_are_rejected_and_kept() {
    let s = stack();
    let http = reqwest::Client::new();
    let tag = uuid::Uuid::now_v7().to_string();

    // Declared one document, sent another: changed in transit.
    let declared = minimal_pdf(1, &format!("declared {tag}"));
    let sent = minimal_pdf(1, &format!("altered {tag}"));
    let request = json!({"service": "treasury-letter", "file_name": "a.pdf", "size": declared.len(),
        "sha256": DocumentHash::of(&declared).to_hex()});
    let (status, _) = browser::request_upload(&http, &s.api_url, &request)
        .await
        .expect("answer");
    assert_eq!(status, 400, "unknown service refused up front");
    let request = json!({"service": "general-letter", "file_name": "a.pdf", "size": declared.len(),
        "sha256": DocumentHash::of(&declared).to_hex()});
    // moto does not check the form's checksum field; real S3 would refuse this POST already.
    let mismatched = send_other_than_declared(&http, &request, &sent, "hash_mismatch").await;

    // Declared small, sent more than the limit (S3 enforces the form's size range; moto does not).
    let mut oversized = minimal_pdf(1, &format!("big {tag}"));
    oversized.resize(MAX_UPLOAD_BYTES as usize + 1000, b' ');
    let request = json!({"service": "general-letter", "file_name": "big.pdf", "size": 1000});
    let verdict = send_other_than_declared(&http, &request, &oversized, "too_large").await;
    assert_eq!(
        verdict["sha256"],
        DocumentHash::of(&oversized).to_hex().as_str()
    );
    crate::receipts::assert_every_receipt_trusted(
        "declared",
        &[id_of(&mismatched), id_of(&verdict)],
    )
    .await;
}

#[tokio::test]
async fn a_redelivered_message_leaves_one_archive_object_and_one_record() {
    let s = stack();
    let http = reqwest::Client::new();
    let table = table().await;
    let bytes = minimal_pdf(3, &format!("redelivered {}", uuid::Uuid::now_v7()));
    let verdict = submit_and_wait(&http, "raz.pdf", bytes.clone()).await;
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    let id = verdict["upload_id"].as_str().expect("id").to_string();
    // notify writes the department once the verdict is in; the record is complete after that.
    wait_until("the document is routed", VERDICT_TIMEOUT, || async {
        table
            .get(&id)
            .await
            .ok()
            .flatten()
            .is_some_and(|r| r.department.is_some())
    })
    .await;
    let before = table.get(&id).await.expect("read").expect("record");

    // The message S3 sent, delivered again twice (SQS is at-least-once).
    let body = s
        .validate_poller
        .delivered
        .lock()
        .expect("lock")
        .iter()
        .find(|b| b.contains(&id))
        .cloned()
        .expect("the notification for the upload was delivered");
    let sqs = aws_sdk_sqs::Client::new(&s.sdk_config().await);
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(&s.outputs.validate_queue_url)
            .message_body(&body)
            .send()
            .await
            .expect("send");
    }
    let delivered = || {
        s.validate_poller
            .delivered
            .lock()
            .expect("lock")
            .iter()
            .filter(|b| b.contains(&id))
            .count()
    };
    wait_until("both redeliveries", VERDICT_TIMEOUT, || async {
        delivered() >= 3
    })
    .await;
    // Let the last batch finish: the record must not change.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let after = table.get(&id).await.expect("read").expect("record");
    assert_eq!(after, before, "the record is written once");
    let key = intake::domain::keys::archive_key(&DocumentHash::of(&bytes));
    assert_eq!(version_count(&bucket("archive"), &key).await, 1);
    assert_eq!(
        table
            .find_by_sha256(&DocumentHash::of(&bytes))
            .await
            .expect("query")
            .len(),
        1
    );
    crate::receipts::assert_every_receipt_trusted("redelivered", &[id]).await;
}

#[tokio::test]
async fn a_function_killed_in_the_middle_of_a_batch_loses_nothing_and_stores_once() {
    let s = stack();
    let http = reqwest::Client::new();
    let table = table().await;
    let validate = s.function("validate");
    let tag = uuid::Uuid::now_v7().to_string();
    let first = minimal_pdf(1, &format!("first of the batch {tag}"));
    let second = minimal_pdf(1, &format!("second of the batch {tag}"));

    s.validate_poller.pause();
    let mut ids = Vec::new();
    for (name, bytes) in [("1.pdf", &first), ("2.pdf", &second)] {
        let submission = browser::submit(&http, &s.api_url, "general-letter", name, bytes.clone())
            .await
            .expect("submission");
        ids.push(submission.upload_id);
    }
    wait_until(
        "both notifications queued",
        Duration::from_secs(30),
        || async { queue_depth(&s.outputs.validate_queue_url).await.0 >= 2 },
    )
    .await;
    // Die exactly when storing the second document: its hash is claimed, its bytes not yet
    // archived, its record not yet written.
    let second_key = intake::domain::keys::archive_key(&DocumentHash::of(&second));
    validate.inject(FaultRule {
        method: "PUT".into(),
        path_contains: second_key.clone(),
        body_contains: String::new(),
        fault: Fault::KillFunction,
    });
    let crashes_before = validate.stats().crashes;
    s.validate_poller.resume();

    for (id, bytes) in ids.iter().zip([&first, &second]) {
        let verdict = browser::wait_for_verdict(&http, &s.api_url, id, VERDICT_TIMEOUT)
            .await
            .expect("verdict after redelivery");
        assert_eq!(verdict["status"], "accepted", "{verdict}");
        let key = intake::domain::keys::archive_key(&DocumentHash::of(bytes));
        assert_eq!(version_count(&bucket("archive"), &key).await, 1);
        assert_eq!(object_bytes(&bucket("archive"), &key).await, *bytes);
        let records = table
            .find_by_sha256(&DocumentHash::of(bytes))
            .await
            .expect("query");
        assert_eq!(records.len(), 1, "one record for {id}");
        assert_eq!(records[0].id, *id);
    }
    assert!(
        validate.stats().crashes > crashes_before,
        "the injected crash happened: {:?}",
        validate.stats()
    );
    crate::receipts::assert_every_receipt_trusted("killed", &ids).await;
}

#[tokio::test]
async fn an_unreadable_message_goes_to_the_dead_letter_queue_and_holds_nothing_back() {
    let s = stack();
    let http = reqwest::Client::new();
    let sqs = aws_sdk_sqs::Client::new(&s.sdk_config().await);
    let marker = format!("not an S3 event {}", uuid::Uuid::now_v7());
    sqs.send_message()
        .queue_url(&s.outputs.validate_queue_url)
        .message_body(&marker)
        .send()
        .await
        .expect("send");
    let bytes = minimal_pdf(
        1,
        &format!("next to a poison message {}", uuid::Uuid::now_v7()),
    );
    let verdict = submit_and_wait(&http, "ok.pdf", bytes).await;
    assert_eq!(verdict["status"], "accepted");
    let id = id_of(&verdict);

    wait_until(
        "the poison message in the DLQ",
        Duration::from_secs(90),
        || async {
            let received = sqs
                .receive_message()
                .queue_url(&s.outputs.validate_dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await
                .expect("receive");
            received
                .messages()
                .iter()
                .any(|m| m.body() == Some(marker.as_str()))
        },
    )
    .await;
    crate::receipts::assert_every_receipt_trusted("beside-poison", &[id]).await;
}

#[tokio::test]
async fn validate_runs_the_pdf_engine_with_the_channel_policy() {
    use intake::engine::pdf::samples::PdfBuilder;
    let http = reqwest::Client::new();
    let table = table().await;
    let tag = uuid::Uuid::now_v7().to_string();

    let mut builder = PdfBuilder::new(1, &format!("javascript {tag}"));
    let js =
        builder.object("<< /S /JavaScript /JS (app.launchURL\\(\"https://example.org\"\\)) >>");
    let with_js = builder.catalog(&format!("/OpenAction {js} 0 R")).build();
    let verdict = submit_and_wait(&http, "skrypt.pdf", with_js.clone()).await;
    assert_eq!(verdict["status"], "rejected", "{verdict}");
    let codes: Vec<&str> = verdict["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"javascript"), "{verdict}");
    let scripted = id_of(&verdict);
    let record = table
        .get(verdict["upload_id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("record");
    let storage = record.storage.expect("kept");
    assert_eq!(storage.bucket, bucket("quarantine"));
    assert_eq!(object_bytes(&storage.bucket, &storage.key).await, with_js);

    let mut builder = PdfBuilder::new(2, &format!("attachment {tag}"));
    let file = builder.stream("/Type /EmbeddedFile", b"zalacznik");
    let spec = builder.object(format!(
        "<< /Type /Filespec /F (z.txt) /EF << /F {file} 0 R >> >>"
    ));
    let with_attachment = builder.catalog(&format!("/Extra {spec} 0 R")).build();
    let verdict = submit_and_wait(&http, "zalacznik.pdf", with_attachment).await;
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    assert_eq!(verdict["reasons"][0]["code"], "embedded_file");
    assert_eq!(verdict["reasons"][0]["severity"], "warning");
    let record = table
        .get(verdict["upload_id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("record");
    let facts: serde_json::Value =
        serde_json::from_str(record.pdf_facts.as_deref().expect("facts recorded")).expect("JSON");
    assert_eq!(facts["pages"], 2);
    assert_eq!(facts["revisions"].as_array().expect("revisions").len(), 1);
    // Two places carry it: the file specification and the embedded file stream.
    assert_eq!(facts["active_content"]["embedded_file"], 2);
    crate::receipts::assert_every_receipt_trusted("engine", &[scripted, id_of(&verdict)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_judged_against_the_deployed_trust_anchors() {
    let http = reqwest::Client::new();
    let table = table().await;
    let mut ids = Vec::new();

    // A trusted signature (the anchors were deployed by Terraform and read at cold start).
    let verdict = submit_for_service_and_wait(
        &http,
        SIGNATURE_REQUIRED_SERVICE,
        "podpisany.pdf",
        signature_fixture("valid-ecdsa-p256.pdf"),
    )
    .await;
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    ids.push(id_of(&verdict));
    let record = table
        .get(&id_of(&verdict))
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.signature_status.as_deref(), Some("trusted"));
    let signatures: serde_json::Value =
        serde_json::from_str(record.signatures.as_deref().expect("signatures recorded"))
            .expect("JSON");
    assert_eq!(
        signatures[0]["signer"]["name"], "Piotr Wiśniewski (ECDSA P-256)",
        "{signatures}"
    );
    assert_eq!(signatures[0]["trusted"], true);

    // Changed after signing, for a service that does not require a signature: kept, warned.
    let verdict = submit_and_wait(
        &http,
        "zmieniony.pdf",
        signature_fixture("changed-after-signing.pdf"),
    )
    .await;
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    assert_eq!(
        verdict["reasons"][0]["code"], "signature_invalid",
        "{verdict}"
    );
    ids.push(id_of(&verdict));
    let record = table
        .get(&id_of(&verdict))
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.signature_status.as_deref(), Some("invalid"));

    // An untrusted signer where the service requires a trusted signature: rejected and kept.
    let untrusted = signature_fixture("untrusted-signer.pdf");
    let verdict = submit_for_service_and_wait(
        &http,
        SIGNATURE_REQUIRED_SERVICE,
        "obcy.pdf",
        untrusted.clone(),
    )
    .await;
    assert_eq!(verdict["status"], "rejected", "{verdict}");
    assert_eq!(
        verdict["reasons"][0]["code"], "signature_required",
        "{verdict}"
    );
    ids.push(id_of(&verdict));
    let record = table
        .get(&id_of(&verdict))
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.signature_status.as_deref(), Some("valid_untrusted"));
    let storage = record.storage.expect("kept");
    assert_eq!(storage.bucket, bucket("quarantine"));
    assert_eq!(object_bytes(&storage.bucket, &storage.key).await, untrusted);
    crate::receipts::assert_every_receipt_trusted("signatures", &ids).await;
}

/// Submits a document with its `.p7s`, waits for the verdict, and reads the record.
async fn submit_signed_and_wait(
    service: &str,
    file_name: &str,
    document: Vec<u8>,
    p7s: Vec<u8>,
) -> (serde_json::Value, intake::domain::model::DocumentRecord) {
    let http = reqwest::Client::new();
    let api = &stack().api_url;
    let submission = browser::submit_with_detached_signature(
        &http, api, service, file_name, document, p7s, true,
    )
    .await
    .expect("submission");
    let verdict = browser::wait_for_verdict(&http, api, &submission.upload_id, VERDICT_TIMEOUT)
        .await
        .expect("verdict");
    let record = table()
        .await
        .get(&submission.upload_id)
        .await
        .expect("read")
        .expect("record");
    (verdict, record)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_signature_is_verified_against_its_document_and_kept_beside_it() {
    let http = reqwest::Client::new();
    let api = &stack().api_url;
    let p7s = signature_fixture("detached-valid.p7s");
    let mut ids = Vec::new();

    // The document with its .p7s, for a service that requires a trusted signature.
    let (verdict, record) = submit_signed_and_wait(
        SIGNATURE_REQUIRED_SERVICE,
        "wniosek.pdf",
        signature_fixture("detached-document.pdf"),
        p7s.clone(),
    )
    .await;
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    assert_eq!(record.signature_status.as_deref(), Some("trusted"));
    ids.push(record.id.clone());
    let signatures: serde_json::Value =
        serde_json::from_str(record.signatures.as_deref().expect("signatures")).expect("JSON");
    assert_eq!(signatures[0]["format"], "cades", "{signatures}");
    let stored = record.detached_signature_stored.expect("signature kept");
    let (stored_bucket, stored_key) = stored.split_once('/').expect("bucket/key");
    assert_eq!(stored_bucket, bucket("archive"));
    assert_eq!(object_bytes(stored_bucket, stored_key).await, p7s);

    // The same signature over different bytes: not intact, so the service rejects it; both
    // files are kept in quarantine.
    let (verdict, record) = submit_signed_and_wait(
        SIGNATURE_REQUIRED_SERVICE,
        "wniosek-zmieniony.pdf",
        signature_fixture("detached-tampered-document.pdf"),
        p7s.clone(),
    )
    .await;
    assert_eq!(verdict["status"], "rejected", "{verdict}");
    assert_eq!(record.signature_status.as_deref(), Some("invalid"));
    ids.push(record.id.clone());
    let stored = record.detached_signature_stored.expect("signature kept");
    assert!(stored.starts_with(&bucket("quarantine")), "{stored}");

    // Declared and never sent: after the waiting deliveries the document is judged without it.
    let submission = browser::submit_with_detached_signature(
        &http,
        api,
        "general-letter",
        "bez-podpisu.pdf",
        intake::engine::pdf::samples::minimal_pdf(1, &uuid::Uuid::now_v7().to_string()),
        p7s,
        false,
    )
    .await
    .expect("submission");
    let verdict = browser::wait_for_verdict(&http, api, &submission.upload_id, VERDICT_TIMEOUT)
        .await
        .expect("verdict");
    assert_eq!(verdict["status"], "accepted", "{verdict}");
    assert_eq!(
        verdict["reasons"][0]["code"], "detached_signature_missing",
        "{verdict}"
    );
    ids.push(submission.upload_id);
    crate::receipts::assert_every_receipt_trusted("detached", &ids).await;
}

/// The notifications of `documents` (department, body), read by the stack's queue reader:
/// waits until each document has one, then two more quiet seconds for any second one.
async fn collect_notifications(
    documents: &[String],
    timeout: Duration,
) -> std::collections::HashMap<String, Vec<(String, serde_json::Value)>> {
    let snapshot = || {
        let log = stack().notifications.lock().expect("notification log");
        documents
            .iter()
            .filter_map(|id| {
                log.get(id).map(|got| {
                    (
                        id.clone(),
                        got.iter()
                            .map(|n| (n.department.clone(), n.body.clone()))
                            .collect::<Vec<_>>(),
                    )
                })
            })
            .collect::<std::collections::HashMap<_, _>>()
    };
    let start = Instant::now();
    while start.elapsed() < timeout && snapshot().len() < documents.len() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    snapshot()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_department_is_notified_once_of_exactly_its_own_documents() {
    let http = reqwest::Client::new();
    let table = table().await;
    let rules = intake::domain::routing::RoutingRules::bundled().expect("rules");
    let tag = uuid::Uuid::now_v7().to_string();

    // A web-form document for every service: every department has at least one.
    let mut expected: Vec<(String, String)> = Vec::new();
    for service in intake::domain::services::SERVICES {
        let pdf = minimal_pdf(1, &format!("{} {tag}", service.id));
        let verdict = submit_for_service_and_wait(&http, service.id, "wniosek.pdf", pdf).await;
        let department = rules
            .route(intake::domain::routing::Origin::Web {
                service: Some(service.id),
            })
            .department;
        expected.push((
            verdict["upload_id"].as_str().expect("id").to_string(),
            department,
        ));
    }
    // A rejected document goes where the rules say too.
    let mut builder = intake::engine::pdf::samples::PdfBuilder::new(1, &format!("rejected {tag}"));
    let js = builder.object("<< /S /JavaScript /JS (app.alert(1)) >>");
    let rejected = builder.catalog(&format!("/OpenAction {js} 0 R")).build();
    let verdict = submit_for_service_and_wait(&http, "identity-card", "skrypt.pdf", rejected).await;
    assert_eq!(verdict["status"], "rejected", "{verdict}");
    let rejected_id = verdict["upload_id"].as_str().expect("id").to_string();
    expected.push((rejected_id.clone(), "sprawy-administracyjne".into()));

    // Scans as the stations record them (issue 6 brings the stations): one per site, the two-
    // department sites with and without a service deciding, an unknown site and an unknown
    // service.
    let scans = [
        ("rynek-podgorski", None, "jakosc-powietrza"),
        ("os-zgody", Some("crisis-report"), "bezpieczenstwo"),
        ("os-zgody", None, "kancelaria"),
        ("wielicka", Some("identity-card"), "sprawy-administracyjne"),
        (
            "powstania-warszawskiego",
            Some("driving-school-notice"),
            "pojazdy-kierowcy",
        ),
        (
            "powstania-warszawskiego",
            Some("child-benefit"),
            "kancelaria",
        ),
        ("no-such-site", Some("identity-card"), "kancelaria"),
        ("mogilska", Some("no-such-service"), "architektura"),
    ];
    for (site, service, department) in scans {
        let id = intake::domain::keys::new_document_id();
        let record = intake::domain::model::DocumentRecord {
            id: id.clone(),
            channel: Some(intake::domain::model::Channel::DropBox),
            site: Some(site.into()),
            service: service.map(str::to_string),
            status: Some(DocumentStatus::Accepted),
            received_at: Some(intake::domain::time::utc_rfc3339(
                intake::domain::time::Timestamp::now(),
            )),
            ..intake::domain::model::DocumentRecord::default()
        };
        table.record_verdict(&record).await.expect("record");
        expected.push((id, department.to_string()));
    }

    // A web document for a service the rules do not know (the API refuses such an upload, so
    // it is recorded directly, as after a catalogue change): the general office.
    let unknown = intake::domain::keys::new_document_id();
    table
        .record_verdict(&intake::domain::model::DocumentRecord {
            id: unknown.clone(),
            channel: Some(intake::domain::model::Channel::Web),
            service: Some("a-retired-service".into()),
            status: Some(DocumentStatus::Accepted),
            // The day of receipt, which every record has and the register numbers by.
            received_at: Some(intake::domain::time::utc_rfc3339(
                intake::domain::time::Timestamp::now(),
            )),
            ..intake::domain::model::DocumentRecord::default()
        })
        .await
        .expect("record");
    expected.push((unknown, "kancelaria".into()));

    let ids: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
    let seen = collect_notifications(&ids, Duration::from_secs(90)).await;
    let mut copies = 0;
    for (id, department) in &expected {
        let got = seen.get(id).cloned().unwrap_or_default();
        let queues: Vec<&str> = got.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(queues, [department.as_str()], "document {id}");
        let body = &got[0].1;
        assert_eq!(body["schema"], "intake.notification/1");
        assert_eq!(body["department"], *department);
        // The record knows its department (the by_department index works).
        let record = table.get(id).await.expect("read").expect("record");
        assert_eq!(record.department.as_deref(), Some(department.as_str()));
        // An accepted document is copied where the department's role can read it.
        if body["status"] == "accepted" && record.storage.is_some() {
            let copy = body["department_copy"]["key"].as_str().expect("a copy");
            assert_eq!(copy, format!("departments/{department}/{id}.pdf"));
            let archived = body["stored_at"]["key"].as_str().expect("archived");
            assert_eq!(
                object_bytes(&bucket("archive"), copy).await,
                object_bytes(&bucket("archive"), archived).await
            );
            copies += 1;
        } else {
            assert!(body["department_copy"].is_null(), "{body}");
        }
    }
    // Every web document but the unsigned one for the service that requires a signature.
    assert_eq!(copies, intake::domain::services::SERVICES.len() - 1);
    assert_eq!(seen[&rejected_id][0].1["status"], "rejected");
    let departments: std::collections::BTreeSet<&str> =
        expected.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(departments.len(), rules.departments().count());

    // The same stream records delivered again, and a retried batch: no second notification.
    let replays = stack()
        .delivered_to_notify(|event| ids.iter().any(|id| event.to_string().contains(id.as_str())));
    assert!(!replays.is_empty());
    stack().redeliver_to_notify(&replays).await;
    stack().redeliver_to_notify(&replays).await;
    // Anything that arrives for these documents now would be a second notification.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let again = collect_notifications(&ids, Duration::from_secs(1)).await;
    for (id, got) in &again {
        assert_eq!(got.len(), 1, "second notifications for {id}: {got:?}");
    }

    // An operator moves the general letter to the treasury: the treasury is told, the record
    // keeps who, when, from and to; a move to no department is refused.
    let letter = expected
        .iter()
        .find(|(_, d)| d == "kancelaria")
        .map(|(id, _)| id.clone())
        .expect("a general letter");
    let reclassify = |to: &str| {
        std::process::Command::new(intake_local::workspace_root().join("target/debug/intake"))
            .args(["reclassify", &letter, "--to", to, "--by", "jan.nowak"])
            .env("AWS_ENDPOINT_URL", &stack().aws_endpoint)
            .env("AWS_REGION", &stack().region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("INTAKE_TABLE", &stack().outputs.documents_table)
            .output()
            .expect("intake reclassify runs")
    };
    let refused = reclassify("no-such-department");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let moved = reclassify("skarb");
    assert!(moved.status.success(), "{moved:?}");
    wait_until("the treasury is told", Duration::from_secs(60), || async {
        stack()
            .notifications
            .lock()
            .expect("log")
            .get(&letter)
            .is_some_and(|got| got.len() >= 2)
    })
    .await;
    let seen = collect_notifications(std::slice::from_ref(&letter), Duration::from_secs(1)).await;
    let got = seen.get(&letter).cloned().unwrap_or_default();
    let queues: Vec<&str> = got.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(queues, ["kancelaria", "skarb"]);
    assert_eq!(got[1].1["routing"], "reclassified by an operator");
    // The treasury can read it now; the general office no longer can.
    let archive = bucket("archive");
    assert!(object_exists(&archive, &format!("departments/skarb/{letter}.pdf")).await);
    wait_until(
        "the general office's copy is withdrawn",
        Duration::from_secs(30),
        || async {
            !object_exists(&archive, &format!("departments/kancelaria/{letter}.pdf")).await
        },
    )
    .await;
    let record = table.get(&letter).await.expect("read").expect("record");
    assert_eq!(record.department.as_deref(), Some("skarb"));
    let history: serde_json::Value =
        serde_json::from_str(record.department_history.as_deref().expect("history")).expect("JSON");
    assert_eq!(history[0]["from"], "kancelaria");
    assert_eq!(history[0]["to"], "skarb");
    assert_eq!(history[0]["by"], "jan.nowak");

    // Moved back: the general office reads it again (it was told once, and is not told again),
    // and the treasury's copy goes.
    let back = reclassify("kancelaria");
    assert!(back.status.success(), "{back:?}");
    wait_until(
        "the general office reads it again",
        Duration::from_secs(60),
        || async {
            object_exists(&archive, &format!("departments/kancelaria/{letter}.pdf")).await
                && !object_exists(&archive, &format!("departments/skarb/{letter}.pdf")).await
        },
    )
    .await;
    // The first move's record again (a retried batch) takes nothing from the general office.
    let first_move = stack().delivered_to_notify(|event| {
        event["Records"].as_array().is_some_and(|records| {
            records.iter().any(|r| {
                let change = &r["dynamodb"];
                change["NewImage"]["id"]["S"] == letter.as_str()
                    && change["OldImage"]["department"]["S"] == "kancelaria"
                    && change["NewImage"]["department"]["S"] == "skarb"
            })
        })
    });
    assert!(!first_move.is_empty());
    stack().redeliver_to_notify(&first_move).await;
    assert!(object_exists(&archive, &format!("departments/kancelaria/{letter}.pdf")).await);
    assert!(!object_exists(&archive, &format!("departments/skarb/{letter}.pdf")).await);
    let seen = collect_notifications(std::slice::from_ref(&letter), Duration::from_secs(1)).await;
    assert_eq!(seen.get(&letter).map_or(0, Vec::len), 2, "{seen:?}");
    crate::receipts::assert_every_receipt_trusted("departments", &ids).await;
}

/// A policy document as IAM returns it (URL-encoded JSON).
fn policy_text(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("UTF-8")
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_consumer_reads_its_own_queue_and_copies_and_is_refused_anothers() {
    // The treasury's consumer role as Terraform deployed it: who may assume it, and what it
    // may do.
    let iam = aws_sdk_iam::Client::new(&stack().sdk_config().await);
    let role = iam
        .get_role()
        .role_name("intake-department-skarb")
        .send()
        .await
        .expect("the treasury's consumer role");
    let trust = policy_text(
        role.role()
            .and_then(|r| r.assume_role_policy_document())
            .expect("trust policy"),
    );
    let policy = iam
        .get_role_policy()
        .role_name("intake-department-skarb")
        .policy_name("own-queue-and-documents")
        .send()
        .await
        .expect("the treasury's consumer policy");
    let permissions = policy_text(policy.policy_document());

    // The shared local AWS does not enforce IAM (the functions run with test credentials), so
    // the role is rebuilt on a second moto that does: the same names give the same ARNs, the
    // clerk named by the trust policy assumes the role, and authorization is switched on.
    let work = intake_local::workspace_root()
        .join("target/local-stack-tests")
        .join(format!("iam-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let enforcing = intake_local::moto::Moto::start(&work.join("moto.log"))
        .await
        .expect("a second moto");
    let admin = intake_local::stack::sdk_config_for(&enforcing.endpoint, &stack().region).await;
    let sqs = aws_sdk_sqs::Client::new(&admin);
    let mut urls = std::collections::HashMap::new();
    for department in ["skarb", "usc"] {
        let url = sqs
            .create_queue()
            .queue_name(format!("intake-department-{department}.fifo"))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        urls.insert(department, url);
    }
    let archive = bucket("archive");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&admin)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(&archive)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .expect("archive bucket");
    let own_copy = "departments/skarb/a.pdf";
    let other_copy = "departments/usc/b.pdf";
    let archived = format!("sha256/ab/{}.pdf", "ab".repeat(32));
    for key in [own_copy, other_copy, archived.as_str()] {
        s3.put_object()
            .bucket(&archive)
            .key(key)
            .body(minimal_pdf(1, key).into())
            .send()
            .await
            .expect("object");
    }
    let iam = aws_sdk_iam::Client::new(&admin);
    let role_arn = iam
        .create_role()
        .role_name("intake-department-skarb")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .expect("role")
        .role()
        .map(|r| r.arn().to_string())
        .expect("role arn");
    iam.put_role_policy()
        .role_name("intake-department-skarb")
        .policy_name("own-queue-and-documents")
        .policy_document(&permissions)
        .send()
        .await
        .expect("role policy");
    let clerk_name = DEPARTMENT_CLERK.rsplit('/').next().expect("user name");
    iam.create_user()
        .user_name(clerk_name)
        .send()
        .await
        .expect("user");
    let key = iam
        .create_access_key()
        .user_name(clerk_name)
        .send()
        .await
        .expect("key")
        .access_key
        .expect("access key");
    let may_assume = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn }]
    });
    iam.put_user_policy()
        .user_name(clerk_name)
        .policy_name("assume-department-roles")
        .policy_document(may_assume.to_string())
        .send()
        .await
        .expect("user policy");
    let switched = reqwest::Client::new()
        .post(format!("{}/moto-api/reset-auth", enforcing.endpoint))
        .body("0")
        .send()
        .await
        .expect("authorization on");
    assert!(switched.status().is_success());

    let as_identity = |credentials: aws_sdk_sqs::config::Credentials| {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&enforcing.endpoint)
            .region(aws_config::Region::new(stack().region.clone()))
            .credentials_provider(credentials)
            .load()
    };
    let clerk = as_identity(aws_sdk_sqs::config::Credentials::new(
        key.access_key_id(),
        key.secret_access_key(),
        None,
        None,
        "clerk",
    ))
    .await;
    let assumed = aws_sdk_sts::Client::new(&clerk)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("treasury-clerk")
        .send()
        .await;
    let session = match &assumed {
        Ok(answer) => answer.credentials().cloned(),
        Err(_) => None,
    };
    let mut outcomes = Vec::new();
    if let Some(session) = &session {
        let treasury = as_identity(aws_sdk_sqs::config::Credentials::new(
            session.access_key_id(),
            session.secret_access_key(),
            Some(session.session_token().to_string()),
            None,
            "treasury",
        ))
        .await;
        let treasury_sqs = aws_sdk_sqs::Client::new(&treasury);
        let treasury_s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&treasury)
                .force_path_style(true)
                .build(),
        );
        for department in ["skarb", "usc"] {
            let read = treasury_sqs
                .receive_message()
                .queue_url(&urls[department])
                .send()
                .await;
            outcomes.push((
                format!("queue {department}"),
                read.map(|_| ()).map_err(|e| format!("{e:?}")),
            ));
        }
        for key in [own_copy, other_copy, archived.as_str()] {
            let read = treasury_s3
                .get_object()
                .bucket(&archive)
                .key(key)
                .send()
                .await;
            outcomes.push((
                format!("object {key}"),
                read.map(|_| ()).map_err(|e| format!("{e:?}")),
            ));
        }
    }
    enforcing.stop().await;
    assert!(session.is_some(), "the clerk assumes the role: {assumed:?}");
    let refused = |text: &str| text.contains("AccessDenied") || text.contains("403");
    for (what, outcome) in &outcomes {
        let own = what.ends_with("skarb") || what.contains("departments/skarb/");
        match outcome {
            Ok(()) => assert!(own, "{what} must be refused"),
            Err(e) => assert!(!own && refused(e), "{what}: {e}"),
        }
    }
    assert_eq!(outcomes.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_killed_after_publishing_sends_no_second_notification() {
    let http = reqwest::Client::new();
    let notify = stack().function("notify");
    // Hold notify back until the fault is armed for this document.
    stack().notify_poller.pause();
    let pdf = minimal_pdf(1, &format!("killed notify {}", uuid::Uuid::now_v7()));
    let submission = browser::submit(
        &http,
        &stack().api_url,
        "local-tax-return",
        "deklaracja.pdf",
        pdf,
    )
    .await
    .expect("submission");
    let id = submission.upload_id.clone();
    // Die when writing the ledger entry: the notification is published, the ledger does not
    // know it yet.
    notify.inject(FaultRule {
        method: "POST".into(),
        path_contains: "/".into(),
        body_contains: format!("notified#{id}"),
        fault: Fault::KillFunction,
    });
    let crashes_before = notify.stats().crashes;
    stack().notify_poller.resume();
    browser::wait_for_verdict(&http, &stack().api_url, &id, VERDICT_TIMEOUT)
        .await
        .expect("verdict");
    let seen = collect_notifications(std::slice::from_ref(&id), Duration::from_secs(90)).await;
    assert!(
        notify.stats().crashes > crashes_before,
        "notify was not killed"
    );
    let queues: Vec<String> = seen
        .get(&id)
        .map(|got| got.iter().map(|(q, _)| q.clone()).collect())
        .unwrap_or_default();
    assert_eq!(queues, ["skarb"], "exactly one notification");
    // The retry wrote the ledger entry.
    let table = table().await;
    assert!(table.notified(&id, "skarb").await.expect("ledger"));
    crate::receipts::assert_every_receipt_trusted("notify-killed", &[id]).await;
}
