//! What changed in a PDF after a signed revision, and whether it was allowed.
//!
//! Every object the later revisions (re)define is examined, whatever its value: the
//! incremental saving, shadow (hide, replace, hide-and-replace) and wrapping attacks all work
//! by redefining objects a viewer shows, so anything that is not on a short list of allowed
//! kinds (a new signature, validation data, a filled-in field, an annotation, their
//! appearances) is disallowed. Bytes after the last revision are disallowed too: a repairing
//! viewer may show objects appended without a cross-reference section.

use std::collections::{BTreeSet, HashMap};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::Modification;
use super::pades::resolve;

/// Most changes listed in words (all are judged).
const MAX_LISTED: usize = 20;
/// Deepest nesting followed when collecting references.
const MAX_DEPTH: usize = 32;

/// The changes after one signed revision.
#[derive(Debug, Clone)]
pub(crate) struct Diff {
    pub level: Modification,
    pub allowed: bool,
    pub changes: Vec<String>,
}

struct Collector {
    level: Modification,
    changes: Vec<String>,
}

impl Collector {
    fn note(&mut self, level: Modification, what: String) {
        self.level = self.level.max(level);
        if self.changes.len() < MAX_LISTED {
            self.changes.push(what);
        }
    }
}

/// The most a signature with DocMDP permission `p` allows after it. Without a certification,
/// as with P=2: annotations can cover what was signed (a white comment box over an amount),
/// so, as pyHanko does, only P=3 allows them.
fn permitted(p: Option<u8>) -> Modification {
    match p {
        Some(1) => Modification::ValidationData,
        Some(3) => Modification::Annotations,
        _ => Modification::FormFilling,
    }
}

/// Compares the file `bytes` (loaded as `document`) with its revision ending at `signed_end`;
/// `usage` keeps [`Usage`] between the revisions of one file.
pub(crate) fn classify(
    bytes: &[u8],
    revisions: &[crate::engine::pdf::scan::Revision],
    document: &Document,
    usage: &mut Option<Usage>,
    signed_end: usize,
    docmdp: Option<u8>,
    verified: &BTreeSet<ObjectId>,
) -> Diff {
    let mut out = Collector {
        level: Modification::None,
        changes: Vec::new(),
    };
    let diff = |out: Collector| Diff {
        allowed: out.level <= permitted(docmdp),
        level: out.level,
        changes: out.changes,
    };
    if signed_end >= bytes.len() {
        return diff(out);
    }
    let last_end = revisions.last().map_or(0, |r| r.end as usize);
    if bytes
        .get(last_end..)
        .is_some_and(|rest| rest.iter().any(|b| !b.is_ascii_whitespace() && *b != 0))
    {
        out.note(
            Modification::Disallowed,
            "data appended after the last revision, outside any cross-reference section".into(),
        );
    }
    if last_end <= signed_end {
        return diff(out);
    }
    let Some(signed) = bytes
        .get(..signed_end)
        .and_then(crate::engine::pdf::load_for_signatures)
    else {
        out.note(
            Modification::Disallowed,
            "the signed revision cannot be read on its own".into(),
        );
        return diff(out);
    };

    // A later revision must point at its own cross-reference section: a %%EOF after objects
    // whose startxref points back into an earlier revision makes those objects an update that
    // only a repairing viewer sees.
    for revision in revisions.iter().filter(|r| r.start as usize >= signed_end) {
        let (start, end) = (revision.start as usize, revision.end as usize);
        let own = crate::engine::pdf::scan::startxref_before(bytes, end)
            .is_some_and(|offset| offset >= start && offset < end);
        if !own {
            out.note(
                Modification::Disallowed,
                "an update whose startxref points outside itself".into(),
            );
        }
    }
    // A new catalog object is judged against the signed one (below); a changed /Encrypt is
    // a different document.
    let signed_root = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    if signed_root.is_none() {
        out.note(
            Modification::Disallowed,
            "the signed revision has no catalog".into(),
        );
    }
    for key in [b"Encrypt".as_slice()] {
        if signed.trailer.get(key).ok() != document.trailer.get(key).ok() {
            out.note(
                Modification::Disallowed,
                format!("the trailer's /{} changed", String::from_utf8_lossy(key)),
            );
        }
    }
    if signed.trailer.get(b"Info").ok() != document.trailer.get(b"Info").ok() {
        out.note(
            Modification::ValidationData,
            "document information changed".into(),
        );
    }
    let touched = touched_objects(document, &signed, signed_end);
    if touched.is_empty() {
        return diff(out);
    }

    // How the final file uses its objects is the same for every signed revision: worked out
    // once, and only when a revision follows one.
    let usage = usage.get_or_insert_with(|| Usage::of(document));
    let (reachable, referrers) = (&usage.reachable, &usage.referrers);
    // The document information dictionary, as either revision names it.
    let info: BTreeSet<ObjectId> = [&signed.trailer, &document.trailer]
        .iter()
        .filter_map(|t| t.get(b"Info").and_then(Object::as_reference).ok())
        .collect();
    let root = document
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let form_id = root
        .and_then(|r| document.get_dictionary(r).ok())
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| f.as_reference().ok());
    let dss = root
        .and_then(|r| document.get_dictionary(r).ok())
        .and_then(|c| c.get(b"DSS").ok())
        .map(|dss| dss_parts(document, dss))
        .unwrap_or_default();
    let signed_form = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok()
        .and_then(|r| signed.get_dictionary(r).ok())
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| resolve(&signed, f));

    let memo = std::cell::RefCell::new(HashMap::new());
    for id in &touched {
        let Ok(new) = document.get_object(*id) else {
            out.note(Modification::Disallowed, format!("object {} removed", id.0));
            continue;
        };
        if !reachable.contains(id) {
            out.note(
                Modification::None,
                format!("object {}: not used by the document", id.0),
            );
            continue;
        }
        let old = if Some(*id) == root && root != signed_root {
            signed_root.and_then(|r| signed.objects.get(&r))
        } else {
            signed.objects.get(id)
        };
        // A rewrite that changes nothing (`612.0` for `612`, the same stream again) is no
        // change; streams count as equal only when both contents were kept (large ones are
        // not).
        if old.is_some_and(|old| same(old, new)) {
            continue;
        }
        let (level, what) = judge(
            document,
            &signed,
            *id,
            new,
            old,
            Roles {
                root,
                form: form_id,
                signed_form,
                dss: &dss,
                referrers,
                verified,
                info: &info,
                memo: &memo,
            },
        );
        out.note(level, what);
    }
    diff(out)
}

