"""Cross-organization passwords (passwords.md "Concepts"; the three `passwords/discovery/*`
endpoints; discovery.md "Discovered organizations rules").

With `LATCH_CROSS_ORG_PASSWORDS=true` (an extra server from `latch_server_factory`) one password
belongs to an email address: every reset flow stores it for every live membership of that email,
`passwords.discovery.authenticate` checks it without an organization, and the discovery reset
flow (`passwords.discovery.email.reset_start` / `reset`) sets it from an emailed link.
`passwords.migrate` still sets only the membership it names. On the default servers (setting off)
the three discovery endpoints are refused with `cross_org_passwords_not_enabled`.

Reset links are read from the development outbox (`GET /latch/v1/outbox`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok

SETTING = {"LATCH_CROSS_ORG_PASSWORDS": "true"}
MAX_FAILURES = 3
REDIRECT = "https://app.example.com/reset-password"
LINK_PARAMS = "stytch_token_type=multi_tenant_passwords&token="
JSON_HEADERS = {"Content-Type": "application/json"}

P1 = hv.PASSWORD
P2 = "Violette Drachen 83 über Lissabon gleiten"
P3 = "Seventeen crimson kayaks drift past Oslo 1947"
WEAK = "zzzzzzzzzzzzzzzzzzzz"  # zxcvbn score 0, not a leaked password
BREACHED = "password"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def xsrv(latch_server_factory):
    """A server with cross-organization passwords on."""
    return latch_server_factory(**SETTING)


@pytest.fixture
def xc(xsrv):
    return _client(xsrv)


def _client(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


def _mail(local: str = "xorg", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('xpw')}"


def _outbox(srv, recipient: str) -> List[Dict[str, Any]]:
    """Messages sent to `recipient`, newest first."""
    with h.TimeoutSession() as s:
        r = s.get(
            srv.api("/latch/v1/outbox"),
            params={"recipient": recipient, "limit": 100},
            auth=(srv.project.project_id, srv.project.secret),
        )
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _latest_reset(srv, email: str, before: int, redirect: str = REDIRECT) -> str:
    """The one reset message sent since the outbox held `before` messages; returns its token."""
    msgs = _outbox(srv, email)
    assert len(msgs) == before + 1, f"exactly one reset email expected, outbox: {msgs}"
    msg = msgs[0]
    assert msg["kind"] == "password_reset", msg
    assert msg["channel"] == "email", msg
    tok = msg["token"]
    assert isinstance(tok, str) and tok, msg
    assert msg["url"] == f"{redirect}?{LINK_PARAMS}{tok}", msg["url"]
    return tok


def _discovery_link(c, srv, email: str, **kwargs) -> str:
    """passwords.discovery.email.reset_start; returns the token of the one email it sent."""
    kwargs.setdefault("reset_password_redirect_url", REDIRECT)
    before = len(_outbox(srv, email))
    ok(c.passwords.discovery.email.reset_start(email_address=email, **kwargs))
    return _latest_reset(srv, email, before, kwargs["reset_password_redirect_url"])


def _org_link(c, srv, org_id: str, email: str, **kwargs) -> str:
    """The organization-scoped passwords.email.reset_start; returns the emailed token."""
    before = len(_outbox(srv, email))
    ok(c.passwords.email.reset_start(organization_id=org_id, email_address=email,
                                     reset_password_redirect_url=REDIRECT, **kwargs))
    return _latest_reset(srv, email, before)


def _pkce():
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _memberships(c, email: str, n: int = 2, org_kwargs: Optional[List[Dict[str, Any]]] = None):
    """`n` fresh organizations, each with a member for `email`; returns [(org, member)]."""
    org_kwargs = org_kwargs or [{}] * n
    out = []
    for kw in org_kwargs:
        org = h.create_org(c, organization_slug=h.unique_slug("xorg"), **kw)
        out.append((org, h.create_member(c, org.organization_id, email)))
    return out


def _migrate(c, org_id: str, email: str, password: str = P1):
    return ok(c.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](password))).member


def _login(c, org_id: str, email: str, password: str):
    """passwords.authenticate that must fully succeed; returns the response."""
    resp = ok(c.passwords.authenticate(organization_id=org_id, email_address=email, password=password))
    assert resp.member_authenticated is True, resp
    assert resp.session_token, resp
    return resp


def _refused(c, org_id: str, email: str, password: str):
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate,
                 organization_id=org_id, email_address=email, password=password)


def _member(c, org_id: str, member_id: str):
    return ok(c.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _factor_types(session) -> List[str]:
    return sorted(_value(f.type) for f in session.authentication_factors)


def _by_org(discovered) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for d in discovered:
        oid = d.organization.organization_id
        assert oid not in out, f"organization {oid} discovered twice"
        out[oid] = d
    return out


def _assert_membership(d, org_id: str, member_id: str) -> None:
    assert d.organization.organization_id == org_id
    assert d.membership is not None and d.membership.type == "active_member", d.membership
    assert d.membership.member is not None and d.membership.member.member_id == member_id, d.membership


def _assert_discovery(resp, email: str, expected: Dict[str, str]) -> Dict[str, Any]:
    """IST + email_address + exactly the organizations of `expected` (org_id -> member_id)."""
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.email_address == email
    found = _by_org(resp.discovered_organizations)
    assert set(found) == set(expected), f"discovered {sorted(found)}, expected {sorted(expected)}"
    for org_id, member_id in expected.items():
        _assert_membership(found[org_id], org_id, member_id)
    return found


def _raw_post(srv, http, path: str, body: Dict[str, Any]):
    return http.post(srv.api(path), auth=(srv.project.project_id, srv.project.secret),
                     headers=JSON_HEADERS, data=json.dumps(body))


def _no_member(c, org_id: str, email: str) -> None:
    expect_error(404, "member_not_found", c.organizations.members.get, organization_id=org_id, email_address=email)


# ---------------------------------------------------------------- setting off (default servers)


def test_discovery_endpoints_refused_when_setting_off(client, server):
    email = _mail("off")
    [(org, m)] = _memberships(client, email, 1)
    _migrate(client, org.organization_id, email)

    expect_error(400, "cross_org_passwords_not_enabled", client.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url=REDIRECT)
    assert _outbox(server, email) == [], "no reset email when the setting is off"
    expect_error(400, "cross_org_passwords_not_enabled", client.passwords.discovery.authenticate,
                 email_address=email, password=P1)
    expect_error(400, "cross_org_passwords_not_enabled", client.passwords.discovery.email.reset,
                 password_reset_token=secrets.token_urlsafe(32), password=P2)

    # Nothing changed: the password is the same, and no session was created.
    _login(client, org.organization_id, email, P1)
    _refused(client, org.organization_id, email, P2)


def test_org_reset_stays_in_its_organization_when_setting_off(client, server):
    """Contrast with the setting on: an organization-scoped reset changes only that membership."""
    email = _mail("off")
    (a, ma), (b, mb) = _memberships(client, email)
    _migrate(client, a.organization_id, email)
    _migrate(client, b.organization_id, email)
    tok = _org_link(client, server, a.organization_id, email)
    resp = ok(client.passwords.email.reset(password_reset_token=tok, password=P2))
    assert resp.member_id == ma.member_id
    _login(client, a.organization_id, email, P2)
    _login(client, b.organization_id, email, P1)
    _refused(client, b.organization_id, email, P2)


# ---------------------------------------------------------------- discovery reset start


def test_discovery_reset_start_sends_one_link(xc, xsrv, http):
    email = _mail()
    _memberships(xc, email)  # two memberships, still only one email
    resp = ok(xc.passwords.discovery.email.reset_start(email_address=email, reset_password_redirect_url=REDIRECT,
                                                       locale="en"))
    assert resp.status_code == 200
    tok = _latest_reset(xsrv, email, 0)

    # The response is the envelope only.
    r = _raw_post(xsrv, http, "/v1/b2b/passwords/discovery/email/reset/start",
                  {"email_address": email, "reset_password_redirect_url": REDIRECT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) <= {"status_code", "request_id"}, body
    assert body["status_code"] == 200 and body["request_id"], body
    tok2 = _latest_reset(xsrv, email, 1)
    assert tok2 != tok, "every reset link has its own token"


def test_discovery_reset_start_expiration_bounds(xc, xsrv):
    email = _mail()
    _memberships(xc, email, 1)
    n = 0
    for minutes in (5, 10080):
        ok(xc.passwords.discovery.email.reset_start(email_address=email, reset_password_redirect_url=REDIRECT,
                                                    reset_password_expiration_minutes=minutes))
        n += 1
        _latest_reset(xsrv, email, n - 1)
    for minutes in (4, 0, -1, 10081):
        expect_error(400, "invalid_expiration", xc.passwords.discovery.email.reset_start, email_address=email,
                     reset_password_redirect_url=REDIRECT, reset_password_expiration_minutes=minutes)
    assert len(_outbox(xsrv, email)) == n, "a refused reset_start sends nothing"


def test_discovery_reset_start_refusals(xc, xsrv):
    email = _mail()
    _memberships(xc, email)
    ghost = _mail("ghost")

    expect_error(404, "member_not_found", xc.passwords.discovery.email.reset_start,
                 email_address=ghost, reset_password_redirect_url=REDIRECT)
    expect_error(400, "no_reset_password_redirect_url", xc.passwords.discovery.email.reset_start,
                 email_address=email)
    # Security review finding 8: only the project's allowed URLs (see conftest.py).
    expect_error(400, "invalid_reset_password_redirect_url", xc.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url="https://attacker.example/steal")
    expect_error(400, "invalid_discovery_redirect_url", xc.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url=REDIRECT,
                 discovery_redirect_url="https://attacker.example/discover")
    expect_error(400, "invalid_template_id", xc.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url=REDIRECT,
                 reset_password_template_id=f"tpl-{h.token()}")
    assert _outbox(xsrv, ghost) == []
    assert _outbox(xsrv, email) == [], "a refused reset_start sends nothing"


def test_discovery_reset_start_is_capped_per_recipient(xc, xsrv):
    """Security review finding 9: at most 10 codes or links per recipient per 10 minutes, shared
    with the organization-scoped reset; the refused request sends nothing."""
    email = _mail()
    [(org, _m)] = _memberships(xc, email, 1)
    for _ in range(5):
        _discovery_link(xc, xsrv, email)
    for _ in range(5):
        _org_link(xc, xsrv, org.organization_id, email)
    expect_error(429, "too_many_requests", xc.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url=REDIRECT)
    expect_error(429, "too_many_requests", xc.passwords.email.reset_start, organization_id=org.organization_id,
                 email_address=email, reset_password_redirect_url=REDIRECT)
    assert len(_outbox(xsrv, email)) == 10, "refused resets send nothing"


def test_discovery_reset_start_ignores_deleted_memberships(xc, xsrv):
    email = _mail()
    [(org, m)] = _memberships(xc, email, 1)
    ok(xc.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    expect_error(404, "member_not_found", xc.passwords.discovery.email.reset_start,
                 email_address=email, reset_password_redirect_url=REDIRECT)
    assert _outbox(xsrv, email) == []


# ---------------------------------------------------------------- discovery reset


def test_discovery_reset_sets_password_for_every_membership(xc, xsrv):
    email = _mail()
    (a, ma), (b, mb), (c3, mc) = _memberships(xc, email, 3)
    _migrate(xc, a.organization_id, email)
    _migrate(xc, b.organization_id, email)  # c3: no password yet
    old = [_login(xc, a.organization_id, email, P1).session_token, _login(xc, b.organization_id, email, P1).session_token]
    # migrate marks its member's email verified; c3's member was never verified.
    assert _member(xc, c3.organization_id, mc.member_id).email_address_verified is False

    tok = _discovery_link(xc, xsrv, email)
    resp = ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2))
    found = _assert_discovery(resp, email, {a.organization_id: ma.member_id, b.organization_id: mb.member_id,
                                            c3.organization_id: mc.member_id})
    for d in found.values():
        assert d.member_authenticated is True, d
        assert d.primary_required is None and d.mfa_required is None, d

    # Every session of every membership is revoked.
    for st in old:
        expect_error(404, "session_not_found", xc.sessions.authenticate, session_token=st)
    # The link proved the email: every membership is verified.
    for org, m in ((a, ma), (b, mb), (c3, mc)):
        assert _member(xc, org.organization_id, m.member_id).email_address_verified is True
    # One password for all of them, including the membership that had none.
    for org in (a, b, c3):
        _login(xc, org.organization_id, email, P2)
        _refused(xc, org.organization_id, email, P1)


def test_discovery_reset_ist_exchanges_into_a_membership(xc, xsrv):
    email = _mail()
    (a, ma), (b, mb) = _memberships(xc, email)
    tok = _discovery_link(xc, xsrv, email)
    ist = ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2)).intermediate_session_token
    assert ist
    resp = ok(xc.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                          organization_id=b.organization_id))
    assert resp.member_authenticated is True
    assert resp.member_id == mb.member_id and resp.organization.organization_id == b.organization_id
    assert resp.session_token and resp.member_session is not None
    assert _factor_types(resp.member_session) == ["email_otp", "password"], resp.member_session.authentication_factors
    got = ok(xc.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_id == mb.member_id


def test_discovery_reset_token_is_single_use(xc, xsrv):
    email = _mail()
    [(org, m)] = _memberships(xc, email, 1)
    tok = _discovery_link(xc, xsrv, email)
    ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2))
    expect_error(404, "unable_to_auth_password_reset_token", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P3)
    expect_error(404, "unable_to_auth_password_reset_token", xc.passwords.discovery.email.reset,
                 password_reset_token=secrets.token_urlsafe(32), password=P3)
    # The second attempt changed nothing.
    _login(xc, org.organization_id, email, P2)
    _refused(xc, org.organization_id, email, P3)


def test_discovery_reset_refuses_a_link_sent_to_a_previous_address(xc, xsrv):
    """Security review finding 3: a link mailed to the member's old address must not reset the
    password of the address they have now (and of that address's other memberships)."""
    old, new = _mail("old"), _mail("new")
    [(a, ma)] = _memberships(xc, old, 1)
    [(b, mb)] = _memberships(xc, new, 1)
    _migrate(xc, b.organization_id, new)
    tok = _discovery_link(xc, xsrv, old)  # mailed while the member still had `old`
    ok(xc.organizations.members.update(organization_id=a.organization_id, member_id=ma.member_id,
                                       email_address=new))

    expect_error(404, "unable_to_auth_password_reset_token", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P2)
    # Nothing changed: `new` keeps its password in every organization.
    _login(xc, b.organization_id, new, P1)
    _refused(xc, b.organization_id, new, P2)
    _refused(xc, a.organization_id, new, P2)
    # The organization-scoped redemption refuses it the same way.
    expect_error(404, "unable_to_auth_password_reset_token", xc.passwords.email.reset,
                 password_reset_token=tok, password=P2)


def test_discovery_reset_with_pkce(xc, xsrv):
    email = _mail()
    [(org, m)] = _memberships(xc, email, 1)
    _migrate(xc, org.organization_id, email)
    verifier, challenge = _pkce()
    tok = _discovery_link(xc, xsrv, email, pkce_code_challenge=challenge)

    expect_error(400, "pkce_expected_code_verifier", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P2)
    expect_error(400, "pkce_mismatch", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P2, pkce_code_verifier=_pkce()[0])
    expect_error(400, "pkce_mismatch", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P2, pkce_code_verifier=challenge)
    # Refusals wrote nothing: the old password still works and the link is still usable.
    _login(xc, org.organization_id, email, P1)
    resp = ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2, pkce_code_verifier=verifier))
    _assert_discovery(resp, email, {org.organization_id: m.member_id})
    _login(xc, org.organization_id, email, P2)


