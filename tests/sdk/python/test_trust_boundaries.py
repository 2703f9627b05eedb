"""Regression tests for the security review (issue 12): account takeover through an email change,
fail-open member-session headers, lockout races, password length, the per-peer flood guard,
cross-organization lockout and per-field permissions of member create.

Each test rebuilds the review's reproduction through the official SDK (raw HTTP only where the
SDK cannot send the input) and asserts the secure outcome.
"""

from __future__ import annotations

import hashlib
import http.client
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional

import pyotp
import pytest
from stytch.b2b.models import organizations as org_models
from stytch.b2b.models import organizations_members as member_models
from stytch.core.response_base import StytchError
from stytch.shared.method_options import Authorization

import latch_helpers as h
from latch_helpers import expect_error, ok

PASSWORD = "Latch review tests: basalt-heron-4471!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
DENIED = (403, "session_authorization_error")


# ---------------------------------------------------------------- helpers


def _mail(local: str = "rv", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('review')}"


def _outbox_code(srv, recipient: str) -> str:
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": 1},
                  auth=(srv.project.project_id, srv.project.secret))
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert msgs, f"no message to {recipient}"
    return msgs[0]["code"] or msgs[0]["token"]


def _password_member(client, org_id: str, email: Optional[str] = None, roles: Optional[List[str]] = None):
    email = email or _mail()
    kw: Dict[str, Any] = {"roles": roles} if roles is not None else {}
    m = ok(client.passwords.migrate(email_address=email, hash=MD5, hash_type="md_5", organization_id=org_id, **kw))
    return SimpleNamespace(email=email, member_id=m.member_id, org_id=org_id)


def _password_login(client, who):
    r = ok(client.passwords.authenticate(organization_id=who.org_id, email_address=who.email, password=PASSWORD))
    who.token, who.jwt = r.session_token, r.session_jwt
    return who


def _otp_login(client, srv, org_id: str, email: str):
    """An email-OTP session for a new member `email` of the organization."""
    h.create_member(client, org_id, email=email)
    ok(client.otps.email.login_or_signup(organization_id=org_id, email_address=email))
    code = _outbox_code(srv, email)
    return ok(client.otps.email.authenticate(organization_id=org_id, email_address=email, code=code))


def _as_update(token: str):
    return member_models.UpdateRequestOptions(authorization=Authorization(session_token=token))


def _burst(n: int, fn: Callable[[int], int]) -> List[int]:
    """Runs fn(i) for i in range(n) on n threads released together; returns the statuses."""
    barrier = threading.Barrier(n)
    out: List[Optional[int]] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(s is not None for s in out), out
    return out  # type: ignore[return-value]


def _status(call: Callable[[], Any]) -> int:
    try:
        call()
        return 200
    except StytchError as e:
        return e.details.status_code


# ---------------------------------------------------------------- 1. email change and cross-org factors


def test_an_email_change_ends_the_members_sessions_and_exchange_cannot_take_over(client, server):
    """The review's chain: an attacker's admin retargets its minion's email to the victim's and
    exchanges the minion's email-OTP session into the victim's organization."""
    victim_org = h.create_org(client, email_jit_provisioning="NOT_ALLOWED")
    victim_email = _mail("victim")
    victim = h.create_member(client, victim_org.organization_id, email=victim_email)
    evil = h.create_org(client)
    admin = _password_login(client, _password_member(client, evil.organization_id, roles=["stytch_admin"]))
    minion_email = _mail("minion")
    minion = _otp_login(client, server, evil.organization_id, minion_email)
    minion_token = minion.session_token

    ok(client.organizations.members.update(organization_id=evil.organization_id, member_id=minion.member_id,
                                           email_address=victim_email, method_options=_as_update(admin.token)))

    # The minion's session proved minion@, not victim@: it is gone with the old address.
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=minion_token)
    expect_error(404, "session_not_found", client.sessions.exchange,
                 organization_id=victim_org.organization_id, session_token=minion_token)
    expect_error(404, "session_not_found", client.discovery.organizations.list, session_token=minion_token)
    # No session of the victim was created.
    assert ok(client.sessions.get(organization_id=victim_org.organization_id,
                                  member_id=victim.member_id)).member_sessions == []


