"""Email magic links (issue 14; magic_links.md, discovery.md, README "The authentication response
pattern", "PKCE fields", "Member-session authorization headers"):
magic_links.email.login_or_signup, magic_links.email.invite, magic_links.authenticate,
magic_links.email.discovery.send and magic_links.discovery.authenticate.

Links are read from the development outbox (`GET /latch/v1/outbox`), as a developer would read
them from a mailbox: `token` is the raw token and `url` the link
`<redirect_url>?stytch_token_type=multi_tenant_magic_links&token=<token>` (organization links) or
`...stytch_token_type=discovery&token=<token>` (discovery links). Every refusal is followed by a
check that nothing was written (outbox, members, sessions) and, where it applies, that the token
is still usable.

Not covered here: link expiry (the shortest lifetime is 5 minutes; the Rust tests cover it) and
custom templates.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html as html_lib
import itertools
import random
import re
import secrets
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok
from stytch.b2b.models.magic_links_email import InviteRequestOptions
from stytch.core.response_base import StytchError
from stytch.shared.method_options import Authorization

REDIRECT = "https://app.example.com/reset"  # conftest.BOOTSTRAP_REDIRECT_URLS: allowed for every type
REDIRECT2 = "https://app.example.com/reset-password"
ORG_LINK = "stytch_token_type=multi_tenant_magic_links&token="
DISCOVERY_LINK = "stytch_token_type=discovery&token="
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43,}$")  # base64url of 256 bits, or longer
SENDS_PER_WINDOW = 10  # messages per recipient per 10 minutes, shared by codes and links
LOCALES = ("en", "es", "fr", "pt-br")
DENIED = (403, "session_authorization_error")
TENANCY = (403, "session_authorization_tenancy_error")
NOT_ALLOWED_URLS = (
    "https://attacker.example/steal",
    "https://app.example.com.evil.test/reset",
    "https://app.example.com/reset/evil",
    "http://app.example.com/reset",
)
SMS_PHRASES = {"en": "verification code", "es": "código de verificación", "fr": "code de vérification",
               "pt-br": "código de verificação"}

_PHONES = itertools.count(random.randrange(0, 8000))


# ---------------------------------------------------------------- helpers


def _domain(prefix: str = "ml") -> str:
    return h.unique_domain(prefix)


def _mail(local: str = "ml", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or _domain()}"


def _phone() -> str:
    return f"+1720555{2000 + next(_PHONES) % 8000:04d}"


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _outbox(srv, recipient: str, project=None, limit: int = 100) -> List[Dict[str, Any]]:
    """Messages sent to `recipient` in `project` (default: the server's bootstrap project), newest first."""
    project = project or srv.project
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": limit},
                  auth=(project.project_id, project.secret))
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _link(redirect: str, params: str, token: str) -> str:
    sep = "&" if "?" in redirect else "?"
    return f"{redirect}{sep}{params}{token}"


def _check_link_message(msg: Dict[str, Any], kind: str, redirect: Optional[str]) -> None:
    assert msg["channel"] == "email", msg
    assert msg["kind"] == kind, msg
    token = msg["token"]
    assert isinstance(token, str) and TOKEN_RE.match(token), f"a 256-bit base64url token: {token!r}"
    params = DISCOVERY_LINK if kind == "discovery_magic_link" else ORG_LINK
    if redirect is not None:
        assert msg["url"] == _link(redirect, params, token), msg["url"]
    assert msg["url"] in msg["text"], msg["text"]
    assert msg["url"] in msg["html"] or html_lib.escape(msg["url"]) in msg["html"], msg["html"]


def _send(client, srv, org_id: str, email: str, login: Optional[str] = REDIRECT, signup: Optional[str] = REDIRECT,
          **kwargs):
    """login_or_signup; returns (response, the one message it sent)."""
    before = len(_outbox(srv, email))
    if login is not None:
        kwargs["login_redirect_url"] = login
    if signup is not None:
        kwargs["signup_redirect_url"] = signup
    resp = ok(client.magic_links.email.login_or_signup(organization_id=org_id, email_address=email, **kwargs))
    msgs = _outbox(srv, email)
    assert len(msgs) == before + 1, f"login_or_signup must send exactly one message, outbox: {msgs}"
    msg = msgs[0]
    assert msg["kind"] in ("login_magic_link", "signup_magic_link"), msg
    _check_link_message(msg, msg["kind"], login if msg["kind"] == "login_magic_link" else signup)
    return resp, msg


def _token(client, srv, org_id: str, email: str, **kwargs) -> str:
    return _send(client, srv, org_id, email, **kwargs)[1]["token"]


def _invite(client, srv, org_id: str, email: str, redirect: Optional[str] = REDIRECT, **kwargs):
    """invite; returns (response, the one message it sent)."""
    before = len(_outbox(srv, email))
    if redirect is not None:
        kwargs["invite_redirect_url"] = redirect
    resp = ok(client.magic_links.email.invite(organization_id=org_id, email_address=email, **kwargs))
    msgs = _outbox(srv, email)
    assert len(msgs) == before + 1, f"invite must send exactly one message, outbox: {msgs}"
    _check_link_message(msgs[0], "invite_magic_link", redirect)
    return resp, msgs[0]


def _send_discovery(client, srv, email: str, redirect: Optional[str] = REDIRECT, project=None, **kwargs):
    """discovery.send; returns the one message it sent."""
    before = len(_outbox(srv, email, project))
    if redirect is not None:
        kwargs["discovery_redirect_url"] = redirect
    resp = ok(client.magic_links.email.discovery.send(email_address=email, **kwargs))
    assert resp.status_code == 200
    msgs = _outbox(srv, email, project)
    assert len(msgs) == before + 1, f"discovery send must send exactly one message, outbox: {msgs}"
    _check_link_message(msgs[0], "discovery_magic_link", redirect)
    return msgs[0]


def _auth(client, token: str, **kwargs):
    return ok(client.magic_links.authenticate(magic_links_token=token, **kwargs))


def _disc_auth(client, token: str, **kwargs):
    return ok(client.magic_links.discovery.authenticate(discovery_magic_links_token=token, **kwargs))


def _discover(client, srv, email: str):
    resp = _disc_auth(client, _send_discovery(client, srv, email)["token"])
    _assert_ist(resp, email)
    return resp


def _pkce():
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _refused_token(fn, **kwargs) -> None:
    """A token that can no longer be used: 404 magic_link_not_found or 401 unable_to_auth_magic_link."""
    with pytest.raises(StytchError) as excinfo:
        fn(**kwargs)
    d = excinfo.value.details
    assert (d.status_code, d.error_type) in ((404, "magic_link_not_found"), (401, "unable_to_auth_magic_link")), (
        f"expected 404 magic_link_not_found or 401 unable_to_auth_magic_link, got {d.status_code} {d.error_type}: "
        f"{d.error_message!r}"
    )
    h.check_error_envelope(d)


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _members_with_email(client, org_id: str, email: str):
    q = h.query(h.op("member_emails", [email]))
    members, _, _ = h.member_search_all(client, [org_id], q=q)
    return members


def _with_password(client, org_id: str, email: Optional[str] = None, **kwargs):
    """A member with a password (passwords.migrate also verifies the email)."""
    email = email or _mail("pw")
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD),
                                       **kwargs)).member


def _login(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=hv.PASSWORD, **kwargs))


def _jit_org(client, domain: str, **kwargs):
    return h.create_org(client, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain], **kwargs)


def _factors(session) -> Dict[str, Any]:
    """type -> factor; each type at most once."""
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _assert_ml_factor(session, email: str):
    f = _factors(session).get("magic_link")
    assert f is not None, f"a magic_link factor: {session.authentication_factors}"
    assert _value(f.delivery_method) == "email", f
    assert f.email_factor is not None, f
    assert f.email_factor.email_address == email
    assert isinstance(f.email_factor.email_id, str) and f.email_factor.email_id
    return f


