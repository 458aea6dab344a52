//! What the raw bytes say before any parser runs: the header, the end-of-file markers, the
//! revisions (one per `%%EOF`: the original and each incremental update), linearization, and
//! a quick count of objects, so that limits hold before lopdf allocates anything.

use serde::Serialize;

/// How far into the file the `%PDF-` header may start, and how far from the end `%%EOF` may
/// be (readers tolerate up to about 1 KiB of junk on either side).
pub const JUNK_WINDOW: usize = 1024;

/// One revision of the file: the byte range from the end of the previous revision (or 0) to
/// the end of this revision's `%%EOF` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// The raw facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawScan {
    /// Where `%PDF-` starts, if within the window.
    pub header_at: Option<usize>,
    /// The version after `%PDF-`.
    pub version: Option<String>,
    /// Whether a `%%EOF` ends the file (within the window).
    pub has_eof: bool,
    /// The revisions, in file order.
    pub revisions: Vec<Revision>,
    /// Whether the first object declares the file linearized.
    pub linearized: bool,
    /// How many `obj` keywords the file holds outside object streams (an upper bound on what a
    /// parser will allocate for top-level objects).
    pub object_keywords: usize,
    /// What follows the last revision, when it is more than white space.
    pub trailing: Option<Trailing>,
}

/// Bytes after the end of the last revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailing {
    /// How many.
    pub bytes: u64,
    /// They hold PDF syntax (objects, a cross-reference section): an update that was cut off
    /// before its `%%EOF`, not data appended to a whole file.
    pub looks_like_pdf: bool,
    /// The format they are, when their first bytes say so.
    pub format: Option<&'static str>,
}

/// What follows the last revision (`None` for white space and NUL padding only).
fn trailing(bytes: &[u8], revisions: &[Revision]) -> Option<Trailing> {
    let end = usize::try_from(revisions.last()?.end).ok()?;
    let rest = bytes.get(end..)?;
    let first = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0)?;
    let data = &rest[first..];
    let looks_like_pdf = [
        b" obj".as_slice(),
        b"endobj",
        b"xref",
        b"trailer",
        b"startxref",
    ]
    .iter()
    .any(|keyword| find(data, keyword).is_some());
    Some(Trailing {
        bytes: rest.len() as u64,
        looks_like_pdf,
        format: format_of(data),
    })
}

/// The format `data` starts as, by its magic bytes.
fn format_of(data: &[u8]) -> Option<&'static str> {
    let head = &data[..data.len().min(64)];
    let lower = head.to_ascii_lowercase();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some("a ZIP archive")
    } else if head.starts_with(b"MZ") {
        Some("a Windows program (PE)")
    } else if head.starts_with(b"\x7fELF") {
        Some("a Linux program (ELF)")
    } else if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        Some("an HTML page")
    } else if head.starts_with(b"%PDF-") {
        Some("another PDF")
    } else if head.starts_with(b"Rar!") || head.starts_with(b"7z\xbc\xaf") {
        Some("an archive")
    } else {
        None
    }
}

/// Scans `bytes` once (well, a few memchr-speed passes).
pub fn scan(bytes: &[u8]) -> RawScan {
    let head = &bytes[..bytes.len().min(JUNK_WINDOW)];
    let header_at = find(head, b"%PDF-");
    let version = header_at.and_then(|at| header_version(&bytes[at..]));
    let tail = &bytes[bytes.len().saturating_sub(JUNK_WINDOW)..];
    let has_eof = find(tail, b"%%EOF").is_some();
    let revisions = revisions(bytes);
    let linearized = header_at.is_some_and(|at| {
        let window = &bytes[at..bytes.len().min(at + JUNK_WINDOW)];
        find(window, b"/Linearized").is_some()
    });
    let trailing = trailing(bytes, &revisions);
    RawScan {
        header_at,
        version,
        has_eof,
        revisions,
        linearized,
        object_keywords: count_object_keywords(bytes),
        trailing,
    }
}

