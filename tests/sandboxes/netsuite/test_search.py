import datetime as dt
import time

import pytest


def modified_since(netsuite, moment, operator="onOrAfter", types=("_salesOrder",), **fields):
    return netsuite.common.TransactionSearchBasic(
        lastModifiedDate=netsuite.core.SearchDateField(operator=operator, searchValue=moment),
        type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=list(types)), **fields)


@pytest.fixture(scope="module")
def orders(netsuite):
    """Three sales orders and a purchase order, written a second apart so their lastModifiedDates differ."""
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    netsuite.upsert_list([netsuite.customer("SRCH-ACC"), netsuite.rel.Vendor(externalId="SRCH-BRK", companyName="Broker")])
    ids = []
    for n in range(3):
        order = netsuite.sales_order(f"SRCH-SO-{n}", "SRCH-ACC", [netsuite.fee_line("101", 1000.0 + n),
                                                                 netsuite.fee_line("102", 50.0)])
        ids.append(netsuite.upsert_list([order]).writeResponse[0].baseRef.internalId)
        time.sleep(1.05)
    po = netsuite.purchases.PurchaseOrder(
        externalId="SRCH-PO", entity=netsuite.ref(externalId="SRCH-BRK", type="vendor"),
        itemList=netsuite.purchases.PurchaseOrderItemList(item=[netsuite.purchases.PurchaseOrderItem(
            item=netsuite.ref(internalId="201"), quantity=1, rate="100.00")]))
    po_id = netsuite.upsert_list([po]).writeResponse[0].baseRef.internalId
    return {"started": started, "sales_orders": ids, "purchase_order": po_id}


def test_it_finds_sales_orders_with_their_lines_when_body_fields_only_is_false(netsuite, orders):
    result = netsuite.search(modified_since(netsuite, orders["started"]), body_fields_only=False)

    assert result.status.isSuccess
    assert [r.internalId for r in result.recordList.record] == orders["sales_orders"]
    first = result.recordList.record[0]
    assert type(first).__name__ == "SalesOrder"
    assert [line.amount for line in first.itemList.item] == [1000.0, 50.0]


def test_it_leaves_lines_out_by_default(netsuite, orders):
    result = netsuite.search(modified_since(netsuite, orders["started"]))
    assert all(record.itemList is None for record in result.recordList.record)
    assert result.recordList.record[0].total == 1050.0


def test_it_compares_last_modified_dates_with_each_operator(netsuite, orders):
    first, second, third = [netsuite.get("salesOrder", internalId=i).record.lastModifiedDate for i in orders["sales_orders"]]

    def found(criteria):
        return [r.internalId for r in netsuite.search(criteria).recordList.record]

    ids = orders["sales_orders"]
    assert found(modified_since(netsuite, first, "after")) == ids[1:]
    assert found(modified_since(netsuite, second, "onOrAfter")) == ids[1:]
    assert found(modified_since(netsuite, second, "before")) == ids[:1]
    assert found(modified_since(netsuite, second, "onOrBefore")) == ids[:2]
    within = netsuite.core.SearchDateField(operator="within", searchValue=first, searchValue2=second)
    assert found(netsuite.common.TransactionSearchBasic(lastModifiedDate=within)) == ids[:2]
    # The same search wrapped in the advanced TransactionSearch.
    wrapped = netsuite.sales.TransactionSearch(basic=netsuite.common.TransactionSearchBasic(lastModifiedDate=within))
    assert found(wrapped) == ids[:2]


def test_it_filters_by_type_external_id_and_internal_id(netsuite, orders):
    both = modified_since(netsuite, orders["started"], types=("_salesOrder", "_purchaseOrder"))
    assert [r.internalId for r in netsuite.search(both).recordList.record] == orders["sales_orders"] + [orders["purchase_order"]]

    by_external = netsuite.common.TransactionSearchBasic(externalId=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(externalId="SRCH-SO-2"), netsuite.ref(externalId="SRCH-PO")]))
    records = netsuite.search(by_external).recordList.record
    assert [type(r).__name__ for r in records] == ["SalesOrder", "PurchaseOrder"]

    by_internal = netsuite.common.TransactionSearchBasic(internalId=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(internalId=orders["sales_orders"][0])]))
    assert [r.externalId for r in netsuite.search(by_internal).recordList.record] == ["SRCH-SO-0"]


def test_it_searches_customers_and_contacts(netsuite, orders):
    criteria = netsuite.common.CustomerSearchBasic(externalId=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(externalId="SRCH-ACC")]))
    records = netsuite.search(criteria).recordList.record
    assert [(type(r).__name__, r.companyName) for r in records] == [("Customer", "Merchant SRCH-ACC")]

    by_name = netsuite.common.CustomerSearchBasic(companyName=netsuite.core.SearchStringField(operator="startsWith", searchValue="Merchant SRCH"))
    assert len(netsuite.search(by_name).recordList.record) == 1


