//! The answers of intake-api's desks: an HTTP status and a JSON body, and the refusals every
//! 4xx and 5xx carries (our code and our sentence, never a dependency's message).

use serde::Serialize;

/// The JSON error body every 4xx and 5xx carries.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// A stable code for programs.
    pub error: String,
    /// What is wrong, for people.
    pub message: String,
}

/// An API answer: the HTTP status and the JSON body.
pub type Answer = (i64, serde_json::Value);

/// What the API sends back: a JSON answer, or a document (a receipt).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An HTTP status and a JSON body.
    Json(Answer),
    /// A PDF, sent as itself (200).
    Pdf {
        /// The file name it is offered as.
        file_name: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Self {
        Reply::Json(answer)
    }
}

/// A refusal: `status` with our code and sentence.
pub fn refusal(status: i64, code: &str, message: impl Into<String>) -> Answer {
    let body = ErrorBody::new(code, message);
    (
        status,
        serde_json::to_value(body).unwrap_or_else(|_| serde_json::json!({ "error": code })),
    )
}

/// A failure of ours (an AWS call): logged with its cause, never told with a dependency's
/// message. A passing fault is "try again shortly" (503); one that retrying does not mend (a
/// deployment fault: access denied, a missing table) is a 500 the operators must see.
pub fn unavailable(doing: &str, e: &crate::ports::PortError) -> Answer {
    tracing::error!(error = %e, retry = ?e.retry, "failed {doing}");
    if e.is_retryable() {
        refusal(
            503,
            "temporarily_unavailable",
            "the service could not complete the request; try again shortly",
        )
    } else {
        refusal(
            500,
            "service_fault",
            "the service cannot take this request because of a fault on our side, which has \
             been logged for the city's IT team; your request was not taken",
        )
    }
}

impl ErrorBody {
    /// An error body.
    pub fn new(error: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: error.to_string(),
            message: message.into(),
        }
    }
}
