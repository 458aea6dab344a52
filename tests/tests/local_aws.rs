//! The local AWS keeps DynamoDB's guarantees the system relies on: a cancelled transaction
//! undoes only its own writes, and concurrent ADDs to one item all count. moto alone broke
//! both (it restored a whole-table backup on a cancelled transaction; its UpdateItem is a read
//! and a write), which lost counts in the reports tests when they ran side by side.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put, PutRequest,
    ScalarAttributeType, TransactWriteItem, WriteRequest,
};
use intake_local::moto::Moto;

const TABLE: &str = "guarantees";
const ADDERS: usize = 4;
const ADDS_EACH: usize = 60;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

async fn create_table(dynamo: &Client) {
    dynamo
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("table");
    // A table of some size: moto's backup copy of it is what widened the window.
    for chunk in (0..1000).collect::<Vec<_>>().chunks(25) {
        let writes = chunk
            .iter()
            .map(|i| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .item("id", s(&format!("filler-{i}")))
                            .build()
                            .expect("put"),
                    )
                    .build()
            })
            .collect();
        dynamo
            .batch_write_item()
            .request_items(TABLE, writes)
            .send()
            .await
            .expect("filler");
    }
    dynamo
        .put_item()
        .table_name(TABLE)
        .item("id", s("mark"))
        .send()
        .await
        .expect("mark");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_transactions_undo_only_themselves_and_concurrent_adds_all_count() {
    let work = std::env::temp_dir().join(format!("intake-local-aws-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let moto = Moto::start(&work.join("moto.log")).await.expect("moto");
    let config = intake_local::stack::sdk_config_for(&moto.endpoint, "eu-central-1").await;
    let dynamo = Client::new(&config);
    create_table(&dynamo).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Transactions that are always cancelled: the mark exists, as a replayed count finds it.
    let cancellers: Vec<_> = (0..2)
        .map(|_| {
            let dynamo = dynamo.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut cancelled = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let put = Put::builder()
                        .table_name(TABLE)
                        .item("id", s("mark"))
                        .condition_expression("attribute_not_exists(id)")
                        .build()
                        .expect("put");
                    let answer = dynamo
                        .transact_write_items()
                        .transact_items(TransactWriteItem::builder().put(put).build())
                        .send()
                        .await;
                    assert!(
                        answer.is_err(),
                        "the mark exists: the transaction is cancelled"
                    );
                    cancelled += 1;
                }
                cancelled
            })
        })
        .collect();
    let adders: Vec<_> = (0..ADDERS)
        .map(|_| {
            let dynamo = dynamo.clone();
            tokio::spawn(async move {
                for _ in 0..ADDS_EACH {
                    dynamo
                        .update_item()
                        .table_name(TABLE)
                        .key("id", s("counter"))
                        .update_expression("ADD n :one")
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .send()
                        .await
                        .expect("add");
                }
            })
        })
        .collect();
    for adder in adders {
        adder.await.expect("adder");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut cancelled = 0;
    for canceller in cancellers {
        cancelled += canceller.await.expect("canceller");
    }

    let counter = dynamo
        .get_item()
        .table_name(TABLE)
        .key("id", s("counter"))
        .consistent_read(true)
        .send()
        .await
        .expect("counter");
    let n = counter
        .item
        .as_ref()
        .and_then(|i| i.get("n"))
        .and_then(|n| n.as_n().ok())
        .cloned();
    moto.stop().await;
    assert!(cancelled > 0, "transactions ran beside the adds");
    assert_eq!(
        n.as_deref(),
        Some((ADDERS * ADDS_EACH).to_string().as_str()),
        "every ADD counts ({cancelled} cancelled transactions beside them)"
    );
}
