//! The PDF engine: one entry point, [`inspect`], that takes a document's bytes and returns a
//! [`Verdict`]: the findings (each rejecting or warning, with a reason code and a sentence) and
//! the facts found.
//!
//! The order is chosen so that a hostile file costs little: byte-level checks and limits first
//! ([`scan`]), then lopdf with its own limits (nesting depth, per-stream decompression), then the
//! engine's walks over the parsed objects, each bounded by the object limit and the time budget.

mod fold;
pub mod policy;
#[cfg(any(test, feature = "test-support"))]
pub mod samples;
pub mod scan;
mod tokens;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::time::{Duration, Instant};

use lopdf::{Dictionary, Document, Object, ObjectId};
use serde::Serialize;

use crate::engine::findings::{Finding, ReasonCode, Verdict};
use policy::{ActiveContent, PdfPolicy, PolicyAction};
use scan::Revision;

/// How a document is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// Not encrypted.
    None,
    /// Encrypted, but opens with the empty user password (owner restrictions only).
    OwnerPasswordOnly,
    /// Needs a password to open.
    PasswordRequired,
}

/// What the engine found out about a PDF.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdfFacts {
    /// Version from the header.
    pub version: Option<String>,
    /// Pages found in the page tree.
    pub pages: Option<u32>,
    /// The page count the page tree declares.
    pub declared_pages: Option<u32>,
    /// The producer from the document information dictionary.
    pub producer: Option<String>,
    /// Encryption.
    pub encryption: Encryption,
    /// How many revisions the file has: the original and one per incremental update.
    pub revision_count: usize,
    /// Their byte ranges (the first [`MAX_LISTED_REVISIONS`]; a file with more is odd enough).
    pub revisions: Vec<Revision>,
    /// Whether the file is linearized (then its first revision is the linearization section).
    pub linearized: bool,
    /// The PDF/A claim in the XMP metadata, e.g. `PDF/A-2B`.
    pub pdfa: Option<String>,
    /// Active content found, with how many places carry each kind.
    pub active_content: BTreeMap<ActiveContent, u32>,
    /// Objects parsed.
    pub objects: usize,
    /// What the reader had to repair, if anything.
    pub repaired: Option<String>,
    /// Bytes the Flate streams decompress to.
    pub decompressed_bytes: u64,
}

/// At most this many revisions are listed in the facts (all are counted).
pub const MAX_LISTED_REVISIONS: usize = 64;

/// The verdict on a document over the size limit, judged by its size alone (its bytes were
/// hashed but not kept).
pub fn too_large(size: u64, limit: u64) -> Verdict {
    Verdict {
        findings: vec![Finding::reject(
            ReasonCode::TooLarge,
            format!("the file is {size} bytes; the largest accepted is {limit} bytes"),
        )],
        ..Verdict::default()
    }
}

/// The engine with the default policy of the web channel.
pub fn check_pdf(bytes: &[u8]) -> Verdict {
    inspect(bytes, &PdfPolicy::default())
}

/// Inspects a PDF against `policy`.
pub fn inspect(bytes: &[u8], policy: &PdfPolicy) -> Verdict {
    inspect_document(bytes, policy).0
}

/// A document as the engine read it, for the signature checks to use instead of reading the
/// file a second time.
pub struct Parsed(pub(crate) Document);

/// [`inspect`], also giving the document as read when the engine read it in full (a file
/// refused before or while reading gives none).
pub fn inspect_document(bytes: &[u8], policy: &PdfPolicy) -> (Verdict, Option<Parsed>) {
    // A signed file is read whole from the start (its signature dictionaries are never in a
    // compressed object stream, so their /ByteRange shows in the bytes).
    let reading = if memchr::memmem::find(bytes, b"/ByteRange").is_some() {
        Reading::Whole
    } else {
        Reading::ForChecks
    };
    inspect_reading(bytes, policy, reading)
}

/// How much of each object the engine keeps as lopdf reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// What the checks of an unsigned document read ([`fold`]); a signature met on the way
    /// makes it [`Reading::Whole`].
    ForChecks,
    /// Every object as it is, for the signatures' comparisons between revisions.
    Whole,
}

