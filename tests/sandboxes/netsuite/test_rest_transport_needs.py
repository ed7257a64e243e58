"""What the hub's REST transport asks of the sandbox beyond records and batches: the clock from SuiteQL's SYSDATE
FROM DUAL, a payment's method and status letter, and the record metadata catalog."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from .conftest import error_code

pytestmark = pytest.mark.slow
ZONE = ZoneInfo("America/Los_Angeles")   # the sandbox's default account zone


def test_it_tells_the_time_from_sysdate_in_the_accounts_zone(rest):
    rows = rest.rows("SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS') AS servertime FROM DUAL")
    told = dt.datetime.strptime(rows[0]["servertime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE)
    assert abs(told - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)


def test_it_answers_a_payments_method_and_status_letter(rest, sandbox, unique):
    rest.put(f"customer/eid:{unique}-C", {"companyName": "Paying Co"})
    order = rest.put(f"salesOrder/eid:{unique}-SO", {"entity": {"externalId": f"{unique}-C"},
                                                     "item": {"items": [{"item": {"id": "101"}, "amount": 100.0}]}})
    order_id = order.headers["Location"].rsplit("/", 1)[1]
    rest.post("customerPayment", {"customer": {"externalId": f"{unique}-C"}, "payment": 40.0,
                                  "paymentMethod": {"id": "3"}, "apply": {"items": [{"doc": {"id": order_id},
                                                                                     "apply": True, "amount": 40.0}]}})
    rows = rest.rows("SELECT t.status, t.paymentmethod, pm.name FROM transaction t LEFT JOIN paymentmethod pm "
                     f"ON pm.id = t.paymentmethod WHERE t.type = 'CustPymt' AND t.entity = "
                     f"(SELECT id FROM customer WHERE externalid = '{unique}-C')")
    assert [(row["status"], row.get("paymentmethod")) for row in rows] == [("B", "3")]


def test_it_describes_a_record_type_and_its_lines_in_the_metadata_catalog(rest):
    response = rest.get("metadata-catalog/salesOrder", headers={"Accept": "application/schema+json"})
    assert response.status_code == 200 and "schema+json" in response.headers["Content-Type"]
    properties = response.json()["properties"]
    assert {"id", "externalId", "entity", "tranDate", "memo", "item"} <= set(properties)
    lines = properties["item"]["properties"]["items"]["items"]["properties"]
    assert {"item", "quantity", "rate", "amount", "description"} <= set(lines)


def test_it_refuses_to_describe_a_type_it_does_not_have(rest):
    response = rest.get("metadata-catalog/spaceship", headers={"Accept": "application/schema+json"})
    assert response.status_code == 404 and error_code(response) == "NONEXISTENT_ID"
