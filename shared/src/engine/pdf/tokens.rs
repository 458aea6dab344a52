//! How many objects lopdf would make of one object's syntax, counted before it parses it.
//!
//! lopdf parses a whole object (or a whole object stream) before the engine's filter sees it,
//! and every number, name or string becomes a 120-byte `Object`: a 10 MB file holding one
//! array of five million zeros took 670 MB to read. The syntax is counted here first, token by
//! token, with PDF's own lexical rules (strings with their escapes and nesting, hex strings,
//! names, comments), keeping nothing, so that an object too large to read is refused instead.
//! The count is a state machine fed in any pieces, so that an object stream is counted as it
//! is inflated, a buffer at a time.

use std::io::Read;

/// A token costs at most this much memory once parsed: a 120-byte `Object` in an array (whose
/// growth Linux remaps rather than copies), or half a dictionary entry (key and value with
/// their hash and index slot). pdf.js's bug1978317.pdf, with a 1,044,333-token object, peaked
/// at 214 MB when read whole, within the 192 MiB limit this allows (1.26 million tokens).
pub(crate) const TOKEN_BYTES: u64 = 160;

/// Where the lexer is between two bytes.
#[derive(Debug, Clone, Copy, Default)]
enum State {
    /// Between tokens.
    #[default]
    Between,
    /// In a comment, to the end of the line.
    Comment,
    /// In a literal string, `depth` parentheses deep, just after a backslash or not.
    Literal { depth: u32, escaped: bool },
    /// After a `<`: a dictionary's `<<` or a hex string.
    Angle,
    /// In a hex string.
    Hex,
    /// After a `>` (a `>>` or a stray one).
    Closing,
    /// In a name.
    Name,
    /// In a regular token (a number, a keyword): its first bytes, enough to tell `obj`,
    /// `endobj` and `stream`, and its length.
    Word { start: [u8; 6], len: usize },
}

/// Counts tokens: of each top-level object of a file (between `obj` and `endobj` or `stream`,
/// stream data skipped up to its `endstream`), or of the whole content of an object stream.
#[derive(Debug, Default)]
pub(crate) struct TokenCount {
    state: State,
    /// Tokens of the object being read.
    current: u64,
    /// The most tokens one object had.
    pub largest: u64,
    /// Every token counts together (an object stream's content: `obj`, `endobj` and `stream`
    /// are tokens there, not the bounds of an object).
    together: bool,
}

/// The bytes that end a regular token (ISO 32000-1 §7.2.2: white space and delimiters).
const ENDS_TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let ends = b"\0\t\n\x0c\r ()<>[]{}/%";
    let mut i = 0;
    while i < ends.len() {
        table[ends[i] as usize] = true;
        i += 1;
    }
    table
};

fn ends_token(b: u8) -> bool {
    ENDS_TOKEN[b as usize]
}

/// How many bytes from the start of `bytes` are not the end of a token.
fn token_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| ends_token(b))
        .unwrap_or(bytes.len())
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

impl TokenCount {
    fn token(&mut self) {
        self.current += 1;
        self.largest = self.largest.max(self.current);
    }

    /// A regular token ended: a keyword that bounds an object, or one more token. `true` for
    /// a `stream` keyword that starts stream data.
    fn word_ended(&mut self, start: &[u8], len: usize) -> bool {
        let keyword = |k: &[u8]| len == k.len() && start.starts_with(k);
        if self.together {
            self.token();
            return false;
        }
        if keyword(b"obj") || keyword(b"endobj") {
            self.current = 0;
        } else if keyword(b"stream") {
            self.current = 0;
            return true;
        } else {
            self.token();
        }
        false
    }

