//! Every check with a file that triggers it and one that must not.

use super::policy::{ActiveContent, PdfPolicy, PolicyAction};
use super::samples::{PdfBuilder, minimal_pdf, with_incremental_update};
use super::*;
use crate::domain::channel_policies::ChannelPolicies;

/// The engine's verdict on `bytes`, asserted to be the same whether lopdf's objects are kept
/// whole or only as far as the checks read them ([`fold`]): every file these tests make, the
/// hostile ones included, is a case for the folding.
fn inspect(bytes: &[u8], policy: &PdfPolicy) -> Verdict {
    let (for_checks, _) = inspect_reading(bytes, policy, Reading::ForChecks);
    let (whole, _) = inspect_reading(bytes, policy, Reading::Whole);
    assert_eq!(for_checks, whole, "read for the checks and read whole");
    for_checks
}

fn check_pdf(bytes: &[u8]) -> Verdict {
    inspect(bytes, &PdfPolicy::default())
}

#[test]
fn every_fixture_gets_the_same_verdict_read_for_the_checks_as_read_whole() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut compared = 0;
    for dir in ["pdf/fixtures", "signature/fixtures"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "pdf") {
                let bytes = std::fs::read(&path).expect("fixture");
                // `inspect` compares the two readings.
                let verdict = inspect(&bytes, &PdfPolicy::default());
                assert!(verdict.facts.is_some(), "{}", path.display());
                compared += 1;
            }
        }
    }
    assert!(compared >= 50, "only {compared} fixtures");
}

fn codes(v: &Verdict) -> Vec<ReasonCode> {
    v.findings.iter().map(|f| f.code).collect()
}

fn rejections(v: &Verdict) -> Vec<ReasonCode> {
    v.rejections().map(|f| f.code).collect()
}

fn facts(v: &Verdict) -> &PdfFacts {
    v.facts.as_ref().expect("facts")
}

#[test]
fn a_clean_pdf_is_accepted_without_findings_and_with_its_facts() {
    let v = check_pdf(&minimal_pdf(3, "ok"));
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(v.pages, Some(3));
    assert_eq!(v.pdf_version.as_deref(), Some("1.7"));
    let f = facts(&v);
    assert_eq!(f.declared_pages, Some(3));
    assert_eq!(f.producer.as_deref(), Some("intake test builder"));
    assert_eq!(f.encryption, Encryption::None);
    assert_eq!(f.revisions.len(), 1);
    assert!(f.active_content.is_empty());
    assert_eq!(f.repaired, None);
    assert_eq!(f.pdfa, None);
}

#[test]
fn empty_not_pdf_and_truncated_are_rejected() {
    assert_eq!(codes(&check_pdf(b"")), vec![ReasonCode::Empty]);
    assert_eq!(
        codes(&check_pdf(b"PK\x03\x04 a zip named .pdf")),
        vec![ReasonCode::NotPdf]
    );
    let full = minimal_pdf(2, "cut");
    for cut in [12, full.len() / 3, full.len() / 2, full.len() - 7] {
        assert_eq!(
            codes(&check_pdf(&full[..cut])),
            vec![ReasonCode::Truncated],
            "cut at {cut}"
        );
    }
}

#[test]
fn broken_structure_with_an_eof_marker_is_unparseable() {
    let v = check_pdf(b"%PDF-1.4\nthis is not a PDF body\n%%EOF\n");
    assert_eq!(rejections(&v), vec![ReasonCode::Unparseable]);
}

#[test]
fn a_pdf_without_pages_is_rejected() {
    assert_eq!(
        rejections(&check_pdf(&minimal_pdf(0, "none"))),
        vec![ReasonCode::NoPages]
    );
}

#[test]
fn header_after_leading_junk_is_accepted() {
    let mut bytes = b"junk\n".to_vec();
    bytes.extend(minimal_pdf(1, "junk"));
    let v = check_pdf(&bytes);
    assert!(v.is_accepted(), "{:?}", v.findings);
}

#[test]
fn a_wrong_page_count_is_a_warning() {
    let v = check_pdf(&PdfBuilder::new(2, "count").declared_count(5).build());
    assert!(v.is_accepted());
    assert_eq!(codes(&v), vec![ReasonCode::PageCountMismatch]);
    assert_eq!(facts(&v).declared_pages, Some(5));
    assert_eq!(v.pages, Some(2));
}

#[test]
fn a_cyclic_page_tree_is_rejected() {
    // The page tree's only kid is the page tree itself.
    let mut pdf = PdfBuilder::new(1, "cycle").build();
    let kids = b"/Kids [3 0 R]";
    let at = scan::find(&pdf, kids).expect("kids");
    pdf[at..at + kids.len()].copy_from_slice(b"/Kids [2 0 R]");
    let v = check_pdf(&pdf);
    assert_eq!(rejections(&v), vec![ReasonCode::PageTreeCycle]);
}

#[test]
fn incremental_updates_are_listed_as_revisions() {
    let base = minimal_pdf(1, "rev");
    let once = with_incremental_update(&base);
    let twice = with_incremental_update(&once);
    let v = check_pdf(&twice);
    assert!(v.is_accepted(), "{:?}", v.findings);
    let revisions = &facts(&v).revisions;
    assert_eq!(revisions.len(), 3);
    assert_eq!(revisions[0].end, base.len() as u64);
    assert_eq!(revisions[1].end, once.len() as u64);
    assert_eq!(revisions[2].end, twice.len() as u64);
}

