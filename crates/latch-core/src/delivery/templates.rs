//! Built-in message copy, one template per message kind, in English, Spanish, French and
//! Brazilian Portuguese. The request's `locale` picks the language; SMS accepts the wider SDK
//! locale list and falls back to English where Latch has no copy. Values are HTML-escaped in the
//! HTML part.

use crate::error::CoreResult;

pub const LOCALES: &[&str] = &["en", "es", "fr", "pt-br"];
/// Locales the SDK accepts for SMS (otps.md); those without copy fall back to English.
const SMS_LOCALES: &[&str] = &[
    "en", "es", "pt-br", "fr", "it", "de-de", "zh-hans", "ca-es", "ja", "ru", "nl", "pl", "tr", "fa", "vi", "cs",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PasswordReset,
    LoginOtp,
    SignupOtp,
    SmsOtp,
    DiscoveryOtp,
    LoginMagicLink,
    SignupMagicLink,
    InviteMagicLink,
    DiscoveryMagicLink,
    EmailUpdateMagicLink,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::PasswordReset,
        Kind::LoginOtp,
        Kind::SignupOtp,
        Kind::SmsOtp,
        Kind::DiscoveryOtp,
        Kind::LoginMagicLink,
        Kind::SignupMagicLink,
        Kind::InviteMagicLink,
        Kind::DiscoveryMagicLink,
        Kind::EmailUpdateMagicLink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PasswordReset => "password_reset",
            Kind::LoginOtp => "login_otp",
            Kind::SignupOtp => "signup_otp",
            Kind::SmsOtp => "sms_otp",
            Kind::DiscoveryOtp => "discovery_otp",
            Kind::LoginMagicLink => "login_magic_link",
            Kind::SignupMagicLink => "signup_magic_link",
            Kind::InviteMagicLink => "invite_magic_link",
            Kind::DiscoveryMagicLink => "discovery_magic_link",
            Kind::EmailUpdateMagicLink => "email_update_magic_link",
        }
    }

    /// Whether a custom template of kind `template_kind` may render this message. Stytch has one
    /// template type ("Magic Links - Login") for login, discovery and email-update links, so a
    /// login-link template serves all three.
    pub fn accepts_template(self, template_kind: &str) -> bool {
        template_kind == self.as_str()
            || (matches!(self, Kind::DiscoveryMagicLink | Kind::EmailUpdateMagicLink)
                && template_kind == Kind::LoginMagicLink.as_str())
    }
}

fn pick(tag: Option<&str>, allowed: &'static [&'static str]) -> CoreResult<&'static str> {
    let Some(tag) = tag.filter(|t| !t.is_empty()) else {
        return Ok("en");
    };
    let lower = tag.to_ascii_lowercase();
    allowed.iter().copied().find(|l| *l == lower).ok_or_else(|| {
        crate::error::catalogue::INVALID_LOCALE.field_detail("locale", crate::validate::not_one_of(tag, allowed))
    })
}

/// Normalises an email locale tag (`pt-BR` → `pt-br`); unknown tags are refused.
pub fn locale(tag: Option<&str>) -> CoreResult<&'static str> {
    pick(tag, LOCALES)
}

/// An SMS locale: any the SDK allows.
pub fn sms_locale(tag: Option<&str>) -> CoreResult<&'static str> {
    pick(tag, SMS_LOCALES)
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Subject, paragraphs and (for links) the button label.
struct Copy {
    subject: &'static str,
    paragraphs: &'static [&'static str],
    action: Option<&'static str>,
}

