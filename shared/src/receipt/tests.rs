//! Receipts in memory: what a receipt states for each kind of document, and the desk that signs
//! it once with the office's key (checked by the engine's own PAdES verification).

use super::desk::ReceiptDesk;
use super::model::*;
use super::*;
use crate::domain::deadline::StatutoryPeriod;
use crate::domain::model::{Finding, ReasonCode, StorageLocation};
use crate::engine::signature::{SignatureStatus, TrustAnchors, check_pdf_signatures};
use crate::in_memory::{Fault, InMemory, block_on};
use crate::receipt::ports::ReceiptFiles;

fn office() -> Office {
    Office {
        name: "Urząd Miasta Krakowa".into(),
        code: "UMK".into(),
        address: "pl. Wszystkich Świętych 3-4, 31-004 Kraków".into(),
    }
}

fn rules() -> RoutingRules {
    RoutingRules::bundled().expect("the bundled rules")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a time")
}

/// A web document for a building permit, received on Friday 20 November 2026 at 23:30 in
/// Warsaw (22:30 UTC).
fn accepted() -> DocumentRecord {
    DocumentRecord {
        id: "0193a3c4-0000-7000-8000-000000000001".into(),
        channel: Some(Channel::Web),
        service: Some("child-benefit".into()),
        status: Some(DocumentStatus::Accepted),
        file_name: Some("wniosek-800+.pdf".into()),
        sha256: Some("ab".repeat(32)),
        size: Some(12_345),
        pages: Some(2),
        received_at: Some("2026-11-20T22:30:00Z".into()),
        register_number: Some("UMK/RPW/2026/000042".into()),
        findings: vec![Finding::warning(ReasonCode::Repaired, "repaired")],
        storage: Some(StorageLocation {
            bucket: "archive".into(),
            key: "x".into(),
        }),
        ..DocumentRecord::default()
    }
}

fn receipt(record: &DocumentRecord) -> Receipt {
    receipt_for(
        record,
        &office(),
        &rules(),
        at("2026-11-20T22:30:05Z"),
        TimeSource::OfficeClock,
    )
    .expect("a receipt")
}

#[test]
fn an_accepted_document_starts_its_services_period_from_the_warsaw_day() {
    let receipt = receipt(&accepted());
    assert_eq!(receipt.register_number, "UMK/RPW/2026/000042");
    assert_eq!(receipt.outcome, ReceiptOutcome::Accepted);
    assert_eq!(receipt.period, StatutoryPeriod::ONE_MONTH);
    let deadline = receipt.deadline.expect("a deadline");
    // Friday 20 November in Warsaw; a month on is Sunday 20 December, so Monday the 21st.
    assert_eq!(deadline.received.to_string(), "2026-11-20");
    assert_eq!(deadline.nominal_end.to_string(), "2026-12-20");
    assert_eq!(deadline.due.to_string(), "2026-12-21");
    assert_eq!(receipt.reasons[0].code, "repaired");
    assert_eq!(
        receipt.service.expect("a service").name_pl,
        "Świadczenie wychowawcze"
    );
}

#[test]
fn a_refused_document_and_a_duplicate_state_their_reasons_and_start_no_deadline() {
    let mut rejected = accepted();
    rejected.status = Some(DocumentStatus::Rejected);
    rejected.findings = vec![
        Finding::reject(ReasonCode::JavaScript, "js"),
        Finding::warning(ReasonCode::Repaired, "repaired"),
    ];
    let refused = receipt(&rejected);
    assert_eq!(refused.outcome, ReceiptOutcome::Rejected);
    assert_eq!(refused.deadline, None);
    assert_eq!(refused.period, StatutoryPeriod::None);
    assert_eq!(
        refused
            .reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        ["javascript"]
    );
    assert_eq!(
        refused.reasons[0].text_pl,
        ReasonCode::JavaScript.message_pl()
    );
    let mut duplicate = accepted();
    duplicate.status = Some(DocumentStatus::Duplicate);
    duplicate.duplicate_of = Some("first".into());
    let duplicate = receipt(&duplicate);
    assert_eq!(duplicate.deadline, None);
    assert_eq!(duplicate.duplicate_of.as_deref(), Some("first"));
}

