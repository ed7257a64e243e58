"""Drive netsuite-async against a running NetSuite sandbox, as a user of that library would, and print what it saw.

Run by test_rest_independent_clients.py with the Python of a virtualenv that has netsuite-async (it needs Python 3.12
or newer and is not one of the hub's packages). Argument: a JSON object with rest_url, token_url, client_id,
certificate_id, private_key_path, tag. Prints one JSON object on stdout.

netsuite-async ships only an OAuth 1.0 (token-based authentication) provider, but its client takes any
AsyncAuthProvider, the library's public interface for "components that can create authenticated HTTP clients", and a
base_url. The provider here is Authlib's httpx client doing the client credentials grant with private_key_jwt, so no
line of either library is changed.
"""
import asyncio
import json
import sys

from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from netsuite_async import (AsyncAuthProvider, AsyncNetsuiteRestClient, GetParams, NetsuiteValidationError,
                            RecordCatalog, UpdateParams)

CUSTOMERS = 12   # more than two pages of five
PAGE_SIZE = 5


class M2MAuthProvider(AsyncAuthProvider):
    """OAuth 2.0 client credentials (M2M): a JWT assertion signed PS256 with kid = the certificate id."""

    def __init__(self, config):
        self.config = config
        self.client = None

    async def create_client(self):
        config = self.config
        with open(config["private_key_path"]) as key_file:
            key = key_file.read()
        auth = PrivateKeyJWT(config["token_url"], alg="PS256", headers={"kid": config["certificate_id"]},
                             claims={"scope": "rest_webservices"})
        self.client = AsyncOAuth2Client(config["client_id"], key, token_endpoint=config["token_url"],
                                        token_endpoint_auth_method=auth, grant_type="client_credentials",
                                        timeout=30)
        await self.client.fetch_token()
        return self.client


async def main(config):
    tag = config["tag"]
    seen = {}
    # The library knows customers, contacts, projects, partners and employees; other types are registered.
    RecordCatalog.register("salesorders", "salesOrder")
    provider = M2MAuthProvider(config)
    async with AsyncNetsuiteRestClient(provider, base_url=config["rest_url"] + "/record/v1/") as client:
        seen["token_type"] = provider.client.token["token_type"]
        seen["created"] = [await client.customers.create({
            "externalId": f"{tag}-{n:02d}", "companyName": f"Async {tag} {n:02d}", "isPerson": False,
            "subsidiary": {"id": "1"}}) for n in range(CUSTOMERS)]
        first = seen["created"][0]

        got = await client.customers.get(first)
        seen["got"] = {"id": got.id, "externalId": got.raw["externalId"], "companyName": got.raw["companyName"],
                       "links": [link.rel for link in got.links]}
        narrow = await client.customers.get(first, GetParams(fields=["companyName", "email"]))
        seen["got_fields"] = sorted(key for key in narrow.raw if key != "links")

        seen["updated"] = await client.customers.update(first, {"email": f"ap@{tag.lower()}.test"})
        seen["email_after_update"] = (await client.customers.get(first)).raw.get("email")

        # Upsert: the library has no method for it; its public request() and build_url() make the PUT by external id.
        put = await client.request("PUT", client.build_url("customers", f"eid:{tag}-00"),
                                   json={"companyName": f"Async {tag} 00 renamed"})
        seen["upsert"] = {"status": put.status_code, "location": put.headers.get("Location")}
        seen["name_after_upsert"] = (await client.customers.get(first)).raw["companyName"]

        # Paging through the record collection: the library follows the "next" link, reading limit and offset.
        pages = [[summary.id for summary in page]
                 async for page in client.customers.iter_summary_pages(limit=PAGE_SIZE)]
        seen["pages"] = pages
        # The concurrent form reads the "last" link and fetches the pages between at once.
        concurrent = await client.customers.list_summaries_concurrent(limit=PAGE_SIZE, max_concurrency=2)
        seen["concurrent_ids"] = [summary.id for summary in concurrent]

        many = await client.customers.get_many(seen["created"][:4], max_concurrency=2)
        seen["get_many"] = {id_: result.success for id_, result in many.items()}

        order = await client.salesorders.create({
            "externalId": f"{tag}-SO", "entity": {"externalId": f"{tag}-01"}, "tranDate": "2024-03-01",
            "item": {"items": [{"item": {"id": "101"}, "quantity": 1, "rate": 1500.0},
                               {"item": {"id": "103"}, "quantity": 2, "rate": 25.0}]}})
        expanded = await client.salesorders.get(order, GetParams(expand=True))
        seen["order"] = {"id": order, "entity": expanded.raw["entity"]["id"],
                         "lines": [(line["item"]["id"], line["amount"]) for line in expanded.raw["item"]["items"]]}
        await client.salesorders.update(order, {"item": {"items": [{"item": {"id": "102"}, "quantity": 1,
                                                                     "rate": 900.0}]}},
                                        UpdateParams(replace=["item"]))
        replaced = await client.salesorders.get(order, GetParams(expand=True))
        seen["order_after_replace"] = [(line["item"]["id"], line["amount"]) for line in replaced.raw["item"]["items"]]

        try:
            await client.customers.get("999999")
            seen["missing"] = "no error"
        except NetsuiteValidationError as error:
            seen["missing"] = {"class": type(error).__name__, "status": error.status_code, "message": str(error),
                               "code": error.details["o:errorDetails"][0]["o:errorCode"]}
    return seen


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
