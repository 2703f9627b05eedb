"""OAuth sign-in (oauth.md) with Google and Microsoft, against a real OpenID Provider standing in
for them: `oidc-provider` (npm, the certified Node.js implementation), one instance as "Google"
and one as "Microsoft" (whose access tokens live two seconds, so a token read must refresh).
Latch's settings point the providers' issuers at them (`[[oauth_providers]]`). The browser's part
is an HTTP client that follows redirects and submits the provider's login form; everything an
application does goes through the official Python SDK.

Flow: GET /v1/b2b/public/oauth/{provider}/start (or …/discovery/start) → provider → GET
/v1/b2b/public/oauth/{provider}/callback → the application's redirect URL with a one-time token →
oauth.authenticate (or oauth.discovery.authenticate).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from typing import Dict, Optional, Tuple

import pytest
import requests

import latch_helpers as h
from latch_helpers import expect_error, ok
from oidc_idp import browse, start_idp

REDIRECT = "https://app.example.com/reset"  # allowed for every type in the test projects
CLIENT_ID = "latch-oauth-tests"
CLIENT_SECRET = "oauth-client-secret-" + "y" * 32
CLIENT = {
    "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": ["http://127.0.0.1/v1/b2b/public/oauth/google/callback"],
}


@pytest.fixture(scope="module")
def google():
    idp = start_idp([CLIENT])
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def microsoft():
    idp = start_idp([CLIENT], ACCESS_TOKEN_TTL="2")
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def oauth_config(tmp_path_factory, google, microsoft):
    cfg = tmp_path_factory.mktemp("oauth-cfg") / "latch.toml"
    cfg.write_text("".join(
        f'[[oauth_providers]]\nprovider = "{name}"\nclient_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\nissuer = "{idp.issuer}"\n'
        for name, idp in (("google", google), ("microsoft", microsoft))
    ))
    return cfg


@pytest.fixture
def srv(latch_server_factory, oauth_config):
    # One server per backend for the module (the factory keeps it by its settings).
    return latch_server_factory(LATCH_CONFIG=str(oauth_config))


@pytest.fixture
def client(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


@pytest.fixture
def public_token(srv) -> str:
    out = srv.cli("project", "show", srv.project.project_id)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["public_token"]


def _domain() -> str:
    return h.unique_domain("oauth")


def _jit_org(client, domain: str, **kwargs):
    return h.create_org(client, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain], **kwargs)


def _browser() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def _start(srv, public_token: str, provider: str = "google", discovery: bool = False, **params):
    s = _browser()
    q = dict(public_token=public_token)
    if discovery:
        q["discovery_redirect_url"] = REDIRECT
    else:
        q.update(login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)
    q.update({k: v for k, v in params.items() if v is not None})
    path = f"/v1/b2b/public/oauth/{provider}/{'discovery/' if discovery else ''}start"
    return s, s.get(srv.api(path), params=q, allow_redirects=False, timeout=10)


def _login(srv, public_token: str, login: str, provider: str = "google", discovery: bool = False, **params):
    """The whole browser trip. Returns (browser, the callback's answer, the callback URL)."""
    s, r = _start(srv, public_token, provider, discovery, **params)
    assert r.status_code == 302, r.text
    assert r.json()["redirect_url"] == r.headers["Location"]
    callback = srv.api(f"/v1/b2b/public/oauth/{provider}/callback")
    at_callback = browse(s, r.headers["Location"], login, callback)
    assert at_callback.status_code in (302, 303), at_callback.text
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    return s, s.get(target, allow_redirects=False, timeout=10), target


def _token(answer: requests.Response, kind: str = "oauth") -> str:
    assert answer.status_code == 302, answer.text
    q = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)
    assert q["stytch_token_type"] == [kind], answer.headers["Location"]
    return q["token"][0]


