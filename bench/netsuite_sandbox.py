"""Benchmark of the NetSuite sandbox (not a test): server time of an upsertList of 100 customers and of
one 1,000-record search page with 100,000 records stored, latency injection off.

    .venv/bin/python bench/netsuite_sandbox.py [--records 100000] [--repeat 20]

Server time is the sandbox's own X-Sandbox-Server-Time header (parse, validate, authenticate, work,
serialise); wall time is what zeep saw, including its own parsing of the response.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zeep  # noqa: E402
from zeep.plugins import Plugin  # noqa: E402
from zeep.transports import Transport  # noqa: E402

from sandboxes.netsuite import records, seeding  # noqa: E402
from sandboxes.netsuite.store import Store  # noqa: E402
from sandboxes.netsuite.process import BINDING, default_wsdl, run_netsuite_sandbox  # noqa: E402
from machine import cpu_model  # noqa: E402  (bench/ is on sys.path when a bench runs)

CORE = "urn:core_2023_2.platform.webservices.netsuite.com"
COMMON = "urn:common_2023_2.platform.webservices.netsuite.com"
MESSAGES = "urn:messages_2023_2.platform.webservices.netsuite.com"
RELATIONSHIPS = "urn:relationships_2023_2.lists.webservices.netsuite.com"


class ServerTime(Plugin):
    last_ms: float = 0.0

    def ingress(self, envelope, http_headers, operation):
        self.last_ms = float(http_headers.get("X-Sandbox-Server-Time", "nan"))
        return envelope, http_headers


def summary(name: str, server_ms: list[float], wall_ms: list[float]) -> str:
    def p95(values):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    return (f"{name:<48} server median {statistics.median(server_ms):7.1f} ms  p95 {p95(server_ms):7.1f} ms   "
            f"wall median {statistics.median(wall_ms):7.1f} ms  p95 {p95(wall_ms):7.1f} ms")


def measure(plugin: ServerTime, call, repeat: int) -> tuple[list[float], list[float]]:
    server, wall = [], []
    for index in range(repeat):
        started = time.perf_counter()
        call(index)
        wall.append((time.perf_counter() - started) * 1000)
        server.append(plugin.last_ms)
    return server, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records stored (half customers, half sales orders)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    with tempfile.TemporaryDirectory(prefix="netsuite-bench-") as directory:
        data_dir = Path(directory) / "netsuite"
        started = time.perf_counter()
        store = Store(data_dir)
        records.seed_items(store)
        customers = args.records // 2
        seeding.seed(store, customers=customers, sales_orders=args.records - customers)
        store.close()
        print(f"seeded {args.records} records in {time.perf_counter() - started:.1f} s")

        plugin = ServerTime()
        client = zeep.Client(default_wsdl(), transport=Transport(operation_timeout=60), plugins=[plugin])
        core, common = client.type_factory(CORE), client.type_factory(COMMON)
        messages, rel = client.type_factory(MESSAGES), client.type_factory(RELATIONSHIPS)

        with run_netsuite_sandbox(data_dir) as sandbox:
            service = client.create_service(BINDING, sandbox.endpoint)

            def upsert(index):
                batch = [rel.Customer(externalId=f"BENCH-{index}-{n}", companyName=f"Bench Merchant {index}-{n}",
                                      isPerson=False, email=f"ap{n}@bench.example", phone="555-0100",
                                      subsidiary=core.RecordRef(internalId="1")) for n in range(100)]
                response = service.upsertList(record=batch, _soapheaders={"tokenPassport": sandbox.token_passport()})
                assert all(r.status.isSuccess for r in response.body.writeResponseList.writeResponse)

            def search_page(body_fields_only, page_index=1):
                def call(index):
                    criteria = common.TransactionSearchBasic(type=core.SearchEnumMultiSelectField(
                        operator="anyOf", searchValue=["_salesOrder"]))
                    headers = {"tokenPassport": sandbox.token_passport(),
                               "searchPreferences": messages.SearchPreferences(bodyFieldsOnly=body_fields_only,
                                                                               pageSize=1000)}
                    result = service.search(searchRecord=criteria, _soapheaders=headers).body.searchResult
                    if page_index > 1:
                        headers["tokenPassport"] = sandbox.token_passport()
                        result = service.searchMoreWithId(searchId=result.searchId, pageIndex=page_index,
                                                          _soapheaders=headers).body.searchResult
                    assert len(result.recordList.record) == 1000 and result.totalRecords >= 1000
                return call

            upsert(-1)  # warm-up: connections, caches
            print(summary("upsertList, 100 new customers", *measure(plugin, upsert, args.repeat)))
            print(summary("upsertList, the same 100 customers again", *measure(plugin, lambda i: upsert(0), args.repeat)))
            print(summary("search, page 1 of 1,000 sales orders (body only)", *measure(plugin, search_page(True), args.repeat)))
            print(summary("search, page 1 of 1,000 sales orders with lines", *measure(plugin, search_page(False), args.repeat)))
            print(summary("searchMoreWithId page 40 (wall: search + more)", *measure(plugin, search_page(True, 40), args.repeat)))
            stats = sandbox.stats()
            print(f"records stored: {sum(stats['records'].values())}; max concurrency seen {stats['max_concurrency']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
