"""Organizations: create / get / update / delete / metrics / delete_external_id through the SDK."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
from stytch.b2b.models.organizations import EmailImplicitRoleAssignment

import latch_helpers as h
from latch_helpers import expect_error, ok

AUTH_SETTING_DEFAULTS = {
    "sso_jit_provisioning": "ALL_ALLOWED",
    "email_jit_provisioning": "NOT_ALLOWED",
    "auth_methods": "ALL_ALLOWED",
    "mfa_policy": "OPTIONAL",
    "mfa_methods": "ALL_ALLOWED",
    "oauth_tenant_jit_provisioning": "NOT_ALLOWED",
    "first_party_connected_apps_allowed_type": "ALL_ALLOWED",
    "third_party_connected_apps_allowed_type": "ALL_ALLOWED",
}
EMPTY_LISTS = [
    "sso_jit_provisioning_allowed_connections",
    "sso_active_connections",
    "email_allowed_domains",
    "allowed_auth_methods",
    "rbac_email_implicit_role_assignments",
    "allowed_mfa_methods",
    "claimed_email_domains",
    "allowed_first_party_connected_apps",
    "allowed_third_party_connected_apps",
    "custom_roles",
]


def _utc(dt: datetime.datetime) -> datetime.datetime:
    assert dt.tzinfo is not None, f"timestamp without timezone: {dt!r}"
    return dt


def test_create_with_only_a_name_has_documented_defaults(client):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    resp = ok(client.organizations.create(organization_name="Only A Name"))
    org = resp.organization
    assert org.organization_id
    assert org.organization_name == "Only A Name"
    assert h.SLUG_RE.match(org.organization_slug), f"generated slug {org.organization_slug!r}"
    assert org.organization_logo_url == ""
    assert org.email_invites == "ALL_ALLOWED"
    for name, default in AUTH_SETTING_DEFAULTS.items():
        assert getattr(org, name) == default, f"{name}={getattr(org, name)!r}, expected {default!r}"
    for name in EMPTY_LISTS:
        assert getattr(org, name) == [], f"{name}={getattr(org, name)!r}, expected []"
    assert org.scim_active_connection is None
    assert not org.organization_external_id
    assert org.created_at is not None and org.updated_at is not None
    assert _utc(org.created_at) >= before
    assert _utc(org.updated_at) >= _utc(org.created_at)
    # What create returned is what get returns.
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got == org


def test_generated_slugs_are_distinct(client):
    a = h.create_org(client, organization_name="Same Name", organization_slug=None)
    b = h.create_org(client, organization_name="Same Name", organization_slug=None)
    assert a.organization_slug != b.organization_slug
    for o in (a, b):
        assert h.SLUG_RE.match(o.organization_slug)
        got = ok(client.organizations.get(organization_id=o.organization_slug)).organization
        assert got.organization_id == o.organization_id


@pytest.mark.parametrize(
    "setting",
    [{"email_jit_provisioning": "NOT_ALLOWED"}, {"sso_jit_provisioning": "NOT_ALLOWED"}],
    ids=lambda s: next(iter(s)),
)
def test_email_invites_defaults_to_not_allowed_when_an_auth_setting_is_passed(client, setting):
    org = h.create_org(client, **setting)
    assert org.email_invites == "NOT_ALLOWED"
    for k, v in setting.items():
        assert getattr(org, k) == v
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got.email_invites == "NOT_ALLOWED"


def test_create_with_every_field_and_read_back(client):
    t = h.token()
    slug = f"full-{t}"
    allowed = h.unique_domain("allowed")
    claimed = h.unique_domain("claimed")
    fp_app = f"connected-app-test-{uuid.uuid4()}"
    tp_app = f"connected-app-test-{uuid.uuid4()}"
    metadata = {"plan": "enterprise", "seats": 42, "nested": {"flags": [True, False, None]}, "ratio": 0.5}
    tenants = {"slack": ["T0123ABC"], "hubspot": ["123456"], "github": ["octo-org"]}
    kwargs = dict(
        organization_name=f"Full Org {t}",
        organization_slug=slug,
        organization_logo_url="https://cdn.example.com/logo.png",
        trusted_metadata=metadata,
        organization_external_id=f"ext|full.{t}_x-1",
        sso_jit_provisioning="NOT_ALLOWED",
        email_allowed_domains=[allowed],
        email_jit_provisioning="RESTRICTED",
        email_invites="RESTRICTED",
        auth_methods="RESTRICTED",
        allowed_auth_methods=["sso", "magic_link", "password"],
        mfa_policy="REQUIRED_FOR_ALL",
        rbac_email_implicit_role_assignments=[
            {"domain": allowed, "role_id": "reader"},
            EmailImplicitRoleAssignment(domain=claimed, role_id="editor"),
        ],
        mfa_methods="RESTRICTED",
        allowed_mfa_methods=["totp"],
        oauth_tenant_jit_provisioning="RESTRICTED",
        allowed_oauth_tenants=tenants,
        claimed_email_domains=[claimed],
        first_party_connected_apps_allowed_type="RESTRICTED",
        allowed_first_party_connected_apps=[fp_app],
        third_party_connected_apps_allowed_type="NOT_ALLOWED",
        allowed_third_party_connected_apps=[tp_app],
    )
    created = ok(client.organizations.create(**kwargs)).organization

    for org in (created, ok(client.organizations.get(organization_id=created.organization_id)).organization):
        assert org.organization_name == kwargs["organization_name"]
        assert org.organization_slug == slug
        assert org.organization_logo_url == kwargs["organization_logo_url"]
        assert org.trusted_metadata == metadata
        assert org.organization_external_id == kwargs["organization_external_id"]
        assert org.sso_jit_provisioning == "NOT_ALLOWED"
        assert org.email_allowed_domains == [allowed]
        assert org.email_jit_provisioning == "RESTRICTED"
        assert org.email_invites == "RESTRICTED"
        assert org.auth_methods == "RESTRICTED"
        assert sorted(org.allowed_auth_methods) == ["magic_link", "password", "sso"]
        assert org.mfa_policy == "REQUIRED_FOR_ALL"
        assert sorted((a.domain, a.role_id) for a in org.rbac_email_implicit_role_assignments) == sorted(
            [(allowed, "reader"), (claimed, "editor")]
        )
        assert org.mfa_methods == "RESTRICTED"
        assert org.allowed_mfa_methods == ["totp"]
        assert org.oauth_tenant_jit_provisioning == "RESTRICTED"
        assert org.allowed_oauth_tenants == tenants
        assert org.claimed_email_domains == [claimed]
        assert org.first_party_connected_apps_allowed_type == "RESTRICTED"
        assert org.allowed_first_party_connected_apps == [fp_app]
        assert org.third_party_connected_apps_allowed_type == "NOT_ALLOWED"
        assert org.allowed_third_party_connected_apps == [tp_app]


@pytest.mark.parametrize("slug_shape", ["two_chars", "max_len", "all_allowed_punctuation"])
def test_valid_slug_shapes_are_accepted_and_usable_as_locator(client, slug_shape):
    t = uuid.uuid4().hex
    slug = {
        "two_chars": t[:2],
        "max_len": (t * 4)[:128],
        "all_allowed_punctuation": f"A.b_c~d-E-{t[:10]}",
    }[slug_shape]
    org = h.create_org(client, organization_slug=slug)
    assert org.organization_slug == slug
    got = ok(client.organizations.get(organization_id=slug)).organization
    assert got.organization_id == org.organization_id


def test_name_boundaries(client):
    one = h.create_org(client, organization_name="x")
    assert one.organization_name == "x"
    long_name = "N" * 128
    org = h.create_org(client, organization_name=long_name)
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == long_name
    unicode_name = "Société Générale – 東京 🚀"
    org = h.create_org(client, organization_name=unicode_name)
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == unicode_name


def test_get_by_id_slug_and_external_id(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"loc-{t}", organization_external_id=f"ext-{t}")
    for locator in (org.organization_id, org.organization_slug, org.organization_external_id):
        resp = ok(client.organizations.get(organization_id=locator))
        assert resp.organization == org, locator


@pytest.mark.parametrize("locator", ["organization-test-00000000-0000-4000-8000-000000000000", "no-such-slug", "ext|unknown"])
def test_get_unknown_organization_is_404(client, locator):
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=f"{locator}-{h.token()}")


def test_update_is_partial_and_moves_updated_at(client):
    t = h.token()
    org = h.create_org(
        client,
        organization_name=f"Before {t}",
        organization_logo_url="https://cdn.example.com/a.png",
        trusted_metadata={"a": 1, "keep": "me"},
        mfa_policy="REQUIRED_FOR_ALL",
        email_allowed_domains=[h.unique_domain()],
    )
    time.sleep(1.1)  # timestamps may have one-second resolution
    resp = ok(client.organizations.update(organization_id=org.organization_id, organization_name=f"After {t}"))
    upd = resp.organization
    assert upd.organization_name == f"After {t}"
    assert upd.updated_at > org.updated_at
    assert upd.created_at == org.created_at
    unchanged = org.model_dump(exclude={"organization_name", "updated_at"})
    assert upd.model_dump(exclude={"organization_name", "updated_at"}) == unchanged
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got == upd


def test_update_settings_and_lists(client):
    org = h.create_org(client)
    d1, d2 = h.unique_domain(), h.unique_domain()
    upd = ok(
        client.organizations.update(
            organization_id=org.organization_id,
            email_allowed_domains=[d1, d2],
            email_invites="RESTRICTED",
            email_jit_provisioning="RESTRICTED",
            auth_methods="RESTRICTED",
            allowed_auth_methods=["email_otp"],
            mfa_methods="RESTRICTED",
            allowed_mfa_methods=["sms_otp", "totp"],
            mfa_policy="REQUIRED_FOR_ALL",
            claimed_email_domains=[d2],
            rbac_email_implicit_role_assignments=[{"domain": d1, "role_id": "reader"}],
            organization_logo_url="https://cdn.example.com/new.png",
        )
    ).organization
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    for o in (upd, got):
        assert sorted(o.email_allowed_domains) == sorted([d1, d2])
        assert o.email_invites == "RESTRICTED"
        assert o.email_jit_provisioning == "RESTRICTED"
        assert o.auth_methods == "RESTRICTED" and o.allowed_auth_methods == ["email_otp"]
        assert o.mfa_methods == "RESTRICTED" and sorted(o.allowed_mfa_methods) == ["sms_otp", "totp"]
        assert o.mfa_policy == "REQUIRED_FOR_ALL"
        assert o.claimed_email_domains == [d2]
        assert [(a.domain, a.role_id) for a in o.rbac_email_implicit_role_assignments] == [(d1, "reader")]
        assert o.organization_logo_url == "https://cdn.example.com/new.png"
        assert o.organization_name == org.organization_name
    # Lists are replaced, not merged; an empty list clears.
    upd2 = ok(
        client.organizations.update(
            organization_id=org.organization_id, email_allowed_domains=[d2], rbac_email_implicit_role_assignments=[]
        )
    ).organization
    assert upd2.email_allowed_domains == [d2]
    assert upd2.rbac_email_implicit_role_assignments == []


def test_update_slug_changes_the_locator(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"old-{t}")
    upd = ok(client.organizations.update(organization_id=org.organization_id, organization_slug=f"new-{t}")).organization
    assert upd.organization_slug == f"new-{t}"
    assert ok(client.organizations.get(organization_id=f"new-{t}")).organization.organization_id == org.organization_id
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=f"old-{t}")
    # The old slug is free again.
    again = h.create_org(client, organization_slug=f"old-{t}")
    assert again.organization_id != org.organization_id


def test_update_by_slug_and_external_id_locators(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"upd-{t}", organization_external_id=f"upd-ext-{t}")
    ok(client.organizations.update(organization_id=f"upd-{t}", organization_name="Via Slug"))
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == "Via Slug"
    ok(client.organizations.update(organization_id=f"upd-ext-{t}", organization_name="Via Ext"))
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.organization_name == "Via Ext"


def test_update_trusted_metadata_replaces_it(client):
    org = h.create_org(client, trusted_metadata={"a": 1, "b": {"c": 2}})
    upd = ok(client.organizations.update(organization_id=org.organization_id, trusted_metadata={"z": [1, 2, 3]})).organization
    assert upd.trusted_metadata == {"z": [1, 2, 3]}
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got.trusted_metadata == {"z": [1, 2, 3]}


def test_update_external_id_and_delete_external_id(client):
    t = h.token()
    org = h.create_org(client)
    upd = ok(client.organizations.update(organization_id=org.organization_id, organization_external_id=f"ext-{t}")).organization
    assert upd.organization_external_id == f"ext-{t}"
    assert ok(client.organizations.get(organization_id=f"ext-{t}")).organization.organization_id == org.organization_id

    resp = ok(client.organizations.delete_external_id(organization_id=org.organization_id))
    assert resp.organization.organization_id == org.organization_id
    assert not resp.organization.organization_external_id
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert not got.organization_external_id
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=f"ext-{t}")
    # Freed: another organization may take it.
    other = h.create_org(client, organization_external_id=f"ext-{t}")
    assert ok(client.organizations.get(organization_id=f"ext-{t}")).organization.organization_id == other.organization_id


def test_update_unknown_organization_is_404(client):
    expect_error(
        404, "organization_not_found", client.organizations.update,
        organization_id=f"organization-test-{uuid.uuid4()}", organization_name="x",
    )


def test_delete_organization_and_its_members(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"del-{t}", organization_external_id=f"del-ext-{t}")
    m1 = h.create_member(client, org.organization_id)
    m2 = h.create_member(client, org.organization_id, create_member_as_pending=True)

    resp = ok(client.organizations.delete(organization_id=org.organization_id))
    assert resp.organization_id == org.organization_id

    for locator in (org.organization_id, f"del-{t}", f"del-ext-{t}"):
        expect_error(404, "organization_not_found", client.organizations.get, organization_id=locator)
    for m in (m1, m2):
        expect_error(404, "member_not_found", client.organizations.members.dangerously_get, member_id=m.member_id)
    expect_error(404, "organization_not_found", client.organizations.members.search, organization_ids=[org.organization_id])
    found = ok(client.organizations.search(query=h.query(h.op("organization_ids", [org.organization_id]))))
    assert found.organizations == [] and found.results_metadata.total == 0
    # Deleting again is a 404.
    expect_error(404, "organization_not_found", client.organizations.delete, organization_id=org.organization_id)
    # Its slug and external id are free again.
    again = h.create_org(client, organization_slug=f"del-{t}", organization_external_id=f"del-ext-{t}")
    assert again.organization_id != org.organization_id
    assert ok(client.organizations.get(organization_id=f"del-ext-{t}")).organization.organization_id == again.organization_id


def test_delete_by_slug(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"dels-{t}")
    resp = ok(client.organizations.delete(organization_id=f"dels-{t}"))
    assert resp.organization_id == org.organization_id
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=org.organization_id)


def test_metrics_counts_non_deleted_members(client):
    org = h.create_org(client)
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 0
    h.create_member(client, org.organization_id)
    h.create_member(client, org.organization_id, create_member_as_pending=True)
    gone = h.create_member(client, org.organization_id)
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 3
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=gone.member_id))
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 2
    # By slug too.
    assert ok(client.organizations.metrics(organization_id=org.organization_slug)).member_count == 2


def test_metrics_unknown_organization_is_404(client):
    expect_error(404, "organization_not_found", client.organizations.metrics, organization_id=f"nope-{h.token()}")
