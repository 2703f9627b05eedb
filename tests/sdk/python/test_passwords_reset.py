"""Password resets on organization-scoped passwords (passwords.md): `email/reset/start` and
`email/reset` (emailed one-time link, PKCE), `session/reset`, `existing_password/reset`,
`email/require_reset` (also with member-session headers, README "Member-session authorization
headers"), and the seeds' `POST /v1/b2b/passwords/email/delete` (raw HTTP: the SDK dropped it).

Reset links are read from the development outbox (`GET /latch/v1/outbox`), as a developer would
read them. Members get their first password from `passwords.migrate` (md_5). Every refusal is
followed by a check that nothing changed (password, sessions, outbox).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html as html_lib
import json
import secrets
from typing import Any, Dict, List, Optional

import pytest

import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok
from stytch.b2b.models.passwords_email import RequireResetRequestOptions
from stytch.shared.method_options import Authorization

OLD = "Latch reset tests: basalt-heron-2718!"
NEW = "Orchid-Falcon-Meridian-42"
NEW2 = "Quartz lanterns drift over Tallinn 1889"
WEAK = "zzzzzzzzzzzzzzzzzzzz"  # zxcvbn score 0, not a leaked password
LEAKED = ("password", "iloveyou")
REDIRECT = "https://app.example.com/reset-password"
LINK_PARAMS = "stytch_token_type=multi_tenant_passwords&token="
DEFAULT_REDIRECT = "https://app.test/reset"
SENDS_PER_RECIPIENT = 10  # codes and links per recipient per 10 minutes
JSON_HEADERS = {"Content-Type": "application/json"}
MAX_FAILURES = 3
DENIED = (403, "session_authorization_error")
TENANCY = (403, "session_authorization_tenancy_error")


# ---------------------------------------------------------------- helpers


def _mail(local: str = "reset") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('pwr')}"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _client(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


def _with_password(client, org_id: str, email: Optional[str] = None, password: str = OLD, **kwargs):
    """A member of `org_id` whose password is `password` (migrated as an md_5 hash)."""
    email = email or _mail()
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, hash_type="md_5",
                                       hash=hashlib.md5(password.encode()).hexdigest(), **kwargs)).member


def _login(client, org_id: str, email: str, password: str = OLD):
    resp = ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=password))
    assert resp.member_authenticated is True and resp.session_token, resp
    return resp


def _password_works(client, org_id: str, email: str, password: str) -> bool:
    resp = ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=password))
    return resp.member_id != ""


def _password_refused(client, org_id: str, email: str, password: str) -> None:
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org_id, email_address=email, password=password)


def _alive(client, session_token: str) -> bool:
    ok(client.sessions.authenticate(session_token=session_token))
    return True


def _dead(client, session_token: str) -> None:
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=session_token)


def _session_ids(client, org_id: str, member_id: str) -> List[str]:
    return sorted(s.member_session_id for s in ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions)


def _outbox(srv, recipient: str) -> List[Dict[str, Any]]:
    """Messages sent to `recipient` in the server's bootstrap project, newest first."""
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": 100},
                  auth=(srv.project.project_id, srv.project.secret))
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _outbox_of(srv, project, recipient: str) -> List[Dict[str, Any]]:
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": 100},
                  auth=(project.project_id, project.secret))
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def _link(redirect: str, tok: str) -> str:
    sep = "&" if "?" in redirect else "?"
    return f"{redirect}{sep}{LINK_PARAMS}{tok}"


def _start(client, srv, org_id: str, email: str, redirect: Optional[str] = REDIRECT, **kwargs):
    """passwords.email.reset_start; returns (response, the one email it sent)."""
    before = len(_outbox(srv, email))
    if redirect is not None:
        kwargs["reset_password_redirect_url"] = redirect
    resp = ok(client.passwords.email.reset_start(organization_id=org_id, email_address=email, **kwargs))
    msgs = _outbox(srv, email)
    assert len(msgs) == before + 1, f"reset_start must send exactly one email, outbox: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "email", msg
    assert msg["kind"] == "password_reset", msg
    assert isinstance(msg["token"], str) and len(msg["token"]) >= 16, msg
    if redirect is not None:
        assert msg["url"] == _link(redirect, msg["token"]), msg["url"]
    return resp, msg


def _token(client, srv, org_id: str, email: str, **kwargs) -> str:
    return _start(client, srv, org_id, email, **kwargs)[1]["token"]


