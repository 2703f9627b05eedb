"""The MFA flow end to end: a primary factor (password or email OTP) in an organization that wants
MFA, the pre-emptive SMS (`mfa_required.secondary_auth_initiated == "sms_otp"`), and
otps.sms.authenticate with the intermediate session token (otps.md "Automatic sends"; README "The
authentication response pattern"; objects.md MfaRequired).
"""

from __future__ import annotations

import datetime
import itertools
import random
import re
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok

CODE_RE = re.compile(r"^[0-9]{6}$")

# Phone numbers unique within this module (test_otps_sms uses another area code).
_PHONES = itertools.count(random.randrange(0, 4000))

SMS_PHRASES = {
    "en": "verification code",
    "es": "código de verificación",
    "fr": "code de vérification",
    "pt-br": "código de verificação",
}


# ---------------------------------------------------------------- helpers


def _phone() -> str:
    return f"+1303555{2000 + next(_PHONES) % 8000:04d}"


def _mail(local: str = "flow") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('mfa')}"


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _outbox(server, recipient: str, limit: int = 50) -> List[Dict[str, Any]]:
    with h.TimeoutSession() as s:
        r = s.get(
            server.api("/latch/v1/outbox"),
            params={"recipient": recipient, "limit": limit},
            auth=(server.project.project_id, server.project.secret),
        )
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _only_sms(server, phone: str) -> Dict[str, Any]:
    msgs = _outbox(server, phone)
    assert len(msgs) == 1, f"exactly one SMS expected for {phone}: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "sms" and msg["kind"] == "sms_otp", msg
    assert CODE_RE.match(msg["code"] or ""), msg
    assert msg["code"] in msg["text"]
    return msg


def _with_password(client, org_id: str, email: Optional[str] = None, **kwargs):
    email = email or _mail()
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs)).member


def _login(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=hv.PASSWORD, **kwargs))


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _factor_types(session) -> List[str]:
    return sorted(_value(f.type) for f in session.authentication_factors)


def _email_code(client, server, org_id: str, email: str) -> str:
    ok(client.otps.email.login_or_signup(organization_id=org_id, email_address=email))
    msgs = _outbox(server, email)
    assert msgs and msgs[0]["channel"] == "email", msgs
    return msgs[0]["code"]