def _assert_authenticated(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is True
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert resp.member.organization_id == org_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt.count(".") == 2
    assert resp.member_session is not None
    assert resp.member_session.member_id == member_id
    assert resp.member_session.organization_id == org_id
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None and resp.primary_required is None
    assert resp.reset_sessions is False


def _assert_pending(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.member_session is None
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.reset_sessions is False
    exp = resp.intermediate_session_token_expires_at
    if exp is not None:
        now = datetime.datetime.now(datetime.timezone.utc)
        assert now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11), exp


def _assert_ist(resp, email: str) -> None:
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.email_address == email
    exp = resp.intermediate_session_token_expires_at
    if exp is not None:
        now = datetime.datetime.now(datetime.timezone.utc)
        assert now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11), exp


def _by_org(discovered) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for d in discovered:
        oid = d.organization.organization_id
        assert oid not in out, f"organization {oid} listed twice: {discovered}"
        out[oid] = d
    return out


def _copy(msg: Dict[str, Any]):
    """A message's wording without its (per-message) link and token."""
    def strip(s: str) -> str:
        return s.replace(msg["url"], "").replace(html_lib.escape(msg["url"]), "").replace(msg["token"], "")
    return msg["subject"], strip(msg["text"]), strip(msg["html"])


def _assert_four_languages(msgs: Dict[str, Dict[str, Any]]) -> None:
    for locale, msg in msgs.items():
        assert msg["locale"] == locale, msg
    copies = {loc: _copy(m) for loc, m in msgs.items()}
    for i, part in enumerate(("subject", "text", "html")):
        values = [c[i] for c in copies.values()]
        assert len(set(values)) == len(LOCALES), f"each language has its own {part}: {values}"


def _as_inviter(session_token: Optional[str] = None, session_jwt: Optional[str] = None) -> InviteRequestOptions:
    return InviteRequestOptions(authorization=Authorization(session_token=session_token, session_jwt=session_jwt))


def _sms_finish(client, srv, org_id: str, member_id: str, ist: str, phone: Optional[str] = None):
    """Completes MFA with an SMS code: the pre-emptive one if `phone` got one, else a new phone."""
    if phone is None:
        phone = _phone()
        ok(client.otps.sms.send(organization_id=org_id, member_id=member_id, mfa_phone_number=phone,
                                intermediate_session_token=ist))
    msgs = _outbox(srv, phone)
    assert msgs and msgs[0]["kind"] == "sms_otp", msgs
    done = ok(client.otps.sms.authenticate(organization_id=org_id, member_id=member_id, code=msgs[0]["code"],
                                           intermediate_session_token=ist))
    assert done.member_id == member_id
    assert done.session_token and done.session_jwt and done.member_session is not None
    assert done.member_session.organization_id == org_id
    return done


# ---------------------------------------------------------------- login_or_signup


def test_active_member_gets_a_login_link(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    assert m.status == "active"
    resp, msg = _send(client, server, org.organization_id, m.email_address)
    assert resp.member_created is False
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.member.status == "active" and resp.member.email_address == m.email_address
    assert resp.organization.organization_id == org.organization_id
    assert msg["kind"] == "login_magic_link"
    assert msg["recipient"] == m.email_address
    assert msg["locale"] == "en"
    # Sending logs nobody in and changes nothing.
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id) == m


def test_each_link_has_its_own_token(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    tokens = {_token(client, server, org.organization_id, m.email_address) for _ in range(3)}
    assert len(tokens) == 3


def test_pending_member_gets_a_signup_link(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    assert m.status == "pending"
    resp, msg = _send(client, server, org.organization_id, m.email_address)
    assert resp.member_created is False and resp.member_id == m.member_id
    assert resp.member.status == "pending", "sending a link does not activate the member"
    assert msg["kind"] == "signup_magic_link"
    assert _member(client, org.organization_id, m.member_id).status == "pending"


def test_invited_member_gets_a_signup_link(client, server):
    org = h.create_org(client)
    email = _mail("invitee")
    inv, _ = _invite(client, server, org.organization_id, email)
    resp, msg = _send(client, server, org.organization_id, email)
    assert resp.member_created is False and resp.member_id == inv.member_id
    assert resp.member.status == "invited"
    assert msg["kind"] == "signup_magic_link"


def test_each_kind_points_at_its_own_redirect_url(client, server):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    _, login = _send(client, server, org.organization_id, active.email_address, login=REDIRECT, signup=REDIRECT2)
    assert login["kind"] == "login_magic_link" and login["url"].startswith(REDIRECT + "?"), login["url"]
    _, signup = _send(client, server, org.organization_id, pending.email_address, login=REDIRECT, signup=REDIRECT2)
    assert signup["kind"] == "signup_magic_link" and signup["url"].startswith(REDIRECT2 + "?"), signup["url"]


def test_only_the_url_of_the_kind_sent_is_needed(client, server):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    _, login = _send(client, server, org.organization_id, active.email_address, login=REDIRECT, signup=None)
    assert login["kind"] == "login_magic_link"
    _, signup = _send(client, server, org.organization_id, pending.email_address, login=None, signup=REDIRECT)
    assert signup["kind"] == "signup_magic_link"


def test_redirect_with_a_query_is_joined_with_ampersand(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    redirect = f"{REDIRECT}?next=%2Fhome&tenant=acme"
    _, msg = _send(client, server, org.organization_id, m.email_address, login=redirect)
    assert msg["url"] == f"{redirect}&{ORG_LINK}{msg['token']}", msg["url"]
    _assert_authenticated(_auth(client, msg["token"]), m.member_id, org.organization_id)


def test_unknown_email_with_allowed_domain_creates_a_pending_member(client, server):
    domain = _domain("jit")
    org = _jit_org(client, domain)
    email = _mail("new", domain)
    resp, msg = _send(client, server, org.organization_id, email)
    assert resp.member_created is True
    assert resp.member.email_address == email and resp.member.status == "pending"
    assert resp.member.email_address_verified is False
    assert resp.member_id == resp.member.member_id
    assert msg["kind"] == "signup_magic_link"
    assert _member(client, org.organization_id, resp.member_id) == resp.member
    # A second send finds the (still pending) member instead of creating another.
    again, msg2 = _send(client, server, org.organization_id, email)
    assert again.member_created is False and again.member_id == resp.member_id
    assert msg2["kind"] == "signup_magic_link"
    assert len(_members_with_email(client, org.organization_id, email)) == 1


@pytest.mark.parametrize("jit", ["NOT_ALLOWED", "RESTRICTED_OTHER_DOMAIN"])
def test_unknown_email_without_jit_is_refused(client, server, jit):
    domain = _domain("nojit")
    org = h.create_org(client) if jit == "NOT_ALLOWED" else _jit_org(client, _domain("elsewhere"))
    email = _mail("stranger", domain)
    expect_error(403, "email_jit_provisioning_not_allowed", client.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=email, login_redirect_url=REDIRECT,
                 signup_redirect_url=REDIRECT)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


def test_redirect_urls_not_on_the_allow_list_are_refused(client, server):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    send = client.magic_links.email.login_or_signup
    for bad in NOT_ALLOWED_URLS:
        expect_error(400, "invalid_login_redirect_url", send, organization_id=org.organization_id,
                     email_address=active.email_address, login_redirect_url=bad, signup_redirect_url=REDIRECT)
        expect_error(400, "invalid_signup_redirect_url", send, organization_id=org.organization_id,
                     email_address=pending.email_address, login_redirect_url=REDIRECT, signup_redirect_url=bad)
    # A given URL of the other kind is checked too.
    expect_error(400, "invalid_signup_redirect_url", send, organization_id=org.organization_id,
                 email_address=active.email_address, login_redirect_url=REDIRECT, signup_redirect_url=NOT_ALLOWED_URLS[0])
    expect_error(400, "invalid_login_redirect_url", send, organization_id=org.organization_id,
                 email_address=pending.email_address, login_redirect_url=NOT_ALLOWED_URLS[0], signup_redirect_url=REDIRECT)
    for m in (active, pending):
        assert _outbox(server, m.email_address) == []
        assert _member(client, org.organization_id, m.member_id) == m


def test_refused_redirect_creates_no_member(client, server):
    domain = _domain("jit")
    org = _jit_org(client, domain)
    email = _mail("new", domain)
    send = client.magic_links.email.login_or_signup
    expect_error(400, "invalid_signup_redirect_url", send, organization_id=org.organization_id, email_address=email,
                 login_redirect_url=REDIRECT, signup_redirect_url=NOT_ALLOWED_URLS[0])
    expect_error(400, "no_signup_redirect_url", send, organization_id=org.organization_id, email_address=email,
                 login_redirect_url=REDIRECT)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


def test_missing_redirect_without_a_default_is_refused(client, server):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    send = client.magic_links.email.login_or_signup
    expect_error(400, "no_login_redirect_url", send, organization_id=org.organization_id, email_address=active.email_address)
    expect_error(400, "no_login_redirect_url", send, organization_id=org.organization_id,
                 email_address=active.email_address, signup_redirect_url=REDIRECT)
    expect_error(400, "no_signup_redirect_url", send, organization_id=org.organization_id, email_address=pending.email_address)
    expect_error(400, "no_signup_redirect_url", send, organization_id=org.organization_id,
                 email_address=pending.email_address, login_redirect_url=REDIRECT)
    for m in (active, pending):
        assert _outbox(server, m.email_address) == []


def test_redirect_urls_are_per_project(client, other_project):
    """A project made with `latch project create` has no redirect URLs until it is configured."""
    _p, other = other_project
    org = h.create_org(other)
    m = h.create_member(other, org.organization_id, _mail())
    expect_error(400, "invalid_login_redirect_url", other.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address, login_redirect_url=REDIRECT)
    expect_error(400, "invalid_invite_redirect_url", other.magic_links.email.invite,
                 organization_id=org.organization_id, email_address=_mail(), invite_redirect_url=REDIRECT)
    expect_error(400, "invalid_discovery_redirect_url", other.magic_links.email.discovery.send,
                 email_address=m.email_address, discovery_redirect_url=REDIRECT)


@pytest.mark.parametrize("field", ["login_expiration_minutes", "signup_expiration_minutes"])
@pytest.mark.parametrize("minutes", [0, 4, 10081, -5])
def test_expiration_minutes_out_of_range(client, server, field, minutes):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=(field == "signup_expiration_minutes"))
    expect_error(400, "invalid_expiration", client.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address, login_redirect_url=REDIRECT,
                 signup_redirect_url=REDIRECT, **{field: minutes})
    assert _outbox(server, m.email_address) == []


@pytest.mark.parametrize("minutes", [5, 60, 10080])
def test_expiration_minutes_bounds_are_accepted(client, server, minutes):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    _, login = _send(client, server, org.organization_id, active.email_address, login_expiration_minutes=minutes)
    assert login["kind"] == "login_magic_link"
    _, signup = _send(client, server, org.organization_id, pending.email_address, signup_expiration_minutes=minutes)
    assert signup["kind"] == "signup_magic_link"
    _assert_authenticated(_auth(client, login["token"]), active.member_id, org.organization_id)
    _assert_authenticated(_auth(client, signup["token"]), pending.member_id, org.organization_id)


@pytest.mark.parametrize("status", ["active", "pending"])
def test_locales(client, server, status):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=(status == "pending"))
    msgs = {}
    for locale in LOCALES:
        _, msg = _send(client, server, org.organization_id, m.email_address, locale=locale)
        assert msg["kind"] == ("login_magic_link" if status == "active" else "signup_magic_link")
        msgs[locale] = msg
    _assert_four_languages(msgs)
    # The last link (pt-br) works.
    _assert_authenticated(_auth(client, msgs["pt-br"]["token"]), m.member_id, org.organization_id)


@pytest.mark.parametrize("locale", ["de", "xx", "de-DE", "english"])
def test_unknown_locale_is_refused(client, server, locale):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "invalid_locale", client.magic_links.email.login_or_signup, organization_id=org.organization_id,
                 email_address=m.email_address, login_redirect_url=REDIRECT, locale=locale)
    assert _outbox(server, m.email_address) == []


