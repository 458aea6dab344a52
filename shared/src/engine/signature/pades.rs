//! PAdES: finding a PDF's signatures and checking what each one's byte range covers.

use std::collections::HashSet;

use jiff::Timestamp;
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::cms::{self, SignedContent};
use super::revocation::{self, RevocationData};
use super::{
    Coverage, IssueCode, SignatureFormat, SignatureReport, SignatureVerdict, TrustAnchors,
    apply_cms, changes,
};
use crate::engine::hashing::HashCheckpoints;
use crate::engine::pdf::scan;

/// Deepest field hierarchy followed.
const MAX_FIELD_DEPTH: usize = 32;
/// Most signature fields checked in one file.
const MAX_SIGNATURES: usize = 64;
/// Largest signature (/Contents) read: a CMS with its chain and revocation data is tens of
/// KiB; more is refused before parsing.
const MAX_CONTENTS_BYTES: usize = 1024 * 1024;

/// A signature field as found in the file.
pub(crate) struct FoundSignature<'a> {
    pub name: String,
    pub dict: &'a Dictionary,
    /// The signature dictionary's own object, when it is indirect.
    pub id: Option<ObjectId>,
}

/// Checks every signature of a PDF. `anchors` decides trust; with none, a signature can be
/// intact and valid but never trusted. A file lopdf cannot load has no signatures to report
/// (the PDF engine rejects it on its own).
pub fn check_pdf_signatures(bytes: &[u8], anchors: &TrustAnchors) -> SignatureReport {
    check_pdf_signatures_resuming(bytes, anchors, None)
}

/// [`check_pdf_signatures`], resuming the document's own SHA-256 (`checkpoints`, taken when it
/// was hashed) for each signature's digest, so that the signatures cost less than hashing the
/// file again.
pub fn check_pdf_signatures_resuming(
    bytes: &[u8],
    anchors: &TrustAnchors,
    checkpoints: Option<&HashCheckpoints>,
) -> SignatureReport {
    check_pdf_signatures_of(bytes, None, anchors, checkpoints)
}

/// [`check_pdf_signatures_resuming`] on the document as the engine read it (`parsed`), when
/// it did, so that the file is not parsed a second time.
pub fn check_pdf_signatures_of(
    bytes: &[u8],
    parsed: Option<&crate::engine::pdf::Parsed>,
    anchors: &TrustAnchors,
    checkpoints: Option<&HashCheckpoints>,
) -> SignatureReport {
    let loaded;
    let document = match parsed {
        Some(parsed) => &parsed.0,
        None => match crate::engine::pdf::load_for_signatures(bytes) {
            Some(document) => {
                loaded = document;
                &loaded
            }
            None => return SignatureReport::from_signatures(Vec::new()),
        },
    };
    let found = find_signatures(document);
    if found.is_empty() {
        return SignatureReport::from_signatures(Vec::new());
    }
    let revisions = scan::revisions(bytes);
    let certification = certification_level(document);
    let document_revocation = dss_revocation(document, bytes);
    let mut verdicts: Vec<SignatureVerdict> = Vec::new();
    let mut verified = std::collections::BTreeSet::new();
    let mut seen_dicts: std::collections::HashMap<String, usize> = Default::default();
    let mut checked = 0;
    for signature in &found {
        // Several fields may share one signature dictionary: it is checked once, and reported
        // for each field (as pyHanko and poppler list it).
        let key = match signature.id {
            Some(id) => format!("{id:?}"),
            None => format!("{:?}", signature.dict.get(b"ByteRange").ok()),
        };
        if let Some(&first) = seen_dicts.get(&key) {
            let mut again = verdicts[first].clone();
            again.field = Some(signature.name.clone());
            verdicts.push(again);
            continue;
        }
        seen_dicts.insert(key, verdicts.len());
        checked += 1;
        if checked > MAX_SIGNATURES {
            let mut verdict = SignatureVerdict::new(SignatureFormat::Pades);
            verdict.field = Some(signature.name.clone());
            verdict.push(
                IssueCode::CmsUnreadable,
                format!("more than {MAX_SIGNATURES} signatures: the rest are not checked"),
            );
            verdicts.push(verdict);
            break;
        }
        let mut verdict = check_one(
            bytes,
            signature,
            &revisions,
            anchors,
            checkpoints,
            &document_revocation,
        );
        if let (Some((cert_id, level)), Some(id)) = (certification, signature.id) {
            if cert_id == id {
                verdict.docmdp = Some(level);
            }
        }
        if let Some(id) = signature.id.filter(|_| verdict.intact && verdict.valid) {
            verified.insert(id);
        }
        verdicts.push(verdict);
    }
    let mut diffs: std::collections::HashMap<usize, changes::Diff> =
        std::collections::HashMap::new();
    let mut usage = None;
    // Changes after each signed revision, judged against the strictest certification.
    let permission = certification.map(|(_, p)| p);
    for verdict in &mut verdicts {
        if verdict.coverage == Some(Coverage::Partial) {
            // What the range leaves out is not signed, so anything may have changed there.
            verdict.modification = Some(super::Modification::Disallowed);
            verdict.changes_allowed = Some(false);
            verdict
                .changes
                .push("parts of the file are not covered by the signature".into());
            continue;
        }
        let Some(revision) = verdict.revision else {
            continue;
        };
        let Some(end) = revisions.get(revision - 1).map(|r| r.end as usize) else {
            continue;
        };
        // Signatures closing the same revision share one comparison.
        let diff = diffs.entry(end).or_insert_with(|| {
            changes::classify(
                bytes, &revisions, document, &mut usage, end, permission, &verified,
            )
        });
        verdict.modification = Some(diff.level);
        verdict.changes_allowed = Some(diff.allowed);
        verdict.changes = diff.changes.clone();
        if !diff.allowed {
            verdict.push(
                IssueCode::DisallowedChange,
                "the document was changed after this signature in a way no permission allows",
            );
        } else if diff.level > super::Modification::None {
            verdict.push(
                IssueCode::ChangedAfterSigning,
                "the document was changed after this signature in an allowed way",
            );
        }
    }
    SignatureReport::from_signatures(verdicts)
}

