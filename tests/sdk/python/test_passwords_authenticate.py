"""passwords.authenticate on the default server: the success body and its session, refusals
(all credential failures look alike), bad input, and the member endpoints that remove a password."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok

JSON = {"Content-Type": "application/json"}


def _mail(local: str = "auth") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('pwa')}"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _with_password(client, org_id: str, password: str = hv.PASSWORD, email: str = None, vector: str = "md_5", **kwargs):
    email = email or _mail()
    resp = ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS[vector](password), **kwargs))
    return resp.member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _assert_minutes_from_now(ts: datetime.datetime, minutes: float, before: datetime.datetime, slack_s: float = 30):
    lo = before + datetime.timedelta(minutes=minutes) - datetime.timedelta(seconds=slack_s)
    hi = _now() + datetime.timedelta(minutes=minutes) + datetime.timedelta(seconds=slack_s)
    assert lo <= ts <= hi, f"{ts} is not ~{minutes} minutes from now ({lo} .. {hi})"


# ---------------------------------------------------------------- success


def test_success_body_and_session(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    before = _now()
    resp = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD))
    assert resp.member_authenticated is True
    assert resp.member_id == m.member_id
    assert resp.organization_id == org.organization_id
    assert resp.member.member_id == m.member_id and resp.member.email_address == m.email_address
    assert resp.member.member_password_id == m.member_password_id
    assert resp.organization.organization_id == org.organization_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt.count(".") == 2
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None
    assert resp.primary_required is None

    s = resp.member_session
    assert s is not None and s.member_session_id
    assert s.member_id == m.member_id
    assert s.organization_id == org.organization_id
    assert s.organization_slug == org.organization_slug
    assert "stytch_member" in s.roles
    assert len(s.authentication_factors) == 1, s.authentication_factors
    f = s.authentication_factors[0]
    assert (f.type, f.delivery_method) == ("password", "knowledge")
    assert f.last_authenticated_at is not None and f.last_authenticated_at >= before - datetime.timedelta(seconds=5)
    _assert_minutes_from_now(s.expires_at, 60, before)  # default session length

    # The session is real.
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == s.member_session_id
    assert [x.member_session_id for x in _sessions_of(client, org.organization_id, m.member_id)] == [s.member_session_id]


def test_session_duration_and_custom_claims(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    before = _now()
    resp = ok(client.passwords.authenticate(
        organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD,
        session_duration_minutes=600, session_custom_claims={"team": "blue", "level": 3},
    ))
    _assert_minutes_from_now(resp.member_session.expires_at, 600, before)
    assert resp.member_session.custom_claims == {"team": "blue", "level": 3}
    jwt_session = ok(client.sessions.authenticate(session_jwt=resp.session_jwt)).member_session
    assert jwt_session.member_session_id == resp.member_session.member_session_id


def test_authenticate_with_own_session_extends_it(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD))
    again = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD,
                                             session_token=first.session_token))
    assert again.member_authenticated is True
    assert again.member_session.member_session_id == first.member_session.member_session_id, "the factor is added to the presented session"
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_organization_slug_and_email_case(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    resp = ok(client.passwords.authenticate(organization_id=org.organization_slug, email_address=m.email_address.upper(), password=hv.PASSWORD))
    assert resp.organization_id == org.organization_id and resp.member_id == m.member_id


def test_leaked_password_still_works_by_default(client):
    """Breach detection on authenticate and validation on authenticate are off by default."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id, password="password")
    assert ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password="password")).member_authenticated


# ---------------------------------------------------------------- credential failures


def test_wrong_password_and_unknown_email_look_alike(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    no_pw = h.create_member(client, org.organization_id, _mail("nopw"))
    wrong = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                         organization_id=org.organization_id, email_address=m.email_address, password=hv.WRONG_PASSWORD)
    unknown = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                           organization_id=org.organization_id, email_address=_mail("ghost"), password=hv.PASSWORD)
    nopw = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                        organization_id=org.organization_id, email_address=no_pw.email_address, password=hv.PASSWORD)
    assert wrong.error_message == unknown.error_message == nopw.error_message
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_password_of_another_organization_does_not_work(client):
    a, b = h.create_org(client), h.create_org(client)
    email = _mail("cross")
    _with_password(client, a.organization_id, email=email)
    h.create_member(client, b.organization_id, email)
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=b.organization_id, email_address=email, password=hv.PASSWORD)


def test_deleted_member_cannot_authenticate(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD)


def test_unknown_organization(client):
    expect_error(404, "organization_not_found", client.passwords.authenticate,
                 organization_id=f"organization-test-{uuid.uuid4()}", email_address=_mail(), password=hv.PASSWORD)


# ---------------------------------------------------------------- removing the password


def test_delete_password(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD))
    resp = ok(client.organizations.members.delete_password(organization_id=org.organization_id, member_password_id=m.member_password_id))
    assert resp.member.member_password_id == ""
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got.member_password_id == ""
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD)


def test_email_change_removes_the_password(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    new = _mail("moved")
    upd = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, email_address=new)).member
    assert upd.email_address == new
    assert upd.member_password_id == ""
    for email in (new, m.email_address):
        expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                     organization_id=org.organization_id, email_address=email, password=hv.PASSWORD)


def test_migrate_again_after_delete_password(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    ok(client.organizations.members.delete_password(organization_id=org.organization_id, member_password_id=m.member_password_id))
    again = ok(client.passwords.migrate(organization_id=org.organization_id, email_address=m.email_address,
                                        **hv.VECTORS["sha_1"]("A brand new passphrase 77")))
    assert again.member_created is False and again.member_id == m.member_id
    assert again.member.member_password_id and again.member.member_password_id != m.member_password_id
    ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password="A brand new passphrase 77"))
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD)


# ---------------------------------------------------------------- bad input


def test_missing_password_is_invalid_argument(server, client, http):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    r = http.post(server.api("/v1/b2b/passwords/authenticate"), auth=(server.project.project_id, server.project.secret), headers=JSON,
                  data=json.dumps({"organization_id": org.organization_id, "email_address": m.email_address}))
    body = check_raw_error(r, 400, "invalid_argument")
    assert "password" in body["error_message"], body
    assert _sessions_of(client, org.organization_id, m.member_id) == []


@pytest.mark.parametrize("minutes", [4, 0, -5, 527041])
def test_session_duration_out_of_bounds(client, minutes):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(400, "invalid_session_duration_minutes", client.passwords.authenticate, organization_id=org.organization_id,
                 email_address=m.email_address, password=hv.PASSWORD, session_duration_minutes=minutes)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_session_duration_bounds_are_inclusive(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    for minutes in (5, 527040):
        before = _now()
        resp = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                                password=hv.PASSWORD, session_duration_minutes=minutes))
        _assert_minutes_from_now(resp.member_session.expires_at, minutes, before)
