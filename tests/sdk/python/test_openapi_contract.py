"""The OpenAPI contract (issue 18, part 4): the document the server generates from its own routes
(`GET /openapi.json`), fuzzed against the live server with schemathesis on each engine.

For every documented operation schemathesis generates requests from the document (valid and
invalid bodies, query strings and path values), sends them with the test project's Basic
credentials, and checks each answer: never a 5xx, a documented status, a documented content
type, and a body that validates against the documented schema. The budget is bounded
(`MAX_EXAMPLES` per operation and mode, no shrinking): about half a minute per engine.
"""

from __future__ import annotations

import base64
import itertools
import os
import re

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import latch_helpers as h

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Requests per operation and generation mode; with ~85 operations this keeps each engine's run to
# about 20 s. LATCH_CONTRACT_EXAMPLES raises it for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("LATCH_CONTRACT_EXAMPLES", "12"))

# Not fuzzed, each for its reason (the document still lists them and the router test checks that
# they are served):
# - the three session endpoints that this version does not implement answer 501
#   `endpoint_not_supported` by design, which `not_a_server_error` would count as a failure.
EXCLUDED_PATHS = re.compile(r"^/v1/b2b/sessions/(exchange_access_token|attest|migrate)$")


def test_document_is_openapi_3_1_and_public(server, http):
    r = http.get(server.api("/openapi.json"))  # no credentials: the document describes, not discloses
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["basic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "The project's id and secret",
    }
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    assert ("POST", "/v1/b2b/organizations") in ops and ("GET", "/openapi.json") in ops
    # Stytch's error body is what every refusal is documented with.
    err = doc["components"]["schemas"]["StytchError"]
    assert set(err["required"]) >= {"status_code", "request_id", "error_type", "error_message", "error_url"}


def _fuzz(case_strategy, call):
    """Runs `call` on generated cases; the first failure of the operation, or None."""

    @given(case=case_strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        # Explicit examples and generation only: a failure is reported as found, not shrunk (which
        # could take minutes), with the request that reproduces it.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        call(case)

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to make invalid: an operation without parameters has no negative cases
    except Exception as e:  # noqa: BLE001 - every failure is collected and reported together
        return e
    return None


def test_every_operation_honours_the_document(server, client):
    schema = schemathesis.openapi.from_url(server.api("/openapi.json"))
    session = requests.Session()
    session.trust_env = False
    credentials = f"{server.project.project_id}:{server.project.secret}".encode()
    # As a header: schemathesis leaves a caller's `Authorization` alone (a requests `auth=` is lost).
    basic = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}

    statuses: dict[int, int] = {}
    org = h.create_org(client)
    member = h.create_member(client, org.organization_id)
    real = {"organization_id": org.organization_id, "member_id": member.member_id}
    counter = itertools.count()

    def call(case):
        # Every other case names the organization and member that exist and carries no member
        # session, so that it gets past the lookups into the use case (random ids only ever meet a
        # 404, random sessions a 401). Never for a DELETE, which would remove them for the rest.
        if next(counter) % 2 and case.method.upper() != "DELETE":
            for name, value in real.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = value
                if isinstance(case.body, dict) and name in case.body:
                    case.body[name] = value
            for name in [k for k in (case.headers or {}) if k.lower().startswith("x-stytch-member")]:
                del case.headers[name]
        # Browser redirects point at identity providers: the answer is checked, never followed.
        response = case.call_and_validate(
            base_url=server.url.rstrip("/"),
            session=session,
            headers=basic,
            checks=CHECKS,
            allow_redirects=False,
            timeout=30,
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    failures, fuzzed = [], 0
    for result in schema.get_all_operations():
        op = result.ok()
        if EXCLUDED_PATHS.match(op.path):
            continue
        fuzzed += 1
        # Valid requests reach the use cases; invalid ones (wrong types, missing fields) must be
        # refused as documented, never answered with a 5xx.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problem = _fuzz(op.as_strategy(generation_mode=mode), call)
            if problem is not None:
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}):\n{problem}")
    assert fuzzed > 80, f"only {fuzzed} operations fuzzed"
    print(f"{fuzzed} operations, answers by status: {dict(sorted(statuses.items()))}")
    # The run reached the use cases (some calls succeeded), and invalid input met its 400s.
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0, statuses
    assert not failures, f"{len(failures)} of {fuzzed} operations broke the contract:\n\n" + "\n\n".join(failures)


def test_nul_characters_are_refused_as_invalid_input(server, http, client):
    """What the contract run found on PostgreSQL: a NUL (U+0000) in a public token reached a query
    and failed there as a 500 (`text` cannot hold it). Any NUL in a path, query string, JSON string
    or key is a 400 naming the field, on both engines, and writes nothing; in Basic credentials it
    is no credential (401)."""
    auth = (server.project.project_id, server.project.secret)
    r = http.get(server.api("/v1/public/sso/start"), params={"public_token": "public-token-\x00"}, auth=auth)
    assert r.status_code == 400 and r.json()["error_type"] == "invalid_argument", r.text
    assert r.json()["error_message"].startswith("public_token:"), r.text
    r = http.get(server.api("/v1/b2b/organizations/organization-test-%00"), auth=auth)
    assert r.status_code == 400 and r.json()["error_message"].startswith("path:"), r.text
    slug = h.unique_slug("nul")
    for body, field, error_type in (
        # The field's own error type where it has one, as for its other control characters.
        ({"organization_name": "Acme\x00", "organization_slug": slug}, "organization_name", "invalid_organization_name"),
        ({"organization_name": "Acme", "organization_slug": slug, "trusted_metadata": {"k": ["\x00"]}},
         "trusted_metadata.k.0", "invalid_argument"),
    ):
        r = http.post(server.api("/v1/b2b/organizations"), json=body, auth=auth)
        assert r.status_code == 400 and r.json()["error_type"] == error_type, r.text
        assert r.json()["error_message"].startswith(f"{field}:"), r.text
    found = client.organizations.search(
        query={"operator": "AND", "operands": [{"filter_name": "organization_slugs", "filter_value": [slug]}]}
    )
    assert found.organizations == []
    r = http.get(server.api("/v1/b2b/rbac/policy"), auth=("project-test-\x00", "secret"))
    assert r.status_code == 401 and r.json()["error_type"] == "unauthorized_credentials", r.text