/// Objects the later revisions define: whose cross-reference entry changed or whose final
/// location lies past the signed revision, which the signed revision did not have, or which
/// it had and the file no longer has. An entry re-pointed at an older definition counts too.
fn touched_objects(
    document: &Document,
    signed: &Document,
    signed_end: usize,
) -> BTreeSet<ObjectId> {
    use lopdf::xref::XrefEntry;
    let location = |doc: &Document, number: u32| match doc.reference_table.get(number) {
        Some(XrefEntry::Normal { offset, generation }) => Some((0u8, *offset, *generation)),
        Some(XrefEntry::Compressed { container, index }) => Some((1u8, *container, *index)),
        _ => None,
    };
    let offset_of = |number: u32| match document.reference_table.get(number) {
        Some(XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
        Some(XrefEntry::Compressed { container, .. }) => {
            match document.reference_table.get(*container) {
                Some(XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
                _ => None,
            }
        }
        _ => None,
    };
    let mut touched = BTreeSet::new();
    for id in document.objects.keys() {
        let moved = offset_of(id.0).is_some_and(|offset| offset >= signed_end);
        let repointed = location(document, id.0) != location(signed, id.0);
        if moved || repointed || !signed.objects.contains_key(id) {
            touched.insert(*id);
        }
    }
    for id in signed.objects.keys() {
        if !document.objects.contains_key(id) {
            touched.insert(*id);
        }
    }
    touched
}

/// How the final document uses its objects: which the trailer leads to, and who refers to
/// each. It depends on the final file only, so it is computed once for all its signatures.
pub(crate) struct Usage {
    /// Every object a path from the trailer reaches. What no path reaches is shown by no
    /// viewer: objects an earlier update left behind (a superseded DSS and its VRI entries)
    /// refer to each other, and must not make their targets look used.
    reachable: BTreeSet<ObjectId>,
    /// For each object: the reachable objects that refer to it, with the top-level key they
    /// refer to it under (empty for an array), and the trailer as pseudo-object 0 0.
    referrers: HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>>,
}

impl Usage {
    /// The usage of `document`'s objects.
    pub(crate) fn of(document: &Document) -> Usage {
        let mut reachable = BTreeSet::new();
        let mut queue: Vec<ObjectId> = references_in(document.trailer.iter().map(|(_, v)| v));
        while let Some(id) = queue.pop() {
            if !reachable.insert(id) {
                continue;
            }
            let Ok(object) = document.get_object(id) else {
                continue;
            };
            let found = match object {
                Object::Stream(stream) => references_in(stream.dict.iter().map(|(_, v)| v)),
                other => references_in(std::iter::once(other)),
            };
            queue.extend(found.into_iter().filter(|id| !reachable.contains(id)));
        }
        let mut referrers: HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>> = HashMap::new();
        // An object the trailer names besides /Root and /Info is used in ways no role here
        // accounts for (pseudo-object 0 0 is never a dictionary).
        for (key, value) in document.trailer.iter() {
            if matches!(key.as_slice(), b"Root" | b"Info" | b"Prev" | b"XRefStm") {
                continue;
            }
            for target in references_in(std::iter::once(value)) {
                referrers
                    .entry(target)
                    .or_default()
                    .push(((0, 0), key.clone()));
            }
        }
        for from in &reachable {
            let Ok(object) = document.get_object(*from) else {
                continue;
            };
            let dict = match object {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                Object::Array(items) => {
                    for target in references_in(items.iter()) {
                        referrers
                            .entry(target)
                            .or_default()
                            .push((*from, Vec::new()));
                    }
                    continue;
                }
                _ => continue,
            };
            for (key, value) in dict.iter() {
                for target in references_in(std::iter::once(value)) {
                    referrers
                        .entry(target)
                        .or_default()
                        .push((*from, key.clone()));
                }
            }
        }
        Usage {
            reachable,
            referrers,
        }
    }
}

fn references_in<'a>(start: impl Iterator<Item = &'a Object>) -> Vec<ObjectId> {
    let mut found = Vec::new();
    let mut stack: Vec<(&Object, usize)> = start.map(|o| (o, 0)).collect();
    while let Some((object, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        match object {
            Object::Reference(id) => found.push(*id),
            Object::Array(items) => stack.extend(items.iter().map(|o| (o, depth + 1))),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, o)| (o, depth + 1))),
            _ => {}
        }
    }
    found
}

