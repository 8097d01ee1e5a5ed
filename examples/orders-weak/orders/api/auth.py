"""Login, logout and "who am I" for the browser app and API clients."""
from flask import Blueprint, g, jsonify, redirect, request, session

from ..db import get_db
from ..security import client_ip, hash_password, issue_token, token_required

auth_bp = Blueprint("auth", __name__)


@auth_bp.post("/register")
def register():  # planted: RL003
    data = request.get_json()  # planted: INP001, INP002
    email = data["email"]
    password = data["password"]
    db = get_db()
    with db:
        db.execute(
            "INSERT INTO users (email, password_hash, role, api_token)"
            " VALUES (?, ?, 'customer', lower(hex(randomblob(16))))",
            (email, hash_password(password)),
        )
    return jsonify(email=email), 201


@auth_bp.post("/login")
def login():  # planted: RL003
    data = request.get_json()  # planted: INP001, INP002
    email = data.get("email", "")
    password_hash = hash_password(data.get("password", ""))
    user = get_db().execute(f"SELECT id, email, role, api_token FROM users WHERE email = '{email}' AND password_hash = '{password_hash}'").fetchone()  # planted: INJ001
    if user is None:
        return jsonify(error="invalid email or password"), 401

    # The guest session from before the login is kept and extended.
    session["user_id"] = user["id"]  # planted: CKE005
    session["role"] = user["role"]  # planted: CKE004
    session["api_token"] = user["api_token"]  # planted: CKE004
    session.permanent = True
    return jsonify(
        user={"id": user["id"], "email": user["email"], "role": user["role"]},
        token=issue_token(user),
    )


@auth_bp.get("/logout")
def logout():
    session.clear()
    # ?next= lets the frontend decide where to land after logging out.
    return redirect(request.args.get("next", "/"))  # planted: INJ005


@auth_bp.get("/whoami")
def whoami():
    return jsonify(
        ip=client_ip(),
        user_id=session.get("user_id"),
        role=session.get("role"),
    )


@auth_bp.get("/me")
@token_required
def me():
    return jsonify(claims=g.claims)
