"""organizations.members.search: filters, statuses, pagination, organizations map, validation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Dict

import pytest

import latch_helpers as h
from latch_helpers import expect_error, ok


@dataclass
class Team:
    t: str
    org: object
    members: Dict[str, object]


@pytest.fixture
def team(client) -> Team:
    t = h.token()
    org = h.create_org(client)
    oid = org.organization_id
    d = f"team-{t}.com"
    members = {
        "alice": h.create_member(client, oid, f"alice@{d}", mfa_phone_number="+12025550101"),
        "bob": h.create_member(client, oid, f"bob@{d}", is_breakglass=True, mfa_phone_number="+12025550102"),
        "carol": h.create_member(client, oid, f"carol.{t}@other-{t}.com", create_member_as_pending=True),
        "dave": h.create_member(client, oid, f"dave@{d}"),
    }
    ok(client.organizations.members.delete(organization_id=oid, member_id=members["dave"].member_id))
    return Team(t=t, org=org, members=members)


def _ids(client, team, q=None, **kw):
    resp = ok(client.organizations.members.search(organization_ids=[team.org.organization_id], query=q, **kw))
    got = [m.member_id for m in resp.members]
    assert len(got) == len(set(got)), got
    assert resp.results_metadata.total == len(got), (resp.results_metadata, got)
    assert resp.results_metadata.next_cursor is None
    return set(got)


def _expect(team, *names):
    return {team.members[n].member_id for n in names}


def test_no_query_returns_non_deleted_members(client, team):
    resp = ok(client.organizations.members.search(organization_ids=[team.org.organization_id]))
    assert {m.member_id for m in resp.members} == _expect(team, "alice", "bob", "carol")
    assert resp.results_metadata.total == 3
    oid = team.org.organization_id
    assert set(resp.organizations) == {oid}
    assert resp.organizations[oid].organization_id == oid
    assert resp.organizations[oid] == ok(client.organizations.get(organization_id=oid)).organization
    by_id = {m.member_id: m for m in resp.members}
    for name in ("alice", "bob", "carol"):
        assert by_id[team.members[name].member_id] == team.members[name]


CASES = {
    "member_ids": (lambda tm: [h.op("member_ids", [tm.members["alice"].member_id, tm.members["carol"].member_id])], ("alice", "carol")),
    "member_emails": (lambda tm: [h.op("member_emails", [tm.members["bob"].email_address])], ("bob",)),
    "member_email_fuzzy": (lambda tm: [h.op("member_email_fuzzy", f"@other-{tm.t}")], ("carol",)),
    "member_is_breakglass_true": (lambda tm: [h.op("member_is_breakglass", True)], ("bob",)),
    "member_is_breakglass_false": (lambda tm: [h.op("member_is_breakglass", False)], ("alice", "carol")),
    "statuses_active": (lambda tm: [h.op("statuses", ["active"])], ("alice", "bob")),
    "statuses_pending": (lambda tm: [h.op("statuses", ["pending"])], ("carol",)),
    "statuses_deleted": (lambda tm: [h.op("statuses", ["deleted"])], ("dave",)),
    "statuses_active_and_deleted": (lambda tm: [h.op("statuses", ["active", "deleted"])], ("alice", "bob", "dave")),
    "member_phone_numbers": (lambda tm: [h.op("member_phone_numbers", ["+12025550102"])], ("bob",)),
    "member_phone_number_fuzzy": (lambda tm: [h.op("member_phone_number_fuzzy", "555010")], ("alice", "bob")),
    "and_of_two": (lambda tm: [h.op("statuses", ["active"]), h.op("member_is_breakglass", False)], ("alice",)),
    "no_match": (lambda tm: [h.op("member_emails", [f"nobody@nowhere-{tm.t}.com"])], ()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_filter(client, team, case):
    make, expected = CASES[case]
    assert _ids(client, team, h.query(*make(team))) == _expect(team, *expected)


def test_deleted_member_found_by_statuses_has_status_deleted(client, team):
    resp = ok(client.organizations.members.search(organization_ids=[team.org.organization_id], query=h.query(h.op("statuses", ["deleted"]))))
    assert [m.status for m in resp.members] == ["deleted"]


def test_or_operator(client, team):
    q = h.query(h.op("member_emails", [team.members["alice"].email_address]), h.op("member_is_breakglass", True), operator="OR")
    assert _ids(client, team, q) == _expect(team, "alice", "bob")


def test_pagination_walks_all_members(client):
    org = h.create_org(client)
    created = {h.create_member(client, org.organization_id).member_id for _ in range(5)}
    members, totals, pages = h.member_search_all(client, [org.organization_id], limit=2)
    got = [m.member_id for m in members]
    assert [len(p.members) for p in pages] == [2, 2, 1]
    assert len(got) == len(set(got)) and set(got) == created
    assert totals == [5, 5, 5]
    assert pages[-1].results_metadata.next_cursor is None
    assert all(p.results_metadata.next_cursor for p in pages[:-1])


def test_search_across_two_organizations(client):
    a, b, c = h.create_org(client), h.create_org(client), h.create_org(client)
    ma = h.create_member(client, a.organization_id)
    mb = h.create_member(client, b.organization_id)
    h.create_member(client, c.organization_id)
    resp = ok(client.organizations.members.search(organization_ids=[a.organization_id, b.organization_id]))
    assert {m.member_id for m in resp.members} == {ma.member_id, mb.member_id}
    assert set(resp.organizations) == {a.organization_id, b.organization_id}
    assert resp.results_metadata.total == 2


def test_empty_organization_ids_is_invalid(client):
    expect_error(400, "invalid_argument", client.organizations.members.search, organization_ids=[])


def test_unknown_organization_id_is_404(client):
    org = h.create_org(client)
    expect_error(404, "organization_not_found", client.organizations.members.search, organization_ids=[org.organization_id, f"organization-test-{uuid.uuid4()}"])


def test_fuzzy_filter_needs_three_characters(client, team):
    for name in ("member_email_fuzzy", "member_phone_number_fuzzy"):
        expect_error(400, "invalid_argument", client.organizations.members.search, organization_ids=[team.org.organization_id], query=h.query(h.op(name, "ab")))


def test_limit_above_1000_is_invalid(client, team):
    expect_error(400, "invalid_argument", client.organizations.members.search, organization_ids=[team.org.organization_id], limit=1001)
    ok(client.organizations.members.search(organization_ids=[team.org.organization_id], limit=1000))


def test_email_fuzzy_treats_sql_wildcards_literally(client):
    t = h.token()
    org = h.create_org(client)
    lit = h.create_member(client, org.organization_id, f"first_last-{t}@wild-{t}.com")
    h.create_member(client, org.organization_id, f"firstxlast-{t}@wild-{t}.com")
    r = ok(client.organizations.members.search(organization_ids=[org.organization_id], query=h.query(h.op("member_email_fuzzy", f"t_last-{t}"))))
    assert [m.member_id for m in r.members] == [lit.member_id]
    r = ok(client.organizations.members.search(organization_ids=[org.organization_id], query=h.query(h.op("member_email_fuzzy", f"%last-{t}"))))
    assert r.members == [], "`%` matched as a wildcard"


@pytest.mark.parametrize("cursor", ["garbage", "eyJub3QiOiJhIGN1cnNvciJ9", "-1"])
def test_bogus_cursor_is_refused(client, cursor):
    org = h.create_org(client)
    h.expect_error_status(400, client.organizations.members.search, organization_ids=[org.organization_id], cursor=cursor, limit=2)


def test_unknown_filter_name_is_refused(client):
    org = h.create_org(client)
    h.expect_error_status(400, client.organizations.members.search, organization_ids=[org.organization_id], query=h.query(h.op("member_shoe_size", [42])))


def test_cursor_is_bound_to_its_organizations(client):
    """A cursor from one search must not leak members of organizations outside the new call's organization_ids."""
    a, b = h.create_org(client), h.create_org(client)
    for _ in range(3):
        h.create_member(client, a.organization_id)
    bm = h.create_member(client, b.organization_id)
    first = ok(client.organizations.members.search(organization_ids=[a.organization_id], limit=1))
    cursor = first.results_metadata.next_cursor
    assert cursor
    try:
        resp = client.organizations.members.search(organization_ids=[b.organization_id], cursor=cursor, limit=10)
    except h.StytchError as e:
        assert e.details.status_code == 400, e.details
    else:
        assert {m.organization_id for m in resp.members} <= {b.organization_id}
        assert {m.member_id for m in resp.members} <= {bm.member_id}


def test_organizations_map_lists_only_organizations_of_returned_members(client):
    a, b = h.create_org(client), h.create_org(client)
    ma = h.create_member(client, a.organization_id)
    h.create_member(client, b.organization_id)
    resp = ok(client.organizations.members.search(
        organization_ids=[a.organization_id, b.organization_id], query=h.query(h.op("member_ids", [ma.member_id]))
    ))
    assert [m.member_id for m in resp.members] == [ma.member_id]
    assert set(resp.organizations) == {a.organization_id}


def test_fuzzy_filter_with_exactly_three_characters(client, team):
    assert _ids(client, team, h.query(h.op("member_phone_number_fuzzy", "102"))) == _expect(team, "bob")
    assert _ids(client, team, h.query(h.op("member_email_fuzzy", "bob"))) == _expect(team, "bob")