    /// Counts `bytes`, which follow what was fed before; answers where stream data starts
    /// (just after a `stream` keyword), if it does in `bytes`.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            match self.state {
                State::Comment => {
                    match memchr::memchr2(b'\n', b'\r', &bytes[at..]) {
                        Some(n) => {
                            at += n + 1;
                            self.state = State::Between;
                        }
                        None => at = bytes.len(),
                    }
                    continue;
                }
                State::Literal { depth, escaped } => {
                    if !escaped {
                        // Skip to the next byte that matters in a string.
                        match memchr::memchr3(b'(', b')', b'\\', &bytes[at..]) {
                            Some(n) => at += n,
                            None => {
                                at = bytes.len();
                                continue;
                            }
                        }
                    }
                    let b = bytes[at];
                    self.state = match (escaped, b) {
                        (true, _) => State::Literal {
                            depth,
                            escaped: false,
                        },
                        (false, b'\\') => State::Literal {
                            depth,
                            escaped: true,
                        },
                        (false, b'(') => State::Literal {
                            depth: depth.saturating_add(1),
                            escaped: false,
                        },
                        (false, b')') if depth <= 1 => State::Between,
                        (false, b')') => State::Literal {
                            depth: depth - 1,
                            escaped: false,
                        },
                        _ => State::Literal { depth, escaped },
                    };
                    at += 1;
                    continue;
                }
                State::Hex => {
                    match memchr::memchr(b'>', &bytes[at..]) {
                        Some(n) => {
                            at += n + 1;
                            self.state = State::Between;
                        }
                        None => at = bytes.len(),
                    }
                    continue;
                }
                State::Angle => {
                    self.token();
                    if b == b'<' {
                        self.state = State::Between;
                        at += 1;
                    } else {
                        self.state = State::Hex;
                    }
                    continue;
                }
                State::Closing => {
                    self.state = State::Between;
                    if b == b'>' {
                        at += 1;
                    }
                    continue;
                }
                State::Name => {
                    at += token_run(&bytes[at..]);
                    if at < bytes.len() {
                        self.state = State::Between;
                    }
                    continue;
                }
                State::Word { mut start, len } => {
                    let run = token_run(&bytes[at..]);
                    for (slot, &b) in start.iter_mut().skip(len).zip(&bytes[at..at + run]) {
                        *slot = b;
                    }
                    let len = len.saturating_add(run);
                    at += run;
                    if at == bytes.len() {
                        self.state = State::Word { start, len };
                        continue;
                    }
                    self.state = State::Between;
                    let kept = len.min(start.len());
                    if self.word_ended(&start[..kept], len) {
                        return Some(at);
                    }
                    continue;
                }
                State::Between => {}
            }
            at += 1;
            self.state = match b {
                _ if is_space(b) => {
                    // Runs of white space (indentation, line ends) at once.
                    at += bytes[at..].iter().take_while(|&&b| is_space(b)).count();
                    State::Between
                }
                b'%' => State::Comment,
                b'(' => {
                    self.token();
                    State::Literal {
                        depth: 1,
                        escaped: false,
                    }
                }
                b'<' => State::Angle,
                b'>' => State::Closing,
                b'[' | b'{' => {
                    self.token();
                    State::Between
                }
                b']' | b'}' | b')' => State::Between,
                b'/' => {
                    self.token();
                    State::Name
                }
                _ => {
                    let mut start = [0u8; 6];
                    start[0] = b;
                    State::Word { start, len: 1 }
                }
            };
        }
        None
    }

    /// Ends the input: a token the input ended in counts.
    fn finish(&mut self) {
        if let State::Word { start, len } = self.state {
            let kept = len.min(start.len());
            self.word_ended(&start[..kept], len);
        }
        self.state = State::Between;
    }

    /// The tokens of each top-level object of a file.
    pub(crate) fn of_file(bytes: &[u8]) -> TokenCount {
        let mut count = TokenCount::default();
        let mut at = 0;
        while at < bytes.len() {
            match count.feed(&bytes[at..]) {
                // Stream data is not syntax: skipped to its end, as a repairing reader finds
                // it.
                Some(data) => {
                    let data = at + data;
                    at = memchr::memmem::find(&bytes[data..], b"endstream")
                        .map_or(bytes.len(), |n| data + n + b"endstream".len());
                }
                None => at = bytes.len(),
            }
        }
        count.finish();
        count
    }

    /// The tokens of an object stream's content, read from `decoded` (its decoded bytes) at
    /// most `limit` bytes: its members are all parsed before any is kept, so they count
    /// together. `None` when the content cannot be read.
    pub(crate) fn of_content(mut decoded: impl Read, limit: u64) -> Option<u64> {
        let mut count = TokenCount {
            together: true,
            ..TokenCount::default()
        };
        let mut buffer = [0u8; 32 * 1024];
        let mut read = 0u64;
        loop {
            let n = match decoded.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => return None,
            };
            read += n as u64;
            if read > limit {
                return None;
            }
            count.feed(&buffer[..n]);
        }
        count.finish();
        Some(count.largest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_content(content: &[u8]) -> u64 {
        TokenCount::of_content(content, u64::MAX).expect("read")
    }

    #[test]
    fn each_object_is_counted_on_its_own_and_stream_data_is_skipped() {
        let file = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
            2 0 obj\n[1 2 3 (a (nested) \\) string) <414243> /Name]\nendobj\n\
            3 0 obj\n<< /Length 10 >>\nstream\n[ [ [ [ [ [ [ [ [ [ [ [\nendstream\nendobj\n";
        let count = TokenCount::of_file(file);
        // << /Type /Catalog /Pages 2 0 R: 7; [ 1 2 3 (..) <..> /Name: 7.
        assert_eq!(count.largest, 7);
    }

    #[test]
    fn a_huge_array_is_counted_whatever_hides_in_its_strings_and_names() {
        let mut file = b"1 0 obj\n[".to_vec();
        for _ in 0..1000 {
            file.extend_from_slice(b"0 (endobj) /obj (stream\\)) % obj\n");
        }
        file.extend_from_slice(b"]\nendobj\n");
        assert_eq!(TokenCount::of_file(&file).largest, 1 + 4000);
    }

    #[test]
    fn an_object_streams_members_count_together_whatever_keywords_they_hold() {
        // The offsets (4), [ 1 2 3 (4), obj endobj stream (3), << /A 1 (3).
        assert_eq!(
            of_content(b"1 0 2 9 [1 2 3] obj endobj stream << /A 1 >>"),
            14
        );
    }

    #[test]
    fn a_content_is_counted_the_same_in_any_pieces() {
        let content = b"1 0 2 30 [(a (b) \\) c) <41 42> /N 12.5 << /K [true] >> %c\n9] (x";
        let whole = of_content(content);
        // A reader that hands out one byte at a time cuts every token somewhere.
        struct Bytewise<'a>(&'a [u8]);
        impl Read for Bytewise<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let pieces = TokenCount::of_content(Bytewise(content), u64::MAX).expect("read");
        assert_eq!(pieces, whole);
        assert_eq!(whole, 15);
    }

    #[test]
    fn a_content_past_the_limit_is_not_read() {
        assert_eq!(TokenCount::of_content(&b"0 0 0 0 0 0"[..], 5), None);
    }

    #[test]
    fn an_unterminated_string_or_comment_ends_the_count_without_a_panic() {
        for file in [
            &b"1 0 obj ((((("[..],
            b"1 0 obj % no end",
            b"1 0 obj <abc",
            b"stream",
        ] {
            let _ = TokenCount::of_file(file);
            let _ = of_content(file);
        }
    }
}
