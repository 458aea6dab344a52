//! SNS: the departments' notification topic (FIFO). Each message carries a `department`
//! attribute, on which every department's queue subscription filters.

use aws_sdk_sns::types::MessageAttributeValue;

use super::{Aws, AwsError};
use crate::notification::{Notification, deduplication_id};

/// The `department` message attribute both topics' subscriptions filter on.
fn department_attribute(department: &str) -> Result<MessageAttributeValue, AwsError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(department)
        .build()
        .map_err(|e| AwsError::permanent("sns:Publish", e.to_string()))
}

/// The FIFO topic departments are notified through.
#[derive(Clone, Debug)]
pub struct NotificationTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl NotificationTopic {
    /// A client for the topic.
    pub fn new(aws: &Aws, topic_arn: impl Into<String>) -> Self {
        NotificationTopic {
            client: aws_sdk_sns::Client::new(&aws.config),
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes one notification. The deduplication id is the (document, department) pair's,
    /// so the topic drops a repeat within its five-minute window; the message group is the
    /// department, so each department reads its documents in order.
    pub async fn publish(&self, notification: &Notification) -> Result<(), AwsError> {
        self.publish_message(
            &notification.department,
            &notification.document_id,
            notification,
        )
        .await
    }

    /// Publishes any message for a department about `subject` (a document id, or a batch's
    /// event): deduplicated per (subject, department), grouped per department.
    pub async fn publish_message(
        &self,
        department: &str,
        subject: &str,
        message: &impl serde::Serialize,
    ) -> Result<(), AwsError> {
        let body = serde_json::to_string(message).map_err(|e| {
            AwsError::permanent("sns:Publish", format!("encoding the notification: {e}"))
        })?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_group_id(department)
            .message_deduplication_id(deduplication_id(subject, department))
            .message_attributes("department", department_attribute(department)?)
            .send()
            .await
            .map_err(|e| AwsError::new("sns:Publish", &e))?;
        Ok(())
    }
}

/// The optional e-mail topic (standard SNS: FIFO topics deliver to queues only). Best effort: a
/// clerk's inbox is a courtesy, the department's queue is the record.
#[derive(Clone, Debug)]
pub struct EmailTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl EmailTopic {
    /// A client for the topic.
    pub fn new(aws: &Aws, topic_arn: impl Into<String>) -> Self {
        EmailTopic {
            client: aws_sdk_sns::Client::new(&aws.config),
            topic_arn: topic_arn.into(),
        }
    }

    /// Sends the notification as a short text, filtered to the department's address.
    pub async fn publish(&self, notification: &Notification) -> Result<(), AwsError> {
        let department = department_attribute(&notification.department)?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            // SNS subjects are ASCII: the department's id, not its Polish name.
            .subject(format!(
                "intake: new document for {}",
                notification.department
            ))
            .message(crate::notification::email_text(notification))
            .message_attributes("department", department)
            .send()
            .await
            .map_err(|e| AwsError::new("sns:Publish", &e))?;
        Ok(())
    }
}

/// The management topic: a short summary of each report (standard SNS; e-mail subscriptions).
#[derive(Clone, Debug)]
pub struct ManagementTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl ManagementTopic {
    /// A client for the topic.
    pub fn new(aws: &Aws, topic_arn: impl Into<String>) -> Self {
        ManagementTopic {
            client: aws_sdk_sns::Client::new(&aws.config),
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes a summary. SNS subjects are ASCII: the subject is kept plain.
    pub async fn publish(&self, subject: &str, text: &str) -> Result<(), AwsError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(text)
            .send()
            .await
            .map_err(|e| AwsError::new("sns:Publish", &e))?;
        Ok(())
    }
}
