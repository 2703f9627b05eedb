"""passwords.strength_check: zxcvbn (the default policy) with offline breach detection and the
email as user input, and LUDS on servers started with other password settings."""

from __future__ import annotations

import pytest

import hash_vectors as hv
import latch_helpers as h
from latch_helpers import ok

LEAKED = ["password", "qwerty123", "iloveyou"]


def _check(client, password, email=None):
    return ok(client.passwords.strength_check(password=password, email_address=email))


def _assert_zxcvbn_shape(r, breach_on_create=True):
    assert r.strength_policy == "zxcvbn"
    assert r.breach_detection_on_create is breach_on_create
    assert isinstance(r.score, int) and 0 <= r.score <= 4, r.score
    assert r.luds_feedback is None, "luds_feedback must be null under the zxcvbn policy"
    assert r.zxcvbn_feedback is not None
    assert isinstance(r.zxcvbn_feedback.warning, str)
    assert isinstance(r.zxcvbn_feedback.suggestions, list)
    assert all(isinstance(s, str) and s for s in r.zxcvbn_feedback.suggestions)


def _assert_luds_shape(r, breach_on_create=True):
    assert r.strength_policy == "luds"
    assert r.breach_detection_on_create is breach_on_create
    assert isinstance(r.score, int) and 0 <= r.score <= 4, r.score
    assert r.zxcvbn_feedback is None, "zxcvbn_feedback must be null under the LUDS policy"
    assert r.luds_feedback is not None


# ---------------------------------------------------------------- zxcvbn (default server)


@pytest.mark.parametrize("password", ["correct horse battery staple 42!", hv.PASSWORD, "日本語のパスワードは長くて安全です"])
def test_strong_password(client, password):
    r = _check(client, password)
    _assert_zxcvbn_shape(r)
    assert r.valid_password is True
    assert r.score >= 3
    assert r.breached_password is False
    assert r.zxcvbn_feedback.warning == ""
    assert r.zxcvbn_feedback.suggestions == []


@pytest.mark.parametrize("password", LEAKED)
def test_leaked_password_is_breached_and_invalid(client, password):
    r = _check(client, password)
    _assert_zxcvbn_shape(r)
    assert r.breached_password is True
    assert r.valid_password is False
    assert r.score < 3
    assert r.zxcvbn_feedback.warning, "a leaked password gets a warning"
    assert r.zxcvbn_feedback.suggestions


@pytest.mark.parametrize("password", ["zzzzzzzzzzzzzzzzzzzz", "abcdefgh1"])
def test_weak_but_not_leaked_password(client, password):
    r = _check(client, password)
    _assert_zxcvbn_shape(r)
    assert r.breached_password is False
    assert r.score < 3
    assert r.valid_password is False
    assert r.zxcvbn_feedback.warning or r.zxcvbn_feedback.suggestions, "a weak password gets feedback"


def test_breach_detection_with_an_email(client):
    r = _check(client, "password", f"someone-{h.token()}@{h.unique_domain('brc')}")
    _assert_zxcvbn_shape(r)
    assert r.breached_password is True and r.valid_password is False


def test_password_built_from_the_email_is_weak(client):
    local = f"kx{h.token()}"
    email = f"{local}@{h.unique_domain('usr')}"
    alone = _check(client, local)
    for pw in (local, local + "!"):
        r = _check(client, pw, email)
        _assert_zxcvbn_shape(r)
        assert r.valid_password is False, f"{pw!r} is made of the email {email!r}: {r}"
        assert r.score < 3
        assert r.score < alone.score, (r.score, alone.score)
        assert r.breached_password is False, "matching the email is weak, not breached"
    # The same password with an unrelated email keeps its own score.
    other = _check(client, local, f"someone@{h.unique_domain('oth')}")
    assert other.score == alone.score


def test_any_utf8_is_accepted(client):
    for pw in ("ñandú😀A1", "пароль с пробелами", "  ", "\u00e9\u0301 tab\tand newline\n", "🔐" * 40):
        r = _check(client, pw)
        _assert_zxcvbn_shape(r)


def test_strength_check_creates_nothing(fresh_client):
    email = f"nobody-{h.token()}@{h.unique_domain('sc')}"
    _check(fresh_client, hv.PASSWORD, email)
    _check(fresh_client, "password", email)
    orgs, totals = h.org_search_all(fresh_client)
    assert orgs == [] and totals == [0]


# ---------------------------------------------------------------- LUDS (extra servers)


