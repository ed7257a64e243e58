"""The hub's Celery app. Settings come from Django's, under the CELERY_ prefix."""
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")

app = Celery("integration_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _forget_inherited_pools(**_):
    """A prefork child must not use the connection pool of the parent it was forked from (its sockets are the
    parent's, its threads are gone): it opens its own."""
    from syncs.database import pools_forget

    pools_forget()
