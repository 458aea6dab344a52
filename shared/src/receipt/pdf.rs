//! The receipt as a PDF, in Polish with a short English line under each heading, ready for
//! the office's PAdES signature.
//!
//! [`prepare`] lays the receipt out on one A4 page (two when the reasons are many), attaches
//! its XML ([`super::xml::to_xml`]) as `potwierdzenie.xml`, and leaves an invisible signature
//! field whose signature dictionary reserves room for the CMS: `/Contents` is a run of hex
//! zeros and `/ByteRange` covers everything else. The caller signs [`Prepared::digest`] (or
//! [`Prepared::signed_content`]) elsewhere and puts the CMS in with [`Prepared::embed`], which
//! changes no other byte.
//!
//! The file is written by hand rather than through `lopdf`'s writer, because signing needs
//! exact control over where each byte lands: a classic cross-reference table, no object
//! streams, `/ByteRange` in fixed-width fields patched in place.
//!
//! Text uses the standard Helvetica and Helvetica-Bold, not embedded, with an `/Encoding`
//! whose `/Differences` puts the Polish letters at their Windows-1250 codes (codes whose
//! WinAnsi characters the receipt never uses); other Latin letters are transliterated and
//! anything else becomes `?`, never a panic. The XML attachment keeps every string exactly.

use super::model::{Receipt, ReceiptChannel, ReceiptOutcome, TimeSource};
use super::xml::to_xml;
use crate::domain::deadline::{Deadline, StatutoryPeriod};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};
use std::io::Write as _;

/// The room reserved for the CMS signature, in bytes (the placeholder holds twice as many hex
/// digits): enough for the signer's chain and an RFC 3161 time-stamp token with its own.
pub const CMS_CAPACITY: usize = 32 * 1024;

// A certificate chain plus an RFC 3161 token with its own chain needs well over 10 kB.
const _: () = assert!(CMS_CAPACITY >= 20_000);

/// The name of the XML attachment.
pub const ATTACHMENT_NAME: &str = "potwierdzenie.xml";

/// What can go wrong making or completing the receipt PDF.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptPdfError {
    /// The CMS does not fit in the reserved `/Contents`.
    #[error("the CMS signature is {size} bytes, more than the {capacity} bytes reserved")]
    CmsTooLarge {
        /// The CMS's size.
        size: usize,
        /// The room reserved ([`CMS_CAPACITY`]).
        capacity: usize,
    },
    /// An empty CMS was given.
    #[error("the CMS signature is empty")]
    EmptyCms,
    /// The prepared bytes no longer have the placeholder where the byte range says (they were
    /// changed after [`prepare`]).
    #[error("the signature placeholder is not where the byte range says")]
    PlaceholderMoved,
    /// The file would be too large for the fixed-width `/ByteRange` fields.
    #[error("the receipt PDF is too large ({0} bytes)")]
    TooLarge(usize),
    /// Compressing a stream failed.
    #[error("compressing a PDF stream failed: {0}")]
    Compress(#[from] std::io::Error),
}

/// An unsigned receipt PDF with its signature placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The PDF, with `/Contents` all zeros.
    pub bytes: Vec<u8>,
    /// The `/ByteRange` written in the file: `[0, a, b, c]`, the signed bytes being `0..a` and
    /// `b..b + c`; `a..b` is the `/Contents` hex string, angle brackets included.
    pub byte_range: [usize; 4],
}

impl Prepared {
    /// The two byte ranges the signature covers, in order.
    pub fn signed_content(&self) -> impl Iterator<Item = &[u8]> {
        let [start, len1, start2, len2] = self.byte_range;
        let first = self.bytes.get(start..start.saturating_add(len1));
        let second = self.bytes.get(start2..start2.saturating_add(len2));
        [first, second].into_iter().map(|r| r.unwrap_or(&[]))
    }

    /// The SHA-256 of the signed content: the message digest the CMS signs.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in self.signed_content() {
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// The room reserved for the CMS, in bytes.
    pub fn capacity(&self) -> usize {
        CMS_CAPACITY
    }

