//! The PDF engine: one entry point, [`inspect`], that takes a document's bytes and returns a
//! [`Verdict`]: the findings (each rejecting or warning, with a reason code and a sentence) and
//! the facts found.
//!
//! The order is chosen so that a hostile file costs little: byte-level checks and limits first
//! ([`scan`]), then lopdf with its own limits (nesting depth, per-stream decompression), then the
//! engine's walks over the parsed objects, each bounded by the object limit and the time budget.

pub mod policy;
pub mod samples;
pub mod scan;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::time::{Duration, Instant};

use lopdf::{Dictionary, Document, Object, ObjectId};
use serde::Serialize;

use crate::model::{Finding, ReasonCode, Verdict};
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
    /// The revisions: the original and one per incremental update, as byte ranges.
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
    let started = Instant::now();
    let limits = &policy.limits;
    let mut verdict = Verdict::default();
    let reject = |verdict: &mut Verdict, code: ReasonCode, message: String| {
        verdict.findings.push(Finding::reject(code, message));
    };
    if bytes.is_empty() {
        reject(&mut verdict, ReasonCode::Empty, "the file is empty".into());
        return verdict;
    }
    if bytes.len() as u64 > limits.max_bytes {
        return too_large(bytes.len() as u64, limits.max_bytes);
    }
    let raw = scan::scan(bytes);
    if raw.header_at.is_none() {
        reject(
            &mut verdict,
            ReasonCode::NotPdf,
            "the file is not a PDF (no %PDF- header in its first 1024 bytes)".into(),
        );
        return verdict;
    }
    verdict.pdf_version = raw.version.clone();
    if !raw.has_eof {
        // lopdf repairs what it can of a cut-off file; a document missing its end must still be
        // refused, not accepted with the pages that happened to arrive.
        reject(
            &mut verdict,
            ReasonCode::Truncated,
            "the PDF is incomplete: it has no %%EOF marker at its end (the upload was cut off?)"
                .into(),
        );
        return verdict;
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
        return verdict;
    }

    let options = lopdf::LoadOptions {
        max_decompressed_size: usize::try_from(limits.max_stream_decompressed_bytes).ok(),
        ..lopdf::LoadOptions::default()
    };
    // lopdf bounds nesting and decompression itself; a panic left in it must still become a
    // rejection rather than a crashed batch.
    let loaded = std::panic::catch_unwind(|| Document::load_mem_with_options(bytes, options));
    let document = match loaded {
        Ok(Ok(document)) => document,
        Ok(Err(e)) => {
            let (code, message) = load_failure(bytes, &e);
            reject(&mut verdict, code, message);
            return verdict;
        }
        Err(_) => {
            reject(
                &mut verdict,
                ReasonCode::Unparseable,
                "the PDF could not be read: its structure is malformed".into(),
            );
            return verdict;
        }
    };

    let mut facts = PdfFacts {
        version: raw.version.clone(),
        pages: None,
        declared_pages: None,
        producer: producer(&document),
        encryption: Encryption::None,
        revisions: raw.revisions.clone(),
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
    if document.is_encrypted() {
        facts.encryption = Encryption::PasswordRequired;
        findings.push(Finding::reject(
            ReasonCode::PasswordRequired,
            "the PDF is protected by a password and cannot be opened",
        ));
        verdict.facts = Some(facts);
        return verdict;
    }
    if document.was_encrypted() {
        facts.encryption = Encryption::OwnerPasswordOnly;
        findings.push(Finding::warning(
            ReasonCode::EncryptionRestricted,
            "the PDF is encrypted with owner restrictions only (it opens without a password)",
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
        return verdict;
    }

    let deadline = started + Duration::from_millis(limits.time_budget_ms);
    let outcome = (|| -> Result<(), OverBudget> {
        check_page_tree(&document, &mut facts, findings, deadline)?;
        let found = find_active_content(&document, limits.max_depth, deadline)?;
        for (kind, count) in &found {
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
            let _ = count;
        }
        facts.active_content = found;
        facts.pdfa = pdfa_claim(&document);
        check_decompression(&document, policy, &mut facts, findings, deadline)?;
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
    verdict
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

fn load_failure(bytes: &[u8], error: &lopdf::Error) -> (ReasonCode, String) {
    let text = error.to_string();
    let encrypted = matches!(
        error,
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword
    ) || (scan::find(bytes, b"/Encrypt").is_some()
        && text.to_lowercase().contains("crypt"));
    if encrypted {
        return (
            ReasonCode::PasswordRequired,
            "the PDF is protected by a password and cannot be opened".into(),
        );
    }
    let mut text = text;
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (
        ReasonCode::Unparseable,
        format!("the PDF could not be read: {text}"),
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

    // Depth-first over the tree, remembering every node seen: a node met twice is a cycle (or
    // a shared subtree, which readers also refuse).
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = vec![root];
    let mut pages: u32 = 0;
    let mut cycle = false;
    while let Some(id) = stack.pop() {
        on_time(deadline)?;
        if !seen.insert(id) {
            cycle = true;
            break;
        }
        let Ok(node) = document.get_dictionary(id) else {
            continue;
        };
        match node.get_type() {
            Ok(b"Pages") => {
                if let Ok(kids) = node.get(b"Kids").and_then(Object::as_array) {
                    stack.extend(kids.iter().rev().filter_map(|k| k.as_reference().ok()));
                }
            }
            // A leaf without /Type is still a page to readers.
            Ok(b"Page") | Err(_) => pages = pages.saturating_add(1),
            Ok(_) => {}
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
/// dictionary nested in it, and names the active content found.
fn find_active_content(
    document: &Document,
    max_depth: usize,
    deadline: Instant,
) -> Result<BTreeMap<ActiveContent, u32>, OverBudget> {
    let mut found: BTreeMap<ActiveContent, u32> = BTreeMap::new();
    let mut note = |kind: ActiveContent| *found.entry(kind).or_default() += 1;
    if let Ok(catalog) = document.catalog() {
        if catalog.has(b"OpenAction") {
            note(ActiveContent::OpenAction);
        }
        if let Some(names) = resolve_dict(document, catalog.get(b"Names").ok()) {
            if names.has(b"JavaScript") {
                note(ActiveContent::JavaScript);
            }
            if names.has(b"EmbeddedFiles") {
                note(ActiveContent::EmbeddedFile);
            }
        }
        if let Some(form) = resolve_dict(document, catalog.get(b"AcroForm").ok()) {
            if form.has(b"XFA") {
                note(ActiveContent::XfaForm);
            }
        }
    }
    for (index, object) in document.objects.values().enumerate() {
        if index % 1024 == 0 {
            on_time(deadline)?;
        }
        let mut stack: Vec<(&Object, usize)> = vec![(object, 0)];
        while let Some((object, depth)) = stack.pop() {
            if depth > max_depth {
                continue;
            }
            let dict = match object {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                Object::Array(items) => {
                    stack.extend(items.iter().map(|o| (o, depth + 1)));
                    continue;
                }
                _ => continue,
            };
            classify(dict, &mut note);
            stack.extend(dict.iter().map(|(_, o)| (o, depth + 1)));
        }
    }
    Ok(found)
}

fn resolve_dict<'a>(document: &'a Document, object: Option<&'a Object>) -> Option<&'a Dictionary> {
    match object? {
        Object::Dictionary(d) => Some(d),
        Object::Reference(id) => document.get_dictionary(*id).ok(),
        _ => None,
    }
}

fn name_of<'a>(dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    dict.get(key).ok().and_then(|o| o.as_name().ok())
}

fn classify(dict: &Dictionary, note: &mut impl FnMut(ActiveContent)) {
    match name_of(dict, b"S") {
        Some(b"JavaScript") => note(ActiveContent::JavaScript),
        Some(b"Launch") => note(ActiveContent::Launch),
        Some(b"SubmitForm") => note(ActiveContent::SubmitForm),
        Some(b"ImportData") => note(ActiveContent::ImportData),
        Some(b"GoToR" | b"GoToE") => note(ActiveContent::RemoteGoTo),
        _ => {}
    }
    // /JS outside a JavaScript action (renditions, malformed actions) still runs in readers.
    if dict.has(b"JS") && name_of(dict, b"S") != Some(b"JavaScript") {
        note(ActiveContent::JavaScript);
    }
    if dict.has(b"AA") {
        note(ActiveContent::AdditionalActions);
    }
    if name_of(dict, b"Type") == Some(b"EmbeddedFile") || dict.has(b"EF") {
        note(ActiveContent::EmbeddedFile);
    }
    match name_of(dict, b"Subtype") {
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
        stream.decompressed_content().ok()?
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

/// Counts what the Flate streams decompress to, without keeping any of it, and stops at the
/// limits: a decompression bomb is measured only up to the point where it is one.
fn check_decompression(
    document: &Document,
    policy: &PdfPolicy,
    facts: &mut PdfFacts,
    findings: &mut Vec<Finding>,
    deadline: Instant,
) -> Result<(), OverBudget> {
    const RATIO_FLOOR: u64 = 16 * 1024 * 1024;
    let limits = &policy.limits;
    let mut total_in: u64 = 0;
    let mut total_out: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    for object in document.objects.values() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !is_flate(&stream.dict) {
            continue;
        }
        total_in += stream.content.len() as u64;
        let mut decoder = flate2::read::ZlibDecoder::new(&stream.content[..]);
        let mut stream_out: u64 = 0;
        loop {
            on_time(deadline)?;
            let n = match decoder.read(&mut buffer) {
                Ok(0) | Err(_) => break, // a corrupt stream is the renderer's problem, not a bomb
                Ok(n) => n as u64,
            };
            stream_out += n;
            total_out += n;
            let over = if stream_out > limits.max_stream_decompressed_bytes {
                Some(format!(
                    "a stream decompresses to more than {} bytes",
                    limits.max_stream_decompressed_bytes
                ))
            } else if total_out > limits.max_total_decompressed_bytes {
                Some(format!(
                    "the streams decompress to more than {} bytes",
                    limits.max_total_decompressed_bytes
                ))
            } else if total_out > RATIO_FLOOR
                && total_out / total_in.max(1) > limits.max_decompression_ratio
            {
                Some(format!(
                    "the streams decompress to more than {} times their size",
                    limits.max_decompression_ratio
                ))
            } else {
                None
            };
            if let Some(message) = over {
                facts.decompressed_bytes = total_out;
                findings.push(Finding::reject(
                    ReasonCode::DecompressionBomb,
                    format!("{message} (a decompression bomb)"),
                ));
                return Ok(());
            }
        }
    }
    facts.decompressed_bytes = total_out;
    Ok(())
}

fn is_flate(dict: &Dictionary) -> bool {
    let flate = |o: &Object| matches!(o.as_name(), Ok(b"FlateDecode" | b"Fl"));
    match dict.get(b"Filter") {
        Ok(Object::Array(filters)) => filters.first().is_some_and(flate),
        Ok(filter) => flate(filter),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests;
