//! What a function reads at cold start ([`config`]: its settings from the environment, checked)
//! and how it logs ([`telemetry`]: JSON lines with the invocation's and record's ids).

pub mod config;
pub mod telemetry;
