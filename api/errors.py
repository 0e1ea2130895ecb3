"""Every error leaves as JSON naming the problem; unexpected ones are logged, never leaked."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from copilot.metrics import HTTP_REQUESTS

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, error: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, str] = {"error": error, "message": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


class RequestError(Exception):
    """A 4xx the handler decided on; rendered by the middleware."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.response = error_response(status, error, message, field)


@web.middleware
async def request_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency per route and status for /metrics (the route pattern, not the path: ids stay out of labels)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        HTTP_REQUESTS.labels(route, str(status)).observe(time.perf_counter() - started)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RequestError as exc:
        return exc.response
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "body_too_large", "request body is larger than allowed")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed to answer; the error is logged")