/// [`inspect_document`], reading the objects as `reading` says.
pub(crate) fn inspect_reading(
    bytes: &[u8],
    policy: &PdfPolicy,
    reading: Reading,
) -> (Verdict, Option<Parsed>) {
    let started = Instant::now();
    let limits = &policy.limits;
    let mut verdict = Verdict::default();
    let reject = |verdict: &mut Verdict, code: ReasonCode, message: String| {
        verdict.findings.push(Finding::reject(code, message));
    };
    if bytes.is_empty() {
        reject(&mut verdict, ReasonCode::Empty, "the file is empty".into());
        return (verdict, None);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return (too_large(bytes.len() as u64, limits.max_bytes), None);
    }
    let raw = scan::scan(bytes);
    if raw.header_at.is_none() {
        reject(
            &mut verdict,
            ReasonCode::NotPdf,
            "the file is not a PDF (no %PDF- header in its first 1024 bytes)".into(),
        );
        return (verdict, None);
    }
    verdict.pdf_version = raw.version.clone();
    // Data after the last revision: a whole PDF with something appended is read (and the
    // addition named below); PDF syntax after the last %%EOF is an update cut off.
    let appended = raw.trailing.filter(|t| !t.looks_like_pdf);
    if !raw.has_eof && appended.is_none() {
        // lopdf repairs what it can of a cut-off file; a document missing its end must still be
        // refused, not accepted with the pages that happened to arrive.
        reject(
            &mut verdict,
            ReasonCode::Truncated,
            "the PDF is incomplete: it has no %%EOF marker at its end (the upload was cut off?)"
                .into(),
        );
        return (verdict, None);
    }
    if raw.object_keywords > limits.max_objects {
        reject(
            &mut verdict,
            ReasonCode::TooManyObjects,
            format!(
                "the PDF has {} objects; the limit is {}",
                raw.object_keywords, limits.max_objects
            ),
        );
        return (verdict, None);
    }

    // lopdf parses a whole object before the engine sees any of it: one too large to read
    // within the memory limit is refused before it is read.
    let largest = tokens::TokenCount::of_file(bytes).largest;
    if largest.saturating_mul(tokens::TOKEN_BYTES) > limits.max_structure_bytes {
        reject(
            &mut verdict,
            ReasonCode::TooManyObjects,
            format!(
                "one object of the PDF holds {largest} values: reading it would need more than \
                 {} of memory, the limit",
                memory_size(limits.max_structure_bytes)
            ),
        );
        return (verdict, None);
    }

    if let Some(filter) = unsupported_structural_filter(bytes) {
        let filter: String = filter.chars().take(64).collect();
        reject(
            &mut verdict,
            ReasonCode::UnsupportedFilter,
            format!(
                "the PDF keeps its objects in streams compressed with /{filter}, which PDF \
                 readers do not decode: they would show nothing"
            ),
        );
        return (verdict, None);
    }

    let deadline = started + Duration::from_millis(limits.time_budget_ms);
    let loaded = match load(bytes, limits, deadline, reading) {
        Ok((_, inflation)) if inflation.signature_seen => {
            load(bytes, limits, deadline, Reading::Whole)
        }
        other => other,
    };
    let (document, mut inflated) = match loaded {
        Ok(loaded) => loaded,
        Err(Failure::Load(e)) => {
            let (code, message) = load_failure(bytes, &e);
            reject(&mut verdict, code, message);
            return (verdict, None);
        }
        Err(Failure::OverMemory { limit, unaccounted }) => {
            let message = if unaccounted {
                format!(
                    "the PDF is damaged or encrypted, so it must be read whole, and at over {} \
                     it is too large for that within the memory limit ({})",
                    memory_size(limit / UNACCOUNTED_READ_FACTOR),
                    memory_size(limit)
                )
            } else {
                format!(
                    "the PDF's objects need more than {} of memory to check, the limit",
                    memory_size(limit)
                )
            };
            reject(&mut verdict, ReasonCode::TooManyObjects, message);
            return (verdict, None);
        }
        Err(Failure::Panicked) => {
            reject(
                &mut verdict,
                ReasonCode::Unparseable,
                "the PDF could not be read: its structure is malformed".into(),
            );
            return (verdict, None);
        }
    };

    let mut facts = PdfFacts {
        version: raw.version.clone(),
        pages: None,
        declared_pages: None,
        producer: producer(&document),
        encryption: Encryption::None,
        revision_count: raw.revisions.len(),
        revisions: raw
            .revisions
            .iter()
            .take(MAX_LISTED_REVISIONS)
            .copied()
            .collect(),
        linearized: raw.linearized,
        pdfa: None,
        active_content: BTreeMap::new(),
        objects: document.objects.len(),
        repaired: document.xref_recovery.map(|r| match r {
            lopdf::xref::XrefRecovery::OffsetCorrected => {
                "a cross-reference offset was wrong and was corrected".to_string()
            }
            lopdf::xref::XrefRecovery::Reconstructed => {
                "the cross-reference table was rebuilt by scanning the file".to_string()
            }
            _ => "the cross-reference data was repaired".to_string(),
        }),
        decompressed_bytes: 0,
    };
    let findings = &mut verdict.findings;
    if let Some(appended) = appended {
        findings.push(Finding::warning(
            ReasonCode::TrailingData,
            format!(
                "{} byte(s) follow the end of the PDF{}; readers ignore them",
                appended.bytes,
                appended
                    .format
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ),
        ));
    }
    if document.is_encrypted() {
        facts.encryption = Encryption::PasswordRequired;
        findings.push(Finding::reject(
            ReasonCode::PasswordRequired,
            "the PDF is protected by a password and cannot be opened",
        ));
        verdict.facts = Some(facts);
        return (verdict, None);
    }
    if document.was_encrypted() {
        facts.encryption = Encryption::OwnerPasswordOnly;
        findings.push(Finding::warning(
            ReasonCode::EncryptionRestricted,
            "the PDF is encrypted with owner restrictions only (it opens without a password)",
        ));
    }
    let unreadable = unreadable_objects(&document);
    if unreadable > 0 && facts.repaired.is_none() {
        facts.repaired = Some(format!(
            "{unreadable} object(s) could not be read and were left out"
        ));
    }
    if let Some(repair) = &facts.repaired {
        findings.push(Finding::warning(
            ReasonCode::Repaired,
            format!("the PDF is damaged: {repair}"),
        ));
    }
    if document.objects.len() > limits.max_objects {
        findings.push(Finding::reject(
            ReasonCode::TooManyObjects,
            format!(
                "the PDF has {} objects; the limit is {}",
                document.objects.len(),
                limits.max_objects
            ),
        ));
        verdict.facts = Some(facts);
        return (verdict, None);
    }

    let outcome = (|| -> Result<(), OverBudget> {
        check_page_tree(&document, &mut facts, findings, deadline)?;
        let (found, too_deep) = find_active_content(&document, limits.max_depth, deadline)?;
        if too_deep {
            // What lies below the limit was not examined, so it cannot be called safe.
            findings.push(Finding::reject(
                ReasonCode::TooDeeplyNested,
                format!(
                    "the PDF nests arrays or dictionaries more than {} levels deep",
                    limits.max_depth
                ),
            ));
        }
        for kind in found.keys() {
            match policy.action(*kind) {
                PolicyAction::Reject => findings.push(Finding::reject(
                    active_content_code(*kind),
                    kind.describe().to_string(),
                )),
                PolicyAction::Warn => findings.push(Finding::warning(
                    active_content_code(*kind),
                    kind.describe().to_string(),
                )),
                PolicyAction::Allow => {}
            }
        }
        facts.active_content = found;
        facts.pdfa = pdfa_claim(&document);
        for (id, object) in &document.objects {
            if let Object::Stream(stream) = object {
                if !stream.content.is_empty() && !inflated.measured.contains(id) {
                    inflated.measure(&stream.dict, &stream.content);
                }
            }
        }
        facts.decompressed_bytes = inflated.total_out;
        if inflated.timed_out {
            return Err(OverBudget);
        }
        if let Some(message) = inflated.bomb.take() {
            findings.push(Finding::reject(
                ReasonCode::DecompressionBomb,
                format!("{message} (a decompression bomb)"),
            ));
        }
        Ok(())
    })();
    if outcome.is_err() {
        findings.push(Finding::reject(
            ReasonCode::TimeBudgetExceeded,
            format!(
                "checking the PDF took longer than the budget of {} ms",
                limits.time_budget_ms
            ),
        ));
    }
    verdict.pages = facts.pages;
    verdict.facts = Some(facts);
    (verdict, Some(Parsed(document)))
}

/// The time budget ran out.
#[derive(Debug)]
struct OverBudget;

fn on_time(deadline: Instant) -> Result<(), OverBudget> {
    if Instant::now() > deadline {
        Err(OverBudget)
    } else {
        Ok(())
    }
}

