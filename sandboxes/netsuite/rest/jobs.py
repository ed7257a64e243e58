"""Asynchronous REST requests and batches: a job per request, a task per record, results kept for polling.

References (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- `Prefer: respond-async`, 202 with the job in `Location`, and the job, task and result resources:
  chapter_161251386312.html, subsect_161278579295.html, subsect_161252896355.html, subsect_161252889998.html
- batches of up to 100 records of one type (`Content-Type: application/vnd.oracle.resource+json; type=collection`,
  body `{"items": [...]}`), add with POST, update with PATCH, upsert with PUT, delete with DELETE:
  article_0127092747.html
- `X-NetSuite-idempotency-key`: the same key again is refused (400, titled Conflict, IDEMPOTENCY_ERROR) with the
  first job in `Location`, and nothing is written again: subsect_164494900632.html

Jobs wait in a queue and run in at most `rest_async_processors` jobs at a time (a control setting, like the account's
processors). Each task's result is the answer the same request would have had synchronously (status, headers, body).
Jobs and results live in the store, so they survive restarts; unfinished jobs are picked up again at start.
"""
from __future__ import annotations

import datetime as dt
import json
import queue
import sqlite3
import threading
import time

from .answers import COLLECTION, Answer
from .errors import RestError, bad_request
from .record_service import collection, kind_of, paging

MAX_BATCH = 100
MAX_PROCESSOR_THREADS = 32
JOB_PATH = "/services/rest/async/v1/job"


