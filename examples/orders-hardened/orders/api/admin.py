"""Back-office helpers for administrators."""
import os
import tarfile

from flask import Blueprint, current_app, jsonify

from ..extensions import limiter
from ..schemas import ArchiveSchema, load_json
from ..security import admin_required

admin_bp = Blueprint("admin", __name__)


@admin_bp.post("/archive")
@limiter.limit("2 per minute")
@admin_required
def archive_uploads():
    # The name is validated (letters, digits, _ and -) and no shell is involved.
    data = load_json(ArchiveSchema())
    target = os.path.join(current_app.config["EXPORT_DIR"], f"{data['name']}.tar.gz")
    with tarfile.open(target, "w:gz") as archive:
        archive.add(current_app.config["UPLOAD_DIR"], arcname="uploads")
    return jsonify(archive=os.path.basename(target)), 201