def test_an_email_change_ends_outstanding_reset_links(client, server):
    org = h.create_org(client)
    who = _password_member(client, org.organization_id)
    ok(client.passwords.email.reset_start(organization_id=org.organization_id, email_address=who.email,
                                          reset_password_redirect_url="https://app.example.com/reset"))
    stale = _outbox_code(server, who.email)
    new_email = _mail("moved")
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=who.member_id,
                                           email_address=new_email))
    expect_error(404, "unable_to_auth_password_reset_token", client.passwords.email.reset,
                 password_reset_token=stale, password="Brand new passphrase for 2026 only!")


def test_exchange_still_carries_an_email_factor_to_the_same_address(client, server):
    """The fix keeps the legitimate path: an email OTP of alice@ enters alice@'s other org."""
    email = _mail("alice")
    home, other = h.create_org(client), h.create_org(client)
    h.create_member(client, other.organization_id, email=email)
    s = _otp_login(client, server, home.organization_id, email)
    r = ok(client.sessions.exchange(organization_id=other.organization_id, session_token=s.session_token))
    assert r.member_authenticated is True
    assert r.member.email_address == email


def test_an_intermediate_session_without_a_primary_factor_cannot_enrol_mfa(client):
    """A password proves one membership: exchanged into another organization that requires MFA it
    yields an IST with no factor, which must not be able to enrol a TOTP app or an MFA phone."""
    email = _mail("pw")
    home = h.create_org(client)
    strict = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    who = _password_login(client, _password_member(client, home.organization_id, email=email))
    target = h.create_member(client, strict.organization_id, email=email)
    r = ok(client.sessions.exchange(organization_id=strict.organization_id, session_token=who.token))
    assert r.member_authenticated is False and r.intermediate_session_token
    ist = r.intermediate_session_token
    expect_error(400, "insufficient_factors", client.totps.create, organization_id=strict.organization_id,
                 member_id=target.member_id, intermediate_session_token=ist)
    expect_error(400, "insufficient_factors", client.otps.sms.send, organization_id=strict.organization_id,
                 member_id=target.member_id, mfa_phone_number="+12025550149", intermediate_session_token=ist)
    m = ok(client.organizations.members.get(organization_id=strict.organization_id, member_id=target.member_id)).member
    assert m.totp_registration_id == "" and m.mfa_phone_number == ""


# ---------------------------------------------------------------- 2. member-session headers fail closed


def _raw(server, method: str, path: str, body: bytes, headers: Dict[str, Any]) -> int:
    import base64

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        creds = base64.b64encode(f"{server.project.project_id}:{server.project.secret}".encode()).decode()
        conn.putrequest(method, path)
        conn.putheader("Authorization", f"Basic {creds}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_a_present_but_unreadable_session_header_is_refused_through_the_sdk(client):
    """The review's SDK reproduction: a plain member's backend forwards a cookie value 'é'."""
    org = h.create_org(client)
    plain = _password_member(client, org.organization_id)
    for bad in ("\u00e9", "caf\u00e9"):
        for auth in (Authorization(session_token=bad), Authorization(session_jwt=bad)):
            expect_error(401, "session_not_found", client.organizations.members.update,
                         organization_id=org.organization_id, member_id=plain.member_id, roles=["stytch_admin"],
                         method_options=member_models.UpdateRequestOptions(authorization=auth))
    m = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=plain.member_id)).member
    assert [r.role_id for r in m.roles] == ["stytch_member"]


@pytest.mark.parametrize("header", ["X-Stytch-Member-Session", "X-Stytch-Member-SessionJWT"])
@pytest.mark.parametrize("value", [b"", b" ", b"\t", b"\xff\xfe", b"\x80abc", "caf\u00e9".encode("latin-1")])
def test_empty_blank_or_non_ascii_session_headers_are_401(client, server, header, value):
    org = h.create_org(client, organization_name="Before")
    path = f"/v1/b2b/organizations/{org.organization_id}"
    assert _raw(server, "PUT", path, b'{"organization_name":"After"}', {header: value}) == 401
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == "Before"


def test_a_blank_token_header_is_refused_even_beside_a_valid_jwt(client, server):
    org = h.create_org(client, organization_name="Before")
    admin = _password_login(client, _password_member(client, org.organization_id, roles=["stytch_admin"]))
    path = f"/v1/b2b/organizations/{org.organization_id}"
    status = _raw(server, "PUT", path, b'{"organization_name":"After"}',
                  {"X-Stytch-Member-Session": b" ", "X-Stytch-Member-SessionJWT": admin.jwt})
    assert status == 401
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == "Before"