fn check_one(
    bytes: &[u8],
    found: &FoundSignature<'_>,
    revisions: &[scan::Revision],
    anchors: &TrustAnchors,
    checkpoints: Option<&HashCheckpoints>,
    document_revocation: &RevocationData,
) -> SignatureVerdict {
    let dict = found.dict;
    let sub_filter = dict
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .ok()
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let is_timestamp = sub_filter.as_deref() == Some("ETSI.RFC3161")
        || dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"DocTimeStamp".as_slice());
    let mut verdict = SignatureVerdict::new(if is_timestamp {
        SignatureFormat::DocumentTimestamp
    } else {
        SignatureFormat::Pades
    });
    verdict.field = Some(found.name.clone());
    verdict.sub_filter = sub_filter.clone();
    if matches!(
        sub_filter.as_deref(),
        Some("adbe.pkcs7.sha1" | "adbe.x509.rsa_sha1")
    ) {
        verdict.push(
            IssueCode::WeakAlgorithm,
            format!(
                "the legacy sub-filter {} is deprecated",
                sub_filter.as_deref().unwrap_or_default()
            ),
        );
    }
    let contents = match dict.get(b"Contents") {
        Ok(Object::String(bytes, _)) if bytes.len() > MAX_CONTENTS_BYTES => {
            verdict.coverage = Some(Coverage::Partial);
            verdict.push(
                IssueCode::CmsUnreadable,
                format!("the signature is larger than {MAX_CONTENTS_BYTES} bytes"),
            );
            return verdict;
        }
        Ok(Object::String(bytes, _)) if !bytes.is_empty() => bytes.clone(),
        _ => {
            verdict.coverage = Some(Coverage::Partial);
            verdict.push(
                IssueCode::ContentsMissing,
                "the signature has no /Contents: there is no signature to check",
            );
            return verdict;
        }
    };
    // With an unusable range nothing is covered; the signature value is still checked, so the
    // verdict says exactly what is wrong.
    let ranges = match byte_range(dict, bytes.len()) {
        Ok(r) => r,
        Err(message) => {
            verdict.push(IssueCode::ByteRangeMalformed, message);
            Vec::new()
        }
    };
    let mut partial = ranges.is_empty();
    if let Some(&(start, _)) = ranges.first() {
        if start != 0 {
            partial = true;
            verdict.push(
                IssueCode::ByteRangeNotFromStart,
                "the signed range does not start at the beginning of the file",
            );
        }
    }
    // The one gap must be exactly this signature's /Contents: `<hex>` holding the same bytes.
    let gap_is_signature = match ranges.as_slice() {
        [(first_start, first_len), (second_start, _)] => {
            gap_is_contents(&bytes[first_start + first_len..*second_start], &contents)
        }
        _ => false,
    };
    if !ranges.is_empty() && !gap_is_signature {
        partial = true;
        verdict.push(
            IssueCode::ByteRangeGap,
            "the signed range leaves out more than the signature itself",
        );
    }
    let end = ranges.last().map_or(0, |&(start, len)| start + len);
    if !ranges.is_empty() {
        let revision = revisions.iter().position(|r| r.end as usize == end);
        verdict.revision = revision.map(|i| i + 1);
        if revision.is_none() {
            partial = true;
            verdict.push(
                IssueCode::ByteRangeNotAtRevisionEnd,
                "the signed range does not end where a revision of the file ends",
            );
        }
    }
    verdict.coverage = Some(if partial {
        Coverage::Partial
    } else if end == bytes.len() {
        Coverage::EntireFile
    } else {
        Coverage::EntireRevision
    });

    let signed = match cms::parse_signed_data(&contents) {
        Ok(s) => s,
        Err(issue) => {
            verdict.issues.push(issue);
            return verdict;
        }
    };
    let content = SignedContent::Ranges(bytes, &ranges, checkpoints);
    let checked = if is_timestamp {
        let stamp = cms::timestamp_over(&signed, &content);
        let mut checked = *stamp.cms;
        checked.intact = checked.intact && stamp.imprint_matches;
        if !stamp.imprint_matches {
            checked.issues.push(super::SignatureIssue {
                code: IssueCode::DigestMismatch,
                message: "the document timestamp does not match the signed bytes".into(),
            });
        }
        checked
    } else if sub_filter.as_deref() == Some("adbe.pkcs7.sha1") {
        // The legacy form signs a SHA-1 digest of the ranges, carried inside the CMS.
        let carried = cms::encapsulated(&signed).unwrap_or_default();
        let mut checked = cms::check(&signed, &SignedContent::Bytes(&carried));
        let matches = carried == content.digest(cms::DigestAlgorithm::Sha1);
        if !matches {
            checked.issues.push(super::SignatureIssue {
                code: IssueCode::DigestMismatch,
                message: "the signed bytes were changed: their SHA-1 differs from the one signed"
                    .into(),
            });
        }
        checked.intact = checked.intact && matches;
        checked
    } else {
        cms::check(&signed, &content)
    };
    let claimed = dict
        .get(b"M")
        .ok()
        .and_then(|m| m.as_str().ok())
        .and_then(pdf_date);
    apply_cms(&mut verdict, checked, anchors, claimed, document_revocation);
    verdict
}

