"""Orders: list, read, create, update, cancel, delete, bulk import, CSV export."""
import csv
import io

from flask import Blueprint, Response, jsonify, request

from ..db import get_db
from ..errors import ApiError
from ..extensions import limiter
from ..schemas import ORDER_STATUSES, OrderSchema, OrderUpdateSchema, load_json
from ..security import admin_required, current_user, login_required

orders_bp = Blueprint("orders", __name__)

COLUMNS = ["id", "customer", "item", "quantity", "status", "note"]
SELECT_ONE = "SELECT id, customer, item, quantity, status, note, created_by FROM orders WHERE id = ?"
MAX_IMPORT = 100


def _public(row):
    return {name: row[name] for name in COLUMNS}


def _load_visible(order_id):
    """The order if the current user may see it; 404 otherwise (no leak)."""
    row = get_db().execute(SELECT_ONE, (order_id,)).fetchone()
    user = current_user()
    if row is None or (user["role"] != "admin" and row["created_by"] != user["id"]):
        raise ApiError(404, "Not found")
    return row


@orders_bp.get("")
@login_required
def list_orders():
    user = current_user()
    status = request.args.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise ApiError(400, "Unknown status")
    # One fixed statement; the filters are bound parameters (NULL = no filter).
    rows = get_db().execute(
        "SELECT id, customer, item, quantity, status, note FROM orders"
        " WHERE (:owner IS NULL OR created_by = :owner)"
        " AND (:status IS NULL OR status = :status)"
        " ORDER BY id",
        {"owner": None if user["role"] == "admin" else user["id"], "status": status},
    ).fetchall()
    return jsonify(orders=[_public(r) for r in rows])


@orders_bp.get("/<int:order_id>")
@login_required
def get_order(order_id):
    return jsonify(_public(_load_visible(order_id)))


@orders_bp.post("")
@limiter.limit("30 per minute")
@login_required
def create_order():
    data = load_json(OrderSchema())
    db = get_db()
    with db:
        cur = db.execute(
            "INSERT INTO orders (customer, item, quantity, note, created_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (data["customer"], data["item"], data["quantity"], data["note"], current_user()["id"]),
        )
    return jsonify(_public(db.execute(SELECT_ONE, (cur.lastrowid,)).fetchone())), 201


@orders_bp.put("/<int:order_id>")
@limiter.limit("30 per minute")
@login_required
def update_order(order_id):
    changes = load_json(OrderUpdateSchema())
    order = dict(_load_visible(order_id))
    order.update(changes)
    db = get_db()
    with db:
        db.execute(
            "UPDATE orders SET customer = ?, item = ?, quantity = ?, status = ?, note = ?"
            " WHERE id = ?",
            (order["customer"], order["item"], order["quantity"], order["status"],
             order["note"], order_id),
        )
    return jsonify(_public(order))


@orders_bp.post("/<int:order_id>/cancel")
@limiter.limit("10 per minute")
@login_required
def cancel_order(order_id):
    _load_visible(order_id)
    db = get_db()
    with db:
        db.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    return jsonify(id=order_id, status="cancelled")


@orders_bp.delete("/<int:order_id>")
@limiter.limit("10 per minute")
@admin_required
def delete_order(order_id):
    db = get_db()
    with db:
        db.execute("DELETE FROM orders WHERE id = ?", (order_id,))
    return "", 204


@orders_bp.post("/import")
@limiter.limit("5 per minute")
@admin_required
def import_orders():
    # A JSON list checked item by item, instead of a pickle.
    rows = load_json(OrderSchema(many=True))
    if not 0 < len(rows) <= MAX_IMPORT:
        raise ApiError(400, f"Send between 1 and {MAX_IMPORT} orders")
    db = get_db()
    with db:
        db.executemany(
            "INSERT INTO orders (customer, item, quantity, note, created_by)"
            " VALUES (?, ?, ?, ?, ?)",
            [(r["customer"], r["item"], r["quantity"], r["note"], current_user()["id"])
             for r in rows],
        )
    return jsonify(imported=len(rows)), 201


def _csv_cell(value):
    # Keep spreadsheets from evaluating cells as formulas.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@orders_bp.get("/export")
@limiter.limit("30 per minute")
@admin_required
def export_orders():
    rows = get_db().execute(
        "SELECT id, customer, item, quantity, status, note FROM orders ORDER BY id"
    ).fetchall()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv")
