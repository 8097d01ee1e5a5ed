"""JSON errors for every status the API can answer, with generic messages."""
from flask import current_app, jsonify
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal server error",
}


class ApiError(Exception):
    """Raised by views for expected failures; rendered as JSON."""

    def __init__(self, status, message, details=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _body(status, message=None, details=None):
    body = {"error": message or MESSAGES.get(status, "Error")}
    if details:
        body["details"] = details
    return jsonify(body), status


def register(app):
    @app.errorhandler(ApiError)
    def api_error(e):
        return _body(e.status, e.message, e.details)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        current_app.logger.warning("csrf rejected: %s", e.description)
        return _body(400, "CSRF token missing or invalid")

    @app.errorhandler(400)
    @app.errorhandler(401)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    @app.errorhandler(429)
    def http_error(e):
        # Only the status travels to the client, never e.description.
        body, status = _body(e.code)
        if getattr(e, "valid_methods", None):
            body.headers["Allow"] = ", ".join(e.valid_methods)
        return body, status

    @app.errorhandler(HTTPException)
    def other_http_error(e):
        return _body(e.code)

    @app.errorhandler(500)
    def internal_error(e):
        # The details go to the log, the client gets a generic message.
        original = getattr(e, "original_exception", None) or e
        current_app.logger.error("unhandled exception", exc_info=original)
        return _body(500)