struct Roles<'a> {
    root: Option<ObjectId>,
    form: Option<ObjectId>,
    /// The form dictionary of the signed revision.
    signed_form: Option<&'a Dictionary>,
    dss: &'a DssParts,
    referrers: &'a HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>>,
    /// The signature dictionaries that were verified.
    verified: &'a BTreeSet<ObjectId>,
    /// The document information dictionary.
    info: &'a BTreeSet<ObjectId>,
    /// The roles of appearance parts already worked out (a shared font is asked about once
    /// per referrer).
    memo: &'a std::cell::RefCell<HashMap<ObjectId, Option<Modification>>>,
}

/// The document security store: its dictionaries (DSS, VRI) and the streams it lists
/// directly (certificates, OCSP responses, CRLs, timestamps). Only these, and nothing they
/// reference further, count as validation data.
#[derive(Debug, Default)]
struct DssParts {
    dictionaries: BTreeSet<ObjectId>,
    members: BTreeSet<ObjectId>,
}

fn dss_parts(document: &Document, dss: &Object) -> DssParts {
    let mut parts = DssParts::default();
    if let Ok(id) = dss.as_reference() {
        parts.dictionaries.insert(id);
    }
    let Some(dict) = resolve(document, dss) else {
        return parts;
    };
    let list = |value: Option<&Object>, parts: &mut DssParts| {
        let items = match value {
            Some(Object::Array(items)) => Some(items),
            Some(Object::Reference(id)) => {
                // An indirect array of the store is part of its structure.
                parts.dictionaries.insert(*id);
                document.get_object(*id).and_then(Object::as_array).ok()
            }
            _ => None,
        };
        parts.members.extend(
            items
                .into_iter()
                .flatten()
                .filter_map(|o| o.as_reference().ok()),
        );
    };
    for key in [b"Certs".as_slice(), b"OCSPs", b"CRLs"] {
        list(dict.get(key).ok(), &mut parts);
    }
    if let Ok(vri) = dict.get(b"VRI") {
        if let Ok(id) = vri.as_reference() {
            parts.dictionaries.insert(id);
        }
        if let Some(vri) = resolve(document, vri) {
            for (_, entry) in vri.iter() {
                if let Ok(id) = entry.as_reference() {
                    parts.dictionaries.insert(id);
                }
                if let Some(entry) = resolve(document, entry) {
                    for key in [b"Cert".as_slice(), b"OCSP", b"CRL"] {
                        list(entry.get(key).ok(), &mut parts);
                    }
                    if let Ok(id) = entry.get(b"TS").and_then(Object::as_reference) {
                        parts.members.insert(id);
                    }
                }
            }
        }
    }
    parts
}

