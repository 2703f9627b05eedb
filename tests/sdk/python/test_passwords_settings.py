"""passwords.authenticate under non-default server settings (extra servers from
`latch_server_factory`): failed-attempt lockout, breach detection on authenticate, and strength
validation on authenticate."""

from __future__ import annotations

import datetime
import json

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok

JSON = {"Content-Type": "application/json"}
MAX_FAILURES = 3


def _mail(local: str = "set") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('pws')}"


def _client(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


def _with_password(client, org_id: str, password: str = hv.PASSWORD, email: str = None):
    email = email or _mail()
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](password))).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _fail(client, org_id: str, email: str, times: int):
    for _ in range(times):
        expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                     organization_id=org_id, email_address=email, password=hv.WRONG_PASSWORD)


def _raw_authenticate(srv, http, org_id: str, email: str, password: str):
    return http.post(srv.api("/v1/b2b/passwords/authenticate"), auth=(srv.project.project_id, srv.project.secret), headers=JSON,
                     data=json.dumps({"organization_id": org_id, "email_address": email, "password": password}))


# ---------------------------------------------------------------- lockout


@pytest.fixture
def lockout_server(latch_server_factory):
    return latch_server_factory(LATCH_PASSWORD_MAX_FAILURES=str(MAX_FAILURES))


def test_lockout_after_max_failures(lockout_server, http):
    c = _client(lockout_server)
    org, other_org = h.create_org(c), h.create_org(c)
    m = _with_password(c, org.organization_id)
    bystander = _with_password(c, org.organization_id)
    twin = _with_password(c, other_org.organization_id, email=m.email_address)  # same email, other org

    _fail(c, org.organization_id, m.email_address, MAX_FAILURES)
    before_429 = datetime.datetime.now(datetime.timezone.utc)
    # Now even the right password is refused.
    expect_error(429, "too_many_requests", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD)
    r = _raw_authenticate(lockout_server, http, org.organization_id, m.email_address, hv.PASSWORD)
    check_raw_error(r, 429, "too_many_requests")
    retry_after = r.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), f"Retry-After: {retry_after!r}"
    assert 1 <= int(retry_after) <= 3600, retry_after
    assert _sessions_of(c, org.organization_id, m.member_id) == []

    locked = ok(c.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert locked.is_locked is True
    assert locked.lock_created_at is not None and locked.lock_expires_at is not None
    assert locked.lock_created_at <= before_429 + datetime.timedelta(seconds=5)
    lock_len = locked.lock_expires_at - locked.lock_created_at
    assert datetime.timedelta(minutes=59) <= lock_len <= datetime.timedelta(minutes=61), f"default lockout is 60 minutes: {lock_len}"

    # Other emails in the org, and the same email in another org, are unaffected.
    assert ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=bystander.email_address,
                                       password=hv.PASSWORD)).member_authenticated is True
    assert ok(c.passwords.authenticate(organization_id=other_org.organization_id, email_address=m.email_address,
                                       password=hv.PASSWORD)).member_authenticated is True
    for org_id, member_id in ((org.organization_id, bystander.member_id), (other_org.organization_id, twin.member_id)):
        assert ok(c.organizations.members.get(organization_id=org_id, member_id=member_id)).member.is_locked is False


def test_failures_below_the_limit_do_not_lock(lockout_server):
    c = _client(lockout_server)
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    _fail(c, org.organization_id, m.email_address, MAX_FAILURES - 1)
    assert ok(c.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member.is_locked is False
    assert ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                       password=hv.PASSWORD)).member_authenticated is True


def test_unknown_email_is_throttled_like_a_known_one(lockout_server):
    """No enumeration oracle: an email without a member is limited after the same number of failures."""
    c = _client(lockout_server)
    org = h.create_org(c)
    ghost = _mail("ghost")
    _fail(c, org.organization_id, ghost, MAX_FAILURES)
    expect_error(429, "too_many_requests", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=ghost, password=hv.PASSWORD)


def test_lockout_minutes_setting_and_retry_after(latch_server_factory, http):
    srv = latch_server_factory(LATCH_PASSWORD_MAX_FAILURES=str(MAX_FAILURES), LATCH_PASSWORD_LOCKOUT_MINUTES="7")
    c = _client(srv)
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    _fail(c, org.organization_id, m.email_address, MAX_FAILURES)
    r = _raw_authenticate(srv, http, org.organization_id, m.email_address, hv.PASSWORD)
    check_raw_error(r, 429, "too_many_requests")
    now = datetime.datetime.now(datetime.timezone.utc)
    locked = ok(c.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert locked.is_locked is True
    lock_len = locked.lock_expires_at - locked.lock_created_at
    assert datetime.timedelta(minutes=6) <= lock_len <= datetime.timedelta(minutes=8), f"LATCH_PASSWORD_LOCKOUT_MINUTES=7: {lock_len}"
    # Retry-After tells the client when the lock ends, consistently with lock_expires_at.
    remaining = (locked.lock_expires_at - now).total_seconds()
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= remaining + 5, f"Retry-After {retry_after}s but the lock expires in {remaining:.0f}s"


# ---------------------------------------------------------------- breach detection on authenticate


@pytest.fixture
def breach_client(latch_server_factory):
    return _client(latch_server_factory(LATCH_PASSWORD_BREACH_DETECTION_ON_AUTHENTICATE="true"))


def test_breached_password_must_be_reset(breach_client):
    c = breach_client
    org = h.create_org(c)
    m = _with_password(c, org.organization_id, password="password")
    expect_error(400, "member_reset_password", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password="password")
    assert _sessions_of(c, org.organization_id, m.member_id) == []
    # A wrong password is still just wrong.
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password="password1")


def test_breach_detection_lets_a_safe_password_in(breach_client):
    c = breach_client
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    assert ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                       password=hv.PASSWORD)).member_authenticated is True


# ---------------------------------------------------------------- validation on authenticate


WEAK = "zzzzzzzzzzzzzzzzzzzz"  # zxcvbn score 0, not a leaked password


@pytest.fixture
def validate_client(latch_server_factory):
    return _client(latch_server_factory(LATCH_PASSWORD_VALIDATE_ON_AUTHENTICATE="true"))


def test_weak_password_must_be_reset(validate_client):
    c = validate_client
    pre = ok(c.passwords.strength_check(password=WEAK))
    assert pre.score < 3 and pre.breached_password is False and pre.valid_password is False, pre
    org = h.create_org(c)
    m = _with_password(c, org.organization_id, password=WEAK)
    expect_error(400, "member_reset_password", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=WEAK)
    assert _sessions_of(c, org.organization_id, m.member_id) == []
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=WEAK + "z")


def test_strong_password_passes_validation(validate_client):
    c = validate_client
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    assert ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                       password=hv.PASSWORD)).member_authenticated is True


def test_weak_password_works_without_validation(client):
    """The default server (validation off) lets the same weak password in."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id, password=WEAK)
    assert ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                            password=WEAK)).member_authenticated is True
