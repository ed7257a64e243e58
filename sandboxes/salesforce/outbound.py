"""Outbound Messages: the org tells an endpoint, in SOAP, that records changed.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm
and https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
- An outbound message is defined per object, with the fields to send and an endpoint URL; a record-triggered Flow
  (or a workflow rule) with criteria decides which creates and updates send it. Here a rule is
  `{"object", "url", "fields", "criteria"?, "events"?, "name"?}`; `criteria` is
  `{"Field": value or [values]}` on the record as committed, `events` is `["create", "update"]` by default.
- Notifications are queued when the write commits and sent by a background sender, never inside the API call.
  One SOAP `notifications` message carries up to 100 of them, all of one outbound message (one object).
- The record is read when the message is sent: "if the source object changes after a notification is queued but
  before it's sent, the endpoint only receives the latest data". A record deleted meanwhile is sent with its Id only.
- A message the endpoint does not answer with `<Ack>true</Ack>` is sent again, the interval growing exponentially up
  to two hours, until it is 24 hours old; then it is dropped. Messages are retried independently of their order,
  so they can arrive out of order, and at least once, so more than once: `outbound_duplicate_rate` makes that
  happen on purpose for tests. Salesforce documents the growth and the cap, not the first interval; the sandbox
  starts at `outbound_retry_base_seconds` (15 s). The endpoint has 60 s to answer
  (help.salesforce.com, "Outbound Message Considerations", platform.workflow_om_considerations.htm).
"""
import random
import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

from . import ids, schema
from .records import ORG_ID

MAX_NOTIFICATIONS = 100
ACTION_PREFIX = "04k"        # WorkflowOutboundMessage
NOTIFICATION_PREFIX = "04l"  # the id of one notification, which listeners de-duplicate on
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
API_VERSION = "59.0"
DEFAULTS = {
    "outbound_retry_base_seconds": 15.0,
    "outbound_retry_max_seconds": 2 * 3600.0,
    "outbound_max_age_seconds": 24 * 3600.0,
    "outbound_timeout_seconds": 60.0,
    "outbound_duplicate_rate": 0.0,
}
EVENTS = ("create", "update")


class Rule:
    def __init__(self, number: int, spec: dict):
        if not isinstance(spec, dict):
            raise ValueError("each outbound message is a JSON object")
        unknown = set(spec) - {"object", "url", "fields", "criteria", "events", "name"}
        if unknown:
            raise ValueError(f"unknown outbound message keys: {', '.join(sorted(unknown))}")
        self.obj = schema.lookup(str(spec.get("object") or ""))
        if self.obj is None:
            raise ValueError(f"outbound message on an unknown object: {spec.get('object')!r}")
        self.url = str(spec.get("url") or "")
        if not re.match(r"^https?://", self.url):
            raise ValueError(f"outbound message {self.obj.name}: the endpoint URL must be http(s)://…")
        names = ["Id", *[str(n) for n in spec.get("fields") or []]]
        self.fields = []
        for name in dict.fromkeys(names):
            f = self.obj.field(name)
            if f is None:
                raise ValueError(f"outbound message {self.obj.name}: no field {name!r}")
            self.fields.append(f)
        self.criteria = {}
        for name, wanted in (spec.get("criteria") or {}).items():
            f = self.obj.field(name)
            if f is None:
                raise ValueError(f"outbound message {self.obj.name}: criteria on no field {name!r}")
            self.criteria[f.name] = wanted if isinstance(wanted, list) else [wanted]
        self.events = tuple(spec.get("events") or EVENTS)
        if set(self.events) - set(EVENTS):
            raise ValueError(f"outbound message events are {', '.join(EVENTS)}")
        self.name = str(spec.get("name") or f"{self.obj.name}_to_hub")
        self.action_id = ids.make_id(ACTION_PREFIX, number)
        self.spec = dict(spec)

    def matches(self, row: dict | None, event: str) -> bool:
        if row is None or event not in self.events:
            return False
        return all(row.get(name) in wanted for name, wanted in self.criteria.items())


