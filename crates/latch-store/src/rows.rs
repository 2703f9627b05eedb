//! Rows as both drivers decode them, and their conversion to and from the domain records.
//! JSON documents are TEXT on both engines so that one SQL text serves both.

use crate::exec::{args, Arg};
use crate::sealing::{MESSAGE_CODE, MESSAGE_HTML, MESSAGE_TEXT, MESSAGE_TOKEN, MESSAGE_URL};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::delivery::{Channel, StoredMessage};
use latch_core::model::credentials::{IntermediateRecord, PasswordRecord};
use latch_core::model::member::MemberStatus;
use latch_core::model::member::{MemberRecord, RetiredEmail};
use latch_core::model::organization::OrgRecord;
use latch_core::model::session::{SessionRecord, SessionWithMember};
use latch_core::token::keyring::SigningKeyRecord;
use latch_core::StoreError;
use serde_json::Value;

fn json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("corrupt JSON column: {e}")))
}

pub const ORG_COLUMNS: &str =
    "organization_id, project_id, name, slug, logo_url, external_id, trusted_metadata, settings, created_at, updated_at, \
     version";

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    organization_id: String,
    project_id: String,
    name: String,
    slug: String,
    logo_url: String,
    external_id: Option<String>,
    trusted_metadata: String,
    settings: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<OrgRow> for OrgRecord {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self, StoreError> {
        Ok(OrgRecord {
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            name: r.name,
            slug: r.slug,
            logo_url: r.logo_url,
            external_id: r.external_id,
            trusted_metadata: json(&r.trusted_metadata)?,
            settings: serde_json::from_str(&r.settings)
                .map_err(|e| StoreError::Backend(format!("corrupt settings: {e}")))?,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            version: r.version,
        })
    }
}

/// Values in `ORG_COLUMNS` order.
pub(crate) fn org_args(o: &OrgRecord) -> Vec<Arg> {
    args![
        &o.organization_id,
        &o.project_id,
        &o.name,
        &o.slug,
        &o.logo_url,
        o.external_id.clone(),
        o.trusted_metadata.to_string(),
        serde_json::to_string(&o.settings).unwrap_or_default(),
        o.created_at.millis(),
        o.updated_at.millis(),
        o.version,
    ]
}

pub const MEMBER_COLUMNS: &str = "member_id, project_id, organization_id, email, status, name, external_id, \
     is_breakglass, email_verified, mfa_enrolled, mfa_phone_number, mfa_phone_verified, default_mfa_method, \
     member_password_id, totp_registration_id, roles, trusted_metadata, untrusted_metadata, lock_created_at, \
     lock_expires_at, created_at, updated_at, version, scim_roles, sso_roles";

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    member_id: String,
    project_id: String,
    organization_id: String,
    email: String,
    status: String,
    name: String,
    external_id: Option<String>,
    is_breakglass: bool,
    email_verified: bool,
    mfa_enrolled: bool,
    mfa_phone_number: String,
    mfa_phone_verified: bool,
    default_mfa_method: String,
    member_password_id: String,
    totp_registration_id: String,
    roles: String,
    trusted_metadata: String,
    untrusted_metadata: String,
    lock_created_at: Option<i64>,
    lock_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    version: i64,
    scim_roles: String,
    sso_roles: String,
}

impl TryFrom<MemberRow> for MemberRecord {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(MemberRecord {
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            email: r.email,
            status: MemberStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Backend(format!("corrupt member status: {}", r.status)))?,
            name: r.name,
            external_id: r.external_id,
            is_breakglass: r.is_breakglass,
            email_verified: r.email_verified,
            mfa_enrolled: r.mfa_enrolled,
            mfa_phone_number: r.mfa_phone_number,
            mfa_phone_verified: r.mfa_phone_verified,
            default_mfa_method: r.default_mfa_method,
            member_password_id: r.member_password_id,
            totp_registration_id: r.totp_registration_id,
            roles: serde_json::from_str(&r.roles).map_err(|e| StoreError::Backend(format!("corrupt roles: {e}")))?,
            trusted_metadata: json(&r.trusted_metadata)?,
            untrusted_metadata: json(&r.untrusted_metadata)?,
            lock_created_at: r.lock_created_at.map(Timestamp),
            lock_expires_at: r.lock_expires_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            version: r.version,
            scim_roles: serde_json::from_str(&r.scim_roles)
                .map_err(|e| StoreError::Backend(format!("corrupt scim_roles: {e}")))?,
            sso_roles: serde_json::from_str(&r.sso_roles)
                .map_err(|e| StoreError::Backend(format!("corrupt sso_roles: {e}")))?,
        })
    }
}

