"""The Composite resource: up to 25 REST subrequests in one call, later ones referring to earlier results.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm
and "Composite Subrequest Result" (resources_composite_composite_subrequest_result.htm).
- Each subrequest is routed exactly as a top-level REST call would be (query, sobjects, collections ...); only the
  composite call counts against the API allocation.
- `@{referenceId.path}` in a url or a body is replaced by a value from an earlier subrequest's body, the path a
  JSON path of `.name` and `[index]` steps (`@{NewAccount.id}`, `@{Accounts.records[0].Id}`).
- allOrNone: one transaction for all subrequests; the first failure rolls them all back, the failed one keeps its
  error and every other answers 400 PROCESSING_HALTED. Without it each subrequest commits on its own, and one that
  refers to a failed subrequest (or to a value that is not there) fails with PROCESSING_HALTED "Invalid reference
  specified".
- The platform may run subrequests in any order only when collateSubrequests is true and none refers to another;
  the sandbox always runs them in order, which is one of the orders allowed.
"""
import json
import re
import urllib.parse
from wsgiref.headers import Headers

from .errors import ApiError

MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5   # "Up to 5 of these subrequests can be sObject Collections or query operations"
METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]+$")   # "must not contain anything besides letters, numbers, and underscores"
# Subrequests inherit these from the top-level request; naming them fails the whole request with a 400.
INHERITED_HEADERS = {"accept", "authorization", "content-type"}
_URL = re.compile(r"^/services/data/v(\d+\.\d+)(/[^?]*)?(?:\?(.*))?$")


class SubrequestRequest:
    """What a Handler reads from a request, made from one compositeRequest entry."""

    def __init__(self, parent, method: str, url: str, body, headers: dict):
        self.command = method
        self.path = url
        self.headers = Headers([(str(k), str(v)) for k, v in (headers or {}).items()])
        self._body = b"" if body is None else json.dumps(body).encode()
        self.host = parent.host
        self.chunked = False

    def body(self, limit=None) -> bytes:
        return self._body

    def stream(self, size=1024 * 1024):
        yield self._body


class Halted(Exception):
    """A subrequest that cannot run: PROCESSING_HALTED with this message."""


def _halted(message: str) -> dict:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400}


def _lookup(results: dict, reference_id: str, path: str):
    shown = f"{reference_id}{path}"
    not_found = Halted(f"Invalid reference specified. No value for {shown} found in {reference_id}")
    result = results.get(reference_id)
    if result is None or result["httpStatusCode"] >= 400:
        raise not_found
    value = result["body"]
    for name, index in _STEP.findall(path):
        if name:
            if not isinstance(value, dict) or name not in value:
                raise not_found
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise not_found
            value = value[int(index)]
    if isinstance(value, (dict, list)) or value is None:
        raise not_found
    return value


def _substitute(text: str, results: dict) -> str:
    def one(match):
        value = _lookup(results, match.group(1), match.group(2))
        return value if isinstance(value, str) else json.dumps(value)
    return _REFERENCE.sub(one, text)


