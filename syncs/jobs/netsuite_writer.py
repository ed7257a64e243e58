"""Writes a batch of push attempts to NetSuite with one upsert of the batch, and records each record's own result;
holds a child back while its parent is not in NetSuite."""
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction

from ..attempts import (attempt_fail, attempt_release, attempts_release_children, attempts_succeed,
                        attempts_through_breaker, request_failed)
from ..breakers import breaker_success
from ..clients.errors import PermanentError, RemoteError, TransientError
from ..concurrency import BudgetTimeout, netsuite_budget
from ..database import connection_release
from ..engine import links_for, links_upsert, parse_salesforce_datetime
from ..models import AttemptStatus, RecordLink, SyncAttempt, SyncJob, System

logger = logging.getLogger(__name__)

# Per-record codes that speak of the request or the account, not the record (NetSuite busy, the session gone):
# retried without spending the record's retry window.
REQUEST_LEVEL_CODES = {"WS_REQUEST_BLOCKED", "CONCURRENCY_LIMIT_EXCEEDED", "WS_CONCUR_SESSION_DISALLWD",
                       "SESSION_TIMED_OUT", "SSS_REQUEST_LIMIT_EXCEEDED"}


class NetSuiteBatchWriter:
    """Writes a batch of push attempts to NetSuite with one upsertList, and records each record's own result.

    Each attempt's request_payload is {"record": <netsuite record dict>, "parent": {...} | None, "link": {...}}:
    everything needed to write it without reading Salesforce again.
    """

    def __init__(self, *, netsuite, job: SyncJob, replan=None):
        # replan(attempts) → the attempts ready to send: plans the tries that carry no record yet (a person's retry)
        # from the source record, and closes those it cannot plan.
        self.netsuite, self.job, self.replan = netsuite, job, replan

    def __call__(self, attempts: list[SyncAttempt]) -> None:
        attempts_through_breaker(System.NETSUITE, attempts, self._send_and_record)

    def _send_and_record(self, attempts: list[SyncAttempt]) -> None:
        try:
            self._send(attempts)
        except RemoteError as error:
            # A lookup or the write failed as a whole request: NetSuite's fault, not the records'.
            request_failed(System.NETSUITE, _still_running(attempts), error)
        except BudgetTimeout as exc:
            # The hub's own wait for a concurrency slot ran out: nothing was sent, and nobody is to blame.
            request_failed(None, _still_running(attempts), TransientError("NO_CONCURRENCY_SLOT", str(exc)))
        except Exception as exc:  # never leave claimed rows running: fail them as transient and let retries decide
            logger.exception("Batch of %s failed unexpectedly", self.job.name)
            error = TransientError("HUB_ERROR", f"{type(exc).__name__}: {exc}")
            for attempt in _still_running(attempts):
                attempt_fail(attempt, error=error)

    def _send(self, attempts: list[SyncAttempt]) -> None:
        ready = self._verify_unknown_outcomes(self._hold_back_orphans(self._planned(attempts)))
        if not ready:
            return
        key = ""
        if self.netsuite.idempotent_batches:
            # Recorded before the call: if its answer is lost, the next try sends the batch again under this key and
            # NetSuite answers with what this send did.
            key = str(uuid.uuid4())
            SyncAttempt.objects.filter(pk__in=[attempt.pk for attempt in ready]).update(idempotency_key=key)
            for attempt in ready:
                attempt.idempotency_key = key
        self._write(ready, idempotency_key=key)

    def _write(self, ready: list[SyncAttempt], *, idempotency_key: str, note: str = "") -> None:
        """One upsert of these attempts' records, and each record's own result recorded."""
        known_accounts = account_links([attempt.request_payload["record"] for attempt in ready])
        records = [references_resolved(attempt.request_payload["record"], known_accounts) for attempt in ready]
        started = time.monotonic()
        # The call may first wait for the custom field definitions another sender is reading (syncs/database.py: no
        # pooled connection is held while waiting; the process's lease keepers need one meanwhile).
        connection_release()
        results = self.netsuite.upsert_list(records, hold=netsuite_budget().slot, idempotency_key=idempotency_key)
        breaker_success(System.NETSUITE)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        succeeded, failed = [], []
        for attempt, result in zip(ready, results):
            response = {"isSuccess": result.success, "internalId": result.internal_id, "externalId": result.external_id,
                        "code": result.code, "message": result.message, "batchMs": elapsed_ms, "batchSize": len(ready)}
            if result.note:
                response["hubNote"] = result.note   # what was changed to send it, shown with the attempt
            if note:
                response["note"] = note
            if result.success:
                succeeded.append((attempt, result.internal_id, response))
            else:
                failed.append((attempt, result, response))
        self._record_successes(succeeded)
        for attempt, result, response in failed:
            attempt_fail(attempt, error=self._write_error(attempt, result), response=response,
                         request_fault=result.code in REQUEST_LEVEL_CODES)

    def _record_successes(self, succeeded: list[tuple[SyncAttempt, str, dict]]) -> None:
        """Close the tries, link each record to its NetSuite twin and let the children waiting for them go."""
        links = []
        for attempt, internal_id, _ in succeeded:
            link = attempt.request_payload.get("link") or {}
            if link:
                record = attempt.request_payload["record"]
                links.append({"record_type": link["record_type"], "salesforce_id": attempt.salesforce_id,
                              "netsuite_record_type": record["type"], "netsuite_internal_id": internal_id,
                              "netsuite_external_id": record["externalId"],
                              "content_hash": link.get("content_hash"), "detail_hash": link.get("detail_hash"),
                              "lines_modstamp": parse_salesforce_datetime(link["lines_modstamp"]) if link.get("lines_modstamp") else None})
        # The batch's successes in one transaction: one per record cost the hub more time than the upsert itself.
        with transaction.atomic():
            attempts_succeed(succeeded)
            links_upsert(links)
        attempts_release_children(parent_ids=[attempt.salesforce_id for attempt, _, _ in succeeded])

    def _write_error(self, attempt: SyncAttempt, result) -> RemoteError:
        """NetSuite's own verdict, except that a reference to a parent the hub has not synced yet means "wait for
        the parent": the record is held back and gets a new try when the parent goes through."""
        parent = attempt.request_payload.get("parent")
        if parent and result.missing_reference and result.missing_reference == parent.get("field"):
            if links_for(parent["record_type"], [parent["salesforce_id"]]):
                return TransientError(result.code, result.message)  # the parent arrived meanwhile: try again soon
            return PermanentError("PARENT_NOT_SYNCED", f"Held back: its parent {parent['record_type']} "
                                  f"{parent['salesforce_id']} is not in NetSuite yet (NetSuite said: {result.message})")
        kind = TransientError if result.transient else PermanentError
        return kind(result.code or "UNKNOWN", result.message)

    def _planned(self, attempts: list[SyncAttempt]) -> list[SyncAttempt]:
        """The attempts with a NetSuite record to send, after planning those that carry none yet."""
        planned = [a for a in attempts if "record" in (a.request_payload or {})]
        unplanned = [a for a in attempts if "record" not in (a.request_payload or {})]
        if not unplanned:
            return attempts
        if self.replan is not None:
            return planned + self.replan(unplanned)
        for attempt in unplanned:
            attempt_fail(attempt, error=PermanentError("NOTHING_TO_SEND", "This try carries no record and this "
                                                       "writer cannot plan one."), retry=False)
        return planned

    def _hold_back_orphans(self, attempts: list[SyncAttempt]) -> list[SyncAttempt]:
        """A record whose parent is not in NetSuite yet waits for it: it fails with the parent's reason when the
        parent failed (and gets a new try when the parent goes through), or waits a little while the parent is on
        its way. Records whose parents are linked go ahead."""
        parents = [a.request_payload.get("parent") for a in attempts]
        wanted = {(p["record_type"], p["salesforce_id"]) for p in parents if p}
        linked = set()
        for record_type in {rt for rt, _ in wanted}:
            ids = [sid for rt, sid in wanted if rt == record_type]
            linked |= {(record_type, sid) for sid in links_for(record_type, ids)}
        missing = {(p["record_type"], p["salesforce_id"]): p.get("job", "") for p in parents
                   if p and (p["record_type"], p["salesforce_id"]) not in linked}
        latest = _latest_parent_attempts(missing)
        ready = []
        for attempt, parent in zip(attempts, parents):
            if not parent or (parent["record_type"], parent["salesforce_id"]) in linked:
                ready.append(attempt)
                continue
            parent_attempt = latest.get((parent["record_type"], parent["salesforce_id"]))
            if parent_attempt is None:
                # Not seen by the hub: NetSuite resolves the reference by external id, or says it can't.
                ready.append(attempt)
            elif parent_attempt.status in (AttemptStatus.FAILED, AttemptStatus.DEAD):
                reason = (f"Held back: its parent {parent['record_type']} {parent['salesforce_id']} failed to sync "
                          f"({parent_attempt.remote_code}: {parent_attempt.remote_message})")
                attempt_fail(attempt, error=PermanentError("PARENT_FAILED", reason), retry=False)
            else:
                attempt_release(attempt, delay_seconds=settings.HUB_PARENT_WAIT_SECONDS)
        return ready

    def _verify_unknown_outcomes(self, attempts: list[SyncAttempt]) -> list[SyncAttempt]:
        """After a timeout or a lost answer the earlier write may have landed. Where the transport's batches are
        idempotent and the whole earlier batch is here, it is sent again under its key (see _resend_under_batch_keys).
        Otherwise each record is looked up by external id before writing again. A record NetSuite did not hold before the hub's write (no link) and holds now was
        created by that write: its try is complete, with the id found, and nothing is written again. A record
        that existed before may still hold its old content, so it is written again (the upsert by external id
        cannot duplicate it). Returns the attempts still to write."""
        unsure = [a for a in attempts if a.verify_before_write]
        if not unsure:
            return attempts
        resolved = self._resend_under_batch_keys(unsure) if self.netsuite.idempotent_batches else set()
        unsure = [a for a in unsure if a.pk not in resolved]
        by_type: dict[str, list[SyncAttempt]] = {}
        for attempt in unsure:
            by_type.setdefault(attempt.request_payload["record"]["type"], []).append(attempt)
        landed = []
        for record_type, group in by_type.items():
            with netsuite_budget().slot():
                found = self.netsuite.get_by_external_ids(record_type, [a.request_payload["record"]["externalId"] for a in group])
            breaker_success(System.NETSUITE)   # a lookup answered is NetSuite well again, as much as a write
            linked = self._linked_before(group)
            for attempt in group:
                internal_id = found.get(attempt.request_payload["record"]["externalId"])
                attempt.netsuite_internal_id = internal_id or ""
                if internal_id and (attempt.salesforce_id not in linked) and attempt.request_payload.get("link"):
                    attempt.operation = "lookup"
                    landed.append((attempt, internal_id, {"found": True, "internalId": internal_id,
                                                          "note": "The earlier try's write had landed; nothing was written again."}))
                else:
                    attempt.operation = "lookup+upsert"
                attempt.save(update_fields=["netsuite_internal_id", "operation"])
        self._record_successes(landed)
        done = resolved | {attempt.pk for attempt, _, _ in landed}
        return [attempt for attempt in attempts if attempt.pk not in done]

    def _resend_under_batch_keys(self, unsure: list[SyncAttempt]) -> set[int]:
        """Unsure tries whose whole earlier batch is in this one are sent again under that batch's key, in the
        batch's order (tries are claimed by id, and each successor is made in its predecessor's order): NetSuite
        answers a key it has seen with the first send's job, so each record's outcome is that job's and nothing is
        written twice. Returns the ids of the attempts settled this way."""
        by_key: dict[str, list[SyncAttempt]] = {}
        for attempt in unsure:
            if attempt.idempotency_key:
                by_key.setdefault(attempt.idempotency_key, []).append(attempt)
        settled: set[int] = set()
        for key, group in by_key.items():
            # Every record that ever went under this key, closed tries included: the key names that whole batch.
            carried = set(SyncAttempt.objects.filter(idempotency_key=key).values_list("netsuite_external_id", flat=True))
            if carried != {attempt.netsuite_external_id for attempt in group} or len(group) != len(carried):
                continue   # part of that batch is elsewhere or settled: these records alone are not that batch
            group.sort(key=lambda attempt: attempt.pk)
            for attempt in group:
                attempt.operation = "upsert (same key)"
            SyncAttempt.objects.filter(pk__in=[attempt.pk for attempt in group]).update(operation="upsert (same key)")
            self._write(group, idempotency_key=key,
                        note="Resolved by the batch's idempotency key: NetSuite answers a batch it has seen "
                        "with that batch's results, so nothing is written twice.")
            settled |= {attempt.pk for attempt in group}
        return settled

    @staticmethod
    def _linked_before(attempts: list[SyncAttempt]) -> set[str]:
        """The Salesforce ids among these whose record the hub had already linked to NetSuite."""
        linked = set()
        for record_type in {(a.request_payload.get("link") or {}).get("record_type") for a in attempts} - {None}:
            ids = [a.salesforce_id for a in attempts if (a.request_payload.get("link") or {}).get("record_type") == record_type]
            linked |= {sid for sid, link in links_for(record_type, ids).items() if link.netsuite_internal_id}
        return linked