/// Why lopdf could not load the file, in our words: no text of the parser's reaches a person
/// (its messages name its own features and its issue tracker).
fn load_failure(bytes: &[u8], error: &lopdf::Error) -> (ReasonCode, String) {
    use lopdf::Error as E;
    let encrypted = matches!(
        error,
        E::Decryption(_) | E::InvalidPassword | E::UnsupportedSecurityHandler(_)
    ) || (scan::find(bytes, b"/Encrypt").is_some()
        && matches!(error, E::AlreadyEncrypted));
    if encrypted {
        return (
            ReasonCode::PasswordRequired,
            "the PDF is protected by a password and cannot be opened".into(),
        );
    }
    let why = match error {
        E::Xref(_) | E::MissingXrefEntry | E::Parse(lopdf::ParseError::InvalidXref) => {
            "its cross-reference data is damaged beyond repair"
        }
        E::Parse(lopdf::ParseError::InvalidTrailer) => "it has no readable trailer",
        E::Parse(lopdf::ParseError::InvalidFileHeader) => "its header is damaged",
        E::Parse(_) | E::IndirectObject { .. } | E::ObjectIdMismatch | E::InvalidOffset(_) => {
            "an object in it is malformed"
        }
        E::Decompress(_) | E::InvalidStream(_) | E::InvalidObjectStream(_) => {
            "a compressed stream that holds its structure cannot be decoded"
        }
        E::Unimplemented(_) => "it uses a feature this system does not read",
        E::ReferenceCycle(_) | E::ReferenceLimit | E::RecursionLimit => {
            "its objects refer to each other in a loop"
        }
        _ => "its structure is malformed",
    };
    (
        ReasonCode::Unparseable,
        format!("the PDF could not be read: {why}"),
    )
}

fn producer(document: &Document) -> Option<String> {
    let info = document.trailer.get(b"Info").ok()?;
    let info = match info {
        Object::Reference(id) => document.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    match info.get(b"Producer").ok()? {
        Object::String(bytes, _) => Some(decode_text(bytes)),
        _ => None,
    }
}

/// PDF text strings: UTF-16BE with a byte-order mark, or PDFDocEncoding (read as Latin-1).
fn decode_text(bytes: &[u8]) -> String {
    let text = if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|b| char::from(*b)).collect()
    };
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Most page listings followed: far above any real document (a leaf listed many times over is
/// a malformed tree, not a long document).
const MAX_PAGE_LISTINGS: u32 = 1_000_000;

fn check_page_tree(
    document: &Document,
    facts: &mut PdfFacts,
    findings: &mut Vec<Finding>,
    deadline: Instant,
) -> Result<(), OverBudget> {
    let root = document
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get(b"Pages").ok())
        .and_then(|pages| pages.as_reference().ok());
    let Some(root) = root else {
        findings.push(Finding::reject(
            ReasonCode::NoPages,
            "the PDF has no page tree",
        ));
        return Ok(());
    };
    facts.declared_pages = document
        .get_dictionary(root)
        .ok()
        .and_then(|d| d.get(b"Count").ok())
        .and_then(|c| c.as_i64().ok())
        .and_then(|c| u32::try_from(c).ok());

    // Depth-first over the tree, remembering every inner node seen: one met twice is a cycle
    // (or a shared subtree, which readers also refuse). A leaf page listed twice is shown
    // twice by readers (qpdf's xref-compressed-in-compressed.pdf has one): it is counted, not
    // refused.
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = vec![root];
    let mut pages: u32 = 0;
    let mut cycle = false;
    while let Some(id) = stack.pop() {
        on_time(deadline)?;
        let Ok(node) = document.get_dictionary(id) else {
            continue;
        };
        match node.get_type() {
            Ok(b"Pages") => {
                if !seen.insert(id) {
                    cycle = true;
                    break;
                }
                if let Ok(kids) = node.get(b"Kids").and_then(Object::as_array) {
                    stack.extend(kids.iter().rev().filter_map(|k| k.as_reference().ok()));
                }
            }
            // A leaf without /Type is still a page to readers.
            Ok(b"Page") | Err(_) => pages = pages.saturating_add(1),
            Ok(_) => {}
        }
        // A leaf is visited once per listing; the listings are bounded by the objects read.
        if pages > MAX_PAGE_LISTINGS {
            cycle = true;
            break;
        }
    }
    if cycle {
        findings.push(Finding::reject(
            ReasonCode::PageTreeCycle,
            "the PDF's page tree refers back to itself",
        ));
        return Ok(());
    }
    facts.pages = Some(pages);
    if pages == 0 {
        findings.push(Finding::reject(ReasonCode::NoPages, "the PDF has no pages"));
    } else if facts.declared_pages != Some(pages) {
        findings.push(Finding::warning(
            ReasonCode::PageCountMismatch,
            format!(
                "the PDF declares {} pages but has {pages}",
                facts
                    .declared_pages
                    .map_or("no count of".to_string(), |d| d.to_string())
            ),
        ));
    }
    Ok(())
}

fn active_content_code(kind: ActiveContent) -> ReasonCode {
    match kind {
        ActiveContent::JavaScript => ReasonCode::JavaScript,
        ActiveContent::OpenAction => ReasonCode::OpenAction,
        ActiveContent::AdditionalActions => ReasonCode::AdditionalActions,
        ActiveContent::Launch => ReasonCode::LaunchAction,
        ActiveContent::SubmitForm => ReasonCode::SubmitForm,
        ActiveContent::ImportData => ReasonCode::ImportData,
        ActiveContent::RemoteGoTo => ReasonCode::RemoteGoto,
        ActiveContent::EmbeddedFile => ReasonCode::EmbeddedFile,
        ActiveContent::RichMedia => ReasonCode::RichMedia,
        ActiveContent::XfaForm => ReasonCode::XfaForm,
    }
}

