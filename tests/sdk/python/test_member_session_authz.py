"""Member-session authorization headers (README "Member-session authorization headers";
organizations.md RBAC tables): with `method_options=...RequestOptions(authorization=Authorization(...))`
the SDK sends X-Stytch-Member-Session / X-Stytch-Member-SessionJWT and the call runs with that
member's permissions. Every refusal is followed by a check that nothing changed."""

from __future__ import annotations

import base64
import hashlib
import json
from types import SimpleNamespace
from typing import Any, Dict, List, Optional


import latch_helpers as h
from latch_helpers import expect_error, ok
from stytch.b2b.models import organizations as org_models
from stytch.b2b.models import organizations_members as member_models
from stytch.b2b.models import sessions as session_models
from stytch.shared.method_options import Authorization

PASSWORD = "Latch authz tests: granite-falcon-8086!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
DENIED = (403, "session_authorization_error")
TENANCY = (403, "session_authorization_tenancy_error")
PHONE = "+12025550147"
PHONE2 = "+12025550148"


# ---------------------------------------------------------------------------------------------
# helpers (kept local to this module on purpose)


def _login(client, org, roles: Optional[List[str]] = None, email: Optional[str] = None):
    email = email or f"z-{h.token()}@{h.unique_domain('authz')}"
    kw: Dict[str, Any] = {"roles": roles} if roles is not None else {}
    migrated = ok(
        client.passwords.migrate(email_address=email, hash=MD5, hash_type="md_5", organization_id=org.organization_id, **kw)
    )
    resp = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=PASSWORD))
    return SimpleNamespace(
        org=org, email=email, member_id=migrated.member_id, token=resp.session_token, jwt=resp.session_jwt,
        session_id=resp.member_session.member_session_id,
    )


def _team(client):
    """One organization with an admin, a member manager, two plain members; and a foreign
    organization whose admin has a session too."""
    org = h.create_org(client)
    foreign = h.create_org(client)
    return SimpleNamespace(
        org=org,
        org_id=org.organization_id,
        admin=_login(client, org, roles=["stytch_admin"]),
        manager=_login(client, org, roles=["member_manager"]),
        plain=_login(client, org),
        other=_login(client, org),
        foreign=foreign,
        foreign_admin=_login(client, foreign, roles=["stytch_admin"]),
    )


def _authz(s, jwt: bool = False) -> Authorization:
    return Authorization(session_jwt=s.jwt) if jwt else Authorization(session_token=s.token)


def as_org_update(s, jwt=False):
    return org_models.UpdateRequestOptions(authorization=_authz(s, jwt))


def as_org_delete(s, jwt=False):
    return org_models.DeleteRequestOptions(authorization=_authz(s, jwt))


def as_member_create(s, jwt=False):
    return member_models.CreateRequestOptions(authorization=_authz(s, jwt))


def as_member_update(s, jwt=False):
    return member_models.UpdateRequestOptions(authorization=_authz(s, jwt))


def as_member_delete(s, jwt=False):
    return member_models.DeleteRequestOptions(authorization=_authz(s, jwt))


def as_member_delete_phone(s, jwt=False):
    return member_models.DeleteMFAPhoneNumberRequestOptions(authorization=_authz(s, jwt))


def as_member_search(s, jwt=False):
    return member_models.SearchRequestOptions(authorization=_authz(s, jwt))


def as_revoke(s, jwt=False):
    return session_models.RevokeRequestOptions(authorization=_authz(s, jwt))


def _org(client, org_id: str):
    return ok(client.organizations.get(organization_id=org_id)).organization


def _member(client, org_id: str, member_id: str):
    return ok(client.organizations.members.get(organization_id=org_id, member_id=member_id)).member


def _no_member(client, org_id: str, email: str) -> None:
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=org_id, email_address=email)


def _alive(client, s) -> bool:
    ids = {x.member_session_id for x in ok(client.sessions.get(organization_id=s.org.organization_id, member_id=s.member_id)).member_sessions}
    return s.session_id in ids


def _mail() -> str:
    return f"new-{h.token()}@{h.unique_domain('authz')}"


