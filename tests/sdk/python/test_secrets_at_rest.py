"""Secrets at rest (issue 18, part 1): a stolen database yields nothing usable.

A dedicated server runs the flows that make secrets (passwords, sessions and JWTs, intermediate
sessions, email and SMS codes, magic links, password resets, TOTP secrets and recovery codes, an
IdP client secret, SAML private keys), collecting every secret the API hands out. Then the raw database is read as an
attacker would read it (the SQLite files byte for byte, or a `pg_dump`) and none of those secrets,
nor any private key, may appear in it. The codes must still work: the server reads what it sealed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from typing import Any, Dict, List

import pyotp
import pytest
import requests

import latch_helpers as h
from latch_helpers import ok

PASSWORD = "Sealed-At-Rest-7q!Vw2"
REDIRECT = "https://app.example.com/reset"
CLIENT_SECRET = "idp-client-secret-" + h.token()


@pytest.fixture(scope="module")
def srv(latch_server_factory):
    # A database of its own, so the scan sees only what this module wrote.
    return latch_server_factory(LATCH_OUTBOX_RETENTION_MINUTES="59")


@pytest.fixture(scope="module")
def client(srv):
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


def _outbox(srv, recipient: str) -> List[Dict[str, Any]]:
    r = requests.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient},
                     auth=(srv.project.project_id, srv.project.secret), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def _pkcs1_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _run_every_flow(srv, client):
    """Runs the flows; returns every secret value they produced, and some values that are no
    secret (the scan must find those, or it is not reading the data)."""
    secrets: List[str] = [srv.project.secret, CLIENT_SECRET]
    org = h.create_org(client)
    email = f"sealed-{h.token()}@example.com"
    m = h.create_member(client, org.organization_id, email)
    ok(client.passwords.strength_check(password=PASSWORD))
    ok(client.passwords.email.reset_start(organization_id=org.organization_id, email_address=email,
                                          reset_password_redirect_url=REDIRECT))
    reset_token = _outbox(srv, email)[0]["token"]
    reset = ok(client.passwords.email.reset(password_reset_token=reset_token, password=PASSWORD,
                                            session_duration_minutes=60))
    secrets += [reset_token, reset.session_token, reset.session_jwt]

    login = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email,
                                             password=PASSWORD, session_duration_minutes=60))
    secrets += [login.session_token, login.session_jwt]

    ok(client.otps.email.login_or_signup(organization_id=org.organization_id, email_address=email))
    code_msg = _outbox(srv, email)[0]
    otp = ok(client.otps.email.authenticate(organization_id=org.organization_id, email_address=email,
                                            code=code_msg["code"], session_duration_minutes=60))
    secrets += [code_msg["text"], otp.session_token, otp.session_jwt]

    ok(client.magic_links.email.login_or_signup(organization_id=org.organization_id, email_address=email,
                                                login_redirect_url=REDIRECT, signup_redirect_url=REDIRECT))
    link = _outbox(srv, email)[0]
    secrets += [link["token"], link["url"], link["text"]]
    ml = ok(client.magic_links.authenticate(magic_links_token=link["token"], session_duration_minutes=60))
    secrets += [ml.session_token]

    # MFA: an intermediate session, an SMS code, a TOTP secret and recovery codes.
    mfa_org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    phone = "+1415555" + str(int(h.token(), 16) % 10000).zfill(4)
    ok(client.passwords.migrate(organization_id=mfa_org.organization_id, email_address=email,
                                hash_type="md_5", hash=__import__("hashlib").md5(PASSWORD.encode()).hexdigest(),
                                mfa_phone_number=phone))
    first = ok(client.passwords.authenticate(organization_id=mfa_org.organization_id, email_address=email,
                                             password=PASSWORD))
    ist = first.intermediate_session_token
    secrets.append(ist)
    mfa_member = first.member_id
    ok(client.otps.sms.send(organization_id=mfa_org.organization_id, member_id=mfa_member,
                            intermediate_session_token=ist))
    sms = _outbox(srv, phone)[0]
    secrets.append(sms["text"])
    totp = ok(client.totps.create(organization_id=mfa_org.organization_id, member_id=mfa_member))
    secrets += [totp.secret, *totp.recovery_codes, *(c.replace("-", "") for c in totp.recovery_codes)]
    done = ok(client.totps.authenticate(organization_id=mfa_org.organization_id, member_id=mfa_member,
                                        code=pyotp.TOTP(totp.secret).now(), intermediate_session_token=ist,
                                        session_duration_minutes=60))
    secrets += [done.session_token, done.session_jwt]
    # The codes come back in full, read from their sealed copies.
    got = ok(client.recovery_codes.get(organization_id=mfa_org.organization_id, member_id=mfa_member))
    assert got.recovery_codes == totp.recovery_codes

    conn = ok(client.sso.oidc.create_connection(organization_id=org.organization_id, display_name="IdP")).connection
    updated = ok(client.sso.oidc.update_connection(
        organization_id=org.organization_id, connection_id=conn.connection_id, issuer="https://idp.example.com",
        client_id="latch-client", client_secret=CLIENT_SECRET,
        authorization_url="https://idp.example.com/authorize", token_url="https://idp.example.com/token",
        userinfo_url="https://idp.example.com/userinfo", jwks_url="https://idp.example.com/jwks")).connection
    assert updated.client_secret, "the connection reads its secret back"
    # A SAML connection: Latch's generated signing key, an uploaded one and a decryption key.
    saml = ok(client.sso.saml.create_connection(organization_id=org.organization_id, display_name="SAML")).connection
    signing, decrypting = _pkcs1_key(), _pkcs1_key()
    ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=saml.connection_id,
                                         signing_private_key=signing, saml_encryption_private_key=decrypting))
    secrets += [line for pem in (signing, decrypting) for line in pem.splitlines() if "-----" not in line]
    # JWTs: their signatures are what a forger would want; the whole token is checked too.
    secrets += [s.split(".")[2] for s in secrets if isinstance(s, str) and s.count(".") == 2 and s.startswith("eyJ")]
    return [s for s in secrets if s], [email, org.organization_id, phone]


def _database_bytes(srv) -> bytes:
    if srv.backend == "sqlite":
        data = srv.workdir / "data"
        return b"".join((data / name).read_bytes() for name in ("latch.db", "latch.db-wal", "latch.db-shm")
                        if (data / name).exists())
    dump = shutil.which("pg_dump")
    if dump is None:
        pytest.fail("pg_dump is needed to scan the PostgreSQL database (Debian: postgresql-client)")
    out = subprocess.run([dump, "--data-only", srv.db_env["LATCH_DATABASE_URL"]], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def test_no_secret_is_stored_in_the_clear(srv, client):
    secrets, controls = _run_every_flow(srv, client)
    if srv.backend == "sqlite":
        # Everything written is in the files (not only in the WAL's future).
        requests.get(srv.api("/healthz"), timeout=10)
    raw = _database_bytes(srv)
    assert len(raw) > 10_000, "the scan read a real database"
    assert all(c.encode() in raw for c in controls), "the scan sees what is stored in the clear"
    found = [s[:12] + "…" for s in secrets if s.encode() in raw]
    assert found == [], f"secrets found in the clear in the {srv.backend} database: {found}"
    for marker in (b"PRIVATE KEY", b"JBSWY3DP"):
        assert marker not in raw
    # A PKCS#8 RSA key in base64 starts with "MII" and runs for over a thousand characters.
    assert not re.search(rb"MII[A-Za-z0-9+/]{600,}", raw), "a private key in the clear"
    # The sealed values are there, in their place.
    assert raw.count(b"s1.") >= 10


def test_the_sealed_secrets_still_work(srv, client):
    """Nothing above was read back from a plaintext column: sign-in with the sealed TOTP secret."""
    org = h.create_org(client, mfa_policy="REQUIRED_FOR_ALL")
    email = f"sealed-totp-{h.token()}@example.com"
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email, hash_type="md_5",
                                hash=__import__("hashlib").md5(PASSWORD.encode()).hexdigest()))
    ist = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email,
                                           password=PASSWORD)).intermediate_session_token
    member_id = ok(client.organizations.members.get(organization_id=org.organization_id,
                                                    email_address=email)).member.member_id
    totp = ok(client.totps.create(organization_id=org.organization_id, member_id=member_id))
    done = ok(client.totps.authenticate(organization_id=org.organization_id, member_id=member_id,
                                        code=pyotp.TOTP(totp.secret).now(), intermediate_session_token=ist))
    assert done.member_session is not None
    ok(client.sessions.authenticate(session_jwt=done.session_jwt))


def test_a_development_server_generates_its_key_owner_only(srv):
    kek = srv.workdir / "data" / "kek"
    assert kek.is_file()
    assert stat.S_IMODE(os.stat(kek).st_mode) == 0o600
    assert "generated a key-encryption key" in srv.log_text()


def test_a_stored_code_digest_cannot_be_reversed_by_trying_every_code(srv, client):
    """A six-digit code has a million values: a plain salted SHA-256 of it is reversed in a second.
    The digest is keyed by the KEK, so the stolen row alone does not give the live code."""
    import hashlib

    org = h.create_org(client)
    email = f"sealed-otp-{h.token()}@example.com"
    h.create_member(client, org.organization_id, email)
    ok(client.otps.email.login_or_signup(organization_id=org.organization_id, email_address=email))
    code = _outbox(srv, email)[0]["code"]
    rows = h.db_rows(srv, "SELECT code_hash, salt FROM otp_codes WHERE recipient = ?", email)
    assert len(rows) == 1
    code_hash, salt = rows[0]
    assert len(code_hash) == 64 and salt
    prefix = f"{salt}:".encode()
    found = [c for c in range(1_000_000)
             if hashlib.sha256(prefix + b"%06d" % c).hexdigest() == code_hash]
    assert found == [], "the live code was recovered from its stored digest"
    # The code still works: the server holds the key.
    ok(client.otps.email.authenticate(organization_id=org.organization_id, email_address=email, code=code))


def test_recovery_code_digests_are_keyed(srv, client):
    """An unsalted SHA-256 of every 60-bit recovery code lets one search attack the whole table at
    once; the stored digests are keyed by the KEK and salted with their id."""
    import hashlib

    org = h.create_org(client)
    m = h.create_member(client, org.organization_id, f"sealed-rc-{h.token()}@example.com")
    created = ok(client.totps.create(organization_id=org.organization_id, member_id=m.member_id))
    stored = {r[0] for r in h.db_rows(srv, "SELECT code_hash FROM recovery_codes WHERE member_id = ?", m.member_id)}
    assert len(stored) == 10
    plain = {hashlib.sha256(c.replace("-", "").lower().encode()).hexdigest() for c in created.recovery_codes}
    assert not stored & plain, "a recovery code's digest is reproducible without the key"
    assert not any(p in s for s in stored for p in plain)
