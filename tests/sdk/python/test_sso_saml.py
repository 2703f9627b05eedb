"""Enterprise SSO over SAML 2.0 (sso.md), against a real SAML identity provider: pysaml2's IdP
(saml_idp.py) with its own key, its metadata served on loopback. The browser's part is done with
`requests` (the redirect to the IdP, the IdP's form POST to the ACS URL, the redirect to the
application); everything an application does goes through the official Python SDK.

Connections: sso.saml.create_connection / update_connection / update_by_url /
delete_verification_certificate / delete_encryption_private_key, sso.get_connections,
sso.delete_connection, and the SP metadata document. Login: GET /v1/public/sso/start → the IdP
(HTTP-Redirect AuthnRequest, signed) → POST {acs_url} (SAMLResponse, RelayState) → the
application's redirect URL with a one-time token → sso.authenticate. IdP-initiated logins, roles
from the connection and from groups, encrypted assertions, and the refusals (saml_forge.py): each
with its error type, and nothing written.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

import latch_helpers as h
import saml_forge as F
from latch_helpers import expect_error, ok
from saml_idp import (AES128_CBC, AES256_CBC, AES256_GCM, ATTR_DEPT, ATTR_EMAIL, ATTR_FULL, MAPPING, NS,
                      TRIPLEDES_CBC, SamlIdp, new_id, new_keypair, post, public_key_of, user)
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT
from stytch.b2b.models import organizations_members as member_models
from stytch.shared.method_options import Authorization
from test_scim import jwt_roles, session_for
from test_sso_oidc import REDIRECT, _public_token, _start, _token


# ---------------------------------------------------------------- the provider


@pytest.fixture(scope="module")
def idp():
    p = SamlIdp()
    yield p
    p.stop()


LANDING = "https://landing.example.com/sso"  # the default login and signup URL of `defaults`' projects


@pytest.fixture(scope="module")
def defaults(latch_server_factory, tmp_path_factory):
    """A server whose projects have a default login and signup redirect URL: where IdP-initiated
    sign-ins go (the suite's shared server has allowed URLs but no defaults)."""
    cfg = tmp_path_factory.mktemp("saml-defaults") / "latch.toml"
    cfg.write_text(f'[[redirect_urls]]\nurl = "{LANDING}"\ntypes = ["login", "signup"]\n'
                   f'default_types = ["login", "signup"]\n')
    srv = latch_server_factory(LATCH_CONFIG=str(cfg))
    return SimpleNamespace(server=srv, client=h.make_client(srv.url, srv.project.project_id, srv.project.secret))


# ---------------------------------------------------------------- helpers


def _http_get(url: str) -> requests.Response:
    with h.TimeoutSession() as s:
        return s.get(url)


def _mail(local: str = "saml", domain: Optional[str] = None) -> str:
    return f"{local}-{h.token()}@{domain or h.unique_domain('saml')}"


def _conns(client, org_id: str) -> List[Any]:
    return ok(client.sso.get_connections(organization_id=org_id)).saml_connections


def _conn(client, org_id: str, connection_id: str):
    found = [c for c in _conns(client, org_id) if c.connection_id == connection_id]
    assert len(found) == 1, _conns(client, org_id)
    return found[0]


def _connection(client, idp, org_id: str, **overrides):
    """A SAML connection of `org_id` made active with the IdP's values."""
    c = ok(client.sso.saml.create_connection(organization_id=org_id, display_name="Acme SAML")).connection
    fields: Dict[str, Any] = dict(idp_entity_id=idp.entity_id, idp_sso_url=idp.sso_url,
                                  x509_certificate=idp.keys.cert_pem, attribute_mapping=MAPPING)
    fields.update(overrides)
    up = ok(client.sso.saml.update_connection(organization_id=org_id, connection_id=c.connection_id, **fields))
    return up.connection


def _trip(server, idp, conn, pt: str, **params) -> Tuple[requests.Session, Any]:
    """The browser asks Latch to start; the IdP reads (and verifies) the AuthnRequest."""
    params.setdefault("connection_id", conn.connection_id)
    s, r = _start(server, pt, **params)
    assert r.status_code == 302, r.text
    return s, idp.read_request(r.headers["Location"], conn)


def _members(client, org_id: str) -> List[Any]:
    return ok(client.organizations.members.search(organization_ids=[org_id])).members


def _emails(client, org_id: str) -> List[str]:
    return sorted(m.email_address for m in _members(client, org_id))


def _sign_in(server, idp, conn, pt: str, email: str, attrs=None, **params):
    """A whole SP-initiated login with a genuine (pysaml2-signed) response. Returns the ACS answer."""
    s, req = _trip(server, idp, conn, pt, **params)
    xml = idp.response(conn, email, user(email) if attrs is None else attrs, req.id)
    return post(s, conn.acs_url, xml, req.relay_state)


def _saml_factor(session) -> Any:
    fs = [f for f in session.authentication_factors if f.type == "sso"]
    assert len(fs) == 1, session.authentication_factors
    assert fs[0].delivery_method == "sso_saml", fs[0]
    assert fs[0].saml_sso_factor is not None, fs[0]
    return fs[0].saml_sso_factor


def _error(answer: requests.Response, status: int, error_type: str) -> Dict[str, Any]:
    assert "Location" not in answer.headers, f"refused answers redirect nowhere: {answer.headers}"
    return h.check_raw_error(answer, status, error_type)


# ---------------------------------------------------------------- connections


def test_a_new_connection_is_pending_with_its_urls_and_a_signing_certificate(client, server):
    org = h.create_org(client)
    c = ok(client.sso.saml.create_connection(organization_id=org.organization_id, display_name="IdP",
                                             identity_provider="okta")).connection
    assert c.connection_id.startswith("saml-connection-"), c.connection_id
    assert c.status == "pending"
    assert c.organization_id == org.organization_id
    callback = server.api(f"/v1/b2b/sso/callback/{c.connection_id}")
    assert c.acs_url == callback and c.audience_uri == callback
    assert (c.display_name, c.identity_provider, c.idp_entity_id, c.idp_sso_url) == ("IdP", "okta", "", "")
    assert c.nameid_format == NAMEID_FORMAT_EMAILADDRESS
    assert c.verification_certificates == [] and c.encryption_private_keys == []
    assert len(c.signing_certificates) == 1
    sc = c.signing_certificates[0]
    assert sc.certificate.startswith("-----BEGIN CERTIFICATE-----") and sc.certificate_id
    public_key_of(sc.certificate)  # a real certificate
    assert not c.idp_initiated_auth_disabled
    got = ok(client.sso.get_connections(organization_id=org.organization_id))
    assert [x.connection_id for x in got.saml_connections] == [c.connection_id]
    assert got.oidc_connections == [] and got.external_connections == []
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert org_now.sso_active_connections == []


def test_the_idp_values_activate_the_connection(client, idp):
    org = h.create_org(client)
    c = ok(client.sso.saml.create_connection(organization_id=org.organization_id, display_name="Acme")).connection
    steps = [
        dict(idp_entity_id=idp.entity_id),
        dict(idp_sso_url=idp.sso_url),
        dict(x509_certificate=idp.keys.cert_pem),
        dict(attribute_mapping=MAPPING),
    ]
    for i, step in enumerate(steps):
        up = ok(client.sso.saml.update_connection(organization_id=org.organization_id,
                                                  connection_id=c.connection_id, **step)).connection
        assert up.status == ("active" if i == len(steps) - 1 else "pending"), (step, up.status)
    assert (up.idp_entity_id, up.idp_sso_url) == (idp.entity_id, idp.sso_url)
    assert up.attribute_mapping == MAPPING
    assert len(up.verification_certificates) == 1
    vc = up.verification_certificates[0]
    assert vc.certificate_id and public_key_of(vc.certificate).public_numbers() == \
        idp.keys.key.public_key().public_numbers()
    assert vc.expires_at is not None
    assert _conn(client, org.organization_id, c.connection_id).status == "active"
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert [(a.connection_id, a.display_name) for a in org_now.sso_active_connections] == [(c.connection_id, "Acme")]
    assert org_now.sso_default_connection_id == c.connection_id


def test_the_sp_metadata_document(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    r = _http_get(server.api(f"/v1/b2b/sso/saml/metadata/{c.connection_id}"))
    assert r.status_code == 200, r.text
    md = etree.fromstring(r.content)
    assert md.tag == f"{{{NS['md']}}}EntityDescriptor"
    assert md.get("entityID") == c.audience_uri
    sp = md.find("md:SPSSODescriptor", NS)
    assert sp is not None
    acs = sp.findall("md:AssertionConsumerService", NS)
    assert [(a.get("Binding"), a.get("Location")) for a in acs] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", c.acs_url)]
    certs = {kd.get("use"): kd.findtext(".//ds:X509Certificate", namespaces=NS).strip().replace("\n", "")
             for kd in sp.findall("md:KeyDescriptor", NS)}
    want = "".join(l for l in c.signing_certificates[0].certificate.strip().splitlines() if "-----" not in l)
    assert certs.get("signing") == want, certs
    # Unknown connection: not found.
    r = _http_get(server.api("/v1/b2b/sso/saml/metadata/saml-connection-test-nope"))
    assert r.status_code == 404, r.text


def test_update_by_url_reads_the_idp_metadata(client, idp):
    org = h.create_org(client)
    c = ok(client.sso.saml.create_connection(organization_id=org.organization_id)).connection
    up = ok(client.sso.saml.update_by_url(organization_id=org.organization_id, connection_id=c.connection_id,
                                          metadata_url=idp.metadata_url)).connection
    assert (up.idp_entity_id, up.idp_sso_url) == (idp.entity_id, idp.sso_url)
    assert [public_key_of(v.certificate).public_numbers() for v in up.verification_certificates] == [
        idp.keys.key.public_key().public_numbers()]
    assert up.status == "pending", "no attribute mapping yet"
    up = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                              attribute_mapping=MAPPING)).connection
    assert up.status == "active"


