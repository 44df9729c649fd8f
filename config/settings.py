"""Claimwatch settings: one module, every value from the environment.

With nothing set it runs on a laptop against SQLite; production sets DATABASE_URL, SECRET_KEY
and ALLOWED_HOSTS. See the README's configuration table for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.db_router import replica_databases

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    # An empty variable means "not set": `DATABASE_URL= make run` still gets SQLite.
    return os.environ.get(name) or default


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

INSECURE_SECRET_KEY = "django-insecure-local-development-only"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DEBUG is on.")
    SECRET_KEY = INSECURE_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_countries",
    "simple_history",
    "import_export",
    "csp",
    "axes",
    "claims",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "claims.middleware.MethodMiddleware",
    "csp.middleware.CSPMiddleware",
    "claims.middleware.AdminPolicyMiddleware",
    "claims.middleware.PermissionsPolicyMiddleware",
    "claims.middleware.QueryStringLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: it picks the language from Accept-Language (or
    # Django's language cookie) for every view, the page cache included (claims/cache.py).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # With read replicas: editors and writes read from the primary, others from one replica.
    "config.db_router.ReadsFromOneDatabaseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "claims.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
# Read replicas (docs/deploy.md): public reads go to `replica_1` … `replica_n`, writes, editors'
# requests and the signed-in person's own rows to the primary (config/db_router.py).
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
DATABASES.update(
    replica_databases(
        DATABASE_REPLICA_URLS,
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
)
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# PostgreSQL session settings for every connection. JIT compilation adds seconds to the list's
# facet queries and saves nothing at this size; random_page_cost 1.1 tells the planner the data
# is in RAM or on SSD, so it reads the covering indexes; no parallel workers, whose start-up
# costs more than it saves when every core already serves a request (docs/deploy.md). Empty:
# the server's. Read directly: unlike other variables, empty means "send none" (PgBouncer).
POSTGRES_OPTIONS = os.environ.get(
    "POSTGRES_OPTIONS", "-c jit=off -c random_page_cost=1.1 -c max_parallel_workers_per_gather=0"
)
# A database that is slow or hung must give a quick 503, like one that refuses connections,
# not hold a worker until gunicorn kills it. Connecting (TCP and the server's first answer)
# gives up after DATABASE_CONNECT_TIMEOUT seconds (libpq's least is 2), and the server cancels
# any statement running longer than DATABASE_STATEMENT_TIMEOUT milliseconds (0: no limit;
# with PgBouncer, which refuses startup options, set it on the role instead). Long
# maintenance commands (generate_claims at 100k) may need DATABASE_STATEMENT_TIMEOUT=0.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 2)
# /healthz reports the database down when it has not answered within this many seconds.
HEALTH_CHECK_SECONDS = env_float("HEALTH_CHECK_SECONDS", 1.5)
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 10_000)
_startup_options = POSTGRES_OPTIONS
if DATABASE_STATEMENT_TIMEOUT:
    _startup_options = f"{_startup_options} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT}"
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        if DATABASE_CONNECT_TIMEOUT:
            _options["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
        if _startup_options.strip():
            _options["options"] = _startup_options.strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # A Redis that is down or slow costs at most a second, then the site serves from the
    # database until it is back (claims/redis_cache.py).
    CACHES = {
        "default": {
            "BACKEND": "claims.redis_cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Whole anonymous pages are cached this long (0: off) and browsers and CDNs may keep them for
# PAGE_MAX_AGE seconds; an editor's change invalidates the first at once (claims/cache.py).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300)
PAGE_MAX_AGE = env_int("PAGE_MAX_AGE", 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security: see the README's "Security" section ---------------------------------------

# HTTPS. With DEBUG off the site is HTTPS-only unless told otherwise: plain HTTP is redirected,
# browsers are told to keep to HTTPS for a year (HSTS) and cookies only travel over HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
if env_bool("SECURE_PROXY_SSL_HEADER"):
    # Behind a proxy that terminates TLS and sets X-Forwarded-Proto on every request (never
    # passing on the client's own): without it every request looks like plain HTTP.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Joining the browsers' preload list is a promise that is slow to take back, so it is
    # opt-in, and `check --deploy` is not to nag until the operator makes it.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Response headers. django-csp writes the Content-Security-Policy: scripts, styles and
# everything else from this site only, no inline code, no plugins, never in a frame.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features the site never uses, off for it and anything it might embed
# (claims.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = [
    "accelerometer",
    "camera",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
]

# Requests. Query strings longer than this are answered 414: it is far longer than any link
# the site makes, and it bounds what a search or a filter has to parse. Bodies are bounded by
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) and DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000).
MAX_QUERY_STRING_LENGTH = 4096

# Imports in the admin (claims/resources.py): a file larger than this, or with more rows or
# columns, is refused with a message before it is parsed. The row limit keeps an import
# (preview, then confirm) inside the server's request timeout; docs/faults.md has the figures.
# Rows that become pending revisions (claims/reviewed_resources.py) go one at a time: fewer.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 2_000_000)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 4000)
IMPORT_MAX_REVIEWED_ROWS = env_int("IMPORT_MAX_REVIEWED_ROWS", 300)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 50)

# The admin: at ADMIN_URL, staff only, sessions that expire, and django-axes locking a
# username out from an address after repeated failed logins.
ADMIN_URL = env_str("ADMIN_URL", "admin/").strip("/") + "/"
# Where readers report an error (shown on /method/); none is shown until the operator sets one.
CORRECTIONS_EMAIL = env_str("CORRECTIONS_EMAIL")
if ADMIN_URL == "/":
    raise ImproperlyConfigured("ADMIN_URL must be a path such as admin/ or editors-7f3a/.")
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "locked_out.html"
AXES_CLIENT_IP_CALLABLE = "claims.middleware.client_ip"
# How many reverse proxies in front of the site append to X-Forwarded-For; 0 trusts only the
# connection's own address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Every text for readers and editors goes through gettext; English is the only language so
# far. Another is a translation file in locale/ (`manage.py makemessages -l fr`, then
# `compilemessages`) and a line in LANGUAGES. URLs carry no language prefix, so a shared link
# stays one address: LocaleMiddleware picks the language from Accept-Language, and the page
# cache keys on it (claims/cache.py). British English ("en-gb") keeps Django's en_GB date
# formats, "1 Dec 2026", in the admin; Accept-Language "en" or "en-US" also gets it.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]


def _static_file_headers(headers, path, url):
    # Imported when WhiteNoise first serves a file, not while settings load.
    from claims.middleware import static_file_headers

    static_file_headers(headers, path, url)


# Static files get the CSP and X-Frame-Options too (claims.middleware.static_file_headers).
WHITENOISE_ADD_HEADERS_FUNCTION = _static_file_headers

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
