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
#[derive(Debug)]
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

/// Compares the file `bytes` (loaded as `document`) with its revision ending at `signed_end`.
pub(crate) fn classify(
    bytes: &[u8],
    document: &Document,
    signed_end: usize,
    docmdp: Option<u8>,
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
    let revisions = crate::pdf::scan::revisions(bytes);
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
        .and_then(crate::pdf::load_for_signatures)
    else {
        out.note(
            Modification::Disallowed,
            "the signed revision cannot be read on its own".into(),
        );
        return diff(out);
    };

    let touched = touched_objects(document, &signed, signed_end);
    if touched.is_empty() {
        return diff(out);
    }
    let referrers = referrers(document, &touched);
    let root = document
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let form_id = root
        .and_then(|r| document.get_dictionary(r).ok())
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| f.as_reference().ok());
    let dss_members = root
        .and_then(|r| document.get_dictionary(r).ok())
        .and_then(|c| c.get(b"DSS").ok())
        .map(|dss| reachable(document, dss))
        .unwrap_or_default();

    for id in &touched {
        let Ok(new) = document.get_object(*id) else {
            out.note(Modification::Disallowed, format!("object {} removed", id.0));
            continue;
        };
        let old = signed.objects.get(id);
        if old == Some(new) && !matches!(new, Object::Stream(_)) {
            continue;
        }
        if let (Some(Object::Stream(a)), Object::Stream(b)) = (old, new) {
            // Equal only when both contents were kept and match (large ones are not kept).
            if a.dict == b.dict && a.content == b.content && !a.content.is_empty() {
                continue;
            }
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
                dss: &dss_members,
                referrers: &referrers,
            },
        );
        out.note(level, what);
    }
    diff(out)
}

