"""End-to-end MFA and discovery through the Python SDK, as an application would drive them
(README "The authentication response pattern"; otps.md, totps.md, recovery_codes.md,
discovery.md).

Done-when scenario: a member of an MFA-required organization logs in with a password and
completes MFA in turn by SMS OTP, by TOTP and by a recovery code, each giving a session holding
the password factor plus the MFA factor; a user discovers organizations by email OTP, creates a
new organization and exchanges into an existing one. Each refusal on the way is checked, and
followed by a check that nothing was written.

SMS and email codes come from the development outbox; TOTP codes from pyotp.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any, Dict, List

import pyotp

import latch_helpers as h
from latch_helpers import expect_error, ok

PASSWORD = "E2e-Mfa-Suite-8w2!z"
STEP = 30
CODE_RE = re.compile(r"^[0-9]{6}$")


# ---------------------------------------------------------------- helpers


def _mail(local: str = "e2e") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('e2e')}"


def _phone() -> str:
    return "+1202555" + f"{random.randint(0, 9999):04d}"


def _with_password(client, org_id: str, email: str, **kwargs):
    return ok(
        client.passwords.migrate(
            organization_id=org_id,
            email_address=email,
            hash_type="md_5",
            hash=hashlib.md5(PASSWORD.encode()).hexdigest(),
            **kwargs,
        )
    ).member


def _login(client, org_id: str, email: str):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=PASSWORD))


def _outbox(server, recipient: str) -> List[Dict[str, Any]]:
    with h.TimeoutSession() as s:
        r = s.get(
            server.api("/latch/v1/outbox"),
            params={"recipient": recipient, "limit": 100},
            auth=(server.project.project_id, server.project.secret),
        )
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _latest_code(server, recipient: str, channel: str) -> str:
    msgs = _outbox(server, recipient)
    assert msgs, f"no message for {recipient}"
    assert msgs[0]["channel"] == channel, msgs[0]
    assert CODE_RE.match(msgs[0]["code"] or ""), msgs[0]
    return msgs[0]["code"]


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _factors(session) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _assert_pending(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id == member_id
    assert resp.organization.organization_id == org_id
    assert resp.session_token == "" and resp.session_jwt == "" and resp.member_session is None
    assert resp.intermediate_session_token
    assert resp.mfa_required is not None and resp.primary_required is None


def _assert_mfa_session(resp, member_id: str, org_id: str, first: str, mfa: str) -> Dict[str, Any]:
    """An MFA-completion response: a full session with exactly the primary and the MFA factor."""
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    assert resp.session_token and resp.session_jwt
    assert resp.member_session is not None
    assert resp.member_session.member_id == member_id and resp.member_session.organization_id == org_id
    factors = _factors(resp.member_session)
    assert set(factors) == {first, mfa}, f"expected the {first} and {mfa} factors: {list(factors)}"
    return factors


def _check_live(client, resp, *factor_types: str) -> None:
    """The server agrees the session is live and carries exactly these factors."""
    s = ok(client.sessions.authenticate(session_token=resp.session_token)).member_session
    assert s.member_session_id == resp.member_session.member_session_id
    assert set(_factors(s)) == set(factor_types)


def _discover(client, server, email: str):
    before = len(_outbox(server, email))
    ok(client.otps.email.discovery.send(email_address=email))
    assert len(_outbox(server, email)) == before + 1, "discovery send sends one email"
    resp = ok(client.otps.email.discovery.authenticate(email_address=email,
                                                       code=_latest_code(server, email, "email")))
    assert resp.email_address == email
    assert resp.intermediate_session_token
    return resp


def _discovered(resp) -> Dict[str, Any]:
    """organization_id -> DiscoveredOrganization."""
    return {d.organization.organization_id: d for d in resp.discovered_organizations}


# ---------------------------------------------------------------- the scenario


def test_password_login_then_mfa_by_sms_totp_and_recovery_code(client, server):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    org_id = org.organization_id
    email, phone = _mail("member"), _phone()
    m = _with_password(client, org_id, email, mfa_phone_number=phone)

    # 1. Password, then SMS OTP (sent pre-emptively by the login).
    login = _login(client, org_id, email)
    _assert_pending(login, m.member_id, org_id)
    assert login.mfa_required.secondary_auth_initiated == "sms_otp"
    assert login.mfa_required.member_options.mfa_phone_number == phone
    assert login.mfa_required.member_options.totp_registration_id == ""
    sms_code = _latest_code(server, phone, "sms")

    # Refusal: the SMS code alone, without the IST that proved the password, is not enough.
    expect_error(400, "no_session_arguments", client.otps.sms.authenticate,
                 organization_id=org_id, member_id=m.member_id, code=sms_code)
    assert _sessions_of(client, org_id, m.member_id) == []

    sms = ok(client.otps.sms.authenticate(organization_id=org_id, member_id=m.member_id, code=sms_code,
                                          intermediate_session_token=login.intermediate_session_token))
    factors = _assert_mfa_session(sms, m.member_id, org_id, "password", "otp")
    assert _value(factors["otp"].delivery_method) == "sms"
    assert factors["otp"].phone_number_factor.phone_number == phone
    assert sms.member.mfa_phone_number_verified is True
    assert sms.member.default_mfa_method == "sms_otp"
    _check_live(client, sms, "password", "otp")

    # Refusal: the IST was consumed by the successful SMS authentication.
    expect_error(404, "intermediate_session_not_found", client.otps.sms.authenticate, organization_id=org_id,
                 member_id=m.member_id, code=sms_code, intermediate_session_token=login.intermediate_session_token)
    assert len(_sessions_of(client, org_id, m.member_id)) == 1

    # 2. Password, then TOTP. Adding TOTP next to the verified phone uses the SMS-proven session.
    login2 = _login(client, org_id, email)
    _assert_pending(login2, m.member_id, org_id)
    assert login2.mfa_required.secondary_auth_initiated == "sms_otp", "SMS is still the default method"
    reg = ok(client.totps.create(organization_id=org_id, member_id=m.member_id, session_token=sms.session_token))
    totp_code = pyotp.TOTP(reg.secret).now()
    totp = ok(client.totps.authenticate(organization_id=org_id, member_id=m.member_id, code=totp_code,
                                        intermediate_session_token=login2.intermediate_session_token))
    factors = _assert_mfa_session(totp, m.member_id, org_id, "password", "totp")
    assert _value(factors["totp"].delivery_method) == "authenticator_app"
    assert factors["totp"].authenticator_app_factor.totp_id == reg.totp_registration_id
    assert totp.member.totp_registration_id == reg.totp_registration_id
    _check_live(client, totp, "password", "totp")

    # Refusal: the TOTP code just used is not accepted a second time.
    login3 = _login(client, org_id, email)
    _assert_pending(login3, m.member_id, org_id)
    assert login3.mfa_required.member_options.mfa_phone_number == phone
    assert login3.mfa_required.member_options.totp_registration_id == reg.totp_registration_id
    expect_error(401, "invalid_totp_code", client.totps.authenticate, organization_id=org_id, member_id=m.member_id,
                 code=totp_code, intermediate_session_token=login3.intermediate_session_token)
    assert len(_sessions_of(client, org_id, m.member_id)) == 2

    # 3. Password, then a recovery code (the refused TOTP attempt left the IST usable).
    rec = ok(client.recovery_codes.recover(organization_id=org_id, member_id=m.member_id,
                                           recovery_code=reg.recovery_codes[0],
                                           intermediate_session_token=login3.intermediate_session_token))
    factors = _assert_mfa_session(rec, m.member_id, org_id, "password", "recovery_codes")
    assert _value(factors["recovery_codes"].delivery_method) == "recovery_code"
    assert factors["recovery_codes"].recovery_code_factor.totp_recovery_code_id
    assert rec.recovery_codes_remaining == 9
    _check_live(client, rec, "password", "recovery_codes")

    sessions = _sessions_of(client, org_id, m.member_id)
    assert {s.member_session_id for s in sessions} == {
        sms.member_session.member_session_id,
        totp.member_session.member_session_id,
        rec.member_session.member_session_id,
    }


def test_ist_of_one_organization_is_refused_in_another(client):
    org_a = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    org_b = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    email = _mail("two-orgs")
    ma = _with_password(client, org_a.organization_id, email)
    mb = _with_password(client, org_b.organization_id, email)
    secret_a, secret_b = pyotp.random_base32(), pyotp.random_base32()
    ok(client.totps.migrate(organization_id=org_a.organization_id, member_id=ma.member_id, secret=secret_a, recovery_codes=[]))
    reg_b = ok(client.totps.migrate(organization_id=org_b.organization_id, member_id=mb.member_id,
                                    secret=secret_b, recovery_codes=[]))

    ist_a = _login(client, org_a.organization_id, email).intermediate_session_token
    code_b = pyotp.TOTP(secret_b).now()
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.totps.authenticate,
                 organization_id=org_b.organization_id, member_id=mb.member_id, code=code_b, intermediate_session_token=ist_a)
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.recovery_codes.recover,
                 organization_id=org_b.organization_id, member_id=mb.member_id,
                 recovery_code=reg_b.recovery_codes[0], intermediate_session_token=ist_a)
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist_a, organization_id=org_b.organization_id)
    assert _sessions_of(client, org_b.organization_id, mb.member_id) == []
    assert len(ok(client.recovery_codes.get(organization_id=org_b.organization_id, member_id=mb.member_id)).recovery_codes) == 10

    # Nothing was used up: the IST still completes MFA in its own organization, and org B's code
    # and recovery codes still work with org B's own IST.
    a = ok(client.totps.authenticate(organization_id=org_a.organization_id, member_id=ma.member_id,
                                     code=pyotp.TOTP(secret_a).now(), intermediate_session_token=ist_a))
    _assert_mfa_session(a, ma.member_id, org_a.organization_id, "password", "totp")
    ist_b = _login(client, org_b.organization_id, email).intermediate_session_token
    b = ok(client.totps.authenticate(organization_id=org_b.organization_id, member_id=mb.member_id,
                                     code=code_b, intermediate_session_token=ist_b))
    _assert_mfa_session(b, mb.member_id, org_b.organization_id, "password", "totp")


def test_discovery_create_organization_then_exchange_into_existing_ones(client, server):
    email = _mail("discover")
    plain = h.create_org(client)
    member_plain = h.create_member(client, plain.organization_id, email)
    mfa_org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    member_mfa = h.create_member(client, mfa_org.organization_id, email)
    secret = pyotp.random_base32()
    reg = ok(client.totps.migrate(organization_id=mfa_org.organization_id, member_id=member_mfa.member_id,
                                  secret=secret, recovery_codes=[]))

    # Discover by email OTP.
    d1 = _discover(client, server, email)
    found = _discovered(d1)
    assert set(found) == {plain.organization_id, mfa_org.organization_id}, found.keys()
    assert found[plain.organization_id].member_authenticated is True
    assert found[plain.organization_id].membership.member.member_id == member_plain.member_id
    assert found[mfa_org.organization_id].member_authenticated is False
    assert found[mfa_org.organization_id].mfa_required is not None
    assert found[mfa_org.organization_id].mfa_required.secondary_auth_initiated is None

    # Create a new organization with the discovery IST.
    slug = h.unique_slug("disc")
    created = ok(client.discovery.organizations.create(intermediate_session_token=d1.intermediate_session_token,
                                                       organization_name="Discovered Co", organization_slug=slug))
    assert created.member_authenticated is True
    assert created.intermediate_session_token == ""
    assert created.organization.organization_slug == slug
    new_org_id = created.organization.organization_id
    assert created.member.email_address == email
    assert "stytch_admin" in {r.role_id for r in created.member.roles}
    assert created.session_token and created.session_jwt
    assert set(_factors(created.member_session)) == {"email_otp"}
    _check_live(client, created, "email_otp")

    # Refusal: the IST was consumed; it creates nothing more and enters nothing.
    slug2 = h.unique_slug("disc2")
    expect_error(404, "intermediate_session_not_found", client.discovery.organizations.create,
                 intermediate_session_token=d1.intermediate_session_token, organization_slug=slug2)
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=d1.intermediate_session_token, organization_id=plain.organization_id)
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=slug2)
    assert _sessions_of(client, plain.organization_id, member_plain.member_id) == []

    # Discover again: the new organization is listed; exchange into the existing plain one.
    d2 = _discover(client, server, email)
    found = _discovered(d2)
    assert set(found) == {plain.organization_id, mfa_org.organization_id, new_org_id}
    assert found[new_org_id].membership.type == "active_member"
    ex = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=d2.intermediate_session_token,
                                                            organization_id=plain.organization_id))
    assert ex.member_authenticated is True
    assert ex.member_id == member_plain.member_id
    assert ex.organization.organization_id == plain.organization_id
    assert ex.intermediate_session_token == ""
    assert set(_factors(ex.member_session)) == {"email_otp"}
    _check_live(client, ex, "email_otp")
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=d2.intermediate_session_token, organization_id=new_org_id)
    assert len(_sessions_of(client, new_org_id, created.member_id)) == 1

    # Exchange into the MFA-required one: MFA outstanding, completed with TOTP and the same IST.
    d3 = _discover(client, server, email)
    pending = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=d3.intermediate_session_token,
                                                                 organization_id=mfa_org.organization_id))
    _assert_pending(pending, member_mfa.member_id, mfa_org.organization_id)
    assert pending.intermediate_session_token == d3.intermediate_session_token
    assert pending.mfa_required.member_options.totp_registration_id == reg.totp_registration_id
    assert pending.mfa_required.secondary_auth_initiated is None, "no phone, nothing sent"
    assert _sessions_of(client, mfa_org.organization_id, member_mfa.member_id) == []
    done = ok(client.totps.authenticate(organization_id=mfa_org.organization_id, member_id=member_mfa.member_id,
                                        code=pyotp.TOTP(secret).now(),
                                        intermediate_session_token=d3.intermediate_session_token))
    _assert_mfa_session(done, member_mfa.member_id, mfa_org.organization_id, "email_otp", "totp")
    _check_live(client, done, "email_otp", "totp")


def test_discovery_exchange_into_mfa_org_completes_by_sms(client, server):
    """A discovery IST exchanged into an MFA organization where the member has a phone: the SMS
    goes out at once, and only the SMS code completes the login."""
    email, phone = _mail("disc-sms"), _phone()
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = h.create_member(client, org.organization_id, email, mfa_phone_number=phone)
    d = _discover(client, server, email)
    pending = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=d.intermediate_session_token,
                                                                 organization_id=org.organization_id))
    _assert_pending(pending, m.member_id, org.organization_id)
    assert pending.mfa_required.secondary_auth_initiated == "sms_otp"
    code = _latest_code(server, phone, "sms")
    # Refusal: the IST alone completes nothing (a session exchange of it still needs MFA).
    again = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=d.intermediate_session_token,
                                                               organization_id=org.organization_id))
    _assert_pending(again, m.member_id, org.organization_id)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    code = _latest_code(server, phone, "sms")  # the second exchange sent a fresh code
    done = ok(client.otps.sms.authenticate(organization_id=org.organization_id, member_id=m.member_id, code=code,
                                           intermediate_session_token=d.intermediate_session_token))
    _assert_mfa_session(done, m.member_id, org.organization_id, "email_otp", "otp")
