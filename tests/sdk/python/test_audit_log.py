"""The audit log (issue 18, part 2): real flows driven through the official SDK, then read back
from `GET /latch/v1/events` with the project's secret, as an operator would.

Each refusal type answers "why did this sign-in fail" (`reason` = the error_type, `details.cause`
where one error_type covers several causes); lockouts, sessions, member, role, organization and
operator changes are recorded; filters and the cursor work; another project sees nothing; no
secret ever appears in an event; events survive a SIGTERM right after the calls; and the stdout
and webhook streams carry them.

The servers are dedicated (`latch_server_factory`): 3 failed passwords lock, 127.0.0.1 is a
trusted proxy (so a forwarded client address is recorded), and events also go to stdout.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import signal
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests

import conftest
import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok

PHONE = "+12025550163"
SERVER_ENV = dict(
    LATCH_PASSWORD_MAX_FAILURES="3",
    LATCH_TRUSTED_PROXIES="127.0.0.1",
    LATCH_AUDIT_STDOUT="true",
)


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def srv(latch_server_factory):
    return latch_server_factory(**SERVER_ENV)


@pytest.fixture(scope="module")
def c(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


def _get(srv, params: Optional[Dict[str, Any]] = None, auth=None) -> requests.Response:
    with h.TimeoutSession() as s:
        return s.get(
            srv.api("/latch/v1/events"),
            params=params or {},
            auth=auth or (srv.project.project_id, srv.project.secret),
        )


def _page(srv, auth=None, **params) -> Dict[str, Any]:
    r = _get(srv, params, auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 200 and body["request_id"]
    return body


def _all(srv, auth=None, **params) -> List[Dict[str, Any]]:
    """Every matching event, newest first, following the cursor."""
    out: List[Dict[str, Any]] = []
    cursor = None
    while True:
        p = dict(params, limit=params.get("limit", 1000))
        if cursor:
            p["cursor"] = cursor
        body = _page(srv, auth, **p)
        out.extend(body["events"])
        cursor = body["next_cursor"]
        if not cursor:
            return out


def _wait(srv, pred: Callable[[List[Dict[str, Any]]], bool], timeout: float = 10.0, auth=None, **params):
    """Events are written off the request path: poll until `pred` holds (or fail showing them)."""
    deadline = time.monotonic() + timeout
    while True:
        evs = _all(srv, auth, **params)
        if pred(evs):
            return evs
        if time.monotonic() > deadline:
            pytest.fail(f"events never matched; got {json.dumps(evs, indent=1)[:6000]}")
        time.sleep(0.1)


def _one(evs: List[Dict[str, Any]], **fields) -> Dict[str, Any]:
    found = [e for e in evs if all(e.get(k) == v for k, v in fields.items())]
    assert len(found) == 1, f"expected one event with {fields}, got {len(found)}: {json.dumps(evs, indent=1)[:4000]}"
    return found[0]


def _has(**fields) -> Callable[[List[Dict[str, Any]]], bool]:
    return lambda evs: any(all(e.get(k) == v for k, v in fields.items()) for e in evs)


def _mail(local: str = "audit") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('audit')}"


def _with_password(c, org_id: str, **kwargs):
    resp = ok(c.passwords.migrate(organization_id=org_id, email_address=_mail(), **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs))
    return resp.member


def _outbox(srv, recipient: str) -> List[Dict[str, Any]]:
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient},
                  auth=(srv.project.project_id, srv.project.secret))
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def _check_event_shape(e: Dict[str, Any], project_id: str) -> None:
    assert set(e) == {
        "event_id", "project_id", "time", "event_type", "outcome", "reason", "actor", "organization_id",
        "member_id", "session_id", "client_address", "request_id", "status_code", "details",
    }, sorted(e)
    assert e["event_id"].startswith("audit-event-")
    assert e["project_id"] == project_id
    t = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 600
    assert e["outcome"] in ("success", "failure")
    assert (e["reason"] is None) == (e["outcome"] == "success"), e
    assert e["actor"]["type"] in ("project", "member", "operator", "public")
    assert isinstance(e["details"], dict)


# ---------------------------------------------------------------- the endpoint


def test_the_log_needs_the_project_secret(srv):
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/events"))
    assert r.status_code == 401 and r.json()["error_type"] == "unauthorized_credentials"
    r = _get(srv, auth=(srv.project.project_id, "secret-test-wrong-wrong-wrong"))
    assert r.status_code == 401 and r.json()["error_type"] == "unauthorized_credentials"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-13-99"}, "until"),
        ({"cursor": "not-a-cursor!"}, "cursor"),
    ],
)
def test_malformed_parameters_are_refused_naming_the_field(srv, params, field):
    r = _get(srv, params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error_type"] == "invalid_argument" and field in body["error_message"], body


# ---------------------------------------------------------------- passwords: why did this sign-in fail


def test_password_sign_in_success_and_each_refusal_with_its_reason(srv, c):
    org = h.create_org(c)
    org_id = org.organization_id
    m = _with_password(c, org_id)
    good = ok(c.passwords.authenticate(organization_id=org_id, email_address=m.email_address, password=hv.PASSWORD))
    wrong = expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org_id,
                         email_address=m.email_address, password=hv.WRONG_PASSWORD)
    unknown = expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org_id,
                           email_address=_mail("nobody"), password=hv.PASSWORD)
    no_org = expect_error(404, "organization_not_found", c.passwords.authenticate,
                          organization_id=f"organization-test-{uuid.uuid4()}", email_address=m.email_address,
                          password=hv.PASSWORD)
    ok(c.passwords.email.require_reset(email_address=m.email_address, organization_id=org_id))
    reset = expect_error(400, "member_reset_password", c.passwords.authenticate, organization_id=org_id,
                         email_address=m.email_address, password=hv.PASSWORD)

    evs = _wait(srv, _has(request_id=reset.request_id), organization_id=org_id)
    for e in evs:
        _check_event_shape(e, srv.project.project_id)

    ok_ev = _one(evs, request_id=good.request_id, event_type="passwords.authenticate")
    assert ok_ev["outcome"] == "success" and ok_ev["reason"] is None and ok_ev["status_code"] == 200
    assert ok_ev["member_id"] == m.member_id and ok_ev["organization_id"] == org_id
    assert ok_ev["session_id"] == good.member_session.member_session_id
    assert ok_ev["actor"] == {"type": "project", "id": srv.project.project_id}
    assert ok_ev["client_address"] == "127.0.0.1"
    created = _one(evs, request_id=good.request_id, event_type="session.created")
    assert created["session_id"] == good.member_session.member_session_id and created["member_id"] == m.member_id
    assert created["details"]["authentication_methods"] and created["details"]["expires_at"]

    w = _one(evs, request_id=wrong.request_id)
    assert (w["event_type"], w["outcome"], w["reason"], w["status_code"]) == (
        "passwords.authenticate", "failure", "unauthorized_credentials", 401)
    assert w["member_id"] == m.member_id and w["details"]["cause"] == "wrong_password"

    u = _one(evs, request_id=unknown.request_id)
    assert u["reason"] == "unauthorized_credentials" and u["details"]["cause"] == "unknown_member"
    assert u["member_id"] is None and u["organization_id"] == org_id

    r = _one(evs, request_id=reset.request_id)
    assert r["reason"] == "member_reset_password" and r["details"]["cause"] == "reset_required"
    assert r["member_id"] == m.member_id
    _one(evs, event_type="passwords.email.require_reset", member_id=m.member_id)

    # An unknown organization is still in the project's log, with no target.
    evs = _wait(srv, _has(request_id=no_org.request_id), event_type="passwords.authenticate", outcome="failure")
    n = _one(evs, request_id=no_org.request_id)
    assert n["reason"] == "organization_not_found" and n["organization_id"] is None


def test_lockout_is_recorded_and_explains_later_refusals(srv, c):
    org = h.create_org(c)
    org_id = org.organization_id
    m = _with_password(c, org_id)
    for _ in range(3):
        expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org_id,
                     email_address=m.email_address, password=hv.WRONG_PASSWORD)
    # Locked: even the right password is refused now.
    locked = expect_error(429, "too_many_requests", c.passwords.authenticate, organization_id=org_id,
                          email_address=m.email_address, password=hv.PASSWORD)
    assert ok(c.organizations.members.get(organization_id=org_id, member_id=m.member_id)).member.is_locked

    evs = _wait(srv, _has(request_id=locked.request_id), member_id=m.member_id)
    lock = _one(evs, event_type="member.locked")
    assert lock["outcome"] == "success" and lock["organization_id"] == org_id
    assert lock["details"]["cause"] == "password_failures" and lock["details"]["lock_expires_at"]
    # The lock came with the third failure, in the same request.
    third = [e for e in evs if e["event_type"] == "passwords.authenticate" and e["request_id"] == lock["request_id"]]
    assert len(third) == 1 and third[0]["details"]["cause"] == "wrong_password"
    refused = _one(evs, request_id=locked.request_id, event_type="passwords.authenticate")
    assert refused["reason"] == "too_many_requests" and refused["status_code"] == 429
    assert refused["details"]["cause"] in ("address_blocked", "member_locked")
    failures = _all(srv, member_id=m.member_id, event_type="passwords.authenticate", outcome="failure")
    assert len(failures) == 4


# ---------------------------------------------------------------- OTP, MFA, magic links


def test_email_otp_wrong_and_right_code(srv, c):
    org = h.create_org(c)
    m = h.create_member(c, org.organization_id, _mail("otp"))
    ok(c.otps.email.login_or_signup(organization_id=org.organization_id, email_address=m.email_address))
    code = _outbox(srv, m.email_address)[0]["code"]
    wrong_code = "000000" if code != "000000" else "111111"
    bad = expect_error(401, "unable_to_auth_otp_code", c.otps.email.authenticate, organization_id=org.organization_id,
                       email_address=m.email_address, code=wrong_code)
    good = ok(c.otps.email.authenticate(organization_id=org.organization_id, email_address=m.email_address, code=code))
    used = expect_error(404, "otp_code_not_found", c.otps.email.authenticate, organization_id=org.organization_id,
                        email_address=m.email_address, code=code)
    evs = _wait(srv, _has(request_id=used.request_id), organization_id=org.organization_id, event_type="otps.")
    sent = _one(evs, event_type="otps.email.login_or_signup", outcome="success")
    assert sent["member_id"] == m.member_id
    b = _one(evs, request_id=bad.request_id)
    assert b["member_id"] == m.member_id and b["details"]["attempt"] == 1
    assert (b["event_type"], b["reason"], b["details"]["cause"]) == ("otps.email.authenticate", "unable_to_auth_otp_code", "wrong_code")
    g = _one(evs, request_id=good.request_id)
    assert g["outcome"] == "success" and g["session_id"] == good.member_session.member_session_id
    u = _one(evs, request_id=used.request_id)
    assert u["reason"] == "otp_code_not_found" and u["details"]["cause"] == "no_code_sent"
    assert u["status_code"] == 404
    # A stranger the organization does not provision: refused, and said why.
    jit = expect_error(403, "email_jit_provisioning_not_allowed", c.otps.email.login_or_signup,
                       organization_id=org.organization_id, email_address=_mail("stranger"))
    evs = _wait(srv, _has(request_id=jit.request_id), organization_id=org.organization_id, outcome="failure")
    j = _one(evs, request_id=jit.request_id)
    assert (j["event_type"], j["reason"], j["member_id"]) == (
        "otps.email.login_or_signup", "email_jit_provisioning_not_allowed", None)


def test_mfa_pending_then_sms_code_refused_then_accepted(srv, c):
    org = h.create_org(c, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(c, org.organization_id, mfa_phone_number=PHONE, set_phone_number_verified=True)
    first = ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                        password=hv.PASSWORD))
    assert first.member_authenticated is False and first.intermediate_session_token
    code = _outbox(srv, PHONE)[0]["code"]
    wrong_code = "000000" if code != "000000" else "111111"
    ist = first.intermediate_session_token
    bad = expect_error(401, "unable_to_auth_otp_code", c.otps.sms.authenticate, organization_id=org.organization_id,
                       member_id=m.member_id, code=wrong_code, intermediate_session_token=ist)
    good = ok(c.otps.sms.authenticate(organization_id=org.organization_id, member_id=m.member_id, code=code,
                                      intermediate_session_token=ist))
    evs = _wait(srv, _has(request_id=good.request_id), member_id=m.member_id)
    p = _one(evs, request_id=first.request_id, event_type="passwords.authenticate")
    assert p["outcome"] == "success" and p["session_id"] is None
    assert p["details"]["member_authenticated"] is False and p["details"]["mfa_required"] is True
    assert not [e for e in evs if e["request_id"] == first.request_id and e["event_type"] == "session.created"]
    b = _one(evs, request_id=bad.request_id)
    assert (b["event_type"], b["reason"], b["details"]["cause"]) == ("otps.sms.authenticate", "unable_to_auth_otp_code", "wrong_code")
    _one(evs, request_id=good.request_id, event_type="otps.sms.authenticate", outcome="success")
    s = _one(evs, request_id=good.request_id, event_type="session.created")
    assert s["session_id"] == good.member_session.member_session_id


def test_magic_link_used_twice(srv, c):
    org = h.create_org(c)
    m = h.create_member(c, org.organization_id, _mail("ml"))
    ok(c.magic_links.email.login_or_signup(organization_id=org.organization_id, email_address=m.email_address,
                                           login_redirect_url="https://app.example.com/reset",
                                           signup_redirect_url="https://app.example.com/reset"))
    token = _outbox(srv, m.email_address)[0]["token"]
    good = ok(c.magic_links.authenticate(magic_links_token=token))
    again = expect_error(401, "unable_to_auth_magic_link", c.magic_links.authenticate, magic_links_token=token)
    evs = _wait(srv, _has(request_id=again.request_id), member_id=m.member_id, event_type="magic_links.")
    _one(evs, request_id=good.request_id, outcome="success")
    a = _one(evs, request_id=again.request_id)
    assert a["reason"] == "unable_to_auth_magic_link" and a["details"]["cause"] == "link_used"
    assert a["organization_id"] == org.organization_id


# ---------------------------------------------------------------- sessions, members, roles, organizations


def test_session_revoke(srv, c):
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    s = ok(c.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=hv.PASSWORD))
    sid = s.member_session.member_session_id
    rv = ok(c.sessions.revoke(member_session_id=sid))
    evs = _wait(srv, _has(request_id=rv.request_id), session_id=sid)
    call = _one(evs, event_type="sessions.revoke")
    assert call["outcome"] == "success" and call["member_id"] == m.member_id and call["organization_id"] == org.organization_id
    fact = _one(evs, event_type="session.revoked")
    assert fact["request_id"] == rv.request_id
    _one(evs, event_type="session.created")
    assert [e["event_type"] for e in _all(srv, session_id=sid, event_type="session.")] == ["session.revoked", "session.created"]


def test_member_update_role_change_and_delete(srv, c):
    org = h.create_org(c)
    org_id = org.organization_id
    m = _with_password(c, org_id)
    login = ok(c.passwords.authenticate(organization_id=org_id, email_address=m.email_address, password=hv.PASSWORD))
    renamed = ok(c.organizations.members.update(organization_id=org_id, member_id=m.member_id, name="Alice"))
    roles = ok(c.organizations.members.update(organization_id=org_id, member_id=m.member_id, roles=["editor"]))
    # The member renames itself with its own session: the actor is the member.
    with h.TimeoutSession() as s:
        r = s.put(srv.api(f"/v1/b2b/organizations/{org_id}/members/{m.member_id}"), json={"name": "Alice B"},
                  auth=(srv.project.project_id, srv.project.secret),
                  headers={"X-Stytch-Member-Session": login.session_token})
    assert r.status_code == 200, r.text
    by_member = r.json()["request_id"]
    denied = expect_error(404, "member_not_found", c.organizations.members.update, organization_id=org_id,
                          member_id=f"member-test-{uuid.uuid4()}", name="x")
    gone = ok(c.organizations.members.delete(organization_id=org_id, member_id=m.member_id))

    evs = _wait(srv, _has(request_id=gone.request_id), member_id=m.member_id)
    u = _one(evs, request_id=renamed.request_id)
    assert (u["event_type"], u["outcome"], u["organization_id"]) == ("organizations.members.update", "success", org_id)
    rc = _one(evs, event_type="member.roles_changed")
    assert rc["request_id"] == roles.request_id
    assert rc["details"]["roles"] == ["editor"] and rc["details"]["previous_roles"] == []
    mine = _one(evs, request_id=by_member, event_type="organizations.members.update")
    assert mine["actor"] == {"type": "member", "id": m.member_id}
    d = _one(evs, request_id=gone.request_id, event_type="organizations.members.delete")
    assert d["outcome"] == "success"
    ended = _one(evs, request_id=gone.request_id, event_type="session.revoked")
    assert ended["details"]["all_of_member"] is True and ended["details"]["count"] == 1
    evs = _wait(srv, _has(request_id=denied.request_id), organization_id=org_id, outcome="failure")
    assert _one(evs, request_id=denied.request_id)["reason"] == "member_not_found"


def test_organization_settings_change_names_the_fields(srv, c):
    org = h.create_org(c)
    up = ok(c.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL",
                                   organization_name="Renamed"))
    evs = _wait(srv, _has(request_id=up.request_id), organization_id=org.organization_id)
    e = _one(evs, request_id=up.request_id)
    assert e["event_type"] == "organizations.update"
    assert set(e["details"]["changed_fields"]) == {"mfa_policy", "organization_name"}
    _one(evs, event_type="organizations.create")


def test_forwarded_client_address_from_a_trusted_proxy(srv, c):
    org = h.create_org(c)
    with h.TimeoutSession() as s:
        r = s.post(srv.api("/v1/b2b/passwords/authenticate"),
                   json={"organization_id": org.organization_id, "email_address": _mail(), "password": hv.WRONG_PASSWORD},
                   auth=(srv.project.project_id, srv.project.secret),
                   headers={"X-Forwarded-For": "198.51.100.23"})
    assert r.status_code == 401
    evs = _wait(srv, _has(request_id=r.json()["request_id"]), organization_id=org.organization_id)
    assert _one(evs, request_id=r.json()["request_id"])["client_address"] == "198.51.100.23"


# ---------------------------------------------------------------- operator actions


def test_operator_actions_are_recorded(srv):
    p = srv.create_project()
    res = srv.cli("project", "secret", "rotate", p.project_id)
    assert res.returncode == 0, res.stderr
    new_secret = json.loads(res.stdout)["secret"]
    res = srv.cli("keys", "rotate", "--project-id", p.project_id)
    assert res.returncode == 0, res.stderr
    kid = json.loads(res.stdout)["kid"]
    auth = (p.project_id, new_secret)
    # The old secret stopped working; the log is read with the new one.
    assert _get(srv, auth=(p.project_id, p.secret)).status_code == 401
    evs = _wait(srv, lambda evs: len(evs) >= 3, auth=auth, event_type="")
    types = [e["event_type"] for e in evs]
    assert types == ["signing_key.rotated", "project.secret_rotated", "project.created"], types
    for e in evs:
        _check_event_shape(e, p.project_id)
        assert e["actor"] == {"type": "operator", "id": "cli"} and e["request_id"] is None
    assert evs[0]["details"]["kid"] == kid
    assert new_secret not in json.dumps(evs) and p.secret not in json.dumps(evs)


# ---------------------------------------------------------------- filters, cursor, isolation, secrets


def test_filters_and_cursor_pagination(srv, c):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    org = h.create_org(c)
    org_id = org.organization_id
    m = _with_password(c, org_id)
    for _ in range(2):
        ok(c.passwords.authenticate(organization_id=org_id, email_address=m.email_address, password=hv.PASSWORD))
    last = expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org_id,
                        email_address=m.email_address, password=hv.WRONG_PASSWORD)
    everything = _wait(srv, _has(request_id=last.request_id), organization_id=org_id)
    # organizations.create, member.created, passwords.migrate (+member.created on the same call),
    # 2 logins with their sessions, 1 failure.
    assert len(everything) >= 8, [e["event_type"] for e in everything]
    times = [e["time"] for e in everything]
    assert times == sorted(times, reverse=True), "newest first"

    pages, cursor = [], None
    while True:
        params = {"organization_id": org_id, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = _page(srv, **params)
        assert len(body["events"]) <= 3
        pages.append(body["events"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(pages) == -(-len(everything) // 3)
    assert [e["event_id"] for p in pages for e in p] == [e["event_id"] for e in everything], "no gap, no repeat"

    fails = _all(srv, organization_id=org_id, outcome="failure")
    assert [e["request_id"] for e in fails] == [last.request_id]
    logins = _all(srv, organization_id=org_id, event_type="passwords.authenticate", outcome="success")
    assert len(logins) == 2
    prefix = _all(srv, organization_id=org_id, event_type="passwords.")
    assert {e["event_type"] for e in prefix} == {"passwords.authenticate", "passwords.migrate"}
    sessions = _all(srv, member_id=m.member_id, event_type="session.created")
    assert len(sessions) == 2
    assert _all(srv, organization_id=org_id, since=start.isoformat()) == everything
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
    assert _all(srv, organization_id=org_id, since=future) == []
    assert _all(srv, organization_id=org_id, until=start.isoformat()) == []


def test_another_project_sees_none_of_these_events(srv, c):
    org = h.create_org(c)
    ok(c.organizations.update(organization_id=org.organization_id, organization_name="Mine"))
    _wait(srv, _has(event_type="organizations.update"), organization_id=org.organization_id)
    other = srv.create_project()
    theirs = (other.project_id, other.secret)
    oc = h.make_client(srv.url, other.project_id, other.secret)
    h.create_org(oc)
    evs = _wait(srv, _has(event_type="organizations.create"), auth=theirs)
    assert all(e["project_id"] == other.project_id for e in evs)
    assert org.organization_id not in json.dumps(evs)
    assert _all(srv, auth=theirs, organization_id=org.organization_id) == []
    mine = _all(srv, organization_id=org.organization_id)
    assert mine and all(e["project_id"] == srv.project.project_id for e in mine)


def test_no_secret_appears_in_any_event(srv, c):
    org = h.create_org(c, mfa_policy="OPTIONAL")
    org_id = org.organization_id
    m = _with_password(c, org_id)
    secrets: List[str] = [hv.PASSWORD, hv.WRONG_PASSWORD, srv.project.secret]
    s = ok(c.passwords.authenticate(organization_id=org_id, email_address=m.email_address, password=hv.PASSWORD))
    secrets += [s.session_token, s.session_jwt]
    ok(c.sessions.authenticate(session_token=s.session_token))
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org_id,
                 email_address=m.email_address, password=hv.WRONG_PASSWORD)
    ok(c.otps.email.login_or_signup(organization_id=org_id, email_address=m.email_address))
    code = _outbox(srv, m.email_address)[0]["code"]
    o = ok(c.otps.email.authenticate(organization_id=org_id, email_address=m.email_address, code=code))
    secrets += [o.session_token, o.session_jwt]
    ok(c.magic_links.email.login_or_signup(organization_id=org_id, email_address=m.email_address,
                                           login_redirect_url="https://app.example.com/reset",
                                           signup_redirect_url="https://app.example.com/reset"))
    link = _outbox(srv, m.email_address)[0]
    ml = ok(c.magic_links.authenticate(magic_links_token=link["token"]))
    secrets += [link["token"], ml.session_token, ml.session_jwt]
    reset = ok(c.passwords.email.reset_start(organization_id=org_id, email_address=m.email_address,
                                             reset_password_redirect_url="https://app.example.com/reset"))
    reset_token = _outbox(srv, m.email_address)[0]["token"]
    new_password = f"Unguessable-{uuid.uuid4().hex}!"
    done = ok(c.passwords.email.reset(password_reset_token=reset_token, password=new_password))
    secrets += [reset_token, new_password, done.session_token, done.session_jwt]
    totp = ok(c.totps.create(organization_id=org_id, member_id=m.member_id))
    secrets += [totp.secret] + list(totp.recovery_codes)
    ok(c.recovery_codes.get(organization_id=org_id, member_id=m.member_id))
    last = ok(c.sessions.revoke(session_token=done.session_token))

    evs = _wait(srv, _has(request_id=last.request_id), organization_id=org_id)
    text = json.dumps(evs)
    assert "recovery_codes.get" in text and "totps.create" in text and "passwords.email.reset" in text
    for secret in secrets:
        assert secret and secret not in text, f"a secret ({secret[:6]}…) is in the audit log"
    if code not in ("000000",):
        assert f'"{code}"' not in text
    # Digests of tokens are not in the log either (the database keeps those, the log does not).
    for secret in secrets:
        assert hashlib.sha256(secret.encode()).hexdigest() not in text


# ---------------------------------------------------------------- durability and streams


def test_events_survive_a_sigterm_under_load(latch_server_factory):
    """Clients keep signing in (and failing) while the server gets SIGTERM: every call that was
    answered has its event in the log after a restart, those answered during the shutdown too."""
    srv = latch_server_factory(LATCH_AUDIT_RETENTION_DAYS="30")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    answered: List[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with requests.Session() as s:
            s.trust_env = False
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = s.post(srv.api("/v1/b2b/passwords/authenticate"), timeout=10,
                               auth=(srv.project.project_id, srv.project.secret),
                               json={"organization_id": org.organization_id, "password": hv.WRONG_PASSWORD,
                                     "email_address": f"sigterm-{n}-{i}@{h.unique_domain('st')}"})
                except requests.RequestException:
                    return  # the server stopped accepting
                with lock:
                    answered.append(r.json()["request_id"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    srv.proc.send_signal(signal.SIGTERM)
    code = srv.proc.wait(timeout=conftest.SHUTDOWN_TIMEOUT_S)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert code == 0, srv.log_text()
    assert len(answered) >= 20, f"too little load to mean anything: {len(answered)} calls"
    problem = None
    for _attempt in range(3):  # the free port may be taken between probing and binding
        srv.port = conftest.free_port()
        conftest._start_process(srv)
        problem = conftest._wait_healthy(srv)
        if problem is None:
            break
    assert problem is None, f"restart: {problem}\n{srv.log_text()}"
    evs = _all(srv, organization_id=org.organization_id, event_type="passwords.authenticate")
    logged = {e["request_id"] for e in evs}
    lost = [r for r in answered if r not in logged]
    assert not lost, f"{len(lost)} of {len(answered)} answered calls have no event"
    assert len(evs) >= len(answered)


def test_stdout_carries_every_event_as_a_json_line(srv, c):
    org = h.create_org(c)
    expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org.organization_id,
                 email_address=_mail(), password=hv.WRONG_PASSWORD)
    stored = _wait(srv, lambda evs: len(evs) >= 2, organization_id=org.organization_id)
    deadline = time.monotonic() + 10
    while True:
        lines = {}
        for line in srv.log_text(max_chars=10_000_000).splitlines():
            if line.startswith("{"):
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if isinstance(e, dict) and "event_id" in e:
                    lines[e["event_id"]] = e
        if all(e["event_id"] in lines for e in stored) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for e in stored:
        assert lines.get(e["event_id"]) == e, f"stdout line differs from the stored event {e['event_id']}"


class _Receiver:
    """A tiny webhook receiver: fails its first `fail_first` calls with 500, then stores batches."""

    def __init__(self, secret: str, fail_first: int):
        self.secret = secret
        self.fail_left = fail_first
        self.calls = 0
        self.batches: List[List[Dict[str, Any]]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sig = dict(p.split("=", 1) for p in self.headers.get("X-Latch-Signature", "").split(",") if "=" in p)
                expected = hmac.new(outer.secret.encode(), f"{sig.get('t')}.{body.decode()}".encode(),
                                    hashlib.sha256).hexdigest()
                with outer.lock:
                    outer.calls += 1
                    if not hmac.compare_digest(expected, sig.get("v1", "")):
                        outer.bad_signatures += 1
                    fail = outer.fail_left > 0
                    if fail:
                        outer.fail_left -= 1
                    else:
                        outer.batches.append(json.loads(body)["events"])
                self.send_response(500 if fail else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> List[Dict[str, Any]]:
        with self.lock:
            return [e for b in self.batches for e in b]


def test_webhook_receives_signed_batches_and_retries_failures(latch_server_factory):
    secret = "audit-webhook-secret-" + uuid.uuid4().hex
    rx = _Receiver(secret, fail_first=2)
    try:
        srv = latch_server_factory(LATCH_AUDIT_WEBHOOK_URL=f"http://127.0.0.1:{rx.port}/hook",
                                   LATCH_AUDIT_WEBHOOK_SECRET=secret)
        c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
        org = h.create_org(c)
        m = _with_password(c, org.organization_id)
        expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org.organization_id,
                     email_address=m.email_address, password=hv.WRONG_PASSWORD)
        stored = _wait(srv, lambda evs: any(e["outcome"] == "failure" for e in evs), organization_id=org.organization_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = {e["event_id"]: e for e in rx.events()}
            if all(e["event_id"] in got for e in stored):
                break
            time.sleep(0.2)
        got = {e["event_id"]: e for e in rx.events()}
        for e in stored:
            assert got.get(e["event_id"]) == e, f"the webhook did not get {e['event_type']} as stored"
        assert rx.calls >= 3, "the two refused deliveries were retried"
        assert rx.bad_signatures == 0
        assert secret not in json.dumps(rx.events())
    finally:
        rx.server.shutdown()
