//! What the checks need of an object, decided as lopdf reads it.
//!
//! lopdf keeps every object as a tree of 100-byte [`Object`]s: a real manual's link
//! annotations, destinations and outline entries take 20-30 times the file's size. None of
//! them matters to the checks of an unsigned document, which read only the catalog, the page
//! tree, the dictionaries that name active content, the document information and the XMP
//! metadata. An object that holds none of those is kept as an empty container of its kind:
//! every reference to it still finds an object (not the null object), a page-tree leaf is still
//! a dictionary, and the walk for active content finds there exactly what it found in the
//! original, nothing.
//!
//! A signed document is read whole: its signatures are compared revision by revision, object
//! by object. So is anything [`fold`] cannot vouch for.

use lopdf::{Dictionary, Object};

/// Action types that are active content (as `classify` in the engine names them).
const ACTIVE_ACTIONS: [&[u8]; 6] = [
    b"JavaScript",
    b"Launch",
    b"SubmitForm",
    b"ImportData",
    b"GoToR",
    b"GoToE",
];

/// `/Type` values of objects the checks read: the catalog, the page tree, embedded files and
/// the XMP metadata.
const KEPT_TYPES: [&[u8]; 5] = [b"Catalog", b"Pages", b"Page", b"EmbeddedFile", b"Metadata"];

/// `/Subtype` values that are active content.
const ACTIVE_SUBTYPES: [&[u8]; 2] = [b"FileAttachment", b"RichMedia"];

/// Keys the checks look up in a dictionary they reach by reference: the catalog's and its name
/// dictionary's, the interactive form's, the page tree's and the document information's.
const KEPT_KEYS: [&[u8]; 11] = [
    b"Pages",
    b"Kids",
    b"OpenAction",
    b"AcroForm",
    b"Names",
    b"JavaScript",
    b"EmbeddedFiles",
    b"XFA",
    b"Metadata",
    b"Producer",
    b"Root",
];

/// Keys that make a dictionary active content whatever their value (a reference may point at
/// a free object; that is decided over the whole document).
const ACTIVE_KEYS: [&[u8]; 3] = [b"JS", b"AA", b"EF"];

/// What an object is to the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing in it is read: an empty container of its kind stands for it.
    Nothing,
    /// The checks read it: kept as it is.
    Whole,
    /// It is or holds a signature: the document must be read whole.
    Signature,
}

