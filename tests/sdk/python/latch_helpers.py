"""Small helpers shared by the SDK conformance tests."""

from __future__ import annotations

import re
import uuid
import warnings
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests
import stytch
from stytch.core.response_base import StytchError, StytchErrorDetails

SLUG_RE = re.compile(r"^[A-Za-z0-9._~-]{2,128}$")

DEFAULT_TIMEOUT_S = 30


class TimeoutSession(requests.Session):
    """requests.Session with a default timeout and no proxy discovery.

    Passed to the SDK as `sync_session` (a documented constructor argument), so a hanging server
    fails a test instead of hanging the suite. It changes nothing on the wire.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False

    def request(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT_S)
        return super().request(*args, **kwargs)


def make_client(url: str, project_id: str, secret: str) -> stytch.B2BClient:
    with warnings.catch_warnings():
        # aiohttp: "BasicAuth is deprecated" - emitted by the SDK constructor, harmless.
        warnings.simplefilter("ignore", DeprecationWarning)
        return stytch.B2BClient(
            project_id=project_id,
            secret=secret,
            environment=url,
            sync_session=TimeoutSession(),
        )


def token() -> str:
    return uuid.uuid4().hex[:12]


def unique_slug(prefix: str = "org") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def unique_domain(prefix: str = "acme") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}.com"


def ok(resp: Any) -> Any:
    """Every successful SDK response carries a non-empty request_id and status_code 200."""
    assert isinstance(resp.request_id, str) and resp.request_id, f"request_id: {resp.request_id!r}"
    assert resp.status_code == 200, resp.status_code
    return resp


def expect_error(status: int, error_type: str, fn: Callable, *args, **kwargs) -> StytchErrorDetails:
    """Call an SDK method that must fail with exactly (status, error_type); check the error envelope."""
    with pytest.raises(StytchError) as excinfo:
        fn(*args, **kwargs)
    d = excinfo.value.details
    body = d.original_json
    assert (d.status_code, d.error_type) == (status, error_type), (
        f"expected {status} {error_type}, got {d.status_code} {d.error_type}: {d.error_message!r} (body: {body})"
    )
    check_error_envelope(d)
    return d


def expect_error_status(status: int, fn: Callable, *args, **kwargs) -> StytchErrorDetails:
    """Like expect_error, for refusals whose error_type the contract does not fix."""
    with pytest.raises(StytchError) as excinfo:
        fn(*args, **kwargs)
    d = excinfo.value.details
    assert d.status_code == status, (
        f"expected {status}, got {d.status_code} {d.error_type}: {d.error_message!r} (body: {d.original_json})"
    )
    check_error_envelope(d)
    return d


def check_error_envelope(d: StytchErrorDetails) -> None:
    body = d.original_json
    assert isinstance(body, dict), f"error body was not a parseable Stytch error: {d}"
    assert isinstance(d.request_id, str) and d.request_id, body
    assert isinstance(d.error_message, str) and d.error_message, body
    assert isinstance(body.get("status_code"), int), body
    assert isinstance(body.get("error_type"), str) and body["error_type"], body
    assert isinstance(body.get("error_url"), str) and body["error_url"], body
    assert d.error_url == body["error_url"]


def check_raw_error(resp: requests.Response, status: int, error_type: Optional[str]) -> Dict[str, Any]:
    """A raw HTTP error response: HTTP status, JSON body envelope, and error_type."""
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(
            f"HTTP {resp.status_code} body is not JSON: {resp.text[:300]!r}"
        ) from None
    assert resp.status_code == status, f"expected HTTP {status}, got {resp.status_code}: {body}"
    assert isinstance(body, dict), body
    assert body.get("status_code") == status, body
    assert isinstance(body.get("request_id"), str) and body["request_id"], body
    if error_type is not None:
        assert body.get("error_type") == error_type, body
    assert isinstance(body.get("error_message"), str) and body["error_message"], body
    assert isinstance(body.get("error_url"), str) and body["error_url"], body
    return body


def query(*operands: Dict[str, Any], operator: str = "AND") -> Dict[str, Any]:
    return {"operator": operator, "operands": list(operands)}


def op(filter_name: str, filter_value: Any) -> Dict[str, Any]:
    return {"filter_name": filter_name, "filter_value": filter_value}


def create_org(client: stytch.B2BClient, **kwargs) -> Any:
    kwargs.setdefault("organization_name", f"Org {token()}")
    kwargs.setdefault("organization_slug", unique_slug())
    return ok(client.organizations.create(**kwargs)).organization


def create_member(client: stytch.B2BClient, organization_id: str, email: Optional[str] = None, **kwargs) -> Any:
    email = email or f"m-{token()}@{unique_domain('mem')}"
    return ok(client.organizations.members.create(organization_id=organization_id, email_address=email, **kwargs)).member


def org_search_all(client: stytch.B2BClient, q: Optional[Dict[str, Any]] = None, limit: Optional[int] = None):
    """Walk every page of an organization search; return (organizations, totals seen per page)."""
    orgs: List[Any] = []
    totals: List[int] = []
    cursor = None
    for _ in range(1000):
        resp = ok(client.organizations.search(cursor=cursor, limit=limit, query=q))
        orgs.extend(resp.organizations)
        totals.append(resp.results_metadata.total)
        cursor = resp.results_metadata.next_cursor
        if not cursor:
            return orgs, totals
    raise AssertionError("organization search pagination did not terminate")


def member_search_all(client: stytch.B2BClient, organization_ids: List[str], q=None, limit=None):
    members: List[Any] = []
    totals: List[int] = []
    pages: List[Any] = []
    cursor = None
    for _ in range(1000):
        resp = ok(
            client.organizations.members.search(
                organization_ids=organization_ids, cursor=cursor, limit=limit, query=q
            )
        )
        pages.append(resp)
        members.extend(resp.members)
        totals.append(resp.results_metadata.total)
        cursor = resp.results_metadata.next_cursor
        if not cursor:
            return members, totals, pages
    raise AssertionError("member search pagination did not terminate")


def roles_of(member: Any) -> Dict[str, set]:
    """role_id -> set of source types."""
    out: Dict[str, set] = {}
    for r in member.roles:
        assert r.role_id not in out, f"role {r.role_id} listed twice: {member.roles}"
        out[r.role_id] = {s.type for s in r.sources}
    return out


def db_rows(srv, sql: str, *params) -> List[tuple]:
    """Read a test server's own database (`?` placeholders): its SQLite file or its PostgreSQL
    database, as someone holding the database (and nothing else) would."""
    if srv.backend == "postgres":
        import psycopg

        with psycopg.connect(srv.db_env["LATCH_DATABASE_URL"]) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()
    import sqlite3
    from pathlib import Path

    db = Path(srv.db_env["LATCH_DATA_DIR"]) / "latch.db"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
