"""Oracle's WSDL and XSD set, read from wherever NETSUITE_WSDL points (never from the project).

The files are loaded once into memory: the sandbox serves them from there, compiles the request
validator from there (through an lxml resolver, so schema imports never touch the network) and
derives its type model from there.
"""
from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
import urllib.request
from pathlib import Path

from lxml import etree

XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# Our own minimal SOAP 1.1 envelope schema: Oracle's set does not include one, and validating the
# whole envelope in one pass is what lets a misplaced header or a foreign body element be refused.
# Headers are lax (only declared ones are checked); the body is strict.
ENVELOPE_XSD = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="{XSD_NS}" xmlns:tns="{SOAP_ENV_NS}" targetNamespace="{SOAP_ENV_NS}"
           elementFormDefault="qualified" attributeFormDefault="qualified">
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header" minOccurs="0">
          <xs:complexType>
            <xs:sequence><xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
            <xs:anyAttribute namespace="##other" processContents="lax"/>
          </xs:complexType>
        </xs:element>
        <xs:element name="Body">
          <xs:complexType>
            <xs:sequence><xs:any namespace="##any" processContents="strict" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
            <xs:anyAttribute namespace="##other" processContents="lax"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Fault">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="faultcode" type="xs:QName" form="unqualified"/>
        <xs:element name="faultstring" type="xs:string" form="unqualified"/>
        <xs:element name="faultactor" type="xs:anyURI" form="unqualified" minOccurs="0"/>
        <xs:element name="detail" form="unqualified" minOccurs="0">
          <xs:complexType>
            <xs:sequence><xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
""".encode()
ENVELOPE_XSD_NAME = "__sandbox_soap_envelope__.xsd"


def default_location() -> str | None:
    return os.environ.get("NETSUITE_WSDL") or None


def _is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https", "file")


def _read(location: str) -> bytes:
    try:
        if _is_url(location):
            with urllib.request.urlopen(location, timeout=30) as response:
                return response.read()
        return Path(location).read_bytes()
    except (OSError, ValueError) as error:
        # Whatever failed, the message names what was tried: a missing XSD deep in the set is otherwise a mystery.
        raise OSError(f"cannot read {location}: {error}") from error


def _join(base: str, relative: str) -> str:
    if _is_url(base):
        return urllib.parse.urljoin(base, relative)
    return os.path.normpath(os.path.join(os.path.dirname(base), relative))


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


class WsdlSet:
    """The WSDL plus every XSD it reaches, keyed by the relative path the WSDL uses for it."""

    def __init__(self, location: str):
        if not location:
            raise ValueError("no WSDL location: pass --wsdl or set NETSUITE_WSDL")
        if _is_url(location) and location.startswith("file://"):
            location = urllib.request.url2pathname(urllib.parse.urlsplit(location).path)
        self.location = location
        self.wsdl_bytes = _read(location)
        # relative name (e.g. "xsd/platform.core.xsd") -> bytes
        self.xsd_files: dict[str, bytes] = {}
        self._collect(etree.fromstring(self.wsdl_bytes, _safe_parser()), "")

    def _collect(self, document: etree._Element, relative_dir: str) -> None:
        for node in document.iter(f"{{{XSD_NS}}}import", f"{{{XSD_NS}}}include"):
            schema_location = node.get("schemaLocation")
            if not schema_location:
                continue
            name = posixpath.normpath(posixpath.join(relative_dir, schema_location))
            if name in self.xsd_files:
                continue
            content = _read(_join(self.location, name))
            self.xsd_files[name] = content
            self._collect(etree.fromstring(content, _safe_parser()), posixpath.dirname(name))

    def wsdl_for(self, endpoint: str) -> bytes:
        """The WSDL with soap:address pointing at this sandbox, so a client that trusts it lands here."""
        # A byte-level edit keeps Oracle's document otherwise untouched.
        return re.sub(rb'(<soap:address\s+location=")[^"]*(")',
                      lambda match: match.group(1) + endpoint.encode() + match.group(2), self.wsdl_bytes)

    def xsd(self, name: str) -> bytes | None:
        return self.xsd_files.get(posixpath.normpath(name.lstrip("/")))

    def schema_documents(self) -> dict[str, etree._Element]:
        return {name: etree.fromstring(content, _safe_parser()) for name, content in self.xsd_files.items()}

    def compile_validator(self) -> etree.XMLSchema:
        """One XMLSchema over the envelope and every XSD; imports are served from memory."""
        files = dict(self.xsd_files)
        files[ENVELOPE_XSD_NAME] = ENVELOPE_XSD
        base = "sandbox://wsdl/"

        class MemoryResolver(etree.Resolver):
            def resolve(self, url, public_id, context):
                name = url[len(base):] if url.startswith(base) else None
                if name is not None:
                    name = posixpath.normpath(name)
                if name in files:
                    return self.resolve_string(files[name], context, base_url=url)
                # Anything else would be a network or disk fetch we never want from untrusted input.
                return self.resolve_string(b"<x/>", context)

        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        parser.resolvers.add(MemoryResolver())
        wsdl = etree.fromstring(self.wsdl_bytes, _safe_parser())
        types_schema = wsdl.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
        imports = "".join(
            f'<xsd:import namespace="{node.get("namespace")}" schemaLocation="{node.get("schemaLocation")}"/>'
            for node in types_schema.iter(f"{{{XSD_NS}}}import")
        )
        wrapper = (
            f'<xsd:schema xmlns:xsd="{XSD_NS}" elementFormDefault="qualified">'
            f'<xsd:import namespace="{SOAP_ENV_NS}" schemaLocation="{ENVELOPE_XSD_NAME}"/>{imports}</xsd:schema>'
        ).encode()
        document = etree.fromstring(wrapper, parser, base_url=base + "wrapper.xsd")
        return etree.XMLSchema(document)
