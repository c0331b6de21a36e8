"""Settings for the platform, read from the environment.

With no environment at all this gives the embedded mode (SQLite, in-memory channel
layer, files under ./var); production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ...
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment; in embedded mode one generated once and kept in var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "core",
    "archive",
    "trading",
    "bidding",
    "experts",
    "monitoring",
    "supervision",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- data ---------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so the one Daphne process and management commands coexist.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 times socket reads out after 5 s, exactly the layer's blocking receive: an idle
            # consumer would then crash (1011). A longer read timeout keeps quiet halls connected.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "capacity": 2000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # embedded mode serves static files without collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Production: bid ciphertext, documents and archives on S3-compatible object storage (django-storages).
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", ""),
            # Content-addressed names: the same name always holds the same bytes.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
# Keys of the platform CA and the platform signing key live here (never in the repo).
KEYS_DIR = Path(os.environ.get("KEYS_DIR", VAR_DIR / "keys"))

# --- accounts and security ------------------------------------------------------------
AUTH_USER_MODEL = "trading.User"
LOGIN_URL = "trading:login"
LOGIN_REDIRECT_URL = "trading:workbench"
LOGOUT_REDIRECT_URL = "portal:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lock-out after repeated failed logins [S]: configurable.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))

# Secure by default; `make run` serves plain HTTP on loopback and sets SECURE_COOKIES=0.
SECURE_COOKIES = env_bool("SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # the browser client reads it for fetch() calls
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- i18n: Chinese by default, English complete ---------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "公共资源交易电子招投标平台 API",
    "DESCRIPTION": "Open data and platform API. Errors carry a stable `code`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "EntityKindEnum": "trading.models.EntityKind",
        "EntityStatusEnum": "trading.models.EntityStatus",
        "AnnouncementKindEnum": "trading.models.AnnouncementKind",
        "LotStatusEnum": "trading.models.Lot.Status",
    },
}
# Open data: the publisher's registered OCDS prefix and the data licence.
OCDS_PREFIX = os.environ.get("OCDS_PREFIX", "ocds-gjxx00")
OCDS_LICENSE = os.environ.get("OCDS_LICENSE", "https://creativecommons.org/licenses/by/4.0/")

# --- platform -------------------------------------------------------------------------
# The operator's USCC: the first 18 characters of every unified transaction code (DOMAIN F2).
PLATFORM_OPERATOR_USCC = os.environ.get("PLATFORM_OPERATOR_USCC", "12450000MB0Y95706Y")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "公共资源交易平台")
PLATFORM_REGION = os.environ.get("PLATFORM_REGION", "450000")
# Rich-text limits for agency HTML.
ANNOUNCEMENT_MAX_HTML_BYTES = int(os.environ.get("ANNOUNCEMENT_MAX_HTML_BYTES", str(256 * 1024)))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(50 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}


# Legal-rule defaults that are [S]/[G] in DOMAIN, as JSON objects in the environment:
# TRADING_RULES (trading/rules/base.py), e.g. {"tb_holiday_rolls": false}; EXPERT_RULES
# (experts/rules.py: draw limits, reply window, outlier and low-price thresholds…), e.g.
# {"same_employer_limit": 2, "age_cap": 65}; and working-calendar corrections on top of the
# `holidays` package: {"holidays": ["2027-10-08"], "workdays": ["2027-09-26"]}.
def _json_setting(name: str) -> dict:
    value = json.loads(os.environ.get(name) or "{}")
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object")
    return value


TRADING_RULES: dict = _json_setting("TRADING_RULES")
EXPERT_RULES: dict = _json_setting("EXPERT_RULES")
WORKING_CALENDAR_OVERRIDES: dict = _json_setting("WORKING_CALENDAR_OVERRIDES")
# Collusion monitoring (monitoring/rules.py DEFAULTS: thresholds, weights, alert levels), e.g.
# {"alert_low": 0.6, "regular_min_bids": 4}; the market batch's period in minutes; the largest bid
# document whose text is extracted for the similarity check.
MONITORING_RULES: dict = _json_setting("MONITORING_RULES")
MONITORING_BATCH_MINUTES = float(os.environ.get("MONITORING_BATCH_MINUTES", "60"))
MONITORING_TEXT_MAX_BYTES = int(os.environ.get("MONITORING_TEXT_MAX_BYTES", str(20 * 1024 * 1024)))
# The electronic archive (archive/rules.py): retention in years per regime, "permanent" allowed; GP may
# not go below 15 years (政府采购法42) and TB keeps the same floor (DOMAIN E2), e.g. {"TB": 30, "GP": 15}.
# The platform key signs packages and roots through ARCHIVE_SIGNER; a new root is published every
# ARCHIVE_ROOT_MINUTES by the worker; a finished project is due for archiving ARCHIVE_DUE_DAYS after it
# ends (E3: within 30 days).
ARCHIVE_RETENTION: dict = _json_setting("ARCHIVE_RETENTION")
ARCHIVE_SIGNER = os.environ.get("ARCHIVE_SIGNER", "trading.pki.ca.archive_signer")
ARCHIVE_ROOT_MINUTES = float(os.environ.get("ARCHIVE_ROOT_MINUTES", "60"))
ARCHIVE_DUE_DAYS = int(os.environ.get("ARCHIVE_DUE_DAYS", "30"))

# Supervision (issue 7): a regulator sees and acts on the tenders of its departments. A regulator account
# attached to no department sees nothing ("none", the default) or every tender ("all": a platform-wide
# supervision office, and the test suite's regulators that predate departments).
SUPERVISION_UNATTACHED_REGULATORS = os.environ.get("SUPERVISION_UNATTACHED_REGULATORS", "none")
if SUPERVISION_UNATTACHED_REGULATORS not in {"none", "all"}:
    raise ImproperlyConfigured("SUPERVISION_UNATTACHED_REGULATORS must be 'none' or 'all'")

# Absolute base URL of the platform (https://ggzy.example.gov.cn), used where a link leaves
# the site: the CRL distribution point in certificates, OCDS URIs, feeds.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Certificates: validity of bidder certificates (days) and of login challenges (seconds).
PKI_CERT_DAYS = int(os.environ.get("PKI_CERT_DAYS", "730"))
PKI_CHALLENGE_SECONDS = int(os.environ.get("PKI_CHALLENGE_SECONDS", "120"))

# Shared cache (rate limits): Redis when REDIS_URL is set, so every process counts together.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "gj"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Requests per window (seconds) per client address for endpoints anyone can reach.
RATE_LIMITS = {
    "login": os.environ.get("RATE_LIMIT_LOGIN", "30/600"),
    "key_login": os.environ.get("RATE_LIMIT_KEY_LOGIN", "30/600"),
    "challenge": os.environ.get("RATE_LIMIT_CHALLENGE", "60/600"),
    "register": os.environ.get("RATE_LIMIT_REGISTER", "10/3600"),
    "tipoff": os.environ.get("RATE_LIMIT_TIPOFF", "10/3600"),
    "tipoff_follow": os.environ.get("RATE_LIMIT_TIPOFF_FOLLOW", "30/600"),
}
# Who holds shares of a tender's k-of-n opening key (users with an active certificate).
CUSTODIAN_ROLES = ("centre", "regulator", "agency")
# Key files of the demo accounts (written by seed_demo, protected by the demo password).
DEMO_KEYS_DIR = Path(os.environ.get("DEMO_KEYS_DIR", VAR_DIR / "demo-keys"))
