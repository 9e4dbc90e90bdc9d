"""Handoff settings: one module, every deployment difference comes from the environment.

Defaults are production-safe (DEBUG off, secure cookies, HSTS). `make run` turns DEBUG on and
uses the embedded defaults: SQLite, kombu's filesystem broker and the local fake Vitally.
"""

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files of the embedded default (SQLite, broker queue, beat)

env = environ.Env()
# A developer may keep settings in .env; real deployments use the process environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug"  # noqa: S105  # nosec B105  # DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "handoff.admin_site.PortalAdminConfig",  # django.contrib.admin, asking permissions.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "handoff.common",  # one-time tokens of create forms
    "handoff.people",
    "axes",  # failed password sign-ins, counted per user name and per address
    "handoff.audit",
    "handoff.mail",  # the e-mail outbox: recorded with the change, retried by the worker
    "handoff.accounts",
    "deployments",
    "logs",
    "handoff.closeout",
    # Last: it reads the domain through the other apps' selectors and adds to their pages.
    "vitally_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "handoff.people.sso.SsoFormActionMiddleware",  # Sign out may end at the provider
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "handoff.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "handoff.people.middleware.SessionIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # a locked-out sign-in gets the sign-in page's message
]

ROOT_URLCONF = "handoff.urls"
WSGI_APPLICATION = "handoff.wsgi.application"

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
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'handoff.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = [
    "handoff.people.backends.SignInThrottleBackend",  # django-axes: first, refuses when locked out
    "handoff.people.backends.LocalPasswordBackend",  # passwords, as LOCAL_LOGIN allows
    "handoff.people.sso.SsoBackend",  # the company's identity provider (handoff/people/sso.py)
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:my_work"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True
# One date style on pages, "5 Jan 2027" and "5 Jan 2027, 14:05": see handoff/formats/en/formats.py.
FORMAT_MODULE_PATH = ["handoff.formats"]
from handoff.formats.en.formats import (  # noqa: E402, F401
    DATE_FORMAT,
    DATETIME_FORMAT,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
    TIME_FORMAT,
)

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names in production (needs collectstatic); plain files otherwise.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security: production-safe unless DEBUG is on -------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: templates load static files only (htmx's inline indicator
# style is turned off by the htmx-config meta tag).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sign-in: the company's identity provider (OpenID Connect), local passwords, sessions -----
# SSO is on when OIDC_ISSUER and OIDC_CLIENT_ID are set. The provider's endpoints and keys come
# from OIDC_ISSUER's discovery document. People are found by issuer + `sub`; the groups claim
# gives their role (OIDC_GROUP_ROLES, JSON {"group": "ie" | "ta" | "manager"}) and staff
# (OIDC_STAFF_GROUPS) at every sign-in.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_STAFF_GROUPS = env.list("OIDC_STAFF_GROUPS", default=[])
OIDC_SIGN_ALGORITHM = env.str("OIDC_SIGN_ALGORITHM", default="RS256")


def _group_roles(raw: str) -> dict[str, str]:
    roles = {"ie", "ta", "manager"}
    message = 'OIDC_GROUP_ROLES is JSON mapping group to role, e.g. {"ce-ie": "ie"}; roles: '
    try:
        value = json.loads(raw or "{}")
    except ValueError as error:
        raise ImproperlyConfigured(message + ", ".join(sorted(roles))) from error
    if not isinstance(value, dict) or not all(
        isinstance(group, str) and role in roles for group, role in value.items()
    ):
        raise ImproperlyConfigured(message + ", ".join(sorted(roles)))
    return value


OIDC_GROUP_ROLES = _group_roles(env.str("OIDC_GROUP_ROLES", default=""))
if OIDC_ISSUER:
    _issuer = urlsplit(OIDC_ISSUER)
    if not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET and (OIDC_GROUP_ROLES or OIDC_STAFF_GROUPS)):
        raise ImproperlyConfigured(
            "OIDC_ISSUER needs OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_GROUP_ROLES."
        )
    if _issuer.scheme != "https" and _issuer.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL (http only on loopback).")

