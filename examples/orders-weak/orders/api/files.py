"""Attachments for orders (delivery notes, invoices)."""
import os

from flask import Blueprint, current_app, jsonify, request, send_file

files_bp = Blueprint("files", __name__)


@files_bp.post("")
def upload():  # planted: AUTH003, RL004
    file = request.files["file"]
    # The client's file name is trusted as is, whatever its extension.
    file.save(os.path.join(current_app.config["UPLOAD_DIR"], file.filename))  # planted: INP004
    return jsonify(name=file.filename), 201


@files_bp.get("/download")
def download():
    name = request.args.get("name", "")
    # ?name=../../config.py walks out of the upload folder.
    return send_file(os.path.join(current_app.config["UPLOAD_DIR"], name))  # planted: INP005
