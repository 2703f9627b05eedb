"""organizations.search: filters, AND/OR, cursor pagination, totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import pytest

import latch_helpers as h
from latch_helpers import expect_error, ok
from stytch.b2b.models.organizations import SearchQuery


@dataclass
class World:
    t: str
    orgs: Dict[str, object]  # alpha / beta / gamma
    emails: Dict[str, str]
    allowed: Dict[str, str]
    claimed: Dict[str, str]


@pytest.fixture
def world(client) -> World:
    """Three organizations that only this test's token can match."""
    t = h.token()
    orgs, emails, allowed, claimed = {}, {}, {}, {}
    for key in ("alpha", "beta", "gamma"):
        allowed[key] = f"{key}-{t}.com"
        claimed[key] = f"{key}-claimed-{t}.com"
        orgs[key] = h.create_org(
            client,
            organization_name=f"{key.capitalize()} Rockets {t}",
            organization_slug=f"{key}-{t}",
            email_allowed_domains=[allowed[key]],
            claimed_email_domains=[claimed[key]],
        )
        emails[key] = f"{key}.person@{key}-mail-{t}.com"
        h.create_member(client, orgs[key].organization_id, emails[key])
    return World(t=t, orgs=orgs, emails=emails, allowed=allowed, claimed=claimed)


def _search_ids(client, q, **kw):
    resp = ok(client.organizations.search(query=q, **kw))
    got = [o.organization_id for o in resp.organizations]
    assert len(got) == len(set(got)), f"duplicates in one page: {got}"
    assert resp.results_metadata.total == len(got), (resp.results_metadata, got)
    assert resp.results_metadata.next_cursor is None
    return set(got)


def _expect(world: World, *keys: str):
    return {world.orgs[k].organization_id for k in keys}