# Password sign-in: for `make run`'s demo people and break-glass superusers. Off, the sign-in
# page shows no password form and only superusers get in with a password (/admin/login/).
LOCAL_LOGIN = env.bool("LOCAL_LOGIN", default=DEBUG)

# Failed password sign-ins (django-axes): after SIGN_IN_FAILURE_LIMIT failures for one user name,
# or from one address, within SIGN_IN_LOCKOUT_MINUTES, that name or address is refused for
# SIGN_IN_LOCKOUT_MINUTES after its last failure (every name counts, whether it exists or not).
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "handoff.people.backends.client_address"
AXES_USERNAME_CALLABLE = "handoff.people.backends.attempted_username"
AXES_LOCKOUT_CALLABLE = "handoff.people.views.sign_in_locked_out"
AXES_ENABLE_ADMIN = False  # `manage.py axes_reset_username NAME` lifts a lockout
AXES_DISABLE_ACCESS_LOG = True  # failures only; failed sign-ins are also in handoff.security
AXES_VERBOSE = False

# A session ends SESSION_LIFETIME_SECONDS after sign-in, or after SESSION_IDLE_SECONDS without a
# request (handoff/people/middleware.py), whichever comes first.
SESSION_COOKIE_AGE = env.int("SESSION_LIFETIME_SECONDS", default=60 * 60 * 12)  # a working day
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=60 * 60 * 2)

# --- Email: console by default so `make run` shows what would be sent ------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Handoff <handoff@localhost>")
# An e-mail the mail server refuses stays in the outbox (mail.OutgoingEmail) and the worker
# tries it again every EMAIL_RETRY_SECONDS, backing off to hourly, up to EMAIL_MAX_ATTEMPTS.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=12)
EMAIL_RETRY_SECONDS = env.int("EMAIL_RETRY_SECONDS", default=60)
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        # kombu's filesystem transport: producers and the worker share one folder, no server.
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        # Exchange tables (remote control): in var/ too, not a stray ./control folder.
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "mail-send-due": {
        "task": "mail.emails_send_due",
        "schedule": EMAIL_RETRY_SECONDS,
    },
    "clear-expired-sessions": {
        "task": "accounts.clear_expired_sessions",
        "schedule": 60 * 60 * 24,
    },
    # One "Update requested" e-mail per owner of stale Issues Log / Risk Log items.
    "logs-stale-digests": {
        "task": "logs.stale_digests_send",
        "schedule": crontab(hour=env.int("LOGS_DIGEST_HOUR", default=7), minute=0),
    },
    # Daily: about three weeks before planned completion, remind the IE and the manager (once)
    # when no technical advisor is assigned or the TA has not acknowledged the account.
    "completion-reminders": {
        "task": "closeout.completion_reminders_send",
        "schedule": crontab(hour=7, minute=0),
    },
}

# --- Logging: one line per record, never secrets (the Vitally client redacts its own) ---------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Product settings --------------------------------------------------------------------------
DASHBOARD_PAGE_SIZE = env.int("DASHBOARD_PAGE_SIZE", default=25)


# Staleness of the Issues Log and Risk Log: an open item not updated within this many days is
# flagged and its owner gets it in the daily digest. Higher severity / band, shorter clock.
# Override with e.g. LOGS_STALE_ISSUE_DAYS="critical=2,high=5" (the other keys keep defaults).
def _stale_days(name: str, default: dict[str, int]) -> dict[str, int]:
    message = f"{name} takes {', '.join(default)} = a whole number of days (at least 1)."
    override = {}
    for item in filter(None, (part.strip() for part in env.str(name, default="").split(","))):
        key, _, days = item.partition("=")
        if key.strip() not in default or not days.strip().isdigit() or int(days) < 1:
            raise ImproperlyConfigured(message)
        override[key.strip()] = int(days)
    return {**default, **override}


