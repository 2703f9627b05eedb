"""Enterprise SSO over OpenID Connect (sso.md), against a real OpenID Provider: `oidc-provider`
(npm, the certified Node.js implementation) started by this module with its development login
form. The browser's part is driven with an HTTP client that follows the redirects and submits the
provider's login form; everything an application does goes through the official Python SDK.

Connections: sso.oidc.create_connection/update_connection (issuer discovery), sso.get_connections,
sso.delete_connection. Login: GET /v1/public/sso/start → provider → GET
/v1/b2b/sso/callback/{connection_id} → the application's redirect URL with a one-time token →
sso.authenticate.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from typing import Any, Dict, Optional, Tuple

import pytest
import requests

import latch_helpers as h
from oidc_idp import browse, start_idp
from latch_helpers import expect_error, ok

REDIRECT = "https://app.example.com/reset"  # allowed for every type in the test projects
CLIENT_ID = "latch-sso-tests"
CLIENT_SECRET = "client-secret-" + "x" * 32


# ---------------------------------------------------------------- the provider


@pytest.fixture(scope="module")
def idp():
    provider = start_idp([{
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        # Replaced by the provider script's allowance: any Latch callback on this machine.
        "redirect_uris": ["http://127.0.0.1/v1/b2b/sso/callback/placeholder"],
    }])
    yield provider
    provider.stop()


# ---------------------------------------------------------------- helpers


def _mail(local: str = "sso", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('sso')}"


def _public_token(server) -> str:
    out = server.cli("project", "show", server.project.project_id)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["public_token"]


def _connection(client, idp, org_id: str, **overrides):
    created = ok(client.sso.oidc.create_connection(organization_id=org_id, display_name="Acme IdP"))
    c = created.connection
    fields = dict(issuer=idp.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    fields.update(overrides)
    updated = ok(client.sso.oidc.update_connection(organization_id=org_id, connection_id=c.connection_id, **fields))
    return updated.connection


def _start(server, public_token: str, **params) -> Tuple[requests.Session, requests.Response]:
    s = requests.Session()
    s.trust_env = False
    q = dict(public_token=public_token, login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)
    q.update({k: v for k, v in params.items() if v is not None})
    r = s.get(server.api("/v1/public/sso/start"), params=q, allow_redirects=False, timeout=10)
    return s, r


def _login(server, idp, public_token: str, connection_id: str, login: str, **params):
    """The whole browser trip. Returns (session, the callback's answer)."""
    s, r = _start(server, public_token, connection_id=connection_id, **params)
    assert r.status_code == 302, r.text
    assert r.json()["redirect_url"] == r.headers["Location"]
    assert r.headers["Location"].startswith(idp.issuer)
    callback = server.api("/v1/b2b/sso/callback/")
    at_callback = browse(s, r.headers["Location"], login, callback)
    assert at_callback.status_code in (302, 303), at_callback.text
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    answer = s.get(target, allow_redirects=False, timeout=10)
    return s, answer, target


def _token(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    loc = answer.headers["Location"]
    q = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
    assert q["stytch_token_type"] == ["sso"], loc
    return q["token"][0]


def _sso_factor(session) -> Dict[str, Any]:
    fs = [f for f in session.authentication_factors if f.type == "sso"]
    assert len(fs) == 1, session.authentication_factors
    assert fs[0].delivery_method == "sso_oidc"
    return fs[0].oidc_sso_factor


# ---------------------------------------------------------------- connections


def test_a_new_connection_is_pending_with_a_callback_url(client, server):
    org = h.create_org(client)
    c = ok(client.sso.oidc.create_connection(organization_id=org.organization_id, display_name="IdP",
                                             identity_provider="okta")).connection
    assert c.status == "pending"
    assert c.connection_id.startswith("oidc-connection-test-")
    assert c.redirect_url == server.api(f"/v1/b2b/sso/callback/{c.connection_id}")
    assert (c.issuer, c.client_id, c.client_secret, c.jwks_url, c.identity_provider) == ("", "", "", "", "okta")
    got = ok(client.sso.get_connections(organization_id=org.organization_id))
    assert [x.connection_id for x in got.oidc_connections] == [c.connection_id]
    assert got.saml_connections == [] and got.external_connections == []
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert org_now.sso_active_connections == []
    assert org_now.sso_default_connection_id == c.connection_id, "the first connection is the default"


def test_the_issuer_fills_the_endpoints_and_activates_the_connection(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    assert c.status == "active"
    assert c.authorization_url.startswith(idp.issuer) and c.token_url.startswith(idp.issuer)
    assert c.jwks_url.startswith(idp.issuer) and c.userinfo_url.startswith(idp.issuer)
    assert c.client_secret == CLIENT_SECRET
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert [(a.connection_id, a.display_name) for a in org_now.sso_active_connections] == [(c.connection_id, "Acme IdP")]


def test_explicit_endpoints_win_and_an_unreadable_issuer_is_a_warning(client, idp):
    org = h.create_org(client)
    c = ok(client.sso.oidc.create_connection(organization_id=org.organization_id)).connection
    resp = ok(client.sso.oidc.update_connection(
        organization_id=org.organization_id, connection_id=c.connection_id,
        issuer="http://127.0.0.1:1/nothing-here", jwks_url="https://keys.example.test/jwks",
        custom_scopes="openid%20email%20groups", attribute_mapping={"department": "department"}))
    assert resp.warning, "the discovery failure is reported"
    assert resp.connection.status == "pending"
    assert resp.connection.jwks_url == "https://keys.example.test/jwks"
    assert resp.connection.custom_scopes == "openid email groups"
    assert resp.connection.attribute_mapping == {"department": "department"}


@pytest.mark.parametrize("field,value,error", [
    ("issuer", "ftp://idp.example.test", "oidc_connection_issuer_invalid_format"),
    ("issuer", "http://idp.example.test", "oidc_connection_issuer_invalid_format"),
    ("token_url", "not a url", "oidc_connection_token_url_invalid_format"),
    ("identity_provider", "myspace", "invalid_sso_idp"),
])
def test_bad_connection_values_are_refused_and_change_nothing(client, field, value, error):
    org = h.create_org(client)
    c = ok(client.sso.oidc.create_connection(organization_id=org.organization_id)).connection
    expect_error(400, error, client.sso.oidc.update_connection, organization_id=org.organization_id,
                 connection_id=c.connection_id, display_name="changed", **{field: value})
    again = ok(client.sso.get_connections(organization_id=org.organization_id)).oidc_connections[0]
    assert again.display_name == ""


def test_connections_of_another_organization_are_not_found(client, idp):
    a, b = h.create_org(client), h.create_org(client)
    c = _connection(client, idp, a.organization_id)
    expect_error(404, "sso_connection_not_found", client.sso.oidc.update_connection,
                 organization_id=b.organization_id, connection_id=c.connection_id, display_name="x")
    expect_error(404, "sso_connection_not_found", client.sso.delete_connection,
                 organization_id=b.organization_id, connection_id=c.connection_id)
    assert ok(client.sso.get_connections(organization_id=b.organization_id)).oidc_connections == []


def test_delete_removes_the_connection_from_the_organization(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    resp = ok(client.sso.delete_connection(organization_id=org.organization_id, connection_id=c.connection_id))
    assert resp.connection_id == c.connection_id
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert org_now.sso_active_connections == [] and org_now.sso_default_connection_id in (None, "")
    assert ok(client.sso.get_connections(organization_id=org.organization_id)).oidc_connections == []


def test_member_sessions_need_the_sso_actions(client, server):
    from stytch.b2b.models.sso import GetConnectionsRequestOptions
    from stytch.b2b.models.sso_oidc import CreateConnectionRequestOptions
    from stytch.shared.method_options import Authorization
    org = h.create_org(client)
    plain = h.create_member(client, org.organization_id, _mail("plain"))
    admin = h.create_member(client, org.organization_id, _mail("admin"), roles=["stytch_admin"])
    sessions = {}
    # Sessions by email OTP.
    for m in (plain, admin):
        ok(client.otps.email.login_or_signup(organization_id=org.organization_id, email_address=m.email_address))
        with h.TimeoutSession() as s:
            msgs = s.get(server.api("/latch/v1/outbox"), params={"recipient": m.email_address},
                         auth=(server.project.project_id, server.project.secret)).json()["messages"]
        sessions[m.member_id] = ok(client.otps.email.authenticate(
            organization_id=org.organization_id, email_address=m.email_address, code=msgs[0]["code"])).session_token
    as_plain = Authorization(session_token=sessions[plain.member_id])
    as_admin = Authorization(session_token=sessions[admin.member_id])
    expect_error(403, "session_authorization_error", client.sso.get_connections,
                 organization_id=org.organization_id, method_options=GetConnectionsRequestOptions(authorization=as_plain))
    expect_error(403, "session_authorization_error", client.sso.oidc.create_connection,
                 organization_id=org.organization_id,
                 method_options=CreateConnectionRequestOptions(authorization=as_plain))
    ok(client.sso.oidc.create_connection(organization_id=org.organization_id,
                                         method_options=CreateConnectionRequestOptions(authorization=as_admin)))
    assert len(ok(client.sso.get_connections(
        organization_id=org.organization_id,
        method_options=GetConnectionsRequestOptions(authorization=as_admin))).oidc_connections) == 1


# ---------------------------------------------------------------- signing in


def test_jit_sign_in_then_sign_in_again(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id, attribute_mapping={"department": "department"})
    pt = _public_token(server)
    login = _mail("jit")
    _, answer, _ = _login(server, idp, pt, c.connection_id, login)
    assert answer.headers["Location"].startswith(REDIRECT + "?")
    resp = ok(client.sso.authenticate(sso_token=_token(answer), session_duration_minutes=30))
    assert resp.member_authenticated and resp.session_token and resp.session_jwt
    assert resp.organization_id == org.organization_id
    m = resp.member
    assert (m.email_address, m.status, m.name) == (login, "active", login.split("@")[0] + " Test")
    assert m.trusted_metadata.get("department") == "dept-of-" + login.split("@")[0]
    assert [(r.connection_id, r.external_id) for r in m.sso_registrations] == [(c.connection_id, login)]
    reg = m.sso_registrations[0]
    assert reg.sso_attributes == {"department": "dept-of-" + login.split("@")[0]}
    f = _sso_factor(resp.member_session)
    assert (f.id, f.provider_id, f.external_id) == (reg.registration_id, c.connection_id, login)
    # The session checks out, and its JWT carries the factor.
    auth = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert auth.member.sso_registrations[0].registration_id == reg.registration_id
    # Again: the same member, no second registration.
    _, answer, _ = _login(server, idp, pt, c.connection_id, login)
    again = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert again.member_id == m.member_id
    assert len(again.member.sso_registrations) == 1


def test_an_existing_member_is_found_by_email_and_sent_to_the_login_url(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    email = _mail("known")
    member = h.create_member(client, org.organization_id, email)
    login_url = REDIRECT + "?next=login"
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, email,
                          login_redirect_url=login_url, signup_redirect_url=REDIRECT + "?next=signup")
    assert answer.headers["Location"].startswith(login_url + "&stytch_token_type=sso&token="), answer.headers
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert resp.member_id == member.member_id


def test_the_organization_default_connection_is_used_by_organization_locator(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    s, r = _start(server, _public_token(server), organization_id=org.organization_slug)
    assert r.status_code == 302, r.text
    q = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)
    assert q["client_id"] == [CLIENT_ID]
    assert q["redirect_uri"] == [server.api(f"/v1/b2b/sso/callback/{c.connection_id}")]
    assert q["code_challenge_method"] == ["S256"] and q["state"][0] and q["nonce"][0]
    assert set(q["scope"][0].split()) == {"openid", "email", "profile"}


def test_mfa_is_required_after_sso_when_the_organization_says_so(client, server, idp):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    c = _connection(client, idp, org.organization_id)
    email = _mail("mfa")
    phone = f"+1202555{secrets.randbelow(10000):04d}"
    h.create_member(client, org.organization_id, email, mfa_phone_number=phone)
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, email)
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert not resp.member_authenticated
    assert resp.intermediate_session_token and resp.session_token == "" and resp.member_session is None
    assert resp.mfa_required.secondary_auth_initiated == "sms_otp"
    with h.TimeoutSession() as s:
        msgs = s.get(server.api("/latch/v1/outbox"), params={"recipient": phone},
                     auth=(server.project.project_id, server.project.secret)).json()["messages"]
    done = ok(client.otps.sms.authenticate(organization_id=org.organization_id, member_id=resp.member_id,
                                           code=msgs[0]["code"],
                                           intermediate_session_token=resp.intermediate_session_token))
    kinds = sorted(f.type for f in done.member_session.authentication_factors)
    assert kinds == ["otp", "sso"], kinds


def test_primary_auth_restrictions_apply_to_sso(client, server, idp):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    c = _connection(client, idp, org.organization_id)
    email = _mail("restricted")
    h.create_member(client, org.organization_id, email)
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, email)
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert not resp.member_authenticated and resp.primary_required is not None


@pytest.mark.parametrize("setting,allowed", [("NOT_ALLOWED", False), ("RESTRICTED", False), ("RESTRICTED", True)])
def test_jit_provisioning_follows_the_organization(client, server, idp, setting, allowed):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    update = dict(sso_jit_provisioning=setting)
    if setting == "RESTRICTED":
        update["sso_jit_provisioning_allowed_connections"] = [c.connection_id] if allowed else []
    ok(client.organizations.update(organization_id=org.organization_id, **update))
    email = _mail("jitrule")
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, email)
    if allowed:
        assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email
    else:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error_type"] == "invalid_connection_for_jit_provisioning"
        found = ok(client.organizations.members.search(organization_ids=[org.organization_id]))
        assert [m.email_address for m in found.members] == []


def test_an_unverified_email_is_not_trusted(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    email = f"victim-{h.token()}@acme.test"
    h.create_member(client, org.organization_id, email)
    # The provider vouches for the address but says it is not verified: it must not reach the member.
    local, domain = email.split("@")
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, f"{local}+unverified@{domain}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_type"] == "oidc_response_unverified_email"


def test_an_id_token_from_another_issuer_is_refused(client, server, idp):
    org = h.create_org(client)
    # The endpoints are the provider's, but the connection expects another issuer.
    base = _connection(client, idp, org.organization_id)
    c = ok(client.sso.oidc.update_connection(organization_id=org.organization_id, connection_id=base.connection_id,
                                             issuer=idp.issuer + "/elsewhere",
                                             authorization_url=base.authorization_url, token_url=base.token_url,
                                             userinfo_url=base.userinfo_url, jwks_url=base.jwks_url)).connection
    assert c.status == "active"
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, _mail("iss"))
    assert answer.status_code == 401, answer.text
    assert answer.json()["error_type"] == "invalid_oidc_id_token"