/// The CRLs and OCSP responses of the document security store (ISO 32000-2 §12.8.4.3):
/// /DSS /CRLs and /OCSPs, and each VRI entry's /CRL and /OCSP.
fn dss_revocation(document: &Document, bytes: &[u8]) -> RevocationData {
    let mut data = RevocationData::default();
    let Some(dss) = document
        .catalog()
        .ok()
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(|d| resolve(document, d))
    else {
        return data;
    };
    let mut lists: Vec<(&Object, bool)> = Vec::new();
    for (key, is_crl) in [(b"CRLs".as_slice(), true), (b"OCSPs", false)] {
        if let Ok(list) = dss.get(key) {
            lists.push((list, is_crl));
        }
    }
    if let Some(vri) = dss.get(b"VRI").ok().and_then(|v| resolve(document, v)) {
        for (_, entry) in vri.iter().take(MAX_SIGNATURES * 4) {
            if let Some(entry) = resolve(document, entry) {
                for (key, is_crl) in [(b"CRL".as_slice(), true), (b"OCSP", false)] {
                    if let Ok(list) = entry.get(key) {
                        lists.push((list, is_crl));
                    }
                }
            }
        }
    }
    let mut seen = HashSet::new();
    for (list, is_crl) in lists {
        for item in array(document, list).into_iter().flatten() {
            let Ok(id) = item.as_reference() else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            if let Some(content) = stream_data(document, bytes, id) {
                if is_crl {
                    data.add_crl(&content);
                } else {
                    data.add_ocsp(&content);
                }
            }
        }
    }
    data
}

