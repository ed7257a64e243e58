"""Describe, the integration User and /limits: what clients other than the hub read after logging in."""
import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandboxes.salesforce.records import USER_ID

pytestmark = pytest.mark.slow


def test_it_lets_clients_query_the_integration_user(sandbox, sf):
    result = sf.query(f"SELECT Id, Username, Name FROM User WHERE Id = '{USER_ID}'")
    assert result["totalSize"] == 1
    user = result["records"][0]
    assert user["Id"] == USER_ID and user["Username"] == sandbox.username and user["Name"] == "Integration User"
    by_name = sf.query(f"SELECT Id, TimeZoneSidKey FROM User WHERE Username = '{sandbox.username}'")["records"]
    assert by_name[0]["Id"] == USER_ID and by_name[0]["TimeZoneSidKey"] == "America/New_York"


def test_it_refuses_to_create_or_change_users(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.User.update(USER_ID, {"FirstName": "Mallory"})
    assert caught.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    with pytest.raises(SalesforceMalformedRequest):
        sf.User.create({})
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1


def test_it_describes_every_object_with_the_master_record_type(sf):
    listed = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert {"Account", "Opportunity", "User"} <= set(listed)
    assert listed["User"]["keyPrefix"] == "005" and listed["User"]["createable"] is False
    assert listed["Account"]["urls"]["describe"] == "/services/data/v59.0/sobjects/Account/describe"
    for name in ("Account", "Remittance__c", "User"):
        described = getattr(sf, name).describe()
        assert described["recordTypeInfos"] == [{
            "active": True, "available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
            "master": True, "name": "Master", "recordTypeId": "012000000000000AAA",
            "urls": {"layout": f"/services/data/v59.0/sobjects/{name}/describe/layouts/012000000000000AAA"}}]
        assert all(f["soapType"] for f in described["fields"])
    account = sf.Account.describe()
    contacts = next(r for r in account["childRelationships"] if r["relationshipName"] == "Contacts")
    assert contacts["childSObject"] == "Contact" and contacts["field"] == "AccountId"
    fields = {f["name"]: f for f in account["fields"]}
    assert fields["Id"]["soapType"] == "tns:ID" and fields["CreatedDate"]["soapType"] == "xsd:dateTime"


def test_it_lists_the_limits_a_real_org_lists(sf, api):
    limits = api.get(api.base + "/limits").json()
    for name in ("DailyApiRequests", "DailyAsyncApexExecutions", "DailyBulkApiBatches",
                 "DailyBulkV2QueryFileStorageMB", "DailyBulkV2QueryJobs", "DailyDurableStreamingApiEvents",
                 "DailyStreamingApiEvents", "DataStorageMB", "FileStorageMB", "HourlyODataCallout",
                 "ConcurrentAsyncGetReportInstances", "MassEmail", "SingleEmail"):
        assert set(limits[name]) == {"Max", "Remaining"} and 0 <= limits[name]["Remaining"] <= limits[name]["Max"]
    assert limits["DataStorageMB"]["Remaining"] < limits["DataStorageMB"]["Max"]   # the seeded records take space


def test_it_counts_bulk_query_jobs_and_ingest_batches_in_the_limits(sf, api):
    def remaining():
        limits = api.get(api.base + "/limits").json()
        return limits["DailyBulkV2QueryJobs"]["Remaining"], limits["DailyBulkApiBatches"]["Remaining"]

    jobs_before, batches_before = remaining()
    list(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0.05))
    sf.bulk2.Account.insert(records=[{"Name": f"Limits Bulk {n}"} for n in range(3)], wait=0.05)
    jobs_after, batches_after = remaining()
    assert jobs_after == jobs_before - 1
    assert batches_after == batches_before - 1



def test_it_reports_the_api_requests_left_as_the_limit_header_counts_them(api):
    response = api.get(api.base + "/limits")
    used, total = map(int, response.headers["Sforce-Limit-Info"].split("=")[1].split("/"))
    assert response.json()["DailyApiRequests"] == {"Max": total, "Remaining": total - used}


# Members of DescribeGlobalSObjectResult and Field in the SOAP/REST API reference, which typed clients
# (jsforce's and the CLI's types) declare as always present.
GLOBAL_MEMBERS = {
    "activateable", "createable", "custom", "customSetting", "deepCloneable", "deletable", "deprecatedAndHidden",
    "feedEnabled", "hasSubtypes", "idEnabled", "isInterface", "isSubtype", "keyPrefix", "label", "labelPlural",
    "layoutable", "mergeable", "mruEnabled", "name", "queryable", "replicateable", "retrieveable", "searchable",
    "triggerable", "undeletable", "updateable", "urls"}
FIELD_MEMBERS = {
    "aggregatable", "autoNumber", "byteLength", "calculated", "calculatedFormula", "cascadeDelete", "caseSensitive",
    "compoundFieldName", "controllerName", "createable", "custom", "defaultValue", "defaultValueFormula",
    "defaultedOnCreate", "dependentPicklist", "deprecatedAndHidden", "digits", "displayLocationInDecimal",
    "encrypted", "externalId", "extraTypeInfo", "filterable", "filteredLookupInfo", "groupable", "highScaleNumber",
    "htmlFormatted", "idLookup", "inlineHelpText", "label", "length", "mask", "maskType", "name", "nameField",
    "namePointing", "nillable", "permissionable", "picklistValues", "precision", "queryByDistance",
    "referenceTargetField", "referenceTo", "relationshipName", "relationshipOrder", "restrictedDelete",
    "restrictedPicklist", "scale", "soapType", "sortable", "type", "unique", "updateable", "writeRequiresMasterRead"}


def test_it_gives_every_describe_member_typed_clients_read(sf):
    for summary in sf.describe()["sobjects"]:
        assert GLOBAL_MEMBERS <= set(summary), GLOBAL_MEMBERS - set(summary)
    described = sf.Opportunity.describe()
    assert {"actionOverrides", "childRelationships", "compactLayoutable", "fields", "listviewable",
            "lookupLayoutable", "namedLayoutInfos", "networkScopeFieldName", "recordTypeInfos",
            "searchLayoutable", "supportedScopes"} <= set(described)
    for f in described["fields"]:
        assert FIELD_MEMBERS <= set(f), FIELD_MEMBERS - set(f)
    groupable = {f["name"]: f["groupable"] for f in described["fields"]}
    assert groupable["StageName"] and not groupable["Amount"] and not groupable["CreatedDate"]
