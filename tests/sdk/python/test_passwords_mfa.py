"""passwords.authenticate when the organization wants more than a password: MFA (org policy or
member enrolment), intermediate session tokens, and primary-auth restrictions (README: "The
authentication response pattern")."""

from __future__ import annotations

import datetime

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok

PHONE = "+12025550163"


def _mail(local: str = "mfa") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('pwm')}"


def _with_password(client, org_id: str, email: str = None, **kwargs):
    email = email or _mail()
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs)).member


def _auth(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=hv.PASSWORD, **kwargs))


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _assert_pending(resp, member_id: str, org_id: str):
    """The 'more steps needed' half of the authentication response pattern."""
    assert resp.member_authenticated is False
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert resp.session_token == ""
    assert resp.session_jwt == ""
    assert resp.member_session is None
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    now = datetime.datetime.now(datetime.timezone.utc)
    exp = resp.intermediate_session_token_expires_at
    assert exp is not None, "intermediate_session_token_expires_at must be set with an IST"
    assert now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11), f"IST lifetime is 10 minutes: {exp}"


def _mfa_org(client):
    return h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")


# ---------------------------------------------------------------- MFA


def test_mfa_required_for_all_without_phone(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    resp = _auth(client, org.organization_id, m.email_address, session_duration_minutes=120, session_custom_claims={"x": 1})
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.mfa_required is not None
    assert resp.mfa_required.member_options is None, "no MFA method registered"
    assert resp.mfa_required.secondary_auth_initiated is None
    assert resp.primary_required is None
    assert _sessions_of(client, org.organization_id, m.member_id) == [], "no session before MFA"


def test_mfa_required_with_phone_lists_the_options(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id, mfa_phone_number=PHONE, set_phone_number_verified=True)
    resp = _auth(client, org.organization_id, m.email_address)
    _assert_pending(resp, m.member_id, org.organization_id)
    opts = resp.mfa_required.member_options
    assert opts is not None
    assert opts.mfa_phone_number == PHONE
    assert opts.totp_registration_id == ""
    # The member has a phone, so the MFA code went out with the login (pre-emptive SMS).
    assert resp.mfa_required.secondary_auth_initiated == "sms_otp"
    assert resp.primary_required is None


def test_mfa_enrolled_member_in_optional_org(client):
    org = h.create_org(client)  # mfa_policy OPTIONAL
    enrolled = _with_password(client, org.organization_id)
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=enrolled.member_id, mfa_enrolled=True))
    plain = _with_password(client, org.organization_id)
    resp = _auth(client, org.organization_id, enrolled.email_address)
    _assert_pending(resp, enrolled.member_id, org.organization_id)
    assert resp.mfa_required is not None
    assert _auth(client, org.organization_id, plain.email_address).member_authenticated is True


def test_wrong_password_in_mfa_org_gets_no_ist(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    d = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                     organization_id=org.organization_id, email_address=m.email_address, password=hv.WRONG_PASSWORD)
    assert not d.original_json.get("intermediate_session_token")


def _session_then_mfa(client):
    """A member with a live session in an org that then starts requiring MFA."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _auth(client, org.organization_id, m.email_address)
    assert first.member_authenticated is True
    ok(client.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL"))
    _assert_pending(_auth(client, org.organization_id, m.email_address), m.member_id, org.organization_id)
    return org, m, first


def _assert_session_kept(resp, first):
    assert resp.member_authenticated is True
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None and resp.primary_required is None
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert resp.session_jwt


def test_own_session_token_skips_mfa(client):
    org, m, first = _session_then_mfa(client)
    resp = _auth(client, org.organization_id, m.email_address, session_token=first.session_token)
    _assert_session_kept(resp, first)
    assert resp.session_token == first.session_token


def test_own_session_jwt_skips_mfa(client):
    org, m, first = _session_then_mfa(client)
    resp = _auth(client, org.organization_id, m.email_address, session_jwt=first.session_jwt)
    _assert_session_kept(resp, first)
    # Latch keeps session tokens only as digests, so a session reached through its JWT cannot
    # hand its opaque token back (documented deviation from Stytch; README "Differences").
    assert resp.session_token == ""


# ---------------------------------------------------------------- intermediate session tokens


def test_ist_passed_back_in_the_same_org_is_returned(client):
    org = _mfa_org(client)
    m = _with_password(client, org.organization_id)
    ist = _auth(client, org.organization_id, m.email_address).intermediate_session_token
    again = _auth(client, org.organization_id, m.email_address, intermediate_session_token=ist)
    _assert_pending(again, m.member_id, org.organization_id)
    assert again.intermediate_session_token == ist, "factors that still do not satisfy the org return the same IST"
    assert again.mfa_required is not None


def test_ist_of_another_organization_is_refused(client):
    mfa_org, plain_org = _mfa_org(client), h.create_org(client)
    email = _mail("ist")
    _with_password(client, mfa_org.organization_id, email=email)
    other = _with_password(client, plain_org.organization_id, email=email)
    ist = _auth(client, mfa_org.organization_id, email).intermediate_session_token
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.passwords.authenticate,
                 organization_id=plain_org.organization_id, email_address=email, password=hv.PASSWORD, intermediate_session_token=ist)
    assert _sessions_of(client, plain_org.organization_id, other.member_id) == []
    # Without the foreign IST the same credentials work there.
    assert _auth(client, plain_org.organization_id, email).member_authenticated is True


def test_garbage_ist_is_not_found(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    for token in ("not-a-real-ist", "ist-" + h.token() * 3):
        expect_error(404, "intermediate_session_not_found", client.passwords.authenticate, organization_id=org.organization_id,
                     email_address=m.email_address, password=hv.PASSWORD, intermediate_session_token=token)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


# ---------------------------------------------------------------- primary-auth restrictions


def test_restricted_auth_methods_require_another_primary_factor(client):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"])
    m = _with_password(client, org.organization_id)
    resp = _auth(client, org.organization_id, m.email_address)
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.primary_required is not None
    assert resp.primary_required.allowed_auth_methods == ["email_otp"]
    assert resp.mfa_required is None
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_breakglass_member_is_exempt_from_auth_method_restrictions(client):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"])
    bg = h.create_member(client, org.organization_id, _mail("bg"), is_breakglass=True)
    _with_password(client, org.organization_id, email=bg.email_address)
    resp = _auth(client, org.organization_id, bg.email_address)
    assert resp.member_authenticated is True
    assert resp.primary_required is None and resp.mfa_required is None
    assert resp.session_token and resp.intermediate_session_token == ""


def test_restricted_auth_methods_allowing_password(client):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password", "email_otp"])
    m = _with_password(client, org.organization_id)
    resp = _auth(client, org.organization_id, m.email_address)
    assert resp.member_authenticated is True and resp.primary_required is None


def test_restricted_org_with_mfa_reports_both(client):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"], mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    resp = _auth(client, org.organization_id, m.email_address)
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.primary_required is not None and resp.primary_required.allowed_auth_methods == ["email_otp"]
