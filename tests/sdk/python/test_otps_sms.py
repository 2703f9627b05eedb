"""SMS one-time passcodes, an MFA / step-up factor only: otps.sms.send and otps.sms.authenticate
(otps.md).

Codes are read from the development outbox (`GET /latch/v1/outbox?recipient=+1…`).
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
SENDS_PER_WINDOW = 10
MAX_WRONG_GUESSES = 5

# Phone numbers unique within this module, clear of the fixed +1202555 01xx numbers of other
# modules (test_mfa_flow uses another area code).
_PHONES = itertools.count(random.randrange(0, 4000))

LOCALE_PHRASES = {
    "en": "verification code",
    "es": "código de verificación",
    "fr": "code de vérification",
    "pt-br": "código de verificação",
}


# ---------------------------------------------------------------- helpers


def _phone() -> str:
    return f"+1202555{2000 + next(_PHONES) % 8000:04d}"


def _mail(local: str = "sms") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('sotp')}"


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


def _send(client, server, org_id: str, member_id: str, phone: str, **kwargs):
    """otps.sms.send; returns (response, the SMS it sent to `phone`)."""
    before = len(_outbox(server, phone))
    resp = ok(client.otps.sms.send(organization_id=org_id, member_id=member_id, **kwargs))
    msgs = _outbox(server, phone)
    assert len(msgs) == before + 1, f"sms.send must send exactly one message to {phone}: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "sms" and msg["kind"] == "sms_otp", msg
    assert CODE_RE.match(msg["code"] or ""), f"the code is 6 digits: {msg['code']!r}"
    return resp, msg


def _code(client, server, org_id: str, member_id: str, phone: str, **kwargs) -> str:
    return _send(client, server, org_id, member_id, phone, **kwargs)[1]["code"]


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _with_password(client, org_id: str, email: Optional[str] = None, **kwargs):
    email = email or _mail()
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs)).member


def _login(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=hv.PASSWORD, **kwargs))


def _factors(session) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _mfa_setup(client, server):
    """REQUIRED_FOR_ALL org, a member without a phone with a password login → (org, member, IST, phone, code)."""
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    pw = _login(client, org.organization_id, m.email_address)
    assert pw.member_authenticated is False and pw.intermediate_session_token
    phone = _phone()
    code = _code(client, server, org.organization_id, m.member_id, phone, mfa_phone_number=phone,
                 intermediate_session_token=pw.intermediate_session_token)
    return org, m, pw.intermediate_session_token, phone, code


def _session_setup(client, server, org=None, **member_kwargs):
    """OPTIONAL org, a member with a phone and a full password session → (org, member, login response, phone)."""
    org = org or h.create_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone, **member_kwargs)
    first = _login(client, org.organization_id, m.email_address)
    assert first.member_authenticated is True
    return org, m, first, phone


def _sms_auth(client, org_id: str, member_id: str, code: str, **kwargs):
    return ok(client.otps.sms.authenticate(organization_id=org_id, member_id=member_id, code=code, **kwargs))


def _assert_session(resp, member_id: str, org_id: str, phone: str, via_jwt: bool = False) -> None:
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    if via_jwt:
        # Latch keeps session tokens only as digests, so a session reached through its JWT cannot
        # hand its opaque token back (documented deviation from Stytch; README "Differences").
        assert resp.session_token == ""
    else:
        assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt
    s = resp.member_session
    assert s is not None and s.member_id == member_id and s.organization_id == org_id
    f = _factors(s).get("otp")
    assert f is not None, f"no otp factor: {s.authentication_factors}"
    assert _value(f.delivery_method) == "sms"
    assert f.phone_number_factor is not None, f
    assert f.phone_number_factor.phone_number == phone
    assert isinstance(f.phone_number_factor.phone_id, str) and f.phone_number_factor.phone_id
    assert resp.member.mfa_phone_number == phone
    assert resp.member.mfa_phone_number_verified is True


# ---------------------------------------------------------------- send


def test_send_to_the_members_phone(client, server):
    org = h.create_org(client, organization_name=f"Acme {h.token()}")
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    assert m.mfa_phone_number == phone and m.mfa_phone_number_verified is False
    resp, msg = _send(client, server, org.organization_id, m.member_id, phone)
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.organization.organization_id == org.organization_id
    assert resp.member.mfa_phone_number == phone and resp.member.mfa_phone_number_verified is False
    assert msg["recipient"] == phone and msg["locale"] == "en"
    assert msg["text"].strip() == f"{msg['code']} is your {org.organization_name} verification code.", msg["text"]
    assert not msg["subject"] and not msg["html"], "an SMS has neither subject nor HTML"
    assert _member(client, org.organization_id, m.member_id) == resp.member


def test_send_with_the_members_own_number_passed(client, server):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    resp, _ = _send(client, server, org.organization_id, m.member_id, phone, mfa_phone_number=phone)
    assert resp.member.mfa_phone_number == phone


@pytest.mark.parametrize("locale", ["es", "fr", "pt-br"])
def test_send_translated(client, server, locale):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    _, msg = _send(client, server, org.organization_id, m.member_id, phone, locale=locale)
    assert msg["locale"] == locale
    assert LOCALE_PHRASES[locale] in msg["text"], msg["text"]
    assert LOCALE_PHRASES["en"] not in msg["text"]
    assert msg["code"] in msg["text"] and org.organization_name in msg["text"]


@pytest.mark.parametrize("locale", ["de-DE", "it", "zh-Hans", "ja", "cs"])
def test_send_in_other_sdk_locales_falls_back_to_english(client, server, locale):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    _, msg = _send(client, server, org.organization_id, m.member_id, phone, locale=locale)
    assert msg["text"].strip() == f"{msg['code']} is your {org.organization_name} verification code.", msg["text"]


@pytest.mark.parametrize("locale", ["xx", "de", "klingon", "en-GB-oed-x"])
def test_send_with_unknown_locale_is_refused(client, server, locale):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    expect_error(400, "invalid_locale", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id, locale=locale)
    assert _outbox(server, phone) == []


def test_unknown_locale_does_not_link_the_number(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    phone = _phone()
    expect_error(400, "invalid_locale", client.otps.sms.send, organization_id=org.organization_id,
                 member_id=m.member_id, mfa_phone_number=phone, locale="xx")
    assert _outbox(server, phone) == []
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number == "", "a refused send links nothing"


def test_send_links_a_new_number(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    assert m.mfa_phone_number == ""
    phone = _phone()
    resp, msg = _send(client, server, org.organization_id, m.member_id, phone, mfa_phone_number=phone)
    assert resp.member.mfa_phone_number == phone
    assert resp.member.mfa_phone_number_verified is False
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.mfa_phone_number == phone and stored.mfa_phone_number_verified is False
    assert msg["recipient"] == phone


def test_send_to_a_different_number_is_refused(client, server):
    org = h.create_org(client)
    phone, other = _phone(), _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    expect_error(400, "invalid_phone_number", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=other)
    assert _outbox(server, phone) == [] and _outbox(server, other) == []
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number == phone


def test_send_without_any_number(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(404, "member_phone_number_not_found", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id)
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number == ""


@pytest.mark.parametrize("bad", ["12345", "+1abc5550123", "+0123456789", "+1", "+1234567890123456", "not a phone", "2025550123"])
def test_send_with_a_bad_number(client, server, bad):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "invalid_phone_number", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=bad)
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number == ""
    assert _outbox(server, bad) == []


def test_send_with_another_members_number(client, server):
    org = h.create_org(client)
    phone = _phone()
    owner = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "duplicate_member_phone_number", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=phone)
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number == ""
    assert _member(client, org.organization_id, owner.member_id).mfa_phone_number == phone
    assert _outbox(server, phone) == []


def test_send_to_unknown_organization_or_member(client, server):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    expect_error(404, "organization_not_found", client.otps.sms.send,
                 organization_id="organization-test-00000000-0000-4000-8000-000000000000", member_id=m.member_id)
    expect_error(404, "member_not_found", client.otps.sms.send,
                 organization_id=org.organization_id, member_id="member-test-00000000-0000-4000-8000-000000000000")
    # A member of another organization is not found through this one.
    other_org = h.create_org(client)
    expect_error(404, "member_not_found", client.otps.sms.send,
                 organization_id=other_org.organization_id, member_id=m.member_id)
    assert _outbox(server, phone) == []


def test_send_rate_limit_per_recipient(client, server):
    org = h.create_org(client)
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    for _ in range(SENDS_PER_WINDOW):
        ok(client.otps.sms.send(organization_id=org.organization_id, member_id=m.member_id))
    expect_error(429, "too_many_requests", client.otps.sms.send,
                 organization_id=org.organization_id, member_id=m.member_id)
    assert len(_outbox(server, phone)) == SENDS_PER_WINDOW
    # Another member's number is not affected.
    other_phone = _phone()
    other = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=other_phone)
    _send(client, server, org.organization_id, other.member_id, other_phone)


# ---------------------------------------------------------------- authenticate with an IST


def test_authenticate_completes_mfa(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist,
                     session_duration_minutes=45, session_custom_claims={"k": "v"})
    _assert_session(resp, m.member_id, org.organization_id, phone)
    assert set(_factors(resp.member_session)) == {"password", "otp"}
    assert resp.member.mfa_enrolled is True, "REQUIRED_FOR_ALL: enrolled on success"
    assert resp.member_session.custom_claims == {"k": "v"}
    exp = resp.member_session.expires_at
    assert before + datetime.timedelta(minutes=44) <= exp <= before + datetime.timedelta(minutes=46, seconds=30), exp
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.mfa_phone_number_verified is True and stored.mfa_enrolled is True
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == resp.member_session.member_session_id
    assert set(_factors(got.member_session)) == {"password", "otp"}


def test_required_for_all_ignores_unenroll(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    resp = _sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist, set_mfa_enrollment="unenroll")
    assert resp.member.mfa_enrolled is True


def test_no_session_arguments(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    expect_error(400, "no_session_arguments", client.otps.sms.authenticate,
                 organization_id=org.organization_id, member_id=m.member_id, code=code)
    # Nothing was used up.
    _assert_session(_sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist),
                    m.member_id, org.organization_id, phone)


def test_too_many_session_arguments(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    other_org, other, first, _ = _session_setup(client, server)
    for extra in ({"session_token": first.session_token}, {"session_jwt": first.session_jwt}):
        expect_error(400, "too_many_session_arguments", client.otps.sms.authenticate, organization_id=org.organization_id,
                     member_id=m.member_id, code=code, intermediate_session_token=ist, **extra)
    expect_error(400, "too_many_session_arguments", client.otps.sms.authenticate, organization_id=other_org.organization_id,
                 member_id=other.member_id, code="123456", session_token=first.session_token, session_jwt=first.session_jwt)
    _assert_session(_sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist),
                    m.member_id, org.organization_id, phone)


def test_wrong_code(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    for wrong in (_other_code(code), "abcdef", code[:5]):
        expect_error(401, "unable_to_auth_otp_code", client.otps.sms.authenticate, organization_id=org.organization_id,
                     member_id=m.member_id, code=wrong, intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).mfa_phone_number_verified is False
    # Neither the code nor the IST was used up.
    _assert_session(_sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist),
                    m.member_id, org.organization_id, phone)


def test_code_dies_after_five_wrong_guesses(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    for _ in range(MAX_WRONG_GUESSES):
        expect_error(401, "unable_to_auth_otp_code", client.otps.sms.authenticate, organization_id=org.organization_id,
                     member_id=m.member_id, code=_other_code(code), intermediate_session_token=ist)
    expect_error(404, "otp_code_not_found", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    fresh = _code(client, server, org.organization_id, m.member_id, phone, intermediate_session_token=ist)
    _assert_session(_sms_auth(client, org.organization_id, m.member_id, fresh, intermediate_session_token=ist),
                    m.member_id, org.organization_id, phone)


def test_only_the_latest_code_is_valid(client, server):
    org, m, ist, phone, first = _mfa_setup(client, server)
    second = _code(client, server, org.organization_id, m.member_id, phone, intermediate_session_token=ist)
    while second == first:  # one chance in a million
        second = _code(client, server, org.organization_id, m.member_id, phone, intermediate_session_token=ist)
    expect_error(404, "otp_code_not_found", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=first, intermediate_session_token=ist)
    _assert_session(_sms_auth(client, org.organization_id, m.member_id, second, intermediate_session_token=ist),
                    m.member_id, org.organization_id, phone)


def test_code_is_single_use(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    done = _sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist)
    # The same code again, now as a step-up of the session it created (no newer code exists).
    expect_error(404, "otp_code_not_found", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, session_token=done.session_token)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_ist_is_consumed(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    done = _sms_auth(client, org.organization_id, m.member_id, code, intermediate_session_token=ist)
    fresh = _code(client, server, org.organization_id, m.member_id, phone, session_token=done.session_token)
    expect_error(404, "intermediate_session_not_found", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=fresh, intermediate_session_token=ist)
    assert [s.member_session_id for s in _sessions_of(client, org.organization_id, m.member_id)] == [done.member_session.member_session_id]
    # The fresh code was not used up by the refusal.
    again = _sms_auth(client, org.organization_id, m.member_id, fresh, session_token=done.session_token)
    assert again.member_session.member_session_id == done.member_session.member_session_id


def test_ist_of_another_member(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    other = _with_password(client, org.organization_id)
    other_ist = _login(client, org.organization_id, other.email_address).intermediate_session_token
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.otps.sms.authenticate,
                 organization_id=org.organization_id, member_id=m.member_id, code=code, intermediate_session_token=other_ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _sessions_of(client, org.organization_id, other.member_id) == []


def test_ist_of_another_organization(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    # The same person (same email) in another MFA organization.
    other_org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    twin = _with_password(client, other_org.organization_id, email=m.email_address)
    foreign_ist = _login(client, other_org.organization_id, m.email_address).intermediate_session_token
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.otps.sms.authenticate,
                 organization_id=org.organization_id, member_id=m.member_id, code=code, intermediate_session_token=foreign_ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _sessions_of(client, other_org.organization_id, twin.member_id) == []


def test_garbage_ist(client, server):
    org, m, ist, phone, code = _mfa_setup(client, server)
    expect_error(404, "intermediate_session_not_found", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, intermediate_session_token="ist-" + h.token() * 3)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


# ---------------------------------------------------------------- step-up of a session


@pytest.mark.parametrize("via", ["session_token", "session_jwt"])
def test_step_up_of_a_session(client, server, via):
    org, m, first, phone = _session_setup(client, server)
    token = {"session_token": first.session_token} if via == "session_token" else {"session_jwt": first.session_jwt}
    code = _code(client, server, org.organization_id, m.member_id, phone, **token)
    resp = _sms_auth(client, org.organization_id, m.member_id, code, **token)
    _assert_session(resp, m.member_id, org.organization_id, phone, via_jwt=(via == "session_jwt"))
    if via == "session_token":
        assert resp.session_token == first.session_token
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "otp"}
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1
    # The original token now carries both factors.
    got = ok(client.sessions.authenticate(session_token=first.session_token))
    assert set(_factors(got.member_session)) == {"password", "otp"}
    # OPTIONAL org, no set_mfa_enrollment: enrolment unchanged.
    assert resp.member.mfa_enrolled is False


def test_session_of_another_member_is_refused(client, server):
    org, m, first, phone = _session_setup(client, server)
    other_phone = _phone()
    other = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=other_phone)
    code = _code(client, server, org.organization_id, other.member_id, other_phone)
    d = h.expect_error_status(400, client.otps.sms.authenticate, organization_id=org.organization_id,
                              member_id=other.member_id, code=code, session_token=first.session_token)
    assert d.error_type
    assert set(_factors(ok(client.sessions.authenticate(session_token=first.session_token)).member_session)) == {"password"}
    assert _member(client, org.organization_id, other.member_id).mfa_phone_number_verified is False


@pytest.mark.parametrize("initial", [False, True])
def test_set_mfa_enrollment_in_optional_org(client, server, initial):
    org, m, first, phone = _session_setup(client, server)
    if initial:
        ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, mfa_enrolled=True))
    wanted = "unenroll" if initial else "enroll"
    code = _code(client, server, org.organization_id, m.member_id, phone, session_token=first.session_token)
    resp = _sms_auth(client, org.organization_id, m.member_id, code, session_token=first.session_token, set_mfa_enrollment=wanted)
    assert resp.member.mfa_enrolled is (not initial)
    assert _member(client, org.organization_id, m.member_id).mfa_enrolled is (not initial)


def test_set_default_mfa(client, server):
    org, m, first, phone = _session_setup(client, server)
    assert m.default_mfa_method != "sms_otp"
    code = _code(client, server, org.organization_id, m.member_id, phone, session_token=first.session_token)
    resp = _sms_auth(client, org.organization_id, m.member_id, code, session_token=first.session_token, set_default_mfa=True)
    assert resp.member.default_mfa_method == "sms_otp"
    assert _member(client, org.organization_id, m.member_id).default_mfa_method == "sms_otp"


@pytest.mark.parametrize("value", ["ENROLL", "yes", "maybe"])
def test_bad_set_mfa_enrollment(client, server, value):
    org, m, first, phone = _session_setup(client, server)
    code = _code(client, server, org.organization_id, m.member_id, phone, session_token=first.session_token)
    expect_error(400, "invalid_argument", client.otps.sms.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, session_token=first.session_token, set_mfa_enrollment=value)
    after = _member(client, org.organization_id, m.member_id)
    assert after.mfa_enrolled is False and after.mfa_phone_number_verified is False
