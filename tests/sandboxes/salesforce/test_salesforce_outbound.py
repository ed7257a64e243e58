"""Outbound Messages from the sandbox to a listener over real HTTP: the envelope, batching, after-commit delivery,
criteria, and retries of an unacknowledged message."""
import http.server
import threading
import time
import xml.etree.ElementTree as ElementTree

import pytest

from sandboxes.salesforce.process import run_salesforce_sandbox

pytestmark = pytest.mark.slow

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUT = "http://soap.sforce.com/2005/09/outbound"
SF = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACK = (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
       b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')


class Listener:
    """An endpoint that records each message and answers as told (ack by default)."""

    def __init__(self):
        self.messages, self.answers, self.delay = [], [], 0.0
        self.on_message = None
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # The hook runs before the message is recorded: a test that waits for the message sees what it did.
                if listener.on_message:
                    listener.on_message(body)
                listener.messages.append((time.monotonic(), dict(self.headers), body))
                time.sleep(listener.delay)
                status, answer = listener.answers.pop(0) if listener.answers else (200, ACK)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        self.messages.clear()
        self.answers.clear()
        self.delay, self.on_message = 0.0, None

    def notifications(self):
        found = []
        for _, _, body in self.messages:
            root = ElementTree.fromstring(body)
            for n in root.iter(f"{{{OUT}}}Notification"):
                found.append((n.findtext(f"{{{OUT}}}Id"), n.find(f"{{{OUT}}}sObject").findtext(f"{{{SF}}}Id")))
        return found

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.notifications()) >= count:
                return self.notifications()
            time.sleep(0.05)
        raise AssertionError(f"{len(self.notifications())} notifications of {count} arrived in {timeout}s")


@pytest.fixture(scope="module")
def listener():
    running = Listener()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def org(tmp_path_factory, listener):
    with run_salesforce_sandbox(tmp_path_factory.mktemp("salesforce"), seed_args={"accounts": 5, "random_seed": 3},
                                outbound_retry_base_seconds=0.2) as sandbox:
        yield sandbox


@pytest.fixture
def sf(org, listener):
    listener.reset()
    yield org.client()
    org.control(outbound_messages=[])


def test_it_sends_a_notifications_envelope_after_the_write_commits(org, sf, listener):
    org.control(outbound_messages=[{"object": "Account", "url": listener.url, "fields": ["Name", "Phone", "LastModifiedDate"]}])
    seen_by_api = []
    # The listener reads the record back as soon as the message arrives: the write must be committed by then.
    listener.on_message = lambda body: seen_by_api.append(sf.query("SELECT Id FROM Account WHERE Name = 'Outbound & Co'")["totalSize"])
    created = sf.Account.create({"Name": "Outbound & Co"})["id"]
    listener.wait_for(1)

    _, headers, body = listener.messages[0]
    assert headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(body)
    assert root.tag == f"{{{SOAP}}}Envelope"
    notifications = root.find(f"{{{SOAP}}}Body/{{{OUT}}}notifications")
    organization = sf.query("SELECT Id FROM Organization")["records"][0]["Id"]
    assert notifications.findtext(f"{{{OUT}}}OrganizationId") == organization
    assert notifications.findtext(f"{{{OUT}}}ActionId").startswith("04k")
    assert notifications.find(f"{{{OUT}}}SessionId").get(f"{{{XSI}}}nil") == "true"
    assert notifications.findtext(f"{{{OUT}}}EnterpriseUrl").startswith(org.url + "/services/Soap/c/")
    assert notifications.findtext(f"{{{OUT}}}PartnerUrl").startswith(org.url + "/services/Soap/u/")
    [notification] = notifications.findall(f"{{{OUT}}}Notification")
    assert notification.findtext(f"{{{OUT}}}Id").startswith("04l")
    sobject = notification.find(f"{{{OUT}}}sObject")
    assert sobject.get(f"{{{XSI}}}type") == "sf:Account"
    assert sobject.findtext(f"{{{SF}}}Id") == created
    assert sobject.findtext(f"{{{SF}}}Name") == "Outbound & Co"
    assert sobject.find(f"{{{SF}}}Phone") is None, "a null field is left out"
    assert sobject.findtext(f"{{{SF}}}LastModifiedDate").endswith("Z")
    assert seen_by_api == [1]

    wsdl = ElementTree.fromstring(org.session().get(org.url + "/_sandbox/outbound/wsdl?object=Account").content)
    element = next(e for e in wsdl.iter("{http://www.w3.org/2001/XMLSchema}element") if e.get("name") == "Notification")
    assert element.get("maxOccurs") == "100"