def test_html_part_escapes_the_organization_name(client, server):
    name = f"Smith & <b>Jones</b> {h.token()}"
    org = h.create_org(client, organization_name=name)
    m = h.create_member(client, org.organization_id, _mail())
    _, msg = _send(client, server, org.organization_id, m.email_address)
    assert "<b>Jones</b>" not in msg["html"], msg["html"]


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com"])
def test_bad_email_is_refused(client, email):
    org = _jit_org(client, _domain("bad"))
    expect_error(400, "invalid_email", client.magic_links.email.login_or_signup, organization_id=org.organization_id,
                 email_address=email, login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)


def test_unknown_organization(client, server):
    email = _mail()
    for org_id in ("organization-test-00000000-0000-4000-8000-000000000000", "no-such-slug-" + h.token()):
        expect_error(404, "organization_not_found", client.magic_links.email.login_or_signup, organization_id=org_id,
                     email_address=email, login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)
        expect_error(404, "organization_not_found", client.magic_links.email.invite, organization_id=org_id,
                     email_address=email, invite_redirect_url=REDIRECT)
    assert _outbox(server, email) == []


def test_organization_slug_and_email_case(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    before = len(_outbox(server, m.email_address))
    resp = ok(client.magic_links.email.login_or_signup(organization_id=org.organization_slug,
                                                       email_address=m.email_address.upper(), login_redirect_url=REDIRECT))
    assert resp.member_id == m.member_id and resp.member_created is False
    assert resp.organization.organization_id == org.organization_id
    msgs = _outbox(server, m.email_address)
    assert len(msgs) == before + 1 and msgs[0]["kind"] == "login_magic_link"
    _assert_authenticated(_auth(client, msgs[0]["token"]), m.member_id, org.organization_id)


def test_send_limit_is_shared_with_codes_and_reset_links(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail("busy"))
    other = h.create_member(client, org.organization_id, _mail("calm"))
    for _ in range(4):
        ok(client.otps.email.login_or_signup(organization_id=org.organization_id, email_address=m.email_address))
    for _ in range(3):
        ok(client.passwords.email.reset_start(organization_id=org.organization_id, email_address=m.email_address,
                                              reset_password_redirect_url=REDIRECT))
    for _ in range(SENDS_PER_WINDOW - 7):
        _send(client, server, org.organization_id, m.email_address)
    assert len(_outbox(server, m.email_address)) == SENDS_PER_WINDOW
    expect_error(429, "too_many_requests", client.magic_links.email.login_or_signup, organization_id=org.organization_id,
                 email_address=m.email_address, login_redirect_url=REDIRECT)
    expect_error(429, "too_many_requests", client.otps.email.login_or_signup, organization_id=org.organization_id,
                 email_address=m.email_address)
    msgs = _outbox(server, m.email_address)
    assert len(msgs) == SENDS_PER_WINDOW, "the refused sends sent nothing"
    # The last link sent still works; other recipients are not affected.
    assert msgs[0]["kind"] == "login_magic_link"
    _assert_authenticated(_auth(client, msgs[0]["token"]), m.member_id, org.organization_id)
    _send(client, server, org.organization_id, other.email_address)


def test_every_kind_of_link_counts_toward_the_limit(client, server):
    org = h.create_org(client)
    email = _mail("flood")
    for _ in range(SENDS_PER_WINDOW):
        _send_discovery(client, server, email)
    expect_error(429, "too_many_requests", client.magic_links.email.discovery.send, email_address=email,
                 discovery_redirect_url=REDIRECT)
    expect_error(429, "too_many_requests", client.otps.email.discovery.send, email_address=email)
    expect_error(429, "too_many_requests", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=email, invite_redirect_url=REDIRECT)
    assert len(_outbox(server, email)) == SENDS_PER_WINDOW
    assert _members_with_email(client, org.organization_id, email) == [], "a refused invite creates no member"


def test_a_refused_jit_send_creates_no_member(client, server):
    """Over the limit, login_or_signup for an unknown address of a JIT organization refuses before
    provisioning anyone."""
    domain = _domain("jitflood")
    org = _jit_org(client, domain)
    email = _mail("flood", domain)
    for _ in range(SENDS_PER_WINDOW):
        _send_discovery(client, server, email)
    expect_error(429, "too_many_requests", client.magic_links.email.login_or_signup, organization_id=org.organization_id,
                 email_address=email, login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT)
    assert len(_outbox(server, email)) == SENDS_PER_WINDOW
    assert _members_with_email(client, org.organization_id, email) == []


def test_a_refused_invite_leaves_a_pending_member_pending(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail("flood"), create_member_as_pending=True)
    for _ in range(SENDS_PER_WINDOW):
        _send_discovery(client, server, m.email_address)
    expect_error(429, "too_many_requests", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=m.email_address, invite_redirect_url=REDIRECT, name="Renamed by invite")
    got = _member(client, org.organization_id, m.member_id)
    assert (got.status, got.name) == ("pending", ""), (got.status, got.name)
    assert got == m


# ---------------------------------------------------------------- invite


def test_invite_creates_an_invited_member(client, server):
    org = h.create_org(client)
    inviter = h.create_member(client, org.organization_id, _mail("boss"))
    email = _mail("invitee")
    resp, msg = _invite(client, server, org.organization_id, email, name="Ivy Invitee", roles=["editor"],
                        trusted_metadata={"plan": "gold"}, untrusted_metadata={"theme": "dark"},
                        invited_by_member_id=inviter.member_id)
    m = resp.member
    assert resp.member_id == m.member_id and m.member_id
    assert resp.organization.organization_id == org.organization_id
    assert m.organization_id == org.organization_id
    assert m.email_address == email and m.status == "invited"
    assert m.name == "Ivy Invitee"
    assert m.email_address_verified is False
    assert m.trusted_metadata == {"plan": "gold"} and m.untrusted_metadata == {"theme": "dark"}
    assert "editor" in h.roles_of(m) and "stytch_member" in h.roles_of(m), m.roles
    assert msg["kind"] == "invite_magic_link" and msg["recipient"] == email and msg["locale"] == "en"
    assert _member(client, org.organization_id, m.member_id) == m
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_invite_then_authenticate_activates_the_member(client, server):
    org = h.create_org(client)
    email = _mail("joiner")
    inv, msg = _invite(client, server, org.organization_id, email, name="Joiner")
    resp = _auth(client, msg["token"])
    _assert_authenticated(resp, inv.member_id, org.organization_id)
    assert resp.member.status == "active" and resp.member.email_address_verified is True
    assert resp.member.name == "Joiner"
    _assert_ml_factor(resp.member_session, email)
    stored = _member(client, org.organization_id, inv.member_id)
    assert stored.status == "active" and stored.email_address_verified is True
    # Now a member: login_or_signup sends a login link.
    _, login = _send(client, server, org.organization_id, email)
    assert login["kind"] == "login_magic_link"


def test_inviting_a_pending_member_makes_it_invited(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    resp, _ = _invite(client, server, org.organization_id, m.email_address)
    assert resp.member_id == m.member_id and resp.member.status == "invited"
    assert _member(client, org.organization_id, m.member_id).status == "invited"
    assert len(_members_with_email(client, org.organization_id, m.email_address)) == 1


def test_inviting_an_active_member_is_refused(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "duplicate_member_email", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=m.email_address, invite_redirect_url=REDIRECT, name="Other name")
    assert _outbox(server, m.email_address) == []
    assert _member(client, org.organization_id, m.member_id) == m


def test_invite_in_another_organization_is_independent(client, server):
    a, b = h.create_org(client), h.create_org(client)
    email = _mail("two")
    in_a = h.create_member(client, a.organization_id, email)
    resp, _ = _invite(client, server, b.organization_id, email)
    assert resp.member.status == "invited" and resp.member_id != in_a.member_id
    assert _member(client, a.organization_id, in_a.member_id).status == "active"


def test_invites_not_allowed(client, server):
    org = h.create_org(client, email_invites="NOT_ALLOWED")
    email = _mail()
    expect_error(403, "invalid_email_for_invites", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=email, invite_redirect_url=REDIRECT)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


def test_restricted_invites_follow_the_allowed_domains(client, server):
    domain = _domain("inv")
    org = h.create_org(client, email_invites="RESTRICTED", email_allowed_domains=[domain])
    outsider = _mail("out", _domain("other"))
    expect_error(403, "invalid_email_for_invites", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=outsider, invite_redirect_url=REDIRECT)
    assert _outbox(server, outsider) == []
    assert _members_with_email(client, org.organization_id, outsider) == []
    insider = _mail("in", domain)
    resp, _ = _invite(client, server, org.organization_id, insider)
    assert resp.member.status == "invited"


def test_invited_by_must_be_a_member_of_the_organization(client, server):
    org, other = h.create_org(client), h.create_org(client)
    stranger = h.create_member(client, other.organization_id, _mail())
    email = _mail()
    for bad in (stranger.member_id, "member-test-00000000-0000-4000-8000-000000000000"):
        expect_error(404, "member_not_found", client.magic_links.email.invite, organization_id=org.organization_id,
                     email_address=email, invite_redirect_url=REDIRECT, invited_by_member_id=bad)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


@pytest.mark.parametrize("minutes", [0, 4, 10081, -1])
def test_invite_expiration_out_of_range(client, server, minutes):
    org = h.create_org(client)
    email = _mail()
    expect_error(400, "invalid_expiration", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=email, invite_redirect_url=REDIRECT, invite_expiration_minutes=minutes)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


@pytest.mark.parametrize("minutes", [5, 10080])
def test_invite_expiration_bounds_are_accepted(client, server, minutes):
    org = h.create_org(client)
    email = _mail()
    resp, msg = _invite(client, server, org.organization_id, email, invite_expiration_minutes=minutes)
    _assert_authenticated(_auth(client, msg["token"]), resp.member_id, org.organization_id)


def test_invite_redirect_refusals(client, server):
    org = h.create_org(client)
    email = _mail()
    invite = client.magic_links.email.invite
    for bad in NOT_ALLOWED_URLS:
        expect_error(400, "invalid_invite_redirect_url", invite, organization_id=org.organization_id, email_address=email,
                     invite_redirect_url=bad)
    expect_error(400, "no_invite_redirect_url", invite, organization_id=org.organization_id, email_address=email)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


def test_invite_locales(client, server):
    org = h.create_org(client)
    email = _mail()
    msgs = {}
    for locale in LOCALES:
        _, msg = _invite(client, server, org.organization_id, email, locale=locale)
        msgs[locale] = msg
    _assert_four_languages(msgs)
    expect_error(400, "invalid_locale", client.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=_mail(), invite_redirect_url=REDIRECT, locale="xx")


def test_deleting_an_invited_member_revokes_the_invite(client, server):
    org = h.create_org(client)
    email = _mail("revoked")
    inv, msg = _invite(client, server, org.organization_id, email)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=inv.member_id))
    _refused_token(client.magic_links.authenticate, magic_links_token=msg["token"])
    assert _members_with_email(client, org.organization_id, email) == []
    # Inviting again works, with a new member.
    again, msg2 = _invite(client, server, org.organization_id, email)
    assert again.member_id != inv.member_id
    _assert_authenticated(_auth(client, msg2["token"]), again.member_id, org.organization_id)