def test_it_pages_a_large_search_through_search_more_with_id(netsuite):
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    for batch in range(25):
        netsuite.upsert_list([netsuite.customer(f"PAGE-{batch:02d}-{n:03d}") for n in range(100)])
    criteria = netsuite.common.CustomerSearchBasic(
        lastModifiedDate=netsuite.core.SearchDateField(operator="onOrAfter", searchValue=started),
        companyName=netsuite.core.SearchStringField(operator="startsWith", searchValue="Merchant PAGE-"))

    first = netsuite.search(criteria, page_size=1000)
    pages = [first] + [netsuite.more(first.searchId, index) for index in (2, 3)]

    assert (first.totalRecords, first.totalPages, first.pageSize) == (2500, 3, 1000)
    assert [p.pageIndex for p in pages] == [1, 2, 3]
    records = [r for page in pages for r in page.recordList.record]
    assert len(records) == 2500 and len({r.internalId for r in records}) == 2500
    keys = [(r.lastModifiedDate, int(r.internalId)) for r in records]
    assert keys == sorted(keys)


def test_it_refuses_a_page_size_outside_five_to_a_thousand(netsuite, orders):
    result = netsuite.search(modified_since(netsuite, orders["started"]), page_size=1001)
    assert result.status.isSuccess is False
    assert result.status.statusDetail[0].code == "INVALID_SEARCH_PAGE_SIZE"


def test_it_expires_a_search_id(netsuite, orders):
    first = netsuite.search(modified_since(netsuite, orders["started"]), page_size=5)
    netsuite.sandbox.control(search_ttl_s=0.5)
    try:
        time.sleep(0.7)
        expired = netsuite.more(first.searchId, 1)
    finally:
        netsuite.sandbox.control(search_ttl_s=900)

    assert expired.status.isSuccess is False
    assert expired.status.statusDetail[0].code == "INVALID_SEARCH_MORE"
    unknown = netsuite.more("WEBSERVICES_NOPE", 1)
    assert unknown.status.statusDetail[0].code == "INVALID_SEARCH_MORE"


def test_it_refuses_a_join_it_cannot_run(netsuite):
    criteria = netsuite.sales.TransactionSearch(customerJoin=netsuite.common.CustomerSearchBasic(
        companyName=netsuite.core.SearchStringField(operator="is", searchValue="x")))
    result = netsuite.search(criteria)
    assert result.status.isSuccess is False
    assert result.status.statusDetail[0].code == "INVALID_SRCH_CRITERIA"


def test_it_finds_a_customers_transactions_by_the_customers_external_id(netsuite, orders):
    criteria = netsuite.common.TransactionSearchBasic(entity=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(externalId="SRCH-ACC")]))
    assert [r.internalId for r in netsuite.search(criteria).recordList.record] == orders["sales_orders"]

    modified = netsuite.get("salesOrder", internalId=orders["sales_orders"][0]).record.lastModifiedDate
    same_day = netsuite.core.SearchDateField(operator="on", searchValue=modified)
    on_the_day = netsuite.search(netsuite.common.TransactionSearchBasic(lastModifiedDate=same_day)).recordList.record
    assert orders["sales_orders"][0] in {r.internalId for r in on_the_day}


def test_it_finds_contacts_by_their_companys_external_id_and_vendors_by_entity_id(netsuite, orders):
    netsuite.upsert_list([netsuite.rel.Contact(externalId="SRCH-CON", firstName="Ann", lastName="Lee",
                                               company=netsuite.ref(externalId="SRCH-ACC", type="customer"))])
    contacts = netsuite.common.ContactSearchBasic(company=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(externalId="SRCH-ACC")]))
    assert [r.externalId for r in netsuite.search(contacts).recordList.record] == ["SRCH-CON"]

    vendors = netsuite.common.VendorSearchBasic(entityId=netsuite.core.SearchStringField(operator="is", searchValue="Broker"))
    assert [r.externalId for r in netsuite.search(vendors).recordList.record] == ["SRCH-BRK"]


def test_it_answers_an_empty_search_and_refuses_a_page_past_the_end(netsuite):
    nothing = netsuite.common.CustomerSearchBasic(externalId=netsuite.core.SearchMultiSelectField(
        operator="anyOf", searchValue=[netsuite.ref(externalId="NO-SUCH-CUSTOMER")]))
    result = netsuite.search(nothing)
    assert (result.status.isSuccess, result.totalRecords, result.totalPages) == (True, 0, 0)
    assert result.recordList is None or result.recordList.record == []

    past = netsuite.more(result.searchId, 2)
    assert past.status.statusDetail[0].code == "INVALID_SEARCH_PAGE_INDEX"


def test_it_returns_every_record_of_the_type_for_an_advanced_search_without_criteria(netsuite, orders):
    # The XSD makes CustomerSearch.basic optional; with no criteria NetSuite returns every customer.
    first = netsuite.search(netsuite.rel.CustomerSearch(), page_size=5)
    customers = netsuite.sandbox.stats()["records"]["customer"]
    assert (first.status.isSuccess, first.totalRecords, first.pageSize) == (True, customers, 5)
    pages = [first] + [netsuite.more(first.searchId, index) for index in range(2, first.totalPages + 1)]
    records = [r for page in pages for r in page.recordList.record]
    assert {type(r).__name__ for r in records} == {"Customer"}
    assert len({r.internalId for r in records}) == customers

    orders_and_payments = netsuite.search(netsuite.sales.TransactionSearch())
    assert orders["purchase_order"] in {r.internalId for r in orders_and_payments.recordList.record}
