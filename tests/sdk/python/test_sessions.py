"""Member sessions (sessions.md): the session a password login creates, session_duration_minutes,
session_custom_claims, sessions.authenticate by token and by JWT, authorization_check, sessions.get
and sessions.revoke (every selector), and what revocation / member deletion do to the tokens."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import latch_helpers as h
from latch_helpers import expect_error, ok

PASSWORD = "Latch sessions: violet-harbor-9141!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
UTC = datetime.timezone.utc
MEMBER_SESSION_FIELDS = {
    "member_session_id",
    "member_id",
    "started_at",
    "last_accessed_at",
    "expires_at",
    "authentication_factors",
    "organization_id",
    "roles",
    "organization_slug",
    "custom_claims",
}


# ---------------------------------------------------------------------------------------------
# helpers (kept local to this module on purpose)


def _mail(prefix: str = "s", domain: Optional[str] = None) -> str:
    return f"{prefix}-{h.token()}@{domain or h.unique_domain('sess')}"


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def _near(actual: datetime.datetime, expected: datetime.datetime, tol_s: float = 5.0) -> bool:
    return abs((actual - expected).total_seconds()) <= tol_s


def _give_password(client, org_id: str, email: str, **kwargs) -> Any:
    return ok(
        client.passwords.migrate(
            email_address=email, hash=MD5, hash_type="md_5", organization_id=org_id, **kwargs
        )
    )


def _login(client, org_id: str, email: str, **kwargs) -> Any:
    return ok(
        client.passwords.authenticate(organization_id=org_id, email_address=email, password=PASSWORD, **kwargs)
    )


def _session(client, org=None, email: Optional[str] = None, roles: Optional[List[str]] = None, **login_kwargs):
    """A member (created through passwords.migrate) with a fresh session."""
    org = org or h.create_org(client)
    email = email or _mail()
    migrate_kwargs: Dict[str, Any] = {}
    if roles is not None:
        migrate_kwargs["roles"] = roles
    migrated = _give_password(client, org.organization_id, email, **migrate_kwargs)
    resp = _login(client, org.organization_id, email, **login_kwargs)
    return SimpleNamespace(
        org=org,
        email=email,
        member_id=migrated.member_id,
        resp=resp,
        token=resp.session_token,
        jwt=resp.session_jwt,
        ms=resp.member_session,
    )


def _b64json(segment: str) -> Dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _claims(session_jwt: str) -> Dict[str, Any]:
    return _b64json(session_jwt.split(".")[1])


def _live_ids(client, org_id: str, member_id: str) -> set:
    resp = ok(client.sessions.get(organization_id=org_id, member_id=member_id))
    return {s.member_session_id for s in resp.member_sessions}


def _stored(client, s) -> Any:
    """The session as the server has it now (read without touching it: sessions.get)."""
    resp = ok(client.sessions.get(organization_id=s.org.organization_id, member_id=s.member_id))
    found = [x for x in resp.member_sessions if x.member_session_id == s.ms.member_session_id]
    assert len(found) == 1, f"session {s.ms.member_session_id} not listed once: {resp.member_sessions}"
    return found[0]


# ---------------------------------------------------------------------------------------------
# the session a login creates


def test_password_login_session_has_every_field(client, server, http):
    before = _now()
    s = _session(client)
    after = _now()
    resp = s.resp
    assert isinstance(s.token, str) and len(s.token) >= 20
    assert isinstance(s.jwt, str) and s.jwt.count(".") == 2
    assert resp.member_id == s.member_id
    assert resp.member.member_id == s.member_id
    assert resp.organization.organization_id == s.org.organization_id
    ms = s.ms
    # Every MemberSession field is present on the wire (not only defaulted by the model).
    raw = http.post(
        server.api("/v1/b2b/sessions/authenticate"),
        auth=(server.project.project_id, server.project.secret),
        json={"session_token": s.token},
    )
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert MEMBER_SESSION_FIELDS <= set(body["member_session"]), body["member_session"]
    for key in ("session_token", "session_jwt", "member", "organization", "member_session"):
        assert body.get(key), key
    assert ms.member_session_id and isinstance(ms.member_session_id, str)
    assert ms.member_id == s.member_id
    assert ms.organization_id == s.org.organization_id
    assert ms.organization_slug == s.org.organization_slug
    assert ms.roles == ["stytch_member"]
    assert ms.custom_claims in ({}, None)
    for ts in (ms.started_at, ms.last_accessed_at):
        assert before - datetime.timedelta(seconds=2) <= ts <= after + datetime.timedelta(seconds=2), ts
    # Default lifetime: 60 minutes.
    hour = datetime.timedelta(minutes=60)
    assert before + hour - datetime.timedelta(seconds=2) <= ms.expires_at <= after + hour + datetime.timedelta(seconds=2)
    assert len(ms.authentication_factors) == 1, ms.authentication_factors
    f = ms.authentication_factors[0]
    assert (f.type.value, f.delivery_method.value) == ("password", "knowledge")
    for ts in (f.last_authenticated_at, f.created_at, f.updated_at):
        assert ts is not None and _near(ts, ms.started_at), (ts, ms.started_at)
    # The session is listed for its member.
    assert _live_ids(client, s.org.organization_id, s.member_id) == {ms.member_session_id}


def test_session_roles_are_explicit_plus_email_implicit(client):
    domain = h.unique_domain("implicit")
    org = h.create_org(client, rbac_email_implicit_role_assignments=[{"domain": domain, "role_id": "billing_admin"}])
    s = _session(client, org=org, email=_mail("r", domain), roles=["editor"])
    assert sorted(s.ms.roles) == ["billing_admin", "editor", "stytch_member"]
    assert len(s.ms.roles) == len(set(s.ms.roles))
    assert sorted(_claims(s.jwt)["https://stytch.com/session"]["roles"]) == sorted(s.ms.roles)
    # A member without the domain and without explicit roles only has stytch_member.
    plain = _session(client, org=org)
    assert plain.ms.roles == ["stytch_member"]


def test_each_login_starts_a_new_session(client):
    s = _session(client)
    again = _login(client, s.org.organization_id, s.email)
    assert again.member_session.member_session_id != s.ms.member_session_id
    assert again.session_token != s.token
    assert _live_ids(client, s.org.organization_id, s.member_id) == {
        s.ms.member_session_id,
        again.member_session.member_session_id,
    }


# ---------------------------------------------------------------------------------------------
# session_duration_minutes


def test_session_duration_bounds_on_password_authenticate(client):
    org = h.create_org(client)
    email = _mail()
    member_id = _give_password(client, org.organization_id, email).member_id
    for minutes in (5, 527040, 90):
        before = _now()
        ms = _login(client, org.organization_id, email, session_duration_minutes=minutes).member_session
        want = before + datetime.timedelta(minutes=minutes)
        assert _near(ms.expires_at, want), (minutes, ms.expires_at, want)
    live = _live_ids(client, org.organization_id, member_id)
    assert len(live) == 3
    for minutes in (4, 0, -1, 527041):
        expect_error(
            400,
            "invalid_session_duration_minutes",
            client.passwords.authenticate,
            organization_id=org.organization_id,
            email_address=email,
            password=PASSWORD,
            session_duration_minutes=minutes,
        )
    # No session was created by a refused login.
    assert _live_ids(client, org.organization_id, member_id) == live


def test_session_duration_bounds_on_sessions_authenticate(client):
    s = _session(client)
    for minutes in (4, 0, 527041):
        expect_error(
            400,
            "invalid_session_duration_minutes",
            client.sessions.authenticate,
            session_token=s.token,
            session_duration_minutes=minutes,
        )
        expect_error(
            400,
            "invalid_session_duration_minutes",
            client.sessions.authenticate,
            session_jwt=s.jwt,
            session_duration_minutes=minutes,
        )
    assert _stored(client, s).expires_at == s.ms.expires_at


def test_authenticate_with_duration_moves_expiry_to_now_plus_n(client):
    s = _session(client, session_duration_minutes=60)
    before = _now()
    longer = ok(client.sessions.authenticate(session_token=s.token, session_duration_minutes=600)).member_session
    assert _near(longer.expires_at, before + datetime.timedelta(minutes=600)), longer.expires_at
    assert _stored(client, s).expires_at == longer.expires_at
    # now + N even when that is shorter than what is left.
    before = _now()
    shorter = ok(client.sessions.authenticate(session_jwt=s.jwt, session_duration_minutes=10)).member_session
    assert _near(shorter.expires_at, before + datetime.timedelta(minutes=10)), shorter.expires_at
    assert _stored(client, s).expires_at == shorter.expires_at
    assert shorter.started_at == s.ms.started_at


def test_authenticate_without_duration_does_not_extend(client):
    s = _session(client, session_duration_minutes=30)
    time.sleep(1.1)  # timestamps have one-second resolution
    by_token = ok(client.sessions.authenticate(session_token=s.token)).member_session
    assert by_token.expires_at == s.ms.expires_at
    assert by_token.started_at == s.ms.started_at
    assert by_token.last_accessed_at > s.ms.last_accessed_at
    by_jwt = ok(client.sessions.authenticate(session_jwt=s.jwt)).member_session
    assert by_jwt.expires_at == s.ms.expires_at
    assert by_jwt.last_accessed_at >= by_token.last_accessed_at
    stored = _stored(client, s)
    assert stored.expires_at == s.ms.expires_at
    # Plain checks store the access time at most once a minute (answers show the current time);
    # crates/latch/tests/api.rs ages a session past the interval to see it written.
    assert stored.last_accessed_at == s.ms.last_accessed_at


# ---------------------------------------------------------------------------------------------
# session_custom_claims


def test_custom_claims_are_stored_and_become_jwt_claims(client):
    claims = {
        "tier": "gold",
        "n": 7,
        "nested": {"a": [1, 2, {"b": None}], "ok": True},
        "ünï": "çødé",
        # Reserved JWT claims are ignored silently.
        "iss": "evil",
        "sub": "someone-else",
        "aud": ["other-project"],
        "exp": 1,
        "nbf": 1,
        "iat": 1,
        "jti": "jti-1",
    }
    s = _session(client, session_custom_claims=claims)
    expected = {"tier": "gold", "n": 7, "nested": {"a": [1, 2, {"b": None}], "ok": True}, "ünï": "çødé"}
    assert s.ms.custom_claims == expected
    payload = _claims(s.jwt)
    for k, v in expected.items():
        assert payload[k] == v, (k, payload)
    assert payload["sub"] == s.member_id
    assert payload["iss"] == f"stytch.com/{client.sessions.project_id}"
    assert payload["aud"] == [client.sessions.project_id]
    assert payload["exp"] == payload["iat"] + 300 and payload["iat"] > 1_600_000_000
    assert "jti" not in payload
    assert _stored(client, s).custom_claims == expected
    # The SDK's local view agrees.
    local = client.sessions.authenticate_jwt_local(session_jwt=s.jwt)
    assert local is not None and local.custom_claims == expected


def test_custom_claims_merge_and_null_deletes(client):
    s = _session(client, session_custom_claims={"a": 1, "b": 2, "keep": "x"})
    r = ok(
        client.sessions.authenticate(
            session_token=s.token,
            session_custom_claims={"a": None, "b": 3, "c": [1], "sub": "evil", "exp": 1, "jti": "j", "iss": "x"},
        )
    )
    want = {"b": 3, "keep": "x", "c": [1]}
    assert r.member_session.custom_claims == want
    payload = _claims(r.session_jwt)
    assert "a" not in payload and payload["b"] == 3 and payload["c"] == [1] and payload["keep"] == "x"
    assert payload["sub"] == s.member_id and payload["exp"] == payload["iat"] + 300 and "jti" not in payload
    # Authenticating without claims leaves them alone; by JWT works the same way.
    r2 = ok(client.sessions.authenticate(session_jwt=r.session_jwt))
    assert r2.member_session.custom_claims == want
    r3 = ok(client.sessions.authenticate(session_jwt=r2.session_jwt, session_custom_claims={"keep": None}))
    assert r3.member_session.custom_claims == {"b": 3, "c": [1]}
    assert "keep" not in _claims(r3.session_jwt)
    assert _stored(client, s).custom_claims == {"b": 3, "c": [1]}
    # A second login of the same member starts with no claims.
    other = _login(client, s.org.organization_id, s.email)
    assert other.member_session.custom_claims in ({}, None)


def test_stytch_namespace_claims_are_refused(client):
    org = h.create_org(client)
    email = _mail()
    member_id = _give_password(client, org.organization_id, email).member_id
    for key in ("https://stytch.com/session", "https://stytch.com/organization", "https://stytch.com/anything"):
        expect_error(
            400,
            "stytch_claims_in_custom_claims",
            client.passwords.authenticate,
            organization_id=org.organization_id,
            email_address=email,
            password=PASSWORD,
            session_custom_claims={key: {"roles": ["stytch_admin"]}, "fine": 1},
        )
    assert _live_ids(client, org.organization_id, member_id) == set()
    s = _session(client, org=org, email=email, session_custom_claims={"x": 1})
    expect_error(
        400,
        "stytch_claims_in_custom_claims",
        client.sessions.authenticate,
        session_token=s.token,
        session_custom_claims={"https://stytch.com/session": {"roles": ["stytch_admin"]}, "y": 2},
    )
    assert _stored(client, s).custom_claims == {"x": 1}


def test_custom_claims_size_limit(client):
    org = h.create_org(client)
    email = _mail()
    member_id = _give_password(client, org.organization_id, email).member_id
    expect_error(
        400,
        "custom_claims_too_large",
        client.passwords.authenticate,
        organization_id=org.organization_id,
        email_address=email,
        password=PASSWORD,
        session_custom_claims={"big": "x" * 5000},
    )
    assert _live_ids(client, org.organization_id, member_id) == set()
    # 3 KB fits; adding another 2 KB exceeds the limit in total.
    s = _session(client, org=org, email=email, session_custom_claims={"a": "y" * 3000})
    assert s.ms.custom_claims == {"a": "y" * 3000}
    expect_error(
        400,
        "custom_claims_too_large",
        client.sessions.authenticate,
        session_token=s.token,
        session_custom_claims={"b": "z" * 2000},
    )
    assert _stored(client, s).custom_claims == {"a": "y" * 3000}
    # Replacing the big value by a small one in the same request is fine.
    r = ok(client.sessions.authenticate(session_token=s.token, session_custom_claims={"a": None, "b": "z" * 2000}))
    assert r.member_session.custom_claims == {"b": "z" * 2000}


# ---------------------------------------------------------------------------------------------
# sessions.authenticate


def test_authenticate_by_token_echoes_token_and_mints_a_jwt(client):
    s = _session(client)
    r = ok(client.sessions.authenticate(session_token=s.token))
    assert r.session_token == s.token
    assert r.member_session.member_session_id == s.ms.member_session_id
    assert r.member.member_id == s.member_id and r.member.email_address == s.email
    assert r.organization.organization_id == s.org.organization_id
    assert r.verdict is None
    payload = _claims(r.session_jwt)
    assert payload["https://stytch.com/session"]["id"] == s.ms.member_session_id
    assert payload["sub"] == s.member_id
    assert payload["iat"] >= _claims(s.jwt)["iat"]
    local = client.sessions.authenticate_jwt_local(session_jwt=r.session_jwt)
    assert local is not None and local.member_session_id == s.ms.member_session_id


def test_authenticate_by_jwt_returns_empty_token(client):
    """Latch stores session tokens only as hashes: a session reached through its JWT cannot give its
    token back, so session_token is "" (documented deviation from Stytch)."""
    s = _session(client)
    r = ok(client.sessions.authenticate(session_jwt=s.jwt))
    assert r.session_token == ""
    assert r.session_jwt and r.session_jwt.count(".") == 2
    assert r.member_session.member_session_id == s.ms.member_session_id
    assert r.member.member_id == s.member_id
    assert r.organization.organization_id == s.org.organization_id
    # The fresh JWT authenticates too.
    r2 = ok(client.sessions.authenticate(session_jwt=r.session_jwt))
    assert r2.member_session.member_session_id == s.ms.member_session_id
    # And the original token still works.
    assert ok(client.sessions.authenticate(session_token=s.token)).session_token == s.token


def test_authenticate_argument_errors(client):
    s = _session(client)
    expect_error(
        400, "too_many_session_arguments", client.sessions.authenticate, session_token=s.token, session_jwt=s.jwt
    )
    expect_error(400, "no_session_arguments", client.sessions.authenticate)
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token="not-a-real-session-token")
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=s.token + "x")
    for junk in ("garbage", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJSUzI1NiJ9.e30"):
        expect_error(400, "unable_to_parse_session_jwt", client.sessions.authenticate, session_jwt=junk)
    # The session is untouched by all of this.
    assert _stored(client, s).expires_at == s.ms.expires_at


def test_authenticate_with_authorization_check(client):
    s = _session(client, roles=["editor"])
    other_org = h.create_org(client)
    org_id = s.org.organization_id
    r = ok(
        client.sessions.authenticate(
            session_token=s.token,
            authorization_check={"organization_id": org_id, "resource_id": "documents", "action": "read"},
        )
    )
    assert r.verdict is not None and r.verdict.authorized is True
    assert sorted(r.verdict.granting_roles) == ["editor", "stytch_member"]
    r = ok(
        client.sessions.authenticate(
            session_jwt=s.jwt,
            authorization_check={"organization_id": org_id, "resource_id": "documents", "action": "write"},
        )
    )
    assert r.verdict.authorized is True and r.verdict.granting_roles == ["editor"]
    # Refusals change nothing on the session (no extension, no claims).
    for check, status, error_type in (
        ({"organization_id": org_id, "resource_id": "documents", "action": "delete"}, 403, "session_authorization_error"),
        ({"organization_id": org_id, "resource_id": "billing", "action": "view"}, 403, "session_authorization_error"),
        (
            {"organization_id": other_org.organization_id, "resource_id": "documents", "action": "read"},
            403,
            "session_authorization_tenancy_error",
        ),
    ):
        for kw in ({"session_token": s.token}, {"session_jwt": s.jwt}):
            expect_error(
                status,
                error_type,
                client.sessions.authenticate,
                authorization_check=check,
                session_duration_minutes=600,
                session_custom_claims={"should_not": "stick"},
                **kw,
            )
    stored = _stored(client, s)
    assert stored.expires_at == s.ms.expires_at
    assert stored.custom_claims in ({}, None)


# ---------------------------------------------------------------------------------------------
# sessions.get


def test_get_lists_live_sessions_of_one_member(client):
    s = _session(client)
    second = _login(client, s.org.organization_id, s.email)
    neighbour = _session(client, org=s.org)
    got = ok(client.sessions.get(organization_id=s.org.organization_id, member_id=s.member_id))
    ids = {x.member_session_id for x in got.member_sessions}
    assert ids == {s.ms.member_session_id, second.member_session.member_session_id}
    for x in got.member_sessions:
        assert x.member_id == s.member_id
        assert x.organization_id == s.org.organization_id
        assert x.organization_slug == s.org.organization_slug
        assert x.roles == ["stytch_member"]
        assert [f.type.value for f in x.authentication_factors] == ["password"]
    by_slug = ok(client.sessions.get(organization_id=s.org.organization_slug, member_id=s.member_id))
    assert {x.member_session_id for x in by_slug.member_sessions} == ids
    ext = f"ext-{h.token()}"
    ok(client.organizations.members.update(organization_id=s.org.organization_id, member_id=s.member_id, external_id=ext))
    by_ext = ok(client.sessions.get(organization_id=s.org.organization_id, member_id=ext))
    assert {x.member_session_id for x in by_ext.member_sessions} == ids
    ok(client.sessions.revoke(member_session_id=second.member_session.member_session_id))
    assert _live_ids(client, s.org.organization_id, s.member_id) == {s.ms.member_session_id}
    assert _live_ids(client, s.org.organization_id, neighbour.member_id) == {neighbour.ms.member_session_id}


def test_get_member_without_sessions_and_unknown_member(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    assert ok(client.sessions.get(organization_id=org.organization_id, member_id=m.member_id)).member_sessions == []
    expect_error(
        404, "member_not_found", client.sessions.get, organization_id=org.organization_id, member_id="member-test-nope"
    )


# ---------------------------------------------------------------------------------------------
# sessions.revoke


def _assert_dead(client, s_token: str, s_jwt: str) -> None:
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=s_token)
    expect_error(404, "session_not_found", client.sessions.authenticate, session_jwt=s_jwt)


def test_revoke_by_member_session_id(client):
    s = _session(client)
    keep = _login(client, s.org.organization_id, s.email)
    ok(client.sessions.revoke(member_session_id=s.ms.member_session_id))
    _assert_dead(client, s.token, s.jwt)
    assert ok(client.sessions.authenticate(session_token=keep.session_token)).member_session.member_session_id == (
        keep.member_session.member_session_id
    )


def test_revoke_by_session_token(client):
    s = _session(client)
    keep = _login(client, s.org.organization_id, s.email)
    ok(client.sessions.revoke(session_token=s.token))
    _assert_dead(client, s.token, s.jwt)
    ok(client.sessions.authenticate(session_token=keep.session_token))
    expect_error(404, "session_not_found", client.sessions.revoke, session_token=s.token)


def test_revoke_by_session_jwt(client):
    s = _session(client)
    keep = _login(client, s.org.organization_id, s.email)
    ok(client.sessions.revoke(session_jwt=s.jwt))
    _assert_dead(client, s.token, s.jwt)
    ok(client.sessions.authenticate(session_jwt=keep.session_jwt))


def test_revoke_by_member_id_revokes_all_of_them(client):
    s = _session(client)
    second = _login(client, s.org.organization_id, s.email)
    neighbour = _session(client, org=s.org)
    ok(client.sessions.revoke(member_id=s.member_id))
    _assert_dead(client, s.token, s.jwt)
    _assert_dead(client, second.session_token, second.session_jwt)
    assert _live_ids(client, s.org.organization_id, s.member_id) == set()
    ok(client.sessions.authenticate(session_token=neighbour.token))
    # The member can log in again.
    again = _login(client, s.org.organization_id, s.email)
    ok(client.sessions.authenticate(session_token=again.session_token))


def test_revoke_argument_errors(client):
    s = _session(client)
    expect_error(400, "no_session_revoke_arguments", client.sessions.revoke)
    pairs = (
        {"member_session_id": s.ms.member_session_id, "session_token": s.token},
        {"session_token": s.token, "session_jwt": s.jwt},
        {"session_jwt": s.jwt, "member_id": s.member_id},
        {"member_session_id": s.ms.member_session_id, "member_id": s.member_id},
    )
    for kw in pairs:
        expect_error(400, "too_many_session_revoke_arguments", client.sessions.revoke, **kw)
    expect_error(404, "session_not_found", client.sessions.revoke, member_session_id="member-session-test-nope")
    # Nothing was revoked.
    ok(client.sessions.authenticate(session_token=s.token))
    assert _live_ids(client, s.org.organization_id, s.member_id) == {s.ms.member_session_id}


def test_revoked_session_jwt_still_verifies_locally_until_exp(client):
    """Stytch documents it: revocation cannot retract issued JWTs from *local* verification."""
    s = _session(client)
    ok(client.sessions.revoke(member_session_id=s.ms.member_session_id))
    local = client.sessions.authenticate_jwt_local(session_jwt=s.jwt)
    assert local is not None and local.member_session_id == s.ms.member_session_id
    # The server knows better.
    expect_error(404, "session_not_found", client.sessions.authenticate, session_jwt=s.jwt)
    # authenticate_jwt with a zero max age skips the local answer and asks the server.
    expect_error(404, "session_not_found", client.sessions.authenticate_jwt, session_jwt=s.jwt, max_token_age_seconds=0)


def test_member_delete_revokes_its_sessions(client):
    s = _session(client)
    second = _login(client, s.org.organization_id, s.email)
    neighbour = _session(client, org=s.org)
    ok(client.organizations.members.delete(organization_id=s.org.organization_id, member_id=s.member_id))
    _assert_dead(client, s.token, s.jwt)
    _assert_dead(client, second.session_token, second.session_jwt)
    ok(client.sessions.authenticate(session_token=neighbour.token))
    # Reactivating the member does not bring old sessions back.
    ok(client.organizations.members.reactivate(organization_id=s.org.organization_id, member_id=s.member_id))
    _assert_dead(client, s.token, s.jwt)
    assert _live_ids(client, s.org.organization_id, s.member_id) == set()


def test_organization_delete_ends_its_sessions(client):
    s = _session(client)
    elsewhere = _session(client)
    ok(client.organizations.delete(organization_id=s.org.organization_id))
    _assert_dead(client, s.token, s.jwt)
    expect_error(404, "session_not_found", client.sessions.revoke, session_token=s.token)
    ok(client.sessions.authenticate(session_token=elsewhere.token))
