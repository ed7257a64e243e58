"""SOAP envelopes in and out: safe parsing of untrusted requests, NetSuite-style responses and faults."""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from lxml import etree

from . import faults
from .schema import XSI_NS, XSI_TYPE
from .wsdl import SOAP_ENV_NS

VERSION = "2023_2"
MESSAGES_NS = f"urn:messages_{VERSION}.platform.webservices.netsuite.com"
CORE_NS = f"urn:core_{VERSION}.platform.webservices.netsuite.com"
COMMON_NS = f"urn:common_{VERSION}.platform.webservices.netsuite.com"
FAULTS_NS = f"urn:faults_{VERSION}.platform.webservices.netsuite.com"
RELATIONSHIPS_NS = f"urn:relationships_{VERSION}.lists.webservices.netsuite.com"
ACCOUNTING_NS = f"urn:accounting_{VERSION}.lists.webservices.netsuite.com"
SALES_NS = f"urn:sales_{VERSION}.transactions.webservices.netsuite.com"
PURCHASES_NS = f"urn:purchases_{VERSION}.transactions.webservices.netsuite.com"
CUSTOMERS_NS = f"urn:customers_{VERSION}.transactions.webservices.netsuite.com"
SETUP_CUSTOM_NS = f"urn:customization_{VERSION}.setup.webservices.netsuite.com"
GENERAL_NS = f"urn:general_{VERSION}.transactions.webservices.netsuite.com"
AXIS_NS = "http://xml.apache.org/axis/"

# The prefixes NetSuite itself uses, declared once on the envelope so that records read as
# xsi:type="listRel:Customer" and the like.
RESPONSE_NSMAP = {
    "soapenv": SOAP_ENV_NS,
    "xsd": "http://www.w3.org/2001/XMLSchema",
    "xsi": XSI_NS,
    "platformMsgs": MESSAGES_NS,
    "platformCore": CORE_NS,
    "platformCommon": COMMON_NS,
    "listRel": RELATIONSHIPS_NS,
    "listAcct": ACCOUNTING_NS,
    "tranSales": SALES_NS,
    "tranPurch": PURCHASES_NS,
    "tranCust": CUSTOMERS_NS,
    "setupCustom": SETUP_CUSTOM_NS,
    "tranGeneral": GENERAL_NS,
}
_PREFIX_OF = {namespace: prefix for prefix, namespace in RESPONSE_NSMAP.items()}


def msg(name: str) -> str:
    return f"{{{MESSAGES_NS}}}{name}"


def core(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def qualified_type(clark: str) -> str:
    namespace, _, local = clark[1:].partition("}")
    return f"{_PREFIX_OF[namespace]}:{local}"


@dataclass
class Request:
    headers: dict[str, etree._Element]  # by local name: tokenPassport, searchPreferences, preferences ...
    operation: str
    body: etree._Element


def _parser() -> etree.XMLParser:
    # No entities, no DTD loading, no network, no huge trees: the envelope comes from anyone who can
    # reach the port.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_blank_text=True)


_validation_lock = threading.Lock()


def schema_problem(validator: etree.XMLSchema, root: etree._Element) -> str | None:
    """None when the document is valid, else libxml2's first complaint."""
    # One XMLSchema object serves every thread, and its error log is shared state.
    with _validation_lock:
        if validator.validate(root):
            return None
        error = validator.error_log.last_error
        return f"{error.message} (line {error.line})"


def parse_request(content: bytes, validator: etree.XMLSchema) -> Request:
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as error:
        raise faults.schema_violation(str(error)) from None
    if root.getroottree().docinfo.doctype:
        raise faults.schema_violation("A SOAP message must not contain a document type declaration.")
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise faults.schema_violation(f"Expected a SOAP 1.1 Envelope, got {root.tag}.")
    problem = schema_problem(validator, root)
    if problem:
        raise faults.schema_violation(problem)
    header = root.find(f"{{{SOAP_ENV_NS}}}Header")
    headers = {}
    if header is not None:
        for element in header:
            if isinstance(element.tag, str):
                headers[etree.QName(element).localname] = element
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    operations = [element for element in body if isinstance(element.tag, str)]
    if len(operations) != 1:
        raise faults.schema_violation("The SOAP body must hold exactly one operation element.")
    operation = operations[0]
    if etree.QName(operation).namespace != MESSAGES_NS:
        raise faults.schema_violation(f"{operation.tag} is not a NetSuite operation.")
    return Request(headers, etree.QName(operation).localname, operation)


def new_response(account: str) -> tuple[etree._Element, etree._Element]:
    """An empty response envelope with NetSuite's documentInfo header; returns (envelope, body)."""
    envelope = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap=RESPONSE_NSMAP)
    header = etree.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Header")
    info = etree.SubElement(header, msg("documentInfo"))
    etree.SubElement(info, msg("nsId")).text = f"WEBSERVICES_{account}_{secrets.token_hex(12)}"
    body = etree.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body")
    return envelope, body


def set_xsi_type(element: etree._Element, clark: str) -> None:
    element.set(XSI_TYPE, qualified_type(clark))


def serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_response(fault: faults.SoapFault) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap={"soapenv": SOAP_ENV_NS, "xsd": RESPONSE_NSMAP["xsd"],
                                                              "xsi": XSI_NS})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body")
    fault_element = etree.SubElement(body, f"{{{SOAP_ENV_NS}}}Fault")
    etree.SubElement(fault_element, "faultcode").text = fault.faultcode
    etree.SubElement(fault_element, "faultstring").text = fault.message
    detail = etree.SubElement(fault_element, "detail")
    if fault.detail:
        platform = etree.SubElement(detail, f"{{{FAULTS_NS}}}{fault.detail}", nsmap={"platformFaults": FAULTS_NS})
        etree.SubElement(platform, f"{{{FAULTS_NS}}}code").text = fault.code
        etree.SubElement(platform, f"{{{FAULTS_NS}}}message").text = fault.message
    etree.SubElement(detail, f"{{{AXIS_NS}}}hostname", nsmap={"ns1": AXIS_NS}).text = "netsuite-sandbox"
    return serialize(envelope)