#[test]
fn a_scan_names_its_site_address_envelope_and_batch_and_a_service_without_period_none() {
    let mut scan = accepted();
    scan.channel = Some(Channel::DropBox);
    scan.site = Some("mogilska".into());
    scan.envelope = Some("K-17".into());
    scan.batch_id = Some("b-1".into());
    scan.service = Some("crisis-report".into());
    let receipt = receipt(&scan);
    match &receipt.channel {
        ReceiptChannel::DropBox {
            site,
            site_address,
            envelope,
            batch_id,
        } => {
            assert_eq!(site, "mogilska");
            assert!(
                site_address
                    .as_deref()
                    .is_some_and(|a| a.contains("Mogilska"))
            );
            assert_eq!(envelope.as_deref(), Some("K-17"));
            assert_eq!(batch_id.as_deref(), Some("b-1"));
        }
        other => panic!("a drop-box channel, not {other:?}"),
    }
    assert_eq!(
        receipt.deadline, None,
        "a crisis report has no statutory period"
    );
}

#[test]
fn an_unregistered_or_pending_document_has_no_receipt() {
    let mut unnumbered = accepted();
    unnumbered.register_number = None;
    let issued = at("2026-11-20T22:30:05Z");
    let refused = |r: &DocumentRecord| {
        receipt_for(r, &office(), &rules(), issued, TimeSource::OfficeClock).is_err()
    };
    assert!(refused(&unnumbered));
    let mut pending = accepted();
    pending.status = Some(DocumentStatus::Pending);
    assert!(refused(&pending));
    let mut timeless = accepted();
    timeless.received_at = None;
    assert!(refused(&timeless));
}

type InMemoryDesk<'a> = ReceiptDesk<&'a InMemory, &'a InMemory, NoAuthority, &'a InMemory>;

/// The desk without a time-stamping authority.
struct NoAuthority;

impl crate::receipt::ports::TimestampAuthority for NoAuthority {
    fn url(&self) -> &str {
        "http://tsa.invalid"
    }

    async fn stamp(&self, _request: &[u8]) -> Result<Vec<u8>, crate::ports::PortError> {
        Err(crate::ports::PortError::transient(
            "tsa:stamp",
            "unreachable",
        ))
    }
}

fn desk(world: &InMemory, installed_chain: Option<String>) -> InMemoryDesk<'_> {
    ReceiptDesk {
        office: office(),
        rules: rules(),
        key: world,
        files: world,
        tsa: None,
        clock: world,
        installed_chain,
        chain: std::sync::OnceLock::new(),
    }
}

fn world() -> InMemory {
    InMemory::at(at("2026-11-20T22:30:05Z"))
}

/// The engine's verdict on a receipt, trusting `anchor` (PEM).
fn verdict(pdf: &[u8], anchor: &str) -> SignatureStatus {
    let anchors = TrustAnchors::from_pem(anchor.as_bytes()).expect("an anchor");
    check_pdf_signatures(pdf, &anchors).status
}

fn certificate_pem(desk: &InMemoryDesk<'_>) -> String {
    use der::EncodePem;
    let chain = block_on(desk.chain()).expect("a chain");
    chain[0]
        .to_pem(der::pem::LineEnding::LF)
        .expect("a PEM certificate")
}

