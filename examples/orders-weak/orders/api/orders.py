"""Orders: list, read, create, update, cancel, delete, bulk import, CSV export."""
import csv
import io
import pickle

from flask import Blueprint, Response, jsonify, request

from ..db import get_db, order_to_dict
from ..extensions import limiter

orders_bp = Blueprint("orders", __name__)

COLUMNS = ["id", "customer", "item", "quantity", "status", "note"]
SELECT_ONE = "SELECT id, customer, item, quantity, status, note FROM orders WHERE id = ?"
SELECT_ALL = "SELECT id, customer, item, quantity, status, note FROM orders ORDER BY id"


@orders_bp.get("")
def list_orders():
    status = request.args.get("status")
    db = get_db()
    if status:
        rows = db.execute(f"SELECT id, customer, item, quantity, status, note FROM orders WHERE status = '{status}' ORDER BY id").fetchall()  # planted: INJ001
    else:
        rows = db.execute(SELECT_ALL).fetchall()
    return jsonify(orders=[order_to_dict(r) for r in rows])


@orders_bp.get("/<int:order_id>")
def get_order(order_id):
    row = get_db().execute(SELECT_ONE, (order_id,)).fetchone()
    # No "not found" branch: an unknown id raises TypeError inside dict().
    return jsonify(order_to_dict(row))


@orders_bp.post("")
def create_order():  # planted: AUTH003, RL004
    data = request.get_json()  # planted: INP001, INP002
    db = get_db()
    with db:
        cur = db.execute(
            "INSERT INTO orders (customer, item, quantity, note) VALUES (?, ?, ?, ?)",
            (data["customer"], data["item"], data.get("quantity", 1), data.get("note", "")),
        )
    row = db.execute(SELECT_ONE, (cur.lastrowid,)).fetchone()
    return jsonify(order_to_dict(row)), 201


@orders_bp.put("/<int:order_id>")
def update_order(order_id):  # planted: AUTH003, RL004
    data = request.get_json()  # planted: INP001, INP002
    db = get_db()
    current = order_to_dict(db.execute(SELECT_ONE, (order_id,)).fetchone())
    current.update({k: v for k, v in data.items() if k in COLUMNS and k != "id"})
    with db:
        db.execute(
            "UPDATE orders SET customer = ?, item = ?, quantity = ?, status = ?, note = ?"
            " WHERE id = ?",
            (current["customer"], current["item"], current["quantity"],
             current["status"], current["note"], order_id),
        )
    return jsonify(current)


@orders_bp.post("/<int:order_id>/cancel")
def cancel_order(order_id):  # planted: AUTH003, RL004
    db = get_db()
    with db:
        db.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    return jsonify(id=order_id, status="cancelled")


@orders_bp.delete("/<int:order_id>")
def delete_order(order_id):  # planted: AUTH003, RL004
    db = get_db()
    with db:
        db.execute("DELETE FROM orders WHERE id = ?", (order_id,))
    return "", 204


@orders_bp.post("/import")
def import_orders():  # planted: AUTH003, RL004
    # The back-office tool posts a pickled list of order dicts.
    rows = pickle.loads(request.data)  # planted: INP006
    db = get_db()
    with db:
        for row in rows:
            db.execute(
                "INSERT INTO orders (customer, item, quantity, note) VALUES (?, ?, ?, ?)",
                (row["customer"], row["item"], row.get("quantity", 1), row.get("note", "")),
            )
    return jsonify(imported=len(rows)), 201


@orders_bp.get("/export")
@limiter.limit("30 per minute")
def export_orders():
    rows = get_db().execute(SELECT_ALL).fetchall()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(tuple(r) for r in rows)
    return Response(out.getvalue(), mimetype="text/csv")