def _stamp(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return dt.datetime.fromtimestamp(epoch_ms // 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_ms() -> int:
    return int(time.time() * 1000)


class Jobs:
    def __init__(self, store, records, governance):
        self.store = store
        self.records = records
        self.governance = governance
        self.queue: queue.Queue[int] = queue.Queue()
        self._gate = threading.Condition()
        self._running = 0
        for number in range(MAX_PROCESSOR_THREADS):
            threading.Thread(target=self._processor, name=f"rest-async-{number}", daemon=True).start()
        with self.store.read() as connection:
            unfinished = [row[0] for row in connection.execute(
                "SELECT job_id FROM rest_jobs WHERE state != 'finished' ORDER BY job_id")]
        for job_id in unfinished:
            self.queue.put(job_id)

    # -- submitting --------------------------------------------------------------------------------
    def submit(self, method: str, segments: list[str], query: dict, body, base: str, *, is_batch: bool,
               idempotency_key: str | None) -> Answer:
        kind = kind_of(segments[0])
        tasks = self._batch_tasks(method, segments, query, body, kind) if is_batch else [
            {"method": method, "segments": segments, "query": query, "body": body}]
        now = _now_ms()
        request = {"base": base, "tasks": tasks}
        try:
            with self.store.write() as connection:
                job_id = connection.execute(
                    "INSERT INTO rest_jobs (idempotency_key, request, state, created_ms) VALUES (?, ?, 'pending', ?)",
                    (idempotency_key or None, json.dumps(request), now)).lastrowid
                connection.executemany("INSERT INTO rest_tasks (job_id, task_id) VALUES (?, ?)",
                                       [(job_id, number) for number in range(1, len(tasks) + 1)])
        except sqlite3.IntegrityError:
            row = self.store.connection().execute(
                "SELECT job_id FROM rest_jobs WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            raise RestError(400, "IDEMPOTENCY_ERROR",
                            "A request with the same idempotency key is already submitted. See the \"Location\" "
                            "header for a link to the previously submitted job", title="Conflict",
                            headers={"Location": f"{JOB_PATH}/{row[0]}", "Preference-Applied": "respond-async"}
                            ) from None
        self.queue.put(job_id)
        # The job's address is relative, as in Oracle's examples (subsect_161278579295.html).
        return Answer(202, None, {"Location": f"{JOB_PATH}/{job_id}", "Preference-Applied": "respond-async"},
                      content_type="application/json")

    @staticmethod
    def _batch_tasks(method: str, segments: list[str], query: dict, body, kind) -> list[dict]:
        if len(segments) != 1:
            raise bad_request("INVALID_REQUEST", "A batch request goes to the record type's collection, "
                              f"record/v1/{kind.type}.", url="/".join(segments))
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise bad_request("INVALID_CONTENT", "A batch request body is an object with the records in 'items'.",
                              error_path="items")
        if len(items) > MAX_BATCH:
            raise bad_request("INVALID_CONTENT", f"A batch request can hold at most {MAX_BATCH} records; this one "
                              f"holds {len(items)}.", error_path="items")
        if method not in ("POST", "PATCH", "PUT", "DELETE"):
            raise RestError(405, "METHOD_NOT_ALLOWED", f"The {method} method is not allowed in a batch request.")
        tasks = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise bad_request("INVALID_CONTENT", "Each record of a batch is a JSON object.",
                                  error_path=f"items[{index}]")
            record = dict(item)
            key = None
            if method == "PUT":
                if not record.get("externalId"):
                    raise bad_request("INVALID_CONTENT", "An upsert batch needs each record's externalId.",
                                      error_path=f"items[{index}].externalId")
                key = f"eid:{record['externalId']}"
            elif method in ("PATCH", "DELETE"):
                if record.get("id") is not None:
                    key = str(record.pop("id"))
                elif record.get("externalId"):
                    key = f"eid:{record['externalId'] if method == 'DELETE' else record.pop('externalId')}"
                else:
                    raise bad_request("INVALID_CONTENT", "Each record of an update or delete batch needs its id or "
                                      "externalId.", error_path=f"items[{index}]")
            tasks.append({"method": method, "segments": [segments[0]] + ([key] if key else []), "query": query,
                          "body": None if method == "DELETE" else record})
        return tasks

    # -- processing --------------------------------------------------------------------------------
    def _processor(self) -> None:
        while True:
            job_id = self.queue.get()
            with self._gate:
                # Re-read the setting each time: it can be changed while the sandbox runs.
                while self._running >= max(1, int(self.governance.settings["rest_async_processors"])):
                    self._gate.wait(0.2)
                self._running += 1
            try:
                self._run(job_id)
            except Exception:  # noqa: BLE001 - one broken job must not stop the processor
                import traceback
                traceback.print_exc()
            finally:
                with self._gate:
                    self._running -= 1
                    self._gate.notify_all()

    def _run(self, job_id: int) -> None:
        connection = self.store.connection()
        row = connection.execute("SELECT request, started_ms FROM rest_jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            return   # reset while queued
        request = json.loads(row[0])
        with self.store.write() as write:
            write.execute("UPDATE rest_jobs SET state = 'processing', started_ms = COALESCE(started_ms, ?) "
                          "WHERE job_id = ?", (_now_ms(), job_id))
        done = {task_id for (task_id,) in connection.execute(
            "SELECT task_id FROM rest_tasks WHERE job_id = ? AND result IS NOT NULL", (job_id,))}
        for number, task in enumerate(request["tasks"], start=1):
            if number in done:
                continue
            started = _now_ms()
            begun = time.perf_counter()
            answer = self.records.perform(task["method"], task["segments"], task["query"], task["body"],
                                          request["base"] + "/services/rest/record/v1", "async.task")
            self.governance.count("async.task", (answer.body or {}).get("o:errorDetails", [{}])[0].get("o:errorCode")
                                  if answer.status >= 400 else None)
            # An async processor takes the time a synchronous request would (the modelled latency).
            remaining = self.governance.latency_s(answer.records) - (time.perf_counter() - begun)
            if remaining > 0:
                time.sleep(remaining)
            with self.store.write() as write:
                write.execute("UPDATE rest_tasks SET started_ms = ?, ended_ms = ?, result = ? "
                              "WHERE job_id = ? AND task_id = ?",
                              (started, _now_ms(), json.dumps(answer.to_json()), job_id, number))
        with self.store.write() as write:
            write.execute("UPDATE rest_jobs SET state = 'finished', ended_ms = ? WHERE job_id = ?", (_now_ms(), job_id))

    # -- polling -----------------------------------------------------------------------------------
    def poll(self, segments: list[str], query: dict, base: str) -> Answer:
        if len(segments) < 2 or segments[0] != "job" or not segments[1].isdigit():
            raise RestError(404, "NONEXISTENT_ID", "The asynchronous job does not exist.", url="/".join(segments))
        job_id = int(segments[1])
        with self.store.read() as connection:
            job = connection.execute("SELECT state, started_ms, ended_ms FROM rest_jobs WHERE job_id = ?",
                                     (job_id,)).fetchone()
            tasks = connection.execute("SELECT task_id, started_ms, ended_ms, result FROM rest_tasks WHERE job_id = ? "
                                       "ORDER BY task_id", (job_id,)).fetchall()
        if job is None:
            raise RestError(404, "NONEXISTENT_ID", f"The asynchronous job {job_id} does not exist.")
        job_url = f"{base}{JOB_PATH}/{job_id}"
        rest = segments[2:]
        if not rest:
            return Answer(200, self._job(job_id, job, tasks, job_url), content_type="application/json")
        if rest[0] != "task":
            raise RestError(404, "NONEXISTENT_ID", "The resource does not exist.", url="/".join(segments))
        if len(rest) == 1:
            limit, offset = paging(query, 1000)
            page = tasks[offset:offset + limit]
            items = [{"links": [{"rel": "self", "href": f"{job_url}/task/{t[0]}"}], "id": str(t[0])} for t in page]
            return Answer(200, collection(f"{job_url}/task", items, limit, offset, len(tasks)),
                          content_type=COLLECTION)
        task = next((t for t in tasks if rest[1].isdigit() and t[0] == int(rest[1])), None)
        if task is None:
            raise RestError(404, "NONEXISTENT_ID", f"The task {rest[1]} of job {job_id} does not exist.")
        task_url = f"{job_url}/task/{task[0]}"
        if len(rest) == 2:
            return Answer(200, self._task(task, task_url), content_type="application/json")
        if rest[2:] == ["result"]:
            if task[3] is None:
                raise RestError(404, "NONEXISTENT_ID", "The task has not completed yet: poll the job until it is "
                                "completed, then ask for the result.")
            return Answer.from_json(json.loads(task[3]))
        raise RestError(404, "NONEXISTENT_ID", "The resource does not exist.", url="/".join(segments))

    @staticmethod
    def _progress(result: str | None, started) -> str:
        if result is None:
            return "pending" if started is None else "processing"
        return "succeeded" if json.loads(result)["status"] < 400 else "failed"

    def _task(self, task, task_url: str) -> dict:
        task_id, started, ended, result = task
        body = {"links": [{"rel": "related", "href": f"{task_url}/result"}, {"rel": "self", "href": task_url}],
                "completed": result is not None, "id": str(task_id), "progress": self._progress(result, started)}
        if started is not None:
            body["startTime"] = _stamp(started)
        if ended is not None:
            body["endTime"] = _stamp(ended)
        return body

    def _job(self, job_id: int, job, tasks, job_url: str) -> dict:
        state, started, ended = job
        completed = state == "finished"
        if not completed:
            progress = "pending" if started is None else "processing"
        else:
            # A job succeeds when every task did; any failed record makes it failed, and its tasks tell which.
            progress = "succeeded" if all(self._progress(t[3], t[1]) == "succeeded" for t in tasks) else "failed"
        body = {"links": [{"rel": "self", "href": job_url}], "completed": completed, "id": str(job_id),
                "progress": progress, "task": {"links": [{"rel": "self", "href": f"{job_url}/task"}]}}
        if started is not None:
            body["startTime"] = _stamp(started)
        if ended is not None:
            body["endTime"] = _stamp(ended)
        return body
