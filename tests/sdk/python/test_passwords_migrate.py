"""passwords.migrate: every hash type against hashes made by independent implementations
(hash_vectors.py), the migrate response and member fields, and refusals that write nothing."""

from __future__ import annotations

import hashlib
import uuid

import bcrypt
import pytest
from argon2 import PasswordHasher, Type
from argon2.low_level import hash_secret_raw

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import expect_error, ok, roles_of

PHONE = "+12025550147"


def _mail(local: str = "mig") -> str:
    return f"{local}-{h.token()}@{h.unique_domain('mig')}"


def _authenticate(client, org_id: str, email: str, password: str):
    return ok(client.passwords.authenticate(organization_id=org_id, email_address=email, password=password))


def _assert_authenticated(resp, member_id: str, org_id: str):
    assert resp.member_authenticated is True, resp
    assert resp.member_id == member_id and resp.member.member_id == member_id
    assert resp.organization_id == org_id and resp.organization.organization_id == org_id
    assert resp.session_token and resp.session_jwt
    assert resp.intermediate_session_token == ""


def _member_count(client, org_id: str) -> int:
    return ok(client.organizations.metrics(organization_id=org_id)).member_count


def _assert_nothing_written(client, org_id: str, email: str):
    assert _member_count(client, org_id) == 0, "a refused migrate created a member"
    expect_error(404, "member_not_found", client.organizations.members.get, organization_id=org_id, email_address=email)


# ---------------------------------------------------------------- every hash type


@pytest.mark.parametrize("vector", list(hv.VECTORS))
def test_migrate_then_authenticate(client, vector):
    org = h.create_org(client)
    email = _mail()
    kwargs = hv.VECTORS[vector](hv.PASSWORD)
    resp = ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email, **kwargs))
    assert resp.member_created is True
    m = resp.member
    assert resp.member_id == m.member_id and m.member_id
    assert m.email_address == email
    assert m.email_address_verified is True, "migrate marks the email verified"
    assert m.member_password_id.startswith("member-password-test-"), m.member_password_id
    assert len(m.member_password_id) > len("member-password-test-")
    assert resp.organization.organization_id == org.organization_id
    assert m.organization_id == org.organization_id
    assert m.status == "active"

    # The wrong password first: it must not be accepted by the imported hash.
    d = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                     organization_id=org.organization_id, email_address=email, password=hv.WRONG_PASSWORD)
    first = _authenticate(client, org.organization_id, email, hv.PASSWORD)
    _assert_authenticated(first, m.member_id, org.organization_id)
    assert first.member.member_password_id == m.member_password_id

    # After the first success the hash was upgraded to argon2id: same password still works,
    # a wrong one still fails.
    d2 = expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                      organization_id=org.organization_id, email_address=email, password=hv.WRONG_PASSWORD)
    assert d2.error_message == d.error_message
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=email, password=hv.PASSWORD.upper())
    second = _authenticate(client, org.organization_id, email, hv.PASSWORD)
    _assert_authenticated(second, m.member_id, org.organization_id)
    assert second.session_token != first.session_token
    third = _authenticate(client, org.organization_id, email, hv.PASSWORD)
    _assert_authenticated(third, m.member_id, org.organization_id)


@pytest.mark.parametrize("vector", ["md_5-both", "bcrypt-2b", "argon_2id-raw-hex", "scrypt-phc", "pbkdf_2-sha512", "phpass-P"])
def test_wrong_password_never_upgrades_or_unlocks(client, vector):
    """Failed attempts leave the imported hash alone: the right password works afterwards."""
    org = h.create_org(client)
    email = _mail()
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email, **hv.VECTORS[vector](hv.PASSWORD)))
    for wrong in (hv.WRONG_PASSWORD, hv.PASSWORD[:-1], hv.PASSWORD + " ", "x"):
        expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                     organization_id=org.organization_id, email_address=email, password=wrong)
    _authenticate(client, org.organization_id, email, hv.PASSWORD)


