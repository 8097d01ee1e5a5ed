"""Configuration classes for the orders API.

create_app() picks one of them through the ORDERS_ENV environment variable
(see the ``config`` mapping at the bottom). The file sits at the project root,
next to wsgi.py, the way many Flask tutorials lay a project out.
"""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


class Config:
    """Settings shared by every environment (ProductionConfig inherits them)."""

    # "Only used locally": the development key everyone copies from the docs.
    SECRET_KEY = "dev-secret-key-1234"  # planted: KEY001, KEY002
    # Turned on while chasing a bug on staging and never turned off again.
    # Every subclass, ProductionConfig included, inherits it.
    DEBUG = True  # planted: DBG001

    DATABASE_PATH = os.environ.get(
        "ORDERS_DB", os.path.join(BASE_DIR, "instance", "orders.db")
    )
    UPLOAD_DIR = os.path.join(BASE_DIR, "uploads")
    EXPORT_DIR = os.path.join(BASE_DIR, "exports")

    # The single-page frontend runs on http://localhost:5173 in development
    # and reads the session cookie from JavaScript, so the cookie has to work
    # over plain HTTP and stay visible to scripts.
    SESSION_COOKIE_SECURE = False  # planted: CKE001
    SESSION_COOKIE_HTTPONLY = False  # planted: CKE002
    # Nobody likes logging in again.
    PERMANENT_SESSION_LIFETIME = timedelta(days=90)  # planted: CKE006

    # The toolbar would otherwise swallow every redirect into its own page.
    DEBUG_TB_INTERCEPT_REDIRECTS = False
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    TEMPLATES_AUTO_RELOAD = True


class TestingConfig(Config):
    TESTING = True


class ProductionConfig(Config):
    # Read from the environment, with a fallback "so the container starts".
    SECRET_KEY = os.getenv("SECRET_KEY", "change-me")  # planted: KEY002, KEY003
    # Copied from a blog post to get tracebacks into the error tracker.
    PROPAGATE_EXCEPTIONS = True  # planted: DBG004


config = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
    "default": DevelopmentConfig,
}
