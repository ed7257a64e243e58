"""The record metadata catalog: GET /services/rest/record/v1/metadata-catalog/{type} with
`Accept: application/schema+json` answers the record type's JSON schema (Oracle's "Working with OpenAPI 3.0 and JSON
Schema Metadata" pages).

The sandbox reads the fields from the XSD types SOAP serves, so the catalog is there only when the sandbox has a
WSDL. The account's custom fields are listed beside them as plain properties named by script id, each marked
`"x-ns-custom-field": true` with its label as `title` (a custom column field under the sublist's line schema), as
NetSuite's catalog lists a record's custom fields ("Working with JSON Schema Metadata", section_1545129726.html, shows
`custentity_integer` as {"title", "type": "integer", "format": "int64", "nullable", "x-ns-custom-field": true}). NetSuite links a sublist's line schema by `$ref` (salesOrder-itemCollection, salesOrder-itemElement); the
sandbox inlines it under the sublist as {"properties": {"items": {"type": "array", "items": {line schema}}}}.
"""
from __future__ import annotations

from .. import custom_fields
from .answers import Answer
from .errors import RestError
from .fields import SOAP_SUBLISTS
from .record_service import kind_of

SCHEMA = "application/schema+json"
NOT_FIELDS = {"customFieldList", "nullFieldList"}


class MetadataCatalog:
    def __init__(self, model, store=None):
        self.model = model
        self.store = store   # where the custom field definitions are read (none: standard fields only)

    def schema(self, record_type: str) -> Answer:
        kind = kind_of(record_type)
        if kind.xsd_type not in self.model.complex:
            raise RestError(404, "NONEXISTENT_ID", f"Record type '{record_type}' has no metadata.")
        properties = self._properties(kind.xsd_type)
        if self.store is not None:
            properties.update(custom_fields.catalog_properties(self.store, kind.type, "body"))
            lines = ((properties.get("item") or {}).get("properties") or {}).get("items", {}).get("items")
            if lines is not None:
                lines["properties"].update(custom_fields.catalog_properties(self.store, kind.type, "line"))
        return Answer(200, {"type": "object", "title": kind.label, "properties": properties}, content_type=SCHEMA)

    def _properties(self, type_name: str) -> dict:
        ctype = self.model._link(type_name)
        properties: dict = {}
        for name in ctype.attributes:
            properties["id" if name == "internalId" else name] = {"type": "string"}
        for decl in ctype.elements:
            if decl.name in NOT_FIELDS:
                continue
            if decl.name in SOAP_SUBLISTS:
                sublist, inner = SOAP_SUBLISTS[decl.name]
                line = next((d for d in self.model._link(decl.type).elements if d.name == inner), None)
                lines = self._properties(line.type) if line is not None and line.type in self.model.complex else {}
                properties[sublist] = {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object", "properties": lines}}}}
                continue
            properties[decl.name] = {"type": "object" if decl.type in self.model.complex else "string"}
        return properties