# ---------------------------------------------------------------- 4. lockout under concurrency


def test_a_concurrent_burst_gets_no_more_guesses_than_the_limit(latch_server_factory):
    srv = latch_server_factory(LATCH_PASSWORD_MAX_FAILURES="5")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    who = _password_member(c, org.organization_id)

    def attempt(i: int) -> int:
        return _status(lambda: c.passwords.authenticate(organization_id=org.organization_id,
                                                        email_address=who.email, password=f"wrong guess {i}"))

    statuses = _burst(40, attempt)
    assert statuses.count(401) == 5 and statuses.count(429) == 35, statuses
    # The limit is reached: even the right password is refused now.
    expect_error(429, "too_many_requests", c.passwords.authenticate, organization_id=org.organization_id,
                 email_address=who.email, password=PASSWORD)


def test_a_concurrent_burst_of_totp_codes_is_held_to_ten(client):
    org = h.create_org(client)
    who = _password_login(client, _password_member(client, org.organization_id))
    created = ok(client.totps.create(organization_id=org.organization_id, member_id=who.member_id))
    totp = pyotp.TOTP(created.secret)
    ok(client.totps.authenticate(organization_id=org.organization_id, member_id=who.member_id,
                                 code=totp.now(), session_token=who.token))
    good = totp.now()
    wrong = [f"{(int(good) + k) % 1_000_000:06d}" for k in range(1000, 1040)]

    def attempt(i: int) -> int:
        return _status(lambda: client.totps.authenticate(organization_id=org.organization_id, member_id=who.member_id,
                                                         code=wrong[i], session_token=who.token))

    statuses = _burst(40, attempt)
    assert statuses.count(401) <= 10, statuses
    assert statuses.count(429) >= 30, statuses


def test_correct_totp_codes_do_not_use_up_the_allowance(client):
    """Attempts are counted before the check and given back on success."""
    org = h.create_org(client)
    who = _password_login(client, _password_member(client, org.organization_id))
    created = ok(client.totps.create(organization_id=org.organization_id, member_id=who.member_id))
    codes = ok(client.recovery_codes.get(organization_id=org.organization_id, member_id=who.member_id))
    assert created.recovery_codes and codes
    # Ten recovery codes, each correct: all ten succeed, and an eleventh wrong code is a plain 401.
    for rc in created.recovery_codes:
        ok(client.recovery_codes.recover(organization_id=org.organization_id, member_id=who.member_id,
                                         recovery_code=rc, session_token=who.token))
    expect_error(401, "invalid_recovery_code", client.recovery_codes.recover, organization_id=org.organization_id,
                 member_id=who.member_id, recovery_code=created.recovery_codes[0], session_token=who.token)


# ---------------------------------------------------------------- 5. password length


def test_passwords_longer_than_256_characters_are_refused_before_any_work(client, server, http):
    org = h.create_org(client)
    who = _password_member(client, org.organization_id)
    long_pw = "x" * 257
    expect_error(400, "invalid_argument", client.passwords.authenticate, organization_id=org.organization_id,
                 email_address=who.email, password=long_pw)
    expect_error(400, "invalid_argument", client.passwords.strength_check, password=long_pw)
    expect_error(400, "invalid_argument", client.passwords.existing_password.reset, organization_id=org.organization_id,
                 email_address=who.email, existing_password=PASSWORD, new_password=long_pw)
    # A megabyte is answered at once (it used to cost seconds of CPU against a phpass hash).
    started = time.monotonic()
    r = http.post(server.api("/v1/b2b/passwords/authenticate"), auth=(server.project.project_id, server.project.secret),
                  json={"organization_id": org.organization_id, "email_address": who.email, "password": "y" * 1_000_000})
    assert r.status_code == 400, r.text
    assert "at most 256" in r.json()["error_message"]
    assert time.monotonic() - started < 5
    # 256 characters (of any width) are fine, and refused attempts counted nothing.
    assert ok(client.passwords.strength_check(password="\u00e9" * 256)).valid_password in (True, False)
    _password_login(client, who)


# ---------------------------------------------------------------- 6. the per-peer flood guard