def test_deleting_a_member_voids_its_login_link(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail("gone"))
    token = _token(client, server, org.organization_id, m.email_address)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    _refused_token(client.magic_links.authenticate, magic_links_token=token)
    assert ok(client.organizations.members.dangerously_get(member_id=m.member_id, include_deleted=True)).member.status \
        == "deleted"


def test_an_email_change_voids_links_sent_to_the_old_address(client, server):
    """A link proves the address it was mailed to: once the member's address changes (members.update),
    a link sent to the old address must not sign anyone in (as reset links, test_trust_boundaries)."""
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail("old"))
    token = _token(client, server, org.organization_id, m.email_address)
    new = _mail("new")
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, email_address=new))
    _refused_token(client.magic_links.authenticate, magic_links_token=token)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).email_address_verified is False


def test_invite_with_member_session_headers(client, server):
    org, foreign = h.create_org(client), h.create_org(client)
    admin = _with_password(client, org.organization_id, roles=["stytch_admin"])
    manager = _with_password(client, org.organization_id, roles=["member_manager"])
    plain = _with_password(client, org.organization_id)
    foreign_admin = _with_password(client, foreign.organization_id, roles=["stytch_admin"])
    admin_s = _login(client, org.organization_id, admin.email_address)
    manager_s = _login(client, org.organization_id, manager.email_address)
    plain_s = _login(client, org.organization_id, plain.email_address)
    foreign_s = _login(client, foreign.organization_id, foreign_admin.email_address)
    invite = client.magic_links.email.invite
    email = _mail("viasession")
    base = dict(organization_id=org.organization_id, email_address=email, invite_redirect_url=REDIRECT)

    expect_error(*DENIED, invite, **base, method_options=_as_inviter(session_token=plain_s.session_token))
    expect_error(*DENIED, invite, **base, method_options=_as_inviter(session_jwt=plain_s.session_jwt))
    expect_error(*TENANCY, invite, **base, method_options=_as_inviter(session_token=foreign_s.session_token))
    expect_error(403, "cannot_update_trusted_metadata", invite, **base, trusted_metadata={"vip": True},
                 method_options=_as_inviter(session_token=admin_s.session_token))
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []

    resp, _ = _invite(client, server, org.organization_id, email, untrusted_metadata={"by": "admin"},
                      method_options=_as_inviter(session_jwt=admin_s.session_jwt))
    assert resp.member.status == "invited" and resp.member.untrusted_metadata == {"by": "admin"}
    # member_manager holds stytch.member create.
    resp2, _ = _invite(client, server, org.organization_id, _mail("bymanager"),
                       method_options=_as_inviter(session_token=manager_s.session_token))
    assert resp2.member.status == "invited"


