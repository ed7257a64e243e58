"""Command line of the Salesforce sandbox: `serve` (default), `seed`, `control`, `reset`.

    python manage.py sandbox salesforce --port 8101
    python -m sandboxes.salesforce seed --accounts 10000 --random-seed 7
    python -m sandboxes.salesforce control latency_ms=200 expire_sessions=true
"""
import argparse
import json
import os
import ssl
import sys
import urllib.request
from pathlib import Path

DEFAULT_DATA_DIR = os.path.join("var", "sandboxes", "salesforce")
DEFAULT_PORT = 8101
COMMANDS = ("serve", "seed", "control", "reset", "stats")


def _data_dir_option(parser):
    parser.add_argument("--data-dir", default=os.environ.get("SF_SANDBOX_DATA_DIR", DEFAULT_DATA_DIR),
                        help="where the org's database and TLS files live (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandbox salesforce", description="Salesforce sandbox")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the HTTPS server (the default command)")
    _data_dir_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--latency-ms", type=int, help="added to every request")
    serve.add_argument("--api-daily-limit", type=int, help="daily API request allocation (default 100000)")
    serve.add_argument("--session-minutes", type=float, help="session lifetime after login; 0 = never expires")
    serve.add_argument("--error-rate", type=float, help="share of API requests answered with an injected 500/503")
    serve.add_argument("--error-statuses", help="comma-separated statuses to inject (default 500,503)")
    serve.add_argument("--lock-ids", help="comma-separated record ids whose writes fail with UNABLE_TO_LOCK_ROW")
    serve.add_argument("--random-seed", type=int, default=0, help="seed for injected faults")
    serve.add_argument("--username")
    serve.add_argument("--password")
    serve.add_argument("--security-token")
    serve.add_argument("--consumer-key")
    serve.add_argument("--consumer-secret")
    serve.add_argument("--jwt-certificate", default=os.environ.get("SF_SANDBOX_JWT_CERTIFICATE") or None,
                       help="the connected app's X.509 certificate (PEM or DER) that JWT bearer assertions are "
                            "verified with; without it the JWT bearer grant is refused")
    serve.add_argument("--jwt-max-exp-seconds", type=float,
                       help="refuse a JWT whose exp is further ahead than this (default: no bound, as orgs do)")
    serve.add_argument("--outbound-messages", help="outbound messages as JSON: "
                       '[{"object": "Account", "url": "https://…", "fields": ["Id", "Name"], "criteria": {…}}]')
    serve.add_argument("--outbound-retry-base-seconds", type=float,
                       help="the first retry interval of an unacknowledged outbound message (default 15; doubling)")
    serve.add_argument("--no-tls", action="store_true", help="plain HTTP (simple-salesforce cannot use this)")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")

    seed = sub.add_parser("seed", help="write a deterministic data set straight into the data dir")
    _data_dir_option(seed)
    seed.add_argument("--accounts", type=int, default=200)
    seed.add_argument("--contacts-per-account", type=int, default=2)
    seed.add_argument("--applications", type=int, default=None, help="default: one per merchant account")
    seed.add_argument("--broker-share", type=float, default=0.1, help="share of accounts that are brokers")
    seed.add_argument("--remittances-per-funded", type=int, default=2)
    seed.add_argument("--random-seed", type=int, default=42)
    seed.add_argument("--reset", action="store_true", help="empty the org first")

    control = sub.add_parser("control", help="change settings of a running sandbox: KEY=VALUE ...")
    _data_dir_option(control)
    control.add_argument("--url", default=None, help=f"default https://127.0.0.1:{DEFAULT_PORT}")
    control.add_argument("--port", type=int, default=DEFAULT_PORT)
    control.add_argument("settings", nargs="*", help="e.g. latency_ms=200 api_daily_limit=50 expire_sessions=true "
                         "error_rate=0.1 fail_next=2 lock=001... unlock=001... api_usage=0 "
                         "outbound_messages='[{\"object\": \"Account\", \"url\": \"…\", \"fields\": [\"Name\"]}]'")

    stats = sub.add_parser("stats", help="print a running sandbox's request counts and settings")
    _data_dir_option(stats)
    stats.add_argument("--url", default=None)
    stats.add_argument("--port", type=int, default=DEFAULT_PORT)

    reset = sub.add_parser("reset", help="delete the org's data (keeps the TLS certificate)")
    _data_dir_option(reset)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["serve"] + argv
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "seed":
        return seed(args)
    if args.command in ("control", "stats"):
        return control(args)
    if args.command == "reset":
        return reset(args)
    build_parser().print_help()
    return 2


