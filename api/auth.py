"""Tenant authentication: the Freshdesk domain must be registered and the API key must match its stored key."""

from __future__ import annotations

from aiohttp import web

from api.errors import Handler, error_response
from api.keys import REGISTRY, TENANT
from copilot.errors import TenantError

PUBLIC_PATHS = frozenset({"/health", "/ready", "/metrics"})
SECRET_AUTHENTICATED = ("/webhooks/",)  # these check their own per-tenant secret


@web.middleware
async def tenant_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or request.path.startswith(SECRET_AUTHENTICATED):
        return await handler(request)
    try:
        request[TENANT] = await request.app[REGISTRY].authenticate(
            request.headers.get("X-Freshdesk-Domain"), request.headers.get("X-Freshdesk-Api-Key"))
    except TenantError as exc:
        return error_response(401, "unauthorized", str(exc))
    return await handler(request)