# ---------------------------------------------------------------- authenticate


def test_authenticate_issues_a_session(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    assert m.email_address_verified is False
    token = _token(client, server, org.organization_id, m.email_address)
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _auth(client, token, session_duration_minutes=90, session_custom_claims={"team": "blue"})
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active" and resp.member.email_address_verified is True
    s = resp.member_session
    assert set(_factors(s)) == {"magic_link"}, s.authentication_factors
    f = _assert_ml_factor(s, m.email_address)
    assert resp.method_id == f.email_factor.email_id, "method_id is the member's email id"
    assert f.last_authenticated_at is not None and f.last_authenticated_at >= before - datetime.timedelta(seconds=5)
    assert s.custom_claims == {"team": "blue"}
    exp = s.expires_at
    assert before + datetime.timedelta(minutes=89) <= exp <= before + datetime.timedelta(minutes=91, seconds=30), exp
    # The session is real.
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == s.member_session_id
    assert set(_factors(got.member_session)) == {"magic_link"}
    got_jwt = ok(client.sessions.authenticate(session_jwt=resp.session_jwt))
    assert got_jwt.member_session.member_session_id == s.member_session_id
    assert [x.member_session_id for x in _sessions_of(client, org.organization_id, m.member_id)] == [s.member_session_id]
    assert _member(client, org.organization_id, m.member_id).email_address_verified is True


def test_default_session_duration_is_an_hour(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    before = datetime.datetime.now(datetime.timezone.utc)
    exp = _auth(client, token).member_session.expires_at
    assert before + datetime.timedelta(minutes=59) <= exp <= before + datetime.timedelta(minutes=61, seconds=30), exp


@pytest.mark.parametrize("minutes", [4, 0, -5, 527041])
def test_session_duration_out_of_bounds_keeps_the_token(client, server, minutes):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "invalid_session_duration_minutes", client.magic_links.authenticate, magic_links_token=token,
                 session_duration_minutes=minutes)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)


def test_stytch_claims_are_refused_and_keep_the_token(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "stytch_claims_in_custom_claims", client.magic_links.authenticate, magic_links_token=token,
                 session_custom_claims={"https://stytch.com/session": {"roles": ["stytch_admin"]}})
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)


def test_jit_signup_end_to_end(client, server):
    domain = _domain("jit")
    org = _jit_org(client, domain)
    email = _mail("newbie", domain)
    resp, msg = _send(client, server, org.organization_id, email, locale="fr")
    assert resp.member_created is True and msg["kind"] == "signup_magic_link" and msg["locale"] == "fr"
    auth = _auth(client, msg["token"])
    _assert_authenticated(auth, resp.member_id, org.organization_id)
    assert auth.member.status == "active" and auth.member.email_address_verified is True
    _assert_ml_factor(auth.member_session, email)


def test_pending_member_becomes_active(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active" and resp.member.email_address_verified is True
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.status == "active" and stored.email_address_verified is True


def test_token_is_single_use(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    first = _auth(client, token)
    assert first.member_authenticated is True
    d = expect_error(401, "unable_to_auth_magic_link", client.magic_links.authenticate, magic_links_token=token)
    assert not d.original_json.get("session_token") and not d.original_json.get("intermediate_session_token")
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1
    ok(client.sessions.authenticate(session_token=first.session_token))


def test_unknown_token(client):
    for token in (secrets.token_urlsafe(32), "not-a-token", "x" * 43):
        expect_error(404, "magic_link_not_found", client.magic_links.authenticate, magic_links_token=token)
        expect_error(404, "magic_link_not_found", client.magic_links.discovery.authenticate,
                     discovery_magic_links_token=token)


def test_tokens_only_work_on_their_own_endpoint(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    org_token = _token(client, server, org.organization_id, m.email_address)
    disc_token = _send_discovery(client, server, m.email_address)["token"]
    expect_error(404, "magic_link_not_found", client.magic_links.authenticate, magic_links_token=disc_token)
    expect_error(404, "magic_link_not_found", client.magic_links.discovery.authenticate,
                 discovery_magic_links_token=org_token)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # Both are still good where they belong.
    _assert_ist(_disc_auth(client, disc_token), m.email_address)
    _assert_authenticated(_auth(client, org_token), m.member_id, org.organization_id)


def test_token_is_bound_to_its_organization(client, server):
    email = _mail("two-orgs")
    org_a, org_b = h.create_org(client), h.create_org(client)
    a = h.create_member(client, org_a.organization_id, email)
    b = h.create_member(client, org_b.organization_id, email)
    token = _token(client, server, org_a.organization_id, email)
    resp = _auth(client, token)
    _assert_authenticated(resp, a.member_id, org_a.organization_id)
    assert _sessions_of(client, org_b.organization_id, b.member_id) == []
    assert _member(client, org_b.organization_id, b.member_id).email_address_verified is False


def test_ist_of_another_organization_is_refused(client, server):
    email = _mail("ist")
    mfa_org, plain = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL"), h.create_org(client)
    _with_password(client, mfa_org.organization_id, email)
    m = h.create_member(client, plain.organization_id, email)
    pw = _login(client, mfa_org.organization_id, email)
    assert pw.member_authenticated is False and pw.intermediate_session_token
    token = _token(client, server, plain.organization_id, email)
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.magic_links.authenticate,
                 magic_links_token=token, intermediate_session_token=pw.intermediate_session_token)
    assert _sessions_of(client, plain.organization_id, m.member_id) == []
    # The link was not used up.
    _assert_authenticated(_auth(client, token), m.member_id, plain.organization_id)


def test_unknown_ist_is_refused(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    expect_error(404, "intermediate_session_not_found", client.magic_links.authenticate, magic_links_token=token,
                 intermediate_session_token="ist-" + h.token() * 3)
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)


def test_tokens_do_not_cross_projects(client, server, fresh_client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    disc = _send_discovery(client, server, m.email_address)["token"]
    expect_error(404, "magic_link_not_found", fresh_client.magic_links.authenticate, magic_links_token=token)
    expect_error(404, "magic_link_not_found", fresh_client.magic_links.discovery.authenticate,
                 discovery_magic_links_token=disc)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)
    _assert_ist(_disc_auth(client, disc), m.email_address)


# ---------------------------------------------------------------- PKCE


def test_pkce_refusals_do_not_consume_the_token(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    verifier, challenge = _pkce()
    token = _token(client, server, org.organization_id, m.email_address, pkce_code_challenge=challenge)
    authenticate = client.magic_links.authenticate
    expect_error(400, "pkce_expected_code_verifier", authenticate, magic_links_token=token)
    expect_error(400, "pkce_mismatch", authenticate, magic_links_token=token, pkce_code_verifier=_pkce()[0])
    expect_error(400, "pkce_mismatch", authenticate, magic_links_token=token, pkce_code_verifier=challenge)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).email_address_verified is False
    resp = _auth(client, token, pkce_code_verifier=verifier)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    expect_error(401, "unable_to_auth_magic_link", authenticate, magic_links_token=token, pkce_code_verifier=verifier)


def test_pkce_verifier_without_a_challenge(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "pkce_did_not_expect_code_verifier", client.magic_links.authenticate, magic_links_token=token,
                 pkce_code_verifier=_pkce()[0])
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)


def test_pkce_on_a_signup_link(client, server):
    org = h.create_org(client)
    verifier, challenge = _pkce()
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    _, msg = _send(client, server, org.organization_id, m.email_address, pkce_code_challenge=challenge)
    assert msg["kind"] == "signup_magic_link"
    expect_error(400, "pkce_expected_code_verifier", client.magic_links.authenticate, magic_links_token=msg["token"])
    assert _member(client, org.organization_id, m.member_id).status == "pending"
    resp = _auth(client, msg["token"], pkce_code_verifier=verifier)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active"


# ---------------------------------------------------------------- sessions passed in


def test_session_token_and_jwt_together_are_refused(client, server):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    token = _token(client, server, org.organization_id, m.email_address)
    expect_error(400, "too_many_session_arguments", client.magic_links.authenticate, magic_links_token=token,
                 session_token=s.session_token, session_jwt=s.session_jwt)
    assert [x.member_session_id for x in _sessions_of(client, org.organization_id, m.member_id)] == \
        [s.member_session.member_session_id]
    _assert_authenticated(_auth(client, token), m.member_id, org.organization_id)


@pytest.mark.parametrize("form", ["session_token", "session_jwt"])
def test_own_session_is_extended_with_the_magic_link_factor(client, server, form):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _login(client, org.organization_id, m.email_address)
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, **{form: getattr(first, form)})
    assert resp.member_authenticated is True and resp.intermediate_session_token == ""
    assert resp.member_id == m.member_id and resp.organization_id == org.organization_id
    assert resp.mfa_required is None and resp.primary_required is None
    assert resp.session_jwt.count(".") == 2
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "magic_link"}, resp.member_session.authentication_factors
    if form == "session_token":
        assert resp.session_token == first.session_token
    else:
        # Latch keeps session tokens only as digests: a session reached through its JWT comes
        # back with session_token "" (README "Differences"; as passwords.authenticate).
        assert resp.session_token == ""
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_own_session_waives_mfa(client, server):
    org = h.create_org(client)
    m = _with_password(client, org.organization_id)
    first = _login(client, org.organization_id, m.email_address)
    ok(client.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL"))
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, session_token=first.session_token)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "magic_link"}


