"""JSON API blueprints. create_app() registers each one under /api/..."""
from flask import Blueprint, jsonify, url_for

api_bp = Blueprint("api", __name__)


@api_bp.get("/")
def index():
    # Relative links: nothing here depends on the Host header.
    return jsonify(
        service="orders",
        links={
            "self": url_for("api.index"),
            "orders": url_for("orders.list_orders"),
            "login": url_for("auth.login"),
            "csrf": url_for("auth.csrf_token"),
        },
    )
