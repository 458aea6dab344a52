//! The document engine: what a document's bytes are. PDF structure, active content and the
//! bomb limits ([`pdf`]), signatures ([`signature`]), SHA-256 with checkpoints ([`hashing`]),
//! and the verdict they make ([`findings`]). Plain functions over bytes, with no AWS: the
//! command line and the fuzzer use it as it is.

pub mod findings;
pub mod hashing;
pub mod pdf;
pub mod signature;
