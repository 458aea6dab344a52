//! Which PDF policy applies to which channel: web-form uploads and drop-box scans are judged
//! by the same engine under limits and active-content rules of their own.

use serde::{Deserialize, Serialize};

use crate::domain::model::Channel;
use crate::engine::pdf::policy::PdfPolicy;

/// The policy of each channel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelPolicies {
    /// Web-form uploads.
    pub web: PdfPolicy,
    /// Drop-box scans.
    pub drop_box: PdfPolicy,
}

impl ChannelPolicies {
    /// Parses the JSON configuration (`INTAKE_PDF_POLICY`); missing parts keep their defaults.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The policy of a channel; an unknown channel gets the web policy.
    pub fn for_channel(&self, channel: Option<Channel>) -> &PdfPolicy {
        match channel {
            Some(Channel::DropBox) => &self.drop_box,
            _ => &self.web,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pdf::policy::{ActiveContent, PolicyAction};

    #[test]
    fn configuration_overrides_one_channel_and_keeps_the_rest() {
        let policies = ChannelPolicies::from_json(
            r#"{"drop_box": {"active_content": {"embedded_file": "reject"},
                             "limits": {"max_objects": 10}}}"#,
        )
        .unwrap();
        let drop_box = policies.for_channel(Some(Channel::DropBox));
        assert_eq!(
            drop_box.action(ActiveContent::EmbeddedFile),
            PolicyAction::Reject
        );
        assert_eq!(drop_box.limits.max_objects, 10);
        assert_eq!(drop_box.limits.time_budget_ms, 20_000);
        let web = policies.for_channel(Some(Channel::Web));
        assert_eq!(web.action(ActiveContent::EmbeddedFile), PolicyAction::Warn);
    }

    #[test]
    fn a_typo_in_the_configuration_is_an_error() {
        assert!(ChannelPolicies::from_json(r#"{"web": {"limits": {"max_object": 1}}}"#).is_err());
        assert!(
            ChannelPolicies::from_json(r#"{"web": {"active_content": {"javascript": "maybe"}}}"#)
                .is_err()
        );
    }
}