/// Walks every object (referenced or not: an orphan can be revived by an update) and every
/// dictionary nested in it, and names the active content found; `true` beside it when some
/// object nests deeper than `max_depth` (what lies deeper is not walked).
fn find_active_content(
    document: &Document,
    max_depth: usize,
    deadline: Instant,
) -> Result<(BTreeMap<ActiveContent, u32>, bool), OverBudget> {
    let mut found: BTreeMap<ActiveContent, u32> = BTreeMap::new();
    let mut too_deep = false;
    let mut note = |kind: ActiveContent| *found.entry(kind).or_default() += 1;
    if let Ok(catalog) = document.catalog() {
        if present(document, catalog, b"OpenAction") {
            note(ActiveContent::OpenAction);
        }
        if let Some(names) = resolve_dict(document, catalog.get(b"Names").ok()) {
            if present(document, names, b"JavaScript") {
                note(ActiveContent::JavaScript);
            }
            if present(document, names, b"EmbeddedFiles") {
                note(ActiveContent::EmbeddedFile);
            }
        }
        if let Some(form) = resolve_dict(document, catalog.get(b"AcroForm").ok()) {
            if present(document, form, b"XFA") {
                note(ActiveContent::XfaForm);
            }
        }
    }
    for (index, object) in document.objects.values().enumerate() {
        if index % 1024 == 0 {
            on_time(deadline)?;
        }
        too_deep |= fold::each_dictionary(object, max_depth, |dict| {
            classify(document, dict, &mut note);
            true
        });
    }
    Ok((found, too_deep))
}

fn resolve_dict<'a>(document: &'a Document, object: Option<&'a Object>) -> Option<&'a Dictionary> {
    match object? {
        Object::Dictionary(d) => Some(d),
        Object::Reference(id) => document.get_dictionary(*id).ok(),
        _ => None,
    }
}

/// A name entry, followed through one indirect reference (readers accept `/S 9 0 R`).
fn name_of<'a>(document: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    match dict.get(key).ok()? {
        Object::Reference(id) => document.get_object(*id).ok()?.as_name().ok(),
        object => object.as_name().ok(),
    }
}

/// Whether `key` holds something: ISO 32000-1 §7.3.10 makes a reference to a free or missing
/// object the null object, and a null entry is no entry (readers run no script a dangling
/// `/JavaScript 3 0 R` names).
fn present(document: &Document, dict: &Dictionary, key: &[u8]) -> bool {
    match dict.get(key) {
        Err(_) | Ok(Object::Null) => false,
        Ok(Object::Reference(id)) => {
            matches!(document.get_object(*id), Ok(object) if !matches!(object, Object::Null))
        }
        Ok(_) => true,
    }
}

fn classify(document: &Document, dict: &Dictionary, note: &mut impl FnMut(ActiveContent)) {
    let name_of = |key: &[u8]| name_of(document, dict, key);
    match name_of(b"S") {
        // A JavaScript action whose script is missing runs nothing.
        Some(b"JavaScript") if present(document, dict, b"JS") => note(ActiveContent::JavaScript),
        Some(b"JavaScript") => {}
        Some(b"Launch") => note(ActiveContent::Launch),
        Some(b"SubmitForm") => note(ActiveContent::SubmitForm),
        Some(b"ImportData") => note(ActiveContent::ImportData),
        Some(b"GoToR" | b"GoToE") => note(ActiveContent::RemoteGoTo),
        _ => {}
    }
    // /JS outside a JavaScript action (renditions, malformed actions) still runs in readers.
    if present(document, dict, b"JS") && name_of(b"S") != Some(b"JavaScript") {
        note(ActiveContent::JavaScript);
    }
    if present(document, dict, b"AA") {
        note(ActiveContent::AdditionalActions);
    }
    if name_of(b"Type") == Some(b"EmbeddedFile") || present(document, dict, b"EF") {
        note(ActiveContent::EmbeddedFile);
    }
    match name_of(b"Subtype") {
        Some(b"FileAttachment") => note(ActiveContent::EmbeddedFile),
        Some(b"RichMedia") => note(ActiveContent::RichMedia),
        _ => {}
    }
}

/// The PDF/A claim of the XMP metadata (`pdfaid:part` and `pdfaid:conformance`).
fn pdfa_claim(document: &Document) -> Option<String> {
    let catalog = document.catalog().ok()?;
    let id = catalog.get(b"Metadata").ok()?.as_reference().ok()?;
    let stream = document.get_object(id).ok()?.as_stream().ok()?;
    // XMP packets are small; a huge one is not worth decoding for a claim.
    if stream.content.len() > 4 * 1024 * 1024 {
        return None;
    }
    let xmp = if stream.dict.has(b"Filter") {
        stream
            .decompressed_content_with_limit(4 * 1024 * 1024)
            .ok()?
    } else {
        stream.content.clone()
    };
    let part = xmp_value(&xmp, "pdfaid:part")?;
    let conformance = xmp_value(&xmp, "pdfaid:conformance").unwrap_or_default();
    Some(format!("PDF/A-{part}{}", conformance.to_uppercase()))
}

/// An XMP property in attribute (`name="v"`) or element (`<name>v</name>`) form.
fn xmp_value(xmp: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(xmp);
    let clean = |v: &str| {
        let v: String = v.trim().chars().take(8).collect();
        (!v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric())).then_some(v)
    };
    if let Some(at) = text.find(&format!("{name}=")) {
        let rest = &text[at + name.len() + 1..];
        let quote = rest.chars().next()?;
        let rest = &rest[quote.len_utf8()..];
        return clean(&rest[..rest.find(quote)?]);
    }
    let open = format!("<{name}>");
    let at = text.find(&open)?;
    let rest = &text[at + open.len()..];
    clean(&rest[..rest.find('<')?])
}

/// Streams at least this large are measured while lopdf loads them and their bytes are not
/// kept: the checks need only their dictionaries, and a scan's page images would otherwise sit
/// in memory a second time next to the document's own bytes.
const KEEP_STREAM_BYTES: usize = 256 * 1024;

/// The most lopdf may unpack of one object or cross-reference stream while loading.
const EAGER_DECOMPRESSION_LIMIT: u64 = 32 * 1024 * 1024;

/// A damaged or encrypted file is read by lopdf without the filter, so without the account of
/// each object's memory: it is read only when this many times its size fits the limit (the
/// largest ratio measured on real files was 28: R's 6.5 MB reference manual, 59,000 objects).
const UNACCOUNTED_READ_FACTOR: u64 = 32;

/// Why lopdf gave no document.
enum Failure {
    Load(lopdf::Error),
    Panicked,
    /// The objects would take more memory than the limit (`limit` bytes); `unaccounted` when
    /// the file is one lopdf reads whole (damaged, encrypted) and is too large for that.
    OverMemory {
        limit: u64,
        unaccounted: bool,
    },
}

