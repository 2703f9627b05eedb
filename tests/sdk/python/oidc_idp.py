"""A real OpenID Provider for the SSO and OAuth tests, and the browser's part of a login.

`oidc-provider` (npm, the certified Node.js implementation) runs from tests/sdk/node/oidc_provider.mjs
with its development login form (any login name, any password; the name is the subject, see the
script for the claims each name gets). The browser is an HTTP client that follows redirects and
submits the provider's login form.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Dict, List, Tuple

import requests

from conftest import free_port

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class Idp:
    def __init__(self, port: int, proc: subprocess.Popen):
        self.port = port
        self.proc = proc
        self.issuer = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_idp(clients: List[Dict], **env: str) -> Idp:
    """Starts the provider with these clients; any Latch callback on this machine is allowed
    (connection ids vary), as are `env` settings such as ACCESS_TOKEN_TTL."""
    port = free_port()
    full = dict(os.environ)
    full.update(PORT=str(port), CLIENTS=json.dumps(clients), OIDC_ALLOW_LOCAL_CALLBACKS="1", **env)
    proc = subprocess.Popen(["node", "oidc_provider.mjs"], cwd=NODE_DIR, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready "), f"provider did not start: {line!r}"
    return Idp(port, proc)


def form(page: str, base: str) -> Tuple[str, Dict[str, str]]:
    m = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert m, f"no form in the provider's page: {page[:500]}"
    inputs = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    return urllib.parse.urljoin(base, html.unescape(m.group(1))), inputs


def browse(s: requests.Session, url: str, login: str, until: str, limit: int = 12) -> requests.Response:
    """Follows redirects and the provider's login form until a redirect to `until` (not followed)."""
    r = s.get(url, allow_redirects=False, timeout=10)
    for _ in range(limit):
        loc = r.headers.get("Location")
        if r.status_code in (301, 302, 303) and loc:
            target = urllib.parse.urljoin(r.url, loc)
            if target.startswith(until):
                return r
            r = s.get(target, allow_redirects=False, timeout=10)
            continue
        if r.status_code == 200 and "<form" in r.text:
            action, inputs = form(r.text, r.url)
            inputs.update(login=login, password="any")
            r = s.post(action, data=inputs, allow_redirects=False, timeout=10)
            continue
        return r  # an answer that is neither: the caller looks at it
    raise AssertionError("too many steps at the provider")
