"""TOTP as an MFA factor: totps.create, totps.authenticate, totps.migrate and
organizations.members.delete_totp (totps.md; README "The authentication response pattern";
objects.md MfaRequired / MemberOptions / AuthenticationFactor).

Every code is computed by pyotp (an independent RFC 6238 implementation) from the secret the
server hands out, exactly as an authenticator app would; nothing here asks Latch for a code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
import time
from typing import Any, Dict

import pyotp
import pytest
from stytch.core.response_base import StytchError

import latch_helpers as h
from latch_helpers import expect_error, ok

PASSWORD = "Totp-Sdk-Suite-7f3e!x"
STEP = 30  # seconds per TOTP step
MAX_WRONG_CODES = 10  # wrong codes per member in 10 minutes before 429
RECOVERY_CODE_RE = re.compile(r"^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- helpers


def _mail(local: str = "totp") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('totp')}"


def _phone() -> str:
    return "+1202555" + f"{random.randint(0, 9999):04d}"


def _with_password(client, org_id: str, email: str = None, **kwargs):
    email = email or _mail()
    return ok(
        client.passwords.migrate(
            organization_id=org_id,
            email_address=email,
            hash_type="md_5",
            hash=hashlib.md5(PASSWORD.encode()).hexdigest(),
            **kwargs,
        )
    ).member


def _login(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=PASSWORD, **kwargs))


def _mfa_org(client):
    return h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")


def _ist(client, org_id: str, email: str) -> str:
    resp = _login(client, org_id, email)
    assert resp.member_authenticated is False, "the organization requires MFA"
    assert resp.intermediate_session_token
    return resp.intermediate_session_token


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _factors(session) -> Dict[str, Any]:
    """type -> factor; each type at most once."""
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _code(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows `offset` seconds from now (pyotp, RFC 6238)."""
    return pyotp.TOTP(secret).at(int(time.time()) + offset)


def _wrong_code(secret: str) -> str:
    """A six-digit code that is valid for no step anywhere near now."""
    near = {_code(secret, k * STEP) for k in range(-3, 4)}
    while True:
        c = f"{random.randint(0, 999_999):06d}"
        if c not in near:
            return c


def _away_from_step_edge(margin: float = 2.0) -> None:
    """Waits out the end of a 30-s step, so a code of the previous step is still inside the
    server's one-step window when the request arrives."""
    left = STEP - (time.time() % STEP)
    if left < margin:
        time.sleep(left + 0.1)


def _create(client, org_id: str, member_id: str, **kwargs):
    return ok(client.totps.create(organization_id=org_id, member_id=member_id, **kwargs))


def _authenticate(client, org_id: str, member_id: str, code: str, **kwargs):
    return ok(client.totps.authenticate(organization_id=org_id, member_id=member_id, code=code, **kwargs))


def _assert_totp_factor(f, totp_id: str) -> None:
    assert _value(f.type) == "totp"
    assert _value(f.delivery_method) == "authenticator_app"
    assert f.authenticator_app_factor is not None, f
    assert f.authenticator_app_factor.totp_id == totp_id


def _assert_session(resp, member_id: str, org_id: str) -> None:
    """MFA-completion responses always carry a full session."""
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt
    assert resp.member_session is not None
    assert resp.member_session.member_id == member_id
    assert resp.member_session.organization_id == org_id


