//! The receipt's data as XML, in our own versioned namespace `urn:intake:receipt:1`.
//!
//! The element names follow ePUAP's official confirmation of receipt (UPP, urzędowe
//! poświadczenie przedłożenia) where it has a field for the same thing (NumerRejestru,
//! IdentyfikatorDokumentu, DataPrzedlozenia, ...); the schema is `docs/receipt-1.xsd`. The PDF
//! receipt embeds this XML as its attachment `potwierdzenie.xml`, so a machine can read what the
//! page says without parsing the page.
//!
//! Times are given twice: in UTC (RFC 3339, `Z`), which is what the office stores, and in the
//! office's time zone (Europe/Warsaw, with its offset), which is what the page shows.

use super::model::{Receipt, ReceiptChannel, ReceiptOutcome, SCHEMA_VERSION, TimeSource};
use crate::domain::deadline::{DayOff, Deadline, Holiday, StatutoryPeriod};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::fmt::Write as _;

/// The namespace of the receipt's XML, version 1.
pub const NAMESPACE: &str = "urn:intake:receipt:1";

/// The algorithm identifier of the document digest (`SkrotSHA256/@algorytm`): the XML
/// Encryption URI for SHA-256, which ePUAP's documents use for the same purpose.
pub const SHA256_ALGORITHM: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// The office's time zone, in which the receipt also states its times.
const OFFICE_TIME_ZONE: &str = "Europe/Warsaw";

/// The receipt as an XML document (UTF-8, with its declaration), valid against
/// `docs/receipt-1.xsd`.
///
/// Every string is escaped; characters XML 1.0 cannot carry at all (most C0 controls) become
/// U+FFFD, so that the document stays well-formed whatever the sender's file name holds.
pub fn to_xml(receipt: &Receipt) -> String {
    let mut x = Xml::default();
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.raw(&format!(
        "<Potwierdzenie xmlns=\"{NAMESPACE}\" wersja=\"{SCHEMA_VERSION}\">\n"
    ));

    x.open("Urzad", &[]);
    x.leaf("Nazwa", &[], &receipt.office.name);
    x.leaf("Kod", &[], &receipt.office.code);
    x.leaf("Adres", &[], &receipt.office.address);
    x.close("Urzad");

    x.leaf("NumerRejestru", &[], &receipt.register_number);
    x.leaf("IdentyfikatorDokumentu", &[], &receipt.document_id);

    x.open("Kanal", &[]);
    match &receipt.channel {
        ReceiptChannel::WebForm => x.empty("FormularzInternetowy", &[]),
        ReceiptChannel::DropBox {
            site,
            site_address,
            envelope,
            batch_id,
        } => {
            x.open("SkrzynkaPodawcza", &[]);
            x.leaf("Punkt", &[], site);
            x.opt_leaf("AdresPunktu", site_address.as_deref());
            x.opt_leaf("Koperta", envelope.as_deref());
            x.opt_leaf("Partia", batch_id.as_deref());
            x.close("SkrzynkaPodawcza");
        }
    }
    x.close("Kanal");

    if let Some(service) = &receipt.service {
        x.open("Usluga", &[]);
        x.leaf("Identyfikator", &[], &service.id);
        x.leaf("Nazwa", &[], &service.name_pl);
        x.close("Usluga");
    }
    x.opt_leaf("NazwaPliku", receipt.file_name.as_deref());
    x.leaf("Rozmiar", &[("jednostka", "B")], &receipt.size.to_string());
    if let Some(pages) = receipt.pages {
        x.leaf("LiczbaStron", &[], &pages.to_string());
    }
    x.leaf(
        "SkrotSHA256",
        &[("algorytm", SHA256_ALGORITHM)],
        &receipt.sha256,
    );
    x.time("DataPrzedlozenia", receipt.received_at);

    x.open(
        "Rozstrzygniecie",
        &[("wynik", outcome_code(receipt.outcome))],
    );
    x.opt_leaf("DuplikatDokumentu", receipt.duplicate_of.as_deref());
    if !receipt.reasons.is_empty() {
        x.open("Powody", &[]);
        for reason in &receipt.reasons {
            x.leaf("Powod", &[("kod", &reason.code)], &reason.text_pl);
        }
        x.close("Powody");
    }
    x.close("Rozstrzygniecie");

    x.open("Termin", &[]);
    x.open("OkresUstawowy", &[("podstawa", "art. 35 KPA")]);
    match receipt.period {
        StatutoryPeriod::None => x.empty("Brak", &[]),
        StatutoryPeriod::Days(n) => x.leaf("Dni", &[], &n.to_string()),
        StatutoryPeriod::Months(n) => x.leaf("Miesiace", &[], &n.to_string()),
    }
    x.close("OkresUstawowy");
    match &receipt.deadline {
        Some(deadline) => x.deadline(deadline),
        None => x.empty("BrakTerminu", &[]),
    }
    x.close("Termin");

    x.open("ZrodloCzasu", &[]);
    match &receipt.time_source {
        TimeSource::OfficeClock => x.empty("ZegarUrzedu", &[]),
        TimeSource::TimestampAuthority(url) => x.leaf("ZnacznikCzasuRFC3161", &[], url),
    }
    x.close("ZrodloCzasu");

    x.time("DataWystawienia", receipt.issued_at);
    x.raw("</Potwierdzenie>\n");
    x.out
}

