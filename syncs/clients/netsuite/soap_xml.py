"""The hot paths of NetSuite: records rendered to SuiteTalk XML, write responses read, and search results read,
straight from the schema zeep has loaded.

Why not zeep's own objects: zeep builds a value object holding every element of the record's type (a Customer has
138, a sales order line 80) for each record and walks them all, which made a 100-record upsertList cost the hub about
70 ms of CPU and the response as much again, and a 1,000-payment search page a second: more than the rest of the sync
together. This module walks only the fields a record carries, with the order, namespaces and value conversions of
the same zeep types, so the XML is what zeep would send and the values what zeep would read. Unknown fields and
values that XML cannot carry fail that record alone, before any call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
XSI_NIL = f"{{{XSI}}}nil"
# The key of a value dict that names its derived type: (QName for xsi:type, the zeep type).
XSI_TYPE_KEY = "_xsi_type"


class RecordRenderError(ValueError):
    """A record that cannot be written as SuiteTalk XML (a field its type lacks, a value XML cannot carry)."""


@dataclass(frozen=True)
class _Child:
    name: str
    tag: str  # "{namespace}name"
    xsd_type: object  # zeep type
    complex: bool
    many: bool
    position: int  # in the type's sequence


@dataclass(frozen=True)
class _Layout:
    by_name: dict  # element name → _Child
    by_tag: dict  # "{namespace}name" → _Child
    attributes: dict  # attribute name → zeep Attribute


# Keyed by id, with the type kept beside its layout so that an id is never taken for another type's.
_layouts: dict[int, tuple[object, _Layout]] = {}


def _layout(xsd_type) -> _Layout:
    """A complex type's elements and attributes, read from zeep once per type."""
    cached = _layouts.get(id(xsd_type))
    if cached is not None and cached[0] is xsd_type:
        return cached[1]
    children = [_Child(name=name, tag=element.qname.text, xsd_type=element.type,
                       complex=hasattr(element.type, "elements"),
                       many=element.max_occurs == "unbounded" or (element.max_occurs or 1) > 1, position=position)
                for position, (name, element) in enumerate(xsd_type.elements)]
    layout = _Layout(by_name={child.name: child for child in children},
                     by_tag={child.tag: child for child in children}, attributes=dict(xsd_type.attributes))
    _layouts[id(xsd_type)] = (xsd_type, layout)
    return layout


class RecordRenderer:
    """Renders plain dicts as elements of zeep's complex types. A dict's keys are the type's attribute and element
    names; a nested dict is a complex value, a list repeats an element that may repeat."""

    def __init__(self):
        # What the last rendered record lost on the way (characters XML cannot carry), for its attempt to say.
        self.notes: list[str] = []

    def subelement(self, parent, tag, xsd_type, value: dict, *, xsi_type: etree.QName | None = None) -> etree._Element:
        """Render `value` as a new last child of `parent`; nothing is left behind if it cannot be rendered.
        (Built in place: an element moved between trees can have its generated prefixes reconciled wrongly.)"""
        self.notes = []
        node = etree.SubElement(parent, tag)
        try:
            if xsi_type is not None:
                node.set(XSI_TYPE, xsi_type)
            self._fill(node, xsd_type, value)
        except (ValueError, TypeError) as error:
            parent.remove(node)
            raise error if isinstance(error, RecordRenderError) else RecordRenderError(str(error)) from error
        return node

    def _fill(self, node, xsd_type, value: dict) -> None:
        if not isinstance(value, dict):
            raise RecordRenderError(f"{xsd_type.name} needs a structured value, not {value!r}")
        layout = _layout(xsd_type)
        children = []
        for name, item in value.items():
            if item is None or name == XSI_TYPE_KEY:
                continue
            if name in layout.attributes:
                node.set(name, _text(layout.attributes[name].type, item, name, self.notes))
                continue
            child = layout.by_name.get(name)
            if child is None:
                raise RecordRenderError(f"{xsd_type.name} has no field {name!r}")
            children.append((child, item))
        for child, item in sorted(children, key=lambda entry: entry[0].position):
            for one in (item if child.many and isinstance(item, list) else [item]):
                element = etree.SubElement(node, child.tag)
                if child.complex and isinstance(one, dict) and one.get(XSI_TYPE_KEY) is not None:
                    # A value of a derived type where the schema names an abstract one (a customField's
                    # StringCustomFieldRef, DoubleCustomFieldRef …): (its QName, its zeep type).
                    qname, derived = one[XSI_TYPE_KEY]
                    element.set(XSI_TYPE, qname)
                    self._fill(element, derived, one)
                elif child.complex:
                    self._fill(element, child.xsd_type, one)
                else:
                    element.text = _text(child.xsd_type, one, child.name, self.notes)


