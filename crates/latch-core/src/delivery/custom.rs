//! Custom templates, addressed by the `*_template_id` fields of the API. Each is a TOML file in
//! the templates directory: `<dir>/<project_id>/<template_id>.toml` for one project, or
//! `<dir>/<template_id>.toml` for all. A template names the message kind it serves and gives a
//! subject, text and optional HTML per locale; `{org}`, `{email}`, `{code}`, `{url}` and
//! `{minutes}` are filled in (HTML-escaped in the HTML part).
//!
//! ```toml
//! kind = "password_reset"
//! subject = "Reset your {org} password"
//! text = "Open {url} within {minutes} minutes."
//! html = "<p><a href=\"{url}\">Reset</a></p>"
//! [locales.es]
//! subject = "Restablece tu contraseña"
//! text = "Abre {url} antes de {minutes} minutos."
//! ```

use crate::delivery::templates::{Kind, Rendered};
use crate::error::CoreResult;
use crate::ids::ProjectId;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTemplate {
    pub kind: String,
    #[serde(flatten)]
    pub default: Copy,
    #[serde(default)]
    pub locales: HashMap<String, Copy>,
}

#[derive(Debug, Default)]
pub struct CustomTemplates {
    /// (project id or "" for all projects, template id) → template.
    by_id: HashMap<(String, String), CustomTemplate>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn fill(t: &str, vars: &[(&str, &str)], html: bool) -> String {
    let mut out = t.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), &if html { escape(v) } else { v.to_string() });
    }
    out
}

impl CustomTemplates {
    pub fn insert(&mut self, project_id: Option<&str>, template_id: &str, t: CustomTemplate) {
        self.by_id
            .insert((project_id.unwrap_or("").to_string(), template_id.to_string()), t);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The project's template `id` (or the global one) for `kind`.
    pub fn find(&self, project_id: &ProjectId, id: &str, kind: Kind) -> CoreResult<&CustomTemplate> {
        let t = self
            .by_id
            .get(&(project_id.to_string(), id.to_string()))
            .or_else(|| self.by_id.get(&(String::new(), id.to_string())))
            .ok_or_else(|| crate::error::catalogue::INVALID_TEMPLATE_ID.detail(id))?;
        if !kind.accepts_template(&t.kind) {
            return Err(crate::error::catalogue::INVALID_TEMPLATE_ID.detail(format!("{id}: a {} template", t.kind)));
        }
        Ok(t)
    }
}

/// What a message is rendered with (`Ctx::template`).
#[derive(Debug, Clone)]
pub enum MessageTemplate {
    Custom(CustomTemplate),
    Builtin,
}

impl MessageTemplate {
    pub fn render(&self, kind: Kind, locale: &str, vars: &[(&str, &str)], url: Option<&str>) -> Rendered {
        match self {
            MessageTemplate::Custom(t) => {
                let mut all: Vec<(&str, &str)> = vars.to_vec();
                if let Some(u) = url {
                    all.push(("url", u));
                }
                t.render(locale, &all)
            }
            MessageTemplate::Builtin => crate::delivery::templates::render(kind, locale, vars, url),
        }
    }
}

impl CustomTemplate {
    pub fn render(&self, locale: &str, vars: &[(&str, &str)]) -> Rendered {
        let c = self.locales.get(locale).unwrap_or(&self.default);
        let text = fill(&c.text, vars, false);
        Rendered {
            subject: fill(c.subject.as_deref().unwrap_or(""), vars, false),
            html: c
                .html
                .as_deref()
                .map(|h| fill(h, vars, true))
                .unwrap_or_else(|| format!("<p>{}</p>", escape(&text))),
            text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_kind_and_locale() {
        let t: CustomTemplate = serde_json::from_value(serde_json::json!({
            "kind": "login_otp", "subject": "Code for {org}", "text": "Code {code}", "html": "<b>{org}</b>",
            "locales": {"es": {"subject": "Código", "text": "Código {code}"}}
        }))
        .unwrap();
        let mut all = CustomTemplates::default();
        all.insert(Some("p1"), "mine", t.clone());
        all.insert(None, "shared", t);
        assert!(all.find(&"p1".into(), "mine", Kind::LoginOtp).is_ok());
        assert!(
            all.find(&"p2".into(), "mine", Kind::LoginOtp).is_err(),
            "another project's template"
        );
        assert!(all.find(&"p2".into(), "shared", Kind::LoginOtp).is_ok());
        assert!(
            all.find(&"p1".into(), "mine", Kind::PasswordReset).is_err(),
            "wrong kind"
        );
        let r = all
            .find(&"p1".into(), "mine", Kind::LoginOtp)
            .unwrap()
            .render("en", &[("org", "<A>"), ("code", "123456")]);
        assert_eq!(r.subject, "Code for <A>");
        assert_eq!(r.html, "<b>&lt;A&gt;</b>");
        let es = all
            .find(&"p1".into(), "mine", Kind::LoginOtp)
            .unwrap()
            .render("es", &[("code", "1")]);
        assert_eq!(es.text, "Código 1");
    }
}
