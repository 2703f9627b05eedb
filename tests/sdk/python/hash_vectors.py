"""Password hashes made by independent implementations, for `passwords.migrate`.

Every vector is computed here, at test time, by a library that shares no code with Latch:

| hash_type            | producer                                                                   |
|----------------------|----------------------------------------------------------------------------|
| md_5, sha_1, sha_512 | `hashlib` over prepend_salt + password + append_salt, hex digest           |
| bcrypt               | `bcrypt` (pyca) `hashpw` with `gensalt(rounds=4, prefix=2b / 2a)`; `$2y$` |
|                      | is a `$2b$` hash relabelled (PHP's name for the same algorithm)            |
| argon_2i, argon_2id  | `argon2-cffi` (reference C implementation): PHC strings from              |
|                      | `PasswordHasher` (and `low_level.hash_secret` for version 0x10), raw hex   |
|                      | from `low_level.hash_secret_raw` + argon_2_config                         |
| scrypt               | `hashlib.scrypt` (OpenSSL): base64 + scrypt_config, or PHC                 |
|                      | `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>` (no padding)        |
| pbkdf_2              | `hashlib.pbkdf2_hmac` (OpenSSL), sha256 and sha512, base64 + pbkdf_2_config |
|                      | (one sha256 vector omits `algorithm`: the documented default)              |
| phpass               | `passlib.hash.phpass` (`$P$` and `$H$` portable hashes)                   |

Costs are kept near each scheme's minimum (Latch is a debug build in the suite); salts are random.
Each vector is a function ``password -> kwargs`` for ``client.passwords.migrate`` (hash, hash_type
and the config object, if any).
"""

from __future__ import annotations

import base64
import hashlib
import os
import warnings
from typing import Any, Callable, Dict

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.low_level import hash_secret, hash_secret_raw

with warnings.catch_warnings():
    # passlib 1.7.4 imports the stdlib `crypt` module, deprecated since Python 3.11 (unused here).
    warnings.simplefilter("ignore", DeprecationWarning)
    from passlib.hash import phpass

Vector = Callable[[str], Dict[str, Any]]

# A password that is strong for zxcvbn, longer than 8 characters, not leaked, below bcrypt's 72
# bytes, and not ASCII (every scheme must hash the UTF-8 bytes).
PASSWORD = "Grüne Äpfel 🍏 zählen 47 Mal!"
# Differs from PASSWORD by one character (its last code point).
WRONG_PASSWORD = "Grüne Äpfel 🍏 zählen 47 Mal?"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_nopad(data: bytes) -> str:
    return b64(data).rstrip("=")


def _salted(algorithm: str, hash_type: str, config_field: str, prepend: str = "", append: str = "") -> Vector:
    def make(password: str) -> Dict[str, Any]:
        digest = hashlib.new(algorithm, (prepend + password + append).encode("utf-8")).hexdigest()
        out: Dict[str, Any] = {"hash": digest, "hash_type": hash_type}
        if prepend or append:
            out[config_field] = {"prepend_salt": prepend, "append_salt": append}
        return out

    return make


def _bcrypt(prefix: bytes, as_prefix: str = "") -> Vector:
    """`as_prefix` relabels the hash: PHP's `$2y$` is byte-for-byte the same algorithm as `$2b$`."""

    def make(password: str) -> Dict[str, Any]:
        h = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4, prefix=prefix)).decode("ascii")
        if as_prefix:
            h = as_prefix + h[4:]
        return {"hash": h, "hash_type": "bcrypt"}

    return make


def _uppercase_hex(vector: Vector) -> Vector:
    def make(password: str) -> Dict[str, Any]:
        out = vector(password)
        return {**out, "hash": out["hash"].upper()}

    return make


def _argon2_phc(kind: Type, hash_type: str, memory: int = 8, time_cost: int = 1, parallelism: int = 1) -> Vector:
    def make(password: str) -> Dict[str, Any]:
        ph = PasswordHasher(time_cost=time_cost, memory_cost=memory, parallelism=parallelism, hash_len=32, salt_len=16, type=kind)
        return {"hash": ph.hash(password), "hash_type": hash_type}

    return make


def _argon2_phc_v16(password: str) -> Dict[str, Any]:
    """Argon2 version 1.0 (0x10, "v=16"), still found in databases hashed by older libraries."""
    h = hash_secret(password.encode("utf-8"), os.urandom(16), time_cost=1, memory_cost=8, parallelism=1, hash_len=32, type=Type.ID, version=0x10)
    return {"hash": h.decode("ascii"), "hash_type": "argon_2id"}


def _argon2_raw(kind: Type, hash_type: str, key_length: int = 32) -> Vector:
    def make(password: str) -> Dict[str, Any]:
        salt = "salt-" + os.urandom(6).hex()  # the raw salt string, as argon_2_config carries it
        raw = hash_secret_raw(
            password.encode("utf-8"), salt.encode("utf-8"), time_cost=2, memory_cost=16, parallelism=1, hash_len=key_length, type=kind
        )
        return {
            "hash": raw.hex(),
            "hash_type": hash_type,
            "argon_2_config": {"salt": salt, "iteration_amount": 2, "memory": 16, "threads": 1, "key_length": key_length},
        }

    return make


