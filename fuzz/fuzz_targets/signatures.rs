//! Fuzzes the signature checks: any bytes, as a PDF or as a detached CMS, must give verdicts,
//! never a panic, a hang or unbounded memory. Seeds: the signed fixtures
//! (`scripts/fuzz 600 signatures` copies them into the corpus).
#![no_main]

use intake::engine::signature::{TrustAnchors, check_detached, check_pdf_signatures};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let anchors = TrustAnchors::none();
    let report = check_pdf_signatures(data, &anchors);
    // No trust anchors: nothing can be trusted, whatever the input.
    assert!(report.signatures.iter().all(|s| !s.trusted));
    let detached = check_detached(b"document", data, &anchors);
    assert!(!detached.trusted);
});