    /// The signed PDF: the CMS (DER) written into the placeholder as hex, padded with zeros
    /// as PDF signatures are; the length and every other byte stay as they were.
    pub fn embed(mut self, cms_der: &[u8]) -> Result<Vec<u8>, ReceiptPdfError> {
        if cms_der.is_empty() {
            return Err(ReceiptPdfError::EmptyCms);
        }
        if cms_der.len() > CMS_CAPACITY {
            return Err(ReceiptPdfError::CmsTooLarge {
                size: cms_der.len(),
                capacity: CMS_CAPACITY,
            });
        }
        let [_, open, after, rest] = self.byte_range;
        // The placeholder must still be `<00…00>` exactly where the byte range says: the
        // fields are public, and a signature over moved bytes would never verify.
        let well_placed = open.checked_add(2 * CMS_CAPACITY + 2) == Some(after)
            && after.checked_add(rest) == Some(self.bytes.len())
            && self.bytes.get(open) == Some(&b'<')
            && self.bytes.get(after - 1) == Some(&b'>');
        if !well_placed {
            return Err(ReceiptPdfError::PlaceholderMoved);
        }
        let hex_digits = self
            .bytes
            .get_mut(open + 1..after - 1)
            .ok_or(ReceiptPdfError::PlaceholderMoved)?;
        let hex = hex::encode_upper(cms_der);
        hex_digits[..hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

/// The receipt as an unsigned PDF with its signature placeholder; `signer_name` (the office's
/// certificate holder) goes in the signature dictionary's `/Name` and on the page.
pub fn prepare(receipt: &Receipt, signer_name: &str) -> Result<Prepared, ReceiptPdfError> {
    let pages = paginate(receipt, signer_name);
    let xml = to_xml(receipt);
    write_pdf(receipt, signer_name, &pages, xml.as_bytes())
}

// ---------------------------------------------------------------------------------------
// Text: encoding and widths.

/// The two fonts the receipt uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    fn widths(self) -> &'static [u16; 256] {
        match self {
            Font::Regular => &WIDTHS_REGULAR,
            Font::Bold => &WIDTHS_BOLD,
        }
    }
}

/// The codes `/Differences` (re)defines over WinAnsiEncoding: the Polish letters at their
/// Windows-1250 codes, and the punctuation the receipt uses, restated at its WinAnsi code so
/// that the encoding says it outright.
const DIFFERENCES: &[(char, u8, &str)] = &[
    ('€', 0x80, "Euro"),
    ('„', 0x84, "quotedblbase"),
    ('…', 0x85, "ellipsis"),
    ('Ś', 0x8C, "Sacute"),
    ('Ź', 0x8F, "Zacute"),
    ('‘', 0x91, "quoteleft"),
    ('’', 0x92, "quoteright"),
    ('“', 0x93, "quotedblleft"),
    ('”', 0x94, "quotedblright"),
    ('•', 0x95, "bullet"),
    ('–', 0x96, "endash"),
    ('—', 0x97, "emdash"),
    ('ś', 0x9C, "sacute"),
    ('ź', 0x9F, "zacute"),
    ('Ł', 0xA3, "Lslash"),
    ('Ą', 0xA5, "Aogonek"),
    ('§', 0xA7, "section"),
    ('Ż', 0xAF, "Zdotaccent"),
    ('ł', 0xB3, "lslash"),
    ('ą', 0xB9, "aogonek"),
    ('ż', 0xBF, "zdotaccent"),
    ('Ć', 0xC6, "Cacute"),
    ('Ę', 0xCA, "Eogonek"),
    ('Ń', 0xD1, "Nacute"),
    ('Ó', 0xD3, "Oacute"),
    ('ć', 0xE6, "cacute"),
    ('ę', 0xEA, "eogonek"),
    ('ń', 0xF1, "nacute"),
    ('ó', 0xF3, "oacute"),
];

/// WinAnsi characters in 0x80–0x9F kept at their own codes (the rest of that row is either
/// remapped above or unused).
const WINANSI_HIGH: &[(char, u8)] = &[
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Ž', 0x8E),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('ž', 0x9E),
];

/// Latin letters with no code of their own here, spelled without their marks (Czech,
/// Slovak, Hungarian, Baltic, Romanian, Turkish names are common on file names), and the
/// Latin-1 characters whose codes the Polish letters took.
const FOLDS: &[(char, &str)] = &[
    ('Æ', "AE"),
    ('æ', "ae"),
    ('Ê', "E"),
    ('ê', "e"),
    ('Ñ', "N"),
    ('ñ', "n"),
    ('Œ', "OE"),
    ('œ', "oe"),
    ('Ÿ', "Y"),
    ('£', "GBP"),
    ('¥', "JPY"),
    ('¿', "?"),
    ('¯', "-"),
    ('³', "3"),
    ('¹', "1"),
    ('\u{AD}', ""),
    ('Ā', "A"),
    ('ā', "a"),
    ('Ă', "A"),
    ('ă', "a"),
    ('Ĉ', "C"),
    ('ĉ', "c"),
    ('Ċ', "C"),
    ('ċ', "c"),
    ('Č', "C"),
    ('č', "c"),
    ('Ď', "D"),
    ('ď', "d"),
    ('Đ', "D"),
    ('đ', "d"),
    ('Ē', "E"),
    ('ē', "e"),
    ('Ė', "E"),
    ('ė', "e"),
    ('Ě', "E"),
    ('ě', "e"),
    ('Ğ', "G"),
    ('ğ', "g"),
    ('Ģ', "G"),
    ('ģ', "g"),
    ('Ī', "I"),
    ('ī', "i"),
    ('Į', "I"),
    ('į', "i"),
    ('İ', "I"),
    ('ı', "i"),
    ('Ķ', "K"),
    ('ķ', "k"),
    ('Ĺ', "L"),
    ('ĺ', "l"),
    ('Ļ', "L"),
    ('ļ', "l"),
    ('Ľ', "L"),
    ('ľ', "l"),
    ('Ņ', "N"),
    ('ņ', "n"),
    ('Ň', "N"),
    ('ň', "n"),
    ('Ō', "O"),
    ('ō', "o"),
    ('Ő', "O"),
    ('ő', "o"),
    ('Ŕ', "R"),
    ('ŕ', "r"),
    ('Ř', "R"),
    ('ř', "r"),
    ('Ş', "S"),
    ('ş', "s"),
    ('Ș', "S"),
    ('ș', "s"),
    ('Ţ', "T"),
    ('ţ', "t"),
    ('Ț', "T"),
    ('ț', "t"),
    ('Ť', "T"),
    ('ť', "t"),
    ('Ū', "U"),
    ('ū', "u"),
    ('Ů', "U"),
    ('ů', "u"),
    ('Ű', "U"),
    ('ű', "u"),
    ('Ų', "U"),
    ('ų', "u"),
    ('Ŷ', "Y"),
    ('ŷ', "y"),
    ('−', "-"),
    ('‐', "-"),
    ('‑', "-"),
    ('′', "'"),
    ('″', "\""),
];

/// Latin-1 codes (0xA0–0xFF) that the Polish letters took over, so that the Latin-1
/// character of the same number must not pass through.
fn is_remapped_latin1(code: u8) -> bool {
    DIFFERENCES
        .iter()
        .any(|&(c, k, _)| k == code && c as u32 != u32::from(code))
}

/// The code of a character this encoding has, if it has one.
fn code_of(c: char) -> Option<u8> {
    match c {
        ' '..='~' => u8::try_from(c).ok(),
        // No-break space: the space glyph, but one the line breaker keeps whole.
        '\u{A0}' => Some(0xA0),
        _ => {
            if let Some(&(_, code, _)) = DIFFERENCES.iter().find(|&&(d, _, _)| d == c) {
                return Some(code);
            }
            if let Some(&(_, code)) = WINANSI_HIGH.iter().find(|&&(d, _)| d == c) {
                return Some(code);
            }
            // The rest of Latin-1 is WinAnsi at the same codes.
            let code = u8::try_from(u32::from(c)).ok()?;
            (code >= 0xA1 && code != 0xAD && !is_remapped_latin1(code)).then_some(code)
        }
    }
}

/// Text in the fonts' encoding, and whether anything had to be replaced by `?`: one `?` a
/// character, a longer run as `[?×N]` (a name in another script would fill lines with `?`).
fn encode(text: &str) -> (Vec<u8>, bool) {
    fn flush(out: &mut Vec<u8>, lost: &mut usize) {
        match *lost {
            0 => {}
            n @ 1..=3 => out.extend(std::iter::repeat_n(b'?', n)),
            n => {
                // 0xD7 is the multiplication sign in WinAnsi.
                out.extend_from_slice(b"[?\xD7");
                out.extend_from_slice(n.to_string().as_bytes());
                out.push(b']');
            }
        }
        *lost = 0;
    }
    let mut out = Vec::with_capacity(text.len());
    let mut lossy = false;
    let mut lost = 0;
    for c in text.chars() {
        let known = code_of(c).is_some()
            || c.is_whitespace()
            || c.is_control()
            || FOLDS.iter().any(|&(d, _)| d == c);
        if known {
            flush(&mut out, &mut lost);
        }
        if let Some(code) = code_of(c) {
            out.push(code);
        } else if c.is_whitespace() {
            out.push(b' ');
        } else if c.is_control() {
            // Control characters have no glyph and mean nothing on paper.
        } else if let Some(&(_, folded)) = FOLDS.iter().find(|&&(d, _)| d == c) {
            out.extend(folded.chars().filter_map(code_of));
        } else {
            lost += 1;
            lossy = true;
        }
    }
    flush(&mut out, &mut lost);
    (out, lossy)
}

/// The advance width of encoded text, in points; an unknown code counts as a full em, which
/// keeps the estimate conservative.
fn text_width(font: Font, size: f32, text: &[u8]) -> f32 {
    let widths = font.widths();
    let units: u32 = text
        .iter()
        .map(|&b| match widths[usize::from(b)] {
            0 => 1000,
            w => u32::from(w),
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Encoded text as a PDF literal string: `(`, `)` and `\` escaped, bytes outside printable
/// ASCII as octal escapes so that the content stream stays 7-bit.
fn literal(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for &b in text {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push(')');
    out
}

/// A PDF text string (document information, signature dictionary): a literal for printable
/// ASCII, UTF-16BE with its byte order mark otherwise, as the PDF specification has it.
fn text_string(text: &str) -> String {
    if text.chars().all(|c| matches!(c, ' '..='~')) {
        literal(text.as_bytes())
    } else {
        let mut out = String::from("<FEFF");
        for unit in text.encode_utf16() {
            out.push_str(&format!("{unit:04X}"));
        }
        out.push('>');
        out
    }
}

// ---------------------------------------------------------------------------------------
// Words: dates, numbers, plurals in Polish.

const MONTHS_GENITIVE: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];

fn month_genitive(month: i8) -> &'static str {
    usize::try_from(month - 1)
        .ok()
        .and_then(|i| MONTHS_GENITIVE.get(i))
        .copied()
        .unwrap_or("")
}

fn weekday_pl(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "poniedziałek",
        Weekday::Tuesday => "wtorek",
        Weekday::Wednesday => "środa",
        Weekday::Thursday => "czwartek",
        Weekday::Friday => "piątek",
        Weekday::Saturday => "sobota",
        Weekday::Sunday => "niedziela",
    }
}

/// "3 listopada 2025 r."
fn date_pl(day: Date) -> String {
    // No-break spaces keep a date on one line.
    format!(
        "{}\u{A0}{}\u{A0}{}\u{A0}r.",
        day.day(),
        month_genitive(day.month()),
        day.year()
    )
}

/// "1 grudnia 2026, 19:14:05 CET": the instant on the office's clock, with the zone's
/// abbreviation (CET in winter, CEST in summer).
fn warsaw_pl(at: Timestamp) -> String {
    let tz = TimeZone::get("Europe/Warsaw").unwrap_or(TimeZone::UTC);
    let local = at.to_zoned_datetime(tz);
    let zone = match local.offset().seconds() {
        3600 => "CET".to_string(),
        7200 => "CEST".to_string(),
        _ => format!("UTC{}", local.offset()),
    };
    format!(
        "{}\u{A0}{}\u{A0}{}, {:02}:{:02}:{:02}\u{A0}{zone}",
        local.day(),
        month_genitive(local.month()),
        local.year(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// RFC 3339 in UTC to the second (`2026-12-01T18:14:05Z`), as the page shows it; the XML
/// keeps the fraction.
fn utc_seconds(at: Timestamp) -> String {
    format!("{at:.0}")
}

/// `1 234 567`, grouped by no-break spaces as Polish writes large numbers.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{A0}');
        }
        out.push(c);
    }
    out
}

/// The Polish plural form for `n`: one (1), few (2–4, 22–24, ... but not 12–14) or many.
fn plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
        few
    } else {
        many
    }
}

fn period_pl(period: StatutoryPeriod) -> Option<String> {
    match period {
        StatutoryPeriod::None | StatutoryPeriod::Days(0) | StatutoryPeriod::Months(0) => None,
        StatutoryPeriod::Days(n) => Some(format!(
            "{n} {}",
            plural(u64::from(n), "dzień", "dni", "dni")
        )),
        StatutoryPeriod::Months(n) => Some(format!(
            "{n} {}",
            plural(u64::from(n), "miesiąc", "miesiące", "miesięcy")
        )),
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut: no field can push the
/// receipt past its pages, whatever it holds (the XML keeps it whole).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

// ---------------------------------------------------------------------------------------
// Layout.

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_LEFT: f32 = 56.0;
const MARGIN_RIGHT: f32 = 56.0;
const CONTENT_RIGHT: f32 = PAGE_WIDTH - MARGIN_RIGHT;
/// Nothing but the footer goes below this.
const CONTENT_BOTTOM: f32 = 64.0;
const LABEL_WIDTH: f32 = 150.0;
const VALUE_X: f32 = MARGIN_LEFT + LABEL_WIDTH + 12.0;
const VALUE_WIDTH: f32 = CONTENT_RIGHT - VALUE_X;
const FULL_WIDTH: f32 = CONTENT_RIGHT - MARGIN_LEFT;
const ROW_PAD: f32 = 4.5;
/// A row up to this tall moves to the next page whole rather than break; a taller one (a
/// long list of reasons) starts where it is and continues overleaf.
const KEEP_WHOLE: f32 = 150.0;
/// Lines are broken to this share of the measured width: a margin for viewers that
/// substitute a slightly wider font for the non-embedded Helvetica.
const WIDTH_SAFETY: f32 = 0.96;
/// The receipt is meant to fit on this many pages; reasons beyond what fits are summarised.
const MAX_PAGES: usize = 2;

/// How a line of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    font: Font,
    size: f32,
    gray: f32,
    leading: f32,
}

const LABEL_PL: Style = Style {
    font: Font::Bold,
    size: 9.0,
    gray: 0.0,
    leading: 11.0,
};
const LABEL_EN: Style = Style {
    font: Font::Regular,
    size: 7.5,
    gray: 0.4,
    leading: 9.5,
};
const VALUE: Style = Style {
    font: Font::Regular,
    size: 9.5,
    gray: 0.0,
    leading: 12.0,
};
const VALUE_BOLD: Style = Style {
    font: Font::Bold,
    ..VALUE
};
const NOTE: Style = Style {
    font: Font::Regular,
    size: 8.0,
    gray: 0.35,
    leading: 10.0,
};

/// One wrapped line, before it is placed.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    style: Style,
    /// Indent from the column's left edge (a reason's text hangs after its bullet).
    indent: f32,
    text: Vec<u8>,
}

/// Text placed on a page: `x`, `y` are the baseline's start.
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    style: Style,
    x: f32,
    y: f32,
    text: Vec<u8>,
}

impl Placed {
    #[cfg(test)]
    fn width(&self) -> f32 {
        text_width(self.style.font, self.style.size, &self.text)
    }
}

/// A horizontal rule.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    x1: f32,
    x2: f32,
    y: f32,
    width: f32,
    gray: f32,
}

/// One laid-out page.
#[derive(Debug, Clone, Default, PartialEq)]
struct Page {
    text: Vec<Placed>,
    rules: Vec<Rule>,
}

/// Encoded text broken into lines no wider than `width` (by the conservative estimate): at
/// spaces, and inside a word only when the word alone is too wide (hashes, URLs, names).
fn wrap(text: &[u8], style: Style, width: f32) -> Vec<Vec<u8>> {
    let limit = width * WIDTH_SAFETY;
    let fits = |t: &[u8]| text_width(style.font, style.size, t) <= limit;
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if fits(&candidate) {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than the column is cut where it must be.
        for &b in word {
            line.push(b);
            if !fits(&line) && line.len() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, vec![b]));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    // A no-break space has done its work: on the page it is an ordinary space, which text
    // extraction gives back as one.
    for line in &mut lines {
        for b in line.iter_mut().filter(|b| **b == 0xA0) {
            *b = b' ';
        }
    }
    lines
}

/// Text with no-break spaces where Polish typography keeps words together: a citation
/// ("art. 57 § 4 KPA") does not break inside.
fn glue(text: &str) -> String {
    text.replace("art. ", "art.\u{A0}")
        .replace(" § ", "\u{A0}§\u{A0}")
        .replace("§ ", "§\u{A0}")
        .replace(" KPA", "\u{A0}KPA")
}

/// A paragraph of lines for a column `width` wide.
fn para(out: &mut Vec<Line>, style: Style, text: &str, width: f32) {
    let (bytes, _) = encode(&glue(text));
    for text in wrap(&bytes, style, width) {
        out.push(Line {
            style,
            indent: 0.0,
            text,
        });
    }
}

/// A bulleted paragraph: the text hangs after the bullet.
fn bullet(out: &mut Vec<Line>, style: Style, text: &str, width: f32) {
    let mark = [0x95, b' '];
    let indent = text_width(style.font, style.size, &mark);
    let (bytes, _) = encode(&glue(text));
    for (i, line) in wrap(&bytes, style, width - indent).into_iter().enumerate() {
        let text = if i == 0 {
            [mark.as_slice(), &line].concat()
        } else {
            line
        };
        out.push(Line {
            style,
            indent: if i == 0 { 0.0 } else { indent },
            text,
        });
    }
}

/// One section of the receipt: the heading (Polish, then English) on the left, the value on
/// the right; or, with `full`, heading and text across the page.
#[derive(Debug, Clone, Default)]
struct Row {
    label: Vec<Line>,
    value: Vec<Line>,
    /// Repeated on a page the value continues on.
    label_pl: String,
    full: bool,
}

impl Row {
    fn new(label_pl: &str, label_en: &str) -> Row {
        let mut label = Vec::new();
        para(&mut label, LABEL_PL, label_pl, LABEL_WIDTH);
        para(&mut label, LABEL_EN, label_en, LABEL_WIDTH);
        Row {
            label,
            value: Vec::new(),
            label_pl: label_pl.to_string(),
            full: false,
        }
    }

    fn full(label_pl: &str, label_en: &str) -> Row {
        let mut label = Vec::new();
        para(&mut label, LABEL_PL, label_pl, FULL_WIDTH);
        para(&mut label, LABEL_EN, label_en, FULL_WIDTH);
        Row {
            label,
            value: Vec::new(),
            label_pl: label_pl.to_string(),
            full: true,
        }
    }

    fn width(&self) -> f32 {
        if self.full { FULL_WIDTH } else { VALUE_WIDTH }
    }

    fn text(mut self, style: Style, text: &str) -> Row {
        let width = self.width();
        para(&mut self.value, style, text, width);
        self
    }

    /// A value that may have lost characters to the encoding: if so, a note says where the
    /// exact text is.
    fn exact(self, style: Style, text: &str) -> Row {
        let lossy = encode(text).1;
        let row = self.text(style, text);
        if lossy {
            row.text(
                NOTE,
                "zawiera znaki, których ten wydruk nie oddaje (?); dokładny zapis w załączniku \
                 potwierdzenie.xml",
            )
        } else {
            row
        }
    }

    fn bullet(mut self, style: Style, text: &str) -> Row {
        let width = self.width();
        bullet(&mut self.value, style, text, width);
        self
    }
}

/// Lays rows out on pages, breaking a row across pages when it must.
struct Layout<'a> {
    pages: Vec<Page>,
    y: f32,
    register_number: &'a str,
}

impl<'a> Layout<'a> {
    fn new(register_number: &'a str) -> Layout<'a> {
        Layout {
            pages: Vec::new(),
            y: 0.0,
            register_number,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn put(&mut self, style: Style, x: f32, baseline: f32, text: &str) {
        let (text, _) = encode(text);
        self.put_bytes(style, x, baseline, text);
    }

    fn put_bytes(&mut self, style: Style, x: f32, baseline: f32, text: Vec<u8>) {
        self.page().text.push(Placed {
            style,
            x,
            y: baseline,
            text,
        });
    }

    fn rule(&mut self, y: f32, width: f32, gray: f32) {
        self.page().rules.push(Rule {
            x1: MARGIN_LEFT,
            x2: CONTENT_RIGHT,
            y,
            width,
            gray,
        });
    }

    /// The first page's letterhead and title.
    fn first_page(&mut self, office: &str) {
        self.pages.push(Page::default());
        let title = Style {
            font: Font::Bold,
            size: 16.0,
            gray: 0.0,
            leading: 20.0,
        };
        let office_style = Style {
            font: Font::Bold,
            size: 10.5,
            gray: 0.2,
            leading: 13.0,
        };
        let english = Style {
            font: Font::Regular,
            size: 10.0,
            gray: 0.4,
            leading: 12.0,
        };
        let (office, _) = encode(&clip(office, 120));
        let mut y = PAGE_HEIGHT - 50.0;
        for line in wrap(&office, office_style, FULL_WIDTH).into_iter().take(2) {
            self.put_bytes(office_style, MARGIN_LEFT, y, line);
            y -= office_style.leading;
        }
        y -= 14.0;
        self.put(title, MARGIN_LEFT, y, "Urzędowe poświadczenie przedłożenia");
        y -= 15.0;
        self.put(english, MARGIN_LEFT, y, "Official confirmation of receipt");
        y -= 10.0;
        self.rule(y, 1.0, 0.0);
        self.y = y;
    }

    /// A continuation page's header.
    fn next_page(&mut self) {
        self.pages.push(Page::default());
        let head = Style {
            font: Font::Bold,
            size: 10.0,
            gray: 0.0,
            leading: 12.0,
        };
        let english = Style {
            font: Font::Regular,
            size: 8.0,
            gray: 0.4,
            leading: 10.0,
        };
        let mut y = PAGE_HEIGHT - 50.0;
        let (number, _) = encode(&clip(self.register_number, 60));
        let mut text = encode("Urzędowe poświadczenie przedłożenia nr ").0;
        text.extend_from_slice(&number);
        text.extend_from_slice(&encode(" – ciąg dalszy").0);
        let line = wrap(&text, head, FULL_WIDTH)
            .into_iter()
            .next()
            .unwrap_or_default();
        self.put_bytes(head, MARGIN_LEFT, y, line);
        y -= 12.0;
        self.put(
            english,
            MARGIN_LEFT,
            y,
            "Official confirmation of receipt – continued",
        );
        y -= 8.0;
        self.rule(y, 1.0, 0.0);
        self.y = y;
    }

    fn height(lines: &[Line]) -> f32 {
        lines.iter().map(|l| l.style.leading).sum()
    }

    /// Places lines from `top` in a column at `x`, starting at `from`; returns the index of
    /// the first line that did not fit and where the column ended.
    fn column(&mut self, lines: &[Line], from: usize, x: f32, top: f32) -> (usize, f32) {
        let mut y = top;
        for (i, line) in lines.iter().enumerate().skip(from) {
            if y - line.style.leading < CONTENT_BOTTOM {
                return (i, y);
            }
            // The baseline sits a cap height (0.72 em for Helvetica) below the line's top,
            // plus a little air.
            let baseline = y - line.style.size * 0.8;
            self.put_bytes(line.style, x + line.indent, baseline, line.text.clone());
            y -= line.style.leading;
        }
        (lines.len(), y)
    }

    fn row(&mut self, row: &Row) {
        let label_height = Self::height(&row.label);
        let first_value = row.value.first().map_or(0.0, |l| l.style.leading);
        let needed = if row.full {
            label_height + Self::height(&row.value)
        } else {
            label_height.max(Self::height(&row.value))
        } + 2.0 * ROW_PAD;
        // A row that would not fit moves to the next page whole, unless it is taller than a
        // page: then it starts here and continues there (its heading repeated).
        let page_room = PAGE_HEIGHT - 70.0 - CONTENT_BOTTOM;
        let min_start = (label_height + first_value + 2.0 * ROW_PAD).min(page_room);
        if self.y - needed < CONTENT_BOTTOM
            && (needed <= page_room.min(KEEP_WHOLE) || self.y - min_start < CONTENT_BOTTOM)
        {
            self.next_page();
        }
        let top = self.y - ROW_PAD;
        let (_, mut label_end) = self.column(&row.label, 0, MARGIN_LEFT, top);
        let (value_x, value_top) = if row.full {
            (MARGIN_LEFT, label_end - 2.0)
        } else {
            (VALUE_X, top)
        };
        let (mut next, mut value_end) = self.column(&row.value, 0, value_x, value_top);
        while next < row.value.len() {
            self.next_page();
            let top = self.y - ROW_PAD;
            let mut cont = Vec::new();
            let width = if row.full { FULL_WIDTH } else { LABEL_WIDTH };
            para(
                &mut cont,
                LABEL_PL,
                &format!("{} (cd.)", row.label_pl),
                width,
            );
            para(&mut cont, LABEL_EN, "continued", width);
            (_, label_end) = self.column(&cont, 0, MARGIN_LEFT, top);
            let value_top = if row.full { label_end - 2.0 } else { top };
            let before = next;
            (next, value_end) = self.column(&row.value, next, value_x, value_top);
            if next == before {
                // Not even one line fits on a fresh page: cannot happen with the styles
                // above, but never loop forever.
                break;
            }
        }
        let end = if row.full {
            value_end
        } else {
            value_end.min(label_end)
        };
        self.y = end - ROW_PAD;
        self.rule(self.y, 0.4, 0.75);
    }

    /// Page numbers and the register number at the foot of every page.
    fn footers(&mut self, office: &str) {
        let style = Style {
            font: Font::Regular,
            size: 7.5,
            gray: 0.4,
            leading: 9.0,
        };
        let count = self.pages.len();
        let (left, _) = encode(&format!(
            "{} – {}",
            clip(self.register_number, 60),
            clip(office, 60)
        ));
        let left = wrap(&left, style, FULL_WIDTH * 0.62)
            .into_iter()
            .next()
            .unwrap_or_default();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let (right, _) = encode(&format!(
                "Strona {} z {count} / Page {} of {count}",
                i + 1,
                i + 1
            ));
            let x = CONTENT_RIGHT - text_width(style.font, style.size, &right) / WIDTH_SAFETY;
            page.rules.push(Rule {
                x1: MARGIN_LEFT,
                x2: CONTENT_RIGHT,
                y: 48.0,
                width: 0.4,
                gray: 0.6,
            });
            page.text.push(Placed {
                style,
                x: MARGIN_LEFT,
                y: 38.0,
                text: left.clone(),
            });
            page.text.push(Placed {
                style,
                x,
                y: 38.0,
                text: right,
            });
        }
    }
}

/// The receipt's sections, with at most `max_reasons` reasons listed one by one.
fn rows(receipt: &Receipt, signer_name: &str, max_reasons: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let office = &receipt.office;
    rows.push(
        Row::new("Urząd", "Office")
            .text(
                VALUE_BOLD,
                &format!("{} ({})", clip(&office.name, 200), clip(&office.code, 40)),
            )
            .text(VALUE, &clip(&office.address, 200)),
    );
    rows.push(
        Row::new("Numer w rejestrze", "Register number")
            .exact(VALUE_BOLD, &clip(&receipt.register_number, 200)),
    );
    rows.push(
        Row::new("Identyfikator dokumentu", "Document identifier")
            .exact(VALUE, &clip(&receipt.document_id, 200)),
    );
    let channel = Row::new("Sposób przedłożenia", "Channel");
    rows.push(match &receipt.channel {
        ReceiptChannel::WebForm => {
            channel.text(VALUE, "formularz internetowy (drogą elektroniczną)")
        }
        ReceiptChannel::DropBox {
            site,
            site_address,
            envelope,
            batch_id,
        } => {
            let mut row = channel
                .text(VALUE, "skrzynka podawcza (dokument papierowy, zeskanowany)")
                .exact(VALUE, &format!("punkt: {}", clip(site, 200)));
            if let Some(address) = site_address {
                row = row.exact(VALUE, &format!("adres: {}", clip(address, 200)));
            }
            if let Some(envelope) = envelope {
                row = row.exact(VALUE, &format!("koperta: {}", clip(envelope, 200)));
            }
            if let Some(batch) = batch_id {
                row = row.exact(VALUE, &format!("partia: {}", clip(batch, 200)));
            }
            row
        }
    });
    let service = Row::new("Sprawa (usługa)", "Service");
    rows.push(match &receipt.service {
        Some(s) => service
            .exact(VALUE, &clip(&s.name_pl, 200))
            .text(NOTE, &format!("identyfikator: {}", clip(&s.id, 100))),
        None => service.text(VALUE, "nie wskazano"),
    });
    let file = Row::new("Nazwa pliku", "File name");
    rows.push(match &receipt.file_name {
        Some(name) => file.exact(VALUE, &clip(name, 300)),
        None => file.text(VALUE, "nie podano"),
    });
    let pages = match receipt.pages {
        Some(n) => format!("{n} {}", plural(u64::from(n), "strona", "strony", "stron")),
        None => "liczby stron nie ustalono".to_string(),
    };
    rows.push(
        Row::new("Rozmiar i liczba stron", "Size (bytes), pages").text(
            VALUE,
            &format!(
                "{} {}; {pages}",
                grouped(receipt.size),
                plural(receipt.size, "bajt", "bajty", "bajtów")
            ),
        ),
    );
    // Two halves of 32 digits: the hash reads (and compares) better in even lines.
    let sha = clip(&receipt.sha256, 128);
    let (head, tail) = sha.split_at(sha.char_indices().nth(32).map_or(sha.len(), |(i, _)| i));
    let mut hash = Row::new("Skrót SHA-256", "SHA-256 (hex)").exact(VALUE, head);
    if !tail.is_empty() {
        hash = hash.exact(VALUE, tail);
    }
    rows.push(hash);
    rows.push(
        Row::new("Data i godzina przedłożenia", "Time of receipt")
            .text(VALUE_BOLD, &warsaw_pl(receipt.received_at))
            .text(
                VALUE,
                &format!("{} (UTC)", utc_seconds(receipt.received_at)),
            ),
    );
    rows.push(verdict(receipt, max_reasons));
    rows.push(deadline_row(receipt));
    let source = Row::new("Źródło czasu", "Time source");
    rows.push(match &receipt.time_source {
        TimeSource::OfficeClock => source.text(VALUE, "zegar systemu urzędu"),
        TimeSource::TimestampAuthority(url) => source
            .text(VALUE, "znacznik czasu (RFC 3161) z usługi:")
            .exact(VALUE, &clip(url, 300)),
    });
    rows.push(
        Row::new("Data wystawienia poświadczenia", "Issued")
            .text(VALUE, &warsaw_pl(receipt.issued_at))
            .text(VALUE, &format!("{} (UTC)", utc_seconds(receipt.issued_at))),
    );
    rows.push(
        Row::full("Jak sprawdzić to poświadczenie", "How to verify")
            .text(
                VALUE,
                &format!(
                    "Plik PDF jest podpisany elektronicznie przez urząd (podpis PAdES: {}). \
                     Ważność podpisu można sprawdzić w programie do odczytu PDF lub w usłudze \
                     weryfikacji podpisów. Załącznik potwierdzenie.xml (schemat \
                     urn:intake:receipt:1) zawiera te same dane w postaci XML; skrót SHA-256 \
                     pozwala potwierdzić, że chodzi o ten sam plik.",
                    clip(signer_name, 200)
                ),
            )
            .text(
                NOTE,
                "This PDF is signed by the office; check the signature in a PDF reader or a \
                 signature validation service. The attachment potwierdzenie.xml carries the \
                 same data as XML.",
            ),
    );
    rows
}

fn verdict(receipt: &Receipt, max_reasons: usize) -> Row {
    let row = Row::new("Rozstrzygnięcie", "Verdict");
    let mut row = match receipt.outcome {
        ReceiptOutcome::Accepted => row
            .text(VALUE_BOLD, "przyjęty")
            .text(NOTE, "dokument przekazano do właściwej komórki urzędu"),
        ReceiptOutcome::Rejected => row.text(VALUE_BOLD, "odrzucony").text(
            NOTE,
            "dokument otrzymano, ale nie przyjęto; otrzymane dane są przechowywane",
        ),
        ReceiptOutcome::Duplicate => row
            .text(VALUE_BOLD, "duplikat")
            .text(NOTE, "te same dane urząd otrzymał już wcześniej"),
    };
    if let Some(first) = &receipt.duplicate_of {
        row = row.exact(VALUE, &format!("pierwotny dokument: {}", clip(first, 200)));
    }
    if !receipt.reasons.is_empty() {
        let heading = match receipt.outcome {
            ReceiptOutcome::Accepted => "Uwagi:",
            _ => "Powody:",
        };
        row = row.text(VALUE_BOLD, heading);
        for reason in receipt.reasons.iter().take(max_reasons) {
            row = row.bullet(
                VALUE,
                &format!(
                    "{} ({})",
                    clip(&reason.text_pl, 400),
                    clip(&reason.code, 64)
                ),
            );
        }
        let rest = receipt.reasons.len().saturating_sub(max_reasons) as u64;
        if rest > 0 {
            row = row.text(
                VALUE,
                &format!(
                    "… i {rest} {} (pełna lista w załączniku potwierdzenie.xml)",
                    plural(rest, "inny powód", "inne powody", "innych powodów")
                ),
            );
        }
    }
    row
}

fn deadline_row(receipt: &Receipt) -> Row {
    let row = Row::new("Termin załatwienia sprawy", "Statutory deadline");
    let period = period_pl(receipt.period);
    let Some(deadline) = &receipt.deadline else {
        let why = match (receipt.outcome, &period) {
            (ReceiptOutcome::Rejected, _) => "dokumentu nie przyjęto",
            (_, None) => "sprawa nie ma ustawowego terminu (art. 35 KPA)",
            (ReceiptOutcome::Duplicate, _) => "termin biegnie od pierwotnego dokumentu",
            _ => "terminu nie ustalono",
        };
        return row
            .text(VALUE_BOLD, "brak terminu")
            .text(NOTE, &format!("{why} / no deadline"));
    };
    deadline_lines(row, deadline)
}

fn deadline_lines(row: Row, deadline: &Deadline) -> Row {
    let period = period_pl(deadline.period).unwrap_or_default();
    let article = match deadline.period {
        StatutoryPeriod::Days(_) => "art. 57 § 1 KPA",
        _ => "art. 57 § 3 KPA",
    };
    let mut row = row
        .text(
            VALUE,
            &format!(
                "{period} (art. 35 KPA), liczony od dnia przedłożenia {} ({article})",
                date_pl(deadline.received)
            ),
        )
        .text(
            VALUE_BOLD,
            &format!(
                "upływa {} ({})",
                date_pl(deadline.due),
                weekday_pl(deadline.due.weekday())
            ),
        );
    if !deadline.moved_because.is_empty() {
        let days: Vec<String> = deadline
            .moved_because
            .iter()
            .map(|s| {
                format!(
                    "{}\u{A0}{}\u{A0}– {}",
                    s.day.day(),
                    month_genitive(s.day.month()),
                    s.reason.name_pl()
                )
            })
            .collect();
        row = row.text(
            VALUE,
            &format!(
                "przesunięty z {} na następny dzień roboczy (art. 57 § 4 KPA); dni wolne: {}",
                date_pl(deadline.nominal_end),
                days.join("; ")
            ),
        );
    }
    row
}

fn lay_out(receipt: &Receipt, signer_name: &str, max_reasons: usize) -> Vec<Page> {
    let mut layout = Layout::new(&receipt.register_number);
    layout.first_page(&receipt.office.name);
    for row in rows(receipt, signer_name, max_reasons) {
        layout.row(&row);
    }
    layout.footers(&receipt.office.name);
    layout.pages
}

/// The receipt's pages: every reason when they fit on [`MAX_PAGES`], else as many as fit and
/// a line saying how many more (the XML lists them all).
fn paginate(receipt: &Receipt, signer_name: &str) -> Vec<Page> {
    let all = receipt.reasons.len();
    let pages = lay_out(receipt, signer_name, all);
    if pages.len() <= MAX_PAGES || all == 0 {
        return pages;
    }
    // The most reasons that still fit: the page count grows with the count.
    let (mut fits, mut overflows) = (0, all);
    while overflows - fits > 1 {
        let mid = fits + (overflows - fits) / 2;
        if lay_out(receipt, signer_name, mid).len() <= MAX_PAGES {
            fits = mid;
        } else {
            overflows = mid;
        }
    }
    lay_out(receipt, signer_name, fits)
}

// ---------------------------------------------------------------------------------------
// The file.

/// Fixed object numbers; pages and their content streams follow from `FIRST_PAGE` on.
const CATALOG: usize = 1;
const PAGES: usize = 2;
const FONT_REGULAR: usize = 3;
const FONT_BOLD: usize = 4;
const ENCODING: usize = 5;
const INFO: usize = 6;
const SIG_FIELD: usize = 7;
const SIG_VALUE: usize = 8;
const FILESPEC: usize = 9;
const EMBEDDED_FILE: usize = 10;
const FIRST_PAGE: usize = 11;

/// The width of each `/ByteRange` number after the leading 0: ten digits, space-padded.
const BYTE_RANGE_DIGITS: usize = 10;

struct Writer {
    buf: Vec<u8>,
    offsets: Vec<usize>,
}

impl Writer {
    fn object(&mut self, number: usize, body: &str) {
        self.begin(number);
        self.buf.extend_from_slice(body.as_bytes());
        self.end();
    }

    fn begin(&mut self, number: usize) {
        if let Some(slot) = self.offsets.get_mut(number) {
            *slot = self.buf.len();
        }
        self.buf
            .extend_from_slice(format!("{number} 0 obj\n").as_bytes());
    }

    fn end(&mut self) {
        self.buf.extend_from_slice(b"\nendobj\n");
    }

    fn stream(&mut self, number: usize, dict: &str, data: &[u8]) {
        self.begin(number);
        self.buf
            .extend_from_slice(format!("<< {dict} /Length {} >>\nstream\n", data.len()).as_bytes());
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\nendstream");
        self.end();
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, ReceiptPdfError> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

/// `D:20261201181405+00'00'`: a PDF date, in UTC.
fn pdf_date(at: Timestamp) -> String {
    format!("D:{}+00'00'", at.strftime("%Y%m%d%H%M%S"))
}

fn content_stream(page: &Page) -> String {
    let mut out = String::new();
    for rule in &page.rules {
        out.push_str(&format!(
            "q {:.2} w {:.2} G {:.2} {:.2} m {:.2} {:.2} l S Q\n",
            rule.width, rule.gray, rule.x1, rule.y, rule.x2, rule.y
        ));
    }
    for placed in &page.text {
        if placed.text.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "BT /{} {:.2} Tf {:.2} g {:.2} {:.2} Td {} Tj ET\n",
            placed.style.font.resource(),
            placed.style.size,
            placed.style.gray,
            placed.x,
            placed.y,
            literal(&placed.text)
        ));
    }
    out
}

fn encoding_dict() -> String {
    let mut sorted: Vec<&(char, u8, &str)> = DIFFERENCES.iter().collect();
    sorted.sort_by_key(|d| d.1);
    let mut out = String::from("<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [");
    for (_, code, name) in sorted {
        out.push_str(&format!(" {code} /{name}"));
    }
    out.push_str(" ] >>");
    out
}

fn write_pdf(
    receipt: &Receipt,
    signer_name: &str,
    pages: &[Page],
    xml: &[u8],
) -> Result<Prepared, ReceiptPdfError> {
    let size = FIRST_PAGE + 2 * pages.len();
    let mut w = Writer {
        // A comment of high bytes marks the file as binary for transfer tools.
        buf: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
        offsets: vec![0; size],
    };
    let name = literal(ATTACHMENT_NAME.as_bytes());
    let issued = pdf_date(receipt.issued_at);

    w.object(
        CATALOG,
        &format!(
            "<< /Type /Catalog /Pages {PAGES} 0 R /Lang (pl-PL) \
             /AcroForm << /Fields [{SIG_FIELD} 0 R] /SigFlags 3 >> \
             /Names << /EmbeddedFiles << /Names [{name} {FILESPEC} 0 R] >> >> \
             /AF [{FILESPEC} 0 R] >>"
        ),
    );
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", FIRST_PAGE + 2 * i))
        .collect();
    w.object(
        PAGES,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        ),
    );
    for (number, base) in [(FONT_REGULAR, "Helvetica"), (FONT_BOLD, "Helvetica-Bold")] {
        w.object(
            number,
            &format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding {ENCODING} 0 R >>"
            ),
        );
    }
    w.object(ENCODING, &encoding_dict());
    let title = format!(
        "Urzędowe poświadczenie przedłożenia {}",
        clip(&receipt.register_number, 200)
    );
    w.object(
        INFO,
        &format!(
            "<< /Title {} /Author {} /Subject {} /Producer (intake) /Creator (intake) \
             /CreationDate ({issued}) /ModDate ({issued}) >>",
            text_string(&title),
            text_string(&clip(&receipt.office.name, 200)),
            text_string("Official confirmation of receipt"),
        ),
    );
    // An invisible signature: a merged field and widget with an empty rectangle, printed and
    // locked (flags 4 + 128), on page 1.
    w.object(
        SIG_FIELD,
        &format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Podpis urzedu) /V {SIG_VALUE} 0 R \
             /Rect [0 0 0 0] /F 132 /P {FIRST_PAGE} 0 R >>"
        ),
    );

    // The signature dictionary, with the placeholders whose offsets are patched below.
    w.begin(SIG_VALUE);
    w.buf.extend_from_slice(
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 ",
    );
    let byte_range_at = w.buf.len();
    let blank = format!("{:>width$}", 0, width = BYTE_RANGE_DIGITS);
    w.buf
        .extend_from_slice(format!("{blank} {blank} {blank}] /Contents ").as_bytes());
    let contents_at = w.buf.len();
    w.buf.push(b'<');
    w.buf.resize(w.buf.len() + 2 * CMS_CAPACITY, b'0');
    w.buf.push(b'>');
    let contents_end = w.buf.len();
    w.buf.extend_from_slice(
        format!(
            " /M ({issued}) /Name {} /Reason {} >>",
            text_string(&clip(signer_name, 200)),
            text_string(&format!(
                "Urzędowe poświadczenie przedłożenia {}",
                clip(&receipt.register_number, 200)
            )),
        )
        .as_bytes(),
    );
    w.end();

    w.object(
        FILESPEC,
        &format!(
            "<< /Type /Filespec /F {name} /UF {name} /Desc (Dane potwierdzenia w XML, \
             urn:intake:receipt:1) /AFRelationship /Data /EF << /F {EMBEDDED_FILE} 0 R \
             /UF {EMBEDDED_FILE} 0 R >> >>"
        ),
    );
    w.stream(
        EMBEDDED_FILE,
        &format!(
            "/Type /EmbeddedFile /Subtype /text#2Fxml /Filter /FlateDecode \
             /Params << /Size {} /CreationDate ({issued}) /ModDate ({issued}) >>",
            xml.len()
        ),
        &deflate(xml)?,
    );
    for (i, page) in pages.iter().enumerate() {
        let number = FIRST_PAGE + 2 * i;
        let annots = if i == 0 {
            format!(" /Annots [{SIG_FIELD} 0 R]")
        } else {
            String::new()
        };
        w.object(
            number,
            &format!(
                "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 {FONT_REGULAR} 0 R /F2 {FONT_BOLD} 0 R >> >> \
                 /Contents {} 0 R{annots} >>",
                number + 1
            ),
        );
        let content = deflate(content_stream(page).as_bytes())?;
        w.stream(number + 1, "/Filter /FlateDecode", &content);
    }

    // A deterministic file identifier: the body's hash (with the placeholders as they are).
    let id = hex::encode_upper(&Sha256::digest(&w.buf)[..16]);
    let xref_at = w.buf.len();
    let mut xref = format!("xref\n0 {size}\n0000000000 65535 f \n");
    for offset in w.offsets.iter().skip(1) {
        xref.push_str(&format!("{offset:010} 00000 n \n"));
    }
    xref.push_str(&format!(
        "trailer\n<< /Size {size} /Root {CATALOG} 0 R /Info {INFO} 0 R /ID [<{id}> <{id}>] >>\n\
         startxref\n{xref_at}\n%%EOF\n"
    ));
    w.buf.extend_from_slice(xref.as_bytes());

    let total = w.buf.len();
    let byte_range = [0, contents_at, contents_end, total - contents_end];
    if total >= 10usize.pow(BYTE_RANGE_DIGITS as u32) {
        return Err(ReceiptPdfError::TooLarge(total));
    }
    let patch = format!(
        "{:>width$} {:>width$} {:>width$}",
        byte_range[1],
        byte_range[2],
        byte_range[3],
        width = BYTE_RANGE_DIGITS
    );
    w.buf[byte_range_at..byte_range_at + patch.len()].copy_from_slice(patch.as_bytes());
    Ok(Prepared {
        bytes: w.buf,
        byte_range,
    })
}

/// Helvetica advance widths (1/1000 em) by code in the receipt's encoding (WinAnsi with the `/Differences` above); 0 where the code is unused.
const WIDTHS_REGULAR: [u16; 256] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 667, 0, 611, 611, 0, 222, 222,
    333, 333, 350, 556, 1000, 333, 1000, 500, 333, 500, 0, 500, 500, 278, 333, 556, 556, 556, 667,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 611, 400, 584, 333, 222, 333, 578, 537, 278, 333,
    556, 365, 556, 834, 834, 834, 500, 667, 667, 667, 667, 667, 667, 722, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 500, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];
/// Helvetica-Bold advance widths (1/1000 em) by code in the receipt's encoding (WinAnsi with the `/Differences` above); 0 where the code is unused.
const WIDTHS_BOLD: [u16; 256] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 667, 0, 611, 611, 0, 278, 278,
    500, 500, 350, 556, 1000, 333, 1000, 556, 333, 556, 0, 500, 500, 278, 333, 556, 611, 556, 722,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 611, 400, 584, 333, 278, 333, 611, 556, 278, 333,
    556, 365, 556, 834, 834, 834, 500, 722, 722, 722, 722, 722, 722, 722, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::model::ReceiptReason;
    use crate::receipt::xml::tests::sample_receipt;

    fn prepared() -> Prepared {
        prepare(
            &sample_receipt(),
            "Urząd Miasta Krakowa – pieczęć elektroniczna",
        )
        .unwrap()
    }

    /// A receipt with everything at its worst: a 300-character Chinese file name, 200 long
    /// reasons, a drop box with long fields.
    fn huge_receipt() -> Receipt {
        let mut receipt = sample_receipt();
        receipt.file_name = Some("漢".repeat(296) + ".pdf");
        receipt.outcome = ReceiptOutcome::Rejected;
        receipt.deadline = None;
        receipt.reasons = (0..200)
            .map(|i| ReceiptReason {
                code: format!("reason_{i}"),
                text_pl: format!(
                    "Powód numer {i}: plik zawiera treść, której urząd nie może przyjąć, \
                     ponieważ zawiera aktywną zawartość (JavaScript) lub osadzone pliki — \
                     zażółć gęślą jaźń ŻÓŁĆ GĘŚLĄ JAŹŃ."
                ),
            })
            .collect();
        receipt.channel = ReceiptChannel::DropBox {
            site: "mogilska".into(),
            site_address: Some("ul. Mogilska 41, ".repeat(20)),
            envelope: Some("K".repeat(500)),
            batch_id: Some("партия-7".into()),
        };
        receipt.time_source = TimeSource::TimestampAuthority(format!(
            "https://tsa.example.gov.pl/{}",
            "x".repeat(400)
        ));
        receipt
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        memchr::memmem::find(haystack, needle)
    }

    #[test]
    fn pdf_placeholder_is_where_the_byte_range_says() {
        let p = prepared();
        let [a, b, c, d] = p.byte_range;
        assert_eq!(a, 0);
        assert_eq!(p.bytes[b], b'<');
        assert_eq!(p.bytes[c - 1], b'>');
        assert_eq!(c - b, 2 * CMS_CAPACITY + 2);
        assert!(p.bytes[b + 1..c - 1].iter().all(|&x| x == b'0'));
        assert_eq!(c + d, p.bytes.len());
        // The numbers in the file are the same, in their fixed-width fields.
        let at = find(&p.bytes, b"/ByteRange [").unwrap() + "/ByteRange [".len();
        let end = at + find(&p.bytes[at..], b"]").unwrap();
        let written: Vec<usize> = std::str::from_utf8(&p.bytes[at..end])
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(written, p.byte_range);
        assert_eq!(end - at, 2 + 3 * (BYTE_RANGE_DIGITS + 1) - 1);
    }

    #[test]
    fn pdf_digest_is_sha256_of_the_two_ranges() {
        let p = prepared();
        let [_, b, c, _] = p.byte_range;
        let mut whole = p.bytes[..b].to_vec();
        whole.extend_from_slice(&p.bytes[c..]);
        let expected: [u8; 32] = Sha256::digest(&whole).into();
        assert_eq!(p.digest(), expected);
        assert_eq!(p.signed_content().collect::<Vec<_>>().concat(), whole);
    }

    #[test]
    fn pdf_embed_refuses_an_oversize_or_empty_cms() {
        let p = prepared();
        assert!(matches!(
            p.clone().embed(&vec![0x30; CMS_CAPACITY + 1]),
            Err(ReceiptPdfError::CmsTooLarge { size, capacity })
                if size == CMS_CAPACITY + 1 && capacity == CMS_CAPACITY
        ));
        assert!(matches!(
            p.clone().embed(&[]),
            Err(ReceiptPdfError::EmptyCms)
        ));
        // Bytes changed after prepare are refused rather than signed wrongly.
        let mut moved = p.clone();
        moved.bytes.insert(0, b' ');
        assert!(matches!(
            moved.embed(&[0x30, 0x00]),
            Err(ReceiptPdfError::PlaceholderMoved)
        ));
        for byte_range in [[0, 0, 0, 0], [0, usize::MAX, 1, 1], [0, 5, usize::MAX, 2]] {
            let broken = Prepared {
                bytes: p.bytes.clone(),
                byte_range,
            };
            assert!(matches!(
                broken.embed(&[0x30, 0x00]),
                Err(ReceiptPdfError::PlaceholderMoved)
            ));
        }
        // Exactly the capacity fits.
        assert!(p.embed(&vec![0xAB; CMS_CAPACITY]).is_ok());
    }

    #[test]
    fn pdf_embed_keeps_the_length_and_the_signed_bytes() {
        let p = prepared();
        let digest = p.digest();
        let (len, range) = (p.bytes.len(), p.byte_range);
        let cms: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let signed = p.clone().embed(&cms).unwrap();
        assert_eq!(signed.len(), len);
        let [_, b, c, _] = range;
        assert_eq!(&signed[..b], &p.bytes[..b]);
        assert_eq!(&signed[c..], &p.bytes[c..]);
        let hex = hex::encode_upper(&cms);
        assert_eq!(&signed[b + 1..b + 1 + hex.len()], hex.as_bytes());
        assert!(signed[b + 1 + hex.len()..c - 1].iter().all(|&x| x == b'0'));
        let again = Prepared {
            bytes: signed,
            byte_range: range,
        };
        assert_eq!(again.digest(), digest);
    }

    #[test]
    fn pdf_lopdf_reads_the_signed_result() {
        let receipt = sample_receipt();
        let signed = prepare(&receipt, "Signer")
            .unwrap()
            .embed(&[0x30, 0x03, 1, 2, 3])
            .unwrap();
        let doc = lopdf::Document::load_mem(&signed).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let catalog = doc.catalog().unwrap();
        let form = catalog.get(b"AcroForm").unwrap().as_dict().unwrap();
        assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
        // The signature dictionary.
        let sig = doc
            .get_object((SIG_VALUE as u32, 0))
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(
            sig.get(b"SubFilter").unwrap().as_name().unwrap(),
            b"ETSI.CAdES.detached"
        );
        assert_eq!(
            sig.get(b"Filter").unwrap().as_name().unwrap(),
            b"Adobe.PPKLite"
        );
        let contents = sig.get(b"Contents").unwrap().as_str().unwrap();
        assert_eq!(contents.len(), CMS_CAPACITY);
        assert_eq!(&contents[..5], &[0x30, 0x03, 1, 2, 3]);
        // The attachment is the XML.
        let names = catalog.get(b"Names").unwrap().as_dict().unwrap();
        let files = names.get(b"EmbeddedFiles").unwrap().as_dict().unwrap();
        let list = files.get(b"Names").unwrap().as_array().unwrap();
        assert_eq!(list[0].as_str().unwrap(), ATTACHMENT_NAME.as_bytes());
        let spec = doc
            .get_object(list[1].as_reference().unwrap())
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(
            spec.get(b"AFRelationship").unwrap().as_name().unwrap(),
            b"Data"
        );
        let stream = doc
            .get_object((EMBEDDED_FILE as u32, 0))
            .unwrap()
            .as_stream()
            .unwrap();
        assert_eq!(
            stream.dict.get(b"Subtype").unwrap().as_name().unwrap(),
            b"text/xml"
        );
        assert_eq!(
            stream.decompressed_content().unwrap(),
            to_xml(&receipt).into_bytes()
        );
        assert!(catalog.get(b"AF").unwrap().as_array().is_ok());
    }

    #[test]
    fn pdf_polish_text_is_encoded() {
        assert_eq!(encode("ł").0, vec![0xB3]);
        assert_eq!(
            encode("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ").0,
            vec![
                0xB9, 0xE6, 0xEA, 0xB3, 0xF1, 0xF3, 0x9C, 0x9F, 0xBF, 0xA5, 0xC6, 0xCA, 0xA3, 0xD1,
                0xD3, 0x8C, 0x8F, 0xAF
            ]
        );
        assert_eq!(encode("– „x”").0, vec![0x96, b' ', 0x84, b'x', 0x94]);
        // Every code used has a glyph name in the encoding and a width.
        let encoding = encoding_dict();
        for name in [
            "/lslash",
            "/Lslash",
            "/aogonek",
            "/zdotaccent",
            "/Zacute",
            "/endash",
        ] {
            assert!(encoding.contains(name), "{name}");
        }
        for &(_, code, _) in DIFFERENCES {
            assert!(WIDTHS_REGULAR[usize::from(code)] > 0);
            assert!(WIDTHS_BOLD[usize::from(code)] > 0);
        }
        // The content stream carries the codes ("Urzędowe poświadczenie": ę is \352).
        let pdf = prepared().embed(&[0x30, 0]).unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let page = doc.get_pages()[&1];
        let content = doc.get_page_content(page);
        let content = String::from_utf8(content).unwrap();
        assert!(content.contains("(Urz\\352dowe po\\234wiadczenie przed\\263o\\277enia) Tj"));
    }

    #[test]
    fn pdf_characters_outside_the_encoding_are_replaced() {
        assert_eq!(encode("漢字.pdf"), (b"??.pdf".to_vec(), true));
        assert_eq!(encode("漢字漢字漢字 ok"), (b"[?\xD76] ok".to_vec(), true));
        assert_eq!(encode("ab😀"), (b"ab?".to_vec(), true));
        assert_eq!(
            encode("Příliš žluťoučký kůň").0,
            encode("Príliš žlutoucký kun").0
        );
        assert_eq!(encode("Ærø Œuvre").0, b"AEr\xf8 OEuvre".to_vec());
        assert_eq!(encode("a\tb\nc\u{0}d").0, b"a b cd".to_vec());
        assert!(!encode("zażółć").1);
        // Nothing panics, whatever the script.
        let every: String = (0..0x3_0000u32).filter_map(char::from_u32).collect();
        let (bytes, lossy) = encode(&every);
        assert!(lossy && !bytes.is_empty());
        assert!(bytes.iter().all(|&b| WIDTHS_REGULAR[usize::from(b)] > 0));
    }

    #[test]
    fn pdf_literal_strings_are_escaped() {
        assert_eq!(literal(b"a(b)c\\d"), "(a\\(b\\)c\\\\d)");
        assert_eq!(literal(&[0xB3, b'x']), "(\\263x)");
        assert_eq!(text_string("intake"), "(intake)");
        assert_eq!(text_string("ł"), "<FEFF0142>");
    }

    #[test]
    fn pdf_polish_words() {
        let at: Timestamp = "2026-12-01T18:14:05.999Z".parse().unwrap();
        assert_eq!(
            warsaw_pl(at).replace('\u{A0}', " "),
            "1 grudnia 2026, 19:14:05 CET"
        );
        assert_eq!(utc_seconds(at), "2026-12-01T18:14:05Z");
        let summer: Timestamp = "2025-07-15T10:00:00Z".parse().unwrap();
        assert_eq!(
            warsaw_pl(summer).replace('\u{A0}', " "),
            "15 lipca 2025, 12:00:00 CEST"
        );
        assert_eq!(
            date_pl("2025-11-03".parse().unwrap()),
            "3\u{A0}listopada\u{A0}2025\u{A0}r."
        );
        assert_eq!(grouped(1_234_567), "1\u{A0}234\u{A0}567");
        assert_eq!(grouped(999), "999");
        assert_eq!(plural(1, "bajt", "bajty", "bajtów"), "bajt");
        assert_eq!(plural(3, "bajt", "bajty", "bajtów"), "bajty");
        assert_eq!(plural(13, "bajt", "bajty", "bajtów"), "bajtów");
        assert_eq!(plural(22, "bajt", "bajty", "bajtów"), "bajty");
        assert_eq!(period_pl(StatutoryPeriod::Months(2)).unwrap(), "2 miesiące");
        assert_eq!(period_pl(StatutoryPeriod::Days(14)).unwrap(), "14 dni");
        assert_eq!(period_pl(StatutoryPeriod::None), None);
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(pdf_date(at), "D:20261201181405+00'00'");
    }

    fn assert_within_pages(pages: &[Page]) {
        for (i, page) in pages.iter().enumerate() {
            for t in &page.text {
                let right = t.x + t.width();
                assert!(t.x >= MARGIN_LEFT - 0.01, "page {i}: {t:?}");
                assert!(right <= CONTENT_RIGHT + 0.01, "page {i}: {right} {t:?}");
                assert!(t.y >= 30.0 && t.y <= PAGE_HEIGHT - 40.0, "page {i}: {t:?}");
                if t.y > 40.0 {
                    // Everything but the footer stays above the content bottom.
                    assert!(
                        t.y - t.style.size * 0.25 >= CONTENT_BOTTOM,
                        "page {i}: {t:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn pdf_sample_fits_one_page() {
        let receipt = sample_receipt();
        let pages = paginate(&receipt, "Signer");
        assert_eq!(pages.len(), 1);
        assert_within_pages(&pages);
    }

    #[test]
    fn pdf_huge_receipt_renders_within_two_pages() {
        let receipt = huge_receipt();
        let pages = paginate(&receipt, &"Ł".repeat(1000));
        assert!(pages.len() <= MAX_PAGES, "{} pages", pages.len());
        assert_within_pages(&pages);
        let text: Vec<u8> = pages
            .iter()
            .flat_map(|p| p.text.iter().flat_map(|t| t.text.clone()))
            .collect();
        // The list is cut with a count of what is left out.
        assert!(
            find(
                &text,
                &encode("(pełna lista w załączniku potwierdzenie.xml)").0
            )
            .is_some()
        );
        assert!(find(&text, &encode("[?×296].pdf").0).is_some());
        assert!(find(&text, &encode("(reason_199)").0).is_none());
        let p = prepare(&receipt, "Signer").unwrap();
        let doc = lopdf::Document::load_mem(&p.bytes).unwrap();
        assert_eq!(doc.get_pages().len(), pages.len());
    }

    #[test]
    fn pdf_long_rows_break_across_pages() {
        // A single row taller than a page still stays on the pages.
        let mut receipt = sample_receipt();
        receipt.reasons = (0..120)
            .map(|i| ReceiptReason {
                code: format!("c{i}"),
                text_pl: "krótki powód".into(),
            })
            .collect();
        let pages = lay_out(&receipt, "Signer", 120);
        assert!(pages.len() >= 2);
        assert_within_pages(&pages);
    }

    #[test]
    fn pdf_is_deterministic() {
        let a = prepared();
        let b = prepared();
        assert_eq!(a, b);
        let mut other = sample_receipt();
        other.register_number = "UMK/RPW/2025/000124".into();
        let c = prepare(&other, "Urząd Miasta Krakowa – pieczęć elektroniczna").unwrap();
        let id = |p: &Prepared| {
            let at = find(&p.bytes, b"/ID [<").unwrap();
            p.bytes[at..at + 40].to_vec()
        };
        assert_ne!(id(&a), id(&c));
    }
}