/// What the Flate streams decompress to, measured without keeping any of it and stopped at
/// the limits: a decompression bomb is measured only up to the point where it is one.
struct Inflation {
    max_stream: u64,
    max_total: u64,
    max_ratio: u64,
    measure_images: bool,
    deadline: Instant,
    total_in: u64,
    total_out: u64,
    bomb: Option<String>,
    timed_out: bool,
    /// The estimated memory of the objects kept so far, and its limit.
    structure_bytes: u64,
    max_structure: u64,
    /// The limit was passed: objects after it were dropped, the document is incomplete.
    over_structure: bool,
    /// What is kept of each object, and the nesting the checks walk.
    reading: Reading,
    max_depth: usize,
    /// A signature was met while reading [`Reading::ForChecks`]: the document is read again,
    /// whole.
    signature_seen: bool,
    /// Streams measured as they were read (lopdf may read an emptied stream's bytes again).
    measured: HashSet<ObjectId>,
}

impl Inflation {
    fn new(limits: &policy::PdfLimits, deadline: Instant, reading: Reading) -> Self {
        Inflation {
            max_stream: limits.max_stream_decompressed_bytes,
            max_total: limits.max_total_decompressed_bytes,
            max_ratio: limits.max_decompression_ratio,
            measure_images: limits.measure_image_data,
            deadline,
            total_in: 0,
            total_out: 0,
            bomb: None,
            timed_out: false,
            structure_bytes: 0,
            max_structure: limits.max_structure_bytes,
            over_structure: false,
            reading,
            max_depth: limits.max_depth,
            signature_seen: false,
            measured: HashSet::new(),
        }
    }

    fn measure(&mut self, dict: &Dictionary, content: &[u8]) {
        if self.bomb.is_some() || self.timed_out {
            return;
        }
        match flate_stages(dict) {
            0 => {}
            1 => match image_geometry_bytes(dict).filter(|_| !self.measure_images) {
                Some(geometry) => self.count(content.len() as u64, geometry, geometry),
                None => self.measure_flate(content),
            },
            _ => {
                // Flate over Flate: the first stage is unpacked (bounded) so that the last one
                // can be measured; a first stage over the bound is a bomb in itself.
                const STAGE_LIMIT: u64 = 16 * 1024 * 1024;
                let mut first = Vec::new();
                let decoder = flate2::read::ZlibDecoder::new(content);
                match decoder.take(STAGE_LIMIT + 1).read_to_end(&mut first) {
                    Ok(n) if n as u64 > STAGE_LIMIT => {
                        self.bomb = Some(format!(
                            "a stream compressed twice unpacks to more than {STAGE_LIMIT} bytes in its first stage"
                        ));
                    }
                    Ok(_) => self.measure_flate(&first),
                    Err(_) => {}
                }
            }
        }
    }

    fn measure_flate(&mut self, content: &[u8]) {
        self.count(content.len() as u64, 0, 0);
        let mut decoder = flate2::read::ZlibDecoder::new(content);
        let mut buffer = [0u8; 32 * 1024];
        let mut stream_out: u64 = 0;
        loop {
            if Instant::now() > self.deadline {
                self.timed_out = true;
                return;
            }
            let n = match decoder.read(&mut buffer) {
                // A corrupt stream is a rendering problem, not a bomb.
                Ok(0) | Err(_) => return,
                Ok(n) => n as u64,
            };
            stream_out += n;
            self.count(0, n, stream_out);
            if self.bomb.is_some() {
                return;
            }
        }
    }

    /// Adds `input` compressed bytes and `output` decompressed ones (`stream_out` so far for the
    /// stream), and notes a bomb once a limit is passed.
    fn count(&mut self, input: u64, output: u64, stream_out: u64) {
        const RATIO_FLOOR: u64 = 16 * 1024 * 1024;
        self.total_in = self.total_in.saturating_add(input);
        self.total_out = self.total_out.saturating_add(output);
        self.bomb = if stream_out > self.max_stream {
            Some(format!(
                "a stream decompresses to more than {} bytes",
                self.max_stream
            ))
        } else if self.total_out > self.max_total {
            Some(format!(
                "the streams decompress to more than {} bytes",
                self.max_total
            ))
        } else if self.total_out > RATIO_FLOOR
            && self.total_out / self.total_in.max(1) > self.max_ratio
        {
            Some(format!(
                "the streams decompress to more than {} times their size",
                self.max_ratio
            ))
        } else {
            None
        };
    }
}

/// The most bytes a reader decodes from a Flate image: its rows of width x components x bits,
/// plus a predictor tag byte per row. `None` when the dictionary does not say (an indirect
/// size, an unknown colour space), and the stream is then measured by inflating it.
fn image_geometry_bytes(dict: &Dictionary) -> Option<u64> {
    if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image".as_slice()) {
        return None;
    }
    let positive = |key: &[u8]| {
        dict.get(key)
            .and_then(Object::as_i64)
            .ok()
            .and_then(|n| u64::try_from(n).ok())
            .filter(|&n| n > 0)
    };
    let (width, height) = (positive(b"Width")?, positive(b"Height")?);
    let mask = matches!(dict.get(b"ImageMask"), Ok(Object::Boolean(true)));
    let (components, bits) = if mask {
        (1, 1)
    } else {
        let bits = positive(b"BitsPerComponent").filter(|b| [1, 2, 4, 8, 16].contains(b))?;
        (colour_components(dict.get(b"ColorSpace").ok()?)?, bits)
    };
    let row_bits = u128::from(width)
        .saturating_mul(u128::from(components))
        .saturating_mul(u128::from(bits));
    let bytes = (row_bits.div_ceil(8) + 1).saturating_mul(u128::from(height));
    Some(u64::try_from(bytes).unwrap_or(u64::MAX))
}

/// Components per pixel of a colour space, at most: an ICC profile in a PDF has 1, 3 or 4.
fn colour_components(space: &Object) -> Option<u64> {
    let family = match space {
        Object::Name(name) => name.as_slice(),
        Object::Array(parts) => parts.first()?.as_name().ok()?,
        _ => return None,
    };
    match family {
        b"DeviceGray" | b"G" | b"CalGray" | b"Indexed" | b"I" | b"Separation" => Some(1),
        b"DeviceRGB" | b"RGB" | b"CalRGB" | b"Lab" => Some(3),
        b"DeviceCMYK" | b"CMYK" | b"ICCBased" => Some(4),
        b"DeviceN" => match space {
            Object::Array(parts) => parts
                .get(1)
                .and_then(|names| names.as_array().ok())
                .map(|names| names.len() as u64)
                .filter(|&n| n > 0),
            _ => None,
        },
        _ => None,
    }
}

thread_local! {
    /// The measurement of the load in progress on this thread. lopdf's filter is a plain `fn`
    /// and lopdf is built without its rayon feature, so every object of a load passes through
    /// the filter on the loading thread.
    static LOADING: std::cell::RefCell<Option<Inflation>> = const { std::cell::RefCell::new(None) };
}