def test_discovery_reset_verifier_without_challenge(xc, xsrv):
    email = _mail()
    [(org, m)] = _memberships(xc, email, 1)
    _migrate(xc, org.organization_id, email)
    tok = _discovery_link(xc, xsrv, email)
    expect_error(400, "pkce_did_not_expect_code_verifier", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=P2, pkce_code_verifier=_pkce()[0])
    _login(xc, org.organization_id, email, P1)
    _refused(xc, org.organization_id, email, P2)
    ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2))
    _login(xc, org.organization_id, email, P2)


def test_discovery_reset_enforces_the_strength_policy(xc, xsrv):
    email = _mail()
    (a, ma), (b, mb) = _memberships(xc, email)
    _migrate(xc, a.organization_id, email)
    session = _login(xc, a.organization_id, email, P1).session_token
    tok = _discovery_link(xc, xsrv, email)

    expect_error(400, "weak_password", xc.passwords.discovery.email.reset, password_reset_token=tok, password=WEAK)
    expect_error(400, "breached_password", xc.passwords.discovery.email.reset,
                 password_reset_token=tok, password=BREACHED)
    # Nothing was written: same password, session alive, emails unverified, link still usable.
    ok(xc.sessions.authenticate(session_token=session))
    _login(xc, a.organization_id, email, P1)
    for org in (a, b):
        _refused(xc, org.organization_id, email, WEAK)
    assert _member(xc, b.organization_id, mb.member_id).email_address_verified is False
    ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2))
    for org in (a, b):
        _login(xc, org.organization_id, email, P2)


