//! The local stack: the real system on a local AWS.
//!
//! - [`moto`] starts moto server on a free loopback port;
//! - [`terraform`] applies `infra/` to it;
//! - [`runtime`] runs each function binary under an emulation of the Lambda Runtime API, with
//!   its AWS traffic through [`proxy`] (where tests inject faults);
//! - [`poller`] feeds `validate` from its queue as Lambda's SQS event source mapping does;
//! - [`function_url`] turns HTTP requests into function URL events for `intake-api`;
//! - [`browser`] submits documents exactly as the web form does;
//! - [`stack`] puts it all together, for the integration tests and the local run.

pub mod browser;
pub mod function_url;
pub mod http;
pub mod moto;
pub mod office_pki;
pub mod poller;
pub mod process;
pub mod proxy;
pub mod runtime;
pub mod samples;
pub mod stack;
pub mod stream_poller;
pub mod terraform;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}
