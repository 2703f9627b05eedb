//! One-time codes, sent and checked. Six digits from the OS CSPRNG; one live code per
//! (organization, channel, recipient): sending replaces it; single use; five attempts, each taken
//! before the guess is compared; stored as a salted HMAC-SHA-256 under a key derived from the KEK
//! (a plain digest of one of a million codes is reversed by trying them all), compared in
//! constant time; sends
//! limited per recipient. If delivery fails the code is deleted: no code stays live that its owner
//! never received.

use crate::crypto::{constant_time_eq, keyed_digest_hex, random_token};
use crate::delivery::templates::{self, Kind};
use crate::delivery::{Channel, Message};
use crate::engine::audit;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::credentials::OtpRecord;
use crate::model::member::MemberRecord;
use crate::model::organization::OrgRecord;
use crate::validate;
use rand::rngs::OsRng;
use rand::Rng;

const MAX_ATTEMPTS: i64 = 5;

const SMS_MINUTES: i64 = 2;

const EMAIL_DEFAULT_MINUTES: i64 = 10;

const SEND_SCOPE: &str = "otp_send";

const SENDS_PER_RECIPIENT: i64 = 10;

const SEND_WINDOW_MINUTES: i64 = 10;

fn new_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

fn digest(key: &[u8; 32], salt: &str, code: &str) -> String {
    keyed_digest_hex(key, &format!("{salt}:{code}"))
}

/// Whether `code` is the one digested as `hash`, under any of the server's code keys.
fn matches(ctx: &Ctx, salt: &str, code: &str, hash: &str) -> bool {
    // Every key is tried, so the time taken does not say which one matched.
    ctx.code_keys.iter().fold(false, |found, key| {
        found | constant_time_eq(&digest(key, salt, code), hash)
    })
}

pub(crate) fn email_minutes(given: Option<i64>) -> CoreResult<i64> {
    let m = given.unwrap_or(EMAIL_DEFAULT_MINUTES);
    if !(2..=15).contains(&m) {
        return Err(crate::error::catalogue::INVALID_EXPIRATION_OTP.err());
    }
    Ok(m)
}

/// Counts one message (a code or a link) to `recipient` and refuses it past 10 per 10 minutes.
/// Every kind of message counts against the same budget: the limit protects a mailbox or phone
/// from being flooded, whichever endpoint is used to do it. Call it before anything is stored.
pub(crate) async fn count_send_to(
    ctx: &Ctx,
    project_id: &ProjectId,
    channel: Channel,
    recipient: &str,
) -> CoreResult<()> {
    let now = ctx.now();
    let key = format!("{project_id}:{}:{recipient}", channel.as_str());
    let sends = ctx
        .store
        .bump_attempts(SEND_SCOPE, &key, now.plus_minutes(-SEND_WINDOW_MINUTES), now)
        .await?;
    if sends > SENDS_PER_RECIPIENT {
        let retry = SEND_WINDOW_MINUTES as u64 * 60;
        return Err(crate::error::catalogue::TOO_MANY_REQUESTS.retry_after("messages sent to this recipient", retry));
    }
    Ok(())
}