/// Values in `MEMBER_COLUMNS` order.
pub(crate) fn member_args(m: &MemberRecord) -> Vec<Arg> {
    args![
        &m.member_id,
        &m.project_id,
        &m.organization_id,
        &m.email,
        m.status.as_str(),
        &m.name,
        m.external_id.clone(),
        m.is_breakglass,
        m.email_verified,
        m.mfa_enrolled,
        &m.mfa_phone_number,
        m.mfa_phone_verified,
        &m.default_mfa_method,
        &m.member_password_id,
        &m.totp_registration_id,
        serde_json::to_string(&m.roles).unwrap_or_default(),
        m.trusted_metadata.to_string(),
        m.untrusted_metadata.to_string(),
        m.lock_created_at.map(Timestamp::millis),
        m.lock_expires_at.map(Timestamp::millis),
        m.created_at.millis(),
        m.updated_at.millis(),
        m.version,
        serde_json::to_string(&m.scim_roles).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&m.sso_roles).unwrap_or_else(|_| "[]".into()),
    ]
}

#[derive(sqlx::FromRow)]
pub(crate) struct RetiredRow {
    email_id: String,
    member_id: String,
    email: String,
}

impl From<RetiredRow> for RetiredEmail {
    fn from(r: RetiredRow) -> Self {
        RetiredEmail {
            email_id: r.email_id,
            email_address: r.email,
            member_id: r.member_id.into(),
        }
    }
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "message_id, project_id, channel, recipient, kind, locale, subject, text, html, code, token, url, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    message_id: String,
    project_id: String,
    channel: String,
    recipient: String,
    kind: String,
    locale: String,
    subject: Option<String>,
    text: String,
    html: Option<String>,
    code: Option<String>,
    token: Option<String>,
    url: Option<String>,
    created_at: i64,
}

impl SqlStore {
    /// A stored message with its content (codes, links, bodies) opened.
    pub(crate) fn unseal_message(&self, r: MessageRow) -> Result<StoredMessage, StoreError> {
        let id = r.message_id.as_str();
        Ok(StoredMessage {
            channel: Channel::parse(&r.channel).ok_or_else(|| StoreError::Backend("bad channel".into()))?,
            text: self.open(MESSAGE_TEXT, id, &r.text)?,
            html: self.open_opt(MESSAGE_HTML, id, r.html)?,
            code: self.open_opt(MESSAGE_CODE, id, r.code)?,
            token: self.open_opt(MESSAGE_TOKEN, id, r.token)?,
            url: self.open_opt(MESSAGE_URL, id, r.url)?,
            message_id: r.message_id,
            project_id: r.project_id.into(),
            recipient: r.recipient,
            kind: r.kind,
            locale: r.locale,
            subject: r.subject,
            created_at: Timestamp(r.created_at),
        })
    }

    /// The values of `MESSAGE_COLUMNS` for `m`, its content sealed.
    pub(crate) fn message_args(&self, m: &StoredMessage) -> Vec<Arg> {
        let id = m.message_id.as_str();
        args![
            &m.message_id,
            &m.project_id,
            m.channel.as_str(),
            &m.recipient,
            &m.kind,
            &m.locale,
            m.subject.clone(),
            self.seal(MESSAGE_TEXT, id, &m.text),
            self.seal_opt(MESSAGE_HTML, id, m.html.as_deref()),
            self.seal_opt(MESSAGE_CODE, id, m.code.as_deref()),
            self.seal_opt(MESSAGE_TOKEN, id, m.token.as_deref()),
            self.seal_opt(MESSAGE_URL, id, m.url.as_deref()),
            m.created_at.millis(),
        ]
    }
}