fn name<'a>(dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    dict.get(key).and_then(Object::as_name).ok()
}

fn dict_of(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// Whether two objects say the same: numbers by value (`612` and `612.0`), names, strings,
/// references and containers element by element, streams by dictionary and kept content.
fn same(a: &Object, b: &Object) -> bool {
    same_at(a, b, 0)
}

fn same_at(a: &Object, b: &Object, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let number = |o: &Object| match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    };
    match (a, b) {
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_at(x, y, depth + 1))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => same_dict(x, y, depth),
        (Object::Stream(x), Object::Stream(y)) => {
            same_dict(&x.dict, &y.dict, depth) && x.content == y.content && !x.content.is_empty()
        }
        (Object::Integer(_) | Object::Real(_), Object::Integer(_) | Object::Real(_)) => number(a)
            .zip(number(b))
            .is_some_and(|(x, y)| (x - y).abs() < 1e-6),
        (Object::String(x, _), Object::String(y, _)) => x == y,
        _ => a == b,
    }
}

fn same_dict(x: &Dictionary, y: &Dictionary, depth: usize) -> bool {
    // /Length is how the bytes were written, not what they say.
    let keys = |d: &Dictionary| d.iter().filter(|(k, _)| k.as_slice() != b"Length").count();
    keys(x) == keys(y)
        && x.iter()
            .filter(|(k, _)| k.as_slice() != b"Length")
            .all(|(k, v)| y.get(k).is_ok_and(|w| same_at(v, w, depth + 1)))
}

/// Keys whose values differ between two dictionaries (added, removed or changed).
fn changed_keys(old: Option<&Dictionary>, new: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = new
        .iter()
        .filter(|(k, v)| !old.and_then(|o| o.get(k).ok()).is_some_and(|o| same(o, v)))
        .map(|(k, _)| k.clone())
        .collect();
    if let Some(old) = old {
        keys.extend(
            old.iter()
                .filter(|(k, _)| !new.has(k))
                .map(|(k, _)| k.clone()),
        );
    }
    keys
}

