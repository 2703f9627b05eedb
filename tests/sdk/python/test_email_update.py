"""Self-serve email change: organizations.members.start_email_update (organizations.md
`start_email_update`; magic_links.md "Also completes start_email_update"), completed by
magic_links.authenticate (delivery EMAIL_MAGIC_LINK, the default) or otps.email.authenticate with
the new address (delivery EMAIL_OTP).

Links and codes are read from the development outbox (`GET /latch/v1/outbox`). Every refusal is
followed by a check that nothing was sent and the member is unchanged.

Not covered: the 5-minute lifetime of the link (the Rust tests cover expiry).
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any, Dict, List, Optional

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok
from stytch.b2b.models.organizations_members import StartEmailUpdateRequestOptions
from stytch.core.response_base import StytchError
from stytch.shared.method_options import Authorization

REDIRECT = "https://app.example.com/reset"  # conftest.BOOTSTRAP_REDIRECT_URLS: allowed for every type
ORG_LINK = "stytch_token_type=multi_tenant_magic_links&token="
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43,}$")
CODE_RE = re.compile(r"^[0-9]{6}$")
LOCALES = ("en", "es", "fr", "pt-br")
DENIED = (403, "session_authorization_error")
TENANCY = (403, "session_authorization_tenancy_error")
INACTIVE = (400, "action_available_only_for_active_members")
DEFAULT_LOGIN = "https://app.test/magic-login"


# ---------------------------------------------------------------- helpers


def _mail(local: str = "eu", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('emailupd')}"


def _value(x) -> str:
    return x.value if hasattr(x, "value") else x


def _outbox(srv, recipient: str, limit: int = 100) -> List[Dict[str, Any]]:
    with h.TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient, "limit": limit},
                  auth=(srv.project.project_id, srv.project.secret))
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert all(m["recipient"] == recipient for m in msgs), msgs
    return msgs


def _verified(client, org_id: str, email: Optional[str] = None, **kwargs):
    """An active member with a verified email (passwords.migrate verifies it) and a password."""
    email = email or _mail()
    m = ok(client.passwords.migrate(organization_id=org_id, email_address=email, **hv.VECTORS["md_5"](hv.PASSWORD),
                                    **kwargs)).member
    assert m.status == "active" and m.email_address_verified is True
    return m


def _login(client, org_id: str, email: str):
    resp = ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=hv.PASSWORD))
    assert resp.member_authenticated is True and resp.session_token
    return resp


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _alive(client, session_token: str) -> None:
    ok(client.sessions.authenticate(session_token=session_token))


def _dead(client, session_token: str) -> None:
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=session_token)


def _start(client, srv, org_id: str, member_id: str, new_email: str, redirect: Optional[str] = REDIRECT, **kwargs):
    """start_email_update with the magic-link delivery; returns (response, the one message sent)."""
    before = len(_outbox(srv, new_email))
    if redirect is not None:
        kwargs["login_redirect_url"] = redirect
    resp = ok(client.organizations.members.start_email_update(organization_id=org_id, member_id=member_id,
                                                              email_address=new_email, **kwargs))
    msgs = _outbox(srv, new_email)
    assert len(msgs) == before + 1, f"start_email_update must send exactly one message to the new address: {msgs}"
    msg = msgs[0]
    assert msg["channel"] == "email", msg
    if kwargs.get("delivery_method") == "EMAIL_OTP":
        assert msg["kind"] == "login_otp", msg
        assert CODE_RE.match(msg["code"] or ""), msg
        return resp, msg
    assert msg["kind"] == "email_update_magic_link", msg
    assert isinstance(msg["token"], str) and TOKEN_RE.match(msg["token"]), msg["token"]
    if redirect is not None:
        sep = "&" if "?" in redirect else "?"
        assert msg["url"] == f"{redirect}{sep}{ORG_LINK}{msg['token']}", msg["url"]
    assert msg["url"] in msg["text"], msg["text"]
    assert msg["url"] in msg["html"] or html_lib.escape(msg["url"]) in msg["html"], msg["html"]
    return resp, msg


def _refused_token(fn, **kwargs) -> None:
    """A token that no longer works: 404 magic_link_not_found or 401 unable_to_auth_magic_link."""
    with pytest.raises(StytchError) as excinfo:
        fn(**kwargs)
    d = excinfo.value.details
    assert (d.status_code, d.error_type) in ((404, "magic_link_not_found"), (401, "unable_to_auth_magic_link")), (
        f"expected 404 magic_link_not_found or 401 unable_to_auth_magic_link, got {d.status_code} {d.error_type}: "
        f"{d.error_message!r}"
    )
    h.check_error_envelope(d)


def _factors(session) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for f in session.authentication_factors:
        t = _value(f.type)
        assert t not in out, f"factor {t} listed twice: {session.authentication_factors}"
        out[t] = f
    return out


def _assert_switched(resp, m, new_email: str, org_id: str, factor: str) -> None:
    """An authenticate response that completed the update of `m` to `new_email`."""
    assert resp.member_authenticated is True
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.organization.organization_id == org_id
    assert resp.member.email_address == new_email
    assert resp.member.email_address_verified is True
    assert resp.member.status == "active"
    assert [r.email_address for r in resp.member.retired_email_addresses] == [m.email_address], \
        resp.member.retired_email_addresses
    assert resp.member.retired_email_addresses[0].email_id
    assert isinstance(resp.session_token, str) and resp.session_token
    assert resp.session_jwt and resp.intermediate_session_token == ""
    s = resp.member_session
    assert s is not None and s.member_id == m.member_id and s.organization_id == org_id
    f = _factors(s).get(factor)
    assert f is not None, s.authentication_factors
    assert _value(f.delivery_method) == "email"
    assert f.email_factor is not None and f.email_factor.email_address == new_email


def _assert_unchanged(client, org_id: str, m) -> None:
    got = _member(client, org_id, m.member_id)
    assert got.email_address == m.email_address
    assert got.email_address_verified == m.email_address_verified
    assert got.retired_email_addresses == m.retired_email_addresses
    assert got.status == m.status


def _as(session_token: Optional[str] = None, session_jwt: Optional[str] = None) -> StartEmailUpdateRequestOptions:
    return StartEmailUpdateRequestOptions(authorization=Authorization(session_token=session_token, session_jwt=session_jwt))


# ---------------------------------------------------------------- magic-link delivery


def test_start_sends_a_link_to_the_new_address_and_changes_nothing_yet(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    new = _mail("new")
    resp, msg = _start(client, server, org.organization_id, m.member_id, new)
    assert resp.member_id == m.member_id and resp.member.member_id == m.member_id
    assert resp.member.email_address == m.email_address, "the member is unchanged until the new address is proven"
    assert resp.organization.organization_id == org.organization_id
    assert msg["recipient"] == new and msg["locale"] == "en"
    assert all(x["kind"] != "email_update_magic_link" for x in _outbox(server, m.email_address)), \
        "the link goes to the new address only"
    # Nothing changed yet: same address, the session lives, the new address finds nobody.
    _assert_unchanged(client, org.organization_id, m)
    _alive(client, s.session_token)
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=org.organization_id,
                 email_address=new)
    assert _login(client, org.organization_id, m.email_address).member_id == m.member_id


def test_the_link_completes_the_update_and_ends_the_old_sessions(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    s1 = _login(client, org.organization_id, m.email_address)
    s2 = _login(client, org.organization_id, m.email_address)
    new = _mail("moved")
    _, msg = _start(client, server, org.organization_id, m.member_id, new)
    resp = ok(client.magic_links.authenticate(magic_links_token=msg["token"]))
    _assert_switched(resp, m, new, org.organization_id, "magic_link")
    assert resp.organization_id == org.organization_id
    assert resp.member_session.member_session_id not in (s1.member_session.member_session_id,
                                                         s2.member_session.member_session_id)
    assert resp.method_id == _factors(resp.member_session)["magic_link"].email_factor.email_id
    # The earlier sessions proved the old address: they are gone; the new one lives.
    _dead(client, s1.session_token)
    _dead(client, s2.session_token)
    _alive(client, resp.session_token)
    ids = [x.member_session_id for x in ok(client.sessions.get(organization_id=org.organization_id,
                                                               member_id=m.member_id)).member_sessions]
    assert ids == [resp.member_session.member_session_id]
    # Stored: found by the new address only.
    got = _member(client, org.organization_id, m.member_id)
    assert got.email_address == new and got.email_address_verified is True
    assert [r.email_address for r in got.retired_email_addresses] == [m.email_address]
    assert ok(client.organizations.members.get(organization_id=org.organization_id, email_address=new)).member.member_id \
        == m.member_id
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=org.organization_id,
                 email_address=m.email_address)
    # The link was single use.
    expect_error(401, "unable_to_auth_magic_link", client.magic_links.authenticate, magic_links_token=msg["token"])
    # The retired address is still held by the member.
    expect_error(400, "retired_member_email", client.organizations.members.create, organization_id=org.organization_id,
                 email_address=m.email_address)
    # Magic-link logins now go to the new address.
    login = ok(client.magic_links.email.login_or_signup(organization_id=org.organization_id, email_address=new,
                                                        login_redirect_url=REDIRECT))
    assert login.member_id == m.member_id and login.member_created is False


def test_start_by_slug_and_locale(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail("es")
    resp, msg = _start(client, server, org.organization_slug, m.member_id, new, locale="es")
    assert resp.member_id == m.member_id
    assert msg["locale"] == "es"


def test_each_language_has_its_own_copy(client, server):
    org = h.create_org(client)
    copies = {}
    for locale in LOCALES:
        m = _verified(client, org.organization_id)
        _, msg = _start(client, server, org.organization_id, m.member_id, _mail(locale), locale=locale)
        assert msg["locale"] == locale

        def strip(text: str, msg=msg) -> str:
            return text.replace(msg["url"], "").replace(html_lib.escape(msg["url"]), "").replace(msg["token"], "")
        copies[locale] = (msg["subject"], strip(msg["text"]), strip(msg["html"]))
    for i, part in enumerate(("subject", "text", "html")):
        values = [c[i] for c in copies.values()]
        assert len(set(values)) == len(LOCALES), f"each language has its own {part}: {values}"


def test_a_second_start_replaces_the_first(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    other = _verified(client, org.organization_id)
    first_addr, second_addr = _mail("first"), _mail("second")
    _, first = _start(client, server, org.organization_id, m.member_id, first_addr)
    _, second = _start(client, server, org.organization_id, m.member_id, second_addr)
    _refused_token(client.magic_links.authenticate, magic_links_token=first["token"])
    _assert_unchanged(client, org.organization_id, m)
    # The first address is no longer held for the member.
    _start(client, server, org.organization_id, other.member_id, first_addr)
    resp = ok(client.magic_links.authenticate(magic_links_token=second["token"]))
    _assert_switched(resp, m, second_addr, org.organization_id, "magic_link")


def test_the_link_cannot_be_used_elsewhere(client, server, fresh_client):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail()
    _, msg = _start(client, server, org.organization_id, m.member_id, new)
    expect_error(404, "magic_link_not_found", fresh_client.magic_links.authenticate, magic_links_token=msg["token"])
    expect_error(404, "magic_link_not_found", client.magic_links.discovery.authenticate,
                 discovery_magic_links_token=msg["token"])
    _assert_unchanged(client, org.organization_id, m)
    _assert_switched(ok(client.magic_links.authenticate(magic_links_token=msg["token"])), m, new,
                     org.organization_id, "magic_link")


def test_default_login_redirect_url(latch_server_factory):
    srv = latch_server_factory(LATCH_DEFAULT_LOGIN_REDIRECT_URL=DEFAULT_LOGIN)
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    org = h.create_org(c)
    m = _verified(c, org.organization_id)
    new = _mail("dflt")
    _, msg = _start(c, srv, org.organization_id, m.member_id, new, redirect=None)
    assert msg["url"] == f"{DEFAULT_LOGIN}?{ORG_LINK}{msg['token']}", msg["url"]
    _assert_switched(ok(c.magic_links.authenticate(magic_links_token=msg["token"])), m, new, org.organization_id,
                     "magic_link")


# ---------------------------------------------------------------- email OTP delivery


def test_email_otp_delivery_completes_with_the_new_address(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    new = _mail("otp")
    resp, msg = _start(client, server, org.organization_id, m.member_id, new, delivery_method="EMAIL_OTP")
    assert resp.member.email_address == m.email_address
    assert msg["code"] in msg["text"]
    _assert_unchanged(client, org.organization_id, m)
    _alive(client, s.session_token)
    done = ok(client.otps.email.authenticate(organization_id=org.organization_id, email_address=new, code=msg["code"]))
    _assert_switched(done, m, new, org.organization_id, "email_otp")
    _dead(client, s.session_token)
    _alive(client, done.session_token)
    assert _member(client, org.organization_id, m.member_id).email_address == new


def test_email_magic_link_is_the_explicit_default(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail()
    _, msg = _start(client, server, org.organization_id, m.member_id, new, delivery_method="EMAIL_MAGIC_LINK")
    assert msg["kind"] == "email_update_magic_link"


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("case", ["pending", "invited", "unverified"])
def test_only_active_members_with_a_verified_email(client, server, case):
    org = h.create_org(client)
    if case == "pending":
        m = h.create_member(client, org.organization_id, _mail(), create_member_as_pending=True)
    elif case == "invited":
        m = ok(client.magic_links.email.invite(organization_id=org.organization_id, email_address=_mail(),
                                               invite_redirect_url=REDIRECT)).member
        assert m.status == "invited"
    else:
        m = h.create_member(client, org.organization_id, _mail())
        assert m.status == "active" and m.email_address_verified is False
    new = _mail("nope")
    expect_error(*INACTIVE, client.organizations.members.start_email_update, organization_id=org.organization_id,
                 member_id=m.member_id, email_address=new, login_redirect_url=REDIRECT)
    assert _outbox(server, new) == []
    _assert_unchanged(client, org.organization_id, m)


def test_address_of_another_member_is_refused(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    taken = h.create_member(client, org.organization_id, _mail("taken"))
    before = len(_outbox(server, taken.email_address))
    for addr in (taken.email_address, taken.email_address.upper()):
        expect_error(400, "duplicate_member_email", client.organizations.members.start_email_update,
                     organization_id=org.organization_id, member_id=m.member_id, email_address=addr,
                     login_redirect_url=REDIRECT)
    assert len(_outbox(server, taken.email_address)) == before
    _assert_unchanged(client, org.organization_id, m)


def test_retired_address_of_another_member_is_refused(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    other = h.create_member(client, org.organization_id, _mail("retiring"))
    retired = other.email_address
    upd = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=other.member_id,
                                                 email_address=_mail("current"))).member
    assert [r.email_address for r in upd.retired_email_addresses] == [retired]
    expect_error(400, "retired_member_email", client.organizations.members.start_email_update,
                 organization_id=org.organization_id, member_id=m.member_id, email_address=retired,
                 login_redirect_url=REDIRECT)
    assert _outbox(server, retired) == []
    _assert_unchanged(client, org.organization_id, m)


def test_address_another_member_is_moving_to_is_refused(client, server):
    org = h.create_org(client)
    a = _verified(client, org.organization_id)
    b = _verified(client, org.organization_id)
    target = _mail("contested")
    _, msg = _start(client, server, org.organization_id, a.member_id, target)
    expect_error(400, "duplicate_member_email", client.organizations.members.start_email_update,
                 organization_id=org.organization_id, member_id=b.member_id, email_address=target,
                 login_redirect_url=REDIRECT)
    assert len(_outbox(server, target)) == 1, "the refused start sent nothing"
    _assert_unchanged(client, org.organization_id, b)
    # A's update is unaffected.
    _assert_switched(ok(client.magic_links.authenticate(magic_links_token=msg["token"])), a, target,
                     org.organization_id, "magic_link")


def test_the_same_address_in_another_organization_is_fine(client, server):
    a, b = h.create_org(client), h.create_org(client)
    m = _verified(client, a.organization_id)
    elsewhere = h.create_member(client, b.organization_id, _mail("elsewhere"))
    _, msg = _start(client, server, a.organization_id, m.member_id, elsewhere.email_address)
    _assert_switched(ok(client.magic_links.authenticate(magic_links_token=msg["token"])), m, elsewhere.email_address,
                     a.organization_id, "magic_link")
    assert _member(client, b.organization_id, elsewhere.member_id).email_address == elsewhere.email_address


def test_a_refused_send_keeps_the_earlier_update(client, server):
    """Over the per-recipient limit the start is refused before anything is stored: the member's
    earlier pending update (and its link) stand, and the refused address is not held."""
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    first = _mail("kept")
    _, msg = _start(client, server, org.organization_id, m.member_id, first)
    flooded = _mail("flooded")
    for _ in range(10):
        ok(client.magic_links.email.discovery.send(email_address=flooded, discovery_redirect_url=REDIRECT))
    for method in ("EMAIL_MAGIC_LINK", "EMAIL_OTP"):
        expect_error(429, "too_many_requests", client.organizations.members.start_email_update,
                     organization_id=org.organization_id, member_id=m.member_id, email_address=flooded,
                     login_redirect_url=REDIRECT, delivery_method=method)
    assert len(_outbox(server, flooded)) == 10
    _assert_unchanged(client, org.organization_id, m)
    _assert_switched(ok(client.magic_links.authenticate(magic_links_token=msg["token"])), m, first,
                     org.organization_id, "magic_link")


def test_deleting_the_member_voids_its_update_link(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail("ghost")
    _, msg = _start(client, server, org.organization_id, m.member_id, new)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    _refused_token(client.magic_links.authenticate, magic_links_token=msg["token"])
    got = ok(client.organizations.members.dangerously_get(member_id=m.member_id, include_deleted=True)).member
    assert got.status == "deleted" and got.email_address == m.email_address


def test_redirect_refusals(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail()
    start = client.organizations.members.start_email_update
    for bad in ("https://attacker.example/login", "https://app.example.com/reset/evil", "http://app.example.com/reset"):
        expect_error(400, "invalid_login_redirect_url", start, organization_id=org.organization_id,
                     member_id=m.member_id, email_address=new, login_redirect_url=bad)
    expect_error(400, "no_login_redirect_url", start, organization_id=org.organization_id, member_id=m.member_id,
                 email_address=new)
    assert _outbox(server, new) == []
    _assert_unchanged(client, org.organization_id, m)


def test_other_refusals(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    new = _mail()
    start = client.organizations.members.start_email_update
    expect_error(400, "invalid_locale", start, organization_id=org.organization_id, member_id=m.member_id,
                 email_address=new, login_redirect_url=REDIRECT, locale="xx")
    for bad in ("not-an-email", "a@", "@b.com"):
        expect_error(400, "invalid_email", start, organization_id=org.organization_id, member_id=m.member_id,
                     email_address=bad, login_redirect_url=REDIRECT)
    expect_error(404, "member_not_found", start, organization_id=org.organization_id,
                 member_id="member-test-00000000-0000-4000-8000-000000000000", email_address=new,
                 login_redirect_url=REDIRECT)
    other_org = h.create_org(client)
    expect_error(404, "member_not_found", start, organization_id=other_org.organization_id, member_id=m.member_id,
                 email_address=new, login_redirect_url=REDIRECT)
    assert _outbox(server, new) == []
    _assert_unchanged(client, org.organization_id, m)


# ---------------------------------------------------------------- member-session headers


def test_a_member_may_start_its_own_update(client, server):
    org = h.create_org(client)
    m = _verified(client, org.organization_id)
    s = _login(client, org.organization_id, m.email_address)
    assert s.member_session.roles == ["stytch_member"], s.member_session.roles
    new = _mail("self")
    _, msg = _start(client, server, org.organization_id, m.member_id, new, method_options=_as(session_token=s.session_token))
    resp = ok(client.magic_links.authenticate(magic_links_token=msg["token"]))
    _assert_switched(resp, m, new, org.organization_id, "magic_link")
    _dead(client, s.session_token)
    # And with the JWT form of the new session.
    newer = _mail("self2")
    m2 = _member(client, org.organization_id, m.member_id)
    _start(client, server, org.organization_id, m.member_id, newer, method_options=_as(session_jwt=resp.session_jwt))
    _assert_unchanged(client, org.organization_id, m2)


def test_another_members_update_needs_update_info_email(client, server):
    org, foreign = h.create_org(client), h.create_org(client)
    target = _verified(client, org.organization_id)
    plain = _verified(client, org.organization_id)
    manager = _verified(client, org.organization_id, roles=["member_manager"])
    admin = _verified(client, org.organization_id, roles=["stytch_admin"])
    foreign_admin = _verified(client, foreign.organization_id, roles=["stytch_admin"])
    plain_s = _login(client, org.organization_id, plain.email_address)
    manager_s = _login(client, org.organization_id, manager.email_address)
    admin_s = _login(client, org.organization_id, admin.email_address)
    foreign_s = _login(client, foreign.organization_id, foreign_admin.email_address)
    new = _mail("byother")
    start = client.organizations.members.start_email_update
    base = dict(organization_id=org.organization_id, member_id=target.member_id, email_address=new,
                login_redirect_url=REDIRECT)
    expect_error(*DENIED, start, **base, method_options=_as(session_token=plain_s.session_token))
    expect_error(*DENIED, start, **base, method_options=_as(session_jwt=plain_s.session_jwt))
    expect_error(*DENIED, start, **base, method_options=_as(session_token=manager_s.session_token))
    expect_error(*TENANCY, start, **base, method_options=_as(session_token=foreign_s.session_token))
    assert _outbox(server, new) == []
    _assert_unchanged(client, org.organization_id, target)
    # stytch_admin holds every stytch.member action.
    _, msg = _start(client, server, org.organization_id, target.member_id, new,
                    method_options=_as(session_token=admin_s.session_token))
    _assert_switched(ok(client.magic_links.authenticate(magic_links_token=msg["token"])), target, new,
                     org.organization_id, "magic_link")
    # The admin's own session is not the target's: it lives on.
    _alive(client, admin_s.session_token)