def _error(answer: requests.Response, status: int, error_type: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error_type"] == error_type, body
    assert body["status_code"] == status and body["request_id"] and body["error_message"]


def _oauth_factor(session, provider: str = "google"):
    fs = [f for f in session.authentication_factors if f.type == "oauth"]
    assert len(fs) == 1, session.authentication_factors
    assert fs[0].delivery_method == f"oauth_{provider}"
    return getattr(fs[0], f"{provider}_oauth_factor")


def _members(client, org_id: str):
    return ok(client.organizations.members.search(organization_ids=[org_id])).members


# ---------------------------------------------------------------- organization login


def test_a_new_member_signs_up_with_google_where_the_domain_may_join(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    email = f"ada@{domain}"
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    resp = ok(client.oauth.authenticate(oauth_token=_token(answer), session_duration_minutes=30))
    assert resp.member_authenticated and resp.session_token and resp.session_jwt
    assert resp.intermediate_session_token == ""
    m = resp.member
    assert (m.email_address, m.status, m.email_address_verified) == (email, "active", True)
    assert m.name == "ada Test"
    assert resp.provider_type == "Google" and resp.provider_subject == email
    [reg] = m.oauth_registrations
    assert (reg.provider_type, reg.provider_subject) == ("Google", email)
    assert reg.member_oauth_registration_id.startswith("member-oauth-registration-test-")
    assert reg.profile_picture_url == "https://pictures.example.test/ada.png" and reg.locale == "en"
    factor = _oauth_factor(resp.member_session)
    assert factor.id == reg.member_oauth_registration_id and factor.provider_subject == email
    assert factor.email_id.startswith("member-email-test-") or factor.email_id.startswith("email-test-")
    pv = resp.provider_values
    assert pv.access_token and pv.refresh_token and pv.id_token.count(".") == 2
    assert set(pv.scopes) >= {"openid", "email", "profile"} and pv.expires_at is not None
    # The session is a session: it authenticates, and its JWT carries the factor.
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member.member_id == m.member_id
    assert [f.type for f in got.member_session.authentication_factors] == ["oauth"]
    # The member object carries the registration everywhere.
    again = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id))
    assert [r.member_oauth_registration_id for r in again.member.oauth_registrations] == [
        reg.member_oauth_registration_id]


def test_an_existing_member_logs_in_and_its_address_counts_as_verified(srv, client, public_token):
    org = h.create_org(client)  # no JIT: only existing members
    email = f"grace-{h.token()}@{_domain()}"
    member = h.create_member(client, org.organization_id, email)
    assert not member.email_address_verified
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id,
                               login_redirect_url="https://app.example.com/reset?flow=login",
                               signup_redirect_url=REDIRECT)
    landed = answer.headers["Location"]
    assert landed.startswith("https://app.example.com/reset?flow=login&"), "an existing member lands at login"
    first = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    assert first.member_id == member.member_id and first.member.email_address_verified
    # A second login updates the one registration.
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    second = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    assert [r.member_oauth_registration_id for r in second.member.oauth_registrations] == [
        r.member_oauth_registration_id for r in first.member.oauth_registrations]
    assert second.provider_values.access_token != first.provider_values.access_token


