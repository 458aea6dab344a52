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

/// The first value of `bytes`, which may be followed by anything (a PDF's /Contents pads the
/// CMS with zeros, and some signers leave other bytes there).
fn first_value(bytes: &[u8]) -> Option<TaggedDerValue> {
    let end = first_value_len(bytes)?;
    yasna::parse_ber(&bytes[..end], |reader| reader.read_tagged_der()).ok()
}

/// The length in bytes of the first BER value of `bytes` (header, contents and, for an
/// indefinite length, the end-of-contents pairs), read from the headers alone: a value that
/// ends in a zero byte, or is followed by other bytes, is measured exactly. `None` when the
/// headers do not describe a value inside `bytes`.
pub(crate) fn first_value_len(bytes: &[u8]) -> Option<usize> {
    value_len(bytes, 0)
}

fn value_len(bytes: &[u8], depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH || bytes.len() > MAX_BYTES {
        return None;
    }
    let first = *bytes.first()?;
    let mut at = 1;
    if first & 0x1f == 0x1f {
        // A high tag number: base-128 digits, the last without the top bit.
        loop {
            let b = *bytes.get(at)?;
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
            if at > 6 {
                return None;
            }
        }
    }
    let length = *bytes.get(at)?;
    at += 1;
    if length == 0x80 {
        // Indefinite: constructed values follow until an end-of-contents pair.
        if first & 0x20 == 0 {
            return None;
        }
        loop {
            let rest = bytes.get(at..)?;
            if rest.starts_with(&[0, 0]) {
                return Some(at + 2);
            }
            at += value_len(rest, depth + 1)?;
        }
    }
    let contents = if length & 0x80 == 0 {
        usize::from(length)
    } else {
        let count = usize::from(length & 0x7f);
        if count > 4 {
            return None;
        }
        let mut n = 0usize;
        for _ in 0..count {
            n = (n << 8) | usize::from(*bytes.get(at)?);
            at += 1;
        }
        n
    };
    let end = at.checked_add(contents)?;
    (end <= bytes.len()).then_some(end)
}

/// A ContentInfo holding SignedData, rewritten so that a strict DER decoder reads what real
/// signers send: duplicate elements of the SignedData's sets (digest algorithms, certificates,
/// CRLs, signer infos, and each signer's attributes and their values) are dropped, and so are
/// the obsolete certificate choices (`[0]` extended, `[1]` and `[2]` attribute certificates)
/// that no chain is built from and the revocation choices other than CRLs. Certificates and every other value are copied byte for byte.
/// `der_bytes` must be DER (see [`to_der`]).
pub(crate) fn tolerant_signed_data(der_bytes: &[u8]) -> Option<Vec<u8>> {
    let info = first_value(der_bytes)?;
    let mut info_fields = children(info.value())?;
    let explicit = info_fields.get(1)?;
    let signed = children(explicit.value())?.into_iter().next()?;
    let fields = children(signed.value())?
        .into_iter()
        .map(|field| {
            let tag = field.tag();
            let context = tag.tag_class == yasna::TagClass::ContextSpecific;
            if tag == yasna::tags::TAG_SET {
                // digestAlgorithms, or signerInfos with each signer's attributes.
                let items = unique(children(field.value())?)
                    .into_iter()
                    .map(|item| {
                        if item.tag() == TAG_SEQUENCE {
                            tolerant_signer_info(item)
                        } else {
                            Some(item)
                        }
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(constructed(tag, &items))
            } else if context && tag.tag_number == 0 {
                let certificates: Vec<TaggedDerValue> = children(field.value())?
                    .into_iter()
                    .filter(|c| {
                        c.tag() == TAG_SEQUENCE
                            || (c.tag().tag_class == yasna::TagClass::ContextSpecific
                                && c.tag().tag_number == 3)
                    })
                    .collect();
                Some(constructed(tag, &unique(certificates)))
            } else if context && tag.tag_number == 1 {
                // CRLs; the other revocation choices (`[1]`, such as RFC 5940 OCSP responses)
                // `cms` 0.2 cannot decode.
                let crls: Vec<TaggedDerValue> = children(field.value())?
                    .into_iter()
                    .filter(|c| c.tag() == TAG_SEQUENCE)
                    .collect();
                Some(constructed(tag, &unique(crls)))
            } else {
                Some(field)
            }
        })
        .collect::<Option<Vec<_>>>()?;
    info_fields[1] = constructed(explicit.tag(), &[constructed(signed.tag(), &fields)]);
    Some(yasna::construct_der(|writer| {
        writer.write_tagged_der(&constructed(info.tag(), &info_fields))
    }))
}

/// A SignerInfo with the duplicates of its attribute sets (`[0]` signed, `[1]` unsigned)
/// and of each attribute's values dropped.
fn tolerant_signer_info(info: TaggedDerValue) -> Option<TaggedDerValue> {
    let fields = children(info.value())?
        .into_iter()
        .map(|field| {
            let tag = field.tag();
            if tag.tag_class != yasna::TagClass::ContextSpecific || tag.tag_number > 1 {
                return Some(field);
            }
            let attributes = unique(children(field.value())?)
                .into_iter()
                .map(|attribute| {
                    let mut parts = children(attribute.value())?;
                    if let Some(values) = parts.get_mut(1) {
                        *values = constructed(values.tag(), &unique(children(values.value())?));
                    }
                    Some(constructed(attribute.tag(), &parts))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(constructed(tag, &attributes))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(constructed(info.tag(), &fields))
}

fn unique(values: Vec<TaggedDerValue>) -> Vec<TaggedDerValue> {
    let mut seen = std::collections::HashSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(yasna::construct_der(|w| w.write_tagged_der(v))))
        .collect()
}

fn constructed(tag: yasna::Tag, children: &[TaggedDerValue]) -> TaggedDerValue {
    let mut content = Vec::new();
    for child in children {
        content.extend(yasna::construct_der(|writer| {
            writer.write_tagged_der(child)
        }));
    }
    TaggedDerValue::from_tag_pc_and_bytes(tag, PCBit::Constructed, content)
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
    Some(constructed(value.tag(), &children))
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
    fn the_first_value_is_measured_from_its_headers() {
        // A definite value ending in a zero byte, then padding and other bytes.
        let padded = [0x30, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0xde, 0xad];
        assert_eq!(first_value_len(&padded), Some(5));
        assert_eq!(to_der(&padded).unwrap(), [0x30, 0x03, 0x02, 0x01, 0x00]);
        // An indefinite value whose last primitive ends in zero, then garbage.
        let ber = [0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03];
        assert_eq!(first_value_len(&ber), Some(7));
        assert_eq!(to_der(&ber).unwrap(), [0x30, 0x03, 0x02, 0x01, 0x00]);
        // A length past the end, or an unterminated indefinite value, is not a value.
        assert_eq!(first_value_len(&[0x30, 0x05, 0x02]), None);
        assert_eq!(first_value_len(&[0x30, 0x80, 0x02, 0x01, 0x00]), None);
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
