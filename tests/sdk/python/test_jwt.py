"""Session JWTs (jwt.md): the JWKS route and its keys, the exact header and claims Latch mints,
verification by the Python SDK's own code (authenticate_jwt_local / authenticate_jwt), forged tokens
(refused locally and by the server) and signing-key rotation with `latch keys rotate`."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import jwt as pyjwt
import pytest

import latch_helpers as h
from latch_helpers import check_raw_error, expect_error, ok
from stytch.b2b.models.sessions import AuthorizationCheck
from stytch.shared.rbac_local import RBACPermissionError

PASSWORD = "Latch jwt tests: amber-lantern-5520!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
SESSION_CLAIM = "https://stytch.com/session"
ORG_CLAIM = "https://stytch.com/organization"
JWK_FIELDS = {"kty", "use", "key_ops", "alg", "kid", "x5c", "x5tS256", "n", "e"}


# ---------------------------------------------------------------------------------------------
# helpers (kept local to this module on purpose)


def _session(client, org=None, roles=None, **login_kwargs):
    org = org or h.create_org(client)
    email = f"j-{h.token()}@{h.unique_domain('jwt')}"
    kw: Dict[str, Any] = {"roles": roles} if roles is not None else {}
    migrated = ok(
        client.passwords.migrate(
            email_address=email, hash=MD5, hash_type="md_5", organization_id=org.organization_id, **kw
        )
    )
    resp = ok(
        client.passwords.authenticate(
            organization_id=org.organization_id, email_address=email, password=PASSWORD, **login_kwargs
        )
    )
    return SimpleNamespace(
        org=org, email=email, member_id=migrated.member_id, resp=resp, token=resp.session_token,
        jwt=resp.session_jwt, ms=resp.member_session,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(segment: str) -> Dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _parts(token: str):
    hd, pl, _sig = token.split(".")
    return _b64json(hd), _b64json(pl)


def _compact(header: Dict[str, Any], payload: Dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(payload, separators=(",", ":")).encode()),
            _b64url(signature),
        ]
    )


def _rfc3339(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def _fresh_client(server, project=None):
    p = project or server.project
    return h.make_client(server.url, p.project_id, p.secret)


def _raw_jwks(http, server, project_id: str):
    return http.get(server.api(f"/v1/b2b/sessions/jwks/{project_id}"))


def _kids(http, server, project_id: str) -> set:
    r = _raw_jwks(http, server, project_id)
    assert r.status_code == 200, r.text
    return {k["kid"] for k in r.json()["keys"]}


def _rsa_key():
    rsa = pytest.importorskip(
        "cryptography.hazmat.primitives.asymmetric.rsa", reason="cryptography is needed to sign forged RS256 tokens"
    )
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _local_refuses(client, token: str) -> None:
    """The SDK's local verification must not accept `token`: None or an exception (jwt.md: unknown
    kids raise PyJWKClientError instead of returning None)."""
    try:
        result = client.sessions.authenticate_jwt_local(session_jwt=token)
    except (pyjwt.PyJWKClientError, pyjwt.InvalidTokenError):
        return
    assert result is None, f"forged token accepted locally: {result}"


# ---------------------------------------------------------------------------------------------
# JWKS


def test_jwks_via_sdk_and_public_route(client, server, http):
    s = _session(client)  # makes sure the project has a key
    resp = ok(client.sessions.get_jwks(project_id=server.project.project_id))
    assert resp.keys, "JWKS has no keys"
    kids = set()
    for k in resp.keys:
        assert k.kty == "RSA" and k.use == "sig" and k.key_ops == ["verify"] and k.alg == "RS256"
        assert isinstance(k.kid, str) and k.kid
        assert k.x5c == [] and k.x5tS256 == ""
        assert k.e == "AQAB"
        modulus = base64.urlsafe_b64decode(k.n + "=" * (-len(k.n) % 4))
        assert len(modulus) * 8 >= 2048 and modulus[0] != 0, "n must be the unpadded big-endian modulus"
        kids.add(k.kid)
    assert len(kids) == len(resp.keys), "kids must be unique"
    header, _ = _parts(s.jwt)
    assert header["kid"] in kids
    # The route the verifiers use: no Authorization at all, HTTP 200 directly.
    raw = _raw_jwks(http, server, server.project.project_id)
    assert raw.status_code == 200 and not raw.history, (raw.status_code, raw.history)
    assert raw.headers.get("content-type", "").startswith("application/json")
    body = raw.json()
    assert isinstance(body.get("request_id"), str) and body["request_id"] and body.get("status_code") == 200
    assert {k["kid"] for k in body["keys"]} == kids
    for k in body["keys"]:
        assert set(k) >= JWK_FIELDS, k
    # Python's get_jwks repeats project_id as a query parameter: accepted too.
    r = http.get(server.api(f"/v1/b2b/sessions/jwks/{server.project.project_id}"), params={"project_id": server.project.project_id})
    assert r.status_code == 200 and {k["kid"] for k in r.json()["keys"]} == kids


def test_jwks_unknown_project_is_404(client, server, http):
    r = _raw_jwks(http, server, "project-test-00000000-0000-0000-0000-000000000000")
    check_raw_error(r, 404, None)
    err = expect_error(
        404, r.json()["error_type"], client.sessions.get_jwks, project_id="project-test-does-not-exist"
    )
    assert err.status_code == 404


def test_jwks_is_per_project(client, server, http, other_project):
    p, other = other_project
    _session(client)
    _session(other)
    mine, theirs = _kids(http, server, server.project.project_id), _kids(http, server, p.project_id)
    assert mine and theirs and not (mine & theirs)


def test_signature_verifies_with_the_published_key(client, server, http):
    pytest.importorskip("cryptography", reason="PyJWT needs cryptography for RS256")
    s = _session(client)
    header, _ = _parts(s.jwt)
    keys = {k["kid"]: k for k in _raw_jwks(http, server, server.project.project_id).json()["keys"]}
    key = pyjwt.PyJWK(keys[header["kid"]]).key
    pid = server.project.project_id
    payload = pyjwt.decode(s.jwt, key, algorithms=["RS256"], audience=pid, issuer=f"stytch.com/{pid}")
    assert payload["sub"] == s.member_id


# ---------------------------------------------------------------------------------------------
# header and claims


def test_jwt_header_and_registered_claims(client, server):
    before = int(time.time())
    s = _session(client, session_custom_claims={"team": "blue"})
    after = int(time.time())
    header, payload = _parts(s.jwt)
    assert set(header) == {"alg", "typ", "kid"} and header["alg"] == "RS256" and header["typ"] == "JWT"
    pid = server.project.project_id
    assert payload["iss"] == f"stytch.com/{pid}"
    assert payload["aud"] == [pid]
    assert payload["sub"] == s.member_id
    assert all(isinstance(payload[k], int) for k in ("iat", "nbf", "exp"))
    assert payload["iat"] == payload["nbf"]
    assert before - 2 <= payload["iat"] <= after + 2
    assert payload["exp"] == payload["iat"] + 300
    assert payload["team"] == "blue"
    assert set(payload) == {"iss", "aud", "sub", "iat", "nbf", "exp", SESSION_CLAIM, ORG_CLAIM, "team"}


def test_jwt_stytch_claims_match_the_member_session(client):
    s = _session(client, roles=["editor"], session_duration_minutes=45)
    _, payload = _parts(s.jwt)
    sc = payload[SESSION_CLAIM]
    assert set(sc) == {"id", "started_at", "last_accessed_at", "expires_at", "attributes", "authentication_factors", "roles"}
    assert sc["id"] == s.ms.member_session_id
    assert _rfc3339(sc["started_at"]) == s.ms.started_at
    assert _rfc3339(sc["last_accessed_at"]) == s.ms.last_accessed_at
    assert _rfc3339(sc["expires_at"]) == s.ms.expires_at  # the session's expiry, not the JWT's
    assert isinstance(sc["attributes"], dict)
    assert sorted(sc["roles"]) == sorted(s.ms.roles) == ["editor", "stytch_member"]
    assert len(sc["authentication_factors"]) == 1
    f = sc["authentication_factors"][0]
    assert (f["type"], f["delivery_method"]) == ("password", "knowledge")
    for k in ("last_authenticated_at", "created_at", "updated_at"):
        assert _rfc3339(f[k]) == getattr(s.ms.authentication_factors[0], k)
    assert payload[ORG_CLAIM] == {"organization_id": s.org.organization_id, "slug": s.org.organization_slug}


def test_jwt_after_authenticate_carries_the_updated_session(client):
    s = _session(client)
    r = ok(client.sessions.authenticate(session_token=s.token, session_duration_minutes=240, session_custom_claims={"v": 2}))
    _, payload = _parts(r.session_jwt)
    assert _rfc3339(payload[SESSION_CLAIM]["expires_at"]) == r.member_session.expires_at
    assert payload["v"] == 2
    assert payload["exp"] == payload["iat"] + 300  # JWT lifetime does not follow the session's


def test_next_jwt_follows_organization_and_role_changes(client):
    s = _session(client)
    new_slug = h.unique_slug("renamed")
    ok(client.organizations.update(organization_id=s.org.organization_id, organization_slug=new_slug))
    ok(client.organizations.members.update(organization_id=s.org.organization_id, member_id=s.member_id, roles=["editor"]))
    # The JWT already issued is unchanged (it is signed) ...
    assert _parts(s.jwt)[1][ORG_CLAIM]["slug"] == s.org.organization_slug
    # ... the next one carries the new state, and so does its local verification.
    r = ok(client.sessions.authenticate(session_token=s.token))
    _, payload = _parts(r.session_jwt)
    assert payload[ORG_CLAIM] == {"organization_id": s.org.organization_id, "slug": new_slug}
    assert sorted(payload[SESSION_CLAIM]["roles"]) == ["editor", "stytch_member"]
    assert r.member_session.organization_slug == new_slug
    local = client.sessions.authenticate_jwt_local(session_jwt=r.session_jwt)
    assert local.organization_slug == new_slug and sorted(local.roles) == ["editor", "stytch_member"]


# ---------------------------------------------------------------------------------------------
# verification by the SDK


def test_authenticate_jwt_local_rebuilds_the_member_session(client):
    s = _session(client, roles=["billing_admin"], session_custom_claims={"plan": "pro", "seats": 3})
    local = client.sessions.authenticate_jwt_local(session_jwt=s.jwt)
    assert local is not None
    assert local.member_id == s.member_id
    assert local.organization_id == s.org.organization_id
    assert local.organization_slug == s.org.organization_slug
    assert local.member_session_id == s.ms.member_session_id
    assert sorted(local.roles) == ["billing_admin", "stytch_member"]
    assert local.custom_claims == {"plan": "pro", "seats": 3}
    assert [f.type.value for f in local.authentication_factors] == ["password"]
    # Field for field the same object the server returned.
    assert local == s.ms


def test_authenticate_jwt_prefers_local_and_falls_back_to_the_server(client):
    s = _session(client)
    local = client.sessions.authenticate_jwt(session_jwt=s.jwt)
    assert local.request_id == "" and local.session_jwt == s.jwt  # answered locally
    assert local.member_session.member_session_id == s.ms.member_session_id
    assert client.sessions.authenticate_jwt_local(session_jwt=s.jwt, max_token_age_seconds=0) is None
    assert client.sessions.authenticate_jwt_local(session_jwt=s.jwt, max_token_age_seconds=3600) is not None
    remote = client.sessions.authenticate_jwt(
        session_jwt=s.jwt, max_token_age_seconds=0, session_custom_claims={"via": "server"}
    )
    assert remote.status_code == 200 and remote.request_id, "the fallback must reach the server"
    assert remote.member_session.member_session_id == s.ms.member_session_id
    assert remote.member_session.custom_claims == {"via": "server"}
    assert _parts(remote.session_jwt)[1]["via"] == "server"


def test_authenticate_jwt_with_authorization_check(client):
    s = _session(client)
    org_id = s.org.organization_id
    allowed = AuthorizationCheck(organization_id=org_id, resource_id="documents", action="read")
    denied = AuthorizationCheck(organization_id=org_id, resource_id="documents", action="delete")
    assert client.sessions.authenticate_jwt(session_jwt=s.jwt, authorization_check=allowed).request_id == ""
    with pytest.raises(RBACPermissionError):
        client.sessions.authenticate_jwt(session_jwt=s.jwt, authorization_check=denied)
    # Forced to the server, the server gives the authoritative answer.
    remote = client.sessions.authenticate_jwt(session_jwt=s.jwt, max_token_age_seconds=0, authorization_check=allowed)
    assert remote.request_id
    expect_error(
        403,
        "session_authorization_error",
        client.sessions.authenticate_jwt,
        session_jwt=s.jwt,
        max_token_age_seconds=0,
        authorization_check=denied,
    )


# ---------------------------------------------------------------------------------------------
# forged tokens


def _genuine_kid_and_payload(s):
    header, payload = _parts(s.jwt)
    return header["kid"], payload


def _assert_server_refuses(client, token: str, error_type: str = "invalid_session_jwt", status: int = 401):
    expect_error(status, error_type, client.sessions.authenticate, session_jwt=token)


def test_token_signed_with_another_rsa_key_is_refused(client, server):
    s = _session(client)
    kid, payload = _genuine_kid_and_payload(s)
    payload[SESSION_CLAIM]["roles"] = ["stytch_member", "stytch_admin"]
    forged = pyjwt.encode(payload, _rsa_key(), algorithm="RS256", headers={"kid": kid, "typ": "JWT"})
    _local_refuses(_fresh_client(server), forged)
    _assert_server_refuses(client, forged)
    expect_error(401, "invalid_session_jwt", client.sessions.revoke, session_jwt=forged)
    # Same claims, unknown kid.
    unknown = pyjwt.encode(payload, _rsa_key(), algorithm="RS256", headers={"kid": "jwk-test-forged", "typ": "JWT"})
    _local_refuses(_fresh_client(server), unknown)
    _assert_server_refuses(client, unknown)
    # The genuine session is untouched.
    assert ok(client.sessions.authenticate(session_token=s.token)).member_session.roles == ["stytch_member"]


def test_alg_none_and_hs256_key_confusion_are_refused(client, server, http):
    s = _session(client)
    kid, payload = _genuine_kid_and_payload(s)
    payload[SESSION_CLAIM]["roles"] = ["stytch_admin"]
    jwk = {k["kid"]: k for k in _raw_jwks(http, server, server.project.project_id).json()["keys"]}[kid]
    none_tokens = [
        _compact({"alg": "none", "kid": kid, "typ": "JWT"}, payload),
        _compact({"alg": "None", "kid": kid, "typ": "JWT"}, payload),
        _compact({"alg": "none", "kid": kid, "typ": "JWT"}, payload, b"sig"),
    ]
    hs_tokens = []
    for secret in (jwk["n"].encode(), json.dumps(jwk).encode(), base64.urlsafe_b64decode(jwk["n"] + "==")):
        header = {"alg": "HS256", "kid": kid, "typ": "JWT"}
        unsigned = _compact(header, payload).rsplit(".", 1)[0]
        sig = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
        hs_tokens.append(unsigned + "." + _b64url(sig))
    fresh = _fresh_client(server)
    for token in none_tokens + hs_tokens:
        _local_refuses(fresh, token)
        _assert_server_refuses(client, token)
    ok(client.sessions.authenticate(session_token=s.token))


def test_tampered_payload_and_signature_are_refused(client, server):
    s = _session(client, session_custom_claims={"plan": "free"})
    other = _session(client, org=s.org)
    hd, pl, sig = s.jwt.split(".")
    _, payload = _parts(s.jwt)
    variants = {}
    p = json.loads(json.dumps(payload))
    p[SESSION_CLAIM]["roles"] = ["stytch_admin"]
    variants["roles"] = p
    p = json.loads(json.dumps(payload))
    p["sub"] = other.member_id
    variants["sub"] = p
    p = json.loads(json.dumps(payload))
    p["plan"] = "enterprise"
    variants["custom claim"] = p
    p = json.loads(json.dumps(payload))
    p[SESSION_CLAIM]["id"] = other.ms.member_session_id
    variants["session id"] = p
    p = json.loads(json.dumps(payload))
    p["exp"] = p["exp"] + 86400
    variants["exp"] = p
    tokens = {name: f"{hd}.{_b64url(json.dumps(v).encode())}.{sig}" for name, v in variants.items()}
    raw_sig = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    tokens["flipped signature bit"] = f"{hd}.{pl}.{_b64url(bytes([raw_sig[0] ^ 1]) + raw_sig[1:])}"
    tokens["empty signature"] = f"{hd}.{pl}."
    tokens["other session's signature"] = f"{hd}.{pl}.{other.jwt.split('.')[2]}"
    fresh = _fresh_client(server)
    for name, token in tokens.items():
        try:
            _local_refuses(fresh, token)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
        d = expect_error(401, "invalid_session_jwt", client.sessions.authenticate, session_jwt=token)
        assert d.status_code == 401, name
    # Neither session changed, neither was revoked.
    assert ok(client.sessions.authenticate(session_token=s.token)).member_session.custom_claims == {"plan": "free"}
    ok(client.sessions.authenticate(session_token=other.token))


def test_token_of_another_project_is_refused(client, server, other_project):
    """A genuine JWT of project B has aud/iss of B and a key A does not publish: A must refuse it
    (wrong aud/iss cannot be tested in isolation without A's private key)."""
    p, other = other_project
    theirs = _session(other)
    assert _fresh_client(server, p).sessions.authenticate_jwt_local(session_jwt=theirs.jwt) is not None
    _local_refuses(_fresh_client(server), theirs.jwt)
    _assert_server_refuses(client, theirs.jwt)
    expect_error(401, "invalid_session_jwt", client.sessions.revoke, session_jwt=theirs.jwt)
    ok(other.sessions.authenticate(session_jwt=theirs.jwt))


# ---------------------------------------------------------------------------------------------
# key rotation


@contextlib.contextmanager
def _second_node(server):
    """Another `latch serve` on the same database (a second node of the deployment), stopped with
    SIGTERM afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCH_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(server.db_env)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env.update(
        {
            "LATCH_LISTEN": f"127.0.0.1:{port}",
            "LATCH_LOG": "warn",
            "LATCH_ARGON2_MEMORY_KIB": "8",
            "LATCH_ARGON2_ITERATIONS": "1",
            "LATCH_RBAC_POLICY_FILE": str(Path(__file__).with_name("rbac_policy.json")),
        }
    )
    binary = os.environ.get("LATCH_BIN") or str(Path(__file__).resolve().parents[3] / "target" / "debug" / "latch")
    log_path = server.workdir / f"node2-{port}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [binary, "serve"], env=env, cwd=server.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        with h.TimeoutSession() as probe:
            while True:
                assert proc.poll() is None, f"second node exited {proc.returncode}: {log_path.read_text()[-3000:]}"
                try:
                    if probe.get(url + "healthz", timeout=2).status_code == 200:
                        break
                except Exception:
                    pass
                assert time.monotonic() < deadline, f"second node not healthy: {log_path.read_text()[-3000:]}"
                time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    assert proc.returncode == 0, f"second node exited {proc.returncode} after SIGTERM: {log_path.read_text()[-3000:]}"


def test_key_rotation(server, http, other_project):
    """`latch keys rotate` on a two-node deployment: the old key keeps verifying everywhere, a node
    that (re)loads the keys signs with the new one once its pre-publication is over, the other
    node accepts those JWTs at once and then publishes and uses the new key too. Uses its own project: other tests' clients cache the
    bootstrap project's JWKS."""
    p, node_a = other_project
    s = _session(node_a)
    old_kid = _parts(s.jwt)[0]["kid"]
    assert _kids(http, server, p.project_id) == {old_kid}

    # The new key is only published for --prepublish-secs, then signs (the default, 60 s, outlasts
    # every node's key cache; the timing itself is tested in the store suite with a manual clock).
    res = server.cli("keys", "rotate", "--project-id", p.project_id, "--prepublish-secs", "2")
    assert res.returncode == 0, f"rotate exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["project_id"] == p.project_id
    new_kid = out["kid"]
    assert isinstance(new_kid, str) and new_kid and new_kid != old_kid
    signs_from = datetime.datetime.fromisoformat(out["signs_from"].replace("Z", "+00:00"))

    # Right away: the JWT of the old key stays valid on the running node.
    ok(node_a.sessions.authenticate(session_jwt=s.jwt))

    with _second_node(server) as url_b:
        node_b = h.make_client(url_b, p.project_id, p.secret)
        # Node B starts after the rotation: it publishes both keys, and signs with the new one
        # once the pre-publication is over.
        b_kids = {k.kid for k in ok(node_b.sessions.get_jwks(project_id=p.project_id)).keys}
        assert b_kids == {old_kid, new_kid}
        wait = (signs_from - datetime.datetime.now(datetime.timezone.utc)).total_seconds() + 1.0
        if wait > 0:
            time.sleep(wait)
        from_b = ok(node_b.sessions.authenticate(session_jwt=s.jwt))  # old-key JWT verifies on B
        new_jwt = from_b.session_jwt
        assert _parts(new_jwt)[0]["kid"] == new_kid
        assert _parts(_session(node_b, org=s.org).jwt)[0]["kid"] == new_kid
        # Node A accepts a JWT of the new key immediately (it rereads the keys for an unknown kid) ...
        r = ok(node_a.sessions.authenticate(session_jwt=new_jwt))
        assert r.member_session.member_session_id == s.ms.member_session_id
        # ... and from then on publishes both keys and signs with the new one.
        assert _kids(http, server, p.project_id) == {old_kid, new_kid}
        assert {k.kid for k in ok(node_a.sessions.get_jwks(project_id=p.project_id)).keys} == {old_kid, new_kid}
        assert _parts(ok(node_a.sessions.authenticate(session_token=s.token)).session_jwt)[0]["kid"] == new_kid
        assert _parts(_session(node_a, org=s.org).jwt)[0]["kid"] == new_kid

        # Fresh SDK clients (PyJWKClient caches) verify both generations locally against either node.
        for url in (server.url, url_b):
            v = h.make_client(url, p.project_id, p.secret)
            for token in (s.jwt, new_jwt):
                local = v.sessions.authenticate_jwt_local(session_jwt=token)
                assert local is not None and local.member_session_id == s.ms.member_session_id
        ok(node_b.sessions.authenticate(session_jwt=s.jwt))
        ok(node_a.sessions.authenticate(session_jwt=s.jwt))


def test_rotate_unknown_project_fails(server):
    res = server.cli("keys", "rotate", "--project-id", "project-test-does-not-exist")
    assert res.returncode != 0
    assert res.stdout.strip() == ""