def test_it_puts_at_most_100_notifications_in_a_message_and_none_for_rolled_back_writes(org, sf, listener):
    org.control(outbound_messages=[{"object": "Contact", "url": listener.url, "fields": ["LastName"]}])
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    records = [{"attributes": {"type": "Contact"}, "LastName": f"Batch {i}", "AccountId": account} for i in range(200)]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    created = {r["id"] for r in results}
    # One record of a collection fails on its own; an allOrNone collection rolls back as a whole.
    mixed = [{"attributes": {"type": "Contact"}, "LastName": "Kept"}, {"attributes": {"type": "Contact"}, "LastName": None}]
    kept = [r["id"] for r in sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": mixed}) if r["success"]]
    rolled_back = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": mixed})
    assert not any(r["success"] for r in rolled_back)

    found = listener.wait_for(201)
    time.sleep(1)
    found = listener.notifications()
    sizes = [len(ElementTree.fromstring(body).findall(f".//{{{OUT}}}Notification")) for _, _, body in listener.messages]
    assert max(sizes) <= 100 and len(sizes) >= 2
    assert sorted(record for _, record in found) == sorted(created | set(kept))
    assert len({notification for notification, _ in found}) == len(found)


def test_it_sends_only_what_meets_the_criteria(org, sf, listener):
    org.control(outbound_messages=[{"object": "Opportunity", "url": listener.url, "fields": ["StageName"],
                                    "criteria": {"StageName": "Funded"}}])
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    application = sf.Opportunity.create({"Name": "Criteria", "AccountId": account, "StageName": "Underwriting",
                                         "CloseDate": "2026-01-01"})["id"]
    time.sleep(0.5)
    assert listener.notifications() == []
    sf.Opportunity.update(application, {"StageName": "Funded", "Funded_Date__c": "2026-01-02"})
    assert [record for _, record in listener.wait_for(1)] == [application]


def test_it_retries_an_unacknowledged_message_until_it_lands_once(org, sf, listener):
    org.control(outbound_messages=[{"object": "Account", "url": listener.url, "fields": ["Name"]}])
    nack = b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' \
           b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>false</Ack>' \
           b'</notificationsResponse></soapenv:Body></soapenv:Envelope>'
    listener.answers = [(500, b"down"), (200, nack), (200, b"<html>maintenance</html>")]
    before = org.stats()["outbound"]
    created = sf.Account.create({"Name": "Retried"})["id"]
    found = listener.wait_for(4, timeout=15)
    time.sleep(2)   # past the next retry interval: an acknowledged message is never sent again
    found = listener.notifications()
    assert [record for _, record in found] == [created] * 4
    assert len({notification for notification, _ in found}) == 1, "a retry is the same notification"
    times = [at for at, _, _ in listener.messages]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] >= 0.15 and gaps[2] > gaps[0], f"the intervals grow: {gaps}"
    after = org.stats()["outbound"]
    assert after["messages_acknowledged"] - before["messages_acknowledged"] == 1
    assert after["deliveries_failed"] - before["deliveries_failed"] == 3
    assert after["waiting"] == 0


def test_a_slow_endpoint_does_not_slow_the_api(org, sf, listener):
    org.control(outbound_messages=[{"object": "Account", "url": listener.url, "fields": ["Name"]}])
    listener.delay = 3
    started = time.monotonic()
    for i in range(3):
        sf.Account.create({"Name": f"Slow endpoint {i}"})
    assert time.monotonic() - started < 2
    listener.wait_for(3, timeout=15)


def test_it_can_deliver_a_message_twice_as_salesforce_warns(org, sf, listener):
    org.control(outbound_messages=[{"object": "Account", "url": listener.url, "fields": ["Name"]}],
                outbound_duplicate_rate=1)
    try:
        created = sf.Account.create({"Name": "Twice"})["id"]
        found = listener.wait_for(2)
    finally:
        org.control(outbound_duplicate_rate=0)
    assert [record for _, record in found] == [created, created]
    assert found[0][0] == found[1][0], "the same notification id both times"
    assert org.stats()["outbound"]["duplicates_sent"] >= 1