#[test]
fn a_receipt_is_signed_by_the_office_key_and_issued_once() {
    let world = world();
    let desk = desk(&world, None);
    let record = accepted();
    assert!(block_on(desk.issue(&record)).expect("issued"));
    let pdf = world.receipt_file(&record.id).expect("stored");
    // Until a certificate is installed, the key's own: valid, trusted by whoever trusts it.
    assert_eq!(
        verdict(&pdf, &certificate_pem(&desk)),
        SignatureStatus::Trusted
    );
    // A redelivered record finds it: nothing is signed or written again.
    let made = world.faults.made();
    assert!(!block_on(desk.issue(&record)).expect("found"));
    assert_eq!(world.faults.made(), made);
    assert_eq!(world.receipt_file(&record.id), Some(pdf.clone()));
    // One byte changed and the signature no longer holds.
    let mut altered = pdf.clone();
    // (The page's text is compressed: a byte of the first signed range, past the header.)
    let at = altered
        .windows(6)
        .position(|w| w == b"/Title")
        .expect("the document information is in the PDF");
    altered[at + 1] = b'X';
    assert_ne!(
        verdict(&altered, &certificate_pem(&desk)),
        SignatureStatus::Trusted
    );
    // The engine takes the receipt as a PDF like any other: its one remark is the XML it
    // carries.
    let checked = crate::engine::pdf::check_pdf(&pdf);
    let codes: Vec<ReasonCode> = checked.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [ReasonCode::EmbeddedFile], "{checked:?}");
}

#[test]
fn a_failed_signature_stores_nothing_and_the_retry_issues_it() {
    let world = world();
    let desk = desk(&world, None);
    let record = accepted();
    // The first side effects: the key signs its certificate, then the receipt.
    block_on(desk.chain()).expect("a chain");
    world.faults.at(1, Fault::FailBefore);
    assert!(block_on(desk.issue(&record)).is_err());
    assert!(!block_on((&world).receipt_exists(&record.id)).expect("read"));
    assert!(block_on(desk.issue(&record)).expect("issued on the retry"));
}

#[test]
fn an_installed_certificate_of_another_key_is_refused_not_used() {
    let world = world();
    // A P-256 certificate of the engine's fixtures: another key's.
    let pem = include_str!("../engine/signature/fixtures/pki/ecdsa-p256.pem");
    let desk = desk(&world, Some(pem.to_string()));
    let error = block_on(desk.issue(&accepted())).expect_err("refused");
    assert!(!error.is_retryable(), "{error}");
}

fn change(sequence: &str, old: Option<DocumentRecord>, new: DocumentRecord) -> desk::RecordChange {
    desk::RecordChange {
        sequence_number: sequence.into(),
        old,
        new: Some(new),
    }
}

#[test]
fn only_the_record_in_which_the_number_appears_asks_for_a_receipt() {
    let world = world();
    let desk = desk(&world, None);
    let numbered = accepted();
    let mut judged = numbered.clone();
    judged.register_number = None;
    let mut placed = numbered.clone();
    placed.department = Some("centrum-swiadczen".into());
    let mut other = numbered.clone();
    other.id = "0193a3c4-0000-7000-8000-000000000002".into();
    other.register_number = Some("UMK/RPW/2026/000043".into());
    let mut other_judged = other.clone();
    other_judged.register_number = None;
    let records = vec![
        // The verdict (no number yet), the number's write, the department's write.
        change("1", None, judged.clone()),
        change("2", Some(judged), numbered.clone()),
        change("3", Some(numbered.clone()), placed),
        change("4", Some(other_judged), other.clone()),
    ];
    assert_eq!(block_on(desk.handle_records(records.clone())), None);
    assert!(world.receipt_file(&numbered.id).is_some());
    assert!(world.receipt_file(&other.id).is_some());
    // Delivered again: both stand, nothing is signed again.
    let made = world.faults.made();
    assert_eq!(block_on(desk.handle_records(records)), None);
    assert_eq!(world.faults.made(), made);
}

#[test]
fn a_receipt_that_fails_sends_the_stream_back_to_its_record() {
    let world = world();
    let desk = desk(&world, None);
    block_on(desk.chain()).expect("a chain");
    let numbered = accepted();
    let mut judged = numbered.clone();
    judged.register_number = None;
    // The first signature fails.
    world.faults.at(1, Fault::FailBefore);
    let records = vec![change("7", Some(judged), numbered.clone())];
    assert_eq!(
        block_on(desk.handle_records(records.clone())),
        Some("7".into())
    );
    assert_eq!(block_on(desk.handle_records(records)), None);
    assert!(world.receipt_file(&numbered.id).is_some());
}
