//! The session a request may present: an intermediate session token, a session token or a session
//! JWT. Nine inputs accept all three; they flatten this struct, so the fields keep their wire names
//! and a request names them exactly as before.

use crate::error::CoreResult;
use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionArgs {
    #[serde(default, deserialize_with = "named::intermediate_session_token")]
    pub intermediate_session_token: Option<String>,
    #[serde(default, deserialize_with = "named::session_token")]
    pub session_token: Option<String>,
    #[serde(default, deserialize_with = "named::session_jwt")]
    pub session_jwt: Option<String>,
}

/// A flattened field's error loses its path (serde buffers flattened fields), so each field puts
/// its own name in front of the message, as every other 400 names its field.
mod named {
    use super::*;

    fn string<'de, D: Deserializer<'de>>(d: D, field: &str) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map_err(|e| serde::de::Error::custom(format!("{field}: {e}")))
    }

    pub fn intermediate_session_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, "intermediate_session_token")
    }

    pub fn session_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, "session_token")
    }

    pub fn session_jwt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, "session_jwt")
    }
}

/// The one credential a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    Intermediate(&'a str),
    SessionToken(&'a str),
    SessionJwt(&'a str),
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl SessionArgs {
    pub fn intermediate(&self) -> Option<&str> {
        given(&self.intermediate_session_token)
    }

    /// Exactly one of the three, or `no_session_arguments` / `too_many_session_arguments`.
    pub fn exactly_one(&self) -> CoreResult<Credential<'_>> {
        let all = [
            self.intermediate().map(Credential::Intermediate),
            given(&self.session_token).map(Credential::SessionToken),
            given(&self.session_jwt).map(Credential::SessionJwt),
        ];
        let mut present = all.into_iter().flatten();
        match (present.next(), present.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => Err(crate::error::catalogue::NO_SESSION_ARGUMENTS.err()),
            (Some(_), _) => Err(crate::error::catalogue::TOO_MANY_SESSION_ARGUMENTS.err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ist: &str, token: &str, jwt: &str) -> SessionArgs {
        let opt = |s: &str| Some(s.to_string());
        SessionArgs {
            intermediate_session_token: opt(ist),
            session_token: opt(token),
            session_jwt: opt(jwt),
        }
    }

    #[test]
    fn exactly_one_credential() {
        assert_eq!(args("i", "", "").exactly_one().unwrap(), Credential::Intermediate("i"));
        assert_eq!(args("", "t", "").exactly_one().unwrap(), Credential::SessionToken("t"));
        assert_eq!(args("", "", "j").exactly_one().unwrap(), Credential::SessionJwt("j"));
        let err = |a: SessionArgs| match a.exactly_one() {
            Err(crate::CoreError::Invalid(f)) => f.error_type,
            other => panic!("{other:?}"),
        };
        assert_eq!(err(args("", "", "")), "no_session_arguments");
        assert_eq!(err(SessionArgs::default()), "no_session_arguments");
        assert_eq!(err(args("i", "t", "")), "too_many_session_arguments");
        assert_eq!(err(args("", "t", "j")), "too_many_session_arguments");
    }

    #[test]
    fn flattened_fields_keep_their_names() {
        #[derive(Deserialize)]
        struct Input {
            organization_id: String,
            #[serde(flatten)]
            session: SessionArgs,
        }
        let i: Input = serde_json::from_str(r#"{"organization_id":"o","session_jwt":"j"}"#).unwrap();
        assert_eq!(i.organization_id, "o");
        assert_eq!(i.session.exactly_one().unwrap(), Credential::SessionJwt("j"));
        let null: Input = serde_json::from_str(r#"{"organization_id":"o","session_token":null}"#).unwrap();
        assert!(null.session.session_token.is_none());
        // A wrong type still names its field.
        let bad = serde_json::from_str::<Input>(r#"{"organization_id":"o","session_token":123}"#);
        assert!(bad
            .err()
            .unwrap()
            .to_string()
            .starts_with("session_token: invalid type"));
    }
}
