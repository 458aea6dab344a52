//! Scanning stations on the local stack: `intake station push` against intake-api, validate and
//! notify as real binaries, the Terraform-deployed table, buckets, keys and queues on moto.
//! Each test uses stations of its own, so they run side by side without touching each other's
//! batches or keys.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use intake::adapters::dynamodb::DocumentTable;
use intake::domain::model::DocumentStatus;
use intake::station::{BatchRecord, BatchState, MANIFEST_SCHEMA, Manifest, ManifestFile};
use intake_local::stack::wait_until;

use crate::{MAX_UPLOAD_BYTES, stack};
use serde_json::{Value, json};

/// The stack flags batches older than one minute, and the overdue test runs the sweep: a batch
/// another test is still pushing (250 scans take longer than a minute here) would be flagged
/// with it. Tests whose batches must complete unflagged hold this for reading; the overdue
/// test sweeps only while it holds it for writing.
static SWEEP: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn work_dir(name: &str) -> PathBuf {
    let dir = intake_local::workspace_root()
        .join("target/local-stack-tests")
        .join(format!("stations-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

/// The `intake` command with the stack's AWS and API settings.
fn intake_command(args: &[&str]) -> tokio::process::Command {
    let mut command =
        tokio::process::Command::new(intake_local::workspace_root().join("target/debug/intake"));
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", &stack().aws_endpoint)
        .env("AWS_REGION", &stack().region)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("INTAKE_API_URL", &stack().api_url)
        .kill_on_drop(true);
    command
}

async fn intake(args: &[&str]) -> std::process::Output {
    intake_command(args).output().await.expect("intake runs")
}

/// Makes (or rotates) a station's key with `intake station key`; returns the key file.
async fn station_key(station: &str) -> PathBuf {
    let prefix = &stack().outputs.station_key_prefix;
    let made = intake(&["station", "key", "--station", station, "--prefix", prefix]).await;
    assert!(made.status.success(), "{made:?}");
    let key = String::from_utf8(made.stdout).expect("hex");
    assert_eq!(key.trim().len(), 64, "a 32-byte key in hex: {key}");
    let file = work_dir(&format!("key-{station}")).join("station.key");
    std::fs::write(&file, key.trim()).expect("key file");
    file
}

async fn push(dir: &Path, station: &str, key: &Path) -> std::process::Output {
    intake(&[
        "station",
        "push",
        &dir.display().to_string(),
        "--station",
        station,
        "--key-file",
        &key.display().to_string(),
        "--operator",
        "op-12",
        "--wait",
        "300",
    ])
    .await
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes `count` scans named `K-<envelope>_<n>.pdf` (two documents per envelope) of 1-4 pages.
fn write_scans(dir: &Path, count: usize, seed: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("K-{:04}_{}.pdf", i / 2, i % 2 + 1);
            let pdf = intake::engine::pdf::samples::scan_pdf(1 + i % 4, seed * 100_000 + i as u64);
            std::fs::write(dir.join(&name), pdf).expect("scan");
            name
        })
        .collect()
}

fn manifest_in(dir: &Path) -> Manifest {
    serde_json::from_slice(&std::fs::read(dir.join("intake-batch.json")).expect("manifest"))
        .expect("manifest JSON")
}

async fn table() -> DocumentTable {
    stack().table().await
}

async fn batch(station: &str, batch_id: &str) -> BatchRecord {
    table()
        .await
        .batch(station, batch_id)
        .await
        .expect("read")
        .expect("the batch")
}

/// The notifications a department received about a batch.
fn batch_notifications(batch_id: &str) -> Vec<(String, Value)> {
    stack()
        .notifications
        .lock()
        .expect("log")
        .get(&format!("batch:{batch_id}"))
        .map(|got| {
            got.iter()
                .map(|n| (n.department.clone(), n.body.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_250_scans_is_recorded_routed_and_reconciled() {
    let _no_sweep = SWEEP.read().await;
    let station = "rynek-podgorski";
    let key = station_key(station).await;
    let dir = work_dir("day-250");
    let names = write_scans(&dir, 250, 1);

    let started = Instant::now();
    let pushed = push(&dir, station, &key).await;
    let wall = started.elapsed();
    assert!(pushed.status.success(), "{}", text(&pushed));
    println!(
        "250 scans pushed and reconciled in {:.1} s",
        wall.as_secs_f64()
    );
    assert!(text(&pushed).contains("uploaded 250, already received 0, refused 0"));

    let manifest = manifest_in(&dir);
    assert_eq!(manifest.files.len(), 250);
    assert_eq!(manifest.files[0].envelope, "K-0000");
    let b = batch(station, &manifest.batch_id).await;
    assert_eq!(b.state, Some(BatchState::Complete));
    assert_eq!(b.files.len(), 250);
    assert!(
        b.verdicts
            .values()
            .all(|v| intake::station::split_file_verdict(v).0 == "accepted"),
        "{:?}",
        b.verdicts
    );

    // Every scan is a recorded document of this batch, routed to the site's department.
    let table = table().await;
    let department = "jakosc-powietrza";
    for name in &names {
        let id = &b.files[name];
        wait_until("the scan is routed", Duration::from_secs(60), || async {
            table
                .get(id)
                .await
                .ok()
                .flatten()
                .is_some_and(|r| r.department.as_deref() == Some(department))
        })
        .await;
        let record = table.get(id).await.expect("read").expect("record");
        assert_eq!(record.status, Some(DocumentStatus::Accepted));
        assert_eq!(record.site.as_deref(), Some(station));
        assert_eq!(record.batch_id.as_deref(), Some(manifest.batch_id.as_str()));
        assert_eq!(record.file_name.as_deref(), Some(name.as_str()));
        assert_eq!(record.operator.as_deref(), Some("op-12"));
        let entry = manifest
            .files
            .iter()
            .find(|f| &f.name == name)
            .expect("entry");
        assert_eq!(record.sha256.as_deref(), Some(entry.sha256.as_str()));
        assert_eq!(record.pages, Some(entry.pages));
    }
    // The department is told of each document once, and of the batch once.
    wait_until("the batch is reported", Duration::from_secs(60), || async {
        !batch_notifications(&manifest.batch_id).is_empty()
    })
    .await;
    let told = batch_notifications(&manifest.batch_id);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, department);
    assert_eq!(told[0].1["event"], "batch_complete");
    assert_eq!(told[0].1["report"]["accepted"], 250);
    // The report lists each scan with its register number and its receipt; a scan's receipt
    // is signed like a web document's.
    let registered = told[0].1["report"]["registered"]
        .as_array()
        .expect("the registered files");
    assert_eq!(registered.len(), 250);
    let mut numbers = std::collections::BTreeSet::new();
    for file in registered {
        let id = file["document_id"].as_str().expect("an id");
        let number = file["register_number"].as_str().expect("a number");
        assert_eq!(
            table
                .get(id)
                .await
                .expect("read")
                .and_then(|r| r.register_number)
                .as_deref(),
            Some(number)
        );
        assert_eq!(file["receipt"], format!("/uploads/{id}/receipt"));
        numbers.insert(number.to_string());
    }
    assert_eq!(numbers.len(), 250, "every scan has a number of its own");
    let first = registered[0]["document_id"].as_str().expect("an id");
    let receipt = crate::receipts::receipt_of(&reqwest::Client::new(), first).await;
    let verdict = crate::receipts::pyhanko(&[crate::receipts::keep(&dir, first, &receipt)]);
    crate::receipts::assert_trusted(
        &verdict[0],
        &table.get(first).await.expect("read").expect("record"),
    );
    let count = |id: &str| {
        stack()
            .notifications
            .lock()
            .expect("log")
            .get(id)
            .map_or(0, Vec::len)
    };
    wait_until(
        "every scan is notified",
        Duration::from_secs(60),
        || async { b.files.values().all(|id| count(id) >= 1) },
    )
    .await;
    for id in b.files.values() {
        assert_eq!(count(id), 1, "{id}");
    }
    let ids: Vec<String> = b.files.values().cloned().collect();
    crate::receipts::assert_every_receipt_trusted("day-of-250", &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_push_resumes_without_sending_anything_twice() {
    let _no_sweep = SWEEP.read().await;
    let station = "mogilska";
    let key = station_key(station).await;
    let dir = work_dir("interrupted");
    write_scans(&dir, 80, 2);
    let incoming = stack().outputs.buckets["incoming"].clone();
    let prefix = format!("incoming/stations/{station}/");
    let s3 = stack().s3().await;
    let arrived = || async {
        s3.list_objects_v2()
            .bucket(&incoming)
            .prefix(&prefix)
            .send()
            .await
            .map(|l| l.key_count.unwrap_or(0))
            .unwrap_or(0)
    };

    // The first push is killed part-way through its uploads.
    let mut first = intake_command(&[
        "station",
        "push",
        &dir.display().to_string(),
        "--station",
        station,
        "--key-file",
        &key.display().to_string(),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("push starts");
    wait_until("some scans arrived", Duration::from_secs(120), || async {
        arrived().await >= 3
    })
    .await;
    first.start_kill().expect("kill");
    let _ = first.wait().await;
    let before = arrived().await;
    println!("{before} of 80 scans had arrived when the push was killed");
    assert!(before < 80, "the push finished before it was killed");

    let resumed = push(&dir, station, &key).await;
    let out = text(&resumed);
    println!("{out}");
    assert!(resumed.status.success(), "{out}");
    assert!(out.contains("resuming batch"), "{out}");
    let received: usize = out
        .split("already received ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("a count of files already received");
    assert!(received >= before as usize, "{out}");

    // Each scan is in the incoming bucket once: one key, one version.
    let versions = s3
        .list_object_versions()
        .bucket(&incoming)
        .prefix(&prefix)
        .send()
        .await
        .expect("versions");
    let keys: Vec<&str> = versions.versions().iter().filter_map(|v| v.key()).collect();
    let distinct: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(distinct.len(), 80);
    assert_eq!(keys.len(), 80, "a scan was uploaded twice");
    let b = batch(station, &manifest_in(&dir).batch_id).await;
    assert_eq!(b.state, Some(BatchState::Complete));
    assert_eq!(b.verdicts.len(), 80);
    let ids: Vec<String> = b.files.values().cloned().collect();
    crate::receipts::assert_every_receipt_trusted("interrupted", &ids).await;
}

fn entry_for(dir: &Path, name: &str, bytes: &[u8]) -> ManifestFile {
    std::fs::write(dir.join(name), bytes).expect("file");
    ManifestFile {
        name: name.into(),
        sha256: intake::engine::hashing::DocumentHash::of(bytes).to_hex(),
        size: bytes.len() as u64,
        pages: 1,
        envelope: name.split('_').next().unwrap_or(name).into(),
        scanned_at: "2026-11-25T07:30:00Z".into(),
        operator: "op-3".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reports_an_altered_file_a_rescan_a_non_pdf_and_an_oversized_file() {
    let _no_sweep = SWEEP.read().await;
    let station = "kasprowicza";
    let key = station_key(station).await;
    // Yesterday's batch, clean.
    let first = work_dir("first");
    write_scans(&first, 2, 3);
    let pushed = push(&first, station, &key).await;
    assert!(pushed.status.success(), "{}", text(&pushed));
    let rescanned = std::fs::read(first.join("K-0000_1.pdf")).expect("scan");

    // Today's: the station wrote its manifest, then one file changed on its way.
    let dir = work_dir("problems");
    let mut big = intake::engine::pdf::samples::scan_pdf(1, 9);
    big.resize(MAX_UPLOAD_BYTES as usize + 1, b' ');
    let files = vec![
        entry_for(&dir, "K-1_1.pdf", &rescanned),
        entry_for(
            &dir,
            "K-2_1.pdf",
            &intake::engine::pdf::samples::scan_pdf(2, 31),
        ),
        entry_for(&dir, "K-3_1.pdf", b"not a PDF, a photo of the envelope"),
        entry_for(&dir, "K-4_1.pdf", &big),
        entry_for(
            &dir,
            "K-5_1.pdf",
            &intake::engine::pdf::samples::scan_pdf(3, 32),
        ),
    ];
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA.into(),
        station: station.into(),
        batch_id: intake::domain::keys::new_document_id(),
        created_at: "2026-11-25T07:45:00Z".into(),
        service: None,
        files,
    };
    std::fs::write(
        dir.join("intake-batch.json"),
        serde_json::to_vec(&manifest).expect("JSON"),
    )
    .expect("manifest");
    let mut altered = std::fs::read(dir.join("K-2_1.pdf")).expect("scan");
    let last = altered.len() - 20;
    altered[last] ^= 0x20;
    std::fs::write(dir.join("K-2_1.pdf"), &altered).expect("alter");

    let pushed = push(&dir, station, &key).await;
    let out = text(&pushed);
    assert_eq!(pushed.status.code(), Some(1), "{out}");
    assert!(
        out.contains("K-2_1.pdf: changed since the manifest was written"),
        "{out}"
    );
    let b = batch(station, &manifest.batch_id).await;
    assert_eq!(b.state, Some(BatchState::Complete));
    let report = intake::station::reconcile(&b);
    let names = |files: &[intake::station::ReportFile]| -> Vec<String> {
        files.iter().map(|f| f.name.clone()).collect()
    };
    assert_eq!(report.accepted, 1);
    assert_eq!(names(&report.duplicates), ["K-1_1.pdf"]);
    assert_eq!(names(&report.hash_mismatches), ["K-2_1.pdf"]);
    assert_eq!(names(&report.invalid), ["K-3_1.pdf", "K-4_1.pdf"]);
    assert!(report.invalid[0].detail.contains("not_pdf"), "{report:?}");
    assert!(report.invalid[1].detail.contains("too_large"), "{report:?}");
    assert!(report.missing.is_empty() && report.not_in_manifest.is_empty());
    for (label, expected) in [
        ("duplicate", "K-1_1.pdf"),
        ("hash mismatch", "K-2_1.pdf"),
        ("invalid", "K-3_1.pdf"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(label) && l.contains(expected)),
            "{label} {expected}: {out}"
        );
    }
    // Nothing is lost: the altered scan is kept in quarantine with its reason.
    let table = table().await;
    let altered_record = table
        .get(&b.files["K-2_1.pdf"])
        .await
        .expect("read")
        .expect("record");
    assert_eq!(altered_record.status, Some(DocumentStatus::Rejected));
    assert_eq!(
        altered_record.storage.expect("kept").bucket,
        stack().outputs.buckets["quarantine"]
    );

    // Pushing the same batch again: refused, clearly, and nothing changes.
    let replayed = push(&dir, station, &key).await;
    let out = text(&replayed);
    assert_eq!(replayed.status.code(), Some(1), "{out}");
    assert!(out.contains("cannot be reopened"), "{out}");
    assert_eq!(batch(station, &manifest.batch_id).await, b);
    // Every scan that was judged, rejected ones too, has its receipt.
    let mut judged: Vec<String> = b
        .verdicts
        .keys()
        .map(|name| b.files[name].clone())
        .collect();
    assert_eq!(judged.len(), 4, "{b:?}");
    let yesterday = batch(station, &manifest_in(&first).batch_id).await;
    judged.extend(yesterday.files.values().cloned());
    crate::receipts::assert_every_receipt_trusted("altered", &judged).await;
}

/// A signed request as a station sends it, with `key` (hex file) of `signer`.
async fn signed(
    signer: &str,
    key: &Path,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: Option<i64>,
) -> (u16, Value) {
    let key = hex::decode(std::fs::read_to_string(key).expect("key").trim()).expect("hex");
    let timestamp = timestamp.unwrap_or_else(|| intake::domain::time::Timestamp::now().as_second());
    let authorization = intake::station::authorization(signer, &key, method, path, timestamp, body);
    let http = reqwest::Client::new();
    let url = format!("{}{path}", stack().api_url.trim_end_matches('/'));
    let request = if method == "GET" {
        http.get(url)
    } else {
        http.post(url)
    };
    let response = request
        .header("authorization", authorization)
        .body(body.to_vec())
        .send()
        .await
        .expect("API answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_requests_are_refused_unless_signed_by_that_station_and_bad_manifests_explained() {
    let _no_sweep = SWEEP.read().await;
    let own = "stachowicza";
    let other = "dekerta";
    let key = station_key(own).await;
    let other_key = station_key(other).await;
    let batch_id = intake::domain::keys::new_document_id();
    let open = json!({ "batch_id": batch_id }).to_string();
    let batches = format!("/stations/{own}/batches");

    // Unsigned, stale, signed for another station, or with another station's key: refused.
    let http = reqwest::Client::new();
    let unsigned = http
        .post(format!(
            "{}{batches}",
            stack().api_url.trim_end_matches('/')
        ))
        .body(open.clone())
        .send()
        .await
        .expect("answer");
    assert_eq!(unsigned.status().as_u16(), 401);
    let hour_ago = intake::domain::time::Timestamp::now().as_second() - 3600;
    let (status, body) = signed(own, &key, "POST", &batches, open.as_bytes(), Some(hour_ago)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("stale_request"))
    );
    // A station writing into another station's batches.
    let theirs = format!("/stations/{other}/batches");
    let (status, body) = signed(own, &key, "POST", &theirs, open.as_bytes(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("wrong_station"))
    );
    let (status, body) = signed(other, &key, "POST", &theirs, open.as_bytes(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("bad_signature"))
    );
    let (status, _) = signed(
        other,
        &other_key,
        "GET",
        &format!("{theirs}/{batch_id}"),
        b"",
        None,
    )
    .await;
    assert_eq!(status, 404, "its own key works for its own batches");

    // Its own batch: open, an upload for a file the manifest will not list, bad manifests.
    let (status, body) = signed(own, &key, "POST", &batches, open.as_bytes(), None).await;
    assert_eq!(status, 201, "{body}");
    let scan = intake::engine::pdf::samples::scan_pdf(1, 77);
    let extra = intake::engine::pdf::samples::scan_pdf(1, 78);
    let dir = work_dir("signed");
    let listed = entry_for(&dir, "listed_1.pdf", &scan);
    let unlisted = entry_for(&dir, "extra_1.pdf", &extra);
    let uploads = format!("{batches}/{batch_id}/uploads");
    let request = json!({ "files": [listed, unlisted] }).to_string();
    let (status, body) = signed(own, &key, "POST", &uploads, request.as_bytes(), None).await;
    assert_eq!(status, 200, "{body}");
    for (file, bytes) in body["files"]
        .as_array()
        .expect("files")
        .iter()
        .zip([&scan, &extra])
    {
        assert_eq!(file["status"], "upload", "{file}");
        let posted = intake_local::browser::post_form(
            &http,
            &file["upload"],
            "scan.pdf",
            "application/pdf",
            bytes.to_vec(),
        )
        .await
        .expect("upload");
        assert!((200..300).contains(&posted), "{posted}");
    }
    let manifest = |station: &str| {
        json!({
            "schema": MANIFEST_SCHEMA, "station": station, "batch_id": batch_id,
            "created_at": "2026-11-25T08:00:00Z", "files": [listed],
        })
        .to_string()
    };
    let close = format!("{batches}/{batch_id}/close");
    for (body, status_expected, code) in [
        ("{\"schema\":".to_string(), 400, "malformed_manifest"),
        (manifest(other), 403, "manifest_from_another_station"),
        (
            json!({"schema": MANIFEST_SCHEMA, "station": own, "batch_id": batch_id,
                   "created_at": "x", "files": []})
            .to_string(),
            400,
            "bad_file_list",
        ),
    ] {
        let (status, answer) = signed(own, &key, "POST", &close, body.as_bytes(), None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (status_expected, Some(code)),
            "{answer}"
        );
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let good = manifest(own);
    let (status, answer) = signed(own, &key, "POST", &close, good.as_bytes(), None).await;
    assert_eq!(status, 200, "{answer}");
    // The same close again is harmless; another manifest, or reopening, is refused.
    let (status, _) = signed(own, &key, "POST", &close, good.as_bytes(), None).await;
    assert_eq!(status, 200);
    let changed = good.replace("2026-11-25T08:00:00Z", "2026-11-25T09:00:00Z");
    let (status, answer) = signed(own, &key, "POST", &close, changed.as_bytes(), None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("batch_closed"))
    );
    let (status, answer) = signed(own, &key, "POST", &batches, open.as_bytes(), None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("batch_closed"))
    );

    // The report names the file that came without being in the manifest.
    let report_path = format!("{batches}/{batch_id}");
    let started = Instant::now();
    let report = loop {
        let report = signed(own, &key, "GET", &report_path, b"", None).await.1;
        if report["recorded"] == 2 && report["state"] == "complete" {
            break report;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "{report}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        report["not_in_manifest"][0]["name"], "extra_1.pdf",
        "{report}"
    );
    assert_eq!(report["accepted"], 2);

    // A revoked key stops working (within the API's one-second key cache here).
    let revoked = intake(&[
        "station",
        "revoke",
        "--station",
        own,
        "--prefix",
        &stack().outputs.station_key_prefix,
    ])
    .await;
    assert!(revoked.status.success(), "{revoked:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, answer) = signed(own, &key, "GET", &report_path, b"", None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unknown_station"))
    );
    // A new key works as soon as the missing one is forgotten (here the second of the
    // stack's key cache; at most five seconds whatever the cache).
    let key = station_key(own).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, answer) = signed(own, &key, "GET", &report_path, b"", None).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_never_completes_is_flagged_and_its_departments_told() {
    let station = "os-zgody";
    let key = station_key(station).await;
    let batch_id = intake::domain::keys::new_document_id();
    let batches = format!("/stations/{station}/batches");
    let open = json!({ "batch_id": batch_id }).to_string();
    let (status, _) = signed(station, &key, "POST", &batches, open.as_bytes(), None).await;
    assert_eq!(status, 201);
    let dir = work_dir("overdue");
    let never_sent = entry_for(
        &dir,
        "lost_1.pdf",
        &intake::engine::pdf::samples::scan_pdf(1, 99),
    );
    let manifest = json!({
        "schema": MANIFEST_SCHEMA, "station": station, "batch_id": batch_id,
        "created_at": "2026-11-25T08:00:00Z", "files": [never_sent],
    })
    .to_string();
    let close = format!("{batches}/{batch_id}/close");
    let (status, answer) = signed(station, &key, "POST", &close, manifest.as_bytes(), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["report"]["missing"][0], "lost_1.pdf");

    // The stack flags batches after one minute; the sweep is what the schedule runs.
    tokio::time::sleep(Duration::from_secs(62)).await;
    let _sweeping = SWEEP.write().await;
    let swept = stack()
        .function("notify")
        .invoke(json!({ "task": "flag-overdue-batches" }).to_string().into())
        .await
        .expect("notify answers");
    let swept: Value = serde_json::from_slice(&swept).expect("JSON");
    assert!(swept["flagged"].as_u64().is_some_and(|n| n >= 1), "{swept}");
    let b = batch(station, &batch_id).await;
    assert!(b.overdue_at.is_some());
    assert_eq!(b.state, Some(BatchState::Closed));
    wait_until(
        "both departments are told",
        Duration::from_secs(60),
        || async { batch_notifications(&batch_id).len() >= 2 },
    )
    .await;
    let told = batch_notifications(&batch_id);
    let mut departments: Vec<&str> = told.iter().map(|(d, _)| d.as_str()).collect();
    departments.sort();
    assert_eq!(departments, ["bezpieczenstwo", "srodowisko"]);
    for (_, body) in &told {
        assert_eq!(body["event"], "batch_overdue");
        assert_eq!(body["report"]["missing"][0], "lost_1.pdf");
    }
    // A second sweep flags nothing again.
    let again = stack()
        .function("notify")
        .invoke(json!({ "task": "flag-overdue-batches" }).to_string().into())
        .await
        .expect("notify answers");
    let again: Value = serde_json::from_slice(&again).expect("JSON");
    let b_again = batch(station, &batch_id).await;
    assert_eq!(b_again.overdue_at, b.overdue_at, "{again}");
    // Flagged, it leaves the index the sweep reads, which stays as small as the open batches.
    let unfinished = stack()
        .table()
        .await
        .unfinished_batches()
        .await
        .expect("the index");
    assert!(
        !unfinished.iter().any(|u| u.batch_id == batch_id),
        "{unfinished:?}"
    );
}