/// lopdf keeps the object as the filter leaves it for a top-level object, and the object the
/// filter returns for a member of an object stream (never a stream itself).
fn keep_what_is_checked(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let (reading, max_depth) = LOADING.with(|loading| {
        loading
            .borrow()
            .as_ref()
            .map_or((Reading::Whole, 0), |i| (i.reading, i.max_depth))
    });
    let for_checks = reading == Reading::ForChecks;
    let is_stream = match object {
        Object::Stream(stream) => {
            expand_filter_names(&mut stream.dict);
            // Object and cross-reference streams hold objects lopdf still has to unpack.
            let structural = matches!(
                stream.dict.get(b"Type").and_then(Object::as_name),
                Ok(b"ObjStm" | b"XRef")
            );
            if structural && !object_stream_fits(stream) {
                // Its members would be parsed together before any is seen: not read at all.
                LOADING.with(|loading| {
                    if let Some(inflation) = loading.borrow_mut().as_mut() {
                        inflation.over_structure = true;
                    }
                });
                return None;
            }
            // The checks of an unsigned document read no stream's bytes but the XMP metadata's.
            let metadata = matches!(
                stream.dict.get(b"Type").and_then(Object::as_name),
                Ok(b"Metadata")
            );
            let dropped = !structural
                && (stream.content.len() >= KEEP_STREAM_BYTES
                    || (for_checks && !metadata && !stream.content.is_empty()));
            if dropped {
                LOADING.with(|loading| {
                    if let Some(inflation) = loading.borrow_mut().as_mut() {
                        inflation.measure(&stream.dict, &stream.content);
                        inflation.measured.insert(id);
                    }
                });
                stream.content = Vec::new();
                if for_checks {
                    // lopdf reads an empty stream's bytes again from its start: not these.
                    stream.start_position = None;
                }
            }
            true
        }
        _ => false,
    };
    if for_checks && !is_stream && fold::fold(object, max_depth) == fold::Need::Signature {
        LOADING.with(|loading| {
            if let Some(inflation) = loading.borrow_mut().as_mut() {
                inflation.signature_seen = true;
            }
        });
    }
    // Past the memory limit nothing more is kept: the load is refused once it ends.
    let within = LOADING.with(|loading| {
        let mut loading = loading.borrow_mut();
        let Some(inflation) = loading.as_mut() else {
            return true;
        };
        if !inflation.over_structure {
            inflation.structure_bytes = inflation
                .structure_bytes
                .saturating_add(OBJECT_ENTRY_BYTES + heap_bytes(object));
            inflation.over_structure = inflation.structure_bytes > inflation.max_structure;
        }
        !inflation.over_structure
    });
    if !within {
        return None;
    }
    if is_stream {
        // A stream is never a member of an object stream: lopdf keeps it as left here.
        Some((id, Object::Null))
    } else {
        Some((id, object.clone()))
    }
}

/// Whether the members of an object stream (`stream`, of any type) can be parsed within the
/// memory limit: lopdf parses them all before the filter sees one.
fn object_stream_fits(stream: &lopdf::Stream) -> bool {
    if !matches!(
        stream.dict.get(b"Type").and_then(Object::as_name),
        Ok(b"ObjStm")
    ) {
        return true;
    }
    let limit = LOADING.with(|loading| {
        loading
            .borrow()
            .as_ref()
            .map_or(u64::MAX, |i| i.max_structure)
    });
    let limit_bytes = EAGER_DECOMPRESSION_LIMIT;
    let plain_flate = matches!(
        stream.dict.get(b"Filter").and_then(Object::as_name),
        Ok(b"FlateDecode")
    ) && !stream.dict.has(b"DecodeParms");
    let tokens = if !stream.dict.has(b"Filter") {
        tokens::TokenCount::of_content(stream.content.as_slice(), limit_bytes)
    } else if plain_flate {
        // Counted as it is inflated, a buffer at a time: nothing of it is kept.
        tokens::TokenCount::of_content(
            flate2::read::ZlibDecoder::new(stream.content.as_slice()),
            limit_bytes,
        )
    } else {
        None
    };
    let tokens = match tokens {
        Some(tokens) => tokens,
        // Another filter, a predictor, or a stream the plain inflate could not read (lopdf
        // tries raw deflate then): decoded as lopdf decodes it.
        None => match stream.decompressed_content_with_limit(limit_bytes as usize) {
            Ok(content) => {
                tokens::TokenCount::of_content(content.as_slice(), limit_bytes).unwrap_or(0)
            }
            // lopdf's own reading of it fails the same way, keeping nothing.
            Err(_) => return true,
        },
    };
    tokens.saturating_mul(tokens::TOKEN_BYTES) <= limit
}

/// What one object costs in lopdf's map of objects besides its own heap: its id and value in a
/// B-tree node, with the nodes' slack.
const OBJECT_ENTRY_BYTES: u64 = (std::mem::size_of::<(ObjectId, Object)>() as u64) * 3 / 2;

/// The heap memory an object holds (its names, strings, arrays, dictionaries and stream
/// bytes), as allocated: within a few per cent of what a heap profiler shows for real files.
fn heap_bytes(object: &Object) -> u64 {
    const OBJECT: u64 = std::mem::size_of::<Object>() as u64;
    // A dictionary entry: key, value, hash, and its slot in the index table.
    const ENTRY: u64 = std::mem::size_of::<(Vec<u8>, Object)>() as u64 + 16;
    fn dictionary(d: &Dictionary) -> u64 {
        d.iter()
            .map(|(key, value)| ENTRY + key.capacity() as u64 + heap_bytes(value))
            .sum()
    }
    match object {
        Object::Name(bytes) | Object::String(bytes, _) => bytes.capacity() as u64,
        Object::Array(items) => {
            items.capacity() as u64 * OBJECT + items.iter().map(heap_bytes).sum::<u64>()
        }
        Object::Dictionary(d) => dictionary(d),
        Object::Stream(stream) => dictionary(&stream.dict) + stream.content.capacity() as u64,
        _ => 0,
    }
}

/// The abbreviated filter names of ISO 32000-1 §8.9.7 and what they stand for.
const FILTER_ABBREVIATIONS: [(&[u8], &[u8]); 7] = [
    (b"Fl", b"FlateDecode"),
    (b"AHx", b"ASCIIHexDecode"),
    (b"A85", b"ASCII85Decode"),
    (b"LZW", b"LZWDecode"),
    (b"RL", b"RunLengthDecode"),
    (b"CCF", b"CCITTFaxDecode"),
    (b"DCT", b"DCTDecode"),
];

