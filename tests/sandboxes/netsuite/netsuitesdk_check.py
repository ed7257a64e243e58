"""Drive netsuitesdk against a running NetSuite sandbox, as a user of that library would, and print what it saw.

Run by test_netsuitesdk.py with the Python of a virtualenv that has netsuitesdk (it is not one of the hub's
packages). Argument: a JSON object with url, account, consumer_key, consumer_secret, token_id, token_secret, tag.
Prints one JSON object on stdout.

netsuitesdk builds its URLs from the account id, on NetSuite's host, from two class attributes of NetSuiteClient;
it has no wsdl_url argument. Its wsdl_version argument picks the endpoint: 2023_2 is the one the sandbox serves.
"""
import json
import sys
import time

import zeep.helpers
from netsuitesdk.api.customers import Customers
from netsuitesdk.internal.client import NetSuiteClient
from netsuitesdk.internal.exceptions import NetSuiteLoginError
from netsuitesdk.internal.utils import PaginatedSearch

CUSTOMERS = 12   # more than two pages of five
PAGE_SIZE = 5    # NetSuite's smallest page


def client_class(url):
    class SandboxClient(NetSuiteClient):
        WSDL_URL_TEMPLATE = url + "/wsdl/{wsdl_version}/netsuite.wsdl"
        DATACENTER_URL_TEMPLATE = url + "/services/{netsuite_port_version}"
    return SandboxClient


def connect(config, *, wsdl_version="2023_2", consumer_secret=None):
    client = client_class(config["url"])(account=config["account"], caching=False, page_size=PAGE_SIZE,
                                         wsdl_version=wsdl_version)
    client.connect_tba(consumer_key=config["consumer_key"],
                       consumer_secret=consumer_secret or config["consumer_secret"],
                       token_key=config["token_id"], token_secret=config["token_secret"])
    return client


def main():
    config = json.loads(sys.argv[1])
    tag = config["tag"]
    seen = {}
    started = time.monotonic()
    client = connect(config)
    seen["connect_s"] = round(time.monotonic() - started, 2)

    refs = []
    for n in range(CUSTOMERS):
        ref = client.upsert(client.Customer(
            externalId=f"{tag}-{n:02d}", companyName=f"SDK {tag} {n:02d}", isPerson=False, email=f"ap{n}@example.com",
            subsidiary=client.RecordRef(internalId="1"), currency=client.RecordRef(internalId="1")))
        refs.append({"internalId": ref["internalId"], "externalId": ref["externalId"]})
    seen["upserted"] = refs
    again = client.upsert(client.Customer(externalId=f"{tag}-00", companyName=f"SDK {tag} 00 renamed"))
    seen["upserted_again"] = again["internalId"]

    customers = Customers(client)
    got = customers.get(externalId=f"{tag}-00")
    seen["got"] = {"internalId": got.internalId, "externalId": got.externalId, "companyName": got.companyName,
                   "email": got.email, "subsidiary": got.subsidiary.internalId,
                   "lastModifiedDate": got.lastModifiedDate.isoformat()}

    search = PaginatedSearch(client=client, type_name="Customer")
    seen["search"] = {"totalRecords": search.total_records, "totalPages": search.total_pages,
                      "pageSize": search.page_size, "first_page": [r.externalId for r in search.records]}
    seen["get_all"] = [r.externalId for r in customers.get_all()]
    by_name = customers.search("companyName", f"SDK {tag}", "startsWith")
    seen["by_name"] = [r.externalId for r in by_name]

    listed = client.request("getList", baseRef=[
        client.RecordRef(type="customer", externalId=f"{tag}-01"),
        client.RecordRef(type="customer", internalId=refs[2]["internalId"]),
        client.RecordRef(type="customer", externalId=f"{tag}-missing")]).body.readResponseList
    seen["get_list"] = [{"isSuccess": r.status.isSuccess,
                         "code": r.status.statusDetail[0].code if r.status.statusDetail else None,
                         "externalId": r.record.externalId if r.record is not None else None}
                        for r in listed.readResponse]
    seen["get_list_status"] = listed.status.isSuccess

    try:
        Customers(connect(config, consumer_secret="not-the-secret")).get(externalId=f"{tag}-00")
        seen["wrong_secret"] = "accepted"
    except NetSuiteLoginError as error:
        seen["wrong_secret"] = str(error)

    try:
        connect(config, wsdl_version="2024_1")
        seen["wsdl_2024_1"] = "served"
    except Exception as error:  # requests' HTTPError, raised by zeep while it loads the WSDL
        seen["wsdl_2024_1"] = f"{type(error).__name__}: {error}"

    print(json.dumps(zeep.helpers.serialize_object(seen), default=str))


if __name__ == "__main__":
    main()