@pytest.mark.parametrize("url,error", [
    ("not a url", "invalid_saml_metadata_url"),
    ("ftp://127.0.0.1/metadata", "invalid_saml_metadata_url"),
    ("NOT_METADATA", "invalid_xml_from_saml_metadata_url"),
])
def test_update_by_url_refusals_change_nothing(client, idp, url, error):
    org = h.create_org(client)
    c = ok(client.sso.saml.create_connection(organization_id=org.organization_id, display_name="before")).connection
    if url == "NOT_METADATA":
        url = idp.not_metadata_url
    expect_error(400, error, client.sso.saml.update_by_url, organization_id=org.organization_id,
                 connection_id=c.connection_id, metadata_url=url)
    again = _conn(client, org.organization_id, c.connection_id)
    assert (again.idp_entity_id, again.idp_sso_url, again.verification_certificates) == ("", "", [])


def _ec_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


BAD_VALUES = [
    ("x509_certificate", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", 400,
     "invalid_x509_certificate"),
    ("x509_certificate", "hello", 400, "invalid_x509_certificate"),
    ("idp_sso_url", "not a url", 400, "saml_connection_idp_sso_url_invalid_format"),
    ("attribute_mapping", {"email": {"nested": "x"}}, 400, "saml_connection_no_nested_keys_in_attribute_mapping"),
    ("saml_group_implicit_role_assignments", [{"role_id": "editor", "group": "eng"}], 400,
     "saml_connection_attribute_mapping_missing_groups_key"),
    ("signing_private_key", "PKCS8", 400, "saml_signing_private_key_format_not_supported"),
    ("signing_private_key", "EC", 400, "saml_signing_private_key_format_not_supported"),
    ("signing_private_key", "-----BEGIN RSA PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END RSA PRIVATE KEY-----\n", 400,
     "saml_signing_private_key_invalid"),
    ("saml_encryption_private_key", "PKCS8", 400, "saml_signing_private_key_format_not_supported"),
    ("saml_encryption_private_key", "garbage", 400, "saml_signing_private_key_invalid"),
    ("identity_provider", "myspace", 400, "invalid_sso_idp"),
]


@pytest.mark.parametrize("field,value,status,error", BAD_VALUES, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD_VALUES)])
def test_bad_connection_values_are_refused_and_change_nothing(client, idp, field, value, status, error):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id, attribute_mapping={"email": ATTR_EMAIL})
    before = _conn(client, org.organization_id, c.connection_id)
    if value == "PKCS8":
        value = new_keypair().key_pem
    elif value == "EC":
        value = _ec_pem()
    expect_error(status, error, client.sso.saml.update_connection, organization_id=org.organization_id,
                 connection_id=c.connection_id, display_name="changed", **{field: value})
    after = _conn(client, org.organization_id, c.connection_id)
    assert after == before, f"a refused update changed the connection:\n{before}\n{after}"


