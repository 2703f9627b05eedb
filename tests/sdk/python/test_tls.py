"""HTTPS (issue 17, part 3): Latch serves TLS itself, with a certificate from a test CA.

The official B2B SDK is pointed at the HTTPS address and trusts only the test CA; plain HTTP stays
on `listen` beside it. A renewed certificate is served without a restart (files polled, SIGHUP);
a broken renewal keeps the previous certificate; a key that does not match its certificate stops
the start.
"""

import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

from conftest import base_env, free_port, latch_bin
from latch_helpers import TimeoutSession, create_member, create_org, make_client, ok
from pki import Pki, replace_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def served_cn(port: int, ca_file: Path) -> str:
    """The common name of the certificate a new TLS connection is given (verified against the CA)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def wait_for_cn(port: int, ca_file: Path, expected: str, timeout_s: float = 15) -> str:
    deadline = time.monotonic() + timeout_s
    seen = served_cn(port, ca_file)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = served_cn(port, ca_file)
    return seen


def https_session(ca_file: Path) -> TimeoutSession:
    s = TimeoutSession()
    s.verify = str(ca_file)
    return s


@pytest.fixture(scope="module")
def pki():
    return Pki(Path(tempfile.mkdtemp(prefix="latch-tls-")))


@pytest.fixture(scope="module")
def tls_server(latch_server_factory, pki):
    """A server with plain HTTP on `listen` and HTTPS on `tls_listen`, files polled every second."""
    cert_file, key_file = pki.write(pki.root / "polled", "first")
    port = free_port()
    srv = latch_server_factory(
        LATCH_TLS_CERT_FILE=str(cert_file),
        LATCH_TLS_KEY_FILE=str(key_file),
        LATCH_TLS_LISTEN=f"127.0.0.1:{port}",
        LATCH_TLS_RELOAD_INTERVAL_SECS="1",
        LATCH_LOG="info",
    )
    return srv, port, cert_file.parent


def test_the_official_sdk_works_over_https_trusting_only_the_test_ca(tls_server, pki):
    srv, port, _ = tls_server
    sdk = _https_client(srv, port, pki)
    org = create_org(sdk)
    member = create_member(sdk, org.organization_id)
    got = ok(sdk.organizations.members.get(organization_id=org.organization_id, member_id=member.member_id))
    assert got.member.email_address == member.email_address
    # Plain HTTP keeps serving on `listen`, and sees what was written over HTTPS.
    plain = make_client(srv.url, srv.project.project_id, srv.project.secret)
    assert ok(plain.organizations.get(organization_id=org.organization_id)).organization.organization_slug == org.organization_slug
    # Wrong credentials over HTTPS get Stytch's error like over HTTP.
    bad = requests.post(
        f"https://localhost:{port}/v1/b2b/organizations/search",
        json={},
        auth=(srv.project.project_id, "wrong"),
        verify=str(pki.ca_file),
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["error_type"] == "unauthorized_credentials"


def _https_client(srv, port, pki):
    import warnings

    import stytch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return stytch.B2BClient(
            project_id=srv.project.project_id,
            secret=srv.project.secret,
            environment=f"https://localhost:{port}",
            sync_session=https_session(pki.ca_file),
        )


def test_a_client_without_the_ca_refuses_and_plain_http_on_the_tls_port_is_not_served(tls_server, pki):
    srv, port, _ = tls_server
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://localhost:{port}/livez", timeout=5)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/livez", timeout=5)
    # The server shrugs both off and keeps serving.
    r = requests.get(f"https://localhost:{port}/livez", verify=str(pki.ca_file), timeout=5)
    assert r.status_code == 200


def test_a_renewed_certificate_is_served_without_a_restart(tls_server, pki):
    srv, port, directory = tls_server
    session = https_session(pki.ca_file)
    keep_alive = session.get(f"https://localhost:{port}/livez")
    assert keep_alive.status_code == 200
    pki.write(directory, "renewed")
    assert wait_for_cn(port, pki.ca_file, "renewed") == "renewed"
    # The connection opened before the renewal still answers.
    assert session.get(f"https://localhost:{port}/livez").status_code == 200
    assert srv.proc.poll() is None


def test_a_broken_renewal_keeps_the_previous_certificate_serving(tls_server, pki):
    srv, port, directory = tls_server
    pki.write(directory, "before-broken")
    assert wait_for_cn(port, pki.ca_file, "before-broken") == "before-broken"
    offset = srv.log_size()
    # A certificate whose key is another one's, then a truncated file: neither is taken.
    cert, _ = pki.issue("mismatched")
    replace_file(directory / "cert.pem", cert)
    deadline = time.monotonic() + 10
    while "TLS certificate not reloaded" not in srv.log_text(offset) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "TLS certificate not reloaded" in srv.log_text(offset)
    assert served_cn(port, pki.ca_file) == "before-broken"
    replace_file(directory / "cert.pem", b"-----BEGIN CERTIFICATE-----\nMIIB")
    time.sleep(2.5)
    assert served_cn(port, pki.ca_file) == "before-broken"
    assert srv.proc.poll() is None
    # The next good pair is taken again.
    pki.write(directory, "after-broken")
    assert wait_for_cn(port, pki.ca_file, "after-broken") == "after-broken"


def test_sighup_reloads_at_once(latch_server_factory, pki):
    cert_file, key_file = pki.write(pki.root / "hup", "hup-1", key_type="rsa")
    port = free_port()
    srv = latch_server_factory(
        LATCH_TLS_CERT_FILE=str(cert_file),
        LATCH_TLS_KEY_FILE=str(key_file),
        LATCH_TLS_LISTEN=f"127.0.0.1:{port}",
        LATCH_TLS_RELOAD_INTERVAL_SECS="3600",
    )
    assert served_cn(port, pki.ca_file) == "hup-1"
    pki.write(cert_file.parent, "hup-2", key_type="rsa")
    time.sleep(1)
    assert served_cn(port, pki.ca_file) == "hup-1", "polled only hourly: not reloaded before the signal"
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for_cn(port, pki.ca_file, "hup-2", timeout_s=5) == "hup-2"
    assert srv.proc.poll() is None, "SIGHUP reloads; it does not stop the server"


def _spawn(workdir: Path, **env: str) -> subprocess.Popen:
    full = base_env()
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    full.update({"LATCH_DATA_DIR": str(workdir / "data"), "LATCH_LOG": "info", **env})
    return subprocess.Popen(
        [str(latch_bin()), "serve"],
        env=full,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_listen_itself_serves_https_when_no_second_address_is_set(pki):
    cert_file, key_file = pki.write(pki.root / "single", "single")
    port = free_port()
    proc = _spawn(
        Path(tempfile.mkdtemp(prefix="latch-tls-single-")),
        LATCH_LISTEN=f"127.0.0.1:{port}",
        LATCH_TLS_CERT_FILE=str(cert_file),
        LATCH_TLS_KEY_FILE=str(key_file),
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get(f"https://localhost:{port}/healthz", verify=str(pki.ca_file), timeout=2).status_code
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert status == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/livez", timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]


@pytest.mark.parametrize(
    "problem",
    ["mismatched key", "missing key file", "not a certificate", "cert without key setting", "tls_listen without files"],
)
def test_a_pair_that_cannot_serve_stops_the_start(pki, problem):
    workdir = Path(tempfile.mkdtemp(prefix="latch-tls-bad-"))
    cert_file, key_file = pki.write(workdir / "tls", "bad")
    env = {"LATCH_LISTEN": f"127.0.0.1:{free_port()}", "LATCH_TLS_CERT_FILE": str(cert_file), "LATCH_TLS_KEY_FILE": str(key_file)}
    expect = "TLS certificate"
    if problem == "mismatched key":
        _, other_key = pki.issue("other")
        key_file.write_bytes(other_key)
    elif problem == "missing key file":
        env["LATCH_TLS_KEY_FILE"] = str(workdir / "nowhere.pem")
    elif problem == "not a certificate":
        cert_file.write_bytes(b"hello")
    elif problem == "cert without key setting":
        del env["LATCH_TLS_KEY_FILE"]
        expect = "tls_cert_file and tls_key_file go together"
    else:
        del env["LATCH_TLS_CERT_FILE"], env["LATCH_TLS_KEY_FILE"]
        env["LATCH_TLS_LISTEN"] = f"127.0.0.1:{free_port()}"
        expect = "tls_listen needs tls_cert_file and tls_key_file"
    proc = _spawn(workdir, **env)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"{problem}: the server started")
    assert proc.returncode != 0
    assert expect in out.decode(errors="replace"), out.decode(errors="replace")[-2000:]
