"""Settings for the integration hub, all read through one django-environ `env`.

With nothing set, the hub runs on an embedded default: SQLite under var/ and kombu's filesystem broker, so a new
user needs no server. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis.
Secrets have no defaults unless HUB_DEMO or DEBUG is on; see integration_hub/env.py.
"""
from pathlib import Path

from .env import env, secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("HUB_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
DEMO_MODE = env.bool("HUB_DEMO", default=False)
# Written by a running `make run` (runhub): where its sandboxes listen, so that commands run beside it reach them.
# Read in demo mode only; variables already set win.
DEMO_ENV_FILE = env("HUB_DEMO_ENV_FILE", default=str(VAR_DIR / "demo-sandboxes.env"))
if DEMO_MODE and DEMO_ENV_FILE and Path(DEMO_ENV_FILE).exists():
    env.read_env(DEMO_ENV_FILE, overwrite=False)

SECRET_KEY = secret("SECRET_KEY", demo_default="demo-only-secret-key-never-use-in-production-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if (DEBUG or DEMO_MODE) else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "simple_history",
    "mappings",
    "syncs",
]
if DEMO_MODE:
    # `runhub`, the `sandbox` command and the story: the sandboxes are no part of a production hub.
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "integration_hub.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "integration_hub.wsgi.application"

# SQLite is shared by the web server, the worker and beat: WAL lets readers run beside one writer, and the busy
# timeout makes a writer wait instead of failing with "database is locked". IMMEDIATE transactions take the write
# lock up front, so a read-then-write transaction cannot deadlock against another one.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
    )
elif env.bool("DATABASE_POOL", default=True):
    # One bounded pool of connections per process, shared by its threads: a thread holds a connection only while it
    # talks to the database (syncs/database.py), so a process opens at most DATABASE_POOL_MAX_SIZE connections
    # whatever NetSuite's concurrency limit and however many jobs it runs. docs/production.md has the budget.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django's persistence can't be mixed in
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        # A thread waits this long for a free connection before its query fails (and its batch is retried).
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=60),
        # A connection idle this long is closed (down to min_size), so a quiet worker holds few.
        "max_idle": env.float("DATABASE_POOL_MAX_IDLE", default=60),
    }
else:
    # Without the pool (e.g. behind PgBouncer in transaction mode, which pools for every process), each thread has a
    # connection of its own, kept for DATABASE_CONN_MAX_AGE seconds.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # PgBouncer in transaction mode hands each transaction to any server connection: a cursor that outlives its
    # transaction (QuerySet.iterator() on PostgreSQL) would be lost there.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_BEHIND_PGBOUNCER", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["integration_hub.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGIN_URL = "admin:login"

# --- Production hardening. Off in debug/demo mode, which serves plain HTTP on localhost. ---
_secure = not (DEBUG or DEMO_MODE)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = _secure
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery ---
# The embedded broker is kombu's filesystem transport: no server to install. It never redelivers a task whose worker
# died, so the hub's own tables (pending attempts and a sweeper), not the broker, guarantee that no work is lost.
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # Redis redelivers an unacknowledged task only after the visibility timeout; it must exceed the hard time limit
    # or a long task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None
