import threading
import time

import pytest
import requests
from zeep.exceptions import Fault, TransportError

from sandboxes.netsuite.process import run_netsuite_sandbox

from .conftest import FAULTS, NetSuite


def fault_code(fault: Fault) -> str:
    return fault.detail.findtext(f"{{{FAULTS}}}*/{{{FAULTS}}}code")


@pytest.fixture(autouse=True)
def calm(calm_sandbox):
    """Every test starts and ends with no injected failure or latency."""


@pytest.mark.parametrize("operation, limit", [("upsertList", 100), ("updateList", 100), ("addList", 200)])
def test_it_refuses_a_write_list_over_its_maximum(netsuite, operation, limit):
    records = [netsuite.customer(f"MAX-{operation}-{n}") for n in range(limit + 1)]
    with pytest.raises(Fault) as refused:
        getattr(netsuite.service, operation)(record=records, _soapheaders=netsuite.headers())
    assert refused.value.detail.find(f"{{{FAULTS}}}exceededRecordCountFault") is not None
    assert fault_code(refused.value) == "MAX_RCRDS_EXCEEDED"
    assert not netsuite.get("customer", externalId=f"MAX-{operation}-0").status.isSuccess


def test_it_refuses_a_get_list_over_a_thousand(netsuite):
    refs = [netsuite.ref(type="customer", internalId=str(n)) for n in range(1001)]
    with pytest.raises(Fault) as refused:
        netsuite.service.getList(baseRef=refs, _soapheaders=netsuite.headers())
    assert fault_code(refused.value) == "MAX_RCRDS_EXCEEDED"


def server_times_at_once(netsuite, count: int) -> list[str]:
    """`count` getServerTime requests sent together: "ok" or the fault code of each."""
    outcomes = []

    def call():
        try:
            netsuite.service.getServerTime(_soapheaders=netsuite.headers())
            outcomes.append("ok")
        except Fault as fault:
            outcomes.append(fault_code(fault))

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_it_blocks_requests_over_the_concurrency_limit_while_they_wait_out_latency(netsuite):
    netsuite.sandbox.control(latency_ms=1500)
    outcomes = server_times_at_once(netsuite, 8)

    stats = netsuite.sandbox.stats()
    assert outcomes.count("ok") == 5
    assert outcomes.count("WS_REQUEST_BLOCKED") == 3
    assert stats["max_concurrency"] == 5
    assert stats["faults"]["WS_REQUEST_BLOCKED"] == 3


def test_it_models_latency_per_request_and_per_record(netsuite):
    netsuite.sandbox.control(latency_ms=200, latency_per_record_ms=2)
    started = time.monotonic()
    netsuite.upsert_list([netsuite.customer(f"LAT-{n}") for n in range(50)])
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("status", [500, 503])
def test_it_injects_http_errors_for_the_next_requests(netsuite, status):
    netsuite.sandbox.control(**{f"http_{status}_next": 2})
    for _ in range(2):
        with pytest.raises(TransportError) as failed:
            netsuite.service.getServerTime(_soapheaders=netsuite.headers())
        assert failed.value.status_code == status
    assert netsuite.service.getServerTime(_soapheaders=netsuite.headers()).body.getServerTimeResult.status.isSuccess


def test_it_injects_failures_at_a_rate(netsuite):
    netsuite.sandbox.control(http_503_rate=1.0)
    for _ in range(3):
        with pytest.raises(TransportError):
            netsuite.service.getServerTime(_soapheaders=netsuite.headers())
    assert netsuite.sandbox.stats()["injected"]["http_503"] == 3


def test_it_answers_slowly_past_the_clients_timeout_after_committing(netsuite, zeep_client):
    netsuite.sandbox.control(slow_next=1, slow_ms=2500)
    transport = zeep_client.transport
    transport.operation_timeout, saved = 1, transport.operation_timeout
    try:
        with pytest.raises(requests.exceptions.Timeout):
            netsuite.upsert_list([netsuite.customer("SLOW-1")])
    finally:
        transport.operation_timeout = saved
    assert netsuite.get("customer", externalId="SLOW-1").status.isSuccess