def _assert_mfa_pending(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id == member_id and resp.organization_id == org_id
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.member_session is None
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.mfa_required is not None
    assert resp.primary_required is None


def _assert_sms_initiated(resp, phone: str) -> None:
    mfa = resp.mfa_required
    assert mfa.secondary_auth_initiated == "sms_otp", f"an SMS code must be sent pre-emptively: {mfa}"
    assert mfa.member_options is not None
    assert mfa.member_options.mfa_phone_number == phone
    assert mfa.member_options.totp_registration_id == ""


def _finish(client, org_id: str, member_id: str, code: str, ist: str, **kwargs):
    resp = ok(client.otps.sms.authenticate(organization_id=org_id, member_id=member_id, code=code,
                                           intermediate_session_token=ist, **kwargs))
    assert resp.member_id == member_id and resp.organization.organization_id == org_id
    assert resp.session_token and resp.session_jwt and resp.member_session is not None
    return resp


def _mfa_org(client, **kwargs):
    return h.create_org(client, mfa_policy="REQUIRED_FOR_ALL", **kwargs)


# ---------------------------------------------------------------- password + pre-emptive SMS


def test_password_then_preemptive_sms(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    assert m.mfa_phone_number == phone and m.mfa_phone_number_verified is False
    pw = _login(client, org.organization_id, m.email_address, session_custom_claims={"from_primary": True})
    _assert_mfa_pending(pw, m.member_id, org.organization_id)
    _assert_sms_initiated(pw, phone)
    msg = _only_sms(server, phone)
    assert msg["locale"] == "en" and SMS_PHRASES["en"] in msg["text"]
    assert _sessions_of(client, org.organization_id, m.member_id) == []

    before = datetime.datetime.now(datetime.timezone.utc)
    done = _finish(client, org.organization_id, m.member_id, msg["code"], pw.intermediate_session_token,
                   session_duration_minutes=30)
    assert _factor_types(done.member_session) == ["otp", "password"]
    sms = next(f for f in done.member_session.authentication_factors if _value(f.type) == "otp")
    assert _value(sms.delivery_method) == "sms" and sms.phone_number_factor.phone_number == phone
    pwf = next(f for f in done.member_session.authentication_factors if _value(f.type) == "password")
    assert _value(pwf.delivery_method) == "knowledge"
    exp = done.member_session.expires_at
    assert before + datetime.timedelta(minutes=29) <= exp <= before + datetime.timedelta(minutes=31, seconds=30), exp
    assert not done.member_session.custom_claims, "claims passed with an MFA outcome are ignored"
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.mfa_phone_number_verified is True and stored.mfa_enrolled is True
    got = ok(client.sessions.authenticate(session_token=done.session_token))
    assert _factor_types(got.member_session) == ["otp", "password"]
    # Exactly one SMS was ever sent: the pre-emptive one.
    assert len(_outbox(server, phone)) == 1


@pytest.mark.parametrize("locale", ["es", "fr", "pt-br"])
def test_preemptive_sms_uses_the_locale_of_the_login(client, server, locale):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address, locale=locale)
    _assert_sms_initiated(pw, phone)
    msg = _only_sms(server, phone)
    assert msg["locale"] == locale
    assert SMS_PHRASES[locale] in msg["text"], msg["text"]
    assert SMS_PHRASES["en"] not in msg["text"]
    done = _finish(client, org.organization_id, m.member_id, msg["code"], pw.intermediate_session_token)
    assert _factor_types(done.member_session) == ["otp", "password"]


def test_wrong_sms_code_keeps_the_flow_alive(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address)
    code = _only_sms(server, phone)["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    expect_error(401, "unable_to_auth_otp_code", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=wrong, intermediate_session_token=pw.intermediate_session_token)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    done = _finish(client, org.organization_id, m.member_id, code, pw.intermediate_session_token)
    assert _factor_types(done.member_session) == ["otp", "password"]


def test_wrong_password_sends_no_sms(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate, organization_id=org.organization_id,
                 email_address=m.email_address, password=hv.WRONG_PASSWORD)
    assert _outbox(server, phone) == []


def test_resend_with_the_ist(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address)
    _only_sms(server, phone)
    ok(client.otps.sms.send(organization_id=org.organization_id, member_id=m.member_id,
                            intermediate_session_token=pw.intermediate_session_token, locale="es"))
    msgs = _outbox(server, phone)
    assert len(msgs) == 2 and msgs[0]["locale"] == "es"
    done = _finish(client, org.organization_id, m.member_id, msgs[0]["code"], pw.intermediate_session_token)
    assert _factor_types(done.member_session) == ["otp", "password"]


# ---------------------------------------------------------------- email OTP + pre-emptive SMS


def test_email_otp_then_preemptive_sms(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail("eotp"), mfa_phone_number=phone, create_member_as_pending=True)
    code = _email_code(client, server, org.organization_id, m.email_address)
    primary = ok(client.otps.email.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                                code=code, locale="fr"))
    _assert_mfa_pending(primary, m.member_id, org.organization_id)
    _assert_sms_initiated(primary, phone)
    assert primary.member.status == "pending", "not fully authenticated yet"
    msg = _only_sms(server, phone)
    assert msg["locale"] == "fr" and SMS_PHRASES["fr"] in msg["text"], msg
    done = _finish(client, org.organization_id, m.member_id, msg["code"], primary.intermediate_session_token)
    assert _factor_types(done.member_session) == ["email_otp", "otp"]
    assert done.member.status == "active"
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.status == "active" and stored.email_address_verified is True
    assert stored.mfa_phone_number_verified is True and stored.mfa_enrolled is True


# ---------------------------------------------------------------- member without a phone


def test_member_without_phone_enrolls_one(client, server):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    pw = _login(client, org.organization_id, m.email_address)
    _assert_mfa_pending(pw, m.member_id, org.organization_id)
    assert pw.mfa_required.secondary_auth_initiated is None
    assert pw.mfa_required.member_options is None
    phone = _phone()
    sent = ok(client.otps.sms.send(organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=phone,
                                   intermediate_session_token=pw.intermediate_session_token))
    assert sent.member.mfa_phone_number == phone and sent.member.mfa_phone_number_verified is False
    msg = _only_sms(server, phone)
    done = _finish(client, org.organization_id, m.member_id, msg["code"], pw.intermediate_session_token)
    assert _factor_types(done.member_session) == ["otp", "password"]
    assert done.member.mfa_phone_number == phone
    assert done.member.mfa_phone_number_verified is True and done.member.mfa_enrolled is True
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.mfa_phone_number_verified is True and stored.mfa_enrolled is True
    # The next login gets the SMS pre-emptively.
    again = _login(client, org.organization_id, m.email_address)
    _assert_mfa_pending(again, m.member_id, org.organization_id)
    _assert_sms_initiated(again, phone)
    assert len(_outbox(server, phone)) == 2
    code = _outbox(server, phone)[0]["code"]
    assert _factor_types(_finish(client, org.organization_id, m.member_id, code, again.intermediate_session_token).member_session) == ["otp", "password"]


# ---------------------------------------------------------------- who gets a pre-emptive SMS


def test_mfa_restricted_to_totp_sends_no_sms(client, server):
    org = _mfa_org(client, mfa_methods="RESTRICTED", allowed_mfa_methods=["totp"])
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address)
    _assert_mfa_pending(pw, m.member_id, org.organization_id)
    assert pw.mfa_required.secondary_auth_initiated is None
    assert _outbox(server, phone) == []


