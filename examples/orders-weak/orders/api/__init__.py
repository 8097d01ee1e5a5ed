"""JSON API blueprints. create_app() registers each one under /api/..."""
from flask import Blueprint, jsonify, url_for

api_bp = Blueprint("api", __name__)


@api_bp.get("/")
def index():
    # Absolute links are built from the request's Host header; with no
    # SERVER_NAME and no host check, any Host value ends up in the links.
    return jsonify(
        service="orders",
        links={
            "self": url_for("api.index", _external=True),
            "orders": url_for("orders.list_orders", _external=True),
            "login": url_for("auth.login", _external=True),
        },
    )