def _pkce():
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _raw(srv, http, path: str, body: Dict[str, Any]):
    return http.post(srv.api(path), auth=(srv.project.project_id, srv.project.secret), headers=JSON_HEADERS,
                     data=json.dumps(body))


def _assert_full_session(resp, member_id: str, org_id: str, before: datetime.datetime) -> None:
    assert resp.member_authenticated is True
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt.count(".") == 2
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None
    s = resp.member_session
    assert s is not None and s.member_session_id
    assert s.member_id == member_id and s.organization_id == org_id
    kinds = [(f.type, f.delivery_method) for f in s.authentication_factors]
    assert ("password", "knowledge") in kinds, kinds
    pw = [f for f in s.authentication_factors if f.type == "password"][0]
    assert pw.last_authenticated_at is not None and pw.last_authenticated_at >= before - datetime.timedelta(seconds=5)


def _assert_mfa_pending(resp, member_id: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id == member_id
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.mfa_required is not None
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.member_session is None


@pytest.fixture
def default_redirect_server(latch_server_factory):
    return latch_server_factory(LATCH_DEFAULT_RESET_PASSWORD_REDIRECT_URL=DEFAULT_REDIRECT)


@pytest.fixture
def lockout_server(latch_server_factory):
    return latch_server_factory(LATCH_PASSWORD_MAX_FAILURES=str(MAX_FAILURES))


# ---------------------------------------------------------------- email/reset/start


def test_reset_start_response_and_email(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    resp, msg = _start(client, server, org.organization_id, m.email_address)
    assert resp.member_id == m.member_id
    assert isinstance(resp.member_email_id, str) and resp.member_email_id
    assert resp.member.member_id == m.member_id and resp.member.email_address == m.email_address
    assert resp.member.member_password_id == m.member_password_id, "reset_start changes nothing yet"

    assert msg["locale"] == "en", msg
    assert org.organization_name in msg["subject"], msg["subject"]
    assert msg["url"] in msg["text"], msg["text"]
    assert "30" in msg["text"], f"default link lifetime is 30 minutes: {msg['text']!r}"
    assert msg["url"] in msg["html"] or html_lib.escape(msg["url"]) in msg["html"], msg["html"]
    assert msg["token"] in msg["html"]

    # No session, and the current password still works until the link is used.
    assert _session_ids(client, org.organization_id, m.member_id) == []
    assert _password_works(client, org.organization_id, m.email_address, OLD)


def test_reset_start_raw_body_has_organization(server, client, http):
    """The response carries the organization too (the SDK model only exposes member fields)."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    r = _raw(server, http, "/v1/b2b/passwords/email/reset/start",
             {"organization_id": org.organization_id, "email_address": m.email_address, "reset_password_redirect_url": REDIRECT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 200 and body["request_id"]
    assert body["member_id"] == m.member_id and body["member_email_id"]
    assert body["member"]["member_id"] == m.member_id
    assert body["organization"]["organization_id"] == org.organization_id


def test_reset_start_by_slug_and_email_case(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    before = len(_outbox(server, m.email_address))
    resp = ok(client.passwords.email.reset_start(organization_id=org.organization_slug, email_address=m.email_address.upper(),
                                                 reset_password_redirect_url=REDIRECT))
    assert resp.member_id == m.member_id
    assert len(_outbox(server, m.email_address)) == before + 1


def test_reset_start_redirect_with_query_is_joined_with_ampersand(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    redirect = "https://app.example.com/reset?next=%2Fhome&tenant=acme"
    _resp, msg = _start(client, server, org.organization_id, m.email_address, redirect=redirect)
    assert msg["url"] == f"{redirect}&{LINK_PARAMS}{msg['token']}", msg["url"]


def test_reset_start_locales(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    seen = {}
    for locale in ("en", "es", "fr", "pt-br"):
        _resp, msg = _start(client, server, org.organization_id, m.email_address, locale=locale)
        assert msg["locale"] == locale, msg
        assert org.organization_name in msg["subject"], msg
        assert msg["url"] in msg["text"], msg
        # Compare the wording, not the (per-message) link.
        strip = lambda s: s.replace(msg["url"], "").replace(html_lib.escape(msg["url"]), "").replace(msg["token"], "")  # noqa: E731
        seen[locale] = (msg["subject"], strip(msg["text"]), strip(msg["html"]))
    for i, part in enumerate(("subject", "text", "html")):
        values = [v[i] for v in seen.values()]
        assert len(set(values)) == 4, f"each language has its own {part}: {values}"


def test_reset_email_html_escapes_the_organization_name(server, client):
    name = f"Smith & <b>Jones</b> {h.token()}"
    org = h.create_org(client, organization_name=name)
    m = _with_password(client, org.organization_id)
    _resp, msg = _start(client, server, org.organization_id, m.email_address)
    assert name in msg["subject"] and name in msg["text"], msg
    assert html_lib.escape(name, quote=False) in msg["html"], msg["html"]
    assert "<b>Jones</b>" not in msg["html"], msg["html"]


def test_reset_start_expiration_bounds_are_inclusive(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    for minutes in (5, 10080):
        _resp, msg = _start(client, server, org.organization_id, m.email_address, reset_password_expiration_minutes=minutes)
        assert str(minutes) in msg["text"], msg["text"]
    # The last link works.
    resp = ok(client.passwords.email.reset(password_reset_token=msg["token"], password=NEW))
    assert resp.member_authenticated is True


def test_reset_start_refusals_send_nothing(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    email = m.email_address
    base = dict(organization_id=org.organization_id, email_address=email)
    start = client.passwords.email.reset_start
    expect_error(400, "invalid_locale", start, **base, reset_password_redirect_url=REDIRECT, locale="xx-yy")
    expect_error(400, "no_reset_password_redirect_url", start, **base)
    for minutes in (4, 0, -1, 10081):
        expect_error(400, "invalid_expiration", start, **base, reset_password_redirect_url=REDIRECT,
                     reset_password_expiration_minutes=minutes)
    for bad in ("javascript:alert(1)", "ftp://files.example.com/reset", "not a url"):
        expect_error(400, "invalid_argument", start, **base, reset_password_redirect_url=bad)
    ghost = _mail("ghost")
    expect_error(404, "member_not_found", start, organization_id=org.organization_id, email_address=ghost,
                 reset_password_redirect_url=REDIRECT)
    # A member of another organization is not found through this one.
    other = h.create_org(client)
    expect_error(404, "member_not_found", start, organization_id=other.organization_id, email_address=email,
                 reset_password_redirect_url=REDIRECT)
    assert _outbox(server, email) == []
    assert _outbox(server, ghost) == []
    assert _password_works(client, org.organization_id, email, OLD)


def test_reset_emails_are_capped_per_recipient(server, client):
    """Security review finding 9: the per-recipient cap of one-time codes (10 per 10 minutes)
    holds for reset links too; the refused request stores and sends nothing."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    for _ in range(SENDS_PER_RECIPIENT):
        _start(client, server, org.organization_id, m.email_address)
    expect_error(429, "too_many_requests", client.passwords.email.reset_start, organization_id=org.organization_id,
                 email_address=m.email_address, reset_password_redirect_url=REDIRECT)
    msgs = _outbox(server, m.email_address)
    assert len(msgs) == SENDS_PER_RECIPIENT, "the refused reset_start sent nothing"
    # The last link sent still works; another member of the organization is not affected.
    ok(client.passwords.email.reset(password_reset_token=msgs[0]["token"], password=NEW))
    other = _with_password(client, org.organization_id)
    _start(client, server, org.organization_id, other.email_address)


def test_default_redirect_from_server_setting(default_redirect_server):
    srv = default_redirect_server
    c = _client(srv)
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    _resp, msg = _start(c, srv, org.organization_id, m.email_address, redirect=None)
    assert msg["url"] == f"{DEFAULT_REDIRECT}?{LINK_PARAMS}{msg['token']}", msg["url"]
    # An explicit redirect still wins.
    _resp, msg2 = _start(c, srv, org.organization_id, m.email_address, redirect=REDIRECT)
    assert msg2["url"].startswith(REDIRECT + "?"), msg2["url"]
    ok(c.passwords.email.reset(password_reset_token=msg2["token"], password=NEW))
    assert _password_works(c, org.organization_id, m.email_address, NEW)


# ---------------------------------------------------------------- redirect URL allow-list

# Each is refused against an allow-list holding REDIRECT (and https://app.example.com/reset).
NOT_ALLOWED = [
    "https://attacker.example/steal?x=1",
    "https://app.example.com.evil.test/reset-password",  # look-alike host
    "https://app.example.com/reset-password/evil",  # another path
    "https://app.example.com/",
    "http://app.example.com/reset-password",  # another scheme
    "https://app.example.com:8443/reset-password",  # another port
    "http://localhost:3000/reset-password",  # loopback is allowed only in the development project
]


def test_reset_start_refuses_redirect_urls_not_on_the_allow_list(server, client):
    """Security review finding 8: the link carries a one-time token to whoever serves the URL, so
    only the project's allowed URLs are accepted; a refusal stores and sends nothing."""
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    _resp, first = _start(client, server, org.organization_id, m.email_address)
    start = client.passwords.email.reset_start
    base = dict(organization_id=org.organization_id, email_address=m.email_address)
    for bad in NOT_ALLOWED:
        expect_error(400, "invalid_reset_password_redirect_url", start, **base, reset_password_redirect_url=bad)
    expect_error(400, "invalid_login_redirect_url", start, **base, reset_password_redirect_url=REDIRECT,
                 login_redirect_url="https://attacker.example/login")
    # Refused as malformed: a fragment, or user info (`app.example.com@evil.test` goes to evil.test).
    for bad in ("https://app.example.com/reset-password#frag", "https://app.example.com@evil.test/reset-password"):
        expect_error(400, "invalid_argument", start, **base, reset_password_redirect_url=bad)
    assert len(_outbox(server, m.email_address)) == 1, "a refused reset_start sends nothing"
    # Nothing was stored either: the first link is still the live one.
    ok(client.passwords.email.reset(password_reset_token=first["token"], password=NEW))
    # The query string may differ from the allowed entry's.
    _start(client, server, org.organization_id, m.email_address, redirect=f"{REDIRECT}?tenant=acme&next=%2F")


def test_redirect_urls_are_per_project(server, client, other_project):
    """The bootstrap project's URLs are its own: a project created with `latch project create`
    has none, so it must be configured before its reset links can point anywhere."""
    _p, other = other_project
    org = h.create_org(other)
    m = _with_password(other, org.organization_id)
    start = other.passwords.email.reset_start
    base = dict(organization_id=org.organization_id, email_address=m.email_address)
    expect_error(400, "invalid_reset_password_redirect_url", start, **base, reset_password_redirect_url=REDIRECT)
    expect_error(400, "no_reset_password_redirect_url", start, **base)
    assert _outbox_of(server, _p, m.email_address) == []


def test_development_project_allows_loopback_urls(server):
    """The project `serve` creates on an empty database (named "development") allows
    http://localhost and http://127.0.0.1 on any port, like Stytch's test environments."""
    res = server.cli("project", "create", "--name", "development")
    assert res.returncode == 0, res.stderr
    p = json.loads(res.stdout)
    c = h.make_client(server.url, p["project_id"], p["secret"])
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    for url in ("http://localhost:3000/reset", "http://127.0.0.1:5173/auth/reset?x=1", "http://localhost/r"):
        ok(c.passwords.email.reset_start(organization_id=org.organization_id, email_address=m.email_address,
                                         reset_password_redirect_url=url))
    expect_error(400, "invalid_reset_password_redirect_url", c.passwords.email.reset_start,
                 organization_id=org.organization_id, email_address=m.email_address,
                 reset_password_redirect_url="https://attacker.example/reset")
    expect_error(400, "no_reset_password_redirect_url", c.passwords.email.reset_start,
                 organization_id=org.organization_id, email_address=m.email_address)


def test_redirect_urls_from_the_configuration_file(latch_server_factory, tmp_path_factory):
    """`[[redirect_urls]]` without a project_id applies to every project; `default_types` makes it
    the URL of requests that name none; `types` limits what it may be used for."""
    cfg = tmp_path_factory.mktemp("redirect-cfg") / "latch.toml"
    cfg.write_text(
        '[[redirect_urls]]\nurl = "https://tenant.example.com/pw"\n'
        'types = ["reset_password"]\ndefault_types = ["reset_password"]\n'
        '[[redirect_urls]]\nurl = "https://tenant.example.com/discover"\ntypes = ["discovery"]\n'
    )
    srv = latch_server_factory(LATCH_CONFIG=str(cfg))
    c = _client(srv)
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    _resp, msg = _start(c, srv, org.organization_id, m.email_address, redirect=None)
    assert msg["url"] == _link("https://tenant.example.com/pw", msg["token"]), msg["url"]
    # The bootstrap project's own URLs still apply next to the file's.
    _start(c, srv, org.organization_id, m.email_address, redirect=REDIRECT)
    expect_error(400, "invalid_reset_password_redirect_url", c.passwords.email.reset_start,
                 organization_id=org.organization_id, email_address=m.email_address,
                 reset_password_redirect_url="https://tenant.example.com/discover")


def test_second_reset_start_invalidates_the_first_link(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _token(client, server, org.organization_id, m.email_address)
    second = _token(client, server, org.organization_id, m.email_address)
    assert first != second
    expect_error(404, "unable_to_auth_password_reset_token", client.passwords.email.reset,
                 password_reset_token=first, password=NEW)
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    ok(client.passwords.email.reset(password_reset_token=second, password=NEW))
    assert _password_works(client, org.organization_id, m.email_address, NEW)


# ---------------------------------------------------------------- email/reset


def test_reset_by_email_signs_in_and_revokes_every_earlier_session(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s1 = _login(client, org.organization_id, m.email_address)
    s2 = _login(client, org.organization_id, m.email_address)
    start, msg = _start(client, server, org.organization_id, m.email_address)
    before = _now()
    resp = ok(client.passwords.email.reset(password_reset_token=msg["token"], password=NEW))
    _assert_full_session(resp, m.member_id, org.organization_id, before)
    assert resp.organization_id == org.organization_id
    assert resp.member_email_id == start.member_email_id
    assert resp.member.email_address_verified is True
    assert resp.member.member_password_id, "the member has a password"
    assert resp.member_session.member_session_id not in (s1.member_session.member_session_id, s2.member_session.member_session_id)

    for old in (s1, s2):
        _dead(client, old.session_token)
    assert _alive(client, resp.session_token)
    jwt_session = ok(client.sessions.authenticate(session_jwt=resp.session_jwt)).member_session
    assert jwt_session.member_session_id == resp.member_session.member_session_id
    assert _session_ids(client, org.organization_id, m.member_id) == [resp.member_session.member_session_id]

    _password_refused(client, org.organization_id, m.email_address, OLD)
    assert _password_works(client, org.organization_id, m.email_address, NEW)
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got.member_password_id == resp.member.member_password_id


def test_reset_sets_a_first_password_and_verifies_the_email(server, client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail("first"))
    assert m.email_address_verified is False and m.member_password_id == ""
    tok = _token(client, server, org.organization_id, m.email_address)
    resp = ok(client.passwords.email.reset(password_reset_token=tok, password=NEW))
    assert resp.member_authenticated is True
    assert resp.member.email_address_verified is True
    assert resp.member.member_password_id
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got.email_address_verified is True and got.member_password_id == resp.member.member_password_id
    assert _password_works(client, org.organization_id, m.email_address, NEW)


def test_reset_session_duration_and_custom_claims(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    tok = _token(client, server, org.organization_id, m.email_address)
    before = _now()
    resp = ok(client.passwords.email.reset(password_reset_token=tok, password=NEW, session_duration_minutes=120,
                                           session_custom_claims={"team": "blue", "level": 2}))
    exp = resp.member_session.expires_at
    assert before + datetime.timedelta(minutes=119) <= exp <= _now() + datetime.timedelta(minutes=121), exp
    assert resp.member_session.custom_claims == {"team": "blue", "level": 2}


def test_reset_token_is_single_use_and_garbage_is_refused(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    tok = _token(client, server, org.organization_id, m.email_address)
    first = ok(client.passwords.email.reset(password_reset_token=tok, password=NEW))
    e1 = expect_error(404, "unable_to_auth_password_reset_token", client.passwords.email.reset,
                      password_reset_token=tok, password=NEW2)
    e2 = expect_error(404, "unable_to_auth_password_reset_token", client.passwords.email.reset,
                      password_reset_token=secrets.token_urlsafe(32), password=NEW2)
    assert e1.error_message == e2.error_message, "a used token and an unknown one look alike"
    # The refused reuse changed nothing: the password and the session from the first reset stand.
    assert _password_works(client, org.organization_id, m.email_address, NEW)
    _password_refused(client, org.organization_id, m.email_address, NEW2)
    assert _alive(client, first.session_token)


def test_reset_token_of_another_project_is_refused(server, client, other_project):
    _p, other = other_project
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    tok = _token(client, server, org.organization_id, m.email_address)
    expect_error(404, "unable_to_auth_password_reset_token", other.passwords.email.reset,
                 password_reset_token=tok, password=NEW)
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    ok(client.passwords.email.reset(password_reset_token=tok, password=NEW))


def test_pkce_refusals_do_not_consume_the_token(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    verifier, challenge = _pkce()
    tok = _token(client, server, org.organization_id, m.email_address, code_challenge=challenge)
    reset = client.passwords.email.reset
    expect_error(400, "pkce_expected_code_verifier", reset, password_reset_token=tok, password=NEW)
    expect_error(400, "pkce_mismatch", reset, password_reset_token=tok, password=NEW, code_verifier=_pkce()[0])
    expect_error(400, "pkce_mismatch", reset, password_reset_token=tok, password=NEW, code_verifier=challenge)
    # Nothing happened: old password, old session.
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    assert _alive(client, s.session_token)
    resp = ok(reset(password_reset_token=tok, password=NEW, code_verifier=verifier))
    assert resp.member_authenticated is True
    _dead(client, s.session_token)
    assert _password_works(client, org.organization_id, m.email_address, NEW)
    expect_error(404, "unable_to_auth_password_reset_token", reset, password_reset_token=tok, password=NEW2,
                 code_verifier=verifier)


def test_pkce_verifier_without_a_challenge(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    tok = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "pkce_did_not_expect_code_verifier", client.passwords.email.reset,
                 password_reset_token=tok, password=NEW, code_verifier=_pkce()[0])
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    ok(client.passwords.email.reset(password_reset_token=tok, password=NEW))
    assert _password_works(client, org.organization_id, m.email_address, NEW)


def test_reset_refuses_weak_and_leaked_passwords_without_consuming_the_token(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    tok = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "weak_password", client.passwords.email.reset, password_reset_token=tok, password=WEAK)
    for leaked in LEAKED:
        expect_error(400, "breached_password", client.passwords.email.reset, password_reset_token=tok, password=leaked)
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    for pw in (WEAK, *LEAKED):
        _password_refused(client, org.organization_id, m.email_address, pw)
    assert _alive(client, s.session_token), "a refused reset revokes nothing"
    ok(client.passwords.email.reset(password_reset_token=tok, password=NEW))
    assert _password_works(client, org.organization_id, m.email_address, NEW)


def test_reset_in_an_mfa_organization_asks_for_mfa(server, client):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    tok = _token(client, server, org.organization_id, m.email_address)
    resp = ok(client.passwords.email.reset(password_reset_token=tok, password=NEW, session_duration_minutes=120))
    _assert_mfa_pending(resp, m.member_id)
    assert resp.organization_id == org.organization_id
    assert _session_ids(client, org.organization_id, m.member_id) == [], "no session before MFA"
    # The password was changed all the same.
    _password_refused(client, org.organization_id, m.email_address, OLD)
    again = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address, password=NEW))
    _assert_mfa_pending(again, m.member_id)


# ---------------------------------------------------------------- email/require_reset


def test_require_reset_blocks_the_password_until_an_email_reset(server, client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    resp = ok(client.passwords.email.require_reset(email_address=m.email_address, organization_id=org.organization_id))
    assert resp.member_id == m.member_id
    assert resp.member is not None and resp.member.member_id == m.member_id
    assert resp.organization is not None and resp.organization.organization_id == org.organization_id
    expect_error(400, "member_reset_password", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=OLD)
    assert _session_ids(client, org.organization_id, m.member_id) == []

    tok = _token(client, server, org.organization_id, m.email_address)
    assert ok(client.passwords.email.reset(password_reset_token=tok, password=NEW)).member_authenticated is True
    assert _password_works(client, org.organization_id, m.email_address, NEW)
    _password_refused(client, org.organization_id, m.email_address, OLD)


def test_require_reset_applies_to_the_named_membership_only(client):
    a, b = h.create_org(client), h.create_org(client)
    email = _mail("twin")
    ma = _with_password(client, a.organization_id, email=email)
    mb = _with_password(client, b.organization_id, email=email)
    ok(client.passwords.email.require_reset(email_address=email, organization_id=a.organization_id))
    expect_error(400, "member_reset_password", client.passwords.authenticate,
                 organization_id=a.organization_id, email_address=email, password=OLD)
    assert _password_works(client, b.organization_id, email, OLD)
    # By member_id alone.
    resp = ok(client.passwords.email.require_reset(email_address=email, member_id=mb.member_id))
    assert resp.member_id == mb.member_id and resp.organization.organization_id == b.organization_id
    expect_error(400, "member_reset_password", client.passwords.authenticate,
                 organization_id=b.organization_id, email_address=email, password=OLD)
    assert ma.member_id != mb.member_id


def test_require_reset_unknown_email(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    expect_error(404, "member_not_found", client.passwords.email.require_reset,
                 email_address=_mail("ghost"), organization_id=org.organization_id)
    expect_error(404, "member_not_found", client.passwords.email.require_reset, email_address=_mail("ghost"))
    assert _password_works(client, org.organization_id, m.email_address, OLD)


def _as(session_token: str) -> RequireResetRequestOptions:
    return RequireResetRequestOptions(authorization=Authorization(session_token=session_token))


def test_require_reset_with_member_session_headers(client):
    org, foreign = h.create_org(client), h.create_org(client)
    target = _with_password(client, org.organization_id)
    plain = _with_password(client, org.organization_id)
    plain_s = _login(client, org.organization_id, plain.email_address)
    assert plain_s.member_session.roles == ["stytch_member"], plain_s.member_session.roles
    foreign_admin = _with_password(client, foreign.organization_id, roles=["stytch_admin"])
    foreign_s = _login(client, foreign.organization_id, foreign_admin.email_address)

    expect_error(*DENIED, client.passwords.email.require_reset, email_address=target.email_address,
                 organization_id=org.organization_id, method_options=_as(plain_s.session_token))
    expect_error(*TENANCY, client.passwords.email.require_reset, email_address=target.email_address,
                 organization_id=org.organization_id, method_options=_as(foreign_s.session_token))
    assert _password_works(client, org.organization_id, target.email_address, OLD), "refusals changed nothing"

    # Promote a member to stytch_admin, log in again: now allowed.
    admin = _with_password(client, org.organization_id)
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=admin.member_id, roles=["stytch_admin"]))
    admin_s = _login(client, org.organization_id, admin.email_address)
    assert "stytch_admin" in admin_s.member_session.roles, admin_s.member_session.roles
    resp = ok(client.passwords.email.require_reset(email_address=target.email_address, organization_id=org.organization_id,
                                                   method_options=_as(admin_s.session_token)))
    assert resp.member_id == target.member_id
    expect_error(400, "member_reset_password", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=target.email_address, password=OLD)


# ---------------------------------------------------------------- session/reset


@pytest.mark.parametrize("form", ["session_token", "session_jwt"])
def test_session_reset_keeps_the_session_and_revokes_the_others(client, form):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    other = _login(client, org.organization_id, m.email_address)
    mine = _login(client, org.organization_id, m.email_address)
    before = _now()
    resp = ok(client.passwords.sessions.reset(organization_id=org.organization_id, password=NEW,
                                              **{form: getattr(mine, form)}))
    assert resp.member_authenticated is True
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.organization.organization_id == org.organization_id
    assert resp.intermediate_session_token == ""
    assert resp.member_session is not None
    assert resp.member_session.member_session_id == mine.member_session.member_session_id, "the session is kept"
    assert resp.session_jwt.count(".") == 2
    if form == "session_token":
        assert resp.session_token == mine.session_token, "the presented token is echoed back"
    else:
        # README "Differences from Stytch": tokens are stored only as digests, so a session
        # presented by its JWT alone comes back with session_token "".
        assert resp.session_token == ""
    assert resp.member_session.expires_at >= before
    assert _alive(client, mine.session_token)
    jwt_session = ok(client.sessions.authenticate(session_jwt=resp.session_jwt)).member_session
    assert jwt_session.member_session_id == mine.member_session.member_session_id
    _dead(client, other.session_token)
    assert _session_ids(client, org.organization_id, m.member_id) == [mine.member_session.member_session_id]
    _password_refused(client, org.organization_id, m.email_address, OLD)
    assert _password_works(client, org.organization_id, m.email_address, NEW)


def test_session_reset_refusals(client):
    org, foreign = h.create_org(client), h.create_org(client)
    email = _mail("sr")
    m = _with_password(client, org.organization_id, email=email)
    s = _login(client, org.organization_id, email)
    other = _login(client, org.organization_id, email)
    # The same person's membership in another organization.
    _with_password(client, foreign.organization_id, email=email)
    fs = _login(client, foreign.organization_id, email)

    expect_error(400, "no_session_arguments", client.passwords.sessions.reset, organization_id=org.organization_id, password=NEW)
    expect_error(400, "session_organization_mismatch", client.passwords.sessions.reset,
                 organization_id=org.organization_id, password=NEW, session_token=fs.session_token)
    expect_error(400, "weak_password", client.passwords.sessions.reset,
                 organization_id=org.organization_id, password=WEAK, session_token=s.session_token)
    # Nothing changed in either organization.
    assert _password_works(client, org.organization_id, email, OLD)
    assert _password_works(client, foreign.organization_id, email, OLD)
    for live in (s, other, fs):
        assert _alive(client, live.session_token)
    assert len(_session_ids(client, org.organization_id, m.member_id)) >= 2


# ---------------------------------------------------------------- existing_password/reset


def test_existing_password_reset(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s1 = _login(client, org.organization_id, m.email_address)
    s2 = _login(client, org.organization_id, m.email_address)
    before = _now()
    resp = ok(client.passwords.existing_password.reset(email_address=m.email_address, existing_password=OLD, new_password=NEW,
                                                       organization_id=org.organization_id))
    _assert_full_session(resp, m.member_id, org.organization_id, before)
    assert resp.member_session.member_session_id not in (s1.member_session.member_session_id, s2.member_session.member_session_id)
    for old in (s1, s2):
        _dead(client, old.session_token)
    assert _alive(client, resp.session_token)
    assert _session_ids(client, org.organization_id, m.member_id) == [resp.member_session.member_session_id]
    _password_refused(client, org.organization_id, m.email_address, OLD)
    assert _password_works(client, org.organization_id, m.email_address, NEW)


def test_existing_password_reset_refusals(client):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    reset = client.passwords.existing_password.reset
    expect_error(401, "unauthorized_credentials", reset, email_address=m.email_address, existing_password=NEW2,
                 new_password=NEW, organization_id=org.organization_id)
    expect_error(401, "unauthorized_credentials", reset, email_address=_mail("ghost"), existing_password=OLD,
                 new_password=NEW, organization_id=org.organization_id)
    expect_error(400, "weak_password", reset, email_address=m.email_address, existing_password=OLD,
                 new_password=WEAK, organization_id=org.organization_id)
    assert _password_works(client, org.organization_id, m.email_address, OLD)
    for pw in (NEW, WEAK):
        _password_refused(client, org.organization_id, m.email_address, pw)
    assert _alive(client, s.session_token)


def test_existing_password_reset_in_an_mfa_organization(client):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    resp = ok(client.passwords.existing_password.reset(email_address=m.email_address, existing_password=OLD, new_password=NEW,
                                                       organization_id=org.organization_id))
    _assert_mfa_pending(resp, m.member_id)
    _password_refused(client, org.organization_id, m.email_address, OLD)


def test_existing_password_failures_count_toward_lockout(lockout_server):
    c = _client(lockout_server)
    org = h.create_org(c)
    m = _with_password(c, org.organization_id)
    for _ in range(MAX_FAILURES):
        expect_error(401, "unauthorized_credentials", c.passwords.existing_password.reset, email_address=m.email_address,
                     existing_password=NEW2, new_password=NEW, organization_id=org.organization_id)
    expect_error(429, "too_many_requests", c.passwords.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, password=OLD)
    expect_error(429, "too_many_requests", c.passwords.existing_password.reset, email_address=m.email_address,
                 existing_password=OLD, new_password=NEW, organization_id=org.organization_id)
    assert ok(c.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member.is_locked is True
    assert _session_ids(c, org.organization_id, m.member_id) == []


# ---------------------------------------------------------------- email/delete (raw HTTP)


def test_delete_password_by_email(server, client, http):
    a, b = h.create_org(client), h.create_org(client)
    email = _mail("del")
    ma = _with_password(client, a.organization_id, email=email)
    mb = _with_password(client, b.organization_id, email=email)
    r = _raw(server, http, "/v1/b2b/passwords/email/delete", {"email_address": email, "organization_id": a.organization_id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 200 and body["request_id"]
    assert body["member"]["member_id"] == ma.member_id
    assert body["member"]["member_password_id"] == ""
    got = ok(client.organizations.members.get(organization_id=a.organization_id, member_id=ma.member_id)).member
    assert got.member_password_id == ""
    _password_refused(client, a.organization_id, email, OLD)
    # The other organization's membership keeps its password.
    assert _password_works(client, b.organization_id, email, OLD)
    assert ok(client.organizations.members.get(organization_id=b.organization_id,
                                               member_id=mb.member_id)).member.member_password_id == mb.member_password_id


def test_delete_password_by_email_refusals(server, client, http):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    r = _raw(server, http, "/v1/b2b/passwords/email/delete", {"email_address": _mail("ghost"), "organization_id": org.organization_id})
    check_raw_error(r, 404, "member_not_found")
    r = _raw(server, http, "/v1/b2b/passwords/email/delete", {"organization_id": org.organization_id})
    check_raw_error(r, 400, "invalid_argument")
    assert _password_works(client, org.organization_id, m.email_address, OLD)
