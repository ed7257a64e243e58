"""REST pulls read a big sweep in ranges of internal ids side by side (rest_reads.keyset_pages): against the NetSuite
sandbox over HTTP, the ranges read what one cursor reads, several requests at once, each in its slot; what is
modified or created meanwhile is read; a small sweep keeps one cursor; every resume mark is safe."""
import contextlib
import threading
from collections import Counter

import pytest

from sandboxes.netsuite import records as ns_records
from sandboxes.netsuite import seeding as ns_seeding
from sandboxes.netsuite.process import run_netsuite_sandbox
from sandboxes.netsuite.store import Store as NetSuiteStore
from syncs.clients.netsuite.rest import RestNetSuiteClient
from tests.sandboxes.netsuite.conftest import Rest

from .conftest import netsuite_settings

pytestmark = pytest.mark.slow
PAYMENTS = 150
BOUNDS = "MIN(t.id)"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """An account holding PAYMENTS customer payments dated over two months (their last modified dates too)."""
    data = tmp_path_factory.mktemp("netsuite")
    store = NetSuiteStore(data)
    ns_records.seed_items(store)
    ns_seeding.seed(store, customers=4, sales_orders=8, payments=PAYMENTS, payment_days=60, random_seed=11)
    store.close()
    with run_netsuite_sandbox(data) as running:
        yield running


class Watched:
    """The client's SuiteQL requests as sent, and the slots (`hold`) and read policy (`retrying`) they went
    through, counted the way the pull's budget would see them."""

    def __init__(self, client):
        self.lock = threading.Lock()
        self.queries: list[str] = []
        self.in_slot = self.most_in_slots = self.slots = self.retried_reads = 0
        real = client.suiteql

        def suiteql(query, **kwargs):
            with self.lock:
                self.queries.append(query)
            return real(query, **kwargs)

        client.suiteql = suiteql

    @contextlib.contextmanager
    def hold(self):
        with self.lock:
            self.in_slot += 1
            self.slots += 1
            self.most_in_slots = max(self.most_in_slots, self.in_slot)
        try:
            yield
        finally:
            with self.lock:
                self.in_slot -= 1

    def retrying(self, read):
        with self.lock:
            self.retried_reads += 1
        return read()


@pytest.fixture
def client(settings, sandbox):
    from syncs.clients.netsuite.rest_auth import access_tokens

    settings.NETSUITE = {**settings.NETSUITE, **netsuite_settings(sandbox, "rest")}
    access_tokens.clear()
    sandbox.control(latency_ms=0, reset_stats=True)
    return RestNetSuiteClient()


def pages(client, watched=None, **options):
    watched = watched or Watched(client)
    options = {"transaction_type": "customerPayment", "modified_since": None, "body_fields_only": False,
               "page_size": 10, "hold": watched.hold, "retrying": watched.retrying, **options}
    return client.transaction_pages(**options)


def key(record):
    return record["lastModifiedDate"], int(record["internalId"])