def test_discovery_reset_skips_deleted_memberships(xc, xsrv):
    email = _mail()
    (a, ma), (b, mb) = _memberships(xc, email)
    ok(xc.organizations.members.delete(organization_id=b.organization_id, member_id=mb.member_id))
    tok = _discovery_link(xc, xsrv, email)
    resp = ok(xc.passwords.discovery.email.reset(password_reset_token=tok, password=P2))
    _assert_discovery(resp, email, {a.organization_id: ma.member_id})
    _login(xc, a.organization_id, email, P2)


# ---------------------------------------------------------------- organization-scoped resets


def test_org_email_reset_sets_password_for_every_membership(xc, xsrv):
    email = _mail()
    (a, ma), (b, mb), (c3, mc) = _memberships(xc, email, 3)
    _migrate(xc, a.organization_id, email)
    _migrate(xc, b.organization_id, email)
    tok = _org_link(xc, xsrv, a.organization_id, email)
    resp = ok(xc.passwords.email.reset(password_reset_token=tok, password=P2))
    assert resp.member_id == ma.member_id and resp.organization_id == a.organization_id
    for org in (a, b, c3):
        _login(xc, org.organization_id, email, P2)
        _refused(xc, org.organization_id, email, P1)


def test_session_reset_sets_password_for_every_membership(xc):
    email = _mail()
    (a, ma), (b, mb), (c3, mc) = _memberships(xc, email, 3)
    _migrate(xc, a.organization_id, email)
    _migrate(xc, b.organization_id, email)
    st = _login(xc, a.organization_id, email, P1).session_token
    resp = ok(xc.passwords.sessions.reset(organization_id=a.organization_id, password=P2, session_token=st))
    assert resp.member_id == ma.member_id
    for org in (a, b, c3):
        _login(xc, org.organization_id, email, P2)
        _refused(xc, org.organization_id, email, P1)


