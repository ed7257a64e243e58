"""Finance's review queue and the reconciliation of amounts in the console: who sees, resolves, runs and exports."""
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from syncs.finance import review_file
from syncs.models import FinanceReview, ReconciliationDifference, ReconciliationRun


@pytest.fixture
def reversal(db):
    review, _ = review_file(kind="reversal", cause="reversal:5001:Voided:0.00",
                            summary="Payment PYMT00001 voided in NetSuite: remitted on APP-1 down 1,250.00 to 8,750.00.",
                            application_id="006000000000001AAA", application_name="APP-1",
                            salesforce_record_id="a01000000000001AAA", netsuite_record_type="customerPayment",
                            netsuite_internal_id="5001", netsuite_number="PYMT00001", amount_before=1250, amount_after=0,
                            currency="USD")
    return review


def test_it_files_one_item_per_cause(reversal):
    again, created = review_file(kind="reversal", cause=reversal.cause, summary="again")
    assert not created and again.pk == reversal.pk and FinanceReview.objects.count() == 1


def test_it_shows_finance_the_queue_with_links_and_lets_them_resolve_with_a_note(client, finance_user, reversal):
    client.force_login(finance_user)
    page = client.get(reverse("admin:syncs_financereview_changelist") + "?status__exact=open").content.decode()
    assert "PYMT00001 voided in NetSuite" in page
    detail = client.get(reverse("admin:syncs_financereview_change", args=[reversal.pk])).content.decode()
    assert "?q=006000000000001AAA" in detail and "?q=5001" in detail and 'name="resolution"' in detail
    response = client.post(reverse("admin:syncs_financereview_change", args=[reversal.pk]),
                           {"resolution": "ACH return confirmed with the bank"})
    assert response.status_code == 302
    reversal.refresh_from_db()
    assert reversal.status == "resolved" and reversal.resolved_by == finance_user
    assert "frank-finance] ACH return confirmed with the bank" in reversal.note
    csv = b"".join(client.get(reverse("admin:syncs_financereview_export")).streaming_content).decode()
    assert "PYMT00001" in csv and "ACH return confirmed" in csv


def test_it_lets_ops_see_the_queue_but_not_resolve_it(client, ops_user, reversal):
    client.force_login(ops_user)
    ops_user.user_permissions.clear()
    from django.contrib.auth.models import Permission

    ops_user.groups.first().permissions.remove(Permission.objects.get(codename="resolve_financereview"))
    response = client.post(reverse("admin:syncs_financereview_change", args=[reversal.pk]), {"resolution": "no"})
    reversal.refresh_from_db()
    assert reversal.status == "open" and response.status_code in (302, 403)


def test_it_shows_a_reconciliation_run_with_its_differences_and_exports_them(client, finance_user, django_capture_on_commit_callbacks,
                                                                           monkeypatch):
    run = ReconciliationRun.objects.create(started_at=timezone.now(), outcome="differences", differences_found=1)
    ReconciliationDifference.objects.create(run=run, kind="remittance_amount", application_id="006000000000001AAA",
                                            application_name="APP-1", remittance_key="5001", netsuite_internal_id="5001",
                                            salesforce_amount=Decimal("1250"), netsuite_amount=Decimal("0"),
                                            description="Remittance R-1 (5001) on APP-1 reads 1,250.00; NetSuite books 0.00.")
    client.force_login(finance_user)
    listing = client.get(reverse("admin:syncs_reconciliationrun_changelist")).content.decode()
    assert 'id="reconcile-now"' in listing
    detail = client.get(reverse("admin:syncs_reconciliationrun_change", args=[run.pk])).content.decode()
    assert "NetSuite books 0.00" in detail and "?q=5001" in detail
    csv = b"".join(client.get(reverse("admin:syncs_reconciliationdifference_export")).streaming_content).decode()
    assert "remittance_amount" in csv and "1250.00" in csv

    from syncs import tasks

    asked = []
    monkeypatch.setattr(tasks.reconcile_amounts, "delay", lambda **kwargs: asked.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:syncs_reconciliationrun_run"))
    assert response.status_code == 302 and asked == [{"trigger": "manual"}]


def test_it_keeps_the_reconciliation_button_from_those_without_the_permission(client, ops_user):
    from django.contrib.auth.models import Permission

    ops_user.groups.first().permissions.remove(Permission.objects.get(codename="run_reconciliation"))
    client.force_login(ops_user)
    assert 'id="reconcile-now"' not in client.get(reverse("admin:syncs_reconciliationrun_changelist")).content.decode()
    assert client.post(reverse("admin:syncs_reconciliationrun_run")).status_code == 403