/// A stream's data, decoded when it is Flate-compressed (as DSS streams are), at most
/// [`revocation::MAX_ITEM_BYTES`]. A stream the engine did not keep (it drops large ones
/// after measuring them) is read again from the file.
fn stream_data(document: &Document, bytes: &[u8], id: ObjectId) -> Option<Vec<u8>> {
    use std::io::Read;
    let stream = document.get_object(id).ok()?.as_stream().ok()?;
    let raw: &[u8] = if stream.content.is_empty() {
        let start = stream.start_position?;
        let length = usize::try_from(stream.dict.get(b"Length").ok()?.as_i64().ok()?).ok()?;
        bytes.get(start..start.checked_add(length)?)?
    } else {
        &stream.content
    };
    let limit = revocation::MAX_ITEM_BYTES;
    match stream.dict.get(b"Filter").ok() {
        None => (raw.len() <= limit).then(|| raw.to_vec()),
        Some(filter) => {
            let name = match filter {
                Object::Array(items) if items.len() == 1 => items[0].as_name().ok()?,
                other => other.as_name().ok()?,
            };
            if name != b"FlateDecode" && name != b"Fl" {
                return None;
            }
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(raw)
                .take(u64::try_from(limit).ok()? + 1)
                .read_to_end(&mut out)
                .ok()?;
            (out.len() <= limit).then_some(out)
        }
    }
}

/// The ranges of a /ByteRange (normally two, around the signature), checked to be
/// non-empty, in ascending order without overlap, and inside the file.
fn byte_range(dict: &Dictionary, len: usize) -> Result<Vec<(usize, usize)>, String> {
    let items = match dict.get(b"ByteRange") {
        Ok(Object::Array(items)) => items,
        Ok(_) => return Err("the /ByteRange is not an array".into()),
        Err(_) => return Err("the signature has no /ByteRange".into()),
    };
    let numbers: Vec<usize> = items
        .iter()
        .filter_map(|o| o.as_i64().ok())
        .filter_map(|n| usize::try_from(n).ok())
        .collect();
    // One pair is a range too (it leaves out the signature and all after it: partial).
    if numbers.len() != items.len() || numbers.len() < 2 || numbers.len() % 2 != 0 {
        return Err("the /ByteRange is not pairs of non-negative integers".into());
    }
    let mut ranges = Vec::new();
    let mut previous_end = 0usize;
    for pair in numbers.chunks_exact(2) {
        let (start, length) = (pair[0], pair[1]);
        let end = start.checked_add(length).filter(|&e| e <= len);
        match end {
            Some(end) if length > 0 && (ranges.is_empty() || start > previous_end) => {
                ranges.push((start, length));
                previous_end = end;
            }
            _ => {
                return Err(format!(
                    "the /ByteRange {numbers:?} does not describe ascending ranges of this file"
                ));
            }
        }
    }
    Ok(ranges)
}

fn gap_is_contents(gap: &[u8], contents: &[u8]) -> bool {
    let Some(hex_text) = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">")) else {
        return false;
    };
    let digits: Vec<u8> = hex_text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if digits.len() % 2 != 0 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    hex::decode(&digits).is_ok_and(|decoded| decoded == contents)
}

/// A PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`) as an instant.
fn pdf_date(text: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_prefix("D:").unwrap_or(text);
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 14 {
        return None;
    }
    let rest = &text[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let parts: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = parts.get(0..2)?.parse().ok()?;
            let minutes: i32 = parts.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = hours * 3600 + minutes * 60;
            format!("{sign}{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
        }
        _ => "+00:00".into(),
    };
    let iso = format!(
        "{}-{}-{}T{}:{}:{}{}",
        &digits[0..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..10],
        &digits[10..12],
        &digits[12..14],
        offset
    );
    iso.parse().ok()
}

/// The certification signature (catalog /Perms /DocMDP) and its permission level P.
fn certification_level(document: &Document) -> Option<(ObjectId, u8)> {
    let catalog = document.catalog().ok()?;
    let perms = resolve(document, catalog.get(b"Perms").ok()?)?;
    let id = perms.get(b"DocMDP").ok()?.as_reference().ok()?;
    let sig = document.get_dictionary(id).ok()?;
    let level = sig
        .get(b"Reference")
        .and_then(Object::as_array)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|r| resolve(document, r))
        .filter(|r| r.get(b"TransformMethod").and_then(Object::as_name).ok() == Some(b"DocMDP"))
        .find_map(|r| {
            let params = resolve(document, r.get(b"TransformParams").ok()?)?;
            params.get(b"P").and_then(Object::as_i64).ok()
        })
        .unwrap_or(2);
    Some((id, u8::try_from(level.clamp(1, 3)).unwrap_or(2)))
}

