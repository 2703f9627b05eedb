//! The response shape shared by primary-authentication endpoints (README: "The authentication
//! response pattern"): a full session, or an intermediate session with what is still missing.

use crate::reply::Reply;
use axum::response::{IntoResponse, Response};
use latch_core::clock::Timestamp;
use latch_core::engine::auth_flow::Outcome;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::model::session::MemberSession;
use latch_core::rules::requirements::{MfaRequired, PrimaryRequired};
use latch_core::service::members::MemberView;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuthenticateResponse)]
pub struct Body<'a> {
    member_id: &'a str,
    member_email_id: String,
    /// The email used (email OTP's `method_id`).
    method_id: String,
    organization_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    session_token: &'a str,
    session_jwt: &'a str,
    member_session: Option<MemberSession<'a>>,
    intermediate_session_token: &'a str,
    intermediate_session_token_expires_at: Option<Timestamp>,
    member_authenticated: bool,
    /// Deprecated in Stytch's magic-link response but still a required boolean in the SDK model.
    reset_sessions: bool,
    /// The same, spelled as SSO's response model requires it.
    reset_session: bool,
    mfa_required: Option<&'a MfaRequired>,
    primary_required: Option<&'a PrimaryRequired>,
    /// A method's own fields (OAuth's `provider_*`).
    #[serde(flatten)]
    extra: Option<&'a Map<String, Value>>,
}

pub fn auth_reply(v: &MemberView, outcome: &Outcome) -> Response {
    auth_reply_with(v, outcome, None)
}

/// The shared answer plus a method's own fields.
pub fn auth_reply_with(v: &MemberView, outcome: &Outcome, extra: Option<&Map<String, Value>>) -> Response {
    let base = |member_session, token: &'static str| Body {
        member_id: &v.member.member_id,
        member_email_id: v.member.email_id(),
        method_id: v.member.email_id(),
        organization_id: &v.organization.organization_id,
        member: v.member_json(),
        organization: v.organization.view(),
        session_token: token,
        session_jwt: token,
        member_session,
        intermediate_session_token: "",
        intermediate_session_token_expires_at: None,
        member_authenticated: false,
        reset_sessions: false,
        reset_session: false,
        mfa_required: None,
        primary_required: None,
        extra,
    };
    match outcome {
        Outcome::Authenticated(issued) => Reply(Body {
            session_token: &issued.session_token,
            session_jwt: &issued.session_jwt,
            member_authenticated: true,
            ..base(Some(issued.member_session()), "")
        })
        .into_response(),
        Outcome::Pending {
            intermediate_session_token,
            expires_at,
            mfa_required,
            primary_required,
        } => Reply(Body {
            intermediate_session_token,
            intermediate_session_token_expires_at: Some(*expires_at),
            mfa_required: mfa_required.as_ref(),
            primary_required: primary_required.as_ref(),
            ..base(None, "")
        })
        .into_response(),
    }
}
