"""RBAC (rbac.md): the project policy, organization policies (get / set / validation), and the
central property: the SDK's local authorization check (authenticate_jwt_local with an
AuthorizationCheck) and the server's check (sessions.authenticate with authorization_check)
give the same answer for every case of a table of roles x org policies x checks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

import latch_helpers as h
from latch_helpers import expect_error, ok
from stytch.b2b.models.rbac import OrgPolicy
from stytch.b2b.models.sessions import AuthorizationCheck
from stytch.core.response_base import StytchError
from stytch.shared.rbac_local import RBACPermissionError, TenancyError

PASSWORD = "Latch rbac tests: copper-meadow-3318!"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()

CUSTOM_ROLES = {"editor", "billing_admin", "member_manager"}
STYTCH_RESOURCES = {"stytch.organization", "stytch.member", "stytch.sso", "stytch.scim", "stytch.self"}


# ---------------------------------------------------------------------------------------------
# helpers (kept local to this module on purpose)


def _session(client, org, email: Optional[str] = None, roles: Optional[List[str]] = None):
    email = email or f"r-{h.token()}@{h.unique_domain('rbac')}"
    kw: Dict[str, Any] = {"roles": roles} if roles is not None else {}
    migrated = ok(
        client.passwords.migrate(email_address=email, hash=MD5, hash_type="md_5", organization_id=org.organization_id, **kw)
    )
    resp = ok(client.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=PASSWORD))
    return SimpleNamespace(org=org, member_id=migrated.member_id, token=resp.session_token, jwt=resp.session_jwt, ms=resp.member_session)


def _fresh(server):
    """A new SDK client: empty JWKS and policy caches (Python caches policies for 600 s)."""
    return h.make_client(server.url, server.project.project_id, server.project.secret)


def _role(role_id: str, *perms: Tuple[str, List[str]], description: str = "") -> Dict[str, Any]:
    return {
        "role_id": role_id,
        "description": description or f"{role_id} role",
        "permissions": [{"resource_id": r, "actions": list(a)} for r, a in perms],
    }


def _org_roles(client, org_id: str) -> List[Dict[str, Any]]:
    resp = ok(client.rbac.organizations.get_org_policy(organization_id=org_id))
    return [r.model_dump() for r in resp.org_policy.roles]


def _norm(roles: List[Any]) -> List[Dict[str, Any]]:
    out = []
    for r in roles:
        d = r if isinstance(r, dict) else r.model_dump()
        out.append(
            {
                "role_id": d["role_id"],
                "description": d["description"],
                "permissions": [{"resource_id": p["resource_id"], "actions": list(p["actions"])} for p in d["permissions"]],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# project policy


def test_project_policy(client):
    resp = ok(client.rbac.policy())
    policy = resp.policy
    assert policy is not None
    roles = {r.role_id: r for r in policy.roles}
    assert {"stytch_member", "stytch_admin"} | CUSTOM_ROLES <= set(roles)
    assert len(roles) == len(policy.roles), "role ids must be unique"
    resources = {r.resource_id: r for r in policy.resources}
    assert STYTCH_RESOURCES | {"documents", "billing"} <= set(resources)
    assert len(resources) == len(policy.resources)
    assert policy.scopes == []
    assert resources["documents"].actions == ["read", "write", "delete"]
    assert resources["billing"].actions == ["view", "manage"]
    for r in policy.resources:
        assert isinstance(r.description, str) and r.actions and all(isinstance(a, str) and a for a in r.actions)
    assert "update.info.name" in resources["stytch.organization"].actions
    assert {"create", "search", "delete", "update.settings.roles"} <= set(resources["stytch.member"].actions)
    assert "delete" in resources["stytch.self"].actions

    def perms(role_id):
        return {(p.resource_id, tuple(p.actions)) for p in roles[role_id].permissions}

    # The policy file's additions to stytch_member are merged with its defaults.
    assert ("documents", ("read",)) in perms("stytch_member")
    assert any(res == "stytch.self" for res, _ in perms("stytch_member"))
    assert perms("editor") == {("documents", ("read", "write"))}
    assert perms("billing_admin") == {("billing", ("*",))}
    assert perms("member_manager") == {("stytch.member", ("create", "update.info.name", "search", "delete"))}
    admin_resources = {res for res, _ in perms("stytch_admin")}
    assert STYTCH_RESOURCES <= admin_resources


# ---------------------------------------------------------------------------------------------
# organization policies


def test_org_policy_is_empty_by_default(client):
    org = h.create_org(client)
    assert ok(client.rbac.organizations.get_org_policy(organization_id=org.organization_id)).org_policy.roles == []
    assert ok(client.rbac.organizations.get_org_policy(organization_id=org.organization_slug)).org_policy.roles == []
    expect_error(404, "organization_not_found", client.rbac.organizations.get_org_policy, organization_id="organization-test-nope")


def test_set_org_policy_stores_and_replaces_roles(client):
    org, neighbour = h.create_org(client), h.create_org(client)
    roles = [
        _role("org-auditor", ("documents", ["read"]), ("billing", ["view"]), description="Reads things"),
        _role("org-finance", ("billing", ["*"])),
        _role("org-recruiter", ("stytch.member", ["create", "search"])),
    ]
    client.rbac.organizations.validate_org_policy(ok(client.rbac.policy()).policy, OrgPolicy(roles=roles))  # SDK: valid
    resp = ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_id, org_policy={"roles": roles}))
    assert _norm(resp.org_policy.roles) == roles
    assert _norm(_org_roles(client, org.organization_id)) == roles
    assert _norm(_org_roles(client, org.organization_slug)) == roles
    assert _org_roles(client, neighbour.organization_id) == []
    # The SDK model is accepted as well; set replaces everything.
    replacement = OrgPolicy(roles=[_role("org-reader", ("documents", ["read"]))])
    ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_slug, org_policy=replacement))
    assert _norm(_org_roles(client, org.organization_id)) == [_role("org-reader", ("documents", ["read"]))]
    ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_id, org_policy={"roles": []}))
    assert _org_roles(client, org.organization_id) == []
    # The project policy never changes.
    assert not {"org-auditor", "org-reader"} & {r.role_id for r in ok(client.rbac.policy()).policy.roles}
    expect_error(
        404,
        "organization_not_found",
        client.rbac.organizations.set_org_policy,
        organization_id="organization-test-nope",
        org_policy={"roles": roles},
    )


SDK_VALIDATOR_MESSAGES = (
    r"^(Duplicate role|Role .* already defined|Resource .* not defined|No actions defined|Wildcard actions|"
    r"Empty action|Unknown action)"
)

REFUSED_ORG_POLICIES = [
    ("duplicate role", [_role("org-x", ("documents", ["read"])), _role("org-x", ("billing", ["view"]))], "rbac_role_duplicate"),
    ("custom project role", [_role("editor", ("documents", ["read"]))], "rbac_role_duplicate"),
    ("stytch_member", [_role("stytch_member", ("documents", ["write"]))], "rbac_role_duplicate"),
    ("stytch_admin", [_role("stytch_admin", ("documents", ["write"]))], "rbac_role_duplicate"),
    ("unknown resource", [_role("org-x", ("nowhere", ["read"]))], "invalid_permission_resource"),
    ("unknown stytch resource", [_role("org-x", ("stytch.nothing", ["read"]))], "invalid_permission_resource"),
    ("empty actions", [_role("org-x", ("documents", []))], "invalid_permission_action"),
    ("unknown action", [_role("org-x", ("documents", ["publish"]))], "invalid_permission_action"),
    ("action of another resource", [_role("org-x", ("billing", ["read"]))], "invalid_permission_action"),
    ("blank action", [_role("org-x", ("documents", [""]))], "invalid_permission_action"),
    ("wildcard plus action", [_role("org-x", ("documents", ["*", "read"]))], "invalid_wildcard_action"),
    ("action plus wildcard", [_role("org-x", ("billing", ["view", "*"]))], "invalid_wildcard_action"),
    (
        "valid role then invalid role",
        [_role("org-ok", ("documents", ["read"])), _role("org-bad", ("documents", ["publish"]))],
        "invalid_permission_action",
    ),
]


@pytest.mark.parametrize("case", REFUSED_ORG_POLICIES, ids=[c[0] for c in REFUSED_ORG_POLICIES])
def test_set_org_policy_refusals(client, case):
    _name, roles, error_type = case
    org = h.create_org(client)
    stored = [_role("org-existing", ("documents", ["read", "write"]))]
    ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_id, org_policy={"roles": stored}))
    expect_error(
        400,
        error_type,
        client.rbac.organizations.set_org_policy,
        organization_id=org.organization_id,
        org_policy={"roles": roles},
    )
    assert _norm(_org_roles(client, org.organization_id)) == stored, "a refused org policy must not be stored"
    # The SDK's own validator refuses the same policy.
    project_policy = ok(client.rbac.policy()).policy
    with pytest.raises(Exception, match=SDK_VALIDATOR_MESSAGES):
        client.rbac.organizations.validate_org_policy(project_policy, OrgPolicy(roles=roles))


# ---------------------------------------------------------------------------------------------
# THE TABLE: local (SDK) and server authorization checks agree

OWN, OTHER, GHOST, SLUG = "own", "other", "ghost", "slug"
DENY, TENANCY = "deny", "tenancy"
Expected = Union[List[str], str]  # granting roles when allowed, else DENY / TENANCY


@dataclass
class Scenario:
    name: str
    roles: List[str]
    checks: List[Tuple[str, str, str, Expected]]
    org_roles: Optional[List[Dict[str, Any]]] = None
    foreign_org_roles: Optional[List[Dict[str, Any]]] = None  # set on a *different* organization
    implicit: Optional[str] = None  # role granted through an email-domain implicit assignment
    extra: Dict[str, Any] = field(default_factory=dict)


ORG_DOCS_ADMIN = _role("org-docs-admin", ("documents", ["*"]), ("stytch.member", ["search"]))
ORG_BILLING_VIEWER = _role("org-billing-viewer", ("billing", ["view"]))

SCENARIOS = [
    Scenario(
        "plain member",
        [],
        [
            ("stytch.self", "update.info.name", OWN, ["stytch_member"]),
            ("stytch.self", "update.info.untrusted-metadata", OWN, ["stytch_member"]),
            ("stytch.self", "update.settings.mfa-enrolled", OWN, ["stytch_member"]),
            ("stytch.self", "delete", OWN, ["stytch_member"]),
            ("documents", "read", OWN, ["stytch_member"]),
            ("documents", "write", OWN, DENY),
            ("documents", "delete", OWN, DENY),
            ("billing", "view", OWN, DENY),
            ("stytch.member", "delete", OWN, DENY),
            ("stytch.member", "search", OWN, DENY),
            ("stytch.organization", "update.info.name", OWN, DENY),
            ("stytch.organization", "delete", OWN, DENY),
            ("nonexistent-resource", "read", OWN, DENY),
            ("documents", "read", OTHER, TENANCY),
            ("stytch.self", "delete", OTHER, TENANCY),
            ("documents", "read", GHOST, TENANCY),
            ("documents", "read", SLUG, TENANCY),
        ],
    ),
    Scenario(
        "editor",
        ["editor"],
        [
            ("documents", "read", OWN, ["stytch_member", "editor"]),
            ("documents", "write", OWN, ["editor"]),
            ("documents", "delete", OWN, DENY),
            ("documents", "*", OWN, DENY),
            ("documents", "WRITE", OWN, DENY),
            ("billing", "view", OWN, DENY),
            ("documents", "write", OTHER, TENANCY),
        ],
    ),
    Scenario(
        "billing_admin wildcard",
        ["billing_admin"],
        [
            ("billing", "view", OWN, ["billing_admin"]),
            ("billing", "manage", OWN, ["billing_admin"]),
            ("billing", "refund-everything", OWN, ["billing_admin"]),
            ("documents", "write", OWN, DENY),
            ("billing", "view", OTHER, TENANCY),
        ],
    ),
    Scenario(
        "member_manager",
        ["member_manager"],
        [
            ("stytch.member", "create", OWN, ["member_manager"]),
            ("stytch.member", "search", OWN, ["member_manager"]),
            ("stytch.member", "update.info.name", OWN, ["member_manager"]),
            ("stytch.member", "update.settings.roles", OWN, DENY),
            ("stytch.member", "update", OWN, DENY),
            ("stytch.organization", "update.info.name", OWN, DENY),
        ],
    ),
    Scenario(
        "org-scoped role from set_org_policy",
        ["org-docs-admin"],
        [
            ("documents", "delete", OWN, ["org-docs-admin"]),
            ("documents", "read", OWN, ["stytch_member", "org-docs-admin"]),
            ("stytch.member", "search", OWN, ["org-docs-admin"]),
            ("stytch.member", "delete", OWN, DENY),
            ("billing", "view", OWN, DENY),
            ("documents", "delete", OTHER, TENANCY),
        ],
        org_roles=[ORG_DOCS_ADMIN, ORG_BILLING_VIEWER],
    ),
    Scenario(
        "org-scoped role of another organization grants nothing",
        ["org-docs-admin"],
        [
            ("documents", "delete", OWN, DENY),
            ("documents", "read", OWN, ["stytch_member"]),
            ("stytch.member", "search", OWN, DENY),
        ],
        foreign_org_roles=[ORG_DOCS_ADMIN],
    ),
    Scenario(
        "role unknown to the policy",
        ["ghost-role", "documents"],
        [
            ("documents", "write", OWN, DENY),
            ("documents", "read", OWN, ["stytch_member"]),
            ("ghost-role", "read", OWN, DENY),
        ],
    ),
    Scenario(
        "stytch_admin",
        ["stytch_admin"],
        [
            ("stytch.organization", "update.info.name", OWN, ["stytch_admin"]),
            ("stytch.organization", "delete", OWN, ["stytch_admin"]),
            ("stytch.member", "create", OWN, ["stytch_admin"]),
            ("stytch.member", "update.settings.roles", OWN, ["stytch_admin"]),
            ("stytch.member", "delete", OWN, ["stytch_admin"]),
            ("stytch.sso", "create", OWN, ["stytch_admin"]),
            ("stytch.scim", "update", OWN, ["stytch_admin"]),
            ("stytch.self", "delete", OWN, ["stytch_member", "stytch_admin"]),
            # Custom resources only through the roles that name them.
            ("documents", "read", OWN, ["stytch_member"]),
            ("documents", "delete", OWN, DENY),
            ("billing", "manage", OWN, DENY),
            ("stytch.organization", "delete", OTHER, TENANCY),
            ("stytch.member", "create", GHOST, TENANCY),
        ],
    ),
    Scenario(
        "email-implicit role",
        [],
        [
            ("documents", "write", OWN, ["editor"]),
            ("documents", "read", OWN, ["stytch_member", "editor"]),
            ("documents", "delete", OWN, DENY),
        ],
        implicit="editor",
    ),
    Scenario(
        "several roles incl. org-scoped",
        ["editor", "billing_admin", "member_manager", "org-billing-viewer"],
        [
            ("documents", "read", OWN, ["stytch_member", "editor"]),
            ("billing", "view", OWN, ["billing_admin", "org-billing-viewer"]),
            ("billing", "manage", OWN, ["billing_admin"]),
            ("stytch.member", "search", OWN, ["member_manager"]),
            ("stytch.member", "update.settings.roles", OWN, DENY),
            ("billing", "view", OTHER, TENANCY),
        ],
        org_roles=[ORG_BILLING_VIEWER],
    ),
]


def _local_outcome(fresh_client, session_jwt: str, check: AuthorizationCheck) -> str:
    try:
        got = fresh_client.sessions.authenticate_jwt_local(session_jwt=session_jwt, authorization_check=check)
    except TenancyError:
        return TENANCY
    except RBACPermissionError:
        return DENY
    assert got is not None, "local verification of a genuine, fresh JWT returned None"
    return "allow"


def _server_outcome(client, check: Dict[str, str], **session) -> Tuple[str, Optional[List[str]]]:
    try:
        resp = client.sessions.authenticate(authorization_check=check, **session)
    except StytchError as e:
        d = e.details
        kind = {
            (403, "session_authorization_error"): DENY,
            (403, "session_authorization_tenancy_error"): TENANCY,
        }.get((d.status_code, d.error_type))
        assert kind is not None, f"unexpected server error {d.status_code} {d.error_type}: {d.error_message}"
        h.check_error_envelope(d)
        return kind, None
    ok(resp)
    assert resp.verdict is not None and resp.verdict.authorized is True, resp.verdict
    return "allow", sorted(resp.verdict.granting_roles)


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_local_and_server_authorization_agree(client, server, sc: Scenario):
    create_kwargs: Dict[str, Any] = {}
    domain = h.unique_domain("implicit")
    if sc.implicit:
        create_kwargs["rbac_email_implicit_role_assignments"] = [{"domain": domain, "role_id": sc.implicit}]
    org = h.create_org(client, **create_kwargs)
    other = h.create_org(client)
    if sc.org_roles is not None:
        ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_id, org_policy={"roles": sc.org_roles}))
    if sc.foreign_org_roles is not None:
        ok(client.rbac.organizations.set_org_policy(organization_id=other.organization_id, org_policy={"roles": sc.foreign_org_roles}))
    s = _session(client, org, email=f"t-{h.token()}@{domain}", roles=sc.roles)
    expected_roles = {"stytch_member", *sc.roles, *([sc.implicit] if sc.implicit else [])}
    assert sorted(s.ms.roles) == sorted(expected_roles)
    fresh = _fresh(server)
    targets = {
        OWN: org.organization_id,
        OTHER: other.organization_id,
        GHOST: "organization-test-00000000-0000-4000-8000-000000000000",
        SLUG: org.organization_slug,
    }
    problems = []
    for resource, action, target, expected in sc.checks:
        org_id = targets[target]
        label = f"{resource}:{action} @{target}"
        local = _local_outcome(fresh, s.jwt, AuthorizationCheck(organization_id=org_id, resource_id=resource, action=action))
        check = {"organization_id": org_id, "resource_id": resource, "action": action}
        by_jwt = _server_outcome(client, check, session_jwt=s.jwt)
        by_token = _server_outcome(client, check, session_token=s.token)
        want = ("allow", sorted(expected)) if isinstance(expected, list) else (expected, None)
        if local != want[0]:
            problems.append(f"{label}: local SDK check says {local}, expected {want[0]}")
        if by_jwt != want:
            problems.append(f"{label}: server (session_jwt) says {by_jwt}, expected {want}")
        if by_token != want:
            problems.append(f"{label}: server (session_token) says {by_token}, expected {want}")
    assert not problems, "\n".join(problems)
    # None of those checks changed the session.
    still = ok(client.sessions.get(organization_id=org.organization_id, member_id=s.member_id)).member_sessions
    assert [x.expires_at for x in still] == [s.ms.expires_at]


# ---------------------------------------------------------------------------------------------
# what happens when roles or policies change after a JWT was minted


def test_role_changes_apply_on_the_server_at_once_and_locally_with_a_new_jwt(client, server):
    org = h.create_org(client)
    s = _session(client, org, roles=["editor"])
    write = {"organization_id": org.organization_id, "resource_id": "documents", "action": "write"}
    write_check = AuthorizationCheck(**write)
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=s.member_id, roles=[]))
    # The old JWT still carries "editor": local verification cannot know better until it expires.
    assert _local_outcome(_fresh(server), s.jwt, write_check) == "allow"
    # The server decides with the member's current roles, whichever credential is presented.
    assert _server_outcome(client, write, session_jwt=s.jwt) == (DENY, None)
    assert _server_outcome(client, write, session_token=s.token) == (DENY, None)
    fresh_jwt = ok(client.sessions.authenticate(session_token=s.token)).session_jwt
    assert _local_outcome(_fresh(server), fresh_jwt, write_check) == DENY
    # Granting works the same way round.
    ok(client.organizations.members.update(organization_id=org.organization_id, member_id=s.member_id, roles=["editor"]))
    assert _local_outcome(_fresh(server), fresh_jwt, write_check) == DENY
    assert _server_outcome(client, write, session_jwt=fresh_jwt) == ("allow", ["editor"])
    newest = ok(client.sessions.authenticate(session_jwt=fresh_jwt))
    assert sorted(newest.member_session.roles) == ["editor", "stytch_member"]
    assert _local_outcome(_fresh(server), newest.session_jwt, write_check) == "allow"


def test_org_policy_changes_apply_to_existing_jwts(client, server):
    org = h.create_org(client)
    ok(
        client.rbac.organizations.set_org_policy(
            organization_id=org.organization_id, org_policy={"roles": [_role("org-writer", ("documents", ["read"]))]}
        )
    )
    s = _session(client, org, roles=["org-writer"])
    write = {"organization_id": org.organization_id, "resource_id": "documents", "action": "write"}
    assert _local_outcome(_fresh(server), s.jwt, AuthorizationCheck(**write)) == DENY
    assert _server_outcome(client, write, session_jwt=s.jwt) == (DENY, None)
    ok(
        client.rbac.organizations.set_org_policy(
            organization_id=org.organization_id,
            org_policy={"roles": [_role("org-writer", ("documents", ["read", "write"]))]},
        )
    )
    # Same JWT, new policy: a client without cached policies and the server both allow.
    assert _local_outcome(_fresh(server), s.jwt, AuthorizationCheck(**write)) == "allow"
    assert _server_outcome(client, write, session_jwt=s.jwt) == ("allow", ["org-writer"])
    ok(client.rbac.organizations.set_org_policy(organization_id=org.organization_id, org_policy={"roles": []}))
    assert _local_outcome(_fresh(server), s.jwt, AuthorizationCheck(**write)) == DENY
    assert _server_outcome(client, write, session_token=s.token) == (DENY, None)
