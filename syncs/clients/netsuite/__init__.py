"""The hub's only door to NetSuite: the interface (interface.py) and the transports that carry it: SuiteTalk REST
with OAuth 2.0 (rest.py, the default) and SuiteTalk SOAP on zeep (soap.py), chosen by NETSUITE_TRANSPORT."""
from django.conf import settings

from .interface import (
    GET_LIST_LIMIT,
    UPSERT_LIST_LIMIT,
    NetSuiteClient,
    SearchPage,
    SearchPageGone,
    UnknownRecordType,
    WriteResult,
)


def netsuite_client() -> NetSuiteClient:
    """A client over the configured transport (NETSUITE_TRANSPORT)."""
    if settings.NETSUITE.get("TRANSPORT", "rest") == "soap":
        from .soap import SoapNetSuiteClient

        return SoapNetSuiteClient()
    from .rest import RestNetSuiteClient

    return RestNetSuiteClient()


__all__ = ["GET_LIST_LIMIT", "UPSERT_LIST_LIMIT", "NetSuiteClient", "SearchPage", "SearchPageGone",
           "UnknownRecordType", "WriteResult", "netsuite_client"]
