import datetime as dt
from zoneinfo import ZoneInfo

from sandboxes.netsuite.process import run_netsuite_sandbox

from .conftest import NetSuite


def codes(write_response):
    return [detail.code for detail in write_response.status.statusDetail]


def test_it_upserts_idempotently_by_external_id(netsuite, unique):
    first = netsuite.upsert_list([netsuite.customer(f"{unique}-A", "Acme Funding")])
    second = netsuite.upsert_list([netsuite.customer(f"{unique}-A", "Acme Funding Ltd")])

    assert first.writeResponse[0].status.isSuccess and second.writeResponse[0].status.isSuccess
    assert first.writeResponse[0].baseRef.internalId == second.writeResponse[0].baseRef.internalId
    assert int(first.writeResponse[0].baseRef.internalId) > 1000
    record = netsuite.get("customer", externalId=f"{unique}-A").record
    assert record.companyName == "Acme Funding Ltd"
    assert record.internalId == first.writeResponse[0].baseRef.internalId


def test_it_attaches_a_contact_to_its_company_by_external_id(netsuite, unique):
    responses = netsuite.upsert_list([
        netsuite.customer(f"{unique}-ACC"),
        netsuite.rel.Contact(externalId=f"{unique}-CON", firstName="Jane", lastName="Doe",
                             company=netsuite.ref(externalId=f"{unique}-ACC", type="customer")),
    ])

    customer_id = responses.writeResponse[0].baseRef.internalId
    contact = netsuite.get("contact", internalId=responses.writeResponse[1].baseRef.internalId).record
    assert contact.company.internalId == customer_id
    assert contact.company.name == f"Merchant {unique}-ACC"


def test_it_fails_only_the_record_with_an_unknown_reference(netsuite, unique):
    responses = netsuite.upsert_list([
        netsuite.rel.Contact(externalId=f"{unique}-C1", lastName="Orphan",
                             company=netsuite.ref(externalId="no-such-account", type="customer")),
        netsuite.customer(f"{unique}-OK"),
    ])

    assert responses.writeResponse[0].status.isSuccess is False
    assert codes(responses.writeResponse[0]) == ["INVALID_KEY_OR_REF"]
    assert responses.writeResponse[1].status.isSuccess is True


def test_it_names_a_missing_required_field(netsuite, unique):
    responses = netsuite.upsert_list([
        netsuite.rel.Customer(externalId=f"{unique}-NONAME", isPerson=False),
        netsuite.rel.Customer(externalId=f"{unique}-PERSON", isPerson=True, firstName="Solo"),
        netsuite.sales.SalesOrder(externalId=f"{unique}-SO", memo="no entity"),
    ])

    messages = [r.status.statusDetail[0].message for r in responses.writeResponse]
    assert all(codes(r) == ["USER_ERROR"] for r in responses.writeResponse)
    assert "companyName" in messages[0]
    assert "lastName" in messages[1]
    assert "entity" in messages[2]


def test_it_round_trips_a_sales_order_with_lines(netsuite, unique):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    order = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC", [
        netsuite.fee_line("101", 1500.0, description="Origination fee"),
        dict(item=netsuite.ref(internalId="103"), quantity=2, rate="75.00"),
    ], memo="Funding")

    written = netsuite.service.upsert(record=order, _soapheaders=netsuite.headers()).body.writeResponse
    record = netsuite.get("salesOrder", internalId=written.baseRef.internalId).record

    assert written.status.isSuccess
    assert record.tranId.startswith("SO")
    assert record.entity.name == f"Merchant {unique}-ACC"
    assert record.total == 1650.0
    assert record.orderStatus == "_pendingFulfillment" and record.status == "Pending Fulfillment"
    lines = record.itemList.item
    assert [(line.line, line.item.internalId, line.quantity, line.rate, line.amount) for line in lines] == [
        (1, "101", 1.0, "1500.00", 1500.0), (2, "103", 2.0, "75.00", 150.0)]
    assert lines[1].description == "ACH Program Fee"


def test_it_numbers_transactions_per_type(netsuite, unique):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    first = netsuite.upsert_list([netsuite.sales_order(f"{unique}-1", f"{unique}-ACC", [netsuite.fee_line()]),
                                  netsuite.sales_order(f"{unique}-2", f"{unique}-ACC", [netsuite.fee_line()])])
    ids = [r.baseRef.internalId for r in first.writeResponse]
    numbers = [netsuite.get("salesOrder", internalId=i).record.tranId for i in ids]
    assert int(numbers[1][2:]) == int(numbers[0][2:]) + 1