/// Visits every dictionary in `object` (its own, a stream's, those nested in its arrays and
/// dictionaries) down to `max_depth`, until `visit` answers `false`; answers whether something
/// nests deeper (left unvisited).
pub(crate) fn each_dictionary(
    object: &Object,
    max_depth: usize,
    mut visit: impl FnMut(&Dictionary) -> bool,
) -> bool {
    let mut too_deep = false;
    let mut stack: Vec<(&Object, usize)> = vec![(object, 0)];
    while let Some((object, depth)) = stack.pop() {
        if depth > max_depth {
            too_deep = true;
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
        if !visit(dict) {
            break;
        }
        stack.extend(dict.iter().map(|(_, o)| (o, depth + 1)));
    }
    too_deep
}

/// What the checks need of `object`, walked at most `max_depth` deep (what nests deeper is
/// kept, for the engine's own walk to refuse).
pub(crate) fn need(object: &Object, max_depth: usize) -> Need {
    let mut need = Need::Nothing;
    let too_deep = each_dictionary(object, max_depth, |dict| match dictionary_need(dict) {
        Need::Signature => {
            need = Need::Signature;
            false
        }
        Need::Whole => {
            need = Need::Whole;
            true
        }
        Need::Nothing => true,
    });
    match need {
        Need::Nothing if too_deep => Need::Whole,
        need => need,
    }
}

/// What one dictionary, on its own, asks of the checks.
fn dictionary_need(dict: &Dictionary) -> Need {
    let name = |key: &[u8]| match dict.get(key) {
        Err(_) => Ok(None),
        Ok(Object::Name(name)) => Ok(Some(name.as_slice())),
        // A name given by reference is resolved over the whole document.
        Ok(_) => Err(()),
    };
    if dict.has(b"ByteRange")
        || matches!(name(b"FT"), Ok(Some(b"Sig")))
        || matches!(name(b"Type"), Ok(Some(b"Sig" | b"DocTimeStamp")))
    {
        return Need::Signature;
    }
    // Absent, or a direct name the checks pass over.
    let passed_over = |key: &[u8], read: &[&[u8]]| match name(key) {
        Ok(None) => true,
        Ok(Some(value)) => !read.contains(&value),
        Err(()) => false,
    };
    let kept = ACTIVE_KEYS
        .iter()
        .chain(&KEPT_KEYS)
        .any(|key| dict.has(key))
        || !passed_over(b"S", &ACTIVE_ACTIONS)
        || !passed_over(b"Type", &KEPT_TYPES)
        || !passed_over(b"Subtype", &ACTIVE_SUBTYPES);
    if kept { Need::Whole } else { Need::Nothing }
}

/// The empty container that stands for an object the checks do not read; `None` for an
/// object kept as it is (a stream, a scalar).
fn placeholder(object: &Object) -> Option<Object> {
    match object {
        Object::Dictionary(_) => Some(Object::Dictionary(Dictionary::new())),
        Object::Array(_) => Some(Object::Array(Vec::new())),
        _ => None,
    }
}

/// Keys whose values the checks read as they are (looked up, resolved, followed): never
/// folded. A name tree's `/Names` array is not among them (the checks ask only whether the
/// tree is there), the catalog's `/Names` dictionary is.
fn read_as_is(key: &[u8], value: &Object) -> bool {
    const NAMED: [&[u8]; 5] = [b"S", b"Type", b"Subtype", b"FT", b"Count"];
    if key == b"Names" {
        return !matches!(value, Object::Array(_));
    }
    NAMED
        .iter()
        .chain(&ACTIVE_KEYS)
        .chain(&KEPT_KEYS)
        .any(|k| *k == key)
}

/// Keeps of a top-level object (not a stream) what the checks read: nothing but an empty
/// container of its kind when nothing in it is read, or else the object with each value the
/// checks do not read, at any depth, folded so. Answers what the checks need of it; on
/// [`Need::Signature`] the object is left as it is.
pub(crate) fn fold(object: &mut Object, max_depth: usize) -> Need {
    let need = need(object, max_depth);
    match need {
        Need::Nothing => {
            if let Some(placeholder) = placeholder(object) {
                *object = placeholder;
            }
        }
        Need::Whole => prune(object, 0, max_depth),
        Need::Signature => {}
    }
    need
}

/// Folds the values within `object` (at `depth`) that the checks do not read.
fn prune(object: &mut Object, depth: usize, max_depth: usize) {
    // What sits below the depth limit stays for the engine's walk to refuse.
    let Some(room) = max_depth.checked_sub(depth + 1) else {
        return;
    };
    let fold_value = |value: &mut Object| {
        if !matches!(value, Object::Dictionary(_) | Object::Array(_)) {
            return;
        }
        match need(value, room) {
            Need::Nothing => {
                if let Some(placeholder) = placeholder(value) {
                    *value = placeholder;
                }
            }
            _ => prune(value, depth + 1, max_depth),
        }
    };
    match object {
        Object::Dictionary(dict) => {
            for (key, value) in dict.iter_mut() {
                if !read_as_is(key, value) {
                    fold_value(value);
                }
            }
        }
        Object::Array(items) => items.iter_mut().for_each(fold_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Object {
        let pdf = format!("%PDF-1.7\n1 0 obj\n{text}\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        let document = lopdf::Document::load_mem(pdf.as_bytes()).expect("parses");
        document.get_object((1, 0)).expect("object 1").clone()
    }

    #[test]
    fn a_link_a_destination_and_an_outline_entry_are_not_needed() {
        for text in [
            "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /GoTo /D (x) >> >>",
            "<< /D [3 0 R /XYZ 0 792 null] >>",
            "<< /Title (Intro) /Parent 4 0 R /Next 5 0 R /Dest [3 0 R /Fit] >>",
            "[3 0 R /XYZ 0 792 null]",
            "<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://example.org) >> >>",
        ] {
            assert_eq!(need(&parse(text), 64), Need::Nothing, "{text}");
        }
    }

    #[test]
    fn active_content_structure_and_references_to_names_are_kept() {
        for text in [
            "<< /S /JavaScript /JS (app.alert(1)) >>",
            "<< /Type /Annot /A << /S /Launch /F (x.exe) >> >>",
            "<< /Type /Annot /AA << /O 9 0 R >> >>",
            "<< /Type /Filespec /EF << /F 9 0 R >> >>",
            "<< /Type /Annot /Subtype /FileAttachment >>",
            "<< /Type /Annot /Subtype /RichMedia >>",
            "<< /S 9 0 R >>",
            "<< /Type 9 0 R >>",
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R >>",
            "<< /Dests 5 0 R /JavaScript 6 0 R >>",
            "<< /Fields [] /XFA 8 0 R >>",
            "<< /Producer (x) >>",
            // A catalog's /Names key, and so every name-tree node's.
            "<< /Names [(a) 6 0 R (b) 7 0 R] /Limits [(a) (b)] >>",
            "[<< /S /SubmitForm >>]",
        ] {
            assert_eq!(need(&parse(text), 64), Need::Whole, "{text}");
        }
    }

    #[test]
    fn a_signature_anywhere_in_an_object_asks_for_the_whole_document() {
        for text in [
            "<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>",
            "<< /FT /Sig /T (s) >>",
            "<< /Type /Annot /Subtype /Widget /FT /Sig >>",
            "<< /Kids [<< /V << /Type /DocTimeStamp >> >>] >>",
        ] {
            assert_eq!(need(&parse(text), 64), Need::Signature, "{text}");
        }
    }

    #[test]
    fn what_the_checks_read_of_a_kept_object_stays_and_the_rest_is_folded() {
        let mut page = parse(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [7 0 R 8 0 R] \
             /Resources << /Font << /F1 9 0 R >> >> /AA << /O 10 0 R >> >>",
        );
        assert_eq!(fold(&mut page, 64), Need::Whole);
        let page = page.as_dict().expect("a dictionary");
        assert_eq!(
            page.get(b"Type").and_then(Object::as_name).ok(),
            Some(&b"Page"[..])
        );
        assert_eq!(page.get(b"Parent").ok(), Some(&Object::Reference((2, 0))));
        assert_eq!(page.get(b"MediaBox").ok(), Some(&Object::Array(vec![])));
        assert_eq!(page.get(b"Annots").ok(), Some(&Object::Array(vec![])));
        assert!(
            page.get(b"Resources")
                .and_then(Object::as_dict)
                .is_ok_and(|d| d.is_empty())
        );
        // Active content keeps its value.
        assert!(
            page.get(b"AA")
                .and_then(Object::as_dict)
                .is_ok_and(|d| d.has(b"O"))
        );

        let mut pages = parse("<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>");
        let before = pages.clone();
        fold(&mut pages, 64);
        assert_eq!(pages, before, "a page-tree node is read whole");

        // An action in an array keeps its place; the inert entries beside it are folded.
        let mut annots = parse("[<< /Subtype /Link /Rect [1 2 3 4] >> << /S /Launch >> 5 0 R]");
        fold(&mut annots, 64);
        let items = annots.as_array().expect("an array");
        assert_eq!(items.len(), 3);
        assert!(items[0].as_dict().is_ok_and(|d| d.is_empty()));
        assert!(items[1].as_dict().is_ok_and(|d| d.has(b"S")));
        assert_eq!(items[2], Object::Reference((5, 0)));

        // A name tree's leaf array is folded; the catalog's names dictionary is not.
        let mut leaf = parse("<< /Names [(a) 6 0 R] /Limits [(a) (a)] /Kids [] >>");
        fold(&mut leaf, 64);
        let leaf = leaf.as_dict().expect("a dictionary");
        assert_eq!(leaf.get(b"Names").ok(), Some(&Object::Array(vec![])));
        let mut catalog = parse("<< /Type /Catalog /Names << /Dests 5 0 R >> /Pages 2 0 R >>");
        let before = catalog.clone();
        fold(&mut catalog, 64);
        assert_eq!(catalog, before);
    }

    #[test]
    fn a_fold_never_hides_nesting_past_the_depth() {
        // Nine levels under a kept dictionary's inert value: folded at a limit of ten, kept
        // (for the walk to refuse) at nine.
        let text = format!("<< /Type /Page /X {}0{} >>", "[".repeat(9), "]".repeat(9));
        let mut at_ten = parse(&text);
        fold(&mut at_ten, 10);
        assert!(
            at_ten
                .as_dict()
                .is_ok_and(|d| d.get(b"X").ok() == Some(&Object::Array(vec![])))
        );
        let mut at_nine = parse(&text);
        let before = at_nine.clone();
        fold(&mut at_nine, 9);
        assert_eq!(at_nine, before);
    }

    #[test]
    fn what_nests_past_the_depth_is_kept_for_the_engine_to_refuse() {
        let deep = format!("{}0{}", "[".repeat(10), "]".repeat(10));
        assert_eq!(need(&parse(&deep), 9), Need::Whole);
        assert_eq!(need(&parse(&deep), 10), Need::Nothing);
    }
}