/// A one-page PDF whose startxref points a byte off.
fn wrong_startxref_pdf() -> Vec<u8> {
    let mut pdf = minimal_pdf(1, "repair");
    let at = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("startxref");
    let offset_at = at + 10;
    pdf[offset_at] = if pdf[offset_at] == b'1' { b'2' } else { b'1' };
    pdf
}

#[test]
fn a_wrong_startxref_is_repaired_with_a_warning() {
    let pdf = wrong_startxref_pdf();
    let v = check_pdf(&pdf);
    assert!(v.is_accepted(), "{:?}", v.findings);
    assert_eq!(codes(&v), vec![ReasonCode::Repaired]);
    assert!(facts(&v).repaired.is_some());
}

fn with_object(pages: usize, build: impl FnOnce(&mut PdfBuilder) -> String) -> Vec<u8> {
    let mut builder = PdfBuilder::new(pages, "active");
    let catalog = build(&mut builder);
    builder.catalog(&catalog).build()
}

#[test]
fn each_kind_of_active_content_is_found_and_judged_by_the_default_policy() {
    let cases: Vec<(Vec<u8>, ActiveContent)> = vec![
        (
            with_object(1, |b| {
                let js = b.object("<< /S /JavaScript /JS (app.alert\\(1\\)) >>");
                format!("/OpenAction {js} 0 R")
            }),
            ActiveContent::JavaScript,
        ),
        (
            with_object(1, |b| {
                let action = b.object("<< /S /JavaScript /JS (x) >>");
                let tree = b.object(format!("<< /Names [(a) {action} 0 R] >>"));
                format!("/Names << /JavaScript {tree} 0 R >>")
            }),
            ActiveContent::JavaScript,
        ),
        (
            with_object(1, |b| {
                let launch = b.object("<< /S /Launch /F (cmd.exe) >>");
                let annot = b.object(format!(
                    "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A {launch} 0 R >>"
                ));
                format!("/Extra [{annot} 0 R]")
            }),
            ActiveContent::Launch,
        ),
        (
            with_object(1, |b| {
                let a = b.object("<< /S /SubmitForm /F << /FS /URL /F (https://example.org) >> >>");
                format!("/Extra {a} 0 R")
            }),
            ActiveContent::SubmitForm,
        ),
        (
            with_object(1, |b| {
                let a = b.object("<< /S /ImportData /F (data.fdf) >>");
                format!("/Extra {a} 0 R")
            }),
            ActiveContent::ImportData,
        ),
        (
            with_object(1, |b| {
                let a = b.object("<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>");
                format!("/Extra {a} 0 R")
            }),
            ActiveContent::RemoteGoTo,
        ),
        (
            with_object(1, |b| {
                let file = b.stream("/Type /EmbeddedFile", b"hello");
                let spec = b.object(format!(
                    "<< /Type /Filespec /F (a.txt) /EF << /F {file} 0 R >> >>"
                ));
                let tree = b.object(format!("<< /Names [(a.txt) {spec} 0 R] >>"));
                format!("/Names << /EmbeddedFiles {tree} 0 R >>")
            }),
            ActiveContent::EmbeddedFile,
        ),
        (
            with_object(1, |b| {
                let annot = b.object("<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] >>");
                format!("/Extra [{annot} 0 R]")
            }),
            ActiveContent::RichMedia,
        ),
        (
            with_object(1, |b| {
                let xfa = b.stream("", b"<xdp:xdp/>");
                format!("/AcroForm << /Fields [] /XFA {xfa} 0 R >>")
            }),
            ActiveContent::XfaForm,
        ),
        (
            with_object(1, |b| {
                let go = b.object("<< /S /GoTo /D [3 0 R /Fit] >>");
                format!("/OpenAction {go} 0 R")
            }),
            ActiveContent::OpenAction,
        ),
        (
            with_object(1, |b| {
                let go = b.object("<< /S /GoTo /D [3 0 R /Fit] >>");
                format!("/AA << /WC {go} 0 R >>")
            }),
            ActiveContent::AdditionalActions,
        ),
    ];
    let policy = PdfPolicy::default();
    for (pdf, kind) in cases {
        let v = inspect(&pdf, &policy);
        assert!(
            facts(&v).active_content.contains_key(&kind),
            "{kind:?} not found: {:?}",
            facts(&v).active_content
        );
        let code = active_content_code(kind);
        let finding = v.findings.iter().find(|f| f.code == code).expect("finding");
        let expected = match policy.action(kind) {
            PolicyAction::Reject => crate::engine::findings::Severity::Reject,
            _ => crate::engine::findings::Severity::Warning,
        };
        assert_eq!(finding.severity, expected, "{kind:?}");
    }
}

#[test]
fn plain_links_and_forms_are_not_active_content() {
    let pdf = with_object(1, |b| {
        let uri = b.object("<< /S /URI /URI (https://www.krakow.pl) >>");
        let link = b.object(format!(
            "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A {uri} 0 R >>"
        ));
        let field = b.object("<< /FT /Tx /T (name) /V (Jan Kowalski) >>");
        format!("/Extra [{link} 0 R] /AcroForm << /Fields [{field} 0 R] >>")
    });
    let v = check_pdf(&pdf);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
}

