//! The daily report on the local stack: notify counting judged documents, the aggregate function
//! and `intake report` reading the counters and writing the reports. Each test works on days of
//! its own, so they run side by side.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use intake::adapters::counters::CountsTable;
use intake::adapters::dynamodb::DocumentTable;
use intake::domain::model::{Channel, DocumentRecord, DocumentStatus};
use intake_local::stack::wait_until;

use crate::stack;
use serde_json::{Value, json};

async fn table() -> DocumentTable {
    stack().table().await
}

async fn counts() -> CountsTable {
    stack().counts().await
}

fn date(s: &str) -> jiff::civil::Date {
    s.parse().expect("a date")
}

/// A judged web document that arrived at `received_at`, recorded as validate records it.
async fn record_document(received_at: &str, service: &str) -> String {
    let id = intake::domain::keys::new_document_id();
    let at: intake::domain::time::Timestamp = received_at.parse().expect("a time");
    table()
        .await
        .record_verdict(&DocumentRecord {
            id: id.clone(),
            channel: Some(Channel::Web),
            service: Some(service.into()),
            status: Some(DocumentStatus::Accepted),
            received_at: Some(intake::domain::time::utc_rfc3339(at)),
            received_day: Some(intake::domain::time::office_day(at)),
            ..DocumentRecord::default()
        })
        .await
        .expect("record");
    id
}

async fn wait_counted(ids: &[String]) {
    let counts = counts().await;
    for id in ids {
        wait_until(
            &format!("{id} is counted"),
            Duration::from_secs(60),
            || async { counts.counted(id).await.ok().flatten().is_some() },
        )
        .await;
    }
}

async fn aggregate(payload: Value) -> Value {
    let answer = stack()
        .function("aggregate")
        .invoke(payload.to_string().into())
        .await
        .expect("aggregate answers");
    serde_json::from_slice(&answer).expect("JSON")
}

async fn report_file(key: &str) -> Vec<u8> {
    stack()
        .object_bytes(&stack().outputs.reports_bucket, key)
        .await
}

async fn report_json(key: &str) -> Value {
    serde_json::from_slice(&report_file(key).await).expect("report JSON")
}

