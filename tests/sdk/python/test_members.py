"""Members: create / get / dangerously_get / update / delete / reactivate and the small delete endpoints."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest

import latch_helpers as h
from latch_helpers import expect_error, ok, roles_of

PHONE = "+12025550123"
PHONE2 = "+12025550199"


def _mail(local: str = "m") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('mem')}"


def test_create_minimal_member_has_every_field(client):
    org = h.create_org(client)
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    email = _mail()
    resp = ok(client.organizations.members.create(organization_id=org.organization_id, email_address=email))
    m = resp.member
    assert resp.member_id == m.member_id and m.member_id
    assert resp.organization.organization_id == org.organization_id
    assert m.organization_id == org.organization_id
    assert m.email_address == email
    assert m.status == "active"
    assert m.name == ""
    assert m.email_address_verified is False
    assert m.is_breakglass is False
    assert m.mfa_enrolled is False
    assert m.mfa_phone_number == ""
    assert m.mfa_phone_number_verified is False
    assert m.member_password_id == ""
    assert m.totp_registration_id == ""
    assert m.default_mfa_method == ""
    assert m.retired_email_addresses == []
    assert m.is_locked is False
    assert m.sso_registrations == []
    assert m.oauth_registrations == []
    assert m.scim_registration is None
    assert m.lock_created_at is None and m.lock_expires_at is None
    assert not m.external_id
    assert m.is_admin is False
    assert roles_of(m) == {"stytch_member": {"direct_assignment"}}
    assert m.created_at is not None and m.created_at >= before
    assert m.updated_at is not None and m.updated_at >= m.created_at
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id))
    assert got.member == m
    assert got.member_id == m.member_id
    assert got.organization.organization_id == org.organization_id


def test_create_with_every_field(client):
    org = h.create_org(client)
    t = h.token()
    kwargs = dict(
        email_address=_mail("full"),
        name="Ada Lovelace 🚀 Łódź",
        trusted_metadata={"tier": "gold", "n": 1, "nested": {"x": [1, 2]}},
        untrusted_metadata={"theme": "dark"},
        is_breakglass=True,
        mfa_phone_number=PHONE,
        mfa_enrolled=True,
        roles=["editor"],
        external_id=f"ext|m.{t}_1-2",
    )
    created = ok(client.organizations.members.create(organization_id=org.organization_id, **kwargs)).member
    for m in (
        created,
        ok(client.organizations.members.get(organization_id=org.organization_id, member_id=created.member_id)).member,
    ):
        assert m.email_address == kwargs["email_address"]
        assert m.name == "Ada Lovelace 🚀 Łódź"
        assert m.trusted_metadata == kwargs["trusted_metadata"]
        assert m.untrusted_metadata == {"theme": "dark"}
        assert m.is_breakglass is True
        assert m.mfa_phone_number == PHONE
        assert m.mfa_phone_number_verified is False
        assert m.mfa_enrolled is True
        assert m.external_id == kwargs["external_id"]
        assert m.status == "active"
        assert roles_of(m) == {"stytch_member": {"direct_assignment"}, "editor": {"direct_assignment"}}
        assert m.is_admin is False


def test_create_as_pending(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, create_member_as_pending=True)
    assert m.status == "pending"
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got.status == "pending"


def test_email_is_lowercased(client):
    org = h.create_org(client)
    d = h.unique_domain("case")
    m = h.create_member(client, org.organization_id, f"Alice.Smith+Tag@{d.upper()}")
    assert m.email_address == f"alice.smith+tag@{d}"


def test_admin_role_sets_is_admin(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, roles=["stytch_admin"])
    assert m.is_admin is True
    assert roles_of(m) == {"stytch_member": {"direct_assignment"}, "stytch_admin": {"direct_assignment"}}
    upd = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, roles=[])).member
    assert upd.is_admin is False
    assert roles_of(upd) == {"stytch_member": {"direct_assignment"}}


def test_email_implicit_role_assignment(client):
    org = h.create_org(client, rbac_email_implicit_role_assignments=[{"domain": "acme.test", "role_id": "reader"}])
    acme = h.create_member(client, org.organization_id, f"worker-{h.token()}@acme.test")
    other = h.create_member(client, org.organization_id, _mail())
    assert roles_of(acme) == {"stytch_member": {"direct_assignment"}, "reader": {"email_assignment"}}
    assert roles_of(other) == {"stytch_member": {"direct_assignment"}}
    # Explicit + implicit for the same role: both sources listed.
    both = h.create_member(client, org.organization_id, f"boss-{h.token()}@acme.test", roles=["reader"])
    assert roles_of(both)["reader"] == {"direct_assignment", "email_assignment"}


def test_email_implicit_admin_role_sets_is_admin(client):
    d = h.unique_domain("admins")
    org = h.create_org(client, rbac_email_implicit_role_assignments=[{"domain": d, "role_id": "stytch_admin"}])
    m = h.create_member(client, org.organization_id, f"root@{d}")
    assert m.is_admin is True
    assert roles_of(m)["stytch_admin"] == {"email_assignment"}


def test_implicit_roles_follow_organization_updates(client):
    d = h.unique_domain("later")
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, f"late@{d}")
    assert roles_of(m) == {"stytch_member": {"direct_assignment"}}
    ok(client.organizations.update(organization_id=org.organization_id, rbac_email_implicit_role_assignments=[{"domain": d, "role_id": "viewer"}]))
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert roles_of(got) == {"stytch_member": {"direct_assignment"}, "viewer": {"email_assignment"}}


def test_get_by_member_id_external_id_and_email(client):
    org = h.create_org(client)
    t = h.token()
    d = h.unique_domain("get")
    m = h.create_member(client, org.organization_id, f"bob+x@{d}", external_id=f"crm|{t}")
    mm = client.organizations.members
    by_id = ok(mm.get(organization_id=org.organization_id, member_id=m.member_id)).member
    by_ext = ok(mm.get(organization_id=org.organization_id, member_id=f"crm|{t}")).member
    by_email = ok(mm.get(organization_id=org.organization_id, email_address=f"BOB+X@{d.upper()}")).member
    by_slug = ok(mm.get(organization_id=org.organization_slug, member_id=m.member_id)).member
    assert by_id == m and by_ext == m and by_email == m and by_slug == m


def test_get_unknown_member_is_404(client):
    org = h.create_org(client)
    mm = client.organizations.members
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, member_id=f"member-test-{uuid.uuid4()}")
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, email_address=_mail("nobody"))
    expect_error(404, "member_not_found", mm.dangerously_get, member_id=f"member-test-{uuid.uuid4()}")
    expect_error(404, "member_not_found", mm.update, organization_id=org.organization_id, member_id=f"member-test-{uuid.uuid4()}", name="x")
    expect_error(404, "member_not_found", mm.delete, organization_id=org.organization_id, member_id=f"member-test-{uuid.uuid4()}")


def test_member_of_another_organization_is_not_found(client):
    a = h.create_org(client)
    b = h.create_org(client)
    m = h.create_member(client, a.organization_id)
    mm = client.organizations.members
    expect_error(404, "member_not_found", mm.get, organization_id=b.organization_id, member_id=m.member_id)
    expect_error(404, "member_not_found", mm.get, organization_id=b.organization_id, email_address=m.email_address)
    expect_error(404, "member_not_found", mm.update, organization_id=b.organization_id, member_id=m.member_id, name="hijack")
    expect_error(404, "member_not_found", mm.delete, organization_id=b.organization_id, member_id=m.member_id)
    assert ok(mm.get(organization_id=a.organization_id, member_id=m.member_id)).member == m


def test_same_email_in_two_organizations_are_two_members(client):
    a = h.create_org(client)
    b = h.create_org(client)
    email = _mail("twin")
    ma = h.create_member(client, a.organization_id, email)
    mb = h.create_member(client, b.organization_id, email)
    assert ma.member_id != mb.member_id
    assert ok(client.organizations.members.get(organization_id=b.organization_id, email_address=email)).member.member_id == mb.member_id


def test_dangerously_get(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    resp = ok(client.organizations.members.dangerously_get(member_id=m.member_id))
    assert resp.member == m and resp.member_id == m.member_id
    assert resp.organization.organization_id == org.organization_id


def test_delete_member(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, external_id=f"del-{h.token()}")
    mm = client.organizations.members
    resp = ok(mm.delete(organization_id=org.organization_id, member_id=m.member_id))
    assert resp.member_id == m.member_id
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, member_id=m.member_id)
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, email_address=m.email_address)
    expect_error(404, "member_not_found", mm.dangerously_get, member_id=m.member_id)
    expect_error(404, "member_not_found", mm.dangerously_get, member_id=m.member_id, include_deleted=False)
    d = ok(mm.dangerously_get(member_id=m.member_id, include_deleted=True)).member
    assert d.member_id == m.member_id and d.status == "deleted"
    expect_error(404, "member_not_found", mm.delete, organization_id=org.organization_id, member_id=m.member_id)


def test_delete_by_external_id(client):
    org = h.create_org(client)
    ext = f"byext-{h.token()}"
    m = h.create_member(client, org.organization_id, external_id=ext)
    resp = ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=ext))
    assert resp.member_id == m.member_id


def test_reactivate_refusals(client):
    org = h.create_org(client)
    mm = client.organizations.members
    active = h.create_member(client, org.organization_id)
    expect_error(400, "no_deleted_member_found_for_reactivation", mm.reactivate, organization_id=org.organization_id, member_id=active.member_id)
    assert ok(mm.get(organization_id=org.organization_id, member_id=active.member_id)).member == active

    gone = h.create_member(client, org.organization_id)
    ok(mm.delete(organization_id=org.organization_id, member_id=gone.member_id))
    expect_error(400, "email_unverified_for_reactivation", mm.reactivate, organization_id=org.organization_id, member_id=gone.member_id)
    still = ok(mm.dangerously_get(member_id=gone.member_id, include_deleted=True)).member
    assert still.status == "deleted"


def test_update_basic_fields_and_updated_at(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, name="Old", trusted_metadata={"a": 1}, untrusted_metadata={"u": 1})
    time.sleep(1.1)  # timestamps may have one-second resolution
    resp = ok(
        client.organizations.members.update(
            organization_id=org.organization_id,
            member_id=m.member_id,
            name="New Name",
            trusted_metadata={"b": 2},
            is_breakglass=True,
            mfa_enrolled=True,
        )
    )
    u = resp.member
    assert resp.member_id == m.member_id and resp.organization.organization_id == org.organization_id
    assert u.name == "New Name"
    assert u.trusted_metadata == {"b": 2}
    assert u.untrusted_metadata == {"u": 1}
    assert u.is_breakglass is True and u.mfa_enrolled is True
    assert u.updated_at > m.updated_at and u.created_at == m.created_at
    assert u.email_address == m.email_address and u.status == "active"
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got == u
    # Partial: an update that only touches untrusted_metadata leaves the rest alone.
    u2 = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, untrusted_metadata={"u": 2})).member
    assert u2.untrusted_metadata == {"u": 2}
    assert u2.model_dump(exclude={"untrusted_metadata", "updated_at"}) == u.model_dump(exclude={"untrusted_metadata", "updated_at"})


def test_update_flags_back_to_false(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, is_breakglass=True, mfa_enrolled=True)
    u = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, is_breakglass=False, mfa_enrolled=False)).member
    assert u.is_breakglass is False and u.mfa_enrolled is False


def test_update_roles_replaces_explicit_roles(client):
    org = h.create_org(client)
    mm = client.organizations.members
    m = h.create_member(client, org.organization_id, roles=["editor", "viewer"])
    assert roles_of(m) == {"stytch_member": {"direct_assignment"}, "editor": {"direct_assignment"}, "viewer": {"direct_assignment"}}
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, roles=["auditor"])).member
    assert roles_of(u) == {"stytch_member": {"direct_assignment"}, "auditor": {"direct_assignment"}}
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, name="no roles field")).member
    assert roles_of(u) == {"stytch_member": {"direct_assignment"}, "auditor": {"direct_assignment"}}
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, roles=[])).member
    assert roles_of(u) == {"stytch_member": {"direct_assignment"}}


@pytest.mark.parametrize("method", ["sms_otp", "totp"])
def test_update_default_mfa_method(client, method):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, mfa_phone_number=PHONE)
    u = ok(client.organizations.members.update(organization_id=org.organization_id, member_id=m.member_id, default_mfa_method=method)).member
    assert u.default_mfa_method == method


def test_update_external_id(client):
    org = h.create_org(client)
    t = h.token()
    mm = client.organizations.members
    m = h.create_member(client, org.organization_id, external_id=f"one-{t}")
    u = ok(mm.update(organization_id=org.organization_id, member_id=f"one-{t}", external_id=f"two-{t}")).member
    assert u.external_id == f"two-{t}"
    assert ok(mm.get(organization_id=org.organization_id, member_id=f"two-{t}")).member.member_id == m.member_id
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, member_id=f"one-{t}")


def test_delete_external_id(client):
    org = h.create_org(client)
    ext = f"gone-{h.token()}"
    mm = client.organizations.members
    m = h.create_member(client, org.organization_id, external_id=ext)
    resp = ok(mm.delete_external_id(organization_id=org.organization_id, member_id=m.member_id))
    assert resp.member_id == m.member_id and not resp.member.external_id
    assert resp.organization.organization_id == org.organization_id
    assert not ok(mm.get(organization_id=org.organization_id, member_id=m.member_id)).member.external_id
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, member_id=ext)
    # Freed for another member of the organization.
    other = h.create_member(client, org.organization_id, external_id=ext)
    assert ok(mm.get(organization_id=org.organization_id, member_id=ext)).member.member_id == other.member_id


def test_mfa_phone_number_lifecycle(client):
    org = h.create_org(client)
    mm = client.organizations.members
    m = h.create_member(client, org.organization_id)
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=PHONE)).member
    assert u.mfa_phone_number == PHONE and u.mfa_phone_number_verified is False
    # A second number while one is set is refused, and nothing changes.
    expect_error(400, "member_phone_number_already_exists", mm.update, organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=PHONE2, name="changed")
    got = ok(mm.get(organization_id=org.organization_id, member_id=m.member_id)).member
    assert got.mfa_phone_number == PHONE and got.name == ""
    resp = ok(mm.delete_mfa_phone_number(organization_id=org.organization_id, member_id=m.member_id))
    assert resp.member_id == m.member_id and resp.member.mfa_phone_number == ""
    assert resp.organization.organization_id == org.organization_id
    assert ok(mm.get(organization_id=org.organization_id, member_id=m.member_id)).member.mfa_phone_number == ""
    expect_error(404, "member_phone_number_not_found", mm.delete_mfa_phone_number, organization_id=org.organization_id, member_id=m.member_id)
    # After deletion a different number can be set.
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, mfa_phone_number=PHONE2)).member
    assert u.mfa_phone_number == PHONE2


def test_delete_totp_without_registration_is_404(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    expect_error(404, "totp_not_found", client.organizations.members.delete_totp, organization_id=org.organization_id, member_id=m.member_id)


def test_delete_unknown_password_is_404(client):
    org = h.create_org(client)
    expect_error(
        404, "member_password_not_found", client.organizations.members.delete_password,
        organization_id=org.organization_id, member_password_id=f"member-password-test-{uuid.uuid4()}",
    )


def test_email_change_retires_old_email(client):
    org = h.create_org(client)
    mm = client.organizations.members
    old, new = _mail("old"), _mail("new")
    m = h.create_member(client, org.organization_id, old)
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, email_address=new)).member
    assert u.email_address == new
    assert u.email_address_verified is False
    assert [r.email_address for r in u.retired_email_addresses] == [old]
    assert u.retired_email_addresses[0].email_id
    assert ok(mm.get(organization_id=org.organization_id, email_address=new)).member.member_id == m.member_id
    expect_error(404, "member_not_found", mm.get, organization_id=org.organization_id, email_address=old)

    # Another member cannot take the retired email (nothing is created)...
    expect_error(400, "retired_member_email", mm.create, organization_id=org.organization_id, email_address=old)
    other = h.create_member(client, org.organization_id)
    expect_error(400, "retired_member_email", mm.update, organization_id=org.organization_id, member_id=other.member_id, email_address=old)
    assert ok(mm.get(organization_id=org.organization_id, member_id=other.member_id)).member == other
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 2
    # ...but a member of another organization can.
    b = h.create_org(client)
    h.create_member(client, b.organization_id, old)


@pytest.mark.parametrize("by", ["email_id", "email_address", "both"])
def test_unlink_retired_email(client, by):
    org = h.create_org(client)
    mm = client.organizations.members
    old = _mail("old")
    m = h.create_member(client, org.organization_id, old)
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, email_address=_mail("new"))).member
    retired = u.retired_email_addresses[0]
    kw = {
        "email_id": {"email_id": retired.email_id},
        "email_address": {"email_address": old},
        "both": {"email_id": retired.email_id, "email_address": old},
    }[by]
    resp = ok(mm.unlink_retired_email(organization_id=org.organization_id, member_id=m.member_id, **kw))
    assert resp.member_id == m.member_id and resp.organization_id == org.organization_id
    assert resp.member.retired_email_addresses == []
    assert resp.organization.organization_id == org.organization_id
    assert ok(mm.get(organization_id=org.organization_id, member_id=m.member_id)).member.retired_email_addresses == []
    taker = h.create_member(client, org.organization_id, old)
    assert taker.member_id != m.member_id


def test_email_change_with_unlink_email_does_not_retire(client):
    org = h.create_org(client)
    mm = client.organizations.members
    old = _mail("old")
    m = h.create_member(client, org.organization_id, old)
    u = ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, email_address=_mail("new"), unlink_email=True)).member
    assert u.retired_email_addresses == []
    assert u.email_address_verified is False
    h.create_member(client, org.organization_id, old)


def test_retired_email_is_freed_when_its_member_is_deleted(client):
    org = h.create_org(client)
    mm = client.organizations.members
    old = _mail("old")
    m = h.create_member(client, org.organization_id, old)
    ok(mm.update(organization_id=org.organization_id, member_id=m.member_id, email_address=_mail("new")))
    expect_error(400, "retired_member_email", mm.create, organization_id=org.organization_id, email_address=old)
    ok(mm.delete(organization_id=org.organization_id, member_id=m.member_id))
    taker = h.create_member(client, org.organization_id, old)
    assert taker.member_id != m.member_id and taker.email_address == old


def test_email_of_a_deleted_member_can_be_reused(client):
    org = h.create_org(client)
    mm = client.organizations.members
    email = _mail("reuse")
    first = h.create_member(client, org.organization_id, email)
    ok(mm.delete(organization_id=org.organization_id, member_id=first.member_id))
    second = h.create_member(client, org.organization_id, email)
    assert second.member_id != first.member_id
    assert ok(mm.get(organization_id=org.organization_id, email_address=email)).member.member_id == second.member_id
    assert ok(mm.dangerously_get(member_id=first.member_id, include_deleted=True)).member.status == "deleted"