fn header_version(from_header: &[u8]) -> Option<String> {
    let rest = from_header.get(5..)?;
    let len = rest
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    (len > 0).then(|| String::from_utf8_lossy(&rest[..len]).into_owned())
}

/// Every `%%EOF` that closes a `startxref` section ends a revision.
pub(crate) fn revisions(bytes: &[u8]) -> Vec<Revision> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for at in memchr::memmem::find_iter(bytes, b"%%EOF") {
        let mut end = at + 5;
        // The end-of-line after %%EOF belongs to the revision.
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        let before = &bytes[at.saturating_sub(48)..at];
        if find(before, b"startxref").is_some() {
            out.push(Revision {
                start: start as u64,
                end: end as u64,
            });
            start = end;
        }
    }
    out
}

/// The offset a `startxref` names in the 64 bytes before `end` (the end of a revision).
pub(crate) fn startxref_before(bytes: &[u8], end: usize) -> Option<usize> {
    let window = bytes.get(end.saturating_sub(64)..end)?;
    let at = memchr::memmem::rfind(window, b"startxref")?;
    let rest = std::str::from_utf8(&window[at + 9..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Counts ` obj` keywords that follow an object number and generation (`12 0 obj`).
fn count_object_keywords(bytes: &[u8]) -> usize {
    memchr::memmem::find_iter(bytes, b" obj")
        .filter(|&at| at > 0 && bytes[at - 1].is_ascii_digit())
        .count()
}

/// Position of `needle` in `haystack` (SIMD-accelerated: this runs over whole files).
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pdf::samples::minimal_pdf;

    #[test]
    fn a_simple_file_has_one_revision_covering_it_all() {
        let pdf = minimal_pdf(1, "x");
        let scan = scan(&pdf);
        assert_eq!(scan.header_at, Some(0));
        assert_eq!(scan.version.as_deref(), Some("1.7"));
        assert!(scan.has_eof);
        assert!(!scan.linearized);
        assert_eq!(
            scan.revisions,
            vec![Revision {
                start: 0,
                end: pdf.len() as u64
            }]
        );
        assert_eq!(scan.object_keywords, 4);
    }

    #[test]
    fn each_incremental_update_is_a_revision() {
        let pdf = crate::engine::pdf::samples::with_incremental_update(&minimal_pdf(1, "x"));
        let scan = scan(&pdf);
        assert_eq!(scan.revisions.len(), 2);
        assert_eq!(scan.revisions[0].end, scan.revisions[1].start);
        assert_eq!(scan.revisions[1].end, pdf.len() as u64);
    }

    #[test]
    fn eof_inside_content_without_startxref_is_not_a_revision() {
        let mut pdf = b"%PDF-1.4\n1 0 obj (%%EOF) endobj\n".to_vec();
        pdf.extend_from_slice(b"startxref\n9\n%%EOF\n");
        assert_eq!(scan(&pdf).revisions.len(), 1);
    }

    #[test]
    fn what_follows_the_last_revision_is_named() {
        let pdf = minimal_pdf(1, "x");
        assert_eq!(scan(&pdf).trailing, None);
        let mut padded = pdf.clone();
        padded.extend_from_slice(b"\n\r\n\0\0  ");
        assert_eq!(scan(&padded).trailing, None);
        let mut zip = pdf.clone();
        zip.extend_from_slice(b"PK\x03\x04 an archive");
        let t = scan(&zip).trailing.unwrap();
        assert_eq!(t.format, Some("a ZIP archive"));
        assert!(!t.looks_like_pdf);
        let mut cut = pdf.clone();
        cut.extend_from_slice(b"9 0 obj << /Type /Page >> endobj\nxref\n0 1");
        let t = scan(&cut).trailing.unwrap();
        assert!(t.looks_like_pdf);
        assert_eq!(t.format, None);
    }

    #[test]
    fn find_works_at_edges() {
        assert_eq!(find(b"abc", b"abc"), Some(0));
        assert_eq!(find(b"xxabc", b"abc"), Some(2));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"", b"a"), None);
    }
}
