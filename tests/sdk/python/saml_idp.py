"""A real SAML 2.0 identity provider for the SAML SSO tests: pysaml2's `saml2.server.Server` (IdP
role, xmlsec1 backend) with a fresh RSA key and self-signed certificate, its metadata served over
HTTP on loopback (for `sso.saml.update_by_url`).

What the browser would do is done with `requests`: the AuthnRequest Latch redirects to is parsed
and verified here (the HTTP-Redirect signature against the connection's signing certificate), and
the IdP's answer is POSTed (form-urlencoded SAMLResponse + RelayState) to the connection's ACS URL.

The SP side of the IdP's configuration (Latch, one SP per connection) is written from the
connection as the SDK returns it (entity id = audience_uri, ACS = acs_url, the signing
certificate), so the IdP never depends on Latch's own SP metadata document.
"""

from __future__ import annotations

import base64
import functools
import shutil
import datetime
import tempfile
import threading
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import requests
import saml2.entity
import saml2.sigver
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_EMAILADDRESS
from saml2.server import Server

from conftest import free_port

XMLSEC1 = "/usr/bin/xmlsec1"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
TRIPLEDES_CBC = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


# ---------------------------------------------------------------- keys


@dataclass
class KeyPair:
    key: rsa.RSAPrivateKey
    key_pem: str  # PKCS#8
    cert_pem: str

    @property
    def pkcs1_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()).decode()


def new_keypair(common_name: str = "Latch test IdP") -> KeyPair:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return KeyPair(key, key_pem, cert.public_bytes(serialization.Encoding.PEM).decode())


def cert_b64(pem: str) -> str:
    return "".join(l for l in pem.strip().splitlines() if "-----" not in l)


def public_key_of(pem: str):
    """An RSA public key from a certificate or a SubjectPublicKeyInfo PEM."""
    if "CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem.encode()).public_key()
    return serialization.load_pem_public_key(pem.encode())


# ---------------------------------------------------------------- the SP as the IdP knows it


def sp_metadata(connection, encryption_cert_pem: Optional[str] = None) -> str:
    """SP metadata for a connection (SDK SAMLConnection), for the IdP's configuration."""
    keys = [("signing", c.certificate) for c in connection.signing_certificates]
    if encryption_cert_pem:
        keys.append(("encryption", encryption_cert_pem))
    kd = "".join(
        f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64(pem)}'
        f"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for use, pem in keys
    )
    return (
        f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" entityID="{connection.audience_uri}">'
        f'<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" '
        f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{kd}'
        f"<md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{connection.acs_url}" index="0" '
        f'isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>'
    )


# ---------------------------------------------------------------- the IdP


@dataclass
class AuthnRequestSeen:
    """The AuthnRequest Latch sent, as the IdP read and verified it."""
    id: str
    relay_state: str
    issuer: str
    acs_url: str
    destination: str
    nameid_format: Optional[str]
    xml: str
    query: Dict[str, str]


# Attribute names the IdP sends (not in pysaml2's attribute maps, so they go out as named).
ATTR_EMAIL, ATTR_FIRST, ATTR_LAST, ATTR_FULL, ATTR_GROUPS, ATTR_DEPT = (
    "idp_email", "idp_first_name", "idp_last_name", "idp_full_name", "idp_groups", "idp_department")
MAPPING = {"email": ATTR_EMAIL, "first_name": ATTR_FIRST, "last_name": ATTR_LAST, "groups": ATTR_GROUPS,
           "department": ATTR_DEPT}


def user(email: str, first: str = "Ada", last: str = "Lovelace", groups: Sequence[str] = (),
         department: Optional[str] = None) -> Dict[str, List[str]]:
    """The attributes of a user at the IdP (under MAPPING's names)."""
    attrs = {ATTR_EMAIL: [email], ATTR_FIRST: [first], ATTR_LAST: [last]}
    if groups:
        attrs[ATTR_GROUPS] = list(groups)
    if department:
        attrs[ATTR_DEPT] = [department]
    return attrs


