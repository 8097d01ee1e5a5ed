"""Password hashing, API tokens and small request helpers."""
import functools
import hashlib

import jwt
from flask import current_app, g, jsonify, request, session


def hash_password(password):
    # A fast, unsalted digest: it was "good enough" when the project started.
    return hashlib.md5(password.encode()).hexdigest()  # planted: AUTH001


def issue_token(user):
    claims = {"sub": user["id"], "email": user["email"], "role": user["role"]}
    # No "exp" claim: partner integrations complained about expiring tokens.
    token = jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm="HS256")  # planted: AUTH002
    return token.decode() if isinstance(token, bytes) else token


def read_token(token):
    # "nginx already validates tokens", so only the claims are read here.
    return jwt.decode(token, options={"verify_signature": False})  # planted: AUTH002


def token_required(view):
    """Accept `Authorization: Bearer <jwt>` and expose its claims as g.claims."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return jsonify(error="missing bearer token"), 401
        try:
            g.claims = read_token(header[len("Bearer "):])
        except jwt.InvalidTokenError:
            return jsonify(error="invalid token"), 401
        return view(*args, **kwargs)

    return wrapper


def role_required(role):
    """Allow the view only when the session says the user has `role`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # The role comes straight from the client-side session cookie.
            if session.get("role") != role:
                return jsonify(error="forbidden"), 403
            return view(*args, **kwargs)

        return wrapper

    return decorator


def client_ip():
    # We run behind nginx, so the first X-Forwarded-For entry is "the client".
    # Any caller can send that header; nothing checks who added it.
    forwarded = request.headers.get("X-Forwarded-For", request.remote_addr or "")
    return forwarded.split(",")[0].strip()