/// A queue subscribed to the management topic.
async fn management_queue() -> String {
    let config = stack().sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = sqs
        .create_queue()
        .queue_name(format!("management-{}", std::process::id()))
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("arn");
    aws_sdk_sns::Client::new(&config)
        .subscribe()
        .topic_arn(&stack().outputs.management_topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .expect("subscribe");
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_history_reports_22564_against_11146_and_each_sites_daily_average() {
    let table = counts().await;
    let management = management_queue().await;
    // The electronic inbox (domain notes): March and 1-16 April 2020 against the same periods
    // of 2019; and every drop box's documents a day, within the notes' ranges.
    let sites: BTreeMap<&str, u64> = intake::report::domain_figures::DROP_BOX_DAILY.into();
    for (from, to, web_total) in intake::report::domain_figures::ELECTRONIC_INBOX {
        let days = intake::report::days(date(from), date(to));
        let n = days.len() as u64;
        for (i, day) in days.iter().enumerate() {
            let web = web_total / n + u64::from((i as u64) < web_total % n);
            let scans: u64 = sites.values().sum();
            let mut counts = vec![
                ("total".to_string(), (web + scans) as i64),
                ("status:accepted".to_string(), (web + scans) as i64),
                ("channel:web".to_string(), web as i64),
                ("channel:drop_box".to_string(), scans as i64),
            ];
            counts.extend(sites.iter().map(|(s, v)| (format!("site:{s}"), *v as i64)));
            // Spread over two shards, as the write path would.
            let (half, rest): (Vec<_>, Vec<_>) = counts
                .iter()
                .cloned()
                .map(|(k, v)| ((k.clone(), v / 2), (k, v - v / 2)))
                .unzip();
            table.add_counts(*day, 0, &half).await.expect("counts");
            table.add_counts(*day, 7, &rest).await.expect("counts");
        }
    }

    let made =
        tokio::process::Command::new(intake_local::workspace_root().join("target/debug/intake"))
            .args(["report", "--from", "2020-03-01", "--to", "2020-04-16"])
            .env("AWS_ENDPOINT_URL", &stack().aws_endpoint)
            .env("AWS_REGION", &stack().region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("INTAKE_COUNTS_TABLE", &stack().outputs.counts_table)
            .env("INTAKE_REPORTS_BUCKET", &stack().outputs.reports_bucket)
            .env(
                "INTAKE_MANAGEMENT_TOPIC_ARN",
                &stack().outputs.management_topic_arn,
            )
            .env("INTAKE_S3_FORCE_PATH_STYLE", "true")
            .output()
            .await
            .expect("intake report runs");
    let out = String::from_utf8_lossy(&made.stdout).into_owned();
    assert!(
        made.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(
        out.contains("web: 22564 (rok wcześniej 11146, +102,4%)"),
        "{out}"
    );
    assert!(out.contains("47 daily reports remade"), "{out}");

    let prefix = "reports/range/2020-03-01_2020-04-16/";
    let report = report_json(&format!("{prefix}report.json")).await;
    let p = &report["period"];
    assert_eq!(p["counts"]["by_channel"]["web"], 22_564);
    assert_eq!(p["year_ago"]["by_channel"]["web"], 11_146);
    assert_eq!(p["growth"]["by_channel"]["web"], 102.4);
    for (site, per_day) in &sites {
        assert_eq!(p["site_daily_average"][site], *per_day as f64, "{site}");
    }
    let scans_a_day: u64 = sites.values().sum();
    assert!((850..=1000).contains(&scans_a_day));

    let csv = report_file(&format!("{prefix}report.csv")).await;
    let csv = String::from_utf8(csv).expect("UTF-8");
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("skrzynka;rynek-podgorski;Rynek Podgórski;705;705;+0,0"),
        "{csv}"
    );
    assert!(
        csv.contains("kanał;web;Skrzynka podawcza (formularz);22564;11146;+102,4"),
        "{csv}"
    );
    let html =
        String::from_utf8(report_file(&format!("{prefix}report.html")).await).expect("UTF-8");
    assert!(html.contains("Rynek Podgórski") && html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));

    // Every day of the range has its daily report, in S3 and in the table.
    let day = report_json("reports/daily/2020/04/16/report.json").await;
    assert_eq!(day["the_day"]["counts"]["by_channel"]["web"], 8_750 / 16);
    assert_eq!(day["month_to_date"]["counts"]["by_channel"]["web"], 8_750);
    assert_eq!(day["year_to_date"]["counts"]["by_channel"]["web"], 22_564);
    assert_eq!(day["year_to_date"]["year_ago"]["by_channel"]["web"], 11_146);
    let item = table.report("report#daily#2020-03-01").await.expect("read");
    assert!(item.is_some_and(|r| r.contains("\"day\":\"2020-03-01\"")));

    // Management is told, once, with the figure (other tests' daily reports go there too).
    let sqs = aws_sdk_sqs::Client::new(&stack().sdk_config().await);
    let mut bodies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        let got = sqs
            .receive_message()
            .queue_url(&management)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        bodies.extend(
            got.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_string))
                .filter(|b| b.contains("intake: report 2020-03-01 to 2020-04-16")),
        );
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("+102,4%"), "{}", bodies[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_reports_the_warsaw_day_before_and_the_daylight_saving_days_count_their_hours()
{
    let schedule = &stack().outputs.daily_report_schedule;
    assert_eq!(schedule["expression"], "cron(15 0 * * ? *)");
    assert_eq!(schedule["timezone"], "Europe/Warsaw");

    // Documents at the edges of the two days whose clocks change (2026: 29 March, 25 October).
    let at = [
        ("2026-03-28T22:59:59Z", "2026-03-28"),
        ("2026-03-28T23:00:00Z", "2026-03-29"),
        ("2026-03-29T21:59:59Z", "2026-03-29"),
        ("2026-03-29T22:00:00Z", "2026-03-30"),
        ("2026-10-24T21:59:59Z", "2026-10-24"),
        ("2026-10-24T22:00:00Z", "2026-10-25"),
        ("2026-10-25T22:59:59Z", "2026-10-25"),
        ("2026-10-25T23:00:00Z", "2026-10-26"),
    ];
    let mut ids = Vec::new();
    for (received_at, _) in at {
        ids.push(record_document(received_at, "child-benefit").await);
    }
    wait_counted(&ids).await;
    let counts = counts().await;
    for (id, (_, day)) in ids.iter().zip(at) {
        let mark = counts.counted(id).await.expect("read").expect("mark");
        assert_eq!(mark.day, date(day), "{id}");
    }

    // What the schedule sends at 00:15 Warsaw time the morning after each change.
    for (scheduled, day, hours) in [
        ("2026-03-29T22:15:00Z", "2026-03-29", 23),
        ("2026-10-25T23:15:00Z", "2026-10-25", 25),
    ] {
        // The Scheduler fills in its placeholder, which must reach it unescaped.
        let payload = schedule["input"].replace("<aws.scheduler.scheduled-time>", scheduled);
        assert_ne!(payload, schedule["input"], "{}", schedule["input"]);
        let answer = aggregate(serde_json::from_str(&payload).expect("JSON input")).await;
        assert_eq!(answer["day"], day, "{answer}");
        assert_eq!(answer["total"], 2, "{answer}");
        let key = format!(
            "{}report.json",
            intake::report::reporter::daily_report_prefix(date(day))
        );
        let report = report_json(&key).await;
        assert_eq!(report["hours"], hours);
        assert_eq!(
            report["the_day"]["counts"]["by_department"]["centrum-swiadczen"],
            2
        );
    }
    for (day, total) in [("2026-03-28", 1), ("2026-03-30", 1), ("2026-10-26", 1)] {
        let answer = aggregate(json!({ "day": day })).await;
        assert_eq!(answer["total"], total, "{day}: {answer}");
    }
    crate::receipts::assert_every_receipt_trusted("schedule", &ids).await;
}

/// The report without the time it was made.
fn without_time(mut report: Value) -> Value {
    report["generated_at"] = Value::Null;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_replaces_the_report_never_counts_twice_and_picks_up_a_late_document() {
    let day = "2025-06-10";
    let key = "reports/daily/2025/06/10/report.json";
    let mut ids = Vec::new();
    for time in [
        "2025-06-10T06:00:00Z",
        "2025-06-10T09:30:00Z",
        "2025-06-10T20:00:00Z",
    ] {
        ids.push(record_document(time, "child-benefit").await);
    }
    wait_counted(&ids).await;
    assert_eq!(aggregate(json!({ "day": day })).await["total"], 3);
    let first = without_time(report_json(key).await);

    // The same stream records again (a retried batch): nothing is counted twice.
    let replays = stack()
        .delivered_to_notify(|event| ids.iter().any(|id| event.to_string().contains(id.as_str())));
    assert!(!replays.is_empty());
    stack().redeliver_to_notify(&replays).await;
    assert_eq!(aggregate(json!({ "day": day })).await["total"], 3);
    assert_eq!(
        without_time(report_json(key).await),
        first,
        "a rerun changed the report"
    );

    // A document for that day judged after its report: the next night's run, which reports
    // 11 June, remakes 10 June with it.
    let late = record_document("2025-06-10T21:45:00Z", "general-letter").await;
    wait_counted(std::slice::from_ref(&late)).await;
    let next_night = aggregate(json!({ "scheduled_time": "2025-06-11T22:15:00Z" })).await;
    assert_eq!(next_night["day"], "2025-06-11", "{next_night}");
    let rerun = report_json(key).await;
    assert_eq!(rerun["the_day"]["counts"]["total"], 4);
    assert_eq!(rerun["the_day"]["counts"]["by_department"]["kancelaria"], 1);
    let item = counts()
        .await
        .report(&format!("report#daily#{day}"))
        .await
        .expect("read");
    assert!(item.is_some_and(|r| r.contains("\"total\":4")));

    // An operator moves a document: its department count moves with it.
    let table = table().await;
    assert!(
        table
            .move_department(&ids[0], Some("centrum-swiadczen"), "skarb", "anna", "[]")
            .await
            .expect("move")
    );
    let counts = counts().await;
    wait_until("the count moves", Duration::from_secs(60), || async {
        counts
            .counted(&ids[0])
            .await
            .ok()
            .flatten()
            .is_some_and(|m| m.department == "skarb")
    })
    .await;
    assert_eq!(aggregate(json!({ "day": day })).await["total"], 4);
    let moved = report_json(key).await;
    let departments = &moved["the_day"]["counts"]["by_department"];
    assert_eq!(departments["centrum-swiadczen"], 2);
    assert_eq!(departments["skarb"], 1);
    ids.push(late);
    crate::receipts::assert_every_receipt_trusted("rerun", &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_report_requests_are_refused_with_a_reason() {
    let answer = stack()
        .function("aggregate")
        .invoke(json!({ "day": "yesterday" }).to_string().into())
        .await;
    let text = format!("{answer:?}");
    assert!(text.contains("is not a date"), "{text}");
    let backwards =
        tokio::process::Command::new(intake_local::workspace_root().join("target/debug/intake"))
            .args(["report", "--from", "2020-04-16", "--to", "2020-03-01"])
            .output()
            .await
            .expect("runs");
    assert_eq!(backwards.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&backwards.stderr).contains("is before --from"));
    let future = stack()
        .function("aggregate")
        .invoke(
            json!({ "from": "2099-01-01", "to": "2099-01-31" })
                .to_string()
                .into(),
        )
        .await;
    let text = format!("{future:?}");
    assert!(text.contains("is after today"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_handled_after_an_operators_move_tells_and_counts_the_operators_department() {
    // A child-benefit document an operator moved to the treasury before notify routed it.
    let id = intake::domain::keys::new_document_id();
    let at: intake::domain::time::Timestamp = "2025-07-01T10:00:00Z".parse().expect("a time");
    table()
        .await
        .record_verdict(&DocumentRecord {
            id: id.clone(),
            channel: Some(Channel::Web),
            service: Some("child-benefit".into()),
            status: Some(DocumentStatus::Accepted),
            received_at: Some(intake::domain::time::utc_rfc3339(at)),
            received_day: Some(intake::domain::time::office_day(at)),
            department: Some("skarb".into()),
            reclassified_by: Some("anna".into()),
            ..DocumentRecord::default()
        })
        .await
        .expect("record");
    wait_counted(std::slice::from_ref(&id)).await;

    // The verdict's stream record as it was before the move (no department in its image),
    // handled late: the department the record names now is the one told and counted.
    let mut stale = stack()
        .delivered_to_notify(|event| event.to_string().contains(id.as_str()))
        .into_iter()
        .next()
        .expect("the verdict's stream record");
    let records = stale["Records"].as_array_mut().expect("records");
    records.retain(|r| r.to_string().contains(id.as_str()));
    for record in records.iter_mut() {
        if let Some(image) = record["dynamodb"]["NewImage"].as_object_mut() {
            image.remove("department");
            image.remove("reclassified_by");
        }
    }
    let answers = stack().redeliver_to_notify(&[stale]).await;
    assert_eq!(answers[0]["batchItemFailures"], json!([]), "{answers:?}");
    let table = table().await;
    assert!(table.notified(&id, "skarb").await.expect("ledger"));
    assert!(
        !table
            .notified(&id, "centrum-swiadczen")
            .await
            .expect("ledger"),
        "the department the rules name was told of a document an operator had moved"
    );
    let mark = counts()
        .await
        .counted(&id)
        .await
        .expect("read")
        .expect("mark");
    assert_eq!(mark.department, "skarb");
    let record = table.get(&id).await.expect("read").expect("record");
    assert_eq!(record.department.as_deref(), Some("skarb"));
    crate::receipts::assert_every_receipt_trusted("moved", &[id]).await;
}
