//! What the engine finds in a document, and the verdict those findings make: reason codes
//! (stable names, and the sentence a citizen reads in Polish), severities, and the verdict with
//! the facts the PDF engine and the signature checks gathered.

use serde::{Deserialize, Serialize};

/// Whether a finding stops the document or only informs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The document is rejected (and kept in quarantine).
    Reject,
    /// The document is accepted; the finding is recorded.
    Warning,
}

impl Severity {
    /// The stable name used in records and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Warning => "warning",
        }
    }

    /// Parses the stable name back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(Severity::Reject),
            "warning" => Some(Severity::Warning),
            _ => None,
        }
    }
}

/// A machine-readable reason code. Later checks add codes; consumers must accept unknown ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The file has no bytes.
    Empty,
    /// The bytes do not start like a PDF.
    NotPdf,
    /// The PDF ends before its end-of-file marker: it was cut off.
    Truncated,
    /// The PDF could not be parsed.
    Unparseable,
    /// The PDF has no pages.
    NoPages,
    /// The file is larger than the configured maximum.
    TooLarge,
    /// The SHA-256 the sender declared does not match the bytes received.
    HashMismatch,
    /// The size the sender declared does not match the bytes received.
    SizeMismatch,
    /// The object arrived without the metadata of a requested upload.
    UnknownUpload,
    /// A signature in the document does not hold (changed, invalid, partial or changed after
    /// signing in a way not allowed).
    SignatureInvalid,
    /// The service requires a valid, trusted signature and the document has none.
    SignatureRequired,
    /// The service requires revocation data for every signature, and some certificate's
    /// status at signing time is not shown by the data the document carries.
    RevocationRequired,
    /// The sender declared a detached signature that never arrived.
    DetachedSignatureMissing,
    /// A signature uses an algorithm that cannot be checked (neither valid nor invalid).
    SignatureUnsupported,
    /// The PDF keeps its objects (object or cross-reference streams) compressed with a filter
    /// readers do not decode.
    UnsupportedFilter,
    /// Bytes that are not part of the PDF follow its end (named when they are a known format,
    /// such as a ZIP archive or a program).
    TrailingData,
    /// The PDF needs a password to open.
    #[serde(rename = "encrypted")]
    PasswordRequired,
    /// The PDF opens without a password but carries owner restrictions (printing, copying).
    EncryptionRestricted,
    /// The cross-reference data was damaged; the reader had to repair it.
    Repaired,
    /// The page tree refers back to itself.
    PageTreeCycle,
    /// The page count the page tree declares differs from the pages it holds.
    PageCountMismatch,
    /// More objects than the limit.
    TooManyObjects,
    /// Arrays and dictionaries nested deeper than the limit.
    TooDeeplyNested,
    /// Streams decompress to more than the limits allow.
    DecompressionBomb,
    /// Checking took longer than the time budget.
    TimeBudgetExceeded,
    /// JavaScript.
    #[serde(rename = "javascript")]
    JavaScript,
    /// An action on opening.
    OpenAction,
    /// Additional actions (`/AA`).
    AdditionalActions,
    /// A Launch action.
    LaunchAction,
    /// A SubmitForm action.
    SubmitForm,
    /// An ImportData action.
    ImportData,
    /// A go-to into another file.
    RemoteGoto,
    /// An embedded file or attachment.
    EmbeddedFile,
    /// Rich media.
    RichMedia,
    /// An XFA form.
    XfaForm,
}

