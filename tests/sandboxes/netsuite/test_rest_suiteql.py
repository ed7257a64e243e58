"""SuiteQL over REST: paging, ordering and filtering on lastmodifieddate and id, NetSuite's value formats."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from .conftest import error_code

pytestmark = pytest.mark.slow
ZONE = ZoneInfo("America/Los_Angeles")   # the sandbox's default account zone


@pytest.fixture(scope="module")
def orders(rest):
    """Three customers and an order each, written over REST."""
    prefix = "SQL"
    for number in range(3):
        rest.put(f"customer/eid:{prefix}-C{number}", {"companyName": f"Query Co {number}", "isPerson": False,
                                                      "email": f"q{number}@example.test" if number else None})
        rest.put(f"salesOrder/eid:{prefix}-SO{number}", {
            "entity": {"externalId": f"{prefix}-C{number}"}, "tranDate": "2024-03-0%d" % (number + 1),
            "memo": f"order {number}", "item": {"items": [{"item": {"id": "101"}, "quantity": 2, "rate": 10.5}]}})
    return prefix


def test_it_pages_with_limit_and_offset(rest, orders):
    first = rest.suiteql("SELECT id FROM customer WHERE externalid LIKE 'SQL-%' ORDER BY id", limit=2)
    second = rest.suiteql("SELECT id FROM customer WHERE externalid LIKE 'SQL-%' ORDER BY id", limit=2, offset=2)

    page = first.json()
    assert first.status_code == 200
    assert (page["count"], page["hasMore"], page["offset"], page["totalResults"]) == (2, True, 0, 3)
    assert {link["rel"] for link in page["links"]} >= {"self", "next", "first", "last"}
    assert next(link for link in page["links"] if link["rel"] == "next")["href"].endswith("limit=2&offset=2")
    assert (second.json()["count"], second.json()["hasMore"]) == (1, False)
    assert [row["id"] for row in page["items"] + second.json()["items"]] == sorted(
        (row["id"] for row in page["items"] + second.json()["items"]), key=int)


def test_it_answers_text_values_lower_case_names_and_leaves_nulls_out(rest, orders):
    rows = rest.rows("SELECT id, companyName, email, isperson FROM customer WHERE externalid = 'SQL-C0'")

    assert rows == [{"links": [], "id": rows[0]["id"], "companyname": "Query Co 0", "isperson": "F"}]
    assert isinstance(rows[0]["id"], str)


def test_it_answers_dates_in_the_account_format_and_times_through_to_char(rest, orders):
    row = rest.rows("SELECT trandate, lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lm, "
                    "foreigntotal, type, status FROM transaction WHERE externalid = 'SQL-SO0'")[0]

    modified = dt.datetime.strptime(row["lm"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE)
    assert row["trandate"] == "3/1/2024"
    assert row["lastmodifieddate"] == f"{modified.month}/{modified.day}/{modified.year}"
    assert abs(modified - dt.datetime.now(ZONE)) < dt.timedelta(minutes=10)
    assert (row["foreigntotal"], row["type"], row["status"]) == ("21", "SalesOrd", "B")


def test_it_filters_and_orders_on_lastmodifieddate_and_id_as_a_keyset_cursor(rest, orders):
    since = (dt.datetime.now(ZONE) - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    rows = rest.rows("SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM transaction "
                     f"WHERE lastmodifieddate >= TO_TIMESTAMP('{since}', 'YYYY-MM-DD HH24:MI:SS') "
                     "AND type IN ('SalesOrd', 'PurchOrd') AND externalid LIKE 'SQL-%' "
                     "ORDER BY lastmodifieddate DESC, id DESC")
    later = rest.rows(f"SELECT id FROM transaction WHERE externalid LIKE 'SQL-%' AND id > {rows[-1]['id']} "
                      "ORDER BY id")

    assert len(rows) == 3
    assert [(r["modified"], int(r["id"])) for r in rows] == sorted(((r["modified"], int(r["id"])) for r in rows),
                                                                   reverse=True)
    assert [r["id"] for r in later] == sorted((r["id"] for r in rows if int(r["id"]) > int(rows[-1]["id"])), key=int)


def test_it_compares_a_date_column_with_text_in_the_account_format(rest, orders):
    rows = rest.rows("SELECT tranid FROM transaction WHERE trandate BETWEEN '3/2/2024' AND '3/3/2024' "
                     "AND externalid LIKE 'SQL-%' ORDER BY trandate")

    assert len(rows) == 2


def test_it_reads_transaction_lines_with_netsuite_signs(rest, orders):
    lines = rest.rows("SELECT tl.mainline, tl.item, tl.quantity, tl.foreignamount FROM transactionline tl "
                      "JOIN transaction t ON t.id = tl.transaction WHERE t.externalid = 'SQL-SO1' "
                      "ORDER BY tl.id")

    assert lines == [{"links": [], "mainline": "T", "foreignamount": "21"},
                     {"links": [], "mainline": "F", "item": "101", "quantity": "-2", "foreignamount": "-21"}]


def test_it_supports_the_usual_predicates_and_count(rest, orders):
    count = rest.rows("SELECT COUNT(*) AS n FROM customer WHERE externalid IN ('SQL-C0', 'SQL-C1', 'none') "
                      "AND (email IS NULL OR email LIKE 'q%') AND NOT isinactive = 'T'")
    unnamed = rest.rows("SELECT COUNT(*), MAX(id) FROM contact WHERE id < 0")

    assert count == [{"links": [], "n": "2"}]
    assert unnamed == [{"links": [], "expr1": "0"}]


def test_it_lists_deleted_records(rest, unique):
    location = rest.post("customer", {"externalId": f"{unique}-DEL", "companyName": "Deleted Co"}).headers["Location"]
    record_id = location.rsplit("/", 1)[1]
    rest.delete(location)

    rows = rest.rows(f"SELECT recordid, recordtype, name FROM deletedrecord WHERE recordid = {record_id}")

    assert rows == [{"links": [], "recordid": record_id, "recordtype": "customer", "name": "Deleted Co"}]


@pytest.mark.parametrize("q, words", [
    ("SELEC id FROM customer", "Invalid search query"),
    ("DELETE FROM customer", "Only one SELECT"),
    ("SELECT id FROM customer; SELECT id FROM vendor", "Only one SELECT"),
    ("SELECT id FROM nosuchtable", "Record 'nosuchtable' was not found"),
    ("SELECT nosuchfield FROM customer", "nosuchfield"),
    ("SELECT id FROM sqlite_master", "was not found"),
    ("SELECT load_extension('x') FROM customer", "function"),
])
def test_it_refuses_what_is_not_a_query_it_can_run(rest, q, words):
    response = rest.suiteql(q)

    assert response.status_code == 400
    assert error_code(response) == "INVALID_PARAMETER" and words in response.json()["o:errorDetails"][0]["detail"]


def test_it_needs_prefer_transient_and_a_limit_of_at_most_1000(rest):
    without = rest.http.post(f"{rest.base}/query/v1/suiteql", json={"q": "SELECT id FROM customer"}, timeout=30)
    too_many = rest.suiteql("SELECT id FROM customer", limit=1001)

    assert without.status_code == 400 and without.json()["o:errorDetails"][0]["o:errorHeader"] == "Prefer"
    assert too_many.status_code == 400 and too_many.json()["o:errorDetails"][0]["o:errorQueryParam"] == "limit"
