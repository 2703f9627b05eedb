"""Forged and broken SAMLResponses for the negative SAML tests.

Each starts from a genuine but unsigned pysaml2 response (`SamlIdp.response(..., sign_response=False,
sign_assertion=False)`), is changed with lxml, and is signed with signxml (RSA-SHA256, exclusive
c14n, the enveloped Signature right after the Issuer as the schema wants it) by the IdP's key or
another one. Attacks that must survive signing (comments, wrapping, tampering) are applied after it.
"""

from __future__ import annotations

import copy
import datetime
from typing import Callable, Optional

from lxml import etree
from signxml import XMLSigner, methods

from saml_idp import NS, KeyPair

DS = NS["ds"]
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def root(xml) -> etree._Element:
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


def text(el: etree._Element) -> bytes:
    return etree.tostring(el)


def assertion(r: etree._Element) -> etree._Element:
    a = r.find("saml:Assertion", NS)
    assert a is not None, "no Assertion"
    return a


def _strip_signatures(el: etree._Element) -> None:
    for sig in el.findall("ds:Signature", NS):
        el.remove(sig)


def _signed_copy(el: etree._Element, keys: KeyPair) -> etree._Element:
    """`el` (Assertion or Response) signed on its own, the Signature after its Issuer."""
    el = etree.fromstring(etree.tostring(el))
    _strip_signatures(el)
    issuer = el.find("saml:Issuer", NS)
    placeholder = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        el.insert(0, placeholder)
    signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm=EXC_C14N)
    return signer.sign(el, key=keys.key_pem, cert=keys.cert_pem)


def sign_assertion(r: etree._Element, keys: KeyPair) -> etree._Element:
    a = assertion(r)
    r.replace(a, _signed_copy(a, keys))
    return r


def sign_response(r: etree._Element, keys: KeyPair) -> etree._Element:
    return _signed_copy(r, keys)


def sign(xml, keys: KeyPair, *, response: bool = False, assertion_too: bool = True) -> bytes:
    """Sign the assertion (and/or the whole response)."""
    r = root(xml)
    if assertion_too:
        sign_assertion(r, keys)
    if response:
        r = sign_response(r, keys)
    return text(r)


# ---------------------------------------------------------------- edits before signing


def edit(xml, fn: Callable[[etree._Element], None]) -> bytes:
    r = root(xml)
    fn(r)
    return text(r)


