"""Every page of a SOAP transaction search, however the records change while the hub reads them.

A SOAP search cannot ask for an order, and NetSuite returns transactions by date created, not by lastModifiedDate,
so a sweep cannot page by its modification cursor. It searches everything modified since the watermark and walks
every page with searchMoreWithId, a couple of pages asked for ahead of the one being read. Pages by date created do
not skip when a record is modified meanwhile (it only moves or joins); when the results shrink under the hub (a
record deleted) or the searchId expires, the sweep searches again from the date created it had reached.
"""
from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ..errors import TransientError
from .interface import SearchPage, SearchPageGone

logger = logging.getLogger(__name__)

# Pages asked for ahead of the one being processed, unless the caller says how many its share of the concurrency
# budget allows: NetSuite's time answering them overlaps the hub's reading of the one before (each holds a
# concurrency slot meanwhile).
READ_AHEAD = 2
RESTARTS = 5


def soap_transaction_pages(client, *, transaction_type: str, modified_since, created_since, page_size: int,
                           body_fields_only: bool, resume_after, hold, retrying, read_ahead: int = READ_AHEAD):
    """SearchPages in NetSuite's order (by date created). `resume_after` (datetime, "created") skips the records
    created before that moment; a position of another transport's making is ignored."""
    created_from = created_since
    if resume_after and resume_after[1] == "created":
        created_from = max(created_from, resume_after[0]) if created_from else resume_after[0]

    def first(created):
        def read():
            with hold():
                return client.search_transactions(transaction_type=transaction_type, modified_since=modified_since,
                                                  page_size=page_size, body_fields_only=body_fields_only,
                                                  created_since=created)
        return _marked(retrying(read))

    def further(search_id: str, page_index: int):
        # Runs in a reader thread, which touches no database.
        def read():
            with hold():
                return client.search_more(search_id=search_id, page_index=page_index, page_size=page_size,
                                          body_fields_only=body_fields_only)
        return _marked(retrying(read))   # SearchPageGone is no fault to retry: it comes out, and the sweep searches again

    restarts = 0
    width = max(1, read_ahead)
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"read-{transaction_type}") as pool:
        ahead: deque = deque()

        def read_ahead(search: SearchPage, after: int) -> int:
            while len(ahead) < width and after < search.total_pages:
                after += 1
                ahead.append(pool.submit(further, search.search_id, after))
            return after

        search = first(created_from)
        asked = read_ahead(search, search.page_index)
        while True:
            if search.records:
                yield search
                created_from = _created(search.records[-1]) or created_from
            if not ahead:
                return
            try:
                following = ahead.popleft().result()
            except SearchPageGone as error:
                logger.info("%s while paging %s; searching again from the date created reached", error.code, transaction_type)
                following = None
            if following is not None and following.total_records >= search.total_records:
                search = following
                asked = read_ahead(search, asked)
                continue
            # The searchId expired, or a record left the results (deleted) and the pages after it moved back by one:
            # the next page could skip a record. Search again from the date created reached (that second included).
            for future in ahead:
                future.cancel()
            ahead.clear()
            restarts += 1
            if restarts > RESTARTS:
                raise TransientError("SEARCH_UNSTABLE", f"The {transaction_type} search kept changing under the hub; try again later.")
            search = first(created_from)
            asked = read_ahead(search, search.page_index)


def _marked(page: SearchPage) -> SearchPage:
    reached = _created(page.records[-1]) if page.records else None
    if reached is not None:
        page.resume_after = (reached, "created")
    return page


def _created(record: dict) -> datetime | None:
    value = record.get("createdDate")
    if not value:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("NetSuite returned a date-time without an offset; refusing to guess its time zone")
    return value.astimezone(timezone.utc)
