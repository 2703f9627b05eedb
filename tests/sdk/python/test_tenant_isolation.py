"""Tenant isolation: a second project cannot see or touch the first project's organizations and members."""

from __future__ import annotations

import pytest

import latch_helpers as h
from latch_helpers import expect_error, ok

MEMBER_404 = {"organization_not_found", "member_not_found"}


@pytest.fixture
def victim(client):
    t = h.token()
    org = h.create_org(client, organization_slug=f"victim-{t}", organization_external_id=f"victim-ext-{t}", organization_name=f"Victim {t}")
    m = h.create_member(client, org.organization_id, f"victim-{t}@victim-{t}.com", external_id=f"vm-{t}")
    return t, org, m


def _expect_404(types, fn, **kw):
    with pytest.raises(h.StytchError) as ei:
        fn(**kw)
    d = ei.value.details
    assert d.status_code == 404 and d.error_type in types, f"expected 404 {types}, got {d.status_code} {d.error_type}: {d.error_message}"
    h.check_error_envelope(d)


def test_organization_locators_are_invisible_to_other_project(client, victim, other_project):
    t, org, _ = victim
    _, intruder = other_project
    for locator in (org.organization_id, org.organization_slug, org.organization_external_id):
        expect_error(404, "organization_not_found", intruder.organizations.get, organization_id=locator)
        expect_error(404, "organization_not_found", intruder.organizations.metrics, organization_id=locator)
        expect_error(404, "organization_not_found", intruder.organizations.update, organization_id=locator, organization_name="Owned")
        expect_error(404, "organization_not_found", intruder.organizations.delete_external_id, organization_id=locator)
        expect_error(404, "organization_not_found", intruder.organizations.delete, organization_id=locator)
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got == org


def test_search_does_not_cross_projects(client, victim, other_project):
    t, org, m = victim
    _, intruder = other_project
    everything = ok(intruder.organizations.search())
    assert everything.organizations == [] and everything.results_metadata.total == 0
    for operand in (
        h.op("organization_ids", [org.organization_id]),
        h.op("organization_slugs", [org.organization_slug]),
        h.op("organization_name_fuzzy", t),
        h.op("organization_slug_fuzzy", t),
        h.op("member_emails", [m.email_address]),
        h.op("member_email_fuzzy", t),
    ):
        r = ok(intruder.organizations.search(query=h.query(operand)))
        assert r.organizations == [] and r.results_metadata.total == 0, operand
    expect_error(404, "organization_not_found", intruder.organizations.members.search, organization_ids=[org.organization_id])


def test_members_are_invisible_to_other_project(client, victim, other_project):
    t, org, m = victim
    _, intruder = other_project
    mm = intruder.organizations.members
    expect_error(404, "member_not_found", mm.dangerously_get, member_id=m.member_id)
    expect_error(404, "member_not_found", mm.dangerously_get, member_id=m.member_id, include_deleted=True)
    for org_locator in (org.organization_id, org.organization_slug):
        for member_locator in (m.member_id, m.external_id):
            _expect_404(MEMBER_404, mm.get, organization_id=org_locator, member_id=member_locator)
            _expect_404(MEMBER_404, mm.update, organization_id=org_locator, member_id=member_locator, name="Owned")
            _expect_404(MEMBER_404, mm.delete_external_id, organization_id=org_locator, member_id=member_locator)
            _expect_404(MEMBER_404, mm.delete, organization_id=org_locator, member_id=member_locator)
        _expect_404(MEMBER_404, mm.get, organization_id=org_locator, email_address=m.email_address)
        _expect_404(MEMBER_404, mm.create, organization_id=org_locator, email_address=f"intruder-{t}@evil-{t}.com")
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member == m
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 1


def test_intruder_own_org_cannot_reach_victim_member(client, victim, other_project):
    """Using one's own organization in the path does not unlock another project's member."""
    _, _, m = victim
    _, intruder = other_project
    own = h.create_org(intruder)
    mm = intruder.organizations.members
    expect_error(404, "member_not_found", mm.get, organization_id=own.organization_id, member_id=m.member_id)
    expect_error(404, "member_not_found", mm.update, organization_id=own.organization_id, member_id=m.member_id, name="Owned")
    expect_error(404, "member_not_found", mm.delete, organization_id=own.organization_id, member_id=m.member_id)
    assert ok(client.organizations.members.dangerously_get(member_id=m.member_id)).member == m


def test_identifiers_may_repeat_across_projects(client, victim, other_project):
    """External ids are unique per project only (documented); slugs are scoped the same way, otherwise a
    duplicate-slug error would reveal another tenant's organizations."""
    t, org, _ = victim
    _, other = other_project
    mine = h.create_org(other, organization_slug=org.organization_slug, organization_external_id=org.organization_external_id)
    assert mine.organization_id != org.organization_id
    assert ok(other.organizations.get(organization_id=org.organization_slug)).organization.organization_id == mine.organization_id
    assert ok(client.organizations.get(organization_id=org.organization_slug)).organization.organization_id == org.organization_id
