"""Writes a batch of pull attempts to Salesforce with sObject Collections (≤200 a call), reading each record's own
result: one bad record fails alone."""
import time

from django.db import connections, router, transaction

from ..attempts import attempt_fail, attempts_succeed, attempts_through_breaker, request_failed
from ..breakers import breaker_success
from ..clients.errors import PermanentError, RemoteError, TransientError
from ..clients.salesforce import TRANSIENT_CODES as SALESFORCE_TRANSIENT_CODES
from ..clients.salesforce import result_errors
from ..engine import links_upsert
from ..models import SyncAttempt, SyncJob, System


class SalesforceBatchWriter:
    """Writes a batch of pull attempts with sObject Collections (≤200 a call), reading each record's own result."""

    def __init__(self, *, salesforce, job: SyncJob, link: tuple[str, str, str] | None = None):
        # link: (Salesforce object, RecordLink type, NetSuite record type) of the records a job keeps links for
        # (remittances); other objects it writes (the roll-up onto applications) get none.
        self.salesforce, self.job, self.link = salesforce, job, link

    def __call__(self, attempts: list[SyncAttempt]) -> None:
        attempts_through_breaker(System.SALESFORCE, attempts, self._write)

    def _write(self, attempts: list[SyncAttempt]) -> None:
        groups: dict[tuple, list[SyncAttempt]] = {}
        for attempt in attempts:
            payload = attempt.request_payload
            if "record" not in payload:
                attempt_fail(attempt, error=PermanentError("NOTHING_TO_SEND", "This attempt carries no record; it failed mapping."), retry=False)
                continue
            groups.setdefault((payload["object"], payload["mode"], payload.get("external_id_field", "")), []).append(attempt)
        for (object_name, mode, external_id_field), group in groups.items():
            records = [attempt.request_payload["record"] for attempt in group]
            started = time.monotonic()
            try:
                if mode == "upsert":
                    results = self.salesforce.upsert_collection(object_name, external_id_field, records)
                else:
                    results = self.salesforce.update_collection(object_name, records)
            except RemoteError as error:
                # The whole call failed: Salesforce's fault (or its allocation), not the records'.
                request_failed(System.SALESFORCE, group, error)
                continue
            breaker_success(System.SALESFORCE)
            elapsed_ms = int((time.monotonic() - started) * 1000)
            succeeded, links = [], []
            for attempt, result in zip(group, results):
                response = {**result, "batchMs": elapsed_ms, "batchSize": len(group)}
                if result.get("success"):
                    attempt.salesforce_id = result.get("id") or attempt.salesforce_id
                    succeeded.append((attempt, "", response))
                    if self.link and object_name == self.link[0]:
                        links.append({"record_type": self.link[1], "salesforce_id": attempt.salesforce_id,
                                      "netsuite_record_type": self.link[2],
                                      "netsuite_internal_id": attempt.netsuite_internal_id,
                                      "netsuite_external_id": attempt.netsuite_external_id,
                                      "content_hash": attempt.source_hash, "detail_hash": None})
                else:
                    code, message = result_errors(result)
                    kind = TransientError if code in SALESFORCE_TRANSIENT_CODES else PermanentError
                    attempt_fail(attempt, error=kind(code, message), response=response)
            # The batch's successes in one transaction, as the pushes record theirs: row by row, the hub's own
            # bookkeeping took longer than the Salesforce call and kept the writers behind the NetSuite reader.
            with transaction.atomic():
                _salesforce_ids_save([attempt for attempt, _, _ in succeeded])
                attempts_succeed(succeeded)
                links_upsert(links)


def _salesforce_ids_save(attempts: list[SyncAttempt]) -> None:
    """The id Salesforce gave each record, on its attempt: one UPDATE run for every row."""
    if not attempts:
        return
    connection = connections[router.db_for_write(SyncAttempt)]
    quote = connection.ops.quote_name
    column = SyncAttempt._meta.get_field("salesforce_id").column
    sql = f"UPDATE {quote(SyncAttempt._meta.db_table)} SET {quote(column)} = %s WHERE {quote(SyncAttempt._meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(attempt.salesforce_id, attempt.pk) for attempt in attempts])