def _member_snapshot(m) -> Dict[str, Any]:
    return {
        "name": m.name,
        "email_address": m.email_address,
        "untrusted_metadata": m.untrusted_metadata,
        "trusted_metadata": m.trusted_metadata,
        "is_breakglass": m.is_breakglass,
        "mfa_enrolled": m.mfa_enrolled,
        "mfa_phone_number": m.mfa_phone_number,
        "default_mfa_method": m.default_mfa_method,
        "external_id": m.external_id,
        "roles": sorted(r.role_id for r in m.roles),
        "status": m.status,
    }


def _org_snapshot(o) -> Dict[str, Any]:
    return {
        "organization_name": o.organization_name,
        "organization_slug": o.organization_slug,
        "trusted_metadata": o.trusted_metadata,
        "email_invites": o.email_invites,
        "mfa_policy": o.mfa_policy,
    }


# ---------------------------------------------------------------------------------------------
# organizations.update / delete


def test_org_update_needs_the_field_permission(client):
    t = _team(client)
    before = _org_snapshot(_org(client, t.org_id))
    for who in (t.plain, t.manager):
        for jwt in (False, True):
            expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, organization_name="Renamed",
                         method_options=as_org_update(who, jwt))
            expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, organization_slug=h.unique_slug(),
                         method_options=as_org_update(who, jwt))
    expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, mfa_policy="REQUIRED_FOR_ALL",
                 method_options=as_org_update(t.plain))
    assert _org_snapshot(_org(client, t.org_id)) == before
    # stytch_admin may, with either header.
    upd = ok(client.organizations.update(organization_id=t.org_id, organization_name="By admin", method_options=as_org_update(t.admin)))
    assert upd.organization.organization_name == "By admin"
    slug = h.unique_slug("admin")
    ok(client.organizations.update(organization_id=t.org_id, organization_slug=slug, method_options=as_org_update(t.admin, jwt=True)))
    got = _org(client, t.org_id)
    assert (got.organization_name, got.organization_slug) == ("By admin", slug)


def test_org_update_is_checked_field_by_field(client):
    """An org-scoped role that grants only update.info.name: name alone passes, any other field
    (alone or together with the name) is refused and nothing is applied."""
    t = _team(client)
    ok(
        client.rbac.organizations.set_org_policy(
            organization_id=t.org_id,
            org_policy={"roles": [{"role_id": "org-namer", "description": "renames",
                                   "permissions": [{"resource_id": "stytch.organization", "actions": ["update.info.name"]}]}]},
        )
    )
    namer = _login(client, t.org, roles=["org-namer"])
    ok(client.organizations.update(organization_id=t.org_id, organization_name="Named", method_options=as_org_update(namer)))
    before = _org_snapshot(_org(client, t.org_id))
    assert before["organization_name"] == "Named"
    expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, organization_slug=h.unique_slug(),
                 method_options=as_org_update(namer))
    expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, organization_name="Both",
                 organization_slug=h.unique_slug(), method_options=as_org_update(namer))
    expect_error(*DENIED, client.organizations.update, organization_id=t.org_id, organization_name="Both",
                 email_invites="NOT_ALLOWED", method_options=as_org_update(namer))
    assert _org_snapshot(_org(client, t.org_id)) == before


def test_org_trusted_metadata_is_never_writable_with_a_session(client):
    t = _team(client)
    before = _org_snapshot(_org(client, t.org_id))
    for jwt in (False, True):
        expect_error(403, "cannot_update_trusted_metadata", client.organizations.update, organization_id=t.org_id,
                     trusted_metadata={"plan": "free-forever"}, method_options=as_org_update(t.admin, jwt))
        expect_error(403, "cannot_update_trusted_metadata", client.organizations.update, organization_id=t.org_id,
                     organization_name="Sneaky", trusted_metadata={"plan": "x"}, method_options=as_org_update(t.admin, jwt))
    assert _org_snapshot(_org(client, t.org_id)) == before
    # The project secret alone may.
    ok(client.organizations.update(organization_id=t.org_id, trusted_metadata={"plan": "gold"}))
    assert _org(client, t.org_id).trusted_metadata == {"plan": "gold"}