def test_unknown_roles_are_refused(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    before = _conn(client, org.organization_id, c.connection_id)
    for kw in (dict(saml_connection_implicit_role_assignments=[{"role_id": "no-such-role"}]),
               dict(saml_group_implicit_role_assignments=[{"role_id": "no-such-role", "group": "eng"}])):
        d = h.expect_error_status(400, client.sso.saml.update_connection, organization_id=org.organization_id,
                                  connection_id=c.connection_id, **kw)
        assert "role" in d.error_type, d.error_type
    assert _conn(client, org.organization_id, c.connection_id) == before


def test_verification_certificates_at_most_five_and_never_the_last_of_an_active_connection(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    for _ in range(4):
        c = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                                 x509_certificate=new_keypair("other IdP").cert_pem)).connection
    assert len(c.verification_certificates) == 5
    expect_error(400, "too_many_sso_verification_certificates", client.sso.saml.update_connection,
                 organization_id=org.organization_id, connection_id=c.connection_id,
                 x509_certificate=new_keypair("sixth").cert_pem)
    assert len(_conn(client, org.organization_id, c.connection_id).verification_certificates) == 5
    expect_error(404, "sso_verification_key_not_found", client.sso.saml.delete_verification_certificate,
                 organization_id=org.organization_id, connection_id=c.connection_id,
                 certificate_id="saml-verification-key-test-nope")
    ids = [v.certificate_id for v in c.verification_certificates]
    for cid in ids[1:]:
        resp = ok(client.sso.saml.delete_verification_certificate(
            organization_id=org.organization_id, connection_id=c.connection_id, certificate_id=cid))
        assert resp.certificate_id == cid
    expect_error(400, "cannot_delete_last_sso_verification_key", client.sso.saml.delete_verification_certificate,
                 organization_id=org.organization_id, connection_id=c.connection_id, certificate_id=ids[0])
    left = _conn(client, org.organization_id, c.connection_id)
    assert [v.certificate_id for v in left.verification_certificates] == ids[:1] and left.status == "active"
    # A pending connection may lose its only certificate.
    p = ok(client.sso.saml.create_connection(organization_id=org.organization_id)).connection
    p = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=p.connection_id,
                                             x509_certificate=idp.keys.cert_pem)).connection
    ok(client.sso.saml.delete_verification_certificate(organization_id=org.organization_id, connection_id=p.connection_id,
                                                       certificate_id=p.verification_certificates[0].certificate_id))
    assert _conn(client, org.organization_id, p.connection_id).verification_certificates == []


def test_encryption_keys_show_only_their_public_half(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    enc = new_keypair("sp encryption")
    up = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                              saml_encryption_private_key=enc.pkcs1_pem)).connection
    assert len(up.encryption_private_keys) == 1
    k = up.encryption_private_keys[0]
    assert k.private_key_id and k.created_at is not None
    assert "PRIVATE" not in k.private_key and k.private_key.startswith("-----BEGIN PUBLIC KEY-----"), k.private_key
    assert public_key_of(k.private_key).public_numbers() == enc.key.public_key().public_numbers()
    for conn in _conns(client, org.organization_id):
        assert "PRIVATE" not in str(conn.model_dump()), "no private key is ever shown"
    expect_error(404, "sso_encryption_private_key_not_found", client.sso.saml.delete_encryption_private_key,
                 organization_id=org.organization_id, connection_id=c.connection_id,
                 private_key_id="saml-encryption-key-test-nope")
    resp = ok(client.sso.saml.delete_encryption_private_key(organization_id=org.organization_id,
                                                            connection_id=c.connection_id, private_key_id=k.private_key_id))
    assert resp.private_key_id == k.private_key_id
    assert _conn(client, org.organization_id, c.connection_id).encryption_private_keys == []


def test_a_signing_key_of_our_own_signs_the_authn_requests(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    own = new_keypair("our SP key")
    up = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                              signing_private_key=own.pkcs1_pem)).connection
    assert any(public_key_of(x.certificate).public_numbers() == own.key.public_key().public_numbers()
               for x in up.signing_certificates), "a signing certificate for the new key"
    assert "PRIVATE" not in str(up.model_dump())
    # The IdP verifies the AuthnRequest with the certificate for our key only.
    only_ours = SimpleNamespace(**{**up.model_dump(), "signing_certificates": [
        SimpleNamespace(certificate=x.certificate) for x in up.signing_certificates
        if public_key_of(x.certificate).public_numbers() == own.key.public_key().public_numbers()]})
    _, req = _trip(server, idp, only_ours, _public_token(server), connection_id=c.connection_id)
    assert req.issuer == c.audience_uri


def test_connections_of_another_organization_or_project_are_not_found(client, server, idp, other_project):
    a, b = h.create_org(client), h.create_org(client)
    c = _connection(client, idp, a.organization_id)
    cert_id = c.verification_certificates[0].certificate_id
    for fn, kw in [
        (client.sso.saml.update_connection, dict(display_name="x")),
        (client.sso.saml.update_by_url, dict(metadata_url=idp.metadata_url)),
        (client.sso.saml.delete_verification_certificate, dict(certificate_id=cert_id)),
        (client.sso.delete_connection, {}),
    ]:
        expect_error(404, "sso_connection_not_found", fn, organization_id=b.organization_id,
                     connection_id=c.connection_id, **kw)
    assert _conns(client, b.organization_id) == []
    # Another project cannot see or change it, even naming the right organization.
    _, other = other_project
    h.expect_error_status(404, other.sso.saml.update_connection, organization_id=a.organization_id,
                          connection_id=c.connection_id, display_name="x")
    again = _conn(client, a.organization_id, c.connection_id)
    assert again.display_name == "Acme SAML" and again.verification_certificates[0].certificate_id == cert_id
    # The other project's public token cannot start a login with it (that project has no redirect
    # URLs, so the refusal may come from those first: it is refused either way, with no trip).
    other_pt = _public_token(SimpleNamespace(cli=server.cli, project=other_project[0]))
    _, r = _start(server, other_pt, connection_id=c.connection_id)
    assert r.status_code in (400, 404) and "Location" not in r.headers, r.text
    s = requests.Session()
    s.trust_env = False
    r = s.get(server.api("/v1/public/sso/start"), params=dict(public_token=other_pt, connection_id=c.connection_id),
              allow_redirects=False, timeout=10)
    assert r.status_code in (400, 404) and "Location" not in r.headers, r.text