def test_it_follows_replace_all_and_line_semantics(netsuite, unique):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    order = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC",
                                 [netsuite.fee_line("101", 1000.0), netsuite.fee_line("102", 200.0)])
    internal_id = netsuite.upsert_list([order]).writeResponse[0].baseRef.internalId

    # replaceAll=false: line 2 is updated in place, a line without a number is added.
    patch = netsuite.sales.SalesOrder(internalId=internal_id, itemList=netsuite.sales.SalesOrderItemList(replaceAll=False, item=[
        netsuite.sales.SalesOrderItem(line=2, amount=250.0, rate="250.00"),
        netsuite.sales.SalesOrderItem(**netsuite.fee_line("104", 35.0)),
    ]))
    assert netsuite.service.update(record=patch, _soapheaders=netsuite.headers()).body.writeResponse.status.isSuccess
    record = netsuite.get("salesOrder", internalId=internal_id).record
    assert [(l.line, l.item.internalId, l.amount) for l in record.itemList.item] == [
        (1, "101", 1000.0), (2, "102", 250.0), (3, "104", 35.0)]
    assert record.total == 1285.0

    # A new quantity without an amount is priced at the line's rate.
    quantity = netsuite.sales.SalesOrder(internalId=internal_id, itemList=netsuite.sales.SalesOrderItemList(
        replaceAll=False, item=[netsuite.sales.SalesOrderItem(line=1, quantity=2)]))
    netsuite.service.update(record=quantity, _soapheaders=netsuite.headers())
    record = netsuite.get("salesOrder", internalId=internal_id).record
    assert (record.itemList.item[0].amount, record.total) == (2000.0, 2285.0)

    # replaceAll=true: the lines sent are the lines kept.
    replace = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC", [netsuite.fee_line("103", 150.0)])
    netsuite.upsert_list([replace])
    record = netsuite.get("salesOrder", internalId=internal_id).record
    assert [(l.line, l.item.internalId) for l in record.itemList.item] == [(1, "103")]
    assert record.total == 150.0


def test_it_lets_the_order_status_be_set(netsuite, unique):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    order = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC", [netsuite.fee_line()], orderStatus="_pendingBilling")
    internal_id = netsuite.upsert_list([order]).writeResponse[0].baseRef.internalId
    record = netsuite.get("salesOrder", internalId=internal_id).record
    assert (record.orderStatus, record.status) == ("_pendingBilling", "Pending Billing")


def test_it_creates_a_commission_purchase_order_for_a_vendor(netsuite, unique):
    netsuite.upsert_list([netsuite.rel.Vendor(externalId=f"{unique}-BRK", companyName="Broker Co", is1099Eligible=True)])
    order = netsuite.purchases.PurchaseOrder(
        externalId=f"{unique}-COMM", entity=netsuite.ref(externalId=f"{unique}-BRK", type="vendor"),
        itemList=netsuite.purchases.PurchaseOrderItemList(item=[netsuite.purchases.PurchaseOrderItem(
            item=netsuite.ref(internalId="201", type="servicePurchaseItem"), quantity=1, rate="750.00", amount=750.0)]))
    written = netsuite.upsert_list([order]).writeResponse[0]
    record = netsuite.get("purchaseOrder", internalId=written.baseRef.internalId).record

    assert record.tranId.startswith("PO")
    assert record.total == 750.0
    assert record.status == "Pending Receipt" and record.approvalStatus.name == "Approved"
    assert record.itemList.item[0].item.name == "BROKER-COMMISSION"


def test_it_refuses_a_sale_item_that_does_not_exist(netsuite, unique):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    order = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC", [netsuite.fee_line("999")])
    assert codes(netsuite.upsert_list([order]).writeResponse[0]) == ["INVALID_KEY_OR_REF"]


def test_it_refuses_a_duplicate_external_id_on_add_and_a_missing_record_on_update(netsuite, unique):
    add = lambda: netsuite.service.add(record=netsuite.customer(f"{unique}-DUP"), _soapheaders=netsuite.headers())
    assert add().body.writeResponse.status.isSuccess
    assert codes(add().body.writeResponse) == ["DUP_RCRD"]

    missing = netsuite.rel.Customer(internalId="999999", companyName="Ghost")
    response = netsuite.service.update(record=missing, _soapheaders=netsuite.headers()).body.writeResponse
    assert codes(response) == ["RCRD_DSNT_EXIST"]