def test_existing_password_reset_sets_password_for_every_membership(xc):
    email = _mail()
    (a, ma), (b, mb), (c3, mc) = _memberships(xc, email, 3)
    _migrate(xc, a.organization_id, email)
    _migrate(xc, b.organization_id, email)
    resp = ok(xc.passwords.existing_password.reset(email_address=email, existing_password=P1, new_password=P2,
                                                   organization_id=b.organization_id))
    assert resp.member_id == mb.member_id
    for org in (a, b, c3):
        _login(xc, org.organization_id, email, P2)
        _refused(xc, org.organization_id, email, P1)


def test_migrate_sets_only_the_named_membership(xc):
    email = _mail()
    (a, ma), (b, mb) = _memberships(xc, email)
    _migrate(xc, a.organization_id, email, P1)
    _login(xc, a.organization_id, email, P1)
    _refused(xc, b.organization_id, email, P1)  # b has no password yet
    _migrate(xc, b.organization_id, email, P3)
    _login(xc, b.organization_id, email, P3)
    _refused(xc, b.organization_id, email, P1)
    _login(xc, a.organization_id, email, P1)
    _refused(xc, a.organization_id, email, P3)


# ---------------------------------------------------------------- discovery authenticate


def test_discovery_authenticate_lists_memberships_and_requirements(xc, xsrv):
    email = _mail()
    (plain, mp), (mfa, mm), (otp_only, mo) = _memberships(xc, email, org_kwargs=[
        {},
        {"mfa_policy": "REQUIRED_FOR_ALL"},
        {"auth_methods": "RESTRICTED", "allowed_auth_methods": ["email_otp"]},
    ])
    ok(xc.passwords.discovery.email.reset(password_reset_token=_discovery_link(xc, xsrv, email), password=P2))

    resp = ok(xc.passwords.discovery.authenticate(email_address=email, password=P2))
    found = _assert_discovery(resp, email, {plain.organization_id: mp.member_id, mfa.organization_id: mm.member_id,
                                            otp_only.organization_id: mo.member_id})
    d = found[plain.organization_id]
    assert d.member_authenticated is True and d.primary_required is None and d.mfa_required is None, d
    d = found[mfa.organization_id]
    assert d.member_authenticated is False, d
    assert d.mfa_required is not None and d.primary_required is None, d
    d = found[otp_only.organization_id]
    assert d.member_authenticated is False, d
    assert d.primary_required is not None, d
    assert d.primary_required.allowed_auth_methods == ["email_otp"], d.primary_required