impl ReasonCode {
    /// The stable name used in records and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Empty => "empty",
            ReasonCode::NotPdf => "not_pdf",
            ReasonCode::Truncated => "truncated",
            ReasonCode::Unparseable => "unparseable",
            ReasonCode::NoPages => "no_pages",
            ReasonCode::TooLarge => "too_large",
            ReasonCode::HashMismatch => "hash_mismatch",
            ReasonCode::SizeMismatch => "size_mismatch",
            ReasonCode::UnknownUpload => "unknown_upload",
            ReasonCode::SignatureInvalid => "signature_invalid",
            ReasonCode::SignatureRequired => "signature_required",
            ReasonCode::RevocationRequired => "revocation_required",
            ReasonCode::DetachedSignatureMissing => "detached_signature_missing",
            ReasonCode::SignatureUnsupported => "signature_unsupported",
            ReasonCode::UnsupportedFilter => "unsupported_filter",
            ReasonCode::TrailingData => "trailing_data",
            ReasonCode::PasswordRequired => "encrypted",
            ReasonCode::EncryptionRestricted => "encryption_restricted",
            ReasonCode::Repaired => "repaired",
            ReasonCode::PageTreeCycle => "page_tree_cycle",
            ReasonCode::PageCountMismatch => "page_count_mismatch",
            ReasonCode::TooManyObjects => "too_many_objects",
            ReasonCode::TooDeeplyNested => "too_deeply_nested",
            ReasonCode::DecompressionBomb => "decompression_bomb",
            ReasonCode::TimeBudgetExceeded => "time_budget_exceeded",
            ReasonCode::JavaScript => "javascript",
            ReasonCode::OpenAction => "open_action",
            ReasonCode::AdditionalActions => "additional_actions",
            ReasonCode::LaunchAction => "launch_action",
            ReasonCode::SubmitForm => "submit_form",
            ReasonCode::ImportData => "import_data",
            ReasonCode::RemoteGoto => "remote_goto",
            ReasonCode::EmbeddedFile => "embedded_file",
            ReasonCode::RichMedia => "rich_media",
            ReasonCode::XfaForm => "xfa_form",
        }
    }

    /// Whether the code names active content (scripts, actions, embedded files, XFA): found
    /// in a document that was read in full.
    pub fn is_active_content(self) -> bool {
        matches!(
            self,
            ReasonCode::JavaScript
                | ReasonCode::OpenAction
                | ReasonCode::AdditionalActions
                | ReasonCode::LaunchAction
                | ReasonCode::SubmitForm
                | ReasonCode::ImportData
                | ReasonCode::RemoteGoto
                | ReasonCode::EmbeddedFile
                | ReasonCode::RichMedia
                | ReasonCode::XfaForm
        )
    }

    /// What the code means, in Polish, for the sender (the English message carries the
    /// details, such as sizes and limits).
    pub fn message_pl(self) -> &'static str {
        match self {
            ReasonCode::Empty => "Plik jest pusty.",
            ReasonCode::NotPdf => "Plik nie jest dokumentem PDF.",
            ReasonCode::Truncated => "Plik PDF jest niekompletny (przesyłanie zostało przerwane?).",
            ReasonCode::Unparseable => {
                "Pliku PDF nie da się odczytać: jego struktura jest uszkodzona."
            }
            ReasonCode::NoPages => "Dokument PDF nie ma żadnej strony.",
            ReasonCode::TooLarge => "Plik jest większy niż dopuszczalny rozmiar.",
            ReasonCode::HashMismatch => {
                "Otrzymany plik różni się od zadeklarowanego (zmienił się w trakcie przesyłania)."
            }
            ReasonCode::SizeMismatch => "Rozmiar otrzymanego pliku różni się od zadeklarowanego.",
            ReasonCode::UnknownUpload => "Plik nadszedł bez zgłoszenia przesyłki.",
            ReasonCode::SignatureInvalid => {
                "Podpis w dokumencie jest nieważny lub dokument zmieniono po podpisaniu."
            }
            ReasonCode::SignatureRequired => {
                "Ta usługa wymaga ważnego, zaufanego podpisu, a dokument go nie ma."
            }
            ReasonCode::RevocationRequired => {
                "Ta usługa wymaga podpisu z danymi o unieważnieniu certyfikatów (podpis \
                 długoterminowy, np. PAdES-LT), a dokument ich nie zawiera."
            }
            ReasonCode::DetachedSignatureMissing => {
                "Zapowiedziany plik podpisu (.p7s) nie nadszedł."
            }
            ReasonCode::SignatureUnsupported => {
                "Podpis używa algorytmu, którego system jeszcze nie sprawdza."
            }
            ReasonCode::UnsupportedFilter => {
                "Dokument zapisano metodą kompresji, której programy do PDF nie odczytują."
            }
            ReasonCode::TrailingData => "Za końcem dokumentu PDF dołączono inne dane.",
            ReasonCode::PasswordRequired => {
                "Dokument jest zabezpieczony hasłem i nie można go otworzyć."
            }
            ReasonCode::EncryptionRestricted => {
                "Dokument jest zaszyfrowany z ograniczeniami właściciela (otwiera się bez hasła)."
            }
            ReasonCode::Repaired => "Plik PDF był uszkodzony i został odczytany po naprawie.",
            ReasonCode::PageTreeCycle => "Drzewo stron dokumentu odwołuje się samo do siebie.",
            ReasonCode::PageCountMismatch => {
                "Liczba stron zadeklarowana w dokumencie różni się od rzeczywistej."
            }
            ReasonCode::TooManyObjects => "Dokument ma więcej obiektów, niż dopuszczalne.",
            ReasonCode::TooDeeplyNested => {
                "Dokument ma struktury zagnieżdżone głębiej, niż dopuszczalne."
            }
            ReasonCode::DecompressionBomb => {
                "Dokument po rozpakowaniu byłby zbyt duży (tzw. bomba dekompresyjna)."
            }
            ReasonCode::TimeBudgetExceeded => "Sprawdzanie dokumentu trwało zbyt długo.",
            ReasonCode::JavaScript => "Dokument zawiera JavaScript.",
            ReasonCode::OpenAction => "Dokument wykonuje akcję przy otwarciu.",
            ReasonCode::AdditionalActions => "Dokument zawiera akcje wywoływane zdarzeniami.",
            ReasonCode::LaunchAction => "Dokument może uruchomić program lub otworzyć plik.",
            ReasonCode::SubmitForm => "Dokument zawiera formularz wysyłający dane pod adres.",
            ReasonCode::ImportData => "Dokument importuje dane z innego pliku.",
            ReasonCode::RemoteGoto => "Dokument zawiera odnośniki do innych plików.",
            ReasonCode::EmbeddedFile => "Dokument zawiera osadzone lub załączone pliki.",
            ReasonCode::RichMedia => "Dokument zawiera multimedia (Flash, wideo lub 3D).",
            ReasonCode::XfaForm => "Dokument jest formularzem XFA.",
        }
    }

    /// Every code.
    pub const ALL: [ReasonCode; 35] = [
        ReasonCode::Empty,
        ReasonCode::NotPdf,
        ReasonCode::Truncated,
        ReasonCode::Unparseable,
        ReasonCode::NoPages,
        ReasonCode::TooLarge,
        ReasonCode::HashMismatch,
        ReasonCode::SizeMismatch,
        ReasonCode::UnknownUpload,
        ReasonCode::SignatureInvalid,
        ReasonCode::SignatureRequired,
        ReasonCode::RevocationRequired,
        ReasonCode::DetachedSignatureMissing,
        ReasonCode::SignatureUnsupported,
        ReasonCode::UnsupportedFilter,
        ReasonCode::TrailingData,
        ReasonCode::PasswordRequired,
        ReasonCode::EncryptionRestricted,
        ReasonCode::Repaired,
        ReasonCode::PageTreeCycle,
        ReasonCode::PageCountMismatch,
        ReasonCode::TooManyObjects,
        ReasonCode::TooDeeplyNested,
        ReasonCode::DecompressionBomb,
        ReasonCode::TimeBudgetExceeded,
        ReasonCode::JavaScript,
        ReasonCode::OpenAction,
        ReasonCode::AdditionalActions,
        ReasonCode::LaunchAction,
        ReasonCode::SubmitForm,
        ReasonCode::ImportData,
        ReasonCode::RemoteGoto,
        ReasonCode::EmbeddedFile,
        ReasonCode::RichMedia,
        ReasonCode::XfaForm,
    ];
}