class SamlIdp:
    def __init__(self) -> None:
        self.keys = new_keypair()
        self.dir = Path(tempfile.mkdtemp(prefix="latch-saml-idp-"))
        (self.dir / "key.pem").write_text(self.keys.key_pem)
        (self.dir / "cert.pem").write_text(self.keys.cert_pem)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base}/idp"
        self.sso_url = f"{self.base}/sso"
        # An SSO URL with its own query (as some IdPs' are): the AuthnRequest's parameters follow it.
        self.sso_url_with_query = f"{self.sso_url}?tenant=acme"
        self.metadata_url = f"{self.base}/metadata"
        self.not_metadata_url = f"{self.base}/not-metadata"
        self._servers: Dict[Tuple[str, Optional[str]], Server] = {}
        self.metadata_xml = str(entity_descriptor(self._config()))
        self._http = self._serve()

    # -- configuration

    def _config(self, sp_xml: Optional[str] = None) -> IdPConfig:
        conf = {
            "entityid": self.entity_id,
            "key_file": str(self.dir / "key.pem"),
            "cert_file": str(self.dir / "cert.pem"),
            "xmlsec_binary": XMLSEC1,
            "crypto_backend": "xmlsec1",
            "signing_algorithm": RSA_SHA256,
            "digest_algorithm": SHA256,
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT),
                                                             (self.sso_url_with_query, BINDING_HTTP_REDIRECT)]},
                    # The redirect signature is verified by read_request over the query string as
                    # sent; pysaml2 re-encodes the parameters before verifying, which only works
                    # when the SP percent-encodes exactly as Python's urlencode does.
                    "want_authn_requests_signed": False,
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None,
                                           "name_form": NAME_FORMAT_BASIC}},
                }
            },
        }
        if sp_xml:
            conf["metadata"] = {"inline": [sp_xml]}
        c = IdPConfig()
        c.load(conf)
        return c

    def server_for(self, connection, encryption_cert_pem: Optional[str] = None) -> Server:
        sp_xml = sp_metadata(connection, encryption_cert_pem)
        k = (sp_xml, encryption_cert_pem)
        if k not in self._servers:
            self._servers[k] = Server(config=self._config(sp_xml))
        return self._servers[k]

    # -- metadata over HTTP

    def _serve(self) -> ThreadingHTTPServer:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path == "/metadata":
                    body, ctype = idp.metadata_xml.encode(), "application/samlmetadata+xml"
                elif self.path == "/not-metadata":
                    body, ctype = b"<html><body>hello</body></html>", "text/html"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the AuthnRequest

    def read_request(self, location: str, connection) -> AuthnRequestSeen:
        """Parses and verifies the AuthnRequest of the redirect `location` Latch answered /sso/start
        with: the signature over the query string exactly as sent (SAML bindings 3.4.4.1), with
        the connection's signing certificate, and pysaml2's own checks (Destination, schema)."""
        assert location.startswith(self.sso_url + "?"), location
        raw = urllib.parse.urlsplit(location).query
        pairs = [p.split("=", 1) for p in raw.split("&")]
        rawmap = {k: v for k, v in pairs}
        assert set(rawmap) >= {"SAMLRequest", "SigAlg", "Signature"}, rawmap.keys()
        q = {k: urllib.parse.unquote_plus(v) for k, v in rawmap.items()}
        assert q["SigAlg"] == RSA_SHA256, q["SigAlg"]
        signed = "&".join(f"{k}={rawmap[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in rawmap)
        certs = [c.certificate for c in connection.signing_certificates]
        assert certs, "the connection has no signing certificate"
        sig = base64.b64decode(q["Signature"])
        verified = False
        for pem in certs:
            try:
                public_key_of(pem).verify(sig, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
                verified = True
            except Exception:
                pass
        assert verified, "the AuthnRequest's redirect signature does not verify with the signing certificate"
        xml = zlib.decompress(base64.b64decode(q["SAMLRequest"]), -15).decode()
        server = self.server_for(connection)
        parsed = server.parse_authn_request(q["SAMLRequest"], BINDING_HTTP_REDIRECT)
        assert parsed is not None, xml
        req = parsed.message
        return AuthnRequestSeen(
            id=req.id,
            relay_state=q.get("RelayState", ""),
            issuer=req.issuer.text if req.issuer is not None else "",
            acs_url=req.assertion_consumer_service_url or "",
            destination=req.destination or "",
            nameid_format=req.name_id_policy.format if req.name_id_policy is not None else None,
            xml=xml,
            query=q,
        )

    # -- the Response

    def response(
        self,
        connection,
        name_id: str,
        attributes: Optional[Dict[str, Sequence[str]]] = None,
        in_response_to: Optional[str] = None,
        *,
        nameid_format: str = NAMEID_FORMAT_EMAILADDRESS,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt_cert_pem: Optional[str] = None,
        encryption_algorithm: str = AES256_CBC,
        destination: Optional[str] = None,
    ) -> str:
        """A SAMLResponse (XML text) from pysaml2 for `name_id` with these attributes. Signed as
        asked (unsigned when both are False: the forging helpers sign it themselves); with
        `encrypt_cert_pem` the assertion is encrypted to that certificate."""
        server = self.server_for(connection, encrypt_cert_pem)
        identity = {k: list(v) for k, v in (attributes or {}).items()}
        kwargs = {}
        if encrypt_cert_pem:
            kwargs.update(encrypt_assertion=True, encrypt_cert_assertion=encrypt_cert_pem,
                          encrypt_assertion_self_contained=True)
        # pysaml2 always encrypts with 3DES-CBC (no argument for it): the template's algorithm and
        # xmlsec1's session key are set here.
        saml2.entity.pre_encryption_part = functools.partial(saml2.sigver.pre_encryption_part,
                                                             msg_enc=encryption_algorithm)
        session_key = {AES128_CBC: "aes-128", TRIPLEDES_CBC: "des-192"}.get(encryption_algorithm, "aes-256")
        server.sec.encrypt_assertion = functools.partial(type(server.sec).encrypt_assertion, server.sec,
                                                         key_type=session_key)
        resp = server.create_authn_response(
            identity,
            in_response_to,
            destination or connection.acs_url,
            connection.audience_uri,
            name_id=saml.NameID(format=nameid_format, text=name_id),
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_response=sign_response,
            sign_assertion=sign_assertion,
            sign_alg=RSA_SHA256,
            digest_alg=SHA256,
            **kwargs,
        )
        return str(resp)


def b64(xml: str | bytes) -> str:
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


def post(session: requests.Session, acs_url: str, xml: str | bytes, relay_state: Optional[str] = None) -> requests.Response:
    """What the browser does with the IdP's auto-submitting form."""
    data = {"SAMLResponse": b64(xml)}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return session.post(acs_url, data=data, allow_redirects=False, timeout=10)


def new_id() -> str:
    return "_" + uuid.uuid4().hex
