"""The hub's Celery app. Settings come from Django's, under the CELERY_ prefix."""
import ctypes
import os
import sys

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")


def _malloc_arenas_limit() -> None:
    """A worker's sender threads (2 × the concurrency limit ÷ the workers) each get a malloc arena of their own from
    glibc (up to 8 per core), and the memory freed in one is not reused by another: a 46,000-record push grew a worker
    to 212 MB with the default and to 199 MB with two arenas, for the same Python objects. Two arenas, unless
    MALLOC_ARENA_MAX says otherwise (glibc reads it itself at start). Called before any sender thread exists."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX (malloc.h); a C library other than glibc has no libc.so.6 or ignores it
    except (OSError, AttributeError):
        pass


_malloc_arenas_limit()

app = Celery("integration_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _forget_inherited_pools(**_):
    """A prefork child must not use the connection pool of the parent it was forked from (its sockets are the
    parent's, its threads are gone): it opens its own."""
    from syncs.database import pools_forget

    pools_forget()