def _iso(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shift_times(seconds: int, *, not_before: bool = False, not_on_or_after: bool = True,
                issued_long_ago: bool = True):
    """Move the validity window: NotOnOrAfter (conditions and subject confirmation) to now+seconds,
    or NotBefore to now+seconds. An expired response (seconds < 0) was also issued 15 minutes
    before it expired, unless `issued_long_ago` is False (then only NotOnOrAfter moves)."""
    def fn(r):
        now = datetime.datetime.now(datetime.timezone.utc)
        a = assertion(r)
        when = _iso(now + datetime.timedelta(seconds=seconds))
        cond = a.find("saml:Conditions", NS)
        if not_on_or_after:
            cond.set("NotOnOrAfter", when)
            for scd in a.iter(_q("saml", "SubjectConfirmationData")):
                scd.set("NotOnOrAfter", when)
            if seconds < 0 and issued_long_ago:
                old = _iso(now + datetime.timedelta(seconds=seconds - 900))
                cond.set("NotBefore", old)
                a.set("IssueInstant", old)
                r.set("IssueInstant", old)
                for st in a.iter(_q("saml", "AuthnStatement")):
                    st.set("AuthnInstant", old)
        if not_before:
            cond.set("NotBefore", when)
    return fn


def set_audience(value: str):
    def fn(r):
        for aud in assertion(r).iter(_q("saml", "Audience")):
            aud.text = value
    return fn


def set_recipient(value: str):
    def fn(r):
        for scd in assertion(r).iter(_q("saml", "SubjectConfirmationData")):
            scd.set("Recipient", value)
    return fn


def set_destination(value: str):
    def fn(r):
        r.set("Destination", value)
    return fn


def set_issuer(value: str):
    def fn(r):
        for iss in (r.find("saml:Issuer", NS), assertion(r).find("saml:Issuer", NS)):
            if iss is not None:
                iss.text = value
    return fn


def set_status(code: str = "urn:oasis:names:tc:SAML:2.0:status:Requester"):
    def fn(r):
        r.find("samlp:Status/samlp:StatusCode", NS).set("Value", code)
    return fn


def set_assertion_id(value: str):
    def fn(r):
        assertion(r).set("ID", value)
    return fn


def set_in_response_to(value: Optional[str]):
    def fn(r):
        targets = [r] + list(assertion(r).iter(_q("saml", "SubjectConfirmationData")))
        for t in targets:
            if value is None:
                t.attrib.pop("InResponseTo", None)
            else:
                t.set("InResponseTo", value)
    return fn


def set_name_id(value: str):
    def fn(r):
        assertion(r).find("saml:Subject/saml:NameID", NS).text = value
    return fn


def set_attribute(name: str, *values: str):
    def fn(r):
        for at in assertion(r).iter(_q("saml", "Attribute")):
            if at.get("Name") == name:
                vals = at.findall("saml:AttributeValue", NS)
                for v, new in zip(vals, values):
                    v.text = new
    return fn


def drop_attribute(name: str):
    def fn(r):
        for at in list(assertion(r).iter(_q("saml", "Attribute"))):
            if at.get("Name") == name:
                at.getparent().remove(at)
    return fn


def chain(*fns):
    def fn(r):
        for f in fns:
            f(r)
    return fn


# ---------------------------------------------------------------- attacks after signing


def tamper(signed_xml, fn: Callable[[etree._Element], None]) -> bytes:
    """Change content after it was signed."""
    return edit(signed_xml, fn)


def inject_comment(signed_xml, marker: str) -> bytes:
    """Splits the text of every NameID and AttributeValue at the first `marker` with an empty
    comment: `victim@example.com.evil.test` becomes `victim@example.com<!---->.evil.test` (marker
    ".evil.test"). Exclusive c14n without comments ignores the comment, so the signature still
    verifies; a reader that takes only the first text node sees `victim@example.com`."""
    r = root(signed_xml)
    for el in r.iter(_q("saml", "NameID"), _q("saml", "AttributeValue")):
        if el.text and marker in el.text:
            head, tail = el.text.split(marker, 1)
            el.text = head
            c = etree.Comment("")
            c.tail = marker + tail
            el.insert(0, c)
    return text(r)


def with_doctype(signed_xml) -> bytes:
    """A DTD with an entity, before a (validly signed) response."""
    body = signed_xml if isinstance(signed_xml, bytes) else signed_xml.encode()
    if body.startswith(b"<?xml"):
        body = body.split(b"?>", 1)[1].lstrip()
    tag = body[1:body.index(b" ")].decode()
    return f'<?xml version="1.0"?>\n<!DOCTYPE {tag} [<!ENTITY latch "latch">]>\n'.encode() + body


def _evil_copy(a: etree._Element, name_id: str, email_attr: Optional[str], *, new_id: Optional[str] = None):
    evil = copy.deepcopy(a)
    _strip_signatures(evil)
    evil.find("saml:Subject/saml:NameID", NS).text = name_id
    if email_attr:
        for at in evil.iter(_q("saml", "Attribute")):
            if at.get("Name") == email_attr:
                at.find("saml:AttributeValue", NS).text = name_id
    if new_id:
        evil.set("ID", new_id)
    return evil


def wrap(signed_xml, variant: str, evil_name_id: str, email_attr: Optional[str]) -> bytes:
    """XML signature wrapping of a response whose assertion is signed (not the response):

    extensions:  Response[Extensions[signed original], evil]        (evil with the original's ID)
    object:      Response[evil[... Signature(original's)[Object[signed original]]]]
    evil_first:  Response[evil (same ID, unsigned), signed original]
    signed_first:Response[signed original, evil (same ID, unsigned)]
    """
    r = root(signed_xml)
    a = assertion(r)
    evil = _evil_copy(a, evil_name_id, email_attr)
    if variant == "extensions":
        ext = etree.Element(_q("samlp", "Extensions"))
        r.replace(a, evil)
        r.find("saml:Issuer", NS).addnext(ext)
        ext.append(a)
    elif variant == "object":
        evil.set("ID", a.get("ID") + "-evil")
        sig = copy.deepcopy(a.find("ds:Signature", NS))
        obj = etree.SubElement(sig, f"{{{DS}}}Object")
        obj.append(a)  # moves the signed original into the Object
        evil.find("saml:Issuer", NS).addnext(sig)
        r.insert(list(r).index(r.find("samlp:Status", NS)) + 1, evil)
    elif variant == "evil_first":
        a.addprevious(evil)
    elif variant == "signed_first":
        a.addnext(evil)
    else:
        raise ValueError(variant)
    return text(r)


def wrap_response(signed_response_xml, evil_unsigned_xml) -> bytes:
    """Wrapping of a response signed as a whole (assertion unsigned): the evil response (same ID as
    the signed one) carries the signed original inside its Extensions."""
    good = root(signed_response_xml)
    evil = root(evil_unsigned_xml)
    _strip_signatures(evil)
    _strip_signatures(assertion(evil))
    evil.set("ID", good.get("ID"))
    ext = etree.Element(_q("samlp", "Extensions"))
    evil.find("saml:Issuer", NS).addnext(ext)
    ext.append(good)
    return text(evil)