# A queue name of its own lets several hubs (or test runs) share one Redis without taking each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="hub")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Remote systems ---
SALESFORCE = {
    "DOMAIN": env("SALESFORCE_DOMAIN", default="login"),
    "INSTANCE_URL": env("SALESFORCE_INSTANCE_URL", default=""),
    "API_VERSION": env("SALESFORCE_API_VERSION", default="59.0"),
    "USERNAME": secret("SALESFORCE_USERNAME", demo_default="integration@hub.sandbox", required=False),
    "PASSWORD": secret("SALESFORCE_PASSWORD", demo_default="sandbox-password", required=False),
    "SECURITY_TOKEN": secret("SALESFORCE_SECURITY_TOKEN", demo_default="SANDBOXTOKEN", required=False),
    "CONSUMER_KEY": secret("SALESFORCE_CONSUMER_KEY", demo_default="hub-sandbox-consumer-key", required=False),
    "CONSUMER_SECRET": secret("SALESFORCE_CONSUMER_SECRET", demo_default="hub-sandbox-consumer-secret", required=False),
    # The connected app's private key (PEM) for the OAuth 2.0 JWT bearer flow; SALESFORCE_PRIVATE_KEY_FILE names a
    # file holding it instead. With the consumer key and username it is the login the hub uses.
    "PRIVATE_KEY": secret("SALESFORCE_PRIVATE_KEY", required=False),
    # A CA bundle for a private certificate, such as the Salesforce sandbox's self-signed one.
    "CA_BUNDLE": env("SALESFORCE_CA_BUNDLE", default=""),
    # Where logins go instead of https://{domain}.salesforce.com, e.g. the Salesforce sandbox.
    "LOGIN_URL": env("SALESFORCE_LOGIN_URL", default=""),
    "TIMEOUT": env.float("SALESFORCE_TIMEOUT", default=60.0),
    # The org's id (15 or 18 characters), which every outbound message must carry; empty: asked of Salesforce once.
    "ORGANIZATION_ID": env("SALESFORCE_ORGANIZATION_ID", default=""),
}
# The secret part of the outbound-message endpoint's URL (/hooks/salesforce/outbound/<token>/); empty turns the
# endpoint off (the schedule alone moves changes). See docs/production.md.
HUB_OUTBOUND_TOKEN = secret("HUB_OUTBOUND_TOKEN", required=False)
# NetSuite is reached over SuiteTalk REST with OAuth 2.0 client credentials (machine to machine), or over SuiteTalk
# SOAP with token-based authentication until Oracle retires SOAP (2028.2). Each transport needs only its own secrets.
_netsuite_transport = env("NETSUITE_TRANSPORT", default="rest").strip().lower()
if _netsuite_transport not in ("rest", "soap"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"NETSUITE_TRANSPORT is {_netsuite_transport!r}: set it to rest or soap.")
_on_soap, _on_rest = _netsuite_transport == "soap", _netsuite_transport == "rest"
NETSUITE = {
    "TRANSPORT": _netsuite_transport,
    "ACCOUNT": secret("NETSUITE_ACCOUNT", demo_default="TSTDRV1234567"),
    # REST: the integration record's client id, the certificate id of the OAuth 2.0 Client Credentials (M2M) Setup
    # mapping, and the private key (PEM, RSA or EC) whose certificate was uploaded there.
    "CLIENT_ID": secret("NETSUITE_CLIENT_ID", demo_default="hub-sandbox-client-id", required=_on_rest),
    "CERTIFICATE_ID": secret("NETSUITE_CERTIFICATE_ID", demo_default="hub-sandbox-certificate-id", required=_on_rest),
    "PRIVATE_KEY": secret("NETSUITE_PRIVATE_KEY", required=_on_rest),
    # The REST services' base URL; by default the account's own host.
    "REST_URL": env("NETSUITE_REST_URL", default=""),
    # A CA bundle for a private certificate (TLS is always verified).
    "CA_BUNDLE": env("NETSUITE_CA_BUNDLE", default=""),
    # The time zone SuiteQL answers dates in: the integration role's user's preference (Set Preferences > Time Zone).
    "TIME_ZONE": env("NETSUITE_TIME_ZONE", default="America/Los_Angeles"),
    # SOAP: token-based authentication and Oracle's WSDL.
    "CONSUMER_KEY": secret("NETSUITE_CONSUMER_KEY", demo_default="hub-sandbox-consumer-key", required=_on_soap),
    "CONSUMER_SECRET": secret("NETSUITE_CONSUMER_SECRET", demo_default="hub-sandbox-consumer-secret", required=_on_soap),
    "TOKEN_ID": secret("NETSUITE_TOKEN_ID", demo_default="hub-sandbox-token-id", required=_on_soap),
    "TOKEN_SECRET": secret("NETSUITE_TOKEN_SECRET", demo_default="hub-sandbox-token-secret", required=_on_soap),
    "WSDL": env("NETSUITE_WSDL", default="https://webservices.netsuite.com/wsdl/v2023_2_0/netsuite.wsdl"),
    "ENDPOINT": env("NETSUITE_ENDPOINT", default=""),
    "TIMEOUT": env.float("NETSUITE_TIMEOUT", default=120.0),
    # REST: how long a batch job NetSuite took on is waited for (it may queue for the account's async processors);
    # part of HUB_ATTEMPT_HOLD_SECONDS' default. A job not done by then is asked for again on the record's next try.
    "ASYNC_WAIT": env.float("NETSUITE_ASYNC_WAIT_SECONDS", default=300.0),
    # The account's concurrency limit, shared by every worker on every machine (Standard tier: 5).
    "CONCURRENCY_LIMIT": env.int("NETSUITE_CONCURRENCY_LIMIT", default=5),
    # Where the slots of that budget live: Redis shares them across machines; without it, lock files under var/.
    "SEMAPHORE_URL": env("NETSUITE_SEMAPHORE_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""),
}

# --- Sync engine ---
HUB_WATERMARK_OVERLAP_SECONDS = env.int("HUB_WATERMARK_OVERLAP_SECONDS", default=120)
HUB_NETSUITE_PAGE_SIZE = env.int("HUB_NETSUITE_PAGE_SIZE", default=1000)  # searchPreferences.pageSize, 5–1000
# The share of NetSuite's concurrency limit one pull reads pages with (syncs/jobs/pulls.py pull_pages_at_once).
HUB_PULL_BUDGET_SHARE = env.float("HUB_PULL_BUDGET_SHARE", default=0.4)
HUB_RETRY_BASE_SECONDS = env.float("HUB_RETRY_BASE_SECONDS", default=30)
HUB_RETRY_MAX_SECONDS = env.float("HUB_RETRY_MAX_SECONDS", default=3600)
# A remote system's breaker opens after this many whole-request faults in a row, for a cool-down that starts at
# the base and doubles with each failed probe up to the max (syncs/breakers.py).
HUB_BREAKER_THRESHOLD = env.int("HUB_BREAKER_THRESHOLD", default=5)
HUB_BREAKER_BASE_SECONDS = env.float("HUB_BREAKER_BASE_SECONDS", default=30)
HUB_BREAKER_MAX_SECONDS = env.float("HUB_BREAKER_MAX_SECONDS", default=600)
HUB_PARENT_WAIT_SECONDS = env.float("HUB_PARENT_WAIT_SECONDS", default=60)
# A claimed attempt or a job's run is someone else's to take over once its lease runs out without renewal. Both are
# renewed every third of their lease while their holder works (syncs/attempt_leases.py, syncs/engine.py), so a dead
# worker's tries come back about one attempt lease after it died. A renewal that waits out SQLite's busy timeout
# (30 s) still lands before a 60 s lease runs out.
HUB_ATTEMPT_LEASE_SECONDS = env.int("HUB_ATTEMPT_LEASE_SECONDS", default=60)
HUB_RUN_LEASE_SECONDS = env.int("HUB_RUN_LEASE_SECONDS", default=300)
# A batch that holds its tries longer than this is stuck (its worker alive but hung): their leases are no longer
# renewed and run out. The default is what the code lets a batch take: its lookup before writing and its write, each
# a NetSuite timeout plus about as long waiting for a concurrency slot (twice as many senders as slots, and a slot is
# held for one exchange), and on REST the wait for the batch's async job.
HUB_ATTEMPT_HOLD_SECONDS = env.float(
    "HUB_ATTEMPT_HOLD_SECONDS", default=4 * NETSUITE["TIMEOUT"] + (NETSUITE["ASYNC_WAIT"] if _on_rest else 0))
# A push run's sending is spread over this many worker processes, its own included (syncs/sending.py): set it to
# the worker processes the hub has (PostgreSQL and Redis); 1 on the embedded default.
HUB_SEND_WORKERS = env.int("HUB_SEND_WORKERS", default=1)
# Jobs pause when fewer than this share of Salesforce's daily API requests is left.
HUB_SALESFORCE_API_RESERVE_PERCENT = env.float("HUB_SALESFORCE_API_RESERVE_PERCENT", default=10)

# --- Alerts and metrics ---
# Email goes through Django's backend, configured by one URL (smtp+tls://user:password@host:587, consolemail:// …).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="integration-hub@localhost")
# A Slack-compatible incoming webhook that gets every alert (empty: email only). It carries a secret in its path.
HUB_ALERT_WEBHOOK_URL = secret("HUB_ALERT_WEBHOOK_URL", required=False)
# At most one digest of new failures per job in this many minutes; a lasting condition is told again after the other.
HUB_ALERT_DIGEST_MINUTES = env.int("HUB_ALERT_DIGEST_MINUTES", default=15)
HUB_ALERT_REPEAT_MINUTES = env.int("HUB_ALERT_REPEAT_MINUTES", default=240)
# Where people reach the console, for the links in alerts (e.g. https://hub.example.com).
HUB_BASE_URL = env("HUB_BASE_URL", default="")
# The bearer token /metrics asks for; without one, /metrics answers 404.
HUB_METRICS_TOKEN = secret("HUB_METRICS_TOKEN", required=False)

# Salesforce needs the JWT bearer flow, OAuth client credentials or (retiring) a username/password login; see
# integration_hub/env.py.
from .env import require_salesforce_credentials  # noqa: E402

require_salesforce_credentials(SALESFORCE, demo=DEMO_MODE or DEBUG)

# LOG_FORMAT=json makes every line a JSON object; the attempt outcomes (logger hub.attempts) are JSON lines always,
# one per attempt, for log pipelines to count and alert on.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "integration_hub.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env("LOG_FORMAT", default="plain")},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "hub.attempts": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "zeep": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# Static files are served by WhiteNoise, so the admin looks right without a separate web server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or DEMO_MODE
