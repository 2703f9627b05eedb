"""Fixtures for the official-SDK conformance suite.

One Latch server is started per storage backend per pytest session (the binary is shared by every
test), on a free port, with a bootstrap project.  Tests talk to it only through the official
`stytch` Python SDK (and raw HTTP where the SDK cannot express a request).

Environment:
  LATCH_BIN                 path of the server binary (default: <repo>/target/debug/latch)
  LATCH_TEST_DATABASE_URL   e.g. postgres://postgres@127.0.0.1:5432/postgres; enables the
                            "postgres" backend (a fresh database is created and dropped)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests

import latch_helpers as h

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "latch"

HEALTH_TIMEOUT_S = 20.0
SHUTDOWN_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 30.0

_log_offset_key = pytest.StashKey[int]()

# Allowed for every redirect type in each test server's bootstrap project (matched by scheme, host,
# port and path; the query string may differ). Servers from `latch_server_factory` may override it.
BOOTSTRAP_REDIRECT_URLS = ("https://app.example.com/reset-password", "https://app.example.com/reset")


def latch_bin() -> Path:
    return Path(os.environ.get("LATCH_BIN") or DEFAULT_BIN).resolve()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env() -> Dict[str, str]:
    """The caller's environment without any LATCH_* variable (so nothing leaks into the server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCH_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@dataclass
class Project:
    project_id: str
    secret: str
    name: str = ""


