//! Built-in message copy, one template per message kind, in English, Spanish, French and
//! Brazilian Portuguese. The request's `locale` picks the language; anything else falls back to
//! English. Values are HTML-escaped in the HTML part.

use crate::error::{CoreError, CoreResult};

pub const LOCALES: &[&str] = &["en", "es", "fr", "pt-br"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PasswordReset,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PasswordReset => "password_reset",
        }
    }
}

/// Normalises a locale tag (`pt-BR` → `pt-br`); unknown tags are refused.
pub fn locale(tag: Option<&str>) -> CoreResult<&'static str> {
    let Some(tag) = tag.filter(|t| !t.is_empty()) else {
        return Ok("en");
    };
    let lower = tag.to_ascii_lowercase();
    LOCALES.iter().copied().find(|l| *l == lower).ok_or_else(|| {
        CoreError::invalid(
            "invalid_locale",
            format!("locale must be one of {}; got '{tag}'.", LOCALES.join(", ")),
        )
    })
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct Copy {
    subject: &'static str,
    greeting: &'static str,
    body: &'static str,
    action: &'static str,
    expiry: &'static str,
    ignore: &'static str,
}

fn password_reset(locale: &str) -> Copy {
    match locale {
        "es" => Copy {
            subject: "Restablece tu contraseña de {org}",
            greeting: "Hola,",
            body: "Recibimos una solicitud para restablecer la contraseña de {email} en {org}.",
            action: "Restablecer contraseña",
            expiry: "El enlace caduca en {minutes} minutos.",
            ignore: "Si no lo solicitaste, puedes ignorar este correo.",
        },
        "fr" => Copy {
            subject: "Réinitialisez votre mot de passe {org}",
            greeting: "Bonjour,",
            body: "Nous avons reçu une demande de réinitialisation du mot de passe de {email} pour {org}.",
            action: "Réinitialiser le mot de passe",
            expiry: "Le lien expire dans {minutes} minutes.",
            ignore: "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail.",
        },
        "pt-br" => Copy {
            subject: "Redefina sua senha de {org}",
            greeting: "Olá,",
            body: "Recebemos um pedido para redefinir a senha de {email} em {org}.",
            action: "Redefinir senha",
            expiry: "O link expira em {minutes} minutos.",
            ignore: "Se você não fez este pedido, ignore este e-mail.",
        },
        _ => Copy {
            subject: "Reset your {org} password",
            greeting: "Hello,",
            body: "We received a request to reset the password of {email} for {org}.",
            action: "Reset password",
            expiry: "The link expires in {minutes} minutes.",
            ignore: "If you did not ask for this, you can ignore this email.",
        },
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn fill(template: &str, vars: &[(&str, &str)], html: bool) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        let v = if html { escape(v) } else { v.to_string() };
        out = out.replace(&format!("{{{k}}}"), &v);
    }
    out
}

/// Renders `kind` in `locale` with `vars` (`org`, `email`, `minutes`) and the action `url`.
pub fn render(kind: Kind, locale: &str, vars: &[(&str, &str)], url: &str) -> Rendered {
    let c = match kind {
        Kind::PasswordReset => password_reset(locale),
    };
    let t = |s: &str| fill(s, vars, false);
    let h = |s: &str| fill(s, vars, true);
    Rendered {
        subject: t(c.subject),
        text: format!("{}\n\n{}\n\n{}: {url}\n\n{}\n{}\n", t(c.greeting), t(c.body), t(c.action), t(c.expiry), t(c.ignore)),
        html: format!(
            "<!doctype html><html lang=\"{locale}\"><body><p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p><p>{}</p><p>{}</p></body></html>",
            h(c.greeting),
            h(c.body),
            escape(url),
            h(c.action),
            h(c.expiry),
            h(c.ignore)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_and_escaping() {
        assert_eq!(locale(None).unwrap(), "en");
        assert_eq!(locale(Some("pt-BR")).unwrap(), "pt-br");
        assert!(locale(Some("xx")).is_err());
        let r = render(
            Kind::PasswordReset,
            "fr",
            &[("org", "<Acme>"), ("email", "a@x.test"), ("minutes", "30")],
            "https://x/?a=1&b=2",
        );
        assert!(r.subject.contains("<Acme>"));
        assert!(r.html.contains("&lt;Acme&gt;") && !r.html.contains("<Acme>"));
        assert!(r.html.contains("https://x/?a=1&amp;b=2"));
        assert!(r.text.contains("expire dans 30 minutes"));
    }
}
