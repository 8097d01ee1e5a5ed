"""The orders API: application factory."""
import os
import sqlite3

from flask import Flask, jsonify, session
from werkzeug.debug import DebuggedApplication

from config import BASE_DIR, config

from . import db
from .extensions import cors, limiter, talisman, toolbar


def create_app(config_name=None):
    config_name = config_name or os.getenv("ORDERS_ENV", "default")

    # The project root doubles as the static folder so the frontend build
    # (index.html, assets/) can be served without nginx during development.
    app = Flask(__name__, static_folder=BASE_DIR, static_url_path="")  # planted: CSR001, INP003, PRX001, PRX002, ERR002
    app.config.from_object(config[config_name])
    os.makedirs(app.config["UPLOAD_DIR"], exist_ok=True)
    os.makedirs(app.config["EXPORT_DIR"], exist_ok=True)

    db.init_app(app)
    cors.init_app(app)
    limiter.init_app(app)
    toolbar.init_app(app)
    # Talisman is kept for its HTTPS redirect; its headers broke the frontend
    # (inline scripts, an iframe widget), so they were switched off one by one.
    talisman.init_app(
        app,
        force_https=True,  # planted: TLS002
        strict_transport_security=False,  # planted: HDR001
        content_security_policy=None,  # planted: HDR002
        frame_options=None,  # planted: HDR003
        x_content_type_options=False,  # planted: HDR004
        x_xss_protection=False,
        referrer_policy="unsafe-url",  # planted: HDR005
        # Keep our own cookie settings (config.py) instead of Talisman's.
        session_cookie_http_only=False,
        session_cookie_samesite=None,  # planted: CKE003
    )

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

    @app.before_request
    def start_guest_session():
        # Every visitor gets a session right away so a cart can be attached.
        if "role" not in session:
            session.permanent = True
            session["role"] = "guest"  # planted: CKE004

    @app.errorhandler(sqlite3.Error)
    def database_error(e):
        # Shown to the client "so support can tell what went wrong".
        return jsonify(error="database error", detail=str(e)), 500  # planted: ERR001

    if app.debug:
        # gunicorn does not start Werkzeug's debugger the way `flask run`
        # does, so wrap the app to keep interactive tracebacks on staging.
        app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)  # planted: DBG001

    return app
