"""CSRF token, registration, login, logout and the current user."""
import sqlite3

from flask import Blueprint, current_app, jsonify, redirect, request, session
from flask_wtf.csrf import generate_csrf

from ..db import get_db
from ..errors import ApiError
from ..extensions import limiter
from ..schemas import CredentialsSchema, RegisterSchema, load_json
from ..security import (
    account_key,
    burn_password_check,
    current_user,
    failed_response,
    hash_password,
    issue_token,
    login_required,
    safe_next,
    verify_password,
)

auth_bp = Blueprint("auth", __name__)

# Failed logins allowed per client address. Checked by throttle_login(), which
# create_app() registers before CSRFProtect's hook: Flask-Limiter checks route
# decorators only when the view runs, i.e. after every before_request hook, so
# a decorator alone would never see bursts that CSRFProtect rejects first.
LOGIN_LIMIT_PER_IP = "5 per minute"


def throttle_login():
    if request.endpoint == "auth.login":
        with limiter.limit(LOGIN_LIMIT_PER_IP, deduct_when=failed_response):
            pass


def _public(user):
    return {"id": user["id"], "email": user["email"], "role": user["role"]}


@auth_bp.get("/csrf")
def csrf_token():
    # Browser clients fetch a token here and send it back in X-CSRFToken.
    return jsonify(csrf_token=generate_csrf())


@auth_bp.post("/register")
@limiter.limit("3 per hour")
def register():
    data = load_json(RegisterSchema())
    db = get_db()
    try:
        with db:
            db.execute(
                "INSERT INTO users (email, password_hash, role) VALUES (?, ?, 'customer')",
                (data["email"].lower(), hash_password(data["password"])),
            )
    except sqlite3.IntegrityError:
        # Same answer as a new account, so the endpoint cannot be used to
        # find out which e-mail addresses have accounts.
        pass
    return jsonify(status="registered"), 201


@auth_bp.post("/login")
@limiter.limit("20 per hour", key_func=account_key, deduct_when=failed_response)
def login():
    data = load_json(CredentialsSchema())
    user = get_db().execute(
        "SELECT id, email, role, password_hash FROM users WHERE email = ?",
        (data["email"].lower(),),
    ).fetchone()
    if user is None:
        burn_password_check(data["password"])
        user_ok = False
    else:
        user_ok = verify_password(user["password_hash"], data["password"])
    if not user_ok:
        current_app.logger.warning("login failed for %s from %s", data["email"], request.remote_addr)
        raise ApiError(401, "Invalid email or password")

    # A fresh session: nothing from before the login survives, and the
    # cookie carries only the user id (plus Flask-WTF's CSRF secret).
    session.clear()
    session["user_id"] = user["id"]
    session.permanent = True
    return jsonify(
        user=_public(user),
        token=issue_token(user),
        csrf_token=generate_csrf(),
    )


@auth_bp.post("/logout")
@limiter.limit("30 per minute")
@login_required
def logout():
    session.clear()
    # Only same-site paths are followed; anything else lands on "/".
    target = safe_next(request.args.get("next"))
    return redirect(target, code=303)


@auth_bp.get("/me")
@login_required
def me():
    return jsonify(user=_public(current_user()))
