"""Endpoints other systems call: Salesforce's Outbound Messages. Behind a token in the URL, since Salesforce cannot
send a header of the hub's choosing; the organization id in each message is checked too (syncs/outbound.py)."""
import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .outbound import MessageRefused, ack_envelope, fault_envelope, outbound_message_receive

logger = logging.getLogger(__name__)
SOAP_TYPE = "text/xml; charset=utf-8"


@csrf_exempt
@never_cache
@require_POST
def salesforce_outbound(request, token: str):
    expected = settings.HUB_OUTBOUND_TOKEN
    if not expected:
        raise Http404("No HUB_OUTBOUND_TOKEN is set: the hub takes no outbound messages.")
    if not hmac.compare_digest(token.encode(), expected.encode()):
        logger.warning("Outbound message refused: wrong token in the URL (from %s)", request.META.get("REMOTE_ADDR"))
        return HttpResponse(fault_envelope("Forbidden."), status=403, content_type=SOAP_TYPE)
    try:
        outbound_message_receive(body=request.body)
    except MessageRefused as refused:
        logger.warning("Outbound message refused: %s", refused.reason)
        return HttpResponse(fault_envelope(refused.reason), status=refused.status, content_type=SOAP_TYPE)
    # Only now, with the notifications committed, may Salesforce forget the message.
    return HttpResponse(ack_envelope(), content_type=SOAP_TYPE)
