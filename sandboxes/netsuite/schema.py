"""A type model of the XSD set, and the codec between XML elements and stored JSON bodies.

Records are stored as plain JSON (field name -> value) and written back out in exactly the order and
namespaces the XSD demands, because zeep in strict mode rejects anything else. Deriving both
directions from the schema rather than hand-writing each record keeps every field of Customer,
SalesOrder and friends round-tripping, not only the ones the hub uses today.

Stored shapes: a simple value is its lexical text, except xsd:dateTime which is epoch milliseconds
(UTC) so it can be re-emitted in the account's time zone; a complex value is a dict of attributes and
child fields; a repeated child is a list; an element typed by xsi:type keeps it under "xsiType" as
"{namespace}Name".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from lxml import etree

from .wsdl import XSD_NS

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_TYPE_KEY = "xsiType"


@dataclass
class ElementDecl:
    name: str
    namespace: str
    type: str  # clark name of the type (of the referenced global element while ref is True)
    many: bool
    ref: bool = False

    @property
    def tag(self) -> str:
        return f"{{{self.namespace}}}{self.name}"


@dataclass
class ComplexType:
    name: str
    base: str | None
    own_elements: list[ElementDecl]
    own_attributes: list[str]
    simple_content: bool
    abstract: bool
    # filled in by TypeModel._link
    elements: list[ElementDecl] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    by_name: dict[str, tuple[int, ElementDecl]] = field(default_factory=dict)
    linked: bool = False


def clark(qname: str, nsmap: dict) -> str:
    """'platformCore:RecordRef' -> '{urn:core_...}RecordRef', with the prefixes in scope at the node."""
    prefix, _, local = qname.rpartition(":")
    namespace = nsmap.get(prefix or None)
    return f"{{{namespace}}}{local}" if namespace else local


class TypeModel:
    def __init__(self, documents: dict[str, etree._Element]):
        self.complex: dict[str, ComplexType] = {}
        self.simple_base: dict[str, str] = {}  # simple type -> its restriction base
        self.elements: dict[str, str] = {}  # global element clark name -> type
        self.derived: dict[str, set[str]] = {}
        complex_nodes = []
        for document in documents.values():
            target = document.get("targetNamespace")
            for node in document:
                if node.tag == f"{{{XSD_NS}}}element":
                    self.elements[f"{{{target}}}{node.get('name')}"] = clark(node.get("type"), node.nsmap)
                elif node.tag == f"{{{XSD_NS}}}simpleType":
                    restriction = node.find(f"{{{XSD_NS}}}restriction")
                    base = clark(restriction.get("base"), node.nsmap) if restriction is not None else f"{{{XSD_NS}}}string"
                    self.simple_base[f"{{{target}}}{node.get('name')}"] = base
                elif node.tag == f"{{{XSD_NS}}}complexType":
                    complex_nodes.append((target, node))
        for target, node in complex_nodes:
            self._add_complex(target, node)
        for name in self.complex:
            self._link(name)
        for name, ctype in self.complex.items():
            base = ctype.base
            while base:
                self.derived.setdefault(base, set()).add(name)
                base = self.complex[base].base if base in self.complex else None

    def _add_complex(self, target: str, node: etree._Element) -> None:
        name = f"{{{target}}}{node.get('name')}"
        base = None
        simple_content = False
        container = node
        for wrapper in ("complexContent", "simpleContent"):
            content = node.find(f"{{{XSD_NS}}}{wrapper}")
            if content is not None:
                extension = content.find(f"{{{XSD_NS}}}extension")
                if extension is None:
                    extension = content.find(f"{{{XSD_NS}}}restriction")
                base = clark(extension.get("base"), node.nsmap)
                simple_content = wrapper == "simpleContent"
                container = extension
        elements = []
        for child in container.iter(f"{{{XSD_NS}}}element"):
            many = child.get("maxOccurs", "1") != "1"
            if child.get("ref"):
                ref = clark(child.get("ref"), child.nsmap)
                namespace, _, local = ref[1:].partition("}")
                elements.append(ElementDecl(local, namespace, ref, many, ref=True))  # type resolved in _link
            else:
                elements.append(ElementDecl(child.get("name"), target, clark(child.get("type"), child.nsmap), many))
        attributes = [a.get("name") for a in container.iter(f"{{{XSD_NS}}}attribute") if a.get("name")]
        if base and base.startswith(f"{{{XSD_NS}}}"):
            base = None  # simple content over a built-in type: nothing to inherit
        self.complex[name] = ComplexType(name, base, elements, attributes, simple_content, node.get("abstract") == "true")

    def _link(self, name: str) -> ComplexType:
        ctype = self.complex[name]
        if ctype.linked:
            return ctype
        ctype.linked = True
        elements: list[ElementDecl] = []
        attributes: list[str] = []
        if ctype.base and ctype.base in self.complex:
            base = self._link(ctype.base)
            elements.extend(base.elements)
            attributes.extend(base.attributes)
            ctype.simple_content = ctype.simple_content or base.simple_content
        for decl in ctype.own_elements:
            if decl.ref:
                decl = ElementDecl(decl.name, decl.namespace, self.elements[decl.type], decl.many)
            elements.append(decl)
        attributes.extend(ctype.own_attributes)
        ctype.elements = elements
        ctype.attributes = attributes
        ctype.by_name = {decl.name: (index, decl) for index, decl in enumerate(elements)}
        return ctype

    def is_subtype(self, name: str, base: str) -> bool:
        return name == base or name in self.derived.get(base, ())

    def simple_kind(self, type_name: str) -> str:
        seen = 0
        while type_name in self.simple_base and seen < 10:
            type_name = self.simple_base[type_name]
            seen += 1
        if type_name == f"{{{XSD_NS}}}dateTime":
            return "dateTime"
        if type_name == f"{{{XSD_NS}}}boolean":
            return "boolean"
        return "text"


def parse_datetime(text: str, zone: ZoneInfo) -> int:
    """xsd:dateTime -> epoch ms. A value without an offset is read in the account's zone, as NetSuite does."""
    value = text.strip().replace("Z", "+00:00")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp() * 1000)