@dataclass
class LatchServer:
    backend: str
    port: int
    db_env: Dict[str, str]
    workdir: Path
    log_path: Path
    project: Project
    proc: Optional[subprocess.Popen] = None
    extra_projects: List[Project] = field(default_factory=list)
    # Extra environment for the server process (only servers from `latch_server_factory` set it).
    extra_env: Dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def api(self, path: str) -> str:
        return urllib.parse.urljoin(self.url, path)

    def log_text(self, offset: int = 0, max_chars: int = 20_000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                data = f.read().decode("utf-8", "replace")
        except OSError as e:  # pragma: no cover - diagnostics only
            return f"<cannot read server log: {e}>"
        if len(data) > max_chars:
            data = "…(truncated)…\n" + data[-max_chars:]
        return data

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run `latch <args>` against the same database as the server."""
        env = base_env()
        env.update(self.db_env)
        env["LATCH_LOG"] = "warn"
        return subprocess.run(
            [str(latch_bin()), *args],
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )

    def create_project(self, name: Optional[str] = None) -> Project:
        name = name or f"sdk-test-{uuid.uuid4().hex[:8]}"
        res = self.cli("project", "create", "--name", name)
        assert res.returncode == 0, (
            f"`latch project create` exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
        )
        try:
            out = json.loads(res.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(
                f"`latch project create` must print one JSON object on stdout, got {res.stdout!r} ({e})"
            ) from None
        assert isinstance(out, dict), out
        for key in ("project_id", "secret", "name"):
            assert isinstance(out.get(key), str) and out[key], f"missing/empty {key!r} in {out}"
        p = Project(project_id=out["project_id"], secret=out["secret"], name=out["name"])
        self.extra_projects.append(p)
        return p


def _start_process(srv: LatchServer) -> None:
    env = base_env()
    env.update(srv.db_env)
    env.update(
        {
            "LATCH_LISTEN": f"127.0.0.1:{srv.port}",
            "LATCH_BOOTSTRAP_PROJECT_ID": srv.project.project_id,
            "LATCH_BOOTSTRAP_SECRET": srv.project.secret,
            "LATCH_LOG": "warn",
            # Tests never pay production argon2 costs.
            "LATCH_ARGON2_MEMORY_KIB": "8",
            "LATCH_ARGON2_ITERATIONS": "1",
            # Custom roles and resources next to Stytch's defaults (RBAC tests rely on them).
            "LATCH_RBAC_POLICY_FILE": str(Path(__file__).with_name("rbac_policy.json")),
            # The redirect URLs the tests' reset links point to (any other URL is refused).
            "LATCH_BOOTSTRAP_REDIRECT_URLS": ",".join(BOOTSTRAP_REDIRECT_URLS),
        }
    )
    env.update(srv.extra_env)
    log = open(srv.log_path, "ab")
    try:
        srv.proc = subprocess.Popen(
            [str(latch_bin()), "serve"],
            env=env,
            cwd=srv.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def _wait_healthy(srv: LatchServer) -> Optional[str]:
    """Poll /healthz; return None when healthy, else a reason."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last = "no answer"
    with requests.Session() as s:
        s.trust_env = False
        while time.monotonic() < deadline:
            rc = srv.proc.poll()
            if rc is not None:
                return f"server exited with code {rc} before becoming healthy"
            try:
                r = s.get(srv.api("/healthz"), timeout=2)
                if r.status_code == 200:
                    return None
                last = f"/healthz answered {r.status_code}: {r.text[:200]!r}"
            except requests.RequestException as e:
                last = f"{type(e).__name__}"
            time.sleep(0.1)
    return f"/healthz not 200 within {HEALTH_TIMEOUT_S:.0f}s (last: {last})"


def _stop(srv: LatchServer) -> Optional[str]:
    """SIGTERM the server; return a problem description or None."""
    if srv.proc is None or srv.proc.poll() is not None:
        rc = None if srv.proc is None else srv.proc.returncode
        return f"server was not running at teardown (exit code {rc})"
    srv.proc.send_signal(signal.SIGTERM)
    try:
        rc = srv.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait(timeout=10)
        return f"server did not exit within {SHUTDOWN_TIMEOUT_S:.0f}s of SIGTERM (killed)"
    if rc != 0:
        return f"server exited with code {rc} after SIGTERM (expected 0)"
    return None


def _postgres_database(base_url: str):
    """Create a fresh database on the server of `base_url`; return (url, drop_callable)."""
    import psycopg

    name = f"latch_sdk_{uuid.uuid4().hex}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(base_url)
    url = urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request) -> LatchServer:
    backend = request.param
    binary = latch_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.exit(
            f"Latch binary not found or not executable at {binary}. Build it first "
            f"(run.sh never builds) or point LATCH_BIN at it.",
            returncode=2,
        )

    drop_db = None
    db_env: Dict[str, str]
    workdir = Path(tempfile.mkdtemp(prefix=f"latch-sdk-{backend}-"))
    if backend == "postgres":
        base_url = os.environ.get("LATCH_TEST_DATABASE_URL")
        if not base_url:
            shutil.rmtree(workdir, ignore_errors=True)
            pytest.skip("postgres backend: set LATCH_TEST_DATABASE_URL to enable it")
        url, drop_db = _postgres_database(base_url)
        # The data directory still holds the generated key-encryption key.
        db_env = {"LATCH_DATABASE_URL": url, "LATCH_DATA_DIR": str(workdir / "data")}
    else:
        data_dir = workdir / "data"
        data_dir.mkdir()
        db_env = {"LATCH_DATA_DIR": str(data_dir)}

    srv = LatchServer(
        backend=backend,
        port=0,
        db_env=db_env,
        workdir=workdir,
        log_path=workdir / "server.log",
        project=Project(
            project_id=f"project-test-{uuid.uuid4()}",
            secret=f"secret-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            name="bootstrap",
        ),
    )

    problem = None
    for _attempt in range(3):  # the free port may be taken between probing and binding
        srv.port = free_port()
        _start_process(srv)
        problem = _wait_healthy(srv)
        if problem is None:
            break
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait(timeout=10)
            break  # running but unhealthy: retrying would not help
    if problem is not None:
        log = srv.log_text()
        if drop_db:
            drop_db()
        pytest.fail(f"[{backend}] Latch server did not start: {problem}\n--- server log ---\n{log}", pytrace=False)

    try:
        yield srv
    finally:
        problem = _stop(srv)
        log = srv.log_text()
        if drop_db:
            drop_db()
        if problem is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            pytest.fail(f"[{backend}] {problem}\n--- server log ({srv.log_path}) ---\n{log}", pytrace=False)


