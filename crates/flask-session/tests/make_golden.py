"""Generate golden Flask session cookies for flaskguard's flask-session tests.

Every Flask cookie here comes out of a real Flask request handled by Flask's own
SecureCookieSessionInterface (or a subclass overriding salt / digest / key
derivation, as apps do), with the signing time pinned so the output is stable.
A few non-Flask itsdangerous formats that share the signer (Starlette's
SessionMiddleware, Flask-Session's signed session IDs) are included for
decode/verify/crack.

    python make_golden.py OUT.json     # needs Flask (and so itsdangerous, markupsafe)

`fixtures/golden.json` is this script's output; regenerate it after changing the
cases and commit both. The Rust test `golden.rs` also runs this script live with an
example app's venv, so the checked-in file cannot drift from real Flask unnoticed.
"""

import base64
import datetime
import hashlib
import json
import sys
import uuid
import zlib

import itsdangerous
import itsdangerous.timed
from flask import Flask, flash, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

TIMESTAMP = 1700000000
LEGACY_TIMESTAMP = 250000000  # what itsdangerous < 1.0 wrote (seconds since 2011)
_now = [TIMESTAMP]
itsdangerous.timed.TimestampSigner.get_timestamp = lambda self: _now[0]

SUPERSET_KEY = b"\2\1thisismyscretkey\1\2\\e\\y\\y\\h"
UNLISTED_KEY = "k9#Qz!unlisted-7f3a-not-in-any-list"


def interface(salt=None, digest=None, derivation=None):
    iface = SecureCookieSessionInterface()
    if salt is not None:
        iface.salt = salt
    if digest is not None:
        iface.digest_method = staticmethod(getattr(hashlib, digest))
    if derivation is not None:
        iface.key_derivation = derivation
    return iface


def flask_cookie(key, fill, iface):
    app = Flask(__name__)
    app.secret_key = key
    app.session_interface = iface

    @app.route("/")
    def index():
        fill()
        return ""

    with app.test_client() as client:
        response = client.get("/")
        header = response.headers["Set-Cookie"]
    value = header.split(";", 1)[0].split("=", 1)[1]
    serializer = iface.get_signing_serializer(app)
    return value, serializer.loads(value)


def wire_json(cookie):
    payload = cookie.rsplit(".", 2)[0]
    compressed = payload.startswith(".")
    data = itsdangerous.base64_decode(payload[1:] if compressed else payload)
    if compressed:
        data = zlib.decompress(data)
    return json.loads(data), compressed


def readable(value):
    """What flaskguard's decoder is documented to show for a loaded Python value."""
    if isinstance(value, (tuple, list)):
        return [readable(v) for v in value]
    if isinstance(value, dict):
        return {k: readable(v) for k, v in value.items()}
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "".join(
                "\\\\" if b == 92 else chr(b) if 32 <= b <= 126 else "\\x%02x" % b for b in value
            )
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def params(iface):
    return {
        "salt": iface.salt,
        "key_derivation": iface.key_derivation,
        "digest": iface.digest_method().name,
    }


def key_fields(key):
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return {"key_hex": raw.hex()}


PAYLOADS = {
    "plain": lambda: session.update(user_id=42, role="admin"),
    "flask-login": lambda: session.update(
        _user_id="1",
        _fresh=True,
        _id=hashlib.sha512(b"127.0.0.1|werkzeug").hexdigest(),
        csrf_token="5f0b1e8f9d2a4c6b8e0f1a2b3c4d5e6f7a8b9c0d",
    ),
    "flashes": lambda: (flash("Logged in"), flash("Careful", "warning")),
    "tagged": lambda: session.update(
        pair=(1, "two"),
        raw=b"\x00\xffbinary\\",
        text_bytes="héllo".encode(),
        when=datetime.datetime(2024, 2, 29, 13, 37, 1, 999, tzinfo=datetime.timezone.utc),
        html=Markup("<b>bold</b> &amp;"),
        ident=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        tagkey={" t": [1, 2]},
        nested=[{"deep": ({"x": b"y"},)}],
    ),
    "non-ascii": lambda: session.update(name="Zoë ☃ 😀", city="Zürich", quote='say "hi"\n\ttab'),
    "numbers": lambda: session.update(ratio=0.1, big=1e16, tiny=1.5e-7, neg=-5, huge=2**62, whole=3.0),
    "key-order": lambda: session.update(b=1, a=2, _=3, Z=4, **{"é": 5, " t": 6}),
    "large-compressed": lambda: session.update(
        cart=[{"sku": "SKU-%04d" % i, "qty": i % 3 + 1, "note": "same note"} for i in range(60)],
        api_token="sk-live-0123456789abcdef0123456789abcdef",
    ),
    "permanent": lambda: (session.update(is_admin=False, email="a@example.com"), setattr(session, "permanent", True)),
}

