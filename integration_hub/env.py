"""The one django-environ `env`, and how secrets are read from it.

A secret comes from the variable itself or from a file named by `<NAME>_FILE` (Docker and Kubernetes secrets).
Outside demo/debug mode a missing secret stops start-up with ImproperlyConfigured naming the variable: a hub that
starts without credentials fails later, at 3 a.m., in a worker log nobody reads.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def demo_mode() -> bool:
    return env.bool("HUB_DEMO", default=False) or env.bool("DEBUG", default=False)


def secret(name: str, *, demo_default: str = "", required: bool = True) -> str:
    value = env.str(name, default="")
    file_path = env.str(f"{name}_FILE", default="")
    if not value and file_path:
        try:
            value = Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at {file_path!r}, which cannot be read: {exc}") from exc
    if value:
        return value
    if demo_mode():
        return demo_default
    if required:
        raise ImproperlyConfigured(f"Set the {name} environment variable (or {name}_FILE); it has no default.")
    return ""


def require_salesforce_credentials(salesforce: dict, *, demo: bool) -> None:
    """Salesforce is reached as a connected app: with the OAuth 2.0 JWT bearer flow (consumer key, integration
    user's username, private key) or client credentials (consumer key and secret); or, until Salesforce retires the
    SOAP login, as a user (username, password, security token). One complete set must be there."""
    if demo:
        return
    sets = {
        "jwt_bearer": ("CONSUMER_KEY", "USERNAME", "PRIVATE_KEY"),
        "client_credentials": ("CONSUMER_KEY", "CONSUMER_SECRET"),
        "user_login": ("USERNAME", "PASSWORD"),
    }
    complete = [name for name, keys in sets.items() if all(salesforce[k] for k in keys)]
    if complete == ["client_credentials"] and (salesforce.get("DOMAIN") or "login") in ("login", "test"):
        raise ImproperlyConfigured(
            "SALESFORCE_CONSUMER_KEY and SALESFORCE_CONSUMER_SECRET log in with client credentials, which Salesforce "
            "serves on a My Domain only: set SALESFORCE_DOMAIN to your My Domain prefix (e.g. acme.my).")
    if complete:
        return
    missing = [f"SALESFORCE_{k}" for k in dict.fromkeys(k for keys in sets.values() for k in keys) if not salesforce[k]]
    raise ImproperlyConfigured(
        "Salesforce credentials are missing: set SALESFORCE_CONSUMER_KEY, SALESFORCE_USERNAME and "
        "SALESFORCE_PRIVATE_KEY (or SALESFORCE_PRIVATE_KEY_FILE) for the OAuth 2.0 JWT bearer flow; or "
        "SALESFORCE_CONSUMER_KEY and SALESFORCE_CONSUMER_SECRET for client credentials. Missing now: "
        f"{', '.join(missing)}."
    )
