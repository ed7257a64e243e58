"""The sandbox driven over HTTPS by simple-salesforce, as the hub drives a real org."""
import datetime as dt

import pytest
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed
from simple_salesforce.exceptions import (SalesforceMalformedRequest, SalesforceMoreThanOneRecord,
                                          SalesforceResourceNotFound)
from simple_salesforce.format import format_external_id, format_soql

pytestmark = pytest.mark.slow


def error_code(caught) -> str:
    return caught.value.content[0]["errorCode"]


def test_it_logs_in_with_soap_and_points_the_client_at_itself(sandbox, sf):
    assert sf.sf_instance == sandbox.instance
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] >= 1250


def test_it_logs_in_with_the_oauth_password_grant(sandbox):
    sf = Salesforce(username=sandbox.username, password=sandbox.password + sandbox.security_token,
                    consumer_key=sandbox.consumer_key, consumer_secret=sandbox.consumer_secret,
                    domain=sandbox.domain, session=sandbox.session())
    assert sf.sf_instance == sandbox.instance
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1


def test_it_logs_in_with_the_oauth_client_credentials_grant(sandbox):
    sf = Salesforce(consumer_key=sandbox.consumer_key, consumer_secret=sandbox.consumer_secret,
                    domain=sandbox.domain, session=sandbox.session())
    assert sf.query("SELECT Id FROM Contact LIMIT 2")["totalSize"] == 2


def test_it_refuses_wrong_credentials_with_the_real_failures(sandbox):
    with pytest.raises(SalesforceAuthenticationFailed) as soap:
        Salesforce(username=sandbox.username, password="wrong", security_token=sandbox.security_token,
                   domain=sandbox.domain, session=sandbox.session())
    assert soap.value.code == "INVALID_LOGIN"
    with pytest.raises(SalesforceAuthenticationFailed) as oauth:
        Salesforce(username=sandbox.username, password=sandbox.password, consumer_key=sandbox.consumer_key,
                   consumer_secret=sandbox.consumer_secret, domain=sandbox.domain, session=sandbox.session())
    assert oauth.value.code == "invalid_grant"
    with pytest.raises(SalesforceAuthenticationFailed) as client:
        Salesforce(consumer_key=sandbox.consumer_key, consumer_secret="nope", domain=sandbox.domain,
                   session=sandbox.session())
    assert client.value.code == "invalid_client"


