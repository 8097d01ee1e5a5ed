"""Configuration for the orders API.

Every secret and every deployment-specific value comes from the environment;
create_app() refuses to start when a required one is missing (except under
TESTING). See README.md for the list of variables.
"""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


def _env_list(name):
    """Comma-separated environment variable -> list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_count(name, default):
    """Non-negative integer environment variable; a bad value stops the app."""
    raw = os.environ.get(name, str(default)).strip()
    if not raw.isdigit():
        raise RuntimeError(f"{name} must be a whole number >= 0, got {raw!r}")
    return int(raw)


class Config:
    # No fallback value: a missing key stops the app in create_app().
    SECRET_KEY = os.environ.get("SECRET_KEY")
    DEBUG = False
    TESTING = False

    DATABASE_PATH = os.environ.get(
        "ORDERS_DB", os.path.join(BASE_DIR, "instance", "orders.db")
    )
    UPLOAD_DIR = os.environ.get(
        "ORDERS_UPLOAD_DIR", os.path.join(BASE_DIR, "instance", "uploads")
    )
    EXPORT_DIR = os.environ.get(
        "ORDERS_EXPORT_DIR", os.path.join(BASE_DIR, "instance", "exports")
    )
    UPLOAD_EXTENSIONS = {"pdf", "png", "jpg", "jpeg", "txt"}

    # Largest request body accepted (uploads included); bigger ones get a 413.
    MAX_CONTENT_LENGTH = 1024 * 1024

    # Only these Host values are answered (400 otherwise). With ProxyFix the
    # host is the one nginx forwards in X-Forwarded-Host.
    TRUSTED_HOSTS = _env_list("ALLOWED_HOSTS") or None

    # Reverse proxies in front of gunicorn that set X-Forwarded-For/-Proto/-Host:
    # 1 for the nginx of deploy/, 0 when clients reach gunicorn directly.
    # ProxyFix trusts exactly this many hops; one more lets any client pick its
    # own address (and so its own rate-limit bucket), scheme and host.
    PROXY_HOPS = _env_count("PROXY_HOPS", 1)

    # Browser origins allowed to call the API with credentials. Empty: no CORS.
    CORS_ORIGINS = _env_list("CORS_ORIGINS")

    # Cookie session: holds only the user id and Flask-WTF's CSRF secret.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)

    # Shared rate-limit counters (Redis), so all gunicorn workers and all
    # instances count together and restarts do not reset them.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    RATELIMIT_DEFAULT = os.environ.get("RATELIMIT_DEFAULT", "1000 per hour;200 per minute")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "orders"

    # Bearer tokens for read-only API clients.
    JWT_LIFETIME = timedelta(minutes=15)
    JWT_ISSUER = "orders-api"


class ProductionConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True


config = {
    "production": ProductionConfig,
    "testing": TestingConfig,
    "default": ProductionConfig,
}