def _still_running(attempts: list[SyncAttempt]) -> list[SyncAttempt]:
    """The batch's attempts not yet closed (some may have been, before the request failed), in one query."""
    running = set(SyncAttempt.objects.filter(pk__in=[a.pk for a in attempts], status=AttemptStatus.RUNNING)
                  .values_list("pk", flat=True))
    return [attempt for attempt in attempts if attempt.pk in running]


def account_links(records: list[dict]) -> dict[str, RecordLink]:
    """The Account links that a batch of records refers to, read once for the whole batch."""
    wanted = {value["externalId"] for record in records for value in record.get("fields", {}).values()
              if isinstance(value, dict) and "externalId" in value}
    return links_for("Account", wanted) if wanted else {}


def references_resolved(record: dict, links: dict[str, RecordLink] | None = None) -> dict:
    """Point references at the linked NetSuite record where the hub knows it (a broker's contact belongs to a
    Vendor, not a Customer); otherwise NetSuite resolves the external id itself. `links`: the Account links already
    read for a batch (see account_links)."""
    fields = dict(record.get("fields", {}))
    refs = {name: value for name, value in fields.items() if isinstance(value, dict) and "externalId" in value}
    if refs:
        if links is None:
            links = account_links([record])
        for name, ref in refs.items():
            link = links.get(ref["externalId"])
            if link and link.netsuite_internal_id:
                fields[name] = {"internalId": link.netsuite_internal_id, "type": link.netsuite_record_type}
    return {**record, "fields": fields}


def _latest_parent_attempts(missing: dict[tuple[str, str], str]) -> dict[tuple[str, str], SyncAttempt]:
    """The latest try of each missing parent, keyed (record type, Salesforce id); where the parent names its job
    (an order, whose Salesforce id its lines share), only that job's tries count."""
    latest: dict[tuple[str, str], SyncAttempt] = {}
    if not missing:
        return latest
    wanted: dict[str, list[tuple[str, str]]] = {}
    for (record_type, salesforce_id), job_name in missing.items():
        wanted.setdefault(salesforce_id, []).append((record_type, job_name))
    tries = SyncAttempt.objects.filter(salesforce_id__in=list(wanted), superseded=False).select_related("job").order_by("created_at", "id")
    for attempt in tries:
        for record_type, job_name in wanted[attempt.salesforce_id]:
            if not job_name or job_name == attempt.job.name:
                latest[(record_type, attempt.salesforce_id)] = attempt
    return latest
