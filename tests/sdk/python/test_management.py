"""The Management API (issue 17), driven by the official `stytch-management` client over HTTPS.

A workspace key made with `latch workspace-key create` opens `/pwa/v3` and nothing else; a
project's secret never opens it. Projects, environments, secrets, password strength, redirect URLs,
RBAC policy, email templates and SMS countries are set at runtime and observed at once through the
B2B SDK on that project, while another project keeps its own settings. A secret is rotated with no
failed B2B call. Bad input to every route gets Stytch's error and changes nothing.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import requests
import stytch_management
from stytch.core.response_base import StytchError as B2BError

import latch_helpers as h
from conftest import free_port
from latch_helpers import TimeoutSession, ok
from pki import Pki

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def mgmt_server(latch_server_factory):
    pki = Pki(Path(tempfile.mkdtemp(prefix="latch-mgmt-")))
    cert_file, key_file = pki.write(pki.root / "tls", "management")
    port = free_port()
    srv = latch_server_factory(
        LATCH_TLS_CERT_FILE=str(cert_file),
        LATCH_TLS_KEY_FILE=str(key_file),
        LATCH_TLS_LISTEN=f"127.0.0.1:{port}",
    )
    res = srv.cli("workspace-key", "create", "--name", "tests")
    assert res.returncode == 0, res.stderr
    key = json.loads(res.stdout)
    assert key["key_id"].startswith("workspace-key-") and key["secret"], key
    return srv, f"https://localhost:{port}/", pki, key


def _session(pki: Pki) -> requests.Session:
    s = TimeoutSession()
    s.verify = str(pki.ca_file)
    return s


@pytest.fixture(scope="module")
def mgmt(mgmt_server):
    srv, base, pki, key = mgmt_server
    return stytch_management.Client(key["key_id"], key["secret"], base_url=base, session=_session(pki))


def _mgmt_error(status: int, error_type: str, fn: Callable, *args, **kwargs):
    with pytest.raises(stytch_management.StytchError) as e:
        fn(*args, **kwargs)
    d = e.value.details
    assert (d.status_code, d.error_type) == (status, error_type), d
    assert d.request_id and d.error_message and d.error_url, d
    return d


def _new_project(mgmt, name: str = "Acme"):
    project = mgmt.projects.create(name=name, vertical="B2B").project
    envs = {e.environment_slug: e for e in mgmt.environments.get_all(project_slug=project.project_slug).environments}
    return project, envs


def _b2b(srv, mgmt, project_slug: str, env) -> Any:
    secret = mgmt.secrets.create(project_slug=project_slug, environment_slug=env.environment_slug).secret
    return h.make_client(srv.url, env.project_id, secret.secret), secret


def test_a_workspace_key_opens_the_management_api_and_nothing_else(mgmt_server, mgmt):
    srv, base, pki, key = mgmt_server
    assert mgmt.projects.get_all().status_code == 200
    with _session(pki) as s:
        # A project's secret is not a workspace key, nor is a wrong secret.
        for auth in [(srv.project.project_id, srv.project.secret), (key["key_id"], key["secret"] + "x"), None]:
            r = s.get(base + "pwa/v3/projects", auth=auth)
            assert r.status_code == 401 and r.json()["error_type"] == "unauthorized_credentials", r.text
    # A workspace key does not open the B2B API.
    with pytest.raises(B2BError) as e:
        h.make_client(srv.url, key["key_id"], key["secret"]).organizations.search()
    assert e.value.details.status_code == 401
    # The client refuses plain HTTP outright.
    with pytest.raises(ValueError):
        stytch_management.Client(key["key_id"], key["secret"], base_url=srv.url)
    # The CLI lists and deletes keys; a deleted key is refused at once.
    other = json.loads(srv.cli("workspace-key", "create").stdout)
    listed = json.loads(srv.cli("workspace-key", "list").stdout)
    assert {k["key_id"] for k in listed} >= {key["key_id"], other["key_id"]}
    assert all("secret" not in k for k in listed)
    with _session(pki) as s:
        assert s.get(base + "pwa/v3/projects", auth=(other["key_id"], other["secret"])).status_code == 200
        assert srv.cli("workspace-key", "delete", other["key_id"]).returncode == 0
        assert s.get(base + "pwa/v3/projects", auth=(other["key_id"], other["secret"])).status_code == 401


def test_projects_and_environments_are_created_read_renamed_and_deleted(mgmt_server, mgmt):
    srv, *_ = mgmt_server
    project, envs = _new_project(mgmt, "Lifecycle")
    assert project.name == "Lifecycle" and project.vertical == "B2B" and project.created_at
    assert set(envs) == {"test", "live"}
    assert envs["test"].type == "TEST" and envs["test"].project_id.startswith("project-test-")
    assert envs["live"].type == "LIVE" and envs["live"].project_id.startswith("project-live-")
    assert envs["test"].user_lock_threshold == 10 and envs["test"].user_lock_ttl == 3600
    assert project.project_slug in {p.project_slug for p in mgmt.projects.get_all().projects}
    assert mgmt.projects.update(project_slug=project.project_slug, name="Renamed").project.name == "Renamed"
    assert mgmt.projects.get(project_slug=project.project_slug).project.name == "Renamed"

    staging = mgmt.environments.create(
        project_slug=project.project_slug, name="Staging", type="TEST", environment_slug="staging",
        cross_org_passwords_enabled=True, user_lock_threshold=3, user_lock_ttl=120,
    ).environment
    assert (staging.cross_org_passwords_enabled, staging.user_lock_threshold, staging.user_lock_ttl) == (True, 3, 120)
    updated = mgmt.environments.update(project_slug=project.project_slug, environment_slug="staging", name="Stage", user_lock_threshold=5).environment
    assert (updated.name, updated.user_lock_threshold, updated.cross_org_passwords_enabled) == ("Stage", 5, True)
    # The project appears in the CLI's list too.
    listed = json.loads(srv.cli("project", "list").stdout)
    assert staging.project_id in {p["project_id"] for p in listed}

    sdk, _ = _b2b(srv, mgmt, project.project_slug, staging)
    org = h.create_org(sdk)
    h.create_member(sdk, org.organization_id)
    metrics = mgmt.environments.get_metrics(project_slug=project.project_slug, environment_slug="staging").metrics
    assert (metrics.organization_count, metrics.member_count) == (1, 1)

    mgmt.environments.delete(project_slug=project.project_slug, environment_slug="staging")
    _mgmt_error(404, "environment_not_found", mgmt.environments.get, project_slug=project.project_slug, environment_slug="staging")
    with pytest.raises(B2BError) as e:
        sdk.organizations.search()
    assert e.value.details.status_code == 401, "a deleted environment's secret opens nothing"

    mgmt.projects.delete(project_slug=project.project_slug)
    _mgmt_error(404, "project_not_found", mgmt.projects.get, project_slug=project.project_slug)
    assert project.project_slug not in {p.project_slug for p in mgmt.projects.get_all().projects}


def test_a_secret_is_rotated_with_no_failed_call(mgmt_server, mgmt):
    srv, *_ = mgmt_server
    project, envs = _new_project(mgmt, "Rotation")
    slug, env = project.project_slug, envs["test"]
    first = mgmt.secrets.create(project_slug=slug, environment_slug="test").secret
    assert first.secret_id and first.secret
    current = {"secret": first.secret}
    failures: List[str] = []
    calls = [0]
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            sdk = h.make_client(srv.url, env.project_id, current["secret"])
            try:
                sdk.organizations.search(limit=1)
                calls[0] += 1
            except B2BError as e:  # pragma: no cover - the assertion below reports it
                failures.append(str(e.details))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(0.5)
        second = mgmt.secrets.create(project_slug=slug, environment_slug="test").secret
        time.sleep(0.5)
        current["secret"] = second.secret  # the application moves to the new secret
        time.sleep(0.5)
        mgmt.secrets.delete(project_slug=slug, environment_slug="test", secret_id=first.secret_id)
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join()
    assert failures == [] and calls[0] > 10, (failures, calls)
    masked = mgmt.secrets.get_all(project_slug=slug, environment_slug="test").secrets
    assert [(s.secret_id, s.last_four) for s in masked] == [(second.secret_id, second.secret[-4:])]
    assert mgmt.secrets.get(project_slug=slug, environment_slug="test", secret_id=second.secret_id).secret.last_four == second.secret[-4:]
    with pytest.raises(B2BError) as e:
        h.make_client(srv.url, env.project_id, first.secret).organizations.search()
    assert e.value.details.status_code == 401
    # Secrets are stored as digests only.
    rows = h.db_rows(srv, "SELECT secret_hash FROM project_secrets WHERE project_id = ?", env.project_id)
    assert rows and all(second.secret not in str(r) for r in rows)
    # Both changes are in the project's audit log, by the workspace key.
    with TimeoutSession() as s:
        deadline = time.monotonic() + 5
        while True:
            r = s.get(srv.api("/latch/v1/events"), params={"event_type": "management.secrets."}, auth=(env.project_id, second.secret))
            assert r.status_code == 200, r.text
            events = r.json()["events"]
            if len(events) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert sorted(e["event_type"] for e in events) == ["management.secrets.create"] * 2 + ["management.secrets.delete"], events
    assert all(e["actor"]["type"] == "operator" and e["outcome"] == "success" for e in events), events
    assert not any(first.secret in json.dumps(e) or second.secret in json.dumps(e) for e in events)
    # The CLI adds and deletes secrets the same way.
    added = json.loads(srv.cli("project", "secret", "create", env.project_id).stdout)
    ok(h.make_client(srv.url, env.project_id, added["secret"]).organizations.search())
    assert srv.cli("project", "secret", "delete", env.project_id, added["secret_id"]).returncode == 0
    # Another process deleted it: the server stops accepting it within its project cache's 2 s.
    deadline = time.monotonic() + 3
    while True:
        try:
            h.make_client(srv.url, env.project_id, added["secret"]).organizations.search()
        except B2BError as e:
            assert e.details.status_code == 401
            break
        assert time.monotonic() < deadline, "a deleted secret still works after 3 s"
        time.sleep(0.2)


def _strength_policy(sdk) -> str:
    return ok(sdk.passwords.strength_check(password="abc")).strength_policy


def _rbac_session(sdk, org, roles):
    import hash_vectors as hv

    email = f"m-{h.token()}@{h.unique_domain('mgmt')}"
    ok(sdk.passwords.migrate(organization_id=org.organization_id, email_address=email, roles=roles, **hv.VECTORS["md_5"](hv.PASSWORD)))
    return ok(sdk.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=hv.PASSWORD))


def _outbox_subjects(srv, project_id: str, secret: str, recipient: str) -> List[str]:
    with TimeoutSession() as s:
        r = s.get(srv.api("/latch/v1/outbox"), params={"recipient": recipient}, auth=(project_id, secret))
    assert r.status_code == 200, r.text
    return [m.get("subject") for m in r.json()["messages"]]


def test_settings_set_at_runtime_are_observed_through_the_b2b_sdk_and_another_project_keeps_its_own(mgmt_server, mgmt):
    srv, *_ = mgmt_server
    px, ex = _new_project(mgmt, "X")
    py, ey = _new_project(mgmt, "Y")
    x, x_secret = _b2b(srv, mgmt, px.project_slug, ex["test"])
    y, y_secret = _b2b(srv, mgmt, py.project_slug, ey["test"])
    slug, env = px.project_slug, "test"

    # Password strength: LUDS on X, zxcvbn (the configured default) on Y.
    assert _strength_policy(x) == "zxcvbn"
    cfg = mgmt.password_strength_config.set(
        project_slug=slug, environment_slug=env, check_breach_on_creation=False, check_breach_on_authentication=False,
        validate_on_authentication=False, validation_policy="LUDS", luds_min_password_length=12, luds_min_password_complexity=4,
    ).password_strength_config
    assert (cfg.validation_policy, cfg.luds_min_password_length, cfg.luds_min_password_complexity) == ("LUDS", 12, 4)
    report = ok(x.passwords.strength_check(password="Short1!a"))
    assert report.strength_policy == "luds" and report.valid_password is False
    assert report.luds_feedback.missing_characters == 4
    assert _strength_policy(y) == "zxcvbn"
    assert mgmt.password_strength_config.get(project_slug=slug, environment_slug=env).password_strength_config.validation_policy == "LUDS"

    # RBAC: a custom resource and role on X authorize a member of X; Y does not know the role.
    # The configured policy (rbac_policy.json) is the project's starting point; a set replaces the
    # lists it is given, so the application sends what it keeps.
    current = mgmt.rbac_policy.get(project_slug=slug, environment_slug=env).policy
    policy = mgmt.rbac_policy.set(
        project_slug=slug, environment_slug=env,
        custom_resources=[r.dict() for r in current.custom_resources]
        + [{"resource_id": "manuscripts", "description": "Docs", "available_actions": ["read", "write"]}],
        custom_roles=[r.dict() for r in current.custom_roles]
        + [{"role_id": "manuscript_editor", "description": "Edits", "permissions": [{"resource_id": "manuscripts", "actions": ["read", "write"]}]}],
    ).policy
    assert [r.role_id for r in policy.custom_roles] == [r.role_id for r in current.custom_roles] + ["manuscript_editor"]
    assert policy.stytch_member.dict() == current.stytch_member.dict(), "kept when not given"
    assert {r.resource_id for r in policy.stytch_resources} >= {"stytch.member", "stytch.organization"}
    assert [r.resource_id for r in policy.custom_resources][-1] == "manuscripts"
    assert "manuscript_editor" in {r.role_id for r in ok(x.rbac.policy()).policy.roles}
    assert "manuscript_editor" not in {r.role_id for r in ok(y.rbac.policy()).policy.roles}
    org = h.create_org(x)
    session = _rbac_session(x, org, ["manuscript_editor"])
    check = {"organization_id": org.organization_id, "resource_id": "manuscripts", "action": "write"}
    verdict = ok(x.sessions.authenticate(session_token=session.session_token, authorization_check=check)).verdict
    assert verdict.authorized and verdict.granting_roles == ["manuscript_editor"]
    y_org = h.create_org(y)

    # Redirect URLs: X allows its own login URL and refuses another; Y does not know X's URL.
    url = "https://app-x.example.com/authenticate"
    created = mgmt.redirect_urls.create(
        project_slug=slug, environment_slug=env, url=url, valid_types=[{"type": "LOGIN", "is_default": True}, {"type": "SIGNUP", "is_default": False}],
    ).redirect_url
    assert created.url == url
    assert {(t.type, t.is_default) for t in created.valid_types} == {("LOGIN", True), ("SIGNUP", True)}, "promoted: no other SIGNUP default"
    assert [u.url for u in mgmt.redirect_urls.get_all(project_slug=slug, environment_slug=env).redirect_urls] == [url]
    member_email = f"link-{h.token()}@{h.unique_domain('x')}"
    member = h.create_member(x, org.organization_id, email=member_email)
    h.expect_error(400, "invalid_login_redirect_url", x.magic_links.email.login_or_signup,
                   organization_id=org.organization_id, email_address=member_email, login_redirect_url="https://evil.example.com/authenticate")
    y_email = f"link-{h.token()}@{h.unique_domain('y')}"
    h.create_member(y, y_org.organization_id, email=y_email)
    h.expect_error(400, "invalid_login_redirect_url", y.magic_links.email.login_or_signup,
                   organization_id=y_org.organization_id, email_address=y_email, login_redirect_url=url)

    # Email templates: X's default LOGIN and SIGNUP templates render its links; Y keeps the built-in copy.
    for ty in ("LOGIN", "SIGNUP"):
        tid = f"x-{ty.lower()}"
        t = mgmt.email_templates.create(
            project_slug=slug, template_id=tid, name=f"X {ty}",
            sender_information={"from_local_part": "login", "from_domain": "x.example.com", "from_name": "X"},
            custom_html_customization={"template_type": ty, "subject": "Sign in to X ({org})", "html_content": "<a href=\"{url}\">Sign in</a>", "plaintext_content": "Sign in: {url}"},
        ).email_template
        assert t.template_id == tid and t.custom_html_customization.template_type == ty
        mgmt.email_templates.set_default(project_slug=slug, email_template_type=ty, template_id=tid)
        assert mgmt.email_templates.get_default(project_slug=slug, email_template_type=ty).template_id == tid
    ok(x.magic_links.email.login_or_signup(organization_id=org.organization_id, email_address=member_email))
    subjects = _outbox_subjects(srv, ex["test"].project_id, x_secret.secret, member.email_address)
    assert subjects and subjects[-1] == f"Sign in to X ({org.organization_name})", subjects
    ok(y.otps.email.login_or_signup(organization_id=y_org.organization_id, email_address=y_email))
    y_subjects = _outbox_subjects(srv, ey["test"].project_id, y_secret.secret, y_email)
    assert y_subjects and not any(s.startswith("Sign in to X") for s in y_subjects), y_subjects
    _mgmt_error(400, "cannot_delete_default_email_template", mgmt.email_templates.delete, project_slug=slug, template_id="x-login")

    # SMS countries: X allows only Great Britain.
    assert mgmt.country_code_allowlist.set_allowed_sms_country_codes(project_slug=slug, environment_slug=env, country_codes=["GB"]).country_codes == ["GB"]
    assert mgmt.country_code_allowlist.get_allowed_sms_country_codes(project_slug=slug, environment_slug=env).country_codes == ["GB"]
    assert mgmt.country_code_allowlist.get_allowed_sms_country_codes(project_slug=py.project_slug, environment_slug="test").country_codes == ["US", "CA"]
    assert mgmt.country_code_allowlist.get_allowed_whatsapp_country_codes(project_slug=slug, environment_slug=env).country_codes == []


def _state(mgmt, slug: str) -> Dict[str, Any]:
    env = "test"
    return {
        "project": mgmt.projects.get(project_slug=slug).project.dict(),
        "environments": sorted(json.dumps(e.dict(), sort_keys=True) for e in mgmt.environments.get_all(project_slug=slug).environments),
        "secrets": [s.dict() for s in mgmt.secrets.get_all(project_slug=slug, environment_slug=env).secrets],
        "tokens": [t.dict() for t in mgmt.public_tokens.get_all(project_slug=slug, environment_slug=env).public_tokens],
        "strength": mgmt.password_strength_config.get(project_slug=slug, environment_slug=env).password_strength_config.dict(),
        "urls": [u.dict() for u in mgmt.redirect_urls.get_all(project_slug=slug, environment_slug=env).redirect_urls],
        "rbac": mgmt.rbac_policy.get(project_slug=slug, environment_slug=env).policy.dict(),
        "sms": mgmt.country_code_allowlist.get_allowed_sms_country_codes(project_slug=slug, environment_slug=env).country_codes,
        "templates": [t.dict() for t in mgmt.email_templates.get_all(project_slug=slug).email_templates],
    }


def test_bad_input_to_every_route_gets_stytchs_error_and_changes_nothing(mgmt_server, mgmt):
    project, envs = _new_project(mgmt, "Refusals")
    slug, env = project.project_slug, "test"
    mgmt.secrets.create(project_slug=slug, environment_slug=env)
    mgmt.redirect_urls.create(project_slug=slug, environment_slug=env, url="https://ok.example.com/cb", valid_types=[{"type": "LOGIN", "is_default": True}])
    mgmt.email_templates.create(project_slug=slug, template_id="kept", prebuilt_customization={"button_color": "#112233"})
    before = _state(mgmt, slug)
    p = dict(project_slug=slug, environment_slug=env)
    strength = dict(check_breach_on_creation=True, check_breach_on_authentication=False, validate_on_authentication=False)
    cases = [
        (400, "invalid_project_name", mgmt.projects.create, dict(name="")),
        (400, "duplicate_project_slug", mgmt.projects.create, dict(name="Again", project_slug=slug)),
        (400, "invalid_argument", mgmt.projects.create, dict(name="Bad slug", project_slug="Has Spaces")),
        (400, "invalid_project_name", mgmt.projects.update, dict(project_slug=slug, name="")),
        (404, "project_not_found", mgmt.projects.get, dict(project_slug="no-such-project")),
        (404, "environment_not_found", mgmt.environments.get, dict(project_slug=slug, environment_slug="nope")),
        (400, "duplicate_environment_slug", mgmt.environments.create, dict(project_slug=slug, name="T", environment_slug="test")),
        (400, "invalid_argument", mgmt.environments.create, dict(project_slug=slug, name="T", environment_slug="new", type="STAGING")),
        (400, "invalid_user_lock_threshold", mgmt.environments.update, dict(**p, user_lock_threshold=0)),
        (400, "invalid_user_lock_ttl", mgmt.environments.update, dict(**p, user_lock_ttl=5)),
        (400, "invalid_argument", mgmt.environments.update, dict(**p, user_impersonation_enabled=True)),
        (404, "secret_not_found", mgmt.secrets.get, dict(**p, secret_id="secret-test-missing")),
        (404, "secret_not_found", mgmt.secrets.delete, dict(**p, secret_id="secret-test-missing")),
        (404, "public_token_not_found", mgmt.public_tokens.delete, dict(**p, public_token="public-token-test-missing")),
        (400, "unable_to_delete_last_public_token", mgmt.public_tokens.delete, dict(**p, public_token=before["tokens"][0]["public_token"])),
        (400, "invalid_password_strength_luds_length", mgmt.password_strength_config.set, dict(**p, **strength, validation_policy="LUDS", luds_min_password_length=4, luds_min_password_complexity=3)),
        (400, "invalid_password_strength_luds_complexity", mgmt.password_strength_config.set, dict(**p, **strength, validation_policy="LUDS", luds_min_password_length=10, luds_min_password_complexity=5)),
        (400, "invalid_argument", mgmt.password_strength_config.set, dict(**p, **strength, validation_policy="ZXCVBN", luds_min_password_length=10)),
        (400, "invalid_argument", mgmt.redirect_urls.create, dict(**p, url="not a url")),
        (400, "duplicate_redirect_url", mgmt.redirect_urls.create, dict(**p, url="https://ok.example.com/cb")),
        (400, "invalid_redirect_url_type", mgmt.redirect_urls.create, dict(**p, url="https://new.example.com/", valid_types=[{"type": "NOPE", "is_default": False}])),
        (404, "redirect_url_not_found", mgmt.redirect_urls.get, dict(**p, url="https://missing.example.com/")),
        (404, "redirect_url_not_found", mgmt.redirect_urls.delete, dict(**p, url="https://missing.example.com/")),
        (400, "invalid_stytch_prefixed_resource", mgmt.rbac_policy.set, dict(**p, custom_resources=[{"resource_id": "stytch.mine", "description": "", "available_actions": ["a"]}])),
        (400, "invalid_permission_resource", mgmt.rbac_policy.set, dict(**p, custom_roles=[{"role_id": "r", "description": "", "permissions": [{"resource_id": "ghost", "actions": ["read"]}]}])),
        (400, "rbac_role_duplicate", mgmt.rbac_policy.set, dict(**p, custom_roles=[{"role_id": "stytch_admin", "description": "", "permissions": []}])),
        (400, "country_code_allowlist_empty", mgmt.country_code_allowlist.set_allowed_sms_country_codes, dict(**p, country_codes=[])),
        (400, "country_code_allowlist_invalid_country_codes", mgmt.country_code_allowlist.set_allowed_sms_country_codes, dict(**p, country_codes=["US", "XX"])),
        (400, "country_code_allowlist_b2b_whatsapp_not_supported", mgmt.country_code_allowlist.set_allowed_whatsapp_country_codes, dict(**p, country_codes=["US"])),
        (400, "duplicate_email_template_vanity_id", mgmt.email_templates.create, dict(project_slug=slug, template_id="kept", prebuilt_customization={})),
        (400, "invalid_email_template_content", mgmt.email_templates.create, dict(project_slug=slug, template_id="bare")),
        (400, "invalid_email_template_content", mgmt.email_templates.create, dict(project_slug=slug, template_id="nosender", custom_html_customization={"template_type": "LOGIN", "subject": "s", "html_content": "<p/>"})),
        (400, "invalid_email_template_content", mgmt.email_templates.update, dict(project_slug=slug, template_id="kept", prebuilt_customization={"font_family": "COMIC_SANS"})),
        (404, "email_template_not_found", mgmt.email_templates.get, dict(project_slug=slug, template_id="missing")),
        (404, "email_template_not_found", mgmt.email_templates.set_default, dict(project_slug=slug, template_id="missing", email_template_type="LOGIN")),
        (400, "invalid_argument", mgmt.email_templates.set_default, dict(project_slug=slug, template_id="kept", email_template_type="NOPE")),
        (501, "endpoint_not_supported", mgmt.jwt_templates.get, dict(**p, jwt_template_type="SESSION")),
    ]
    for status, error_type, fn, kwargs in cases:
        _mgmt_error(status, error_type, fn, **kwargs)
    assert _state(mgmt, slug) == before


def test_a_server_configured_in_toml_reports_its_settings_for_existing_projects(latch_server_factory):
    """The upgrade path: the configured values are stored for every project at start, so a
    deployment configured with TOML keeps its behaviour and the Management API shows it."""
    pki = Pki(Path(tempfile.mkdtemp(prefix="latch-mgmt-toml-")))
    cert_file, key_file = pki.write(pki.root / "tls", "management")
    port = free_port()
    srv = latch_server_factory(
        LATCH_TLS_CERT_FILE=str(cert_file), LATCH_TLS_KEY_FILE=str(key_file), LATCH_TLS_LISTEN=f"127.0.0.1:{port}",
        LATCH_PASSWORD_STRENGTH_POLICY="luds", LATCH_PASSWORD_LUDS_MIN_LENGTH="9", LATCH_PASSWORD_LUDS_MIN_COMPLEXITY="2",
        LATCH_CROSS_ORG_PASSWORDS="true",
    )
    key = json.loads(srv.cli("workspace-key", "create").stdout)
    mgmt = stytch_management.Client(key["key_id"], key["secret"], base_url=f"https://localhost:{port}/", session=_session(pki))
    # The bootstrap project is its own workspace project, with the project as its test environment.
    slug = srv.project.project_id
    env = mgmt.environments.get(project_slug=slug, environment_slug="test").environment
    assert env.project_id == srv.project.project_id and env.cross_org_passwords_enabled is True
    cfg = mgmt.password_strength_config.get(project_slug=slug, environment_slug="test").password_strength_config
    assert (cfg.validation_policy, cfg.luds_min_password_length, cfg.luds_min_password_complexity) == ("LUDS", 9, 2)
    sdk = h.make_client(srv.url, srv.project.project_id, srv.project.secret)
    assert _strength_policy(sdk) == "luds"
    # A project made by the Management API starts with the same configured values.
    project, envs = _new_project(mgmt, "New")
    new, _ = _b2b(srv, mgmt, project.project_slug, envs["test"])
    assert _strength_policy(new) == "luds"


def test_the_remaining_routes_through_the_client(mgmt_server, mgmt):
    """Public tokens, redirect-URL update and delete (with default promotion), and email-template
    update, unset-default and delete, as the client calls them."""
    project, _ = _new_project(mgmt, "Routes")
    p = dict(project_slug=project.project_slug, environment_slug="test")
    first = mgmt.public_tokens.get_all(**p).public_tokens
    assert len(first) == 1
    token = mgmt.public_tokens.create(**p).public_token
    assert mgmt.public_tokens.get(**p, public_token=token.public_token).public_token.public_token == token.public_token
    mgmt.public_tokens.delete(**p, public_token=first[0].public_token)
    assert [t.public_token for t in mgmt.public_tokens.get_all(**p).public_tokens] == [token.public_token]

    a, b = "https://a.example.com/cb", "https://b.example.com/cb"
    mgmt.redirect_urls.create(**p, url=a, valid_types=[{"type": "LOGIN", "is_default": True}])
    mgmt.redirect_urls.create(**p, url=b, valid_types=[{"type": "LOGIN", "is_default": False}])
    got = mgmt.redirect_urls.get(**p, url=b).redirect_url
    assert [(t.type, t.is_default) for t in got.valid_types] == [("LOGIN", False)]
    updated = mgmt.redirect_urls.update(**p, url=b, valid_types=[{"type": "LOGIN", "is_default": True}, {"type": "INVITE", "is_default": False}]).redirect_url
    assert {(t.type, t.is_default) for t in updated.valid_types} == {("LOGIN", True), ("INVITE", True)}
    assert [(t.type, t.is_default) for t in mgmt.redirect_urls.get(**p, url=a).redirect_url.valid_types] == [("LOGIN", False)]
    mgmt.redirect_urls.delete(**p, url=b)
    # The deleted default's type falls to the other URL of that type.
    assert [(t.type, t.is_default) for t in mgmt.redirect_urls.get(**p, url=a).redirect_url.valid_types] == [("LOGIN", True)]
    _mgmt_error(404, "redirect_url_not_found", mgmt.redirect_urls.get, **p, url=b)

    slug = project.project_slug
    mgmt.email_templates.create(project_slug=slug, template_id="brand", prebuilt_customization={"button_color": "#000000"})
    t = mgmt.email_templates.update(project_slug=slug, template_id="brand", name="Brand", prebuilt_customization={"button_color": "#ffffff", "font_family": "ARIAL"}).email_template
    assert (t.name, t.prebuilt_customization.button_color, t.prebuilt_customization.font_family) == ("Brand", "#ffffff", "ARIAL")
    mgmt.email_templates.set_default(project_slug=slug, email_template_type="LOGIN", template_id="brand")
    mgmt.email_templates.unset_default(project_slug=slug, email_template_type="LOGIN")
    _mgmt_error(404, "email_template_not_found", mgmt.email_templates.get_default, project_slug=slug, email_template_type="LOGIN")
    mgmt.email_templates.delete(project_slug=slug, template_id="brand")
    assert mgmt.email_templates.get_all(project_slug=slug).email_templates == []