def test_a_flood_from_the_application_server_never_locks_other_users_out(latch_server_factory):
    srv = latch_server_factory(LATCH_PEER_MAX_FAILURES="5", LATCH_PEER_FLOOD_DELAY_MS="300")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    alice = _password_member(c, org.organization_id)
    statuses = [_status(lambda i=i: c.passwords.authenticate(organization_id=org.organization_id,
                                                            email_address=f"nobody{i}-{h.token()}@example.com",
                                                            password="guess")) for i in range(8)]
    assert statuses == [401] * 8, statuses
    # Past the peer's limit, failures are slowed down...
    started = time.monotonic()
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org.organization_id,
                 email_address=f"nobody-{h.token()}@example.com", password="guess")
    assert time.monotonic() - started >= 0.3
    # ...while a user with the right password still gets in, at once.
    started = time.monotonic()
    _password_login(c, alice)
    assert time.monotonic() - started < 0.3


def test_a_forwarded_end_user_address_is_limited_on_its_own(latch_server_factory):
    srv = latch_server_factory(LATCH_TRUSTED_PROXIES="127.0.0.1", LATCH_FORWARDED_CLIENT_MAX_FAILURES="3")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    alice = _password_member(c, org.organization_id)

    def login(email: str, password: str, addr: str) -> int:
        with h.TimeoutSession() as s:
            r = s.post(srv.api("/v1/b2b/passwords/authenticate"), auth=(srv.project.project_id, srv.project.secret),
                       headers={"X-Forwarded-For": addr},
                       json={"organization_id": org.organization_id, "email_address": email, "password": password})
        return r.status_code

    attacker = "203.0.113.7"
    assert [login(_mail(), "guess", attacker) for _ in range(3)] == [401, 401, 401]
    assert login(_mail(), "guess", attacker) == 429
    assert login(alice.email, PASSWORD, attacker) == 429
    # Another end user behind the same application server is not affected.
    assert login(alice.email, PASSWORD, "198.51.100.20") == 200
    # Successes do not count: one user logging in many times is never limited.
    assert [login(alice.email, PASSWORD, "198.51.100.21") for _ in range(5)] == [200] * 5


# ---------------------------------------------------------------- 10. one allowance per shared password


def test_cross_org_password_guesses_are_counted_across_memberships(latch_server_factory):
    srv = latch_server_factory(LATCH_CROSS_ORG_PASSWORDS="true", LATCH_PASSWORD_MAX_FAILURES="3")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    email = _mail("shared")
    orgs = [h.create_org(c) for _ in range(3)]
    for o in orgs:
        _password_member(c, o.organization_id, email=email)
    for o in orgs:  # one wrong guess in each organization: three in all
        expect_error(401, "unauthorized_credentials", c.passwords.authenticate,
                     organization_id=o.organization_id, email_address=email, password="wrong")
    for o in orgs:
        expect_error(429, "too_many_requests", c.passwords.authenticate,
                     organization_id=o.organization_id, email_address=email, password=PASSWORD)
    expect_error(429, "too_many_requests", c.passwords.discovery.authenticate, email_address=email, password=PASSWORD)


# ---------------------------------------------------------------- 13. member create under a session


def test_member_create_needs_the_update_permission_of_every_field_it_sets(client):
    org = h.create_org(client)
    # member_manager (rbac_policy.json): stytch.member create, update.info.name, search, delete.
    manager = _password_login(client, _password_member(client, org.organization_id, roles=["member_manager"]))
    opts = member_models.CreateRequestOptions(authorization=Authorization(session_token=manager.token))
    for fields in ({"mfa_phone_number": "+12025550147"}, {"external_id": f"ext-{h.token()}"},
                   {"mfa_enrolled": True}, {"untrusted_metadata": {"a": 1}},
                   {"is_breakglass": False}, {"roles": ["editor"]}):
        email = _mail("hire")
        expect_error(*DENIED, client.organizations.members.create, organization_id=org.organization_id,
                     email_address=email, method_options=opts, **fields)
        expect_error(404, "member_not_found", client.organizations.members.get,
                     organization_id=org.organization_id, email_address=email)
    m = ok(client.organizations.members.create(organization_id=org.organization_id, email_address=_mail("hire"),
                                               name="Named", roles=[], method_options=opts)).member
    assert m.name == "Named"