def test_org_delete_needs_delete(client):
    t = _team(client)
    for who in (t.plain, t.manager):
        expect_error(*DENIED, client.organizations.delete, organization_id=t.org_id, method_options=as_org_delete(who))
    expect_error(*TENANCY, client.organizations.delete, organization_id=t.org_id, method_options=as_org_delete(t.foreign_admin))
    assert _org(client, t.org_id).organization_id == t.org_id
    ok(client.organizations.delete(organization_id=t.org_id, method_options=as_org_delete(t.admin, jwt=True)))
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=t.org_id)


# ---------------------------------------------------------------------------------------------
# members.create


def test_member_create_needs_stytch_member_create(client):
    t = _team(client)
    email = _mail()
    for jwt in (False, True):
        expect_error(*DENIED, client.organizations.members.create, organization_id=t.org_id, email_address=email,
                     method_options=as_member_create(t.plain, jwt))
    _no_member(client, t.org_id, email)
    m = ok(client.organizations.members.create(organization_id=t.org_id, email_address=email, name="Hired",
                                               method_options=as_member_create(t.manager))).member
    assert m.email_address == email and m.name == "Hired"
    # Setting roles needs update.settings.roles, which member_manager lacks.
    email2 = _mail()
    expect_error(*DENIED, client.organizations.members.create, organization_id=t.org_id, email_address=email2,
                 roles=["editor"], method_options=as_member_create(t.manager))
    _no_member(client, t.org_id, email2)
    expect_error(403, "cannot_update_trusted_metadata", client.organizations.members.create, organization_id=t.org_id,
                 email_address=email2, trusted_metadata={"vip": True}, method_options=as_member_create(t.admin))
    _no_member(client, t.org_id, email2)
    expect_error(*TENANCY, client.organizations.members.create, organization_id=t.org_id, email_address=email2,
                 method_options=as_member_create(t.foreign_admin))
    _no_member(client, t.org_id, email2)
    m2 = ok(client.organizations.members.create(organization_id=t.org_id, email_address=email2, roles=["editor"],
                                                method_options=as_member_create(t.admin, jwt=True))).member
    assert sorted(r.role_id for r in m2.roles) == ["editor", "stytch_member"]


# ---------------------------------------------------------------------------------------------
# members.update


def test_member_updates_own_self_fields(client):
    t = _team(client)
    me = t.plain
    upd = ok(client.organizations.members.update(organization_id=t.org_id, member_id=me.member_id, name="Me Myself",
                                                 method_options=as_member_update(me))).member
    assert upd.name == "Me Myself"
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=me.member_id, untrusted_metadata={"theme": "dark"},
                                           method_options=as_member_update(me, jwt=True)))
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=me.member_id, mfa_phone_number=PHONE,
                                           method_options=as_member_update(me)))
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=me.member_id, default_mfa_method="sms_otp",
                                           method_options=as_member_update(me)))
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=me.member_id, mfa_enrolled=True,
                                           method_options=as_member_update(me)))
    got = _member(client, t.org_id, me.member_id)
    assert got.name == "Me Myself"
    assert got.untrusted_metadata == {"theme": "dark"}
    assert got.mfa_phone_number == PHONE
    assert got.default_mfa_method == "sms_otp"
    assert got.mfa_enrolled is True


def test_member_cannot_change_member_only_fields_of_itself(client):
    t = _team(client)
    me = t.plain
    before = _member_snapshot(_member(client, t.org_id, me.member_id))
    for kwargs in ({"roles": ["stytch_admin"]}, {"roles": []}, {"is_breakglass": True}, {"external_id": f"ext-{h.token()}"},
                   {"name": "Mixed", "roles": ["editor"]}):
        expect_error(*DENIED, client.organizations.members.update, organization_id=t.org_id, member_id=me.member_id,
                     method_options=as_member_update(me), **kwargs)
    expect_error(403, "member_cannot_update_their_email_address", client.organizations.members.update,
                 organization_id=t.org_id, member_id=me.member_id, email_address=_mail(), method_options=as_member_update(me))
    expect_error(403, "cannot_update_trusted_metadata", client.organizations.members.update, organization_id=t.org_id,
                 member_id=me.member_id, trusted_metadata={"x": 1}, method_options=as_member_update(me))
    assert _member_snapshot(_member(client, t.org_id, me.member_id)) == before
    # Not even an admin changes its own email address with its session.
    admin_before = _member_snapshot(_member(client, t.org_id, t.admin.member_id))
    expect_error(403, "member_cannot_update_their_email_address", client.organizations.members.update,
                 organization_id=t.org_id, member_id=t.admin.member_id, email_address=_mail(),
                 method_options=as_member_update(t.admin))
    assert _member_snapshot(_member(client, t.org_id, t.admin.member_id)) == admin_before