LOGS_STALE_ISSUE_DAYS = _stale_days(
    "LOGS_STALE_ISSUE_DAYS", {"critical": 3, "high": 7, "medium": 14, "low": 30}
)
LOGS_STALE_RISK_DAYS = _stale_days(
    "LOGS_STALE_RISK_DAYS", {"critical": 7, "high": 14, "medium": 30, "low": 60}
)


# "Approximately 3 weeks from deployment completion, the Implementation Team should pull in the
# TA": how many days before the planned completion date the one reminder goes out.
HANDOFF_REMINDER_DAYS_BEFORE = env.int("HANDOFF_REMINDER_DAYS_BEFORE", default=21)

# --- Vitally sync --------------------------------------------------------------------------------
# With DEBUG and neither VITALLY_BASE_URL nor VITALLY_API_KEY set, the portal talks to the local
# fake (`manage.py run_fake_vitally`, started by `make run`). Without DEBUG both must be set, else
# the sync is off and the portal says "not configured".
VITALLY_FAKE_URL = "http://127.0.0.1:8765"
VITALLY_FAKE_API_KEY = "sk_demo_fake_vitally"  # noqa: S105  (the local fake's demo key)
_vitally_demo = DEBUG and not (env.str("VITALLY_BASE_URL", "") or env.str("VITALLY_API_KEY", ""))
VITALLY_BASE_URL = env.str("VITALLY_BASE_URL", default=VITALLY_FAKE_URL if _vitally_demo else "")
VITALLY_API_KEY = env.str("VITALLY_API_KEY", default=VITALLY_FAKE_API_KEY if _vitally_demo else "")
# Where people open an account in Vitally's app ("Open in Vitally"): {id} is its Vitally id.
# Take it from your Vitally: open an account and put {id} in place of its id. Empty: no link.
VITALLY_ACCOUNT_URL = env.str(
    "VITALLY_ACCOUNT_URL", default=f"{VITALLY_FAKE_URL}/#account-{{id}}" if _vitally_demo else ""
)
# Shared by every worker and command (Redis when REDIS_URL is set); Vitally allows 1000/min.
VITALLY_RATE_LIMIT_PER_MINUTE = env.int("VITALLY_RATE_LIMIT_PER_MINUTE", default=500)
# JSON, portal field -> trait key: {"total_cpu": "vitally.custom.cpuCores", "open_issues": null}
VITALLY_TRAIT_MAP = env.str("VITALLY_TRAIT_MAP", default="")  # parsed (and checked) by the app
VITALLY_CONNECT_TIMEOUT = env.float("VITALLY_CONNECT_TIMEOUT", default=3.05)
VITALLY_READ_TIMEOUT = env.float("VITALLY_READ_TIMEOUT", default=10.0)
# 5xx, timeouts, connection errors: wait random(0, min(cap, base * 2**(attempts-1))) seconds.
VITALLY_BACKOFF_BASE_SECONDS = env.float("VITALLY_BACKOFF_BASE_SECONDS", default=2.0)
VITALLY_BACKOFF_CAP_SECONDS = env.float("VITALLY_BACKOFF_CAP_SECONDS", default=600.0)
# A push holds a lease on its account; a killed worker's lease lapses after this long.
VITALLY_LEASE_SECONDS = env.float("VITALLY_LEASE_SECONDS", default=60.0)
# At most one PUT per account per this many seconds: a burst of edits becomes one or two PUTs.
VITALLY_COALESCE_SECONDS = env.float("VITALLY_COALESCE_SECONDS", default=2.0)
VITALLY_SWEEP_SECONDS = env.float("VITALLY_SWEEP_SECONDS", default=30.0)
# After this many failures in a row an account shows "Needs attention" and is retried hourly.
VITALLY_QUARANTINE_AFTER = env.int("VITALLY_QUARANTINE_AFTER", default=10)
# While Vitally refuses the API key, one request (a probe) per this many seconds asks again.
VITALLY_KEY_PROBE_SECONDS = env.float("VITALLY_KEY_PROBE_SECONDS", default=60.0)
# Reconcile (vitally_sync/reconcile.py): every linked account is read back from Vitally once per
# this many seconds (0: never) and compared with what the portal had acknowledged there, using
# at most this share of VITALLY_RATE_LIMIT_PER_MINUTE (the reads are paced to it).
# `make run`'s demo (the local fake) reads back every 2 minutes, so a hand edit in the fake shows
# up while one looks; production reads every 6 hours.
VITALLY_RECONCILE_SECONDS = env.float(
    "VITALLY_RECONCILE_SECONDS", default=120.0 if _vitally_demo else 21600.0
)
VITALLY_RECONCILE_SHARE = env.float("VITALLY_RECONCILE_SHARE", default=0.1)
# Beat runs the reconcile this often; each run reads what is due within its share and stops
# before the next, so a pass over many accounts runs in chunks (least recently read first).
VITALLY_RECONCILE_RUN_SECONDS = 60.0
if "vitally_sync" in INSTALLED_APPS:
    CELERY_BEAT_SCHEDULE["vitally-sweep"] = {
        "task": "vitally_sync.sweep",
        "schedule": VITALLY_SWEEP_SECONDS,
    }
    if VITALLY_RECONCILE_SECONDS > 0:
        CELERY_BEAT_SCHEDULE["vitally-reconcile"] = {
            "task": "vitally_sync.reconcile",
            "schedule": min(VITALLY_RECONCILE_SECONDS, VITALLY_RECONCILE_RUN_SECONDS),
        }