/// The verdict's code in `Rozstrzygniecie/@wynik` (ASCII, so that it is easy to match on).
pub fn outcome_code(outcome: ReceiptOutcome) -> &'static str {
    match outcome {
        ReceiptOutcome::Accepted => "przyjety",
        ReceiptOutcome::Rejected => "odrzucony",
        ReceiptOutcome::Duplicate => "duplikat",
    }
}

/// The code of a day off in `Dzien/@kod`: the same snake_case names as the day's JSON form
/// (`saturday`, `all_saints`, ...), written out here because the XML must not change when a
/// serde attribute does.
pub fn day_off_code(day_off: DayOff) -> &'static str {
    match day_off {
        DayOff::Saturday => "saturday",
        DayOff::Holiday(holiday) => match holiday {
            Holiday::NewYear => "new_year",
            Holiday::Epiphany => "epiphany",
            Holiday::EasterSunday => "easter_sunday",
            Holiday::EasterMonday => "easter_monday",
            Holiday::StateHoliday => "state_holiday",
            Holiday::ConstitutionDay => "constitution_day",
            Holiday::Pentecost => "pentecost",
            Holiday::CorpusChristi => "corpus_christi",
            Holiday::Assumption => "assumption",
            Holiday::AllSaints => "all_saints",
            Holiday::IndependenceDay => "independence_day",
            Holiday::IndependenceCentenary => "independence_centenary",
            Holiday::ChristmasEve => "christmas_eve",
            Holiday::Christmas => "christmas",
            Holiday::SecondDayOfChristmas => "second_day_of_christmas",
            Holiday::Sunday => "sunday",
        },
    }
}

/// An instant in the office's time zone as an `xs:dateTime` with its offset
/// (`2026-12-01T19:14:05+01:00`).
pub fn warsaw_rfc3339(at: Timestamp) -> String {
    // The zone database is bundled (tzdb-bundle-always), so the lookup does not fail; UTC
    // rather than a panic if it ever did.
    let tz = TimeZone::get(OFFICE_TIME_ZONE).unwrap_or(TimeZone::UTC);
    let offset = at.to_zoned_datetime(tz).offset();
    at.display_with_offset(offset).to_string()
}