def test_member_update_of_another_member(client):
    t = _team(client)
    target = t.other
    before = _member_snapshot(_member(client, t.org_id, target.member_id))
    for kwargs in ({"name": "Hacked"}, {"untrusted_metadata": {"x": 1}}, {"mfa_enrolled": True},
                   {"mfa_phone_number": PHONE}, {"default_mfa_method": "totp"}, {"email_address": _mail()}, {"roles": ["editor"]}):
        expect_error(*DENIED, client.organizations.members.update, organization_id=t.org_id, member_id=target.member_id,
                     method_options=as_member_update(t.plain), **kwargs)
    # member_manager has stytch.member update.info.name only.
    for kwargs in ({"untrusted_metadata": {"x": 1}}, {"roles": ["editor"]}, {"is_breakglass": True}, {"name": "N", "roles": []}):
        expect_error(*DENIED, client.organizations.members.update, organization_id=t.org_id, member_id=target.member_id,
                     method_options=as_member_update(t.manager), **kwargs)
    expect_error(*TENANCY, client.organizations.members.update, organization_id=t.org_id, member_id=target.member_id,
                 name="Foreign", method_options=as_member_update(t.foreign_admin))
    assert _member_snapshot(_member(client, t.org_id, target.member_id)) == before
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=target.member_id, name="By manager",
                                           method_options=as_member_update(t.manager)))
    assert _member(client, t.org_id, target.member_id).name == "By manager"
    new_email = _mail()
    ext = f"ext-{h.token()}"
    ok(client.organizations.members.update(organization_id=t.org_id, member_id=target.member_id, untrusted_metadata={"by": "admin"},
                                           roles=["editor"], is_breakglass=True, external_id=ext, email_address=new_email,
                                           method_options=as_member_update(t.admin, jwt=True)))
    got = _member(client, t.org_id, target.member_id)
    assert got.untrusted_metadata == {"by": "admin"}
    assert sorted(r.role_id for r in got.roles) == ["editor", "stytch_member"]
    assert got.is_breakglass is True and got.external_id == ext and got.email_address == new_email
    expect_error(403, "cannot_update_trusted_metadata", client.organizations.members.update, organization_id=t.org_id,
                 member_id=target.member_id, trusted_metadata={"x": 1}, method_options=as_member_update(t.admin))
    assert _member(client, t.org_id, target.member_id).trusted_metadata == {}


# ---------------------------------------------------------------------------------------------
# members.delete / search


def test_member_delete(client):
    t = _team(client)
    expect_error(*DENIED, client.organizations.members.delete, organization_id=t.org_id, member_id=t.other.member_id,
                 method_options=as_member_delete(t.plain))
    expect_error(*TENANCY, client.organizations.members.delete, organization_id=t.org_id, member_id=t.other.member_id,
                 method_options=as_member_delete(t.foreign_admin))
    assert _member(client, t.org_id, t.other.member_id).status == "active"
    assert _alive(client, t.other)
    # A member may delete itself (stytch.self delete); its sessions go with it.
    ok(client.organizations.members.delete(organization_id=t.org_id, member_id=t.plain.member_id,
                                           method_options=as_member_delete(t.plain, jwt=True)))
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=t.org_id, member_id=t.plain.member_id)
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=t.plain.token)
    # member_manager may delete others.
    ok(client.organizations.members.delete(organization_id=t.org_id, member_id=t.other.member_id,
                                           method_options=as_member_delete(t.manager)))
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=t.org_id, member_id=t.other.member_id)


