"""Describe payloads (per object and global), built from the schema."""
from . import schema

SOAP_TEXT = "xsd:string"


def _urls(obj: schema.SObject, version: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def object_summary(obj: schema.SObject, version: str) -> dict:
    return {
        "activateable": False, "createable": True, "custom": obj.custom, "customSetting": False,
        "deletable": True, "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
        "isSubtype": False, "keyPrefix": obj.key_prefix, "label": obj.label, "labelPlural": obj.label_plural,
        "layoutable": True, "mergeable": obj.name in ("Account", "Contact"), "mruEnabled": True, "name": obj.name,
        "queryable": True, "replicateable": True, "retrieveable": True, "searchable": True, "triggerable": True,
        "undeletable": True, "updateable": True, "urls": _urls(obj, version),
    }


def describe_global(version: str) -> dict:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [object_summary(obj, version) for obj in schema.OBJECTS]}


def describe_field(f: schema.Field) -> dict:
    is_number = f.type in schema.NUMBER_TYPES
    filterable = not (f.type == schema.TEXTAREA and f.length > 255)
    return {
        "aggregatable": filterable, "autoNumber": f.auto_number, "byteLength": f.length * 3 if f.is_text else 0,
        "calculated": False, "caseSensitive": False, "createable": f.createable, "custom": f.name.endswith("__c"),
        "defaultValue": None, "defaultedOnCreate": f.system or f.type == schema.BOOLEAN or f.auto_number,
        "digits": 0, "externalId": f.external_id, "filterable": filterable, "groupable": filterable and not is_number,
        "htmlFormatted": False, "idLookup": f.name == "Id" or f.external_id, "label": f.label,
        "length": f.length if f.is_text else 0, "name": f.name, "nameField": f.name == "Name",
        "nillable": f.nillable, "permissionable": not f.required and not f.system,
        "picklistValues": [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                           for v in f.picklist],
        "precision": f.precision if is_number else 0, "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship_name, "restrictedPicklist": f.restricted,
        "scale": f.scale if is_number else 0, "soapType": schema.SOAP_TYPES.get(f.type, SOAP_TEXT),
        "sortable": filterable, "type": f.type, "unique": f.unique, "updateable": f.updateable,
    }


def describe_object(obj: schema.SObject, version: str) -> dict:
    payload = object_summary(obj, version)
    payload.update({
        "childRelationships": [{"cascadeDelete": rel.cascade_delete, "childSObject": rel.child, "field": rel.field,
                                "relationshipName": rel.name, "restrictedDelete": False, "deprecatedAndHidden": False}
                               for rel in obj.child_relationships],
        "fields": [describe_field(f) for f in obj.fields],
        "recordTypeInfos": [],
    })
    return payload
