"""Both sandboxes' HTTP/1.1 framing, over real sockets with every byte written by hand.

Clients the hub does not control frame their requests in every way HTTP/1.1 allows: chunked bodies with no
Content-Length, `Expect: 100-continue` (the client holds its body back until the server says so), and several
requests on one kept-alive connection, written back to back before any answer is read (pipelining). Each call the
hub or a client of the platform makes (the SOAP login, both OAuth grants, a REST write and a TBA-signed SuiteTalk
call) is sent in each framing, and malformed framing must get a 400 without harming the next client.
"""
import base64
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from sandboxes.netsuite.process import SERVICE_PATH, run_netsuite_sandbox
from sandboxes.salesforce.process import run_salesforce_sandbox

from .http_wire import Connection, WireResponse, chunked, head

pytestmark = pytest.mark.slow

FRAMINGS = ["chunked", "expect-continue", "pipelined", "pipelined-chunked"]
API = "/services/data/v59.0"
SOAP_LOGIN = """<?xml version="1.0" encoding="utf-8"?>
<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>
<login xmlns="urn:partner.soap.sforce.com"><username>{username}</username><password>{password}</password></login>
</se:Body></se:Envelope>"""
NS_MESSAGES = "urn:messages_2023_2.platform.webservices.netsuite.com"
NS_CORE = "urn:core_2023_2.platform.webservices.netsuite.com"
NS_RELATIONSHIPS = "urn:relationships_2023_2.lists.webservices.netsuite.com"
SUITETALK = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:msg="{messages}" xmlns:core="{core}" xmlns:rel="{relationships}"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Header><msg:tokenPassport><core:account>{account}</core:account><core:consumerKey>{consumerKey}</core:consumerKey>
<core:token>{token}</core:token><core:nonce>{nonce}</core:nonce><core:timestamp>{timestamp}</core:timestamp>
<core:signature algorithm="HMAC-SHA256">{signature}</core:signature></msg:tokenPassport></soapenv:Header>
<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"""


@dataclass
class Call:
    """A request as its client means it; `exchange` decides how its body is framed on the wire."""
    method: str
    target: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    def framed(self, host: str, *, chunk: bool) -> bytes:
        if not self.body:
            return head(self.method, self.target, host, self.headers)
        if chunk:
            return head(self.method, self.target, host, {**self.headers, "Transfer-Encoding": "chunked"}) + \
                chunked(self.body)
        return head(self.method, self.target, host, {**self.headers, "Content-Length": len(self.body)}) + self.body


def exchange(connection: Connection, calls: list, framing: str) -> list:
    """Send `calls` on one connection in `framing` and read their answers in order; the connection must stay open."""
    if framing.startswith("pipelined"):
        # Everything is written before any answer is read: the server can only find where each request ends by its
        # framing. In "pipelined-chunked" chunked and Content-Length bodies alternate, so a request also starts
        # right after a last chunk.
        connection.send(b"".join(call.framed(connection.host, chunk=framing == "pipelined-chunked" and i % 2 == 0)
                                 for i, call in enumerate(calls)))
        responses = [connection.read_response(method=call.method) for call in calls]
    else:
        responses = []
        for call in calls:
            if framing == "expect-continue" and call.body:
                connection.send(head(call.method, call.target, connection.host,
                                     {**call.headers, "Content-Length": len(call.body), "Expect": "100-continue"}))
                interim = connection.read_response()
                assert (interim.status, interim.body) == (100, b""), "the body is sent only after 100 Continue"
                connection.send(call.body)
            else:
                connection.send(call.framed(connection.host, chunk=framing == "chunked"))
            responses.append(connection.read_response(method=call.method))
    assert all(response.keeps_alive for response in responses), [r.headers for r in responses]
    return responses


# -- the two sandboxes ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    with run_salesforce_sandbox(tmp_path_factory.mktemp("salesforce-framing")) as running:
        yield running


@pytest.fixture(scope="module")
def netsuite(tmp_path_factory):
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite-framing")) as running:
        yield running


def connect_salesforce(sandbox) -> Connection:
    return Connection(sandbox.url, ca_file=sandbox.ca_cert)


def soap_login(sandbox, password: str) -> Call:
    body = SOAP_LOGIN.format(username=escape(sandbox.username), password=escape(password)).encode()
    return Call("POST", "/services/Soap/u/59.0", {"Content-Type": "text/xml", "SOAPAction": '""'}, body)


def password_grant(sandbox, password: str, **extra) -> Call:
    form = urllib.parse.urlencode({"grant_type": "password", "client_id": sandbox.consumer_key,
                                   "client_secret": sandbox.consumer_secret, "username": sandbox.username,
                                   "password": password, **extra}).encode()
    return Call("POST", "/services/oauth2/token", {"Content-Type": "application/x-www-form-urlencoded"}, form)


def client_credentials_grant(sandbox, secret: str) -> Call:
    basic = base64.b64encode(f"{sandbox.consumer_key}:{secret}".encode()).decode()
    return Call("POST", "/services/oauth2/token", {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Authorization": "Basic " + basic},
                b"grant_type=client_credentials")


def rest(method: str, path: str, token: str, payload=None) -> Call:
    # Non-ASCII kept as UTF-8 bytes, so a chunk size or Content-Length counted in characters would be caught.
    body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
    return Call(method, API + path, {"Authorization": "Bearer " + token, "Content-Type": "application/json"}, body)


def access_token(sandbox) -> str:
    with connect_salesforce(sandbox) as connection:
        [granted] = exchange(connection, [password_grant(sandbox, sandbox.password + sandbox.security_token)], "chunked")
    return granted.json()["access_token"]


def suitetalk(sandbox, operation: str, request_xml: str = "", passport: dict | None = None) -> Call:
    passport = passport or sandbox.token_passport()
    envelope = SUITETALK.format(messages=NS_MESSAGES, core=NS_CORE, relationships=NS_RELATIONSHIPS,
                                signature=passport["signature"]["_value_1"],
                                body=f"<msg:{operation}>{request_xml}</msg:{operation}>",
                                **{key: escape(str(value)) for key, value in passport.items() if key != "signature"})
    return Call("POST", SERVICE_PATH, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{operation}"'},
                envelope.encode())


def soap_body(response: WireResponse):
    return etree.fromstring(response.body).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]


def get_server_time(sandbox, passport=None) -> Call:
    return suitetalk(sandbox, "getServerTime", passport=passport)


# -- every call in every framing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_answers_salesforce_soap_logins_in_every_framing(salesforce, framing):
    with connect_salesforce(salesforce) as connection:
        ok, refused = exchange(connection, [soap_login(salesforce, salesforce.password + salesforce.security_token),
                                            soap_login(salesforce, "not-the-password")], framing)
        assert ok.status == 200 and f"<serverUrl>{salesforce.url}/services/Soap/u/59.0/" in ok.text
        assert refused.status == 500 and "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in refused.text
        session = ok.text.split("<sessionId>")[1].split("</sessionId>")[0]
        # The session works on the same kept-alive connection.
        [limits] = exchange(connection, [rest("GET", "/limits", session)], framing)
    assert limits.status == 200 and "DailyApiRequests" in limits.json()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_grants_salesforce_oauth_password_tokens_in_every_framing(salesforce, framing):
    with connect_salesforce(salesforce) as connection:
        granted, refused = exchange(connection, [
            password_grant(salesforce, salesforce.password + salesforce.security_token),
            password_grant(salesforce, salesforce.password)], framing)   # without the security token
    assert granted.status == 200 and granted.json()["instance_url"] == salesforce.url
    assert granted.json()["token_type"] == "Bearer"
    assert (refused.status, refused.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_grants_salesforce_client_credentials_tokens_in_every_framing(salesforce, framing):
    with connect_salesforce(salesforce) as connection:
        granted, refused = exchange(connection, [client_credentials_grant(salesforce, salesforce.consumer_secret),
                                                 client_credentials_grant(salesforce, "not-the-secret")], framing)
    assert granted.status == 200 and granted.json()["access_token"]
    assert (refused.status, refused.json()["error"]) == (400, "invalid_client")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_creates_patches_and_reads_back_salesforce_accounts_in_every_framing(salesforce, framing):
    token = access_token(salesforce)
    names = [f"Framing {framing} Café Zürich {n}" for n in ("A", "B")]
    with connect_salesforce(salesforce) as connection:
        created = exchange(connection, [rest("POST", "/sobjects/Account/", token, {"Name": name}) for name in names],
                           framing)
        assert [response.status for response in created] == [201, 201]
        ids = [response.json()["id"] for response in created]
        patched = exchange(connection, [rest("PATCH", f"/sobjects/Account/{record_id}", token,
                                             {"Phone": f"555-{n}", "Description": "株式会社 ☕ " * 40})
                                        for n, record_id in enumerate(ids)], framing)
        assert [(response.status, response.body) for response in patched] == [(204, b""), (204, b"")]
        read = exchange(connection, [rest("GET", f"/sobjects/Account/{record_id}?fields=Name,Phone,Description",
                                          token) for record_id in ids], framing)
    assert [(r.json()["Name"], r.json()["Phone"]) for r in read] == [(names[0], "555-0"), (names[1], "555-1")]
    assert read[0].json()["Description"] == "株式会社 ☕ " * 40


@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_answers_signed_netsuite_calls_in_every_framing(netsuite, framing):
    passport = netsuite.token_passport()
    with Connection(netsuite.url) as connection:
        # The same passport twice: the first is accepted, the second refused as a replay, which shows the sandbox
        # read two requests, whole and in order.
        first, replayed = exchange(connection, [get_server_time(netsuite, passport),
                                                get_server_time(netsuite, passport)], framing)
    result = soap_body(first).find(f"{{{NS_CORE}}}getServerTimeResult")
    assert first.status == 200 and result.find(f"{{{NS_CORE}}}status").get("isSuccess") == "true"
    assert result.findtext(f"{{{NS_CORE}}}serverTime")
    assert replayed.status == 500 and b"INVALID_LOGIN_ATTEMPT" in replayed.body


@pytest.mark.parametrize("framing", FRAMINGS)
def test_it_adds_and_gets_a_netsuite_customer_in_every_framing(netsuite, framing):
    external_id = f"FRAMING-{framing}-{time.monotonic_ns()}"
    name = f"Framing {framing} Café Zürich 株式会社"
    add = suitetalk(netsuite, "add", f"""<msg:record xsi:type="rel:Customer" externalId="{external_id}">
        <rel:isPerson>false</rel:isPerson><rel:companyName>{escape(name)}</rel:companyName>
        <rel:subsidiary internalId="1"/></msg:record>""")
    get = suitetalk(netsuite, "get", f"""<msg:baseRef xsi:type="core:RecordRef" type="customer"
        externalId="{external_id}"/>""")
    with Connection(netsuite.url) as connection:
        added, fetched = exchange(connection, [add, get], framing)
    assert added.status == 200, added.text
    status = soap_body(added).find(f".//{{{NS_CORE}}}status")
    assert status.get("isSuccess") == "true", etree.tostring(status)
    assert soap_body(fetched).findtext(f".//{{{NS_RELATIONSHIPS}}}companyName") == name


# -- malformed framing ------------------------------------------------------------------------------------------------
@dataclass
class Target:
    """One sandbox as the malformed-framing tests see it."""
    connect: object     # () -> Connection
    good_call: object   # () -> a Call answered with 200; a fresh one each time (a NetSuite passport is single-use)
    unread_call: Call   # a call with a body, refused before the body is read


@pytest.fixture(params=["salesforce", "netsuite"])
def target(request):
    if request.param == "salesforce":
        sandbox = request.getfixturevalue("salesforce")
        # No session: 401 from the session check, which comes before the body.
        return Target(lambda: connect_salesforce(sandbox),
                      lambda: password_grant(sandbox, sandbox.password + sandbox.security_token),
                      Call("POST", API + "/sobjects/Account/", {"Content-Type": "application/json"},
                           b'{"Name": "never read"}' * 500))
    sandbox = request.getfixturevalue("netsuite")
    # The SOAP endpoint takes only POST: 405 before the body.
    return Target(lambda: Connection(sandbox.url), lambda: get_server_time(sandbox),
                  Call("PUT", SERVICE_PATH, {"Content-Type": "text/xml"}, b"<never-read/>" * 1000))


def assert_served_afresh(target: Target):
    """A new connection is served as if nothing had happened."""
    with target.connect() as connection:
        [answer] = exchange(connection, [target.good_call()], "pipelined")
    assert answer.status == 200


def assert_refused_and_closed(connection: Connection, data: bytes) -> WireResponse:
    """`data` is answered with 400 and the connection closed: nothing after bytes that cannot be framed can be
    trusted to be the start of the next request (RFC 9112 §6.3)."""
    connection.send(data)
    answer = connection.read_response()
    assert answer.status == 400, (answer.status, answer.body)
    assert connection.at_eof(), "the connection is closed after the 400"
    return answer


@pytest.mark.parametrize("size_line", [b"zz", b"-1f", b"0x1f", b"1_f", b"1f 1f"])
def test_it_refuses_a_malformed_chunk_size_with_400_and_serves_the_next_connection(target, size_line):
    call = target.good_call()
    with target.connect() as connection:
        # The body's first chunk has a size line that is not 1*HEXDIG. Behind it, pipelined, a request that must not
        # be answered: where it starts is unknown.
        data = head(call.method, call.target, connection.host, {**call.headers, "Transfer-Encoding": "chunked"})
        data += size_line + b"\r\n" + call.body[:0x1f] + b"\r\n0\r\n\r\n"
        assert_refused_and_closed(connection, data + target.good_call().framed(connection.host, chunk=False))
    assert_served_afresh(target)


@pytest.mark.parametrize("request_line", [b"NOT A REQUEST LINE", b"GET /services/data/ HTTP/1.1 extra",
                                          b"GET /services/data/\x00 HTTP/1.1", b"POST HTTP/1.1"])
def test_it_refuses_a_malformed_request_line_with_400_and_serves_the_next_connection(target, request_line):
    with target.connect() as connection:
        assert_refused_and_closed(connection, request_line + b"\r\nHost: x\r\n\r\n")
    assert_served_afresh(target)


@pytest.mark.parametrize("lengths", [("{n}", "3"), ("3", "{n}"), ("{n}, 3",), ("-1",), ("+{n}",), ("{n}x",)],
                         ids=["longer-then-shorter", "shorter-then-longer", "a-list", "negative", "signed", "suffixed"])
def test_it_refuses_conflicting_or_invalid_content_lengths_with_400(target, lengths):
    call = target.good_call()
    fields = list(call.headers.items()) + [("Content-Length", value.format(n=len(call.body))) for value in lengths]
    with target.connect() as connection:
        # Taken either way, some of the body would be read as the next request: request smuggling's opening.
        assert_refused_and_closed(connection, head(call.method, call.target, connection.host, fields) + call.body)
    assert_served_afresh(target)


def test_it_takes_repeated_identical_content_lengths_as_one_and_keeps_the_connection(target):
    call, then = target.good_call(), target.good_call()
    fields = list(call.headers.items()) + [("Content-Length", len(call.body))] * 2
    with target.connect() as connection:
        connection.send(head(call.method, call.target, connection.host, fields) + call.body)
        first = connection.read_response()
        [second] = exchange(connection, [then], "pipelined")
    assert (first.status, first.keeps_alive, second.status) == (200, True, 200)


def test_it_reads_transfer_encoding_over_content_length_then_closes(target):
    call = target.good_call()
    # Both framings at once: chunked wins (RFC 9112 §6.1), and since a front end could have taken the other, the
    # connection is closed after the answer rather than reused.
    fields = list(call.headers.items()) + [("Content-Length", 5), ("Transfer-Encoding", "chunked")]
    with target.connect() as connection:
        connection.send(head(call.method, call.target, connection.host, fields) + chunked(call.body))
        answer = connection.read_response()
        assert answer.status == 200
        assert not answer.keeps_alive and connection.at_eof()
    assert_served_afresh(target)


def test_it_reads_past_trailer_fields_to_the_next_pipelined_request(target):
    call, then = target.good_call(), target.good_call()
    body = chunked(call.body)[:-2] + b"X-Checksum: 1234\r\nX-Other: yes\r\n\r\n"   # a trailer section after the last chunk
    with target.connect() as connection:
        connection.send(head(call.method, call.target, connection.host,
                             {**call.headers, "Transfer-Encoding": "chunked"}) + body
                        + then.framed(connection.host, chunk=False))
        answers = [connection.read_response(), connection.read_response()]
    assert [answer.status for answer in answers] == [200, 200]


@pytest.mark.parametrize("framing", ["chunked", "pipelined", "expect-continue"])
def test_it_skips_a_body_it_answers_without_reading_and_keeps_the_connection(target, framing):
    # The body of a request refused before its body is looked at must still be read past, so that the next request
    # on the connection is found where it starts.
    with target.connect() as connection:
        refused, *answers = exchange(connection, [target.unread_call, target.good_call(), target.good_call()],
                                     framing)
    assert refused.status in (401, 405) and [answer.status for answer in answers] == [200, 200]


@pytest.mark.parametrize("expectation", ["100-Continue", "100-CONTINUE"])
def test_it_sends_100_continue_whatever_the_case_of_the_expectation(target, expectation):
    call = target.good_call()
    with target.connect() as connection:
        connection.send(head(call.method, call.target, connection.host,
                             {**call.headers, "Content-Length": len(call.body), "Expect": expectation}))
        interim = connection.read_response()
        connection.send(call.body)
        answer = connection.read_response()
    assert (interim.status, answer.status) == (100, 200)


@pytest.mark.parametrize("first_size", [8191, 8192, 8193, 16384])
def test_it_answers_a_pipelined_request_that_starts_at_a_tls_read_buffer_boundary(salesforce, first_size):
    # Two small requests in one TLS record: when the first ends exactly where the server's read buffer does, the
    # second waits decrypted inside the TLS layer, where the selector watching idle connections cannot see it.
    first = password_grant(salesforce, salesforce.password + salesforce.security_token)
    padding = first_size - len(first.framed(salesforce.instance, chunk=False)) - len("&pad=")
    first = password_grant(salesforce, salesforce.password + salesforce.security_token, pad="p" * padding)
    # Content-Length grows by digits with the padding: trim until the request is exactly first_size bytes.
    while len(first.framed(salesforce.instance, chunk=False)) > first_size:
        padding -= 1
        first = password_grant(salesforce, salesforce.password + salesforce.security_token, pad="p" * padding)
    assert len(first.framed(salesforce.instance, chunk=False)) == first_size
    second = password_grant(salesforce, salesforce.password + salesforce.security_token)
    with Connection(salesforce.url, ca_file=salesforce.ca_cert, timeout=10) as connection:
        started = time.monotonic()
        answers = exchange(connection, [first, second], "pipelined")
    assert [answer.status for answer in answers] == [200, 200]
    assert time.monotonic() - started < 5
