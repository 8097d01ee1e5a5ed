"""A small Flask app for bench/scan.sh: what orders-weak does not plant.

- TRACE: `/` answers TRACE by echoing the request back (RFC 9110, section
  9.3.8), cookies included, which is what makes TRACE useful for cross-site
  tracing. orders-weak cannot show it: Werkzeug answers TRACE on its routes
  with 405.
- A Flask session cookie signed with the key in the file named by
  SECRET_KEY_FILE (raw bytes, one line), so the bench can check that
  `flaskguard scan --wordlist` finds a key on the last line of a long list.

Run: gunicorn --chdir bench/apps extra_target:app (Flask from any venv).
"""
import os

from flask import Flask, Response, request, session

app = Flask(__name__)
with open(os.environ["SECRET_KEY_FILE"], "rb") as key_file:
    app.secret_key = key_file.read().rstrip(b"\r\n")


@app.route("/", methods=["GET", "TRACE"])
def index():
    if request.method == "TRACE":
        head = [f"TRACE {request.full_path.rstrip('?')} {request.environ['SERVER_PROTOCOL']}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        return Response("\r\n".join(head) + "\r\n\r\n", mimetype="message/http")
    session["visits"] = session.get("visits", 0) + 1
    return "<!doctype html><title>bench target</title><p>Hello.</p>"
