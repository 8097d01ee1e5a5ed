"""Back-office helpers for administrators."""
import subprocess

from flask import Blueprint, current_app, jsonify, request

from ..security import role_required

admin_bp = Blueprint("admin", __name__)


@admin_bp.post("/archive")
@role_required("admin")
def archive_uploads():  # planted: RL004
    data = request.get_json()  # planted: INP001, INP002
    name = data.get("name", "uploads")
    export_dir = current_app.config["EXPORT_DIR"]
    upload_dir = current_app.config["UPLOAD_DIR"]
    # The archive name goes straight into a shell command line.
    subprocess.run(f"tar czf {export_dir}/{name}.tar.gz -C {upload_dir} .", shell=True, check=True)  # planted: INJ004
    return jsonify(archive=f"{name}.tar.gz"), 201
