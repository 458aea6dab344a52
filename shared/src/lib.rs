//! intake: document intake for a city hall.
//!
//! The library the Lambda functions and the `intake` command share. Its folders, from the
//! bottom up (each uses only those above it in this list):
//!
//! - [`engine`]: the document engine: PDF structure and active content, signatures (PAdES,
//!   CAdES), SHA-256. Plain functions over bytes, used without AWS by the command line and
//!   the fuzzer.
//! - [`domain`]: the office's vocabulary: documents and their records, keys, departments and
//!   routing, services, the office's time and the statutory deadlines.
//! - [`ports`]: what the logic needs of the world, as narrow traits (each concern adds its
//!   own in its `ports` module), and the one error they fail with.
//! - [`lambda`]: what a function reads at cold start (its configuration) and how it logs.
//! - [`api`]: the answers of the HTTP API (status and JSON body, or a document) and their
//!   refusals.
//! - [`register`]: the incoming register (unique, gapless numbers per office and year), and
//!   [`receipt`]: the office's signed receipt for every document (content, XML, PDF, the PAdES
//!   signature through KMS, its certificates, the receipt desk).
//! - The concerns, each plain logic over its ports: [`upload`] (the web-form desk), [`station`]
//!   (scanning stations: the station desk, manifests, batch reconciliation), [`validation`]
//!   (the validation path: the verdict, duplicate detection, archive and quarantine),
//!   [`notification`] (routing to departments and exactly-once notification), [`report`] (the
//!   daily figures and reports).
//! - [`front_desk`]: intake-api's routes to the two desks.
//! - [`adapters`]: the AWS SDK behind the ports, each service in one place, and [`aws`]: each
//!   concern over them, as the functions run it (feature `aws`).
//! - [`in_memory`]: every port in memory, with fault injection, for unit tests (feature
//!   `in-memory`).
//!
//! Handlers in `functions/` only parse their event, call into here, and answer.

#[cfg(feature = "aws")]
pub mod adapters;
pub mod api;
#[cfg(feature = "aws")]
pub mod aws;
pub mod domain;
pub mod engine;
pub mod front_desk;
#[cfg(any(test, feature = "in-memory"))]
pub mod in_memory;
pub mod lambda;
pub mod notification;
pub mod ports;
pub mod receipt;
pub mod register;
pub mod report;
pub mod station;
pub mod upload;
pub mod validation;