class Message:
    def __init__(self, rule: Rule, notifications: list):
        self.rule = rule
        self.notifications = notifications      # [(notification id, record id)]
        self.first_queued = time.time()
        self.tries = 0
        self.due = 0.0


class OutboundSender:
    """The org's outbound queue and its background sender (a scheduler thread and a few delivery threads)."""

    def __init__(self, store, random_seed: int = 0):
        self.store = store
        self.random = random.Random(random_seed)
        self.lock = threading.Condition()
        self.settings = dict(DEFAULTS)
        self.rules: list[Rule] = []
        self.queued: dict[int, list] = {}      # rule index → [(notification id, record id)] not yet in a message
        self.waiting: list[Message] = []       # messages not acknowledged yet, due at `due`
        self.in_flight = 0
        self.counts = {"notifications_queued": 0, "messages_sent": 0, "messages_acknowledged": 0,
                       "deliveries_failed": 0, "messages_dropped": 0, "duplicates_sent": 0}
        self.last_error = ""
        self.base_url = ""
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound")
        self.stopped = False
        self._number = int(time.time() * 1000)
        saved = store.meta_get("outbound_messages")
        if saved:
            self.configure(saved)
        store.commit_listeners.append(self.committed)
        self.thread = threading.Thread(target=self._schedule, name="outbound-scheduler", daemon=True)
        self.thread.start()

    # -- configuration ----------------------------------------------------------------------------------------------
    def configure(self, specs) -> list:
        if not isinstance(specs, list):
            raise ValueError("outbound_messages is a JSON list of outbound messages")
        rules = [Rule(number, spec) for number, spec in enumerate(specs, 1)]
        with self.lock:
            self.rules = rules
            self.queued = {}
            # A message of an outbound message that is gone (or changed) is no longer sent, as in Setup.
            kept = {repr(rule.spec): rule for rule in rules}
            for message in self.waiting:
                message.rule = kept.get(repr(message.rule.spec))
            self.waiting = [message for message in self.waiting if message.rule is not None]
        return [rule.spec for rule in rules]

    def apply(self, changes: dict) -> dict:
        """Control settings (`outbound_*`); the rules are kept in the org's database, like its setup."""
        applied = {}
        for key, value in changes.items():
            if key == "outbound_messages":
                specs = self.configure(value)
                with self.store.transaction() as conn:
                    self.store.meta_set(conn, "outbound_messages", specs)
            elif key in DEFAULTS:
                with self.lock:
                    self.settings[key] = float(value)
            else:
                raise KeyError(key)
            applied[key] = value
        return applied

    # -- the write path ---------------------------------------------------------------------------------------------
    def committed(self, changes: list):
        """After a commit: queue a notification for each change an outbound message's criteria accept."""
        rules = self.rules
        if not rules:
            return
        rows = {}
        wanted = []
        for index, rule in enumerate(rules):
            for object_name, record_id, event in changes:
                if object_name != rule.obj.name:
                    continue
                key = (object_name, record_id)
                if key not in rows:
                    rows[key] = self.store.get(rule.obj, record_id)
                if rule.matches(rows[key], event):
                    wanted.append((index, record_id))
        if not wanted:
            return
        with self.lock:
            for index, record_id in wanted:
                notification_id = ids.make_id(NOTIFICATION_PREFIX, self._next_number())
                self.queued.setdefault(index, []).append((notification_id, record_id))
                self.counts["notifications_queued"] += 1
            self.lock.notify_all()

    def _next_number(self) -> int:
        # Counted on from the start's millisecond: unique across restarts without a write per notification.
        self._number += 1
        return self._number

    # -- the sender -------------------------------------------------------------------------------------------------
    def _schedule(self):
        while True:
            with self.lock:
                if self.stopped:
                    return
                now = time.time()
                for index, queued in list(self.queued.items()):
                    rule = self.rules[index] if index < len(self.rules) else None
                    while queued and rule is not None:
                        message = Message(rule, queued[:MAX_NOTIFICATIONS])
                        del queued[:MAX_NOTIFICATIONS]
                        self.waiting.append(message)
                    self.queued.pop(index, None)
                due = [m for m in self.waiting if m.due <= now]
                for message in due:
                    self.waiting.remove(message)
                    self.in_flight += 1
                    self.pool.submit(self._deliver, message)
                later = min((m.due for m in self.waiting), default=now + 1)
                self.lock.wait(timeout=max(0.01, min(1.0, later - now)))

    def _deliver(self, message: Message):
        acknowledged = False
        try:
            acknowledged = self._post(message)
            if acknowledged and self.random.random() < self.settings["outbound_duplicate_rate"]:
                self.counts["duplicates_sent"] += 1
                self._post(message)
        finally:
            with self.lock:
                self.in_flight -= 1
                if not acknowledged:
                    self._retry_later(message)
                else:
                    self.counts["messages_acknowledged"] += 1
                self.lock.notify_all()

    def _retry_later(self, message: Message):
        now = time.time()
        if now - message.first_queued >= self.settings["outbound_max_age_seconds"]:
            self.counts["messages_dropped"] += 1
            return
        delay = min(self.settings["outbound_retry_base_seconds"] * 2 ** (message.tries - 1),
                    self.settings["outbound_retry_max_seconds"])
        message.due = now + delay
        self.waiting.append(message)

    def _post(self, message: Message) -> bool:
        message.tries += 1
        body = self.envelope(message)
        request = urllib.request.Request(message.rule.url, data=body, method="POST", headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', "User-Agent": "Salesforce - not Java"})
        with self.lock:
            self.counts["messages_sent"] += 1
        try:
            with urllib.request.urlopen(request, timeout=self.settings["outbound_timeout_seconds"]) as response:
                ok = 200 <= response.status < 300 and is_acknowledgement(response.read(1024 * 1024))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            ok = False
            self.last_error = f"{type(exc).__name__}: {exc}"
        if not ok:
            with self.lock:
                self.counts["deliveries_failed"] += 1
        return ok

    def envelope(self, message: Message) -> bytes:
        rule = message.rule
        base = self.base_url
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
            "<soapenv:Body>",
            f'<notifications xmlns="{OUTBOUND_NS}">',
            f"<OrganizationId>{ORG_ID}</OrganizationId>",
            f"<ActionId>{rule.action_id}</ActionId>",
            # Optional ("Send Session ID" in the setup); the hub logs in on its own, so the sandbox never sends one.
            '<SessionId xsi:nil="true"/>',
            f"<EnterpriseUrl>{escape(base)}/services/Soap/c/{API_VERSION}/{ORG_ID[:15]}</EnterpriseUrl>",
            f"<PartnerUrl>{escape(base)}/services/Soap/u/{API_VERSION}/{ORG_ID[:15]}</PartnerUrl>",
        ]
        for notification_id, record_id in message.notifications:
            row = self.store.get(rule.obj, record_id) or {"Id": record_id}
            parts.append(f"<Notification><Id>{notification_id}</Id>"
                         f'<sObject xsi:type="sf:{rule.obj.name}" xmlns:sf="{SOBJECT_NS}">')
            for f in rule.fields:
                value = row.get(f.name)
                if value is None:
                    continue   # a null field is left out of the sObject
                parts.append(f"<sf:{f.name}>{escape(soap_value(f, value))}</sf:{f.name}>")
            parts.append("</sObject></Notification>")
        parts += ["</notifications>", "</soapenv:Body>", "</soapenv:Envelope>"]
        return "".join(parts).encode("utf-8")

    def stats(self) -> dict:
        with self.lock:
            counts = {k: v for k, v in self.counts.items() if not k.startswith("_")}
            return {**counts, "waiting": len(self.waiting) + sum(len(q) for q in self.queued.values()),
                    "in_flight": self.in_flight, "last_error": self.last_error, "settings": dict(self.settings),
                    "outbound_messages": [rule.spec for rule in self.rules]}

    def stop(self):
        with self.lock:
            self.stopped = True
            self.lock.notify_all()
        self.pool.shutdown(wait=False, cancel_futures=True)


