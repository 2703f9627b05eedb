"""Discovery: otps.email.discovery.send / authenticate, discovery.organizations.list,
discovery.intermediate_sessions.exchange and discovery.organizations.create (discovery.md, otps.md,
objects.md DiscoveredOrganization / Membership, README "The authentication response pattern").

Codes are read from the development outbox (`GET /latch/v1/outbox`), as a developer would read
them from a mailbox (or a phone).

Not covered: `invited_member` (no API endpoint in scope creates an invited member) and the
pre-emptive MFA SMS of an exchange.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok

CODE_RE = re.compile(r"^[0-9]{6}$")
MAX_WRONG_GUESSES = 5
LOCALE_WORDS = {"en": "expires", "es": "Caduca", "fr": "expire dans", "pt-br": "expira em"}
SEND_PATH = "/v1/b2b/otps/email/discovery/send"


# ---------------------------------------------------------------- helpers


def _domain(prefix: str = "d") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}.test"


def _mail(local: str = "disc", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or _domain()}"


def _phone() -> str:
    return f"+1202555{random.randint(2000, 9999)}"


def _outbox(server, recipient: str, project=None, limit: int = 50) -> List[Dict[str, Any]]:
    """Messages sent to `recipient` in `project` (default: the bootstrap project), newest first."""
    project = project or server.project
    with h.TimeoutSession() as s:
        r = s.get(
            server.api("/latch/v1/outbox"),
            params={"recipient": recipient, "limit": limit},
            auth=(project.project_id, project.secret),
        )
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _send(client, server, email: str, project=None, **kwargs) -> Dict[str, Any]:
    """discovery.send; returns the one message it sent."""
    before = len(_outbox(server, email, project))
    ok(client.otps.email.discovery.send(email_address=email, **kwargs))
    msgs = _outbox(server, email, project)
    assert len(msgs) == before + 1, f"discovery send must send exactly one message, outbox: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "email", msg
    assert msg["kind"] == "discovery_otp", msg
    assert CODE_RE.match(msg["code"] or ""), f"the code is 6 digits: {msg['code']!r}"
    return msg


def _code(client, server, email: str, project=None, **kwargs) -> str:
    return _send(client, server, email, project, **kwargs)["code"]


def _authenticate(client, email: str, code: str):
    return ok(client.otps.email.discovery.authenticate(email_address=email, code=code))


def _discover(client, server, email: str, project=None):
    """Full discovery login by email OTP; returns the authenticate response."""
    resp = _authenticate(client, email, _code(client, server, email, project))
    _assert_ist(resp, email)
    return resp


def _assert_ist(resp, email: str) -> None:
    assert isinstance(resp.intermediate_session_token, str) and resp.intermediate_session_token
    assert resp.email_address == email
    # intermediate_session_token_expires_at is optional in the discovery authenticate response; when
    # present it states the 10-minute lifetime.
    exp = resp.intermediate_session_token_expires_at
    if exp is not None:
        now = datetime.datetime.now(datetime.timezone.utc)
        assert now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11), f"IST lifetime is 10 minutes: {exp}"


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _by_org(discovered) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for d in discovered:
        assert d.organization is not None and d.membership is not None, d
        oid = d.organization.organization_id
        assert oid not in out, f"organization {oid} listed twice: {discovered}"
        out[oid] = d
    return out


def _check_entry(d, org, mtype: str, member=None, authenticated: Optional[bool] = True) -> None:
    """One DiscoveredOrganization. `authenticated=None`: member_authenticated not asserted (eligible_*
    entries: the reference does not say what it is before a member exists)."""
    assert d.organization.organization_id == org.organization_id
    assert d.organization.organization_slug == org.organization_slug
    assert d.organization.organization_name == org.organization_name
    assert d.membership.type == mtype, d.membership
    assert d.membership.details is None, d.membership.details
    if member is None:
        assert d.membership.member is None, "eligible_* memberships carry no member"
    else:
        assert d.membership.member is not None
        assert d.membership.member.member_id == member.member_id
        assert d.membership.member.email_address == member.email_address
        assert d.membership.member.organization_id == org.organization_id
    assert isinstance(d.member_authenticated, bool)
    if authenticated is not None:
        assert d.member_authenticated is authenticated, d
    if authenticated:
        assert d.primary_required is None and d.mfa_required is None, d


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _sessions_of(client, org_id: str, member_id: str):
    return ok(client.sessions.get(organization_id=org_id, member_id=member_id)).member_sessions


def _members_with_email(client, org_id: str, email: str):
    q = h.query(h.op("member_emails", [email]))
    members, _, _ = h.member_search_all(client, [org_id], q=q)
    return members


def _with_password(client, org_id: str, email: str, **kwargs):
    """A member with a password (passwords.migrate also verifies the email)."""
    return ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD), **kwargs)).member


def _verified_by_email_otp(client, server, org_id: str, email: str):
    m = h.create_member(client, org_id, email)
    ok(client.otps.email.login_or_signup(organization_id=org_id, email_address=email))
    code = _outbox(server, email)[0]["code"]
    resp = ok(client.otps.email.authenticate(organization_id=org_id, email_address=email, code=code))
    assert resp.member.email_address_verified is True
    return m


def _jit_org(client, domain: str, **kwargs):
    return h.create_org(client, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain], **kwargs)


def _eligible_org(client, domain: str, **kwargs):
    """A JIT org for `domain` that already has a verified member of that domain."""
    org = _jit_org(client, domain, **kwargs)
    _with_password(client, org.organization_id, _mail("colleague", domain))
    return org


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _factors(session) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _assert_email_factor(session, email: str) -> None:
    f = _factors(session).get("email_otp")
    assert f is not None, session.authentication_factors
    assert _value(f.delivery_method) == "email"
    assert f.email_factor is not None and f.email_factor.email_address == email


def _assert_authenticated(resp, member_id: str, org_id: str) -> None:
    assert resp.member_authenticated is True
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization.organization_id == org_id
    assert resp.member.organization_id == org_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert isinstance(resp.session_jwt, str) and resp.session_jwt
    assert resp.member_session is not None
    assert resp.member_session.member_id == member_id
    assert resp.member_session.organization_id == org_id
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None and resp.primary_required is None


def _assert_pending(resp, org_id: str, ist: str) -> None:
    assert resp.member_authenticated is False
    assert resp.member_id and resp.member.member_id == resp.member_id
    assert resp.organization.organization_id == org_id
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.member_session is None
    assert resp.intermediate_session_token == ist, "the same IST is returned when more steps are needed"


def _exchange(client, ist: str, org_id: str, **kwargs):
    return ok(client.discovery.intermediate_sessions.exchange(intermediate_session_token=ist, organization_id=org_id, **kwargs))


def _org_scoped_ist(client) -> str:
    """An IST from an organization-scoped password login (MFA-required org)."""
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    email = _mail("pw")
    _with_password(client, org.organization_id, email)
    resp = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD))
    assert resp.member_authenticated is False and resp.intermediate_session_token
    return resp.intermediate_session_token


def _complete_with_sms(client, server, org_id: str, member_id: str, ist: str):
    phone = _phone()
    before = len(_outbox(server, phone))
    ok(client.otps.sms.send(organization_id=org_id, member_id=member_id, mfa_phone_number=phone, intermediate_session_token=ist))
    msgs = _outbox(server, phone)
    assert len(msgs) == before + 1, msgs
    assert msgs[0]["kind"] == "sms_otp", msgs[0]
    done = ok(client.otps.sms.authenticate(organization_id=org_id, member_id=member_id, code=msgs[0]["code"],
                                           intermediate_session_token=ist))
    assert done.member_id == member_id
    assert done.session_token and done.session_jwt and done.member_session is not None
    assert done.member_session.organization_id == org_id
    sms = _factors(done.member_session).get("otp")
    assert sms is not None, done.member_session.authentication_factors
    assert _value(sms.delivery_method) == "sms"
    assert sms.phone_number_factor is not None and sms.phone_number_factor.phone_number == phone
    return done


# ---------------------------------------------------------------- send


def test_send_delivers_a_discovery_code(client, server, http):
    email = _mail()
    msg = _send(client, server, email)
    assert msg["recipient"] == email
    assert msg["locale"] == "en"
    assert msg["code"] in msg["text"] and msg["code"] in msg["html"]
    assert re.search(r"\b10 minutes\b", msg["text"]), f"default lifetime is 10 minutes: {msg['text']!r}"
    # The response is the envelope and nothing else.
    r = http.post(server.api(SEND_PATH), json={"email_address": _mail()},
                  auth=(server.project.project_id, server.project.secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"status_code", "request_id"}, body
    assert body["status_code"] == 200 and body["request_id"]


def test_send_creates_no_member(client, server):
    domain = _domain()
    org = _eligible_org(client, domain)
    email = _mail("visitor", domain)
    _send(client, server, email)
    assert _members_with_email(client, org.organization_id, email) == []


@pytest.mark.parametrize("minutes", [0, 1, 16, 60, -5])
def test_expiration_minutes_out_of_range(client, server, minutes):
    email = _mail()
    expect_error(400, "invalid_expiration_otp", client.otps.email.discovery.send,
                 email_address=email, discovery_expiration_minutes=minutes)
    assert _outbox(server, email) == []


@pytest.mark.parametrize("minutes", [2, 15])
def test_expiration_minutes_bounds_are_accepted(client, server, minutes):
    email = _mail()
    msg = _send(client, server, email, discovery_expiration_minutes=minutes)
    assert re.search(rf"\b{minutes} minutes\b", msg["text"]), f"the message states the lifetime: {msg['text']!r}"
    _assert_ist(_authenticate(client, email, msg["code"]), email)


def test_unknown_template_id_is_refused(client, server):
    email = _mail()
    expect_error(400, "invalid_template_id", client.otps.email.discovery.send,
                 email_address=email, login_template_id="tmpl-" + h.token())
    assert _outbox(server, email) == []


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com", ""])
def test_bad_email_is_refused(client, email):
    expect_error(400, "invalid_email", client.otps.email.discovery.send, email_address=email)


@pytest.mark.parametrize("locale", ["en", "es", "fr", "pt-br"])
def test_locales(client, server, locale):
    email = _mail()
    msg = _send(client, server, email, locale=locale)
    assert msg["locale"] == locale
    assert LOCALE_WORDS[locale] in msg["text"], msg["text"]
    assert LOCALE_WORDS[locale] in msg["html"], msg["html"]
    if locale != "en":
        assert LOCALE_WORDS["en"] not in msg["text"], f"{locale} message has English copy: {msg['text']!r}"
        en = _send(client, server, _mail())
        assert en["subject"] != msg["subject"]
    assert msg["code"] in msg["text"] and msg["code"] in msg["html"]
    _assert_ist(_authenticate(client, email, msg["code"]), email)


@pytest.mark.parametrize("locale", ["de", "xx", "de-DE", "english"])
def test_unknown_locale_is_refused(client, server, locale):
    email = _mail()
    expect_error(400, "invalid_locale", client.otps.email.discovery.send, email_address=email, locale=locale)
    assert _outbox(server, email) == []


# ---------------------------------------------------------------- authenticate: the code


def test_unknown_email_discovers_nothing(client, server):
    email = _mail("nobody")
    resp = _discover(client, server, email)
    assert resp.discovered_organizations == []


def test_only_the_latest_code_is_valid(client, server):
    email = _mail()
    first = _code(client, server, email)
    second = _code(client, server, email)
    while second == first:  # one chance in a million
        second = _code(client, server, email)
    expect_error(404, "otp_code_not_found", client.otps.email.discovery.authenticate, email_address=email, code=first)
    _assert_ist(_authenticate(client, email, second), email)


def test_code_is_single_use(client, server):
    email = _mail()
    code = _code(client, server, email)
    _assert_ist(_authenticate(client, email, code), email)
    expect_error(404, "otp_code_not_found", client.otps.email.discovery.authenticate, email_address=email, code=code)


def test_wrong_code(client, server):
    email = _mail()
    code = _code(client, server, email)
    for wrong in (_other_code(code), "abcdef", "1", code + "0"):
        d = expect_error(401, "unable_to_auth_otp_code", client.otps.email.discovery.authenticate,
                         email_address=email, code=wrong)
        assert not d.original_json.get("intermediate_session_token")
    # Four wrong guesses leave the code usable.
    _assert_ist(_authenticate(client, email, code), email)


def test_code_dies_after_five_wrong_guesses(client, server):
    email = _mail()
    code = _code(client, server, email)
    for _ in range(MAX_WRONG_GUESSES):
        expect_error(401, "unable_to_auth_otp_code", client.otps.email.discovery.authenticate,
                     email_address=email, code=_other_code(code))
    expect_error(404, "otp_code_not_found", client.otps.email.discovery.authenticate, email_address=email, code=code)
    fresh = _code(client, server, email)
    _assert_ist(_authenticate(client, email, fresh), email)


def test_code_is_bound_to_its_email(client, server):
    a, b = _mail("a"), _mail("b")
    code = _code(client, server, a)
    expect_error(404, "otp_code_not_found", client.otps.email.discovery.authenticate, email_address=b, code=code)
    _assert_ist(_authenticate(client, a, code), a)


def test_no_code_was_sent(client):
    expect_error(404, "otp_code_not_found", client.otps.email.discovery.authenticate, email_address=_mail(), code="123456")


def test_each_authentication_gets_its_own_ist(client, server):
    email = _mail()
    first = _discover(client, server, email)
    second = _discover(client, server, email)
    assert first.intermediate_session_token != second.intermediate_session_token


# ---------------------------------------------------------------- authenticate: discovered organizations


def test_memberships_are_listed_by_status(client, server):
    email = _mail("member")
    active_org, pending_org, deleted_org, gone_org, unrelated = (h.create_org(client) for _ in range(5))
    active = h.create_member(client, active_org.organization_id, email)
    pending = h.create_member(client, pending_org.organization_id, email, create_member_as_pending=True)
    deleted = h.create_member(client, deleted_org.organization_id, email)
    ok(client.organizations.members.delete(organization_id=deleted_org.organization_id, member_id=deleted.member_id))
    h.create_member(client, gone_org.organization_id, email)
    ok(client.organizations.delete(organization_id=gone_org.organization_id))
    h.create_member(client, unrelated.organization_id, _mail("someone-else"))

    resp = _discover(client, server, email)
    found = _by_org(resp.discovered_organizations)
    assert set(found) == {active_org.organization_id, pending_org.organization_id}, found
    _check_entry(found[active_org.organization_id], active_org, "active_member", active)
    _check_entry(found[pending_org.organization_id], pending_org, "pending_member", pending)
    assert found[active_org.organization_id].membership.member.status == "active"
    assert found[pending_org.organization_id].membership.member.status == "pending"
    # The organization object is the real one.
    assert found[active_org.organization_id].organization == ok(
        client.organizations.get(organization_id=active_org.organization_id)).organization
    # Discovery itself changes no membership.
    assert _member(client, pending_org.organization_id, pending.member_id).status == "pending"


@pytest.mark.parametrize("verified_by", ["passwords_migrate", "email_otp"])
def test_eligible_to_join_by_email_domain(client, server, verified_by):
    domain = _domain()
    org = _jit_org(client, domain)
    colleague = _mail("colleague", domain)
    if verified_by == "passwords_migrate":
        _with_password(client, org.organization_id, colleague)
    else:
        _verified_by_email_otp(client, server, org.organization_id, colleague)
    email = _mail("newcomer", domain)
    resp = _discover(client, server, email)
    found = _by_org(resp.discovered_organizations)
    assert set(found) == {org.organization_id}, found
    _check_entry(found[org.organization_id], org, "eligible_to_join_by_email_domain", None, authenticated=None)
    # Listing does not provision anyone.
    assert _members_with_email(client, org.organization_id, email) == []


@pytest.mark.parametrize("case", ["no_verified_member", "only_unverified_member", "other_domain", "jit_not_allowed",
                                  "verified_member_of_other_domain"])
def test_not_eligible_to_join(client, server, case):
    domain = _domain()
    email = _mail("newcomer", domain)
    if case == "no_verified_member":
        org = _jit_org(client, domain)
    elif case == "only_unverified_member":
        org = _jit_org(client, domain)
        m = h.create_member(client, org.organization_id, _mail("unverified", domain))
        assert m.email_address_verified is False
    elif case == "other_domain":
        other = _domain()
        org = _jit_org(client, other)
        _with_password(client, org.organization_id, _mail("colleague", other))
    elif case == "jit_not_allowed":
        org = h.create_org(client, email_allowed_domains=[domain])
        assert org.email_jit_provisioning == "NOT_ALLOWED"
        _with_password(client, org.organization_id, _mail("colleague", domain))
    else:  # the org allows two domains; its only verified member is of the other one
        other = _domain()
        org = h.create_org(client, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain, other])
        _with_password(client, org.organization_id, _mail("colleague", other))
    resp = _discover(client, server, email)
    assert org.organization_id not in _by_org(resp.discovered_organizations)


def test_membership_wins_over_eligibility(client, server):
    domain = _domain()
    org = _eligible_org(client, domain)
    email = _mail("insider", domain)
    m = h.create_member(client, org.organization_id, email, create_member_as_pending=True)
    found = _by_org(_discover(client, server, email).discovered_organizations)
    assert set(found) == {org.organization_id}
    _check_entry(found[org.organization_id], org, "pending_member", m)


def test_member_authenticated_follows_the_organization_policy(client, server):
    email = _mail("policy")
    phone = "+12025550187"
    plain = h.create_org(client)
    email_otp_only = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["email_otp"])
    password_only = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    mfa_all = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    mfa_with_phone = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    enrolled_org = h.create_org(client)
    members = {
        plain.organization_id: h.create_member(client, plain.organization_id, email),
        email_otp_only.organization_id: h.create_member(client, email_otp_only.organization_id, email),
        password_only.organization_id: h.create_member(client, password_only.organization_id, email),
        mfa_all.organization_id: h.create_member(client, mfa_all.organization_id, email),
        mfa_with_phone.organization_id: _with_password(client, mfa_with_phone.organization_id, email,
                                                       mfa_phone_number=phone, set_phone_number_verified=True),
        enrolled_org.organization_id: h.create_member(client, enrolled_org.organization_id, email, mfa_enrolled=True),
    }
    sms_before = len(_outbox(server, phone))
    found = _by_org(_discover(client, server, email).discovered_organizations)
    assert set(found) == set(members), found
    for org in (plain, email_otp_only):
        _check_entry(found[org.organization_id], org, "active_member", members[org.organization_id], authenticated=True)

    d = found[password_only.organization_id]
    _check_entry(d, password_only, "active_member", members[password_only.organization_id], authenticated=False)
    assert d.primary_required is not None and d.primary_required.allowed_auth_methods == ["password"]
    assert d.mfa_required is None

    for org in (mfa_all, enrolled_org):
        d = found[org.organization_id]
        _check_entry(d, org, "active_member", members[org.organization_id], authenticated=False)
        assert d.mfa_required is not None and d.primary_required is None
        assert d.mfa_required.member_options is None, "no MFA method registered"
        assert d.mfa_required.secondary_auth_initiated is None

    d = found[mfa_with_phone.organization_id]
    _check_entry(d, mfa_with_phone, "active_member", members[mfa_with_phone.organization_id], authenticated=False)
    assert d.mfa_required is not None and d.primary_required is None
    assert d.mfa_required.member_options is not None
    assert d.mfa_required.member_options.mfa_phone_number == phone
    assert d.mfa_required.secondary_auth_initiated is None, "discovery sends no SMS"
    assert len(_outbox(server, phone)) == sms_before, "discovery sends no SMS"


def test_other_projects_never_appear(client, server, other_project):
    project_b, client_b = other_project
    domain = _domain()
    email = _mail("shared", domain)
    org_b = h.create_org(client_b)
    h.create_member(client_b, org_b.organization_id, email)
    eligible_b = _eligible_org(client_b, domain)
    org_a = h.create_org(client)
    m_a = h.create_member(client, org_a.organization_id, email)

    found_a = _by_org(_discover(client, server, email).discovered_organizations)
    assert set(found_a) == {org_a.organization_id}, found_a
    _check_entry(found_a[org_a.organization_id], org_a, "active_member", m_a)
    found_b = _by_org(_discover(client_b, server, email, project_b).discovered_organizations)
    assert set(found_b) == {org_b.organization_id, eligible_b.organization_id}, found_b


def test_codes_and_ists_do_not_cross_projects(client, server, other_project):
    project_b, client_b = other_project
    email = _mail("cross")
    org_b = h.create_org(client_b)
    h.create_member(client_b, org_b.organization_id, email)
    code = _code(client, server, email)
    expect_error(404, "otp_code_not_found", client_b.otps.email.discovery.authenticate, email_address=email, code=code)
    ist = _authenticate(client, email, code).intermediate_session_token
    expect_error(404, "intermediate_session_not_found", client_b.discovery.organizations.list, intermediate_session_token=ist)
    expect_error(404, "intermediate_session_not_found", client_b.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org_b.organization_id)
    expect_error(404, "intermediate_session_not_found", client_b.discovery.organizations.create,
                 intermediate_session_token=ist, organization_slug=h.unique_slug("cross"))
    # Still whole in its own project.
    ok(client.discovery.organizations.list(intermediate_session_token=ist))


# ---------------------------------------------------------------- discovery.organizations.list


def test_list_with_ist_repeats_the_discovery_and_does_not_consume_it(client, server):
    domain = _domain()
    email = _mail("lister", domain)
    member_org = h.create_org(client)
    m = h.create_member(client, member_org.organization_id, email)
    eligible = _eligible_org(client, domain)
    auth = _discover(client, server, email)
    ist = auth.intermediate_session_token
    for _ in range(2):
        listed = ok(client.discovery.organizations.list(intermediate_session_token=ist))
        assert listed.email_address == email
        assert listed.organization_id_hint is None
        assert _by_org(listed.discovered_organizations) == _by_org(auth.discovered_organizations)
    found = _by_org(listed.discovered_organizations)
    assert set(found) == {member_org.organization_id, eligible.organization_id}
    _check_entry(found[member_org.organization_id], member_org, "active_member", m)
    _check_entry(found[eligible.organization_id], eligible, "eligible_to_join_by_email_domain", None, authenticated=None)
    # The IST still works afterwards.
    _assert_authenticated(_exchange(client, ist, member_org.organization_id), m.member_id, member_org.organization_id)


def test_list_reflects_changes_after_authentication(client, server):
    email = _mail("later")
    auth = _discover(client, server, email)
    assert auth.discovered_organizations == []
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email)
    found = _by_org(ok(client.discovery.organizations.list(intermediate_session_token=auth.intermediate_session_token)).discovered_organizations)
    assert set(found) == {org.organization_id}
    _check_entry(found[org.organization_id], org, "active_member", m)


@pytest.mark.parametrize("credential", ["session_token", "session_jwt"])
def test_list_with_a_member_session(client, server, credential):
    domain = _domain()
    email = _mail("sess", domain)
    home, pending_org, mfa_org = h.create_org(client), h.create_org(client), h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    me = h.create_member(client, home.organization_id, email)
    pend = h.create_member(client, pending_org.organization_id, email, create_member_as_pending=True)
    mfa_m = h.create_member(client, mfa_org.organization_id, email)
    eligible = _eligible_org(client, domain)
    ist = _discover(client, server, email).intermediate_session_token
    session = _exchange(client, ist, home.organization_id)
    _assert_authenticated(session, me.member_id, home.organization_id)

    for _ in range(2):  # not consumed
        listed = ok(client.discovery.organizations.list(**{credential: getattr(session, credential)}))
        assert listed.email_address == email
        assert listed.organization_id_hint is None
        found = _by_org(listed.discovered_organizations)
        assert set(found) == {home.organization_id, pending_org.organization_id, mfa_org.organization_id}, \
            "with a member session only memberships are listed"
        assert eligible.organization_id not in found
        _check_entry(found[home.organization_id], home, "active_member", me, authenticated=True)
        assert found[pending_org.organization_id].membership.type == "pending_member"
        assert found[pending_org.organization_id].membership.member.member_id == pend.member_id
        assert found[mfa_org.organization_id].membership.type == "active_member"
        assert found[mfa_org.organization_id].membership.member.member_id == mfa_m.member_id
        assert found[mfa_org.organization_id].member_authenticated is False
    # The session is still valid.
    ok(client.sessions.authenticate(session_token=session.session_token))


def test_list_needs_exactly_one_credential(client, server):
    email = _mail("args")
    org = h.create_org(client)
    h.create_member(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    session = _exchange(client, _discover(client, server, email).intermediate_session_token, org.organization_id)
    expect_error(400, "no_session_arguments", client.discovery.organizations.list)
    for combo in ({"intermediate_session_token": ist, "session_token": session.session_token},
                  {"intermediate_session_token": ist, "session_jwt": session.session_jwt},
                  {"session_token": session.session_token, "session_jwt": session.session_jwt},
                  {"intermediate_session_token": ist, "session_token": session.session_token, "session_jwt": session.session_jwt}):
        expect_error(400, "too_many_session_arguments", client.discovery.organizations.list, **combo)
    # None of them was used up.
    ok(client.discovery.organizations.list(intermediate_session_token=ist))
    ok(client.discovery.organizations.list(session_token=session.session_token))


def test_list_with_unknown_ist(client):
    for token in ("not-a-real-ist", "ist-" + h.token() * 3):
        expect_error(404, "intermediate_session_not_found", client.discovery.organizations.list, intermediate_session_token=token)


# ---------------------------------------------------------------- discovery.intermediate_sessions.exchange


def test_exchange_into_an_active_membership(client, server):
    email = _mail("xchg")
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email)
    assert m.email_address_verified is False
    ist = _discover(client, server, email).intermediate_session_token
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _exchange(client, ist, org.organization_id, session_duration_minutes=90,
                     session_custom_claims={"team": "blue"}, locale="fr")
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active"
    assert resp.member.email_address_verified is True, "the email OTP proved the address"
    s = resp.member_session
    assert set(_factors(s)) == {"email_otp"}, s.authentication_factors
    _assert_email_factor(s, email)
    assert s.custom_claims == {"team": "blue"}
    assert before + datetime.timedelta(minutes=89) <= s.expires_at <= before + datetime.timedelta(minutes=91, seconds=30), s.expires_at
    # The session is real.
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == s.member_session_id
    got_jwt = ok(client.sessions.authenticate(session_jwt=resp.session_jwt))
    assert got_jwt.member_session.member_session_id == s.member_session_id
    assert [x.member_session_id for x in _sessions_of(client, org.organization_id, m.member_id)] == [s.member_session_id]
    assert _member(client, org.organization_id, m.member_id).email_address_verified is True
    # The IST is used up.
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)
    expect_error(404, "intermediate_session_not_found", client.discovery.organizations.list, intermediate_session_token=ist)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1


def test_exchange_default_session_is_an_hour(client, server):
    email = _mail()
    org = h.create_org(client)
    h.create_member(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    before = datetime.datetime.now(datetime.timezone.utc)
    exp = _exchange(client, ist, org.organization_id).member_session.expires_at
    assert before + datetime.timedelta(minutes=59) <= exp <= before + datetime.timedelta(minutes=61, seconds=30), exp


def test_exchange_by_slug(client, server):
    email = _mail()
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    _assert_authenticated(_exchange(client, ist, org.organization_slug), m.member_id, org.organization_id)


def test_exchange_activates_a_pending_member(client, server):
    email = _mail("pend")
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email, create_member_as_pending=True)
    ist = _discover(client, server, email).intermediate_session_token
    resp = _exchange(client, ist, org.organization_id)
    _assert_authenticated(resp, m.member_id, org.organization_id)
    assert resp.member.status == "active" and resp.member.email_address_verified is True
    stored = _member(client, org.organization_id, m.member_id)
    assert stored.status == "active" and stored.email_address_verified is True
    found = _by_org(_discover(client, server, email).discovered_organizations)
    assert found[org.organization_id].membership.type == "active_member"


def test_exchange_jit_provisions_into_an_eligible_organization(client, server):
    domain = _domain()
    org = _eligible_org(client, domain)
    email = _mail("joiner", domain)
    ist = _discover(client, server, email).intermediate_session_token
    resp = _exchange(client, ist, org.organization_id)
    assert resp.member_authenticated is True
    new = resp.member
    assert new.email_address == email
    assert new.status == "active" and new.email_address_verified is True
    _assert_authenticated(resp, new.member_id, org.organization_id)
    _assert_email_factor(resp.member_session, email)
    stored = _members_with_email(client, org.organization_id, email)
    assert [x.member_id for x in stored] == [new.member_id]
    assert stored[0].status == "active" and stored[0].email_address_verified is True
    # Next discovery: a member now.
    found = _by_org(_discover(client, server, email).discovered_organizations)
    _check_entry(found[org.organization_id], org, "active_member", new)


@pytest.mark.parametrize("case", ["jit_not_allowed", "other_domain"])
def test_exchange_into_an_organization_that_does_not_allow_the_email(client, server, case):
    domain = _domain()
    email = _mail("outsider", domain)
    if case == "jit_not_allowed":
        org = h.create_org(client)
    else:
        org = _eligible_org(client, _domain())
    elsewhere = h.create_org(client)
    m = h.create_member(client, elsewhere.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    expect_error(403, "email_jit_provisioning_not_allowed", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)
    assert _members_with_email(client, org.organization_id, email) == []
    # The IST survives a refused exchange.
    _assert_authenticated(_exchange(client, ist, elsewhere.organization_id), m.member_id, elsewhere.organization_id)


def test_exchange_into_a_deleted_membership_is_refused(client, server):
    email = _mail("gone")
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, email)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    ist = _discover(client, server, email).intermediate_session_token
    expect_error(403, "email_jit_provisioning_not_allowed", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)
    assert _members_with_email(client, org.organization_id, email) == []


def test_exchange_into_an_mfa_organization_then_sms(client, server):
    email = _mail("mfa")
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    m = h.create_member(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    resp = _exchange(client, ist, org.organization_id, session_duration_minutes=30)
    _assert_pending(resp, org.organization_id, ist)
    assert resp.member_id == m.member_id
    assert resp.mfa_required is not None and resp.primary_required is None
    assert resp.mfa_required.member_options is None
    assert resp.mfa_required.secondary_auth_initiated is None
    now = datetime.datetime.now(datetime.timezone.utc)
    exp = resp.intermediate_session_token_expires_at
    assert exp is not None and now + datetime.timedelta(minutes=9) <= exp <= now + datetime.timedelta(minutes=11), exp
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # Exchanging again changes nothing.
    again = _exchange(client, ist, org.organization_id)
    _assert_pending(again, org.organization_id, ist)
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # The SMS OTP completes the login with the IST's email factor.
    done = _complete_with_sms(client, server, org.organization_id, m.member_id, ist)
    assert set(_factors(done.member_session)) == {"email_otp", "otp"}, done.member_session.authentication_factors
    _assert_email_factor(done.member_session, email)
    assert len(_sessions_of(client, org.organization_id, m.member_id)) == 1
    assert _member(client, org.organization_id, m.member_id).email_address_verified is True, "the email OTP proved the address"
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)


def test_exchange_into_a_password_only_organization(client, server):
    email = _mail("pwonly")
    org = h.create_org(client, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    m = _with_password(client, org.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    resp = _exchange(client, ist, org.organization_id, session_custom_claims={"ignored": True})
    _assert_pending(resp, org.organization_id, ist)
    assert resp.member_id == m.member_id
    assert resp.primary_required is not None and resp.primary_required.allowed_auth_methods == ["password"]
    assert resp.mfa_required is None
    assert _sessions_of(client, org.organization_id, m.member_id) == []
    # The password completes the login; the email factor from the IST joins the session.
    done = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD,
                                            intermediate_session_token=ist))
    assert done.member_authenticated is True and done.session_token and done.intermediate_session_token == ""
    assert set(_factors(done.member_session)) == {"email_otp", "password"}, done.member_session.authentication_factors


def test_exchange_with_unknown_ist(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, _mail())
    for token in ("not-a-real-ist", "ist-" + h.token() * 3):
        expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                     intermediate_session_token=token, organization_id=org.organization_id)
    assert _sessions_of(client, org.organization_id, m.member_id) == []


def test_exchange_into_an_unknown_organization(client, server, other_project):
    _, client_b = other_project
    email = _mail()
    org_b = h.create_org(client_b)
    h.create_member(client_b, org_b.organization_id, email)
    home = h.create_org(client)
    m = h.create_member(client, home.organization_id, email)
    ist = _discover(client, server, email).intermediate_session_token
    for org_id in ("organization-test-00000000-0000-4000-8000-000000000000", "no-such-slug-" + h.token(),
                   org_b.organization_id, org_b.organization_slug):
        expect_error(404, "organization_not_found", client.discovery.intermediate_sessions.exchange,
                     intermediate_session_token=ist, organization_id=org_id)
    _assert_authenticated(_exchange(client, ist, home.organization_id), m.member_id, home.organization_id)


def test_org_scoped_ist_cannot_enter_another_organization(client, server):
    email = _mail("scoped")
    mfa_org, plain = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL"), h.create_org(client)
    _with_password(client, mfa_org.organization_id, email)
    other = h.create_member(client, plain.organization_id, email)
    pw = ok(client.passwords.authenticate(organization_id=mfa_org.organization_id, email_address=email, password=hv.PASSWORD))
    assert pw.member_authenticated is False and pw.intermediate_session_token
    expect_error(400, "invalid_intermediate_session_token_for_organization", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=pw.intermediate_session_token, organization_id=plain.organization_id)
    assert _sessions_of(client, plain.organization_id, other.member_id) == []


# ---------------------------------------------------------------- discovery.organizations.create


def _create(client, ist: str, **kwargs):
    return ok(client.discovery.organizations.create(intermediate_session_token=ist, **kwargs))


def _assert_founder(resp, email: str) -> None:
    assert resp.member.email_address == email
    assert resp.member.status == "active"
    assert resp.member.email_address_verified is True
    assert resp.member.is_admin is True
    assert "stytch_admin" in h.roles_of(resp.member), resp.member.roles


def test_create_organization(client, server):
    email = _mail("founder")
    slug = h.unique_slug("disco")
    name = f"Disco {h.token()}"
    ist = _discover(client, server, email).intermediate_session_token
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = _create(client, ist, organization_name=name, organization_slug=slug, session_duration_minutes=120,
                   session_custom_claims={"plan": "pro"})
    org = resp.organization
    assert org.organization_name == name and org.organization_slug == slug
    _assert_authenticated(resp, resp.member_id, org.organization_id)
    _assert_founder(resp, email)
    s = resp.member_session
    assert "stytch_admin" in s.roles, s.roles
    assert set(_factors(s)) == {"email_otp"}, s.authentication_factors
    _assert_email_factor(s, email)
    assert s.custom_claims == {"plan": "pro"}
    assert before + datetime.timedelta(minutes=119) <= s.expires_at <= before + datetime.timedelta(minutes=121, seconds=30)
    # Everything is stored.
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization == org
    stored = _member(client, org.organization_id, resp.member_id)
    assert stored.is_admin is True and stored.status == "active" and stored.email_address_verified is True
    assert [x.member_id for x in h.member_search_all(client, [org.organization_id])[0]] == [resp.member_id]
    got = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert got.member_session.member_session_id == s.member_session_id
    # The IST is used up.
    expect_error(404, "intermediate_session_not_found", client.discovery.organizations.create,
                 intermediate_session_token=ist, organization_slug=h.unique_slug("again"))
    expect_error(404, "intermediate_session_not_found", client.discovery.intermediate_sessions.exchange,
                 intermediate_session_token=ist, organization_id=org.organization_id)
    # The founder discovers it next time.
    found = _by_org(_discover(client, server, email).discovered_organizations)
    _check_entry(found[org.organization_id], org, "active_member", stored)


def test_create_default_name_from_the_domain(client, server):
    label = f"newco{uuid.uuid4().hex[:10]}"
    email = f"founder@{label}.test"
    ist = _discover(client, server, email).intermediate_session_token
    resp = _create(client, ist)
    org = resp.organization
    assert org.organization_name == label, org.organization_name
    assert h.SLUG_RE.match(org.organization_slug), org.organization_slug
    assert label in org.organization_slug, f"the slug is derived from the email too: {org.organization_slug}"
    _assert_authenticated(resp, resp.member_id, org.organization_id)
    _assert_founder(resp, email)


def test_create_default_name_for_a_consumer_domain(client, server):
    local = f"founder{uuid.uuid4().hex[:10]}"
    email = f"{local}@gmail.com"
    ist = _discover(client, server, email).intermediate_session_token
    resp = _create(client, ist)
    org = resp.organization
    assert org.organization_name == local, org.organization_name
    assert "gmail" not in org.organization_name
    assert h.SLUG_RE.match(org.organization_slug), org.organization_slug
    assert local in org.organization_slug, org.organization_slug
    _assert_authenticated(resp, resp.member_id, org.organization_id)


def test_create_applies_the_settings(client, server):
    domain = _domain()
    email = _mail("boss", domain)
    ext = f"ext-{h.token()}"
    ist = _discover(client, server, email).intermediate_session_token
    resp = _create(client, ist, organization_slug=h.unique_slug("settings"), organization_external_id=ext,
                   trusted_metadata={"tier": "gold"}, email_jit_provisioning="RESTRICTED", email_allowed_domains=[domain],
                   email_invites="RESTRICTED", auth_methods="RESTRICTED", allowed_auth_methods=["email_otp", "password"],
                   mfa_methods="RESTRICTED", allowed_mfa_methods=["totp"])
    _assert_authenticated(resp, resp.member_id, resp.organization.organization_id)
    org = resp.organization
    assert org.organization_external_id == ext
    assert org.trusted_metadata == {"tier": "gold"}
    assert org.email_jit_provisioning == "RESTRICTED" and org.email_allowed_domains == [domain]
    assert org.email_invites == "RESTRICTED"
    assert org.auth_methods == "RESTRICTED" and sorted(org.allowed_auth_methods) == ["email_otp", "password"]
    assert org.mfa_methods == "RESTRICTED" and org.allowed_mfa_methods == ["totp"]
    assert org.mfa_policy == "OPTIONAL"
    assert ok(client.organizations.get(organization_id=ext)).organization == org
    # The founder's verified email makes the organization joinable for colleagues.
    colleague = _mail("colleague", domain)
    found = _by_org(_discover(client, server, colleague).discovered_organizations)
    _check_entry(found[org.organization_id], org, "eligible_to_join_by_email_domain", None, authenticated=None)


def test_create_with_mfa_required(client, server):
    email = _mail("mfa-founder")
    slug = h.unique_slug("mfa")
    ist = _discover(client, server, email).intermediate_session_token
    resp = _create(client, ist, organization_slug=slug, mfa_policy="REQUIRED_FOR_ALL")
    org = resp.organization
    assert org.organization_slug == slug and org.mfa_policy == "REQUIRED_FOR_ALL"
    _assert_pending(resp, org.organization_id, ist)
    assert resp.mfa_required is not None and resp.primary_required is None
    _assert_founder(resp, email)
    assert _sessions_of(client, org.organization_id, resp.member_id) == []
    done = _complete_with_sms(client, server, org.organization_id, resp.member_id, ist)
    assert "stytch_admin" in done.member_session.roles
    assert set(_factors(done.member_session)) == {"email_otp", "otp"}, done.member_session.authentication_factors


def test_create_with_a_taken_slug(client, server, other_project):
    project_b, client_b = other_project
    taken = h.create_org(client_b)
    email = _mail("dup")
    ist = _discover(client_b, server, email, project_b).intermediate_session_token
    expect_error(400, "organization_slug_already_used", client_b.discovery.organizations.create,
                 intermediate_session_token=ist, organization_slug=taken.organization_slug, organization_name="Dup")
    orgs, _ = h.org_search_all(client_b)
    assert [o.organization_id for o in orgs] == [taken.organization_id], "nothing was created"
    # The IST is still good.
    resp = _create(client_b, ist, organization_slug=h.unique_slug("dup"))
    _assert_authenticated(resp, resp.member_id, resp.organization.organization_id)
    assert len(h.org_search_all(client_b)[0]) == 2


def test_same_slug_in_another_project_is_fine(client, server, other_project):
    _, client_b = other_project
    taken = h.create_org(client_b)
    ist = _discover(client, server, _mail()).intermediate_session_token
    resp = _create(client, ist, organization_slug=taken.organization_slug)
    assert resp.organization.organization_slug == taken.organization_slug
    assert resp.organization.organization_id != taken.organization_id


def test_create_with_an_org_scoped_ist(client, server, other_project):
    project_b, client_b = other_project
    ist = _org_scoped_ist(client_b)
    before = [o.organization_id for o in h.org_search_all(client_b)[0]]
    expect_error(400, "invalid_intermediate_session_token_for_organization", client_b.discovery.organizations.create,
                 intermediate_session_token=ist, organization_slug=h.unique_slug("scoped"))
    assert [o.organization_id for o in h.org_search_all(client_b)[0]] == before


def test_create_with_unknown_ist(client, fresh_client):
    for token in ("not-a-real-ist", "ist-" + h.token() * 3):
        expect_error(404, "intermediate_session_not_found", fresh_client.discovery.organizations.create,
                     intermediate_session_token=token, organization_slug=h.unique_slug("nope"))
    assert h.org_search_all(fresh_client)[0] == []
