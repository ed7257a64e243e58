"""Command line of the NetSuite sandbox: `python -m sandboxes.netsuite [serve|pay|seed|bill|void|control|stats|reset]`.

`python manage.py sandbox netsuite ...` lands here too. Credentials default to the demo ones and can
be overridden by options or NS_SANDBOX_* environment variables.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

DEFAULT_DATA_DIR = os.path.join("var", "sandboxes", "netsuite")
DEFAULT_PORT = 8102
DEMO = {
    "account": "TSTDRV1234567",
    "consumer_key": "hub-sandbox-consumer-key",
    "consumer_secret": "hub-sandbox-consumer-secret",
    "token_id": "hub-sandbox-token-id",
    "token_secret": "hub-sandbox-token-secret",
}
# The OAuth 2.0 client credentials (M2M) integration REST uses; without --certificate the demo key pair is made in
# the data dir (m2m_private.pem for the client, m2m_public.pem mapped here).
DEMO_M2M = {"client_id": "hub-sandbox-client-id", "certificate_id": "hub-sandbox-certificate-id"}
WSDL_HINT = "set NETSUITE_WSDL or pass --wsdl (a path or URL to Oracle's netsuite.wsdl for 2023_2)"


def _env(name: str, default):
    return os.environ.get(f"NS_SANDBOX_{name.upper()}", default)


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandbox netsuite", description=__doc__)
    commands = parser.add_subparsers(dest="command")

    def data_dir(sub):
        sub.add_argument("--data-dir", default=_env("data_dir", DEFAULT_DATA_DIR))

    def url(sub):
        sub.add_argument("--url", default=_env("url", f"http://127.0.0.1:{DEFAULT_PORT}"),
                         help="a running sandbox (default %(default)s)")

    serve = commands.add_parser("serve", help="run the server: REST always, SOAP when a WSDL is at hand (default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(_env("port", DEFAULT_PORT)))
    data_dir(serve)
    serve.add_argument("--wsdl", default=os.environ.get("NETSUITE_WSDL"),
                       help="WSDL path or URL (default: $NETSUITE_WSDL)")
    for key, default in DEMO.items():
        serve.add_argument(f"--{key.replace('_', '-')}", default=_env(key, default))
    for key, default in DEMO_M2M.items():
        serve.add_argument(f"--{key.replace('_', '-')}", default=_env(key, default))
    serve.add_argument("--certificate", default=_env("certificate", None),
                       help="PEM certificate mapped to the M2M client (default: a demo key pair in the data dir)")
    serve.add_argument("--timezone", default=_env("timezone", "America/Los_Angeles"))
    serve.add_argument("--date-format", default=_env("date_format", "M/D/YYYY"),
                       help="the account's date format preference, as SuiteQL answers dates (default %(default)s)")
    serve.add_argument("--concurrency-limit", type=int, default=5)
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--latency-per-record-ms", type=float, default=0.0)
    serve.add_argument("--set", dest="settings", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                       help="any control setting at start, e.g. --set lost_response_next=1")
    serve.add_argument("--check-responses", action="store_true",
                       help="validate every response against the XSDs before sending it (debugging)")
    serve.add_argument("--verbose", action="store_true")

    pay = commands.add_parser("pay", help="generate customer payments on open sales orders' invoices (billing the orders first where nothing is billed and open)")
    pay.add_argument("--days", type=int, default=30)
    pay.add_argument("--per-day", type=int, default=5)
    pay.add_argument("--seed", type=int, default=1)
    pay.add_argument("--timezone", default=_env("timezone", "America/Los_Angeles"))
    pay.add_argument("--url", default=None, help="ask a running sandbox instead of writing the data dir")
    data_dir(pay)

    seed = commands.add_parser("seed", help="bulk-create deterministic records (benchmarks)")
    seed.add_argument("--customers", type=int, required=True)
    seed.add_argument("--sales-orders", type=int, default=0)
    seed.add_argument("--payments", type=int, default=0,
                      help="customer payments applied in turn to the seeded orders' invoices (one invoice bills each order), dated over --payment-days")
    seed.add_argument("--payment-days", type=int, default=365)
    seed.add_argument("--reversals-share", type=float, default=0.0,
                      help="share of the payments undone later the same day: half voided (directly), half deleted")
    seed.add_argument("--seed", type=int, default=1, help="random seed of the payment amounts and moments")
    data_dir(seed)

    bill = commands.add_parser("bill", help="invoice a sales order of a running sandbox (all its unbilled amount, or "
                                            "--amount of it)")
    bill.add_argument("sales_order")
    bill.add_argument("--amount", type=float, default=None)
    url(bill)

    void = commands.add_parser("void", help="void a transaction of a running sandbox, as its void_mode says "
                                            "(control void_mode=direct|reversing_journal)")
    void.add_argument("type", help="customerPayment, customerDeposit, creditMemo, invoice, customerRefund")
    void.add_argument("internal_id")
    url(void)

    control = commands.add_parser("control", help="change settings of a running sandbox (e.g. latency_ms=200, "
                                                  "void_mode=reversing_journal)")
    control.add_argument("settings", nargs="+", type=_setting, metavar="KEY=VALUE")
    url(control)

    stats = commands.add_parser("stats", help="request counts, highest concurrency and records per type")
    url(stats)

    reset = commands.add_parser("reset", help="delete every record: of a running sandbox with --url, else of a stopped one's data dir")
    reset.add_argument("--url", default=None)
    data_dir(reset)
    return parser


def _post(url: str, path: str, payload: dict) -> dict:
    request = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _get(url: str, path: str) -> dict:
    with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as response:
        return json.loads(response.read())


def main(argv: list[str]) -> int:
    argv = list(argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")
    args = build_parser().parse_args(argv)
    try:
        return globals()[f"_{args.command}"](args)
    except urllib.error.HTTPError as error:
        print(f"the sandbox refused: {error.code} {error.read().decode(errors='replace')}", file=sys.stderr)
        return 2
    except urllib.error.URLError as error:
        print(f"cannot reach the sandbox: {error}", file=sys.stderr)
        return 2


def _serve(args) -> int:
    from . import records, server
    from .auth import Credentials
    from .governance import Governance
    from .operations import NetSuiteApp
    from .rest import build as rest_build
    from .store import Store
    from .wsdl import WsdlSet

    store = Store(args.data_dir)
    records.seed_items(store)
    zone = ZoneInfo(args.timezone)
    governance = Governance(concurrency_limit=args.concurrency_limit, latency_ms=args.latency_ms,
                            latency_per_record_ms=args.latency_per_record_ms, **dict(args.settings))
    credentials = Credentials(args.account, args.consumer_key, args.consumer_secret, args.token_id, args.token_secret)
    try:
        rest = rest_build.rest_front(store=store, zone=zone, governance=governance, account=args.account,
                                     data_dir=args.data_dir, client_id=args.client_id,
                                     certificate_id=args.certificate_id, certificate=args.certificate,
                                     date_format=args.date_format)
    except (OSError, ValueError) as error:
        print(f"cannot start REST: {error}", file=sys.stderr)
        return 2
    soap, soap_off = None, ""
    if not args.wsdl:
        soap_off = f"no WSDL: {WSDL_HINT}"
    else:
        try:
            soap = NetSuiteApp(wsdl=WsdlSet(args.wsdl), store=store, credentials=credentials, zone=zone,
                               governance=governance, check_responses=args.check_responses)
        except Exception as error:  # noqa: BLE001 - any unreadable WSDL: REST still serves, SOAP says why it is off
            soap_off = f"the WSDL at {args.wsdl} could not be loaded ({error}); {WSDL_HINT}"
    if soap is not None:
        from .rest.catalog import MetadataCatalog

        rest.catalog = MetadataCatalog(soap.model, store)
    if soap is None:
        print(f"NetSuite sandbox: REST only, SOAP off: {soap_off}", file=sys.stderr, flush=True)
    account = server.Account(store=store, zone=zone, rest=rest, soap=soap, soap_off_reason=soap_off)
    server.serve(account, governance, args.host, args.port, verbose=args.verbose)
    return 0


def _pay(args) -> int:
    if args.url:
        result = _post(args.url, "/_sandbox/pay", {"days": args.days, "per_day": args.per_day, "seed": args.seed})
    else:
        from . import payments, records
        from .store import Store

        store = Store(args.data_dir)
        records.seed_items(store)
        result = payments.generate(store, days=args.days, per_day=args.per_day, seed=args.seed,
                                   zone=ZoneInfo(args.timezone))
    print(f"created {result['payments']} customer payments")
    return 0


def _seed(args) -> int:
    from . import records, seeding
    from .store import Store

    store = Store(args.data_dir)
    records.seed_items(store)
    result = seeding.seed(store, customers=args.customers, sales_orders=args.sales_orders, payments=args.payments,
                          payment_days=args.payment_days, random_seed=args.seed,
                          reversals_share=args.reversals_share)
    print(f"seeded {result['customers']} customers, {result['sales_orders']} sales orders and {result['payments']} "
          f"customer payments in {args.data_dir}")
    return 0


def _bill(args) -> int:
    payload = {"salesOrder": args.sales_order}
    if args.amount is not None:
        payload["amount"] = args.amount
    print(json.dumps(_post(args.url, "/_sandbox/bill", payload), indent=1))
    return 0


def _void(args) -> int:
    print(json.dumps(_post(args.url, "/_sandbox/void", {"type": args.type, "internalId": args.internal_id}), indent=1))
    return 0


def _control(args) -> int:
    print(json.dumps(_post(args.url, "/_sandbox/control", dict(args.settings)), indent=1))
    return 0


def _stats(args) -> int:
    print(json.dumps(_get(args.url, "/_sandbox/stats"), indent=1))
    return 0


def _reset(args) -> int:
    if args.url:
        _post(args.url, "/_sandbox/reset", {})
        print("reset the running sandbox")
        return 0
    from .store import DB_NAME

    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(args.data_dir, DB_NAME + suffix)
        if os.path.exists(path):
            os.remove(path)
    print(f"removed the sandbox data in {args.data_dir}")
    return 0
