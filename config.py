"""Configuration classes. All environment reading of the project happens here.

Pick one with ``create_app("development" | "testing" | "production")`` or the
``APP_ENV`` variable; ``wsgi.py`` always uses production.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL") or default
    # Heroku-style URLs and bare "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings shared by every environment; each one documented in the README."""

    ENV_NAME = "base"
    INSTANCE_PATH = str(INSTANCE)
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE / 'petition.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    if SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        # Per process. A sync gunicorn worker uses one connection at a time, plus one for its
        # mail thread: the README's "Several hosts" counts what PostgreSQL must allow.
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True,  # a server restart drops connections
                                     "pool_size": _int("DATABASE_POOL_SIZE", 2),
                                     "max_overflow": _int("DATABASE_MAX_OVERFLOW", 2),
                                     "pool_timeout": _int("DATABASE_POOL_TIMEOUT", 10),
                                     "pool_recycle": _int("DATABASE_POOL_RECYCLE", 1800)}
    # SQLite only: NORMAL (the default, safe in WAL mode; a power cut may lose the last
    # commits) or FULL (every commit synced to disk, several times slower).
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL")

    # The site's own name (page header, emails not about one platform's letter). An
    # installation from before platforms existed moves its letters into a first
    # platform made from PLATFORM_NAME, PLATFORM_CONTACT_EMAIL, PLATFORM_SLUG and PLATFORM_COUNTRY.
    SITE_NAME = os.environ.get("SITE_NAME") or os.environ.get("PLATFORM_NAME", "Sign-on letters for the OP-ICESCR")
    PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "National Platform for the OP-ICESCR")
    PLATFORM_CONTACT_EMAIL = os.environ.get("PLATFORM_CONTACT_EMAIL")
    PLATFORM_SLUG = os.environ.get("PLATFORM_SLUG", "")
    PLATFORM_COUNTRY = os.environ.get("PLATFORM_COUNTRY", "")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")

    CONFIRM_TOKEN_MAX_AGE = timedelta(days=_int("CONFIRM_TOKEN_MAX_AGE_DAYS", 7))
    WITHDRAW_TOKEN_MAX_AGE = timedelta(days=_int("WITHDRAW_TOKEN_MAX_AGE_DAYS", 365))
    INVITATION_MAX_AGE = timedelta(days=_int("INVITATION_MAX_AGE_DAYS", 7))
    PASSWORD_RESET_MAX_AGE = timedelta(hours=_int("PASSWORD_RESET_MAX_AGE_HOURS", 2))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # "thread": try each new message right after the request commits, in a
    # background thread; "worker": leave everything to `send-mail --watch`.
    MAIL_DELIVERY = os.environ.get("MAIL_DELIVERY", "thread")
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)
    MAIL_RETRY_MAX_SECONDS = _int("MAIL_RETRY_MAX_SECONDS", 6 * 3600)
    MAIL_LEASE_SECONDS = _int("MAIL_LEASE_SECONDS", 300)

    # Background jobs (petition/jobs): `flask worker` runs them; with JOBS_IN_WEB_PROCESS a
    # thread in each web process does too (the development default: `make run` has no worker).
    JOBS_IN_WEB_PROCESS = _bool("JOBS_IN_WEB_PROCESS", False)
    JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 600)  # renewed while a job reports progress
    JOB_MAX_ATTEMPTS = _int("JOB_MAX_ATTEMPTS", 3)
    # The platform's signing key and certificates (petition/signing): never in the database.
    SIGNING_KEY_DIR = os.environ.get("SIGNING_KEY_DIR") or None  # default: instance/signing
    SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE") or None

    # Public pages rendered once for every visitor who sees them the same way (petition/core/cache.py):
    # memory:// (each process its own), redis://host:port/db (shared by processes and hosts), null:// (off).
    CACHE_URL = os.environ.get("CACHE_URL", "memory://")
    PAGE_CACHE_ENTRIES = _int("PAGE_CACHE_ENTRIES", 500)  # per process, with memory://
    PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 3600)  # with redis://
    PAGE_CACHE_MEGABYTES = _int("PAGE_CACHE_MEGABYTES", 64)  # per process, with memory://

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Sites (or test runs) that share one Redis database keep their counters apart with it.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Per client address. Generous: a workshop of CSOs may endorse from one office network.
    ENDORSE_RATE_LIMIT = os.environ.get("ENDORSE_RATE_LIMIT", "60/hour")

    # None: Werkzeug's current default (scrypt in Werkzeug 3); a password hashed
    # another way is hashed again the next time its owner signs in.
    PASSWORD_HASH_METHOD: str | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    HSTS_MAX_AGE: int | None = None  # seconds browsers keep to HTTPS; sent on HTTPS responses only
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 1024 * 1024
    # The public "check a copy" form takes a whole PDF (thousands of endorsers: several MB).
    CHECK_MAX_MEGABYTES = _int("CHECK_MAX_MEGABYTES", 50)
    PUBLIC_PAGE_SIZE = 50
    PROXY_FIX = _int("PROXY_FIX", 0)  # number of reverse proxies in front


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    JOBS_IN_WEB_PROCESS = _bool("JOBS_IN_WEB_PROCESS", True)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    BASE_URL = "https://letters.example.org"
    PLATFORM_CONTACT_EMAIL = "coalition@example.org"
    SITE_NAME = "International Coalition for the OP-ICESCR"
    MAIL_SERVER = None
    MAIL_DEFAULT_SENDER = "National Platform <no-reply@example.org>"
    MAIL_DELIVERY = "worker"
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_URL = "memory://"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: tests hash a password in almost every test


class ProductionConfig(Config):
    ENV_NAME = "production"
    # No default: emailed links must point at the real public address.
    BASE_URL = os.environ.get("BASE_URL", "").rstrip("/")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS_MAX_AGE = 365 * 24 * 3600


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {name!r}: use one of {', '.join(CONFIGS)}") from None


def development_secret_key(instance_path: str) -> str:
    """A key kept in instance/ so development sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