def _scrypt_config(n: int = 1024, r: int = 8, p: int = 1, key_length: int = 32) -> Vector:
    def make(password: str) -> Dict[str, Any]:
        salt = os.urandom(16)
        dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=key_length)
        return {
            "hash": b64(dk),
            "hash_type": "scrypt",
            "scrypt_config": {"salt": b64(salt), "n_parameter": n, "r_parameter": r, "p_parameter": p, "key_length": key_length},
        }

    return make


def scrypt_phc(password: str, ln: int = 10, r: int = 8, p: int = 1, key_length: int = 32) -> str:
    salt = os.urandom(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=1 << ln, r=r, p=p, dklen=key_length)
    return f"$scrypt$ln={ln},r={r},p={p}${b64_nopad(salt)}${b64_nopad(dk)}"


def _scrypt_phc(ln: int = 10, r: int = 8, p: int = 1) -> Vector:
    return lambda password: {"hash": scrypt_phc(password, ln, r, p), "hash_type": "scrypt"}


def _pbkdf2(algorithm: str, key_length: int, iterations: int = 1000, send_algorithm: bool = True) -> Vector:
    """`send_algorithm=False` leaves `algorithm` out of pbkdf_2_config (documented default: sha256)."""

    def make(password: str) -> Dict[str, Any]:
        salt = os.urandom(16)
        dk = hashlib.pbkdf2_hmac(algorithm, password.encode("utf-8"), salt, iterations, dklen=key_length)
        config: Dict[str, Any] = {"salt": b64(salt), "iteration_amount": iterations, "key_length": key_length}
        if send_algorithm:
            config["algorithm"] = algorithm
        return {"hash": b64(dk), "hash_type": "pbkdf_2", "pbkdf_2_config": config}

    return make


def _phpass(ident: str) -> Vector:
    return lambda password: {"hash": phpass.using(rounds=8, ident=ident).hash(password), "hash_type": "phpass"}


VECTORS: Dict[str, Vector] = {
    "md_5": _salted("md5", "md_5", "md_5_config"),
    "md_5-prepend": _salted("md5", "md_5", "md_5_config", prepend="pre$alt"),
    "md_5-append": _salted("md5", "md_5", "md_5_config", append="app-salt"),
    "md_5-both": _salted("md5", "md_5", "md_5_config", prepend="p1", append="a2"),
    "md_5-uppercase-hex": _uppercase_hex(_salted("md5", "md_5", "md_5_config")),
    "sha_1": _salted("sha1", "sha_1", "sha_1_config"),
    "sha_1-prepend": _salted("sha1", "sha_1", "sha_1_config", prepend="pre$alt"),
    "sha_1-both": _salted("sha1", "sha_1", "sha_1_config", prepend="p1", append="ä2"),
    "sha_512": _salted("sha512", "sha_512", "sha_512_config"),
    "sha_512-append": _salted("sha512", "sha_512", "sha_512_config", append="app-salt"),
    "sha_512-both": _salted("sha512", "sha_512", "sha_512_config", prepend="p1", append="a2"),
    "sha_512-uppercase-hex": _uppercase_hex(_salted("sha512", "sha_512", "sha_512_config")),
    "bcrypt-2b": _bcrypt(b"2b"),
    "bcrypt-2a": _bcrypt(b"2a"),
    "bcrypt-2y": _bcrypt(b"2b", as_prefix="$2y$"),
    "argon_2id-phc": _argon2_phc(Type.ID, "argon_2id"),
    "argon_2id-phc-p2": _argon2_phc(Type.ID, "argon_2id", memory=32, time_cost=2, parallelism=2),
    "argon_2i-phc": _argon2_phc(Type.I, "argon_2i"),
    "argon_2id-phc-v16": _argon2_phc_v16,
    "argon_2id-raw-hex": _argon2_raw(Type.ID, "argon_2id"),
    "argon_2i-raw-hex": _argon2_raw(Type.I, "argon_2i", key_length=24),
    "scrypt-config": _scrypt_config(),
    "scrypt-config-64": _scrypt_config(n=256, r=4, p=2, key_length=64),
    "scrypt-phc": _scrypt_phc(),
    "scrypt-phc-p2": _scrypt_phc(ln=8, r=4, p=2),
    "pbkdf_2-sha256": _pbkdf2("sha256", 32),
    "pbkdf_2-sha512": _pbkdf2("sha512", 64),
    "pbkdf_2-default-algorithm": _pbkdf2("sha256", 32, iterations=1500, send_algorithm=False),
    "phpass-P": _phpass("P"),
    "phpass-H": _phpass("H"),
}