def test_it_pages_query_all_over_more_than_two_thousand_rows(sf):
    result = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName, Id")
    assert result["done"] is False and len(result["records"]) == 2000
    assert result["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    everything = sf.query_all("SELECT Id, LastName FROM Contact ORDER BY LastName, Id")
    ids = [r["Id"] for r in everything["records"]]
    assert everything["totalSize"] == len(ids) == len(set(ids)) >= 2500
    assert [r["LastName"].lower() for r in everything["records"]] == sorted(
        r["LastName"].lower() for r in everything["records"])


def test_it_honours_the_batch_size_query_option(sf):
    result = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(result["records"]) == 500
    more = sf.query_more(result["nextRecordsUrl"], identifier_is_url=True)
    assert len(more["records"]) == 500
    assert not {r["Id"] for r in more["records"]} & {r["Id"] for r in result["records"]}


def test_it_returns_parent_fields_nested_and_child_subqueries(sf):
    result = sf.query_all(
        "SELECT Id, Name, Account.Name, Broker__r.Name, Broker__r.Type, "
        "(SELECT Id, ProductCode, Quantity, UnitPrice, TotalPrice, PricebookEntry.Product2.Name "
        "FROM OpportunityLineItems ORDER BY ProductCode) "
        "FROM Opportunity WHERE StageName = 'Funded' AND Broker__c != null LIMIT 20")
    assert result["records"]
    for record in result["records"]:
        assert record["Account"]["attributes"]["type"] == "Account"
        assert record["Broker__r"]["Type"] == "Broker"
        items = record["OpportunityLineItems"]["records"]
        codes = [item["ProductCode"] for item in items]
        assert codes == sorted(codes) and {"FEE-ORIG", "FEE-UW"} <= set(codes)
        assert items[0]["PricebookEntry"]["Product2"]["Name"]
    unbrokered = sf.query("SELECT Id, Broker__r.Name, (SELECT Id FROM OpportunityLineItems) FROM Opportunity "
                          "WHERE Broker__c = null AND StageName = 'Declined' LIMIT 1")["records"][0]
    assert unbrokered["Broker__r"] is None and unbrokered["OpportunityLineItems"] is None


def test_it_filters_with_the_awkward_values_integrations_break_on(sf):
    for name in ["O'Brien & Sons", "Café Zürich GmbH", "株式会社サンプル商事", "Back\\Slash Trading"]:
        found = sf.query(format_soql("SELECT Id, Name FROM Account WHERE Name = {}", name))["records"]
        assert [r["Name"] for r in found] == [name]
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'acme corp'")["totalSize"] == 3
    like = sf.query(format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}%'", "100% Organic_"))["records"]
    assert [r["Name"] for r in like] == ["100% Organic_Foods LLC"]
    longest = sf.query("SELECT Name FROM Account WHERE Name LIKE 'Maximum Length%'")["records"][0]["Name"]
    assert len(longest) == 255


def test_it_filters_and_orders_like_soql(sf):
    rows = sf.query_all("SELECT Id, StageName, Amount, CloseDate FROM Opportunity WHERE StageName IN "
                        "('Funded', 'Approved') AND Amount >= 100000 AND CloseDate > 2000-01-01 "
                        "ORDER BY Amount DESC, Id")["records"]
    assert rows and all(r["StageName"] in ("Funded", "Approved") and r["Amount"] >= 100000 for r in rows)
    assert [r["Amount"] for r in rows] == sorted((r["Amount"] for r in rows), reverse=True)
    not_in = sf.query("SELECT COUNT() FROM Opportunity WHERE StageName NOT IN ('Funded', 'Declined')")["totalSize"]
    total = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    closed = sf.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = true")["totalSize"]
    assert not_in == total - closed
    page = sf.query("SELECT Id FROM Account ORDER BY Name NULLS LAST, Id LIMIT 5 OFFSET 5")["records"]
    first_ten = sf.query("SELECT Id FROM Account ORDER BY Name NULLS LAST, Id LIMIT 10")["records"]
    assert [r["Id"] for r in page] == [r["Id"] for r in first_ten[5:]]
    since = sf.query(format_soql("SELECT COUNT() FROM Account WHERE SystemModstamp > {}",
                                 dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)))
    assert since["totalSize"] == 0


def test_it_creates_reads_updates_and_deletes_a_record(sf):
    created = sf.Account.create({"Name": "Crud Test & Co", "Type": "Merchant", "BillingCity": "Zürich"})
    account_id = created["id"]
    assert created["success"] and len(account_id) == 18 and account_id.startswith("001")
    record = sf.Account.get(account_id[:15])
    assert record["Id"] == account_id and record["BillingCity"] == "Zürich"
    assert record["CreatedDate"] == record["SystemModstamp"]
    assert sf.Account.update(account_id, {"Phone": "555-0100"}) == 204
    updated = sf.Account.get(account_id)
    assert updated["Phone"] == "555-0100" and updated["SystemModstamp"] >= record["SystemModstamp"]
    assert sf.Account.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(account_id)
    deleted = sf.query_all(format_soql("SELECT Id, IsDeleted FROM Account WHERE Id = {}", account_id),
                           include_deleted=True)["records"]
    assert deleted == [{"attributes": deleted[0]["attributes"], "Id": account_id, "IsDeleted": True}]
    assert sf.query(format_soql("SELECT COUNT() FROM Account WHERE Id = {}", account_id))["totalSize"] == 0


