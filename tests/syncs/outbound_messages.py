"""Outbound-message envelopes as Salesforce sends them, for the hook's tests."""
from xml.sax.saxutils import escape

ORG_15 = "00D5g000004XyZa"


def envelope(notifications, *, organization_id: str, action_id: str = "04k5g0000000001AAA") -> bytes:
    """`notifications`: (notification id, object type, {field: value}) with the record's Id among the fields."""
    items = "".join(
        f'<Notification><Id>{notification_id}</Id><sObject xsi:type="sf:{object_type}" '
        f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        + "".join(f"<sf:{name}>{escape(str(value))}</sf:{name}>" for name, value in fields.items())
        + "</sObject></Notification>"
        for notification_id, object_type, fields in notifications)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
            f'<OrganizationId>{organization_id}</OrganizationId><ActionId>{action_id}</ActionId>'
            '<SessionId xsi:nil="true"/><EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D</EnterpriseUrl>'
            '<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D</PartnerUrl>'
            f'{items}</notifications></soapenv:Body></soapenv:Envelope>').encode()


def notification_id(number: int) -> str:
    body = f"04l5g{number:010d}"
    from syncs.models import salesforce_id_18

    return salesforce_id_18(body)