/// Stores a fresh code for the recipient (replacing any earlier one) and sends it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_code(
    ctx: &Ctx,
    project_id: &ProjectId,
    scope: &str,
    channel: Channel,
    recipient: &str,
    member_id: Option<&MemberId>,
    minutes: i64,
    render: impl FnOnce(&str) -> CoreResult<(Kind, &'static str, templates::Rendered)>,
) -> CoreResult<()> {
    if let Some(member_id) = member_id {
        // A code with a member is scoped to the member's organization.
        audit::member_ids(&OrganizationId::from(scope), member_id);
    }
    count_send_to(ctx, project_id, channel, recipient).await?;
    let now = ctx.now();
    let code = new_code();
    let salt = random_token(16);
    // Remember what this code replaces, so an old code is answered as superseded.
    let mut superseded = Vec::new();
    if let Some(prev) = ctx
        .store
        .otp_for(project_id, scope, channel.as_str(), recipient)
        .await?
    {
        superseded.push(format!("{}:{}", prev.salt, prev.code_hash));
        superseded.extend(prev.superseded.into_iter().take(4));
    }
    let record = OtpRecord {
        otp_id: format!("otp-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        scope: scope.to_string(),
        channel: channel.as_str().to_string(),
        recipient: recipient.to_string(),
        member_id: member_id.cloned(),
        code_hash: digest(&ctx.code_keys[0], &salt, &code),
        salt,
        attempts: 0,
        created_at: now,
        expires_at: now.plus_minutes(minutes),
        superseded,
    };
    ctx.store.replace_otp(&record).await?;
    let (kind, locale, rendered) = match render(&code) {
        Ok(r) => r,
        Err(e) => {
            ctx.store.delete_otp(&record.project_id, &record.otp_id).await?;
            return Err(e);
        }
    };
    let message = Message {
        project_id: project_id.clone(),
        channel,
        recipient: recipient.to_string(),
        kind: kind.as_str().into(),
        locale: locale.into(),
        subject: (channel == Channel::Email).then_some(rendered.subject),
        text: rendered.text,
        html: (channel == Channel::Email).then_some(rendered.html),
        code: Some(code),
        token: None,
        url: None,
    };
    if let Err(e) = ctx.delivery.send(message).await {
        ctx.store.delete_otp(&record.project_id, &record.otp_id).await?;
        return Err(e);
    }
    Ok(())
}

pub(crate) fn code_not_found() -> CoreError {
    crate::error::catalogue::OTP_CODE_NOT_FOUND.err()
}

/// Checks `code` against the live code for the recipient and uses it up.
pub(crate) async fn verify_code(
    ctx: &Ctx,
    project_id: &ProjectId,
    scope: &str,
    channel: Channel,
    recipient: &str,
    code: &str,
) -> CoreResult<OtpRecord> {
    let Some(rec) = ctx
        .store
        .otp_for(project_id, scope, channel.as_str(), recipient)
        .await?
    else {
        audit::detail("cause", "no_code_sent");
        return Err(code_not_found());
    };
    if rec.expires_at <= ctx.now() {
        audit::detail("cause", "code_expired");
        return Err(code_not_found());
    }
    if let Some(member_id) = &rec.member_id {
        // A code with a member is scoped to the member's organization.
        audit::member_ids(&OrganizationId::from(scope), member_id);
    }
    // The attempt is taken before the guess is compared, in one conditional update: a concurrent
    // burst gets no more than MAX_ATTEMPTS comparisons, however the requests interleave.
    let Some(attempts) = ctx
        .store
        .otp_attempt(&rec.project_id, &rec.otp_id, MAX_ATTEMPTS)
        .await?
    else {
        audit::detail("cause", "attempts_used_up");
        return Err(code_not_found());
    };
    if !matches(ctx, &rec.salt, code.trim(), &rec.code_hash) {
        let replaced = rec.superseded.iter().any(|s| {
            s.split_once(':')
                .is_some_and(|(salt, hash)| matches(ctx, salt, code.trim(), hash))
        });
        if replaced {
            // An earlier code: it was invalidated by a newer one, not guessed wrong.
            audit::detail("cause", "code_superseded");
            return Err(code_not_found());
        }
        if attempts >= MAX_ATTEMPTS {
            ctx.store.delete_otp(&rec.project_id, &rec.otp_id).await?;
        }
        audit::detail("cause", "wrong_code");
        audit::detail("attempt", attempts);
        return Err(crate::error::catalogue::UNABLE_TO_AUTH_OTP_CODE.err());
    }
    if !ctx.store.delete_otp(&rec.project_id, &rec.otp_id).await? {
        audit::detail("cause", "code_already_used");
        return Err(code_not_found());
    }
    Ok(rec)
}

/// Refuses numbers outside the project's SMS countries (US and Canada by default, as Stytch).
pub(crate) async fn sms_country_allowed(ctx: &Ctx, project_id: &ProjectId, phone: &str) -> CoreResult<()> {
    let country = validate::phone_country(phone).unwrap_or_default();
    let cfg = ctx.project_config(project_id).await?;
    if !cfg
        .settings
        .sms_allowed_countries
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&country))
    {
        return Err(
            crate::error::catalogue::INVALID_PHONE_NUMBER_COUNTRY_CODE.detail(format!(
                "{country}; allowed: {}",
                cfg.settings.sms_allowed_countries.join(", ")
            )),
        );
    }
    Ok(())
}

pub async fn send_mfa_sms(ctx: &Ctx, member: &MemberRecord, org: &OrgRecord, locale: Option<&str>) -> CoreResult<()> {
    let locale = templates::sms_locale(locale)?;
    sms_country_allowed(ctx, &member.project_id, &member.mfa_phone_number).await?;
    send_code(
        ctx,
        &member.project_id,
        &org.organization_id,
        Channel::Sms,
        &member.mfa_phone_number,
        Some(&member.member_id),
        SMS_MINUTES,
        |code| {
            let vars = [("org", org.name.as_str()), ("code", code)];
            Ok((
                Kind::SmsOtp,
                locale,
                templates::render(Kind::SmsOtp, locale, &vars, None),
            ))
        },
    )
    .await
}
