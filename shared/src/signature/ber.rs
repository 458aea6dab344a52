//! BER to DER, for CMS blobs that real signers encode with indefinite lengths (5 of 28 real
//! files checked) while `der` reads DER only. yasna reads the BER (tags, lengths, end-of-contents)
//! and writes the DER; this module only walks the tree: every constructed value is re-emitted
//! with a definite length, and a constructed OCTET STRING becomes one primitive string.

use yasna::PCBit;
use yasna::models::TaggedDerValue;
use yasna::tags::{TAG_OCTETSTRING, TAG_SEQUENCE};

/// Deepest nesting converted (CMS nests about a dozen levels).
const MAX_DEPTH: usize = 64;
/// Largest blob converted (a CMS with its certificates is a few KiB to a few hundred).
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Most elements a SET (or an IMPLICIT-tagged set, `[0]`/`[1]`) may hold: CMS holds a few
/// certificates and attributes; `der` sorts sets quadratically.
pub(crate) const MAX_SET_ELEMENTS: usize = 4096;

/// Whether every set in the first value of `bytes` (BER or DER) holds at most `max` elements.
/// A value that cannot be read passes (the decoder refuses it anyway).
pub(crate) fn sets_within(bytes: &[u8], max: usize) -> bool {
    if bytes.len() > MAX_BYTES {
        return false;
    }
    first_value(bytes).is_none_or(|v| sets_ok(&v, max, 0))
}

fn sets_ok(value: &TaggedDerValue, max: usize, depth: usize) -> bool {
    if value.pcbit() == PCBit::Primitive || depth >= MAX_DEPTH {
        return true;
    }
    let Some(children) = children(value.value()) else {
        return true;
    };
    let tag = value.tag();
    let set_like = tag == yasna::tags::TAG_SET
        || (tag.tag_class == yasna::TagClass::ContextSpecific && tag.tag_number <= 1);
    if set_like && children.len() > max {
        return false;
    }
    children.iter().all(|c| sets_ok(c, max, depth + 1))
}

/// The DER form of the first BER value in `ber` (trailing zero padding, as in a PDF's
/// /Contents, is ignored). `None` when it is not BER.
pub(crate) fn to_der(ber: &[u8]) -> Option<Vec<u8>> {
    if ber.len() > MAX_BYTES {
        return None;
    }
    let value = normalize(first_value(ber)?, 0)?;
    Some(yasna::construct_der(|writer| {
        writer.write_tagged_der(&value)
    }))
}

/// The first value of `bytes`, which may be followed by zero padding (as in a PDF's /Contents):
/// it ends before the padding, or up to the end-of-contents pairs it closes with.
fn first_value(bytes: &[u8]) -> Option<TaggedDerValue> {
    let trimmed = bytes.len() - bytes.iter().rev().take_while(|b| **b == 0).count();
    (0..=MAX_DEPTH).find_map(|pairs| {
        let end = trimmed.checked_add(2 * pairs)?.min(bytes.len());
        yasna::parse_ber(&bytes[..end], |reader| reader.read_tagged_der()).ok()
    })
}

fn normalize(value: TaggedDerValue, depth: usize) -> Option<TaggedDerValue> {
    if value.pcbit() == PCBit::Primitive {
        return Some(value);
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    let children = children(value.value())?
        .into_iter()
        .map(|child| normalize(child, depth + 1))
        .collect::<Option<Vec<_>>>()?;
    if value.tag() == TAG_OCTETSTRING {
        // A constructed OCTET STRING is its segments joined.
        let mut joined = Vec::new();
        for child in &children {
            if child.tag() != TAG_OCTETSTRING || child.pcbit() != PCBit::Primitive {
                return None;
            }
            joined.extend_from_slice(child.value());
        }
        return Some(TaggedDerValue::from_tag_and_bytes(TAG_OCTETSTRING, joined));
    }
    let mut content = Vec::new();
    for child in &children {
        content.extend(yasna::construct_der(|writer| {
            writer.write_tagged_der(child)
        }));
    }
    Some(TaggedDerValue::from_tag_pc_and_bytes(
        value.tag(),
        PCBit::Constructed,
        content,
    ))
}

/// The values inside a constructed value's contents. yasna gives an indefinite-length value's
/// contents with its end-of-contents pair, a definite one's without: each is read inside a
/// SEQUENCE of the same kind.
fn children(contents: &[u8]) -> Option<Vec<TaggedDerValue>> {
    let read = |wrapped: &[u8]| {
        yasna::parse_ber(wrapped, |reader| {
            let mut out = Vec::new();
            reader.read_sequence_of(|item| {
                out.push(item.read_tagged_der()?);
                Ok(())
            })?;
            Ok(out)
        })
        .ok()
    };
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend_from_slice(contents);
    read(&indefinite).or_else(|| {
        let definite = yasna::construct_der(|writer| {
            writer.write_tagged_der(&TaggedDerValue::from_tag_pc_and_bytes(
                TAG_SEQUENCE,
                PCBit::Constructed,
                contents.to_vec(),
            ))
        });
        read(&definite)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_become_definite() {
        // SEQUENCE (indefinite) { INTEGER 10, [0] (indefinite) { BOOLEAN true } } + padding
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x0a, 0xa0, 0x80, 0x01, 0x01, 0xff, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00,
        ];
        let der = to_der(&ber).unwrap();
        assert_eq!(
            der,
            [0x30, 0x08, 0x02, 0x01, 0x0a, 0xa0, 0x03, 0x01, 0x01, 0xff]
        );
    }

    #[test]
    fn a_constructed_octet_string_is_joined() {
        let ber = [
            0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00,
        ];
        assert_eq!(to_der(&ber).unwrap(), [0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn huge_sets_are_found() {
        let mut set = vec![0x31, 0x82];
        let items: Vec<u8> = (0..100u8).flat_map(|i| [0x02, 0x01, i]).collect();
        set.extend_from_slice(&u16::try_from(items.len()).unwrap().to_be_bytes());
        set.extend_from_slice(&items);
        assert!(sets_within(&set, 100));
        assert!(!sets_within(&set, 99));
    }

    #[test]
    fn der_stays_der_and_garbage_is_refused() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(to_der(&der).unwrap(), der);
        assert_eq!(to_der(&[0x30, 0x80, 0x02]), None);
        assert_eq!(to_der(b"not asn.1 at all"), None);
        // Deep nesting stops at the limit instead of recursing without bound.
        let mut deep = Vec::new();
        for _ in 0..200 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        deep.extend(std::iter::repeat_n(0u8, 400));
        assert_eq!(to_der(&deep), None);
    }
}