def test_discovery_authenticate_ist_exchange(xc, xsrv):
    email = _mail()
    (a, ma), (mfa, mm) = _memberships(xc, email, org_kwargs=[{}, {"mfa_policy": "REQUIRED_FOR_ALL"}])
    outsider = h.create_org(xc, organization_slug=h.unique_slug("xorg"))
    ok(xc.passwords.discovery.email.reset(password_reset_token=_discovery_link(xc, xsrv, email), password=P2))
    # The discovery reset itself starts no member session (only an IST).
    assert ok(xc.sessions.get(organization_id=a.organization_id, member_id=ma.member_id)).member_sessions == []

    ist = ok(xc.passwords.discovery.authenticate(email_address=email, password=P2)).intermediate_session_token
    resp = ok(xc.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                          organization_id=a.organization_id))
    assert resp.member_authenticated is True
    assert resp.member_id == ma.member_id and resp.organization.organization_id == a.organization_id
    assert resp.session_token and resp.member_session is not None
    assert _factor_types(resp.member_session) == ["password"], resp.member_session.authentication_factors
    ok(xc.sessions.authenticate(session_token=resp.session_token))

    ist = ok(xc.passwords.discovery.authenticate(email_address=email, password=P2)).intermediate_session_token
    resp = ok(xc.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                          organization_id=mfa.organization_id))
    assert resp.member_authenticated is False
    assert resp.mfa_required is not None
    assert resp.session_token == "" and resp.member_session is None
    assert resp.intermediate_session_token == ist
    assert ok(xc.sessions.get(organization_id=mfa.organization_id, member_id=mm.member_id)).member_sessions == []

    # A password does not verify the email: no JIT into an organization without a membership.
    ist = ok(xc.passwords.discovery.authenticate(email_address=email, password=P2)).intermediate_session_token
    expect_error(403, "email_jit_provisioning_not_allowed", xc.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=outsider.organization_id)
    _no_member(xc, outsider.organization_id, email)


