//! Structured logs: JSON lines, one event per line, each carrying the fields of the spans it
//! happened in (the invocation's request id, the stream record's sequence number and document
//! id). The level comes from `RUST_LOG` when set, else from Lambda's own setting
//! (`AWS_LAMBDA_LOG_LEVEL`, set by the function's logging configuration), else `info`.
//! Log fields carry ids, hashes, sizes and codes; never document contents or credentials.

/// The filter directive for `AWS_LAMBDA_LOG_LEVEL`'s value (`TRACE` … `FATAL`).
pub fn lambda_level(value: &str) -> Option<&'static str> {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

/// The span of one Lambda invocation: every line logged within it carries the request id.
pub fn invocation(request_id: &str) -> tracing::Span {
    tracing::info_span!("invocation", request_id)
}

/// Installs the JSON subscriber. Call once at cold start.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .as_deref()
            .and_then(lambda_level)
            .unwrap_or("info");
        tracing_subscriber::EnvFilter::new(level)
    });
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .without_time() // Lambda stamps every line itself.
        .init();
}

#[cfg(test)]
mod tests {
    use super::lambda_level;

    #[test]
    fn lambdas_log_levels_become_filters() {
        assert_eq!(lambda_level("DEBUG"), Some("debug"));
        assert_eq!(lambda_level("warn"), Some("warn"));
        assert_eq!(lambda_level("FATAL"), Some("error"));
        assert_eq!(lambda_level("LOUD"), None);
    }
}
