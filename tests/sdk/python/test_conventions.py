"""API conventions: envelopes, authentication, request parsing, wire quirks of the SDKs, health, outbox."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from stytch.b2b.models import organizations as org_models
from stytch.b2b.models import organizations_members as member_models
from stytch.shared.method_options import Authorization

import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok

JSON = {"Content-Type": "application/json"}


def _auth(server) -> tuple:
    return (server.project.project_id, server.project.secret)


# ---------------------------------------------------------------- envelopes

def test_success_envelope_and_unique_request_ids(client):
    r1 = ok(client.organizations.create(organization_name=f"Env {h.token()}"))
    r2 = ok(client.organizations.get(organization_id=r1.organization.organization_id))
    r3 = ok(client.organizations.search(limit=1))
    ids = {r1.request_id, r2.request_id, r3.request_id}
    assert len(ids) == 3, f"request_id must be unique per call: {ids}"


def test_error_envelope(client):
    d = expect_error(404, "organization_not_found", client.organizations.get, organization_id=f"nope-{h.token()}")
    assert d.original_json["status_code"] == 404
    assert d.original_json["request_id"] == d.request_id


def test_raw_success_status_code_matches_http_status(server, http):
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=json.dumps({"organization_name": "Raw"}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_code"] == 200 and isinstance(body["request_id"], str) and body["request_id"]
    assert r.headers.get("Content-Type", "").startswith("application/json")


# ---------------------------------------------------------------- authentication

def test_wrong_secret_is_401(server, client):
    org = h.create_org(client)
    bad = h.make_client(server.url, server.project.project_id, "secret-test-wrong")
    expect_error(401, "unauthorized_credentials", bad.organizations.search)
    # An existing resource does not turn 401 into something more informative.
    expect_error(401, "unauthorized_credentials", bad.organizations.get, organization_id=org.organization_id)
    expect_error(401, "unauthorized_credentials", bad.organizations.delete, organization_id=org.organization_id)
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization == org


def test_unknown_project_is_401(server):
    bad = h.make_client(server.url, f"project-test-{uuid.uuid4()}", server.project.secret)
    expect_error(401, "unauthorized_credentials", bad.organizations.search)
    expect_error(401, "unauthorized_credentials", bad.organizations.create, organization_name="should not exist")


def test_secret_of_another_project_is_401(server, other_project):
    p, _ = other_project
    bad = h.make_client(server.url, server.project.project_id, p.secret)
    expect_error(401, "unauthorized_credentials", bad.organizations.search)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer abc", "Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon").decode()],
    ids=["missing", "bearer", "garbage", "no_colon"],
)
def test_bad_authorization_header_is_401(server, http, authorization):
    headers = dict(JSON)
    if authorization:
        headers["Authorization"] = authorization
    r = http.post(server.api("/v1/b2b/organizations/search"), headers=headers, data="{}")
    check_raw_error(r, 401, "unauthorized_credentials")


def test_no_credentials_on_get_is_401(server, http):
    r = http.get(server.api("/v1/b2b/organizations/some-org"))
    check_raw_error(r, 401, "unauthorized_credentials")


# ---------------------------------------------------------------- request parsing

def test_malformed_json_is_400_bad_request(server, http):
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data='{"organization_name": ')
    check_raw_error(r, 400, "bad_request")


def test_missing_required_field_is_400_invalid_argument(server, http):
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data="{}")
    body = check_raw_error(r, 400, "invalid_argument")
    assert "organization_name" in body["error_message"], body


def test_wrong_type_is_400_invalid_argument(server, http):
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data='{"organization_name": 5}')
    body = check_raw_error(r, 400, "invalid_argument")
    assert "organization_name" in body["error_message"], body


def test_unknown_fields_are_ignored(server, http, client):
    slug = h.unique_slug("extra")
    payload = {"organization_name": "Extra", "organization_slug": slug, "not_a_field": {"x": 1}, "another": [1, 2]}
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=json.dumps(payload))
    assert r.status_code == 200, r.text
    org = ok(client.organizations.get(organization_id=slug)).organization
    assert org.organization_name == "Extra"


def test_null_optional_fields_are_treated_as_absent(server, http, client):
    # A Node caller can send explicit nulls; they mean "not set".
    slug = h.unique_slug("nulls")
    payload = {"organization_name": "Nulls", "organization_slug": slug, "organization_logo_url": None, "trusted_metadata": None, "email_invites": None}
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=json.dumps(payload))
    assert r.status_code == 200, r.text
    org = ok(client.organizations.get(organization_id=slug)).organization
    assert org.organization_logo_url == "" and org.email_invites == "ALL_ALLOWED"


def test_body_over_1_mib_is_413(server, http, client):
    name_token = h.token()
    payload = json.dumps({"organization_name": f"Huge {name_token}", "trusted_metadata": {"blob": "a" * (1024 * 1024 + 16)}})
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=payload)
    assert r.status_code == 413, f"HTTP {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert body.get("status_code") == 413 and body.get("request_id"), body
    found = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", name_token))))
    assert found.organizations == []


def test_body_under_1_mib_is_parsed(server, http):
    # ~1,000,000 bytes: must reach validation (metadata too large), not the body-size limit.
    payload = json.dumps({"organization_name": "Big", "trusted_metadata": {"blob": "a" * 1_000_000}})
    assert len(payload) < 1024 * 1024
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=payload)
    check_raw_error(r, 400, "metadata_too_large")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_route_is_404(server, http, method):
    r = http.request(method, server.api("/v1/b2b/no_such_route"), auth=_auth(server), headers=JSON, data="{}" if method == "POST" else None)
    check_raw_error(r, 404, "route_not_found")


def test_trailing_path_under_known_prefix_is_404(server, http):
    r = http.get(server.api("/v1/b2b/organizations/x/y/z/w"), auth=_auth(server))
    check_raw_error(r, 404, "route_not_found")


@pytest.mark.parametrize("body", [None, "{}"], ids=["no_body_python", "empty_object_node"])
def test_delete_with_and_without_body(server, http, client, body):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    r = http.delete(server.api(f"/v1/b2b/organizations/{org.organization_id}/members/{m.member_id}"), auth=_auth(server), headers=JSON, data=body)
    assert r.status_code == 200, r.text
    assert r.json()["member_id"] == m.member_id
    r = http.delete(server.api(f"/v1/b2b/organizations/{org.organization_id}"), auth=_auth(server), headers=JSON, data=body)
    assert r.status_code == 200, r.text
    assert r.json()["organization_id"] == org.organization_id
    expect_error(404, "organization_not_found", client.organizations.get, organization_id=org.organization_id)


def test_path_parameters_are_percent_decoded(client):
    org = h.create_org(client)
    ext = f"a|b.c_{h.token()}"
    d = h.unique_domain("pct")
    m = h.create_member(client, org.organization_id, f"x+y@{d}", external_id=ext)
    # The SDK percent-encodes `|` and `+` in the path and query.
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=ext)).member.member_id == m.member_id
    assert ok(client.organizations.members.get(organization_id=org.organization_id, email_address=f"x+y@{d}")).member.member_id == m.member_id
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=ext, name="via ext"))
    assert ok(client.organizations.members.dangerously_get(member_id=m.member_id)).member.name == "via ext"


def test_path_parameter_wins_over_duplicate_in_body(server, http, client):
    """The Python SDK repeats path parameters in the body; a mismatching copy must not redirect the call."""
    a = h.create_org(client, organization_name="Path A")
    b = h.create_org(client, organization_name="Path B")
    r = http.put(
        server.api(f"/v1/b2b/organizations/{a.organization_id}"), auth=_auth(server), headers=JSON,
        data=json.dumps({"organization_id": b.organization_id, "organization_name": "Renamed"}),
    )
    assert r.status_code == 200, r.text
    assert ok(client.organizations.get(organization_id=a.organization_id)).organization.organization_name == "Renamed"
    assert ok(client.organizations.get(organization_id=b.organization_id)).organization.organization_name == "Path B"


# ---------------------------------------------------------------- query booleans (True/False vs true/false)

@pytest.mark.parametrize("value,found", [("True", True), ("true", True), ("TRUE", True), ("False", False), ("false", False)])
def test_query_booleans(server, http, client, value, found):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    r = http.get(
        server.api(f"/v1/b2b/organizations/members/dangerously_get/{m.member_id}"),
        params={"member_id": m.member_id, "include_deleted": value}, auth=_auth(server), headers=JSON,
    )
    if found:
        assert r.status_code == 200, r.text
        assert r.json()["member"]["status"] == "deleted"
    else:
        check_raw_error(r, 404, "member_not_found")


def test_sdk_include_deleted_boolean(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    ok(client.organizations.members.delete(organization_id=org.organization_id, member_id=m.member_id))
    assert ok(client.organizations.members.dangerously_get(member_id=m.member_id, include_deleted=True)).member.status == "deleted"
    expect_error(404, "member_not_found", client.organizations.members.dangerously_get, member_id=m.member_id, include_deleted=False)


# ---------------------------------------------------------------- member-session headers

def _bogus(options_cls, **kw):
    return options_cls(authorization=Authorization(**kw))


def test_bogus_session_token_on_member_update_is_401(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, name="Before")
    expect_error(
        401, "session_not_found", client.organizations.members.update,
        organization_id=org.organization_id, member_id=m.member_id, name="After",
        method_options=_bogus(member_models.UpdateRequestOptions, session_token="bogus"),
    )
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member == m


def test_bogus_session_token_on_member_delete_is_401(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    expect_error(
        401, "session_not_found", client.organizations.members.delete,
        organization_id=org.organization_id, member_id=m.member_id,
        method_options=_bogus(member_models.DeleteRequestOptions, session_token="bogus"),
    )
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member.status == "active"


def test_bogus_session_token_on_organization_update_and_delete_is_401(client):
    org = h.create_org(client)
    expect_error(
        401, "session_not_found", client.organizations.update,
        organization_id=org.organization_id, organization_name="Hijacked",
        method_options=_bogus(org_models.UpdateRequestOptions, session_token="bogus"),
    )
    expect_error(
        401, "session_not_found", client.organizations.delete,
        organization_id=org.organization_id,
        method_options=_bogus(org_models.DeleteRequestOptions, session_token="bogus"),
    )
    assert ok(client.organizations.get(organization_id=org.organization_id)).organization == org


def test_bogus_session_jwt_is_refused(client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, name="Before")
    h.expect_error_status(
        401, client.organizations.members.update,
        organization_id=org.organization_id, member_id=m.member_id, name="After",
        method_options=_bogus(member_models.UpdateRequestOptions, session_jwt="not.a.jwt"),
    )
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member == m


# ---------------------------------------------------------------- health, CLI, outbox

def test_healthz(server, http):
    r = http.get(server.api("/healthz"))
    assert r.status_code == 200, r.text


def test_cli_project_create_while_server_runs(server):
    name = f"cli-{h.token()}"
    p = server.create_project(name)
    assert p.name == name
    assert p.project_id != server.project.project_id
    assert p.secret and p.secret != server.project.secret
    c = h.make_client(server.url, p.project_id, p.secret)
    resp = ok(c.organizations.search())
    assert resp.organizations == [] and resp.results_metadata.total == 0
    org = h.create_org(c)
    assert ok(c.organizations.get(organization_id=org.organization_id)).organization == org


def test_cli_projects_are_distinct(server):
    a, b = server.create_project(), server.create_project()
    assert a.project_id != b.project_id and a.secret != b.secret


def test_outbox_empty_for_new_project(server, http, other_project):
    p, _ = other_project
    r = http.get(server.api("/latch/v1/outbox"), params={"recipient": "someone@example.com", "limit": 10}, auth=(p.project_id, p.secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["messages"] == []
    assert body["status_code"] == 200 and isinstance(body["request_id"], str) and body["request_id"]


@pytest.mark.parametrize("creds", ["none", "wrong_secret"])
def test_outbox_requires_credentials(server, http, creds):
    auth = None if creds == "none" else (server.project.project_id, "wrong")
    r = http.get(server.api("/latch/v1/outbox"), params={"limit": 10}, auth=auth)
    check_raw_error(r, 401, "unauthorized_credentials")


# ---------------------------------------------------------------- more request parsing

@pytest.mark.parametrize(
    "field,value",
    [
        ("trusted_metadata", [1, 2]),
        ("trusted_metadata", "text"),
        ("email_allowed_domains", "acme.com"),
        ("organization_slug", 12),
        ("mfa_policy", 1),
        ("claimed_email_domains", [1]),
    ],
)
def test_wrong_type_of_optional_field_is_400_invalid_argument(server, http, client, field, value):
    t = h.token()
    payload = {"organization_name": f"Typed {t}", field: value}
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=json.dumps(payload))
    body = check_raw_error(r, 400, "invalid_argument")
    assert field in body["error_message"], body
    found = ok(client.organizations.search(query=h.query(h.op("organization_name_fuzzy", t))))
    assert found.organizations == []


def test_member_create_missing_email_names_the_field(server, http, client):
    org = h.create_org(client)
    r = http.post(server.api(f"/v1/b2b/organizations/{org.organization_id}/members"), auth=_auth(server), headers=JSON, data='{"name": "No Email"}')
    body = check_raw_error(r, 400, "invalid_argument")
    assert "email_address" in body["error_message"], body


def test_member_update_wrong_type_names_the_field(server, http, client):
    org = h.create_org(client)
    m = h.create_member(client, org.organization_id)
    r = http.put(server.api(f"/v1/b2b/organizations/{org.organization_id}/members/{m.member_id}"), auth=_auth(server), headers=JSON, data='{"is_breakglass": "yes", "name": "Changed"}')
    body = check_raw_error(r, 400, "invalid_argument")
    assert "is_breakglass" in body["error_message"], body
    assert ok(client.organizations.members.get(organization_id=org.organization_id, member_id=m.member_id)).member == m


@pytest.mark.parametrize("payload", ["[]", '"organization_name"', "null", "42"])
def test_body_that_is_not_an_object_is_400(server, http, payload):
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=payload)
    check_raw_error(r, 400, None)


def test_timestamps_are_rfc3339_utc(server, http):
    import re

    rfc3339_utc = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")
    r = http.post(server.api("/v1/b2b/organizations"), auth=_auth(server), headers=JSON, data=json.dumps({"organization_name": "Times"}))
    org = r.json()["organization"]
    r = http.post(server.api(f"/v1/b2b/organizations/{org['organization_id']}/members"), auth=_auth(server), headers=JSON,
                  data=json.dumps({"email_address": f"t-{h.token()}@{h.unique_domain()}"}))
    member = r.json()["member"]
    for obj in (org, member):
        for k in ("created_at", "updated_at"):
            assert isinstance(obj.get(k), str) and rfc3339_utc.match(obj[k]), (k, obj.get(k))


@pytest.mark.parametrize("method,path", [("PATCH", "/v1/b2b/organizations/some-org"), ("PUT", "/v1/b2b/organizations/search"), ("DELETE", "/v1/b2b/organizations/members/search")])
def test_wrong_method_gets_a_json_error(server, http, method, path):
    r = http.request(method, server.api(path), auth=_auth(server), headers=JSON, data="{}")
    assert r.status_code in (404, 405), f"HTTP {r.status_code}: {r.text[:200]}"
    check_raw_error(r, r.status_code, None)