def test_ascii_and_empty_salts_are_exact(client):
    """Salts are concatenated literally: swapping prepend and append must not verify."""
    org = h.create_org(client)
    pw = "ascii-only password 9 Tx"
    email_ok, email_swapped = _mail("ok"), _mail("swap")
    digest = hashlib.sha1(("PRE" + pw + "APP").encode()).hexdigest()
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email_ok, hash=digest, hash_type="sha_1",
                                sha_1_config={"prepend_salt": "PRE", "append_salt": "APP"}))
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email_swapped, hash=digest, hash_type="sha_1",
                                sha_1_config={"prepend_salt": "APP", "append_salt": "PRE"}))
    _authenticate(client, org.organization_id, email_ok, pw)
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=email_swapped, password=pw)


def test_argon2_raw_hex_uses_the_config_salt_and_costs(client):
    """A raw argon2 hash verified with a different iteration count than it was made with fails."""
    org = h.create_org(client)
    salt = "pepper-" + h.token()
    raw = hash_secret_raw(hv.PASSWORD.encode(), salt.encode(), time_cost=3, memory_cost=16, parallelism=1, hash_len=32, type=Type.ID)
    good, bad = _mail("good"), _mail("bad")
    cfg = {"salt": salt, "iteration_amount": 3, "memory": 16, "threads": 1, "key_length": 32}
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=good, hash=raw.hex(), hash_type="argon_2id", argon_2_config=cfg))
    ok(client.passwords.migrate(organization_id=org.organization_id, email_address=bad, hash=raw.hex(), hash_type="argon_2id",
                                argon_2_config={**cfg, "iteration_amount": 2}))
    _authenticate(client, org.organization_id, good, hv.PASSWORD)
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=bad, password=hv.PASSWORD)


# ---------------------------------------------------------------- response and member fields


def test_migrate_with_every_member_field(client):
    org = h.create_org(client)
    email = _mail("full")
    ext = f"ext-{h.token()}"
    resp = ok(client.passwords.migrate(
        organization_id=org.organization_id,
        email_address=email,
        **hv.VECTORS["bcrypt-2b"](hv.PASSWORD),
        name="Ada Lovelace 🚀",
        trusted_metadata={"tier": "gold", "n": 1},
        untrusted_metadata={"theme": "dark"},
        roles=["editor"],
        mfa_phone_number=PHONE,
        set_phone_number_verified=True,
        external_id=ext,
    ))
    assert resp.member_created is True
    for m in (resp.member, ok(client.organizations.members.get(organization_id=org.organization_id, member_id=resp.member_id)).member):
        assert m.email_address == email
        assert m.name == "Ada Lovelace 🚀"
        assert m.trusted_metadata == {"tier": "gold", "n": 1}
        assert m.untrusted_metadata == {"theme": "dark"}
        assert roles_of(m) == {"stytch_member": {"direct_assignment"}, "editor": {"direct_assignment"}}
        assert m.mfa_phone_number == PHONE
        assert m.mfa_phone_number_verified is True
        assert m.external_id == ext
        assert m.email_address_verified is True
        assert m.member_password_id == resp.member.member_password_id != ""
    _authenticate(client, org.organization_id, email, hv.PASSWORD)


def test_phone_without_set_verified_stays_unverified(client):
    org = h.create_org(client)
    resp = ok(client.passwords.migrate(organization_id=org.organization_id, email_address=_mail(),
                                       **hv.VECTORS["md_5"](hv.PASSWORD), mfa_phone_number=PHONE))
    assert resp.member.mfa_phone_number == PHONE
    assert resp.member.mfa_phone_number_verified is False


def test_migrate_existing_member(client):
    org = h.create_org(client)
    email = _mail("old")
    ext = f"keep-{h.token()}"
    existing = h.create_member(client, org.organization_id, email, name="Original", external_id=ext)
    assert existing.email_address_verified is False and existing.member_password_id == ""
    resp = ok(client.passwords.migrate(organization_id=org.organization_id, email_address=email.upper(),
                                       **hv.VECTORS["pbkdf_2-sha256"](hv.PASSWORD),
                                       name="Ignored For Existing", external_id=f"other-{h.token()}"))
    assert resp.member_created is False
    assert resp.member_id == existing.member_id
    m = resp.member
    assert m.email_address == email
    assert m.email_address_verified is True
    assert m.member_password_id.startswith("member-password-test-")
    assert m.name == "Original", "name is only used when migrate creates the member"
    assert m.external_id == ext, "external_id is only set when migrate creates the member"
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=existing.member_id)).member
    assert got.member_password_id == m.member_password_id and got.email_address_verified is True
    assert got.name == "Original" and got.external_id == ext
    assert _member_count(client, org.organization_id) == 1
    _assert_authenticated(_authenticate(client, org.organization_id, email, hv.PASSWORD), existing.member_id, org.organization_id)


