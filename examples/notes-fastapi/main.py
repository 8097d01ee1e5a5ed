"""A small notes API on FastAPI, served by uvicorn behind flaskguard shield.

    NOTES_TOKEN=... uvicorn main:app --host 127.0.0.1 --port 8000 \
        --proxy-headers --forwarded-allow-ips 127.0.0.1

uvicorn listens on loopback and believes X-Forwarded-* only from 127.0.0.1,
where shield runs: shield resolves the real client, drops what untrusted hops
claim, and sends clean X-Forwarded-For/-Proto/-Host. Security headers, CORS,
CSRF, rate limits, body limits and JSON errors are shield's job, so the app
holds only its own logic.
"""

import asyncio
import itertools
import os
import secrets

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

# No interactive docs or schema in production: they list every route.
app = FastAPI(title="notes", docs_url=None, redoc_url=None, openapi_url=None)

NOTES: dict[int, dict] = {}
IDS = itertools.count(1)
bearer = HTTPBearer(auto_error=False)


def writer(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Writes need the deployment's token (NOTES_TOKEN); none set refuses all."""
    token = os.environ.get("NOTES_TOKEN", "")
    if not token or creds is None or not secrets.compare_digest(creds.credentials, token):
        raise HTTPException(status_code=401, detail="a valid bearer token is required")


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(default="", max_length=10_000)


@app.get("/api/notes")
def list_notes() -> list[dict]:
    return list(NOTES.values())


@app.post("/api/notes", status_code=201, dependencies=[Depends(writer)])
def create_note(note: NoteIn) -> dict:
    note_id = next(IDS)
    NOTES[note_id] = {"id": note_id, **note.model_dump()}
    return NOTES[note_id]


@app.get("/api/notes/{note_id}")
def get_note(note_id: int) -> dict:
    if note_id not in NOTES:
        raise HTTPException(status_code=404, detail="no such note")
    return NOTES[note_id]


@app.get("/api/whoami")
def whoami(request: Request) -> dict:
    """What the app believes about the request (after the proxy headers)."""
    return {
        "client": request.client.host if request.client else None,
        "scheme": request.url.scheme,
        "host": request.headers.get("host"),
    }


@app.get("/api/events")
async def events() -> StreamingResponse:
    """Server-sent events, one every 200 ms: a proxy must pass them as they come."""

    async def stream():
        for i in range(5):
            yield f"data: {i}\n\n"
            await asyncio.sleep(0.2)

    return StreamingResponse(stream(), media_type="text/event-stream")


@app.get("/api/fail")
def fail() -> dict:
    raise RuntimeError("database password is hunter2")


@app.websocket("/ws/echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            await ws.send_text(await ws.receive_text())
    except WebSocketDisconnect:
        pass
