"""The sandbox's HTTPS server: routes Salesforce's login and REST paths to the store, the query engine and the
governor, in the shapes simple-salesforce (and any faithful REST client) expects.

Long because it is the org's one routing table: every resource's method checks and answer shapes sit together so
a route can be compared with the REST guide at a glance; the logic behind a route lives in its own module.
"""
import datetime as dt
import json
import re
import sys
import traceback
import urllib.parse

from .. import web
from . import bulk_upload, composite, describe, ids, limits, oauth, query_columns, retrieve, schema, tls, users
from .auth import Authenticator, Credentials, LoginFailed
from .bulk import BulkJobs
from .errors import ApiError, not_found
from .faults import INJECTED, Governor
from .outbound import OutboundSender, wsdl as outbound_wsdl
from .query import MIN_PAGE, DEFAULT_PAGE, QueryEngine
from .records import Org, id_in_body
from .store import Store, now_stamp, quote

MAX_COLLECTION = 200
# The documented path is `unprocessedrecords`; simple-salesforce asks for `unprocessedRecords`.
RESULT_KINDS = {"successfulresults": "successfulResults", "failedresults": "failedResults",
                "unprocessedrecords": "unprocessedrecords"}
MAX_URI_BYTES = 16384   # documented REST limit; longer URIs get 414 URI Too Long
VERSIONS = [("Spring '23", "57.0"), ("Summer '23", "58.0"), ("Winter '24", "59.0"), ("Spring '24", "60.0"),
            ("Summer '24", "61.0"), ("Winter '25", "62.0")]
REPLICATION_DAYS = 30
JSON_TYPE = "application/json;charset=UTF-8"

_SOAP_LOGIN = re.compile(r"/services/Soap/u/(\d+\.\d+)(?:/.*)?$")
_REST = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)?$")
_OAUTH_TOKEN = "/services/oauth2/token"
_IDENTITY = re.compile(r"/id/(00D\w{12,15})/(005\w{12,15})/?$")


class Sandbox:
    """Everything one running org holds; shared by all request threads."""

    def __init__(self, data_dir, *, credentials: Credentials | None = None, settings: dict | None = None,
                 random_seed: int = 0, verbose: bool = False, jwt_certificate=None):
        self.data_dir = data_dir
        self.store = Store(data_dir)
        self.governor = Governor(settings, random_seed)
        self.auth = Authenticator(self.store, self.governor, credentials or Credentials.from_env(), jwt_certificate)
        users.ensure_integration_user(self.store, self.auth.credentials.username)
        users.ensure_organization(self.store)
        self.org = Org(self.store, self.governor.locked_ids)
        self.engine = QueryEngine(self.store)
        self.bulk = BulkJobs(self.store, self.org, self.engine)
        self.outbound = OutboundSender(self.store, random_seed)
        self.verbose = verbose


class _RollBack(Exception):
    pass


MAX_BODY_BYTES = 150 * 1024 * 1024   # Bulk API 2.0's upload limit; REST bodies are far smaller


