//! What the engine checks against: limits, and what each channel does with each kind of active
//! content. Both come from configuration (JSON), with safe defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The largest file the engine reads by default (the uploads' default limit is the same).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// A kind of active content a PDF can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActiveContent {
    /// JavaScript: in an action, the names tree, or an annotation.
    JavaScript,
    /// An action run when the document opens.
    OpenAction,
    /// Additional actions (`/AA`) on the document, a page, a field or an annotation.
    AdditionalActions,
    /// A Launch action: runs a program or opens a file.
    Launch,
    /// A form submission to a URL.
    SubmitForm,
    /// Importing form data from a file.
    ImportData,
    /// A go-to action into another file (GoToR, GoToE).
    RemoteGoTo,
    /// An embedded file or file attachment.
    EmbeddedFile,
    /// RichMedia (Flash, video, 3D).
    RichMedia,
    /// An XFA form.
    XfaForm,
}

impl ActiveContent {
    /// Every kind.
    pub const ALL: [ActiveContent; 10] = [
        ActiveContent::JavaScript,
        ActiveContent::OpenAction,
        ActiveContent::AdditionalActions,
        ActiveContent::Launch,
        ActiveContent::SubmitForm,
        ActiveContent::ImportData,
        ActiveContent::RemoteGoTo,
        ActiveContent::EmbeddedFile,
        ActiveContent::RichMedia,
        ActiveContent::XfaForm,
    ];

    /// What a person is told.
    pub fn describe(self) -> &'static str {
        match self {
            ActiveContent::JavaScript => "the PDF contains JavaScript",
            ActiveContent::OpenAction => "the PDF runs an action when it is opened",
            ActiveContent::AdditionalActions => "the PDF has actions triggered by events (/AA)",
            ActiveContent::Launch => "the PDF can launch a program or open a file",
            ActiveContent::SubmitForm => "the PDF has a form that submits data to an address",
            ActiveContent::ImportData => "the PDF imports data from another file",
            ActiveContent::RemoteGoTo => "the PDF links into another file",
            ActiveContent::EmbeddedFile => "the PDF carries embedded or attached files",
            ActiveContent::RichMedia => "the PDF contains rich media (Flash, video or 3D)",
            ActiveContent::XfaForm => "the PDF is an XFA form",
        }
    }
}

/// What to do with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    /// Reject the document (it is kept in quarantine).
    Reject,
    /// Accept it with a warning.
    Warn,
    /// Accept it silently (the fact is still reported).
    Allow,
}

/// The safe default for a kind of active content: anything that runs code, starts programs or
/// reads other files is rejected; the rest is accepted with a warning.
pub fn default_action(kind: ActiveContent) -> PolicyAction {
    match kind {
        ActiveContent::JavaScript
        | ActiveContent::Launch
        | ActiveContent::ImportData
        | ActiveContent::RichMedia
        | ActiveContent::XfaForm => PolicyAction::Reject,
        ActiveContent::OpenAction
        | ActiveContent::AdditionalActions
        | ActiveContent::SubmitForm
        | ActiveContent::RemoteGoTo
        | ActiveContent::EmbeddedFile => PolicyAction::Warn,
    }
}

/// Resource limits. A file over any of them is rejected before it can cost more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdfLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Most objects.
    pub max_objects: usize,
    /// Most memory the document's objects may take once read, in bytes (estimated from each
    /// object as it is kept: of an unsigned file only what the checks read; streams' bytes are
    /// measured, not kept). A file whose objects would take more, or one object (or object
    /// stream) whose values alone would, counted before it is parsed, is refused
    /// `too_many_objects` before it can exhaust the function. A damaged or encrypted file,
    /// which is read without that object-by-object accounting, may be at most a 32nd of this
    /// in size.
    pub max_structure_bytes: u64,
    /// Deepest nesting of arrays and dictionaries in one object; a deeper file is rejected.
    /// lopdf's parser refuses more than 100 levels whatever this says.
    pub max_depth: usize,
    /// Most bytes one stream may decompress to.
    pub max_stream_decompressed_bytes: u64,
    /// Most bytes all streams together may decompress to.
    pub max_total_decompressed_bytes: u64,
    /// Largest ratio of decompressed to compressed bytes, applied once more than 16 MiB has
    /// been decompressed.
    pub max_decompression_ratio: u64,
    /// Time budget per document, in milliseconds.
    pub time_budget_ms: u64,
    /// Inflate Flate image streams to measure them, instead of bounding each by its declared
    /// geometry (width x height x colour components x bits). A reader decodes an image only up
    /// to that size, so the geometry is what the image can cost anyone; inflating the pages of
    /// a large scan costs several times hashing it.
    pub measure_image_data: bool,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_bytes: DEFAULT_MAX_FILE_BYTES,
            max_objects: 500_000,
            // validate has 512 MB: room for this twice (a signed file's signed revision is read
            // beside it), a 50 MiB upload, the runtime and the SDK. R's 6.5 MB reference
            // manual, the most object-heavy real file measured, takes 139 MB.
            max_structure_bytes: 192 * 1024 * 1024,
            max_depth: 64,
            max_stream_decompressed_bytes: 256 * 1024 * 1024,
            max_total_decompressed_bytes: 1024 * 1024 * 1024,
            max_decompression_ratio: 1000,
            time_budget_ms: 20_000,
            measure_image_data: false,
        }
    }
}

/// One channel's policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdfPolicy {
    /// Limits.
    pub limits: PdfLimits,
    /// Overrides of the default action per kind of active content.
    pub active_content: BTreeMap<ActiveContent, PolicyAction>,
}

impl PdfPolicy {
    /// What to do with `kind` under this policy.
    pub fn action(&self, kind: ActiveContent) -> PolicyAction {
        self.active_content
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_action(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_reject_code_and_warn_on_the_rest() {
        let policy = PdfPolicy::default();
        assert_eq!(
            policy.action(ActiveContent::JavaScript),
            PolicyAction::Reject
        );
        assert_eq!(
            policy.action(ActiveContent::EmbeddedFile),
            PolicyAction::Warn
        );
    }
}
