"""The breaker's cool-down grows with failed probes, not with the requests that were in flight when it opened."""
import pytest
from django.utils import timezone

from syncs.breakers import breaker_fault, breaker_wait
from syncs.clients.errors import TransientError
from syncs.models import CircuitBreaker

pytestmark = pytest.mark.django_db


def fault():
    return TransientError("HTTP_503", "Service Unavailable")


def test_faults_in_flight_when_it_opened_do_not_lengthen_the_cool_down(settings):
    settings.HUB_BREAKER_THRESHOLD, settings.HUB_BREAKER_BASE_SECONDS, settings.HUB_BREAKER_MAX_SECONDS = 5, 30, 600
    for _ in range(5):
        breaker_fault("netsuite", fault())
    opened = CircuitBreaker.objects.get(system="netsuite")
    assert opened.open_until is not None
    first = (opened.open_until - timezone.now()).total_seconds()
    assert 20 <= first <= 30
    for _ in range(20):   # every other sender's request, answered 503 after the breaker opened
        breaker_fault("netsuite", fault())
    same = CircuitBreaker.objects.get(system="netsuite")
    assert same.open_until == opened.open_until and same.consecutive_faults == 5

    # The cool-down passes; one caller takes the probe, and the probe fails: now it is longer.
    CircuitBreaker.objects.update(open_until=timezone.now())
    assert breaker_wait("netsuite") is None
    assert breaker_wait("netsuite") is not None, "a second caller waits for the probe's verdict"
    breaker_fault("netsuite", fault())
    again = CircuitBreaker.objects.get(system="netsuite")
    assert 48 <= (again.open_until - timezone.now()).total_seconds() <= 60
