"""SQLite access: one connection per request, schema and demo data at startup."""
import os
import secrets
import sqlite3

from flask import current_app, g

from .security import hash_password

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'customer',
    api_token TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT NOT NULL DEFAULT ''
);
"""

# Demo accounts, documented in the README.
DEMO_USERS = [
    ("alice@example.com", "password123", "admin"),
    ("bob@example.com", "hunter2", "customer"),
]

DEMO_ORDERS = [
    (1, "Alice Liddell", "teapot", 2, "open", "Ring the bell twice"),
    (2, "Bob Builder", "hammer", 1, "shipped", ""),
    (3, "Carol Danvers", "<b>jet fuel</b>", 5, "open", "Leave at the <i>hangar</i>"),
]


def connect(path):
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def get_db():
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE_PATH"])
    return g.db


def close_db(exc=None):
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_app(app):
    """Create the tables and the demo rows; safe to run from every worker."""
    path = app.config["DATABASE_PATH"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = connect(path)
    try:
        with conn:
            conn.executescript(SCHEMA)
            for email, password, role in DEMO_USERS:
                conn.execute(
                    "INSERT OR IGNORE INTO users (email, password_hash, role, api_token)"
                    " VALUES (?, ?, ?, ?)",
                    (email, hash_password(password), role, secrets.token_hex(16)),
                )
            conn.executemany(
                "INSERT OR IGNORE INTO orders (id, customer, item, quantity, status, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                DEMO_ORDERS,
            )
    finally:
        conn.close()
    app.teardown_appcontext(close_db)


def order_to_dict(row):
    return dict(row)
