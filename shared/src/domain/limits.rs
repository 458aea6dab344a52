//! The office's fixed limits, which the deployment's settings are checked against and the
//! concerns apply.

use std::time::Duration;

/// The longest an upload URL may live: long enough for a slow connection, short enough that a
/// leaked form is useless soon.
pub const MAX_UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);

/// The default largest document accepted: 50 MiB, the engine's own default.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = crate::engine::pdf::policy::DEFAULT_MAX_FILE_BYTES;

/// Counter items per day: a burst of documents spreads over this many keys.
pub const DEFAULT_COUNTER_SHARDS: u32 = 16;