pub(crate) fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Reference(id) => document.get_dictionary(*id).ok(),
        _ => None,
    }
}

/// An array, direct or through one reference.
pub(crate) fn array<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Vec<Object>> {
    match object {
        Object::Array(items) => Some(items),
        Object::Reference(id) => document.get_object(*id).and_then(Object::as_array).ok(),
        _ => None,
    }
}

fn name_of<'a>(document: &'a Document, object: &'a Object) -> Option<&'a [u8]> {
    match object {
        Object::Reference(id) => document.get_object(*id).and_then(Object::as_name).ok(),
        other => other.as_name().ok(),
    }
}

/// A text string (a field's /T), decoded: UTF-16 with its byte-order mark, UTF-8 with its own,
/// else PDFDocEncoding.
fn text(document: &Document, object: &Object) -> Option<String> {
    let object = match object {
        Object::Reference(id) => document.get_object(*id).ok()?,
        other => other,
    };
    lopdf::decode_text_string(object).ok().or_else(|| {
        object
            .as_str()
            .ok()
            .map(|t| String::from_utf8_lossy(t).into_owned())
    })
}

/// Every signature field with a value, in the order of the form's field tree.
fn find_signatures(document: &Document) -> Vec<FoundSignature<'_>> {
    let mut out = Vec::new();
    let Some(form) = document
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| resolve(document, f))
    else {
        return out;
    };
    // /Fields, like /Kids, may be an indirect array (`/Fields 12 0 R`): a form read only
    // through direct arrays misses every signature of such a file.
    let Some(fields) = form.get(b"Fields").ok().and_then(|f| array(document, f)) else {
        return out;
    };
    let mut seen = HashSet::new();
    let mut stack: Vec<(&Object, String, bool, usize)> = fields
        .iter()
        .rev()
        .map(|f| (f, String::new(), false, 0))
        .collect();
    while let Some((object, parent_name, parent_sig, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH {
            continue;
        }
        if let Object::Reference(id) = object {
            if !seen.insert(*id) {
                continue;
            }
        }
        let Some(field) = resolve(document, object) else {
            continue;
        };
        let partial = field.get(b"T").ok().and_then(|t| text(document, t));
        let name = match (&partial, parent_name.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent_name}.{p}"),
            (None, _) => parent_name.clone(),
        };
        // /FT is inheritable: a kid without one has its parent's type.
        let is_sig = match field.get(b"FT").ok().and_then(|ft| name_of(document, ft)) {
            Some(ft) => ft == b"Sig",
            None => parent_sig,
        };
        if is_sig {
            if let Ok(value) = field.get(b"V") {
                let id = value.as_reference().ok();
                if let Some(dict) = resolve(document, value) {
                    out.push(FoundSignature {
                        name: name.clone(),
                        dict,
                        id,
                    });
                }
            }
        }
        if let Some(kids) = field.get(b"Kids").ok().and_then(|k| array(document, k)) {
            for kid in kids.iter().rev() {
                stack.push((kid, name.clone(), is_sig, depth + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn pdf_dates_with_and_without_offsets() {
        assert_eq!(
            pdf_date(b"D:20261125101500+01'00'").map(|t| t.to_string()),
            Some("2026-11-25T09:15:00Z".into())
        );
        assert_eq!(
            pdf_date(b"D:20261125101500Z").map(|t| t.to_string()),
            Some("2026-11-25T10:15:00Z".into())
        );
        assert_eq!(pdf_date(b"D:2026"), None);
        assert_eq!(pdf_date(b"garbage"), None);
    }

    #[test]
    fn the_gap_must_be_exactly_the_contents() {
        assert!(gap_is_contents(b"<0a0B>", &[0x0a, 0x0b]));
        assert!(!gap_is_contents(b"<0a0B>", &[0x0a]));
        assert!(!gap_is_contents(b"<0a0B> 1 0 obj", &[0x0a, 0x0b]));
        assert!(!gap_is_contents(b"0a0B", &[0x0a, 0x0b]));
    }
}