#[test]
fn the_policy_decides_per_channel() {
    let pdf = with_object(1, |b| {
        let file = b.stream("/Type /EmbeddedFile", b"attachment");
        let spec = b.object(format!(
            "<< /Type /Filespec /F (a.txt) /EF << /F {file} 0 R >> >>"
        ));
        format!("/Extra {spec} 0 R")
    });
    let policies = ChannelPolicies::from_json(
        r#"{"drop_box": {"active_content": {"embedded_file": "reject"}},
            "web": {"active_content": {"embedded_file": "allow"}}}"#,
    )
    .unwrap();
    let web = inspect(&pdf, &policies.web);
    assert!(web.findings.is_empty(), "allowed: {:?}", web.findings);
    assert!(
        facts(&web)
            .active_content
            .contains_key(&ActiveContent::EmbeddedFile)
    );
    let drop_box = inspect(&pdf, &policies.drop_box);
    assert_eq!(rejections(&drop_box), vec![ReasonCode::EmbeddedFile]);
}

#[test]
fn object_and_size_limits_reject_before_parsing() {
    let pdf = minimal_pdf(30, "many");
    let mut policy = PdfPolicy::default();
    policy.limits.max_objects = 10;
    assert_eq!(
        rejections(&inspect(&pdf, &policy)),
        vec![ReasonCode::TooManyObjects]
    );
    policy.limits.max_objects = 1000;
    assert!(inspect(&pdf, &policy).is_accepted());
    policy.limits.max_bytes = 100;
    assert_eq!(
        rejections(&inspect(&pdf, &policy)),
        vec![ReasonCode::TooLarge]
    );
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_decompression_bomb_is_rejected_and_normal_compression_is_not() {
    let bomb = deflate(&vec![0u8; 64 * 1024 * 1024]);
    let pdf = with_object(1, |b| {
        let s = b.stream("/Filter /FlateDecode", &bomb);
        format!("/Extra {s} 0 R")
    });
    let v = check_pdf(&pdf);
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::DecompressionBomb],
        "{:?}",
        v.findings
    );

    let text: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("{i} ").into_bytes())
        .collect();
    let normal = deflate(&text);
    let pdf = with_object(1, |b| {
        let s = b.stream("/Filter /FlateDecode", &normal);
        format!("/Extra {s} 0 R")
    });
    let v = check_pdf(&pdf);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(facts(&v).decompressed_bytes, text.len() as u64);

    let mut policy = PdfPolicy::default();
    policy.limits.max_total_decompressed_bytes = 1000;
    assert_eq!(
        rejections(&inspect(&pdf, &policy)),
        vec![ReasonCode::DecompressionBomb]
    );
}

#[test]
fn an_exhausted_time_budget_rejects() {
    let mut policy = PdfPolicy::default();
    policy.limits.time_budget_ms = 0;
    let pdf = minimal_pdf(2, "slow");
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(
        rejections(&inspect(&pdf, &policy)),
        vec![ReasonCode::TimeBudgetExceeded]
    );
}

#[test]
fn a_pdfa_claim_is_read_from_the_xmp_metadata() {
    let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description pdfaid:part="2" pdfaid:conformance="B"/></rdf:RDF></x:xmpmeta>"#;
    let pdf = with_object(1, |b| {
        let m = b.stream("/Type /Metadata /Subtype /XML", xmp);
        format!("/Metadata {m} 0 R")
    });
    assert_eq!(facts(&check_pdf(&pdf)).pdfa.as_deref(), Some("PDF/A-2B"));
    assert_eq!(
        xmp_value(b"<pdfaid:part>3</pdfaid:part>", "pdfaid:part").as_deref(),
        Some("3")
    );
}

#[test]
fn an_rc4_file_without_its_key_length_is_refused_as_most_readers_refuse_it() {
    // make-fixtures.sh: qpdf's 128-bit RC4 with the encryption dictionary's /Length lost (qpdf's
    // bad-encryption-length test). At the spec's default of 40 bits the empty password fails;
    // qpdf guesses 128 bits and opens it, poppler ("Incorrect password") and pyHanko
    // (AuthStatus.FAILED) do not. A clerk's reader may not open it: refused, and said why.
    let verdict = check_pdf(include_bytes!("fixtures/bad-key-length.pdf"));
    assert_eq!(rejections(&verdict), vec![ReasonCode::PasswordRequired]);
    assert_eq!(facts(&verdict).encryption, Encryption::PasswordRequired);
}

#[test]
fn fixtures_made_by_qpdf() {
    // Made by make-fixtures.sh from base.pdf with qpdf (a reader that is not ours).
    let password = check_pdf(include_bytes!("fixtures/password.pdf"));
    assert_eq!(rejections(&password), vec![ReasonCode::PasswordRequired]);
    assert_eq!(facts(&password).encryption, Encryption::PasswordRequired);

    let restricted = check_pdf(include_bytes!("fixtures/owner-only.pdf"));
    assert!(restricted.is_accepted(), "{:?}", restricted.findings);
    assert_eq!(codes(&restricted), vec![ReasonCode::EncryptionRestricted]);
    assert_eq!(restricted.pages, Some(3));

    let object_streams = check_pdf(include_bytes!("fixtures/object-streams.pdf"));
    assert!(
        object_streams.findings.is_empty(),
        "{:?}",
        object_streams.findings
    );
    assert_eq!(object_streams.pages, Some(3));

    // qpdf's filter-abbreviation case: object and cross-reference streams with /Fl.
    let abbreviated = check_pdf(include_bytes!("fixtures/abbreviated-filters.pdf"));
    assert!(
        abbreviated.findings.is_empty(),
        "{:?}",
        abbreviated.findings
    );
    assert_eq!(abbreviated.pages, Some(3));

    let linearized = check_pdf(include_bytes!("fixtures/linearized.pdf"));
    assert!(linearized.findings.is_empty(), "{:?}", linearized.findings);
    assert!(facts(&linearized).linearized);
    assert_eq!(linearized.pages, Some(3));
}

fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn large_streams_are_measured_while_loading() {
    // Over KEEP_STREAM_BYTES compressed: measured by the load filter, not kept.
    let image = deflate(&noise(600 * 1024));
    assert!(image.len() >= KEEP_STREAM_BYTES);
    let pdf = with_object(1, |b| {
        let s = b.stream(
            "/Type /XObject /Subtype /Image /Filter /FlateDecode",
            &image,
        );
        format!("/Extra {s} 0 R")
    });
    let v = check_pdf(&pdf);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(facts(&v).decompressed_bytes, 600 * 1024);

    let mut policy = PdfPolicy::default();
    policy.limits.max_stream_decompressed_bytes = 300 * 1024;
    let v = inspect(&pdf, &policy);
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::DecompressionBomb],
        "{:?}",
        v.findings
    );
}

#[test]
fn hostile_structures_get_a_verdict_not_a_panic() {
    let mut cases: Vec<(&str, Vec<u8>, Vec<ReasonCode>)> = Vec::new();
    // A stream claiming a length of 2^63.
    cases.push((
        "huge /Length",
        with_object(1, |b| {
            let s = b.object("<< /Length 9223372036854775807 >>\nstream\nabc\nendstream");
            format!("/Extra {s} 0 R")
        }),
        vec![],
    ));
    // Nesting far deeper than any parser should recurse.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    cases.push((
        "deep nesting",
        with_object(1, |b| {
            let s = b.object(deep.clone());
            format!("/Extra {s} 0 R")
        }),
        vec![ReasonCode::Repaired],
    ));
    // An object that refers to itself, and a page whose parent is itself.
    cases.push((
        "self reference",
        with_object(1, |b| {
            let n = b.next_object_number();
            let s = b.object(format!(
                "<< /Self {n} 0 R /Parent {n} 0 R /Kids [{n} 0 R] >>"
            ));
            format!("/Extra {s} 0 R /Outlines {s} 0 R")
        }),
        vec![],
    ));
    // Cross-reference data pointing past the end of the file.
    let mut bad_xref = minimal_pdf(1, "xref");
    let at = bad_xref
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("startxref");
    bad_xref.truncate(at);
    bad_xref.extend_from_slice(b"startxref\n99999999999\n%%EOF\n");
    cases.push((
        "startxref past the end",
        bad_xref,
        vec![ReasonCode::Repaired],
    ));
    // A Flate stream that is not Flate.
    cases.push((
        "corrupt flate",
        with_object(1, |b| {
            let s = b.stream("/Filter /FlateDecode", b"\x78\x9c this is not deflate data");
            format!("/Extra {s} 0 R")
        }),
        vec![],
    ));
    // An object stream claiming more objects than it holds.
    cases.push((
        "lying object stream",
        with_object(1, |b| {
            let s = b.stream("/Type /ObjStm /N 1000000 /First 4", b"1 0 ");
            format!("/Extra {s} 0 R")
        }),
        vec![],
    ));
    // None of these may panic, hang or blow up; where the damage loses content, it is said.
    for (name, pdf, expected) in cases {
        let v = check_pdf(&pdf);
        assert_eq!(codes(&v), expected, "{name}: {:?}", v.findings);
        assert_eq!(v.pages, Some(1), "{name}");
    }
}

#[test]
fn active_content_inside_a_large_object_stream_is_found() {
    // Object 50 lives in an object stream padded past the size at which the load filter drops
    // stream bytes: the object stream must still be unpacked and its members checked.
    let member = format!(
        "<< /S /JavaScript /JS (app.alert\\(1\\)) /Pad ({}) >>",
        "a".repeat(300 * 1024)
    );
    let v = check_pdf(&object_stream_opening(&member, "", |data| data.to_vec()));
    assert_javascript_found(&v);
    assert!(rejections(&v).contains(&ReasonCode::JavaScript));
}

/// A one-page PDF that opens with object 50: `member`, held in an object stream whose
/// dictionary has `extra` and whose data `pack` makes.
fn object_stream_opening(member: &str, extra: &str, pack: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let header = "50 0 ";
    let data = pack(format!("{header}{member}").as_bytes());
    with_object(1, |b| {
        b.stream(
            &format!("/Type /ObjStm /N 1 /First {}{extra}", header.len()),
            &data,
        );
        "/OpenAction 50 0 R".to_string()
    })
}

fn assert_javascript_found(v: &Verdict) {
    assert!(
        facts(v)
            .active_content
            .contains_key(&ActiveContent::JavaScript),
        "{:?}",
        v.findings
    );
}

#[test]
fn an_action_type_behind_a_reference_is_still_recognised() {
    let pdf = with_object(1, |b| {
        let name = b.object("/Launch");
        let action = b.object(format!("<< /S {name} 0 R /F (cmd.exe) >>"));
        format!("/Extra {action} 0 R")
    });
    assert!(rejections(&check_pdf(&pdf)).contains(&ReasonCode::LaunchAction));
}