def _plain_session(client):
    """A member of an MFA-optional organization with a password session (for step-up)."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _login(client, org.organization_id, m.email_address)
    assert first.member_authenticated is True
    return org, m, first


def _activated(client):
    """A member of an MFA-required organization whose TOTP registration is active."""
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id, intermediate_session_token=ist)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), intermediate_session_token=ist)
    assert resp.member.totp_registration_id == c.totp_registration_id
    return org, m, c, resp


# ---------------------------------------------------------------- create


def test_create_returns_secret_qr_code_and_recovery_codes(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    c = _create(client, org.organization_id, m.member_id)

    assert c.member_id == m.member_id and c.member.member_id == m.member_id
    assert c.organization.organization_id == org.organization_id
    assert c.totp_registration_id.startswith("member-totp-test-"), c.totp_registration_id

    # The secret is base32 and long enough for RFC 4226 (>= 128 bits recommended, 80 minimum).
    raw = base64.b32decode(c.secret + "=" * (-len(c.secret) % 8), casefold=True)
    assert len(raw) >= 10, f"secret has {len(raw)} bytes"
    assert re.fullmatch(r"[0-9]{6}", _code(c.secret))

    prefix = "data:image/png;base64,"
    assert c.qr_code.startswith(prefix), c.qr_code[:40]
    try:
        png = base64.b64decode(c.qr_code[len(prefix):], validate=True)
    except binascii.Error as e:
        raise AssertionError(f"qr_code is not base64: {e}") from None
    assert png.startswith(PNG_SIGNATURE), png[:16]
    assert png[12:16] == b"IHDR", "a PNG starts with its IHDR chunk"

    assert len(c.recovery_codes) == 10, c.recovery_codes
    assert len(set(c.recovery_codes)) == 10, "recovery codes are distinct"
    for rc in c.recovery_codes:
        assert RECOVERY_CODE_RE.match(rc), rc

    # Pending until its first code: not on the member yet.
    assert c.member.totp_registration_id == ""
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""


def test_each_registration_has_its_own_secret(client):
    org = h.create_org(client)
    a = _with_password(client, org.organization_id)
    b = _with_password(client, org.organization_id)
    ca = _create(client, org.organization_id, a.member_id)
    cb = _create(client, org.organization_id, b.member_id)
    assert ca.secret != cb.secret
    assert ca.totp_registration_id != cb.totp_registration_id
    assert not set(ca.recovery_codes) & set(cb.recovery_codes)


@pytest.mark.parametrize("minutes", [0, 4, 1441, -1])
def test_create_expiration_minutes_out_of_bounds(client, minutes):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(400, "invalid_argument", client.totps.create,
                 organization_id=org.organization_id, member_id=m.member_id, expiration_minutes=minutes)
    # Nothing was registered: authenticating finds no registration.
    expect_error(404, "totp_not_found", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code="123456",
                 session_token=_login(client, org.organization_id, m.email_address).session_token)


@pytest.mark.parametrize("minutes", [5, 1440])
def test_create_expiration_minutes_bounds_are_inclusive(client, minutes):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    c = _create(client, org.organization_id, m.member_id, expiration_minutes=minutes)
    assert c.secret and len(c.recovery_codes) == 10


def test_create_with_the_members_ist(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id, intermediate_session_token=ist)
    assert c.member.totp_registration_id == ""
    # create does not consume the IST: it still completes MFA.
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), intermediate_session_token=ist)
    _assert_session(resp, m.member_id, org.organization_id)


def test_active_registration_must_be_deleted_before_creating_another(client):
    org, m, c, _ = _activated(client)
    expect_error(400, "active_totp_exists", client.totps.create, organization_id=org.organization_id, member_id=m.member_id)
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == c.totp_registration_id

    deleted = ok(client.organizations.members.delete_totp(organization_id=org.organization_id, member_id=m.member_id))
    assert deleted.member.totp_registration_id == ""
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""

    again = _create(client, org.organization_id, m.member_id)
    assert again.totp_registration_id != c.totp_registration_id
    assert again.secret != c.secret

    # The deleted secret no longer authenticates; the new one does.
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret, STEP), intermediate_session_token=ist)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(again.secret, STEP), intermediate_session_token=ist)
    assert resp.member.totp_registration_id == again.totp_registration_id


def test_creating_again_while_pending_replaces_the_pending_registration(client):
    org, m, first = _plain_session(client)
    old = _create(client, org.organization_id, m.member_id)
    new = _create(client, org.organization_id, m.member_id)
    assert new.totp_registration_id != old.totp_registration_id
    assert new.secret != old.secret
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(old.secret), session_token=first.session_token)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(new.secret), session_token=first.session_token)
    assert resp.member.totp_registration_id == new.totp_registration_id
    _assert_totp_factor(_factors(resp.member_session)["totp"], new.totp_registration_id)


def test_member_with_verified_phone_needs_a_proven_mfa_factor_to_add_totp(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required.secondary_auth_initiated == "sms_otp"
    sms = ok(client.otps.sms.authenticate(organization_id=org.organization_id, member_id=m.member_id,
                                          code=_sms_code(server, phone),
                                          intermediate_session_token=login.intermediate_session_token))
    assert "otp" in _factors(sms.member_session)

    # Neither no token nor a password-only IST proves the SMS factor.
    expect_error(400, "insufficient_factors", client.totps.create, organization_id=org.organization_id, member_id=m.member_id)
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(400, "insufficient_factors", client.totps.create, organization_id=org.organization_id,
                 member_id=m.member_id, intermediate_session_token=ist)
    # Nothing was registered.
    expect_error(404, "totp_not_found", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code="000000", session_token=sms.session_token)

    # The session that proved the SMS factor does.
    c = _create(client, org.organization_id, m.member_id, session_token=sms.session_token)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), session_token=sms.session_token)
    assert set(_factors(resp.member_session)) == {"password", "otp", "totp"}


def _sms_code(server, phone: str) -> str:
    with h.TimeoutSession() as s:
        r = s.get(server.api("/latch/v1/outbox"), params={"recipient": phone},
                  auth=(server.project.project_id, server.project.secret))
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert msgs, f"no SMS for {phone}"
    assert re.fullmatch(r"[0-9]{6}", msgs[0]["code"] or ""), msgs[0]
    return msgs[0]["code"]


# ---------------------------------------------------------------- authenticate


def test_first_code_completes_mfa_and_activates_the_registration(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required is not None and login.mfa_required.member_options is None
    ist = login.intermediate_session_token
    c = _create(client, org.organization_id, m.member_id)

    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), intermediate_session_token=ist,
                         session_duration_minutes=90, session_custom_claims={"tier": "gold"})
    _assert_session(resp, m.member_id, org.organization_id)
    factors = _factors(resp.member_session)
    assert set(factors) == {"password", "totp"}, "the IST's password factor plus the TOTP factor"
    _assert_totp_factor(factors["totp"], c.totp_registration_id)
    assert resp.member_session.custom_claims == {"tier": "gold"}
    lifetime = resp.member_session.expires_at - resp.member_session.started_at
    assert 89 * 60 <= lifetime.total_seconds() <= 91 * 60, lifetime

    member = _member(client, org.organization_id, m.member_id)
    for mm in (resp.member, member):
        assert mm.totp_registration_id == c.totp_registration_id
        assert mm.default_mfa_method == "totp", "the first MFA completion sets the default method"
        assert mm.mfa_enrolled is True, "REQUIRED_FOR_ALL enrolls the member"

    # The session is real: the server authenticates it.
    s = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert s.member_session.member_session_id == resp.member_session.member_session_id
    assert "totp" in _factors(s.member_session)
    assert [x.member_session_id for x in _sessions_of(client, org.organization_id, m.member_id)] == [
        resp.member_session.member_session_id
    ]


def test_after_activation_password_login_offers_totp(client):
    org, m, c, _ = _activated(client)
    login = _login(client, org.organization_id, m.email_address)
    assert login.member_authenticated is False
    opts = login.mfa_required.member_options
    assert opts is not None
    assert opts.totp_registration_id == c.totp_registration_id
    assert opts.mfa_phone_number == ""
    assert login.mfa_required.secondary_auth_initiated is None, "no phone: nothing sent"


def test_pending_registration_is_not_offered_at_login(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    _create(client, org.organization_id, m.member_id)
    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required is not None
    assert login.mfa_required.member_options is None, "a pending registration is not an MFA option yet"


def test_codes_of_the_adjacent_steps_are_accepted(client):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    _away_from_step_edge()
    prev = _authenticate(client, org.organization_id, m.member_id, _code(c.secret, -STEP), session_token=first.session_token)
    assert prev.member.totp_registration_id == c.totp_registration_id
    nxt = _authenticate(client, org.organization_id, m.member_id, _code(c.secret, STEP), session_token=first.session_token)
    _assert_totp_factor(_factors(nxt.member_session)["totp"], c.totp_registration_id)
    assert nxt.member_session.member_session_id == first.member_session.member_session_id, "step-up keeps the session"


@pytest.mark.parametrize("offset", [-3 * STEP, 3 * STEP])
def test_codes_three_steps_away_are_refused(client, offset):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret, offset), session_token=first.session_token)
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == "", "still pending"
    assert set(_factors(_sessions_of(client, org.organization_id, m.member_id)[0])) == {"password"}
    # The current code still works afterwards.
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), session_token=first.session_token)
    assert resp.member.totp_registration_id == c.totp_registration_id


def test_a_code_is_accepted_once(client):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    code = _code(c.secret)
    _authenticate(client, org.organization_id, m.member_id, code, session_token=first.session_token)
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, session_token=first.session_token)
    # Replay through an IST of a fresh MFA login is refused as well (and leaves the IST usable).
    ok(client.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL"))
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, intermediate_session_token=ist)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret, STEP), intermediate_session_token=ist)
    assert resp.member_session.member_session_id != first.member_session.member_session_id


def test_wrong_code_is_refused_and_keeps_the_ist(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id)
    for bad in (_wrong_code(c.secret), _code(c.secret, -3 * STEP)):
        expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                     member_id=m.member_id, code=bad, intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), intermediate_session_token=ist)
    _assert_session(resp, m.member_id, org.organization_id)


def test_session_jwt_steps_up_the_session(client):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id, session_jwt=first.session_jwt)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), session_jwt=first.session_jwt)
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "totp"}
    assert resp.session_jwt and resp.session_jwt != first.session_jwt


def test_exactly_one_session_argument(client):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    expect_error(400, "no_session_arguments", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret))
    expect_error(400, "too_many_session_arguments", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret), session_token=first.session_token, session_jwt=first.session_jwt)
    # Neither refusal used the code or touched the session.
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""
    assert set(_factors(_sessions_of(client, org.organization_id, m.member_id)[0])) == {"password"}
    _authenticate(client, org.organization_id, m.member_id, _code(c.secret), session_token=first.session_token)


def test_ist_is_consumed(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id)
    _authenticate(client, org.organization_id, m.member_id, _code(c.secret), intermediate_session_token=ist)
    expect_error(404, "intermediate_session_not_found", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret, STEP), intermediate_session_token=ist)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_ist_of_another_organization_or_member_is_refused(client):
    org_a, org_b = _mfa_org(client), _mfa_org(client)
    email = _mail("two-orgs")
    _with_password(client, org_a.organization_id, email=email)
    mb = _with_password(client, org_b.organization_id, email=email)
    other = _with_password(client, org_b.organization_id)
    ist_a = _ist(client, org_a.organization_id, email)
    ist_other = _ist(client, org_b.organization_id, other.email_address)
    c = _create(client, org_b.organization_id, mb.member_id)
    for ist in (ist_a, ist_other):
        expect_error(400, "invalid_intermediate_session_token_for_organization", client.totps.authenticate,
                     organization_id=org_b.organization_id, member_id=mb.member_id, code=_code(c.secret),
                     intermediate_session_token=ist)
    assert _sessions_of(client, org_b.organization_id, mb.member_id) == []
    assert _member(client, org_b.organization_id, mb.member_id).totp_registration_id == ""
    # The member's own IST works with the very same code (it was not used up).
    own = _ist(client, org_b.organization_id, email)
    _authenticate(client, org_b.organization_id, mb.member_id, _code(c.secret), intermediate_session_token=own)


def test_member_without_registration(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(404, "totp_not_found", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(pyotp.random_base32()), intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_too_many_wrong_codes(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id)
    for _ in range(MAX_WRONG_CODES):
        expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org.organization_id,
                     member_id=m.member_id, code=_wrong_code(c.secret), intermediate_session_token=ist)
    # Now even the right code is turned away.
    expect_error(429, "too_many_requests", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=_code(c.secret), intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""


# ---------------------------------------------------------------- default method and enrolment


def test_set_default_mfa_switches_from_sms_to_totp(client, server):
    org = _mfa_org(client)
    phone = _phone()
    m = _with_password(client, org.organization_id, mfa_phone_number=phone)
    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required.secondary_auth_initiated == "sms_otp"
    sms = ok(client.otps.sms.authenticate(organization_id=org.organization_id, member_id=m.member_id,
                                          code=_sms_code(server, phone),
                                          intermediate_session_token=login.intermediate_session_token))
    assert sms.member.default_mfa_method == "sms_otp"

    c = _create(client, org.organization_id, m.member_id, session_token=sms.session_token)
    plain = _authenticate(client, org.organization_id, m.member_id, _code(c.secret), session_token=sms.session_token)
    assert plain.member.default_mfa_method == "sms_otp", "only the first MFA completion sets the default implicitly"
    switched = _authenticate(client, org.organization_id, m.member_id, _code(c.secret, STEP),
                             session_token=sms.session_token, set_default_mfa=True)
    assert switched.member.default_mfa_method == "totp"
    assert _member(client, org.organization_id, m.member_id).default_mfa_method == "totp"

    # TOTP is now the member's way: a password login lists both options and sends no SMS.
    before = _outbox_count(server, phone)
    again = _login(client, org.organization_id, m.email_address)
    opts = again.mfa_required.member_options
    assert opts.mfa_phone_number == phone
    assert opts.totp_registration_id == c.totp_registration_id
    assert again.mfa_required.secondary_auth_initiated is None
    assert _outbox_count(server, phone) == before


def _outbox_count(server, recipient: str) -> int:
    with h.TimeoutSession() as s:
        r = s.get(server.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": 100},
                  auth=(server.project.project_id, server.project.secret))
    assert r.status_code == 200, r.text
    return len(r.json()["messages"])


def test_set_mfa_enrollment_in_an_optional_organization(client):
    org, m, first = _plain_session(client)
    assert m.mfa_enrolled is False
    c = _create(client, org.organization_id, m.member_id)
    enrolled = _authenticate(client, org.organization_id, m.member_id, _code(c.secret),
                             session_token=first.session_token, set_mfa_enrollment="enroll")
    assert enrolled.member.mfa_enrolled is True
    assert _member(client, org.organization_id, m.member_id).mfa_enrolled is True
    # Enrolled: a password login now needs MFA and offers the TOTP registration.
    login = _login(client, org.organization_id, m.email_address)
    assert login.member_authenticated is False
    assert login.mfa_required.member_options.totp_registration_id == c.totp_registration_id

    unenrolled = _authenticate(client, org.organization_id, m.member_id, _code(c.secret, STEP),
                               intermediate_session_token=login.intermediate_session_token, set_mfa_enrollment="unenroll")
    assert unenrolled.member.mfa_enrolled is False
    assert _login(client, org.organization_id, m.email_address).member_authenticated is True


def test_required_for_all_keeps_the_member_enrolled(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = _create(client, org.organization_id, m.member_id)
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c.secret),
                         intermediate_session_token=ist, set_mfa_enrollment="unenroll")
    assert resp.member.mfa_enrolled is True


@pytest.mark.parametrize("value", ["maybe", "ENROLL"])
def test_invalid_set_mfa_enrollment_is_refused_and_uses_nothing(client, value):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    code = _code(c.secret)
    expect_error(400, "invalid_argument", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, session_token=first.session_token, set_mfa_enrollment=value)
    member = _member(client, org.organization_id, m.member_id)
    assert member.mfa_enrolled is False and member.default_mfa_method == ""
    assert member.totp_registration_id == ""
    assert set(_factors(_sessions_of(client, org.organization_id, m.member_id)[0])) == {"password"}
    # A refused request did not activate the registration: a pending one can still be replaced.
    try:
        c2 = ok(client.totps.create(organization_id=org.organization_id, member_id=m.member_id))
    except StytchError as e:
        raise AssertionError(
            f"the refused authenticate activated the registration: create now fails with "
            f"{e.details.status_code} {e.details.error_type}"
        ) from None
    resp = _authenticate(client, org.organization_id, m.member_id, _code(c2.secret), session_token=first.session_token)
    assert resp.member.totp_registration_id == c2.totp_registration_id


def test_invalid_set_mfa_enrollment_does_not_burn_the_code(client):
    org, m, first = _plain_session(client)
    c = _create(client, org.organization_id, m.member_id)
    code = _code(c.secret)
    expect_error(400, "invalid_argument", client.totps.authenticate, organization_id=org.organization_id,
                 member_id=m.member_id, code=code, session_token=first.session_token, set_mfa_enrollment="maybe")
    resp = _authenticate(client, org.organization_id, m.member_id, code, session_token=first.session_token)
    assert resp.member.totp_registration_id == c.totp_registration_id


# ---------------------------------------------------------------- migrate


def test_migrate_imports_a_secret_that_authenticates_at_once(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    secret = pyotp.random_base32()
    codes = [f"{h.token()[:4]}-{h.token()[:4]}-{h.token()[:4]}" for _ in range(10)]
    mig = ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                                  secret=secret, recovery_codes=codes))
    assert mig.member_id == m.member_id and mig.organization.organization_id == org.organization_id
    assert mig.totp_registration_id.startswith("member-totp-test-"), mig.totp_registration_id
    assert mig.member.totp_registration_id == mig.totp_registration_id, "a migrated registration is active"
    assert mig.recovery_codes == codes
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == mig.totp_registration_id

    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required.member_options.totp_registration_id == mig.totp_registration_id
    resp = _authenticate(client, org.organization_id, m.member_id, pyotp.TOTP(secret).now(),
                         intermediate_session_token=login.intermediate_session_token)
    _assert_session(resp, m.member_id, org.organization_id)
    _assert_totp_factor(_factors(resp.member_session)["totp"], mig.totp_registration_id)


def test_migrate_accepts_lowercase_secret(client):
    org, m, first = _plain_session(client)
    secret = pyotp.random_base32()
    ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                            secret=secret.lower(), recovery_codes=[]))
    _authenticate(client, org.organization_id, m.member_id, pyotp.TOTP(secret).now(), session_token=first.session_token)


def test_migrate_without_recovery_codes_mints_ten(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    mig = ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                                  secret=pyotp.random_base32(), recovery_codes=[]))
    assert len(mig.recovery_codes) == 10 and len(set(mig.recovery_codes)) == 10
    for rc in mig.recovery_codes:
        assert RECOVERY_CODE_RE.match(rc), rc


@pytest.mark.parametrize("secret", ["not base32!!", "12345678"])
def test_migrate_refuses_a_bad_secret(client, secret):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(400, "invalid_argument", client.totps.migrate, organization_id=org.organization_id,
                 member_id=m.member_id, secret=secret, recovery_codes=[])
    assert _member(client, org.organization_id, m.member_id).totp_registration_id == ""
    expect_error(404, "recovery_codes_not_found", client.recovery_codes.get,
                 organization_id=org.organization_id, member_id=m.member_id)