def serve(args) -> int:
    from .auth import Credentials
    from .server import Sandbox, build_server

    settings = {
        "latency_ms": args.latency_ms, "api_daily_limit": args.api_daily_limit,
        "session_minutes": args.session_minutes, "error_rate": args.error_rate,
        "jwt_max_exp_seconds": args.jwt_max_exp_seconds,
    }
    if args.error_statuses:
        settings["error_statuses"] = [int(s) for s in args.error_statuses.split(",")]
    if args.lock_ids:
        settings["locked_ids"] = [s.strip() for s in args.lock_ids.split(",") if s.strip()]
    credentials = Credentials.from_env(username=args.username, password=args.password,
                                       security_token=args.security_token, consumer_key=args.consumer_key,
                                       consumer_secret=args.consumer_secret)
    try:
        sandbox = Sandbox(args.data_dir, credentials=credentials, settings=settings, random_seed=args.random_seed,
                          verbose=args.verbose, jwt_certificate=args.jwt_certificate)
    except (OSError, ValueError) as exc:
        print(f"Salesforce sandbox: cannot use the JWT certificate: {exc}", file=sys.stderr)
        return 2
    from .. import web

    outbound = {}
    if args.outbound_messages:
        outbound["outbound_messages"] = json.loads(args.outbound_messages)
    if args.outbound_retry_base_seconds is not None:
        outbound["outbound_retry_base_seconds"] = args.outbound_retry_base_seconds
    try:
        sandbox.outbound.apply(outbound)
    except (ValueError, KeyError) as exc:
        print(f"Salesforce sandbox: bad outbound messages: {exc}", file=sys.stderr)
        return 2
    server = build_server(sandbox, args.host, args.port, use_tls=not args.no_tls)
    host, port = web.bound_address(server)
    scheme = "http" if args.no_tls else "https"
    sandbox.outbound.base_url = f"{scheme}://{host}:{port}"
    print(f"Salesforce sandbox listening on {scheme}://{host}:{port} (data dir {Path(args.data_dir).resolve()})",
          flush=True)
    try:
        web.serve_forever(server)
    finally:
        sandbox.outbound.stop()
        sandbox.store.close()
    return 0


def seed(args) -> int:
    from .seed import SeedPlan, seed_org
    from .store import Store

    store = Store(args.data_dir)
    if args.reset:
        store.reset()
    plan = SeedPlan(accounts=args.accounts, contacts_per_account=args.contacts_per_account,
                    applications=args.applications, broker_share=args.broker_share,
                    remittances_per_funded=args.remittances_per_funded, random_seed=args.random_seed)
    counts = seed_org(store, plan)
    print(json.dumps(counts))
    return 0


def control(args) -> int:
    url = (args.url or f"https://127.0.0.1:{args.port}").rstrip("/")
    context = None
    if url.startswith("https://"):
        ca = Path(args.data_dir) / "tls" / "ca.pem"
        context = ssl.create_default_context(cafile=str(ca)) if ca.exists() else ssl._create_unverified_context()
    if args.command == "stats":
        request = urllib.request.Request(url + "/_sandbox/stats")
    else:
        settings = {}
        for item in args.settings:
            key, sep, value = item.partition("=")
            if not sep:
                print(f"expected KEY=VALUE, got {item!r}", file=sys.stderr)
                return 2
            settings[key] = _parse_value(value)
        request = urllib.request.Request(url + "/_sandbox/control", data=json.dumps(settings).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
        return 1
    return 0


def _parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def reset(args) -> int:
    from .store import Store

    Store(args.data_dir).reset()
    print(f"reset {Path(args.data_dir).resolve()}")
    return 0
