"""Request validation with marshmallow; unknown fields are rejected."""
from flask import request
from marshmallow import Schema, ValidationError, fields, validate

from .errors import ApiError

ORDER_STATUSES = ("open", "shipped", "cancelled")


class CredentialsSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=12, max=128))


class OrderSchema(Schema):
    customer = fields.String(required=True, validate=validate.Length(min=1, max=100))
    item = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class OrderUpdateSchema(Schema):
    customer = fields.String(validate=validate.Length(min=1, max=100))
    item = fields.String(validate=validate.Length(min=1, max=100))
    quantity = fields.Integer(validate=validate.Range(min=1, max=1000))
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    note = fields.String(validate=validate.Length(max=500))


class ArchiveSchema(Schema):
    name = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$")
    )


def load_json(schema):
    """Parse the JSON body and validate it; answer a JSON 400 otherwise."""
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "Request body must be JSON")
    try:
        return schema.load(data)
    except ValidationError as err:
        raise ApiError(400, "Invalid request body", err.messages)
