"""Prometheus metrics at GET /metrics (issue 18, part 3): off unless `metrics_token` is set, then
behind that bearer token; requests by route template and status, refusals by error_type, the CPU
pools' queues, caches and the database pool."""

from __future__ import annotations

import re

import requests

import latch_helpers as h
from latch_helpers import expect_error

TOKEN = "metrics-token-" + "m" * 24


def _scrape(srv, token=TOKEN):
    s = requests.Session()
    s.trust_env = False
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return s.get(srv.api("/metrics"), headers=headers, timeout=10)


def _value(text: str, name: str, **labels) -> float:
    """The sum of the series of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
            found = True
    assert found, f"no {name} {labels} in:\n{text[:3000]}"
    return total


def test_metrics_are_off_by_default(server):
    r = _scrape(server)
    assert r.status_code == 404 and r.json()["error_type"] == "route_not_found"


def test_metrics_need_the_token_and_count_what_happened(latch_server_factory):
    srv = latch_server_factory(LATCH_METRICS_TOKEN=TOKEN)
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    assert _scrape(srv, token=None).status_code == 401
    assert _scrape(srv, token="wrong").json()["error_type"] == "unauthorized_credentials"
    org = h.create_org(c)
    m = h.create_member(c, org.organization_id, f"metrics-{h.token()}@acme.test")
    for _ in range(3):
        expect_error(401, "unauthorized_credentials", c.passwords.authenticate, organization_id=org.organization_id,
                     email_address=m.email_address, password="wrong-password-" + h.token())
    r = _scrape(srv)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    route = "/v1/b2b/passwords/authenticate"
    assert _value(text, "latch_http_requests_total", route=route, method="POST", status="401") >= 3
    assert _value(text, "latch_http_request_duration_seconds_count", route=route, method="POST") >= 3
    assert _value(text, "latch_http_requests_total", route="/v1/b2b/organizations", status="200") >= 1
    assert _value(text, "latch_errors_total", error_type="unauthorized_credentials") >= 3
    # The hashing pool ran the dummy and real password checks.
    assert _value(text, "latch_cpu_pool_wait_seconds_count", pool="hashing") >= 3
    assert _value(text, "latch_cache_lookups_total", cache="projects") >= 1
    assert _value(text, "latch_db_pool_connections", state="idle") >= 0
    assert _value(text, "latch_db_query_seconds_count", kind="read") >= 1
    assert _value(text, "latch_db_query_seconds_bucket", kind="write", le="+Inf") >= 1
    assert _value(text, "latch_http_request_duration_seconds_bucket", route=route, method="POST", le="+Inf") >= 3
    # Ids never become series: only route templates.
    assert org.organization_id not in text