def test_session_of_another_member_is_ignored(client, server):
    org = h.create_org(client)
    other = _with_password(client, org.organization_id)
    other_s = _login(client, org.organization_id, other.email_address)
    m = h.create_member(client, org.organization_id, _mail())
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, session_token=other_s.session_token)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member_session.member_session_id != other_s.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"magic_link"}
    # The other member's session is untouched.
    still = ok(client.sessions.authenticate(session_token=other_s.session_token)).member_session
    assert set(_factors(still)) == {"password"}
    assert still.member_id == other.member_id


# ---------------------------------------------------------------- MFA and primary-auth restrictions


def test_mfa_org_gives_an_ist_then_sms_completes(client, server):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, session_duration_minutes=30, session_custom_claims={"ignored": True})
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.mfa_required is not None and resp.primary_required is None
    assert resp.mfa_required.secondary_auth_initiated is None, "no phone: nothing sent"
    assert resp.mfa_required.member_options is None
    assert resp.member.email_address_verified is True, "the link proved the address"
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # The link is used up even though no session was issued.
    expect_error(401, "unable_to_auth_magic_link", client.magic_links.authenticate, magic_links_token=token)
    done = _sms_finish(client, server, org.organization_id, m.member_id, resp.intermediate_session_token)
    assert set(_factors(done.member_session)) == {"magic_link", "otp"}, done.member_session.authentication_factors
    _assert_ml_factor(done.member_session, m.email_address)
    assert not done.member_session.custom_claims, "claims passed with an MFA outcome are ignored"
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.status == "active" and stored.email_address_verified is True
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


@pytest.mark.parametrize("locale", ["en", "es"])
def test_mfa_with_a_phone_sends_the_sms_pre_emptively(client, server, locale):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    phone = _phone()
    m = h.create_member(client, org.organization_id, _mail(), mfa_phone_number=phone)
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, locale=locale)
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.mfa_required.secondary_auth_initiated == "sms_otp"
    assert resp.mfa_required.member_options is not None
    assert resp.mfa_required.member_options.mfa_phone_number == phone
    sms = _outbox(server, phone)
    assert len(sms) == 1 and sms[0]["kind"] == "sms_otp", sms
    assert sms[0]["locale"] == locale and SMS_PHRASES[locale] in sms[0]["text"], sms[0]
    done = _sms_finish(client, server, org.organization_id, m.member_id, resp.intermediate_session_token, phone=phone)
    assert set(_factors(done.member_session)) == {"magic_link", "otp"}
    got = ok(client.sessions.authenticate(session_token=done.session_token))
    assert set(_factors(got.member_session)) == {"magic_link", "otp"}


def test_mfa_enrolled_member_in_an_optional_org(client, server):
    org = h.create_org(client)
    enrolled = h.create_member(client, org.organization_id, _mail(), mfa_enrolled=True)
    plain = h.create_member(client, org.organization_id, _mail())
    resp = _auth(client, _token(client, server, org.organization_id, enrolled.email_address))
    _assert_pending(resp, enrolled.member_id, org.organization_id)
    assert resp.mfa_required is not None
    _assert_authenticated(_auth(client, _token(client, server, org.organization_id, plain.email_address)),
                          plain.member_id, org.organization_id)


def test_magic_link_joins_a_password_ist_that_still_needs_mfa(client, server):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = _with_password(client, org.organization_id)
    pw = _login(client, org.organization_id, m.email_address)
    ist = pw.intermediate_session_token
    assert pw.member_authenticated is False and ist
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, intermediate_session_token=ist)
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.intermediate_session_token == ist, "factors that still do not satisfy the org return the same IST"
    assert resp.mfa_required is not None
    done = _sms_finish(client, server, org.organization_id, m.member_id, ist)
    assert set(_factors(done.member_session)) == {"password", "magic_link", "otp"}, done.member_session.authentication_factors


def test_restricted_to_magic_link_completes_a_password_login(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["magic_link"])
    m = _with_password(client, org.organization_id)
    pw = _login(client, org.organization_id, m.email_address)
    assert pw.member_authenticated is False
    assert pw.primary_required is not None and pw.primary_required.allowed_auth_methods == ["magic_link"]
    token = _token(client, server, org.organization_id, m.email_address)
    done = _auth(client, token, intermediate_session_token=pw.intermediate_session_token)
    _assert_authenticated(done, m.member_id, org.organization_id)
    assert set(_factors(done.member_session)) == {"password", "magic_link"}, done.member_session.authentication_factors
    # The IST is used up.
    token2 = _token(client, server, org.organization_id, m.email_address)
    expect_error(404, "intermediate_session_not_found", client.magic_links.authenticate, magic_links_token=token2,
                 intermediate_session_token=pw.intermediate_session_token)


def test_magic_link_alone_is_enough_when_allowed(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["magic_link"])
    m = h.create_member(client, org.organization_id, _mail())
    _assert_authenticated(_auth(client, _token(client, server, org.organization_id, m.email_address)),
                          m.member_id, org.organization_id)


def test_restricted_to_password_requires_the_password_too(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    m = _with_password(client, org.organization_id)
    token = _token(client, server, org.organization_id, m.email_address)
    resp = _auth(client, token, session_custom_claims={"ignored": True})
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.primary_required is not None and resp.primary_required.allowed_auth_methods == ["password"]
    assert resp.mfa_required is None
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    done = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=m.email_address,
                                            password=hv.PASSWORD, intermediate_session_token=resp.intermediate_session_token))
    assert done.member_authenticated is True and done.session_token and done.intermediate_session_token == ""
    assert set(_factors(done.member_session)) == {"magic_link", "password"}, done.member_session.authentication_factors
    _assert_ml_factor(done.member_session, m.email_address)


