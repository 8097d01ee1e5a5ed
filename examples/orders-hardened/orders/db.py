"""SQLite access: one connection per request, schema created at startup."""
import os
import sqlite3

from flask import current_app, g

from .security import hash_password

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'customer'
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id)
);
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY,
    original_name TEXT NOT NULL,
    stored_name TEXT UNIQUE NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id)
);
"""

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
    """Create the tables and demo rows; safe to run from every worker."""
    path = app.config["DATABASE_PATH"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Demo accounts only exist when their password is given at start-up, so
    # no credential lives in the source tree.
    demo_password = os.environ.get("ORDERS_DEMO_PASSWORD")
    conn = connect(path)
    try:
        with conn:
            conn.executescript(SCHEMA)
            conn.executemany(
                "INSERT OR IGNORE INTO orders (id, customer, item, quantity, status, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                DEMO_ORDERS,
            )
            if demo_password:
                for email, role in (("alice@example.com", "admin"), ("bob@example.com", "customer")):
                    exists = conn.execute(
                        "SELECT 1 FROM users WHERE email = ?", (email,)
                    ).fetchone()
                    if not exists:
                        conn.execute(
                            "INSERT OR IGNORE INTO users (email, password_hash, role)"
                            " VALUES (?, ?, ?)",
                            (email, hash_password(demo_password), role),
                        )
    finally:
        conn.close()
    app.teardown_appcontext(close_db)
