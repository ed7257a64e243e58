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
    """Salesforce is reached either as a user (username, password, security token) or as a connected app
    (OAuth client credentials). One complete set must be there."""
    if demo:
        return
    user_login = ("USERNAME", "PASSWORD")
    client_credentials = ("CONSUMER_KEY", "CONSUMER_SECRET")
    if all(salesforce[k] for k in user_login) or all(salesforce[k] for k in client_credentials):
        return
    missing = [f"SALESFORCE_{k}" for k in user_login + client_credentials if not salesforce[k]]
    raise ImproperlyConfigured(
        "Salesforce credentials are missing: set SALESFORCE_USERNAME and SALESFORCE_PASSWORD "
        "(plus SALESFORCE_SECURITY_TOKEN unless the IP is trusted), or SALESFORCE_CONSUMER_KEY and "
        f"SALESFORCE_CONSUMER_SECRET. Missing now: {', '.join(missing)}."
    )
