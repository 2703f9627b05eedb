"""Organization validation errors: exact status + error_type, and nothing written after a refusal."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from stytch.core.response_base import StytchError

import latch_helpers as h
from latch_helpers import expect_error, ok

BIG_METADATA = {"blob": "x" * 4200}  # > 4 KiB once serialized
assert len(json.dumps(BIG_METADATA)) > 4096

# (case id, create/update kwargs, error_type); all 400.
INVALID_FIELDS = [
    ("slug_one_char", {"organization_slug": "a"}, "invalid_organization_slug"),
    ("slug_with_space", {"organization_slug": "has space"}, "invalid_organization_slug"),
    ("slug_129_chars", {"organization_slug": "s" * 129}, "invalid_organization_slug"),
    ("slug_with_slash", {"organization_slug": "bad/slug"}, "invalid_organization_slug"),
    ("name_empty", {"organization_name": ""}, "invalid_organization_name"),
    ("name_129_chars", {"organization_name": "n" * 129}, "invalid_organization_name"),
    # Names appear in emails: no control characters or line breaks (security review, section 3).
    ("name_with_crlf", {"organization_name": "Acme\r\n\r\nReset at https://evil.test"}, "invalid_organization_name"),
    ("name_with_lf", {"organization_name": "Acme\nCorp"}, "invalid_organization_name"),
    ("name_with_tab_nul_esc", {"organization_name": "Acme\t\x00\x1b[31m"}, "invalid_organization_name"),
    ("name_with_c1_and_ls", {"organization_name": "Acme\x85Corp\u2028"}, "invalid_organization_name"),
    ("external_id_space", {"organization_external_id": "has space"}, "invalid_organization_external_id"),
    ("external_id_slash", {"organization_external_id": "bad/ext"}, "invalid_organization_external_id"),
    ("external_id_129_chars", {"organization_external_id": "e" * 129}, "invalid_organization_external_id"),
    ("domain_too_common", {"email_allowed_domains": ["gmail.com"]}, "organization_settings_domain_too_common"),
    ("domain_invalid", {"email_allowed_domains": ["not a domain"]}, "organization_settings_invalid_domain"),
    ("mfa_policy", {"mfa_policy": "SOMETIMES"}, "invalid_organization_mfa_policy"),
    ("allowed_auth_methods", {"allowed_auth_methods": ["telepathy"]}, "invalid_organization_allowed_auth_methods"),
    ("allowed_mfa_methods", {"allowed_mfa_methods": ["carrier_pigeon"]}, "invalid_organization_allowed_mfa_methods"),
    ("email_invites", {"email_invites": "SOMETIMES"}, "invalid_organization_auth_method_settings"),
    ("metadata_too_large", {"trusted_metadata": BIG_METADATA}, "metadata_too_large"),
]


def _assert_no_org_with(client, slug=None, name_token=None):
    if slug is not None:
        r = ok(client.organizations.search(query=h.query(h.op("organization_slugs", [slug]))))
        assert r.organizations == [] and r.results_metadata.total == 0, f"an organization with slug {slug!r} exists"
    if name_token is not None:
        r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", name_token))))
        assert r.organizations == [] and r.results_metadata.total == 0, f"an organization named *{name_token}* exists"


@pytest.mark.parametrize("case,bad,error_type", INVALID_FIELDS, ids=[c[0] for c in INVALID_FIELDS])
def test_create_refused(client, case, bad, error_type):
    t = h.token()
    kwargs = {"organization_name": f"Refused {t}", "organization_slug": f"refused-{t}", **bad}
    expect_error(400, error_type, client.organizations.create, **kwargs)
    # Nothing was written: neither the (valid) slug nor the (valid) name exists.
    slug = kwargs["organization_slug"] if "organization_slug" not in bad else None
    name_token = t if "organization_name" not in bad else None
    _assert_no_org_with(client, slug=slug, name_token=name_token)
    # The same request with the offending field removed succeeds (the refusal was about that field).
    fixed = {k: v for k, v in kwargs.items() if k not in bad}
    if "organization_name" in bad:
        fixed["organization_name"] = f"Fixed {t}"
    if "organization_slug" in bad:
        fixed["organization_slug"] = f"fixed-{t}"
    ok(client.organizations.create(**fixed))


@pytest.mark.parametrize("case,bad,error_type", INVALID_FIELDS, ids=[c[0] for c in INVALID_FIELDS])
def test_update_refused_and_atomic(client, case, bad, error_type):
    org = h.create_org(client, trusted_metadata={"v": 1})
    # A valid change is sent together with the invalid one: the whole update must be refused.
    valid_change = {"organization_logo_url": "https://cdn.example.com/changed.png"}
    if "organization_name" not in bad:
        valid_change["organization_name"] = "Changed Name"
    expect_error(400, error_type, client.organizations.update, organization_id=org.organization_id, **valid_change, **bad)
    got = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert got == org, "a refused update changed the organization"


def test_duplicate_slug_on_create(client):
    t = h.token()
    first = h.create_org(client, organization_slug=f"dup-{t}", organization_name=f"First {t}")
    expect_error(
        400, "organization_slug_already_used", client.organizations.create,
        organization_name=f"Second {t}", organization_slug=f"dup-{t}",
    )
    r = ok(client.organizations.search(query=h.query(h.op("organization_slugs", [f"dup-{t}"]))))
    assert [o.organization_id for o in r.organizations] == [first.organization_id]
    r = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", f"Second {t}"))))
    assert r.organizations == []


def test_duplicate_slug_on_update(client):
    t = h.token()
    a = h.create_org(client, organization_slug=f"taken-{t}")
    b = h.create_org(client, organization_slug=f"mine-{t}")
    expect_error(
        400, "organization_slug_already_used", client.organizations.update,
        organization_id=b.organization_id, organization_slug=f"taken-{t}", organization_name="Changed",
    )
    assert ok(client.organizations.get(organization_id=b.organization_id)).organization == b
    assert ok(client.organizations.get(organization_id=f"taken-{t}")).organization.organization_id == a.organization_id


def test_update_to_own_slug_is_not_a_duplicate(client):
    org = h.create_org(client)
    upd = ok(
        client.organizations.update(
            organization_id=org.organization_id, organization_slug=org.organization_slug, organization_name="Same Slug"
        )
    ).organization
    assert upd.organization_slug == org.organization_slug and upd.organization_name == "Same Slug"


def test_duplicate_external_id_on_create(client):
    t = h.token()
    first = h.create_org(client, organization_external_id=f"dupext-{t}")
    expect_error(
        400, "organization_external_id_already_used", client.organizations.create,
        organization_name=f"Second {t}", organization_slug=f"second-{t}", organization_external_id=f"dupext-{t}",
    )
    _assert_no_org_with(client, slug=f"second-{t}", name_token=f"Second {t}")
    assert ok(client.organizations.get(organization_id=f"dupext-{t}")).organization.organization_id == first.organization_id


def test_duplicate_external_id_on_update(client):
    t = h.token()
    h.create_org(client, organization_external_id=f"dupext-{t}")
    b = h.create_org(client)
    expect_error(
        400, "organization_external_id_already_used", client.organizations.update,
        organization_id=b.organization_id, organization_external_id=f"dupext-{t}",
    )
    assert ok(client.organizations.get(organization_id=b.organization_id)).organization == b


def test_metadata_just_under_limit_is_accepted(client):
    meta = {"blob": "y" * 3900}
    assert len(json.dumps(meta)) < 4096
    org = h.create_org(client, trusted_metadata=meta)
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization.trusted_metadata == meta


def test_org_search_validation(client):
    # Fuzzy filters need at least 3 characters; limit is at most 1000.
    d = h.expect_error_status(400, client.organizations.search, query=h.query(h.op("organization_name_fuzzy", "ab")))
    assert d.error_type, d
    d = h.expect_error_status(400, client.organizations.search, limit=1001)
    assert d.error_type, d


# ---------------------------------------------------------------- locators cannot shadow each other


def _run_together(calls):
    """Starts every call at once (a barrier) and returns each result or StytchError."""
    gate = threading.Barrier(len(calls))

    def run(call):
        gate.wait()
        try:
            return call()
        except StytchError as e:
            return e

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _locates(client, locator: str) -> str:
    return ok(client.organizations.get(organization_id=locator)).organization.organization_id


def test_slug_and_external_id_cannot_shadow_another_organizations_locators(client):
    """Security review finding 7: ids, slugs and external ids all address an organization, so none
    may equal a locator of another organization; a refused write changes nothing."""
    ext = f"crm-tenant-{h.token()}"
    a = h.create_org(client, organization_external_id=ext)
    b = h.create_org(client)
    upd = client.organizations.update

    # A slug may not be another organization's external id, id or slug.
    for taken in (ext, a.organization_id, a.organization_slug):
        expect_error(400, "organization_slug_already_used", upd, organization_id=b.organization_id,
                     organization_slug=taken)
        expect_error(400, "organization_slug_already_used", client.organizations.create,
                     organization_name=f"Org {h.token()}", organization_slug=taken)
    # An external id may not be another organization's slug, id or external id.
    for taken in (a.organization_slug, a.organization_id, ext):
        expect_error(400, "organization_external_id_already_used", upd, organization_id=b.organization_id,
                     organization_external_id=taken)
        expect_error(400, "organization_external_id_already_used", client.organizations.create,
                     organization_name=f"Org {h.token()}", organization_external_id=taken)

    # Nothing changed: every locator of A still finds A, B kept its own.
    for locator in (ext, a.organization_id, a.organization_slug):
        assert _locates(client, locator) == a.organization_id
    got = ok(client.organizations.get(organization_id=b.organization_id)).organization
    assert (got.organization_slug, got.organization_external_id) == (b.organization_slug, b.organization_external_id)

    # One organization may reuse its own locator, and a freed locator can be taken.
    own = ok(upd(organization_id=b.organization_id, organization_external_id=b.organization_slug)).organization
    assert own.organization_external_id == b.organization_slug
    ok(client.organizations.delete_external_id(organization_id=a.organization_id))
    ok(upd(organization_id=b.organization_id, organization_slug=ext))
    assert _locates(client, ext) == b.organization_id


def test_concurrent_slug_and_external_id_writes_cannot_both_take_a_locator(server, client):
    """The check before the write is backed by the store: of two organizations racing to take the
    same string, one as its slug and one as its external id, at most one wins."""
    clients = [h.make_client(server.url, server.project.project_id, server.project.secret) for _ in range(2)]
    for _round in range(5):
        x = f"contested-{h.token()}"
        b, c = h.create_org(client), h.create_org(client)
        calls = [
            lambda: clients[0].organizations.update(organization_id=b.organization_id, organization_slug=x),
            lambda: clients[1].organizations.update(organization_id=c.organization_id, organization_external_id=x),
        ]
        results = _run_together(calls)
        won = [r for r in results if not isinstance(r, Exception)]
        assert len(won) == 1, f"{len(won)} of the two writes took {x!r}: {results}"
        for r in results:
            if isinstance(r, Exception):
                assert r.details.status_code == 400, r
                assert r.details.error_type in ("organization_slug_already_used",
                                                "organization_external_id_already_used"), r
        holder = b if won[0].organization.organization_slug == x else c
        assert _locates(client, x) == holder.organization_id