# ---------------------------------------------------------------- discovery: send


def test_discovery_send_delivers_a_discovery_link(client, server, http):
    email = _mail("disc")
    msg = _send_discovery(client, server, email)
    assert msg["recipient"] == email and msg["locale"] == "en"
    assert msg["url"] == f"{REDIRECT}?{DISCOVERY_LINK}{msg['token']}", msg["url"]
    # The response is the envelope and nothing else.
    r = http.post(server.api("/v1/b2b/magic_links/email/discovery/send"),
                  json={"email_address": _mail(), "discovery_redirect_url": REDIRECT},
                  auth=(server.project.project_id, server.project.secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"status_code", "request_id"}, body
    assert body["status_code"] == 200 and body["request_id"]


def test_discovery_send_creates_no_member(client, server):
    domain = _domain("disc")
    org = _jit_org(client, domain)
    _with_password(client, org.organization_id, _mail("colleague", domain))
    email = _mail("visitor", domain)
    _send_discovery(client, server, email)
    assert _members_with_email(client, org.organization_id, email) == []


def test_discovery_redirect_with_a_query(client, server):
    email = _mail()
    redirect = f"{REDIRECT2}?step=discover"
    msg = _send_discovery(client, server, email, redirect=redirect)
    assert msg["url"] == f"{redirect}&{DISCOVERY_LINK}{msg['token']}"


def test_discovery_redirect_refusals(client, server):
    email = _mail()
    for bad in NOT_ALLOWED_URLS:
        expect_error(400, "invalid_discovery_redirect_url", client.magic_links.email.discovery.send, email_address=email,
                     discovery_redirect_url=bad)
    expect_error(400, "no_discovery_redirect_url", client.magic_links.email.discovery.send, email_address=email)
    assert _outbox(server, email) == []


@pytest.mark.parametrize("minutes", [0, 4, 10081, -5])
def test_discovery_expiration_out_of_range(client, server, minutes):
    email = _mail()
    expect_error(400, "invalid_expiration", client.magic_links.email.discovery.send, email_address=email,
                 discovery_redirect_url=REDIRECT, discovery_expiration_minutes=minutes)
    assert _outbox(server, email) == []


@pytest.mark.parametrize("minutes", [5, 10080])
def test_discovery_expiration_bounds_are_accepted(client, server, minutes):
    email = _mail()
    msg = _send_discovery(client, server, email, discovery_expiration_minutes=minutes)
    _assert_ist(_disc_auth(client, msg["token"]), email)


def test_discovery_locales(client, server):
    email = _mail()
    msgs = {loc: _send_discovery(client, server, email, locale=loc) for loc in LOCALES}
    _assert_four_languages(msgs)
    expect_error(400, "invalid_locale", client.magic_links.email.discovery.send, email_address=_mail(),
                 discovery_redirect_url=REDIRECT, locale="de")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", ""])
def test_discovery_bad_email_is_refused(client, email):
    expect_error(400, "invalid_email", client.magic_links.email.discovery.send, email_address=email,
                 discovery_redirect_url=REDIRECT)


# ---------------------------------------------------------------- discovery: authenticate


def test_discovery_authenticate_lists_memberships(client, server):
    email = _mail("member")
    active_org, pending_org, invited_org, deleted_org, unrelated = (h.create_org(client) for _ in range(5))
    active = h.create_member(client, active_org.organization_id, email)
    pending = h.create_member(client, pending_org.organization_id, email, create_member_as_pending=True)
    invited, _ = _invite(client, server, invited_org.organization_id, email)
    gone = h.create_member(client, deleted_org.organization_id, email)
    ok(client.organizations.members.delete(organization_id=deleted_org.organization_id, member_id=gone.member_id))
    h.create_member(client, unrelated.organization_id, _mail("someone-else"))

    resp = _discover(client, server, email)
    found = _by_org(resp.discovered_organizations)
    assert set(found) == {active_org.organization_id, pending_org.organization_id, invited_org.organization_id}, found
    expected = {active_org.organization_id: ("active_member", active.member_id),
                pending_org.organization_id: ("pending_member", pending.member_id),
                invited_org.organization_id: ("invited_member", invited.member_id)}
    for oid, (mtype, member_id) in expected.items():
        d = found[oid]
        assert d.membership.type == mtype, d.membership
        assert d.membership.member is not None and d.membership.member.member_id == member_id
        assert d.member_authenticated is True, d
    # Discovery changes no membership and creates no session.
    assert _member(client, invited_org.organization_id, invited.member_id).status == "invited"
    assert _member(client, pending_org.organization_id, pending.member_id).status == "pending"
    assert _sessions_of(client, active_org.organization_id, active.member_id) == []
    # The IST lists the same again, without being used up.
    listed = ok(client.discovery.organizations.list(intermediate_session_token=resp.intermediate_session_token))
    assert listed.email_address == email
    assert set(_by_org(listed.discovered_organizations)) == set(found)


def test_discovery_eligible_by_email_domain_and_jit_exchange(client, server):
    domain = _domain("elig")
    org = _jit_org(client, domain)
    _with_password(client, org.organization_id, _mail("colleague", domain))
    email = _mail("newcomer", domain)
    resp = _discover(client, server, email)
    found = _by_org(resp.discovered_organizations)
    assert set(found) == {org.organization_id}, found
    assert found[org.organization_id].membership.type == "eligible_to_join_by_email_domain"
    assert _members_with_email(client, org.organization_id, email) == []
    x = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=resp.intermediate_session_token,
                                                           organization_id=org.organization_id))
    assert x.member_authenticated is True
    assert x.member.email_address == email and x.member.status == "active" and x.member.email_address_verified is True
    _assert_ml_factor(x.member_session, email)


def test_discovery_unknown_email_discovers_nothing(client, server):
    assert _discover(client, server, _mail("nobody")).discovered_organizations == []


def test_discovery_token_is_single_use(client, server):
    email = _mail()
    token = _send_discovery(client, server, email)["token"]
    first = _disc_auth(client, token)
    _assert_ist(first, email)
    d = expect_error(401, "unable_to_auth_magic_link", client.magic_links.discovery.authenticate,
                     discovery_magic_links_token=token)
    assert not d.original_json.get("intermediate_session_token")
    ok(client.discovery.organizations.list(intermediate_session_token=first.intermediate_session_token))


def test_discovery_pkce(client, server):
    email = _mail()
    verifier, challenge = _pkce()
    token = _send_discovery(client, server, email, pkce_code_challenge=challenge)["token"]
    authenticate = client.magic_links.discovery.authenticate
    expect_error(400, "pkce_expected_code_verifier", authenticate, discovery_magic_links_token=token)
    expect_error(400, "pkce_mismatch", authenticate, discovery_magic_links_token=token, pkce_code_verifier=_pkce()[0])
    _assert_ist(_disc_auth(client, token, pkce_code_verifier=verifier), email)
    expect_error(401, "unable_to_auth_magic_link", authenticate, discovery_magic_links_token=token,
                 pkce_code_verifier=verifier)
    plain = _send_discovery(client, server, email)["token"]
    expect_error(400, "pkce_did_not_expect_code_verifier", authenticate, discovery_magic_links_token=plain,
                 pkce_code_verifier=verifier)
    _assert_ist(_disc_auth(client, plain), email)


def test_discovery_exchange_into_an_organization(client, server):
    email = _mail("xchg")
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email)
    assert m.email_address_verified is False
    ist = _discover(client, server, email).intermediate_session_token
    resp = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                              organization_id=org.organization_id))
    assert resp.member_authenticated is True and resp.member_id == m.member_id
    assert resp.session_token and resp.intermediate_session_token == ""
    assert set(_factors(resp.member_session)) == {"magic_link"}, resp.member_session.authentication_factors
    _assert_ml_factor(resp.member_session, email)
    assert _member(client, org.organization_id, m.member_id).email_address_verified is True
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)