fn copy(kind: Kind, locale: &str) -> Copy {
    use Kind::*;
    match (kind, locale) {
        (PasswordReset, "es") => Copy {
            subject: "Restablece tu contraseña de {org}",
            paragraphs: &[
                "Hola,",
                "Recibimos una solicitud para restablecer la contraseña de {email} en {org}.",
                "El enlace caduca en {minutes} minutos.",
                "Si no lo solicitaste, puedes ignorar este correo.",
            ],
            action: Some("Restablecer contraseña"),
        },
        (PasswordReset, "fr") => Copy {
            subject: "Réinitialisez votre mot de passe {org}",
            paragraphs: &[
                "Bonjour,",
                "Nous avons reçu une demande de réinitialisation du mot de passe de {email} pour {org}.",
                "Le lien expire dans {minutes} minutes.",
                "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail.",
            ],
            action: Some("Réinitialiser le mot de passe"),
        },
        (PasswordReset, "pt-br") => Copy {
            subject: "Redefina sua senha de {org}",
            paragraphs: &[
                "Olá,",
                "Recebemos um pedido para redefinir a senha de {email} em {org}.",
                "O link expira em {minutes} minutos.",
                "Se você não fez este pedido, ignore este e-mail.",
            ],
            action: Some("Redefinir senha"),
        },
        (PasswordReset, _) => Copy {
            subject: "Reset your {org} password",
            paragraphs: &[
                "Hello,",
                "We received a request to reset the password of {email} for {org}.",
                "The link expires in {minutes} minutes.",
                "If you did not ask for this, you can ignore this email.",
            ],
            action: Some("Reset password"),
        },
        (LoginOtp, "es") => Copy {
            subject: "Tu código de acceso a {org}",
            paragraphs: &[
                "Tu código de acceso a {org} es {code}.",
                "Caduca en {minutes} minutos. No lo compartas con nadie.",
            ],
            action: None,
        },
        (LoginOtp, "fr") => Copy {
            subject: "Votre code de connexion {org}",
            paragraphs: &[
                "Votre code de connexion à {org} est {code}.",
                "Il expire dans {minutes} minutes. Ne le partagez avec personne.",
            ],
            action: None,
        },
        (LoginOtp, "pt-br") => Copy {
            subject: "Seu código de acesso a {org}",
            paragraphs: &[
                "Seu código de acesso a {org} é {code}.",
                "Ele expira em {minutes} minutos. Não o compartilhe com ninguém.",
            ],
            action: None,
        },
        (LoginOtp, _) => Copy {
            subject: "Your {org} login code",
            paragraphs: &[
                "Your login code for {org} is {code}.",
                "It expires in {minutes} minutes. Do not share it with anyone.",
            ],
            action: None,
        },
        (SignupOtp, "es") => Copy {
            subject: "Bienvenido a {org}: tu código",
            paragraphs: &[
                "Para completar tu registro en {org}, usa el código {code}.",
                "Caduca en {minutes} minutos.",
            ],
            action: None,
        },
        (SignupOtp, "fr") => Copy {
            subject: "Bienvenue chez {org} : votre code",
            paragraphs: &[
                "Pour terminer votre inscription à {org}, utilisez le code {code}.",
                "Il expire dans {minutes} minutes.",
            ],
            action: None,
        },
        (SignupOtp, "pt-br") => Copy {
            subject: "Boas-vindas a {org}: seu código",
            paragraphs: &[
                "Para concluir seu cadastro em {org}, use o código {code}.",
                "Ele expira em {minutes} minutos.",
            ],
            action: None,
        },
        (SignupOtp, _) => Copy {
            subject: "Welcome to {org}: your code",
            paragraphs: &[
                "To finish signing up for {org}, use the code {code}.",
                "It expires in {minutes} minutes.",
            ],
            action: None,
        },
        (DiscoveryOtp, "es") => Copy {
            subject: "Tu código para continuar",
            paragraphs: &[
                "Usa el código {code} para ver tus organizaciones.",
                "Caduca en {minutes} minutos.",
            ],
            action: None,
        },
        (DiscoveryOtp, "fr") => Copy {
            subject: "Votre code pour continuer",
            paragraphs: &[
                "Utilisez le code {code} pour voir vos organisations.",
                "Il expire dans {minutes} minutes.",
            ],
            action: None,
        },
        (DiscoveryOtp, "pt-br") => Copy {
            subject: "Seu código para continuar",
            paragraphs: &[
                "Use o código {code} para ver suas organizações.",
                "Ele expira em {minutes} minutos.",
            ],
            action: None,
        },
        (DiscoveryOtp, _) => Copy {
            subject: "Your code to continue",
            paragraphs: &[
                "Use the code {code} to see your organizations.",
                "It expires in {minutes} minutes.",
            ],
            action: None,
        },
        (SmsOtp, "es") => Copy {
            subject: "",
            paragraphs: &["{code} es tu código de verificación de {org}."],
            action: None,
        },
        (SmsOtp, "fr") => Copy {
            subject: "",
            paragraphs: &["{code} est votre code de vérification {org}."],
            action: None,
        },
        (SmsOtp, "pt-br") => Copy {
            subject: "",
            paragraphs: &["{code} é seu código de verificação de {org}."],
            action: None,
        },
        (SmsOtp, _) => Copy {
            subject: "",
            paragraphs: &["{code} is your {org} verification code."],
            action: None,
        },
        (LoginMagicLink, "es") => Copy {
            subject: "Inicia sesión en {org}",
            paragraphs: &[
                "Hola,",
                "Usa este enlace para iniciar sesión en {org} como {email}.",
                "El enlace caduca en {minutes} minutos y solo sirve una vez.",
                "Si no lo solicitaste, puedes ignorar este correo.",
            ],
            action: Some("Iniciar sesión"),
        },
        (LoginMagicLink, "fr") => Copy {
            subject: "Connectez-vous à {org}",
            paragraphs: &[
                "Bonjour,",
                "Utilisez ce lien pour vous connecter à {org} en tant que {email}.",
                "Le lien expire dans {minutes} minutes et ne sert qu'une fois.",
                "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail.",
            ],
            action: Some("Se connecter"),
        },
        (LoginMagicLink, "pt-br") => Copy {
            subject: "Entre em {org}",
            paragraphs: &[
                "Olá,",
                "Use este link para entrar em {org} como {email}.",
                "O link expira em {minutes} minutos e só pode ser usado uma vez.",
                "Se você não fez este pedido, ignore este e-mail.",
            ],
            action: Some("Entrar"),
        },
        (LoginMagicLink, _) => Copy {
            subject: "Log in to {org}",
            paragraphs: &[
                "Hello,",
                "Use this link to log in to {org} as {email}.",
                "The link expires in {minutes} minutes and works once.",
                "If you did not ask for this, you can ignore this email.",
            ],
            action: Some("Log in"),
        },
        (SignupMagicLink, "es") => Copy {
            subject: "Completa tu registro en {org}",
            paragraphs: &[
                "Hola,",
                "Usa este enlace para completar tu registro en {org} como {email}.",
                "El enlace caduca en {minutes} minutos y solo sirve una vez.",
            ],
            action: Some("Completar registro"),
        },
        (SignupMagicLink, "fr") => Copy {
            subject: "Terminez votre inscription à {org}",
            paragraphs: &[
                "Bonjour,",
                "Utilisez ce lien pour terminer votre inscription à {org} en tant que {email}.",
                "Le lien expire dans {minutes} minutes et ne sert qu'une fois.",
            ],
            action: Some("Terminer l'inscription"),
        },
        (SignupMagicLink, "pt-br") => Copy {
            subject: "Conclua seu cadastro em {org}",
            paragraphs: &[
                "Olá,",
                "Use este link para concluir seu cadastro em {org} como {email}.",
                "O link expira em {minutes} minutos e só pode ser usado uma vez.",
            ],
            action: Some("Concluir cadastro"),
        },
        (SignupMagicLink, _) => Copy {
            subject: "Finish signing up for {org}",
            paragraphs: &[
                "Hello,",
                "Use this link to finish signing up for {org} as {email}.",
                "The link expires in {minutes} minutes and works once.",
            ],
            action: Some("Sign up"),
        },
        (InviteMagicLink, "es") => Copy {
            subject: "Te invitaron a unirte a {org}",
            paragraphs: &[
                "Hola,",
                "Te invitaron a unirte a {org} como {email}.",
                "La invitación caduca en {minutes} minutos y solo sirve una vez.",
            ],
            action: Some("Aceptar la invitación"),
        },
        (InviteMagicLink, "fr") => Copy {
            subject: "Vous êtes invité à rejoindre {org}",
            paragraphs: &[
                "Bonjour,",
                "Vous êtes invité à rejoindre {org} en tant que {email}.",
                "L'invitation expire dans {minutes} minutes et ne sert qu'une fois.",
            ],
            action: Some("Accepter l'invitation"),
        },
        (InviteMagicLink, "pt-br") => Copy {
            subject: "Você foi convidado para {org}",
            paragraphs: &[
                "Olá,",
                "Você foi convidado para participar de {org} como {email}.",
                "O convite expira em {minutes} minutos e só pode ser usado uma vez.",
            ],
            action: Some("Aceitar o convite"),
        },
        (InviteMagicLink, _) => Copy {
            subject: "You are invited to join {org}",
            paragraphs: &[
                "Hello,",
                "You have been invited to join {org} as {email}.",
                "The invitation expires in {minutes} minutes and works once.",
            ],
            action: Some("Accept the invitation"),
        },
        (DiscoveryMagicLink, "es") => Copy {
            subject: "Tu enlace para continuar",
            paragraphs: &[
                "Hola,",
                "Usa este enlace para ver las organizaciones de {email}.",
                "El enlace caduca en {minutes} minutos y solo sirve una vez.",
            ],
            action: Some("Continuar"),
        },
        (DiscoveryMagicLink, "fr") => Copy {
            subject: "Votre lien pour continuer",
            paragraphs: &[
                "Bonjour,",
                "Utilisez ce lien pour voir les organisations de {email}.",
                "Le lien expire dans {minutes} minutes et ne sert qu'une fois.",
            ],
            action: Some("Continuer"),
        },
        (DiscoveryMagicLink, "pt-br") => Copy {
            subject: "Seu link para continuar",
            paragraphs: &[
                "Olá,",
                "Use este link para ver as organizações de {email}.",
                "O link expira em {minutes} minutos e só pode ser usado uma vez.",
            ],
            action: Some("Continuar"),
        },
        (DiscoveryMagicLink, _) => Copy {
            subject: "Your link to continue",
            paragraphs: &[
                "Hello,",
                "Use this link to see the organizations of {email}.",
                "The link expires in {minutes} minutes and works once.",
            ],
            action: Some("Continue"),
        },
        (EmailUpdateMagicLink, "es") => Copy {
            subject: "Confirma tu nuevo correo para {org}",
            paragraphs: &[
                "Hola,",
                "Confirma {email} como tu nueva dirección de correo en {org}.",
                "El enlace caduca en {minutes} minutos y solo sirve una vez.",
                "Si no lo solicitaste, puedes ignorar este correo.",
            ],
            action: Some("Confirmar dirección"),
        },
        (EmailUpdateMagicLink, "fr") => Copy {
            subject: "Confirmez votre nouvelle adresse pour {org}",
            paragraphs: &[
                "Bonjour,",
                "Confirmez {email} comme nouvelle adresse e-mail pour {org}.",
                "Le lien expire dans {minutes} minutes et ne sert qu'une fois.",
                "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail.",
            ],
            action: Some("Confirmer l'adresse"),
        },
        (EmailUpdateMagicLink, "pt-br") => Copy {
            subject: "Confirme seu novo e-mail em {org}",
            paragraphs: &[
                "Olá,",
                "Confirme {email} como seu novo endereço de e-mail em {org}.",
                "O link expira em {minutes} minutos e só pode ser usado uma vez.",
                "Se você não fez este pedido, ignore este e-mail.",
            ],
            action: Some("Confirmar endereço"),
        },
        (EmailUpdateMagicLink, _) => Copy {
            subject: "Confirm your new email for {org}",
            paragraphs: &[
                "Hello,",
                "Confirm {email} as your new email address for {org}.",
                "The link expires in {minutes} minutes and works once.",
                "If you did not ask for this, you can ignore this email.",
            ],
            action: Some("Confirm address"),
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

/// Renders `kind` in `locale` with `vars` (`org`, `email`, `minutes`, `code`) and an optional link.
pub fn render(kind: Kind, locale: &str, vars: &[(&str, &str)], url: Option<&str>) -> Rendered {
    let c = copy(kind, locale);
    let t = |s: &str| fill(s, vars, false);
    let h = |s: &str| fill(s, vars, true);
    let mut text: Vec<String> = c.paragraphs.iter().map(|p| t(p)).collect();
    let mut html: Vec<String> = c.paragraphs.iter().map(|p| format!("<p>{}</p>", h(p))).collect();
    if let (Some(action), Some(url)) = (c.action, url) {
        text.insert(2.min(text.len()), format!("{}: {url}", t(action)));
        html.insert(
            2.min(html.len()),
            format!("<p><a href=\"{}\">{}</a></p>", escape(url), h(action)),
        );
    }
    Rendered {
        subject: t(c.subject),
        text: text.join("\n\n") + "\n",
        html: format!(
            "<!doctype html><html lang=\"{locale}\"><body>{}</body></html>",
            html.join("")
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
        assert_eq!(sms_locale(Some("de-DE")).unwrap(), "de-de");
        let r = render(
            Kind::PasswordReset,
            "fr",
            &[("org", "<Acme>"), ("email", "a@x.test"), ("minutes", "30")],
            Some("https://x/?a=1&b=2"),
        );
        assert!(r.subject.contains("<Acme>"));
        assert!(r.html.contains("&lt;Acme&gt;") && !r.html.contains("<Acme>"));
        assert!(r.html.contains("https://x/?a=1&amp;b=2"));
        assert!(r.text.contains("expire dans 30 minutes"));
        let otp = render(
            Kind::LoginOtp,
            "pt-br",
            &[("org", "Acme"), ("code", "012345"), ("minutes", "10")],
            None,
        );
        assert!(otp.text.contains("012345") && otp.subject.contains("Acme"));
        let sms = render(Kind::SmsOtp, "de-de", &[("org", "Acme"), ("code", "012345")], None);
        assert_eq!(sms.text.trim(), "012345 is your Acme verification code.");
    }

    #[test]
    fn every_link_email_carries_its_link_in_every_language_with_its_own_copy() {
        let links = [
            Kind::PasswordReset,
            Kind::LoginMagicLink,
            Kind::SignupMagicLink,
            Kind::InviteMagicLink,
            Kind::DiscoveryMagicLink,
            Kind::EmailUpdateMagicLink,
        ];
        let vars = [("org", "Acme"), ("email", "a@x.test"), ("minutes", "60")];
        for kind in links {
            let mut subjects = Vec::new();
            for locale in LOCALES {
                let r = render(kind, locale, &vars, Some("https://x/cb?token=T"));
                assert!(r.text.contains("https://x/cb?token=T"), "{kind:?} {locale}: {}", r.text);
                assert!(r.html.contains("href=\"https://x/cb?token=T\""), "{kind:?} {locale}");
                assert!(r.text.contains("60"), "{kind:?} {locale}: the lifetime is stated");
                assert!(!r.subject.contains('{'), "{kind:?} {locale}: {}", r.subject);
                subjects.push(r.subject);
            }
            subjects.dedup();
            assert_eq!(subjects.len(), LOCALES.len(), "{kind:?}: one copy per language");
        }
    }

    #[test]
    fn a_login_link_template_serves_discovery_and_email_update_links_too() {
        assert!(Kind::DiscoveryMagicLink.accepts_template("login_magic_link"));
        assert!(Kind::EmailUpdateMagicLink.accepts_template("login_magic_link"));
        assert!(Kind::EmailUpdateMagicLink.accepts_template("email_update_magic_link"));
        assert!(!Kind::InviteMagicLink.accepts_template("login_magic_link"));
        assert!(!Kind::LoginMagicLink.accepts_template("invite_magic_link"));
        assert!(!Kind::LoginOtp.accepts_template("login_magic_link"));
    }
}