/// A filter name written out in full.
fn full_filter_name(name: &[u8]) -> &[u8] {
    FILTER_ABBREVIATIONS
        .iter()
        .find(|(short, _)| *short == name)
        .map_or(name, |(_, long)| long)
}

/// The filters readers decode on the streams that hold a file's structure (ISO 32000-1
/// §7.4); encryption's /Crypt too.
const STRUCTURAL_FILTERS: [&[u8]; 6] = [
    b"FlateDecode",
    b"LZWDecode",
    b"ASCII85Decode",
    b"ASCIIHexDecode",
    b"RunLengthDecode",
    b"Crypt",
];

/// Most stream dictionaries of one type looked at in the raw bytes: far above the object and
/// cross-reference streams of real files, and a bound on the work a file of nothing but
/// `/ObjStm` can cause.
const MAX_STRUCTURAL_STREAMS: usize = 10_000;

/// How far from a `/Type` value a stream dictionary's `<<` and its `stream` keyword may be.
const DICTIONARY_WINDOW: usize = 4096;

fn is_delimiter(b: Option<&u8>) -> bool {
    b.is_none_or(|b| b.is_ascii_whitespace() || b"/[]<>()%".contains(b))
}

/// The dictionaries, as byte ranges from their `<<` to their `stream` keyword, of the
/// streams that name `kind` (`/XRef`, `/ObjStm`) in the raw bytes, in file order and not
/// overlapping; at most [`MAX_STRUCTURAL_STREAMS`].
fn stream_dictionaries(bytes: &[u8], kind: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut after = 0;
    for at in memchr::memmem::find_iter(bytes, kind).take(MAX_STRUCTURAL_STREAMS) {
        if at < after || !is_delimiter(bytes.get(at + kind.len())) {
            continue;
        }
        // Back no further than the previous match: each byte is searched once.
        let floor = at.saturating_sub(DICTIONARY_WINDOW).max(after);
        let Some(start) = memchr::memmem::rfind(&bytes[floor..at], b"<<").map(|s| floor + s) else {
            continue;
        };
        let ceiling = bytes.len().min(at + DICTIONARY_WINDOW);
        let Some(end) = memchr::memmem::find(&bytes[at..ceiling], b"stream").map(|e| at + e) else {
            continue;
        };
        found.push((start, end));
        after = end;
    }
    found
}

/// The first filter outside [`STRUCTURAL_FILTERS`] that an object or cross-reference stream
/// of `bytes` names (such as /BrotliDecode, which lopdf decodes and readers do not): a file
/// whose objects only such a filter unpacks shows readers nothing.
fn unsupported_structural_filter(bytes: &[u8]) -> Option<String> {
    for kind in [b"/XRef".as_slice(), b"/ObjStm"] {
        for (start, end) in stream_dictionaries(bytes, kind) {
            let dict = &bytes[start..end];
            let Some(filter) = memchr::memmem::find(dict, b"/Filter") else {
                continue;
            };
            // The names after /Filter, up to the next key or the end of an array.
            let mut rest = &dict[filter + b"/Filter".len()..];
            let array = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            while let Some(slash) = rest.iter().position(|&b| b == b'/') {
                if !array && rest[..slash].iter().any(|b| !b.is_ascii_whitespace()) {
                    break;
                }
                if array && rest[..slash].contains(&b']') {
                    break;
                }
                let name_end = rest[slash + 1..]
                    .iter()
                    .position(|b| is_delimiter(Some(b)))
                    .map_or(rest.len(), |n| slash + 1 + n);
                let name = &rest[slash + 1..name_end];
                if !STRUCTURAL_FILTERS.contains(&full_filter_name(name)) {
                    return Some(String::from_utf8_lossy(name).into_owned());
                }
                rest = &rest[name_end..];
                if !array {
                    break;
                }
            }
        }
    }
    None
}