def test_discovery_exchange_accepts_an_invite(client, server):
    email = _mail("accept")
    org = h.create_org(client)
    inv, _ = _invite(client, server, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    resp = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                              organization_id=org.organization_id))
    assert resp.member_authenticated is True and resp.member_id == inv.member_id
    assert resp.member.status == "active"
    assert _member(client, org.organization_id, inv.member_id).status == "active"


def test_discovery_exchange_into_an_mfa_organization(client, server):
    email = _mail("mfa")
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = h.create_member(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    resp = ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=ist,
                                                              organization_id=org.organization_id))
    assert resp.member_authenticated is False and resp.intermediate_session_token == ist
    assert resp.mfa_required is not None
    done = _sms_finish(client, server, org.organization_id, m.member_id, ist)
    assert set(_factors(done.member_session)) == {"magic_link", "otp"}, done.member_session.authentication_factors


def test_discovery_create_organization(client, server):
    email = _mail("founder")
    slug = h.unique_slug("mldisco")
    ist = _discover(client, server, email).intermediate_session_token
    resp = ok(client.discovery.organizations.create(intermediate_session_token=ist, organization_slug=slug,
                                                    organization_name=f"ML {h.token()}"))
    assert resp.member_authenticated is True and resp.session_token
    assert resp.organization.organization_slug == slug
    assert resp.member.email_address == email and resp.member.status == "active"
    assert resp.member.email_address_verified is True and resp.member.is_admin is True
    assert set(_factors(resp.member_session)) == {"magic_link"}, resp.member_session.authentication_factors
    _assert_ml_factor(resp.member_session, email)
    expect_error(404, "intermediate_session_not_found", client.discovery.organizations.create,
                 intermediate_session_token=ist, organization_slug=h.unique_slug("again"))


# ---------------------------------------------------------------- default redirect URLs


DEFAULTS = {
    "login": "https://defaults.example.com/login",
    "signup": "https://defaults.example.com/signup",
    "invite": "https://defaults.example.com/invite",
    "discovery": "https://defaults.example.com/discovery",
}


@pytest.fixture
def defaults_server(latch_server_factory, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("ml-redirect-cfg") / "latch.toml"
    cfg.write_text("".join(
        f'[[redirect_urls]]\nurl = "{url}"\ntypes = ["{kind}"]\ndefault_types = ["{kind}"]\n'
        for kind, url in DEFAULTS.items()
    ))
    return latch_server_factory(LATCH_CONFIG=str(cfg))


def test_default_redirect_urls_from_the_configuration(defaults_server):
    srv = defaults_server
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    active = h.create_member(c, org.organization_id, _mail())
    pending = h.create_member(c, org.organization_id, _mail(), create_member_as_pending=True)
    _, login = _send(c, srv, org.organization_id, active.email_address, login=None, signup=None)
    assert login["url"] == f"{DEFAULTS['login']}?{ORG_LINK}{login['token']}", login["url"]
    _, signup = _send(c, srv, org.organization_id, pending.email_address, login=None, signup=None)
    assert signup["url"] == f"{DEFAULTS['signup']}?{ORG_LINK}{signup['token']}", signup["url"]
    _, invite = _invite(c, srv, org.organization_id, _mail(), redirect=None)
    assert invite["url"] == f"{DEFAULTS['invite']}?{ORG_LINK}{invite['token']}", invite["url"]
    disc = _send_discovery(c, srv, _mail(), redirect=None)
    assert disc["url"] == f"{DEFAULTS['discovery']}?{DISCOVERY_LINK}{disc['token']}", disc["url"]
    # An explicit URL still wins, and a URL allowed only for another type is refused.
    _, explicit = _send(c, srv, org.organization_id, active.email_address, login=REDIRECT, signup=None)
    assert explicit["url"].startswith(REDIRECT + "?")
    expect_error(400, "invalid_login_redirect_url", c.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=active.email_address,
                 login_redirect_url=DEFAULTS["signup"])
    # The links work.
    _assert_authenticated(_auth(c, login["token"]), active.member_id, org.organization_id)
    _assert_authenticated(_auth(c, signup["token"]), pending.member_id, org.organization_id)


def test_default_login_redirect_url_setting(latch_server_factory):
    default = "https://app.test/magic-login"
    srv = latch_server_factory(LATCH_DEFAULT_LOGIN_REDIRECT_URL=default)
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    m = h.create_member(c, org.organization_id, _mail())
    _, msg = _send(c, srv, org.organization_id, m.email_address, login=None, signup=None)
    assert msg["url"] == f"{default}?{ORG_LINK}{msg['token']}", msg["url"]
    # It is a login default only.
    pending = h.create_member(c, org.organization_id, _mail(), create_member_as_pending=True)
    expect_error(400, "no_signup_redirect_url", c.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=pending.email_address)
    _assert_authenticated(_auth(c, msg["token"]), m.member_id, org.organization_id)


@pytest.fixture(scope="module")
def templates_server(latch_server_factory, tmp_path_factory):
    """A server with custom templates: an invite template, and a login-link template that also
    serves discovery links (one "Magic Links - Login" template type, as on Stytch)."""
    d = tmp_path_factory.mktemp("ml-templates")
    (d / "brand-invite.toml").write_text(
        'kind = "invite_magic_link"\n'
        'subject = "Join {org} on Brand"\n'
        'text = "Brand invite for {email}: {url} ({minutes} min)"\n'
        '[locales.es]\nsubject = "Únete a {org}"\ntext = "Invitación: {url}"\n'
    )
    (d / "brand-login.toml").write_text(
        'kind = "login_magic_link"\nsubject = "Brand sign-in"\ntext = "Sign in: {url}"\n'
    )
    return latch_server_factory(LATCH_TEMPLATES_DIR=str(d), LATCH_BOOTSTRAP_REDIRECT_URLS=REDIRECT)


def test_custom_templates_by_id_and_kind(templates_server):
    srv = templates_server
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    email = _mail()
    ok(c.magic_links.email.invite(organization_id=org.organization_id, email_address=email,
                                  invite_redirect_url=REDIRECT, invite_template_id="brand-invite"))
    msg = _outbox(srv, email)[0]
    assert msg["subject"] == f"Join {org.organization_name} on Brand", msg
    assert msg["text"] == f"Brand invite for {email}: {msg['url']} (10080 min)", msg
    assert msg["token"] in msg["url"]
    ok(c.magic_links.email.invite(organization_id=org.organization_id, email_address=email, locale="es",
                                  invite_redirect_url=REDIRECT, invite_template_id="brand-invite"))
    msg = _outbox(srv, email)[0]
    assert (msg["subject"], msg["text"]) == (f"Únete a {org.organization_name}", f"Invitación: {msg['url']}")
    # A login-link template serves discovery links too.
    ok(c.magic_links.email.discovery.send(email_address=email, discovery_redirect_url=REDIRECT,
                                          login_template_id="brand-login"))
    msg = _outbox(srv, email)[0]
    assert (msg["kind"], msg["subject"]) == ("discovery_magic_link", "Brand sign-in"), msg
    # A template of another kind, or an unknown id, is refused before anything is written.
    before = len(_outbox(srv, email))
    other = _mail()
    expect_error(400, "invalid_template_id", c.magic_links.email.invite, organization_id=org.organization_id,
                 email_address=other, invite_redirect_url=REDIRECT, invite_template_id="brand-login")
    expect_error(400, "invalid_template_id", c.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=email, login_redirect_url=REDIRECT,
                 signup_redirect_url=REDIRECT, signup_template_id="brand-invite")
    expect_error(400, "invalid_template_id", c.magic_links.email.discovery.send, email_address=email,
                 discovery_redirect_url=REDIRECT, login_template_id="nope-" + h.token())
    assert len(_outbox(srv, email)) == before
    assert _members_with_email(c, org.organization_id, other) == []


def test_an_oversized_pkce_challenge_is_refused_before_anything_is_sent(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "invalid_argument", client.magic_links.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address,
                 login_redirect_url=REDIRECT, pkce_code_challenge="c" * 129)
    expect_error(400, "invalid_argument", client.magic_links.email.discovery.send,
                 email_address=m.email_address, discovery_redirect_url=REDIRECT, pkce_code_challenge="c" * 129)
    assert _outbox(server, m.email_address) == []