def test_the_ranges_read_every_record_one_cursor_reads_several_at_once_each_in_its_slot(client, sandbox):
    one_cursor = [record for page in pages(client, pages_at_once=1) for record in page.records]
    assert len(one_cursor) == PAYMENTS

    sandbox.control(latency_ms=60, reset_stats=True)
    watched = Watched(client)
    yielded, marks = [], []
    for page in pages(client, watched, pages_at_once=4):
        yielded += page.records
        marks.append((page.resume_after, {record["internalId"] for record in yielded}))
    concurrency = sandbox.stats()["max_concurrency"]

    # The same records, each once, read the same (their applications too).
    assert Counter(record["internalId"] for record in yielded) == Counter(r["internalId"] for r in one_cursor)
    assert {r["internalId"]: r for r in yielded} == {r["internalId"]: r for r in one_cursor}
    # Read in ranges: one bounds query, and pages limited to ranges of ids.
    assert sum(BOUNDS in query for query in watched.queries) == 1
    assert any("t.id >= " in query for query in watched.queries)
    # Several requests at once, never more than the pull's share, every one inside a slot and through `retrying`.
    assert 3 <= watched.most_in_slots <= 4
    assert 3 <= concurrency <= 4
    assert watched.slots == watched.retried_reads == len(watched.queries)
    # A resume mark is safe: every record at or before it (by the keyset) had been handed on with its page.
    for (moment, mark), seen in marks:
        reached = (moment, int(mark.removeprefix("modified:")))
        assert {r["internalId"] for r in one_cursor if key(r) <= reached} <= seen
    assert [mark for (mark, _) in marks] == sorted(mark for (mark, _) in marks), "the marks never move back"
    assert marks[-1][0][1] == f"modified:{max(key(r) for r in one_cursor)[1]}"
    # A run resumed from a mark halfway through reads the rest.
    mark, seen = marks[len(marks) // 2]
    resumed = {r["internalId"] for page in pages(client, pages_at_once=4, resume_after=mark) for r in page.records}
    assert seen | resumed == {r["internalId"] for r in one_cursor}


def test_records_modified_and_created_during_the_sweep_are_read(client, sandbox):
    rest = Rest(sandbox)
    watched = Watched(client)
    sweep = pages(client, watched, pages_at_once=3)
    read = [record for page in [next(sweep), next(sweep)] for record in page.records]
    # The lowest id read so far lies in the first range, which has pages left to read; a new payment's id is past
    # the highest the bounds query saw: the last range, open above.
    changed = min(read, key=lambda record: int(record["internalId"]))
    assert rest.patch(f"customerPayment/{changed['internalId']}", {"memo": "changed mid-sweep"}).status_code == 204
    customer = changed["customer"]["internalId"]
    created = rest.post("customerPayment", {"customer": {"id": customer}, "payment": 12.5})
    assert created.status_code == 204, created.text
    new_id = created.headers["Location"].rsplit("/", 1)[1]

    read += [record for page in sweep for record in page.records]
    by_id = {}
    for record in read:
        by_id.setdefault(record["internalId"], []).append(record)
    assert [r.get("memo") for r in by_id[changed["internalId"]]][-1] == "changed mid-sweep"
    assert len(by_id[changed["internalId"]]) == 2, "read before the change and again after it, newest last"
    assert new_id in by_id
    assert len(by_id) == PAYMENTS + 1
    assert sum(BOUNDS in query for query in watched.queries) == 1, "the sweep should have been read in ranges"


def test_a_small_sweep_keeps_one_cursor(client, sandbox):
    # From the 60th record from the end on: two pages of 40.
    everything = sorted((r for page in pages(client, pages_at_once=1, page_size=200) for r in page.records), key=key)
    since = everything[-60]["lastModifiedDate"]
    watched = Watched(client)
    records = [record for page in pages(client, watched, pages_at_once=4, page_size=40, modified_since=since)
               for record in page.records]
    page_queries = [query for query in watched.queries if "FROM transaction t" in query]
    expected = {r["internalId"] for page in pages(client, pages_at_once=1, page_size=40, modified_since=since)
                for r in page.records}

    assert 40 < len(records) <= 80, "the seeded data should give this sweep two pages"
    assert {r["internalId"] for r in records} == expected
    assert not any(BOUNDS in query or "t.id >= " in query or "t.id < " in query for query in page_queries)
    assert len(page_queries) == 2


def test_more_ranges_than_ten_keep_their_connections(client, sandbox, settings, caplog):
    # requests pools ten connections a host by default: an eleventh answer in flight would drop its connection.
    settings.NETSUITE = {**settings.NETSUITE, "CONCURRENCY_LIMIT": 25}
    sandbox.control(concurrency_limit=25, latency_ms=60, reset_stats=True)
    try:
        wide = RestNetSuiteClient()
        with caplog.at_level("WARNING", logger="urllib3.connectionpool"):
            read = [r for page in pages(wide, pages_at_once=12) for r in page.records]
        most = sandbox.stats()["max_concurrency"]
    finally:
        sandbox.control(concurrency_limit=5, latency_ms=0)
    assert len({r["internalId"] for r in read}) >= PAYMENTS
    assert most > 10
    assert not [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()]