def test_the_organization_slug_locates_it(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    _, answer, _ = _login(srv, public_token, f"sluggy@{domain}", slug=org.organization_slug)
    assert ok(client.oauth.authenticate(oauth_token=_token(answer))).organization_id == org.organization_id


def test_without_jit_a_stranger_is_refused_and_nothing_is_written(srv, client, public_token):
    org = h.create_org(client)
    _, answer, _ = _login(srv, public_token, f"stranger@{_domain()}", organization_id=org.organization_id)
    _error(answer, 403, "email_jit_provisioning_not_allowed")
    assert _members(client, org.organization_id) == []


@pytest.mark.parametrize("login,provider,accepted", [
    ("victim+unverified@{d}", "google", False),  # the provider says it did not verify the address
    ("victim+silent@{d}", "google", False),      # the provider says nothing about it
    ("victim+silent@{d}", "microsoft", False),   # Microsoft's bare email claim proves nothing
    ("victim+edov@{d}", "microsoft", True),      # xms_edov: the domain owner verified it
    ("victim+edov@{d}", "google", False),        # xms_edov means nothing from Google
])
def test_only_a_verified_address_is_trusted(srv, client, public_token, login, provider, accepted):
    domain = _domain()
    org = _jit_org(client, domain)
    email = login.format(d=domain)
    _, answer, _ = _login(srv, public_token, email, provider=provider, organization_id=org.organization_id)
    if accepted:
        resp = ok(client.oauth.authenticate(oauth_token=_token(answer)))
        assert resp.member.email_address == email and resp.provider_type == "Microsoft"
        assert _oauth_factor(resp.member_session, "microsoft").provider_subject == email
    else:
        _error(answer, 400, "oauth_unverified_email")
        assert _members(client, org.organization_id) == []


def test_mfa_is_required_after_oauth_when_the_organization_says_so(srv, client, public_token):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    email = f"mfa-{h.token()}@{_domain()}"
    phone = f"+1202555{secrets.randbelow(10000):04d}"
    h.create_member(client, org.organization_id, email, mfa_phone_number=phone)
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    resp = ok(client.oauth.authenticate(oauth_token=_token(answer), session_duration_minutes=30))
    assert not resp.member_authenticated
    assert resp.intermediate_session_token and resp.session_token == "" and resp.member_session is None
    assert resp.mfa_required.secondary_auth_initiated == "sms_otp"
    with h.TimeoutSession() as s:
        msgs = s.get(srv.api("/latch/v1/outbox"), params={"recipient": phone},
                     auth=(srv.project.project_id, srv.project.secret)).json()["messages"]
    done = ok(client.otps.sms.authenticate(organization_id=org.organization_id, member_id=resp.member_id,
                                           code=msgs[0]["code"],
                                           intermediate_session_token=resp.intermediate_session_token))
    assert sorted(f.type for f in done.member_session.authentication_factors) == ["oauth", "otp"]


def test_auth_method_restrictions_apply(srv, client, public_token):
    email = f"restricted-{h.token()}@{_domain()}"
    only_password = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    h.create_member(client, only_password.organization_id, email)
    _, answer, _ = _login(srv, public_token, email, organization_id=only_password.organization_id)
    resp = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    assert not resp.member_authenticated and resp.primary_required is not None
    google_ok = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["google_oauth"])
    h.create_member(client, google_ok.organization_id, email)
    _, answer, _ = _login(srv, public_token, email, organization_id=google_ok.organization_id)
    assert ok(client.oauth.authenticate(oauth_token=_token(answer))).member_authenticated
    # Microsoft is another method (its test accounts prove their address through xms_edov).
    microsoft_email = email.replace("@", "+edov@")
    h.create_member(client, google_ok.organization_id, microsoft_email)
    _, answer, _ = _login(srv, public_token, microsoft_email, provider="microsoft",
                          organization_id=google_ok.organization_id)
    other = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    assert not other.member_authenticated and other.primary_required is not None


def test_a_session_token_adds_the_factor(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    email = f"stack@{domain}"
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    first = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    second = ok(client.oauth.authenticate(oauth_token=_token(answer), session_token=first.session_token))
    assert second.member_session.member_session_id == first.member_session.member_session_id


def test_the_provider_moving_a_member_to_a_new_address_moves_it(srv, client, public_token, google):
    domain = _domain()
    org = _jit_org(client, domain)
    subject = f"mover-{h.token()}@{domain}"
    _, answer, _ = _login(srv, public_token, subject, organization_id=org.organization_id)
    first = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    new = f"moved-{h.token()}@{domain}"
    with _browser() as s:
        assert s.post(f"{google.issuer}/test/email", params={"sub": subject, "email": new}).status_code == 204
    _, answer, _ = _login(srv, public_token, subject, organization_id=org.organization_id)
    moved = ok(client.oauth.authenticate(oauth_token=_token(answer), session_token=first.session_token))
    assert moved.member_id == first.member_id and moved.member.email_address == new
    assert [r.email_address for r in moved.member.retired_email_addresses] == [subject]
    assert moved.member_session.member_session_id != first.member_session.member_session_id
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=first.session_token)