def test_it_upserts_by_external_id_created_then_updated(sf):
    key = format_external_id("NetSuite_Payment_Id__c", "NS/PAY 9001")
    assert sf.Remittance__c.upsert(key, {"Amount__c": 125.5, "Method__c": "ACH"}) == 201
    assert sf.Remittance__c.upsert(key, {"Amount__c": 130.0}) == 200
    rows = sf.query("SELECT Name, Amount__c, Method__c FROM Remittance__c WHERE NetSuite_Payment_Id__c = "
                    "'NS/PAY 9001'")["records"]
    assert len(rows) == 1 and rows[0]["Amount__c"] == 130.0 and rows[0]["Name"].startswith("R-")
    raw = sf.Remittance__c.upsert(format_external_id("NetSuite_Payment_Id__c", "NS-9002"), {"Amount__c": 1},
                                  raw_response=True)
    assert raw.status_code == 201 and raw.json()["created"] is True
    again = sf.Remittance__c.upsert(format_external_id("NetSuite_Payment_Id__c", "NS-9002"), {"Amount__c": 2},
                                    raw_response=True)
    assert again.status_code == 200 and again.json() == {"id": raw.json()["id"], "success": True, "errors": [],
                                                         "created": False}


def test_it_answers_300_when_an_external_id_matches_several_records(sf):
    for name in ("Twin A", "Twin B"):
        sf.Account.create({"Name": name, "Legacy_Id__c": "TWIN-1"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Account.upsert("Legacy_Id__c/TWIN-1", {"Phone": "1"})
    assert caught.value.status == 300 and len(caught.value.content) == 2


def test_it_runs_a_200_record_collection_where_one_bad_record_fails_alone(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": f"Batch {i}", "Email": f"batch{i}@example.com"}
               for i in range(200)]
    records[57] = {"attributes": {"type": "Contact"}, "FirstName": "No last name"}
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert len(results) == 200
    assert results[57]["success"] is False
    assert results[57]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sum(r["success"] for r in results) == 199
    ids = [r["id"] for r in results if r["success"]]
    stamps = sf.query_all(format_soql("SELECT SystemModstamp FROM Contact WHERE Id IN {}", ids))["records"]
    assert len({r["SystemModstamp"] for r in stamps}) == 1

    updates = [{"attributes": {"type": "Contact"}, "Id": i, "Title": "Owner"} for i in ids[:10]]
    updates.append({"attributes": {"type": "Contact"}, "Id": ids[10], "Email": "not-an-email"})
    updated = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": updates})
    assert [r["success"] for r in updated] == [True] * 10 + [False]
    assert updated[10]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"


def test_it_rolls_back_the_whole_collection_with_all_or_none(sf):
    records = [{"attributes": {"type": "Account"}, "Name": "All or none 1"},
               {"attributes": {"type": "Account"}, "Name": "x" * 256}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'All or none 1'")["totalSize"] == 0


def test_it_upserts_a_collection_by_external_id(sf):
    records = [{"attributes": {"type": "Remittance__c"}, "NetSuite_Payment_Id__c": f"COLL-{i}", "Amount__c": i}
               for i in range(5)]
    first = sf.restful("composite/sobjects/Remittance__c/NetSuite_Payment_Id__c", method="PATCH",
                       json={"allOrNone": False, "records": records})
    assert [r["created"] for r in first] == [True] * 5
    records[0]["Amount__c"] = 99
    records.append(dict(records[1]))
    second = sf.restful("composite/sobjects/Remittance__c/NetSuite_Payment_Id__c", method="PATCH",
                        json={"allOrNone": False, "records": records})
    assert second[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    assert second[1]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"


def test_it_creates_line_items_from_price_book_entries(sf):
    application = sf.query("SELECT Id, Name FROM Opportunity WHERE StageName = 'Approved' AND Pricebook2Id = null "
                           "LIMIT 1")["records"][0]
    entry = sf.query("SELECT Id, UnitPrice FROM PricebookEntry WHERE ProductCode = 'FEE-WIRE'")["records"][0]
    created = sf.OpportunityLineItem.create({"OpportunityId": application["Id"], "PricebookEntryId": entry["Id"],
                                             "Quantity": 2})
    item = sf.OpportunityLineItem.get(created["id"])
    assert (item["ProductCode"], item["UnitPrice"], item["TotalPrice"]) == ("FEE-WIRE", entry["UnitPrice"],
                                                                           entry["UnitPrice"] * 2)
    assert sf.Opportunity.get(application["Id"])["Pricebook2Id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.OpportunityLineItem.update(created["id"], {"OpportunityId": application["Id"]})
    assert error_code(caught) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_it_derives_closed_and_won_from_the_stage(sf):
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    created = sf.Opportunity.create({"Name": "Stage test", "AccountId": account_id, "StageName": "Underwriting",
                                     "CloseDate": "2026-01-31"})
    assert sf.Opportunity.get(created["id"])["IsClosed"] is False
    sf.Opportunity.update(created["id"], {"StageName": "Funded", "Funded_Date__c": "2026-01-30"})
    funded = sf.Opportunity.get(created["id"])
    assert funded["IsClosed"] is True and funded["IsWon"] is True


def test_it_describes_objects_and_the_org(sf):
    described = sf.Opportunity.describe()
    assert described["label"] == "Application" and described["keyPrefix"] == "006"
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["StageName"]["restrictedPicklist"] is True
    assert [p["value"] for p in fields["StageName"]["picklistValues"]][-1] == "Declined"
    assert fields["Broker__c"]["referenceTo"] == ["Account"] and fields["Broker__c"]["relationshipName"] == "Broker__r"
    assert fields["IsWon"]["updateable"] is False
    assert {r["relationshipName"] for r in described["childRelationships"]} >= {"OpportunityLineItems",
                                                                               "Remittances__r"}
    remittance = {f["name"]: f for f in sf.Remittance__c.describe()["fields"]}
    assert remittance["NetSuite_Payment_Id__c"]["externalId"] and remittance["NetSuite_Payment_Id__c"]["unique"]
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "PricebookEntry",
            "Remittance__c"} <= names


def test_it_lists_updated_and_deleted_ids(sf):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
    created = sf.Contact.create({"LastName": "Updated Feed"})["id"]
    gone = sf.Contact.create({"LastName": "Deleted Feed"})["id"]
    sf.Contact.delete(gone)
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    updated = sf.Contact.updated(start, end)
    assert created in updated["ids"] and gone not in updated["ids"]
    assert updated["latestDateCovered"].endswith("+0000")
    assert gone in [r["id"] for r in sf.Contact.deleted(start, end)["deletedRecords"]]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.updated(start - dt.timedelta(days=31), end)
    assert error_code(caught) == "INVALID_REPLICATION_DATE"


@pytest.mark.parametrize("call, code", [
    (lambda sf: sf.Account.create({"Name": "x", "Colour__c": "red"}), "INVALID_FIELD"),
    (lambda sf: sf.Contact.create({"FirstName": "only"}), "REQUIRED_FIELD_MISSING"),
    (lambda sf: sf.Account.create({"Name": "x" * 256}), "STRING_TOO_LONG"),
    (lambda sf: sf.Account.update("001NOTANID", {"Name": "x"}), "MALFORMED_ID"),
    (lambda sf: sf.Contact.create({"LastName": "x", "AccountId": "garbage"}), "MALFORMED_ID"),
    (lambda sf: sf.Contact.create({"LastName": "x", "Email": "no-at-sign"}), "INVALID_EMAIL_ADDRESS"),
    (lambda sf: sf.Opportunity.create({"Name": "x", "StageName": "Won", "CloseDate": "2026-01-01"}),
     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    (lambda sf: sf.Opportunity.create({"Name": "x", "StageName": "Funded", "CloseDate": "2026-01-01",
                                       "IsWon": True}), "INVALID_FIELD_FOR_INSERT_UPDATE"),
    (lambda sf: sf.Remittance__c.create({"Name": "R-1"}), "INVALID_FIELD_FOR_INSERT_UPDATE"),
    (lambda sf: sf.query("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Type = 'c'"), "MALFORMED_QUERY"),
    (lambda sf: sf.query("SELECT Id, Colour__c FROM Account"), "INVALID_FIELD"),
    (lambda sf: sf.query("SELECT Id FROM Merchant__c"), "INVALID_TYPE"),
])
def test_it_rejects_invalid_writes_and_queries_with_the_platform_codes(sf, call, code):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call(sf)
    assert error_code(caught) == code


def test_it_answers_not_found_and_duplicate_value(sf):
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.update("0015g0000ZZZZZZ", {"Name": "x"})
    assert error_code(missing) == "NOT_FOUND"
    sf.Remittance__c.create({"NetSuite_Payment_Id__c": "DUP-1"})
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.Remittance__c.create({"NetSuite_Payment_Id__c": "dup-1"})
    assert error_code(duplicate) == "DUPLICATE_VALUE"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Unknown__c.describe()


def test_it_keeps_a_query_result_fixed_while_records_change_between_pages(sf):
    query = "SELECT Id FROM Contact ORDER BY SystemModstamp, Id"
    first = sf.query(query, headers={"Sforce-Query-Options": "batchSize=200"})
    ids = [r["Id"] for r in first["records"]]
    # Touching a first-page record would move it to the end of an ordered re-run of the query.
    sf.Contact.update(ids[0], {"Title": "Moved"})
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    while True:
        ids += [r["Id"] for r in rest["records"]]
        if rest["done"]:
            break
        rest = sf.query_more(rest["nextRecordsUrl"], identifier_is_url=True)
    assert len(ids) == len(set(ids)) == first["totalSize"]


def test_it_returns_custom_child_relationships(sf):
    brokers = sf.query_all("SELECT Id, Name, (SELECT Id, Commission_Percent__c FROM Brokered_Applications__r) "
                           "FROM Account WHERE Type = 'Broker'")["records"]
    assert any(b["Brokered_Applications__r"] for b in brokers)
    funded = sf.query("SELECT Id, (SELECT NetSuite_Payment_Id__c, Amount__c FROM Remittances__r "
                      "ORDER BY Payment_Date__c DESC LIMIT 1) FROM Opportunity WHERE StageName = 'Funded' "
                      "LIMIT 10")["records"]
    assert all(len(f["Remittances__r"]["records"]) == 1 for f in funded)


def test_it_supports_a_system_modstamp_and_id_watermark_cursor(sf):
    records = [{"attributes": {"type": "Account"}, "Name": f"Watermark {i}"} for i in range(30)]
    created = sf.restful("composite/sobjects", method="POST", json={"records": records})
    ids = sorted(r["id"] for r in created)
    stamp = dt.datetime.strptime(sf.Account.get(ids[0])["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    # format_soql drops sub-second digits from datetimes, so the exact stamp is written out here.
    exact = stamp.isoformat(timespec="milliseconds")
    # Thirty records share one stamp: a cursor on the stamp alone would skip or repeat them.
    seen = []
    cursor_id = ids[0][:3] + "0" * 12
    while True:
        page = sf.query(format_soql(
            "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp = " + exact + " AND Id > {} "
            "ORDER BY SystemModstamp, Id LIMIT 7", cursor_id))["records"]
        if not page:
            break
        seen += [r["Id"] for r in page]
        cursor_id = page[-1]["Id"]
    assert set(ids) <= set(seen) and seen == sorted(seen)