def soap_value(f: schema.Field, value) -> str:
    if f.type == schema.BOOLEAN:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and f.scale == 0:
        return str(int(value))
    text = str(value)
    if f.type == schema.DATETIME and text.endswith("+0000"):
        return text[:-5] + "Z"   # xsd:dateTime
    return text


def is_acknowledgement(body: bytes) -> bool:
    """The endpoint's answer says `notificationsResponse/Ack` = true (an answer declaring a DTD is not read)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return False
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return False
    ack = root.find(f".//{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack")
    return ack is not None and (ack.text or "").strip().lower() in ("true", "1")


def wsdl(rule: Rule, base_url: str) -> str:
    """The WSDL an admin downloads for one outbound message: the notifications call with this object's fields."""
    types = {schema.BOOLEAN: "xsd:boolean", schema.DATE: "xsd:date", schema.DATETIME: "xsd:dateTime",
             schema.ID: "ent:ID", schema.REFERENCE: "ent:ID"}
    fields = "".join(
        f'<element name="{f.name}" nillable="true" minOccurs="0" '
        f'type="{types.get(f.type, "xsd:double" if f.type in schema.NUMBER_TYPES else "xsd:string")}"/>'
        for f in rule.fields)
    name = rule.obj.name
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:ent="urn:enterprise.soap.sforce.com"
  xmlns:ens="{SOBJECT_NS}" xmlns:tns="{OUTBOUND_NS}" targetNamespace="{OUTBOUND_NS}">
 <types>
  <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:enterprise.soap.sforce.com">
   <simpleType name="ID"><restriction base="xsd:string"><length value="18"/><pattern value="[a-zA-Z0-9]{{18}}"/></restriction></simpleType>
  </schema>
  <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="{SOBJECT_NS}">
   <import namespace="urn:enterprise.soap.sforce.com"/>
   <complexType name="sObject"><sequence><element name="fieldsToNull" type="xsd:string" nillable="true" minOccurs="0" maxOccurs="unbounded"/><element name="Id" type="ent:ID" nillable="true" minOccurs="0"/></sequence></complexType>
   <complexType name="{name}"><complexContent><extension base="ens:sObject"><sequence>{fields}</sequence></extension></complexContent></complexType>
  </schema>
  <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="{OUTBOUND_NS}">
   <import namespace="urn:enterprise.soap.sforce.com"/>
   <import namespace="{SOBJECT_NS}"/>
   <element name="notifications">
    <complexType><sequence>
     <element name="OrganizationId" type="ent:ID"/>
     <element name="ActionId" type="ent:ID"/>
     <element name="SessionId" type="xsd:string" nillable="true"/>
     <element name="EnterpriseUrl" type="xsd:string"/>
     <element name="PartnerUrl" type="xsd:string"/>
     <element name="Notification" maxOccurs="100" type="tns:{name}Notification"/>
    </sequence></complexType>
   </element>
   <complexType name="{name}Notification"><sequence><element name="Id" type="ent:ID"/><element name="sObject" type="ens:{name}"/></sequence></complexType>
   <element name="notificationsResponse"><complexType><sequence><element name="Ack" type="xsd:boolean"/></sequence></complexType></element>
  </schema>
 </types>
 <message name="notificationsRequest"><part element="tns:notifications" name="request"/></message>
 <message name="notificationsResponse"><part element="tns:notificationsResponse" name="response"/></message>
 <portType name="NotificationPort"><operation name="notifications"><documentation>Process a number of notifications.</documentation><input message="tns:notificationsRequest"/><output message="tns:notificationsResponse"/></operation></portType>
 <binding name="NotificationBinding" type="tns:NotificationPort">
  <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
  <operation name="notifications"><soap:operation soapAction=""/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
 </binding>
 <service name="NotificationService"><documentation>{escape(rule.name)}</documentation>
  <port binding="tns:NotificationBinding" name="Notification"><soap:address location="{escape(rule.url)}"/></port>
 </service>
</definitions>
"""
