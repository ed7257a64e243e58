"""Describe payloads (per object and global), built from the schema.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm
(the REST describe has the same members). Clients read more of it than the hub does: jsforce and the Salesforce CLI
read `sobjects[].name/label/keyPrefix/urls/queryable/...`, `fields[].soapType`, `childRelationships` and
`recordTypeInfos`, so every key a real org sends is present, with the value a plain org has.
"""
from . import schema

SOAP_TEXT = "xsd:string"
MASTER_RECORD_TYPE_ID = "012000000000000AAA"   # the id every org gives the Master record type


def _urls(obj: schema.SObject, version: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"compactLayouts": f"{base}/describe/compactLayouts", "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "describe": f"{base}/describe", "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts", "sobject": base}


def object_summary(obj: schema.SObject, version: str) -> dict:
    writable = obj.writable
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": writable, "custom": obj.custom, "customSetting": False, "deepCloneable": False,
        "deletable": writable, "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
        "idEnabled": True, "isInterface": False, "isSubtype": False, "keyPrefix": obj.key_prefix, "label": obj.label,
        "labelPlural": obj.label_plural, "layoutable": True, "mergeable": obj.name in ("Account", "Contact"),
        "mruEnabled": True, "name": obj.name, "queryable": True, "replicateable": True, "retrieveable": True,
        "searchable": True, "triggerable": True, "undeletable": writable, "updateable": writable,
        "urls": _urls(obj, version),
    }


def describe_global(version: str) -> dict:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [object_summary(obj, version) for obj in schema.OBJECTS]}


def describe_field(f: schema.Field) -> dict:
    is_number = f.type in schema.NUMBER_TYPES
    filterable = not (f.type == schema.TEXTAREA and f.length > 255)
    return {
        "aggregatable": filterable, "aiPredictionField": False, "autoNumber": f.auto_number,
        "byteLength": f.length * 3 if f.is_text else 0, "calculated": False, "calculatedFormula": None,
        "cascadeDelete": False, "caseSensitive": False, "compoundFieldName": None, "controllerName": None,
        "createable": f.createable, "custom": f.name.endswith("__c"), "defaultValue": None,
        "defaultValueFormula": None, "defaultedOnCreate": f.system or f.type == schema.BOOLEAN or f.auto_number,
        "dependentPicklist": False, "deprecatedAndHidden": False, "digits": 0, "displayLocationInDecimal": False,
        "encrypted": False, "externalId": f.external_id, "extraTypeInfo": None, "filterable": filterable,
        "filteredLookupInfo": None, "formulaTreatNullNumberAsZero": False,
        "groupable": f.groupable, "highScaleNumber": False, "htmlFormatted": False,
        "idLookup": f.name in ("Id", "Username") or f.external_id, "inlineHelpText": None, "label": f.label,
        "length": f.length if f.is_text else 0, "mask": None, "maskType": None, "name": f.name,
        "nameField": f.name == "Name", "namePointing": False, "nillable": f.nillable,
        "permissionable": not f.required and not f.system,
        "picklistValues": [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                           for v in f.picklist],
        "polymorphicForeignKey": False, "precision": f.precision if is_number else 0, "queryByDistance": False,
        "referenceTargetField": None, "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": f.restricted, "scale": f.scale if is_number else 0, "searchPrefilterable": False,
        "soapType": schema.SOAP_TYPES.get(f.type, SOAP_TEXT), "sortable": filterable, "type": f.type,
        "unique": f.unique, "updateable": f.updateable, "writeRequiresMasterRead": False,
    }


def master_record_type(obj: schema.SObject, version: str) -> dict:
    """Every object without record types of its own describes the Master record type."""
    return {"active": True, "available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
            "master": True, "name": "Master", "recordTypeId": MASTER_RECORD_TYPE_ID,
            "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/"
                               f"{MASTER_RECORD_TYPE_ID}"}}


def describe_object(obj: schema.SObject, version: str) -> dict:
    payload = object_summary(obj, version)
    payload.update({
        "actionOverrides": [],
        "childRelationships": [{"cascadeDelete": rel.cascade_delete, "childSObject": rel.child,
                                "deprecatedAndHidden": False, "field": rel.field, "junctionIdListNames": [],
                                "junctionReferenceTo": [], "relationshipName": rel.name, "restrictedDelete": False}
                               for rel in obj.child_relationships],
        "compactLayoutable": True, "defaultImplementation": None, "extendedBy": None, "extendsInterfaces": None,
        "fields": [describe_field(f) for f in obj.fields],
        "implementedBy": None, "implementsInterfaces": None, "listviewable": None, "lookupLayoutable": None,
        "namedLayoutInfos": [], "networkScopeFieldName": None,
        "recordTypeInfos": [master_record_type(obj, version)],
        "searchLayoutable": True, "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All " + obj.label_plural.lower(), "name": "everything"}],
    })
    return payload
