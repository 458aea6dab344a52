//! DynamoDB: the incoming register, a table of its own (`register_table`). Each office's
//! register for a year has a counter item (`register#<office>#<year>`, its `last` number), each
//! number an entry (`entry#<office>#<year>#<number>`: the document it was given to, in the
//! order of the register) and each document a mark (`document#<id>`: its number). One entry of a
//! block is one transaction on this table: the counter moves from the number it was read at,
//! and each entry and mark is put on condition that there is none. notify then writes the
//! number into the document's item with its department: the register's table has no stream,
//! and its transactions touch no item of the documents table.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use super::dynamodb::{built, dynamo_error, s};
use super::{Aws, AwsError};
use crate::register::ports::Entered;

/// The register's table.
#[derive(Clone)]
pub struct RegisterTable {
    client: aws_sdk_dynamodb::Client,
    register_table: String,
}

/// The counter item of an office's register for a year.
pub fn counter_id(office: &str, year: i16) -> String {
    format!("register#{office}#{year}")
}

/// The entry of a number.
pub fn entry_id(number: &str) -> String {
    format!("entry#{}", number.replace('/', "#"))
}

/// A document's mark.
pub fn mark_id(document_id: &str) -> String {
    format!("document#{document_id}")
}

impl RegisterTable {
    /// The register in `register_table`.
    pub fn new(aws: &Aws, register_table: impl Into<String>) -> Self {
        RegisterTable {
            client: aws_sdk_dynamodb::Client::new(&aws.config),
            register_table: register_table.into(),
        }
    }

    /// The last number given in the office's register for the year; 0 before the first.
    pub async fn last_number(&self, office: &str, year: i16) -> Result<u64, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.register_table)
            .key("id", s(&counter_id(office, year)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        let Some(item) = answer.item else {
            return Ok(0);
        };
        item.get("last")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                AwsError::permanent(
                    "dynamodb:GetItem",
                    format!("the register item of {office} {year} has no readable number"),
                )
            })
    }

    /// Enters the documents after `last`, in one transaction.
    pub async fn enter(
        &self,
        office: &str,
        year: i16,
        last: u64,
        entries: &[(String, String)],
    ) -> Result<Entered, AwsError> {
        let new_last = last + entries.len() as u64;
        let mut counter = Update::builder()
            .table_name(&self.register_table)
            .key("id", s(&counter_id(office, year)))
            .update_expression("SET #last = :new, kind = :kind, office = :office, #year = :year")
            .expression_attribute_names("#last", "last")
            .expression_attribute_names("#year", "year")
            .expression_attribute_values(":new", AttributeValue::N(new_last.to_string()))
            .expression_attribute_values(":kind", s("counter"))
            .expression_attribute_values(":office", s(office))
            .expression_attribute_values(":year", AttributeValue::N(year.to_string()));
        counter = if last == 0 {
            counter.condition_expression("attribute_not_exists(#last)")
        } else {
            counter
                .condition_expression("#last = :old")
                .expression_attribute_values(":old", AttributeValue::N(last.to_string()))
        };
        let mut items = vec![
            TransactWriteItem::builder()
                .update(built(counter.build())?)
                .build(),
        ];
        for (id, number) in entries {
            let entry = Put::builder()
                .table_name(&self.register_table)
                .item("id", s(&entry_id(number)))
                .item("kind", s("entry"))
                .item("register_number", s(number))
                .item("document_id", s(id))
                .condition_expression("attribute_not_exists(id)")
                .build();
            let mark = Put::builder()
                .table_name(&self.register_table)
                .item("id", s(&mark_id(id)))
                .item("kind", s("mark"))
                .item("register_number", s(number))
                .condition_expression("attribute_not_exists(id)")
                .build();
            items.push(TransactWriteItem::builder().put(built(entry)?).build());
            items.push(TransactWriteItem::builder().put(built(mark)?).build());
        }
        let err = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(Entered::Done),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let failed = |reason: &aws_sdk_dynamodb::types::CancellationReason| {
                reason.code() == Some("ConditionalCheckFailed")
            };
            let reasons = cancelled.cancellation_reasons();
            // Items: the counter, then each document's entry and mark.
            if reasons.first().is_some_and(failed) {
                return Ok(Entered::RegisterMoved);
            }
            if reasons.iter().skip(2).step_by(2).any(failed) {
                return Ok(Entered::DocumentTaken);
            }
            // An entry taken with the counter standing, or another transaction holding one of
            // the items at that moment: read and try again.
            if reasons.iter().any(|r| {
                r.code() == Some("TransactionConflict")
                    || r.code() == Some("ConditionalCheckFailed")
            }) {
                return Ok(Entered::RegisterMoved);
            }
        }
        if err.code() == Some("TransactionConflictException") {
            return Ok(Entered::RegisterMoved);
        }
        Err(dynamo_error("dynamodb:TransactWriteItems", &err))
    }

    /// The number a document was given, if it was.
    pub async fn number_of(&self, document_id: &str) -> Result<Option<String>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.register_table)
            .key("id", s(&mark_id(document_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("dynamodb:GetItem", &e))?;
        Ok(answer
            .item
            .and_then(|item| item.get("register_number")?.as_s().ok().cloned()))
    }
}