/// A copy of `bytes` in which the dictionaries of cross-reference and object streams name
/// their abbreviated filters in full, or `None` when none does. Only the dictionaries are
/// edited (from their `<<` to their `stream` keyword), never stream data.
fn structural_filters_expanded(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut dictionaries = stream_dictionaries(bytes, b"/XRef");
    dictionaries.extend(stream_dictionaries(bytes, b"/ObjStm"));
    dictionaries.sort_unstable();
    let mut out = Vec::new();
    let mut copied = 0;
    let mut changed = false;
    for (start, end) in dictionaries {
        if start < copied {
            continue;
        }
        out.extend_from_slice(&bytes[copied..start]);
        let mut i = start;
        while i < end {
            let hit = FILTER_ABBREVIATIONS.iter().find(|(short, _)| {
                bytes[i] == b'/'
                    && bytes[i + 1..end].starts_with(short)
                    && is_delimiter(bytes.get(i + 1 + short.len()))
            });
            match hit {
                Some((short, long)) => {
                    out.push(b'/');
                    out.extend_from_slice(long);
                    i += 1 + short.len();
                    changed = true;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        copied = end;
    }
    if !changed {
        return None;
    }
    out.extend_from_slice(&bytes[copied..]);
    Some(out)
}

/// Writes a stream's abbreviated filter names out in full. ISO 32000-1 §8.9.7 defines
/// `/Fl`, `/AHx`, `/A85`, `/LZW`, `/RL`, `/CCF` and `/DCT` for inline images; writers use
/// them on streams too, readers (qpdf, pdf.js, Acrobat) decode them, and lopdf knows only the
/// full names.
fn expand_filter_names(dict: &mut Dictionary) {
    let full = |name: &[u8]| {
        FILTER_ABBREVIATIONS
            .iter()
            .find(|(short, _)| *short == name)
            .map(|(_, long)| *long)
    };
    let Ok(filter) = dict.get_mut(b"Filter") else {
        return;
    };
    match filter {
        Object::Name(name) => {
            if let Some(f) = full(name) {
                *name = f.to_vec();
            }
        }
        Object::Array(names) => {
            for item in names.iter_mut() {
                if let Object::Name(name) = item {
                    if let Some(f) = full(name) {
                        *name = f.to_vec();
                    }
                }
            }
        }
        _ => {}
    }
}

/// Loads with lopdf, measuring and dropping large streams on the way. lopdf repairs a damaged
/// file only on an unfiltered load, so a file the filtered load cannot read (or whose page tree
/// it cannot find) is loaded again unfiltered, keeping everything.
fn load(
    bytes: &[u8],
    limits: &policy::PdfLimits,
    deadline: Instant,
    reading: Reading,
) -> Result<(Document, Inflation), Failure> {
    // What lopdf reads without the filter (a repair, an encrypted file) is not accounted
    // object by object: only a file small enough for the worst ratio measured is read so.
    let unaccounted_fits = |bytes: &[u8]| {
        (bytes.len() as u64).saturating_mul(UNACCOUNTED_READ_FACTOR) <= limits.max_structure_bytes
    };
    let attempt_on = |bytes: &[u8], filtered: bool, force_reconstruct: bool| {
        if !filtered && !unaccounted_fits(bytes) {
            return Err(Failure::OverMemory {
                limit: limits.max_structure_bytes,
                unaccounted: true,
            });
        }
        // Without the filter (a repair, an encrypted file) every object is read whole.
        let reading = if filtered { reading } else { Reading::Whole };
        LOADING.with(|loading| {
            *loading.borrow_mut() = Some(Inflation::new(limits, deadline, reading));
        });
        let options = lopdf::LoadOptions {
            // lopdf unpacks object and cross-reference streams into memory: keep that far below
            // the function's memory (legitimate ones are a few MiB).
            max_decompressed_size: usize::try_from(
                limits
                    .max_stream_decompressed_bytes
                    .min(EAGER_DECOMPRESSION_LIMIT),
            )
            .ok(),
            // lopdf repairs only an unfiltered load: the repairing attempt has no filter.
            filter: filtered.then_some(keep_what_is_checked as lopdf::FilterFunc),
            force_reconstruct,
            ..lopdf::LoadOptions::default()
        };
        // lopdf bounds nesting and decompression itself; a panic left in it must still become
        // a rejection rather than a crashed batch.
        let result = std::panic::catch_unwind(|| Document::load_mem_with_options(bytes, options));
        let inflation = LOADING
            .with(|loading| loading.borrow_mut().take())
            .unwrap_or_else(|| Inflation::new(limits, deadline, reading));
        if inflation.over_structure {
            // Objects were dropped past the limit: what was read is not the document.
            return Err(Failure::OverMemory {
                limit: limits.max_structure_bytes,
                unaccounted: false,
            });
        }
        match result {
            Ok(Ok(document)) => Ok((document, inflation)),
            Ok(Err(e)) => Err(Failure::Load(e)),
            Err(_) => Err(Failure::Panicked),
        }
    };
    // lopdf reads an encrypted file without the filter.
    if declares_encryption(bytes) && !unaccounted_fits(bytes) {
        return Err(Failure::OverMemory {
            limit: limits.max_structure_bytes,
            unaccounted: true,
        });
    }
    let attempt =
        |filtered: bool, force_reconstruct: bool| attempt_on(bytes, filtered, force_reconstruct);
    match attempt(true, false) {
        Err(over @ Failure::OverMemory { .. }) => Err(over),
        Ok((document, inflation))
            if document.is_encrypted()
                || (page_tree_found(&document) && unreadable_objects(&document) == 0) =>
        {
            Ok((document, inflation))
        }
        // A cross-reference stream lopdf cannot decode (an abbreviated filter name, which the
        // object filter cannot reach: lopdf reads those streams before any object) is rebuilt
        // by scanning the objects, as readers do.
        _ => match attempt(false, false) {
            Err(Failure::Load(error)) => match structural_filters_expanded(bytes) {
                // Read from a copy whose structural stream dictionaries name their filters in
                // full; the offsets moved, so the objects are found by scanning.
                // That rebuild is ours, not a repair of damage.
                Some(copy) => attempt_on(&copy, false, true).map(|(mut document, inflation)| {
                    document.xref_recovery = None;
                    (document, inflation)
                }),
                None if matches!(error, lopdf::Error::Unimplemented(_)) => attempt(false, true),
                None => Err(Failure::Load(error)),
            },
            other => other,
        },
    }
}

/// A size as a person reads it: whole MiB, or KiB below one MiB.
fn memory_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// Whether a trailer or a cross-reference stream of `bytes` names an encryption dictionary
/// (lopdf then reads every object without the filter).
fn declares_encryption(bytes: &[u8]) -> bool {
    let names_it = |start: usize| {
        let end = bytes.len().min(start + DICTIONARY_WINDOW);
        memchr::memmem::find(&bytes[start..end], b"/Encrypt").is_some()
    };
    memchr::memmem::find_iter(bytes, b"trailer")
        .take(MAX_STRUCTURAL_STREAMS)
        .any(names_it)
        || stream_dictionaries(bytes, b"/XRef")
            .into_iter()
            .any(|(start, end)| memchr::memmem::find(&bytes[start..end], b"/Encrypt").is_some())
}

/// Loads a document for the signature checks: as the engine does (large streams measured and
/// dropped, repaired when needed), with the default limits. `None` when lopdf cannot read it.
pub(crate) fn load_for_signatures(bytes: &[u8]) -> Option<Document> {
    let limits = policy::PdfLimits::default();
    let deadline = Instant::now() + Duration::from_millis(limits.time_budget_ms);
    load(bytes, &limits, deadline, Reading::Whole)
        .ok()
        .map(|(document, _)| document)
}

/// Objects the cross-reference data lists that lopdf could not read (it skips them); a reader
/// may then show less than the sender sent. Decryption removes the encryption dictionary, so
/// an encrypted file is not counted.
fn unreadable_objects(document: &Document) -> usize {
    if document.was_encrypted() {
        return 0;
    }
    document
        .reference_table
        .entries
        .iter()
        .filter(|(number, entry)| {
            matches!(
                entry,
                lopdf::xref::XrefEntry::Normal { .. } | lopdf::xref::XrefEntry::Compressed { .. }
            ) && document
                .objects
                .range((**number, 0)..=(**number, u16::MAX))
                .next()
                .is_none()
        })
        .count()
}

fn page_tree_found(document: &Document) -> bool {
    document
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get(b"Pages").ok())
        .and_then(|pages| pages.as_reference().ok())
        .is_some_and(|id| document.get_dictionary(id).is_ok())
}

/// How many leading Flate stages a stream's filter chain has (0 when it does not start with
/// Flate; measuring stops at the first other filter, which no one unpacks while checking).
fn flate_stages(dict: &Dictionary) -> usize {
    let flate = |o: &Object| matches!(o.as_name(), Ok(b"FlateDecode" | b"Fl"));
    match dict.get(b"Filter") {
        Ok(Object::Array(filters)) => filters.iter().take_while(|f| flate(f)).count(),
        Ok(filter) => usize::from(flate(filter)),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests;