#[test]
fn flate_over_flate_is_measured_to_the_last_stage() {
    let inner = deflate(&vec![0u8; 8 * 1024 * 1024]);
    let outer = deflate(&inner);
    let pdf = with_object(1, |b| {
        let s = b.stream("/Filter [/FlateDecode /FlateDecode]", &outer);
        format!("/Extra {s} 0 R")
    });
    let mut policy = PdfPolicy::default();
    policy.limits.max_total_decompressed_bytes = 1024 * 1024;
    let v = inspect(&pdf, &policy);
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::DecompressionBomb],
        "{:?}",
        v.findings
    );
    let v = check_pdf(&pdf);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(facts(&v).decompressed_bytes, 8 * 1024 * 1024);
}

#[test]
fn revisions_are_all_counted_but_only_the_first_are_listed() {
    let mut pdf = minimal_pdf(1, "many updates");
    for _ in 0..MAX_LISTED_REVISIONS + 10 {
        pdf = with_incremental_update(&pdf);
    }
    let v = check_pdf(&pdf);
    assert!(v.is_accepted(), "{:?}", v.findings);
    assert_eq!(facts(&v).revision_count, MAX_LISTED_REVISIONS + 11);
    assert_eq!(facts(&v).revisions.len(), MAX_LISTED_REVISIONS);
}

#[test]
fn a_flate_image_is_bounded_by_its_geometry_unless_configured_to_measure() {
    // 600 KiB of noise in a 100 x 100 grey image: a reader decodes 100 rows of 100 bytes.
    let data = deflate(&noise(600 * 1024));
    let image = |geometry: &str| {
        with_object(1, |b| {
            let s = b.stream(
                &format!("/Type /XObject /Subtype /Image {geometry} /Filter /FlateDecode"),
                &data,
            );
            format!("/Extra {s} 0 R")
        })
    };
    let grey = image("/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8");
    let v = check_pdf(&grey);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(facts(&v).decompressed_bytes, 101 * 100);

    let mut measuring = PdfPolicy::default();
    measuring.limits.measure_image_data = true;
    let v = inspect(&grey, &measuring);
    assert_eq!(facts(&v).decompressed_bytes, 600 * 1024);

    // An ICC-based RGB image is bounded as if it had four components; a mask has one bit.
    let icc = image("/Width 10 /Height 10 /ColorSpace [/ICCBased 9 0 R] /BitsPerComponent 8");
    assert_eq!(facts(&check_pdf(&icc)).decompressed_bytes, 41 * 10);
    let mask = image("/Width 16 /Height 2 /ImageMask true");
    assert_eq!(facts(&check_pdf(&mask)).decompressed_bytes, 3 * 2);

    // A size the dictionary does not state directly is measured.
    let indirect = image("/Width 9 0 R /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8");
    assert_eq!(facts(&check_pdf(&indirect)).decompressed_bytes, 600 * 1024);
    let odd_bits = image("/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 3");
    assert_eq!(facts(&check_pdf(&odd_bits)).decompressed_bytes, 600 * 1024);

    // A geometry past the limits is a bomb whatever the data.
    let huge = image("/Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 16");
    assert_eq!(
        rejections(&check_pdf(&huge)),
        vec![ReasonCode::DecompressionBomb]
    );
    let max = i64::MAX;
    let overflowing = image(&format!(
        "/Width {max} /Height {max} /ColorSpace [/DeviceN [/A /B /C /D] /DeviceCMYK 9 0 R] /BitsPerComponent 16"
    ));
    assert_eq!(
        rejections(&check_pdf(&overflowing)),
        vec![ReasonCode::DecompressionBomb]
    );
}