/// `$1, $2, …, $n`
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub const SESSION_COLUMNS: &str = "member_session_id, project_id, organization_id, member_id, token_hash, \
     started_at, last_accessed_at, expires_at, factors, custom_claims";

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    member_session_id: String,
    project_id: String,
    organization_id: String,
    member_id: String,
    token_hash: String,
    started_at: i64,
    last_accessed_at: i64,
    expires_at: i64,
    factors: String,
    custom_claims: String,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        let bad = |e: serde_json::Error| StoreError::Backend(format!("corrupt session column: {e}"));
        Ok(SessionRecord {
            project_id: r.project_id.into(),
            member_session_id: r.member_session_id,
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            token_hash: r.token_hash,
            started_at: Timestamp(r.started_at),
            last_accessed_at: Timestamp(r.last_accessed_at),
            expires_at: Timestamp(r.expires_at),
            factors: serde_json::from_str(&r.factors).map_err(bad)?,
            custom_claims: serde_json::from_str(&r.custom_claims).map_err(bad)?,
        })
    }
}

/// `session_with_member`'s row: the member's columns, then the session's. Both name
/// project_id, organization_id and member_id; the join makes each pair equal, so either copy is
/// the right value.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionMemberRow {
    #[sqlx(flatten)]
    member: MemberRow,
    #[sqlx(flatten)]
    session: SessionRow,
    has_retired: bool,
}

impl TryFrom<SessionMemberRow> for SessionWithMember {
    type Error = StoreError;
    fn try_from(r: SessionMemberRow) -> Result<Self, StoreError> {
        Ok(SessionWithMember {
            session: SessionRecord::try_from(r.session)?,
            member: MemberRecord::try_from(r.member)?,
            member_has_retired_emails: r.has_retired,
        })
    }
}

/// Values in `SESSION_COLUMNS` order.
pub(crate) fn session_args(s: &SessionRecord) -> Vec<Arg> {
    args![
        &s.member_session_id,
        &s.project_id,
        &s.organization_id,
        &s.member_id,
        &s.token_hash,
        s.started_at.millis(),
        s.last_accessed_at.millis(),
        s.expires_at.millis(),
        serde_json::to_string(&s.factors).unwrap_or_default(),
        serde_json::to_string(&s.custom_claims).unwrap_or_default(),
    ]
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    project_id: String,
    private_pkcs8: String,
    created_at: i64,
    retired_at: Option<i64>,
    revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RevokedKeyRow {
    pub(crate) project_id: String,
    pub(crate) kid: String,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        SigningKeyRecord {
            kid: r.kid,
            project_id: r.project_id.into(),
            private_pkcs8: r.private_pkcs8.into(),
            created_at: Timestamp(r.created_at),
            retired_at: r.retired_at.map(Timestamp),
            revoked_at: r.revoked_at.map(Timestamp),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PasswordRow {
    member_password_id: String,
    project_id: String,
    member_id: String,
    hash: String,
    require_reset: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<PasswordRow> for PasswordRecord {
    fn from(r: PasswordRow) -> Self {
        PasswordRecord {
            member_password_id: r.member_password_id,
            project_id: r.project_id.into(),
            member_id: r.member_id.into(),
            hash: r.hash,
            require_reset: r.require_reset,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

pub(crate) const IST_COLUMNS: &str =
    "ist_id, project_id, token_hash, organization_id, member_id, email, factors, created_at, expires_at";

#[derive(sqlx::FromRow)]
pub(crate) struct IntermediateRow {
    ist_id: String,
    project_id: String,
    token_hash: String,
    organization_id: Option<String>,
    member_id: Option<String>,
    email: String,
    factors: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<IntermediateRow> for IntermediateRecord {
    type Error = StoreError;
    fn try_from(r: IntermediateRow) -> Result<Self, StoreError> {
        Ok(IntermediateRecord {
            ist_id: r.ist_id,
            project_id: r.project_id.into(),
            token_hash: r.token_hash,
            organization_id: r.organization_id.map(Into::into),
            member_id: r.member_id.map(Into::into),
            email: r.email,
            factors: serde_json::from_str(&r.factors)
                .map_err(|e| StoreError::Backend(format!("corrupt factors: {e}")))?,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        })
    }
}

pub(crate) fn ist_args(i: &IntermediateRecord) -> Vec<Arg> {
    args![
        &i.ist_id,
        &i.project_id,
        &i.token_hash,
        i.organization_id.clone(),
        i.member_id.clone(),
        &i.email,
        serde_json::to_string(&i.factors).unwrap_or_default(),
        i.created_at.millis(),
        i.expires_at.millis(),
    ]
}