def test_a_wrong_client_secret_fails_the_code_exchange(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id, client_secret="wrong-secret")
    _, answer, _ = _login(server, idp, _public_token(server), c.connection_id, _mail("secret"))
    assert answer.status_code == 401, answer.text
    assert answer.json()["error_type"] == "oidc_code_exchange_failed"


# ---------------------------------------------------------------- the browser trip's guards


def test_a_callback_is_good_once_and_only_in_the_browser_that_started(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    # Another browser (no cookie) brings the provider's answer: refused, and the trip is spent.
    s, r = _start(server, pt, connection_id=c.connection_id)
    at_callback = browse(s, r.headers["Location"], _mail("csrf"), server.api("/v1/b2b/sso/callback/"))
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"])
    stranger = requests.Session()
    stranger.trust_env = False
    refused = stranger.get(target, allow_redirects=False, timeout=10)
    assert refused.status_code == 400 and refused.json()["error_type"] == "unsolicited_oidc_response"
    assert s.get(target, allow_redirects=False, timeout=10).status_code == 400, "the state was used up"
    # A replayed callback (same browser) is refused.
    s, answer, target = _login(server, idp, pt, c.connection_id, _mail("replay"))
    assert answer.status_code == 302
    replay = s.get(target, allow_redirects=False, timeout=10)
    assert replay.status_code == 400 and replay.json()["error_type"] == "unsolicited_oidc_response"
    # A forged state.
    forged = s.get(server.api(f"/v1/b2b/sso/callback/{c.connection_id}"),
                   params={"state": h.token(), "code": "x"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and forged.json()["error_type"] == "unsolicited_oidc_response"


def test_a_state_cannot_be_spent_at_another_connection(client, server, idp):
    org = h.create_org(client)
    a = _connection(client, idp, org.organization_id)
    b = _connection(client, idp, org.organization_id)
    s, r = _start(server, _public_token(server), connection_id=a.connection_id)
    at_callback = browse(s, r.headers["Location"], _mail("swap"), server.api("/v1/b2b/sso/callback/"))
    target = urllib.parse.urljoin(at_callback.url, at_callback.headers["Location"]).replace(a.connection_id, b.connection_id)
    swapped = s.get(target, allow_redirects=False, timeout=10)
    assert swapped.status_code == 400 and swapped.json()["error_type"] == "unsolicited_oidc_response"


def test_start_refusals(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pending = ok(client.sso.oidc.create_connection(organization_id=org.organization_id)).connection
    pt = _public_token(server)
    cases = [
        (dict(public_token="public-token-test-nope", connection_id=c.connection_id), 401, "invalid_public_token"),
        (dict(public_token=pt), 400, "missing_sso_connection_locator"),
        (dict(public_token=pt, connection_id=c.connection_id, organization_id=org.organization_id), 400,
         "too_many_sso_connection_locators"),
        (dict(public_token=pt, connection_id="oidc-connection-test-nope"), 404, "sso_connection_not_found"),
        (dict(public_token=pt, connection_id=pending.connection_id), 400, "sso_connection_not_active"),
        (dict(public_token=pt, connection_id=c.connection_id, login_redirect_url="https://evil.example/cb"), 400,
         "invalid_login_redirect_url"),
        (dict(public_token=pt, connection_id=c.connection_id, signup_redirect_url="https://evil.example/cb"), 400,
         "invalid_signup_redirect_url"),
        (dict(public_token=pt, connection_id=c.connection_id, pkce_code_challenge="c" * 129), 400, "invalid_argument"),
    ]
    for params, status, error in cases:
        s = requests.Session()
        s.trust_env = False
        q = dict(login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)
        q.update(params)
        r = s.get(server.api("/v1/public/sso/start"), params=q, allow_redirects=False, timeout=10)
        assert (r.status_code, r.json().get("error_type")) == (status, error), (params, r.text)


def test_the_sso_token_is_single_use_pkce_bound_and_project_scoped(client, server, idp, fresh_client):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    _, answer, _ = _login(server, idp, pt, c.connection_id, _mail("pkce"), pkce_code_challenge=challenge)
    token = _token(answer)
    expect_error(404, "sso_token_not_found", fresh_client.sso.authenticate, sso_token=token, pkce_code_verifier=verifier)
    expect_error(400, "pkce_expected_code_verifier", client.sso.authenticate, sso_token=token)
    expect_error(400, "pkce_mismatch", client.sso.authenticate, sso_token=token, pkce_code_verifier="wrong")
    ok(client.sso.authenticate(sso_token=token, pkce_code_verifier=verifier))
    expect_error(404, "sso_token_not_found", client.sso.authenticate, sso_token=token, pkce_code_verifier=verifier)
    expect_error(404, "sso_token_not_found", client.sso.authenticate, sso_token="not-a-token")


def test_an_intermediate_session_of_another_organization_is_refused(client, server, idp):
    a = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    b = h.create_org(client)
    email = _mail("ist")
    h.create_member(client, a.organization_id, email)
    h.create_member(client, b.organization_id, email)
    ca = _connection(client, idp, a.organization_id)
    cb = _connection(client, idp, b.organization_id)
    pt = _public_token(server)
    _, answer, _ = _login(server, idp, pt, ca.connection_id, email)
    pending = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert pending.intermediate_session_token
    _, answer, _ = _login(server, idp, pt, cb.connection_id, email)
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.sso.authenticate,
                 sso_token=_token(answer), intermediate_session_token=pending.intermediate_session_token)


def test_a_new_address_from_the_provider_moves_the_member_and_retires_the_old_one(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    subject = "subject-" + h.token()
    first, second = _mail("before"), _mail("after")

    def address(email):
        r = requests.post(f"{idp.issuer}/test/email", params={"sub": subject, "email": email}, timeout=10)
        assert r.status_code == 204, r.text

    address(first)
    _, answer, _ = _login(server, idp, pt, c.connection_id, subject)
    one = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert one.member.email_address == first
    assert one.member.sso_registrations[0].external_id == subject
    address(second)
    _, answer, _ = _login(server, idp, pt, c.connection_id, subject)
    assert answer.headers["Location"].startswith(REDIRECT), "a known subject goes to the login URL"
    # The application passes the member's current session along; it ends with the old address.
    two = ok(client.sso.authenticate(sso_token=_token(answer), session_token=one.session_token))
    assert two.member_authenticated and two.session_token and two.session_token != one.session_token
    assert two.member_id == one.member_id
    assert two.member.email_address == second and two.member.email_address_verified
    assert [r.email_address for r in two.member.retired_email_addresses] == [first]
    # The session that proved the old address ended with it.
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=one.session_token)
    # An address another member holds is not taken over.
    other = h.create_member(client, org.organization_id, _mail("taken"))
    address(other.email_address)
    _, answer, _ = _login(server, idp, pt, c.connection_id, subject)
    three = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert three.member_id == one.member_id and three.member.email_address == second