# ---------------------------------------------------------------- tokens and PKCE


def test_a_token_is_single_use_and_of_its_own_project_and_flow(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    _, answer, _ = _login(srv, public_token, f"once@{domain}", organization_id=org.organization_id)
    token = _token(answer)
    other = srv.create_project()
    other_client = h.make_client(srv.url, other.project_id, other.secret)
    expect_error(404, "oauth_token_not_found", other_client.oauth.authenticate, oauth_token=token)
    expect_error(404, "oauth_token_not_found", client.oauth.discovery.authenticate, discovery_oauth_token=token)
    ok(client.oauth.authenticate(oauth_token=token))
    expect_error(404, "oauth_token_not_found", client.oauth.authenticate, oauth_token=token)
    expect_error(404, "oauth_token_not_found", client.oauth.authenticate, oauth_token="x" * 64)
    expect_error(404, "oauth_token_not_found", client.oauth.authenticate, oauth_token="x" * 5000)


def test_pkce_binds_the_token_to_the_application_that_started(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    _, answer, _ = _login(srv, public_token, f"pkce@{domain}", organization_id=org.organization_id,
                          pkce_code_challenge=challenge)
    token = _token(answer)
    expect_error(400, "pkce_expected_code_verifier", client.oauth.authenticate, oauth_token=token)
    expect_error(400, "pkce_mismatch", client.oauth.authenticate, oauth_token=token,
                 pkce_code_verifier=secrets.token_urlsafe(48))
    ok(client.oauth.authenticate(oauth_token=token, pkce_code_verifier=verifier))


# ---------------------------------------------------------------- the trip


def test_the_start_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(srv, client, public_token,
                                                                                google):
    org = h.create_org(client)
    s, r = _start(srv, public_token, organization_id=org.organization_id, custom_scopes="address phone",
                  provider_prompt="consent", provider_login_hint="ada@x.test", provider_state="forged",
                  provider_client_id="other")
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(google.issuer)
    q = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)
    assert q["client_id"] == [CLIENT_ID], "a pass-through parameter never replaces Latch's own"
    assert q["redirect_uri"] == [srv.api("/v1/b2b/public/oauth/google/callback")]
    assert q["state"] != ["forged"] and q["nonce"][0] and q["code_challenge_method"] == ["S256"]
    assert set(q["scope"][0].split()) == {"openid", "email", "profile", "address", "phone"}
    assert q["prompt"] == ["consent"] and q["login_hint"] == ["ada@x.test"]
    cookie = r.headers["Set-Cookie"]
    assert "latch_oauth=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/v1/b2b/public/oauth/google/callback" in cookie


@pytest.mark.parametrize("params,status,error", [
    (dict(public_token="public-token-test-nope"), 401, "invalid_public_token"),
    (dict(organization_id=None), 400, "missing_oauth_organization_locator"),
    (dict(slug="x"), 400, "too_many_oauth_organization_locators"),
    (dict(organization_id="organization-test-missing"), 404, "organization_not_found"),
    (dict(login_redirect_url="https://evil.example.net/steal"), 400, "invalid_login_redirect_url"),
    (dict(signup_redirect_url="https://evil.example.net/steal"), 400, "invalid_signup_redirect_url"),
    (dict(pkce_code_challenge="c" * 500), 400, "invalid_argument"),
])
def test_a_bad_start_is_refused(srv, client, public_token, params, status, error):
    org = h.create_org(client)
    full = dict(organization_id=org.organization_id)
    full.update(params)
    token = full.pop("public_token", public_token)
    _, r = _start(srv, token, **{k: v for k, v in full.items()})
    _error(r, status, error)


def test_unknown_and_unconfigured_providers(srv, client, public_token, latch_server_factory, tmp_path_factory,
                                            google):
    org = h.create_org(client)
    _, r = _start(srv, public_token, provider="myspace", organization_id=org.organization_id)
    _error(r, 400, "invalid_oauth_provider")
    # A server that signs in only with Google.
    cfg = tmp_path_factory.mktemp("oauth-google-only") / "latch.toml"
    cfg.write_text(f'[[oauth_providers]]\nprovider = "google"\nclient_id = "{CLIENT_ID}"\n'
                   f'client_secret = "{CLIENT_SECRET}"\nissuer = "{google.issuer}"\n')
    only = latch_server_factory(LATCH_CONFIG=str(cfg))
    only_client = h.make_client(only.url, only.project.project_id, only.project.secret)
    out = only.cli("project", "show", only.project.project_id)
    only_org = h.create_org(only_client)
    _, r = _start(only, json.loads(out.stdout)["public_token"], provider="microsoft",
                  organization_id=only_org.organization_id)
    _error(r, 400, "oauth_config_not_found")


def test_the_callback_takes_a_state_once_and_only_from_the_browser_that_started(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    s, r = _start(srv, public_token, organization_id=org.organization_id)
    callback = srv.api("/v1/b2b/public/oauth/google/callback")
    at_callback = browse(s, r.headers["Location"], f"twice@{domain}", callback)
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    # Another browser (no binding cookie) with the very same URL: refused, and the state is spent.
    _error(_browser().get(target, allow_redirects=False, timeout=10), 400, "oauth_invalid_state")
    _error(s.get(target, allow_redirects=False, timeout=10), 400, "oauth_invalid_state")
    # A state started for Google is not Microsoft's.
    s, r = _start(srv, public_token, organization_id=org.organization_id)
    at_callback = browse(s, r.headers["Location"], f"cross@{domain}", callback)
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    cross = target.replace("/oauth/google/callback", "/oauth/microsoft/callback")
    _error(s.get(cross, allow_redirects=False, timeout=10, cookies={"latch_oauth": s.cookies.get("latch_oauth")}),
           400, "oauth_invalid_state")
    # No state, a made-up state, a provider's error.
    for q in ({"code": "x"}, {"code": "x", "state": "made-up"}):
        _error(s.get(callback, params=q, allow_redirects=False, timeout=10), 400, "oauth_invalid_state")
    _error(s.get(callback, params={"error": "access_denied", "state": "x"}, allow_redirects=False, timeout=10),
           401, "oauth_flow_callback_error")
    assert _members(client, org.organization_id) == []


def test_a_replayed_code_is_refused_by_the_provider(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    s, r = _start(srv, public_token, organization_id=org.organization_id)
    callback = srv.api("/v1/b2b/public/oauth/google/callback")
    at_callback = browse(s, r.headers["Location"], f"code@{domain}", callback)
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    code = urllib.parse.parse_qs(urllib.parse.urlparse(target).query)["code"][0]
    assert s.get(target, allow_redirects=False, timeout=10).status_code == 302
    # The same code with a fresh trip of this browser: the provider refuses it.
    s2, r2 = _start(srv, public_token, organization_id=org.organization_id)
    state2 = urllib.parse.parse_qs(urllib.parse.urlparse(r2.headers["Location"]).query)["state"][0]
    replay = s2.get(callback, params={"code": code, "state": state2}, allow_redirects=False, timeout=10)
    _error(replay, 401, "oauth_auth_code_error")


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_organizations_and_exchanges_into_one(srv, client, public_token):
    domain = _domain()
    email = f"disc-{h.token()}@{domain}"
    member_org = h.create_org(client)
    h.create_member(client, member_org.organization_id, email)
    joinable = _jit_org(client, domain)
    # The JIT organization is eligible only once a verified member of the domain exists there.
    _, answer, _ = _login(srv, public_token, f"first@{domain}", organization_id=joinable.organization_id)
    ok(client.oauth.authenticate(oauth_token=_token(answer)))

    _, answer, _ = _login(srv, public_token, email, discovery=True)
    assert answer.headers["Location"].startswith(REDIRECT + "?stytch_token_type=discovery_oauth&token=")
    resp = ok(client.oauth.discovery.authenticate(discovery_oauth_token=_token(answer, "discovery_oauth")))
    assert resp.email_address == email and resp.intermediate_session_token
    assert resp.provider_type == "Google" and resp.provider_tenant_ids == [] and resp.provider_tenant_id == ""
    assert resp.full_name.endswith(" Test")
    kinds = {d.organization.organization_id: d.membership.type for d in resp.discovered_organizations}
    assert kinds[member_org.organization_id] == "active_member"
    assert kinds[joinable.organization_id] == "eligible_to_join_by_email_domain"
    done = ok(client.discovery.intermediate_sessions.exchange(
        intermediate_session_token=resp.intermediate_session_token, organization_id=member_org.organization_id))
    assert done.member_authenticated
    factor = _oauth_factor(done.member_session)
    assert factor.provider_subject == email
    joined = ok(client.discovery.intermediate_sessions.exchange(
        intermediate_session_token=ok(client.oauth.discovery.authenticate(
            discovery_oauth_token=_token(_login(srv, public_token, email, discovery=True)[1], "discovery_oauth"),
        )).intermediate_session_token,
        organization_id=joinable.organization_id))
    assert joined.member.email_address == email and joined.member.email_address_verified


def test_a_discovery_start_checks_its_redirect_url(srv, public_token):
    _, r = _start(srv, public_token, discovery=True, discovery_redirect_url="https://evil.example.net/x")
    _error(r, 400, "invalid_discovery_redirect_url")


# ---------------------------------------------------------------- provider tokens


def test_the_member_reads_its_google_tokens(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    _, answer, _ = _login(srv, public_token, f"tokens@{domain}", organization_id=org.organization_id)
    login = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    read = ok(client.organizations.members.oauth_providers.google(
        organization_id=org.organization_id, member_id=login.member_id))
    assert read.provider_type == "Google" and read.provider_subject == f"tokens@{domain}"
    assert read.access_token == login.provider_values.access_token
    assert read.id_token == login.provider_values.id_token and read.refresh_token is None
    assert 3000 < read.access_token_expires_in <= 3600
    assert set(read.scopes) >= {"openid", "email"}
    with_refresh = ok(client.organizations.members.oauth_providers.google(
        organization_id=org.organization_id, member_id=login.member_id, include_refresh_token=True))
    assert with_refresh.refresh_token == login.provider_values.refresh_token
    # No registration at the other providers.
    for read_other in (client.organizations.members.oauth_providers.microsoft,
                       client.organizations.members.oauth_providers.slack,
                       client.organizations.members.oauth_providers.github):
        expect_error(404, "oauth_registration_not_found", read_other,
                     organization_id=org.organization_id, member_id=login.member_id)
    # Another organization's member id is not found.
    other = h.create_org(client)
    expect_error(404, "member_not_found", client.organizations.members.oauth_providers.google,
                 organization_id=other.organization_id, member_id=login.member_id)


def test_an_expired_access_token_is_refreshed_on_read(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    _, answer, _ = _login(srv, public_token, f"refresh+edov@{domain}", provider="microsoft",
                          organization_id=org.organization_id)
    login = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    time.sleep(2.5)  # the Microsoft stand-in's access tokens live two seconds
    read = ok(client.organizations.members.oauth_providers.microsoft(
        organization_id=org.organization_id, member_id=login.member_id))
    assert read.provider_type == "Microsoft"
    assert read.access_token != login.provider_values.access_token, "refreshed"
    assert read.access_token_expires_in > 0 and read.id_token


def test_a_deleted_member_takes_its_registration_with_it(srv, client, public_token):
    domain = _domain()
    org = _jit_org(client, domain)
    email = f"gone@{domain}"
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    first = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=first.member_id))
    _, answer, _ = _login(srv, public_token, email, organization_id=org.organization_id)
    again = ok(client.oauth.authenticate(oauth_token=_token(answer)))
    assert again.member_id != first.member_id
    assert len(again.member.oauth_registrations) == 1
