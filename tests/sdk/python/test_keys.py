"""Emergency revocation of a leaked signing key with `latch keys revoke`: JWTs the key signed are
refused by sessions.authenticate and as member-session headers once the running server has seen
the revocation (it polls every 2 s), the key leaves the JWKS, and the sessions themselves live on
(their opaque tokens work, and new JWTs verify with the SDK's local verification)."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import latch_helpers as h
from latch_helpers import expect_error_status, ok
from stytch.b2b.models import organizations as org_models
from stytch.shared.method_options import Authorization

PASSWORD = "Latch key tests: copper-kettle-7731!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
# The server polls for revocations every 2 s and drops remembered verifications at the first and
# second poll after one: allow a margin over that.
PROPAGATION_S = 6.0


def _login(client, org):
    """An admin of `org` logged in with a password: its authenticate response."""
    email = f"k-{h.token()}@{h.unique_domain('keys')}"
    ok(client.passwords.migrate(email_address=email, hash=MD5, hash_type="md_5",
                                organization_id=org.organization_id, roles=["stytch_admin"]))
    return ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email,
                                            password=PASSWORD))


def _kid(jwt: str) -> str:
    header = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _kids(client, project_id: str) -> set:
    return {k.kid for k in ok(client.sessions.get_jwks(project_id=project_id)).keys}


def _as_org_update(jwt: str):
    return org_models.UpdateRequestOptions(authorization=Authorization(session_jwt=jwt))


def _revoke(server, project_id: str, *extra: str) -> dict:
    res = server.cli("keys", "revoke", "--project-id", project_id, *extra)
    assert res.returncode == 0, f"revoke exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    return json.loads(res.stdout)


def _until_refused(fn, *args, **kwargs):
    """Calls `fn` until it fails with 401 (within PROPAGATION_S): the revocation reached the node."""
    deadline = time.monotonic() + PROPAGATION_S
    while True:
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the final call below checks the exact refusal
            break
        assert time.monotonic() < deadline, f"still accepted {PROPAGATION_S} s after the revocation"
        time.sleep(0.2)
    return expect_error_status(401, fn, *args, **kwargs)


def test_revoking_all_keys_refuses_their_jwts_but_keeps_sessions(server, other_project):
    p, client = other_project
    org = h.create_org(client)
    admin = _login(client, org)
    old_jwt, old_kid = admin.session_jwt, _kid(admin.session_jwt)
    # Accepted before, both ways (and so remembered by the server's verification memo).
    ok(client.sessions.authenticate(session_jwt=old_jwt))
    ok(client.organizations.update(organization_id=org.organization_id, organization_name="Before",
                                   method_options=_as_org_update(old_jwt)))
    assert _kids(client, p.project_id) == {old_kid}

    out = _revoke(server, p.project_id)
    assert out["project_id"] == p.project_id
    assert out["revoked"] == [old_kid]
    new_kid = out["new_kid"]
    assert new_kid and new_kid != old_kid

    _until_refused(client.sessions.authenticate, session_jwt=old_jwt)
    expect_error_status(401, client.organizations.update, organization_id=org.organization_id,
                        organization_name="After", method_options=_as_org_update(old_jwt))
    assert _kids(client, p.project_id) == {new_kid}

    # The session itself lives on: its token works and yields a JWT of the new key, which a fresh
    # SDK client verifies locally against the JWKS.
    fresh = ok(client.sessions.authenticate(session_token=admin.session_token))
    assert fresh.member_session.member_session_id == admin.member_session.member_session_id
    assert _kid(fresh.session_jwt) == new_kid
    ok(client.sessions.authenticate(session_jwt=fresh.session_jwt))
    local = h.make_client(server.url, p.project_id, p.secret).sessions.authenticate_jwt_local(
        session_jwt=fresh.session_jwt)
    assert local is not None and local.member_session_id == admin.member_session.member_session_id
    ok(client.organizations.update(organization_id=org.organization_id, organization_name="After",
                                   method_options=_as_org_update(fresh.session_jwt)))


def test_revoking_one_retired_key_keeps_the_active_one(server, other_project):
    p, client = other_project
    org = h.create_org(client)
    first = _login(client, org)
    old_kid = _kid(first.session_jwt)
    rotated = server.cli("keys", "rotate", "--project-id", p.project_id)
    assert rotated.returncode == 0, rotated.stderr
    active_kid = json.loads(rotated.stdout)["kid"]

    out = _revoke(server, p.project_id, "--kid", old_kid)
    assert out == {"project_id": p.project_id, "new_kid": None, "revoked": [old_kid]}
    _until_refused(client.sessions.authenticate, session_jwt=first.session_jwt)
    assert _kids(client, p.project_id) == {active_kid}
    again = ok(client.sessions.authenticate(session_token=first.session_token))
    assert _kid(again.session_jwt) == active_kid
    ok(client.sessions.authenticate(session_jwt=again.session_jwt))

    # A key already revoked, or of no project, cannot be revoked again.
    res = server.cli("keys", "revoke", "--project-id", p.project_id, "--kid", old_kid)
    assert res.returncode != 0 and res.stdout.strip() == ""