# Characters XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets): lxml would refuse the whole request.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(xsd_type, value, name: str, notes: list[str]) -> str:
    if isinstance(value, (dict, list)):
        raise RecordRenderError(f"{name!r} takes a single value, not {value!r}")
    text = xsd_type.xmlvalue(value)
    # A stray control character (a bell pasted into a name) is no reason to refuse the record: it is removed, and
    # the attempt says so.
    cleaned, removed = NOT_XML.subn("", text)
    if removed:
        notes.append(f"{name}: removed {removed} character(s) XML cannot carry ({text!r} → {cleaned!r})")
    return cleaned


@dataclass
class WriteResponse:
    success: bool
    internal_id: str
    external_id: str
    code: str
    message: str


def write_responses(body: etree._Element, *, messages_ns: str, core_ns: str) -> list[WriteResponse] | None:
    """The writeResponse entries of an addList/updateList/upsertList answer's Body, in order; None if the body
    holds no writeResponseList (let zeep read it, e.g. a fault)."""
    response_list = body.find(f"*/{{{messages_ns}}}writeResponseList")
    if response_list is None:
        return None
    found = []
    for write in response_list.iterfind(f"{{{messages_ns}}}writeResponse"):
        status = write.find(f"{{{core_ns}}}status")
        success = status is not None and status.get("isSuccess", "").strip() in ("true", "1")
        code = message = ""
        if not success and status is not None:
            detail = status.find(f"{{{core_ns}}}statusDetail")
            if detail is not None:
                code = (detail.findtext(f"{{{core_ns}}}code") or "").strip()
                message = (detail.findtext(f"{{{core_ns}}}message") or "").strip()
        ref = write.find(f"{{{messages_ns}}}baseRef")
        found.append(WriteResponse(
            success=success,
            internal_id=(ref.get("internalId") or "") if ref is not None else "",
            external_id=(ref.get("externalId") or "") if ref is not None else "",
            code=code, message=message,
        ))
    return found


class RecordReader:
    """Reads record elements (a search answer's records) as plain dicts: each field as zeep would convert it, absent
    fields left out. The record's type comes from its xsi:type, looked up with `type_named(qname)`."""

    def __init__(self, type_named):
        self._type_named = type_named

    def record(self, element) -> dict:
        return self._read(element, self._xsi_type(element))

    def _xsi_type(self, element):
        value = element.get(XSI_TYPE)
        if not value:
            return None
        prefix, _, local = value.rpartition(":")
        return self._type_named(etree.QName(element.nsmap.get(prefix or None), local).text)

    def _read(self, element, xsd_type) -> dict:
        if xsd_type is None:
            raise RecordRenderError(f"No type for element {element.tag}")
        layout = _layout(xsd_type)
        value = {}
        for name, attribute in layout.attributes.items():
            text = element.get(name)
            if text is not None:
                value[name] = _python(attribute.type, text)
            elif attribute.default is not None:
                value[name] = attribute.default  # the schema's default, unconverted, as zeep gives it
        for node in element:
            child = layout.by_tag.get(node.tag) if isinstance(node.tag, str) else None
            if child is None:
                continue  # a comment, or an element not in this type (zeep's lax reading drops it too)
            if node.get(XSI_NIL) in ("true", "1"):
                item = None
            elif child.complex:
                item = self._read(node, self._xsi_type(node) or child.xsd_type)
            else:
                item = _python(child.xsd_type, node.text) if node.text is not None else None
            if child.many:
                value.setdefault(child.name, []).append(item)
            else:
                value[child.name] = item
        if not layout.by_tag and element.text and element.text.strip():
            value["_value_1"] = element.text  # simple content with attributes, as zeep names it
        return value


def _python(xsd_type, text: str):
    try:
        return xsd_type.pythonvalue(text)
    except (TypeError, ValueError):
        return None  # as zeep reads a value it cannot convert