fn keys_text(keys: &[Vec<u8>]) -> String {
    keys.iter()
        .map(|k| format!("/{}", String::from_utf8_lossy(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_signature_field(document: &Document, dict: &Dictionary) -> bool {
    let mut current = Some(dict);
    for _ in 0..MAX_DEPTH {
        let Some(field) = current else { break };
        if let Some(ft) = name(field, b"FT") {
            return ft == b"Sig";
        }
        current = field.get(b"Parent").ok().and_then(|p| resolve(document, p));
    }
    false
}

fn is_field(dict: &Dictionary) -> bool {
    dict.has(b"FT")
        || name(dict, b"Subtype") == Some(b"Widget")
        || (dict.has(b"T") && dict.has(b"Parent"))
}

fn is_annotation(dict: &Dictionary) -> bool {
    name(dict, b"Type") == Some(b"Annot") || (dict.has(b"Subtype") && dict.has(b"Rect"))
}

fn judge(
    document: &Document,
    signed: &Document,
    id: ObjectId,
    new: &Object,
    old: Option<&Object>,
    roles: Roles<'_>,
) -> (Modification, String) {
    use Modification::{Annotations, Disallowed, FormFilling, Signatures, ValidationData};
    let n = id.0;
    let added = old.is_none();
    // A part of the security store is validation data only while nothing else uses it: an
    // object that a page also shows is page content, whatever the store says.
    let only_in_store = roles.referrers.get(&id).is_none_or(|from| {
        from.iter().all(|(parent, key)| {
            roles.dss.dictionaries.contains(parent)
                || (Some(*parent) == roles.root && key.as_slice() == b"DSS")
        })
    });
    if only_in_store
        && (roles.dss.dictionaries.contains(&id) || (added && roles.dss.members.contains(&id)))
    {
        return (ValidationData, format!("validation data (object {n})"));
    }
    if roles.info.contains(&id) {
        // Shown by no viewer as page content; pyHanko and DSS allow it as well.
        return (ValidationData, format!("document information (object {n})"));
    }
    if let Object::Array(items) = new {
        let before = references_of(old.and_then(|o| o.as_array().ok()));
        let after = references_of(Some(items));
        let from = roles
            .referrers
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The form's /Fields, or a page's /Annots, held in an array object of its own.
        let fields_of_form = !from.is_empty()
            && from
                .iter()
                .all(|(parent, key)| Some(*parent) == roles.form && key.as_slice() == b"Fields");
        if fields_of_form {
            return fields_change(document, &before, &after, roles.verified);
        }
        let annots_of_pages = !from.is_empty()
            && from.iter().all(|(parent, key)| {
                key.as_slice() == b"Annots"
                    && document
                        .get_dictionary(*parent)
                        .is_ok_and(|p| name(p, b"Type") == Some(b"Page"))
            });
        if annots_of_pages {
            let level = annotations_change(document, signed, &before, &after, &roles);
            return (level, format!("annotations of a page (array {n}) changed"));
        }
        // The widgets of a signature field, held in an array object of its own.
        let kids_of_signature = !from.is_empty()
            && from.iter().all(|(parent, key)| {
                key.as_slice() == b"Kids"
                    && document
                        .get_dictionary(*parent)
                        .is_ok_and(|p| is_signature_field(document, p))
            });
        if kids_of_signature && before.is_subset(&after) {
            let level = from
                .iter()
                .filter_map(|(parent, _)| document.get_dictionary(*parent).ok())
                .map(|p| signature_field_level(document, p, roles.verified))
                .max()
                .unwrap_or(FormFilling);
            return (level, format!("widgets of a signature field (array {n})"));
        }
    }
    let Some(dict) = dict_of(new) else {
        // A bare number, array or name redefined: only harmless when nothing signed uses it.
        return if added && !roles.referrers.contains_key(&id) {
            (Signatures, format!("object {n} added, unused"))
        } else {
            (Disallowed, format!("object {n} replaced"))
        };
    };
    let old_dict = old.and_then(dict_of);
    if matches!(name(dict, b"Type"), Some(b"XRef" | b"ObjStm"))
        && added
        && !roles.referrers.contains_key(&id)
    {
        return (
            Modification::None,
            format!("object {n}: cross-reference data"),
        );
    }
    if is_signature_dict(dict) && added {
        // A signature dictionary counts as a signature only when it was verified itself.
        return if !roles.verified.contains(&id) {
            (FormFilling, format!("unverified signature data {n} added"))
        } else if is_document_timestamp(dict) {
            (ValidationData, format!("document timestamp {n} added"))
        } else {
            (Signatures, format!("signature {n} added"))
        };
    }
    if is_signature_dict(dict) {
        return (Disallowed, format!("signature {n} replaced"));
    }
    if name(dict, b"Type") == Some(b"Metadata") {
        // XMP metadata is not shown; it is harmless only where nothing else uses the object.
        let only_metadata = roles.referrers.get(&id).is_none_or(|from| {
            from.iter()
                .all(|(parent, key)| Some(*parent) == roles.root && key.as_slice() == b"Metadata")
        });
        if only_metadata {
            return (ValidationData, format!("document metadata (object {n})"));
        }
    }
    if Some(id) == roles.root {
        let keys = changed_keys(old_dict, dict);
        let forbidden: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| {
                !matches!(
                    k.as_slice(),
                    b"AcroForm" | b"DSS" | b"Extensions" | b"Version" | b"Metadata"
                )
            })
            .cloned()
            .collect();
        if !forbidden.is_empty() {
            return (
                Disallowed,
                format!("catalog changed: {}", keys_text(&forbidden)),
            );
        }
        // A form held directly in the catalog is judged as a form.
        let mut level = ValidationData;
        if let Ok(Object::Dictionary(form)) = dict.get(b"AcroForm") {
            if keys.iter().any(|k| k.as_slice() == b"AcroForm") {
                let (form_level, what) =
                    judge_form(document, signed, roles.signed_form, form, roles.verified);
                if form_level == Disallowed {
                    return (Disallowed, what);
                }
                level = level.max(form_level);
            }
        }
        return (level, format!("catalog: {}", keys_text(&keys)));
    }
    if Some(id) == roles.form {
        return judge_form(document, signed, roles.signed_form, dict, roles.verified);
    }
    if name(dict, b"Type") == Some(b"Page") && !added {
        let keys = changed_keys(old_dict, dict);
        if keys.iter().any(|k| k.as_slice() != b"Annots") {
            return (
                Disallowed,
                format!("page object {n} changed: {}", keys_text(&keys)),
            );
        }
        let before = annotation_ids(signed, old_dict);
        let after = annotation_ids(document, Some(dict));
        let level = annotations_change(document, signed, &before, &after, &roles);
        return (level, format!("page object {n}: annotations changed"));
    }
    if matches!(name(dict, b"Type"), Some(b"Page" | b"Pages")) {
        // iText marks the root of the page tree with its version (/ITXT) when it signs: a
        // producer's note, shown nowhere.
        let keys = changed_keys(old_dict, dict);
        if !added && !keys.is_empty() && keys.iter().all(|k| k.as_slice() == b"ITXT") {
            return (
                ValidationData,
                format!("page tree object {n}: producer's /ITXT"),
            );
        }
        return (Disallowed, format!("page tree object {n} added or changed"));
    }
    if is_field(dict) && (added || old_dict.is_some_and(is_field)) {
        // A widget listed in a signature field's /Kids without a /Parent of its own is that
        // field's widget all the same.
        let field_of_kid = signature_field_of_kid(document, id, &roles);
        let signature = is_signature_field(document, dict) || field_of_kid.is_some();
        if added {
            return if signature {
                (
                    signature_field_level(document, field_of_kid.unwrap_or(dict), roles.verified),
                    format!("signature field {n} added"),
                )
            } else {
                (Disallowed, format!("form field {n} added"))
            };
        }
        // Signing a field fills its /V once; replacing a signature is not allowed.
        let old_value = old_dict.and_then(|o| o.get(b"V").ok());
        if signature && old_value.is_some() && old_value != dict.get(b"V").ok() {
            return (Disallowed, format!("the signature of field {n} replaced"));
        }

        let keys = changed_keys(old_dict, dict);
        let forbidden: Vec<&Vec<u8>> = keys
            .iter()
            .filter(|k| {
                // Signing may also set a signature widget's flags (to print it).
                let signing = signature && k.as_slice() == b"F";
                !(matches!(k.as_slice(), b"V" | b"AP" | b"AS" | b"M" | b"Kids") || signing)
            })
            .collect();
        if !forbidden.is_empty() {
            return (
                Disallowed,
                format!("form field {n} changed: {}", keys_text(&keys)),
            );
        }
        return if signature {
            (
                signature_field_level(document, dict, roles.verified),
                format!("signature field {n} signed"),
            )
        } else {
            (FormFilling, format!("form field {n} filled in"))
        };
    }
    if is_annotation(dict) && (added || old_dict.is_some_and(is_annotation)) {
        return (Annotations, format!("annotation {n} added or changed"));
    }
    // Anything else (a stream, a font, an XObject): allowed only as the appearance of a changed
    // annotation or field, as a resource of the form, or as a part of either.
    if roles.referrers.contains_key(&id) {
        return match resource_role(document, signed, id, &roles, 0) {
            Some(level) => (level, format!("appearance object {n}")),
            None => (Disallowed, format!("object {n} replaced or revived")),
        };
    }
    if added {
        (Modification::None, format!("object {n} added, unused"))
    } else {
        (Disallowed, format!("object {n} replaced"))
    }
}

/// Deepest chain of appearance parts followed (an /AP dictionary, its /N stream, that
/// stream's resources, their fonts).
const MAX_RESOURCE_DEPTH: usize = 8;

/// The role of an object the later revisions define, from everything that refers to it: the
/// appearance (/AP) of a changed field or annotation, the form's resources (/DR), or a part
/// of such an appearance or resource that itself changed. `None` when anything else refers
/// to it: then it changes what was signed.
fn resource_role(
    document: &Document,
    signed: &Document,
    id: ObjectId,
    roles: &Roles<'_>,
    depth: usize,
) -> Option<Modification> {
    if depth > MAX_RESOURCE_DEPTH {
        return None;
    }
    if let Some(known) = roles.memo.borrow().get(&id) {
        return *known;
    }
    // A cycle back to this object explains nothing.
    roles.memo.borrow_mut().insert(id, None);
    let role = resource_role_uncached(document, signed, id, roles, depth);
    roles.memo.borrow_mut().insert(id, role);
    role
}

fn resource_role_uncached(
    document: &Document,
    signed: &Document,
    id: ObjectId,
    roles: &Roles<'_>,
    depth: usize,
) -> Option<Modification> {
    let from = roles.referrers.get(&id)?;
    let mut level: Option<Modification> = None;
    for (parent, key) in from {
        let parent_object = document.objects.get(parent)?;
        let parent_dict = dict_of(parent_object)?;
        let parent_changed = !signed
            .objects
            .get(parent)
            .is_some_and(|old| same(old, parent_object));
        let role = if key.as_slice() == b"AP" && parent_changed {
            if is_signature_field(document, parent_dict) {
                Some(signature_field_level(document, parent_dict, roles.verified))
            } else if let Some(field) = signature_field_of_kid(document, *parent, roles) {
                Some(signature_field_level(document, field, roles.verified))
            } else if is_field(parent_dict) {
                Some(Modification::FormFilling)
            } else if is_annotation(parent_dict) {
                Some(Modification::Annotations)
            } else {
                None
            }
        } else if key.as_slice() == b"DR" && Some(*parent) == roles.form {
            Some(resources_level(Some(parent_dict)))
        } else if key.as_slice() == b"AcroForm"
            && Some(*parent) == roles.root
            && form_resource(parent_dict, id)
        {
            Some(resources_level(
                parent_dict
                    .get(b"AcroForm")
                    .ok()
                    .and_then(|f| f.as_dict().ok()),
            ))
        } else if key.as_slice() == b"Extensions" && Some(*parent) == roles.root {
            // The catalog's developer extensions (ISO 32000-2 §7.12) declare, show nothing.
            Some(Modification::ValidationData)
        } else if is_part(document, parent_dict, *parent, roles) {
            // A part of a part (a font of a resource dictionary of an appearance stream of an
            // /AP dictionary): what its parent is, changed or not.
            resource_role(document, signed, *parent, roles, depth + 1)
        } else {
            None
        };
        let role = role?;
        level = Some(level.map_or(role, |l| l.max(role)));
    }
    level
}

/// A signature dictionary: typed /Sig or /DocTimeStamp, or untyped with what one holds (the
/// type is optional in ISO 32000-1).
fn is_signature_dict(dict: &Dictionary) -> bool {
    matches!(name(dict, b"Type"), Some(b"Sig" | b"DocTimeStamp"))
        || (dict.has(b"ByteRange") && dict.has(b"Contents") && dict.has(b"Filter"))
}

fn is_document_timestamp(dict: &Dictionary) -> bool {
    name(dict, b"Type") == Some(b"DocTimeStamp")
        || name(dict, b"SubFilter") == Some(b"ETSI.RFC3161")
}

/// The signature field whose /Kids list the widget `id` (directly or through an array
/// object).
fn signature_field_of_kid<'a>(
    document: &'a Document,
    id: ObjectId,
    roles: &Roles<'_>,
) -> Option<&'a Dictionary> {
    let field_of = |parent: ObjectId| {
        document
            .get_dictionary(parent)
            .ok()
            .filter(|p| is_signature_field(document, p))
    };
    roles.referrers.get(&id)?.iter().find_map(|(parent, key)| {
        if key.as_slice() == b"Kids" {
            return field_of(*parent);
        }
        if !key.is_empty() {
            return None;
        }
        roles
            .referrers
            .get(parent)?
            .iter()
            .filter(|(_, k)| k.as_slice() == b"Kids")
            .find_map(|(grand, _)| field_of(*grand))
    })
}

/// Whether `id` is one of the resources (/DR) of the form held directly in `catalog`.
fn form_resource(catalog: &Dictionary, id: ObjectId) -> bool {
    let resources = match catalog.get(b"AcroForm") {
        Ok(Object::Dictionary(form)) => form.get(b"DR").ok(),
        _ => None,
    };
    resources.is_some_and(|dr| references_in(std::iter::once(dr)).contains(&id))
}

/// Whether an object may be a part of an appearance or of the form's resources: nothing with
/// a role of its own (the catalog, the form, pages, fields, annotations, signatures).
fn is_part(document: &Document, dict: &Dictionary, id: ObjectId, roles: &Roles<'_>) -> bool {
    Some(id) != roles.root
        && Some(id) != roles.form
        && !matches!(name(dict, b"Type"), Some(b"Page" | b"Pages" | b"Catalog"))
        && !is_signature_dict(dict)
        && !is_field(dict)
        && !is_annotation(dict)
        && !is_signature_field(document, dict)
}

/// What a change of the page annotations from `before` to `after` amounts to.
fn annotations_change(
    document: &Document,
    signed: &Document,
    before: &BTreeSet<ObjectId>,
    after: &BTreeSet<ObjectId>,
    roles: &Roles<'_>,
) -> Modification {
    let verified = roles.verified;
    let mut level = Modification::None;
    for annot in after.difference(before).chain(before.difference(after)) {
        let kind = document
            .get_dictionary(*annot)
            .or_else(|_| signed.get_dictionary(*annot))
            .ok()
            .map_or(Modification::Annotations, |a| {
                if is_signature_field(document, a) {
                    signature_field_level(document, a, verified)
                } else if let Some(field) = signature_field_of_kid(document, *annot, roles) {
                    signature_field_level(document, field, verified)
                } else if name(a, b"Subtype") == Some(b"Widget") {
                    Modification::FormFilling
                } else {
                    Modification::Annotations
                }
            });
        level = level.max(kind);
    }
    level
}

fn references_of(items: Option<&Vec<Object>>) -> BTreeSet<ObjectId> {
    items
        .into_iter()
        .flatten()
        .filter_map(|o| o.as_reference().ok())
        .collect()
}

/// What adding or signing a signature field amounts to: a verified signature (or document
/// timestamp, validation data); an empty field or one whose signature was not verified, form
/// filling (so the document is not vouched for as a whole).
fn signature_field_level(
    document: &Document,
    field: &Dictionary,
    verified: &BTreeSet<ObjectId>,
) -> Modification {
    let verified_value = field
        .get(b"V")
        .ok()
        .and_then(|v| v.as_reference().ok())
        .filter(|id| verified.contains(id));
    match verified_value.and_then(|id| document.get_dictionary(id).ok()) {
        Some(sig) if is_document_timestamp(sig) => Modification::ValidationData,
        Some(_) => Modification::Signatures,
        None => Modification::FormFilling,
    }
}

/// Whether the form asks viewers to redraw its fields' appearances (from /DA and /DR).
fn needs_appearances(form: &Dictionary) -> bool {
    matches!(form.get(b"NeedAppearances"), Ok(Object::Boolean(true)))
}

/// What a part of the form's default resources (/DR) amounts to: fonts for a new
/// signature's appearance, unless the form asks viewers to redraw fields from them.
fn resources_level(form: Option<&Dictionary>) -> Modification {
    if form.is_some_and(needs_appearances) {
        Modification::FormFilling
    } else {
        Modification::Signatures
    }
}

/// Judges a change of the form dictionary (`old` from the signed revision).
fn judge_form(
    document: &Document,
    signed: &Document,
    old: Option<&Dictionary>,
    new: &Dictionary,
    verified: &BTreeSet<ObjectId>,
) -> (Modification, String) {
    let keys = changed_keys(old, new);
    let forbidden: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| {
            !matches!(
                k.as_slice(),
                b"Fields" | b"SigFlags" | b"NeedAppearances" | b"DR" | b"DA"
            )
        })
        .cloned()
        .collect();
    if !forbidden.is_empty() {
        return (
            Modification::Disallowed,
            format!("form changed: {}", keys_text(&forbidden)),
        );
    }
    let before = field_ids(signed, old);
    let after = field_ids(document, Some(new));
    let (fields_level, what) = fields_change(document, &before, &after, verified);
    if fields_level == Modification::Disallowed {
        return (fields_level, what);
    }
    // The default appearance and resources (/DA, /DR, which signers extend with the fonts of
    // their own appearance) and /SigFlags change nothing shown while viewers draw the fields'
    // own appearance streams; with /NeedAppearances they redraw text fields from them.
    let level = if keys.iter().any(|k| {
        k.as_slice() == b"NeedAppearances" || (needs_appearances(new) && k.as_slice() != b"Fields")
    }) {
        Modification::FormFilling
    } else if keys.iter().any(|k| k.as_slice() != b"Fields") {
        Modification::Signatures
    } else {
        Modification::None
    };
    (
        level.max(fields_level),
        format!("form: {}", keys_text(&keys)),
    )
}