def test_it_commits_and_then_drops_the_connection_in_lost_response_mode(netsuite):
    netsuite.sandbox.control(lost_response_next=1, fault_operations="upsertList")
    with pytest.raises(requests.exceptions.ConnectionError):
        netsuite.upsert_list([netsuite.customer("LOST-1")])

    written = netsuite.get("customer", externalId="LOST-1")
    retried = netsuite.upsert_list([netsuite.customer("LOST-1")]).writeResponse[0]
    assert written.status.isSuccess
    assert retried.baseRef.internalId == written.record.internalId
    assert netsuite.sandbox.stats()["injected"]["lost_response"] == 1


def test_it_fails_a_record_with_rcrd_has_been_changed(netsuite):
    netsuite.upsert_list([netsuite.customer("CHG-1"), netsuite.customer("CHG-2")])
    netsuite.sandbox.control(record_changed_next=1, record_changed_match="CHG-2")
    responses = netsuite.upsert_list([netsuite.customer("CHG-1", "New 1"), netsuite.customer("CHG-2", "New 2")])

    assert [r.status.isSuccess for r in responses.writeResponse] == [True, False]
    assert responses.writeResponse[1].status.statusDetail[0].code == "RCRD_HAS_BEEN_CHANGED"
    assert netsuite.get("customer", externalId="CHG-2").record.companyName == "Merchant CHG-2"


def test_it_counts_requests_per_operation_and_records_per_type(netsuite):
    netsuite.upsert_list([netsuite.customer("COUNT-1")])
    netsuite.service.getServerTime(_soapheaders=netsuite.headers())
    netsuite.service.getServerTime(_soapheaders=netsuite.headers())

    stats = netsuite.sandbox.stats()
    assert stats["requests"]["upsertList"] == 1 and stats["requests"]["getServerTime"] == 2
    assert stats["records"]["customer"] >= 1 and stats["records"]["serviceSaleItem"] == 4
    assert stats["max_concurrency"] >= 1


def test_it_takes_governance_settings_at_start(tmp_path, zeep_client):
    with run_netsuite_sandbox(tmp_path / "ns", concurrency_limit=1, latency_ms=1000,
                              settings={"http_503_next": 1}) as sandbox:
        netsuite = NetSuite(sandbox, zeep_client)
        with pytest.raises(TransportError):
            netsuite.service.getServerTime(_soapheaders=netsuite.headers())
        outcomes = server_times_at_once(netsuite, 3)
        assert sorted(outcomes) == ["WS_REQUEST_BLOCKED", "WS_REQUEST_BLOCKED", "ok"]


def test_it_is_driven_from_the_command_line_while_running(sandbox, capsys):
    from sandboxes.netsuite import cli

    assert cli.main(["control", "latency_ms=5", "fault_operations=upsertList", "--url", sandbox.url]) == 0
    assert '"latency_ms": 5.0' in capsys.readouterr().out
    assert cli.main(["stats", "--url", sandbox.url]) == 0
    assert '"max_concurrency"' in capsys.readouterr().out
    assert cli.main(["control", "no_such_setting=1", "--url", sandbox.url]) == 2


def test_it_serves_several_clients_at_once_without_duplicating_upserts(netsuite):
    results, errors = [], []

    def worker(n):
        try:
            for batch in range(3):
                fresh = [netsuite.customer(f"MANY-{n}-{batch}-{i}") for i in range(20)]
                shared = [netsuite.customer(f"MANY-SHARED-{i}") for i in range(10)]
                results.extend(netsuite.upsert_list(fresh + shared).writeResponse)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(r.status.isSuccess for r in results) and len(results) == 5 * 3 * 30
    by_external = {}
    for r in results:
        by_external.setdefault(r.baseRef.externalId, set()).add(r.baseRef.internalId)
    assert len(by_external) == 5 * 3 * 20 + 10
    assert all(len(ids) == 1 for ids in by_external.values())
