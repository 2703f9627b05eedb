"""Email one-time passcodes as a primary factor: otps.email.login_or_signup and
otps.email.authenticate (otps.md; README "The authentication response pattern").

Codes are read from the development outbox (`GET /latch/v1/outbox`), exactly as a developer would
read them from a mailbox.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok

CODE_RE = re.compile(r"^[0-9]{6}$")
SENDS_PER_WINDOW = 10  # more than this many codes to one recipient within 10 minutes → 429
MAX_WRONG_GUESSES = 5

# A word of the message copy that only the right language has (login and signup messages alike).
LOCALE_WORDS = {"en": "expires", "es": "Caduca", "fr": "expire dans", "pt-br": "expira em"}


# ---------------------------------------------------------------- helpers


def _mail(local: str = "otp", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('eotp')}"


def _outbox(server, recipient: str, limit: int = 50) -> List[Dict[str, Any]]:
    """Messages sent to `recipient`, newest first."""
    with h.TimeoutSession() as s:
        r = s.get(
            server.api("/latch/v1/outbox"),
            params={"recipient": recipient, "limit": limit},
            auth=(server.project.project_id, server.project.secret),
        )
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _latest(server, recipient: str) -> Dict[str, Any]:
    msgs = _outbox(server, recipient)
    assert msgs, f"no message in the outbox for {recipient}"
    return msgs[0]


def _send(client, server, org_id: str, email: str, **kwargs):
    """login_or_signup; returns (response, the message it sent)."""
    before = len(_outbox(server, email))
    resp = ok(client.otps.email.login_or_signup(organization_id=org_id, email_address=email, **kwargs))
    msgs = _outbox(server, email)
    assert len(msgs) == before + 1, f"login_or_signup must send exactly one message, outbox: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "email", msg
    assert CODE_RE.match(msg["code"] or ""), f"the code is 6 digits: {msg['code']!r}"
    return resp, msg


def _code(client, server, org_id: str, email: str, **kwargs) -> str:
    return _send(client, server, org_id, email, **kwargs)[1]["code"]


def _auth(client, org_id: str, email: str, code: str, **kwargs):
    return ok(client.otps.email.authenticate(organization_id=org_id, email_address=email, code=code, **kwargs))


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _with_password(client, org_id: str, email: str, **kwargs):
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs)).member


def _factors(session) -> Dict[str, Any]:
    """type -> factor; each type at most once."""
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = f.type.value if hasattr(f.type, "value") else f.type
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _assert_email_factor(f, member) -> None:
    assert _value(f.delivery_method) == "email"
    assert f.email_factor is not None, f
    assert f.email_factor.email_address == member.email_address
    assert isinstance(f.email_factor.email_id, str) and f.email_factor.email_id


def _assert_authenticated(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is True
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt
    assert resp.member_session is not None
    assert resp.member_session.member_id == member_id
    assert resp.member_session.organization_id == org_id
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None and resp.primary_required is None


def _assert_pending(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.member_session is None
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token


def _jit_org(client, domain: str):
    return h.create_org(client, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain])


def _members_with_email(client, org_id: str, email: str):
    q = h.query(h.op("member_emails", [email]))
    members, _, _ = h.member_search_all(client, [org_id], q=q)
    return members


# ---------------------------------------------------------------- login_or_signup


def test_active_member_gets_a_login_code(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    assert m.status == "active"
    resp, msg = _send(client, server, org.organization_id, m.email_address)
    assert resp.member_created is False
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.member.status == "active"
    assert resp.organization.organization_id == org.organization_id
    assert msg["kind"] == "login_otp"
    assert msg["recipient"] == m.email_address
    assert msg["locale"] == "en"
    assert org.organization_name in msg["subject"]
    assert msg["code"] in msg["text"] and msg["code"] in msg["html"]
    assert LOCALE_WORDS["en"] in msg["text"]


def test_pending_member_gets_a_signup_code(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    assert m.status == "pending"
    resp, msg = _send(client, server, org.organization_id, m.email_address)
    assert resp.member_created is False and resp.member_id == m.member_id
    assert resp.member.status == "pending", "sending a code does not activate the member"
    assert msg["kind"] == "signup_otp"
    assert msg["code"] in msg["text"] and msg["code"] in msg["html"]


def test_unknown_email_with_allowed_domain_creates_a_pending_member(client, server):
    domain = h.unique_domain("jit")
    org = _jit_org(client, domain)
    email = _mail("new", domain)
    resp, msg = _send(client, server, org.organization_id, email)
    assert resp.member_created is True
    assert resp.member.email_address == email and resp.member.status == "pending"
    assert resp.member.email_address_verified is False
    assert resp.member_id == resp.member.member_id
    assert msg["kind"] == "signup_otp"
    assert _member(client, org.organization_id, resp.member_id) == resp.member
    # A second send finds the (still pending) member instead of creating another.
    again, msg2 = _send(client, server, org.organization_id, email)
    assert again.member_created is False and again.member_id == resp.member_id
    assert msg2["kind"] == "signup_otp"
    assert len(_members_with_email(client, org.organization_id, email)) == 1


@pytest.mark.parametrize("jit", ["NOT_ALLOWED", "RESTRICTED_OTHER_DOMAIN"])
def test_unknown_email_without_jit_is_refused(client, server, jit):
    domain = h.unique_domain("nojit")
    if jit == "NOT_ALLOWED":
        org = h.create_org(client)
    else:
        org = _jit_org(client, h.unique_domain("elsewhere"))
    email = _mail("stranger", domain)
    expect_error(403, "email_jit_provisioning_not_allowed", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=email)
    assert _outbox(server, email) == []
    assert _members_with_email(client, org.organization_id, email) == []


@pytest.mark.parametrize("field", ["login_expiration_minutes", "signup_expiration_minutes"])
@pytest.mark.parametrize("minutes", [0, 1, 16, 60, -5])
def test_expiration_minutes_out_of_range(client, server, field, minutes):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "invalid_expiration_otp", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address, **{field: minutes})
    assert _outbox(server, m.email_address) == []


@pytest.mark.parametrize("minutes", [2, 15])
def test_expiration_minutes_bounds_are_accepted(client, server, minutes):
    org = h.create_org(client)
    active = h.create_member(client, org.organization_id, _mail())
    pending = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    _, login = _send(client, server, org.organization_id, active.email_address, login_expiration_minutes=minutes)
    assert login["kind"] == "login_otp"
    assert re.search(rf"\b{minutes} minutes\b", login["text"]), f"the message states the lifetime: {login['text']!r}"
    _, signup = _send(client, server, org.organization_id, pending.email_address, signup_expiration_minutes=minutes)
    assert signup["kind"] == "signup_otp"
    assert re.search(rf"\b{minutes} minutes\b", signup["text"]), signup["text"]
    # The code is valid.
    _assert_authenticated(_auth(client, org.organization_id, active.email_address, login["code"]),
                          active.member_id, org.organization_id)


def test_default_lifetime_is_ten_minutes(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    _, msg = _send(client, server, org.organization_id, m.email_address)
    assert re.search(r"\b10 minutes\b", msg["text"]), msg["text"]


@pytest.mark.parametrize("field", ["login_template_id", "signup_template_id"])
def test_unknown_template_id_is_refused(client, server, field):
    """The template id of the message being sent must exist (no custom template was created here)."""
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=(field == "signup_template_id"))
    expect_error(400, "invalid_template_id", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address, **{field: "tmpl-" + h.token()})
    assert _outbox(server, m.email_address) == []
    assert _member(client, org.organization_id, m.member_id).status == m.status


@pytest.mark.parametrize("locale", ["en", "es", "fr", "pt-br"])
@pytest.mark.parametrize("status", ["active", "pending"])
def test_locales(client, server, locale, status):
    name = f"Smith & <Sons> \"{h.token()}\""
    org = h.create_org(client, organization_name=name)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=(status == "pending"))
    _, msg = _send(client, server, org.organization_id, m.email_address, locale=locale)
    assert msg["kind"] == ("login_otp" if status == "active" else "signup_otp")
    assert msg["locale"] == locale
    assert LOCALE_WORDS[locale] in msg["text"], msg["text"]
    assert LOCALE_WORDS[locale] in msg["html"], msg["html"]
    if locale != "en":
        assert LOCALE_WORDS["en"] not in msg["text"], f"{locale} message has English copy: {msg['text']!r}"
    assert msg["code"] in msg["text"] and msg["code"] in msg["html"]
    # The org name: verbatim in subject and text, HTML-escaped in the HTML part.
    assert name in msg["subject"] and name in msg["text"]
    assert "Smith &amp; &lt;Sons&gt;" in msg["html"], msg["html"]
    assert "<Sons>" not in msg["html"]
    # Different languages, different subjects.
    if locale != "en":
        en_org = h.create_org(client, organization_name=name)
        en_m = h.create_member(client, en_org.organization_id, _mail(), create_member_as_pending=(status == "pending"))
        _, en_msg = _send(client, server, en_org.organization_id, en_m.email_address)
        assert en_msg["subject"] != msg["subject"]


@pytest.mark.parametrize("locale", ["de", "xx", "de-DE", "english"])
def test_unknown_locale_is_refused(client, server, locale):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    expect_error(400, "invalid_locale", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address, locale=locale)
    assert _outbox(server, m.email_address) == []


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com"])
def test_bad_email_is_refused(client, email):
    domain = h.unique_domain("bad")
    org = _jit_org(client, domain)
    expect_error(400, "invalid_email", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=email)


def test_unknown_organization(client, server):
    email = _mail()
    for org_id in ("organization-test-" + "0" * 8 + "-0000-4000-8000-000000000000", "no-such-slug-" + h.token()):
        expect_error(404, "organization_not_found", client.otps.email.login_or_signup,
                     organization_id=org_id, email_address=email)
        expect_error(404, "organization_not_found", client.otps.email.authenticate,
                     organization_id=org_id, email_address=email, code="123456")
    assert _outbox(server, email) == []


def test_organization_slug_as_locator(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    resp, msg = _send(client, server, org.organization_slug, m.email_address)
    assert resp.member_id == m.member_id and resp.organization.organization_id == org.organization_id
    _assert_authenticated(_auth(client, org.organization_slug, m.email_address, msg["code"]), m.member_id, org.organization_id)


# ---------------------------------------------------------------- authenticate


def test_authenticate_issues_a_session(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    assert m.email_address_verified is False
    code = _code(client, server, org.organization_id, m.email_address)
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _auth(client, org.organization_id, m.email_address, code,
                 session_duration_minutes=90, session_custom_claims={"team": "blue"})
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.email_address_verified is True
    assert resp.member.status == "active"
    s = resp.member_session
    factors = _factors(s)
    assert set(factors) == {"email_otp"}, s.authentication_factors
    _assert_email_factor(factors["email_otp"], m)
    assert resp.method_id == factors["email_otp"].email_factor.email_id
    assert s.custom_claims == {"team": "blue"}
    exp = s.expires_at
    assert before + datetime.timedelta(minutes=89) <= exp <= before + datetime.timedelta(minutes=91, seconds=30), exp
    # The session is real.
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == s.member_session_id
    assert set(_factors(got.member_session)) == {"email_otp"}
    got_jwt = ok(client.sessions.authenticate(session_jwt=resp.session_jwt))
    assert got_jwt.member_session.member_session_id == s.member_session_id
    assert _member(client, org.organization_id, m.member_id).email_address_verified is True


def test_default_session_duration_is_an_hour(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    code = _code(client, server, org.organization_id, m.email_address)
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _auth(client, org.organization_id, m.email_address, code)
    exp = resp.member_session.expires_at
    assert before + datetime.timedelta(minutes=59) <= exp <= before + datetime.timedelta(minutes=61, seconds=30), exp


def test_pending_member_becomes_active(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    code = _code(client, server, org.organization_id, m.email_address)
    resp = _auth(client, org.organization_id, m.email_address, code)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active" and resp.member.email_address_verified is True
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.status == "active" and stored.email_address_verified is True
    # Next time it is a login code.
    _, msg = _send(client, server, org.organization_id, m.email_address)
    assert msg["kind"] == "login_otp"


def test_jit_signup_end_to_end(client, server):
    domain = h.unique_domain("jit")
    org = _jit_org(client, domain)
    email = _mail("newbie", domain)
    resp, msg = _send(client, server, org.organization_id, email, locale="fr")
    assert resp.member_created is True and msg["kind"] == "signup_otp" and msg["locale"] == "fr"
    auth = _auth(client, org.organization_id, email, msg["code"])
    _assert_authenticated(auth, resp.member_id, org.organization_id)
    assert auth.member.status == "active" and auth.member.email_address_verified is True


def test_only_the_latest_code_is_valid(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    first = _code(client, server, org.organization_id, m.email_address)
    second = _code(client, server, org.organization_id, m.email_address)
    while second == first:  # one chance in a million
        second = _code(client, server, org.organization_id, m.email_address)
    expect_error(404, "otp_code_not_found", client.otps.email.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, code=first)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    _assert_authenticated(_auth(client, org.organization_id, m.email_address, second), m.member_id, org.organization_id)


def test_code_is_single_use(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    code = _code(client, server, org.organization_id, m.email_address)
    first = _auth(client, org.organization_id, m.email_address, code)
    assert first.member_authenticated is True
    expect_error(404, "otp_code_not_found", client.otps.email.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, code=code)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_wrong_code(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    code = _code(client, server, org.organization_id, m.email_address)
    for wrong in (_other_code(code), "abcdef", "1", code + "0"):
        d = expect_error(401, "unable_to_auth_otp_code", client.otps.email.authenticate,
                         organization_id=org.organization_id, email_address=m.email_address, code=wrong)
        assert not d.original_json.get("session_token") and not d.original_json.get("intermediate_session_token")
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    assert _member(client, org.organization_id, m.member_id).email_address_verified is False
    # Four wrong guesses leave the code usable.
    _assert_authenticated(_auth(client, org.organization_id, m.email_address, code), m.member_id, org.organization_id)


def test_code_dies_after_five_wrong_guesses(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    code = _code(client, server, org.organization_id, m.email_address)
    for _ in range(MAX_WRONG_GUESSES):
        expect_error(401, "unable_to_auth_otp_code", client.otps.email.authenticate,
                     organization_id=org.organization_id, email_address=m.email_address, code=_other_code(code))
    expect_error(404, "otp_code_not_found", client.otps.email.authenticate,
                 organization_id=org.organization_id, email_address=m.email_address, code=code)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # A new code works.
    fresh = _code(client, server, org.organization_id, m.email_address)
    _assert_authenticated(_auth(client, org.organization_id, m.email_address, fresh), m.member_id, org.organization_id)


def test_code_is_bound_to_its_organization(client, server):
    email = _mail("two-orgs")
    org_a, org_b = h.create_org(client), h.create_org(client)
    a = h.create_member(client, org_a.organization_id, email)
    b = h.create_member(client, org_b.organization_id, email)
    code = _code(client, server, org_a.organization_id, email)
    expect_error(404, "otp_code_not_found", client.otps.email.authenticate,
                 organization_id=org_b.organization_id, email_address=email, code=code)
    assert _sessions_of(client, org_b.organization_id, b.member_id) == []
    assert _member(client, org_b.organization_id, b.member_id).email_address_verified is False
    # Still valid where it was sent.
    _assert_authenticated(_auth(client, org_a.organization_id, email, code), a.member_id, org_a.organization_id)


def test_code_is_bound_to_its_email(client, server):
    org = h.create_org(client)
    a = h.create_member(client, org.organization_id, _mail("a"))
    b = h.create_member(client, org.organization_id, _mail("b"))
    code = _code(client, server, org.organization_id, a.email_address)
    expect_error(404, "otp_code_not_found", client.otps.email.authenticate,
                 organization_id=org.organization_id, email_address=b.email_address, code=code)
    assert _sessions_of(client, org.organization_id, b.member_id) == []
    _assert_authenticated(_auth(client, org.organization_id, a.email_address, code), a.member_id, org.organization_id)


def test_send_rate_limit_per_recipient(client, server):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    other = h.create_member(client, org.organization_id, _mail())
    for _ in range(SENDS_PER_WINDOW):
        ok(client.otps.email.login_or_signup(organization_id=org.organization_id, email_address=m.email_address))
    expect_error(429, "too_many_requests", client.otps.email.login_or_signup,
                 organization_id=org.organization_id, email_address=m.email_address)
    msgs = _outbox(server, m.email_address)
    assert len(msgs) == SENDS_PER_WINDOW, "the refused send sent nothing"
    # The last code sent is still the valid one.
    _assert_authenticated(_auth(client, org.organization_id, m.email_address, msgs[0]["code"]), m.member_id, org.organization_id)
    # Other recipients are not affected.
    _send(client, server, org.organization_id, other.email_address)


# ---------------------------------------------------------------- primary-auth restrictions and sessions


def test_restricted_to_password_requires_the_password_too(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    email = _mail("restricted")
    m = _with_password(client, org.organization_id, email)
    code = _code(client, server, org.organization_id, email)
    resp = _auth(client, org.organization_id, email, code, session_custom_claims={"ignored": True})
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.primary_required is not None
    assert resp.primary_required.allowed_auth_methods == ["password"]
    assert resp.mfa_required is None
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # The password completes the login; the email factor from the IST joins the session.
    done = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD,
                                            intermediate_session_token=resp.intermediate_session_token))
    assert done.member_authenticated is True and done.session_token and done.intermediate_session_token == ""
    factors = _factors(done.member_session)
    assert set(factors) == {"email_otp", "password"}, done.member_session.authentication_factors
    _assert_email_factor(factors["email_otp"], m)
    assert _value(factors["password"].delivery_method) == "knowledge"


def test_password_login_restricted_to_email_otp_is_completed_by_the_code(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"])
    email = _mail("restricted")
    m = _with_password(client, org.organization_id, email)
    pw = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD))
    _assert_pending(pw, m.member_id, org.organization_id)
    assert pw.primary_required.allowed_auth_methods == ["email_otp"]
    code = _code(client, server, org.organization_id, email)
    done = _auth(client, org.organization_id, email, code, intermediate_session_token=pw.intermediate_session_token)
    _assert_authenticated(done, m.member_id, org.organization_id)
    factors = _factors(done.member_session)
    assert set(factors) == {"email_otp", "password"}, done.member_session.authentication_factors
    _assert_email_factor(factors["email_otp"], m)
    # The IST is used up.
    code2 = _code(client, server, org.organization_id, email)
    expect_error(404, "intermediate_session_not_found", client.otps.email.authenticate,
                 organization_id=org.organization_id, email_address=email, code=code2,
                 intermediate_session_token=pw.intermediate_session_token)


def test_email_otp_alone_is_enough_when_allowed(client, server):
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"])
    m = h.create_member(client, org.organization_id, _mail())
    code = _code(client, server, org.organization_id, m.email_address)
    _assert_authenticated(_auth(client, org.organization_id, m.email_address, code), m.member_id, org.organization_id)


def test_own_session_is_extended_with_the_email_factor(client, server):
    org = h.create_org(client)
    email = _mail("step")
    m = _with_password(client, org.organization_id, email)
    first = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD))
    assert first.member_authenticated is True
    ok(client.organizations.update(organization_id=org.organization_id, mfa_policy="REQUIRED_FOR_ALL"))
    code = _code(client, server, org.organization_id, email)
    resp = _auth(client, org.organization_id, email, code, session_token=first.session_token)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member_session.member_session_id == first.member_session.member_session_id
    assert set(_factors(resp.member_session)) == {"password", "email_otp"}
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_mfa_org_gives_an_ist_not_a_session(client, server):
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    code = _code(client, server, org.organization_id, m.email_address)
    resp = _auth(client, org.organization_id, m.email_address, code, session_duration_minutes=30)
    _assert_pending(resp, m.member_id, org.organization_id)
    assert resp.mfa_required is not None and resp.primary_required is None
    assert resp.mfa_required.secondary_auth_initiated is None, "no phone: nothing sent"
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # The email is proven even though no session was issued.
    assert resp.member.email_address_verified is True
    assert resp.member.status == "pending", "a pending member becomes active only on full authentication"
    now = datetime.datetime.now(datetime.timezone.utc)
    exp = resp.intermediate_session_token_expires_at
    assert exp is not None and now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11)