@pytest.fixture(scope="module")
def latch_server_factory(server: LatchServer):
    """Start extra Latch servers with extra environment variables (e.g. other password settings).

    ``latch_server_factory(LATCH_PASSWORD_MAX_FAILURES="3")`` returns a running LatchServer on the
    same backend as ``server`` but with its own database, port and bootstrap project. Servers are
    cached per environment (one process per distinct ``extra_env`` per backend) and stopped, like
    ``server``, at the end of the test module (SIGTERM, must exit 0): kept for the whole session,
    the PostgreSQL servers' pools together outgrew the database's 100 connections. Each also gets
    a pool of 4 connections unless the test sets ``LATCH_DB_MAX_CONNECTIONS``.
    """
    started: Dict[frozenset, LatchServer] = {}
    drops: List = []

    def start(**extra_env: str) -> LatchServer:
        key = frozenset(extra_env.items())
        if key in started:
            return started[key]
        workdir = Path(tempfile.mkdtemp(prefix=f"latch-sdk-{server.backend}-extra-"))
        if server.backend == "postgres":
            url, drop_db = _postgres_database(os.environ["LATCH_TEST_DATABASE_URL"])
            drops.append(drop_db)
            db_env = {"LATCH_DATABASE_URL": url, "LATCH_DATA_DIR": str(workdir / "data")}
        else:
            (workdir / "data").mkdir()
            db_env = {"LATCH_DATA_DIR": str(workdir / "data")}
        srv = LatchServer(
            backend=server.backend,
            port=0,
            db_env=db_env,
            workdir=workdir,
            log_path=workdir / "server.log",
            project=Project(
                project_id=f"project-test-{uuid.uuid4()}",
                secret=f"secret-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
                name="bootstrap",
            ),
            extra_env={"LATCH_DB_MAX_CONNECTIONS": "4", **extra_env},
        )
        problem = None
        for _attempt in range(3):  # the free port may be taken between probing and binding
            srv.port = free_port()
            _start_process(srv)
            problem = _wait_healthy(srv)
            if problem is None:
                break
            if srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait(timeout=10)
                break
        if problem is not None:
            pytest.fail(
                f"[{server.backend}] extra Latch server {extra_env} did not start: {problem}\n"
                f"--- server log ---\n{srv.log_text()}",
                pytrace=False,
            )
        started[key] = srv
        return srv

    try:
        yield start
    finally:
        problems = []
        for srv in started.values():
            problem = _stop(srv)
            if problem is None:
                shutil.rmtree(srv.workdir, ignore_errors=True)
            else:
                problems.append(f"{srv.extra_env}: {problem}\n--- server log ({srv.log_path}) ---\n{srv.log_text()}")
        for drop in drops:
            drop()
        if problems:
            pytest.fail(f"[{server.backend}] extra servers: " + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def client(server: LatchServer):
    return h.make_client(server.url, server.project.project_id, server.project.secret)


@pytest.fixture
def other_project(server: LatchServer):
    """A second, freshly created project (via `latch project create`) and its SDK client."""
    p = server.create_project()
    return p, h.make_client(server.url, p.project_id, p.secret)


@pytest.fixture
def fresh_client(other_project):
    """SDK client of an empty project: for assertions over *all* organizations of a project."""
    return other_project[1]


@pytest.fixture
def http(server: LatchServer):
    """A raw HTTP session (no proxies, default timeout) for requests the SDK cannot express."""
    s = h.TimeoutSession()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def _mark_server_log(request):
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        request.node.stash[_log_offset_key] = srv.log_size()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    srv = getattr(item, "funcargs", {}).get("server")
    if not isinstance(srv, LatchServer):
        return
    offset = item.stash.get(_log_offset_key, 0)
    text = srv.log_text(offset)
    rep.sections.append(
        (f"latch server log during this test [{srv.backend}] ({srv.log_path})", text or "<empty>")
    )
