"""Server-rendered pages: the order list and printable receipts."""
from flask import Blueprint, render_template, render_template_string, request

from .db import get_db

pages_bp = Blueprint("pages", __name__)


@pages_bp.get("/")
def index():
    rows = get_db().execute(
        "SELECT id, customer, item, quantity, status FROM orders ORDER BY id"
    ).fetchall()
    return render_template("index.html", orders=rows)


@pages_bp.get("/orders/<int:order_id>/receipt")
def receipt(order_id):
    order = get_db().execute(
        "SELECT id, customer, item, quantity, status, note FROM orders WHERE id = ?",
        (order_id,),
    ).fetchone()
    return render_template("receipt.html", order=order)


@pages_bp.get("/receipt/preview")
def receipt_preview():
    name = request.args.get("name", "customer")
    # The customer's name becomes part of the template source itself.
    return render_template_string(f"<!doctype html><html><body><h1>Receipt preview for {name}</h1></body></html>")  # planted: INJ003