class Handler:
    """One request: routed by `dispatch`, answered with `send` (every path answers exactly once)."""

    def __init__(self, sandbox: Sandbox, request: web.Request):
        self.sandbox = sandbox
        self.request = request
        self.command = request.command
        self.path = request.path
        self.headers = request.headers
        self.response: web.Response | None = None

    def log(self):
        if self.sandbox.verbose and self.response is not None:
            sys.stderr.write(f'salesforce sandbox: "{self.command} {self.path}" {self.response.status}\n')

    def host(self) -> str:
        return self.request.host

    def read_body(self) -> bytes:
        try:
            return self.request.body(MAX_BODY_BYTES)
        except ValueError:
            raise ApiError("REQUEST_ENTITY_TOO_LARGE", f"Request body exceeds {MAX_BODY_BYTES} bytes",
                           status=413) from None

    def json_body(self):
        raw = self.read_body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError("JSON_PARSER_ERROR", f"Unexpected character: was expecting a JSON value ({exc})")

    def send(self, status: int, payload=None, *, content_type=JSON_TYPE, raw: bytes | None = None, headers=None):
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.response = web.Response(status, body, content_type, dict(headers or {}))
        self.status_sent = status

    def dispatch(self) -> web.Response:
        self.route()
        self.log()
        return self.response

    def route(self):
        governor = self.sandbox.governor
        governor.enter()
        self.status_sent = 0
        route = "other"
        try:
            if len(self.path.encode()) > MAX_URI_BYTES:
                # The platform's front end refuses long URIs before any API logic: a query with a long IN list
                # must be split by the client. Its answer is not an API error list.
                route = "uri_too_long"
                self.send(414, raw=b"URI Too Long", content_type="text/plain")
                return
            parsed = urllib.parse.urlsplit(self.path)
            self.query_params = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
            path = parsed.path
            if path.startswith("/_sandbox/"):
                route = "control"
                self.control(path)
            elif _SOAP_LOGIN.search(path) and self.command == "POST":
                route = "login"
                self.soap_login(_SOAP_LOGIN.search(path).group(1))
            elif path.endswith(_OAUTH_TOKEN):
                route = "login"
                self.oauth_token(path[:-len(_OAUTH_TOKEN)])
            elif path.endswith(("/services/oauth2/revoke", "/services/oauth2/userinfo")) or _IDENTITY.search(path):
                route = "identity"
                self.identity(path)
            elif path.rstrip("/") == "/services/data":
                route = "versions"
                self.send(200, [{"label": label, "url": f"/services/data/v{v}", "version": v} for label, v in VERSIONS])
            elif _REST.match(path):
                match = _REST.match(path)
                segments = [urllib.parse.unquote(s) for s in (match.group(2) or "").split("/")[1:]]
                while segments and segments[-1] == "":
                    segments.pop()
                route = "/".join(segments[:1]) or "resources"
                self.rest(match.group(1), segments)
            else:
                self.send_error_list(not_found())
        except LoginFailed as failure:
            self.send(failure.status, raw=failure.body, content_type=failure.content_type)
        except ApiError as error:
            self.send_error_list(error)
        except Exception as exc:    # a bug in the sandbox must still answer like the platform's 500
            traceback.print_exc()
            self.send(500, [{"message": f"An unexpected error occurred: {exc.__class__.__name__}",
                             "errorCode": "UNKNOWN_EXCEPTION", "fields": []}])
        finally:
            governor.leave()
            governor.record(route, self.status_sent)

    def send_error_list(self, error: ApiError, headers=None):
        merged = dict(getattr(self, "limit_headers", {}) or {})
        merged.update(error.headers)
        merged.update(headers or {})
        self.send(error.status, error.body(), headers=merged)

    # -- logins -----------------------------------------------------------------------------------------------------
    def base_url(self) -> str:
        # The scheme the request really came in on: https, or http under --no-tls.
        return f"{self.request.scheme}://{self.host()}"

    def soap_login(self, version: str):
        self.sandbox.governor.latency()
        body = self.sandbox.auth.soap_login(self.read_body(), self.base_url(), version)
        self.send(200, raw=body, content_type="text/xml; charset=utf-8")

    def form(self) -> dict:
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.read_body().decode(), keep_blank_values=True).items()}

    def oauth_token(self, prefix: str):
        self.sandbox.governor.latency()
        if self.command != "POST":
            raise ApiError("METHOD_NOT_ALLOWED", "HTTP Method not allowed", status=405)
        self.send(200, self.sandbox.auth.token(self.form(), self.headers.get("Authorization"), self.base_url(),
                                               self.base_url() + prefix))

    def identity(self, path: str):
        """The identity URL, userinfo and revoke: OAuth endpoints, not REST API calls (no API allocation spent)."""
        auth, header = self.sandbox.auth, self.headers.get("Authorization")
        self.sandbox.governor.latency()
        if path.endswith("/services/oauth2/revoke"):
            self.only("GET", "POST")
            token = (self.query_params.get("token") or [None])[0] if self.command == "GET" else self.form().get("token")
            auth.revoke_token(token)
            self.send(200, raw=b"", content_type=None)
        elif path.endswith("/services/oauth2/userinfo"):
            self.only("GET", "POST")
            self.send(200, auth.userinfo(header, self.query_params, self.base_url()))
        else:
            self.only("GET")
            match = _IDENTITY.search(path)
            self.send(200, auth.identity(match.group(1), match.group(2), header, self.query_params, self.base_url()))

    # -- control ----------------------------------------------------------------------------------------------------
    def control(self, path: str):
        governor = self.sandbox.governor
        if path == "/_sandbox/health":
            self.send(200, {"ok": True})
        elif path == "/_sandbox/stats" and self.command == "GET":
            stats = governor.stats()
            stats["records"] = {obj.name: self.sandbox.store.count(obj) for obj in schema.OBJECTS}
            stats["open_query_cursors"] = len(self.sandbox.engine.cursors)
            stats["outbound"] = self.sandbox.outbound.stats()
            self.send(200, stats)
        elif path == "/_sandbox/outbound/wsdl" and self.command == "GET":
            # What Setup's "Click for WSDL" gives an admin for one outbound message.
            wanted = (self.param("object") or "").lower()
            rules = [r for r in self.sandbox.outbound.rules if not wanted or r.obj.name.lower() == wanted]
            if not rules:
                self.send(404, {"error": "no outbound message on that object"})
                return
            self.send(200, raw=outbound_wsdl(rules[0], self.base_url()).encode(), content_type="text/xml; charset=utf-8")
        elif path == "/_sandbox/control" and self.command == "POST":
            try:
                changes = json.loads(self.read_body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("a JSON object is expected")
                outbound = {k: changes.pop(k) for k in list(changes) if k.startswith("outbound_")}
                applied = governor.apply(changes)
                applied.update(self.sandbox.outbound.apply(outbound))
                if str(changes.get("expire_sessions")).lower() in ("true", "1", "yes", "on"):
                    # Also in the database, so that a restart does not bring the expired sessions back.
                    self.sandbox.store.sessions_revoke_all()
            except KeyError as exc:
                self.send(400, {"error": f"unknown setting: {exc.args[0]}"})
                return
            except (ValueError, TypeError) as exc:
                self.send(400, {"error": str(exc)})
                return
            self.send(200, {"applied": applied, "settings": governor.stats()["settings"],
                            "outbound": self.sandbox.outbound.stats()})
        else:
            self.send(404, {"error": "unknown control path"})

    # -- REST -------------------------------------------------------------------------------------------------------
    def rest(self, version: str, segments: list):
        governor = self.sandbox.governor
        governor.latency()
        self.limit_headers = {}
        self.sandbox.auth.check(self.headers.get("Authorization"))
        allowed, usage, limit = governor.spend_api_request()
        self.limit_headers = {"Sforce-Limit-Info": f"api-usage={usage}/{limit}"}
        if not allowed:
            raise ApiError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", status=403)
        injected = governor.injected_status()
        if injected:
            code, message = INJECTED.get(injected, INJECTED[500])
            raise ApiError(code, message, status=injected)
        self.version = version
        self.resource(segments)

    def subrequest(self, version: str, segments: list) -> web.Response:
        """A composite subrequest: routed like a top-level REST call, but the composite call is the one API call
        and the one login check."""
        self.version = version
        self.limit_headers = {}
        try:
            self.resource(segments)
        except ApiError as error:
            self.send_error_list(error)
        return self.response

    def resource(self, segments: list):
        version = self.version
        head = segments[0] if segments else ""
        if not segments:
            self.only("GET")
            base = f"/services/data/v{version}"
            resources = {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits", "composite")}
            # The caller's identity URL, absolute as on the platform (jsforce's identity() reads it from here).
            resources["identity"] = oauth.identity_url(self.base_url())
            self.ok(200, resources)
        elif head == "limits" and len(segments) == 1:
            self.only("GET")
            self.ok(200, limits.org_limits(self.sandbox))
        elif head in ("query", "queryAll"):
            self.only("GET")
            self.query(head == "queryAll", segments[1:])
        elif head == "sobjects":
            self.sobjects(segments[1:])
        elif head == "composite" and len(segments) >= 2 and segments[1] == "sobjects":
            self.collection(segments[2:])
        elif head == "composite" and len(segments) == 1:
            self.only("POST")
            self.ok(200, composite.run(self, self.json_body()))
        elif head == "jobs" and len(segments) >= 2 and segments[1] in ("ingest", "query"):
            self.bulk_jobs(segments[1], segments[2:])
        else:
            raise not_found()

    def ok(self, status: int, payload=None):
        self.send(status, payload, headers=self.limit_headers)

    def only(self, *methods):
        if self.command not in methods and not (self.command == "HEAD" and "GET" in methods):
            raise ApiError("METHOD_NOT_ALLOWED", f"HTTP Method '{self.command}' not allowed. Allowed are "
                           + ",".join(methods), status=405)

    def param(self, name: str) -> str | None:
        values = self.query_params.get(name)
        return values[0] if values else None

    def query(self, include_deleted: bool, rest: list):
        engine = self.sandbox.engine
        if rest:
            if len(rest) != 1:
                raise not_found()
            self.ok(200, engine.more(rest[0], version=self.version))
            return
        text = self.param("q")
        if text is None:
            raise ApiError("MALFORMED_QUERY", "A query string must be provided.")
        if (self.param("columns") or "").lower() == "true":
            # The query's column metadata instead of its rows (see query_columns).
            self.ok(200, query_columns.query_columns(text))
            return
        page_size = DEFAULT_PAGE
        options = self.headers.get("Sforce-Query-Options") or ""
        match = re.search(r"batchSize\s*=\s*(\d+)", options)
        if match:
            # The platform treats batchSize as a hint between 200 and 2,000.
            page_size = min(max(int(match.group(1)), MIN_PAGE), DEFAULT_PAGE)
        self.ok(200, engine.run(text, include_deleted=include_deleted, page_size=page_size, version=self.version))

    def object_named(self, name: str) -> schema.SObject:
        obj = schema.lookup(name)
        if obj is None:
            raise not_found()
        return obj

    def shape_record(self, obj: schema.SObject, row: dict, fields=None) -> dict:
        record = {"attributes": {"type": obj.name, "url": f"/services/data/v{self.version}/sobjects/{obj.name}/"
                                                          f"{row['Id']}"}}
        for f in fields or obj.fields:
            record[f.name] = row[f.name]
        return record

    def sobjects(self, rest: list):
        sandbox = self.sandbox
        version = self.version
        if not rest:
            self.only("GET")
            self.ok(200, describe.describe_global(version))
            return
        obj = self.object_named(rest[0])
        if len(rest) == 1:
            self.only("GET", "POST")
            if self.command == "POST":
                body = self.json_body()
                with sandbox.store.transaction() as conn:
                    record_id = sandbox.org.create(conn, obj, body, now_stamp())
                self.limit_headers["Location"] = f"/services/data/v{version}/sobjects/{obj.name}/{record_id}"
                self.ok(201, {"id": record_id, "success": True, "errors": []})
            else:
                self.ok(200, {"objectDescribe": describe.object_summary(obj, version), "recentItems": []})
            return
        if len(rest) == 2 and rest[1] == "describe":
            self.only("GET")
            self.ok(200, describe.describe_object(obj, version))
            return
        if len(rest) == 2 and rest[1] in ("updated", "deleted"):
            self.only("GET")
            self.replication(obj, rest[1])
            return
        if len(rest) == 2:
            self.record(obj, rest[1])
            return
        if len(rest) == 3:
            self.by_external_id(obj, rest[1], rest[2])
            return
        raise not_found()

    def record(self, obj: schema.SObject, record_id: str):
        self.only("GET", "PATCH", "DELETE")
        sandbox = self.sandbox
        if self.command == "GET":
            normalized = ids.normalize_id(record_id)
            if normalized is None:
                # The platform reads a segment that is not an id as an external id it cannot resolve.
                raise ApiError("NOT_FOUND", "Provided external ID field does not exist or is not accessible: "
                               f"{record_id}", status=404)
            row = sandbox.store.get(obj, normalized) if normalized[:3] == obj.key_prefix else None
            if row is None:
                raise not_found()
            self.ok(200, self.shape_record(obj, row, self.requested_fields(obj)))
            return
        if self.command == "PATCH":
            body = self.json_body() or {}
            if isinstance(body, dict) and any(key.lower() == "id" for key in body):
                # Only collections carry the id in the body; a single update names it in the URL.
                raise id_in_body()
            with sandbox.store.transaction() as conn:
                sandbox.org.update(conn, obj, record_id, body, now_stamp())
            self.ok(204)
            return
        with sandbox.store.transaction() as conn:
            sandbox.org.delete(conn, obj, record_id, now_stamp())
        self.ok(204)

    def requested_fields(self, obj: schema.SObject):
        wanted = self.param("fields")
        if not wanted:
            return None
        fields = []
        for name in wanted.split(","):
            f = obj.field(name.strip())
            if f is None:
                raise ApiError("INVALID_FIELD", f"No such column '{name.strip()}' on entity '{obj.name}'. If you are "
                               "attempting to use a custom field, be sure to append the '__c' after the custom field "
                               "name. Please reference your WSDL or the describe call for the appropriate names.")
            fields.append(f)
        return fields

    def by_external_id(self, obj: schema.SObject, field_name: str, value: str):
        self.only("GET", "PATCH", "DELETE")
        sandbox = self.sandbox
        f = sandbox.org.external_id_field(obj, field_name)
        if self.command == "PATCH":
            body = self.json_body() or {}
            if isinstance(body, dict) and any(key.lower() == "id" for key in body):
                raise id_in_body()
            try:
                with sandbox.store.transaction() as conn:
                    record_id, created = sandbox.org.upsert(conn, obj, f.name, value, body, now_stamp())
            except ApiError as error:
                if error.code == "MULTIPLE_RECORDS":
                    self.ok(300, [f"/services/data/v{self.version}/sobjects/{obj.name}/{i}" for i in error.fields])
                    return
                raise
            self.ok(201 if created else 200, {"id": record_id, "success": True, "errors": [], "created": created})
            return
        if f.name == "Id":
            self.record(obj, value)
            return
        matches = sandbox.store.find(obj, f.name, value)
        if not matches:
            raise not_found()
        if len(matches) > 1:
            self.ok(300, [f"/services/data/v{self.version}/sobjects/{obj.name}/{m['Id']}" for m in matches])
            return
        if self.command == "GET":
            self.ok(200, self.shape_record(obj, matches[0], self.requested_fields(obj)))
            return
        with sandbox.store.transaction() as conn:
            sandbox.org.delete(conn, obj, matches[0]["Id"], now_stamp())
        self.ok(204)

    def replication(self, obj: schema.SObject, kind: str):
        start, end = self.replication_date("start"), self.replication_date("end")
        now = dt.datetime.now(dt.timezone.utc)
        if start < now - dt.timedelta(days=REPLICATION_DAYS):
            raise ApiError("INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
        if end < start:
            raise ApiError("INVALID_REPLICATION_DATE", "EndDate can not be before StartDate")
        end = min(end, now)
        conn = self.sandbox.store.conn()
        sql = (f"SELECT \"Id\", \"SystemModstamp\" FROM {quote(obj.name)} WHERE \"IsDeleted\" = ? "
               "AND \"SystemModstamp\" >= ? AND \"SystemModstamp\" <= ? ORDER BY \"SystemModstamp\", \"Id\"")
        rows = conn.execute(sql, (1 if kind == "deleted" else 0, now_stamp(start), now_stamp(end))).fetchall()
        if kind == "updated":
            self.ok(200, {"ids": [row[0] for row in rows], "latestDateCovered": now_stamp(end)})
        else:
            self.ok(200, {"deletedRecords": [{"id": row[0], "deletedDate": row[1]} for row in rows],
                          "earliestDateAvailable": rows[0][1] if rows else now_stamp(start),
                          "latestDateCovered": now_stamp(end)})

    def replication_date(self, name: str) -> dt.datetime:
        value = self.param(name)
        if not value:
            raise ApiError("MISSING_ARGUMENT", f"{name} parameter is required")
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise ApiError("INVALID_REPLICATION_DATE", f"Invalid {name} date: {value}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment

    # -- Bulk API 2.0 -----------------------------------------------------------------------------------------------
    def bulk_jobs(self, kind: str, rest: list):
        bulk = self.sandbox.bulk
        version = self.version
        if not rest:
            self.only("GET", "POST")
            if self.command == "GET":
                self.ok(200, bulk.list(kind))
            elif kind == "ingest":
                self.ok(200, bulk.create_ingest(self.json_body(), version))
            else:
                self.ok(200, bulk.create_query(self.json_body(), version))
            return
        job_id = rest[0]
        if len(rest) == 1:
            self.only("GET", "PATCH", "DELETE")
            if self.command == "GET":
                self.ok(200, bulk.get(kind, job_id))
            elif self.command == "PATCH":
                self.ok(200, bulk.set_state(kind, job_id, self.json_body()))
            else:
                bulk.delete(kind, job_id)
                self.ok(204)
            return
        if len(rest) != 2:
            raise not_found()
        if kind == "ingest" and rest[1] == "batches":
            self.only("PUT")
            bulk.upload(job_id, self.request.stream(bulk_upload.PIECE), self.request.declared_length)
            self.ok(201)
        elif kind == "ingest" and rest[1].lower() in RESULT_KINDS:
            self.only("GET")
            self.send_csv(bulk.ingest_results(job_id, RESULT_KINDS[rest[1].lower()]))
        elif kind == "query" and rest[1] == "results":
            self.only("GET")
            max_records = self.param("maxRecords")
            text, locator, count = bulk.query_results(job_id, self.param("locator"),
                                                      int(max_records) if max_records and max_records.isdigit()
                                                      else None, version)
            self.send_csv(text, {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)})
        else:
            raise not_found()

    def send_csv(self, text: str, headers=None):
        merged = dict(self.limit_headers)
        merged.update(headers or {})
        self.send(200, raw=text.encode("utf-8"), content_type="text/csv", headers=merged)

    # -- sObject Collections ----------------------------------------------------------------------------------------
    def collection(self, rest: list):
        sandbox = self.sandbox
        org = sandbox.org
        if len(rest) == 1 and self.command in ("GET", "POST"):
            self.ok(200, retrieve.collection_retrieve(self, self.object_named(rest[0])))
            return
        if self.command == "DELETE" and not rest:
            record_ids = [i for i in (self.param("ids") or "").split(",") if i]
            all_or_none = (self.param("allOrNone") or "false").lower() == "true"
            self.check_collection_size(record_ids)

            def delete_one(conn, record_id, now):
                normalized = ids.normalize_id(record_id)
                obj = schema.BY_PREFIX.get(normalized[:3]) if normalized else None
                if obj is None:
                    raise ApiError("MALFORMED_ID", f"malformed id {record_id}")
                org.delete(conn, obj, normalized, now)
                return {"id": normalized, "success": True, "errors": []}
            self.ok(200, self.run_collection(record_ids, all_or_none, delete_one))
            return
        if self.command == "GET":
            raise ApiError("METHOD_NOT_ALLOWED", "HTTP Method 'GET' not allowed. Allowed are POST,PATCH,DELETE",
                           status=405)
        body = self.json_body()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise ApiError("JSON_PARSER_ERROR", "The request body must be an object with a records list")
        records = body["records"]
        all_or_none = bool(body.get("allOrNone", False))
        self.check_collection_size(records)
        if not rest and self.command == "POST":
            def create_one(conn, record, now):
                obj = self.record_type(record)
                return {"id": org.create(conn, obj, record, now), "success": True, "errors": []}
            self.ok(200, self.run_collection(records, all_or_none, create_one))
        elif not rest and self.command == "PATCH":
            def update_one(conn, record, now):
                obj = self.record_type(record)
                record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
                if not record_id:
                    raise ApiError("MISSING_ARGUMENT", "Id not specified in an update call", fields=["Id"])
                return {"id": org.update(conn, obj, record_id, record, now), "success": True, "errors": []}
            self.ok(200, self.run_collection(records, all_or_none, update_one))
        elif len(rest) == 2 and self.command == "PATCH":
            obj = self.object_named(rest[0])
            f = org.external_id_field(obj, rest[1])
            seen = {}
            for record in records:
                value = next((v for k, v in record.items() if k.lower() == f.name.lower()), None) \
                    if isinstance(record, dict) else None
                if value is not None:
                    seen[str(value).lower()] = seen.get(str(value).lower(), 0) + 1

            def upsert_one(conn, record, now):
                if self.record_type(record) is not obj:
                    raise ApiError("INVALID_TYPE", f"Record type must be {obj.name} for this upsert")
                value = next((v for k, v in record.items() if k.lower() == f.name.lower()), None)
                if value is None or value == "":
                    raise ApiError("MISSING_ARGUMENT", f"{f.name} not specified", fields=[f.name])
                if seen.get(str(value).lower(), 0) > 1:
                    raise ApiError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                                   fields=[f.name])
                try:
                    record_id, created = org.upsert(conn, obj, f.name, str(value), record, now)
                except ApiError as error:
                    if error.code == "MULTIPLE_RECORDS":
                        raise ApiError("DUPLICATE_EXTERNAL_ID", f"{f.name}: more than one record found for external "
                                       f"id field: {error.fields}", fields=[f.name]) from None
                    raise
                return {"id": record_id, "success": True, "errors": [], "created": created}
            self.ok(200, self.run_collection(records, all_or_none, upsert_one))
        else:
            raise not_found()

    def check_collection_size(self, items: list):
        if len(items) > MAX_COLLECTION:
            raise ApiError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_COLLECTION} "
                           "records into this call")

    def record_type(self, record) -> schema.SObject:
        if not isinstance(record, dict):
            raise ApiError("JSON_PARSER_ERROR", "Each record must be a JSON object")
        type_name = (record.get("attributes") or {}).get("type") if isinstance(record.get("attributes"), dict) \
            else None
        if not type_name:
            raise ApiError("INVALID_TYPE", "No SObject Type defined in record")
        obj = schema.lookup(type_name)
        if obj is None:
            raise ApiError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
        return obj

    def run_collection(self, items: list, all_or_none: bool, operation) -> list:
        """One transaction and one timestamp for the whole call; each record in its own savepoint."""
        store = self.sandbox.store
        results = []
        try:
            with store.transaction() as conn:
                now = now_stamp()
                for item in items:
                    try:
                        with store.savepoint(conn):
                            results.append(operation(conn, item, now))
                    except ApiError as error:
                        results.append({"success": False, "errors": [error.record_error()]})
                if all_or_none and any(not r["success"] for r in results):
                    raise _RollBack()
        except _RollBack:
            rolled_back = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because "
                           "not all records were valid and the request was using AllOrNone header", "fields": []}
            results = [r if not r["success"] else {"id": None, "success": False, "errors": [rolled_back]}
                       for r in results]
        return results


def application(sandbox: Sandbox):
    """The org as a WSGI application."""
    return web.wsgi_app(lambda request: Handler(sandbox, request).dispatch())


def build_server(sandbox: Sandbox, host: str, port: int, use_tls: bool = True, threads: int = 64):
    adapter = None
    if use_tls:
        files = tls.ensure_certificate(sandbox.data_dir, extra_hosts=[host] if host not in ("0.0.0.0", "::") else [])
        adapter = web.tls_adapter(files["cert"], files["key"])
    return web.build(application(sandbox), host, port, threads=threads, name="SalesforceSandbox/1.0", tls=adapter)
