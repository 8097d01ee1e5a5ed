"""The orders API: application factory."""
import os
import secrets

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config

from . import db, errors
from .extensions import cors, csrf, limiter, talisman

# Tight policy for an API with a few server-rendered pages: no inline script
# or style, nothing from other origins, no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

PERMISSIONS_POLICY = {
    "geolocation": "()",
    "microphone": "()",
    "camera": "()",
    "browsing-topics": "()",
}


def _require_settings(app):
    """Refuse to start with a missing secret or deployment setting."""
    if not app.config.get("SECRET_KEY") and not app.config.get("TESTING"):
        raise RuntimeError("SECRET_KEY environment variable is required")
    if not app.config.get("SECRET_KEY"):
        # Tests get a throw-away random key, never a fixed one.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    if not app.config.get("RATELIMIT_STORAGE_URI") and not app.config.get("TESTING"):
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI environment variable is required "
            "(e.g. redis://127.0.0.1:6379/0)"
        )
    if not app.config.get("TRUSTED_HOSTS") and not app.config.get("TESTING"):
        raise RuntimeError("ALLOWED_HOSTS environment variable is required")


def create_app(config_name=None):
    config_name = config_name or os.environ.get("ORDERS_ENV", "production")

    app = Flask(__name__)
    app.config.from_object(config[config_name])
    _require_settings(app)

    # Trust X-Forwarded-For/-Proto/-Host exactly as far as real proxies go
    # (PROXY_HOPS: nginx in production), so request.remote_addr, request.scheme
    # and request.host describe the real client. With no proxy in front, the
    # headers come from the client and are ignored.
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    for folder in ("UPLOAD_DIR", "EXPORT_DIR"):
        os.makedirs(app.config[folder], exist_ok=True)
    db.init_app(app)

    # Hooks run in registration order: the login throttle must come before
    # CSRFProtect's check, so a login burst gets 429 even without CSRF tokens.
    from .api.auth import throttle_login

    limiter.init_app(app)
    app.before_request(throttle_login)
    csrf.init_app(app)
    if app.config["CORS_ORIGINS"]:
        cors.init_app(
            app,
            origins=app.config["CORS_ORIGINS"],
            supports_credentials=True,
            methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Content-Type", "X-CSRFToken", "Authorization"],
            max_age=600,
        )
    # TLS ends at nginx, which forwards X-Forwarded-Proto; nginx also does the
    # http -> https redirect, so Talisman must not (it would loop).
    talisman.init_app(
        app,
        force_https=False,
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        strict_transport_security_include_subdomains=True,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        session_cookie_secure=True,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )

    @app.after_request
    def isolation_headers(response):
        # Cross-origin isolation for the HTML pages (Talisman does not set these).
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    errors.register(app)

    from .api import api_bp
    from .api.admin import admin_bp
    from .api.auth import auth_bp
    from .api.files import files_bp
    from .api.orders import orders_bp
    from .pages import pages_bp

    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(auth_bp, url_prefix="/api/auth")
    app.register_blueprint(orders_bp, url_prefix="/api/orders")
    app.register_blueprint(files_bp, url_prefix="/api/files")
    app.register_blueprint(admin_bp, url_prefix="/api/admin")
    app.register_blueprint(pages_bp)

    return app
