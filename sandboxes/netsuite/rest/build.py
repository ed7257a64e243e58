"""Puts the REST side together over the account's store and governance (cli.py calls it at start)."""
from __future__ import annotations

from pathlib import Path

from . import m2m_keys
from .jobs import Jobs
from .oauth import M2MClient, TokenEndpoint
from .record_service import RecordService
from .router import RestFront
from .suiteql import SuiteQL


def rest_front(*, store, zone, governance, account: str, data_dir, client_id: str, certificate_id: str,
               certificate: str | None, date_format: str) -> RestFront:
    if not certificate:
        certificate = str(m2m_keys.ensure_key_pair(Path(data_dir))["certificate"])
    tokens = TokenEndpoint(M2MClient(client_id, certificate_id, certificate), account, store)
    records = RecordService(store, zone, governance)
    return RestFront(store=store, zone=zone, governance=governance, account=account, tokens=tokens,
                     records=records, jobs=Jobs(store, records, governance),
                     suiteql=SuiteQL(store, zone, date_format))
