//! intake: document intake for a city hall.
//!
//! The library the Lambda functions share: the document model, PDF validation, hashing, upload
//! requests, the S3 event shapes, and the AWS adapters. Handlers in `functions/` only parse their
//! event, call into here, and answer.

#[cfg(feature = "aws")]
pub mod adapters;
pub mod api;
pub mod config;
pub mod deadline;
pub mod front_desk;
pub mod hashing;
#[cfg(any(test, feature = "in-memory"))]
pub mod in_memory;
pub mod keys;
pub mod model;
pub mod notification;
pub mod pdf;
#[cfg(feature = "aws")]
pub mod pipeline;
pub mod ports;
pub mod report;
pub mod routing;
pub mod s3_event;
pub mod services;
pub mod signature;
pub mod station;
pub mod telemetry;
pub mod time;
pub mod upload;
