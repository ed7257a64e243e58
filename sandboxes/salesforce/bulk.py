"""Bulk API 2.0: ingest jobs (CSV insert, update, upsert, delete) and query jobs, kept in the org's database.

Jobs run as soon as they can (an ingest job when its upload completes, a query job when it is created), so a
client's first poll usually sees JobComplete; clients must still poll, as they would against the platform.
Ingest rows are written 200 at a time, each chunk in one transaction with one SystemModstamp, like the platform's
internal batches.
"""
import csv
import io
import json

from . import bulk_upload, ids, schema
from .errors import ApiError
from .query import QueryEngine, Selected, compile_soql
from .records import USER_ID, Org
from .store import Store, now_stamp

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
QUERY_OPERATIONS = {"query", "queryAll"}
CHUNK = 200
INGEST_BATCH_RECORDS = 10000
JOB_PREFIX = "750"
NULL_MARKER = "#N/A"    # an empty cell leaves a field alone; this sets it to null


def invalid_job(message: str) -> ApiError:
    return ApiError("INVALIDJOB", message)


class BulkJobs:
    def __init__(self, store: Store, org: Org, engine: QueryEngine):
        self.store = store
        self.org = org
        self.engine = engine
        with store.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS _bulk_job (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                         "info TEXT NOT NULL, upload BLOB, results TEXT)")

    # -- storage ----------------------------------------------------------------------------------------------------
    def _load(self, kind: str, job_id: str) -> tuple:
        """(info, rowid of the job when it holds an upload or None, results). The upload itself stays in the
        database: it is read piece by piece when the job runs."""
        row = self.store.conn().execute(
            "SELECT info, CASE WHEN length(upload) > 0 THEN rowid END, results FROM _bulk_job WHERE id = ? AND kind = ?",
            (ids.normalize_id(job_id) or job_id, kind)).fetchone()
        if row is None:
            raise ApiError("NOT_FOUND", "The requested resource does not exist", status=404)
        return json.loads(row[0]), row[1], json.loads(row[2]) if row[2] else None

    def _save(self, conn, kind, info, upload=None, results=None, *, insert=False):
        if insert:
            conn.execute("INSERT INTO _bulk_job (id, kind, info, upload, results) VALUES (?, ?, ?, ?, ?)",
                         (info["id"], kind, json.dumps(info), upload, json.dumps(results) if results else None))
        else:
            conn.execute("UPDATE _bulk_job SET info = ?, upload = COALESCE(?, upload), results = COALESCE(?, results) "
                         "WHERE id = ?", (json.dumps(info), upload, json.dumps(results) if results else None,
                                          info["id"]))

    def _new_info(self, conn, body: dict, version: str, operation: str) -> dict:
        counter = self.store.next_counter(conn, "ids:" + JOB_PREFIX)
        now = now_stamp()
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS:
            raise invalid_job(f"Invalid column delimiter: {delimiter}")
        if line_ending not in LINE_ENDINGS:
            raise invalid_job(f"Invalid line ending: {line_ending}")
        if (body.get("contentType") or "CSV") != "CSV":
            raise invalid_job("Only CSV content is supported")
        return {"id": ids.make_id(JOB_PREFIX, counter), "operation": operation, "createdById": USER_ID,
                "createdDate": now, "systemModstamp": now, "concurrencyMode": "Parallel", "contentType": "CSV",
                "apiVersion": float(version), "lineEnding": line_ending, "columnDelimiter": delimiter}

    # -- ingest -----------------------------------------------------------------------------------------------------
    def create_ingest(self, body, version: str) -> dict:
        if not isinstance(body, dict):
            raise ApiError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise invalid_job(f"Invalid operation: {operation}")
        obj = schema.lookup(body.get("object") or "")
        if obj is None:
            raise invalid_job(f"sObject type '{body.get('object')}' is not supported.")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            if not external:
                raise invalid_job("External ID was blank for upsert")
            f = obj.field(external)
            if f is None or not f.external_id:
                raise invalid_job(f"The field {external} is not an External ID field of {obj.name}")
            external = f.name
        with self.store.transaction() as conn:
            info = self._new_info(conn, body, version, operation)
            info.update({"object": obj.name, "state": "Open", "externalIdFieldName": external,
                         "contentUrl": f"services/data/v{version}/jobs/ingest/{info['id']}/batches"})
            self._save(conn, "ingest", info, insert=True)
        return info

    def upload(self, job_id: str, pieces, declared_length: int | None):
        """Store the job's CSV from the request body's pieces (see bulk_upload)."""
        info, upload, _ = self._load("ingest", job_id)
        if info["state"] != "Open":
            raise invalid_job(f"Job {info['id']} is not open for data upload; its state is {info['state']}")
        if upload is not None:
            # A job takes one upload; more data goes in another job.
            raise invalid_job(f"Found multiple contents for job: <{info['id']}>, please 'Close' / 'Abort' / 'Delete' "
                              "the current Job then create a new Job and make sure you only do 'PUT' once on a given "
                              "Job.")
        rowid = self.store.conn().execute("SELECT rowid FROM _bulk_job WHERE id = ?", (info["id"],)).fetchone()[0]
        if not bulk_upload.store_upload(self.store, rowid, pieces, declared_length):
            raise invalid_job("No data was uploaded")

    def set_state(self, kind: str, job_id: str, body) -> dict:
        info, upload, _ = self._load(kind, job_id)
        state = (body or {}).get("state") if isinstance(body, dict) else None
        if state == "Aborted":
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                raise invalid_job(f"Job {info['id']} is already {info['state']}")
            info["state"] = "Aborted"
        elif state == "UploadComplete" and kind == "ingest":
            if info["state"] != "Open":
                raise invalid_job(f"Job {info['id']} is not open; its state is {info['state']}")
            info["state"] = "UploadComplete"
            answer = dict(info)
            self._run_ingest(info, upload)
            return answer
        else:
            raise invalid_job(f"Invalid state change: {state}")
        info["systemModstamp"] = now_stamp()
        with self.store.transaction() as conn:
            self._save(conn, kind, info)
        return info

    def _read_rows(self, info: dict, upload: int | None) -> tuple:
        if upload is None:
            raise invalid_job("InvalidBatch : Empty CSV file")
        with bulk_upload.open_upload(self.store.conn(), upload) as text:
            reader = csv.reader(text, delimiter=DELIMITERS[info["columnDelimiter"]])
            rows = [row for row in reader if row]
        if not rows:
            raise invalid_job("InvalidBatch : Empty CSV file")
        return rows[0], rows[1:]

    def _run_ingest(self, info: dict, upload: int | None):
        obj = schema.BY_NAME[info["object"]]
        operation = info["operation"]
        successes, failures = [], []
        try:
            header, rows = self._read_rows(info, upload)
            for column in header:
                if obj.field(column) is None:
                    raise invalid_job(f"InvalidBatch : Field name not found : {column}")
            if operation in ("delete", "hardDelete") and [c.lower() for c in header] != ["id"]:
                raise invalid_job("InvalidBatch : The 'delete' batch must contain only ids")
            if operation == "update" and "id" not in [c.lower() for c in header]:
                raise invalid_job("InvalidBatch : Field name not found : Id")
            if operation == "upsert" and info["externalIdFieldName"].lower() not in [c.lower() for c in header]:
                raise invalid_job(f"InvalidBatch : Field name not found : {info['externalIdFieldName']}")
        except ApiError as error:
            info.update({"state": "Failed", "errorMessage": error.message, "numberRecordsProcessed": 0,
                         "numberRecordsFailed": 0, "systemModstamp": now_stamp()})
            with self.store.transaction() as conn:
                self._save(conn, "ingest", info)
            return
        for start in range(0, len(rows), CHUNK):
            with self.store.transaction() as conn:
                now = now_stamp()
                for row in rows[start:start + CHUNK]:
                    values = dict(zip(header, row))
                    try:
                        with self.store.savepoint(conn):
                            record_id, created = self._ingest_one(conn, obj, operation, info, values, now)
                        successes.append([record_id, "true" if created else "false"] + row)
                    except ApiError as error:
                        record_id = next((v for k, v in values.items() if k.lower() == "id"), "")
                        failures.append([record_id, f"{error.code}:{error.message}:{','.join(error.fields)} --"]
                                        + row)
        info.update({"state": "JobComplete", "numberRecordsProcessed": len(rows),
                     "numberRecordsFailed": len(failures), "systemModstamp": now_stamp()})
        results = {"header": header, "successful": successes, "failed": failures}
        with self.store.transaction() as conn:
            self._save(conn, "ingest", info, results=results)

    def _ingest_one(self, conn, obj, operation, info, values: dict, now) -> tuple:
        body = {}
        for column, cell in values.items():
            if cell == "":
                continue
            body[column] = None if cell == NULL_MARKER else cell
        if operation == "insert":
            return self.org.create(conn, obj, body, now), True
        if operation in ("delete", "hardDelete"):
            record_id = next(iter(body.values()), "")
            self.org.delete(conn, obj, record_id, now)
            return ids.normalize_id(record_id), False
        if operation == "update":
            record_id = next((v for k, v in body.items() if k.lower() == "id"), None)
            if not record_id:
                raise ApiError("MISSING_ARGUMENT", "Id not specified in an update call", fields=["Id"])
            return self.org.update(conn, obj, record_id, body, now), False
        field_name = info["externalIdFieldName"]
        value = next((v for k, v in body.items() if k.lower() == field_name.lower()), None)
        if value is None:
            raise ApiError("MISSING_ARGUMENT", f"{field_name} not specified", fields=[field_name])
        try:
            return self.org.upsert(conn, obj, field_name, value, body, now)
        except ApiError as error:
            if error.code == "MULTIPLE_RECORDS":
                raise ApiError("DUPLICATE_EXTERNAL_ID", f"{field_name}: more than one record found for external id "
                               f"field: {error.fields}", fields=[field_name]) from None
            raise

    def ingest_results(self, job_id: str, which: str) -> str:
        info, upload, results = self._load("ingest", job_id)
        if which == "unprocessedrecords":
            if results is None and upload is not None:
                with bulk_upload.open_upload(self.store.conn(), upload) as text:
                    return text.read()
            header = results["header"] if results else []
            return self._csv(info, [header]) if header else ""
        if info["state"] != "JobComplete" or results is None:
            raise invalid_job(f"Job {info['id']} is not complete; its state is {info['state']}")
        if which == "successfulResults":
            return self._csv(info, [["sf__Id", "sf__Created"] + results["header"]] + results["successful"])
        return self._csv(info, [["sf__Id", "sf__Error"] + results["header"]] + results["failed"])

    # -- query ------------------------------------------------------------------------------------------------------
    def create_query(self, body, version: str) -> dict:
        if not isinstance(body, dict):
            raise ApiError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in QUERY_OPERATIONS:
            raise invalid_job(f"Invalid operation: {operation}")
        text = body.get("query")
        if not text:
            raise invalid_job("A query is required")
        compiled = compile_soql(text, include_deleted=operation == "queryAll")
        if compiled.subqueries or compiled.query.count or compiled.aggregate is not None:
            raise ApiError("FeatureNotEnabled", "Cannot serialize relationship subqueries or COUNT() in CSV format")
        record_ids = self.engine.matching_ids(compiled)
        with self.store.transaction() as conn:
            info = self._new_info(conn, body, version, operation)
            info.update({"object": compiled.obj.name, "state": "JobComplete",
                         "numberRecordsProcessed": len(record_ids), "retries": 0, "totalProcessingTime": 0})
            self._save(conn, "query", info, results={"query": text, "ids": record_ids}, insert=True)
        answer = dict(info, state="UploadComplete")
        return answer

    def query_results(self, job_id: str, locator: str | None, max_records: int | None, version: str) -> tuple:
        """Returns (csv text, next locator or 'null', number of records)."""
        info, _, results = self._load("query", job_id)
        if info["state"] != "JobComplete":
            raise invalid_job(f"Job {info['id']} is not complete; its state is {info['state']}")
        start = int(locator) if locator and locator.isdigit() else 0
        if locator and not locator.isdigit():
            raise invalid_job(f"Invalid locator: {locator}")
        size = max_records if max_records and max_records > 0 else len(results["ids"]) or 1
        page_ids = results["ids"][start:start + size]
        compiled = compile_soql(results["query"], include_deleted=info["operation"] == "queryAll")
        records = self.engine.fetch(compiled, page_ids, version, info["operation"] == "queryAll")
        header = [".".join([r.relationship_name for r in s.relationships] + [s.field.name])
                  for s in compiled.selected if isinstance(s, Selected)]
        lines = [header] + [[_cell(_dig(record, column)) for column in header] for record in records]
        end = start + len(page_ids)
        next_locator = str(end) if end < len(results["ids"]) else "null"
        return self._csv(info, lines), next_locator, len(records)

    # -- shared -----------------------------------------------------------------------------------------------------
    def usage_today(self) -> tuple:
        """(query jobs created, ingest batches processed) since UTC midnight, for `/limits`.

        Bulk API 2.0 splits an ingest job's data into batches of 10,000 records, and each counts against
        DailyBulkApiBatches (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/
        salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_bulkapi.htm). Deleted jobs no longer count.
        """
        today = now_stamp()[:10]
        query_jobs, batches = 0, 0
        for kind, info in self.store.conn().execute("SELECT kind, info FROM _bulk_job"):
            info = json.loads(info)
            if info["createdDate"][:10] != today:
                continue
            if kind == "query":
                query_jobs += 1
            elif info.get("numberRecordsProcessed"):
                batches += -(-info["numberRecordsProcessed"] // INGEST_BATCH_RECORDS)
        return query_jobs, batches

    def get(self, kind: str, job_id: str) -> dict:
        return self._load(kind, job_id)[0]

    def delete(self, kind: str, job_id: str):
        info = self._load(kind, job_id)[0]
        if info["state"] not in ("JobComplete", "Failed", "Aborted"):
            raise invalid_job(f"Job {info['id']} can only be deleted when it is finished")
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM _bulk_job WHERE id = ?", (info["id"],))

    def list(self, kind: str) -> dict:
        rows = self.store.conn().execute("SELECT info FROM _bulk_job WHERE kind = ? ORDER BY id", (kind,)).fetchall()
        return {"done": True, "records": [json.loads(r[0]) for r in rows], "nextRecordsUrl": None}

    def _csv(self, info: dict, lines: list) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=DELIMITERS[info["columnDelimiter"]],
                            lineterminator=LINE_ENDINGS[info["lineEnding"]], quoting=csv.QUOTE_ALL)
        writer.writerows(lines)
        return out.getvalue()


def _dig(record: dict, dotted: str):
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
