"""Small validators that turn bad input into a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api.errors import RequestError


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(400, "invalid_json", f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise RequestError(400, "invalid_body", "body must be a JSON object")
    return body


def bounded_int(raw: Any, field: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise RequestError(400, "invalid_field", f"{field} must be an integer", field) from exc
    if isinstance(raw, bool) or not low <= value <= high:
        raise RequestError(400, "invalid_field", f"{field} must be between {low} and {high}", field)
    return value


def text_field(body: dict[str, Any], field: str, max_length: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise RequestError(400, "invalid_field", f"{field} is required and must be a non-empty string", field)
    if len(value) > max_length:
        raise RequestError(400, "invalid_field", f"{field} must be at most {max_length} characters", field)
    return value.strip()


def required_int(body: dict[str, Any], field: str, low: int, high: int) -> int:
    if body.get(field) is None:
        raise RequestError(400, "invalid_field", f"{field} is required", field)
    return bounded_int(body[field], field, low, low, high)


def optional_int(body: dict[str, Any], field: str, low: int, high: int) -> int | None:
    return None if body.get(field) is None else required_int(body, field, low, high)


def choice_field(body: dict[str, Any], field: str, options: tuple[str, ...]) -> str:
    value = body.get(field)
    if value not in options:
        raise RequestError(400, "invalid_field", f"{field} must be one of {', '.join(options)}", field)
    return str(value)
