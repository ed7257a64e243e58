"""An application that loses its funded stage, or is deleted, after its order is in NetSuite is not pushed as a
change: the order pushes put it in finance's review queue instead (NetSuite's accounting owns the order now)."""
import pytest

from syncs.models import FinanceReview, RecordLink, SyncAttempt
from tests.syncs.test_pull_jobs import PUSHES, run_all

pytestmark = pytest.mark.slow


def test_it_files_a_defunded_or_deleted_application_for_finance_instead_of_pushing_it(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    run_all(PUSHES)
    sf = salesforce.client()
    ordered = set(RecordLink.objects.filter(record_type="SalesOrder").exclude(netsuite_internal_id="")
                  .values_list("salesforce_id", flat=True))
    funded = [a for a in sf.query_all("SELECT Id, Name FROM Opportunity WHERE StageName = 'Funded' ORDER BY Id")["records"]
              if a["Id"] in ordered]
    defunded, deleted = funded[0], funded[1]
    sf.Opportunity.update(defunded["Id"], {"StageName": "Declined"})
    sf.Opportunity.delete(deleted["Id"])

    runs = run_all(["push_sales_orders", "push_purchase_orders"])
    assert not SyncAttempt.objects.filter(run__in=runs.values(), salesforce_id__in=[defunded["Id"], deleted["Id"]]).exists()
    reviews = {(r.application_id, r.netsuite_record_type): r for r in FinanceReview.objects.filter(kind="defunded_application")}
    assert {key for key in reviews if key[1] == "salesOrder"} == {(defunded["Id"], "salesOrder"), (deleted["Id"], "salesOrder")}
    order = RecordLink.objects.get(record_type="SalesOrder", salesforce_id=defunded["Id"])
    assert reviews[(defunded["Id"], "salesOrder")].netsuite_internal_id == order.netsuite_internal_id
    assert "left the funded stage for Declined" in reviews[(defunded["Id"], "salesOrder")].summary
    assert "was deleted in Salesforce" in reviews[(deleted["Id"], "salesOrder")].summary

    filed = FinanceReview.objects.count()
    run_all(["push_sales_orders", "push_purchase_orders"])
    assert FinanceReview.objects.count() == filed, "one item per cause"