def _resolve(value, results: dict):
    if isinstance(value, str):
        return _substitute(value, results)
    if isinstance(value, list):
        return [_resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {_resolve(k, results): _resolve(v, results) for k, v in value.items()}
    return value


def _validate(body) -> list:
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise ApiError("JSON_PARSER_ERROR", "The request body must be an object with a compositeRequest list")
    subrequests = body["compositeRequest"]
    if not subrequests:
        raise ApiError("INVALID_API_INPUT", "The compositeRequest list must not be empty")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise ApiError("INVALID_API_INPUT", f"Limit Exceeded. Maximum number of subrequests allowed is "
                       f"{MAX_SUBREQUESTS}")
    seen = set()
    heavy = 0
    for sub in subrequests:
        if not isinstance(sub, dict):
            raise ApiError("JSON_PARSER_ERROR", "Each subrequest must be a JSON object")
        for key in ("method", "url", "referenceId"):
            if not isinstance(sub.get(key), str) or not sub[key]:
                raise ApiError("INVALID_API_INPUT", f"Missing required field: {key}")
        if sub["method"].upper() not in METHODS:
            raise ApiError("INVALID_API_INPUT", f"Invalid HTTP method: {sub['method']}")
        reference_id = sub["referenceId"]
        if not _REFERENCE_ID.match(reference_id):
            raise ApiError("INVALID_API_INPUT", f"Invalid referenceId: {reference_id}. A referenceId may contain only "
                           "letters, numbers and underscores")
        if reference_id.lower() in seen:
            raise ApiError("INVALID_API_INPUT", f"Duplicate referenceId provided in the request: {reference_id}")
        seen.add(reference_id.lower())
        headers = sub.get("httpHeaders") or {}
        if not isinstance(headers, dict):
            raise ApiError("JSON_PARSER_ERROR", "httpHeaders must be a JSON object")
        inherited = sorted(name for name in headers if str(name).lower() in INHERITED_HEADERS)
        if inherited:
            raise ApiError("INVALID_API_INPUT", f"The header {inherited[0]} can't be set on a subrequest: subrequests "
                           "inherit Accept, Authorization and Content-Type from the composite request")
        match = _URL.match(sub["url"])
        head = (match.group(2) or "/").split("/")[1] if match else ""
        if head in ("query", "queryAll") or (head == "composite" and "/composite/sobjects" in sub["url"]):
            heavy += 1
    if heavy > MAX_QUERY_OR_COLLECTION:
        raise ApiError("INVALID_API_INPUT", f"Limit Exceeded. Maximum number of query and sObject Collections "
                       f"subrequests allowed is {MAX_QUERY_OR_COLLECTION}")
    return subrequests


def _dispatch(handler, sub: dict, results: dict) -> dict:
    url = _substitute(sub["url"], results)
    body = _resolve(sub.get("body"), results)
    match = _URL.match(url)
    request = SubrequestRequest(handler.request, sub["method"].upper(), url, body, sub.get("httpHeaders"))
    inner = type(handler)(handler.sandbox, request)
    inner.query_params = urllib.parse.parse_qs(match.group(3) or "", keep_blank_values=True) if match else {}
    segments = [urllib.parse.unquote(s) for s in ((match.group(2) if match else "") or "").split("/")[1:]]
    while segments and segments[-1] == "":
        segments.pop()
    if match is None or segments[:1] in (["jobs"], ["limits"]) \
            or (segments[:1] == ["composite"] and segments[1:2] != ["sobjects"]):
        # Composite takes the record and query resources; anything else is not a resource it can reach.
        return {"body": [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                "httpHeaders": {}, "httpStatusCode": 404}
    response = inner.subrequest(match.group(1), segments)
    headers = {k: v for k, v in response.headers.items() if k == "Location"}
    payload = json.loads(response.body) if response.body else None
    return {"body": payload, "httpHeaders": headers, "httpStatusCode": response.status}


def run(handler, body) -> dict:
    subrequests = _validate(body)
    all_or_none = bool(body.get("allOrNone", False))
    store = handler.sandbox.store
    results = {}
    answers = []

    def execute(sub) -> dict:
        try:
            return _dispatch(handler, sub, results)
        except Halted as halted:
            return _halted(str(halted))

    if not all_or_none:
        for sub in subrequests:
            answer = execute(sub)
            results[sub["referenceId"]] = answer
            answers.append(dict(answer, referenceId=sub["referenceId"]))
        return {"compositeResponse": answers}

    class _RollBack(Exception):
        pass

    failed_at = None
    try:
        with store.transaction():
            for position, sub in enumerate(subrequests):
                answer = execute(sub)
                results[sub["referenceId"]] = answer
                answers.append(dict(answer, referenceId=sub["referenceId"]))
                if answer["httpStatusCode"] >= 400:
                    failed_at = position
                    raise _RollBack()
    except _RollBack:
        answers = [answer if position == failed_at else dict(_halted(ROLLED_BACK), referenceId=answer["referenceId"])
                   for position, answer in enumerate(answers)]
        answers += [dict(_halted(ROLLED_BACK), referenceId=sub["referenceId"])
                    for sub in subrequests[failed_at + 1:]]
    return {"compositeResponse": answers}
