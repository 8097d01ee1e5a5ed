"""Server-rendered pages; Jinja autoescaping stays on everywhere."""
from flask import Blueprint, render_template, request

from .api.orders import _load_visible
from .security import login_required

pages_bp = Blueprint("pages", __name__)


@pages_bp.get("/")
def index():
    return render_template("index.html")


@pages_bp.get("/orders/<int:order_id>/receipt")
@login_required
def receipt(order_id):
    return render_template("receipt.html", order=_load_visible(order_id))


@pages_bp.get("/receipt/preview")
def receipt_preview():
    # The name is template *data*, escaped on output, never template source.
    name = request.args.get("name", "customer")[:100]
    return render_template("preview.html", name=name)