def test_member_search_needs_search(client):
    t = _team(client)
    q = h.query(h.op("member_ids", [t.other.member_id]))
    for jwt in (False, True):
        expect_error(*DENIED, client.organizations.members.search, organization_ids=[t.org_id], query=q,
                     method_options=as_member_search(t.plain, jwt))
    for who in (t.manager, t.admin):
        resp = ok(client.organizations.members.search(organization_ids=[t.org_id], query=q, method_options=as_member_search(who)))
        assert [m.member_id for m in resp.members] == [t.other.member_id]
    expect_error(*TENANCY, client.organizations.members.search, organization_ids=[t.foreign.organization_id],
                 method_options=as_member_search(t.manager))
    expect_error(*TENANCY, client.organizations.members.search, organization_ids=[t.org_id, t.foreign.organization_id],
                 method_options=as_member_search(t.admin))


# ---------------------------------------------------------------------------------------------
# sessions.revoke


def test_sessions_revoke_with_a_session_header(client):
    t = _team(client)
    second = _login(client, t.org, email=t.plain.email)  # another session of the same member
    # Someone else's session: refused, and still alive.
    for kwargs in ({"member_session_id": t.other.session_id}, {"session_token": t.other.token},
                   {"session_jwt": t.other.jwt}, {"member_id": t.other.member_id}):
        expect_error(*DENIED, client.sessions.revoke, method_options=as_revoke(t.plain), **kwargs)
        expect_error(*TENANCY, client.sessions.revoke, method_options=as_revoke(t.foreign_admin), **kwargs)
    assert _alive(client, t.other)
    # One's own sessions: fine.
    ok(client.sessions.revoke(member_session_id=second.session_id, method_options=as_revoke(t.plain)))
    assert not _alive(client, second) and _alive(client, t.plain)
    # An admin revokes another member's session.
    ok(client.sessions.revoke(member_session_id=t.other.session_id, method_options=as_revoke(t.admin, jwt=True)))
    assert not _alive(client, t.other)
    # Revoking all of one's own sessions, including the one in the header.
    ok(client.sessions.revoke(member_id=t.plain.member_id, method_options=as_revoke(t.plain)))
    expect_error(404, "session_not_found", client.sessions.authenticate, session_token=t.plain.token)


# ---------------------------------------------------------------------------------------------
# sessions of other organizations, unknown and revoked sessions


def test_session_of_another_organization_is_a_tenancy_error(client):
    t = _team(client)
    fa = t.foreign_admin
    org_before = _org_snapshot(_org(client, t.org_id))
    member_before = _member_snapshot(_member(client, t.org_id, t.other.member_id))
    email = _mail()
    calls = [
        (client.organizations.update, dict(organization_id=t.org_id, organization_name="Takeover", method_options=as_org_update(fa))),
        (client.organizations.delete, dict(organization_id=t.org_id, method_options=as_org_delete(fa, jwt=True))),
        (client.organizations.members.create, dict(organization_id=t.org_id, email_address=email, method_options=as_member_create(fa))),
        (client.organizations.members.update, dict(organization_id=t.org_id, member_id=t.other.member_id, name="X",
                                                   method_options=as_member_update(fa))),
        (client.organizations.members.delete, dict(organization_id=t.org_id, member_id=t.other.member_id,
                                                   method_options=as_member_delete(fa))),
        (client.organizations.members.search, dict(organization_ids=[t.org_id], method_options=as_member_search(fa))),
        (client.sessions.revoke, dict(member_id=t.other.member_id, method_options=as_revoke(fa))),
    ]
    for fn, kwargs in calls:
        expect_error(*TENANCY, fn, **kwargs)
    assert _org_snapshot(_org(client, t.org_id)) == org_before
    assert _member_snapshot(_member(client, t.org_id, t.other.member_id)) == member_before
    _no_member(client, t.org_id, email)
    assert _alive(client, t.other)


def _forge(jwt: str) -> str:
    hd, pl, sig = jwt.split(".")
    payload = json.loads(base64.urlsafe_b64decode(pl + "=" * (-len(pl) % 4)))
    payload["https://stytch.com/session"]["roles"] = ["stytch_member", "stytch_admin"]
    return f"{hd}.{base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b'=').decode()}.{sig}"


