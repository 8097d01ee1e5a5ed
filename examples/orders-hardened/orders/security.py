"""Password hashing, sessions, bearer tokens and access checks."""
import datetime
import functools
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

import jwt
from flask import current_app, g, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import ApiError


def hash_password(password):
    # Werkzeug 3 uses scrypt by default: slow, salted, memory-hard.
    return generate_password_hash(password)


def verify_password(password_hash, password):
    return check_password_hash(password_hash, password)


# Compared against when the e-mail is unknown, so a failed login costs the
# same time whether or not the account exists.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def burn_password_check(password):
    check_password_hash(_DUMMY_HASH, password)


def _jwt_key():
    # A key derived for this one purpose, so a token can never double as a
    # session signature (or the other way round).
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"orders-api-jwt", hashlib.sha256).digest()


def issue_token(user):
    now = datetime.datetime.now(datetime.timezone.utc)
    claims = {
        "sub": str(user["id"]),
        "iss": current_app.config["JWT_ISSUER"],
        "iat": now,
        "exp": now + current_app.config["JWT_LIFETIME"],
    }
    return jwt.encode(claims, _jwt_key(), algorithm="HS256")


def read_token(token):
    return jwt.decode(
        token,
        _jwt_key(),
        algorithms=["HS256"],
        issuer=current_app.config["JWT_ISSUER"],
        options={"require": ["exp", "iat", "sub", "iss"]},
    )


def _load_user(user_id):
    from .db import get_db

    return get_db().execute(
        "SELECT id, email, role FROM users WHERE id = ?", (user_id,)
    ).fetchone()


def current_user():
    """The logged-in user from the session cookie or a bearer token, or None."""
    if "user" in g:
        return g.user
    user = None
    if session.get("user_id") is not None:
        user = _load_user(session["user_id"])
    else:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                claims = read_token(header[len("Bearer "):])
            except jwt.InvalidTokenError:
                claims = None
            if claims is not None:
                user = _load_user(int(claims["sub"]))
    g.user = user
    return user


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            raise ApiError(401, "Authentication required")
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None:
            raise ApiError(401, "Authentication required")
        # The role is read from the database, never from the client.
        if user["role"] != "admin":
            raise ApiError(403, "Forbidden")
        return view(*args, **kwargs)

    return wrapper


def account_key():
    """Rate-limit key for login attempts against one account."""
    data = request.get_json(silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    if isinstance(email, str) and email:
        return "account:" + email.strip().lower()
    return "ip:" + (request.remote_addr or "")


def failed_response(response):
    """deduct_when helper: only failed attempts count against the limit."""
    return response.status_code >= 400


def safe_next(target, default="/"):
    """Return target only if it is a path on this site, else default."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target