CASES = {
    "organization_ids": (lambda w: [h.op("organization_ids", [w.orgs["alpha"].organization_id, w.orgs["beta"].organization_id])], ("alpha", "beta")),
    "organization_slugs": (lambda w: [h.op("organization_slugs", [f"gamma-{w.t}"])], ("gamma",)),
    "organization_name_fuzzy_case_insensitive": (lambda w: [h.op("organization_name_fuzzy", f"ETA ROCKETS {w.t.upper()}")], ("beta",)),
    "organization_name_fuzzy_token": (lambda w: [h.op("organization_name_fuzzy", w.t)], ("alpha", "beta", "gamma")),
    "organization_slug_fuzzy": (lambda w: [h.op("organization_slug_fuzzy", f"mma-{w.t}")], ("gamma",)),
    "member_emails": (lambda w: [h.op("member_emails", [w.emails["alpha"]])], ("alpha",)),
    "member_email_fuzzy": (lambda w: [h.op("member_email_fuzzy", f"@beta-mail-{w.t}")], ("beta",)),
    "allowed_domains": (lambda w: [h.op("allowed_domains", [w.allowed["beta"], w.allowed["gamma"]])], ("beta", "gamma")),
    "allowed_domain_fuzzy": (lambda w: [h.op("allowed_domain_fuzzy", f"lpha-{w.t}")], ("alpha",)),
    "claimed_email_domains": (lambda w: [h.op("claimed_email_domains", [w.claimed["gamma"]])], ("gamma",)),
    "and_of_two": (lambda w: [h.op("organization_name_fuzzy", w.t), h.op("allowed_domains", [w.allowed["beta"]])], ("beta",)),
    "and_disjoint_is_empty": (lambda w: [h.op("organization_slugs", [f"alpha-{w.t}"]), h.op("allowed_domains", [w.allowed["beta"]])], ()),
    "no_match": (lambda w: [h.op("organization_slugs", [f"nothing-{w.t}"])], ()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_filter(client, world, case):
    make, expected = CASES[case]
    assert _search_ids(client, h.query(*make(world))) == _expect(world, *expected)


def test_or_operator(client, world):
    q = h.query(
        h.op("organization_slugs", [f"alpha-{world.t}"]),
        h.op("allowed_domains", [world.allowed["gamma"]]),
        operator="OR",
    )
    assert _search_ids(client, q) == _expect(world, "alpha", "gamma")


def test_query_as_sdk_model(client, world):
    q = SearchQuery(operator="AND", operands=[h.op("organization_slugs", [f"beta-{world.t}"])])
    assert _search_ids(client, q) == _expect(world, "beta")


def test_search_results_are_full_organizations(client, world):
    resp = ok(client.organizations.search(query=h.query(h.op("organization_slugs", [f"alpha-{world.t}"]))))
    assert resp.organizations == [ok(client.organizations.get(organization_id=world.orgs["alpha"].organization_id)).organization]


def test_deleted_organizations_are_not_found(client, world):
    ok(client.organizations.delete(organization_id=world.orgs["beta"].organization_id))
    assert _search_ids(client, h.query(h.op("organization_name_fuzzy", world.t))) == _expect(world, "alpha", "gamma")


def test_no_query_returns_all_organizations_of_the_project(fresh_client):
    created = {h.create_org(fresh_client).organization_id for _ in range(3)}
    resp = ok(fresh_client.organizations.search())
    assert {o.organization_id for o in resp.organizations} == created
    assert resp.results_metadata.total == 3
    assert resp.results_metadata.next_cursor is None
    # An operator without operands does not filter either.
    resp = ok(fresh_client.organizations.search(query=h.query()))
    assert {o.organization_id for o in resp.organizations} == created


def test_pagination_without_query_walks_all_pages(fresh_client):
    created = {h.create_org(fresh_client).organization_id for _ in range(5)}
    first = ok(fresh_client.organizations.search(limit=2))
    assert len(first.organizations) == 2
    assert first.results_metadata.next_cursor
    assert first.results_metadata.total == 5
    orgs, totals = h.org_search_all(fresh_client, limit=2)
    got = [o.organization_id for o in orgs]
    assert len(got) == len(set(got)), f"duplicates across pages: {got}"
    assert set(got) == created
    assert totals == [5, 5, 5]


def test_pagination_with_filter(client):
    t = h.token()
    created = {h.create_org(client, organization_name=f"Paged {t} #{i}").organization_id for i in range(5)}
    q = h.query(h.op("organization_name_fuzzy", f"paged {t}"))
    sizes = []
    cursor = None
    seen = []
    while True:
        resp = ok(client.organizations.search(query=q, limit=2, cursor=cursor))
        sizes.append(len(resp.organizations))
        seen += [o.organization_id for o in resp.organizations]
        assert resp.results_metadata.total == 5
        cursor = resp.results_metadata.next_cursor
        if cursor is None:
            break
        assert len(sizes) < 10, "pagination does not terminate"
    assert sizes == [2, 2, 1]
    assert len(seen) == len(set(seen)) and set(seen) == created


def test_limit_larger_than_result(client, world):
    resp = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", world.t)), limit=1000))
    assert len(resp.organizations) == 3 and resp.results_metadata.next_cursor is None


def test_fuzzy_filters_treat_sql_wildcards_literally(client):
    """`_` and `%` in a fuzzy value are characters, not LIKE wildcards."""
    t = h.token()
    lit = h.create_org(client, organization_name=f"Under_score 100% {t}", organization_slug=f"u_s-{t}")
    h.create_org(client, organization_name=f"Underxscore 100x {t}", organization_slug=f"uxs-{t}")
    for operand in (
        h.op("organization_name_fuzzy", f"r_score 100% {t}"),
        h.op("organization_name_fuzzy", f"00% {t}"),
        h.op("organization_slug_fuzzy", f"u_s-{t}"),
    ):
        r = ok(client.organizations.search(query=h.query(operand)))
        assert [o.organization_id for o in r.organizations] == [lit.organization_id], operand
    r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", f"%{t}"))))
    assert r.organizations == [], "`%` matched as a wildcard"


@pytest.mark.parametrize("cursor", ["garbage", "eyJub3QiOiJhIGN1cnNvciJ9", "-1"])
def test_bogus_cursor_is_refused(client, cursor):
    h.expect_error_status(400, client.organizations.search, cursor=cursor, limit=2)


def test_unknown_filter_name_is_refused(client):
    h.expect_error_status(400, client.organizations.search, query=h.query(h.op("organization_colour", ["blue"])))


def test_fuzzy_filter_with_exactly_three_characters(client):
    t = h.token()
    org = h.create_org(client, organization_name=f"Qzx{t}")
    r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", "QZX"), h.op("organization_name_fuzzy", t))))
    assert [o.organization_id for o in r.organizations] == [org.organization_id]


# ---------------------------------------------------------------- query size bounds (finding 14)

MAX_OPERANDS, MAX_VALUES, MAX_TOTAL, MAX_ORGS = 100, 1_000, 10_000, 1_000


def _ids(n: int):
    return [f"o{i}" for i in range(n)]  # short, so 40,000 of them stay under the 1 MiB body limit


def test_search_query_size_is_bounded(client):
    """Security review finding 14: 40,000 organization_ids or 5,000 fuzzy operands were 500s
    (SQLite's variable and expression limits) after seconds of work; now a 400 naming the field."""
    org = h.create_org(client)
    search = client.organizations.search
    d = expect_error(400, "invalid_argument", search, query=h.query(h.op("organization_ids", _ids(40_000))))
    assert d.error_message.startswith("query.operands"), d.error_message
    fuzzy = [h.op("organization_name_fuzzy", f"zz{i:04d}") for i in range(5_000)]
    d = expect_error(400, "invalid_argument", search, query=h.query(*fuzzy, operator="OR"))
    assert "query.operands" in d.error_message, d.error_message
    expect_error(400, "invalid_argument", search,
                 query=h.query(*[h.op("organization_slug_fuzzy", "abc")] * (MAX_OPERANDS + 1), operator="OR"))
    expect_error(400, "invalid_argument", search,
                 query=h.query(h.op("organization_ids", _ids(MAX_VALUES + 1))))
    many = [h.op("organization_slugs", [f"s-{i}-{j}" for j in range(MAX_VALUES)]) for i in range(MAX_TOTAL // MAX_VALUES + 1)]
    d = expect_error(400, "invalid_argument", search, query=h.query(*many, operator="OR"))
    assert "query.operands" in d.error_message, d.error_message

    # At the bounds the search runs.
    r = ok(search(query=h.query(h.op("organization_ids", _ids(MAX_VALUES - 1) + [org.organization_id]))))
    assert [o.organization_id for o in r.organizations] == [org.organization_id]
    ops = [h.op("organization_name_fuzzy", f"zz{i:04d}") for i in range(MAX_OPERANDS - 1)]
    ops.append(h.op("organization_slugs", [org.organization_slug]))
    r = ok(search(query=h.query(*ops, operator="OR")))
    assert [o.organization_id for o in r.organizations] == [org.organization_id]


def test_member_search_bounds_organizations_and_operands(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    search = client.organizations.members.search
    d = expect_error(400, "invalid_argument", search, organization_ids=[org.organization_id] * (MAX_ORGS + 1))
    assert "organization_ids" in d.error_message, d.error_message
    fuzzy = [h.op("member_email_fuzzy", f"zz{i:04d}") for i in range(5_000)]
    expect_error(400, "invalid_argument", search, organization_ids=[org.organization_id],
                 query=h.query(*fuzzy, operator="OR"))
    expect_error(400, "invalid_argument", search, organization_ids=[org.organization_id],
                 query=h.query(h.op("member_ids", [f"member-test-{i}" for i in range(40_000)])))
    r = ok(search(organization_ids=[org.organization_id] * MAX_ORGS,
                  query=h.query(h.op("member_ids", [f"member-test-{i}" for i in range(MAX_VALUES - 1)] + [m.member_id]))))
    assert [x.member_id for x in r.members] == [m.member_id]