FLASK_CASES = [
    # (name, key, payload, interface kwargs, timestamp)
    ("plain-dev", "dev", "plain", {}, TIMESTAMP),
    ("flask-login-mysecretkey", "mysecretkey", "flask-login", {}, TIMESTAMP),
    ("flashes-change-me", "change-me", "flashes", {}, TIMESTAMP),
    ("tagged-unlisted", UNLISTED_KEY, "tagged", {}, TIMESTAMP),
    ("non-ascii-unicode-key", "clé-secrète-☃", "non-ascii", {}, TIMESTAMP),
    ("numbers-dev", "dev", "numbers", {}, TIMESTAMP),
    ("key-order-dev", "dev", "key-order", {}, TIMESTAMP),
    ("large-compressed-dev-secret", "dev-secret-key-1234", "large-compressed", {}, TIMESTAMP),
    ("permanent-superset", SUPERSET_KEY, "permanent", {}, TIMESTAMP),
    ("legacy-timestamp", "dev", "plain", {}, LEGACY_TIMESTAMP),
    ("sha256-custom-salt", "my-secret", "plain", {"salt": "my-app-session", "digest": "sha256"}, TIMESTAMP),
    ("sha512-concat", "you-will-never-guess", "tagged", {"digest": "sha512", "derivation": "concat"}, TIMESTAMP),
    ("django-concat-sha1", "secret", "plain", {"salt": "itsdangerous", "derivation": "django-concat"}, TIMESTAMP),
    ("none-sha384", "hard to guess string", "plain", {"digest": "sha384", "derivation": "none"}, TIMESTAMP),
    ("sha224-hmac", "dev", "non-ascii", {"digest": "sha224"}, TIMESTAMP),
]


def flask_cases():
    for name, key, payload, kwargs, timestamp in FLASK_CASES:
        _now[0] = timestamp
        iface = interface(**kwargs)
        cookie, loaded = flask_cookie(key, PAYLOADS[payload], iface)
        wire, compressed = wire_json(cookie)
        yield {
            "name": name,
            "kind": "flask",
            **key_fields(key),
            "params": params(iface),
            "timestamp": timestamp,
            "cookie": cookie,
            "wire": wire,
            "readable": readable(loaded),
            "compressed": compressed,
        }
    _now[0] = TIMESTAMP


def starlette_case():
    # Starlette's SessionMiddleware: TimestampSigner(secret) over standard base64 of
    # plain json.dumps (itsdangerous defaults: django-concat, SHA-1,
    # salt "itsdangerous.Signer").
    data = {"user": "alice", "role": "editor"}
    payload = base64.b64encode(json.dumps(data).encode("utf-8"))
    signer = itsdangerous.TimestampSigner("some-random-string")
    cookie = signer.sign(payload).decode("utf-8")
    return {
        "name": "starlette-session",
        "kind": "starlette",
        **key_fields("some-random-string"),
        "params": {"salt": "itsdangerous.Signer", "key_derivation": "django-concat", "digest": "sha1"},
        "timestamp": TIMESTAMP,
        "cookie": cookie,
        "wire": data,
        "readable": data,
        "compressed": False,
    }


def flask_session_sid_case():
    # Flask-Session with SESSION_USE_SIGNER: the cookie is `sid.signature`.
    signer = itsdangerous.Signer("dev", salt="flask-session", key_derivation="hmac")
    cookie = signer.sign("0b5c1c8e-4f3a-4d0e-9d7b-2a1f3e5c7b9d").decode("utf-8")
    return {
        "name": "flask-session-signed-sid",
        "kind": "flask-session-sid",
        **key_fields("dev"),
        "params": {"salt": "flask-session", "key_derivation": "hmac", "digest": "sha1"},
        "timestamp": None,
        "cookie": cookie,
        "wire": None,
        "readable": None,
        "compressed": False,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_golden.py OUT.json")
    cases = list(flask_cases()) + [starlette_case(), flask_session_sid_case()]
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(cases, out, indent=1, ensure_ascii=True, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
