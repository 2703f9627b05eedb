"""Concurrent calls, as several application workers would make them: uniqueness holds, nothing 5xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import latch_helpers as h
from latch_helpers import ok
from stytch.core.response_base import StytchError

WORKERS = 8


def _race(fn, n=WORKERS):
    """Run fn(i) n times concurrently; return (successes, StytchErrorDetails list)."""
    def call(i):
        try:
            return ("ok", fn(i))
        except StytchError as e:
            return ("err", e.details)

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(call, range(n)))
    return [r for k, r in results if k == "ok"], [r for k, r in results if k == "err"]


def _clients(server, n=WORKERS):
    # One SDK client (one connection pool) per worker, like separate application processes.
    return [h.make_client(server.url, server.project.project_id, server.project.secret) for _ in range(n)]


def test_concurrent_creates_with_the_same_slug(server, client):
    t = h.token()
    clients = _clients(server)
    oks, errs = _race(lambda i: clients[i].organizations.create(organization_name=f"Race {t} {i}", organization_slug=f"race-{t}"))
    assert len(oks) == 1, f"{len(oks)} creates succeeded; errors: {[(e.status_code, e.error_type) for e in errs]}"
    assert {(e.status_code, e.error_type) for e in errs} == {(400, "organization_slug_already_used")}
    r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", f"Race {t}"))))
    assert [o.organization_id for o in r.organizations] == [oks[0].organization.organization_id]


def test_concurrent_member_creates_with_the_same_email(server, client):
    org = h.create_org(client)
    email = f"race-{h.token()}@{h.unique_domain('race')}"
    clients = _clients(server)
    oks, errs = _race(lambda i: clients[i].organizations.members.create(organization_id=org.organization_id, email_address=email))
    assert len(oks) == 1, f"{len(oks)} creates succeeded; errors: {[(e.status_code, e.error_type) for e in errs]}"
    assert {(e.status_code, e.error_type) for e in errs} == {(400, "duplicate_member_email")}
    assert ok(client.organizations.metrics(organization_id=org.organization_id)).member_count == 1


def test_concurrent_writes_to_different_members_all_succeed(server, client):
    org = h.create_org(client)
    members = [h.create_member(client, org.organization_id) for _ in range(WORKERS)]
    clients = _clients(server)
    oks, errs = _race(
        lambda i: clients[i].organizations.members.update(
            organization_id=org.organization_id, member_id=members[i].member_id, name=f"Worker {i}", untrusted_metadata={"i": i}
        )
    )
    assert errs == [], [(e.status_code, e.error_type, e.error_message) for e in errs]
    for i, m in enumerate(members):
        got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member
        assert got.name == f"Worker {i}" and got.untrusted_metadata == {"i": i}


def test_concurrent_organization_creates_all_succeed(server, client):
    t = h.token()
    clients = _clients(server)
    oks, errs = _race(lambda i: clients[i].organizations.create(organization_name=f"Burst {t} {i}"))
    assert errs == [], [(e.status_code, e.error_type, e.error_message) for e in errs]
    slugs = [o.organization.organization_slug for o in oks]
    assert len(set(slugs)) == WORKERS, f"generated slugs collide: {slugs}"
    r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", f"Burst {t}"))))
    assert r.results_metadata.total == WORKERS
