//! Reading a document once: SHA-256 computed while the bytes stream in, with a hard size bound.

use sha2::{Digest, Sha256};

/// A SHA-256 digest of a document's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentHash([u8; 32]);

impl DocumentHash {
    /// The hash of a byte slice in one call.
    pub fn of(bytes: &[u8]) -> Self {
        DocumentHash(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, as used in keys and records.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Base64, as S3's `x-amz-checksum-sha256` wants it.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(DocumentHash(out))
    }
}

impl std::fmt::Display for DocumentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Bytes between two checkpoints.
pub const CHECKPOINT_INTERVAL: usize = 256 * 1024;

/// The SHA-256 state after every [`CHECKPOINT_INTERVAL`] bytes of a document, kept while it is
/// hashed (about 100 bytes per 256 KiB). A signature's digest covers the file from its start
/// to the signature, so it resumes from the last checkpoint before that point instead of
/// hashing the document a second time.
#[derive(Clone, Debug, Default)]
pub struct HashCheckpoints {
    /// `states[i]` is the state after `(i + 1) * CHECKPOINT_INTERVAL` bytes.
    states: Vec<Sha256>,
}

impl HashCheckpoints {
    /// The SHA-256 state after `bytes[..end]`, resumed from the nearest checkpoint. `bytes`
    /// must be the document the checkpoints were taken over.
    pub fn state_at(&self, bytes: &[u8], end: usize) -> Sha256 {
        let end = end.min(bytes.len());
        let whole = (end / CHECKPOINT_INTERVAL).min(self.states.len());
        let (mut state, from) = match whole.checked_sub(1) {
            Some(i) => (self.states[i].clone(), whole * CHECKPOINT_INTERVAL),
            None => (Sha256::new(), 0),
        };
        state.update(&bytes[from..end]);
        state
    }
}

/// Hashes `bytes`, keeping checkpoints.
pub fn hash_with_checkpoints(bytes: &[u8]) -> (DocumentHash, HashCheckpoints) {
    let mut hasher = Sha256::new();
    let mut checkpoints = HashCheckpoints::default();
    let mut chunks = bytes.chunks_exact(CHECKPOINT_INTERVAL);
    for chunk in &mut chunks {
        hasher.update(chunk);
        checkpoints.states.push(hasher.clone());
    }
    hasher.update(chunks.remainder());
    (DocumentHash(hasher.finalize().into()), checkpoints)
}

/// What reading a document produced.
#[derive(Debug)]
pub struct ReadDocument {
    /// The bytes, or `None` when they exceeded the limit (they were hashed, not kept).
    pub bytes: Option<Vec<u8>>,
    /// The SHA-256 of every byte read, whatever the limit.
    pub hash: DocumentHash,
    /// How many bytes were read.
    pub size: u64,
    /// Hash checkpoints over the bytes (empty when they were not kept).
    pub checkpoints: HashCheckpoints,
}

/// Collects a document's bytes chunk by chunk and hashes them on the way in, so the object is
/// read exactly once. At most `limit` bytes are held: past it the buffer is dropped and only the
/// hash and size are kept, so an oversized file is still identified without using its memory.
pub struct DocumentReader {
    hasher: Sha256,
    checkpoints: HashCheckpoints,
    bytes: Option<Vec<u8>>,
    size: u64,
    limit: u64,
}

impl DocumentReader {
    /// A reader that keeps at most `limit` bytes. `expected` (the object's declared length) only
    /// sizes the buffer, and only up to the limit.
    pub fn new(limit: u64, expected: Option<u64>) -> Self {
        let capacity = expected.unwrap_or(0).min(limit);
        DocumentReader {
            hasher: Sha256::new(),
            checkpoints: HashCheckpoints::default(),
            bytes: Some(Vec::with_capacity(usize::try_from(capacity).unwrap_or(0))),
            size: 0,
            limit,
        }
    }

    /// Adds the next chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        let interval = CHECKPOINT_INTERVAL as u64;
        let mut rest = chunk;
        while !rest.is_empty() {
            // Up to the next checkpoint boundary, then note the state there.
            let to_boundary = interval - self.size % interval;
            let take = rest
                .len()
                .min(usize::try_from(to_boundary).unwrap_or(usize::MAX));
            let (now, later) = rest.split_at(take);
            self.hasher.update(now);
            self.size = self.size.saturating_add(now.len() as u64);
            if self.size % interval == 0 && self.size <= self.limit {
                self.checkpoints.states.push(self.hasher.clone());
            }
            rest = later;
        }
        if self.size > self.limit {
            self.bytes = None;
        } else if let Some(bytes) = self.bytes.as_mut() {
            bytes.extend_from_slice(chunk);
        }
    }

    /// The bytes read (unless over the limit), their hash and size.
    pub fn finish(self) -> ReadDocument {
        let checkpoints = if self.bytes.is_some() {
            self.checkpoints
        } else {
            HashCheckpoints::default()
        };
        ReadDocument {
            bytes: self.bytes,
            hash: DocumentHash(self.hasher.finalize().into()),
            size: self.size,
            checkpoints,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_hash_equals_one_shot_hash() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = DocumentReader::new(1 << 20, Some(data.len() as u64));
        for chunk in data.chunks(777) {
            reader.push(chunk);
        }
        let read = reader.finish();
        assert_eq!(read.bytes.as_deref(), Some(&data[..]));
        assert_eq!(read.hash, DocumentHash::of(&data));
        assert_eq!(read.size, data.len() as u64);
    }

    #[test]
    fn checkpoints_resume_to_the_same_state_as_hashing_from_the_start() {
        let data: Vec<u8> = (0..3 * CHECKPOINT_INTERVAL + 1234)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut reader = DocumentReader::new(1 << 30, None);
        for chunk in data.chunks(100_003) {
            reader.push(chunk);
        }
        let read = reader.finish();
        let (hash, direct) = hash_with_checkpoints(&data);
        assert_eq!(read.hash, hash);
        for end in [
            0,
            1,
            CHECKPOINT_INTERVAL,
            CHECKPOINT_INTERVAL + 7,
            data.len() - 1,
            data.len(),
        ] {
            let expected = Sha256::digest(&data[..end]);
            assert_eq!(
                read.checkpoints.state_at(&data, end).finalize(),
                expected,
                "{end}"
            );
            assert_eq!(direct.state_at(&data, end).finalize(), expected, "{end}");
        }
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            DocumentHash::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            DocumentHash::of(b"abc").to_base64(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn past_the_limit_only_the_hash_is_kept_and_a_lying_length_does_not_allocate() {
        let mut reader = DocumentReader::new(10, Some(u64::MAX));
        reader.push(&[0; 6]);
        reader.push(&[0; 5]);
        reader.push(&[0; 5]);
        let read = reader.finish();
        assert!(read.bytes.is_none());
        assert_eq!(read.size, 16);
        assert_eq!(read.hash, DocumentHash::of(&[0; 16]));
    }

    #[test]
    fn hex_round_trip_and_rejects_garbage() {
        let h = DocumentHash::of(b"x");
        assert_eq!(DocumentHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(DocumentHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(DocumentHash::from_hex("zz"), None);
        assert_eq!(DocumentHash::from_hex(""), None);
    }
}