def test_unknown_revoked_or_forged_session_headers_are_401(client, other_project):
    t = _team(client)
    revoked = _login(client, t.org, roles=["stytch_admin"])
    ok(client.sessions.revoke(member_session_id=revoked.session_id))
    deleted = _login(client, t.org, roles=["stytch_admin"])
    ok(client.organizations.members.delete(organization_id=t.org_id, member_id=deleted.member_id))
    _p, other_client = other_project
    stranger = _login(other_client, h.create_org(other_client), roles=["stytch_admin"])
    bad = [
        Authorization(session_token="definitely-not-a-session"),
        Authorization(session_token=revoked.token),
        Authorization(session_jwt=revoked.jwt),  # cryptographically fine, session revoked
        Authorization(session_token=deleted.token),
        Authorization(session_jwt=deleted.jwt),
        Authorization(session_jwt=_forge(t.plain.jwt)),
        Authorization(session_jwt="not.a.jwt"),
        Authorization(session_token=stranger.token),  # a session of another project
        Authorization(session_jwt=stranger.jwt),
    ]
    before = _org_snapshot(_org(client, t.org_id))
    for auth in bad:
        expect_error(401, "session_not_found", client.organizations.update, organization_id=t.org_id,
                     organization_name="Nope", method_options=org_models.UpdateRequestOptions(authorization=auth))
        expect_error(401, "session_not_found", client.sessions.revoke, member_id=t.other.member_id,
                     method_options=session_models.RevokeRequestOptions(authorization=auth))
    assert _org_snapshot(_org(client, t.org_id)) == before
    assert _alive(client, t.other)
    # Both headers of one valid session work together.
    both = org_models.UpdateRequestOptions(authorization=Authorization(session_token=t.admin.token, session_jwt=t.admin.jwt))
    ok(client.organizations.update(organization_id=t.org_id, organization_name="Both headers", method_options=both))
    assert _org(client, t.org_id).organization_name == "Both headers"


def test_delete_mfa_phone_number_self_or_stytch_member(client):
    t = _team(client)
    for who, phone in ((t.plain, PHONE), (t.other, PHONE2)):
        ok(client.organizations.members.update(organization_id=t.org_id, member_id=who.member_id, mfa_phone_number=phone))
    expect_error(*DENIED, client.organizations.members.delete_mfa_phone_number, organization_id=t.org_id,
                 member_id=t.other.member_id, method_options=as_member_delete_phone(t.plain))
    expect_error(*DENIED, client.organizations.members.delete_mfa_phone_number, organization_id=t.org_id,
                 member_id=t.other.member_id, method_options=as_member_delete_phone(t.manager))
    assert _member(client, t.org_id, t.other.member_id).mfa_phone_number == PHONE2
    ok(client.organizations.members.delete_mfa_phone_number(organization_id=t.org_id, member_id=t.plain.member_id,
                                                            method_options=as_member_delete_phone(t.plain)))
    assert _member(client, t.org_id, t.plain.member_id).mfa_phone_number == ""
    ok(client.organizations.members.delete_mfa_phone_number(organization_id=t.org_id, member_id=t.other.member_id,
                                                            method_options=as_member_delete_phone(t.admin)))
    assert _member(client, t.org_id, t.other.member_id).mfa_phone_number == ""


def test_organization_locators_work_with_session_headers(client):
    """The slug or external id in place of the organization id resolves to the same organization, so
    the tenancy check must pass for the session's own organization."""
    ext = f"org-ext-{h.token()}"
    org = h.create_org(client, organization_external_id=ext)
    manager = _login(client, org, roles=["member_manager"])
    plain = _login(client, org)
    for locator in (org.organization_slug, ext):
        resp = ok(client.organizations.members.search(organization_ids=[locator], query=h.query(h.op("member_ids", [plain.member_id])),
                                                      method_options=as_member_search(manager)))
        assert [m.member_id for m in resp.members] == [plain.member_id]
        ok(client.organizations.members.update(organization_id=locator, member_id=plain.member_id, name=f"via {locator}",
                                               method_options=as_member_update(plain)))
        assert _member(client, org.organization_id, plain.member_id).name == f"via {locator}"
        m = ok(client.organizations.members.create(organization_id=locator, email_address=_mail(),
                                                   method_options=as_member_create(manager))).member
        assert m.organization_id == org.organization_id
        expect_error(*DENIED, client.organizations.update, organization_id=locator, organization_name="No",
                     method_options=as_org_update(plain))