def test_password_ist_never_joins_by_email_domain(xc, xsrv):
    """An organization that lets verified emails of the domain join is neither listed nor
    joinable with a password-only IST; the reset link (which proves the email) does qualify."""
    domain = h.unique_domain("xjit")
    email = _mail(domain=domain)
    colleague = _mail("colleague", domain=domain)
    jit = h.create_org(xc, organization_slug=h.unique_slug("xjit"), email_allowed_domains=[domain],
                       email_jit_provisioning="RESTRICTED")
    h.create_member(xc, jit.organization_id, colleague)
    ok(xc.passwords.discovery.email.reset(password_reset_token=_discovery_link(xc, xsrv, colleague), password=P3))
    [(a, ma)] = _memberships(xc, email, 1)
    _migrate(xc, a.organization_id, email, P1)

    resp = ok(xc.passwords.discovery.authenticate(email_address=email, password=P1))
    _assert_discovery(resp, email, {a.organization_id: ma.member_id})
    expect_error(403, "email_jit_provisioning_not_allowed", xc.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=resp.intermediate_session_token, organization_id=jit.organization_id)
    _no_member(xc, jit.organization_id, email)

    # Contrast: the emailed link proves the address, so the domain rule applies.
    resp = ok(xc.passwords.discovery.email.reset(password_reset_token=_discovery_link(xc, xsrv, email), password=P2))
    found = _by_org(resp.discovered_organizations)
    assert set(found) == {a.organization_id, jit.organization_id}, sorted(found)
    assert found[jit.organization_id].membership.type == "eligible_to_join_by_email_domain"
    joined = ok(xc.discovery.intermediate_sessions.exchange(intermediate_session_token=resp.intermediate_session_token,
                                                            organization_id=jit.organization_id))
    assert joined.member_authenticated is True
    assert joined.member.email_address == email and joined.member.email_address_verified is True