def test_delete_removes_the_connection(client, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    resp = ok(client.sso.delete_connection(organization_id=org.organization_id, connection_id=c.connection_id))
    assert resp.connection_id == c.connection_id
    assert _conns(client, org.organization_id) == []
    org_now = ok(client.organizations.get(organization_id=org.organization_id)).organization
    assert org_now.sso_active_connections == [] and org_now.sso_default_connection_id in (None, "")


# ---------------------------------------------------------------- signing in (SP-initiated)


def test_the_authn_request(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    s, r = _start(server, _public_token(server), connection_id=c.connection_id)
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(idp.sso_url + "?")
    req = idp.read_request(loc, c)  # signature (rsa-sha256, the signing certificate) and pysaml2's checks
    assert req.destination == idp.sso_url
    assert req.acs_url == c.acs_url
    assert req.issuer == c.audience_uri
    assert req.nameid_format == NAMEID_FORMAT_EMAILADDRESS
    assert req.relay_state, "a RelayState ties the IdP's answer to this trip"
    assert req.id and req.id[0].isalpha() or req.id.startswith("_"), req.id  # an xs:ID
    assert "latch_sso" in s.cookies, r.headers.get("Set-Cookie")
    # A second trip: a new request id.
    _, again = _trip(server, idp, c, _public_token(server))
    assert again.id != req.id and again.relay_state != req.relay_state


def test_the_trip_cookie_reaches_the_acs_in_a_browser(client, server, idp):
    """The IdP's form POST to the ACS URL is a cross-site POST: browsers do not send a SameSite=Lax or
    Strict cookie with it. Either the trip cookie is SameSite=None, or the ACS does
    not need it (the RelayState and InResponseTo bind the answer to the trip)."""
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    s, r = _start(server, _public_token(server), connection_id=c.connection_id)
    assert r.status_code == 302, r.text
    req = idp.read_request(r.headers["Location"], c)
    set_cookie = [v for k, v in r.raw.headers.items() if k.lower() == "set-cookie" and v.startswith("latch_sso=")]
    assert len(set_cookie) == 1, r.headers
    attrs = {a.strip().split("=", 1)[0].lower(): (a.strip().split("=", 1) + [""])[1].lower()
             for a in set_cookie[0].split(";")[1:]}
    assert "httponly" in attrs, set_cookie
    if attrs.get("samesite") == "none":
        return
    # Without the cookie, as a browser would POST it.
    email = _mail("xsite")
    browser = h.TimeoutSession()
    answer = post(browser, c.acs_url, idp.response(c, email, user(email), req.id), req.relay_state)
    assert answer.status_code == 302, (
        f"the trip cookie is {set_cookie[0]!r}: a browser does not send it with the IdP's cross-site POST, "
        f"and the ACS refuses the answer without it: {answer.status_code} {answer.text}")


def test_an_idp_sso_url_with_its_own_query(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id, idp_sso_url=idp.sso_url_with_query)
    s, r = _start(server, _public_token(server), connection_id=c.connection_id)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(idp.sso_url_with_query + "&SAMLRequest="), r.headers["Location"]
    req = idp.read_request(r.headers["Location"], c)  # the signature covers SAMLRequest, RelayState, SigAlg
    assert req.query["tenant"] == "acme" and req.destination == idp.sso_url_with_query
    email = _mail("query")
    answer = post(s, c.acs_url, idp.response(c, email, user(email), req.id), req.relay_state)
    assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email


def test_jit_sign_in_then_sign_in_again(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    email = _mail("jit")
    login, signup = REDIRECT + "?next=login", REDIRECT + "?next=signup"
    answer = _sign_in(server, idp, c, pt, email, user(email, "Grace", "Hopper", department="navy"),
                      login_redirect_url=login, signup_redirect_url=signup)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(signup + "&stytch_token_type=sso&token="), answer.headers
    resp = ok(client.sso.authenticate(sso_token=_token(answer), session_duration_minutes=30))
    assert resp.member_authenticated and resp.session_token and resp.session_jwt
    assert resp.organization_id == org.organization_id
    m = resp.member
    assert (m.email_address, m.status, m.name) == (email, "active", "Grace Hopper")
    assert m.trusted_metadata.get("department") == "navy", m.trusted_metadata
    assert [(r.connection_id, r.external_id) for r in m.sso_registrations] == [(c.connection_id, email)]
    reg = m.sso_registrations[0]
    f = _saml_factor(resp.member_session)
    assert (f.id, f.provider_id, f.external_id) == (reg.registration_id, c.connection_id, email)
    auth = ok(client.sessions.authenticate(session_token=resp.session_token))
    assert auth.member.member_id == m.member_id
    assert _saml_factor(auth.member_session).provider_id == c.connection_id
    # Again: the login URL, the same member, one registration.
    answer = _sign_in(server, idp, c, pt, email, user(email, "Grace", "Hopper", department="navy"),
                      login_redirect_url=login, signup_redirect_url=signup)
    assert answer.headers["Location"].startswith(login + "&stytch_token_type=sso&token="), answer.headers
    token = _token(answer)
    again = ok(client.sso.authenticate(sso_token=token))
    assert again.member_id == m.member_id and len(again.member.sso_registrations) == 1
    assert _emails(client, org.organization_id) == [email]
    expect_error(404, "sso_token_not_found", client.sso.authenticate, sso_token=token)


def test_an_existing_member_is_found_by_email(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    email = _mail("known")
    member = h.create_member(client, org.organization_id, email)
    login = REDIRECT + "?next=login"
    answer = _sign_in(server, idp, c, _public_token(server), email, login_redirect_url=login,
                      signup_redirect_url=REDIRECT + "?next=signup")
    assert answer.headers["Location"].startswith(login + "&"), answer.headers
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert resp.member_id == member.member_id
    assert [r.connection_id for r in resp.member.sso_registrations] == [c.connection_id]


def test_a_persistent_name_id(client, server, idp):
    """nameid_format asks the IdP for another kind of NameID; the email then comes from the
    mapped attribute and the NameID is the registration's external id."""
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id, nameid_format=NAMEID_FORMAT_PERSISTENT)
    assert c.nameid_format == NAMEID_FORMAT_PERSISTENT
    email, subject = _mail("persistent"), "subject-" + h.token()
    s, req = _trip(server, idp, c, _public_token(server))
    assert req.nameid_format == NAMEID_FORMAT_PERSISTENT
    xml = idp.response(c, subject, user(email), req.id, nameid_format=NAMEID_FORMAT_PERSISTENT)
    resp = ok(client.sso.authenticate(sso_token=_token(post(s, c.acs_url, xml, req.relay_state))))
    assert resp.member.email_address == email
    assert [(r.connection_id, r.external_id) for r in resp.member.sso_registrations] == [(c.connection_id, subject)]
    assert _saml_factor(resp.member_session).external_id == subject


def test_full_name_and_the_name_id_as_email(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id,
                    attribute_mapping={"email": ATTR_EMAIL, "full_name": ATTR_FULL})
    email = _mail("nameid")
    # No email attribute: the NameID (emailAddress format) is the address.
    answer = _sign_in(server, idp, c, _public_token(server), email, {ATTR_FULL: ["Katherine Johnson"]})
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert (resp.member.email_address, resp.member.name) == (email, "Katherine Johnson")


def test_a_response_without_any_email_is_refused(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    s, req = _trip(server, idp, c, pt)
    xml = idp.response(c, "opaque-" + h.token(), {ATTR_DEPT: ["x"]}, req.id, nameid_format=NAMEID_FORMAT_PERSISTENT)
    _error(post(s, c.acs_url, xml, req.relay_state), 400, "invalid_saml_response_email")
    assert _emails(client, org.organization_id) == []


def test_the_organization_default_connection_is_used_by_organization_locator(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    s, req = _trip(server, idp, c, _public_token(server), connection_id=None, organization_id=org.organization_id)
    email = _mail("orgloc")
    answer = post(s, c.acs_url, idp.response(c, email, user(email), req.id), req.relay_state)
    assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email


@pytest.mark.parametrize("setting,allowed", [("NOT_ALLOWED", False), ("RESTRICTED", False), ("RESTRICTED", True)])
def test_jit_provisioning_follows_the_organization(client, server, idp, setting, allowed):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    update: Dict[str, Any] = dict(sso_jit_provisioning=setting)
    if setting == "RESTRICTED":
        update["sso_jit_provisioning_allowed_connections"] = [c.connection_id] if allowed else []
    ok(client.organizations.update(organization_id=org.organization_id, **update))
    email = _mail("jitrule")
    answer = _sign_in(server, idp, c, _public_token(server), email)
    if allowed:
        assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email
    else:
        assert answer.status_code in (400, 403), answer.text
        assert answer.json()["error_type"] == "invalid_connection_for_jit_provisioning", answer.text
        assert _emails(client, org.organization_id) == []


# ---------------------------------------------------------------- roles


def test_roles_from_the_connection_and_from_groups_only_in_its_sessions(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id,
                    saml_connection_implicit_role_assignments=[{"role_id": "editor"}],
                    saml_group_implicit_role_assignments=[{"role_id": "billing_admin", "group": "finance"}])
    assert [a.role_id for a in c.saml_connection_implicit_role_assignments] == ["editor"]
    assert [(a.role_id, a.group) for a in c.saml_group_implicit_role_assignments] == [("billing_admin", "finance")]
    pt = _public_token(server)
    email, plain = _mail("roles"), _mail("plain")
    answer = _sign_in(server, idp, c, pt, email, user(email, groups=["finance", "eng"]))
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    m = resp.member
    by_role = {r.role_id: [(s.type, s.details) for s in r.sources] for r in m.roles}
    assert by_role.get("editor") == [("sso_connection", {"connection_id": c.connection_id})], by_role
    assert by_role.get("billing_admin") == [
        ("sso_connection_group", {"connection_id": c.connection_id, "group": "finance"})], by_role
    assert sorted(resp.member_session.roles) == ["billing_admin", "editor", "stytch_member"]
    assert jwt_roles(resp.session_jwt) == ["billing_admin", "editor", "stytch_member"]
    write = {"organization_id": org.organization_id, "resource_id": "documents", "action": "write"}
    manage = {"organization_id": org.organization_id, "resource_id": "billing", "action": "manage"}
    got = ok(client.sessions.authenticate(session_token=resp.session_token, authorization_check=write))
    assert got.verdict.authorized and got.verdict.granting_roles == ["editor"]
    got = ok(client.sessions.authenticate(session_jwt=resp.session_jwt, authorization_check=manage))
    assert got.verdict.authorized and got.verdict.granting_roles == ["billing_admin"]
    # The same member with a password: no SSO roles in that session.
    pw = session_for(client, org, email)
    assert pw.member_id == m.member_id
    assert sorted(pw.member_session.roles) == ["stytch_member"], pw.member_session.roles
    assert jwt_roles(pw.session_jwt) == ["stytch_member"]
    for check in (write, manage):
        expect_error(403, "session_authorization_error", client.sessions.authenticate,
                     session_token=pw.session_token, authorization_check=check)
    # Not in the group: the connection's role only.
    answer = _sign_in(server, idp, c, pt, plain, user(plain, groups=["eng"]))
    other = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert sorted(other.member_session.roles) == ["editor", "stytch_member"]
    expect_error(403, "session_authorization_error", client.sessions.authenticate,
                 session_token=other.session_token, authorization_check=manage)


def test_a_group_role_authorizes_api_calls_in_the_sso_session_only(client, server, idp):
    """Member-session RBAC on Stytch's own resources: member_manager (stytch.member create) from a
    SAML group lets the SSO session create members; the same member's password session may not."""
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id,
                    saml_group_implicit_role_assignments=[{"role_id": "member_manager", "group": "people-ops"}])
    email = _mail("manager")
    answer = _sign_in(server, idp, c, _public_token(server), email, user(email, groups=["people-ops"]))
    sso = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert "member_manager" in sso.member_session.roles

    def create_as(session_token: str):
        opts = member_models.CreateRequestOptions(authorization=Authorization(session_token=session_token))
        return client.organizations.members.create(organization_id=org.organization_id,
                                                   email_address=_mail("new"), method_options=opts)

    ok(create_as(sso.session_token))
    pw = session_for(client, org, email)
    assert pw.member_id == sso.member_id and "member_manager" not in pw.member_session.roles
    before = _emails(client, org.organization_id)
    expect_error(403, "session_authorization_error", create_as, pw.session_token)
    assert _emails(client, org.organization_id) == before


def test_the_alternative_audience_and_acs_url(client, server, idp):
    org = h.create_org(client)
    alt_audience, alt_acs = "https://sp.custom-domain.example/saml/metadata", "https://login.custom-domain.example/acs"
    c = _connection(client, idp, org.organization_id, alternative_audience_uri=alt_audience,
                    alternative_acs_url=alt_acs)
    assert (c.alternative_audience_uri, c.alternative_acs_url) == (alt_audience, alt_acs)
    pt = _public_token(server)
    for fn in (F.set_audience(alt_audience), F.chain(F.set_recipient(alt_acs), F.set_destination(alt_acs))):
        email = _mail("alt")
        s, req = _trip(server, idp, c, pt)
        unsigned = idp.response(c, email, user(email), req.id, sign_response=False, sign_assertion=False)
        answer = post(s, c.acs_url, F.sign(F.edit(unsigned, fn), idp.keys, response=True), req.relay_state)
        assert answer.status_code == 302, answer.text
        assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email


# ---------------------------------------------------------------- IdP-initiated


def test_idp_initiated_sign_in_and_its_switch(defaults, idp):
    server, client = defaults.server, defaults.client
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    email = _mail("idpinit")
    s = h.TimeoutSession()
    answer = post(s, c.acs_url, idp.response(c, email, user(email), None))
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(LANDING + "?stytch_token_type=sso&token="), answer.headers
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert resp.member.email_address == email
    assert _saml_factor(resp.member_session).provider_id == c.connection_id
    # Known now: the login default (the same URL here), the same member.
    answer = post(s, c.acs_url, idp.response(c, email, user(email), None))
    assert answer.headers["Location"].startswith(LANDING + "?"), answer.headers
    assert ok(client.sso.authenticate(sso_token=_token(answer))).member_id == resp.member_id
    # Disabled: refused, nothing written.
    up = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                              idp_initiated_auth_disabled=True)).connection
    assert up.idp_initiated_auth_disabled
    late = _mail("idpinit-off")
    _error(post(s, c.acs_url, idp.response(c, late, user(late), None)), 403, "saml_idp_initiated_auth_disabled")
    assert _emails(client, org.organization_id) == [email]
    # SP-initiated still works.
    answer = _sign_in(server, idp, c, _public_token(server), late)
    assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == late


# ---------------------------------------------------------------- encrypted assertions


def _encrypting_connection(client, server, idp, org_id: str):
    """An active connection with an encryption key; returns it and the certificate the IdP
    encrypts to: the one Latch publishes in the SP metadata."""
    c = _connection(client, idp, org_id)
    enc = new_keypair("sp encryption")
    c = ok(client.sso.saml.update_connection(organization_id=org_id, connection_id=c.connection_id,
                                             saml_encryption_private_key=enc.pkcs1_pem)).connection
    md = etree.fromstring(_http_get(server.api(f"/v1/b2b/sso/saml/metadata/{c.connection_id}")).content)
    found = [kd.findtext(".//ds:X509Certificate", namespaces=NS) for kd in md.iter(f"{{{NS['md']}}}KeyDescriptor")
             if kd.get("use") == "encryption"]
    assert len(found) == 1, etree.tostring(md)[:2000]
    b64 = "".join(found[0].split())
    cert = "-----BEGIN CERTIFICATE-----\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + \
        "\n-----END CERTIFICATE-----\n"
    assert public_key_of(cert).public_numbers() == enc.key.public_key().public_numbers()
    return c, cert


@pytest.mark.parametrize("algorithm,sign_response,sign_assertion", [
    (AES256_CBC, True, True),
    (AES256_CBC, True, False),
    (AES128_CBC, True, True),
    (AES256_GCM, True, True),
    (TRIPLEDES_CBC, True, True),
    # Okta's and Entra's default when encryption is on: the assertion is signed, then encrypted;
    # the Response itself is not signed.
    (AES256_CBC, False, True),
], ids=["aes256cbc-both-signed", "aes256cbc-response-signed", "aes128cbc", "aes256gcm", "3des",
        "aes256cbc-assertion-signed-inside"])
def test_an_encrypted_assertion(client, server, idp, algorithm, sign_response, sign_assertion):
    org = h.create_org(client)
    c, cert = _encrypting_connection(client, server, idp, org.organization_id)
    email = _mail("enc")
    s, req = _trip(server, idp, c, _public_token(server))
    xml = idp.response(c, email, user(email), req.id, encrypt_cert_pem=cert, encryption_algorithm=algorithm,
                       sign_response=sign_response, sign_assertion=sign_assertion)
    r = F.root(xml)
    assert r.find("saml:EncryptedAssertion", NS) is not None and r.find("saml:Assertion", NS) is None
    answer = post(s, c.acs_url, xml, req.relay_state)
    assert answer.status_code == 302, answer.text
    assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email


def test_an_assertion_encrypted_to_another_key_is_refused(client, server, idp):
    org = h.create_org(client)
    c, _ = _encrypting_connection(client, server, idp, org.organization_id)
    email = _mail("enc-other")
    s, req = _trip(server, idp, c, _public_token(server))
    xml = idp.response(c, email, user(email), req.id, encrypt_cert_pem=new_keypair("stranger").cert_pem)
    answer = post(s, c.acs_url, xml, req.relay_state)
    assert answer.status_code == 400 and "Location" not in answer.headers, answer.text
    assert _emails(client, org.organization_id) == []


# ---------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def stranger_keys():
    return new_keypair("not the IdP")


EVIL = "victim@example.com"
SUFFIX = ".evil.test"


def _case(name: str, error: str, build, *, alt_errors: Tuple[str, ...] = ()):
    return pytest.param(build, error, alt_errors, id=name)


def _signed(ctx, fn=None):
    return F.sign(F.edit(ctx.base, fn) if fn else ctx.base, ctx.idp.keys)


CASES = [
    _case("unsigned", "missing_signature_saml_response", lambda ctx: ctx.base),
    _case("signed-by-another-key", "invalid_signature_saml_response",
          lambda ctx: F.sign(ctx.base, ctx.stranger)),
    _case("response-signed-by-another-key", "invalid_signature_saml_response",
          lambda ctx: F.sign(ctx.base, ctx.stranger, response=True, assertion_too=False)),
    _case("email-changed-after-signing", "invalid_signature_saml_response",
          lambda ctx: F.tamper(_signed(ctx), F.set_attribute(ATTR_EMAIL, ctx.victim))),
    _case("nameid-changed-after-signing", "invalid_signature_saml_response",
          lambda ctx: F.tamper(_signed(ctx), F.set_name_id(ctx.victim))),
    _case("signed-response-changed-after-signing", "invalid_signature_saml_response",
          lambda ctx: F.tamper(F.sign(ctx.base, ctx.idp.keys, response=True, assertion_too=False),
                               F.set_attribute(ATTR_EMAIL, ctx.victim))),
    _case("wrapping-original-in-extensions", "invalid_signature_saml_response",
          lambda ctx: F.wrap(_signed(ctx), "extensions", ctx.victim, ATTR_EMAIL)),
    _case("wrapping-original-in-signature-object", "invalid_signature_saml_response",
          lambda ctx: F.wrap(_signed(ctx), "object", ctx.victim, ATTR_EMAIL)),
    _case("wrapping-evil-assertion-first", "invalid_signature_saml_response",
          lambda ctx: F.wrap(_signed(ctx), "evil_first", ctx.victim, ATTR_EMAIL)),
    _case("wrapping-signed-assertion-first", "invalid_signature_saml_response",
          lambda ctx: F.wrap(_signed(ctx), "signed_first", ctx.victim, ATTR_EMAIL)),
    _case("wrapping-signed-response-in-extensions", "invalid_signature_saml_response",
          lambda ctx: F.wrap_response(F.sign(ctx.base, ctx.idp.keys, response=True, assertion_too=False),
                                      F.edit(ctx.base, F.chain(F.set_name_id(ctx.victim),
                                                               F.set_attribute(ATTR_EMAIL, ctx.victim))))),
    _case("comment-in-nameid", "invalid_saml_response",
          lambda ctx: F.inject_comment(_signed(ctx, F.chain(F.set_name_id(ctx.victim + SUFFIX),
                                                            F.set_attribute(ATTR_EMAIL, ctx.victim + SUFFIX))), SUFFIX)),
    _case("doctype", "invalid_saml_response", lambda ctx: F.with_doctype(_signed(ctx))),
    _case("expired", "expired_saml_response", lambda ctx: _signed(ctx, F.shift_times(-600))),
    _case("expired-beyond-the-skew", "expired_saml_response", lambda ctx: _signed(ctx, F.shift_times(-120))),
    _case("expired-but-issued-now", "expired_saml_response",
          lambda ctx: _signed(ctx, F.shift_times(-120, issued_long_ago=False))),
    _case("not-yet-valid", "not_yet_valid_saml_response",
          lambda ctx: _signed(ctx, F.shift_times(600, not_before=True, not_on_or_after=False))),
    _case("wrong-audience", "invalid_audience_saml_response",
          lambda ctx: _signed(ctx, F.set_audience("https://sp.elsewhere.example/metadata"))),
    _case("wrong-recipient", "invalid_saml_response",
          lambda ctx: _signed(ctx, F.set_recipient("https://sp.elsewhere.example/acs"))),
    _case("wrong-destination", "invalid_saml_response",
          lambda ctx: _signed(ctx, F.set_destination("https://sp.elsewhere.example/acs"))),
    _case("wrong-destination-on-a-signed-response", "invalid_saml_response",
          lambda ctx: F.sign(F.edit(ctx.base, F.set_destination("https://sp.elsewhere.example/acs")), ctx.idp.keys,
                             response=True)),
    _case("wrong-issuer", "invalid_saml_response",
          lambda ctx: _signed(ctx, F.set_issuer("https://idp.elsewhere.example/"))),
    _case("failed-status", "invalid_saml_response", lambda ctx: _signed(ctx, F.set_status())),
    _case("failed-status-on-a-signed-response", "invalid_saml_response",
          lambda ctx: F.sign(F.edit(ctx.base, F.set_status()), ctx.idp.keys, response=True)),
    _case("unknown-in-response-to", "unsolicited_saml_response",
          lambda ctx: _signed(ctx, F.set_in_response_to(new_id()))),
    _case("not-xml", "invalid_saml_response", lambda ctx: b"<Response>this is not SAML"),
]


def _base(ctx, in_response_to: str) -> bytes:
    xml = ctx.idp.response(ctx.conn, ctx.email, user(ctx.email), in_response_to,
                           sign_response=False, sign_assertion=False)
    return F.edit(xml, F.set_assertion_id(ctx.assertion_id))


@pytest.mark.parametrize("build,error,alt_errors", CASES)
def test_a_refused_response_writes_nothing(client, server, idp, stranger_keys, build, error, alt_errors):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    victim = h.create_member(client, org.organization_id, f"victim-{h.token()}@example.com")
    ctx = SimpleNamespace(idp=idp, conn=c, stranger=stranger_keys, email=_mail("neg"), victim=victim.email_address,
                          assertion_id=new_id())
    s, req = _trip(server, idp, c, pt)
    ctx.base = _base(ctx, req.id)
    forged = build(ctx)
    answer = post(s, c.acs_url, forged, req.relay_state)
    assert answer.status_code == 400, f"accepted a forged response ({answer.status_code}): {answer.headers} {answer.text}"
    body = answer.json()
    assert body.get("error_type") in (error, *alt_errors), body
    h.check_raw_error(answer, 400, body.get("error_type"))
    # Nothing was written: the victim untouched, nobody new.
    assert _emails(client, org.organization_id) == [victim.email_address]
    v = ok(client.organizations.members.get(organization_id=org.organization_id, member_id=victim.member_id)).member
    assert v.sso_registrations == []
    assert ok(client.sessions.get(organization_id=org.organization_id, member_id=victim.member_id)).member_sessions == []
    # The same assertion (same ID), genuine and correctly signed, on a new trip: accepted.
    s, req = _trip(server, idp, c, pt)
    good = F.sign(_base(ctx, req.id), idp.keys)
    answer = post(s, c.acs_url, good, req.relay_state)
    assert answer.status_code == 302, answer.text
    resp = ok(client.sso.authenticate(sso_token=_token(answer)))
    assert resp.member.email_address == ctx.email and resp.member_id != victim.member_id


def test_the_clock_skew_is_tolerated(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    for fn in (F.shift_times(-20, issued_long_ago=False), F.shift_times(20, not_before=True, not_on_or_after=False)):
        email = _mail("skew")
        s, req = _trip(server, idp, c, pt)
        unsigned = idp.response(c, email, user(email), req.id, sign_response=False, sign_assertion=False)
        answer = post(s, c.acs_url, F.sign(F.edit(unsigned, fn), idp.keys), req.relay_state)
        assert answer.status_code == 302, answer.text


def test_signing_variants_of_the_real_idp_are_accepted(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    for sign_response, sign_assertion in ((True, False), (False, True), (True, True)):
        email = _mail("variant")
        s, req = _trip(server, idp, c, pt)
        xml = idp.response(c, email, user(email), req.id, sign_response=sign_response, sign_assertion=sign_assertion)
        answer = post(s, c.acs_url, xml, req.relay_state)
        assert answer.status_code == 302, (sign_response, sign_assertion, answer.text)
        assert ok(client.sso.authenticate(sso_token=_token(answer))).member.email_address == email


def test_replays_are_refused(defaults, idp):
    server, client = defaults.server, defaults.client
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    # IdP-initiated: the same response twice.
    email = _mail("replay")
    xml = idp.response(c, email, user(email), None)
    s = h.TimeoutSession()
    first = post(s, c.acs_url, xml)
    assert first.status_code == 302, first.text
    _error(post(s, c.acs_url, xml), 400, "duplicate_saml_response")
    # SP-initiated: the accepted response again in the same browser, then its assertion in a new trip.
    email2 = _mail("replay-sp")
    aid = new_id()
    s, req = _trip(server, idp, c, pt)
    xml = F.sign(F.edit(idp.response(c, email2, user(email2), req.id, sign_response=False, sign_assertion=False),
                        F.set_assertion_id(aid)), idp.keys)
    assert post(s, c.acs_url, xml, req.relay_state).status_code == 302
    again = post(s, c.acs_url, xml, req.relay_state)
    assert again.status_code == 400 and again.json()["error_type"] in ("duplicate_saml_response",
                                                                       "unsolicited_saml_response"), again.text
    s, req2 = _trip(server, idp, c, pt)
    xml2 = F.sign(F.edit(idp.response(c, email2, user(email2), req2.id, sign_response=False, sign_assertion=False),
                         F.set_assertion_id(aid)), idp.keys)
    _error(post(s, c.acs_url, xml2, req2.relay_state), 400, "duplicate_saml_response")


def test_a_response_posted_many_times_at_once_signs_in_once(defaults, idp):
    server, client = defaults.server, defaults.client
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    n = 8

    def race(xml, relay_state=None, session=None):
        barrier = threading.Barrier(n)

        def one(_):
            with h.TimeoutSession() as s:
                if session is not None:
                    s.cookies.update(session.cookies)
                barrier.wait()
                return post(s, c.acs_url, xml, relay_state)

        with ThreadPoolExecutor(max_workers=n) as pool:
            answers = list(pool.map(one, range(n)))
        won = [a for a in answers if a.status_code == 302]
        lost = [a for a in answers if a.status_code != 302]
        assert len(won) == 1, [(a.status_code, a.text[:200]) for a in answers]
        for a in lost:
            assert a.status_code == 400 and a.json()["error_type"] in (
                "duplicate_saml_response", "unsolicited_saml_response"), a.text
        return won[0]

    email = _mail("race")
    won = race(idp.response(c, email, user(email), None))
    assert ok(client.sso.authenticate(sso_token=_token(won))).member.email_address == email
    email2 = _mail("race-sp")
    s, req = _trip(server, idp, c, _public_token(server))
    won = race(idp.response(c, email2, user(email2), req.id), req.relay_state, s)
    assert ok(client.sso.authenticate(sso_token=_token(won))).member.email_address == email2
    assert _emails(client, org.organization_id) == sorted([email, email2])


def test_certificate_rotation(client, server, idp):
    """Any configured verification certificate verifies; a deleted one no longer does."""
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    new = new_keypair("the IdP's next key")
    c = ok(client.sso.saml.update_connection(organization_id=org.organization_id, connection_id=c.connection_id,
                                             x509_certificate=new.cert_pem)).connection
    assert len(c.verification_certificates) == 2
    pt = _public_token(server)

    def attempt(keys):
        email = _mail("rotate")
        s, req = _trip(server, idp, c, pt)
        unsigned = idp.response(c, email, user(email), req.id, sign_response=False, sign_assertion=False)
        return post(s, c.acs_url, F.sign(unsigned, keys), req.relay_state)

    assert attempt(new).status_code == 302
    assert attempt(idp.keys).status_code == 302
    new_id_ = [v.certificate_id for v in c.verification_certificates
               if public_key_of(v.certificate).public_numbers() == new.key.public_key().public_numbers()]
    assert len(new_id_) == 1
    ok(client.sso.saml.delete_verification_certificate(organization_id=org.organization_id,
                                                       connection_id=c.connection_id, certificate_id=new_id_[0]))
    _error(attempt(new), 400, "invalid_signature_saml_response")
    assert attempt(idp.keys).status_code == 302


def test_answers_to_other_trips_are_unsolicited(client, server, idp):
    org = h.create_org(client)
    a = _connection(client, idp, org.organization_id)
    b = _connection(client, idp, org.organization_id)
    pt = _public_token(server)
    email = _mail("swap")
    # A response to connection A's AuthnRequest, made for and sent to connection B.
    s, req = _trip(server, idp, a, pt)
    xml = idp.response(b, email, user(email), req.id)
    _error(post(s, b.acs_url, xml, req.relay_state), 400, "unsolicited_saml_response")
    # The right response with another RelayState.
    s, req = _trip(server, idp, a, pt)
    xml = idp.response(a, email, user(email), req.id)
    _error(post(s, a.acs_url, xml, "relay-" + h.token()), 400, "unsolicited_saml_response")
    assert _emails(client, org.organization_id) == []
    # A response to another organization's connection is not good here either.
    other_org = h.create_org(client)
    o = _connection(client, idp, other_org.organization_id)
    s, req = _trip(server, idp, o, pt)
    xml = idp.response(a, email, user(email), req.id)
    _error(post(s, a.acs_url, xml, req.relay_state), 400, "unsolicited_saml_response")
    # An unsolicited response the same IdP (same key) made for the other organization's
    # connection, posted here: not for this audience.
    with h.TimeoutSession() as browser:
        answer = post(browser, a.acs_url, idp.response(o, email, user(email), None))
    assert answer.status_code == 400 and answer.json()["error_type"] in (
        "invalid_audience_saml_response", "invalid_saml_response"), answer.text
    assert _emails(client, org.organization_id) == [] and _emails(client, other_org.organization_id) == []


def test_the_acs_of_an_unknown_or_pending_connection(client, server, idp):
    org = h.create_org(client)
    c = _connection(client, idp, org.organization_id)
    pending = ok(client.sso.saml.create_connection(organization_id=org.organization_id)).connection
    email = _mail("acs")
    s = h.TimeoutSession()
    r = post(s, server.api("/v1/b2b/sso/callback/saml-connection-test-00000000-0000-4000-8000-000000000000"),
             idp.response(c, email, user(email), None))
    assert r.status_code == 404, r.text
    r = post(s, pending.acs_url, idp.response(pending, email, user(email), None))
    assert r.status_code in (400, 404) and "Location" not in r.headers, r.text
    assert _emails(client, org.organization_id) == []
