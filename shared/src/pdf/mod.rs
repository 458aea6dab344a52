//! The basic PDF check: the bytes are a PDF that parses and has pages.
//!
//! This is the first gate of validation. Deeper structural, active-content and signature checks
//! add their findings to the same [`Verdict`].

use crate::model::{Finding, ReasonCode, Verdict};

/// How far into the file the `%PDF-` header may start (readers tolerate leading junk up to 1 KiB).
const HEADER_SEARCH_WINDOW: usize = 1024;

/// Checks that `bytes` are a PDF that parses and has at least one page.
pub fn check_pdf(bytes: &[u8]) -> Verdict {
    let mut verdict = Verdict::default();
    if bytes.is_empty() {
        verdict
            .findings
            .push(Finding::reject(ReasonCode::Empty, "the file is empty"));
        return verdict;
    }
    let Some(header_at) = find_header(bytes) else {
        verdict.findings.push(Finding::reject(
            ReasonCode::NotPdf,
            "the file is not a PDF (no %PDF- header in its first 1024 bytes)",
        ));
        return verdict;
    };
    verdict.pdf_version = header_version(&bytes[header_at..]);
    if !has_eof_marker(bytes) {
        // lopdf repairs what it can of a cut-off file; a document missing its end must still
        // be refused, not accepted with the pages that happened to arrive.
        verdict.findings.push(Finding::reject(
            ReasonCode::Truncated,
            "the PDF is incomplete: it has no %%EOF marker at its end (the upload was cut off?)",
        ));
        return verdict;
    }

    // lopdf can panic on some malformed files; a panic must become a rejection, not a crashed
    // batch that redelivers the same poison message until it lands in the dead-letter queue.
    let parsed = std::panic::catch_unwind(|| lopdf::Document::load_mem(bytes));
    let document = match parsed {
        Ok(Ok(document)) => document,
        Ok(Err(e)) => {
            verdict.findings.push(Finding::reject(
                ReasonCode::Unparseable,
                format!("the PDF could not be read: {}", describe_lopdf_error(&e)),
            ));
            return verdict;
        }
        Err(_) => {
            verdict.findings.push(Finding::reject(
                ReasonCode::Unparseable,
                "the PDF could not be read: its structure is malformed",
            ));
            return verdict;
        }
    };
    let pages = document.get_pages().len();
    verdict.pages = Some(u32::try_from(pages).unwrap_or(u32::MAX));
    if pages == 0 {
        verdict
            .findings
            .push(Finding::reject(ReasonCode::NoPages, "the PDF has no pages"));
    }
    verdict
}

fn find_header(bytes: &[u8]) -> Option<usize> {
    let window = &bytes[..bytes.len().min(HEADER_SEARCH_WINDOW)];
    window.windows(5).position(|w| w == b"%PDF-")
}

/// Readers accept trailing junk after `%%EOF` up to about 1 KiB.
fn has_eof_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(HEADER_SEARCH_WINDOW)..];
    tail.windows(5).any(|w| w == b"%%EOF")
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

/// lopdf's messages describe structure (offsets, object ids), never content; keep them short.
fn describe_lopdf_error(e: &lopdf::Error) -> String {
    let mut text = e.to_string();
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Builders for small PDFs, for tests and samples in this workspace.
pub mod samples {
    /// A minimal valid PDF with `pages` pages and a text line on each, with a correct
    /// cross-reference table. `marker` varies the bytes (and so the hash) between samples.
    pub fn minimal_pdf(pages: usize, marker: &str) -> Vec<u8> {
        let mut objects: Vec<String> = Vec::new();
        let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
        objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
        objects.push(format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages
        ));
        for i in 0..pages {
            let content = format!("BT /F1 12 Tf 72 720 Td ({marker} page {}) Tj ET", i + 1);
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
                4 + 2 * i
            ));
            objects.push(format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ));
        }
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref_at = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n", objects.len() + 1).as_bytes());
        out.extend_from_slice(b"0000000000 65535 f \n");
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::samples::minimal_pdf;
    use super::*;

    fn codes(v: &Verdict) -> Vec<ReasonCode> {
        v.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn valid_pdf_is_accepted_with_its_pages() {
        let v = check_pdf(&minimal_pdf(3, "ok"));
        assert!(v.is_accepted(), "{v:?}");
        assert_eq!(v.pages, Some(3));
        assert_eq!(v.pdf_version.as_deref(), Some("1.7"));
    }

    #[test]
    fn empty_file_is_rejected_as_empty() {
        assert_eq!(codes(&check_pdf(b"")), vec![ReasonCode::Empty]);
    }

    #[test]
    fn non_pdf_is_rejected_as_not_pdf() {
        let v = check_pdf(b"PK\x03\x04 this is a zip named .pdf");
        assert_eq!(codes(&v), vec![ReasonCode::NotPdf]);
        assert!(!v.is_accepted());
    }

    #[test]
    fn truncated_pdf_is_rejected_as_truncated() {
        let full = minimal_pdf(2, "cut");
        for cut in [12, full.len() / 3, full.len() / 2, full.len() - 7] {
            let v = check_pdf(&full[..cut]);
            assert!(!v.is_accepted(), "cut at {cut} was accepted");
            assert_eq!(codes(&v), vec![ReasonCode::Truncated], "cut at {cut}");
        }
    }

    #[test]
    fn broken_structure_with_an_eof_marker_is_unparseable() {
        let v = check_pdf(b"%PDF-1.4\nthis is not a PDF body\n%%EOF\n");
        assert_eq!(codes(&v), vec![ReasonCode::Unparseable]);
    }

    #[test]
    fn pdf_without_pages_is_rejected() {
        let v = check_pdf(&minimal_pdf(0, "none"));
        assert_eq!(codes(&v), vec![ReasonCode::NoPages]);
    }

    #[test]
    fn header_after_leading_junk_is_found() {
        let mut bytes = b"junk\n".to_vec();
        bytes.extend(minimal_pdf(1, "junk"));
        assert_eq!(find_header(&bytes), Some(5));
    }
}