@pytest.fixture
def luds_client(latch_server_factory):
    srv = latch_server_factory(LATCH_PASSWORD_STRENGTH_POLICY="luds")
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


@pytest.fixture
def luds_custom_client(latch_server_factory):
    srv = latch_server_factory(
        LATCH_PASSWORD_STRENGTH_POLICY="luds",
        LATCH_PASSWORD_LUDS_MIN_LENGTH="12",
        LATCH_PASSWORD_LUDS_MIN_COMPLEXITY="4",
        LATCH_PASSWORD_BREACH_DETECTION_ON_CREATE="false",
    )
    return h.make_client(srv.url, srv.project.project_id, srv.project.secret)


# password -> (lower, upper, digit, symbol, missing_complexity, missing_characters) with 8 / 3.
LUDS_DEFAULT = {
    "ñandú😀A1": (True, True, True, True, 0, 0),  # 8 characters, more bytes
    "aB1": (True, True, True, False, 0, 5),
    "abcdefghij": (True, False, False, False, 2, 0),
    "ABCDEFGH": (False, True, False, False, 2, 0),
    "12345678901": (False, False, True, False, 2, 0),
    "kq7!mzpw": (True, False, True, True, 0, 0),
    "Kq7mzpwX": (True, True, True, False, 0, 0),
    "": (False, False, False, False, 3, 8),
    "a": (True, False, False, False, 2, 7),
}


@pytest.mark.parametrize("password", list(LUDS_DEFAULT))
def test_luds_feedback(luds_client, password):
    r = _check(luds_client, password)
    _assert_luds_shape(r)
    f = r.luds_feedback
    lower, upper, digit, symbol, missing_complexity, missing_characters = LUDS_DEFAULT[password]
    assert (f.has_lower_case, f.has_upper_case, f.has_digit, f.has_symbol) == (lower, upper, digit, symbol), f
    assert f.missing_complexity == missing_complexity, f
    assert f.missing_characters == missing_characters, f
    assert r.valid_password is (missing_complexity == 0 and missing_characters == 0 and not r.breached_password), r


def test_luds_emoji_and_accents_count_as_characters(luds_client):
    seven = "ñandú😀A"  # 7 characters, 11 bytes in UTF-8
    assert len(seven) == 7 and len(seven.encode()) > 8
    r = _check(luds_client, seven)
    assert r.luds_feedback.missing_characters == 1
    assert r.valid_password is False
    r = _check(luds_client, seven + "1")
    assert r.luds_feedback.missing_characters == 0
    assert r.valid_password is True


def test_luds_leaked_password_is_still_breached(luds_client):
    r = _check(luds_client, "password")
    _assert_luds_shape(r)
    assert r.breached_password is True
    assert r.valid_password is False


def test_luds_configured_length_and_complexity(luds_custom_client):
    r = _check(luds_custom_client, "aB1!")
    _assert_luds_shape(r, breach_on_create=False)
    assert r.luds_feedback.missing_characters == 8
    assert r.luds_feedback.missing_complexity == 0
    assert r.valid_password is False

    r = _check(luds_custom_client, "abcdefghijkl")
    assert r.luds_feedback.missing_characters == 0
    assert r.luds_feedback.missing_complexity == 3
    assert r.valid_password is False

    r = _check(luds_custom_client, "Kq7mzpwXbnrt")  # 12 characters, 3 classes of the 4 required
    assert r.luds_feedback.missing_complexity == 1 and r.luds_feedback.missing_characters == 0
    assert r.valid_password is False

    r = _check(luds_custom_client, "Kq7!mzpwXbnr")
    assert r.luds_feedback.missing_complexity == 0 and r.luds_feedback.missing_characters == 0
    assert r.valid_password is True


def test_breach_detection_off(luds_custom_client):
    r = _check(luds_custom_client, "password")
    assert r.breach_detection_on_create is False
    assert r.breached_password is False, "breached_password is always false when breach detection is off"
    r = _check(luds_custom_client, "Password123!")  # leaked-looking, but detection is off
    assert r.breached_password is False
    assert r.valid_password is True


def test_zxcvbn_with_breach_detection_off(latch_server_factory):
    srv = latch_server_factory(LATCH_PASSWORD_BREACH_DETECTION_ON_CREATE="false")
    c = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    r = _check(c, "password")
    _assert_zxcvbn_shape(r, breach_on_create=False)
    assert r.breached_password is False
    assert r.valid_password is False, "still too weak for zxcvbn"
    assert r.score < 3
    strong = _check(c, hv.PASSWORD)
    assert strong.valid_password is True and strong.breached_password is False
