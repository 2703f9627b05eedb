//! Email templates of the Management API (`EmailTemplate`), kept per workspace project as JSON.
//! A custom-HTML template renders the messages of its type with Latch's placeholders (`{org}`,
//! `{email}`, `{code}`, `{url}`, `{minutes}`, as in file templates); a prebuilt one keeps the
//! built-in copy.

use crate::delivery::custom::{Copy, CustomTemplate};
use crate::delivery::templates::Kind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailTemplate {
    pub template_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_information: Option<SenderInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prebuilt_customization: Option<PrebuiltCustomization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_html_customization: Option<CustomHtmlCustomization>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderInformation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_local_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_local_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrebuiltCustomization {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_border_radius: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_text_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub font_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_alignment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomHtmlCustomization {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Stytch's `TemplateType`s.
pub const TEMPLATE_TYPES: &[&str] = &[
    "LOGIN",
    "SIGNUP",
    "INVITE",
    "RESET_PASSWORD",
    "ONE_TIME_PASSCODE",
    "ONE_TIME_PASSCODE_SIGNUP",
    "VERIFY_EMAIL_PASSWORD_RESET",
    "UNLOCK",
    "PREBUILT",
];
pub const FONT_FAMILIES: &[&str] = &[
    "ARIAL",
    "BRUSH_SCRIPT_MT",
    "COURIER_NEW",
    "GEORGIA",
    "HELVETICA",
    "TAHOMA",
    "TIMES_NEW_ROMAN",
    "TREBUCHET_MS",
    "VERDANA",
];
pub const TEXT_ALIGNMENTS: &[&str] = &["LEFT", "CENTER"];

/// The template type whose template renders a message of `kind` (a login-link template serves
/// discovery and email-update links too, as in `Kind::accepts_template`).
pub fn template_type_of(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::LoginMagicLink | Kind::DiscoveryMagicLink | Kind::EmailUpdateMagicLink => "LOGIN",
        Kind::SignupMagicLink => "SIGNUP",
        Kind::InviteMagicLink => "INVITE",
        Kind::PasswordReset => "RESET_PASSWORD",
        Kind::LoginOtp | Kind::DiscoveryOtp => "ONE_TIME_PASSCODE",
        Kind::SignupOtp => "ONE_TIME_PASSCODE_SIGNUP",
        Kind::SmsOtp => return None,
    })
}

impl EmailTemplate {
    /// The copy a message of `kind` gets from this template: `None` for a prebuilt template (the
    /// built-in copy), or an error when the template is of another type.
    pub fn copy_for(&self, kind: Kind) -> crate::error::CoreResult<Option<CustomTemplate>> {
        let Some(html) = &self.custom_html_customization else {
            return Ok(None);
        };
        let ty = html.template_type.as_deref().unwrap_or_default();
        if Some(ty) != template_type_of(kind) {
            return Err(
                crate::error::catalogue::INVALID_TEMPLATE_ID.detail(format!("{}: a {ty} template", self.template_id))
            );
        }
        let html_content = html.html_content.clone().unwrap_or_default();
        let text = html
            .plaintext_content
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| html_content.clone());
        Ok(Some(CustomTemplate {
            kind: kind.as_str().to_string(),
            default: Copy {
                subject: html.subject.clone(),
                text,
                html: Some(html_content).filter(|h| !h.is_empty()),
            },
            locales: Default::default(),
        }))
    }
}