def test_discovery_authenticate_refuses_bad_credentials(xc, xsrv):
    email = _mail()
    [(a, ma)] = _memberships(xc, email, 1)
    _migrate(xc, a.organization_id, email)
    nopass = _mail("nopass")
    _memberships(xc, nopass, 1)

    for em, pw in ((email, hv.WRONG_PASSWORD), (email, P2), (_mail("ghost"), P1), (nopass, P1)):
        expect_error(401, "unauthorized_credentials", xc.passwords.discovery.authenticate, email_address=em, password=pw)
    assert ok(xc.sessions.get(organization_id=a.organization_id, member_id=ma.member_id)).member_sessions == []
    # The right password still works (below the lockout limit).
    resp = ok(xc.passwords.discovery.authenticate(email_address=email, password=P1))
    _assert_discovery(resp, email, {a.organization_id: ma.member_id})


# ---------------------------------------------------------------- lockout


@pytest.fixture
def lockout_srv(latch_server_factory):
    return latch_server_factory(**SETTING, LATCH_PASSWORD_MAX_FAILURES=str(MAX_FAILURES))


def test_discovery_authenticate_lockout(lockout_srv, http):
    c = _client(lockout_srv)
    email, bystander = _mail(), _mail("bystander")
    [(a, ma)] = _memberships(c, email, 1)
    [(b, mb)] = _memberships(c, bystander, 1)
    _migrate(c, a.organization_id, email)
    _migrate(c, b.organization_id, bystander)

    for _ in range(MAX_FAILURES):
        expect_error(401, "unauthorized_credentials", c.passwords.discovery.authenticate,
                     email_address=email, password=hv.WRONG_PASSWORD)
    expect_error(429, "too_many_requests", c.passwords.discovery.authenticate, email_address=email, password=P1)
    r = _raw_post(lockout_srv, http, "/v1/b2b/passwords/discovery/authenticate",
                  {"email_address": email, "password": P1})
    check_raw_error(r, 429, "too_many_requests")
    retry_after = r.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), f"Retry-After: {retry_after!r}"
    assert 1 <= int(retry_after) <= 3600, retry_after

    # Another email is unaffected.
    resp = ok(c.passwords.discovery.authenticate(email_address=bystander, password=P1))
    _assert_discovery(resp, bystander, {b.organization_id: mb.member_id})


def test_discovery_authenticate_throttles_unknown_email_alike(lockout_srv):
    c = _client(lockout_srv)
    ghost = _mail("ghost")
    for _ in range(MAX_FAILURES):
        expect_error(401, "unauthorized_credentials", c.passwords.discovery.authenticate,
                     email_address=ghost, password=hv.WRONG_PASSWORD)
    expect_error(429, "too_many_requests", c.passwords.discovery.authenticate, email_address=ghost, password=P1)
