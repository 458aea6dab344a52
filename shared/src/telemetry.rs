//! Structured logs: JSON lines, one event per line, filtered by `RUST_LOG` (default `info`).
//! Log fields carry ids, hashes, sizes and codes; never document contents or credentials.

/// Installs the JSON subscriber. Call once at cold start.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time() // Lambda stamps every line itself.
        .init();
}
