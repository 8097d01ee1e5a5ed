"""Attachments: uploads with an extension allow-list, downloads by id."""
import os
import uuid

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from werkzeug.utils import secure_filename

from ..db import get_db
from ..errors import ApiError
from ..extensions import limiter
from ..security import current_user, login_required

files_bp = Blueprint("files", __name__)


def _extension(filename):
    return filename.rsplit(".", 1)[1].lower() if "." in filename else ""


@files_bp.post("")
@limiter.limit("10 per minute")
@login_required
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ApiError(400, "Send the file in the 'file' form field")
    original = secure_filename(file.filename)
    ext = _extension(original)
    if ext not in current_app.config["UPLOAD_EXTENSIONS"]:
        raise ApiError(400, "File type not allowed")
    # Stored under a random name; the client's name is only kept for display.
    stored = f"{uuid.uuid4().hex}.{ext}"
    file.save(os.path.join(current_app.config["UPLOAD_DIR"], stored))
    db = get_db()
    with db:
        cur = db.execute(
            "INSERT INTO attachments (original_name, stored_name, created_by) VALUES (?, ?, ?)",
            (original, stored, current_user()["id"]),
        )
    return jsonify(id=cur.lastrowid, name=original), 201


@files_bp.get("/<int:file_id>")
@login_required
def download(file_id):
    row = get_db().execute(
        "SELECT original_name, stored_name, created_by FROM attachments WHERE id = ?",
        (file_id,),
    ).fetchone()
    user = current_user()
    if row is None or (user["role"] != "admin" and row["created_by"] != user["id"]):
        raise ApiError(404, "Not found")
    # send_from_directory refuses paths that leave UPLOAD_DIR.
    return send_from_directory(
        current_app.config["UPLOAD_DIR"],
        row["stored_name"],
        as_attachment=True,
        download_name=row["original_name"],
    )