# --- Vitally notes (issue 16, item 4; vitally_sync/notes.py) ------------------------------------
# Implementation notes (of these categories: "all", or a comma-separated list of JournalEntry
# categories) and each sign-off go to Vitally as notes. On by default only with the local fake.
VITALLY_NOTES_ENABLED = env.bool("VITALLY_NOTES_ENABLED", default=_vitally_demo)
VITALLY_NOTE_CATEGORIES = env.list("VITALLY_NOTE_CATEGORIES", default=["all"])
if "vitally_sync" in INSTALLED_APPS:
    CELERY_BEAT_SCHEDULE["vitally-notes-sweep"] = {
        "task": "vitally_sync.notes_sweep",
        "schedule": VITALLY_SWEEP_SECONDS,
    }
    if VITALLY_RECONCILE_SECONDS > 0:  # sent notes read back as the accounts are, in one share
        CELERY_BEAT_SCHEDULE["vitally-notes-read-back"] = {
            "task": "vitally_sync.notes_read_back",
            "schedule": min(VITALLY_RECONCILE_SECONDS, VITALLY_RECONCILE_RUN_SECONDS),
        }

# --- Vitally accounts mirror (vitally_sync/mirror.py) ---------------------------------------
# Beat pulls Vitally's accounts (for the account form's search and the import page) this often
# (0: never), incrementally; a full pass when the last is older than VITALLY_MIRROR_FULL_SECONDS.
# The pull uses at most this share of VITALLY_RATE_LIMIT_PER_MINUTE.
VITALLY_MIRROR_SECONDS = env.float("VITALLY_MIRROR_SECONDS", default=300.0)
VITALLY_MIRROR_FULL_SECONDS = env.float("VITALLY_MIRROR_FULL_SECONDS", default=86400.0)
VITALLY_MIRROR_SHARE = env.float("VITALLY_MIRROR_SHARE", default=0.1)
if "vitally_sync" in INSTALLED_APPS and VITALLY_MIRROR_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["vitally-mirror"] = {
        "task": "vitally_sync.mirror_pull",
        "schedule": VITALLY_MIRROR_SECONDS,
    }

# --- Metrics: GET /metrics for Prometheus (vitally_sync/metrics.py) -----------------------------
# Off (404) until set; then a scrape must send `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