/// Text escaped for XML character data or a double-quoted attribute value.
///
/// `&`, `<`, `>` and `"` become entities, and `'` too so that the result is safe in either
/// kind of quote; CR, LF and TAB become character references (a parser would otherwise
/// normalise them away); characters XML 1.0 forbids become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document (production 2, `Char`; a Rust `char` is never a
/// surrogate).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A small indenting writer: the receipt's shape is fixed, so no XML library is needed.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indent(&mut self) {
        for _ in 0..=self.depth {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            // Writing to a String cannot fail.
            let _ = write!(self.out, " {key}=\"{}\"", escape(value));
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str("/>\n");
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.start(name, attrs);
        let _ = writeln!(self.out, ">{}</{name}>", escape(text));
    }

    fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, &[], text);
        }
    }

    fn time(&mut self, name: &str, at: Timestamp) {
        self.open(name, &[]);
        self.leaf("UTC", &[], &at.to_string());
        self.leaf(
            "CzasUrzedowy",
            &[("strefa", OFFICE_TIME_ZONE)],
            &warsaw_rfc3339(at),
        );
        self.close(name);
    }

    fn deadline(&mut self, deadline: &Deadline) {
        self.open("TerminZalatwienia", &[("podstawa", "art. 57 KPA")]);
        self.leaf("DzienPrzedlozenia", &[], &deadline.received.to_string());
        self.leaf("KoniecOkresu", &[], &deadline.nominal_end.to_string());
        self.leaf("OstatniDzien", &[], &deadline.due.to_string());
        if !deadline.moved_because.is_empty() {
            self.open("DniPominiete", &[("podstawa", "art. 57 § 4 KPA")]);
            for skipped in &deadline.moved_because {
                let day = skipped.day.to_string();
                self.leaf(
                    "Dzien",
                    &[("data", &day), ("kod", day_off_code(skipped.reason))],
                    skipped.reason.name_pl(),
                );
            }
            self.close("DniPominiete");
        }
        self.close("TerminZalatwienia");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::deadline::deadline;
    use crate::receipt::model::{Office, ReceiptReason, ReceiptService};

    /// A receipt as the web form gives one: accepted, one month, a deadline moved past All
    /// Saints and a Sunday.
    pub(crate) fn sample_receipt() -> Receipt {
        let received_at: Timestamp = "2025-10-01T17:14:05Z".parse().unwrap();
        Receipt {
            office: Office {
                name: "Urząd Miasta Krakowa".into(),
                code: "UMK".into(),
                address: "pl. Wszystkich Świętych 3-4, 31-004 Kraków".into(),
            },
            register_number: "UMK/RPW/2025/000123".into(),
            document_id: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            channel: ReceiptChannel::WebForm,
            service: Some(ReceiptService {
                id: "building-permit".into(),
                name_pl: "Pozwolenie na budowę".into(),
            }),
            file_name: Some("wniosek o pozwolenie (żółć) & <zał.>.pdf".into()),
            size: 1_234_567,
            pages: Some(3),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            received_at,
            outcome: ReceiptOutcome::Accepted,
            reasons: vec![ReceiptReason {
                code: "unsigned".into(),
                text_pl: "Dokument nie jest podpisany \"kwalifikowanym\" podpisem.".into(),
            }],
            duplicate_of: None,
            period: StatutoryPeriod::ONE_MONTH,
            deadline: deadline("2025-10-01".parse().unwrap(), StatutoryPeriod::ONE_MONTH),
            issued_at: "2025-10-01T17:14:07.250Z".parse().unwrap(),
            time_source: TimeSource::OfficeClock,
        }
    }

    #[test]
    fn xml_escapes_markup_quotes_and_controls() {
        assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("x\ty\nz\r"), "x&#9;y&#10;z&#13;");
        assert_eq!(
            escape("\u{0}\u{1b}\u{FFFE}ok"),
            "\u{FFFD}\u{FFFD}\u{FFFD}ok"
        );
        assert_eq!(escape("zażółć 漢字 😀"), "zażółć 漢字 😀");
    }

    #[test]
    fn xml_has_the_namespace_and_every_field() {
        let xml = to_xml(&sample_receipt());
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        assert!(xml.contains("<Potwierdzenie xmlns=\"urn:intake:receipt:1\" wersja=\"1\">"));
        for needle in [
            "<Nazwa>Urząd Miasta Krakowa</Nazwa>",
            "<Kod>UMK</Kod>",
            "<NumerRejestru>UMK/RPW/2025/000123</NumerRejestru>",
            "<IdentyfikatorDokumentu>0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b</IdentyfikatorDokumentu>",
            "<FormularzInternetowy/>",
            "<Identyfikator>building-permit</Identyfikator>",
            "<Nazwa>Pozwolenie na budowę</Nazwa>",
            "<NazwaPliku>wniosek o pozwolenie (żółć) &amp; &lt;zał.&gt;.pdf</NazwaPliku>",
            "<Rozmiar jednostka=\"B\">1234567</Rozmiar>",
            "<LiczbaStron>3</LiczbaStron>",
            "<SkrotSHA256 algorytm=\"http://www.w3.org/2001/04/xmlenc#sha256\">9f86d0",
            "<UTC>2025-10-01T17:14:05Z</UTC>",
            "<CzasUrzedowy strefa=\"Europe/Warsaw\">2025-10-01T19:14:05+02:00</CzasUrzedowy>",
            "<Rozstrzygniecie wynik=\"przyjety\">",
            "<Powod kod=\"unsigned\">Dokument nie jest podpisany &quot;kwalifikowanym&quot; podpisem.</Powod>",
            "<Miesiace>1</Miesiace>",
            "<DzienPrzedlozenia>2025-10-01</DzienPrzedlozenia>",
            "<KoniecOkresu>2025-11-01</KoniecOkresu>",
            "<OstatniDzien>2025-11-03</OstatniDzien>",
            "<Dzien data=\"2025-11-01\" kod=\"all_saints\">Wszystkich Świętych</Dzien>",
            "<Dzien data=\"2025-11-02\" kod=\"sunday\">Niedziela</Dzien>",
            "<ZegarUrzedu/>",
            "<UTC>2025-10-01T17:14:07.25Z</UTC>",
        ] {
            assert!(xml.contains(needle), "missing {needle} in\n{xml}");
        }
        assert!(xml.ends_with("</Potwierdzenie>\n"));
        assert!(!xml.contains("DuplikatDokumentu"));
    }

    #[test]
    fn xml_variants_drop_box_duplicate_no_deadline_tsa() {
        let mut receipt = sample_receipt();
        receipt.channel = ReceiptChannel::DropBox {
            site: "mogilska".into(),
            site_address: Some("ul. Mogilska 41".into()),
            envelope: None,
            batch_id: Some("b-7".into()),
        };
        receipt.outcome = ReceiptOutcome::Duplicate;
        receipt.duplicate_of = Some("doc-1".into());
        receipt.reasons.clear();
        receipt.period = StatutoryPeriod::None;
        receipt.deadline = None;
        receipt.service = None;
        receipt.file_name = None;
        receipt.pages = None;
        receipt.time_source = TimeSource::TimestampAuthority("https://tsa.example/?a=1&b=2".into());
        // Winter time: CET, +01:00.
        receipt.received_at = "2026-12-01T18:14:05Z".parse().unwrap();
        let xml = to_xml(&receipt);
        for needle in [
            "<SkrzynkaPodawcza>",
            "<Punkt>mogilska</Punkt>",
            "<AdresPunktu>ul. Mogilska 41</AdresPunktu>",
            "<Partia>b-7</Partia>",
            "<Rozstrzygniecie wynik=\"duplikat\">",
            "<DuplikatDokumentu>doc-1</DuplikatDokumentu>",
            "<Brak/>",
            "<BrakTerminu/>",
            "<ZnacznikCzasuRFC3161>https://tsa.example/?a=1&amp;b=2</ZnacznikCzasuRFC3161>",
            "2026-12-01T19:14:05+01:00",
        ] {
            assert!(xml.contains(needle), "missing {needle} in\n{xml}");
        }
        for absent in ["Koperta", "Usluga", "NazwaPliku", "LiczbaStron", "Powody"] {
            assert!(!xml.contains(absent), "{absent}");
        }
    }

    #[test]
    fn xml_day_codes_match_the_json_names() {
        for holiday in Holiday::ALL {
            let json = serde_json::to_value(DayOff::Holiday(holiday)).unwrap();
            assert_eq!(
                json["holiday"],
                day_off_code(DayOff::Holiday(holiday)),
                "{holiday:?}"
            );
        }
        assert_eq!(
            serde_json::to_value(DayOff::Saturday).unwrap(),
            day_off_code(DayOff::Saturday)
        );
    }

    #[test]
    fn xml_outcome_and_day_codes() {
        assert_eq!(outcome_code(ReceiptOutcome::Rejected), "odrzucony");
        assert_eq!(day_off_code(DayOff::Saturday), "saturday");
        assert_eq!(
            day_off_code(DayOff::Holiday(Holiday::SecondDayOfChristmas)),
            "second_day_of_christmas"
        );
    }
}
