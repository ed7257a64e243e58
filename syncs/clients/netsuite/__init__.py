"""The hub's only door to NetSuite: the interface (interface.py) and the transport that carries it (soap.py,
SuiteTalk SOAP on zeep)."""
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
    """A client over the configured transport."""
    from .soap import SoapNetSuiteClient

    return SoapNetSuiteClient()


__all__ = ["GET_LIST_LIMIT", "UPSERT_LIST_LIMIT", "NetSuiteClient", "SearchPage", "SearchPageGone",
           "UnknownRecordType", "WriteResult", "netsuite_client"]