def test_migrate_normalizes_the_email_and_authenticate_ignores_case(client):
    org = h.create_org(client)
    d = h.unique_domain("case")
    resp = ok(client.passwords.migrate(organization_id=org.organization_id, email_address=f"Mixed.Case@{d.upper()}",
                                       **hv.VECTORS["sha_512"](hv.PASSWORD)))
    assert resp.member.email_address == f"mixed.case@{d}"
    auth = _authenticate(client, org.organization_id, f"MIXED.case@{d}", hv.PASSWORD)
    assert auth.member_id == resp.member_id


def test_migrate_by_organization_slug(client):
    org = h.create_org(client)
    resp = ok(client.passwords.migrate(organization_id=org.organization_slug, email_address=_mail(), **hv.VECTORS["md_5"](hv.PASSWORD)))
    assert resp.organization.organization_id == org.organization_id
    assert resp.member.organization_id == org.organization_id


def test_same_email_in_two_organizations_is_two_members(client):
    a, b = h.create_org(client), h.create_org(client)
    email = _mail("two")
    ra = ok(client.passwords.migrate(organization_id=a.organization_id, email_address=email, **hv.VECTORS["md_5"]("Alpha password 111 !")))
    rb = ok(client.passwords.migrate(organization_id=b.organization_id, email_address=email, **hv.VECTORS["md_5"]("Bravo password 222 ?")))
    assert ra.member_created and rb.member_created and ra.member_id != rb.member_id
    assert ra.member.member_password_id != rb.member.member_password_id
    _authenticate(client, a.organization_id, email, "Alpha password 111 !")
    _authenticate(client, b.organization_id, email, "Bravo password 222 ?")
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=a.organization_id, email_address=email, password="Bravo password 222 ?")
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=b.organization_id, email_address=email, password="Alpha password 111 !")


# ---------------------------------------------------------------- refusals: 400, nothing written


def _bcrypt_hash() -> str:
    return bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()


def _argon2i_phc() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I).hash("x")


def _argon2id_phc() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID).hash("x")


def _phpass_with_count_char(c: str) -> str:
    """A phpass hash whose log2(rounds) character (index 3) is replaced: '.' = 0, 'z' = 63 (valid: 7..30)."""
    good = hv.VECTORS["phpass-P"]("x")["hash"]
    return good[:3] + c + good[4:]


_SCRYPT_B64 = hv.b64(hashlib.scrypt(b"x", salt=b"saltsalt", n=1024, r=8, p=1, dklen=32))


def _scrypt_cfg(**over):
    return {"salt": hv.b64(b"saltsalt"), "n_parameter": 1024, "r_parameter": 8, "p_parameter": 1, "key_length": 32, **over}


_PBKDF2_B64 = hv.b64(hashlib.pbkdf2_hmac("sha256", b"x", b"saltsalt", 1000, dklen=32))
_PBKDF2_CFG = {"salt": hv.b64(b"saltsalt"), "iteration_amount": 1000, "key_length": 32, "algorithm": "sha256"}

