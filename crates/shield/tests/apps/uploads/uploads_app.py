"""A small upload API for shield's request-buffering test (tests/buffering_e2e.rs).

Run on gunicorn's sync workers, which serve one request at a time and read a
request's body from the socket as the app asks for it.

POST /upload   answers the body's length and SHA-256, and how it arrived
               (CONTENT_LENGTH, Transfer-Encoding, Expect).
GET  /big/N    answers N bytes (a download): byte i is i % 251, so a chunk out of
               place or repeated shows.
GET  /ping     answers "pong".
"""
import hashlib

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/upload")
def upload():
    data = request.get_data(cache=False)
    return jsonify(
        length=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_length=request.environ.get("CONTENT_LENGTH"),
        transfer_encoding=request.headers.get("Transfer-Encoding"),
        expect=request.headers.get("Expect"),
    )


@app.get("/ping")
def ping():
    return "pong"


@app.get("/big/<int:size>")
def big(size):
    pattern = bytes(range(251))
    body = (pattern * (size // 251 + 1))[:size]
    return Response(body, mimetype="application/octet-stream")