/// A hybrid-reference file (PDF 1.5): a classic cross-reference table for old readers, and a
/// cross-reference stream named by the trailer's `/XRefStm` that alone lists object 5, stored
/// in an object stream. `hidden` is object 5; the catalog points to it with `catalog_entry`.
fn hybrid_reference_pdf(catalog_entry: &str, hidden: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(
        &mut out,
        format!("<< /Type /Catalog /Pages 2 0 R {catalog_entry} 5 0 R >>").as_bytes(),
    );
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    );
    let header = "5 0 ";
    let packed = format!("{header}{hidden}");
    object(
        &mut out,
        format!(
            "<< /Type /ObjStm /N 1 /First {} /Length {} >>\nstream\n{packed}\nendstream",
            header.len(),
            packed.len()
        )
        .as_bytes(),
    );
    // Object 6: the cross-reference stream, /W [1 4 2], for objects 4 to 6.
    let xref_stream_at = out.len();
    let mut rows = Vec::new();
    let mut row = |kind: u8, field: u32, index: u16| {
        rows.push(kind);
        rows.extend_from_slice(&field.to_be_bytes());
        rows.extend_from_slice(&index.to_be_bytes());
    };
    row(1, u32::try_from(offsets[3]).unwrap(), 0);
    row(2, 4, 0);
    row(1, u32::try_from(xref_stream_at).unwrap(), 0);
    out.extend_from_slice(
        format!(
            "6 0 obj\n<< /Type /XRef /W [1 4 2] /Index [4 3] /Size 7 /Length {} >>\nstream\n",
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    // The classic table lists what an old reader can use; object 5 is free for it.
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(b"0000000000 00001 f \n");
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size 7 /Root 1 0 R /XRefStm {xref_stream_at} >>\nstartxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

#[test]
fn a_hybrid_reference_file_is_read_through_its_cross_reference_stream() {
    let plain = hybrid_reference_pdf("/Outlines", "<< /Type /Outlines /Count 0 >>");
    let v = check_pdf(&plain);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(facts(&v).pages, Some(1));
    assert_eq!(v.pdf_version.as_deref(), Some("1.5"));

    // JavaScript that only the cross-reference stream leads to is still found.
    let hidden = hybrid_reference_pdf("/OpenAction", "<< /S /JavaScript /JS (app.alert(1)) >>");
    let v = check_pdf(&hidden);
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::JavaScript],
        "{:?}",
        v.findings
    );
    assert!(
        !codes(&v).contains(&ReasonCode::Repaired),
        "{:?}",
        v.findings
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_rejected_not_skipped() {
    // JavaScript 70 arrays deep: below the default limit of 64 it would go unexamined.
    let nested = |depth: usize| {
        with_object(1, |_| {
            format!(
                "/Extra {}<< /S /JavaScript /JS (app.alert(1)) >>{}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
        })
    };
    let v = check_pdf(&nested(70));
    assert!(
        rejections(&v).contains(&ReasonCode::TooDeeplyNested),
        "{:?}",
        v.findings
    );
    let v = check_pdf(&nested(10));
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::JavaScript],
        "{:?}",
        v.findings
    );

    let mut policy = PdfPolicy::default();
    policy.limits.max_depth = 5;
    let v = inspect(&nested(10), &policy);
    assert!(rejections(&v).contains(&ReasonCode::TooDeeplyNested));
    let v = inspect(&minimal_pdf(1, "flat"), &policy);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
}

/// A name tree or action entry that names a free or missing object is the null object
/// (ISO 32000-1 §7.3.10): there is no script, no attachment, no action to run.
#[test]
fn entries_naming_missing_objects_are_not_active_content() {
    let cases = [
        with_object(1, |_| {
            "/Names << /JavaScript 900 0 R /EmbeddedFiles 901 0 R >>".into()
        }),
        with_object(1, |_| "/OpenAction 900 0 R /AA 901 0 R".into()),
        with_object(1, |b| {
            let action = b.object("<< /S /JavaScript /JS 900 0 R >>");
            format!("/Extra [{action} 0 R] /AcroForm << /Fields [] /XFA 901 0 R >>")
        }),
        with_object(1, |b| {
            let spec = b.object("<< /Type /Filespec /F (a.txt) /EF null /JS null >>");
            format!("/Extra [{spec} 0 R]")
        }),
    ];
    for pdf in cases {
        let v = check_pdf(&pdf);
        assert!(
            facts(&v).active_content.is_empty(),
            "{:?}",
            facts(&v).active_content
        );
        assert!(v.is_accepted(), "{:?}", v.findings);
    }
    // The same entries naming real objects are found.
    let live = with_object(1, |b| {
        let script = b.stream("", b"app.alert(1)");
        let action = b.object(format!("<< /S /JavaScript /JS {script} 0 R >>"));
        format!("/OpenAction {action} 0 R")
    });
    let v = check_pdf(&live);
    assert!(
        facts(&v)
            .active_content
            .contains_key(&ActiveContent::JavaScript)
    );
    assert!(
        facts(&v)
            .active_content
            .contains_key(&ActiveContent::OpenAction)
    );
}

/// No text of the parser's reaches a person: every load failure is said in our words.
#[test]
fn load_failures_are_said_in_our_words() {
    use lopdf::Error as E;
    let errors = [
        E::Unimplemented("object streams compressed with /Fl"),
        E::Parse(lopdf::ParseError::InvalidTrailer),
        E::Parse(lopdf::ParseError::EndOfInput),
        E::MissingXrefEntry,
        E::InvalidObjectStream("bad".into()),
        E::ReferenceCycle((3, 0)),
        E::ObjectNotFound((7, 0)),
        E::DictKey("Root".into()),
    ];
    for error in errors {
        let (code, message) = load_failure(b"%PDF-1.7", &error);
        assert_eq!(code, ReasonCode::Unparseable, "{error:?}");
        assert!(
            message.starts_with("the PDF could not be read: "),
            "{message}"
        );
        for word in ["lopdf", "github", "issue", "Reference", "ObjStm", "Some("] {
            assert!(!message.contains(word), "{error:?}: {message}");
        }
    }
    let (code, _) = load_failure(b"%PDF-1.7", &E::InvalidPassword);
    assert_eq!(code, ReasonCode::PasswordRequired);
    // Through the engine too: a file that cannot be read at all.
    let v = check_pdf(b"%PDF-1.7\n1 0 obj << /Type /Catalog\nstartxref\n0\n%%EOF\n");
    assert_eq!(
        rejections(&v),
        vec![ReasonCode::Unparseable],
        "{:?}",
        v.findings
    );
    assert!(!v.findings[0].message.contains("lopdf"));
}

/// Bytes appended after a whole PDF are named and the PDF is read; PDF syntax after the last
/// `%%EOF` is an update cut off, and stays `truncated`.
#[test]
fn data_after_the_end_is_a_warning_and_a_cut_off_update_is_truncated() {
    let pdf = minimal_pdf(1, "x");
    let mut zip = pdf.clone();
    zip.extend_from_slice(b"PK\x03\x04");
    zip.extend(std::iter::repeat_n(b'z', 64 * 1024));
    let v = check_pdf(&zip);
    assert!(v.is_accepted(), "{:?}", v.findings);
    assert_eq!(v.pages, Some(1));
    let finding = v
        .findings
        .iter()
        .find(|f| f.code == ReasonCode::TrailingData)
        .expect("trailing_data");
    assert!(
        finding.message.contains("a ZIP archive"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("65540 byte(s)"),
        "{}",
        finding.message
    );

    let mut html = pdf.clone();
    html.extend_from_slice(b"\n<!DOCTYPE html><html><body>hello</body></html>\n");
    let v = check_pdf(&html);
    assert_eq!(
        codes(&v),
        vec![ReasonCode::TrailingData],
        "{:?}",
        v.findings
    );
    assert!(v.findings[0].message.contains("an HTML page"));

    let mut padded = pdf.clone();
    padded.extend_from_slice(b"\r\n\0\0\0\n");
    assert!(check_pdf(&padded).findings.is_empty());

    let mut cut = pdf.clone();
    cut.extend_from_slice(b"9 0 obj\n<< /Type /Page >>\nendobj\n");
    cut.extend(std::iter::repeat_n(b' ', 4096));
    cut.extend_from_slice(b"xref\n0 1\n");
    assert_eq!(rejections(&check_pdf(&cut)), vec![ReasonCode::Truncated]);
}

/// Abbreviated filter names (ISO 32000-1 §8.9.7) are read like the full ones: an object
/// stream compressed with `/Fl` is unpacked and its members checked, and an `/AHx` or `/Fl`
/// content stream is measured.
#[test]
fn abbreviated_filter_names_are_read() {
    let member = "<< /S /JavaScript /JS (app.alert\\(1\\)) >>";
    let v = check_pdf(&object_stream_opening(member, " /Filter /Fl", deflate));
    assert_javascript_found(&v);
    assert!(!codes(&v).contains(&ReasonCode::Unparseable));
    // The same names in an array, on a content stream, still count towards the bomb limits.
    let bomb = deflate(&vec![0u8; 64 * 1024 * 1024]);
    let pdf = with_object(1, |b| {
        let s = b.stream("/Filter [/Fl]", &bomb);
        format!("/Extra {s} 0 R")
    });
    let policy: PdfPolicy =
        serde_json::from_str(r#"{"limits": {"max_stream_decompressed_bytes": 1048576}}"#).unwrap();
    let v = inspect(&pdf, &policy);
    assert!(
        rejections(&v).contains(&ReasonCode::DecompressionBomb),
        "{:?}",
        v.findings
    );
}

/// A leaf page listed twice in /Kids is shown twice by readers: counted, not called a cycle;
/// an inner node met twice still is one.
#[test]
fn a_page_listed_twice_is_counted_not_refused() {
    let mut pdf = minimal_pdf(2, "twice");
    let kids = b"/Kids [3 0 R 5 0 R]";
    let at = pdf
        .windows(kids.len())
        .position(|w| w == kids)
        .expect("kids");
    pdf[at..at + kids.len()].copy_from_slice(b"/Kids [3 0 R 3 0 R]");
    let v = check_pdf(&pdf);
    assert!(v.is_accepted(), "{:?}", v.findings);
    assert_eq!(v.pages, Some(2));
}

/// An object or cross-reference stream compressed with a filter readers do not decode
/// (/BrotliDecode, which lopdf reads) is refused, not accepted with the pages lopdf found;
/// the standard filters and their abbreviations are not.
#[test]
fn structure_compressed_with_an_unsupported_filter_is_refused() {
    for filter in [
        "/BrotliDecode",
        "[/FlateDecode /BrotliDecode]",
        "/JBIG2Decode",
    ] {
        let pdf = with_object(1, |b| {
            b.stream(
                &format!("/Type /ObjStm /N 1 /First 5 /Filter {filter}"),
                b"\x1b\x03\x00 not brotli",
            );
            String::new()
        });
        let v = check_pdf(&pdf);
        assert_eq!(
            rejections(&v),
            vec![ReasonCode::UnsupportedFilter],
            "{filter}"
        );
        assert!(
            v.findings[0].message.contains("Decode"),
            "{}",
            v.findings[0].message
        );
    }
    for filter in ["/FlateDecode", "/Fl", "[/A85 /Fl]", "[ /ASCIIHexDecode ]"] {
        assert_eq!(
            unsupported_structural_filter(
                format!("1 0 obj << /Type /XRef /Filter {filter} /Size 3 >>\nstream\n").as_bytes()
            ),
            None,
            "{filter}"
        );
    }
    assert_eq!(
        unsupported_structural_filter(b"<< /Type/ObjStm/Filter/BrotliDecode/N 1>>stream"),
        Some("BrotliDecode".into())
    );
    // Another key after the filter is not taken for a filter.
    assert_eq!(
        unsupported_structural_filter(b"<< /Filter /Fl /Type /XRef /Size 3 >>\nstream"),
        None
    );
}

/// Cross-reference sections that loop (`/Prev` naming the section itself, as qpdf's
/// append-xref-loop.pdf has) are repaired by lopdf's unfiltered load, which must stay
/// unfiltered: the file is read, with a warning.
#[test]
fn an_xref_loop_is_repaired() {
    let mut pdf = minimal_pdf(1, "loop");
    let at = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev {at} >>\nstartxref\n{at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let v = check_pdf(&pdf);
    assert_eq!(codes(&v), vec![ReasonCode::Repaired], "{:?}", v.findings);
    assert_eq!(v.pages, Some(1));
}

/// A PDF whose objects are large arrays of numbers: small on disk, large once read.
fn array_heavy_pdf(arrays: usize, numbers: usize) -> Vec<u8> {
    let mut builder = PdfBuilder::new(1, "arrays");
    let array: String = (0..numbers).map(|n| format!("{} ", n % 10)).collect();
    for _ in 0..arrays {
        builder.object(format!("[{array}]"));
    }
    builder.build()
}

#[test]
fn objects_past_the_memory_limit_are_refused_not_read_in_full() {
    // 200 arrays of 1,000 numbers: about 400 KB on disk, some 25 MB once read.
    let pdf = array_heavy_pdf(200, 1000);
    let mut policy = PdfPolicy::default();
    assert!(inspect(&pdf, &policy).is_accepted());
    policy.limits.max_structure_bytes = 4 * 1024 * 1024;
    // Read whole (as a signed file is), the arrays pass the limit.
    let (verdict, parsed) = inspect_reading(&pdf, &policy, Reading::Whole);
    assert_eq!(rejections(&verdict), vec![ReasonCode::TooManyObjects]);
    assert!(parsed.is_none());
    let finding = &verdict.findings[0];
    assert!(finding.message.contains("4 MiB of memory"), "{finding:?}");
    // Read for the checks, which need none of them, the same file is judged within it.
    let (verdict, parsed) = inspect_reading(&pdf, &policy, Reading::ForChecks);
    assert!(verdict.is_accepted(), "{:?}", verdict.findings);
    assert!(parsed.is_some());
    // The estimate follows what is held: the whole file fits a limit some 30% above it.
    let mut estimate = 0;
    for arrays in [50, 100, 200] {
        let pdf = array_heavy_pdf(arrays, 1000);
        let (document, inflation) = load(
            &pdf,
            &PdfPolicy::default().limits,
            Instant::now() + Duration::from_secs(20),
            Reading::Whole,
        )
        .ok()
        .expect("loads");
        assert!(
            inflation.structure_bytes > estimate,
            "grows with the objects"
        );
        estimate = inflation.structure_bytes;
        let held = document.objects.len() as u64 * std::mem::size_of::<Object>() as u64
            + arrays as u64 * 1000 * std::mem::size_of::<Object>() as u64;
        assert!(
            estimate >= held && estimate < held * 13 / 10,
            "{estimate} against {held}"
        );
    }
}

#[test]
fn a_damaged_or_encrypted_file_too_large_to_read_whole_is_refused() {
    let mut policy = PdfPolicy::default();
    // Room for the objects of each, but a 32nd of the limit (512 bytes) is below each size.
    policy.limits.max_structure_bytes = 16 * 1024;
    let restricted = include_bytes!("fixtures/owner-only.pdf");
    assert!(declares_encryption(restricted));
    let v = inspect(restricted, &policy);
    assert_eq!(rejections(&v), vec![ReasonCode::TooManyObjects]);
    assert!(
        v.findings[0].message.contains("damaged or encrypted"),
        "{v:?}"
    );
    // The catalog's cross-reference entry points at the header: found only by a rebuild.
    let mut damaged = minimal_pdf(1, "rebuild");
    let xref = damaged
        .windows(6)
        .position(|w| w == b"\nxref\n")
        .expect("xref");
    let entry = xref
        + damaged[xref..]
            .windows(3)
            .position(|w| w == b" n ")
            .expect("an entry")
        - 16;
    damaged[entry..entry + 10].copy_from_slice(b"0000000001");
    assert!(!declares_encryption(&damaged));
    let v = inspect(&damaged, &policy);
    assert_eq!(rejections(&v), vec![ReasonCode::TooManyObjects]);
    assert!(
        v.findings[0].message.contains("damaged or encrypted"),
        "{v:?}"
    );
    // With room, both are read as before.
    let policy = PdfPolicy::default();
    assert_eq!(
        codes(&inspect(restricted, &policy)),
        vec![ReasonCode::EncryptionRestricted]
    );
    assert_eq!(
        codes(&inspect(&damaged, &policy)),
        vec![ReasonCode::Repaired]
    );
}

#[test]
fn a_file_without_a_trailer_or_a_catalog_is_refused_not_repaired() {
    // qpdf: "unable to find trailer dictionary while recovering damaged file".
    let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Page /MediaBox [0 0 10 10] >>\nendobj\n\
        2 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n%%EOF\n";
    let v = check_pdf(pdf);
    assert_eq!(rejections(&v), vec![ReasonCode::Unparseable], "{v:?}");
    assert!(!codes(&v).contains(&ReasonCode::Repaired));
}

#[test]
fn one_object_too_large_to_read_is_refused_before_lopdf_parses_it() {
    let mut policy = PdfPolicy::default();
    policy.limits.max_structure_bytes = 4 * 1024 * 1024;
    // 30,000 values: 60 KB of syntax, up to 4.8 MB once parsed, past a 4 MiB limit.
    let top_level = array_heavy_pdf(1, 30_000);
    let v = inspect(&top_level, &policy);
    assert_eq!(rejections(&v), vec![ReasonCode::TooManyObjects]);
    assert!(
        v.findings[0].message.contains("holds 30001 values"),
        "{v:?}"
    );
    // The same array as a member of an object stream, which lopdf parses whole.
    let values = "0 ".repeat(30_000);
    let packed = hybrid_reference_pdf("/Outlines", &format!("[{values}]"));
    let v = inspect(&packed, &policy);
    assert_eq!(rejections(&v), vec![ReasonCode::TooManyObjects]);
    // Within the default limit both are read.
    assert!(check_pdf(&top_level).is_accepted());
    assert!(check_pdf(&packed).is_accepted());
}