def format_datetime(epoch_ms: int, zone: ZoneInfo) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=zone)
    offset = moment.strftime("%z")
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{epoch_ms % 1000:03d}{offset[:3]}:{offset[3:]}"


class Codec:
    def __init__(self, model: TypeModel, zone: ZoneInfo, prefixes: dict[str, str]):
        self.model = model
        self.zone = zone
        # namespace -> prefix declared on the response envelope, for xsi:type values
        self.prefixes = prefixes

    # -- XML -> JSON ---------------------------------------------------------------------------
    def decode(self, element: etree._Element, type_name: str):
        xsi_type = element.get(XSI_TYPE)
        explicit = None
        if xsi_type:
            explicit = clark(xsi_type, element.nsmap)
            type_name = explicit
        ctype = self.model.complex.get(type_name)
        if ctype is None:
            kind = self.model.simple_kind(type_name)
            text = element.text or ""
            if kind == "dateTime":
                return parse_datetime(text, self.zone)
            if kind == "boolean":
                return "true" if text.strip() in ("true", "1") else "false"
            return text
        value: dict = {}
        if explicit:
            value[XSI_TYPE_KEY] = explicit
        for attribute in ctype.attributes:
            if element.get(attribute) is not None:
                value[attribute] = element.get(attribute)
        if ctype.simple_content:
            value["value"] = element.text or ""
            return value
        for child in element:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            found = ctype.by_name.get(local)
            if found is None:
                continue  # the validator has already refused anything unexpected
            decl = found[1]
            decoded = self.decode(child, decl.type)
            if decl.many:
                value.setdefault(local, []).append(decoded)
            else:
                value[local] = decoded
        return value

    # -- JSON -> XML ---------------------------------------------------------------------------
    def encode(self, parent: etree._Element, tag: str, value, type_name: str, xsi_type: str | None = None):
        element = etree.SubElement(parent, tag)
        if isinstance(value, dict) and value.get(XSI_TYPE_KEY):
            xsi_type = value[XSI_TYPE_KEY]
        if xsi_type:
            type_name = xsi_type
            namespace, _, local = xsi_type[1:].partition("}")
            element.set(XSI_TYPE, f"{self.prefixes[namespace]}:{local}")
        ctype = self.model.complex.get(type_name)
        if ctype is None:
            if self.model.simple_kind(type_name) == "dateTime" and isinstance(value, int):
                element.text = format_datetime(value, self.zone)
            else:
                element.text = str(value)
            return element
        for attribute in ctype.attributes:
            if attribute in value and value[attribute] is not None:
                element.set(attribute, str(value[attribute]))
        if ctype.simple_content:
            element.text = str(value.get("value", ""))
            return element
        present = []
        for key, child_value in value.items():
            found = ctype.by_name.get(key)
            if found is not None and child_value is not None:
                present.append((found[0], found[1], child_value))
        present.sort(key=lambda item: item[0])
        for _, decl, child_value in present:
            if decl.many:
                for item in child_value:
                    self.encode(element, decl.tag, item, decl.type)
            else:
                self.encode(element, decl.tag, child_value, decl.type)
        return element