REFUSALS = {
    "unknown-hash-type": (lambda: {"hash": hashlib.md5(b"x").hexdigest(), "hash_type": "rot13"}, "invalid_hash_type"),
    "hash-type-md5-spelling": (lambda: {"hash": hashlib.md5(b"x").hexdigest(), "hash_type": "md5"}, "invalid_hash_type"),
    "hash-type-argon2id-spelling": (lambda: {"hash": _argon2id_phc(), "hash_type": "argon2id"}, "invalid_hash_type"),
    "bcrypt-garbage": (lambda: {"hash": "not-a-bcrypt-hash", "hash_type": "bcrypt"}, "invalid_bcrypt_hash"),
    "bcrypt-truncated": (lambda: {"hash": _bcrypt_hash()[:-1], "hash_type": "bcrypt"}, "invalid_bcrypt_hash"),
    "bcrypt-md5-digest": (lambda: {"hash": hashlib.md5(b"x").hexdigest(), "hash_type": "bcrypt"}, "invalid_bcrypt_hash"),
    "md_5-short": (lambda: {"hash": hashlib.md5(b"x").hexdigest()[:-1], "hash_type": "md_5"}, "invalid_md_5_hash"),
    "md_5-empty": (lambda: {"hash": "", "hash_type": "md_5"}, "invalid_md_5_hash"),
    "md_5-not-hex": (lambda: {"hash": "z" * 32, "hash_type": "md_5"}, "invalid_md_5_hash"),
    "md_5-sha1-digest": (lambda: {"hash": hashlib.sha1(b"x").hexdigest(), "hash_type": "md_5"}, "invalid_md_5_hash"),
    "sha_1-short": (lambda: {"hash": hashlib.sha1(b"x").hexdigest()[:-2], "hash_type": "sha_1"}, "invalid_sha_1_hash"),
    "sha_1-not-hex": (lambda: {"hash": "g" * 40, "hash_type": "sha_1"}, "invalid_sha_1_hash"),
    "sha_1-md5-digest": (lambda: {"hash": hashlib.md5(b"x").hexdigest(), "hash_type": "sha_1"}, "invalid_sha_1_hash"),
    "sha_512-short": (lambda: {"hash": hashlib.sha512(b"x").hexdigest()[:-1], "hash_type": "sha_512"}, "invalid_sha_512_hash"),
    "sha_512-not-hex": (lambda: {"hash": "q" * 128, "hash_type": "sha_512"}, "invalid_sha_512_hash"),
    "sha_512-sha256-digest": (lambda: {"hash": hashlib.sha256(b"x").hexdigest(), "hash_type": "sha_512"}, "invalid_sha_512_hash"),
    "argon_2id-garbage": (lambda: {"hash": "$argon2id$garbage", "hash_type": "argon_2id"}, "invalid_argon_2_hash"),
    "argon_2id-phc-without-hash": (lambda: {"hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0", "hash_type": "argon_2id"}, "invalid_argon_2_hash"),
    "argon_2id-raw-hex-salt-too-short": (
        # argon2 needs a salt of at least 8 bytes: no implementation can have produced this hash.
        lambda: {"hash": "ab" * 32, "hash_type": "argon_2id",
                 "argon_2_config": {"salt": "abc", "iteration_amount": 1, "memory": 8, "threads": 1, "key_length": 32}},
        "invalid_argon_2_hash",
    ),
    "argon_2i-garbage": (lambda: {"hash": "definitely not argon2", "hash_type": "argon_2i"}, "invalid_argon_2_hash"),
    "argon_2id-raw-hex-without-config": (
        lambda: {"hash": hash_secret_raw(b"x", b"saltsalt", 1, 8, 1, 32, Type.ID).hex(), "hash_type": "argon_2id"},
        "invalid_argon_2_hash",
    ),
    "argon_2i-hash-as-argon_2id": (lambda: {"hash": _argon2i_phc(), "hash_type": "argon_2id"}, "invalid_argon_2_hash"),
    "argon_2id-hash-as-argon_2i": (lambda: {"hash": _argon2id_phc(), "hash_type": "argon_2i"}, "invalid_argon_2_hash"),
    "scrypt-n-not-power-of-two": (
        lambda: {"hash": _SCRYPT_B64, "hash_type": "scrypt", "scrypt_config": _scrypt_cfg(n_parameter=1000)},
        "invalid_scrypt_parameters",
    ),
    "scrypt-n-1": (
        lambda: {"hash": _SCRYPT_B64, "hash_type": "scrypt", "scrypt_config": _scrypt_cfg(n_parameter=1)},
        "invalid_scrypt_parameters",
    ),
    "scrypt-n-too-large": (
        lambda: {"hash": _SCRYPT_B64, "hash_type": "scrypt", "scrypt_config": _scrypt_cfg(n_parameter=524288)},
        "invalid_scrypt_parameters",
    ),
    "scrypt-phc-n-too-large": (
        lambda: {"hash": f"$scrypt$ln=19,r=8,p=1${hv.b64_nopad(b'saltsaltsalt')}${hv.b64_nopad(bytes(range(32)))}", "hash_type": "scrypt"},
        "invalid_scrypt_parameters",
    ),
    "scrypt-phc-n-1": (
        lambda: {"hash": f"$scrypt$ln=0,r=8,p=1${hv.b64_nopad(b'saltsaltsalt')}${hv.b64_nopad(bytes(range(32)))}", "hash_type": "scrypt"},
        "invalid_scrypt_parameters",
    ),
    "scrypt-phc-garbage": (lambda: {"hash": "$scrypt$garbage", "hash_type": "scrypt"}, "invalid_scrypt_parameters"),
    "scrypt-base64-without-config": (lambda: {"hash": _SCRYPT_B64, "hash_type": "scrypt"}, "invalid_scrypt_parameters"),
    "pbkdf_2-without-config": (lambda: {"hash": _PBKDF2_B64, "hash_type": "pbkdf_2"}, "invalid_pbkdf_2_hash"),
    "pbkdf_2-bad-algorithm": (
        lambda: {"hash": _PBKDF2_B64, "hash_type": "pbkdf_2", "pbkdf_2_config": {**_PBKDF2_CFG, "algorithm": "md5"}},
        "invalid_pbkdf_2_hash",
    ),
    "phpass-garbage": (lambda: {"hash": "$P$garbage", "hash_type": "phpass"}, "invalid_phpass_hash"),
    "phpass-bcrypt-hash": (lambda: {"hash": _bcrypt_hash(), "hash_type": "phpass"}, "invalid_phpass_hash"),
    "phpass-rounds-below-range": (lambda: {"hash": _phpass_with_count_char("."), "hash_type": "phpass"}, "invalid_phpass_hash"),
    "phpass-rounds-above-range": (lambda: {"hash": _phpass_with_count_char("z"), "hash_type": "phpass"}, "invalid_phpass_hash"),
    "phpass-truncated": (lambda: {"hash": hv.VECTORS["phpass-P"]("x")["hash"][:-1], "hash_type": "phpass"}, "invalid_phpass_hash"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_migrate_refusal_creates_nothing(client, case):
    org = h.create_org(client)
    email = _mail("ref")
    make, error_type = REFUSALS[case]
    expect_error(400, error_type, client.passwords.migrate, organization_id=org.organization_id, email_address=email,
                 name="Should Not Exist", **make())
    _assert_nothing_written(client, org.organization_id, email)


@pytest.mark.parametrize("case", ["bcrypt-garbage", "md_5-short", "argon_2id-raw-hex-without-config", "scrypt-n-not-power-of-two",
                                  "pbkdf_2-without-config", "phpass-garbage", "unknown-hash-type"])
def test_migrate_refusal_leaves_an_existing_member_alone(client, case):
    org = h.create_org(client)
    existing = h.create_member(client, org.organization_id, _mail("keep"), name="Keep")
    make, error_type = REFUSALS[case]
    expect_error(400, error_type, client.passwords.migrate, organization_id=org.organization_id,
                 email_address=existing.email_address, roles=["editor"], trusted_metadata={"x": 1}, **make())
    got = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=existing.member_id)).member
    assert got == existing, "a refused migrate changed the existing member"
    expect_error(401, "unauthorized_credentials", client.passwords.authenticate,
                 organization_id=org.organization_id, email_address=existing.email_address, password="x")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "two words@example.com"])
def test_migrate_invalid_email(client, email):
    org = h.create_org(client)
    expect_error(400, "invalid_email", client.passwords.migrate, organization_id=org.organization_id, email_address=email,
                 **hv.VECTORS["md_5"](hv.PASSWORD))
    assert _member_count(client, org.organization_id) == 0


def test_migrate_invalid_phone_creates_nothing(client):
    org = h.create_org(client)
    email = _mail()
    expect_error(400, "invalid_phone_number", client.passwords.migrate, organization_id=org.organization_id,
                 email_address=email, mfa_phone_number="12345", **hv.VECTORS["md_5"](hv.PASSWORD))
    _assert_nothing_written(client, org.organization_id, email)


def test_migrate_unknown_organization(client):
    expect_error(404, "organization_not_found", client.passwords.migrate, organization_id=f"organization-test-{uuid.uuid4()}",
                 email_address=_mail(), **hv.VECTORS["md_5"](hv.PASSWORD))