/// Objects the later revisions define: whose final location lies past the signed revision,
/// or which the signed revision did not have.
fn touched_objects(
    document: &Document,
    signed: &Document,
    signed_end: usize,
) -> BTreeSet<ObjectId> {
    let offset_of = |number: u32| match document.reference_table.get(number) {
        Some(lopdf::xref::XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
        Some(lopdf::xref::XrefEntry::Compressed { container, .. }) => {
            match document.reference_table.get(*container) {
                Some(lopdf::xref::XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
                _ => None,
            }
        }
        _ => None,
    };
    let mut touched = BTreeSet::new();
    for id in document.objects.keys() {
        let moved = offset_of(id.0).is_some_and(|offset| offset >= signed_end);
        if moved || !signed.objects.contains_key(id) {
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

/// For each touched object: which objects refer to it, and under which top-level key.
fn referrers(
    document: &Document,
    touched: &BTreeSet<ObjectId>,
) -> HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>> {
    let mut out: HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>> = HashMap::new();
    for (from, object) in &document.objects {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            Object::Array(items) => {
                for target in references_in(items.iter()) {
                    if touched.contains(&target) {
                        out.entry(target).or_default().push((*from, Vec::new()));
                    }
                }
                continue;
            }
            _ => continue,
        };
        for (key, value) in dict.iter() {
            for target in references_in(std::iter::once(value)) {
                if touched.contains(&target) {
                    out.entry(target).or_default().push((*from, key.clone()));
                }
            }
        }
    }
    out
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

/// Every object reachable from `start` (the DSS and what it holds).
fn reachable(document: &Document, start: &Object) -> BTreeSet<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut stack = references_in(std::iter::once(start));
    if let Ok(id) = start.as_reference() {
        stack.push(id);
    }
    while let Some(id) = stack.pop() {
        if seen.len() > 100_000 || !seen.insert(id) {
            continue;
        }
        if let Ok(object) = document.get_object(id) {
            let inner = match object {
                Object::Stream(s) => references_in(s.dict.iter().map(|(_, o)| o)),
                other => references_in(std::iter::once(other)),
            };
            stack.extend(inner);
        }
    }
    seen
}

struct Roles<'a> {
    root: Option<ObjectId>,
    form: Option<ObjectId>,
    dss: &'a BTreeSet<ObjectId>,
    referrers: &'a HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>>,
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

/// Keys whose values differ between two dictionaries (added, removed or changed).
fn changed_keys(old: Option<&Dictionary>, new: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = new
        .iter()
        .filter(|(k, v)| old.and_then(|o| o.get(k).ok()) != Some(*v))
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
    let Some(dict) = dict_of(new) else {
        // A bare number, array or name redefined: only harmless when nothing signed uses it.
        return if added && !roles.referrers.contains_key(&id) {
            (Signatures, format!("object {n} added, unused"))
        } else {
            (Disallowed, format!("object {n} replaced"))
        };
    };
    let old_dict = old.and_then(dict_of);
    if matches!(name(dict, b"Type"), Some(b"XRef" | b"ObjStm")) {
        return (
            Modification::None,
            format!("object {n}: cross-reference data"),
        );
    }
    if matches!(name(dict, b"Type"), Some(b"Sig" | b"DocTimeStamp")) {
        return if added {
            let level = if name(dict, b"Type") == Some(b"DocTimeStamp") {
                ValidationData
            } else {
                Signatures
            };
            (level, format!("signature {n} added"))
        } else {
            (Disallowed, format!("signature {n} replaced"))
        };
    }
    if roles.dss.contains(&id) || matches!(name(dict, b"Type"), Some(b"DSS" | b"VRI")) {
        return (ValidationData, format!("validation data (object {n})"));
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
        return if forbidden.is_empty() {
            (ValidationData, format!("catalog: {}", keys_text(&keys)))
        } else {
            (
                Disallowed,
                format!("catalog changed: {}", keys_text(&forbidden)),
            )
        };
    }
    if Some(id) == roles.form {
        let keys = changed_keys(old_dict, dict);
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
                Disallowed,
                format!("form changed: {}", keys_text(&forbidden)),
            );
        }
        let before = field_ids(signed, old_dict);
        let after = field_ids(document, Some(dict));
        if !before.is_subset(&after) {
            return (Disallowed, "form fields removed".into());
        }
        let mut level = if keys.iter().any(|k| k.as_slice() != b"Fields") {
            FormFilling
        } else {
            Modification::None
        };
        for field in after.difference(&before) {
            let kind = document
                .get_dictionary(*field)
                .ok()
                .filter(|f| is_signature_field(document, f))
                .map_or(Disallowed, |f| signature_field_level(document, f));
            level = level.max(kind);
        }
        return (level, format!("form: {}", keys_text(&keys)));
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
        let mut level = Modification::None;
        for annot in after.difference(&before).chain(before.difference(&after)) {
            let kind = document
                .get_dictionary(*annot)
                .or_else(|_| signed.get_dictionary(*annot))
                .ok()
                .map_or(Annotations, |a| {
                    if is_signature_field(document, a) {
                        signature_field_level(document, a)
                    } else if name(a, b"Subtype") == Some(b"Widget") {
                        FormFilling
                    } else {
                        Annotations
                    }
                });
            level = level.max(kind);
        }
        return (level, format!("page object {n}: annotations changed"));
    }
    if matches!(name(dict, b"Type"), Some(b"Page" | b"Pages")) {
        return (Disallowed, format!("page tree object {n} added or changed"));
    }
    if is_field(dict) {
        let signature = is_signature_field(document, dict);
        if added {
            return if signature {
                (
                    signature_field_level(document, dict),
                    format!("signature field {n} added"),
                )
            } else {
                (Disallowed, format!("form field {n} added"))
            };
        }
        let keys = changed_keys(old_dict, dict);
        let forbidden: Vec<&Vec<u8>> = keys
            .iter()
            .filter(|k| !matches!(k.as_slice(), b"V" | b"AP" | b"AS" | b"M" | b"Kids"))
            .collect();
        if !forbidden.is_empty() {
            return (
                Disallowed,
                format!("form field {n} changed: {}", keys_text(&keys)),
            );
        }
        return if signature {
            (
                signature_field_level(document, dict),
                format!("signature field {n} signed"),
            )
        } else {
            (FormFilling, format!("form field {n} filled in"))
        };
    }
    if is_annotation(dict) {
        return (Annotations, format!("annotation {n} added or changed"));
    }
    // Anything else (a stream, a font, an XObject): allowed only as the appearance of a changed
    // annotation or field, or as a resource of the form.
    let mut level = None;
    if let Some(from) = roles.referrers.get(&id) {
        for (parent, key) in from {
            let Ok(parent_dict) = document.get_object(*parent).map(dict_of) else {
                continue;
            };
            let Some(parent_dict) = parent_dict else {
                continue;
            };
            let parent_signed = signed.objects.get(parent);
            let parent_changed = parent_signed != document.objects.get(parent);
            let role = if key.as_slice() == b"AP" && parent_changed {
                if is_signature_field(document, parent_dict) {
                    Some(Signatures)
                } else if is_field(parent_dict) {
                    Some(FormFilling)
                } else if is_annotation(parent_dict) {
                    Some(Annotations)
                } else {
                    None
                }
            } else if key.as_slice() == b"DR" && Some(*parent) == roles.form {
                Some(FormFilling)
            } else if parent_changed && added && is_appearance(parent_dict) {
                // A resource of a new appearance stream (its font, its image).
                Some(FormFilling)
            } else {
                None
            };
            match role {
                Some(r) => level = Some(level.map_or(r, |l: Modification| l.max(r))),
                None => return (Disallowed, format!("object {n} replaced or revived")),
            }
        }
    } else if added {
        return (Modification::None, format!("object {n} added, unused"));
    }
    match level {
        Some(l) => (l, format!("appearance object {n}")),
        None => (Disallowed, format!("object {n} replaced")),
    }
}

/// A new signature field counts as validation data when it holds a document timestamp.
fn signature_field_level(document: &Document, field: &Dictionary) -> Modification {
    let timestamp = field
        .get(b"V")
        .ok()
        .and_then(|v| resolve(document, v))
        .is_some_and(|v| name(v, b"Type") == Some(b"DocTimeStamp"));
    if timestamp {
        Modification::ValidationData
    } else {
        Modification::Signatures
    }
}

fn field_ids(document: &Document, form: Option<&Dictionary>) -> BTreeSet<ObjectId> {
    let fields = match form.map(|f| f.get(b"Fields")) {
        Some(Ok(Object::Array(a))) => Some(a),
        Some(Ok(Object::Reference(id))) => document.get_object(*id).and_then(Object::as_array).ok(),
        _ => None,
    };
    fields
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_reference().ok())
        .collect()
}

fn is_appearance(dict: &Dictionary) -> bool {
    name(dict, b"Subtype") == Some(b"Form") || name(dict, b"Type") == Some(b"XObject")
}

fn annotation_ids(document: &Document, page: Option<&Dictionary>) -> BTreeSet<ObjectId> {
    let Some(page) = page else {
        return BTreeSet::new();
    };
    let annots = match page.get(b"Annots") {
        Ok(Object::Array(a)) => Some(a),
        Ok(Object::Reference(id)) => document.get_object(*id).and_then(Object::as_array).ok(),
        _ => None,
    };
    annots
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_reference().ok())
        .collect()
}