/// What a change of the form's fields from `before` to `after` amounts to: only signature
/// fields may be added, and none removed.
fn fields_change(
    document: &Document,
    before: &BTreeSet<ObjectId>,
    after: &BTreeSet<ObjectId>,
    verified: &BTreeSet<ObjectId>,
) -> (Modification, String) {
    if !before.is_subset(after) {
        return (Modification::Disallowed, "form fields removed".into());
    }
    let mut level = Modification::None;
    for field in after.difference(before) {
        let kind = document
            .get_dictionary(*field)
            .ok()
            .filter(|f| is_signature_field(document, f))
            .map_or(Modification::Disallowed, |f| {
                signature_field_level(document, f, verified)
            });
        level = level.max(kind);
    }
    (level, "form fields added".into())
}

fn field_ids(document: &Document, form: Option<&Dictionary>) -> BTreeSet<ObjectId> {
    referenced_ids(document, form, b"Fields")
}

fn annotation_ids(document: &Document, page: Option<&Dictionary>) -> BTreeSet<ObjectId> {
    referenced_ids(document, page, b"Annots")
}

/// The objects the array under `key` of `dict` (direct or indirect) refers to.
fn referenced_ids(
    document: &Document,
    dict: Option<&Dictionary>,
    key: &[u8],
) -> BTreeSet<ObjectId> {
    references_of(
        dict.and_then(|d| d.get(key).ok())
            .and_then(|list| super::pades::array(document, list)),
    )
}
