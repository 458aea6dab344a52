//! Where objects live: the key layout of the incoming, archive and quarantine buckets.

use crate::domain::model::Channel;
use crate::engine::hashing::DocumentHash;

/// Prefix of everything the buckets' notifications watch.
pub const INCOMING_PREFIX: &str = "incoming/";
/// Prefix of web-form uploads in the incoming bucket.
pub const WEB_INCOMING_PREFIX: &str = "incoming/web/";
/// Prefix of scanning-station uploads in the incoming bucket: `incoming/stations/<station>/`.
pub const STATION_INCOMING_PREFIX: &str = "incoming/stations/";

/// The key under which a station's scan lands in the incoming bucket.
pub fn station_upload_key(station: &str, document_id: &str) -> String {
    format!("{STATION_INCOMING_PREFIX}{station}/{document_id}.pdf")
}

/// What an incoming key says about its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingKey {
    /// The channel the key belongs to.
    pub channel: Channel,
    /// The document id (for web uploads, the upload id).
    pub document_id: String,
    /// What the object is.
    pub kind: IncomingKind,
}

/// What an incoming object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncomingKind {
    /// The document itself.
    Document,
    /// Its detached signature (`.p7s`), judged together with the document.
    DetachedSignature,
}

/// Reads the channel and document id out of an incoming key; `None` for a key that no channel
/// writes (such an object is still recorded and quarantined, never dropped).
pub fn parse_incoming_key(key: &str) -> Option<IncomingKey> {
    if let Some(rest) = key.strip_prefix(STATION_INCOMING_PREFIX) {
        let (station, name) = rest.split_once('/')?;
        let id = name.strip_suffix(".pdf")?;
        return (is_station_id(station) && is_document_id(id)).then(|| IncomingKey {
            channel: Channel::DropBox,
            document_id: id.to_string(),
            kind: IncomingKind::Document,
        });
    }
    let name = key.strip_prefix(WEB_INCOMING_PREFIX)?;
    let (id, kind) = if let Some(id) = name.strip_suffix(".pdf") {
        (id, IncomingKind::Document)
    } else {
        (name.strip_suffix(".p7s")?, IncomingKind::DetachedSignature)
    };
    is_document_id(id).then(|| IncomingKey {
        channel: Channel::Web,
        document_id: id.to_string(),
        kind,
    })
}

/// Document ids are UUIDs in their hyphenated form.
pub fn is_document_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok() && id.len() == 36
}

/// A fresh document id: a time-ordered UUID (v7), so ids sort by creation.
pub fn new_document_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// A stable id for an object whose key no channel writes, so that redeliveries of its event
/// land on the same record.
pub fn stray_object_id(bucket: &str, key: &str) -> String {
    let hash = DocumentHash::of(format!("{bucket}/{key}").as_bytes()).to_hex();
    format!("stray-{}", &hash[..32])
}

/// Archive key of an accepted document: content-addressed by its SHA-256, so the same bytes are
/// stored once whatever the number of uploads.
pub fn archive_key(hash: &DocumentHash) -> String {
    let hex = hash.to_hex();
    format!("sha256/{}/{hex}.pdf", &hex[..2])
}

/// Quarantine key of a rejected document: by channel and document id, so every rejected upload is
/// kept on its own, even when two carry the same bytes.
pub fn quarantine_key(channel: Option<Channel>, document_id: &str) -> String {
    let channel = channel.map_or("unknown", Channel::as_str);
    format!("{channel}/{document_id}")
}

/// Whether `id` has the form of a station id (a site id: lowercase letters, digits, dashes).
pub fn is_station_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_keys_parse_and_others_do_not() {
        let id = new_document_id();
        assert_eq!(
            parse_incoming_key(&format!("incoming/web/{id}.pdf")),
            Some(IncomingKey {
                channel: Channel::Web,
                document_id: id.clone(),
                kind: IncomingKind::Document,
            })
        );
        assert_eq!(
            parse_incoming_key(&format!("incoming/web/{id}.p7s")).map(|k| k.kind),
            Some(IncomingKind::DetachedSignature)
        );
        for key in [
            "incoming/web/.p7s".to_string(),
            "incoming/web/.pdf".to_string(),
            format!("incoming/web/{id}.exe"),
            format!("incoming/other/{id}.pdf"),
            "incoming/web/../../x.pdf".to_string(),
            format!("incoming/web/{id}/x.pdf"),
            format!("incoming/stations/{id}.pdf"),
            format!("incoming/stations/Mogilska/{id}.pdf"),
            format!("incoming/stations/mogilska/{id}.p7s"),
            format!("incoming/stations/mogilska/x/{id}.pdf"),
        ] {
            assert_eq!(parse_incoming_key(&key), None, "{key}");
        }
    }

    #[test]
    fn station_keys_parse_as_drop_box_documents() {
        let id = new_document_id();
        let key = station_upload_key("os-zgody", &id);
        assert_eq!(key, format!("incoming/stations/os-zgody/{id}.pdf"));
        assert_eq!(
            parse_incoming_key(&key),
            Some(IncomingKey {
                channel: Channel::DropBox,
                document_id: id,
                kind: IncomingKind::Document,
            })
        );
    }

    #[test]
    fn ids_sort_by_creation_and_stray_ids_are_stable() {
        let a = new_document_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_document_id();
        assert!(a < b);
        assert_eq!(stray_object_id("b", "k"), stray_object_id("b", "k"));
        assert_ne!(stray_object_id("b", "k"), stray_object_id("b", "k2"));
    }

    #[test]
    fn archive_key_is_content_addressed() {
        let h = DocumentHash::of(b"abc");
        assert_eq!(
            archive_key(&h),
            "sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.pdf"
        );
    }
}