@pytest.mark.parametrize("allowed", [["sms_otp"], ["sms_otp", "totp"]])
def test_mfa_restricted_including_sms_sends_it(client, server, allowed):
    org = _mfa_org(client, mfa_methods="RESTRICTED", allowed_mfa_methods=allowed)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address)
    _assert_sms_initiated(pw, phone)
    code = _only_sms(server, phone)["code"]
    assert _factor_types(_finish(client, org.organization_id, m.member_id, code, pw.intermediate_session_token).member_session) == ["otp", "password"]


def test_default_totp_without_registration_still_gets_sms(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    upd = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, default_mfa_method="totp"))
    assert upd.member.default_mfa_method == "totp" and upd.member.totp_registration_id == ""
    pw = _login(client, org.organization_id, m.email_address)
    _assert_sms_initiated(pw, phone)
    code = _only_sms(server, phone)["code"]
    assert _factor_types(_finish(client, org.organization_id, m.member_id, code, pw.intermediate_session_token).member_session) == ["otp", "password"]


def test_enrolled_member_of_optional_org_gets_sms(client, server):
    org = h.create_org(client)  # mfa_policy OPTIONAL
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, mfa_enrolled=True))
    pw = _login(client, org.organization_id, m.email_address)
    _assert_mfa_pending(pw, m.member_id, org.organization_id)
    _assert_sms_initiated(pw, phone)
    code = _only_sms(server, phone)["code"]
    done = _finish(client, org.organization_id, m.member_id, code, pw.intermediate_session_token)
    assert _factor_types(done.member_session) == ["otp", "password"]
    assert done.member.mfa_enrolled is True


def test_no_mfa_needed_no_sms(client, server):
    org = h.create_org(client)  # OPTIONAL, member not enrolled
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    pw = _login(client, org.organization_id, m.email_address)
    assert pw.member_authenticated is True and pw.mfa_required is None
    assert _outbox(server, phone) == []


def test_own_session_skips_mfa_and_sms(client, server):
    org = h.create_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    first = _login(client, org.organization_id, m.email_address)
    assert first.member_authenticated is True
    ok(client.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL"))
    again = _login(client, org.organization_id, m.email_address, session_token=first.session_token)
    assert again.member_authenticated is True and again.mfa_required is None
    assert again.member_session.member_session_id == first.member_session.member_session_id
    assert _outbox(server, phone) == [], "no MFA due, so no SMS"


def test_sms_completes_mfa_only_for_its_member(client, server):
    """The pre-emptive code of one member does not finish another member's login."""
    org = _mfa_org(client)
    pa, pb = _phone(), _phone()
    a = _with_password(client, org.organization_id, mfa_phone_number=pa)
    b = _with_password(client, org.organization_id, mfa_phone_number=pb)
    ist_a = _login(client, org.organization_id, a.email_address).intermediate_session_token
    ist_b = _login(client, org.organization_id, b.email_address).intermediate_session_token
    code_a = _only_sms(server, pa)["code"]
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.otps.sms.authenticate,
                 organization_id=org.organization_id, member_id=a.member_id, code=code_a, intermediate_session_token=ist_b)
    assert _sessions_of(client, org.organization_id, a.member_id) == []
    assert _sessions_of(client, org.organization_id, b.member_id) == []
    done = _finish(client, org.organization_id, a.member_id, code_a, ist_a)
    assert _factor_types(done.member_session) == ["otp", "password"]
