"""Recovery codes, the backup for TOTP: recovery_codes.recover, get and rotate, and how
totps.create / totps.migrate / organizations.members.delete_totp affect them
(recovery_codes.md, totps.md).

`get` lists the unused codes in full, as Stytch does (Latch keeps them sealed under its
key-encryption key, beside the digest a code is checked against).
TOTP codes used to activate registrations are computed by pyotp, never asked of Latch.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Dict, List

import pyotp

import latch_helpers as h
from latch_helpers import expect_error, ok

PASSWORD = "Recovery-Sdk-Suite-4k9!q"
RECOVERY_CODE_RE = re.compile(r"^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$")


# ---------------------------------------------------------------- helpers


def _mail(local: str = "rc") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('rcodes')}"


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


def _login(client, org_id: str, email: str):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=PASSWORD))


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
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _normalized(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


def _hint(code: str) -> str:
    """How `get` shows a code: whole, as it was issued."""
    return code


def _hints(client, org_id: str, member_id: str) -> List[str]:
    resp = ok(client.recovery_codes.get(organization_id=org_id, member_id=member_id))
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    return resp.recovery_codes


def _mfa_member_with_totp(client):
    """A member of an MFA-required organization who activated TOTP (pyotp code) after a password
    login; returns (org, member, create response)."""
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    c = ok(client.totps.create(organization_id=org.organization_id, member_id=m.member_id))
    ok(client.totps.authenticate(organization_id=org.organization_id, member_id=m.member_id,
                                 code=pyotp.TOTP(c.secret).now(), intermediate_session_token=ist))
    return org, m, c


def _recover(client, org_id: str, member_id: str, code: str, **kwargs):
    return ok(client.recovery_codes.recover(organization_id=org_id, member_id=member_id, recovery_code=code, **kwargs))


def _assert_recovery_factor(f) -> None:
    assert _value(f.type) == "recovery_codes"
    assert _value(f.delivery_method) == "recovery_code"
    assert f.recovery_code_factor is not None, f
    assert isinstance(f.recovery_code_factor.totp_recovery_code_id, str) and f.recovery_code_factor.totp_recovery_code_id


# ---------------------------------------------------------------- recover


def test_recover_completes_mfa_with_an_ist(client):
    org, m, c = _mfa_member_with_totp(client)
    login = _login(client, org.organization_id, m.email_address)
    assert login.mfa_required.member_options.totp_registration_id == c.totp_registration_id
    resp = _recover(client, org.organization_id, m.member_id, c.recovery_codes[0],
                    intermediate_session_token=login.intermediate_session_token,
                    session_duration_minutes=30, session_custom_claims={"via": "recovery"})
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.organization.organization_id == org.organization_id
    assert resp.session_token and resp.session_jwt
    assert resp.recovery_codes_remaining == 9
    factors = _factors(resp.member_session)
    assert set(factors) == {"password", "recovery_codes"}
    _assert_recovery_factor(factors["recovery_codes"])
    assert resp.member_session.custom_claims == {"via": "recovery"}
    lifetime = resp.member_session.expires_at - resp.member_session.started_at
    assert 29 * 60 <= lifetime.total_seconds() <= 31 * 60, lifetime
    # A real session, and the IST is used up.
    assert ok(client.sessions.authenticate(session_token=resp.session_token)).member_session.member_id == m.member_id
    expect_error(404, "intermediate_session_not_found", client.recovery_codes.recover,
                 organization_id=org.organization_id, member_id=m.member_id, recovery_code=c.recovery_codes[1],
                 intermediate_session_token=login.intermediate_session_token)
    assert len(_hints(client, org.organization_id, m.member_id)) == 9


def test_each_code_works_once(client):
    org, m, c = _mfa_member_with_totp(client)
    first = _recover(client, org.organization_id, m.member_id, c.recovery_codes[3],
                     intermediate_session_token=_ist(client, org.organization_id, m.email_address))
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[3], intermediate_session_token=ist)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[3], session_token=first.session_token)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 2, "activation + first recovery"
    assert set(_factors(first.member_session)) == set(
        _factors(ok(client.sessions.authenticate(session_token=first.session_token)).member_session)
    ), "the refused step-up changed nothing"
    assert len(_hints(client, org.organization_id, m.member_id)) == 9
    # The refused IST is still good for another code; the count keeps going down.
    second = _recover(client, org.organization_id, m.member_id, c.recovery_codes[4], intermediate_session_token=ist)
    assert second.recovery_codes_remaining == 8


def test_unknown_code_is_refused_and_keeps_the_ist(client):
    org, m, c = _mfa_member_with_totp(client)
    ist = _ist(client, org.organization_id, m.email_address)
    other_org, other, other_c = _mfa_member_with_totp(client)
    for bad in ("aaaa-bbbb-cccc", other_c.recovery_codes[0], c.recovery_codes[0][:-1]):
        expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                     member_id=m.member_id, recovery_code=bad, intermediate_session_token=ist)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1, "only the TOTP activation's session"
    assert len(_hints(client, org.organization_id, m.member_id)) == 10
    resp = _recover(client, org.organization_id, m.member_id, c.recovery_codes[0], intermediate_session_token=ist)
    assert resp.recovery_codes_remaining == 9
    # Another member's code was not used up by the attempt above.
    assert len(_hints(client, other_org.organization_id, other.member_id)) == 10


def test_codes_are_case_and_dash_insensitive(client):
    org, m, c = _mfa_member_with_totp(client)
    variants = [
        c.recovery_codes[0].upper(),
        c.recovery_codes[1].replace("-", ""),
        c.recovery_codes[2].replace("-", "").upper(),
    ]
    remaining = 10
    for v in variants:
        resp = _recover(client, org.organization_id, m.member_id, v,
                        intermediate_session_token=_ist(client, org.organization_id, m.email_address))
        remaining -= 1
        assert resp.recovery_codes_remaining == remaining
    # The canonical spelling of a code used in another spelling is spent too.
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[1],
                 intermediate_session_token=_ist(client, org.organization_id, m.email_address))


def test_recover_steps_up_a_session(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _login(client, org.organization_id, m.email_address)
    assert first.member_authenticated is True
    mig = ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                                  secret=pyotp.random_base32(), recovery_codes=[]))
    resp = _recover(client, org.organization_id, m.member_id, mig.recovery_codes[0], session_jwt=first.session_jwt)
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "recovery_codes"}
    assert resp.recovery_codes_remaining == 9


def test_recover_needs_exactly_one_session_argument(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _login(client, org.organization_id, m.email_address)
    mig = ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                                  secret=pyotp.random_base32(), recovery_codes=[]))
    code = mig.recovery_codes[0]
    expect_error(400, "no_session_arguments", client.recovery_codes.recover,
                 organization_id=org.organization_id, member_id=m.member_id, recovery_code=code)
    expect_error(400, "too_many_session_arguments", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=code, session_token=first.session_token, session_jwt=first.session_jwt)
    assert len(_hints(client, org.organization_id, m.member_id)) == 10, "no code was used"
    assert _recover(client, org.organization_id, m.member_id, code, session_token=first.session_token).recovery_codes_remaining == 9


def test_recover_refuses_the_ist_of_another_organization(client):
    org_a = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    org_b = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    email = _mail("two")
    _with_password(client, org_a.organization_id, email=email)
    mb = _with_password(client, org_b.organization_id, email=email)
    mig = ok(client.totps.migrate(organization_id=org_b.organization_id, member_id=mb.member_id,
                                  secret=pyotp.random_base32(), recovery_codes=[]))
    ist_a = _ist(client, org_a.organization_id, email)
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.recovery_codes.recover,
                 organization_id=org_b.organization_id, member_id=mb.member_id, recovery_code=mig.recovery_codes[0],
                 intermediate_session_token=ist_a)
    assert _sessions_of(client, org_b.organization_id, mb.member_id) == []
    assert len(_hints(client, org_b.organization_id, mb.member_id)) == 10


def test_member_without_codes_cannot_recover(client):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code="abcd-efgh-jkmn", intermediate_session_token=ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


# ---------------------------------------------------------------- get


def test_get_lists_the_unused_codes_in_full(client):
    org, m, c = _mfa_member_with_totp(client)
    codes = _hints(client, org.organization_id, m.member_id)
    assert codes == c.recovery_codes, "every code, whole, in the order they were issued"
    assert all(RECOVERY_CODE_RE.match(rc) for rc in codes)

    _recover(client, org.organization_id, m.member_id, c.recovery_codes[5],
             intermediate_session_token=_ist(client, org.organization_id, m.email_address))
    after = _hints(client, org.organization_id, m.member_id)
    assert Counter(after) == Counter(_hint(rc) for i, rc in enumerate(c.recovery_codes) if i != 5)


def test_get_by_slug(client):
    org, m, c = _mfa_member_with_totp(client)
    resp = ok(client.recovery_codes.get(organization_id=org.organization_slug, member_id=m.member_id))
    assert resp.organization.organization_id == org.organization_id
    assert Counter(resp.recovery_codes) == Counter(_hint(rc) for rc in c.recovery_codes)


def test_get_for_a_member_without_codes(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(404, "recovery_codes_not_found", client.recovery_codes.get,
                 organization_id=org.organization_id, member_id=m.member_id)


def test_migrated_codes_are_imported_normalized(client):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    codes = ["ABCD-EFGH-JKMN", "pqrs-tuvw-xyz2", "3456-789a-bcde"]
    mig = ok(client.totps.migrate(organization_id=org.organization_id, member_id=m.member_id,
                                  secret=pyotp.random_base32(), recovery_codes=codes))
    assert mig.recovery_codes == codes
    assert _hints(client, org.organization_id, m.member_id) == codes, "as they were given"
    resp = _recover(client, org.organization_id, m.member_id, "abcdefghjkmn",
                    intermediate_session_token=_ist(client, org.organization_id, m.email_address))
    assert resp.recovery_codes_remaining == 2
    _assert_recovery_factor(_factors(resp.member_session)["recovery_codes"])
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code="ABCD-EFGH-JKMN",
                 intermediate_session_token=_ist(client, org.organization_id, m.email_address))


# ---------------------------------------------------------------- rotate


def test_rotate_replaces_every_code(client):
    org, m, c = _mfa_member_with_totp(client)
    _recover(client, org.organization_id, m.member_id, c.recovery_codes[0],
             intermediate_session_token=_ist(client, org.organization_id, m.email_address))
    rot = ok(client.recovery_codes.rotate(organization_id=org.organization_id, member_id=m.member_id))
    assert rot.member_id == m.member_id and rot.member.member_id == m.member_id
    assert rot.organization.organization_id == org.organization_id
    assert rot.member.totp_registration_id == c.totp_registration_id, "rotating keeps the TOTP registration"
    assert len(rot.recovery_codes) == 10 and len(set(rot.recovery_codes)) == 10
    for rc in rot.recovery_codes:
        assert RECOVERY_CODE_RE.match(rc), rc
    assert not set(map(_normalized, rot.recovery_codes)) & set(map(_normalized, c.recovery_codes))
    assert Counter(_hints(client, org.organization_id, m.member_id)) == Counter(_hint(rc) for rc in rot.recovery_codes)

    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[1], intermediate_session_token=ist)
    resp = _recover(client, org.organization_id, m.member_id, rot.recovery_codes[0], intermediate_session_token=ist)
    assert resp.recovery_codes_remaining == 9


def test_rotate_without_totp(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(404, "totp_not_found", client.recovery_codes.rotate, organization_id=org.organization_id, member_id=m.member_id)
    expect_error(404, "recovery_codes_not_found", client.recovery_codes.get,
                 organization_id=org.organization_id, member_id=m.member_id)


# ---------------------------------------------------------------- lifecycle with TOTP


def test_delete_totp_removes_the_recovery_codes(client):
    org, m, c = _mfa_member_with_totp(client)
    ok(client.organizations.members.delete_totp(organization_id=org.organization_id, member_id=m.member_id))
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[0], intermediate_session_token=ist)
    expect_error(404, "recovery_codes_not_found", client.recovery_codes.get,
                 organization_id=org.organization_id, member_id=m.member_id)
    expect_error(404, "totp_not_found", client.recovery_codes.rotate, organization_id=org.organization_id, member_id=m.member_id)
    sessions = _sessions_of(client, org.organization_id, m.member_id)
    assert len(sessions) == 1, "only the session of the TOTP activation"
    assert "recovery_codes" not in _factors(sessions[0])


def test_a_new_registration_brings_new_codes(client):
    org, m, c = _mfa_member_with_totp(client)
    ok(client.organizations.members.delete_totp(organization_id=org.organization_id, member_id=m.member_id))
    again = ok(client.totps.create(organization_id=org.organization_id, member_id=m.member_id))
    assert not set(map(_normalized, again.recovery_codes)) & set(map(_normalized, c.recovery_codes))
    assert Counter(_hints(client, org.organization_id, m.member_id)) == Counter(_hint(rc) for rc in again.recovery_codes)
    ist = _ist(client, org.organization_id, m.email_address)
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=m.member_id, recovery_code=c.recovery_codes[0], intermediate_session_token=ist)