def test_it_answers_get_list_per_record(netsuite, unique):
    created = netsuite.upsert_list([netsuite.customer(f"{unique}-1")]).writeResponse[0].baseRef.internalId
    refs = [netsuite.ref(type="customer", internalId=created), netsuite.ref(type="customer", internalId="424242"),
            netsuite.ref(type="serviceSaleItem", internalId="101")]
    responses = netsuite.service.getList(baseRef=refs, _soapheaders=netsuite.headers()).body.readResponseList.readResponse

    assert [r.status.isSuccess for r in responses] == [True, False, True]
    assert responses[1].status.statusDetail[0].code == "RCRD_DSNT_EXIST"
    assert responses[2].record.itemId == "FEE-ORIG"


def test_it_returns_last_modified_dates_in_the_account_time_zone(netsuite, unique):
    internal_id = netsuite.upsert_list([netsuite.customer(f"{unique}-TZ")]).writeResponse[0].baseRef.internalId
    modified = netsuite.get("customer", internalId=internal_id).record.lastModifiedDate

    expected = dt.datetime.now(ZoneInfo("America/Los_Angeles")).utcoffset()
    assert modified.utcoffset() == expected
    assert abs((modified - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 60


def test_it_keeps_records_and_numbering_across_restarts(tmp_path, zeep_client):
    with run_netsuite_sandbox(tmp_path / "ns", timezone="Asia/Tokyo") as sandbox:
        netsuite = NetSuite(sandbox, zeep_client)
        before = netsuite.upsert_list([netsuite.customer("DURABLE-1")]).writeResponse[0].baseRef.internalId
        sandbox.restart()
        record = netsuite.get("customer", externalId="DURABLE-1").record
        after = netsuite.upsert_list([netsuite.customer("DURABLE-2")]).writeResponse[0].baseRef.internalId
        sandbox.reset()
        left = sandbox.stats()["records"]

    assert record.internalId == before
    assert int(after) > int(before)
    assert record.lastModifiedDate.utcoffset() == dt.timedelta(hours=9)
    assert left == {"serviceSaleItem": 4, "servicePurchaseItem": 1}


def test_it_round_trips_custom_fields(netsuite, unique):
    netsuite.sandbox.declare_custom_fields({"scriptId": "custentity_funded", "type": "checkbox",
                                            "appliesTo": ["customer"]})
    custom = netsuite.core.CustomFieldList(customField=[
        netsuite.core.StringCustomFieldRef(scriptId="custentity_sf_account_id", value="001XYZ"),
        netsuite.core.BooleanCustomFieldRef(scriptId="custentity_funded", value=True),
    ])
    internal_id = netsuite.upsert_list([netsuite.customer(f"{unique}-CF", customFieldList=custom)]).writeResponse[0].baseRef.internalId

    # An update that names one custom field leaves the others as they were.
    change = netsuite.core.CustomFieldList(customField=[netsuite.core.BooleanCustomFieldRef(scriptId="custentity_funded", value=False)])
    netsuite.upsert_list([netsuite.customer(f"{unique}-CF", customFieldList=change)])
    fields = {f.scriptId: f for f in netsuite.get("customer", internalId=internal_id).record.customFieldList.customField}

    assert type(fields["custentity_sf_account_id"]).__name__ == "StringCustomFieldRef"
    assert fields["custentity_sf_account_id"].value == "001XYZ"
    assert fields["custentity_funded"].value is False


def test_it_lets_an_update_set_a_new_external_id_but_not_a_taken_one(netsuite, unique):
    first, second = [r.baseRef.internalId for r in netsuite.upsert_list(
        [netsuite.customer(f"{unique}-1"), netsuite.rel.Customer(companyName="No external id", isPerson=False,
                                                                  externalId=f"{unique}-2")]).writeResponse]
    rename = netsuite.rel.Customer(internalId=second, externalId=f"{unique}-2b")
    assert netsuite.service.update(record=rename, _soapheaders=netsuite.headers()).body.writeResponse.status.isSuccess
    taken = netsuite.rel.Customer(internalId=second, externalId=f"{unique}-1")
    response = netsuite.service.update(record=taken, _soapheaders=netsuite.headers()).body.writeResponse
    assert response.status.statusDetail[0].code == "DUP_RCRD"
    assert netsuite.get("customer", externalId=f"{unique}-2b").record.internalId == second