/// One thing validation found: a code for machines, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found.
    pub code: ReasonCode,
    /// Whether it rejects the document.
    pub severity: Severity,
    /// A readable explanation, safe to show to the sender. Never contains document contents.
    pub message: String,
}

impl Finding {
    /// A finding that rejects the document.
    pub fn reject(code: ReasonCode, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: Severity::Reject,
            message: message.into(),
        }
    }

    /// A finding that is recorded but does not reject the document.
    pub fn warning(code: ReasonCode, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

/// The outcome of validating one document's bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// Everything found, rejecting or not, in the order found.
    pub findings: Vec<Finding>,
    /// Page count, when the PDF could be read.
    pub pages: Option<u32>,
    /// The version the PDF header declares, when there is one.
    pub pdf_version: Option<String>,
    /// Everything else the PDF engine found out, when it got that far.
    pub facts: Option<crate::engine::pdf::PdfFacts>,
    /// The signatures, when they were checked (a document the engine rejects is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<crate::engine::signature::SignatureReport>,
}

/// The verdict in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing found.
    Accepted,
    /// Accepted; warnings were found.
    AcceptedWithWarnings,
    /// At least one finding rejects it.
    Rejected,
}

impl Outcome {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::AcceptedWithWarnings => "accepted_with_warnings",
            Outcome::Rejected => "rejected",
        }
    }
}

impl Verdict {
    /// Accepted, accepted with warnings, or rejected.
    pub fn outcome(&self) -> Outcome {
        if !self.is_accepted() {
            Outcome::Rejected
        } else if self.findings.is_empty() {
            Outcome::Accepted
        } else {
            Outcome::AcceptedWithWarnings
        }
    }

    /// Whether the signatures are checked: the engine accepted the document, or rejected it
    /// only for active content it read in full (staff still see who signed what was refused).
    pub fn signatures_checkable(&self) -> bool {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Reject)
            .all(|f| f.code.is_active_content())
    }

    /// True when no finding rejects the document.
    pub fn is_accepted(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Reject)
    }

    /// The findings that reject the document.
    pub fn rejections(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Reject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_do_not_reject() {
        let mut verdict = Verdict::default();
        assert!(verdict.is_accepted());
        assert_eq!(verdict.outcome(), Outcome::Accepted);
        verdict
            .findings
            .push(Finding::warning(ReasonCode::SizeMismatch, "size differs"));
        assert!(verdict.is_accepted());
        assert_eq!(verdict.outcome(), Outcome::AcceptedWithWarnings);
        verdict
            .findings
            .push(Finding::reject(ReasonCode::NoPages, "no pages"));
        assert_eq!(verdict.outcome(), Outcome::Rejected);
        assert!(!verdict.is_accepted());
        assert_eq!(verdict.rejections().count(), 1);
    }
}
